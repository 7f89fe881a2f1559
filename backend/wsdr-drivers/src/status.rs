//! The signed status document: from the state machine's [`StatusChange`] to a signed envelope in the object store.
//!
//! - [`StatusConfig`]: the deployment's two sites (regions and registration codes, validated with `wsdr-protocol`)
//!   and how long a document is valid. [`StatusConfig::payload`] is a pure function of the change, so publishing
//!   the same change twice gives the same payload bytes (the tray sees it as unchanged, not as a reused sequence).
//! - [`StatusObject`]: the object trays poll (`status/status.json`). What it holds is trusted only when it verifies
//!   with the deployment's key ([`StatusObject::read`]): a stray or forged object is [`Published::Unverifiable`],
//!   and nothing in it (its sequence least of all) decides anything. It is written with `Cache-Control:
//!   `[`STATUS_CACHE_CONTROL`] and only by conditional writes: never a sequence lower than or equal to the one a
//!   verified document holds, `If-Match` its entity tag (`If-None-Match: *` when absent), re-read on a lost race.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use wsdr_core::failover::{Published, StatusChange};
use wsdr_protocol::{
    HighestSeen, KeyRing, Region, RegistrationTarget, Rejection, SignedDocument, Site,
    StatusPayload, verify,
};

use crate::error::{AwsError, ErrorKind};
use crate::object::{ETag, Object, Put, S3Location};
use crate::ports::{DocumentSigner, ObjectStore, precondition_after};

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
    /// `expires_at = issued_at + validity`. The change's message and cause are the protocol's own types, so the
    /// only way this fails is a timestamp past the calendar's end.
    pub fn payload(&self, change: &StatusChange) -> Result<StatusPayload, String> {
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
            message: change.message.clone(),
            cause: change.cause.clone(),
        })
    }
}

/// What the status object holds now, judged with the deployment's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentStatus {
    /// Its entity tag (`None`: there is no object).
    pub etag: Option<ETag>,
    /// What it is worth: absent, unverifiable, or a verified sequence and expiry.
    pub published: Published,
    /// The verified document as a tray would remember it: the next document must beat it.
    pub seen: Option<HighestSeen>,
    /// Its `state`, when verified.
    pub state: Option<String>,
}

impl CurrentStatus {
    /// The verified sequence, if any.
    pub fn sequence(&self) -> Option<u64> {
        match self.published {
            Published::Verified { sequence, .. } => Some(sequence),
            Published::Absent | Published::Unverifiable { .. } => None,
        }
    }
}

/// Judges stored bytes with `keys`. An authentic document that has expired is still verified (its sequence is
/// ours): it is checked again at the last instant it was valid.
pub fn judge(object: Option<&Object>, keys: &KeyRing, now: Timestamp) -> CurrentStatus {
    let Some(object) = object else {
        return CurrentStatus { etag: None, published: Published::Absent, seen: None, state: None };
    };
    let verified = match verify(&object.bytes, keys, None, now) {
        Err(Rejection::Expired { expires_at, .. }) => {
            let last_valid =
                expires_at.checked_sub(SignedDuration::from_secs(1)).unwrap_or(expires_at);
            verify(&object.bytes, keys, None, last_valid)
        }
        other => other,
    };
    match verified {
        Ok(verified) => CurrentStatus {
            etag: Some(object.etag.clone()),
            published: Published::Verified {
                sequence: verified.payload().sequence,
                expires_at: verified.payload().expires_at,
            },
            seen: Some(verified.highest_seen()),
            state: Some(verified.payload().state.as_str().to_owned()),
        },
        Err(rejection) => CurrentStatus {
            etag: Some(object.etag.clone()),
            published: Published::Unverifiable { reason: rejection.to_string() },
            seen: None,
            state: None,
        },
    }
}

/// What a write of the status object did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum StatusWrite {
    /// The document was written.
    Written {
        /// The new entity tag.
        etag: ETag,
        /// The verified sequence it replaced, if any.
        replaced: Option<u64>,
        /// Whether it replaced an object that did not verify.
        replaced_unverifiable: bool,
    },
    /// The object already holds this sequence with the same payload bytes: nothing to do.
    AlreadyPublished {
        /// Its entity tag.
        etag: ETag,
    },
    /// The object holds a verified higher sequence (or the same one with another payload): not written.
    Superseded {
        /// The sequence it holds.
        current: u64,
    },
}

/// The status object.
#[derive(Clone, Debug)]
pub struct StatusObject<S> {
    store: S,
    location: S3Location,
}

impl<S: ObjectStore> StatusObject<S> {
    /// The object at `location` (`WSDR_STATE_BUCKET` / `WSDR_STATUS_OBJECT_KEY`).
    pub fn new(store: S, location: S3Location) -> StatusObject<S> {
        StatusObject { store, location }
    }

    /// Where it is.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// The store it lives in.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Reads it and judges it with `keys`.
    pub async fn read(&self, keys: &KeyRing, now: Timestamp) -> Result<CurrentStatus, AwsError> {
        let object = self.store.read(&self.location).await?;
        Ok(judge(object.as_ref(), keys, now))
    }

    /// Writes `document` unless a verified document with `sequence` or a higher one is there. Conditional on the
    /// version read; a lost race is read again (at most a few times, then [`ErrorKind::PreconditionFailed`]).
    pub async fn write(
        &self,
        document: &SignedDocument,
        sequence: u64,
        keys: &KeyRing,
        now: Timestamp,
    ) -> Result<StatusWrite, AwsError> {
        let bytes = document.to_json_bytes();
        let mut last_error = None;
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.read(keys, now).await?;
            // The document is judged against what the object holds exactly as a tray judges it.
            match verify(&bytes, keys, current.seen.as_ref(), now) {
                Ok(_) => {}
                Err(Rejection::Unchanged { .. }) => {
                    if let Some(etag) = current.etag {
                        return Ok(StatusWrite::AlreadyPublished { etag });
                    }
                }
                Err(Rejection::Replay { highest_seen, .. }) => {
                    return Ok(StatusWrite::Superseded { current: highest_seen });
                }
                Err(Rejection::SequenceReused { sequence }) => {
                    return Ok(StatusWrite::Superseded { current: sequence });
                }
                Err(rejection) => {
                    return Err(AwsError::rejected(
                        "s3:PutObject",
                        format!(
                            "the new status document #{sequence} would be refused by trays: {rejection}"
                        ),
                    ));
                }
            }
            let replaced_unverifiable = matches!(current.published, Published::Unverifiable { .. });
            if let Published::Unverifiable { reason } = &current.published {
                tracing::warn!(location = %self.location, reason, "replacing a status object that does not verify");
            }
            let put = Put {
                content_type: "application/json",
                cache_control: Some(STATUS_CACHE_CONTROL),
                precondition: precondition_after(current.etag.as_ref())?,
            };
            match self.store.write(&self.location, bytes.clone(), &put).await {
                Ok(etag) => {
                    return Ok(StatusWrite::Written {
                        etag,
                        replaced: current.sequence(),
                        replaced_unverifiable,
                    });
                }
                Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                    last_error = Some(error)
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            AwsError::new(
                "s3:PutObject",
                ErrorKind::PreconditionFailed,
                format!("{}: other writers kept winning", self.location),
            )
        }))
    }
}

/// The key ring a publisher judges the status object with: the signer's own public key.
pub async fn signer_key_ring(signer: &impl DocumentSigner) -> Result<KeyRing, AwsError> {
    let key = signer.public_key().await?;
    let mut keys = KeyRing::new();
    keys.insert(signer.key_id().clone(), key).map_err(|error| {
        AwsError::rejected("kms:GetPublicKey", format!("the signer's public key: {error}"))
    })?;
    Ok(keys)
}
