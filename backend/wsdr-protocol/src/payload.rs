//! The status document's payload: what the backend tells every tray app.
//!
//! Wire form (version 1), written by [`StatusPayload::to_json_bytes`] as compact JSON with the
//! fields in this order:
//!
//! ```json
//! {"version":1,"sequence":42,"issued_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-02T00:00:00Z",
//!  "state":"failover","primary":{"region":"us-east-1","registration_code":"SLiad+ABCDEF"},
//!  "dr":{"region":"us-west-2","registration_code":"SLpdx+GHIJKL"},"active":"dr",
//!  "message":{"title":"...","body":"..."},"cause":{"source":"aws.health","event_arn":"arn:..."}}
//! ```
//!
//! Reading is strict about the fields it knows (types, allow-lists, bounds, duplicates) and
//! ignores fields it does not know, so a later backend may add optional fields without breaking
//! deployed tray apps; an incompatible change must raise `version`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::target::{RegistrationTarget, TargetError, string_conversions};

/// The payload format version this crate reads and writes.
pub const PAYLOAD_VERSION: u64 = 1;

/// Largest `sequence` accepted: 2^53 - 1, so that every JSON reader (JavaScript, `jq`) reads it
/// exactly.
pub const MAX_SEQUENCE: u64 = (1 << 53) - 1;

/// Longest message title, in characters.
pub const MESSAGE_TITLE_MAX_LEN: usize = 120;

/// Longest message body, in characters.
pub const MESSAGE_BODY_MAX_LEN: usize = 2000;

/// Longest event ARN, in characters.
pub const EVENT_ARN_MAX_LEN: usize = 1600;

/// Longest region name, in characters.
pub const REGION_MAX_LEN: usize = 32;

/// The overall state the backend declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// No incident: users work on the primary region.
    Normal,
    /// Failover declared: users should move to the DR region.
    Failover,
    /// A DR drill: a rehearsal, users are told so.
    Drill,
}

impl State {
    /// `"normal"`, `"failover"` or `"drill"`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Failover => "failover",
            Self::Drill => "drill",
        }
    }
}

/// One of the two sites (`primary`, `dr`); also the value of `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteRole {
    /// The primary region.
    Primary,
    /// The disaster-recovery region.
    Dr,
}

impl SiteRole {
    /// `"primary"` or `"dr"`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Dr => "dr",
        }
    }
}

/// Who caused this document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CauseSource {
    /// An AWS Health event (`aws.health`).
    #[serde(rename = "aws.health")]
    AwsHealth,
    /// An administrator (`admin`).
    #[serde(rename = "admin")]
    Admin,
}

impl CauseSource {
    /// `"aws.health"` or `"admin"`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwsHealth => "aws.health",
            Self::Admin => "admin",
        }
    }
}

/// An AWS region name such as `us-east-1` or `us-gov-west-1`: lower-case letters and digits in
/// `-`-separated groups, at least three groups, the first two letters, the last digits only, at
/// most [`REGION_MAX_LEN`] characters. The one definition: the backend's state machine and
/// configuration use it too, so nothing the backend accepts can be refused by a tray app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

/// Why a string is not a [`Region`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a region name like us-east-1")]
pub struct RegionError;

impl Region {
    /// Validates `s` as a region name (no surrounding whitespace).
    ///
    /// # Errors
    /// [`RegionError`] when it does not look like a region name.
    pub fn parse(s: &str) -> Result<Self, RegionError> {
        let groups: Vec<&str> = s.split('-').collect();
        let group_ok = |g: &&str| {
            !g.is_empty() && g.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        let ok = s.len() <= REGION_MAX_LEN
            && groups.len() >= 3
            && groups.iter().all(group_ok)
            && groups
                .first()
                .is_some_and(|g| g.len() == 2 && g.bytes().all(|b| b.is_ascii_lowercase()))
            && groups.last().is_some_and(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if ok { Ok(Self(s.to_owned())) } else { Err(RegionError) }
    }

    /// The region name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(Region, RegionError);

/// An event ARN (`arn:...`), printable ASCII without spaces, at most [`EVENT_ARN_MAX_LEN`]
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventArn(String);

/// Why a string is not an [`EventArn`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "is not an ARN (\"arn:\" followed by printable ASCII, at most {EVENT_ARN_MAX_LEN} characters)"
)]
pub struct EventArnError;

impl EventArn {
    /// Validates `s` as an ARN.
    ///
    /// # Errors
    /// [`EventArnError`] when it is not one.
    pub fn parse(s: &str) -> Result<Self, EventArnError> {
        let ok = s.len() <= EVENT_ARN_MAX_LEN
            && s.len() > "arn:".len()
            && s.starts_with("arn:")
            && s.bytes().all(|b| b.is_ascii_graphic());
        if ok { Ok(Self(s.to_owned())) } else { Err(EventArnError) }
    }

    /// The ARN.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(EventArn, EventArnError);

/// Why a message title or body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The title is empty.
    #[error("message title is empty")]
    EmptyTitle,
    /// The title is too long.
    #[error("message title is {len} characters long; at most {MESSAGE_TITLE_MAX_LEN} are allowed")]
    TitleTooLong {
        /// Length in characters.
        len: usize,
    },
    /// The body is too long.
    #[error("message body is {len} characters long; at most {MESSAGE_BODY_MAX_LEN} are allowed")]
    BodyTooLong {
        /// Length in characters.
        len: usize,
    },
    /// The title has a control character (line breaks included).
    #[error("message title has a control character at position {index}")]
    TitleControlChar {
        /// Position (0-based, in characters).
        index: usize,
    },
    /// The body has a control character other than `\n`.
    #[error("message body has a control character other than a line feed at position {index}")]
    BodyControlChar {
        /// Position (0-based, in characters).
        index: usize,
    },
}

/// What users are told: a one-line title (1 to [`MESSAGE_TITLE_MAX_LEN`] characters, no control
/// characters) and a body (0 to [`MESSAGE_BODY_MAX_LEN`] characters, no control characters except
/// `\n`). Plain text: a tray app that renders markup must escape it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawMessage")]
pub struct Message {
    title: String,
    body: String,
}

impl Message {
    /// Validates a title and a body.
    ///
    /// # Errors
    /// [`MessageError`] naming the first rule broken.
    pub fn new(title: &str, body: &str) -> Result<Self, MessageError> {
        if title.is_empty() {
            return Err(MessageError::EmptyTitle);
        }
        let len = title.chars().count();
        if len > MESSAGE_TITLE_MAX_LEN {
            return Err(MessageError::TitleTooLong { len });
        }
        if let Some(index) = title.chars().position(char::is_control) {
            return Err(MessageError::TitleControlChar { index });
        }
        let len = body.chars().count();
        if len > MESSAGE_BODY_MAX_LEN {
            return Err(MessageError::BodyTooLong { len });
        }
        if let Some(index) = body.chars().position(|c| c.is_control() && c != '\n') {
            return Err(MessageError::BodyControlChar { index });
        }
        Ok(Self { title: title.to_owned(), body: body.to_owned() })
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The body.
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// `Message` as read from JSON, before validation.
#[derive(Deserialize)]
struct RawMessage {
    title: String,
    body: String,
}

impl TryFrom<RawMessage> for Message {
    type Error = MessageError;
    fn try_from(raw: RawMessage) -> Result<Self, Self::Error> {
        Self::new(&raw.title, &raw.body)
    }
}

/// One site: its region and the registration code (or connection alias) of its WorkSpaces
/// directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Site {
    /// The AWS region.
    pub region: Region,
    /// What the WorkSpaces client registers with to reach this site.
    pub registration_code: RegistrationTarget,
}

/// Why this document was issued.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cause {
    /// AWS Health or an administrator.
    pub source: CauseSource,
    /// The AWS Health event, when there is one (omitted from the JSON when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_arn: Option<EventArn>,
}

/// The signed content of a status document (payload format [`PAYLOAD_VERSION`]).
///
/// Every field is already validated by its type; the cross-field rules (`issued_at <=
/// expires_at`, `sequence <= MAX_SEQUENCE`) are checked by [`StatusPayload::validate`], which
/// [`StatusPayload::to_json_bytes`] and reading both call. There is no `Deserialize`: a payload
/// from elsewhere comes either out of [`crate::verify`] or, for authoring only, out of
/// [`StatusPayload::from_unsigned_json`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusPayload {
    /// Strictly increasing across the documents one backend publishes (≤ [`MAX_SEQUENCE`]).
    pub sequence: u64,
    /// When the document was issued.
    pub issued_at: Timestamp,
    /// After this instant the document is no longer valid (exclusive).
    pub expires_at: Timestamp,
    /// Normal operation, failover or drill.
    pub state: State,
    /// The primary site.
    pub primary: Site,
    /// The disaster-recovery site.
    pub dr: Site,
    /// Which site users should use now.
    pub active: SiteRole,
    /// What users are told.
    pub message: Message,
    /// Why the document was issued.
    pub cause: Cause,
}

/// Why a payload was refused, when reading or writing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not the JSON shape of a payload (syntax, missing field, wrong type, unknown `state`,
    /// duplicate field, ...).
    #[error("malformed payload JSON: {detail}")]
    Malformed {
        /// The parser's message (sanitised).
        detail: String,
    },
    /// A `version` this crate does not read.
    #[error("unsupported payload version {version} (this build reads version {PAYLOAD_VERSION})")]
    UnsupportedVersion {
        /// The version found.
        version: u64,
    },
    /// `sequence` above [`MAX_SEQUENCE`].
    #[error("sequence {sequence} is above the maximum {MAX_SEQUENCE}")]
    SequenceOutOfRange {
        /// The sequence found.
        sequence: u64,
    },
    /// A site's region is invalid.
    #[error("{}.region {error}", site.as_str())]
    Region {
        /// Which site.
        site: SiteRole,
        /// What is wrong.
        error: RegionError,
    },
    /// A site's registration code / connection alias is invalid.
    #[error("{}.registration_code {error}", site.as_str())]
    RegistrationCode {
        /// Which site.
        site: SiteRole,
        /// What is wrong.
        error: TargetError,
    },
    /// The message is invalid.
    #[error("{0}")]
    Message(MessageError),
    /// The cause's event ARN is invalid.
    #[error("cause.event_arn {0}")]
    EventArn(EventArnError),
    /// `issued_at` is after `expires_at`.
    #[error("issued_at {issued_at} is after expires_at {expires_at}")]
    InconsistentTimes {
        /// When it says it was issued.
        issued_at: Timestamp,
        /// When it says it expires.
        expires_at: Timestamp,
    },
}

/// The first pass over payload JSON: only the version.
#[derive(Deserialize)]
struct VersionProbe {
    version: u64,
}

/// Payload JSON as read, before field validation (strings are checked afterwards so that each
/// invalid field gets its own error).
#[derive(Deserialize)]
struct PayloadIn {
    #[allow(
        dead_code,
        reason = "checked by VersionProbe; declared so that a duplicate is an error"
    )]
    version: u64,
    sequence: u64,
    issued_at: Timestamp,
    expires_at: Timestamp,
    state: State,
    primary: SiteIn,
    dr: SiteIn,
    active: SiteRole,
    message: RawMessage,
    cause: CauseIn,
}

#[derive(Deserialize)]
struct SiteIn {
    region: String,
    registration_code: String,
}

#[derive(Deserialize)]
struct CauseIn {
    source: CauseSource,
    #[serde(default)]
    event_arn: Option<String>,
}

/// Payload JSON as written.
#[derive(Serialize)]
struct PayloadOut<'a> {
    version: u64,
    sequence: u64,
    issued_at: &'a Timestamp,
    expires_at: &'a Timestamp,
    state: State,
    primary: &'a Site,
    dr: &'a Site,
    active: SiteRole,
    message: &'a Message,
    cause: &'a Cause,
}

impl SiteIn {
    fn validate(self, site: SiteRole) -> Result<Site, PayloadError> {
        Ok(Site {
            region: Region::parse(&self.region)
                .map_err(|error| PayloadError::Region { site, error })?,
            registration_code: RegistrationTarget::parse(&self.registration_code)
                .map_err(|error| PayloadError::RegistrationCode { site, error })?,
        })
    }
}

impl StatusPayload {
    /// Checks the rules that span fields: `sequence <= MAX_SEQUENCE` and `issued_at <=
    /// expires_at`.
    ///
    /// # Errors
    /// [`PayloadError::SequenceOutOfRange`] or [`PayloadError::InconsistentTimes`].
    pub fn validate(&self) -> Result<(), PayloadError> {
        if self.sequence > MAX_SEQUENCE {
            return Err(PayloadError::SequenceOutOfRange { sequence: self.sequence });
        }
        if self.issued_at > self.expires_at {
            return Err(PayloadError::InconsistentTimes {
                issued_at: self.issued_at,
                expires_at: self.expires_at,
            });
        }
        Ok(())
    }

    /// The site with the given role.
    pub fn site(&self, role: SiteRole) -> &Site {
        match role {
            SiteRole::Primary => &self.primary,
            SiteRole::Dr => &self.dr,
        }
    }

    /// The site users should use now (`active`).
    pub fn active_site(&self) -> &Site {
        self.site(self.active)
    }

    /// The canonical payload bytes: compact JSON, fields in the documented order, `version`
    /// first. These are the bytes that get signed.
    ///
    /// # Errors
    /// [`PayloadError`] from [`StatusPayload::validate`].
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, PayloadError> {
        self.validate()?;
        let out = PayloadOut {
            version: PAYLOAD_VERSION,
            sequence: self.sequence,
            issued_at: &self.issued_at,
            expires_at: &self.expires_at,
            state: self.state,
            primary: &self.primary,
            dr: &self.dr,
            active: self.active,
            message: &self.message,
            cause: &self.cause,
        };
        serde_json::to_vec(&out).map_err(|e| PayloadError::Malformed { detail: e.to_string() })
    }

    /// Reads payload JSON that is *not* signed, for authoring tools (for example a payload file
    /// given to `wsdr status sign`). A document received from elsewhere must go through
    /// [`crate::verify`] instead.
    ///
    /// # Errors
    /// [`PayloadError`] naming what is wrong.
    pub fn from_unsigned_json(bytes: &[u8]) -> Result<Self, PayloadError> {
        decode(bytes)
    }
}

fn malformed(e: &serde_json::Error) -> PayloadError {
    PayloadError::Malformed { detail: crate::target::sanitize(&e.to_string(), 200) }
}

/// Parses and validates payload bytes (the body of [`StatusPayload::from_unsigned_json`], and the
/// payload step of verification, which runs only after the signature has been checked).
pub(crate) fn decode(bytes: &[u8]) -> Result<StatusPayload, PayloadError> {
    if !crate::is_json_object(bytes) {
        return Err(PayloadError::Malformed { detail: "not a JSON object".to_owned() });
    }
    let probe: VersionProbe = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
    if probe.version != PAYLOAD_VERSION {
        return Err(PayloadError::UnsupportedVersion { version: probe.version });
    }
    let raw: PayloadIn = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
    let payload = StatusPayload {
        sequence: raw.sequence,
        issued_at: raw.issued_at,
        expires_at: raw.expires_at,
        state: raw.state,
        primary: raw.primary.validate(SiteRole::Primary)?,
        dr: raw.dr.validate(SiteRole::Dr)?,
        active: raw.active,
        message: Message::try_from(raw.message).map_err(PayloadError::Message)?,
        cause: Cause {
            source: raw.cause.source,
            event_arn: raw
                .cause
                .event_arn
                .map(|arn| EventArn::parse(&arn))
                .transpose()
                .map_err(PayloadError::EventArn)?,
        },
    };
    payload.validate()?;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in ["us-east-1", "us-gov-west-1", "eu-central-2", "ap-southeast-5", "cn-north-1"] {
            assert!(Region::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us",
            "US-EAST-1",
            "us-east-",
            "-us-east-1",
            "us--east-1",
            "1us-east",
            "us_east_1",
            "us-east",
            "global",
            "u-east-1",
            "us-east-x",
            " us-west-2",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn event_arns() {
        assert!(EventArn::parse("arn:aws:health:us-east-1::event/WORKSPACES/X/Y").is_ok());
        for bad in ["", "arn:", "aws:health", "arn:a b", "arn:\n"] {
            assert!(EventArn::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn messages() {
        assert!(Message::new("Failover", "Line 1\nLine 2").is_ok());
        assert!(Message::new("Failover", "").is_ok());
        assert_eq!(Message::new("", "x"), Err(MessageError::EmptyTitle));
        assert_eq!(Message::new("a\nb", ""), Err(MessageError::TitleControlChar { index: 1 }));
        assert_eq!(Message::new("a", "\r\n"), Err(MessageError::BodyControlChar { index: 0 }));
        assert!(Message::new(&"t".repeat(120), &"b".repeat(2000)).is_ok());
        assert_eq!(
            Message::new(&"t".repeat(121), ""),
            Err(MessageError::TitleTooLong { len: 121 })
        );
        assert_eq!(
            Message::new("t", &"b".repeat(2001)),
            Err(MessageError::BodyTooLong { len: 2001 })
        );
    }
}
