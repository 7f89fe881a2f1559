//! The failover driver: runs `wsdr_core::failover`'s state machine against the object store, the admins' topic
//! and the status document. The health function, the publish function and the admin CLI all go through
//! [`FailoverDriver`].
//!
//! # Layout (state bucket)
//!
//! - `<state prefix>failover/state.json` ([`FailoverRecord`]): the [`DrState`] and the admins' alerts of committed
//!   transitions not yet delivered.
//! - `status/status.json` (configurable): the signed status document trays poll (see [`crate::status`]).
//!
//! # One step
//!
//! 1. Read the record and its entity tag (none yet: a fresh [`DrState`] that continues the sequence of the status
//!    document already published, if that document verifies with the deployment's key).
//! 2. Step the pure state machine. A refusal changes nothing. Everything that can refuse the input refuses it
//!    here, before the commit: the new status document is built (not yet signed) from the step's change.
//! 3. Commit: write the record `If-Match` the tag read (`If-None-Match: *` when there was none), with the
//!    transition's alert in [`FailoverRecord::pending`], claimed by this invocation, and any other alert that is
//!    due claimed too. On a lost race go back to 1, at most [`COMMIT_ATTEMPTS`] times.
//! 4. Carry out, each effect independently of the others: the admins' alerts first (they never wait on the
//!    signer), then the status document (the state's newest status; never over a verified higher sequence).
//! 5. Settle: delivered alerts leave the record, failed ones are released so that the next invocation delivers
//!    them at once. If any effect failed, the call fails with [`FailoverError::Incomplete`]: the transition is
//!    committed, and every later invocation (a Lambda retry, the publish function's refresh, the next event) carries
//!    out what is left.
//!
//! A process that dies between 3 and 5 leaves its alert claimed; the claim goes stale after
//! [`STALE_CLAIM`](wsdr_core::failover::STALE_CLAIM) and any later invocation delivers it (at least once).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use wsdr_core::alert::AdminAlert;
use wsdr_core::failover::{
    AdminCommand, DrState, FailoverPolicy, FailoverRecord, Input, Message, Mode, Outcome,
    PendingAlert, Published, Refusal, StatusAction, StatusChange, status_action,
};
use wsdr_core::health::{MalformedEvent, Region, classify_value};
use wsdr_protocol::{KeyRing, UnsignedDocument};

use crate::error::{AwsError, ErrorKind};
use crate::object::{ETag, Put, S3Location};
use crate::ports::{AdminsTopic, DocumentSigner, ObjectStore, Pause, precondition_after};
use crate::status::{CurrentStatus, StatusConfig, StatusObject, StatusWrite, signer_key_ring};

/// Attempts at committing a step when other writers keep winning the race (with a jittered, growing pause).
pub const COMMIT_ATTEMPTS: usize = 10;

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
    /// Reads the configuration contract (`docs/contracts.md`, "Function environment") through `lookup` (the
    /// environment, for the functions; flags falling back to it, for the CLI): `WSDR_STATE_BUCKET`,
    /// `WSDR_STATE_PREFIX` (default `state/`), `WSDR_STATUS_OBJECT_KEY` (default `status/status.json`),
    /// `WSDR_ALERTS_TOPIC_ARN`, `WSDR_PRIMARY_REGION`, `WSDR_DR_REGION` (default `AWS_REGION`),
    /// `WSDR_PRIMARY_REGISTRATION_CODE`, `WSDR_DR_REGISTRATION_CODE`, `WSDR_STATUS_VALIDITY_HOURS` (default 24),
    /// `WSDR_STATUS_URL` (optional), `WSDR_AUTO_FAILOVER` (`true`/`false`, default `false`). Empty means unset.
    /// The error names every bad or missing variable.
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
            Region::parse(value).map_err(|error| format!("{name}: {value:?} {error}"))
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
    /// The persisted record cannot be read; nothing changed.
    #[error("{location}: {reason}")]
    BadRecord {
        /// The record's location.
        location: S3Location,
        /// What is wrong.
        reason: String,
    },
    /// The status document could not be built; nothing changed.
    #[error("status document: {0}")]
    Status(String),
    /// A call failed before anything was committed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The step is committed, but some of its effects (or older ones) were not carried out. They are kept in the
    /// record (alerts) or follow from the state (the status document): any later invocation carries them out.
    #[error("committed, but not every effect was carried out ({}); a later invocation retries them", summary(.failures))]
    Incomplete {
        /// What was done.
        report: Box<Report>,
        /// What failed.
        failures: Vec<AwsError>,
    },
}

fn summary(failures: &[AwsError]) -> String {
    failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
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
    /// The admin alert of this call's transition, if any.
    pub alert: Option<AdminAlert>,
    /// Its SNS message id, once delivered.
    pub sns_message_id: Option<String>,
    /// The status document published by this call, if any.
    pub status: Option<PublishedStatus>,
    /// Commit attempts (more than one: another writer won a race).
    pub attempts: usize,
    /// Older alerts this call delivered (sequences).
    pub caught_up: Vec<u64>,
}

impl Report {
    fn new(outcome: &'static str, state: &DrState, attempts: usize) -> Report {
        Report {
            outcome,
            reason: None,
            previous_mode: state.mode(),
            mode: state.mode(),
            last_sequence: state.last_sequence(),
            alert: None,
            sns_message_id: None,
            status: None,
            attempts,
            caught_up: Vec::new(),
        }
    }
}

/// The record as read.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The record (fresh when none is stored).
    pub record: FailoverRecord,
    /// Its entity tag, `None` when none is stored.
    pub etag: Option<ETag>,
}

/// What a commit hands to the carrying-out: the alerts to deliver and whether the status document is due.
struct Work {
    own: Option<PendingAlert>,
    claimed: Vec<PendingAlert>,
    status: Option<StatusChange>,
    /// The own alert already says that an unverifiable status object is being replaced.
    forgery_alerted: bool,
}

/// Runs the failover state machine through the ports.
#[derive(Debug)]
pub struct FailoverDriver<S, T, G, P> {
    store: S,
    record_location: S3Location,
    status: StatusObject<S>,
    signer: G,
    topic: T,
    pause: P,
    config: FailoverConfig,
}

impl<S, T, G, P> FailoverDriver<S, T, G, P>
where
    S: ObjectStore + Clone,
    T: AdminsTopic,
    G: DocumentSigner,
    P: Pause,
{
    /// A driver on these ports.
    pub fn new(store: S, topic: T, signer: G, pause: P, config: FailoverConfig) -> Self {
        let record_location = S3Location::new(&config.bucket, record_key(&config.state_prefix));
        let status =
            StatusObject::new(store.clone(), S3Location::new(&config.bucket, &config.status_key));
        FailoverDriver { store, record_location, status, signer, topic, pause, config }
    }

    /// Where the record lives.
    pub fn record_location(&self) -> &S3Location {
        &self.record_location
    }

    /// The status object.
    pub fn status_object(&self) -> &StatusObject<S> {
        &self.status
    }

    /// The signer.
    pub fn signer(&self) -> &G {
        &self.signer
    }

    /// The configuration.
    pub fn config(&self) -> &FailoverConfig {
        &self.config
    }

    /// The keys the status object is judged with: the signer's own.
    pub async fn keys(&self) -> Result<KeyRing, AwsError> {
        signer_key_ring(&self.signer).await
    }

    /// Reads the record; without one, a fresh state continuing the verified published document's sequence (which
    /// needs the keys: without them, and without a record, nothing can be decided).
    pub async fn load(
        &self,
        keys: Option<&KeyRing>,
        now: Timestamp,
    ) -> Result<Loaded, FailoverError> {
        match self.store.read(&self.record_location).await? {
            Some(object) => {
                let record = FailoverRecord::from_json(&object.bytes).map_err(|error| {
                    FailoverError::BadRecord {
                        location: self.record_location.clone(),
                        reason: error.to_string(),
                    }
                })?;
                Ok(Loaded { record, etag: Some(object.etag) })
            }
            None => {
                let keys = keys.ok_or_else(|| {
                    AwsError::new(
                        "kms:GetPublicKey",
                        ErrorKind::Transient,
                        "there is no failover record yet, and the published status document cannot be judged \
                         without the signer's public key",
                    )
                })?;
                let current = self.status.read(keys, now).await?;
                let published = current.sequence().unwrap_or(0);
                Ok(Loaded { record: FailoverRecord::new(DrState::new(published)), etag: None })
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

    /// The signer's key ring, or `None` (logged) when the signer cannot be reached: a signer outage must not keep
    /// a transition from being committed and announced.
    async fn keys_if_reachable(&self) -> Result<KeyRing, AwsError> {
        let keys = self.keys().await;
        if let Err(error) = &keys {
            tracing::warn!(%error, "the signer's public key cannot be read; the admins' alerts go out regardless");
        }
        keys
    }

    /// Applies one input: read, step, commit (conditional), then carry out the effects. See the module docs.
    pub async fn apply(&self, input: &Input, now: Timestamp) -> Result<Report, FailoverError> {
        let keys = self.keys_if_reachable().await;
        for attempt in 1..=COMMIT_ATTEMPTS {
            let loaded = self.load(keys.as_ref().ok(), now).await?;
            let before = &loaded.record.state;
            let step =
                before.step(input, &self.config.policy, now).map_err(FailoverError::Refused)?;
            let mut report = Report::new("", before, attempt);
            report.mode = step.state.mode();
            report.last_sequence = step.state.last_sequence();
            let mut record = loaded.record.clone();
            record.state = step.state.clone();
            let own = match &step.outcome {
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
                    // Refuse before committing anything a document could not carry.
                    self.unsigned(&effects.status)?;
                    let alert = self.alert_for(&effects.notice);
                    record.push_committed(effects.status.sequence, alert.clone(), now);
                    report.alert = Some(alert);
                    Some(effects.status.sequence)
                }
            };
            let claimed = record.claim_due(now, own);
            if record != loaded.record {
                match self.commit(&record, loaded.etag.as_ref()).await {
                    Ok(()) => {}
                    Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                        tracing::info!(
                            attempt,
                            "another invocation committed first; reading the state again"
                        );
                        self.pause.after_lost_race(attempt).await;
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            let own = own.and_then(|sequence| {
                record.pending.iter().find(|pending| pending.sequence == sequence).cloned()
            });
            // A transition publishes its own status; a duplicate or an unchanged step catches up on a status that
            // an earlier invocation committed but did not publish (a Lambda retry of a failed invocation is exactly
            // that).
            let status = match (&own, &keys) {
                (Some(_), _) => record.state.last_status().cloned(),
                (None, Ok(keys)) => self.lagging_status(&record.state, keys, now).await,
                (None, Err(_)) => None,
            };
            let work = Work { own, claimed, status, forgery_alerted: false };
            return self.carry_out(work, keys.as_ref(), now, report).await;
        }
        Err(self.too_many_races().into())
    }

    /// The periodic refresh (`{"action":"refresh"}`): delivers alerts that are due, republishes the last status if
    /// the object lags behind the state, and re-signs with the next sequence when the object is missing, does not
    /// verify, or expires within [`RENEW_WHEN_LEFT`](wsdr_core::failover::RENEW_WHEN_LEFT) of its validity.
    pub async fn refresh(&self, now: Timestamp) -> Result<Report, FailoverError> {
        let keys = match self.keys_if_reachable().await {
            Ok(keys) => keys,
            // Without the signer the document can wait; the admins' alerts cannot.
            Err(error) => return self.deliver_due(now, error).await,
        };
        for attempt in 1..=COMMIT_ATTEMPTS {
            let loaded = self.load(Some(&keys), now).await?;
            let current = self.status.read(&keys, now).await?;
            let state = &loaded.record.state;
            let mut report = Report::new("current", state, attempt);
            let mut record = loaded.record.clone();
            let action =
                status_action(state, &current.published, self.config.status.validity(), now);
            let renewing = action == StatusAction::Renew;
            let status = match action {
                StatusAction::Renew => {
                    let (next, change) = state.renew(now).map_err(FailoverError::Refused)?;
                    self.unsigned(&change)?;
                    if let Published::Unverifiable { reason } = &current.published {
                        record.push_committed(
                            change.sequence,
                            self.forged_alert(reason, &change),
                            now,
                        );
                    }
                    record.state = next;
                    report.outcome = "renewed";
                    report.last_sequence = change.sequence;
                    Some(change)
                }
                StatusAction::Republish(change) => {
                    report.outcome = "republished";
                    Some(change)
                }
                StatusAction::Current => {
                    report.reason = Some(current_reason(&current));
                    None
                }
            };
            let own = match &current.published {
                Published::Unverifiable { .. } if renewing => {
                    status.as_ref().map(|change| change.sequence)
                }
                Published::Absent | Published::Unverifiable { .. } | Published::Verified { .. } => {
                    None
                }
            };
            let claimed = record.claim_due(now, own);
            if record != loaded.record {
                match self.commit(&record, loaded.etag.as_ref()).await {
                    Ok(()) => {}
                    Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                        self.pause.after_lost_race(attempt).await;
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            let own = own.and_then(|sequence| {
                record.pending.iter().find(|pending| pending.sequence == sequence).cloned()
            });
            report.alert = own.as_ref().map(|pending| pending.alert.clone());
            let forgery_alerted = own.is_some();
            let work = Work { own, claimed, status, forgery_alerted };
            return self.carry_out(work, Ok(&keys), now, report).await;
        }
        Err(self.too_many_races().into())
    }

    /// The refresh while the signer is unreachable: delivers the alerts that are due, then reports the signer's
    /// error (the document is renewed by a later refresh).
    async fn deliver_due(
        &self,
        now: Timestamp,
        signer_error: AwsError,
    ) -> Result<Report, FailoverError> {
        for attempt in 1..=COMMIT_ATTEMPTS {
            let Some(object) = self.store.read(&self.record_location).await? else {
                return Err(signer_error.into());
            };
            let mut record = FailoverRecord::from_json(&object.bytes).map_err(|error| {
                FailoverError::BadRecord {
                    location: self.record_location.clone(),
                    reason: error.to_string(),
                }
            })?;
            let report = Report::new("current", &record.state, attempt);
            let claimed = record.claim_due(now, None);
            if claimed.is_empty() {
                return Err(signer_error.into());
            }
            match self.commit(&record, Some(&object.etag)).await {
                Ok(()) => {}
                Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                    self.pause.after_lost_race(attempt).await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
            let work = Work { own: None, claimed, status: None, forgery_alerted: false };
            let outcome = self.carry_out(work, Err(&signer_error), now, report).await;
            return match outcome {
                Ok(report) => Err(FailoverError::Incomplete {
                    report: Box::new(report),
                    failures: vec![signer_error],
                }),
                Err(FailoverError::Incomplete { report, mut failures }) => {
                    failures.push(signer_error);
                    Err(FailoverError::Incomplete { report, failures })
                }
                Err(other) => Err(other),
            };
        }
        Err(self.too_many_races().into())
    }

    /// The state's last status when the status object lags behind it (a publish that failed), else `None`. A read
    /// that fails here is only logged: the caller's own work goes on, and the refresh will look again.
    async fn lagging_status(
        &self,
        state: &DrState,
        keys: &KeyRing,
        now: Timestamp,
    ) -> Option<StatusChange> {
        let last = state.last_status()?;
        match self.status.read(keys, now).await {
            Ok(current) if current.sequence().is_none_or(|held| held < last.sequence) => {
                Some(last.clone())
            }
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "cannot read the status object to check whether it lags behind");
                None
            }
        }
    }

    /// Carries out a committed step: alerts first, then the status document; each failure is kept, none stops
    /// the others. Then settles the record: delivered alerts leave it, failed ones are released.
    async fn carry_out(
        &self,
        work: Work,
        keys: Result<&KeyRing, &AwsError>,
        now: Timestamp,
        mut report: Report,
    ) -> Result<Report, FailoverError> {
        let mut failures = Vec::new();
        let mut delivered = Vec::new();
        let mut released = Vec::new();
        for (pending, is_own) in
            work.own.iter().map(|p| (p, true)).chain(work.claimed.iter().map(|p| (p, false)))
        {
            if !is_own {
                tracing::warn!(
                    sequence = pending.sequence,
                    "delivering an admins' alert that an earlier invocation did not deliver"
                );
            }
            match self.topic.publish(&pending.alert).await {
                Ok(message_id) => {
                    delivered.push(pending.sequence);
                    if is_own {
                        report.sns_message_id = Some(message_id);
                    } else {
                        report.caught_up.push(pending.sequence);
                    }
                }
                Err(error) => {
                    tracing::error!(sequence = pending.sequence, %error, "the admins' alert was not delivered");
                    released.push(pending.sequence);
                    failures.push(error);
                }
            }
        }
        if let Some(change) = &work.status {
            let published = match keys {
                Ok(keys) => self.publish_status(change, keys, now).await,
                Err(error) => Err(FailoverError::Aws(error.clone())),
            };
            match published {
                Ok(published) => {
                    if let StatusWrite::Written { replaced_unverifiable: true, .. } =
                        published.write
                        && !work.forgery_alerted
                    {
                        self.report_replaced_forgery(&published).await;
                    }
                    report.status = Some(published);
                }
                Err(FailoverError::Aws(error)) => {
                    tracing::error!(sequence = change.sequence, %error, "the status document was not published");
                    failures.push(error);
                }
                Err(other) => failures.push(AwsError::rejected("status", other.to_string())),
            }
        }
        if (!delivered.is_empty() || !released.is_empty())
            && let Err(error) = self.settle(&delivered, &released).await
        {
            tracing::warn!(%error, "could not settle the delivered alerts; a later invocation may deliver them again");
        }
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(FailoverError::Incomplete { report: Box::new(report), failures })
        }
    }

    /// Builds, signs and writes the status document for `change`.
    pub async fn publish_status(
        &self,
        change: &StatusChange,
        keys: &KeyRing,
        now: Timestamp,
    ) -> Result<PublishedStatus, FailoverError> {
        let unsigned = self.unsigned(change)?;
        let document = self.signer.sign(unsigned).await?;
        let write = self.status.write(&document, change.sequence, keys, now).await?;
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

    /// The document for `change`, not yet signed: everything that can refuse it refuses here.
    fn unsigned(&self, change: &StatusChange) -> Result<UnsignedDocument, FailoverError> {
        let payload = self.config.status.payload(change).map_err(FailoverError::Status)?;
        UnsignedDocument::new(&payload).map_err(|error| FailoverError::Status(error.to_string()))
    }

    /// The SNS alert for a notice, with the status document's public URL when configured.
    fn alert_for(&self, notice: &wsdr_core::failover::AdminNotice) -> AdminAlert {
        let mut alert = AdminAlert::from_notice(notice);
        if let Some(url) = &self.config.status_url {
            alert.text.push_str(&format!("\nStatus document (what every tray app reads): {url}\n"));
        }
        alert
    }

    /// The admins' alert when the status object did not verify and is replaced by a renewal.
    fn forged_alert(&self, reason: &str, change: &StatusChange) -> AdminAlert {
        AdminAlert::new(
            "[wsdr] Status document did not verify: replaced",
            format!(
                "The status object {} did not verify with the deployment's key ({reason}). Nothing in it was \
                 trusted. It is replaced by status #{} ({}). Find out who wrote it: the bucket's access logs or \
                 CloudTrail data events name the writer.\n",
                self.status.location(),
                change.sequence,
                change.state.as_str()
            ),
        )
        .with_attribute("wsdr_event_kind", "status_unverifiable")
    }

    /// Best effort: a transition replaced an object that did not verify. The renewal path tracks its alert in
    /// the record; here the transition's own alert is already the important one, so a failure is only logged.
    async fn report_replaced_forgery(&self, published: &PublishedStatus) {
        let alert = AdminAlert::new(
            "[wsdr] Status document did not verify: replaced",
            format!(
                "The status object {} did not verify with the deployment's key and was replaced by status #{}.\n",
                published.location, published.sequence
            ),
        )
        .with_attribute("wsdr_event_kind", "status_unverifiable");
        if let Err(error) = self.topic.publish(&alert).await {
            tracing::warn!(%error, "could not tell the admins that an unverifiable status object was replaced");
        }
    }

    async fn commit(&self, record: &FailoverRecord, etag: Option<&ETag>) -> Result<(), AwsError> {
        let put = Put::json(precondition_after(etag)?);
        self.store.write(&self.record_location, record.to_json(), &put).await.map(drop)
    }

    /// Removes delivered alerts from the record and releases failed ones (re-reading on lost races).
    async fn settle(&self, delivered: &[u64], released: &[u64]) -> Result<(), AwsError> {
        for attempt in 1..=COMMIT_ATTEMPTS {
            let Some(object) = self.store.read(&self.record_location).await? else {
                return Ok(());
            };
            let Ok(mut record) = FailoverRecord::from_json(&object.bytes) else {
                return Ok(());
            };
            let mut changed = false;
            for sequence in delivered {
                changed |= record.delivered(*sequence);
            }
            for sequence in released {
                changed |= record.released(*sequence);
            }
            if !changed {
                return Ok(());
            }
            match self.commit(&record, Some(&object.etag)).await {
                Ok(()) => return Ok(()),
                Err(error) if error.kind == ErrorKind::PreconditionFailed => {
                    self.pause.after_lost_race(attempt).await;
                }
                Err(error) => return Err(error),
            }
        }
        Err(self.too_many_races())
    }

    fn too_many_races(&self) -> AwsError {
        AwsError::new(
            "s3:PutObject",
            ErrorKind::PreconditionFailed,
            format!(
                "{}: {COMMIT_ATTEMPTS} attempts, other invocations kept committing first",
                self.record_location
            ),
        )
    }
}

fn current_reason(current: &CurrentStatus) -> String {
    match current.published {
        Published::Verified { sequence, expires_at } => {
            format!("status #{sequence} is current and valid until {expires_at}")
        }
        Published::Absent | Published::Unverifiable { .. } => {
            "status document is current".to_owned()
        }
    }
}

/// An admin's optional message: both title and body (trimmed), or neither (the state machine's default text).
/// The message is the status document's own type, so what is accepted here can always be published.
pub fn optional_message(
    title: Option<&str>,
    body: Option<&str>,
) -> Result<Option<Message>, String> {
    match (title, body) {
        (None, None) => Ok(None),
        (Some(title), Some(body)) => {
            Message::new(title.trim(), body.trim()).map(Some).map_err(|error| error.to_string())
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

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

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
        assert_eq!(record_key("state/"), "state/failover/state.json");
    }

    #[test]
    fn an_admins_message_is_trimmed_and_must_fit_the_status_document() {
        let message = optional_message(Some(" Title "), Some(" Body \n")).unwrap().unwrap();
        assert_eq!((message.title(), message.body()), ("Title", "Body"));
        // A tab is refused here, before any commit (defect: the state machine accepted it, the document did not).
        let error = optional_message(Some("t"), Some("a\tb")).unwrap_err();
        assert!(error.contains("control character"), "{error}");
        assert!(optional_message(Some("t"), None).is_err());
        assert_eq!(optional_message(None, None), Ok(None));
    }
}
