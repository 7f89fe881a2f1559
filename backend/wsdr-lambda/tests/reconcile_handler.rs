//! The reconcile function's handler, called directly with the events Lambda would deliver, against the emulator
//! (and, for the directory source, a throwaway Samba AD DC on loopback: `tests/samba/`, needs root).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../tests/samba/harness.rs"]
mod samba;
#[allow(dead_code)]
#[path = "../../wsdr-aws/tests/emulator/support.rs"]
mod support;

use aws_sdk_s3::primitives::ByteStream;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use wsdr_aws::clock::SystemClock;
use wsdr_aws::limiter::Rate;
use wsdr_aws::reconcile::{Ports, Settings};
use wsdr_aws::sdk::Clients;
use wsdr_aws::secrets::SecretsApi;
use wsdr_aws::sns::AlertsTopic;
use wsdr_core::policy::Limits;
use wsdr_lambda::reconcile::{Config, DirectoryConfig, Handler};
use wsdr_ldap::DirectorySource;

use support::{Emulator, calls};

const USERS_BUCKET: &str = "wsdr-users";
const STATE_BUCKET: &str = "wsdr-state";

fn object_created(key: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/reconcile-events/eventbridge-object-created.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    event["detail"]["bucket"]["name"] = json!(USERS_BUCKET);
    event["detail"]["object"]["key"] = json!(key);
    event
}

/// A deployment on `emulator`: the users and state buckets, the admins' topic, a DR directory, and the handler
/// (no grace period; `directory` as the users source when given).
async fn handler_site(
    emulator: &Emulator,
    directory: Option<DirectoryConfig>,
) -> (Clients, Handler) {
    let (directory_id, bundle_id) = emulator.bootstrap();
    let clients = emulator.clients().await;
    for bucket in [USERS_BUCKET, STATE_BUCKET] {
        clients.s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let topic = clients.sns.create_topic().name("wsdr-alerts").send().await.unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_owned();
    let settings = Settings {
        directory_id,
        bundle_id,
        auto_stop_timeout_minutes: 60,
        limits: Limits { grace_days: 0, ..Limits::RECOMMENDED },
        state_prefix: Some(format!("s3://{STATE_BUCKET}/state/")),
        reports_prefix: Some(format!("s3://{STATE_BUCKET}/reports/")),
        ..Settings::default()
    };
    let handler = Handler {
        ports: Ports::new(&clients, Rate::WORKSPACES),
        config: Config {
            reconcile: settings.validate().unwrap(),
            users_bucket: USERS_BUCKET.to_owned(),
            users_prefix: "users/".to_owned(),
            users_key: "users/workspaces-users.csv".to_owned(),
            alerts_topic_arn: Some(topic_arn.clone()),
            metrics_namespace: "wsdr".to_owned(),
            directory,
        },
        alerts: Some(AlertsTopic::new(clients.sns.clone(), topic_arn)),
        secrets: SecretsApi::new(clients.secrets.clone()),
        clock: Box::new(SystemClock),
    };
    (clients, handler)
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_schedules_and_direct_dry_runs_drive_the_same_reconciliation() {
    let emulator = Emulator::start(&["--pending-seconds", "0.2"]);
    let (clients, handler) = handler_site(&emulator, None).await;
    let upload = |key: &'static str, csv: &'static str| {
        let s3 = clients.s3.clone();
        async move {
            s3.put_object()
                .bucket(USERS_BUCKET)
                .key(key)
                .body(ByteStream::from_static(csv.as_bytes()))
                .send()
                .await
                .unwrap();
        }
    };
    let invoke = |payload: Value| handler.handle(LambdaEvent::new(payload, Context::default()));

    upload("users/export-1.csv", "SamAccountName,Enabled\r\nalice,True\r\nbob,True\r\n").await;
    let report = invoke(object_created("users/export-1.csv")).await.unwrap();
    assert_eq!(report["created"], json!(["alice", "bob"]), "{report}");
    assert_eq!(report["trigger"], "s3");

    upload("users/workspaces-users.csv", "SamAccountName,Enabled\r\nalice,True\r\n").await;
    let dry = invoke(json!({"dry_run": true})).await.unwrap();
    assert_eq!(
        (dry["outcome"].as_str(), dry["planned_terminate"].as_array().map(Vec::len)),
        (Some("dry_run"), Some(1))
    );

    emulator.take_counters();
    upload("users/export-2.csv", "").await;
    let blocked = invoke(object_created("users/export-2.csv")).await.unwrap();
    assert_eq!(blocked["outcome"], "blocked");
    assert_eq!(calls(&emulator.take_counters(), "sns:Publish"), 1, "the admins are told");

    let ignored = invoke(object_created("reports/other.json")).await.unwrap();
    assert_eq!(ignored["outcome"], "ignored");
    let refused = invoke(json!({"dry_run": "yes"})).await.unwrap_err();
    assert_eq!(refused.error_type, "InvalidEvent");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_source_reads_ad_with_the_password_from_secrets_manager() {
    let dc = samba::SambaDc::shared();
    let emulator = Emulator::start(&["--pending-seconds", "0.2"]);
    let clients = emulator.clients().await;
    let secret = clients
        .secrets
        .create_secret()
        .name("wsdr/ldap")
        .secret_string(samba::SERVICE_PASSWORD)
        .send()
        .await
        .unwrap();
    let secret_arn = secret.arn().unwrap().to_owned();
    let spare = samba::ou_dn("Spare2");
    let directory = DirectoryConfig {
        url: dc.ldaps_url(&spare).parse().unwrap(),
        bind_dn: samba::SERVICE_UPN.to_owned(),
        password_secret: secret_arn.clone(),
        ca_bundle: Some(format!("s3://{STATE_BUCKET}/config/ad-ca.pem").parse().unwrap()),
        timeout: DirectorySource::DEFAULT_TIMEOUT,
        page_size: DirectorySource::DEFAULT_PAGE_SIZE,
    };
    let (clients, handler) = handler_site(&emulator, Some(directory)).await;
    clients
        .s3
        .put_object()
        .bucket(STATE_BUCKET)
        .key("config/ad-ca.pem")
        .body(ByteStream::from(std::fs::read(dc.ca_bundle()).unwrap()))
        .send()
        .await
        .unwrap();
    let invoke = |payload: Value| handler.handle(LambdaEvent::new(payload, Context::default()));
    let schedule = || {
        let path = format!(
            "{}/../../tests/fixtures/reconcile-events/scheduled-event.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice::<Value>(&std::fs::read(path).unwrap()).unwrap()
    };

    let report = invoke(schedule()).await.unwrap();
    assert_eq!(report["created"], json!(samba::spare_users(2)), "{report}");
    assert_eq!(report["users"]["source"], dc.ldaps_url(&spare).replace("%20", " "));

    // Uploads do not start runs any more: the directory is the source.
    let ignored = invoke(object_created("users/workspaces-users.csv")).await.unwrap();
    assert_eq!(ignored["outcome"], "ignored");

    // A rotated password that the DC does not know yet: the run is refused and the admins are told; with no
    // grace period, a shortened list would have terminated all three.
    clients
        .secrets
        .put_secret_value()
        .secret_id(&secret_arn)
        .secret_string("rotated-but-not-in-AD")
        .send()
        .await
        .unwrap();
    emulator.take_counters();
    let refused = invoke(schedule()).await.unwrap();
    assert_eq!(refused["outcome"], "invalid_users", "{refused}");
    assert!(
        refused["users"]["error"].as_str().unwrap().contains("49 (invalidCredentials)"),
        "{refused}"
    );
    let counters = emulator.take_counters();
    assert_eq!(calls(&counters, "sns:Publish"), 1, "the admins are told");
    assert_eq!(calls(&counters, "workspaces:TerminateWorkspaces"), 0);

    // A secret that does not exist is a configuration error the function reports as such (no run at all).
    let mut missing = handler;
    missing.config.directory.as_mut().unwrap().password_secret = "wsdr/no-such-secret".to_owned();
    let error = missing.handle(LambdaEvent::new(schedule(), Context::default())).await.unwrap_err();
    assert_eq!(error.error_type, "AwsError", "{}", error.error_message);
    assert!(
        error.error_message.contains("secretsmanager:GetSecretValue"),
        "{}",
        error.error_message
    );
}
