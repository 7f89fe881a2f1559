//! `wsdr users`, `wsdr plan` and `wsdr reconcile` with the directory as the users source: the real binary
//! against a real AD (a throwaway Samba AD DC on loopback, `tests/samba/`) and the AWS-faithful emulator.
//! Needs root (samba does); `tests/samba/setup.sh` installs it.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

#[path = "../../../tests/samba/harness.rs"]
mod samba;
#[allow(dead_code)]
#[path = "../../wsdr-aws/tests/emulator/support.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use samba::SambaDc;
use support::{Emulator, REGION, calls};

/// `wsdr ARGS` with the standard AWS environment pointing at `emulator` (if any) and no directory settings from
/// the caller's environment.
fn wsdr(emulator: Option<&Emulator>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wsdr"));
    command
        .args(args)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("WSDR_LDAP_BIND_DN")
        .env_remove("WSDR_LDAP_PASSWORD")
        .env_remove("WSDR_LDAP_PASSWORD_SECRET")
        .env_remove("WSDR_LDAP_CA_BUNDLE");
    match emulator {
        Some(emulator) => command.env("AWS_ENDPOINT_URL", &emulator.url),
        None => command.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    };
    command.output().unwrap()
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

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `--ldap-*` flags for the service account, its password in `password_file`.
fn ldap_flags<'a>(dc: &'a SambaDc, password_file: &'a str) -> Vec<&'a str> {
    vec![
        "--ldap-bind-dn",
        samba::SERVICE_UPN,
        "--ldap-password-file",
        password_file,
        "--ldap-ca",
        dc.ca_bundle().to_str().unwrap(),
    ]
}

fn password_file(dir: &Path, password: &str) -> String {
    let path = dir.join("password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn users_and_plan_read_the_ou_and_a_refused_bind_is_unusable_input() {
    let dc = SambaDc::shared();
    let dir = std::env::temp_dir().join(format!("wsdr-cli-directory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = dc.ldaps_url(&samba::ou_dn("DR Users"));
    let password = password_file(&dir, samba::SERVICE_PASSWORD);

    let mut args = vec!["users", "--from", url.as_str(), "--format", "json"];
    args.extend(ldap_flags(dc, &password));
    let listed = wsdr(None, &args);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let report = json(&listed);
    let mut keys: Vec<&str> =
        report["enabled"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, samba::DR_USERS_SUBTREE);
    assert_eq!(report["enabled"]["alice"]["upn"], "alice@corp.example.com");
    assert_eq!(report["rejects"], json!([]));
    assert_eq!(report["source"], "ldaps://127.0.0.1:636/OU=DR Users,DC=corp,DC=example,DC=com");

    let table =
        wsdr(None, &[&["users", "--from", url.as_str()], &ldap_flags(dc, &password)[..]].concat());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("4 enabled user(s) in 4 entr(ies), 1 page(s)"), "{text}");
    assert!(text.contains("jmüller"), "{text}");

    // plan --users ldaps://…: four creations in an empty directory.
    let snapshot = dir.join("workspaces.json");
    std::fs::write(&snapshot, r#"{"Workspaces": []}"#).unwrap();
    let planned = wsdr(
        None,
        &[
            &[
                "plan",
                "--users",
                url.as_str(),
                "--workspaces",
                snapshot.to_str().unwrap(),
                "--directory-id",
                "d-90670a1b2c",
                "--format",
                "json",
            ],
            &ldap_flags(dc, &password)[..],
        ]
        .concat(),
    );
    assert!(planned.status.success(), "{}", stderr(&planned));
    assert_eq!(json(&planned)["create"].as_array().unwrap().len(), 4);

    // A wrong password: exit 2, the step and the server's words named.
    let wrong = password_file(&dir, "not-the-password");
    let refused =
        wsdr(None, &[&["users", "--from", url.as_str()], &ldap_flags(dc, &wrong)[..]].concat());
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused)
            .contains("bind refused: svc-wsdr@corp.example.com refused: 49 (invalidCredentials)"),
        "{}",
        stderr(&refused)
    );

    // No service account at all: named before anything connects.
    let anonymous = wsdr(None, &["users", "--from", url.as_str()]);
    assert_eq!(anonymous.status.code(), Some(2));
    assert!(
        stderr(&anonymous).contains("no service account: pass --ldap-bind-dn"),
        "{}",
        stderr(&anonymous)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_follows_the_directory_and_never_terminates_on_a_failed_read() {
    let dc = SambaDc::shared();
    let emulator = Emulator::start(&["--pending-seconds", "0.2", "--terminating-seconds", "0.2"]);
    let (directory_id, bundle_id) = emulator.bootstrap();
    let clients = emulator.clients().await;
    clients.s3.create_bucket().bucket("wsdr-state").send().await.unwrap();
    // The password from Secrets Manager, as the Lambda function reads it.
    let secret = clients
        .secrets
        .create_secret()
        .name("wsdr/ldap")
        .secret_string(
            json!({"username": samba::SERVICE_UPN, "password": samba::SERVICE_PASSWORD})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let secret_arn = secret.arn().unwrap().to_owned();

    let churn = samba::ou_dn("Churn");
    let url = dc.ldaps_url(&churn);
    let ca = dc.ca_bundle().to_str().unwrap().to_owned();
    let reconcile = |users: &str, grace_days: &str| {
        wsdr(
            Some(&emulator),
            &[
                "reconcile",
                "--users",
                users,
                "--ldap-bind-dn",
                samba::SERVICE_UPN,
                "--ldap-password-secret",
                &secret_arn,
                "--ldap-ca",
                &ca,
                "--directory-id",
                &directory_id,
                "--bundle-id",
                &bundle_id,
                "--state",
                "s3://wsdr-state/state/",
                "--grace-days",
                grace_days,
                "--format",
                "json",
            ],
        )
    };

    let created = reconcile(&url, "7");
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let report = json(&created);
    assert_eq!(report["created"], json!(samba::CHURN_USERS));
    assert_eq!(
        report["users"]["source"],
        "ldaps://127.0.0.1:636/OU=Churn,DC=corp,DC=example,DC=com"
    );
    assert_eq!(report["users"]["pages"], 1);
    emulator.settle();

    // churn2 is disabled in AD: it leaves the desired set, and its WorkSpace waits out the grace period.
    dc.disable_user(&format!("CN=churn2,{churn}"));
    let waiting = reconcile(&url, "7");
    assert_eq!(waiting.status.code(), Some(0), "{}", stderr(&waiting));
    let report = json(&waiting);
    assert_eq!(report["plan"]["desired"], 2);
    assert_eq!(report["pending_termination"], 1);
    assert_eq!(report["terminated"], json!([]));

    // The DC unreachable, then the wrong OU: each read fails, the run is refused, nothing is terminated even with
    // no grace period left.
    emulator.take_counters();
    let unreachable = reconcile("ldaps://127.0.0.1:1/OU=Churn,DC=corp,DC=example,DC=com", "0");
    assert_eq!(unreachable.status.code(), Some(2), "{}", stderr(&unreachable));
    assert_eq!(json(&unreachable)["outcome"], "invalid_users");
    assert!(stderr(&unreachable).contains("cannot connect"), "{}", stderr(&unreachable));
    let wrong_ou = reconcile(&dc.ldaps_url(&samba::ou_dn("Churned")), "0");
    assert_eq!(wrong_ou.status.code(), Some(2));
    assert!(stderr(&wrong_ou).contains("32 (noSuchObject)"), "{}", stderr(&wrong_ou));
    let counters = emulator.take_counters();
    assert_eq!(calls(&counters, "workspaces:TerminateWorkspaces"), 0);
    assert_eq!(
        calls(&counters, "workspaces:DescribeWorkspaces"),
        0,
        "a refused list stops before AWS"
    );

    // Once the grace period is over (here: none), churn2's WorkSpace goes.
    let terminated = reconcile(&url, "0");
    assert_eq!(terminated.status.code(), Some(0), "{}", stderr(&terminated));
    let report = json(&terminated);
    assert_eq!(report["terminated"].as_array().unwrap().len(), 1);
    assert_eq!(report["plan"]["desired"], 2);
}
