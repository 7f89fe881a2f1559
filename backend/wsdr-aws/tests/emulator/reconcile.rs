//! Reconciliation against the emulator: every scenario of the live-reconciliation issue, and each defect of the
//! original sample (domain-facts 1.7) as a run that must not repeat it.

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use wsdr_aws::clock::{Clock, FixedClock, SystemClock};
use wsdr_aws::limiter::Rate;
use wsdr_aws::reconcile::{
    NoProgress, Outcome, Ports, Run, RunReport, Settings, UsersInput, reconcile,
};
use wsdr_aws::s3::S3Location;
use wsdr_aws::sdk::Clients;
use wsdr_core::policy::Limits;
use wsdr_core::workspace::{OWNER_TAG_KEY, WorkspaceState};

use crate::support::{Emulator, calls};

const BUCKET: &str = "wsdr-state";
const USERS_KEY: &str = "users/workspaces-users.csv";

/// One emulator with a registered DR directory, a bucket, and the ports a run uses.
struct Site {
    emulator: Emulator,
    clients: Clients,
    ports: Ports,
    directory_id: String,
    bundle_id: String,
}

impl Site {
    /// Lifecycle delays short enough for tests; the documented throttling (2/s, burst 5) stays on.
    async fn start() -> Site {
        Site::start_with(&["--pending-seconds", "0.2", "--terminating-seconds", "0.2"]).await
    }

    async fn start_with(knobs: &[&str]) -> Site {
        let emulator = Emulator::start(knobs);
        let (directory_id, bundle_id) = emulator.bootstrap();
        let clients = emulator.clients().await;
        clients.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let ports = Ports::new(&clients, Rate::WORKSPACES);
        emulator.take_counters();
        Site { emulator, clients, ports, directory_id, bundle_id }
    }

    fn settings(&self, grace_days: u32) -> Settings {
        Settings {
            directory_id: self.directory_id.clone(),
            bundle_id: self.bundle_id.clone(),
            auto_stop_timeout_minutes: 60,
            limits: Limits { grace_days, ..Limits::RECOMMENDED },
            state_prefix: Some(format!("s3://{BUCKET}/state/")),
            reports_prefix: Some(format!("s3://{BUCKET}/reports/")),
            ..Settings::default()
        }
    }

    async fn upload(&self, csv: &str) -> S3Location {
        self.clients
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(USERS_KEY)
            .body(ByteStream::from(csv.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
        S3Location::new(BUCKET, USERS_KEY)
    }

    async fn run(&self, settings: &Settings, clock: &dyn Clock) -> RunReport {
        let config = settings.validate().unwrap();
        let run = Run { trigger: "test", clock, deadline: None, progress: &NoProgress };
        let report = reconcile(
            &self.ports,
            &config,
            UsersInput::S3(S3Location::new(BUCKET, USERS_KEY)),
            &run,
        )
        .await
        .unwrap();
        println!("{}", report.summary());
        report
    }

    /// Uploads `csv` and runs with grace 0 at the system time.
    async fn sync(&self, csv: &str) -> RunReport {
        self.upload(csv).await;
        self.run(&self.settings(0), &SystemClock).await
    }

    /// The directory's live WorkSpaces: user → (id, state, owned).
    async fn live(&self) -> BTreeMap<String, Vec<(String, WorkspaceState)>> {
        let mut by_user: BTreeMap<String, Vec<(String, WorkspaceState)>> = BTreeMap::new();
        let directory = wsdr_core::workspace::DirectoryId::new(&self.directory_id).unwrap();
        for workspace in self.ports.workspaces.describe_directory(&directory).await.unwrap() {
            if !workspace.state.is_gone() {
                by_user
                    .entry(workspace.user_name.clone().unwrap_or_default())
                    .or_default()
                    .push((workspace.id.to_string(), workspace.state));
            }
        }
        by_user
    }

    /// Creates a WorkSpace directly (not through wsdr), untagged, in `directory`.
    async fn create_untagged(&self, directory: &str, user: &str) -> String {
        let request = aws_sdk_workspaces::types::WorkspaceRequest::builder()
            .directory_id(directory)
            .user_name(user)
            .bundle_id(&self.bundle_id)
            .build()
            .unwrap();
        let output =
            self.clients.workspaces.create_workspaces().workspaces(request).send().await.unwrap();
        assert!(output.failed_requests().is_empty(), "{:?}", output.failed_requests());
        output.pending_requests()[0].workspace_id().unwrap().to_owned()
    }
}

fn users_csv(names: impl IntoIterator<Item = String>) -> String {
    let mut csv = String::from("SamAccountName,Enabled,UserPrincipalName\r\n");
    for name in names {
        csv.push_str(&format!("{name},True,{name}@corp.example.com\r\n"));
    }
    csv
}

fn user(index: usize) -> String {
    format!("user{index:03}")
}

#[tokio::test(flavor = "multi_thread")]
async fn hundred_users_from_empty_get_one_autostop_workspace_each() {
    let site = Site::start().await;
    let report = site.sync(&users_csv((0..100).map(user))).await;

    assert_eq!(report.outcome, Outcome::Completed);
    assert_eq!(report.created.len(), 100);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let counters = site.emulator.take_counters();
    assert_eq!(calls(&counters, "workspaces:CreateWorkspaces"), 4, "⌈100/25⌉ calls: {counters}");
    assert_eq!(
        calls(&counters, "workspaces:DescribeWorkspaces"),
        1 + 4,
        "one empty page, then 4 to confirm"
    );
    assert_eq!(
        counters["total_throttled"], 0,
        "the client-side limiter kept under the quota: {counters}"
    );

    site.emulator.settle();
    let live = site.live().await;
    assert_eq!(live.len(), 100);
    assert!(live.values().all(|workspaces| workspaces.len() == 1));
    // Tagged as wsdr's at creation, AutoStop: the second run has nothing to do and readiness is 100 %.
    let again = site.run(&site.settings(0), &SystemClock).await;
    assert_eq!((again.created.len(), again.terminated.len(), again.adopted.len()), (0, 0, 0));
    assert!((again.readiness.percent - 100.0).abs() < f64::EPSILON, "{:?}", again.readiness);
    let described = site
        .clients
        .workspaces
        .describe_workspaces()
        .directory_id(&site.directory_id)
        .limit(1)
        .send()
        .await;
    let properties = described.unwrap().workspaces()[0].workspace_properties().cloned().unwrap();
    assert_eq!(properties.running_mode().map(|mode| mode.as_str()), Some("AUTO_STOP"));
    assert_eq!(properties.running_mode_auto_stop_timeout_in_minutes(), Some(60));
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_of_sixty_leave_and_exactly_those_ten_are_terminated() {
    let site = Site::start().await;
    site.sync(&users_csv((0..60).map(user))).await;
    site.emulator.settle();
    let before = site.live().await;

    let report = site.sync(&users_csv((10..60).map(user))).await;

    assert_eq!(report.outcome, Outcome::Completed);
    let expected: Vec<String> = (0..10).map(|i| before[&user(i)][0].0.clone()).collect();
    let mut terminated = report.terminated.clone();
    terminated.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(
        terminated, expected_sorted,
        "the sample terminated 5 or 0 of these (pagination, batches)"
    );
    site.emulator.settle();
    let after = site.live().await;
    assert_eq!(after.len(), 50);
    assert!((0..10).all(|i| !after.contains_key(&user(i))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_differing_only_in_case_changes_nothing() {
    let site = Site::start().await;
    site.sync(&users_csv(["Alice", "BOB", "Émile"].map(String::from))).await;
    site.emulator.settle();
    site.emulator.take_counters();

    let report = site.sync(&users_csv(["alice", "bob", "ÉMILE"].map(String::from))).await;

    assert_eq!((report.created.len(), report.terminated.len()), (0, 0), "{report:?}");
    let counters = site.emulator.take_counters();
    assert_eq!(
        calls(&counters, "workspaces:CreateWorkspaces")
            + calls(&counters, "workspaces:TerminateWorkspaces"),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_and_header_only_exports_are_blocked_and_terminate_nothing() {
    let site = Site::start().await;
    site.sync(&users_csv((0..5).map(user))).await;
    site.emulator.settle();
    site.emulator.take_counters();

    for export in ["", "SamAccountName,Enabled,UserPrincipalName\r\n", "\u{feff}\r\n\r\n"] {
        let report = site.sync(export).await;
        assert_eq!(report.outcome, Outcome::Blocked, "{export:?}");
        assert!(report.blocked.as_ref().unwrap().reason.contains("empty"), "{:?}", report.blocked);
        assert!(report.terminated.is_empty());
    }
    let counters = site.emulator.take_counters();
    assert_eq!(calls(&counters, "workspaces:TerminateWorkspaces"), 0, "{counters}");
    assert_eq!(site.live().await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_or_missing_export_changes_nothing() {
    let site = Site::start().await;
    site.sync(&users_csv((0..3).map(user))).await;
    site.emulator.take_counters();

    let report = site.sync("SamAccountName,Enabled\r\nuser000,True\r\n-bad name,True\r\n").await;
    assert_eq!(report.outcome, Outcome::InvalidUsers);
    assert_eq!(report.users.rejects[0].line, 3, "{:?}", report.users);

    site.clients.s3.delete_object().bucket(BUCKET).key(USERS_KEY).send().await.unwrap();
    let report = site.run(&site.settings(0), &SystemClock).await;
    assert_eq!(report.outcome, Outcome::InvalidUsers);
    assert!(report.users.error.as_deref().unwrap().contains("does not exist"));

    let counters = site.emulator.take_counters();
    assert_eq!(calls(&counters, "workspaces:DescribeWorkspaces"), 0, "not even read: {counters}");
    assert_eq!(site.live().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_export_twice_only_describes_the_second_time() {
    let site = Site::start().await;
    let csv = users_csv((0..30).map(user));
    site.sync(&csv).await;
    site.emulator.take_counters();

    let report = site.sync(&csv).await;

    assert_eq!(report.outcome, Outcome::Completed);
    let counters = site.emulator.take_counters();
    let workspaces_calls: BTreeMap<&str, u64> = counters["calls"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(operation, _)| operation.starts_with("workspaces:"))
        .map(|(operation, count)| (operation.as_str(), count.as_u64().unwrap()))
        .collect();
    assert_eq!(
        workspaces_calls,
        BTreeMap::from([("workspaces:DescribeWorkspaces", 2)]),
        "{counters}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_event_delivered_twice_at_once_creates_no_duplicates() {
    let site = Site::start().await;
    site.upload(&users_csv((0..40).map(user))).await;
    let settings = site.settings(0);

    let (first, second) =
        tokio::join!(site.run(&settings, &SystemClock), site.run(&settings, &SystemClock));

    let outcomes = [first.outcome, second.outcome];
    assert!(outcomes.contains(&Outcome::Skipped), "one run must find the lock taken: {outcomes:?}");
    assert_eq!(first.created.len() + second.created.len(), 40);
    let live = site.live().await;
    assert_eq!(live.len(), 40);
    assert!(live.values().all(|workspaces| workspaces.len() == 1), "{live:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_runs_lock_expires() {
    let site = Site::start().await;
    site.upload(&users_csv((0..2).map(user))).await;
    let stale = json!({
        "version": 1,
        "lease": {"run_id": "crashed", "acquired_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:15:00Z"},
        "missing_since": {},
        "last_run": null
    });
    let key = format!("state/reconcile/{}.json", site.directory_id);
    site.clients
        .s3
        .put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(ByteStream::from(stale.to_string().into_bytes()))
        .send()
        .await
        .unwrap();

    let during =
        site.run(&site.settings(0), &FixedClock("2026-01-01T00:10:00Z".parse().unwrap())).await;
    assert_eq!(during.outcome, Outcome::Skipped);
    assert!(during.skipped.as_deref().unwrap().contains("crashed"));

    let after =
        site.run(&site.settings(0), &FixedClock("2026-01-01T00:16:00Z".parse().unwrap())).await;
    assert_eq!(after.outcome, Outcome::Completed);
    assert_eq!(after.created.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grace_period_spans_runs() {
    let site = Site::start().await;
    site.upload(&users_csv((0..10).map(user))).await;
    let day0: Timestamp = "2026-03-01T08:00:00Z".parse().unwrap();
    site.run(&site.settings(3), &FixedClock(day0)).await;
    site.emulator.settle();

    site.upload(&users_csv((1..10).map(user))).await;
    let first_seen =
        site.run(&site.settings(3), &FixedClock(day0 + SignedDuration::from_hours(1))).await;
    assert_eq!((first_seen.terminated.len(), first_seen.pending_termination), (0, 1));
    let day2 =
        site.run(&site.settings(3), &FixedClock(day0 + SignedDuration::from_hours(49))).await;
    assert_eq!((day2.terminated.len(), day2.pending_termination), (0, 1), "still in grace");
    let day3 =
        site.run(&site.settings(3), &FixedClock(day0 + SignedDuration::from_hours(73))).await;
    assert_eq!(day3.terminated.len(), 1, "grace counted from the first run that missed the user");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttle_storm_slows_the_run_but_surfaces_no_error() {
    let site = Site::start().await;
    // The service allows a fifth of what the client-side limiter sends: most first attempts are throttled.
    site.emulator.configure(
        json!({"throttle": {"enabled": true, "rate": 0.4, "burst": 1, "services": ["workspaces"]}}),
    );

    let report = site.sync(&users_csv((0..50).map(user))).await;

    assert_eq!(report.outcome, Outcome::Completed);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.created.len(), 50);
    let counters = site.emulator.take_counters();
    assert!(counters["total_throttled"].as_u64().unwrap() > 0, "the storm happened: {counters}");
    site.emulator.settle();
    assert_eq!(site.live().await.len(), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn per_item_failures_are_reported_per_user_and_retried_next_run() {
    let site = Site::start().await;
    site.emulator.configure(json!({"create_failures": {
        "user003": {"ErrorCode": "ResourceLimitExceeded", "ErrorMessage": "WorkSpaces quota reached"},
        "user007": {"ErrorCode": "InvalidParameterValuesException", "ErrorMessage": "bad user"}
    }}));

    let report = site.sync(&users_csv((0..10).map(user))).await;

    assert_eq!(report.created.len(), 8);
    let failed: BTreeMap<&str, &str> =
        report.failed.iter().map(|item| (item.user.as_str(), item.code.as_str())).collect();
    assert_eq!(
        failed,
        BTreeMap::from([
            ("user003", "ResourceLimitExceeded"),
            ("user007", "InvalidParameterValuesException")
        ])
    );
    assert!(report.needs_attention());

    site.emulator.configure(json!({"create_failures": null}));
    let retry = site.sync(&users_csv((0..10).map(user))).await;
    assert_eq!(retry.created, ["user003", "user007"]);
    assert!(retry.failed.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listed_users_workspace_in_another_directory_does_not_count() {
    let site = Site::start().await;
    let other = site.emulator.control(
        "POST",
        "bootstrap",
        Some(json!({"directory_name": "other.example.com"})),
    );
    let other_directory = other["directory_id"].as_str().unwrap();
    site.create_untagged(other_directory, "user000").await;

    let report = site.sync(&users_csv((0..2).map(user))).await;

    assert_eq!(report.created, ["user000", "user001"]);
    assert!(site.live().await.contains_key("user000"));
}

#[tokio::test(flavor = "multi_thread")]
async fn untagged_workspaces_are_adopted_when_listed_and_never_terminated_when_not() {
    let site = Site::start().await;
    let listed = site.create_untagged(&site.directory_id, "user000").await;
    let unlisted = site.create_untagged(&site.directory_id, "contractor").await;
    site.emulator.settle();

    let report = site.sync(&users_csv((0..2).map(user))).await;

    assert_eq!(report.adopted, std::slice::from_ref(&listed));
    assert_eq!(report.created, ["user001"]);
    assert!(report.terminated.is_empty());
    assert_eq!(report.unmanaged, 1);
    let owned = site.ports.tagging.owned_workspaces().await.unwrap();
    assert!(
        owned.keys().any(|id| id.as_str() == listed),
        "adopted means tagged {OWNER_TAG_KEY}: {owned:?}"
    );
    assert!(site.live().await.contains_key("contractor"), "{unlisted} is not wsdr's");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_plans_and_changes_nothing() {
    let site = Site::start().await;
    site.upload(&users_csv((0..7).map(user))).await;
    site.emulator.take_counters();
    let settings = Settings { dry_run: true, ..site.settings(0) };

    let report = site.run(&settings, &SystemClock).await;

    assert_eq!(report.outcome, Outcome::DryRun);
    assert_eq!(report.planned_create.len(), 7);
    assert!(report.created.is_empty());
    let counters = site.emulator.take_counters();
    assert_eq!(calls(&counters, "workspaces:CreateWorkspaces"), 0);
    assert_eq!(calls(&counters, "s3:PutObject"), 1, "the report only, no state write: {counters}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_is_written_to_s3() {
    let site = Site::start().await;
    let report = site.sync(&users_csv((0..3).map(user))).await;

    let location: S3Location = report.report_location.clone().unwrap().parse().unwrap();
    let object = site
        .clients
        .s3
        .get_object()
        .bucket(&location.bucket)
        .key(&location.key)
        .send()
        .await
        .unwrap();
    let stored: serde_json::Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(stored["created"], json!(["user000", "user001", "user002"]));
    assert_eq!(stored["outcome"], "completed");
    assert!(location.key.starts_with(&format!("reports/{}/", site.directory_id)), "{location}");
}

/// The deployment's regions as the failover records of these tests see them.
fn failover_policy() -> wsdr_core::failover::FailoverPolicy {
    use wsdr_core::health::Region;
    wsdr_core::failover::FailoverPolicy::new(
        false,
        Region::parse("eu-west-1").unwrap(),
        Region::parse(super::support::REGION).unwrap(),
    )
    .unwrap()
}

/// The state after an admin declared failover.
fn declared_failover() -> wsdr_core::failover::DrState {
    use wsdr_core::failover::{AdminCommand, DrState, Input};
    DrState::new(0)
        .step(
            &Input::Command(AdminCommand::DeclareFailover { message: None }),
            &failover_policy(),
            Timestamp::UNIX_EPOCH,
        )
        .unwrap()
        .state
}

#[tokio::test(flavor = "multi_thread")]
async fn while_dr_is_in_use_terminations_wait_for_failback() {
    use wsdr_aws::failover::{FailoverRecord, RECORD_FORMAT};
    use wsdr_core::failover::{AdminCommand, DrState, Input, Mode};

    let site = Site::start().await;
    site.sync(&users_csv((0..10).map(user))).await;
    site.emulator.settle();
    let policy = failover_policy();
    let declared = declared_failover();
    assert_eq!(declared.mode(), Mode::Failover);
    let write_record = |state: DrState| {
        let record = FailoverRecord { format: RECORD_FORMAT, state, pending: Vec::new() };
        let s3 = site.clients.s3.clone();
        async move {
            s3.put_object()
                .bucket(BUCKET)
                .key("state/failover/state.json")
                .body(ByteStream::from(serde_json::to_vec(&record).unwrap()))
                .send()
                .await
                .unwrap();
        }
    };
    write_record(declared.clone()).await;

    let during = site.sync(&users_csv((2..11).map(user))).await;
    assert_eq!(during.created, ["user010"], "new users still get their DR WorkSpace");
    assert!(during.terminated.is_empty());
    assert_eq!(during.withheld, 2);
    assert!(during.terminations_withheld.as_deref().unwrap().contains("failback"), "{during:?}");

    let failed_back = declared
        .step(
            &Input::Command(AdminCommand::Failback { message: None }),
            &policy,
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
    assert_eq!(failed_back.state.mode(), Mode::Normal, "{:?}", failed_back.outcome);
    write_record(failed_back.state).await;
    let after = site.sync(&users_csv((2..11).map(user))).await;
    assert_eq!(after.terminated.len(), 2, "{after:?}");
}

/// Writes the declared failover record the moment the run starts terminating: after the plan was made (and after
/// its first read of the record), before the first terminate batch.
struct FailoverDeclaredMidRun {
    s3: aws_sdk_s3::Client,
    record: Vec<u8>,
}

impl wsdr_aws::reconcile::Progress for FailoverDeclaredMidRun {
    fn stage(&self, message: &str) {
        if message.starts_with("Terminating") {
            let put = self
                .s3
                .put_object()
                .bucket(BUCKET)
                .key("state/failover/state.json")
                .body(ByteStream::from(self.record.clone()));
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(put.send()).unwrap();
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failover_declared_during_a_run_stops_its_terminations() {
    // Defect: the DR-in-use guard was read once, at the start; terminate batches can start minutes later.
    use wsdr_aws::failover::FailoverRecord;

    let site = Site::start().await;
    site.sync(&users_csv((0..10).map(user))).await;
    site.emulator.settle();
    let progress = FailoverDeclaredMidRun {
        s3: site.clients.s3.clone(),
        record: FailoverRecord::new(declared_failover()).to_json(),
    };

    site.upload(&users_csv((2..10).map(user))).await;
    let config = site.settings(0).validate().unwrap();
    let run = Run { trigger: "test", clock: &SystemClock, deadline: None, progress: &progress };
    let users = UsersInput::S3(S3Location::new(BUCKET, USERS_KEY));
    let report = reconcile(&site.ports, &config, users, &run).await.unwrap();
    assert!(report.terminated.is_empty(), "{report:?}");
    assert_eq!(report.withheld, 2, "{report:?}");
    assert!(
        report.terminations_withheld.as_deref().unwrap().contains("DR is in use"),
        "{report:?}"
    );
    let counters = site.emulator.take_counters();
    assert!(counters["calls"].get("workspaces:TerminateWorkspaces").is_none(), "{counters}");
}
