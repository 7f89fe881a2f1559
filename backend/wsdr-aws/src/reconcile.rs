//! The reconcile driver: read the users list (an S3 export, a file, or the directory itself), take the directory's lock, read the DR directory, plan with
//! `wsdr_core::plan`, carry the plan out in batches (unless it is blocked or a dry run), save the grace period's
//! memory, re-describe to confirm, and report. Every decision is the core's; this module only sequences calls.
//!
//! Safety, stated as absences: nothing is terminated unless the users list was read whole and without a rejected
//! row, the plan is not blocked, and this run holds the lock; a run that cannot take the lock changes nothing.

pub mod config;
pub mod report;
pub mod signals;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use wsdr_core::failover::{RecordRead, terminations_withheld};
use wsdr_core::plan::{IgnoreReason, MissingSince, Plan, plan};
use wsdr_core::username::{UserKey, Username};
use wsdr_core::users::{DesiredUsers, parse_users};
use wsdr_core::workspace::{Ownership, Workspace, WorkspaceId};
use wsdr_ldap::DirectorySource;

use crate::clock::Clock;
use crate::error::{AwsError, ErrorKind};
use crate::limiter::{Rate, RateLimiter};
use crate::s3::{Precondition, Put, S3Location, S3Store};
use crate::sdk::Clients;
use crate::state::{Acquired, Held, LastRun, StateStore};
use crate::tagging::TaggingApi;
use crate::workspaces::{Created, Terminated, WorkspacesApi};
pub use config::{ReconcileConfig, Settings};
use report::{Confirmation, Deferred, FailedItem, RateLimited, Readiness, UsersSummary};
pub use report::{Outcome, RunReport};

/// The services a run talks to.
#[derive(Clone, Debug)]
pub struct Ports {
    /// WorkSpaces in the DR region, rate-limited.
    pub workspaces: WorkspacesApi,
    /// Ownership tags.
    pub tagging: TaggingApi,
    /// Users exports, state and reports.
    pub store: S3Store,
}

impl Ports {
    /// Ports on `clients`, WorkSpaces calls limited to `rate`.
    pub fn new(clients: &Clients, rate: Rate) -> Ports {
        Ports {
            workspaces: WorkspacesApi::new(
                clients.workspaces.clone(),
                Arc::new(RateLimiter::new(rate)),
            ),
            tagging: TaggingApi::new(clients.tagging.clone()),
            store: S3Store::new(clients.s3.clone()),
        }
    }
}

/// Where the users list comes from.
#[derive(Clone, Debug)]
pub enum UsersInput {
    /// An export in S3.
    S3(S3Location),
    /// Bytes already read (a local file).
    Bytes {
        /// Where they came from, for the report.
        source: String,
        /// The export's bytes.
        bytes: Vec<u8>,
    },
    /// The enabled users of an OU, read from a domain controller.
    Directory(DirectorySource),
}

/// Follows a run's progress (a terminal's progress bar, or nothing).
pub trait Progress: Send + Sync {
    /// A new stage begins.
    fn stage(&self, _message: &str) {}
    /// The number of items (creations, terminations, adoptions) the run will carry out.
    fn items(&self, _total: u64) {}
    /// `done` more items were carried out.
    fn advance(&self, _done: u64) {}
    /// The run is over.
    fn finish(&self) {}
}

/// No progress display.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A time budget: stop starting batches once less than `reserve` remains before `at`.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    /// When the run must be over (e.g. the Lambda invocation's deadline).
    pub at: Instant,
    /// Time kept for saving state, confirming and reporting.
    pub reserve: Duration,
}

impl Deadline {
    fn is_near(self) -> bool {
        self.at.saturating_duration_since(Instant::now()) < self.reserve
    }
}

/// How a run is started.
pub struct Run<'a> {
    /// What started it (`s3`, `schedule`, `direct`, `cli`), for the report.
    pub trigger: &'a str,
    /// The time.
    pub clock: &'a dyn Clock,
    /// The time budget, if any.
    pub deadline: Option<Deadline>,
    /// Progress display.
    pub progress: &'a dyn Progress,
}

/// Runs one reconciliation. Errors are AWS failures that stopped the run (classified retryable or not); every
/// other ending — blocked, refused list, skipped, partial failures — is a report.
pub async fn reconcile(
    ports: &Ports,
    config: &ReconcileConfig,
    users: UsersInput,
    run: &Run<'_>,
) -> Result<RunReport, AwsError> {
    let started_at = run.clock.now();
    let waited_before = ports.workspaces.limiter().waited();
    let mut report = new_report(config, run, started_at);

    run.progress.stage("Reading the users list");
    let desired = match load_users(&ports.store, users, &mut report.users).await? {
        Some(desired) => desired,
        None => {
            report.outcome = Outcome::InvalidUsers;
            return finish(ports, config, run, report, waited_before).await;
        }
    };

    let state = config.state.clone().map(|location| StateStore::new(ports.store.clone(), location));
    let (missing_since, held) = match &state {
        None => (MissingSince::new(), None),
        Some(state) if config.dry_run => (state.peek().await?.missing_since(), None),
        Some(state) => match state.acquire(&report.run_id, started_at, config.lease_ttl).await? {
            Acquired::Held(held) => (held.state().missing_since(), Some(held)),
            Acquired::Busy(lease) => {
                report.outcome = Outcome::Skipped;
                report.skipped = Some(format!(
                    "run {} holds the lock on {} until {}",
                    lease.run_id,
                    state.location(),
                    lease.expires_at
                ));
                return finish(ports, config, run, report, waited_before).await;
            }
        },
    };

    let mut execution = Execution { ports, config, run, state: state.as_ref(), held, report };
    match execution.plan_and_apply(&desired, &missing_since).await {
        Ok(()) => {
            let Execution { report, .. } = execution;
            finish(ports, config, run, report, waited_before).await
        }
        Err(error) => {
            // Free the lock for the next run; the state it read stays as it was.
            if let (Some(state), Some(held)) = (execution.state, execution.held.take())
                && let Err(release_error) =
                    state.release(held, &missing_since, execution.last_run("error")).await
            {
                tracing::warn!(error = %release_error, "could not release the reconcile lock");
            }
            Err(error)
        }
    }
}

/// A run past its lock: plans, applies, saves state.
struct Execution<'a> {
    ports: &'a Ports,
    config: &'a ReconcileConfig,
    run: &'a Run<'a>,
    state: Option<&'a StateStore>,
    held: Option<Held>,
    report: RunReport,
}

impl Execution<'_> {
    async fn plan_and_apply(
        &mut self,
        desired: &DesiredUsers,
        missing_since: &MissingSince,
    ) -> Result<(), AwsError> {
        let directory = &self.config.spec.directory_id;
        self.run.progress.stage("Reading the DR directory");
        let current = self.inventory().await?;
        let now = self.run.clock.now();
        let mut plan = plan(desired, &current, missing_since, &self.config.policy, now);
        if let Some(reason) = self.dr_in_use().await? {
            plan.withhold_terminations(reason);
        }
        if let Some(withheld) = &plan.withheld {
            self.report.terminations_withheld = Some(withheld.reason.clone());
            self.report.withheld = withheld.terminate.len();
        }
        self.report.plan = Some(plan.counts);
        self.report.pending_termination = plan.pending.len();
        self.report.unmanaged =
            plan.ignore.iter().filter(|ignored| ignored.reason == IgnoreReason::NotOwned).count();
        self.report.readiness = Readiness::new(plan.counts.ready, plan.counts.desired);
        tracing::info!(
            directory = directory.as_str(),
            desired = plan.counts.desired,
            create = plan.counts.create,
            terminate = plan.counts.terminate,
            adopt = plan.counts.adopt,
            blocked = plan.is_blocked(),
            "planned"
        );

        if let Some(blocked) = &plan.blocked {
            self.report.outcome = Outcome::Blocked;
            self.report.blocked = Some(blocked.clone());
        } else if self.config.dry_run {
            self.report.outcome = Outcome::DryRun;
            self.report.planned_create =
                plan.create.iter().map(|create| create.user.to_string()).collect();
            self.report.planned_terminate =
                plan.terminate.iter().map(|terminate| terminate.workspace_id.to_string()).collect();
        } else {
            self.apply(&plan).await?;
        }

        if let (Some(state), Some(held)) = (self.state, self.held.take()) {
            let last_run = self.last_run(self.report.outcome.as_str());
            state.release(held, &plan.missing_since, last_run).await?;
        }
        if self.changed_anything() {
            self.confirm(desired, &plan).await?;
        }
        Ok(())
    }

    /// Why terminations must wait, when the failover record says users may be on DR (or cannot be read: the
    /// safe reading of an unreadable record is "maybe"). The decision is the core's; this only reads.
    async fn dr_in_use(&self) -> Result<Option<String>, AwsError> {
        let Some(location) = &self.config.failover_record else { return Ok(None) };
        let object = self.ports.store.get_if_exists(location).await?;
        let read = match &object {
            None => RecordRead::Absent,
            Some(object) => RecordRead::Stored(&object.bytes),
        };
        Ok(terminations_withheld(read, &location.to_string()))
    }

    /// The directory's WorkSpaces with their ownership, read together.
    async fn inventory(&self) -> Result<Vec<Workspace>, AwsError> {
        let (mut workspaces, owned) = tokio::try_join!(
            self.ports.workspaces.describe_directory(&self.config.spec.directory_id),
            self.ports.tagging.owned_workspaces(),
        )?;
        apply_ownership(&mut workspaces, &owned);
        Ok(workspaces)
    }

    async fn apply(&mut self, plan: &Plan) -> Result<(), AwsError> {
        let total = plan.adopt.len() + plan.create.len() + plan.terminate.len();
        self.run.progress.items(total as u64);
        self.report.outcome = Outcome::Completed;

        if !plan.adopt.is_empty() {
            self.run.progress.stage("Adopting untagged WorkSpaces of listed users");
        }
        for (index, adopt) in plan.adopt.iter().enumerate() {
            if self.out_of_time().await? {
                self.report.deferred.adopt = plan.adopt.len() - index;
                break;
            }
            match self.ports.workspaces.tag_as_owned(&adopt.workspace_id).await {
                Ok(()) => self.report.adopted.push(adopt.workspace_id.to_string()),
                Err(error) => self.report.failed.push(failed(
                    "adopt",
                    &adopt.user,
                    Some(&adopt.workspace_id),
                    &error,
                )),
            }
            self.run.progress.advance(1);
        }

        if !plan.create.is_empty() {
            self.run.progress.stage("Creating DR WorkSpaces");
        }
        let mut batches = plan.create_batches();
        while let Some(batch) = batches.next() {
            if self.out_of_time().await? {
                self.report.deferred.create = batch.len() + batches.map(<[_]>::len).sum::<usize>();
                break;
            }
            let users: Vec<Username> = batch.iter().map(|create| create.user.clone()).collect();
            match self
                .ports
                .workspaces
                .create(&self.config.spec, &users, self.run.clock.now())
                .await
            {
                Ok(outcomes) => {
                    for (user, outcome) in users.iter().zip(outcomes) {
                        let user = user.to_string();
                        match outcome {
                            Created::Pending(_) => self.report.created.push(user),
                            Created::AlreadyExists => self.report.already_existed.push(user),
                            Created::Failed { code, message } => {
                                self.report.failed.push(FailedItem {
                                    operation: "create",
                                    user,
                                    workspace_id: None,
                                    code,
                                    reason: message,
                                })
                            }
                        }
                    }
                }
                Err(error) => {
                    for user in &users {
                        self.report.failed.push(failed("create", user.as_str(), None, &error));
                    }
                }
            }
            self.run.progress.advance(batch.len() as u64);
        }

        if !plan.terminate.is_empty() {
            self.run.progress.stage("Terminating DR WorkSpaces of users who left");
        }
        let mut batches = plan.terminate_batches();
        while let Some(batch) = batches.next() {
            if self.out_of_time().await? {
                self.report.deferred.terminate =
                    batch.len() + batches.map(<[_]>::len).sum::<usize>();
                break;
            }
            // A failover may have been declared since the plan was made: ask again before every batch.
            if let Some(reason) = self.dr_in_use().await? {
                tracing::warn!(%reason, "terminations stopped: DR came into use during the run");
                self.report.withheld += batch.len() + batches.map(<[_]>::len).sum::<usize>();
                self.report.terminations_withheld = Some(reason);
                break;
            }
            let ids: Vec<WorkspaceId> =
                batch.iter().map(|terminate| terminate.workspace_id.clone()).collect();
            match self.ports.workspaces.terminate(&ids).await {
                Ok(outcomes) => {
                    for (terminate, outcome) in batch.iter().zip(outcomes) {
                        match outcome {
                            Terminated::Accepted => {
                                self.report.terminated.push(terminate.workspace_id.to_string())
                            }
                            Terminated::Failed { code, message } => {
                                self.report.failed.push(FailedItem {
                                    operation: "terminate",
                                    user: terminate.user.clone(),
                                    workspace_id: Some(terminate.workspace_id.to_string()),
                                    code,
                                    reason: message,
                                })
                            }
                        }
                    }
                }
                Err(error) => {
                    for terminate in batch {
                        self.report.failed.push(failed(
                            "terminate",
                            &terminate.user,
                            Some(&terminate.workspace_id),
                            &error,
                        ));
                    }
                }
            }
            self.run.progress.advance(batch.len() as u64);
        }

        if self.report.deferred != Deferred::default() {
            self.report.outcome = Outcome::Incomplete;
        }
        Ok(())
    }

    /// Whether the time budget is spent; renews the lease on the way when a third of it has gone by.
    async fn out_of_time(&mut self) -> Result<bool, AwsError> {
        if self.run.deadline.is_some_and(Deadline::is_near) {
            return Ok(true);
        }
        if let (Some(state), Some(held)) = (self.state, self.held.as_mut()) {
            let now = self.run.clock.now();
            let acquired = held
                .state()
                .lease
                .as_ref()
                .map_or(now, |lease| lease.expires_at - self.config.lease_ttl);
            if now.duration_since(acquired) > self.config.lease_ttl / 3 {
                state.renew(held, now, self.config.lease_ttl).await?;
            }
        }
        Ok(false)
    }

    fn changed_anything(&self) -> bool {
        !(self.report.created.is_empty()
            && self.report.terminated.is_empty()
            && self.report.adopted.is_empty())
    }

    /// Re-describes the directory: readiness as it now stands, and whether every accepted change shows.
    async fn confirm(&mut self, desired: &DesiredUsers, plan: &Plan) -> Result<(), AwsError> {
        self.run.progress.stage("Confirming");
        let mut after =
            self.ports.workspaces.describe_directory(&self.config.spec.directory_id).await?;
        // Ownership does not change readiness; what this run created or adopted is owned.
        let owned: BTreeMap<WorkspaceId, Ownership> = after
            .iter()
            .filter(|workspace| {
                !plan.ignore.iter().any(|ignored| ignored.workspace_id == workspace.id)
            })
            .map(|workspace| (workspace.id.clone(), Ownership { owned: true, created_at: None }))
            .collect();
        apply_ownership(&mut after, &owned);
        let replan = wsdr_core::plan::plan(
            desired,
            &after,
            &plan.missing_since,
            &self.config.policy,
            self.run.clock.now(),
        );
        self.report.readiness = Readiness::new(replan.counts.ready, replan.counts.desired);

        let live_users: Vec<UserKey> = after
            .iter()
            .filter(|workspace| !workspace.state.is_gone())
            .filter_map(|workspace| UserKey::new(workspace.user_name.as_deref()?).ok())
            .collect();
        let live_ids: BTreeMap<&str, &Workspace> = after
            .iter()
            .filter(|workspace| !workspace.state.is_gone())
            .map(|workspace| (workspace.id.as_str(), workspace))
            .collect();
        let mut confirmation = Confirmation::default();
        for user in &self.report.created {
            if !UserKey::new(user).is_ok_and(|key| live_users.contains(&key)) {
                confirmation.created_not_listed.push(user.clone());
            }
        }
        for id in &self.report.terminated {
            if live_ids.contains_key(id.as_str()) {
                confirmation.terminated_still_live.push(id.clone());
            }
        }
        self.report.confirmation = Some(confirmation);
        Ok(())
    }

    fn last_run(&self, outcome: &str) -> LastRun {
        LastRun {
            run_id: self.report.run_id.clone(),
            finished_at: self.run.clock.now(),
            outcome: outcome.to_owned(),
        }
    }
}

/// Marks the WorkSpaces that the tagging API lists as wsdr's.
fn apply_ownership(workspaces: &mut [Workspace], owned: &BTreeMap<WorkspaceId, Ownership>) {
    for workspace in workspaces {
        if let Some(ownership) = owned.get(&workspace.id) {
            workspace.owned = ownership.owned;
            workspace.created_at = ownership.created_at;
        }
    }
}

/// Reads and validates the users list; `None` (with the reason in `summary`) when it must not be used.
async fn load_users(
    store: &S3Store,
    input: UsersInput,
    summary: &mut UsersSummary,
) -> Result<Option<DesiredUsers>, AwsError> {
    let bytes = match input {
        UsersInput::Directory(source) => return Ok(read_directory(&source, summary).await),
        UsersInput::Bytes { source, bytes } => {
            summary.source = source;
            bytes
        }
        UsersInput::S3(location) => {
            summary.source = location.to_string();
            match store.get(&location).await {
                Ok(object) => {
                    summary.last_modified = object.last_modified;
                    object.bytes
                }
                Err(error) if error.kind == ErrorKind::NotFound => {
                    summary.error = Some(format!("{location} does not exist"));
                    return Ok(None);
                }
                Err(error) => return Err(error),
            }
        }
    };
    let list = match parse_users(&bytes) {
        Ok(list) => list,
        Err(error) => {
            summary.error = Some(error.to_string());
            return Ok(None);
        }
    };
    summary.encoding = Some(list.encoding);
    summary.format = Some(list.format);
    summary.enabled = list.enabled.len();
    summary.disabled = list.disabled.len();
    summary.duplicates = list.duplicates.len();
    match list.into_desired() {
        Ok(desired) => Ok(Some(desired)),
        Err(rejected) => {
            summary.error = Some(rejected.to_string());
            summary.rejects = rejected.rejects;
            Ok(None)
        }
    }
}

/// The desired users of a directory source, or `None` (the reason in `summary`) when it could not be read whole.
async fn read_directory(
    source: &DirectorySource,
    summary: &mut UsersSummary,
) -> Option<DesiredUsers> {
    summary.source = source.url.to_string();
    let read = match wsdr_ldap::read_users(source).await {
        Ok(read) => read,
        Err(error) => {
            summary.error = Some(error.to_string());
            return None;
        }
    };
    summary.pages = Some(read.pages);
    summary.enabled = read.users.enabled.len();
    summary.duplicates = read.users.duplicates.len();
    match read.users.into_desired() {
        Ok(desired) => Some(desired),
        Err(rejected) => {
            summary.error = Some(rejected.to_string());
            summary.entry_rejects = rejected.rejects;
            None
        }
    }
}

fn new_report(config: &ReconcileConfig, run: &Run<'_>, started_at: Timestamp) -> RunReport {
    RunReport {
        run_id: format!("{}-{:08x}", started_at.strftime("%Y%m%dT%H%M%SZ"), fastrand::u32(..)),
        directory_id: config.spec.directory_id.to_string(),
        trigger: run.trigger.to_owned(),
        outcome: Outcome::Completed,
        dry_run: config.dry_run,
        started_at,
        finished_at: started_at,
        users: UsersSummary::default(),
        plan: None,
        blocked: None,
        skipped: None,
        planned_create: Vec::new(),
        planned_terminate: Vec::new(),
        created: Vec::new(),
        already_existed: Vec::new(),
        adopted: Vec::new(),
        terminated: Vec::new(),
        failed: Vec::new(),
        deferred: Deferred::default(),
        terminations_withheld: None,
        withheld: 0,
        pending_termination: 0,
        unmanaged: 0,
        readiness: Readiness::default(),
        confirmation: None,
        rate_limited: RateLimited::default(),
        report_location: None,
    }
}

/// Stamps the end of the run and writes the report to S3 (when configured).
async fn finish(
    ports: &Ports,
    config: &ReconcileConfig,
    run: &Run<'_>,
    mut report: RunReport,
    waited_before: (u64, Duration),
) -> Result<RunReport, AwsError> {
    let (waits, waited) = ports.workspaces.limiter().waited();
    report.rate_limited = RateLimited {
        waits: waits - waited_before.0,
        waited_seconds: (waited - waited_before.1).as_secs_f64(),
    };
    report.finished_at = run.clock.now();
    if let Some(folder) = &config.reports {
        run.progress.stage("Writing the report");
        let location =
            folder.sibling(format!("{}{}/{}.json", folder.key, report.directory_id, report.run_id));
        report.report_location = Some(location.to_string());
        let bytes = serde_json::to_vec_pretty(&report)
            .map_err(|error| AwsError::rejected("s3:PutObject", error.to_string()))?;
        ports.store.put(&location, bytes, &Put::json(Precondition::Absent)).await?;
    }
    run.progress.finish();
    Ok(report)
}

fn failed(
    operation: &'static str,
    user: &str,
    workspace_id: Option<&WorkspaceId>,
    error: &AwsError,
) -> FailedItem {
    FailedItem {
        operation,
        user: user.to_owned(),
        workspace_id: workspace_id.map(ToString::to_string),
        code: error.code.clone().unwrap_or_else(|| format!("{:?}", error.kind)),
        reason: error.to_string(),
    }
}
