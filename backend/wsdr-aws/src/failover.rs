//! The failover driver: runs `wsdr_core::failover`'s state machine against S3, SNS and the status document.
//! The health function, the publish function and the admin CLI all go through [`FailoverDriver`].
//!
//! # S3 layout (state bucket)
//!
//! - `<state prefix>failover/state.json` ([`FailoverRecord`]): the [`DrState`] (mode, active site, last sequence,
//!   events seen and tracked, last status) and the effects of committed transitions not yet carried out.
//! - `status/status.json` (configurable): the signed status document trays poll (see [`crate::status`]).
//!
//! # One step
//!
//! 1. Read the record and its ETag (none yet: a fresh [`DrState`] that continues the sequence of the status
//!    document already published, so a lost record never makes sequences go backwards).
//! 2. Step the pure state machine. A refusal changes nothing. A duplicate or ignored event writes nothing.
//! 3. Commit: write the record `If-Match` the ETag read (`If-None-Match: *` when there was none), with the
//!    transition's effects in [`FailoverRecord::pending`]. On 412 (someone else committed first) go back to 1, at
//!    most [`COMMIT_ATTEMPTS`] times. Only the winner of a sequence carries out its effects, so two concurrent
//!    invocations can never both publish.
//! 4. Carry out the effects: sign and write the status document (never over a higher sequence), publish the SNS
//!    alert, then remove the entry from `pending` (conditional write again).
//!
//! An invocation that dies between 3 and 4 leaves its entry in `pending`; any later invocation finds entries
//! older than [`STALE_PENDING`], claims them by a conditional write and carries them out (alerts are therefore
//! delivered at least once if the process crashes between SNS and the clean-up, and at most once otherwise).
//!
//! IAM: `s3:GetObject`/`s3:PutObject` on `<prefix>failover/*` and the status object, `sns:Publish` on the topic,
//! `kms:Sign` (and `kms:GetPublicKey` for `wsdr status`) on the status key.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wsdr_core::failover::{
    AdminCommand, DrState, FailoverPolicy, Input, Message, Mode, Outcome, Refusal, StatusChange,
};
use wsdr_core::health::{MalformedEvent, classify_value};
use wsdr_protocol::UnsignedDocument;

use crate::error::{AwsError, ErrorKind};
use crate::s3::{ETag, ObjectStore, Precondition, Put, S3Location};
use crate::sdk::Clients;
use crate::sns::{AdminAlert, AlertsTopic};
use crate::status::{
    CurrentStatus, StatusConfig, StatusObject, StatusSigner, StatusWrite, read_maybe_absent,
};

/// The record's format version.
pub const RECORD_FORMAT: u32 = 1;
/// Attempts at committing a step when other writers keep winning the race (with a jittered, growing pause).
pub const COMMIT_ATTEMPTS: usize = 10;
/// Pending effects older than this belong to an invocation that died; a later one carries them out.
pub const STALE_PENDING: SignedDuration = SignedDuration::from_secs(90);
/// Re-sign the status document when it expires within this share of its validity (a half: every 12 h for 24 h).
pub const RENEW_WHEN_LEFT: f64 = 0.5;

/// What is persisted in `<prefix>failover/state.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The state machine's state.
    pub state: DrState,
    /// Effects of committed transitions not yet carried out, oldest first.
    #[serde(default)]
    pub pending: Vec<Pending>,
}

/// The effects of one committed transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The transition's sequence.
    pub sequence: u64,
    /// When it was committed.
    pub committed_at: Timestamp,
    /// The admin alert to publish.
    pub alert: AdminAlert,
}

/// Everything the driver needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct FailoverConfig {
    /// The state bucket (`WSDR_STATE_BUCKET`).
    pub bucket: String,
    /// The state prefix (`WSDR_STATE_PREFIX`, e.g. `state/`); the record is `<prefix>failover/state.json`.
    pub state_prefix: String,
    /// The status object's key (`WSDR_STATUS_OBJECT_KEY`).
    pub status_key: String,
    /// The alerts topic (`WSDR_ALERTS_TOPIC_ARN`).
    pub topic_arn: String,
    /// Regions and automation.
    pub policy: FailoverPolicy,
    /// Sites and validity of the status document.
    pub status: StatusConfig,
    /// The public URL of the status document (`WSDR_STATUS_URL`), quoted in alerts.
    pub status_url: Option<String>,
}

impl FailoverConfig {
    /// Reads the configuration contract of `infra/README.md` through `lookup` (the environment, for the
    /// functions; flags falling back to it, for the CLI): `WSDR_STATE_BUCKET`, `WSDR_STATE_PREFIX` (default
    /// `state/`), `WSDR_STATUS_OBJECT_KEY` (default `status/status.json`), `WSDR_ALERTS_TOPIC_ARN`,
    /// `WSDR_PRIMARY_REGION`, `WSDR_DR_REGION` (default `AWS_REGION`), `WSDR_PRIMARY_REGISTRATION_CODE`,
    /// `WSDR_DR_REGISTRATION_CODE`, `WSDR_STATUS_VALIDITY_HOURS` (default 24), `WSDR_STATUS_URL` (optional),
    /// `WSDR_AUTO_FAILOVER` (`true`/`false`, default `false`). Empty means unset. The error names every bad or
    /// missing variable.
    pub fn from_lookup(
        lookup: impl Fn(&'static str) -> Option<String>,
    ) -> Result<FailoverConfig, String> {
        let get = |name: &'static str| {
            lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let mut required = |name: &'static str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is not set"));
                String::new()
            })
        };
        let bucket = required("WSDR_STATE_BUCKET");
        let topic_arn = required("WSDR_ALERTS_TOPIC_ARN");
        let primary_region = required("WSDR_PRIMARY_REGION");
        let primary_code = required("WSDR_PRIMARY_REGISTRATION_CODE");
        let dr_code = required("WSDR_DR_REGISTRATION_CODE");
        let dr_region = get("WSDR_DR_REGION").or_else(|| get("AWS_REGION")).unwrap_or_else(|| {
            problems.push("WSDR_DR_REGION (or AWS_REGION) is not set".to_owned());
            String::new()
        });
        let validity_hours = match get("WSDR_STATUS_VALIDITY_HOURS") {
            None => 24,
            Some(v) => v.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "WSDR_STATUS_VALIDITY_HOURS={v:?} is not a whole number of hours"
                ));
                24
            }),
        };
        let auto_failover = match get("WSDR_AUTO_FAILOVER").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                problems.push(format!("WSDR_AUTO_FAILOVER={other:?} must be true or false"));
                false
            }
        };
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let status =
            StatusConfig::new(&primary_region, &primary_code, &dr_region, &dr_code, validity_hours)
                .map_err(|error| error.to_string())?;
        let region = |name: &str, value: &str| {
            wsdr_core::health::Region::new(value).map_err(|error| format!("{name}: {error}"))
        };
        let policy = FailoverPolicy::new(
            auto_failover,
            region("WSDR_PRIMARY_REGION", &primary_region)?,
            region("WSDR_DR_REGION", &dr_region)?,
        )
        .map_err(|error| error.to_string())?;
        let mut state_prefix = get("WSDR_STATE_PREFIX").unwrap_or_else(|| "state/".to_owned());
        if !state_prefix.ends_with('/') {
            state_prefix.push('/');
        }
        Ok(FailoverConfig {
            bucket,
            state_prefix,
            status_key: get("WSDR_STATUS_OBJECT_KEY")
                .unwrap_or_else(|| "status/status.json".to_owned()),
            topic_arn,
            policy,
            status,
            status_url: get("WSDR_STATUS_URL"),
        })
    }
}

/// Why a step could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum FailoverError {
    /// The command contradicts the current mode; nothing changed.
    #[error("{0}")]
    Refused(Refusal),
    /// The event is not a usable AWS Health event; nothing changed.
    #[error("malformed AWS Health event: {0}")]
    Malformed(MalformedEvent),
    /// The persisted record cannot be read.
    #[error("{location}: {reason}")]
    BadRecord {
        /// The record's location.
        location: S3Location,
        /// What is wrong.
        reason: String,
    },
    /// The status document could not be built.
    #[error("status document: {0}")]
    Status(String),
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// The status document written (or not) by a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublishedStatus {
    /// Where.
    pub location: String,
    /// The document's sequence.
    pub sequence: u64,
    /// The signing key's id.
    pub key_id: String,
    /// What the write did.
    pub write: StatusWrite,
    /// The envelope as written.
    pub document: String,
}

/// What one call of the driver did; what the CLI prints and the functions log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// `transition`, `duplicate`, `ignored`, `unchanged`, `renewed`, `republished` or `current`.
    pub outcome: &'static str,
    /// Why, when nothing was published.
    pub reason: Option<String>,
    /// The mode before.
    pub previous_mode: Mode,
    /// The mode now.
    pub mode: Mode,
    /// The last sequence issued.
    pub last_sequence: u64,
    /// The admin alert published by this call, if any.
    pub alert: Option<AdminAlert>,
    /// Its SNS message id.
    pub sns_message_id: Option<String>,
    /// The status document published by this call, if any.
    pub status: Option<PublishedStatus>,
    /// Commit attempts (more than one: another writer won a race).
    pub attempts: usize,
    /// Older pending effects this call carried out (sequences).
    pub caught_up: Vec<u64>,
}

/// The record as read.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The record (fresh when none is stored).
    pub record: FailoverRecord,
    /// Its ETag, `None` when none is stored.
    pub etag: Option<ETag>,
}

/// Runs the failover state machine against AWS.
#[derive(Debug)]
pub struct FailoverDriver {
    store: ObjectStore,
    record_location: S3Location,
    status: StatusObject,
    signer: StatusSigner,
    topic: AlertsTopic,
    config: FailoverConfig,
}

impl FailoverDriver {
    /// A driver on `clients` (S3 and SNS) with `signer`.
    pub fn new(clients: &Clients, config: FailoverConfig, signer: StatusSigner) -> FailoverDriver {
        let store = ObjectStore::new(clients.s3.clone());
        let record_location = S3Location::new(&config.bucket, record_key(&config.state_prefix));
        let status =
            StatusObject::new(store.clone(), S3Location::new(&config.bucket, &config.status_key));
        let topic = AlertsTopic::new(clients.sns.clone(), &config.topic_arn);
        FailoverDriver { store, record_location, status, signer, topic, config }
    }

    /// Where the record lives.
    pub fn record_location(&self) -> &S3Location {
        &self.record_location
    }

    /// The status object.
    pub fn status_object(&self) -> &StatusObject {
        &self.status
    }

    /// The signer.
    pub fn signer(&self) -> &StatusSigner {
        &self.signer
    }

    /// The configuration.
    pub fn config(&self) -> &FailoverConfig {
        &self.config
    }

    /// Reads the record; without one, a fresh state continuing the published document's sequence.
    pub async fn load(&self) -> Result<Loaded, FailoverError> {
        match read_maybe_absent(&self.store, &self.record_location).await? {
            Some(object) => {
                let record: FailoverRecord =
                    serde_json::from_slice(&object.bytes).map_err(|error| {
                        FailoverError::BadRecord {
                            location: self.record_location.clone(),
                            reason: format!("not a failover record: {error}"),
                        }
                    })?;
                if record.format != RECORD_FORMAT {
                    return Err(FailoverError::BadRecord {
                        location: self.record_location.clone(),
                        reason: format!("format {} is not {RECORD_FORMAT}", record.format),
                    });
                }
                Ok(Loaded { record, etag: Some(object.etag) })
            }
            None => {
                let published =
                    self.status.read().await?.and_then(|current| current.sequence).unwrap_or(0);
                let record = FailoverRecord {
                    format: RECORD_FORMAT,
                    state: DrState::new(published),
                    pending: Vec::new(),
                };
                Ok(Loaded { record, etag: None })
            }
        }
    }

    /// Classifies an EventBridge `aws.health` event against the primary region and applies it.
    pub async fn on_health_event(
        &self,
        event: &Value,
        now: Timestamp,
    ) -> Result<Report, FailoverError> {
        let classification = classify_value(event, self.config.policy.primary_region())
            .map_err(FailoverError::Malformed)?;
        tracing::info!(
            decision = classification.decision().as_str(),
            reason = classification.reason(),
            "AWS Health event classified"
        );
        self.apply(&Input::Health(Box::new(classification)), now).await
    }

    /// Applies an admin command.
    pub async fn command(
        &self,
        command: AdminCommand,
        now: Timestamp,
    ) -> Result<Report, FailoverError> {
        self.apply(&Input::Command(command), now).await
    }

    /// Applies one input: read, step, commit (conditional), then carry out the effects. See the module docs.
    pub async fn apply(&self, input: &Input, now: Timestamp) -> Result<Report, FailoverError> {
        for attempt in 1..=COMMIT_ATTEMPTS {
            let loaded = self.load().await?;
            let before = &loaded.record.state;
            let step =
                before.step(input, &self.config.policy, now).map_err(FailoverError::Refused)?;
            let mut report = Report {
                outcome: "",
                reason: None,
                previous_mode: before.mode(),
                mode: step.state.mode(),
                last_sequence: step.state.last_sequence(),
                alert: None,
                sns_message_id: None,
                status: None,
                attempts: attempt,
                caught_up: Vec::new(),
            };
            let mut record = FailoverRecord { state: step.state.clone(), ..loaded.record.clone() };
            let effects = match &step.outcome {
                Outcome::Duplicate { key } => {
                    report.outcome = "duplicate";
                    report.reason = Some(format!("already processed: {}", key.as_str()));
                    None
                }
                Outcome::Ignored { reason } => {
                    report.outcome = "ignored";
                    report.reason = Some(reason.clone());
                    None
                }
                Outcome::Unchanged { reason } => {
                    report.outcome = "unchanged";
                    report.reason = Some(reason.clone());
                    None
                }
                Outcome::Transition(effects) => {
                    report.outcome = "transition";
                    let alert = self.alert_for(&effects.notice);
                    record.pending.push(Pending {
                        sequence: effects.status.sequence,
                        committed_at: now,
                        alert: alert.clone(),
                    });
                    report.alert = Some(alert);
                    Some(effects.status.clone())
                }
            };
            let (claimed, record) = claim_stale(record, now, effects.as_ref().map(|s| s.sequence));
            if record == loaded.record && claimed.is_empty() {
                // Duplicate or ignored: nothing to write.
                return Ok(report);
            }
            match self.commit(&record, loaded.etag.as_ref()).await {
                Ok(_) => {}
                Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                    tracing::info!(
                        attempt,
                        "another invocation committed first; reading the state again"
                    );
                    lost_race(attempt).await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
            if let Some(change) = effects {
                report.status = Some(self.publish_status(&change).await?);
                if let Some(alert) = &report.alert {
                    report.sns_message_id = Some(self.topic.publish(alert).await?);
                }
                self.clear_pending(change.sequence).await?;
            }
            if !claimed.is_empty() {
                self.carry_out(&claimed, &record.state, &mut report).await?;
            }
            return Ok(report);
        }
        Err(AwsError {
            operation: "s3:PutObject",
            code: None,
            message: format!(
                "{}: {COMMIT_ATTEMPTS} attempts, other invocations kept committing first",
                self.record_location
            ),
            kind: ErrorKind::PreconditionFailed,
        }
        .into())
    }

    /// The periodic refresh (`{"action":"refresh"}`): carries out stale pending effects, re-publishes the last
    /// status if the object lags behind the state (a publish that failed), and re-signs with the next sequence when
    /// the published document is missing or expires within [`RENEW_WHEN_LEFT`] of its validity.
    pub async fn refresh(&self, now: Timestamp) -> Result<Report, FailoverError> {
        for attempt in 1..=COMMIT_ATTEMPTS {
            let loaded = self.load().await?;
            let current = self.status.read().await?;
            let state = &loaded.record.state;
            let mut report = Report {
                outcome: "current",
                reason: None,
                previous_mode: state.mode(),
                mode: state.mode(),
                last_sequence: state.last_sequence(),
                alert: None,
                sns_message_id: None,
                status: None,
                attempts: attempt,
                caught_up: Vec::new(),
            };
            let (claimed, mut record) = claim_stale(loaded.record.clone(), now, None);
            let renew = self.needs_renewal(current.as_ref(), now);
            let behind = state.last_status().is_some()
                && current
                    .as_ref()
                    .and_then(|c| c.sequence)
                    .is_none_or(|held| held < state.last_sequence());
            let mut change = None;
            if renew {
                let (next, status) = state.renew(now).map_err(FailoverError::Refused)?;
                record.state = next;
                report.outcome = "renewed";
                report.last_sequence = status.sequence;
                change = Some(status);
            } else if behind {
                report.outcome = "republished";
                change = state.last_status().cloned();
            } else {
                report.reason = Some(match &current {
                    Some(CurrentStatus {
                        expires_at: Some(expires_at), sequence: Some(s), ..
                    }) => {
                        format!("status #{s} is current and valid until {expires_at}")
                    }
                    _ => "status document is current".to_owned(),
                });
            }
            if renew || !claimed.is_empty() {
                match self.commit(&record, loaded.etag.as_ref()).await {
                    Ok(_) => {}
                    Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                        lost_race(attempt).await;
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            if let Some(change) = change {
                report.status = Some(self.publish_status(&change).await?);
            }
            if !claimed.is_empty() {
                self.carry_out(&claimed, &record.state, &mut report).await?;
            }
            return Ok(report);
        }
        Err(AwsError {
            operation: "s3:PutObject",
            code: None,
            message: format!("{}: other invocations kept committing first", self.record_location),
            kind: ErrorKind::PreconditionFailed,
        }
        .into())
    }

    fn needs_renewal(&self, current: Option<&CurrentStatus>, now: Timestamp) -> bool {
        let Some(expires_at) = current.and_then(|c| c.expires_at) else {
            return true;
        };
        let left = now.duration_until(expires_at);
        left <= self.config.status.validity().mul_f64(RENEW_WHEN_LEFT)
    }

    /// The SNS alert for a notice, with the status document's public URL when configured.
    fn alert_for(&self, notice: &wsdr_core::failover::AdminNotice) -> AdminAlert {
        let mut alert = AdminAlert::from_notice(notice);
        if let Some(url) = &self.config.status_url {
            alert.text.push_str(&format!("\nStatus document (what every tray app reads): {url}\n"));
        }
        alert
    }

    /// Builds, signs and writes the status document for `change`.
    pub async fn publish_status(
        &self,
        change: &StatusChange,
    ) -> Result<PublishedStatus, FailoverError> {
        let payload = self.config.status.payload(change).map_err(FailoverError::Status)?;
        let unsigned = UnsignedDocument::new(&payload)
            .map_err(|error| FailoverError::Status(error.to_string()))?;
        let document = self.signer.sign(unsigned).await?;
        let write = self.status.write(&document, change.sequence).await?;
        if let StatusWrite::Superseded { current } = &write {
            tracing::info!(
                sequence = change.sequence,
                current,
                "status object already holds a newer document"
            );
        }
        Ok(PublishedStatus {
            location: self.status.location().to_string(),
            sequence: change.sequence,
            key_id: document.key_id().as_str().to_owned(),
            write,
            document: String::from_utf8_lossy(&document.to_json_bytes()).into_owned(),
        })
    }

    async fn commit(&self, record: &FailoverRecord, etag: Option<&ETag>) -> Result<ETag, AwsError> {
        let precondition = match etag {
            Some(etag) => Precondition::Matches(etag.clone()),
            None => Precondition::Absent,
        };
        let bytes = serde_json::to_vec_pretty(record).map_err(|error| AwsError {
            operation: "s3:PutObject",
            code: None,
            message: format!("cannot serialise the failover record: {error}"),
            kind: ErrorKind::Rejected,
        })?;
        self.store.put(&self.record_location, bytes, &Put::json(precondition)).await
    }

    /// Removes the pending entry `sequence` after its effects were carried out (re-reading on lost races).
    async fn clear_pending(&self, sequence: u64) -> Result<(), FailoverError> {
        for attempt in 1..=COMMIT_ATTEMPTS {
            let loaded = self.load().await?;
            let mut record = loaded.record;
            let before = record.pending.len();
            record.pending.retain(|pending| pending.sequence != sequence);
            if record.pending.len() == before {
                return Ok(());
            }
            match self.commit(&record, loaded.etag.as_ref()).await {
                Ok(_) => return Ok(()),
                Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                    lost_race(attempt).await
                }
                Err(error) => return Err(error.into()),
            }
        }
        tracing::warn!(
            sequence,
            "could not clear the pending entry; a later invocation will deliver it again"
        );
        Ok(())
    }

    /// Carries out claimed stale entries: the newest status, then each alert.
    async fn carry_out(
        &self,
        claimed: &[Pending],
        state: &DrState,
        report: &mut Report,
    ) -> Result<(), FailoverError> {
        if let Some(last) = state.last_status() {
            let published = self.publish_status(last).await?;
            if report.status.is_none() {
                report.status = Some(published);
            }
        }
        for pending in claimed {
            tracing::warn!(
                sequence = pending.sequence,
                "carrying out the effects of an invocation that died"
            );
            self.topic.publish(&pending.alert).await?;
            report.caught_up.push(pending.sequence);
        }
        Ok(())
    }
}

/// After losing a commit race: a pause of 10–50 ms times the attempt, so contenders spread out.
async fn lost_race(attempt: usize) {
    let attempt = u64::try_from(attempt).unwrap_or(u64::MAX).min(COMMIT_ATTEMPTS as u64);
    tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(10..=50) * attempt)).await;
}

/// An admin's optional message: both title and body, or neither (the state machine's default text).
pub fn optional_message(
    title: Option<&str>,
    body: Option<&str>,
) -> Result<Option<Message>, String> {
    match (title, body) {
        (None, None) => Ok(None),
        (Some(title), Some(body)) => {
            Message::new(title, body).map(Some).map_err(|error| error.to_string())
        }
        (Some(_), None) => {
            Err("a title needs a body (give both, or neither for the default message)".to_owned())
        }
        (None, Some(_)) => {
            Err("a body needs a title (give both, or neither for the default message)".to_owned())
        }
    }
}

/// `<prefix>failover/state.json`.
pub fn record_key(state_prefix: &str) -> String {
    format!("{state_prefix}failover/state.json")
}

/// Takes the stale pending entries (not `own`) out of `record`: the caller commits the result, then carries them out.
fn claim_stale(
    mut record: FailoverRecord,
    now: Timestamp,
    own: Option<u64>,
) -> (Vec<Pending>, FailoverRecord) {
    let (stale, keep): (Vec<Pending>, Vec<Pending>) =
        record.pending.into_iter().partition(|pending| {
            Some(pending.sequence) != own
                && now.duration_since(pending.committed_at) > STALE_PENDING
        });
    record.pending = keep;
    (stale, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(sequence: u64, minute: i64) -> Pending {
        Pending {
            sequence,
            committed_at: Timestamp::from_second(minute * 60).unwrap(),
            alert: AdminAlert::new("s", "t"),
        }
    }

    #[test]
    fn only_stale_pending_effects_of_others_are_claimed() {
        let record = FailoverRecord {
            format: RECORD_FORMAT,
            state: DrState::new(3),
            pending: vec![pending(1, 0), pending(2, 9), pending(3, 10)],
        };
        let now = Timestamp::from_second(10 * 60 + 30).unwrap();
        let (claimed, rest) = claim_stale(record, now, Some(3));
        assert_eq!(claimed.iter().map(|p| p.sequence).collect::<Vec<_>>(), [1]);
        assert_eq!(rest.pending.iter().map(|p| p.sequence).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn configuration_follows_the_environment_contract() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &'static str| {
                pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
            }
        };
        let full: &'static [(&str, &str)] = &[
            ("WSDR_STATE_BUCKET", "state-bucket"),
            ("WSDR_ALERTS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:alerts"),
            ("WSDR_PRIMARY_REGION", "us-east-1"),
            ("AWS_REGION", "eu-west-1"),
            ("WSDR_PRIMARY_REGISTRATION_CODE", "SLiad+ABCDEF"),
            ("WSDR_DR_REGISTRATION_CODE", "WSeu+ABC12D"),
            ("WSDR_STATE_PREFIX", "state"),
            ("WSDR_AUTO_FAILOVER", "true"),
            ("WSDR_STATUS_URL", ""),
        ];
        let config = FailoverConfig::from_lookup(env(full)).unwrap();
        assert_eq!(
            (config.state_prefix.as_str(), config.status_key.as_str()),
            ("state/", "status/status.json")
        );
        assert_eq!(config.policy.dr_region().as_str(), "eu-west-1");
        assert!(config.policy.auto_failover());
        assert_eq!(config.status_url, None);
        assert_eq!(config.status.validity(), SignedDuration::from_hours(24));

        let error = FailoverConfig::from_lookup(env(&[("WSDR_AUTO_FAILOVER", "yes")])).unwrap_err();
        for name in [
            "WSDR_STATE_BUCKET is not set",
            "WSDR_DR_REGISTRATION_CODE is not set",
            "AWS_REGION",
            "yes",
        ] {
            assert!(error.contains(name), "{name}: {error}");
        }
    }

    #[test]
    fn records_round_trip() {
        let record = FailoverRecord {
            format: RECORD_FORMAT,
            state: DrState::new(7),
            pending: vec![pending(8, 1)],
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<FailoverRecord>(&json).unwrap(), record);
        assert_eq!(record_key("state/"), "state/failover/state.json");
    }
}
