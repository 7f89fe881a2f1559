//! The reconcile state object in S3: the run lock and the grace period's memory, in one JSON object per
//! directory (`<state prefix>reconcile/<directory id>.json`), changed only by conditional writes.
//!
//! - **Lock**: a run takes a lease (`If-None-Match: *` for the first run, `If-Match: <etag it read>` after), renews
//!   it while it works and clears it when done. A crashed run cannot hold it forever: a lease past its
//!   `expires_at` is free to take. Of two concurrent runs (S3 events are delivered at least once), exactly one
//!   wins the conditional write; the other sees [`Acquired::Busy`] and does nothing.
//! - **Missing since**: when each owned WorkSpace's user was first seen missing from the list, so the grace
//!   period spans runs.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use wsdr_core::plan::MissingSince;
use wsdr_core::username::UserKey;

use crate::error::{AwsError, ErrorKind};
use crate::s3::{ETag, Precondition, Put, S3Location, S3Store};

/// The state object's format version.
const VERSION: u32 = 1;

/// Attempts at taking the lease when other writers keep winning the race.
const ACQUIRE_ATTEMPTS: usize = 3;

/// What the state object holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileState {
    /// Format version.
    pub version: u32,
    /// The run that holds the lock, if any.
    pub lease: Option<Lease>,
    /// Users (by comparison key) missing from the list since when, for WorkSpaces wsdr owns.
    #[serde(default)]
    pub missing_since: BTreeMap<String, Timestamp>,
    /// The last run that finished.
    pub last_run: Option<LastRun>,
}

/// A run's hold on the lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The holder.
    pub run_id: String,
    /// Taken at.
    pub acquired_at: Timestamp,
    /// Free to take after.
    pub expires_at: Timestamp,
}

/// A summary of the last finished run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// Its id.
    pub run_id: String,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Its outcome (`completed`, `blocked`, …).
    pub outcome: String,
}

/// The lease, held: the state as this run last wrote it and the entity tag that proves it.
#[derive(Debug)]
pub struct Held {
    run_id: String,
    etag: ETag,
    state: ReconcileState,
}

/// What taking the lock gave.
#[derive(Debug)]
pub enum Acquired {
    /// This run holds the lock.
    Held(Held),
    /// Another run holds an unexpired lease.
    Busy(Lease),
}

/// The state object of one directory.
#[derive(Clone, Debug)]
pub struct StateStore {
    store: S3Store,
    location: S3Location,
}

impl StateStore {
    /// The state object at `location`.
    pub fn new(store: S3Store, location: S3Location) -> StateStore {
        StateStore { store, location }
    }

    /// Where it lives.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// Reads the state without taking the lock (dry runs); an absent object is the empty state.
    pub async fn peek(&self) -> Result<ReconcileState, AwsError> {
        match self.store.get_if_exists(&self.location).await? {
            None => Ok(ReconcileState::default()),
            Some(object) => self.decode(&object.bytes),
        }
    }

    /// Takes the lock for `run_id` until `now + ttl`, unless another run holds an unexpired lease.
    pub async fn acquire(
        &self,
        run_id: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<Acquired, AwsError> {
        for _ in 0..ACQUIRE_ATTEMPTS {
            let (state, precondition) = match self.store.get_if_exists(&self.location).await? {
                None => (ReconcileState::default(), Precondition::Absent),
                Some(object) => (self.decode(&object.bytes)?, Precondition::Matches(object.etag)),
            };
            if let Some(lease) = state.lease.as_ref().filter(|lease| lease.expires_at > now) {
                return Ok(Acquired::Busy(lease.clone()));
            }
            let state = ReconcileState {
                version: VERSION,
                lease: Some(Lease {
                    run_id: run_id.to_owned(),
                    acquired_at: now,
                    expires_at: now + ttl,
                }),
                ..state
            };
            match self.write(&state, precondition).await {
                Ok(etag) => {
                    return Ok(Acquired::Held(Held { run_id: run_id.to_owned(), etag, state }));
                }
                // Someone wrote in between: read again; if it was a run taking the lease, it is busy.
                Err(error) if error.kind == ErrorKind::PreconditionFailed => continue,
                Err(error) => return Err(error),
            }
        }
        Err(AwsError {
            operation: "s3:PutObject",
            code: None,
            message: format!(
                "gave up taking the lock on {} after {ACQUIRE_ATTEMPTS} conflicting writes",
                self.location
            ),
            kind: ErrorKind::Transient,
        })
    }

    /// Extends the lease to `now + ttl`.
    pub async fn renew(
        &self,
        held: &mut Held,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<(), AwsError> {
        let mut state = held.state.clone();
        if let Some(lease) = state.lease.as_mut() {
            lease.expires_at = now + ttl;
        }
        self.replace(held, state).await
    }

    /// Saves the run's results and clears the lease.
    pub async fn release(
        &self,
        mut held: Held,
        missing_since: &MissingSince,
        last_run: LastRun,
    ) -> Result<(), AwsError> {
        let state = ReconcileState {
            version: VERSION,
            lease: None,
            missing_since: missing_since
                .iter()
                .map(|(key, time)| (key.as_str().to_owned(), *time))
                .collect(),
            last_run: Some(last_run),
        };
        self.replace(&mut held, state).await
    }

    async fn replace(&self, held: &mut Held, state: ReconcileState) -> Result<(), AwsError> {
        let etag = self.write(&state, Precondition::Matches(held.etag.clone())).await.map_err(|error| {
            if error.kind == ErrorKind::PreconditionFailed {
                AwsError {
                    message: format!(
                        "run {} lost its lease on {}: another run took it (was this run paused past its lease?)",
                        held.run_id, self.location
                    ),
                    ..error
                }
            } else {
                error
            }
        })?;
        held.etag = etag;
        held.state = state;
        Ok(())
    }

    async fn write(
        &self,
        state: &ReconcileState,
        precondition: Precondition,
    ) -> Result<ETag, AwsError> {
        let bytes = serde_json::to_vec_pretty(state)
            .map_err(|error| AwsError::rejected("s3:PutObject", error.to_string()))?;
        self.store.put(&self.location, bytes, &Put::json(precondition)).await
    }

    fn decode(&self, bytes: &[u8]) -> Result<ReconcileState, AwsError> {
        decode_state(bytes).map_err(|reason| AwsError {
            operation: "s3:GetObject",
            code: None,
            message: format!(
                "the reconcile state {} {reason}; fix or delete it (deleting restarts grace periods)",
                self.location
            ),
            kind: ErrorKind::Rejected,
        })
    }
}

/// Reads a stored state, refusing another format version: a newer wsdr's state read by an older one (or the
/// reverse) could lose grace periods or a lease.
fn decode_state(bytes: &[u8]) -> Result<ReconcileState, String> {
    let state: ReconcileState =
        serde_json::from_slice(bytes).map_err(|error| format!("is not valid ({error})"))?;
    if state.version != VERSION {
        return Err(format!("has format version {}, this wsdr reads {VERSION}", state.version));
    }
    Ok(state)
}

impl Held {
    /// The state as read when the lease was taken.
    pub fn state(&self) -> &ReconcileState {
        &self.state
    }
}

impl ReconcileState {
    /// The grace period's memory as the planner takes it. Keys that no longer parse are dropped (their users'
    /// grace period restarts — the safe direction).
    pub fn missing_since(&self) -> MissingSince {
        self.missing_since
            .iter()
            .filter_map(|(key, time)| Some((UserKey::new(key).ok()?, *time)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_format_version_is_refused_not_misread() {
        let current =
            serde_json::to_vec(&ReconcileState { version: VERSION, ..ReconcileState::default() })
                .unwrap();
        assert!(decode_state(&current).is_ok());
        let newer = serde_json::to_vec(&ReconcileState {
            version: VERSION + 1,
            ..ReconcileState::default()
        })
        .unwrap();
        assert!(decode_state(&newer).unwrap_err().contains("format version 2"));
        assert!(decode_state(b"[]").unwrap_err().contains("not valid"));
    }
}
