//! The admin commands through the real `wsdr` binary against the emulator: `wsdr keygen`, `wsdr health ingest`
//! (the health function's path), `wsdr failover | failback | alert`, `wsdr status sign | verify | show`.
//! The story of issue 5's "done when": a primary-region WorkSpaces issue reaches the admins' queue; after
//! `wsdr failover` the signed status document in S3 passes `wsdr status verify` and a tampered copy does not.

#![allow(clippy::disallowed_methods)] // Tests start the binary under test and the emulator.
#![allow(clippy::unwrap_used)] // A test that cannot unwrap has failed.

#[path = "../../wsdr-aws/tests/emulator/plain.rs"]
mod plain;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use plain::{AdminQueue, PlainEmulator, attribute};
use serde_json::{Value, json};

const BUCKET: &str = "wsdr-state";

struct Env {
    emulator: PlainEmulator,
    topic_arn: String,
    dir: PathBuf,
}

impl Env {
    fn start(name: &str) -> (Env, AdminQueue) {
        let emulator = PlainEmulator::start();
        plain::create_bucket(&emulator.url, BUCKET);
        let topic_arn = plain::create_topic(&emulator.url, "wsdr-alerts");
        let queue = AdminQueue::subscribe(&emulator.url, &topic_arn, "admins");
        let dir =
            std::env::temp_dir().join(format!("wsdr-admin-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (Env { emulator, topic_arn, dir }, queue)
    }

    fn wsdr(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_wsdr"))
            .args(args)
            .env_clear()
            .envs([
                ("AWS_ENDPOINT_URL", self.emulator.url.as_str()),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("WSDR_STATE_BUCKET", BUCKET),
                ("WSDR_ALERTS_TOPIC_ARN", self.topic_arn.as_str()),
                ("WSDR_PRIMARY_REGION", "us-east-1"),
                ("WSDR_DR_REGION", "us-west-2"),
                ("WSDR_PRIMARY_REGISTRATION_CODE", "SLiad+ABCDEF"),
                ("WSDR_DR_REGISTRATION_CODE", "WSpdx+ABC12D"),
            ])
            .env("WSDR_STATUS_KEY_FILE", self.path("wsdr-local.pem"))
            .output()
            .unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn status_document(&self) -> String {
        let (status, body) = plain::get_object(&self.emulator.url, BUCKET, "status/status.json");
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/health")
        .join(name)
        .display()
        .to_string()
}

fn ok(output: &Output) -> String {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

fn fails(output: &Output, code: i32) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    stderr
}

#[test]
fn a_primary_issue_alerts_admins_and_failover_publishes_a_document_that_verifies() {
    let (env, queue) = Env::start("story");
    let key = env.path("wsdr-local.pem");
    let public = env.path("wsdr-local.pub.pem");
    let text = ok(&env.wsdr(&[
        "keygen",
        "--out",
        key.to_str().unwrap(),
        "--public-out",
        public.to_str().unwrap(),
    ]));
    assert!(text.contains("[public_keys]") && text.contains("\"wsdr-local\" = \"\"\""), "{text}");
    // keygen never overwrites a key by accident.
    let stderr = fails(&env.wsdr(&["keygen", "--out", key.to_str().unwrap()]), 2);
    assert!(stderr.contains("--force"), "{stderr}");

    // The health function's path: a WorkSpaces issue in the primary region.
    let out = ok(&env.wsdr(&[
        "health",
        "ingest",
        "--event",
        &fixture("open-issue-primary.json"),
        "--format",
        "json",
    ]));
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["outcome"].as_str(), report["mode"].as_str()),
        (Some("transition"), Some("failover_recommended"))
    );
    let got = queue.expect(1);
    assert_eq!(attribute(&got[0], "wsdr_event_kind"), "failover_recommended");
    assert!(got[0].envelope["Message"].as_str().unwrap().contains("wsdr failover"));
    let recommended = env.status_document();

    // The admin declares failover; the CLI prints what it published.
    let out = ok(&env.wsdr(&["failover"]));
    assert!(out.contains("status document #2 signed with key wsdr-local"), "{out}");
    assert!(out.contains("SNS message"), "{out}");
    let got = queue.expect(1);
    assert_eq!(attribute(&got[0], "wsdr_event_kind"), "failover_declared");

    // The document in S3 verifies with the public key from keygen.
    let document = format!("s3://{BUCKET}/status/status.json");
    let out = ok(&env.wsdr(&[
        "status",
        "verify",
        "--document",
        &document,
        "--public-key",
        public.to_str().unwrap(),
    ]));
    let verified: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verified["payload"]["state"], "failover");
    assert_eq!(verified["payload"]["sequence"], 2);
    assert_eq!(verified["payload"]["active"], "dr");
    assert_eq!(verified["payload"]["dr"]["registration_code"], "WSpdx+ABC12D");

    // A tampered copy: the earlier "normal" payload under the failover document's signature.
    let mut tampered: Value = serde_json::from_str(&env.status_document()).unwrap();
    tampered["payload"] = serde_json::from_str::<Value>(&recommended).unwrap()["payload"].clone();
    let tampered_path = env.path("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();
    let stderr = fails(
        &env.wsdr(&[
            "status",
            "verify",
            "--document",
            tampered_path.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
        ]),
        2,
    );
    assert!(stderr.contains("rejected") && stderr.contains("signature"), "{stderr}");
    // Replay of an older document is rejected too.
    let old_path = env.path("old.json");
    std::fs::write(&old_path, &recommended).unwrap();
    let stderr = fails(
        &env.wsdr(&[
            "status",
            "verify",
            "--document",
            old_path.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
            "--highest-seen",
            "2",
        ]),
        2,
    );
    assert!(stderr.contains("rejected"), "{stderr}");

    // A body the status document cannot carry (a tab) is refused before anything is committed (defect: the
    // state machine accepted it, committed, and then nothing could be published or announced).
    let stderr =
        fails(&env.wsdr(&["alert", "--title", "Heads up", "--body", "Step 1:\tlog off"]), 2);
    assert!(stderr.contains("control character"), "{stderr}");
    let shown: Value = serde_json::from_str(&ok(&env.wsdr(&[
        "status",
        "show",
        "--public-key",
        public.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(
        (shown["last_sequence"].as_u64(), shown["published"]["sequence"].as_u64()),
        (Some(2), Some(2))
    );

    // A contradictory command is refused (exit 3) and changes nothing.
    let stderr = fails(&env.wsdr(&["failover"]), 3);
    assert!(stderr.contains("already declared") && stderr.contains("wsdr failback"), "{stderr}");
    queue.expect(0);

    // `status show` reads the state and verifies the published document.
    let out = ok(&env.wsdr(&["status", "show", "--public-key", public.to_str().unwrap()]));
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["mode"], "failover");
    assert_eq!(shown["published"]["sequence"], 2);
    assert_eq!(shown["published"]["verification"], "valid");

    // Failback, then a drill and its end; a drill outside normal is refused.
    ok(&env.wsdr(&["failback"]));
    ok(&env.wsdr(&[
        "alert",
        "--drill",
        "--title",
        "DR drill",
        "--body",
        "Pilot users: connect to DR.",
    ]));
    let stderr = fails(&env.wsdr(&["alert", "--drill", "--title", "Again", "--body", "x"]), 3);
    assert!(stderr.contains("drill"), "{stderr}");
    ok(&env.wsdr(&["alert", "--end-drill"]));
    let kinds: Vec<String> =
        queue.expect(3).iter().map(|n| attribute(n, "wsdr_event_kind")).collect();
    assert_eq!(kinds, ["failback_declared", "drill_started", "drill_ended"]);
    let out = ok(&env.wsdr(&[
        "status",
        "verify",
        "--document",
        &document,
        "--public-key",
        public.to_str().unwrap(),
    ]));
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["payload"]["sequence"], 5);
}

#[test]
fn status_sign_makes_documents_that_verify_and_bad_inputs_say_why() {
    let (env, _queue) = Env::start("sign");
    let key = env.path("wsdr-local.pem");
    let public = env.path("public.pem");
    ok(&env.wsdr(&[
        "keygen",
        "--out",
        key.to_str().unwrap(),
        "--public-out",
        public.to_str().unwrap(),
        "--key-id",
        "k-2026",
    ]));
    let payload = json!({
        "version": 1, "sequence": 7, "issued_at": "2026-03-01T10:00:00Z", "expires_at": "2026-03-02T10:00:00Z",
        "state": "drill",
        "primary": {"region": "us-east-1", "registration_code": "SLiad+ABCDEF"},
        "dr": {"region": "us-west-2", "registration_code": "WSpdx+ABC12D"},
        "active": "primary",
        "message": {"title": "Drill", "body": "A drill."},
        "cause": {"source": "admin"}
    });
    let payload_path = env.path("payload.json");
    std::fs::write(&payload_path, payload.to_string()).unwrap();
    let signed = env.path("signed.json");
    ok(&env.wsdr(&[
        "status",
        "sign",
        "--payload",
        payload_path.to_str().unwrap(),
        "--key-id",
        "k-2026",
        "--out",
        signed.to_str().unwrap(),
    ]));
    let envelope: Value = serde_json::from_slice(&std::fs::read(&signed).unwrap()).unwrap();
    assert_eq!(
        (envelope["alg"].as_str(), envelope["key_id"].as_str()),
        (Some("ES256"), Some("k-2026"))
    );
    let verify = |now: &str| {
        env.wsdr(&[
            "status",
            "verify",
            "--document",
            signed.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
            "--now",
            now,
        ])
    };
    let out = ok(&verify("2026-03-01T12:00:00Z"));
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["payload"]["state"], "drill");
    let stderr = fails(&verify("2026-03-03T00:00:00Z"), 2);
    assert!(stderr.contains("expired"), "{stderr}");

    // A payload with an invalid registration code is refused before signing, naming the field.
    let mut bad = payload.clone();
    bad["dr"]["registration_code"] = json!("not a code");
    std::fs::write(&payload_path, bad.to_string()).unwrap();
    let stderr =
        fails(&env.wsdr(&["status", "sign", "--payload", payload_path.to_str().unwrap()]), 2);
    assert!(stderr.contains("dr.registration_code"), "{stderr}");
    // Without any configuration, admin commands name what is missing.
    let output =
        Command::new(env!("CARGO_BIN_EXE_wsdr")).args(["failover"]).env_clear().output().unwrap();
    let stderr = fails(&output, 2);
    assert!(
        stderr.contains("WSDR_STATE_BUCKET") && stderr.contains("WSDR_DR_REGISTRATION_CODE"),
        "{stderr}"
    );
}
