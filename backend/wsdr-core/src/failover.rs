//! The failover state machine: classified health events and admin commands in, the next [`DrState`] and the
//! effects to carry out (an admin notice for SNS and a status change for the signed status document) out.
//!
//! Pure: no I/O, no clock. [`DrState::step`] takes `&self`, the [`Input`], the [`FailoverPolicy`] and `now`, and
//! returns a new state; the caller persists it (as JSON, with an S3 conditional write) and then carries out the
//! effects. A refused command returns an error and the caller keeps the old state, so a refusal changes nothing.
//!
//! # Modes
//!
//! ```text
//!            open issue                 wsdr failover                 issue closed
//!   normal ─────────────► failover_recommended ─────────► failover ─────────────► recovered
//!     ▲ ▲  ◄──────────────     (issue closed: withdrawn)      │ ▲  ◄───────────────  │
//!     │ │                                                     │ │  new open issue    │
//!     │ └──────────────────── wsdr failback ──────────────────┘ └────────────────────┤
//!     │                                                                              │
//!     └─────────────────────────────── wsdr failback ────────────────────────────────┘
//!   normal ◄──► drill (start/end drill); auto_failover: normal ──open issue──► failover directly
//! ```
//!
//! | mode | published `state` | `active` | users |
//! |---|---|---|---|
//! | normal | normal | primary | on primary |
//! | failover_recommended | normal | primary (dr after a drill on DR) | where they were, told AWS reports an issue |
//! | failover | failover | dr | told to use DR |
//! | recovered | failover | dr | stay on DR until the admin's failback |
//! | drill | drill | primary (default) or dr | never moved: the tray must not treat a drill as a failover |
//!
//! # Rules
//!
//! - Health events: an [`Decision::Ignore`] classification, or one judged against another primary region, yields
//!   nothing and changes nothing. A relevant event whose [`DedupKey`](crate::health::DedupKey) was seen yields
//!   nothing. Otherwise the key is remembered and the event's status is tracked per event ARN:
//!   - an event that opens (was not already tracked open) recommends failover from normal or drill (a real issue
//!     ends a drill), or fails over directly when `auto_failover` is on **and** the category is `issue`
//!     (an `investigation` only recommends); from recovered it returns to failover (users stay on DR);
//!   - an event that closes (was tracked open) withdraws the recommendation (back to normal) or, in failover,
//!     moves to recovered, but only once no tracked event is still open;
//!   - an update older (`lastUpdatedTime`) than the tracked one, or any other update, changes no mode.
//! - Admin commands: `failover` from normal, failover_recommended or drill; `failback` from failover or
//!   recovered; `alert` in every mode (publishes a message, mode unchanged); start drill only from normal; end
//!   drill only from drill. Anything else is a [`Refusal`] naming the mode and the command to run instead.
//!
//! # Invariants
//!
//! - Every transition (mode change, or an admin alert) yields exactly one [`AdminNotice`] and one [`StatusChange`],
//!   whose `sequence` is the last published one plus one; nothing else yields any effect or changes the sequence.
//! - Failover and failover_recommended are never entered from an ignored event; recovered only from failover.
//! - The seen-set never exceeds [`SEEN_EVENTS_CAP`](crate::health::SEEN_EVENTS_CAP); tracked events never exceed
//!   [`TRACKED_EVENTS_CAP`].

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::health::{Classification, Decision, HealthEventSummary, Insert, Region, SeenEvents};

/// The wire vocabulary of the status document, from `wsdr-protocol`: which deployment is active, the published
/// state, and who caused a change. One definition, so the state machine cannot drift from what the tray parses.
/// The message and cause are the protocol's types too: whatever the state machine accepts, the status document
/// can carry, so a committed transition can always be published.
pub use wsdr_protocol::{
    Cause, CauseSource, EventArn, MESSAGE_BODY_MAX_LEN, MESSAGE_TITLE_MAX_LEN, Message,
    MessageError, SiteRole as Site, State as PublishedState,
};

mod notice;
mod record;

pub use notice::{AdminNotice, NoticeBody, NoticeKind, SUBJECT_MAX_CHARS, sns_subject};
pub use record::{
    FailoverRecord, PendingAlert, Published, RECORD_FORMAT, RENEW_WHEN_LEFT, RecordError,
    RecordRead, STALE_CLAIM, StatusAction, status_action, terminations_withheld,
};

/// The version of the persisted [`DrState`] JSON.
pub const STATE_VERSION: u32 = 1;
/// How many event ARNs [`DrState`] tracks (open or closed). When full, the oldest closed one is forgotten first,
/// then the oldest open one.
pub const TRACKED_EVENTS_CAP: usize = 64;

/// The admin CLI commands that notices tell admins to run. The CLI must accept exactly these.
pub mod commands {
    /// Move users to the DR region.
    pub const FAILOVER: &str = "wsdr failover";
    /// Move users back to the primary region.
    pub const FAILBACK: &str = "wsdr failback";
    /// Send users a message.
    pub const ALERT: &str = "wsdr alert --title T --body B";
    /// Start a drill.
    pub const START_DRILL: &str = "wsdr alert --drill --title T --body B";
    /// End the running drill.
    pub const END_DRILL: &str = "wsdr alert --end-drill";
}

/// Where wsdr stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Users on the primary region; nothing reported.
    Normal,
    /// AWS Health reports an open WorkSpaces issue in the primary region; an admin must decide.
    FailoverRecommended,
    /// Users told to use the DR region.
    Failover,
    /// The issue closed; users still on DR until the admin fails back.
    Recovered,
    /// A DR drill: users are told it is a drill and are not moved.
    Drill,
}

impl Mode {
    /// The snake_case name, as in the persisted state and SNS attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::FailoverRecommended => "failover_recommended",
            Mode::Failover => "failover",
            Mode::Recovered => "recovered",
            Mode::Drill => "drill",
        }
    }

    /// Whether users may be working on their DR WorkSpaces (failover declared, not yet failed back): reconcile
    /// then terminates nothing, whatever the users export says.
    pub fn dr_in_use(self) -> bool {
        matches!(self, Mode::Failover | Mode::Recovered)
    }

    /// The status document's `state` for this mode.
    pub fn published_state(self) -> PublishedState {
        match self {
            Mode::Normal | Mode::FailoverRecommended => PublishedState::Normal,
            Mode::Failover | Mode::Recovered => PublishedState::Failover,
            Mode::Drill => PublishedState::Drill,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the deployment is and how far automation may go. There is no `Default`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailoverPolicy {
    auto_failover: bool,
    primary_region: Region,
    dr_region: Region,
}

/// A policy that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the primary and the DR region are both {0}; they must differ")]
pub struct SameRegions(pub Region);

impl FailoverPolicy {
    /// A policy; `auto_failover` lets an open `issue` fail over without an admin.
    pub fn new(
        auto_failover: bool,
        primary_region: Region,
        dr_region: Region,
    ) -> Result<FailoverPolicy, SameRegions> {
        if primary_region == dr_region {
            return Err(SameRegions(primary_region));
        }
        Ok(FailoverPolicy { auto_failover, primary_region, dr_region })
    }

    /// Whether an open `issue` fails over without an admin.
    pub fn auto_failover(&self) -> bool {
        self.auto_failover
    }

    /// The region users normally use.
    pub fn primary_region(&self) -> &Region {
        &self.primary_region
    }

    /// The region of the DR WorkSpaces.
    pub fn dr_region(&self) -> &Region {
        &self.dr_region
    }

    /// The region of `site`.
    pub fn region_of(&self, site: Site) -> &Region {
        match site {
            Site::Primary => &self.primary_region,
            Site::Dr => &self.dr_region,
        }
    }
}

/// What an admin asks for. Optional messages replace the default text users see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminCommand {
    /// `wsdr failover`: tell users to use DR.
    DeclareFailover {
        /// Replaces the default message.
        message: Option<Message>,
    },
    /// `wsdr failback`: tell users to return to the primary.
    Failback {
        /// Replaces the default message.
        message: Option<Message>,
    },
    /// `wsdr alert --title T --body B`: publish a message; the mode is unchanged.
    Alert(Message),
    /// `wsdr alert --drill --title T --body B`: start a drill.
    StartDrill {
        /// What users see during the drill.
        message: Message,
        /// Which site the drill exercises; the CLI defaults to [`Site::Primary`], so nobody is moved unless an
        /// admin explicitly targets DR.
        active: Site,
    },
    /// `wsdr alert --end-drill`: end the drill.
    EndDrill {
        /// Replaces the default message.
        message: Option<Message>,
    },
}

impl AdminCommand {
    /// The CLI command, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            AdminCommand::DeclareFailover { .. } => commands::FAILOVER,
            AdminCommand::Failback { .. } => commands::FAILBACK,
            AdminCommand::Alert(_) => "wsdr alert",
            AdminCommand::StartDrill { .. } => "wsdr alert --drill",
            AdminCommand::EndDrill { .. } => commands::END_DRILL,
        }
    }
}

/// One input to the state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A classified AWS Health event (boxed: it is much larger than a command).
    Health(Box<Classification>),
    /// An admin command.
    Command(AdminCommand),
}

/// A refused command, with what to do instead. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `failover` while users are already on DR.
    #[error(
        "refused: failover is already declared (mode failover); users are on DR. When the primary is healthy, run `{}`",
        commands::FAILBACK
    )]
    AlreadyFailedOver,
    /// `failover` after recovery, while users are still on DR.
    #[error(
        "refused: users are still on DR (mode recovered: the AWS Health issue closed). To return them, run `{}`; to keep them on DR, do nothing",
        commands::FAILBACK
    )]
    StillOnDr,
    /// `failback` while users are on the primary.
    #[error("refused: nothing to fail back (mode {0}); users are on the primary region")]
    NotFailedOver(Mode),
    /// `failback` during a drill.
    #[error(
        "refused: a drill is running, users were never moved; end it with `{}`",
        commands::END_DRILL
    )]
    DrillRunning,
    /// Starting a drill outside normal.
    #[error("refused: a drill can only start in mode normal (mode is {0})")]
    DrillNeedsNormal(Mode),
    /// Ending a drill that is not running.
    #[error("refused: no drill is running (mode {0})")]
    NoDrill(Mode),
    /// The sequence counter reached `u64::MAX`.
    #[error("refused: the status sequence is exhausted; re-initialise the state")]
    SequenceExhausted,
}

/// A status document to publish: the core's half of it (the publisher adds regions, registration codes,
/// `version` and `expires_at`, then signs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The last published sequence plus one.
    pub sequence: u64,
    /// `now` of the step.
    pub issued_at: Timestamp,
    /// `normal`, `failover` or `drill`.
    pub state: PublishedState,
    /// Which site users should use now.
    pub active: Site,
    /// What users read.
    pub message: Message,
    /// Why.
    pub cause: Cause,
}

/// What a transition asks the shell to do: notify admins, then publish the status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Effects {
    /// For the SNS alerts topic.
    pub notice: AdminNotice,
    /// For the status document.
    pub status: StatusChange,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A transition (or an admin alert): carry out the effects.
    Transition(Box<Effects>),
    /// This communication was already processed; nothing changed.
    Duplicate {
        /// The repeated key.
        key: crate::health::DedupKey,
    },
    /// The event is not relevant; nothing changed.
    Ignored {
        /// Why.
        reason: String,
    },
    /// The event was recorded (seen, tracked) but changes no mode; no effects.
    Unchanged {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// The effects, if this was a transition.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Outcome::Transition(effects) => Some(effects),
            Outcome::Duplicate { .. } | Outcome::Ignored { .. } | Outcome::Unchanged { .. } => None,
        }
    }
}

/// The result of [`DrState::step`]: the state to persist and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The next state (equal to the old one for duplicates and ignored events).
    pub state: DrState,
    /// What happened.
    pub outcome: Outcome,
}

/// Whether a tracked event is open or closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackedStatus {
    /// Last seen open.
    Open,
    /// Last seen closed.
    Closed,
}

/// The latest known status of one AWS Health event (by ARN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedEvent {
    /// Open or closed.
    pub status: TrackedStatus,
    /// The newest `lastUpdatedTime` seen, if parseable; older updates are stale.
    pub last_updated: Option<Timestamp>,
    /// `now` when first seen; eviction order.
    pub first_seen: Timestamp,
}

/// The persisted state of the failover machine. Serialize it as JSON; loading validates it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DrStateRepr")]
pub struct DrState {
    version: u32,
    mode: Mode,
    active: Site,
    last_sequence: u64,
    cause: Option<Cause>,
    event: Option<HealthEventSummary>,
    tracked: BTreeMap<String, TrackedEvent>,
    seen: SeenEvents,
    last_status: Option<StatusChange>,
}

#[derive(Deserialize)]
struct DrStateRepr {
    version: u32,
    mode: Mode,
    active: Site,
    last_sequence: u64,
    cause: Option<Cause>,
    event: Option<HealthEventSummary>,
    tracked: BTreeMap<String, TrackedEvent>,
    seen: SeenEvents,
    last_status: Option<StatusChange>,
}

/// A persisted state that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidState {
    /// Written by another version.
    #[error("state version {0} is not supported (expected {STATE_VERSION})")]
    Version(u32),
    /// Mode and active site disagree.
    #[error("mode {mode} cannot have active site {}", active.as_str())]
    ModeActive {
        /// The stored mode.
        mode: Mode,
        /// The stored active site.
        active: Site,
    },
    /// The last status' sequence differs from `last_sequence`.
    #[error("last_status has sequence {status}, but last_sequence is {last}")]
    Sequence {
        /// `last_status.sequence`.
        status: u64,
        /// `last_sequence`.
        last: u64,
    },
    /// The JSON does not match the schema.
    #[error("the state is not valid JSON for DrState: {0}")]
    Json(String),
}

impl TryFrom<DrStateRepr> for DrState {
    type Error = InvalidState;
    fn try_from(r: DrStateRepr) -> Result<DrState, InvalidState> {
        if r.version != STATE_VERSION {
            return Err(InvalidState::Version(r.version));
        }
        let active_ok = match r.mode {
            Mode::Normal => r.active == Site::Primary,
            Mode::Failover | Mode::Recovered => r.active == Site::Dr,
            // A recommendation keeps users where a drill put them.
            Mode::FailoverRecommended | Mode::Drill => true,
        };
        if !active_ok {
            return Err(InvalidState::ModeActive { mode: r.mode, active: r.active });
        }
        if let Some(status) = &r.last_status
            && status.sequence != r.last_sequence
        {
            return Err(InvalidState::Sequence { status: status.sequence, last: r.last_sequence });
        }
        let mut state = DrState {
            version: r.version,
            mode: r.mode,
            active: r.active,
            last_sequence: r.last_sequence,
            cause: r.cause,
            event: r.event,
            tracked: r.tracked,
            seen: r.seen,
            last_status: r.last_status,
        };
        state.trim_tracked();
        Ok(state)
    }
}

impl DrState {
    /// A fresh state in mode normal. `last_published_sequence` is 0 for a new deployment, or the sequence of the
    /// status document currently published if the state object was lost (so sequences keep increasing).
    pub fn new(last_published_sequence: u64) -> DrState {
        DrState {
            version: STATE_VERSION,
            mode: Mode::Normal,
            active: Site::Primary,
            last_sequence: last_published_sequence,
            cause: None,
            event: None,
            tracked: BTreeMap::new(),
            seen: SeenEvents::new(),
            last_status: None,
        }
    }

    /// Loads a persisted state, validating it.
    pub fn from_json(bytes: &[u8]) -> Result<DrState, InvalidState> {
        serde_json::from_slice(bytes).map_err(|e| InvalidState::Json(e.to_string()))
    }

    /// The state as pretty JSON, for persisting.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail; fall back to compact output just in case.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Which site users should use.
    pub fn active(&self) -> Site {
        self.active
    }

    /// Whether users may be working on their DR WorkSpaces: a failover declared and not yet failed back, or users
    /// told to use DR for any other reason (a drill that targets DR, and a recommendation that followed it).
    /// Reconcile then terminates nothing, whatever the users list says.
    pub fn dr_in_use(&self) -> bool {
        self.mode.dr_in_use() || self.active == Site::Dr
    }

    /// The sequence of the last status change; the next one is this plus one.
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// Why the current mode was entered (none in normal).
    pub fn cause(&self) -> Option<&Cause> {
        self.cause.as_ref()
    }

    /// The health event behind the current mode, if any.
    pub fn event(&self) -> Option<&HealthEventSummary> {
        self.event.as_ref()
    }

    /// Deduplication keys already processed.
    pub fn seen(&self) -> &SeenEvents {
        &self.seen
    }

    /// Tracked AWS Health events by ARN.
    pub fn tracked(&self) -> &BTreeMap<String, TrackedEvent> {
        &self.tracked
    }

    /// The last status change, for re-publishing it (e.g. after a failed publish, or to renew its expiry).
    pub fn last_status(&self) -> Option<&StatusChange> {
        self.last_status.as_ref()
    }

    /// How many tracked events are open.
    pub fn open_events(&self) -> usize {
        self.tracked.values().filter(|t| t.status == TrackedStatus::Open).count()
    }

    /// Re-issues the current status with the next sequence and `issued_at = now`, so a new document can be signed
    /// before the published one expires. Mode, active site, message and cause stay; no admin notice (nothing
    /// happened). A state that never published anything (a new deployment) issues its first document: mode
    /// normal's "no issue reported" message.
    ///
    /// A new sequence is required: the tray refuses a different payload under a sequence it has seen.
    pub fn renew(&self, now: Timestamp) -> Result<(DrState, StatusChange), Refusal> {
        let sequence = self.last_sequence.checked_add(1).ok_or(Refusal::SequenceExhausted)?;
        let status = match &self.last_status {
            Some(last) => StatusChange { sequence, issued_at: now, ..last.clone() },
            None => StatusChange {
                sequence,
                issued_at: now,
                state: self.mode.published_state(),
                active: self.active,
                message: notice::built_in(
                    "No WorkSpaces issue reported",
                    "Keep using your usual WorkSpace. If you need to switch, you will be told here.",
                ),
                cause: self
                    .cause
                    .clone()
                    .unwrap_or(Cause { source: CauseSource::Admin, event_arn: None }),
            },
        };
        let mut next = self.clone();
        next.last_sequence = sequence;
        next.last_status = Some(status.clone());
        Ok((next, status))
    }

    /// Applies one input. `Err` means the command was refused and nothing changed: keep `self`.
    pub fn step(
        &self,
        input: &Input,
        policy: &FailoverPolicy,
        now: Timestamp,
    ) -> Result<Step, Refusal> {
        match input {
            Input::Health(c) => self.on_health(c, policy, now),
            Input::Command(cmd) => self.on_command(cmd, policy, now),
        }
    }

    fn stay(&self, outcome: Outcome) -> Result<Step, Refusal> {
        Ok(Step { state: self.clone(), outcome })
    }

    fn on_health(
        &self,
        c: &Classification,
        policy: &FailoverPolicy,
        now: Timestamp,
    ) -> Result<Step, Refusal> {
        if c.primary_region() != policy.primary_region() {
            return self.stay(Outcome::Ignored {
                reason: format!(
                    "ignored: the event was classified against primary region {}, but the policy's primary is {}",
                    c.primary_region(),
                    policy.primary_region()
                ),
            });
        }
        let identity = match (c.decision(), c.identity()) {
            (Decision::Ignore, _) | (_, None) => {
                return self.stay(Outcome::Ignored { reason: c.reason().to_owned() });
            }
            (Decision::FailoverRecommended | Decision::Recovered, Some(id)) => id,
        };
        let mut next = self.clone();
        if next.seen.insert(identity.dedup_key.clone(), now) == Insert::Duplicate {
            return self.stay(Outcome::Duplicate { key: identity.dedup_key.clone() });
        }
        let event_arn = &identity.event_arn;
        let arn = event_arn.as_str();
        let updated = c.event().last_updated();
        let previous = self.tracked.get(arn);
        if let (Some(prev), Some(new)) = (previous.and_then(|t| t.last_updated), updated)
            && new < prev
        {
            return Ok(Step {
                state: next,
                outcome: Outcome::Unchanged {
                    reason: format!(
                        "stale update of {arn}: lastUpdatedTime {new} is older than {prev} already seen"
                    ),
                },
            });
        }
        let was = previous.map(|t| t.status);
        let status = match c.decision() {
            Decision::Recovered => TrackedStatus::Closed,
            Decision::FailoverRecommended | Decision::Ignore => TrackedStatus::Open,
        };
        next.track(arn, status, updated, now);
        let unchanged = |next: DrState, reason: String| {
            Ok(Step { state: next, outcome: Outcome::Unchanged { reason } })
        };
        let health_cause =
            Cause { source: CauseSource::AwsHealth, event_arn: Some(event_arn.clone()) };
        let event = Some(c.event().clone());

        match status {
            TrackedStatus::Open if was == Some(TrackedStatus::Open) => unchanged(
                next,
                format!("update of {arn}, already reported open; mode stays {}", self.mode),
            ),
            TrackedStatus::Open => match self.mode {
                Mode::Normal | Mode::Drill => {
                    let auto = policy.auto_failover() && c.is_confirmed_issue();
                    let (to, kind) = if auto {
                        (Mode::Failover, NoticeKind::AutoFailover)
                    } else {
                        (Mode::FailoverRecommended, NoticeKind::FailoverRecommended)
                    };
                    // A real issue ends a drill but never moves users back to the failing primary: a drill
                    // that put them on DR keeps them there while the admin decides.
                    let change = Change {
                        to,
                        active: if auto { Site::Dr } else { self.active },
                        kind,
                        message: None,
                        status_cause: health_cause.clone(),
                        state_cause: Some(health_cause),
                        event,
                    };
                    next.transition(self, change, policy, now)
                }
                Mode::Recovered => {
                    let change = Change {
                        to: Mode::Failover,
                        active: Site::Dr,
                        kind: NoticeKind::IssueDuringRecovery,
                        message: None,
                        status_cause: health_cause.clone(),
                        state_cause: Some(health_cause),
                        event,
                    };
                    next.transition(self, change, policy, now)
                }
                Mode::FailoverRecommended | Mode::Failover => unchanged(
                    next,
                    format!(
                        "WorkSpaces event {arn} opened while mode is {}; nothing changes",
                        self.mode
                    ),
                ),
            },
            TrackedStatus::Closed if was != Some(TrackedStatus::Open) => unchanged(
                next,
                format!(
                    "{arn} closed, but it was {} open; mode stays {}",
                    if was == Some(TrackedStatus::Closed) {
                        "already closed, not"
                    } else {
                        "never seen"
                    },
                    self.mode
                ),
            ),
            TrackedStatus::Closed => {
                let still_open = next.open_events();
                match self.mode {
                    Mode::Failover | Mode::FailoverRecommended if still_open > 0 => unchanged(
                        next,
                        format!(
                            "{arn} closed, but {still_open} other WorkSpaces event(s) are still open; mode stays {}",
                            self.mode
                        ),
                    ),
                    Mode::Failover => {
                        let change = Change {
                            to: Mode::Recovered,
                            active: Site::Dr,
                            kind: NoticeKind::Recovered,
                            message: None,
                            status_cause: health_cause,
                            state_cause: self.cause.clone(),
                            event,
                        };
                        next.transition(self, change, policy, now)
                    }
                    Mode::FailoverRecommended => {
                        let change = Change {
                            to: Mode::Normal,
                            active: Site::Primary,
                            kind: NoticeKind::RecommendationWithdrawn,
                            message: None,
                            status_cause: health_cause,
                            state_cause: None,
                            event: None,
                        };
                        next.transition(self, change, policy, now)
                    }
                    Mode::Normal | Mode::Recovered | Mode::Drill => unchanged(
                        next,
                        format!("{arn} closed; no failover in progress (mode {})", self.mode),
                    ),
                }
            }
        }
    }

    fn on_command(
        &self,
        cmd: &AdminCommand,
        policy: &FailoverPolicy,
        now: Timestamp,
    ) -> Result<Step, Refusal> {
        let admin = |event_arn: Option<EventArn>| Cause { source: CauseSource::Admin, event_arn };
        let next = self.clone();
        let change = match cmd {
            AdminCommand::DeclareFailover { message } => match self.mode {
                Mode::Failover => return Err(Refusal::AlreadyFailedOver),
                Mode::Recovered => return Err(Refusal::StillOnDr),
                Mode::Normal | Mode::FailoverRecommended | Mode::Drill => {
                    let (arn, event) = match self.mode {
                        Mode::FailoverRecommended => (
                            self.cause.as_ref().and_then(|c| c.event_arn.clone()),
                            self.event.clone(),
                        ),
                        Mode::Normal | Mode::Drill | Mode::Failover | Mode::Recovered => {
                            (None, None)
                        }
                    };
                    Change {
                        to: Mode::Failover,
                        active: Site::Dr,
                        kind: NoticeKind::FailoverDeclared,
                        message: message.clone(),
                        status_cause: admin(arn.clone()),
                        state_cause: Some(admin(arn)),
                        event,
                    }
                }
            },
            AdminCommand::Failback { message } => match self.mode {
                Mode::Failover | Mode::Recovered => Change {
                    to: Mode::Normal,
                    active: Site::Primary,
                    kind: NoticeKind::FailbackDeclared,
                    message: message.clone(),
                    status_cause: admin(None),
                    state_cause: None,
                    event: None,
                },
                Mode::Drill => return Err(Refusal::DrillRunning),
                Mode::Normal | Mode::FailoverRecommended => {
                    return Err(Refusal::NotFailedOver(self.mode));
                }
            },
            AdminCommand::Alert(message) => Change {
                to: self.mode,
                active: self.active,
                kind: NoticeKind::AlertSent,
                message: Some(message.clone()),
                status_cause: admin(None),
                state_cause: self.cause.clone(),
                event: self.event.clone(),
            },
            AdminCommand::StartDrill { message, active } => match self.mode {
                Mode::Normal => Change {
                    to: Mode::Drill,
                    active: *active,
                    kind: NoticeKind::DrillStarted,
                    message: Some(message.clone()),
                    status_cause: admin(None),
                    state_cause: Some(admin(None)),
                    event: None,
                },
                Mode::FailoverRecommended | Mode::Failover | Mode::Recovered | Mode::Drill => {
                    return Err(Refusal::DrillNeedsNormal(self.mode));
                }
            },
            AdminCommand::EndDrill { message } => match self.mode {
                Mode::Drill => Change {
                    to: Mode::Normal,
                    active: Site::Primary,
                    kind: NoticeKind::DrillEnded,
                    message: message.clone(),
                    status_cause: admin(None),
                    state_cause: None,
                    event: None,
                },
                Mode::Normal | Mode::FailoverRecommended | Mode::Failover | Mode::Recovered => {
                    return Err(Refusal::NoDrill(self.mode));
                }
            },
        };
        next.transition(self, change, policy, now)
    }

    /// Applies `change` to `self` (already carrying any seen/tracked updates) and builds the effects.
    fn transition(
        mut self,
        before: &DrState,
        change: Change,
        policy: &FailoverPolicy,
        now: Timestamp,
    ) -> Result<Step, Refusal> {
        let sequence = before.last_sequence.checked_add(1).ok_or(Refusal::SequenceExhausted)?;
        let message = change.message.clone().unwrap_or_else(|| {
            notice::default_message(change.kind, before.mode, before.active, change.active, policy)
        });
        let status = StatusChange {
            sequence,
            issued_at: now,
            state: change.to.published_state(),
            active: change.active,
            message,
            cause: change.status_cause.clone(),
        };
        self.mode = change.to;
        self.active = change.active;
        self.cause = change.state_cause;
        self.event = change.event;
        self.last_sequence = sequence;
        self.last_status = Some(status.clone());
        let notice = notice::render(&notice::Context {
            kind: change.kind,
            from: before.mode,
            to: self.mode,
            active: self.active,
            policy,
            status: &status,
            event: self.event.as_ref(),
            open_events: self.open_events(),
            now,
        });
        Ok(Step { state: self, outcome: Outcome::Transition(Box::new(Effects { notice, status })) })
    }

    /// Records the latest status of `arn`, keeping at most [`TRACKED_EVENTS_CAP`] events.
    fn track(
        &mut self,
        arn: &str,
        status: TrackedStatus,
        updated: Option<Timestamp>,
        now: Timestamp,
    ) {
        let first_seen = self.tracked.get(arn).map_or(now, |t| t.first_seen);
        let last_updated = match (self.tracked.get(arn).and_then(|t| t.last_updated), updated) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => b.or(a),
        };
        self.tracked.insert(arn.to_owned(), TrackedEvent { status, last_updated, first_seen });
        self.trim_tracked();
    }

    /// Forgets the oldest closed events, then the oldest open ones, until at most [`TRACKED_EVENTS_CAP`] remain.
    fn trim_tracked(&mut self) {
        while self.tracked.len() > TRACKED_EVENTS_CAP {
            let victim = self
                .tracked
                .iter()
                .min_by_key(|(arn, t)| {
                    (t.status == TrackedStatus::Open, t.first_seen, (*arn).clone())
                })
                .map(|(arn, _)| arn.clone());
            match victim {
                Some(arn) => {
                    self.tracked.remove(&arn);
                }
                None => break,
            }
        }
    }
}

/// One transition to carry out.
struct Change {
    to: Mode,
    active: Site,
    kind: NoticeKind,
    message: Option<Message>,
    status_cause: Cause,
    state_cause: Option<Cause>,
    event: Option<HealthEventSummary>,
}

#[cfg(test)]
mod tests;
