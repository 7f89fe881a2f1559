//! `wsdr-tray-cli --status` and `--connect` against a local HTTP server: normal → failover → recovered, bad
//! documents refused, configuration problems reported (none of this needs a display).

use wsdr_protocol::State;

use crate::server::{DocumentServer, Reply};
use crate::support::*;

#[test]
fn status_follows_the_served_documents() {
    let server = DocumentServer::start();
    let home = Home::new("status", server.url());

    server.set(Reply::Status(503));
    let view = home.status();
    assert_eq!(view["state"], "stale");
    assert_eq!(view["dr_registration_code"], serde_json::Value::Null);
    assert_eq!(view["last_check"]["outcome"], "failed");

    server.serve_document(&document(1, State::Normal));
    let view = home.status();
    assert_eq!(view["state"], "ready");
    assert_eq!(view["dr_registration_code"], DR_CODE);
    assert_eq!(view["active"], "primary");

    server.serve_document(&document(2, State::Failover));
    let view = home.status();
    assert_eq!(view["state"], "failover");
    assert_eq!(view["active"], "dr");
    assert_eq!(view["message"]["title"], "WorkSpaces failover");

    // Refused: forged, replayed, expired, signed by an unknown key. The failover state
    // stands, with the reason.
    for (bad, reason) in [
        (forged_document(3, State::Normal), "does not verify"),
        (document(1, State::Normal), "replay"),
        (expired_document(3, State::Normal), "expired"),
        (unknown_key_document(3, State::Normal), "unknown signing key"),
    ] {
        server.serve_document(&bad);
        let view = home.status();
        assert_eq!(view["state"], "failover");
        assert_eq!(view["last_check"]["outcome"], "rejected");
        let detail = view["last_check"]["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{detail}");
    }

    server.serve_document(&document(4, State::Normal));
    let view = home.status();
    assert_eq!(view["state"], "recovered");
    assert_eq!(view["active"], "primary");
    let history: Vec<_> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(history, [4, 2, 1]);

    // Offline: the remembered document still gives the DR code.
    server.set(Reply::Status(500));
    let view = home.status();
    assert_eq!(view["state"], "recovered");
    assert_eq!(view["dr_registration_code"], DR_CODE);
}

#[test]
fn misconfigured_is_reported_not_a_crash() {
    let home = Home::new("bad-config", "http://127.0.0.1:9/s");
    std::fs::write(home.config(), "status_url = \"http://example.com/s\"\nusrname = \"x\"\n")
        .unwrap();
    let view = home.status();
    assert_eq!(view["state"], "misconfigured");
    let problems = view["problems"].to_string();
    assert!(problems.contains("unknown field `usrname`"), "{problems}");

    let config = home.config();
    let output =
        home.command(&["--connect", "dr", "--config", config.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wsdr-tray-cli: cannot connect: wsdr is not configured correctly"),
        "{stderr}"
    );
}

#[test]
fn connect_refuses_while_the_codes_are_unknown() {
    let server = DocumentServer::start();
    server.set(Reply::Status(404));
    let home = Home::new("unknown-codes", server.url());
    let config = home.config();
    let output = home
        .command(&["--connect", "active", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("registration codes are not known yet")
    );
}

#[test]
fn usage_errors() {
    let home = Home::new("usage", "http://127.0.0.1:9/s");
    for args in [&["--connect", "elsewhere"][..], &["--status", "--connect", "dr"], &[]] {
        let output = home.command(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", describe(&output));
    }
}

/// Issue 14, defect 3: the one-shot modes live in a console program on Windows.
#[cfg(windows)]
#[test]
fn issue_14_the_one_shot_tool_is_a_console_program() {
    let bytes = std::fs::read(BINARY).unwrap();
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0");
    let subsystem = u16::from_le_bytes([bytes[pe + 92], bytes[pe + 93]]);
    assert_eq!(subsystem, 3, "wsdr-tray-cli.exe must be IMAGE_SUBSYSTEM_WINDOWS_CUI");
}
