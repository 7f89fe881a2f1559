//! The `wsdr` command line's contract (docs/contracts.md "CLI"), exercised through the real binary: inputs, output
//! formats, exit codes 0 / 2 / 3, and error messages that name the file, line and reason.

#![allow(clippy::disallowed_methods)] // Tests start the binary under test; the ban is about launching the client.
#![allow(clippy::unwrap_used)] // A test that cannot unwrap has failed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    root().join("tests/fixtures").join(name).display().to_string()
}

fn wsdr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsdr")).args(args).output().expect("wsdr runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

const NOW: &str = "2026-11-24T12:00:00Z";
const DIRECTORY: &str = "d-90670a1b2c";

fn plan_example(extra: &[&str]) -> Output {
    let (users, workspaces) = (fixture("example/users.csv"), fixture("example/workspaces.json"));
    let mut args =
        vec!["plan", "--users", &users, "--workspaces", &workspaces, "--directory-id", DIRECTORY];
    args.extend(["--now", NOW]);
    args.extend(extra);
    wsdr(&args)
}

fn write_temp(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsdr-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn plan_json_has_the_contract_fields() {
    let output =
        plan_example(&["--format", "json", "--grace-days", "0", "--max-terminate-percent", "50"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let users = |key: &str, field: &str| -> Vec<String> {
        plan[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(users("create", "user"), ["KLee", "obrien", "tnguyen"]);
    assert_eq!(users("terminate", "workspace_id"), ["ws-0a1b2c3d5", "ws-0a1b2c3d4"]);
    assert_eq!(users("terminate", "user"), ["former.employee", "mmueller"]);
    assert_eq!(users("adopt", "workspace_id"), ["ws-0a1b2c3d3"]);
    assert_eq!(plan["blocked"], Value::Null);
}

#[test]
fn plan_table_puts_counts_first_then_actions_with_reasons() {
    let output = plan_example(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = stdout(&output);
    let counts = table.find("users listed").unwrap();
    let first_action = table.find("Create (3)").unwrap();
    assert!(counts < first_action, "{table}");
    assert!(table.contains(
        "ws-0a1b2c3d6           AVAILABLE   not listed, and not created by wsdr: left alone"
    ));
    assert!(table.contains("due 2026-11-27T12:00:00Z"), "default grace of 3 days:\n{table}");
}

#[test]
fn same_input_gives_byte_identical_output() {
    let first = plan_example(&["--format", "json"]);
    let second = plan_example(&["--format", "json"]);
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(plan_example(&[]).stdout, plan_example(&[]).stdout);
}

#[test]
fn empty_users_list_is_blocked_with_exit_3() {
    let workspaces = fixture("example/workspaces.json");
    for users in [fixture("users/empty.csv"), fixture("users/header-only.csv")] {
        let args =
            ["plan", "--users", &users, "--workspaces", &workspaces, "--directory-id", DIRECTORY];
        let output = wsdr(&[&args[..], &["--format", "json", "--grace-days", "0"]].concat());
        assert_eq!(output.status.code(), Some(3), "{users}: {}", stderr(&output));
        let plan: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let reason = plan["blocked"]["reason"].as_str().unwrap();
        assert!(reason.contains("users list is empty"), "{reason}");
        assert!(
            stderr(&output).starts_with("error: blocked: the users list is empty"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn too_many_terminations_are_blocked_with_exit_3() {
    let output = plan_example(&["--format", "json", "--grace-days", "0", "--max-terminate", "1"]);
    assert_eq!(output.status.code(), Some(3));
    let plan: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(plan["blocked"]["code"], "too_many_terminations");
}

#[test]
fn rejected_rows_are_bad_input_naming_file_line_and_reason() {
    let users = fixture("users/invalid-rows.csv");
    let workspaces = fixture("example/workspaces.json");
    let output = wsdr(&[
        "plan",
        "--users",
        &users,
        "--workspaces",
        &workspaces,
        "--directory-id",
        DIRECTORY,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "no plan is printed from a partial list");
    let message = stderr(&output);
    assert!(message.contains(&format!(
        "{users}: line 3: the user name contains the control character U+0007"
    )));
    assert!(
        message.contains(&format!("{users}: line 5: the user name starts with '-'")),
        "{message}"
    );
}

#[test]
fn bad_snapshot_is_bad_input_naming_the_line() {
    let snapshot =
        write_temp("broken.json", b"{\n  \"Workspaces\": [\n    {\"WorkspaceId\": }\n  ]\n}\n");
    let users = fixture("example/users.csv");
    let output = wsdr(&[
        "plan",
        "--users",
        &users,
        "--workspaces",
        path_str(&snapshot),
        "--directory-id",
        DIRECTORY,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains(&format!("{}: line 3, column", snapshot.display())), "{message}");
}

#[test]
fn missing_file_and_bad_flags_are_bad_input() {
    let users = fixture("example/users.csv");
    let output = wsdr(&["plan", "--users", "/nonexistent/users.csv", "--workspaces", &users]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/users.csv: cannot read the users list"));
    let output = plan_example(&["--max-terminate-percent", "150"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let workspaces = fixture("example/workspaces.json");
    let output =
        wsdr(&["plan", "--users", &users, "--workspaces", &workspaces, "--directory-id", "dir-1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--directory-id: \"dir-1\" is not a directory id"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn directory_is_inferred_from_a_single_directory_snapshot() {
    let snapshot = write_temp(
        "one-directory.json",
        br#"[{"Workspaces": [{"WorkspaceId": "ws-aaaaaaaa1", "DirectoryId": "d-1234567890", "UserName": "JSMITH",
             "State": "AVAILABLE", "Tags": [{"Key": "wsdr:managed-by", "Value": "wsdr"}]}], "NextToken": "n"},
            {"Workspaces": []}]"#,
    );
    let users = fixture("example/users.csv");
    let output =
        wsdr(&["plan", "--users", &users, "--workspaces", path_str(&snapshot), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(plan["directory_id"], "d-1234567890");
    assert_eq!(plan["counts"]["keep"], 1, "JSMITH is jsmith");
}

#[test]
fn users_lists_desired_disabled_and_rejects() {
    let output =
        wsdr(&["users", "--from", &fixture("users/improved-utf16le-bom.csv"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["encoding"], "utf16-le-bom");
    assert_eq!(report["enabled"].as_object().unwrap().len(), 4);
    assert_eq!(report["disabled"].as_object().unwrap().len(), 2);

    let output = wsdr(&["users", "--from", &fixture("users/invalid-rows.csv")]);
    assert_eq!(output.status.code(), Some(2));
    let table = stdout(&output);
    assert!(
        table.contains("6 rejected row(s)")
            && table.contains("line 7: 4 columns where 3 were expected")
    );
}

#[test]
fn health_classify_prints_the_decision_and_reason() {
    let classify = |name: &str| {
        let event = fixture(&format!("health/{name}.json"));
        wsdr(&["health", "classify", "--event", &event, "--primary-region", "us-east-1"])
    };
    for (name, decision) in [
        ("open-issue-primary", "failover_recommended"),
        ("closed-issue", "recovered"),
        ("other-region", "ignore"),
        ("scheduled-change", "ignore"),
    ] {
        let output = classify(name);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        let result: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(result["decision"], decision, "{name}");
        assert!(!result["reason"].as_str().unwrap().is_empty());
    }
    let output = classify("malformed-wrong-types");
    assert_eq!(output.status.code(), Some(2), "malformed events are bad input");
    assert!(stderr(&output).contains("malformed-wrong-types.json: "), "{}", stderr(&output));
}

#[test]
fn link_builds_only_validated_uris() {
    let output = wsdr(&["link", "--user", "JSmith", "--code", "WSpdx+ABC12D"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "workspaces://JSmith@WSpdx+ABC12D\n");
    let output = wsdr(&["link", "--user", "j.o'brien", "--code", "dr.desktops.example.com"]);
    assert_eq!(stdout(&output), "workspaces://j.o%27brien@dr.desktops.example.com\n");
    // CVE-2021-38112: an argument smuggled into the URI is refused, never encoded into a launchable link.
    for (user, code) in
        [("--gpu-launcher=calc.exe", "WSpdx+ABC12D"), ("jsmith", "WSpdx+ABC12D --gpu-launcher=x")]
    {
        let output = wsdr(&["link", "--user", user, "--code", code]);
        assert_eq!(output.status.code(), Some(2), "{user} {code}");
        assert!(output.stdout.is_empty());
    }
}
