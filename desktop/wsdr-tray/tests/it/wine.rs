//! Windows only, under the Wine rig (`tests/windows/run-tests.sh`): the real tray app started as
//! the first program of a fresh wineserver, so Wine's desktop and system tray come up while it
//! starts (issue 14, defect 1: the tray must neither die nor hang, and must show its icon once the
//! tray exists); its icon follows the document; a second instance exits at once. The script takes
//! a screenshot when the test leaves a marker file.

use std::process::{Child, Stdio};
use std::time::Duration;

use wsdr_protocol::State;

use crate::server::DocumentServer;
use crate::support::*;

/// The tray app as a child process, killed when dropped.
struct TrayProcess(Child);

impl Drop for TrayProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(seconds: u64, mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..seconds * 5 {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    condition()
}

/// The states the tray icon showed, in order, from its log.
fn shown(log: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut states: Vec<String> = text
        .lines()
        .filter(|line| line.contains("tray icon and menu updated"))
        .filter_map(|line| line.split("state=").nth(1))
        .map(|state| state.trim().trim_matches('"').to_owned())
        .collect();
    states.dedup();
    states
}

#[test]
#[ignore = "needs the Wine rig (Xvfb, a fresh wineserver): run tests/windows/run-tests.sh"]
fn issue_14_tray_survives_a_late_system_tray_and_follows_the_document() {
    let artifacts = std::path::PathBuf::from(
        std::env::var_os("WSDR_TEST_ARTIFACTS").expect("set by tests/windows/run-tests.sh"),
    );
    let server = DocumentServer::start();
    let home = Home::new("wine-tray", server.url());
    server.serve_document(&document(1, State::Normal));
    let log = artifacts.join("tray-wine.log");
    let config = home.config();
    let mut command = home.command(&["--config", config.to_str().unwrap()]);
    command.env("RUST_LOG", "info").stdout(Stdio::null());
    command.stderr(std::fs::File::create(&log).unwrap());
    let mut tray = TrayProcess(command.spawn().unwrap());

    assert!(
        wait_for(120, || shown(&log).contains(&"ready".to_owned())),
        "the tray never showed `ready`; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(tray.0.try_wait().unwrap().is_none(), "the tray exited");
    std::fs::write(artifacts.join("tray-ready.marker"), "").unwrap();
    std::thread::sleep(Duration::from_secs(4));

    server.serve_document(&document(2, State::Failover));
    assert!(
        wait_for(60, || shown(&log).contains(&"failover".to_owned())),
        "the icon never turned to failover; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // The script screenshots the display and measures the footprint while the tray runs.
    std::fs::write(artifacts.join("tray-failover.marker"), "").unwrap();
    assert!(
        wait_for(60, || artifacts.join("tray-failover.done").exists()),
        "the script did not take its screenshot"
    );

    // A second start does not run a second tray: it exits at once, with success.
    let mut second = home.command(&["--config", config.to_str().unwrap()]);
    second.stdout(Stdio::null()).stderr(Stdio::null());
    let mut second = second.spawn().unwrap();
    assert!(wait_for(30, || second.try_wait().unwrap().is_some()), "a second tray kept running");
    assert!(second.wait().unwrap().success());
    assert!(tray.0.try_wait().unwrap().is_none(), "the first tray exited");

    let states = shown(&log);
    assert_eq!(states.last().map(String::as_str), Some("failover"), "{states:?}");
}
