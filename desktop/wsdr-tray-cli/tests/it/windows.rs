//! Windows only, under the Wine rig (`tests/windows/run-tests.sh`), because they write HKLM:
//! `--connect` through `ShellExecuteExW` with a recording `workspaces:` handler registered under
//! `HKLM\Software\Classes` and with none, and the Group Policy layer. Each test removes what it
//! wrote; the rig runs them one at a time.

use std::path::Path;
use std::process::Command;

use wsdr_protocol::State;

use crate::server::DocumentServer;
use crate::support::*;

const NEEDS_RIG: &str = "set by tests/windows/run-tests.sh (the Wine rig)";

/// `reg.exe ARGS…`, which must succeed (`delete` of a missing key may fail: `must` false).
fn reg(args: &[&str], must: bool) {
    #[allow(clippy::disallowed_methods)] // The test writes the registry as an admin would.
    let output = Command::new("reg").args(args).output().unwrap();
    assert!(!must || output.status.success(), "reg {args:?}: {}", describe(&output));
}

const HANDLER_KEY: &str = r"HKLM\Software\Classes\workspaces";
const POLICY_KEY: &str = r"HKLM\SOFTWARE\Policies\wsdr";

fn register_handler(recorder: &str) {
    reg(&["add", HANDLER_KEY, "/ve", "/d", "URL:workspaces", "/f"], true);
    reg(&["add", HANDLER_KEY, "/v", "URL Protocol", "/d", "", "/f"], true);
    let command = format!("\"{recorder}\" \"%1\"");
    reg(&["add", &format!(r"{HANDLER_KEY}\shell\open\command"), "/ve", "/d", &command, "/f"], true);
}

#[test]
#[ignore = "needs the Wine rig (writes HKLM): run tests/windows/run-tests.sh"]
fn issue_14_connect_fails_clearly_without_a_handler_and_passes_the_uri_verbatim_with_one() {
    let recorder = std::env::var("WSDR_TEST_RECORDER").expect(NEEDS_RIG);
    let server = DocumentServer::start();
    let home = Home::new("shell-execute", server.url());
    server.serve_document(&document(1, State::Failover));
    let config = home.config();
    let config = config.to_str().unwrap();
    let uri_log = home.dir.join("uris.log");
    let connect = |target: &str| {
        home.command(&["--connect", target, "--config", config])
            .env("WSDR_TEST_URI_LOG", &uri_log)
            .output()
            .unwrap()
    };

    // No handler: an error that says what to install, and a non-zero exit (rundll32 said 0).
    reg(&["delete", HANDLER_KEY, "/f"], false);
    let output = connect("dr");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no WorkSpaces client is registered for workspaces:// URIs — install the Amazon WorkSpaces client"),
        "{stderr}"
    );
    assert!(!uri_log.exists());

    // A handler: it gets exactly one argument, the URI verbatim.
    register_handler(&recorder);
    let text = std::fs::read_to_string(home.config()).unwrap();
    for (user, target, expected) in [
        ("jdoe", "dr", format!("workspaces://jdoe@{DR_CODE}")),
        ("jdoe", "primary", format!("workspaces://jdoe@{PRIMARY_CODE}")),
        ("DOM\\\\j.doe", "active", format!("workspaces://DOM%5Cj.doe@{DR_CODE}")),
    ] {
        std::fs::write(home.config(), text.replace("\"jdoe\"", &format!("\"{user}\""))).unwrap();
        let output = connect(target);
        assert!(output.status.success(), "{target}: {}", describe(&output));
        let log = wait_for_line(&uri_log, &expected);
        assert_eq!(log.lines().last(), Some(expected.as_str()), "{log}");
    }
    let log = std::fs::read_to_string(&uri_log).unwrap();
    assert_eq!(log.lines().count(), 3, "one launch per --connect, one argument each:\n{log}");
    reg(&["delete", HANDLER_KEY, "/f"], true);
}

/// The recorder runs asynchronously to `ShellExecuteExW`'s return: wait for its line.
fn wait_for_line(log: &Path, expected: &str) -> String {
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|line| line == expected) {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::fs::read_to_string(log).unwrap_or_default()
}

#[test]
#[ignore = "needs the Wine rig (writes HKLM): run tests/windows/run-tests.sh"]
fn group_policy_is_the_highest_layer() {
    let server = DocumentServer::start();
    let decoy = DocumentServer::start();
    // The admins' file under %ProgramData% names the decoy; the policy names the server and the
    // test key as bare base64 DER on one line (a GPO list box).
    let home = Home::new("policy", decoy.url());
    let program_data = home.dir.join("programdata").join("wsdr");
    std::fs::create_dir_all(&program_data).unwrap();
    std::fs::copy(home.config(), program_data.join("tray.toml")).unwrap();
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../backend/wsdr-protocol/tests/fixtures/test-key.pub.pem"
    ))
    .unwrap();
    let der_base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    reg(&["delete", POLICY_KEY, "/f"], false);
    reg(&["add", POLICY_KEY, "/v", "StatusUrl", "/t", "REG_SZ", "/d", server.url(), "/f"], true);
    reg(&["add", POLICY_KEY, "/v", "PollIntervalSecs", "/t", "REG_DWORD", "/d", "600", "/f"], true);
    let keys = format!(r"{POLICY_KEY}\PublicKeys");
    reg(&["add", &keys, "/v", TEST_KEY_ID, "/t", "REG_SZ", "/d", &der_base64, "/f"], true);
    server.serve_document(&document(1, State::Failover));
    decoy.serve_document(&document(5, State::Normal));

    let status = || {
        let output =
            home.command(&["--status"]).env_remove("WSDR_TRAY_SYSTEM_CONFIG").output().unwrap();
        assert!(output.status.success(), "{}", describe(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let view = status();
    assert_eq!(view["state"], "failover", "{view}");
    assert_eq!(decoy.counts().0, 0, "the file's URL was polled despite the policy");

    // A value of the wrong type is a configuration problem naming it, not a crash.
    reg(&["add", POLICY_KEY, "/v", "PollIntervalSecs", "/t", "REG_SZ", "/d", "600", "/f"], true);
    let view = status();
    reg(&["delete", POLICY_KEY, "/f"], true);
    assert_eq!(view["state"], "misconfigured", "{view}");
    let problems = view["problems"].to_string();
    assert!(
        problems.contains(r"SOFTWARE\\Policies\\wsdr\\PollIntervalSecs: must be REG_DWORD"),
        "{problems}"
    );

    // Without the policy, the file's URL again: its normal document follows the failover one.
    assert_eq!(status()["state"], "recovered");
    assert!(decoy.counts().0 >= 1);
}
