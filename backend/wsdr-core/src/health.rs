//! Classifying AWS Health events from EventBridge: is this a reason to fail over?
//!
//! An `aws.health` event goes through two stages, as configuration does elsewhere in wsdr:
//! [`RawHealthEvent`] mirrors the documented EventBridge schema with every field optional (AWS adds fields and
//! leaves some out), then [`classify`] validates what the decision needs and returns a [`Classification`]:
//! a [`Decision`], a specific human-readable reason and the event's identity. Malformed input is a
//! [`MalformedEvent`] error with the field path and what was wrong; it never panics and never recommends failover.
//!
//! # Rules, in the order they are applied
//!
//! 1. The envelope's `source` must be `aws.health` and `detail` an object, or the input is malformed.
//! 2. `detail-type` `AWS Health Abuse Event` (and any type other than `AWS Health Event`) → ignore.
//! 3. `detail.service` other than `WORKSPACES` → ignore.
//! 4. The affected region is `detail.eventRegion`. The envelope's `region` is only where the copy was *delivered*
//!    (public events are also delivered to a backup region: us-west-2, whose own backup is us-east-1); it is used
//!    only when `eventRegion` is absent, and the reason says so. Not the configured primary region → ignore.
//! 5. `eventTypeCategory` `scheduledChange` or `accountNotification` (or an unknown category) → ignore.
//! 6. `issue` or `investigation` with `statusCode` `open` → [`Decision::FailoverRecommended`]; `closed` →
//!    [`Decision::Recovered`]; anything else (`upcoming`) → ignore.
//!
//! Validation is as strict as the decision is consequential: an event that is ignored needs only the fields that
//! led to ignoring it, while one that recommends failover or reports recovery must also carry `eventArn`,
//! `eventTypeCategory`, `statusCode` and a deduplication discriminator. A field of the wrong JSON type is always an
//! error.
//!
//! # Deduplication
//!
//! The same communication arrives from the primary region's rule, from the backup region, and again on retries;
//! every update of an event carries a new `communicationId`. [`DedupKey`] is the event ARN plus the communication id
//! (falling back to `lastUpdatedTime`), as AWS recommends. [`SeenEvents`] remembers at most [`SEEN_EVENTS_CAP`]
//! keys and evicts the one inserted first when full.
//!
//! # Invariants
//!
//! - No I/O, no clock: times are parameters (`now`) or come from the event.
//! - Only `WORKSPACES` `issue`/`investigation` events whose affected region is the primary region produce anything
//!   but [`Decision::Ignore`]; every such classification carries an [`EventIdentity`].
//! - A [`SeenEvents`] never holds more than its cap.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The only `source` wsdr accepts.
pub const HEALTH_SOURCE: &str = "aws.health";
/// The `detail-type` of AWS Health events about services and resources.
pub const DETAIL_TYPE_EVENT: &str = "AWS Health Event";
/// The `detail-type` of AWS Health abuse reports; never a reason to fail over.
pub const DETAIL_TYPE_ABUSE: &str = "AWS Health Abuse Event";
/// The `detail.service` value of Amazon WorkSpaces.
pub const WORKSPACES_SERVICE: &str = "WORKSPACES";
/// Input larger than this is rejected before parsing. EventBridge events are at most 256 KiB; this allows twice that.
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
/// A description longer than this (in characters) is truncated in [`HealthEventSummary::description`].
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// How many deduplication keys a [`SeenEvents`] keeps.
pub const SEEN_EVENTS_CAP: usize = 256;

/// An AWS region name such as `us-east-1`: the protocol's type, so the state machine and the status document
/// can never disagree about which names are regions.
pub use wsdr_protocol::{EventArn, Region, RegionError};

/// Why an input is not a usable AWS Health event. The message names the field and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedEvent {
    /// The bytes are not JSON.
    #[error("the event is not valid JSON: {0}")]
    NotJson(String),
    /// The input exceeds [`MAX_EVENT_BYTES`].
    #[error("the event is {0} bytes; at most {MAX_EVENT_BYTES} are accepted")]
    TooLarge(usize),
    /// A field holds the wrong kind of JSON value.
    #[error("`{field}` must be {expected}, found {found}")]
    WrongType {
        /// Path of the field, e.g. `detail.statusCode`.
        field: String,
        /// What was expected, e.g. `a string`.
        expected: &'static str,
        /// What was found, e.g. `a number`.
        found: &'static str,
    },
    /// A field the decision needs is absent, null or empty.
    #[error("`{field}` is missing: {why}")]
    Missing {
        /// Path of the field.
        field: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// The event is not from AWS Health.
    #[error("not an AWS Health event: `source` is {found:?}, expected \"aws.health\"")]
    WrongSource {
        /// The `source` found.
        found: String,
    },
    /// `detail.eventArn` does not look like an AWS Health event ARN.
    #[error("`detail.eventArn` {0:?} is not an AWS Health event ARN (arn:aws:health:...)")]
    BadArn(String),
}

/// Stage one: an EventBridge `aws.health` event as received, every field optional. Strings are trimmed and empty
/// strings count as absent. Unknown fields are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawHealthEvent {
    /// EventBridge event id (differs between the primary and the backup copy).
    pub id: Option<String>,
    /// `detail-type`: `AWS Health Event` or `AWS Health Abuse Event`.
    #[serde(rename = "detail-type")]
    pub detail_type: Option<String>,
    /// `source`: `aws.health`.
    pub source: Option<String>,
    /// The receiving account.
    pub account: Option<String>,
    /// When the notification was sent to EventBridge (RFC 3339).
    pub time: Option<String>,
    /// The region the copy was delivered to; not the affected region.
    pub region: Option<String>,
    /// The AWS Health content.
    pub detail: Option<RawHealthDetail>,
}

/// The `detail` object of an AWS Health event (see the EventBridge schema reference).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawHealthDetail {
    /// `arn:aws:health:<region>::event/<SERVICE>/<TYPE>/<id>`; the same across regions and updates.
    pub event_arn: Option<String>,
    /// The affected service, e.g. `WORKSPACES`.
    pub service: Option<String>,
    /// e.g. `AWS_WORKSPACES_OPERATIONAL_ISSUE`.
    pub event_type_code: Option<String>,
    /// `issue`, `investigation`, `scheduledChange` or `accountNotification`.
    pub event_type_category: Option<String>,
    /// `PUBLIC` or `ACCOUNT_SPECIFIC`.
    pub event_scope_code: Option<String>,
    /// Identifies this communication (one update, one page) of the event.
    pub communication_id: Option<String>,
    /// `DoW, DD MMM YYYY HH:MM:SS GMT`.
    pub start_time: Option<String>,
    /// Same format; absent while the event is open or scheduled.
    pub end_time: Option<String>,
    /// Same format.
    pub last_updated_time: Option<String>,
    /// `open`, `closed` or `upcoming`.
    pub status_code: Option<String>,
    /// The affected region.
    pub event_region: Option<String>,
    /// `eventDescription[].latestDescription`, the `en_US` one if present, else the first.
    pub description: Option<String>,
}

impl RawHealthEvent {
    /// Parses JSON bytes (a leading UTF-8 byte-order mark is tolerated).
    pub fn from_slice(bytes: &[u8]) -> Result<RawHealthEvent, MalformedEvent> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(MalformedEvent::TooLarge(bytes.len()));
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| MalformedEvent::NotJson(e.to_string()))?;
        RawHealthEvent::from_value(&value)
    }

    /// Reads the fields wsdr uses from a parsed JSON value, checking their types.
    pub fn from_value(value: &Value) -> Result<RawHealthEvent, MalformedEvent> {
        let Value::Object(top) = value else {
            return Err(wrong_type("(the event)", "a JSON object", value));
        };
        let detail = match top.get("detail") {
            None | Some(Value::Null) => None,
            Some(Value::Object(d)) => Some(RawHealthDetail::from_map(d)?),
            Some(other) => return Err(wrong_type("detail", "an object", other)),
        };
        Ok(RawHealthEvent {
            id: string_field(top, "id", "id")?,
            detail_type: string_field(top, "detail-type", "detail-type")?,
            source: string_field(top, "source", "source")?,
            account: string_field(top, "account", "account")?,
            time: string_field(top, "time", "time")?,
            region: string_field(top, "region", "region")?,
            detail,
        })
    }
}

impl RawHealthDetail {
    fn from_map(d: &Map<String, Value>) -> Result<RawHealthDetail, MalformedEvent> {
        Ok(RawHealthDetail {
            event_arn: string_field(d, "eventArn", "detail.eventArn")?,
            service: string_field(d, "service", "detail.service")?,
            event_type_code: string_field(d, "eventTypeCode", "detail.eventTypeCode")?,
            event_type_category: string_field(d, "eventTypeCategory", "detail.eventTypeCategory")?,
            event_scope_code: string_field(d, "eventScopeCode", "detail.eventScopeCode")?,
            communication_id: string_field(d, "communicationId", "detail.communicationId")?,
            start_time: string_field(d, "startTime", "detail.startTime")?,
            end_time: string_field(d, "endTime", "detail.endTime")?,
            last_updated_time: string_field(d, "lastUpdatedTime", "detail.lastUpdatedTime")?,
            status_code: string_field(d, "statusCode", "detail.statusCode")?,
            event_region: string_field(d, "eventRegion", "detail.eventRegion")?,
            description: description(d)?,
        })
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(field: &str, expected: &'static str, found: &Value) -> MalformedEvent {
    MalformedEvent::WrongType { field: field.to_owned(), expected, found: json_kind(found) }
}

fn string_field(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, MalformedEvent> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            Ok(if t.is_empty() { None } else { Some(t.to_owned()) })
        }
        Some(other) => Err(wrong_type(path, "a string", other)),
    }
}

/// `eventDescription`: an array of `{language, latestDescription}`; prefer `en_US`, else the first.
fn description(d: &Map<String, Value>) -> Result<Option<String>, MalformedEvent> {
    let items = match d.get("eventDescription") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(wrong_type("detail.eventDescription", "an array", other)),
    };
    let mut first = None;
    for (i, item) in items.iter().enumerate() {
        let Value::Object(entry) = item else {
            return Err(wrong_type(&format!("detail.eventDescription[{i}]"), "an object", item));
        };
        let text = string_field(
            entry,
            "latestDescription",
            &format!("detail.eventDescription[{i}].latestDescription"),
        )?;
        let language =
            string_field(entry, "language", &format!("detail.eventDescription[{i}].language"))?;
        if text.is_some() && language.as_deref() == Some("en_US") {
            return Ok(text);
        }
        if first.is_none() {
            first = text;
        }
    }
    Ok(first)
}

/// What wsdr should do about one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// An open WorkSpaces issue (or investigation) in the primary region.
    FailoverRecommended,
    /// A WorkSpaces issue (or investigation) in the primary region is closed.
    Recovered,
    /// Nothing to do; the reason says why.
    Ignore,
}

impl Decision {
    /// `failover_recommended`, `recovered` or `ignore`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::FailoverRecommended => "failover_recommended",
            Decision::Recovered => "recovered",
            Decision::Ignore => "ignore",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Deduplication key: event ARN plus communication id, or plus `lastUpdatedTime` when the id is absent.
///
/// Rendered `<arn>#comm:<communicationId>` or `<arn>#updated:<lastUpdatedTime>`. Identical for the copy delivered
/// to the backup region; different for every update (and every page) of the event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DedupKey(String);

impl DedupKey {
    /// The key for `event_arn` and this communication, or `None` when neither discriminator is present.
    pub fn new(
        event_arn: &str,
        communication_id: Option<&str>,
        last_updated_time: Option<&str>,
    ) -> Option<DedupKey> {
        match (communication_id, last_updated_time) {
            (Some(id), _) => Some(DedupKey(format!("{event_arn}#comm:{id}"))),
            (None, Some(t)) => Some(DedupKey(format!("{event_arn}#updated:{t}"))),
            (None, None) => None,
        }
    }

    /// The rendered key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who an event is, for deduplication and for tracking one event across its updates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventIdentity {
    /// `detail.eventArn`: the same for every update and every delivered copy.
    pub event_arn: EventArn,
    /// Event ARN + communication id (or `lastUpdatedTime`).
    pub dedup_key: DedupKey,
}

/// The facts of an event that wsdr reports to admins and keeps in its state. Plain data, copied from the event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthEventSummary {
    /// `detail.eventArn`.
    pub event_arn: Option<String>,
    /// `detail.service`.
    pub service: Option<String>,
    /// `detail.eventTypeCode`.
    pub event_type_code: Option<String>,
    /// `detail.eventTypeCategory`.
    pub category: Option<String>,
    /// `detail.eventScopeCode`.
    pub scope: Option<String>,
    /// `detail.statusCode`.
    pub status_code: Option<String>,
    /// The affected region: `detail.eventRegion`, else the delivery region.
    pub affected_region: Option<String>,
    /// Envelope `region`: where this copy was delivered.
    pub delivered_region: Option<String>,
    /// `detail.communicationId`.
    pub communication_id: Option<String>,
    /// `detail.startTime` as sent.
    pub start_time: Option<String>,
    /// `detail.endTime` as sent.
    pub end_time: Option<String>,
    /// `detail.lastUpdatedTime` as sent.
    pub last_updated_time: Option<String>,
    /// The latest description, truncated to [`MAX_DESCRIPTION_CHARS`].
    pub description: Option<String>,
}

impl HealthEventSummary {
    /// `lastUpdatedTime` parsed (RFC 2822, as AWS Health sends it), or `None` if absent or unparseable.
    pub fn last_updated(&self) -> Option<Timestamp> {
        let raw = self.last_updated_time.as_deref()?;
        jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(raw).ok()
    }
}

/// The outcome of [`classify`]: what to do, why, and which event it is. Serializes as the JSON that
/// `wsdr health classify` prints: `decision`, `reason`, `primary_region`, `identity` (null when ignored) and `event`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classification {
    decision: Decision,
    reason: String,
    primary_region: Region,
    identity: Option<EventIdentity>,
    event: HealthEventSummary,
}

impl Classification {
    /// What to do.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// Why, in one sentence naming the deciding field values.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The primary region the event was judged against.
    pub fn primary_region(&self) -> &Region {
        &self.primary_region
    }

    /// The event's identity; always present unless the decision is [`Decision::Ignore`].
    pub fn identity(&self) -> Option<&EventIdentity> {
        self.identity.as_ref()
    }

    /// The event's facts.
    pub fn event(&self) -> &HealthEventSummary {
        &self.event
    }

    /// True for category `issue`: AWS has confirmed a problem. Only these may trigger automatic failover;
    /// an `investigation` only recommends it.
    pub fn is_confirmed_issue(&self) -> bool {
        self.event.category.as_deref() == Some("issue")
    }
}

/// Parses and classifies an event given as JSON bytes. See the module docs for the rules.
pub fn classify_slice(bytes: &[u8], primary: &Region) -> Result<Classification, MalformedEvent> {
    classify(&RawHealthEvent::from_slice(bytes)?, primary)
}

/// Classifies an event given as a parsed JSON value.
pub fn classify_value(value: &Value, primary: &Region) -> Result<Classification, MalformedEvent> {
    classify(&RawHealthEvent::from_value(value)?, primary)
}

/// Stage two: validates `raw` and decides. See the module docs for the rules.
pub fn classify(raw: &RawHealthEvent, primary: &Region) -> Result<Classification, MalformedEvent> {
    match raw.source.as_deref() {
        Some(HEALTH_SOURCE) => {}
        Some(other) => return Err(MalformedEvent::WrongSource { found: other.to_owned() }),
        None => {
            return Err(MalformedEvent::Missing {
                field: "source",
                why: "an AWS Health event has source \"aws.health\"",
            });
        }
    }
    let Some(detail) = &raw.detail else {
        return Err(MalformedEvent::Missing {
            field: "detail",
            why: "an AWS Health event carries its content in `detail`",
        });
    };
    let Some(detail_type) = raw.detail_type.as_deref() else {
        return Err(MalformedEvent::Missing {
            field: "detail-type",
            why: "it tells a health event from an abuse report",
        });
    };

    let (affected_region, region_fallback) = match (&detail.event_region, &raw.region) {
        (Some(r), _) => (Some(r.clone()), false),
        (None, Some(r)) => (Some(r.clone()), true),
        (None, None) => (None, false),
    };
    let event = HealthEventSummary {
        event_arn: detail.event_arn.clone(),
        service: detail.service.clone(),
        event_type_code: detail.event_type_code.clone(),
        category: detail.event_type_category.clone(),
        scope: detail.event_scope_code.clone(),
        status_code: detail.status_code.clone(),
        affected_region: affected_region.clone(),
        delivered_region: raw.region.clone(),
        communication_id: detail.communication_id.clone(),
        start_time: detail.start_time.clone(),
        end_time: detail.end_time.clone(),
        last_updated_time: detail.last_updated_time.clone(),
        description: detail
            .description
            .as_deref()
            .map(|d| truncate_chars(d, MAX_DESCRIPTION_CHARS)),
    };
    let ignore = |reason: String| {
        Ok(Classification {
            decision: Decision::Ignore,
            reason,
            primary_region: primary.clone(),
            identity: None,
            event: event.clone(),
        })
    };

    if detail_type == DETAIL_TYPE_ABUSE {
        return ignore(format!(
            "ignored: detail-type \"{DETAIL_TYPE_ABUSE}\" reports abuse involving this account's resources, \
             not WorkSpaces availability"
        ));
    }
    if detail_type != DETAIL_TYPE_EVENT {
        return ignore(format!(
            "ignored: detail-type {detail_type:?} is not \"{DETAIL_TYPE_EVENT}\""
        ));
    }

    let Some(service) = detail.service.as_deref() else {
        return Err(MalformedEvent::Missing {
            field: "detail.service",
            why: "it tells whether the event concerns WorkSpaces",
        });
    };
    if !service.eq_ignore_ascii_case(WORKSPACES_SERVICE) {
        return ignore(format!("ignored: service {service} is not {WORKSPACES_SERVICE}"));
    }

    let Some(region) = affected_region.as_deref() else {
        return Err(MalformedEvent::Missing {
            field: "detail.eventRegion",
            why: "neither it nor the envelope's `region` names the affected region",
        });
    };
    let region_note = if region_fallback {
        format!(" (detail.eventRegion is absent; used the delivery region {region})")
    } else {
        String::new()
    };
    if !region.eq_ignore_ascii_case(primary.as_str()) {
        return ignore(format!(
            "ignored: the WorkSpaces event affects {region}, not the primary region {primary}{region_note}"
        ));
    }

    let type_code = detail.event_type_code.as_deref().unwrap_or("(no eventTypeCode)");
    let Some(category) = detail.event_type_category.as_deref() else {
        return Err(MalformedEvent::Missing {
            field: "detail.eventTypeCategory",
            why: "only issue and investigation events can recommend failover",
        });
    };
    match category {
        "issue" | "investigation" => {}
        "scheduledChange" => {
            return ignore(format!(
                "ignored: {type_code} is a scheduledChange (planned maintenance), not an outage"
            ));
        }
        "accountNotification" => {
            return ignore(format!(
                "ignored: {type_code} is an accountNotification, not an outage"
            ));
        }
        other => {
            return ignore(format!(
                "ignored: unknown eventTypeCategory {other:?}; only issue and investigation are acted on"
            ));
        }
    }

    let Some(status) = detail.status_code.as_deref() else {
        return Err(MalformedEvent::Missing {
            field: "detail.statusCode",
            why: "open and closed decide between failover and recovery",
        });
    };
    let decision = match status {
        "open" => Decision::FailoverRecommended,
        "closed" => Decision::Recovered,
        other => {
            return ignore(format!(
                "ignored: WorkSpaces {category} {type_code} in {region} has statusCode {other:?}; \
                 only open and closed are acted on"
            ));
        }
    };

    let Some(arn) = detail.event_arn.as_deref() else {
        return Err(MalformedEvent::Missing {
            field: "detail.eventArn",
            why: "it identifies the event across copies and updates",
        });
    };
    let event_arn = match EventArn::parse(arn) {
        Ok(event_arn) if arn.contains(":health:") => event_arn,
        Ok(_) | Err(_) => return Err(MalformedEvent::BadArn(arn.to_owned())),
    };
    let Some(dedup_key) =
        DedupKey::new(arn, detail.communication_id.as_deref(), detail.last_updated_time.as_deref())
    else {
        return Err(MalformedEvent::Missing {
            field: "detail.communicationId",
            why: "neither it nor detail.lastUpdatedTime is present to deduplicate copies",
        });
    };

    let copy_note = match raw.region.as_deref() {
        Some(delivered) if !delivered.eq_ignore_ascii_case(region) => {
            format!(" (copy delivered to {delivered})")
        }
        Some(_) | None => String::new(),
    };
    let reason = match (decision, category) {
        (Decision::FailoverRecommended, "investigation") => format!(
            "failover recommended: AWS is investigating a WorkSpaces problem ({type_code}) in the primary region \
             {primary}; an investigation never triggers automatic failover{region_note}{copy_note}"
        ),
        (Decision::FailoverRecommended, _) => format!(
            "failover recommended: WorkSpaces issue {type_code} is open in the primary region \
             {primary}{region_note}{copy_note}"
        ),
        (_, _) => format!(
            "recovered: WorkSpaces {category} {type_code} in the primary region {primary} is closed\
             {region_note}{copy_note}"
        ),
    };
    Ok(Classification {
        decision,
        reason,
        primary_region: primary.clone(),
        identity: Some(EventIdentity { event_arn, dedup_key }),
        event,
    })
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// When a deduplication key was first seen, and in which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenEntry {
    /// `now` when the key was inserted.
    pub first_seen: Timestamp,
    /// Insertion counter; the smallest is evicted first.
    pub order: u64,
}

/// A bounded set of deduplication keys already acted on.
///
/// Eviction: when inserting into a full set, the key inserted longest ago (smallest `order`; insertion order, not
/// wall-clock time, so clock skew between invocations cannot reorder it) is dropped. Copies and updates of one
/// event arrive within hours, and only relevant events (WorkSpaces, primary region) are inserted, so a few hundred
/// keys cover months. An evicted key that arrives again is treated as new; the failover state machine's per-event
/// tracking keeps that from repeating a transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SeenEventsRepr")]
pub struct SeenEvents {
    entries: BTreeMap<DedupKey, SeenEntry>,
    next_order: u64,
    #[serde(skip)]
    cap: usize,
}

#[derive(Deserialize)]
struct SeenEventsRepr {
    entries: BTreeMap<DedupKey, SeenEntry>,
    next_order: u64,
}

impl From<SeenEventsRepr> for SeenEvents {
    /// Loading repairs rather than rejects: a set stored with more than the cap (by a build with a larger cap) is
    /// trimmed oldest-first, and the counter is moved past every stored order.
    fn from(repr: SeenEventsRepr) -> SeenEvents {
        let max_order = repr.entries.values().map(|e| e.order).max();
        let next_order = match max_order {
            Some(m) => repr.next_order.max(m.saturating_add(1)),
            None => repr.next_order,
        };
        let mut seen = SeenEvents { entries: repr.entries, next_order, cap: SEEN_EVENTS_CAP };
        seen.evict_to(SEEN_EVENTS_CAP);
        seen
    }
}

impl Default for SeenEvents {
    fn default() -> SeenEvents {
        SeenEvents::new()
    }
}

/// Whether [`SeenEvents::insert`] saw the key before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// First time: the key is now remembered.
    New,
    /// Already present: nothing changed.
    Duplicate,
}

impl SeenEvents {
    /// An empty set holding at most [`SEEN_EVENTS_CAP`] keys.
    pub fn new() -> SeenEvents {
        SeenEvents::with_cap(SEEN_EVENTS_CAP)
    }

    /// An empty set holding at most `cap` keys (at least one); for tests of eviction.
    pub fn with_cap(cap: usize) -> SeenEvents {
        SeenEvents { entries: BTreeMap::new(), next_order: 0, cap: cap.max(1) }
    }

    /// Whether `key` is remembered.
    pub fn contains(&self, key: &DedupKey) -> bool {
        self.entries.contains_key(key)
    }

    /// Remembers `key` (evicting the oldest key if the set is full) unless it is already there.
    pub fn insert(&mut self, key: DedupKey, now: Timestamp) -> Insert {
        if self.entries.contains_key(&key) {
            return Insert::Duplicate;
        }
        self.evict_to(self.cap.saturating_sub(1));
        self.entries.insert(key, SeenEntry { first_seen: now, order: self.next_order });
        self.next_order = self.next_order.saturating_add(1);
        Insert::New
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most keys this set holds.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The remembered keys in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&DedupKey, &SeenEntry)> {
        self.entries.iter()
    }

    fn evict_to(&mut self, len: usize) {
        // Bounded: removes at most (entries - len) keys, each found in one pass over at most `cap` + 1 entries.
        while self.entries.len() > len {
            let oldest = self.entries.iter().min_by_key(|(_, e)| e.order).map(|(k, _)| k.clone());
            match oldest {
                Some(key) => {
                    self.entries.remove(&key);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests;
