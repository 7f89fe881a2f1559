//! `wsdr reconcile` and `wsdr users --from s3://…` through the real binary, against the AWS-faithful emulator:
//! the CLI contract's JSON keys and exit codes with the standard AWS environment pointing at it.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

#[allow(dead_code)]
#[path = "../../wsdr-aws/tests/emulator/support.rs"]
mod support;

use std::process::{Command, Output};

use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;

use support::{Emulator, REGION};

const BUCKET: &str = "cli-bucket";

fn wsdr(emulator: &Emulator, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsdr"))
        .args(args)
        .env("AWS_ENDPOINT_URL", &emulator.url)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{error}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_keeps_its_contract_through_create_block_and_terminate() {
    let emulator = Emulator::start(&["--pending-seconds", "0.2", "--terminating-seconds", "0.2"]);
    let (directory_id, bundle_id) = emulator.bootstrap();
    let clients = emulator.clients().await;
    clients.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let upload = |csv: &'static str| {
        let s3 = clients.s3.clone();
        async move {
            s3.put_object()
                .bucket(BUCKET)
                .key("users.csv")
                .body(ByteStream::from_static(csv.as_bytes()))
                .send()
                .await
                .unwrap();
        }
    };
    let users = format!("s3://{BUCKET}/users.csv");
    let state = format!("s3://{BUCKET}/state/");
    let reconcile = |extra: &[&str]| {
        let mut args = vec![
            "reconcile",
            "--users",
            &users,
            "--directory-id",
            &directory_id,
            "--bundle-id",
            &bundle_id,
            "--state",
            &state,
            "--grace-days",
            "0",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        wsdr(&emulator, &args)
    };

    upload("SamAccountName,Enabled\r\nalice,True\r\nbob,True\r\ncarol,False\r\n").await;
    let listed = wsdr(&emulator, &["users", "--from", &users, "--format", "json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert_eq!(json(&listed)["source"], users);

    let created = reconcile(&[]);
    assert_eq!(created.status.code(), Some(0), "{}", String::from_utf8_lossy(&created.stderr));
    let report = json(&created);
    assert_eq!(report["created"], serde_json::json!(["alice", "bob"]));
    assert_eq!(
        (
            report["terminated"].as_array().unwrap().len(),
            report["failed"].as_array().unwrap().len()
        ),
        (0, 0)
    );
    assert!(report["blocked"].is_null());
    emulator.settle();

    upload("").await;
    let blocked = reconcile(&[]);
    assert_eq!(blocked.status.code(), Some(3));
    assert!(json(&blocked)["blocked"]["reason"].as_str().unwrap().contains("empty"));

    upload("SamAccountName,Enabled\r\nalice,True\r\n").await;
    let dry = reconcile(&["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0));
    assert_eq!(json(&dry)["planned_terminate"].as_array().unwrap().len(), 1);
    let terminated = reconcile(&[]);
    assert_eq!(
        terminated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&terminated.stderr)
    );
    assert_eq!(json(&terminated)["terminated"].as_array().unwrap().len(), 1);

    upload("SamAccountName,Enabled\r\nalice,True\r\n-x,True\r\n").await;
    let refused = reconcile(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(&format!("{users}: line 3")), "{stderr}");
}

#[test]
fn bad_settings_are_all_named_before_anything_talks_to_aws() {
    let output = Command::new(env!("CARGO_BIN_EXE_wsdr"))
        .args([
            "reconcile",
            "--users",
            "s3://b/k",
            "--directory-id",
            "D-1",
            "--bundle-id",
            "x",
            "--auto-stop-minutes",
            "90",
        ])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for named in ["--directory-id", "--bundle-id", "--auto-stop-minutes"] {
        assert!(stderr.contains(named), "{named}: {stderr}");
    }
}
