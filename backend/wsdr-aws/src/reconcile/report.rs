//! The run report: what a reconcile run saw, decided and did — written to S3, logged, and printed by
//! `wsdr reconcile --format json`. `created`, `terminated`, `failed` and `blocked` are part of the CLI contract.

use jiff::Timestamp;
use serde::Serialize;
use wsdr_core::directory::EntryReject;
use wsdr_core::plan::{Blocked, Counts};
use wsdr_core::users::{ExportFormat, Reject, TextEncoding};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The plan was carried out (some items may have failed: see `failed`).
    Completed,
    /// A dry run: planned and reported, nothing changed.
    DryRun,
    /// The safety policy blocked the plan: nothing changed.
    Blocked,
    /// The users list could not be read, or had rejected rows: nothing changed.
    InvalidUsers,
    /// Another run holds the lock: this one did nothing.
    Skipped,
    /// The time budget ran out: part of the plan is left for the next run (see `deferred`).
    Incomplete,
}

impl Outcome {
    /// The name used in logs, metrics and the state object.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::DryRun => "dry_run",
            Outcome::Blocked => "blocked",
            Outcome::InvalidUsers => "invalid_users",
            Outcome::Skipped => "skipped",
            Outcome::Incomplete => "incomplete",
        }
    }
}

/// The users list a run read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UsersSummary {
    /// Where it came from (`s3://…`, a file path, or `ldaps://…`).
    pub source: String,
    /// When it was written (S3 `LastModified`), when known.
    pub last_modified: Option<Timestamp>,
    /// Its encoding.
    pub encoding: Option<TextEncoding>,
    /// Which export wrote it.
    pub format: Option<ExportFormat>,
    /// Enabled users (the desired set).
    pub enabled: usize,
    /// Disabled users (not desired). Always 0 for a directory: its search filter leaves them out.
    pub disabled: usize,
    /// Rows naming a user already listed.
    pub duplicates: usize,
    /// Why the list was refused, when it was (file-level problem, or rejected rows).
    pub error: Option<String>,
    /// The rejected rows, when there were any.
    pub rejects: Vec<Reject>,
    /// Directory sources: the pages the search took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
    /// Directory sources: the entries that could not be read, by DN.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry_rejects: Vec<EntryReject>,
}

/// One item the service refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailedItem {
    /// `create`, `terminate` or `adopt`.
    pub operation: &'static str,
    /// The user.
    pub user: String,
    /// The WorkSpace, for terminate and adopt.
    pub workspace_id: Option<String>,
    /// The service's error code.
    pub code: String,
    /// The service's message (or the call's error).
    pub reason: String,
}

/// Work left for the next run when the time budget ran out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Deferred {
    /// Users not yet created.
    pub create: usize,
    /// WorkSpaces not yet terminated.
    pub terminate: usize,
    /// WorkSpaces not yet adopted.
    pub adopt: usize,
}

/// Desired users with a usable DR WorkSpace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Readiness {
    /// Desired users whose DR WorkSpace is AVAILABLE or STOPPED.
    pub ready: usize,
    /// Desired users.
    pub desired: usize,
    /// `ready / desired × 100` (100 when nobody is desired).
    pub percent: f64,
}

impl Readiness {
    /// From the two counts.
    pub fn new(ready: usize, desired: usize) -> Readiness {
        // Counts are far below 2^52: the conversions are exact.
        #[allow(clippy::cast_precision_loss)]
        let percent = if desired == 0 { 100.0 } else { ready as f64 * 100.0 / desired as f64 };
        Readiness { ready, desired, percent }
    }
}

/// What the re-describe after the changes found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    /// Users whose creation was accepted but whose WorkSpace is not listed yet (WorkSpaces creates
    /// asynchronously; the next run sees them or creates again).
    pub created_not_listed: Vec<String>,
    /// WorkSpaces whose termination was accepted but which are still live.
    pub terminated_still_live: Vec<String>,
}

/// How much the client-side rate limiter held the run back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RateLimited {
    /// Calls that waited for a token.
    pub waits: u64,
    /// Total time spent waiting, in seconds.
    pub waited_seconds: f64,
}

/// The report of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    /// This run's id.
    pub run_id: String,
    /// The DR directory.
    pub directory_id: String,
    /// What started the run (`s3`, `schedule`, `direct`, `cli`).
    pub trigger: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Start time.
    pub started_at: Timestamp,
    /// End time.
    pub finished_at: Timestamp,
    /// The users list read.
    pub users: UsersSummary,
    /// The plan's totals (absent when the run did not get as far as planning).
    pub plan: Option<Counts>,
    /// Why the plan was blocked.
    pub blocked: Option<Blocked>,
    /// Why the run was skipped.
    pub skipped: Option<String>,
    /// Dry runs: the users who would get a WorkSpace.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned_create: Vec<String>,
    /// Dry runs: the WorkSpaces that would be terminated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned_terminate: Vec<String>,
    /// Users whose WorkSpace creation was accepted.
    pub created: Vec<String>,
    /// Users who turned out to have a WorkSpace already (`ResourceExists.WorkSpace`).
    pub already_existed: Vec<String>,
    /// WorkSpaces that got wsdr's ownership tag.
    pub adopted: Vec<String>,
    /// WorkSpaces whose termination was accepted.
    pub terminated: Vec<String>,
    /// Items the service refused, each with its reason; retried by the next run.
    pub failed: Vec<FailedItem>,
    /// Work left for the next run.
    pub deferred: Deferred,
    /// Why due terminations were held back (DR in use), if they were.
    pub terminations_withheld: Option<String>,
    /// How many were held back.
    pub withheld: usize,
    /// Owned WorkSpaces of users who left, still in their grace period.
    pub pending_termination: usize,
    /// WorkSpaces left alone that wsdr does not own (or that are duplicates / in ERROR).
    pub unmanaged: usize,
    /// Readiness after the run (from the re-describe when anything changed).
    pub readiness: Readiness,
    /// What the re-describe after the changes found (absent when nothing changed).
    pub confirmation: Option<Confirmation>,
    /// The client-side rate limiter's effect.
    pub rate_limited: RateLimited,
    /// Where this report was written, if anywhere.
    pub report_location: Option<String>,
}

impl RunReport {
    /// Whether admins should hear about this run (blocked, refused list, or failed operations).
    pub fn needs_attention(&self) -> bool {
        matches!(self.outcome, Outcome::Blocked | Outcome::InvalidUsers) || !self.failed.is_empty()
    }

    /// One line for people: what happened.
    pub fn summary(&self) -> String {
        match self.outcome {
            Outcome::Skipped => {
                format!(
                    "skipped: {}",
                    self.skipped.as_deref().unwrap_or("another run holds the lock")
                )
            }
            Outcome::InvalidUsers => format!(
                "refused the users list {}: {}",
                self.users.source,
                self.users.error.as_deref().unwrap_or("unreadable")
            ),
            Outcome::Blocked => format!(
                "blocked: {}",
                self.blocked
                    .as_ref()
                    .map_or("by the safety policy", |blocked| blocked.reason.as_str())
            ),
            _ => format!(
                "{}{} created, {} terminated, {} adopted, {} failed, {} pending termination; readiness {:.1}% \
                 ({}/{})",
                if self.dry_run { "dry run (nothing changed): " } else { "" },
                self.created.len(),
                self.terminated.len(),
                self.adopted.len(),
                self.failed.len(),
                self.pending_termination,
                self.readiness.percent,
                self.readiness.ready,
                self.readiness.desired
            ),
        }
    }
}
