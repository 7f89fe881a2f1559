//! `wsdr demo`: the whole DR story on the local default — the AWS-faithful emulator, the real drivers, the real
//! desktop core — each step narrated in a line an admin understands and each expected outcome checked. Exits
//! non-zero when any check fails, so CI runs it as a smoke test.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use tokio::time::Instant;
use wsdr_aws::clock::{Clock as _, SystemClock};
use wsdr_aws::emulator::Emulator;
use wsdr_aws::failover::{FailoverConfig, FailoverDriver};
use wsdr_aws::limiter::Rate;
use wsdr_aws::reconcile::{Outcome, Ports, Run, RunReport, Settings, UsersInput, reconcile};
use wsdr_aws::s3::S3Location;
use wsdr_aws::sdk::{Clients, Retries};
use wsdr_aws::status::{StatusConfig, StatusSigner};
use wsdr_core::failover::{AdminCommand, FailoverPolicy, Message, Mode};
use wsdr_core::health::Region as HealthRegion;
use wsdr_core::policy::Limits;
use wsdr_desktop_core::tray::CheckOutcome;
use wsdr_desktop_core::{
    ConnectTarget, Controller, Desktop, LaunchError, MenuSpec, Notification, TrayStatus,
};
use wsdr_protocol::{KeyId, LaunchUri, LocalSigner};

use super::aws;
use super::reconcile::TerminalProgress;
use crate::cli::DemoArgs;
use crate::failure::Failure;
use crate::output;

const PRIMARY_REGION: &str = "us-east-1";
const DR_REGION: &str = "us-west-2";
const PRIMARY_CODE: &str = "SLiad+PRIM0001";
const USERS_BUCKET: &str = "wsdr-demo-users";
const STATE_BUCKET: &str = "wsdr-demo-state";
const USERS_KEY: &str = "users/workspaces-users.csv";
const STATUS_KEY: &str = "status/status.json";
const KEY_ID: &str = "wsdr-demo-1";
const OPEN_ISSUE: &str = include_str!("../../../../tests/fixtures/health/open-issue-primary.json");
const CLOSED_ISSUE: &str = include_str!("../../../../tests/fixtures/health/closed-issue.json");

pub(super) fn run(args: &DemoArgs) -> Result<(), Failure> {
    aws::block_on(async {
        tokio::select! {
            result = story(args) => result,
            _ = tokio::signal::ctrl_c() => Err(Failure::Operations("interrupted; the emulator is stopped".to_owned())),
        }
    })?
}

async fn story(args: &DemoArgs) -> Result<(), Failure> {
    let mut demo = Demo::start(args).await?;
    let outcome = demo.tell().await;
    output::print(&demo.summary());
    outcome?;
    if demo.failed_checks.is_empty() {
        output::print("\nEvery expected outcome held.\n");
        Ok(())
    } else {
        Err(Failure::Operations(format!(
            "{} expected outcome(s) did not hold:\n  {}",
            demo.failed_checks.len(),
            demo.failed_checks.join("\n  ")
        )))
    }
}

/// Everything the story runs on.
struct Demo {
    users: usize,
    emulator: Emulator,
    clients: Clients,
    sqs: aws_sdk_sqs::Client,
    ports: Ports,
    settings: Settings,
    dr_code: String,
    topic_arn: String,
    queue_url: String,
    workdir: PathBuf,
    steps: Vec<(String, Duration)>,
    failed_checks: Vec<String>,
    alerts: Vec<String>,
    calls: BTreeMap<String, u64>,
    last_report: Option<RunReport>,
    live_workspaces: usize,
    gui_wanted: bool,
    gui: Option<GuiTray>,
    cdn_address: std::net::SocketAddr,
    cdn: tokio::task::JoinHandle<()>,
}

impl Demo {
    async fn start(args: &DemoArgs) -> Result<Demo, Failure> {
        if args.gui
            && std::env::var_os("DISPLAY").is_none()
            && std::env::var_os("WAYLAND_DISPLAY").is_none()
        {
            return Err(Failure::BadInput(
                "--gui needs a display (DISPLAY or WAYLAND_DISPLAY)".to_owned(),
            ));
        }
        heading(
            "Start the local AWS emulator (moto, pinned, with WorkSpaces behaving as AWS documents)",
        );
        let root = repo_root()?;
        let emulator =
            Emulator::start(&root, &["--pending-seconds", "1", "--terminating-seconds", "1"])
                .map_err(operational)?;
        let bootstrap = emulator
            .control("POST", "bootstrap", Some(&json!({"region": DR_REGION})))
            .map_err(operational)?;
        let text = |field: &str| bootstrap[field].as_str().unwrap_or_default().to_owned();
        let (directory_id, bundle_id, dr_code) =
            (text("directory_id"), text("bundle_id"), text("registration_code"));
        say(&format!(
            "{} · DR directory {directory_id} in {DR_REGION}, registration code {dr_code}",
            emulator.url()
        ));

        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(DR_REGION))
            .endpoint_url(emulator.url())
            .credentials_provider(Credentials::new("demo", "demo", None, None, "wsdr-demo"))
            .retry_config(Retries::DEFAULT.retry_config())
            .load()
            .await;
        let clients = Clients::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        for bucket in [USERS_BUCKET, STATE_BUCKET] {
            let location = CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(DR_REGION))
                .build();
            clients
                .s3
                .create_bucket()
                .bucket(bucket)
                .create_bucket_configuration(location)
                .send()
                .await
                .map_err(sdk)?;
        }
        let topic =
            clients.sns.create_topic().name("wsdr-demo-alerts").send().await.map_err(sdk)?;
        let topic_arn = topic.topic_arn().unwrap_or_default().to_owned();
        let queue = sqs.create_queue().queue_name("wsdr-demo-admins").send().await.map_err(sdk)?;
        let queue_url = queue.queue_url().unwrap_or_default().to_owned();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(sdk)?;
        let queue_arn = attributes
            .attributes()
            .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        clients
            .sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .map_err(sdk)?;
        say(
            "buckets for users exports and state, the admins' SNS topic with an SQS queue subscribed",
        );

        let workdir = std::env::temp_dir().join(format!("wsdr-demo-{}", std::process::id()));
        std::fs::create_dir_all(&workdir)
            .map_err(|error| Failure::Operations(format!("{}: {error}", workdir.display())))?;
        let settings = Settings {
            directory_id,
            bundle_id,
            auto_stop_timeout_minutes: 60,
            limits: Limits { grace_days: 0, ..Limits::RECOMMENDED },
            state_prefix: Some(format!("s3://{STATE_BUCKET}/state/")),
            reports_prefix: Some(format!("s3://{STATE_BUCKET}/reports/")),
            ..Settings::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| Failure::Operations(format!("cannot listen on loopback: {error}")))?;
        let cdn_address = listener.local_addr().map_err(operational)?;
        let cdn = tokio::spawn(serve_status(listener, clients.s3.clone()));
        say(&format!(
            "the status document is served at http://{cdn_address}/status.json (what CloudFront does in AWS)"
        ));
        Ok(Demo {
            cdn_address,
            cdn,
            users: usize::from(args.users),
            ports: Ports::new(&clients, Rate::WORKSPACES),
            emulator,
            clients,
            sqs,
            settings,
            dr_code,
            topic_arn,
            queue_url,
            workdir,
            steps: Vec::new(),
            failed_checks: Vec::new(),
            alerts: Vec::new(),
            calls: BTreeMap::new(),
            last_report: None,
            live_workspaces: 0,
            gui_wanted: args.gui,
            gui: None,
        })
    }

    async fn tell(&mut self) -> Result<(), Failure> {
        let roster = Roster::new(self.users);
        let started = Instant::now();

        // 1. The first export and reconciliation.
        heading(&format!(
            "The domain controller exports the OU: {} rows ({} disabled, {} naming a user again in another case)",
            roster.rows(),
            roster.disabled.len(),
            roster.case_variants.len()
        ));
        let desired = roster.enabled.len();
        let report = self.reconcile_export(&roster.csv()).await?;
        self.check(report.outcome == Outcome::Completed, "the run completed");
        self.check(
            report.created.len() == desired,
            &format!(
                "{desired} DR WorkSpaces created, one per enabled user ({} created)",
                report.created.len()
            ),
        );
        self.check(report.failed.is_empty(), "no operation failed");
        self.emulator.settle().map_err(operational)?;
        self.step("sync users", started);

        // 2. Drift.
        let started = Instant::now();
        heading(
            "Drift: 5 users leave the OU, 3 join, one is renamed in case only; reconcile again (grace 0 here)",
        );
        let mut drifted = roster.clone();
        drifted.enabled.drain(2..7);
        drifted.enabled.extend(["new.hire1", "new.hire2", "new.hire3"].map(str::to_owned));
        drifted.enabled[1] = drifted.enabled[1].to_uppercase();
        let report = self.reconcile_export(&drifted.csv()).await?;
        self.check(
            report.created.len() == 3,
            &format!("exactly the 3 new users got one ({:?})", report.created),
        );
        self.check(
            report.terminated.len() == 5,
            &format!(
                "exactly the 5 leavers' WorkSpaces were terminated ({})",
                report.terminated.len()
            ),
        );
        self.emulator.settle().map_err(operational)?;

        heading("An empty export arrives (an AD query that failed on the DC)");
        let report = self.reconcile_export("").await?;
        self.check(report.outcome == Outcome::Blocked, "the plan is blocked");
        self.check(report.terminated.is_empty(), "nothing was terminated");
        self.step("drift and an empty export", started);

        // 3. Health event, admins' alert, failover.
        let started = Instant::now();
        let signer = LocalSigner::from_secret_bytes(
            KeyId::parse(KEY_ID).map_err(operational)?,
            &random_secret()?,
        )
        .map_err(operational)?;
        let public_pem = signer.public_key().to_spki_pem().map_err(operational)?;
        let driver = self.failover_driver(StatusSigner::Local(signer))?;
        heading(&format!(
            "AWS Health: a WorkSpaces issue opens in the primary region ({PRIMARY_REGION})"
        ));
        let report = feed(&driver, OPEN_ISSUE).await?;
        self.check(
            report.mode == Mode::FailoverRecommended,
            "failover is recommended (users not moved yet)",
        );
        self.expect_alert("failover_recommended").await?;
        heading("The admin declares failover (`wsdr failover`)");
        let message = Message::new(
            "Work from the DR region",
            "WorkSpaces is down in the primary region. Click Connect to DR.",
        )
        .map_err(operational)?;
        let report = driver
            .command(AdminCommand::DeclareFailover { message: Some(message) }, SystemClock.now())
            .await
            .map_err(operational)?;
        self.check(
            report.mode == Mode::Failover && report.status.is_some(),
            "a signed status document is published",
        );
        self.expect_alert("failover_declared").await?;
        self.step("health event and failover", started);

        // 4. The tray, headless.
        let started = Instant::now();
        heading(
            "A tray client (the real desktop core, headless) polls, verifies, notifies and connects",
        );
        let tray = self.tray(&public_pem)?;
        if self.gui_wanted {
            self.gui = Some(GuiTray::start(&self.workdir)?);
            say(
                "the real tray app (wsdr-tray) is running against the same status document: watch its icon",
            );
        }
        self.gui_check("failover").await;
        let outcome = tray.check_now().await;
        self.check(
            matches!(outcome, CheckOutcome::Accepted { .. }),
            &format!("the document verifies ({outcome:?})"),
        );
        self.check(
            tray.view().state == TrayStatus::Failover,
            "the tray says: failover — connect to DR",
        );
        self.check(tray.desktop().notifications().len() == 1, "one notification");
        let expected_uri = format!("workspaces://ana.lopez@{}", self.dr_code);
        match tray.connect(ConnectTarget::Dr) {
            Ok(uri) => {
                say(&format!("the OS URL handler receives {uri}"));
                self.check(uri.to_string() == expected_uri, &format!("it launches {expected_uri}"));
            }
            Err(error) => self.check(false, &format!("it launches the client ({error})")),
        }
        heading("Someone puts a forged document at the status URL");
        let genuine = self.status_bytes().await?;
        self.put_status(forge(&genuine)).await?;
        let outcome = tray.check_now().await;
        self.check(
            matches!(outcome, CheckOutcome::Rejected(_)),
            &format!("the tray rejects it ({outcome:?})"),
        );
        self.check(
            tray.view().state == TrayStatus::Failover && tray.desktop().notifications().len() == 1,
            "and keeps what it trusted, without a new notification",
        );
        self.put_status(genuine).await?;
        self.step("tray: verify, notify, launch, reject a forgery", started);

        // 5. Recovery and failback.
        let started = Instant::now();
        heading("The AWS Health event closes");
        let report = feed(&driver, CLOSED_ISSUE).await?;
        self.check(
            report.mode == Mode::Recovered,
            "recovered: admins told, users stay on DR until failback",
        );
        tray.check_now().await;
        let state = tray.view().state;
        self.gui_check("failover").await;
        self.check(
            state == TrayStatus::Failover && tray.desktop().notifications().len() == 2,
            &format!("the tray tells users to stay on DR until failback ({state:?})"),
        );
        heading("The admin fails back (`wsdr failback`)");
        let report = driver
            .command(AdminCommand::Failback { message: None }, SystemClock.now())
            .await
            .map_err(operational)?;
        self.check(report.mode == Mode::Normal, "back to normal");
        tray.check_now().await;
        let state = tray.view().state;
        self.gui_check("recovered").await;
        self.check(
            state == TrayStatus::Recovered,
            &format!("the tray says: service restored, you may go back (then ready after 24 h) ({state:?})"),
        );
        match tray.connect(ConnectTarget::Active) {
            Ok(uri) => self.check(
                uri.to_string() == format!("workspaces://ana.lopez@{PRIMARY_CODE}"),
                &format!("\"Connect to WorkSpaces\" now opens the primary region ({uri})"),
            ),
            Err(error) => self.check(
                false,
                &format!("\"Connect to WorkSpaces\" opens the primary region ({error})"),
            ),
        }
        self.drain_alerts().await?;
        self.step("recovery and failback", started);

        self.emulator.settle().map_err(operational)?;
        let directory = wsdr_core::workspace::DirectoryId::new(&self.settings.directory_id)
            .map_err(operational)?;
        let live =
            self.ports.workspaces.describe_directory(&directory).await.map_err(aws::failure)?;
        self.live_workspaces = live.iter().filter(|workspace| !workspace.state.is_gone()).count();
        Ok(())
    }

    async fn reconcile_export(&mut self, csv: &str) -> Result<RunReport, Failure> {
        self.clients
            .s3
            .put_object()
            .bucket(USERS_BUCKET)
            .key(USERS_KEY)
            .body(ByteStream::from(csv.as_bytes().to_vec()))
            .send()
            .await
            .map_err(sdk)?;
        let config =
            self.settings.validate().map_err(|error| Failure::BadInput(error.to_string()))?;
        let progress = TerminalProgress::new(self.ports.workspaces.limiter().rate());
        let run = Run { trigger: "demo", clock: &SystemClock, deadline: None, progress: &progress };
        let report = reconcile(
            &self.ports,
            &config,
            UsersInput::S3(S3Location::new(USERS_BUCKET, USERS_KEY)),
            &run,
        )
        .await
        .map_err(aws::failure)?;
        say(&report.summary());
        if report.rate_limited.waits > 0 {
            say(&format!(
                "the rate limiter held {} call(s) back for {:.1} s in all (2 calls/s)",
                report.rate_limited.waits, report.rate_limited.waited_seconds
            ));
        }
        self.count_calls()?;
        if report.outcome == Outcome::Completed {
            self.last_report = Some(report.clone());
        }
        Ok(report)
    }

    fn failover_driver(&self, signer: StatusSigner) -> Result<FailoverDriver, Failure> {
        let region = |name: &str| HealthRegion::parse(name).map_err(operational);
        let policy = FailoverPolicy::new(false, region(PRIMARY_REGION)?, region(DR_REGION)?)
            .map_err(operational)?;
        let status = StatusConfig::new(PRIMARY_REGION, PRIMARY_CODE, DR_REGION, &self.dr_code, 24)
            .map_err(operational)?;
        let config = FailoverConfig {
            bucket: STATE_BUCKET.to_owned(),
            state_prefix: "state/".to_owned(),
            status_key: STATUS_KEY.to_owned(),
            topic_arn: self.topic_arn.clone(),
            policy,
            status,
            status_url: Some(self.status_url()),
        };
        Ok(wsdr_aws::failover::driver(&self.clients, config, signer))
    }

    /// The public URL trays poll: the local stand-in for the CDN in front of the status object.
    fn status_url(&self) -> String {
        format!("http://{}/status.json", self.cdn_address)
    }

    fn tray(&self, public_pem: &str) -> Result<Controller<RecordingDesktop>, Failure> {
        let config_path = self.workdir.join("tray.toml");
        let config = format!(
            "status_url = \"{}\"\nusername = \"ana.lopez\"\npoll_interval_secs = 5\n\n[public_keys]\n{KEY_ID} = \"\"\"\n{}\"\"\"\n",
            self.status_url(),
            public_pem
        );
        std::fs::write(&config_path, config)
            .map_err(|error| Failure::Operations(format!("{}: {error}", config_path.display())))?;
        let state_dir = self.workdir.join("state");
        let config_dir = self.workdir.join("config");
        let env = move |name: &str| -> Option<OsString> {
            match name {
                "XDG_STATE_HOME" => Some(state_dir.clone().into_os_string()),
                "XDG_CONFIG_HOME" => Some(config_dir.clone().into_os_string()),
                "USER" | "LOGNAME" => Some(OsString::from("ana.lopez")),
                _ => None,
            }
        };
        let clock: wsdr_desktop_core::Clock = Arc::new(|| SystemClock.now());
        Ok(Controller::start(env, Some(config_path), RecordingDesktop::default(), clock))
    }

    /// With `--gui`: waits until the real tray binary (`wsdr-tray --status`, the same code as the running tray)
    /// reports `expected`, giving the running tray's 5 s poll time to show it.
    async fn gui_check(&mut self, expected: &str) {
        let Some(gui) = &self.gui else { return };
        let mut seen = String::new();
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            seen = gui.status().unwrap_or_else(|error| error);
            if seen == expected {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        self.check(seen == expected, &format!("the tray app says {expected} ({seen})"));
    }

    async fn status_bytes(&self) -> Result<Vec<u8>, Failure> {
        let object = self
            .clients
            .s3
            .get_object()
            .bucket(STATE_BUCKET)
            .key(STATUS_KEY)
            .send()
            .await
            .map_err(sdk)?;
        let bytes = object.body.collect().await.map_err(operational)?;
        Ok(bytes.to_vec())
    }

    async fn put_status(&self, bytes: Vec<u8>) -> Result<(), Failure> {
        self.clients
            .s3
            .put_object()
            .bucket(STATE_BUCKET)
            .key(STATUS_KEY)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }

    /// Waits (a few seconds at most) for the admins' queue to receive an alert of `kind`.
    async fn expect_alert(&mut self, kind: &str) -> Result<(), Failure> {
        for _ in 0..10 {
            self.drain_alerts().await?;
            if self.alerts.iter().any(|seen| seen == kind) {
                say(&format!("the admins' queue received the {kind} alert"));
                return Ok(());
            }
        }
        self.check(
            false,
            &format!("the admins' queue receives a {kind} alert (got {:?})", self.alerts),
        );
        Ok(())
    }

    async fn drain_alerts(&mut self) -> Result<(), Failure> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(sdk)?;
        for message in received.messages() {
            let body: Value =
                serde_json::from_str(message.body().unwrap_or_default()).unwrap_or(Value::Null);
            let kind = body["MessageAttributes"]["wsdr_event_kind"]["Value"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned();
            self.alerts.push(kind);
            if let Some(handle) = message.receipt_handle() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(sdk)?;
            }
        }
        Ok(())
    }

    fn count_calls(&mut self) -> Result<(), Failure> {
        let counters = self.emulator.take_counters().map_err(operational)?;
        if let Some(calls) = counters["calls"].as_object() {
            for (operation, count) in calls {
                *self.calls.entry(operation.clone()).or_default() += count.as_u64().unwrap_or(0);
            }
        }
        Ok(())
    }

    fn check(&mut self, held: bool, what: &str) {
        let mark = if held { "ok " } else { "FAILED" };
        output::print(&format!("    {mark} {what}\n"));
        if !held {
            self.failed_checks.push(what.to_owned());
        }
    }

    fn step(&mut self, name: &str, started: Instant) {
        self.steps.push((name.to_owned(), started.elapsed()));
    }

    fn summary(&mut self) -> String {
        let _ = self.count_calls();
        let mut text = String::from("\nSummary\n");
        if let Some(report) = &self.last_report {
            let plan = report.plan.unwrap_or_default();
            let _ = writeln!(text, "  users desired (last good export) {:>6}", plan.desired);
        }
        let _ = writeln!(text, "  DR WorkSpaces (live, at the end)  {:>6}", self.live_workspaces);
        let readiness = self.last_report.as_ref().map_or(0.0, |report| report.readiness.percent);
        let _ = writeln!(text, "  readiness                         {readiness:>5.1}%");
        let _ = writeln!(
            text,
            "  admin alerts received             {:>6}  {:?}",
            self.alerts.len(),
            self.alerts
        );
        let _ = writeln!(text, "  API calls by operation:");
        for (operation, count) in &self.calls {
            let _ = writeln!(text, "    {operation:<40} {count:>5}");
        }
        let _ = writeln!(text, "  time per step:");
        for (name, elapsed) in &self.steps {
            let _ = writeln!(text, "    {name:<40} {:>6.1} s", elapsed.as_secs_f64());
        }
        text
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.cdn.abort();
        let _ = std::fs::remove_dir_all(&self.workdir);
    }
}

/// Serves the status object over HTTP as the CDN does: `ETag`, `Cache-Control`, `304` for `If-None-Match`.
async fn serve_status(listener: tokio::net::TcpListener, s3: aws_sdk_s3::Client) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while let Ok((mut stream, _)) = listener.accept().await {
        let s3 = s3.clone();
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => head.extend_from_slice(&buffer[..read]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let if_none_match = head
                .lines()
                .find_map(|line| line.strip_prefix("if-none-match:"))
                .map(|value| value.trim().to_owned());
            let response = match s3.get_object().bucket(STATE_BUCKET).key(STATUS_KEY).send().await {
                Err(_) => {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                }
                Ok(object) => {
                    let etag = object.e_tag().unwrap_or_default().to_owned();
                    let cache = object.cache_control().unwrap_or("max-age=30").to_owned();
                    let body =
                        object.body.collect().await.map(|bytes| bytes.to_vec()).unwrap_or_default();
                    if if_none_match.as_deref() == Some(etag.to_lowercase().as_str()) {
                        format!(
                            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                        )
                        .into_bytes()
                    } else {
                        let mut response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: {etag}\r\nCache-Control: {cache}\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        response.extend_from_slice(&body);
                        response
                    }
                }
            };
            let _ = stream.write_all(&response).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// The real tray app, started for `--gui` from the binary next to `wsdr`; stopped when dropped.
struct GuiTray {
    binary: PathBuf,
    config: PathBuf,
    state_dir: PathBuf,
    child: std::process::Child,
}

impl GuiTray {
    fn start(workdir: &Path) -> Result<GuiTray, Failure> {
        let binary = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("wsdr-tray")))
            .filter(|path| path.is_file())
            .ok_or_else(|| {
                Failure::BadInput(
                    "--gui needs the tray app built next to wsdr: cargo build -p wsdr-tray"
                        .to_owned(),
                )
            })?;
        let (config, state_dir) = (workdir.join("tray.toml"), workdir.join("gui-state"));
        let child = Self::command(&binary, &state_dir)
            .arg("--config")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|error| {
                Failure::Operations(format!("cannot start {}: {error}", binary.display()))
            })?;
        Ok(GuiTray { binary, config, state_dir, child })
    }

    /// `wsdr-tray --status --config …`: the state the tray app's own code reads from the status URL.
    fn status(&self) -> Result<String, String> {
        let output = Self::command(&self.binary, &self.state_dir)
            .args(["--status", "--config"])
            .arg(&self.config)
            .output()
            .map_err(|error| error.to_string())?;
        let json: Value =
            serde_json::from_slice(&output.stdout).map_err(|error| error.to_string())?;
        Ok(json["state"].as_str().unwrap_or_default().to_owned())
    }

    fn command(binary: &Path, state_dir: &Path) -> std::process::Command {
        // The demo's one process spawn besides the emulator: the tray app, as an end user would run it.
        #[allow(clippy::disallowed_methods)]
        let mut command = std::process::Command::new(binary);
        command.env("XDG_STATE_HOME", state_dir).stdin(std::process::Stdio::null());
        command
    }
}

impl Drop for GuiTray {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A desktop that shows notifications by printing them and hands URIs to a recording URL handler.
#[derive(Default)]
struct RecordingDesktop {
    notifications: Mutex<Vec<Notification>>,
    opened: Mutex<Vec<String>>,
}

impl RecordingDesktop {
    fn notifications(&self) -> Vec<Notification> {
        self.notifications.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Desktop for RecordingDesktop {
    fn render(&self, _view: &wsdr_desktop_core::view::View, _menu: &MenuSpec) {}

    fn notify(&self, notification: &Notification) {
        say(&format!("notification: \"{}\" — {}", notification.title, notification.body));
        self.notifications
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(notification.clone());
    }

    fn open_uri(&self, uri: &LaunchUri) -> Result<(), LaunchError> {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner).push(uri.to_string());
        Ok(())
    }
}

/// The OU as the domain controller exports it.
#[derive(Clone, Debug)]
struct Roster {
    enabled: Vec<String>,
    disabled: Vec<String>,
    /// Rows naming an enabled user again in another case: the same user.
    case_variants: Vec<String>,
}

impl Roster {
    /// `rows` rows: 5 disabled, 2 case variants of enabled users, the rest enabled.
    fn new(rows: usize) -> Roster {
        let mut enabled = vec!["ana.lopez".to_owned()];
        enabled.extend((1..rows - 7).map(|index| format!("user{index:03}")));
        Roster {
            enabled,
            disabled: (1..=5).map(|index| format!("former{index:02}")).collect(),
            case_variants: vec!["ANA.LOPEZ".to_owned(), "USER001".to_owned()],
        }
    }

    fn rows(&self) -> usize {
        self.enabled.len() + self.disabled.len() + self.case_variants.len()
    }

    /// wsdr's export format (`Export-WsdrUsers.ps1`).
    fn csv(&self) -> String {
        let mut csv = String::from("SamAccountName,Enabled,UserPrincipalName\r\n");
        let rows = self.enabled.iter().chain(&self.case_variants).map(|name| (name, "True"));
        for (name, enabled) in rows.chain(self.disabled.iter().map(|name| (name, "False"))) {
            let _ = write!(csv, "{name},{enabled},{}@corp.example.com\r\n", name.to_lowercase());
        }
        csv
    }
}

/// The document with one byte of its payload changed: the signature no longer matches.
fn forge(genuine: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(genuine).into_owned();
    let forged = text.replacen("\"payload\":\"ey", "\"payload\":\"eX", 1);
    forged.into_bytes()
}

fn random_secret() -> Result<[u8; 32], Failure> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|error| Failure::Operations(format!("no OS randomness: {error}")))?;
    Ok(secret)
}

/// The repository root: where `tests/emulator/` is.
fn repo_root() -> Result<PathBuf, Failure> {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [std::env::current_dir().ok(), Some(built_in)];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("tests/emulator/run-emulator.sh").is_file())
        .ok_or_else(|| {
            Failure::Operations(
                "run wsdr demo from the wsdr repository (it needs tests/emulator/)".to_owned(),
            )
        })
}

fn heading(text: &str) {
    output::print(&format!("\n==> {text}\n"));
}

fn say(text: &str) {
    output::print(&format!("    {text}\n"));
}

fn sdk<E>(error: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    aws::failure(wsdr_aws::error::from_sdk("demo", error))
}

/// Feeds one EventBridge `aws.health` event to the failover driver, as the health function does.
async fn feed(driver: &FailoverDriver, event: &str) -> Result<wsdr_aws::failover::Report, Failure> {
    let event: Value = serde_json::from_str(event).map_err(operational)?;
    driver.on_health_event(&event, SystemClock.now()).await.map_err(operational)
}

fn operational(error: impl std::fmt::Display) -> Failure {
    Failure::Operations(error.to_string())
}
