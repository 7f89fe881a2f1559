//! The persisted failover record and the decisions around it: which admins' alerts are due, what the status
//! object needs, and what an unreadable record means for reconciliation.
//!
//! The record is [`DrState`] plus the admins' alerts of committed transitions not yet delivered. Each alert is
//! delivered at least once and independently of the status document: it leaves the record only after SNS accepted
//! it. The status document needs no entry of its own: the state's last status is what the object must hold, and
//! every invocation can compare the two ([`status_action`]).
//!
//! Delivery is claimed, so that concurrent invocations rarely deliver one alert twice: the committing invocation
//! holds the claim of its own alert; an alert whose delivery failed is released at once; a claim older than
//! [`STALE_CLAIM`] belongs to an invocation that died, and any invocation may take it over.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{DrState, StatusChange};
use crate::alert::AdminAlert;

/// The record's format version. Version 1 records (without `claimed_at`) read as version 1: an entry without a
/// claim is due at once.
pub const RECORD_FORMAT: u32 = 1;

/// A claim older than this belongs to an invocation that died: its alert is due again.
pub const STALE_CLAIM: SignedDuration = SignedDuration::from_secs(90);

/// Re-sign the status document when it expires within this share of its validity (a half: every 12 h for 24 h).
pub const RENEW_WHEN_LEFT: f64 = 0.5;

/// What is persisted in `<state prefix>failover/state.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The state machine's state.
    pub state: DrState,
    /// Admins' alerts of committed transitions not yet delivered, oldest first.
    #[serde(default)]
    pub pending: Vec<PendingAlert>,
}

/// The admins' alert of one committed transition, until SNS accepted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAlert {
    /// The transition's sequence.
    pub sequence: u64,
    /// When the transition was committed.
    pub committed_at: Timestamp,
    /// When an invocation last claimed its delivery; `None`: nobody is delivering it, it is due.
    #[serde(default)]
    pub claimed_at: Option<Timestamp>,
    /// The alert to publish.
    pub alert: AdminAlert,
}

/// Why a stored record cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not JSON of the record's shape (or an invalid state inside).
    #[error("not a failover record: {0}")]
    Shape(String),
    /// Another format version.
    #[error("format {found} is not {RECORD_FORMAT}")]
    Format {
        /// The version found.
        found: u32,
    },
}

impl FailoverRecord {
    /// A record with `state` and nothing pending.
    pub fn new(state: DrState) -> FailoverRecord {
        FailoverRecord { format: RECORD_FORMAT, state, pending: Vec::new() }
    }

    /// Reads a stored record, checking its format version.
    pub fn from_json(bytes: &[u8]) -> Result<FailoverRecord, RecordError> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version =
            serde_json::from_slice(bytes).map_err(|error| RecordError::Shape(error.to_string()))?;
        if version.format != RECORD_FORMAT {
            return Err(RecordError::Format { found: version.format });
        }
        serde_json::from_slice(bytes).map_err(|error| RecordError::Shape(error.to_string()))
    }

    /// The record as stored.
    pub fn to_json(&self) -> Vec<u8> {
        // A record is strings, numbers and maps with string keys: serialising it cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Adds the alert of the transition just committed, claimed by the committing invocation.
    pub fn push_committed(&mut self, sequence: u64, alert: AdminAlert, now: Timestamp) {
        self.pending.push(PendingAlert {
            sequence,
            committed_at: now,
            claimed_at: Some(now),
            alert,
        });
    }

    /// Claims every alert that is due (unclaimed, or claimed longer than [`STALE_CLAIM`] ago) except `own`, and
    /// returns them: the caller commits the record, then delivers them.
    pub fn claim_due(&mut self, now: Timestamp, own: Option<u64>) -> Vec<PendingAlert> {
        let mut claimed = Vec::new();
        for pending in &mut self.pending {
            let due = match pending.claimed_at {
                None => true,
                Some(at) => now.duration_since(at) > STALE_CLAIM,
            };
            if due && Some(pending.sequence) != own {
                pending.claimed_at = Some(now);
                claimed.push(pending.clone());
            }
        }
        claimed
    }

    /// SNS accepted the alert of `sequence`: it leaves the record. Answers whether it was there.
    pub fn delivered(&mut self, sequence: u64) -> bool {
        let before = self.pending.len();
        self.pending.retain(|pending| pending.sequence != sequence);
        self.pending.len() != before
    }

    /// The delivery of `sequence` failed: the claim is dropped so that the next invocation delivers it at once.
    /// Answers whether anything changed.
    pub fn released(&mut self, sequence: u64) -> bool {
        let mut changed = false;
        for pending in self.pending.iter_mut().filter(|p| p.sequence == sequence) {
            changed |= pending.claimed_at.take().is_some();
        }
        changed
    }
}

/// What the status object holds, as the publisher sees it: only a document that verified with the deployment's
/// keys is [`Published::Verified`]; anything else is not trusted at all, its sequence least of all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// There is no status object.
    Absent,
    /// An object that does not verify (forged, corrupt, signed by an unknown key): it is replaced.
    Unverifiable {
        /// Why it was refused, for the admins' alert.
        reason: String,
    },
    /// A document that verified.
    Verified {
        /// Its sequence.
        sequence: u64,
        /// Its expiry.
        expires_at: Timestamp,
    },
}

/// What the status object needs now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusAction {
    /// It holds the state's last status and is valid long enough.
    Current,
    /// It lags behind the state (a publish failed or was never carried out): publish this change again.
    Republish(StatusChange),
    /// It is missing, unverifiable, or expires soon: re-issue the current status with the next sequence.
    Renew,
}

/// Decides what the status object needs, given the record's state, what the object holds, the documents'
/// validity and `now`. A lagging document is republished before anything else; a missing or untrusted one, or
/// one that expires within [`RENEW_WHEN_LEFT`] of `validity`, is renewed.
pub fn status_action(
    state: &DrState,
    published: &Published,
    validity: SignedDuration,
    now: Timestamp,
) -> StatusAction {
    match published {
        Published::Absent | Published::Unverifiable { .. } => StatusAction::Renew,
        Published::Verified { sequence, expires_at } => {
            if let Some(last) = state.last_status()
                && *sequence < last.sequence
            {
                return StatusAction::Republish(last.clone());
            }
            if now.duration_until(*expires_at) <= validity.mul_f64(RENEW_WHEN_LEFT) {
                StatusAction::Renew
            } else {
                StatusAction::Current
            }
        }
    }
}

/// The failover record as read by reconciliation: bytes, nothing, or a read that failed.
#[derive(Clone, Copy, Debug)]
pub enum RecordRead<'a> {
    /// No record is stored: no failover was ever committed.
    Absent,
    /// The stored bytes.
    Stored(&'a [u8]),
}

/// Why reconciliation must not terminate now, or `None`. An unreadable record reads as "DR may be in use": the
/// safe answer when terminating would destroy the volume a user is working on.
pub fn terminations_withheld(record: RecordRead<'_>, location: &str) -> Option<String> {
    match record {
        RecordRead::Absent => None,
        RecordRead::Stored(bytes) => match FailoverRecord::from_json(bytes) {
            Ok(record) if record.state.dr_in_use() => Some(format!(
                "DR is in use ({}, users on the {} site; see {location}): terminations wait for failback",
                record.state.mode().as_str(),
                record.state.active().as_str()
            )),
            Ok(_) => None,
            Err(error) => Some(format!(
                "the failover record {location} is unreadable ({error}): terminations wait"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).unwrap()
    }

    fn record_with(entries: &[(u64, Option<i64>)]) -> FailoverRecord {
        let mut record = FailoverRecord::new(DrState::new(9));
        for &(sequence, claimed) in entries {
            record.pending.push(PendingAlert {
                sequence,
                committed_at: at(0),
                claimed_at: claimed.map(at),
                alert: AdminAlert::new("s", "t"),
            });
        }
        record
    }

    #[test]
    fn due_alerts_are_the_unclaimed_and_the_stale_but_never_our_own() {
        let mut record = record_with(&[(1, None), (2, Some(100)), (3, Some(0)), (4, None)]);
        let now = at(100 + STALE_CLAIM.as_secs() - 1);
        let claimed = record.claim_due(now, Some(4));
        assert_eq!(claimed.iter().map(|p| p.sequence).collect::<Vec<_>>(), [1, 3]);
        // Claimed entries stay in the record until delivered: a crash now loses nothing.
        assert_eq!(record.pending.len(), 4);
        assert!(record.pending.iter().filter(|p| p.sequence != 4).all(|p| p.claimed_at.is_some()));
        assert!(record.claim_due(now, None).iter().map(|p| p.sequence).eq([4]));
    }

    #[test]
    fn a_failed_delivery_is_due_again_at_once_and_a_delivered_one_leaves() {
        let mut record = record_with(&[(1, Some(50)), (2, Some(50))]);
        assert!(record.released(1));
        assert!(!record.released(1));
        assert!(record.delivered(2));
        assert!(!record.delivered(2));
        let claimed = record.claim_due(at(51), None);
        assert_eq!(claimed.iter().map(|p| p.sequence).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn records_round_trip_and_refuse_other_formats() {
        let record = record_with(&[(3, Some(1))]);
        assert_eq!(FailoverRecord::from_json(&record.to_json()).unwrap(), record);
        let mut other: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
        other["format"] = 2.into();
        let bytes = serde_json::to_vec(&other).unwrap();
        assert_eq!(FailoverRecord::from_json(&bytes), Err(RecordError::Format { found: 2 }));
        assert!(matches!(FailoverRecord::from_json(b"[]"), Err(RecordError::Shape(_))));
        // A version-1 entry written before claims existed is due at once.
        let mut legacy: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
        legacy["pending"][0].as_object_mut().unwrap().remove("claimed_at");
        let mut legacy = FailoverRecord::from_json(&serde_json::to_vec(&legacy).unwrap()).unwrap();
        assert_eq!(legacy.claim_due(at(2), None).len(), 1);
    }

    #[test]
    fn the_status_object_is_renewed_when_missing_untrusted_or_expiring_and_republished_when_behind()
    {
        let validity = SignedDuration::from_hours(24);
        let now = at(0);
        let (state, change) = DrState::new(4).renew(now).unwrap();
        let verified = |sequence, hours_left: i64| Published::Verified {
            sequence,
            expires_at: now.checked_add(SignedDuration::from_hours(hours_left)).unwrap(),
        };
        assert_eq!(status_action(&state, &Published::Absent, validity, now), StatusAction::Renew);
        let forged = Published::Unverifiable { reason: "unknown key".to_owned() };
        assert_eq!(status_action(&state, &forged, validity, now), StatusAction::Renew);
        assert_eq!(
            status_action(&state, &verified(4, 20), validity, now),
            StatusAction::Republish(change)
        );
        assert_eq!(status_action(&state, &verified(5, 20), validity, now), StatusAction::Current);
        assert_eq!(status_action(&state, &verified(5, 12), validity, now), StatusAction::Renew);
        // A fresh deployment (no status yet) with a verified document continues it.
        assert_eq!(
            status_action(&DrState::new(7), &verified(7, 20), validity, now),
            StatusAction::Current
        );
    }

    #[test]
    fn reconciliation_withholds_terminations_while_users_may_be_on_dr() {
        let location = "s3://state/failover/state.json";
        assert_eq!(terminations_withheld(RecordRead::Absent, location), None);
        let normal = FailoverRecord::new(DrState::new(0)).to_json();
        assert_eq!(terminations_withheld(RecordRead::Stored(&normal), location), None);
        let unreadable = terminations_withheld(RecordRead::Stored(b"{\"format\":1}"), location);
        assert!(unreadable.unwrap().contains("unreadable"));
        let newer = terminations_withheld(RecordRead::Stored(b"{\"format\":7}"), location);
        assert!(newer.unwrap().contains("format 7"));
    }
}
