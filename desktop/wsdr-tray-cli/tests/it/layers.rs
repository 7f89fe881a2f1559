//! The configuration layers through the real binary: the admins' file (`WSDR_TRAY_SYSTEM_CONFIG`
//! on Unix, `%ProgramData%\wsdr\tray.toml` on Windows) and the user's file (XDG or `%APPDATA%`):
//! the user sets their own name, but neither the status URL nor the trusted keys.

use wsdr_protocol::State;

use crate::server::DocumentServer;
use crate::support::*;

#[test]
fn the_user_file_cannot_replace_the_admins_url_or_keys() {
    let server = DocumentServer::start();
    let decoy = DocumentServer::start();
    let home = Home::new("layers", server.url());
    // The admins' file: this home's tray.toml (URL of `server`, the test key), without username.
    let admins =
        std::fs::read_to_string(home.config()).unwrap().replace("username = \"jdoe\"\n", "");
    let system = if cfg!(windows) {
        home.dir.join("programdata").join("wsdr").join("tray.toml")
    } else {
        home.dir.join("system.toml")
    };
    std::fs::create_dir_all(system.parent().unwrap()).unwrap();
    std::fs::write(&system, admins).unwrap();
    // The user's file: another URL and another key (which signs the decoy's document).
    let other_pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../backend/wsdr-protocol/tests/fixtures/other-key.pub.pem"
    ))
    .unwrap();
    std::fs::create_dir_all(home.user_config().parent().unwrap()).unwrap();
    std::fs::write(
        home.user_config(),
        format!(
            "status_url = \"{}\"\nusername = \"u.ser\"\n[public_keys]\n\"wsdr-mine\" = \"\"\"\n{other_pem}\"\"\"\n",
            decoy.url()
        ),
    )
    .unwrap();
    server.serve_document(&document(1, State::Failover));
    decoy.serve_document(&unknown_key_document(9, State::Normal));

    let mut command = home.command(&["--status"]);
    if cfg!(windows) {
        command.env_remove("WSDR_TRAY_SYSTEM_CONFIG");
    } else {
        command.env("WSDR_TRAY_SYSTEM_CONFIG", &system);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", describe(&output));
    let view: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["state"], "failover", "{view}");
    assert_eq!(server.counts().0, 1, "the admins' URL was not polled");
    assert_eq!(decoy.counts().0, 0, "the user's URL was polled");
    assert!(home.state_file().exists(), "no state at {}", home.state_file().display());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the user's setting is ignored"), "{stderr}");
}
