//! The signed status document: from the state machine's [`StatusChange`] to a signed envelope in S3.
//!
//! - [`StatusConfig`]: the deployment's two sites (regions and registration codes, validated with `wsdr-protocol`)
//!   and how long a document is valid. [`StatusConfig::payload`] is a pure function of the change, so publishing
//!   the same change twice gives the same payload bytes (the tray sees it as unchanged, not as a reused sequence).
//! - [`StatusSigner`]: a local PKCS#8 key (the local default) or an AWS KMS key (production).
//! - [`StatusObject`]: the object trays poll (`status/status.json`), written with `Cache-Control:
//!   `[`STATUS_CACHE_CONTROL`] and only by conditional writes: read it, refuse to write a sequence lower than or
//!   equal to the one it holds, write `If-Match` its ETag (`If-None-Match: *` when absent), and on a lost race read
//!   again. So concurrent publishers never move it backwards.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use wsdr_core::failover::StatusChange;
use wsdr_protocol::{
    Cause, EventArn, KeyId, LocalSigner, Message, PublicKey, Region, RegistrationTarget,
    SignedDocument, Signer as _, Site, StatusPayload, UnsignedDocument,
};

use crate::error::{AwsError, ErrorKind};
use crate::kms::KmsSigner;
use crate::s3::{ETag, ObjectStore, Precondition, Put, S3Location};

/// `Cache-Control` of the status object: caches (CloudFront, the tray's HTTP stack) may serve it for 30 s, then
/// must revalidate (trays poll with `If-None-Match`). A failover reaches users within a poll interval plus 30 s.
pub const STATUS_CACHE_CONTROL: &str = "max-age=30, must-revalidate";

/// How often a write of the status object is tried when other writers keep winning the race.
const WRITE_ATTEMPTS: usize = 8;

/// A status configuration that cannot work; the message names the setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct StatusConfigError {
    /// The setting (the environment variable or flag name).
    pub setting: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// What every status document of one deployment shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusConfig {
    primary: Site,
    dr: Site,
    validity: SignedDuration,
}

impl StatusConfig {
    /// Validates the sites (regions, registration codes or connection aliases; the two sites must differ) and the
    /// validity (1 hour to 30 days).
    pub fn new(
        primary_region: &str,
        primary_code: &str,
        dr_region: &str,
        dr_code: &str,
        validity_hours: u32,
    ) -> Result<StatusConfig, StatusConfigError> {
        let region = |setting, value: &str| {
            Region::parse(value.trim()).map_err(|error| StatusConfigError {
                setting,
                reason: format!("{value:?} {error}"),
            })
        };
        let code = |setting, value: &str| {
            RegistrationTarget::parse(value.trim()).map_err(|error| StatusConfigError {
                setting,
                reason: format!("{value:?} {error}"),
            })
        };
        let primary = Site {
            region: region("WSDR_PRIMARY_REGION", primary_region)?,
            registration_code: code("WSDR_PRIMARY_REGISTRATION_CODE", primary_code)?,
        };
        let dr = Site {
            region: region("WSDR_DR_REGION", dr_region)?,
            registration_code: code("WSDR_DR_REGISTRATION_CODE", dr_code)?,
        };
        if primary.region == dr.region {
            return Err(StatusConfigError {
                setting: "WSDR_DR_REGION",
                reason: format!(
                    "the DR region equals the primary region {}",
                    primary.region.as_str()
                ),
            });
        }
        if primary.registration_code.as_str().eq_ignore_ascii_case(dr.registration_code.as_str()) {
            return Err(StatusConfigError {
                setting: "WSDR_DR_REGISTRATION_CODE",
                reason: "the DR registration code equals the primary one: users could never switch"
                    .to_owned(),
            });
        }
        if !(1..=720).contains(&validity_hours) {
            return Err(StatusConfigError {
                setting: "WSDR_STATUS_VALIDITY_HOURS",
                reason: format!("{validity_hours} is outside 1..=720 hours"),
            });
        }
        Ok(StatusConfig {
            primary,
            dr,
            validity: SignedDuration::from_hours(i64::from(validity_hours)),
        })
    }

    /// How long a document is valid after `issued_at`.
    pub fn validity(&self) -> SignedDuration {
        self.validity
    }

    /// The primary site.
    pub fn primary(&self) -> &Site {
        &self.primary
    }

    /// The DR site.
    pub fn dr(&self) -> &Site {
        &self.dr
    }

    /// The payload for `change`: its sequence, state, active site, message and cause, this deployment's sites,
    /// `expires_at = issued_at + validity`. An event ARN the protocol refuses is left out (and logged) rather than
    /// holding up the document.
    pub fn payload(&self, change: &StatusChange) -> Result<StatusPayload, String> {
        let message = Message::new(change.message.title(), change.message.body())
            .map_err(|error| format!("the message cannot be published: {error}"))?;
        let event_arn = change.cause.event_arn.as_deref().and_then(|arn| match EventArn::parse(arn) {
            Ok(arn) => Some(arn),
            Err(error) => {
                tracing::warn!(event_arn = arn, %error, "event ARN left out of the status document");
                None
            }
        });
        let expires_at = change
            .issued_at
            .checked_add(self.validity)
            .map_err(|error| format!("issued_at {} + validity: {error}", change.issued_at))?;
        Ok(StatusPayload {
            sequence: change.sequence,
            issued_at: change.issued_at,
            expires_at,
            state: change.state,
            primary: self.primary.clone(),
            dr: self.dr.clone(),
            active: change.active,
            message,
            cause: Cause { source: change.cause.source, event_arn },
        })
    }
}

/// What signs status documents.
#[derive(Debug)]
pub enum StatusSigner {
    /// A local PKCS#8 P-256 key (`wsdr keygen`): the local default and tests.
    Local(LocalSigner),
    /// An AWS KMS `ECC_NIST_P256` key: production (the key never leaves KMS).
    Kms(KmsSigner),
}

impl StatusSigner {
    /// The envelope's `key_id`.
    pub fn key_id(&self) -> &KeyId {
        match self {
            StatusSigner::Local(signer) => signer.key_id(),
            StatusSigner::Kms(signer) => signer.key_id(),
        }
    }

    /// Signs `document`.
    pub async fn sign(&self, document: UnsignedDocument) -> Result<SignedDocument, AwsError> {
        match self {
            StatusSigner::Local(signer) => document.sign_with(signer).map_err(|error| AwsError {
                operation: "local:Sign",
                code: None,
                message: error.to_string(),
                kind: ErrorKind::Rejected,
            }),
            StatusSigner::Kms(signer) => signer.sign(document).await,
        }
    }

    /// The public key trays verify with.
    pub async fn public_key(&self) -> Result<PublicKey, AwsError> {
        match self {
            StatusSigner::Local(signer) => Ok(signer.public_key()),
            StatusSigner::Kms(signer) => signer.public_key().await,
        }
    }
}

/// What the status object holds now, read without verifying it (the publisher only needs its sequence to never
/// go backwards; trays and `wsdr status verify` verify).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrentStatus {
    /// Its entity tag.
    pub etag: ETag,
    /// The sequence its payload claims, if the envelope and payload could be decoded.
    pub sequence: Option<u64>,
    /// Its `expires_at`, if decodable.
    pub expires_at: Option<Timestamp>,
    /// Its `state`, if decodable.
    pub state: Option<String>,
    /// Its bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// What a write of the status object did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum StatusWrite {
    /// The document was written.
    Written {
        /// The new entity tag.
        etag: ETag,
        /// The sequence it replaced, if any.
        replaced: Option<u64>,
    },
    /// The object already holds this sequence with the same payload bytes: nothing to do.
    AlreadyPublished {
        /// Its entity tag.
        etag: ETag,
    },
    /// The object holds a higher sequence (or the same one with another payload): not written, never backwards.
    Superseded {
        /// The sequence it holds.
        current: u64,
    },
}

/// The status object in S3.
#[derive(Clone, Debug)]
pub struct StatusObject {
    store: ObjectStore,
    location: S3Location,
}

impl StatusObject {
    /// The object at `location` (`WSDR_STATE_BUCKET` / `WSDR_STATUS_OBJECT_KEY`).
    pub fn new(store: ObjectStore, location: S3Location) -> StatusObject {
        StatusObject { store, location }
    }

    /// Where it is.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// Reads it, or `None` when there is none.
    pub async fn read(&self) -> Result<Option<CurrentStatus>, AwsError> {
        let Some(object) = read_maybe_absent(&self.store, &self.location).await? else {
            return Ok(None);
        };
        let claimed = peek_payload(&object.bytes);
        Ok(Some(CurrentStatus {
            etag: object.etag,
            sequence: claimed.as_ref().and_then(|p| p["sequence"].as_u64()),
            expires_at: claimed.as_ref().and_then(|p| p["expires_at"].as_str()?.parse().ok()),
            state: claimed.as_ref().and_then(|p| Some(p["state"].as_str()?.to_owned())),
            bytes: object.bytes,
        }))
    }

    /// Writes `document` unless the object already holds `sequence` or a higher one. Conditional on the version
    /// read; a lost race is read again (at most a few times, then [`ErrorKind::PreconditionFailed`]).
    pub async fn write(
        &self,
        document: &SignedDocument,
        sequence: u64,
    ) -> Result<StatusWrite, AwsError> {
        let put =
            Put { cache_control: Some(STATUS_CACHE_CONTROL), ..Put::json(Precondition::None) };
        let bytes = document.to_json_bytes();
        let mut last_error = None;
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.read().await?;
            let (precondition, replaced) = match &current {
                None => (Precondition::Absent, None),
                Some(current) => {
                    if let Some(held) = current.sequence {
                        let same_payload = peek_payload_bytes(&current.bytes).as_deref()
                            == Some(document.payload_bytes());
                        if held == sequence && same_payload {
                            return Ok(StatusWrite::AlreadyPublished {
                                etag: current.etag.clone(),
                            });
                        }
                        if held >= sequence {
                            return Ok(StatusWrite::Superseded { current: held });
                        }
                    } else {
                        tracing::warn!(location = %self.location, "the status object is not a decodable status document; replacing it");
                    }
                    (Precondition::Matches(current.etag.clone()), current.sequence)
                }
            };
            let put = Put { precondition, ..put.clone() };
            match self.store.put(&self.location, bytes.clone(), &put).await {
                Ok(etag) => return Ok(StatusWrite::Written { etag, replaced }),
                Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                    last_error = Some(error)
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or_else(|| AwsError {
            operation: "s3:PutObject",
            code: None,
            message: format!("{}: other writers kept winning", self.location),
            kind: ErrorKind::PreconditionFailed,
        }))
    }
}

/// Reads an object, `None` when there is none. Without `s3:ListBucket` (the functions' roles do not have it) S3
/// answers a missing key with 403 AccessDenied instead of 404: that is read as absent too, which is safe because
/// every write after an absent read is `If-None-Match: *` (it cannot overwrite an object we could not read).
pub(crate) async fn read_maybe_absent(
    store: &ObjectStore,
    location: &S3Location,
) -> Result<Option<crate::s3::Object>, AwsError> {
    match store.get(location).await {
        Ok(object) => Ok(Some(object)),
        Err(error) if error.kind == ErrorKind::NotFound => Ok(None),
        Err(error) if error.code.as_deref() == Some("AccessDenied") => {
            tracing::debug!(%location, "GetObject answered AccessDenied: read as absent (no s3:ListBucket)");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The envelope's payload bytes, decoded but not verified.
fn peek_payload_bytes(document: &[u8]) -> Option<Vec<u8>> {
    let envelope: serde_json::Value = serde_json::from_slice(document).ok()?;
    base64_decode(envelope.get("payload")?.as_str()?)
}

/// The envelope's payload as JSON, decoded but not verified.
fn peek_payload(document: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(&peek_payload_bytes(document)?).ok()
}

/// Standard padded base64 (RFC 4648 §4), as the envelope uses; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, chunk) in bytes.chunks_exact(4).enumerate() {
        let last = index + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0_u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use wsdr_core::failover::{Cause as CoreCause, DrState};
    use wsdr_protocol::{CauseSource, KeyRing, SiteRole, State, verify};

    use super::*;

    fn config() -> StatusConfig {
        StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-west-2", "WSpdx+ABC12D", 24).unwrap()
    }

    #[test]
    fn configuration_is_validated_and_names_the_setting() {
        let err = |r: Result<StatusConfig, StatusConfigError>| r.unwrap_err().to_string();
        assert!(
            err(StatusConfig::new("nowhere", "SLiad+ABCDEF", "us-west-2", "WSpdx+ABC12D", 24))
                .starts_with("WSDR_PRIMARY_REGION")
        );
        assert!(
            err(StatusConfig::new("us-east-1", "not a code", "us-west-2", "WSpdx+ABC12D", 24))
                .starts_with("WSDR_PRIMARY_REGISTRATION_CODE")
        );
        assert!(
            err(StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-west-2", "sliad+abcdef ", 24))
                .starts_with("WSDR_DR_REGISTRATION_CODE")
        );
        assert!(
            err(StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-east-1", "WSpdx+ABC12D", 24))
                .starts_with("WSDR_DR_REGION")
        );
        assert!(
            err(StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-west-2", "WSpdx+ABC12D", 0))
                .starts_with("WSDR_STATUS_VALIDITY_HOURS")
        );
        let alias =
            StatusConfig::new("us-east-1", "desktops.example.com", "us-west-2", "WSpdx+ABC12D", 1);
        assert!(alias.is_ok());
    }

    #[test]
    fn payloads_are_a_pure_function_of_the_change_and_verify() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let (_, change) = DrState::new(4).renew(now).unwrap();
        let config = config();
        let payload = config.payload(&change).unwrap();
        assert_eq!(payload, config.payload(&change).unwrap());
        assert_eq!(
            (payload.sequence, payload.state, payload.active),
            (5, State::Normal, SiteRole::Primary)
        );
        assert_eq!(payload.expires_at, "2026-03-02T10:00:00Z".parse().unwrap());
        assert_eq!(payload.dr.registration_code.as_str(), "WSpdx+ABC12D");

        let signer = LocalSigner::from_secret_bytes(KeyId::parse("k1").unwrap(), &[9; 32]).unwrap();
        let mut keys = KeyRing::new();
        keys.insert(KeyId::parse("k1").unwrap(), signer.public_key()).unwrap();
        let document = UnsignedDocument::new(&payload).unwrap().sign_with(&signer).unwrap();
        let bytes = document.to_json_bytes();
        assert!(verify(&bytes, &keys, None, now).is_ok());
        assert_eq!(peek_payload(&bytes).unwrap()["sequence"], 5);
        assert_eq!(peek_payload_bytes(&bytes).unwrap(), document.payload_bytes());
    }

    #[test]
    fn a_bad_event_arn_is_left_out_not_fatal() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let (_, mut change) = DrState::new(0).renew(now).unwrap();
        change.cause =
            CoreCause { source: CauseSource::AwsHealth, event_arn: Some("bad arn\n".to_owned()) };
        let payload = config().payload(&change).unwrap();
        assert_eq!(payload.cause.event_arn, None);
        assert_eq!(payload.cause.source, CauseSource::AwsHealth);
    }

    #[test]
    fn base64_decodes_the_standard_alphabet_only() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode("").unwrap(), b"");
        for bad in ["aGk", "a===", "aG=k", "aGk=aGk=", "aG-k", "aG_k"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
        assert_eq!(peek_payload(b"not json"), None);
        assert_eq!(peek_payload(br#"{"payload":"!!"}"#), None);
    }
}
