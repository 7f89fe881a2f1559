//! The reconcile function's handler, called directly with the events Lambda would deliver, against the emulator.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)]
#[path = "../../wsdr-aws/tests/emulator/support.rs"]
mod support;

use aws_sdk_s3::primitives::ByteStream;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use wsdr_aws::clock::SystemClock;
use wsdr_aws::limiter::Rate;
use wsdr_aws::reconcile::{Ports, Settings};
use wsdr_aws::secrets::SecretsApi;
use wsdr_aws::sns::AlertsTopic;
use wsdr_core::policy::Limits;
use wsdr_lambda::reconcile::{Config, Handler};

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

#[tokio::test(flavor = "multi_thread")]
async fn exports_schedules_and_direct_dry_runs_drive_the_same_reconciliation() {
    let emulator = Emulator::start(&["--pending-seconds", "0.2"]);
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
            directory: None,
        },
        alerts: Some(AlertsTopic::new(clients.sns.clone(), topic_arn)),
        secrets: SecretsApi::new(clients.secrets.clone()),
        clock: Box::new(SystemClock),
    };
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
