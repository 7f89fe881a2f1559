//! The controller against a real local HTTP server, a fake desktop and a scripted clock: what a
//! user sees over normal → failover → recovered, and what "Connect to DR" hands to the OS.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use wsdr_desktop_core::menu::MenuSpec;
use wsdr_desktop_core::{
    CheckOutcome, Clock, ConnectError, ConnectRefusal, ConnectTarget, Controller, Desktop,
    LaunchError, LaunchUri, Locations, Notification, TrayStatus, View,
};
use wsdr_protocol::State;

use crate::server::{DocumentServer, Reply};
use crate::support::*;

/// Records what the controller asked of the desktop.
#[derive(Default)]
struct FakeDesktop {
    rendered: Mutex<Vec<TrayStatus>>,
    notified: Mutex<Vec<Notification>>,
    opened: Mutex<Vec<String>>,
}

impl Desktop for FakeDesktop {
    fn render(&self, view: &View, _menu: &MenuSpec) {
        self.rendered.lock().unwrap().push(view.state);
    }
    fn notify(&self, notification: &Notification) {
        self.notified.lock().unwrap().push(notification.clone());
    }
    fn open_uri(&self, uri: &LaunchUri) -> Result<(), LaunchError> {
        self.opened.lock().unwrap().push(uri.as_str().to_owned());
        Ok(())
    }
}

struct Rig {
    server: DocumentServer,
    controller: Controller<FakeDesktop>,
    clock: Arc<Mutex<Timestamp>>,
    home: PathBuf,
    state_dir: PathBuf,
}

impl Rig {
    fn new(name: &str) -> Self {
        let server = DocumentServer::start();
        let home = scratch_dir(name);
        let config_file = home.join("tray.toml");
        std::fs::write(&config_file, config_toml(server.url())).unwrap();
        let clock = Arc::new(Mutex::new(at(0)));
        let controller = start(&home, &config_file, &clock);
        // Where this OS keeps the state under `home` (XDG, or %LOCALAPPDATA%\wsdr\state).
        let state_dir = Locations::resolve(environment(&home), None).state_dir.unwrap();
        Self { server, controller, clock, home, state_dir }
    }

    fn set_time(&self, minutes: i64) {
        *self.clock.lock().unwrap() = at(minutes);
    }

    fn desktop(&self) -> &FakeDesktop {
        self.controller.desktop()
    }
}

fn start(
    home: &std::path::Path,
    config: &std::path::Path,
    clock: &Arc<Mutex<Timestamp>>,
) -> Controller<FakeDesktop> {
    let env = environment(home);
    let clock = Arc::clone(clock);
    let clock: Clock = Arc::new(move || *clock.lock().unwrap());
    Controller::start(env, Some(config.to_owned()), FakeDesktop::default(), clock)
}

/// An environment confining the controller to `home` on every OS.
fn environment(home: &std::path::Path) -> impl Fn(&str) -> Option<OsString> + use<> {
    let state_home = home.join("state");
    move |name: &str| match name {
        "XDG_STATE_HOME" | "LOCALAPPDATA" => Some(OsString::from(&state_home)),
        "USER" => Some(OsString::from("login-name")),
        _ => None,
    }
}

#[tokio::test]
async fn normal_failover_recovered_through_http() {
    let rig = Rig::new("story");
    rig.server.serve_document(&document(1, State::Normal, 0));
    assert_eq!(rig.controller.check_now().await, CheckOutcome::Accepted { sequence: 1 });
    assert_eq!(rig.controller.view().state, TrayStatus::Ready);

    // Same document: the second request carries If-None-Match and gets 304.
    rig.set_time(2);
    assert_eq!(rig.controller.check_now().await, CheckOutcome::Unchanged);
    assert_eq!(rig.server.counts(), (2, 1));

    rig.server.serve_document(&document(2, State::Failover, 5));
    for minute in 6..9 {
        rig.set_time(minute);
        rig.controller.check_now().await;
    }
    assert_eq!(rig.controller.view().state, TrayStatus::Failover);
    let notified = rig.desktop().notified.lock().unwrap().clone();
    assert_eq!(notified.len(), 1, "notified once, not once per poll: {notified:?}");
    assert_eq!(notified[0].title, "WorkSpaces failover");

    let uri = rig.controller.connect(ConnectTarget::Dr).unwrap();
    assert_eq!(uri.as_str(), format!("workspaces://jdoe@{DR_CODE}"));
    assert_eq!(*rig.desktop().opened.lock().unwrap(), [format!("workspaces://jdoe@{DR_CODE}")]);

    // A forged document is refused; the tray keeps trusting the failover document.
    rig.server.serve_document(&sign(&payload(3, State::Normal, 10), &other_signer()));
    rig.set_time(11);
    assert!(matches!(rig.controller.check_now().await, CheckOutcome::Rejected(_)));
    assert_eq!(rig.controller.view().state, TrayStatus::Failover);

    rig.server.serve_document(&document(4, State::Normal, 30));
    rig.set_time(31);
    rig.controller.check_now().await;
    assert_eq!(rig.controller.view().state, TrayStatus::Recovered);
    assert_eq!(rig.desktop().notified.lock().unwrap().len(), 2);
    let rendered = rig.desktop().rendered.lock().unwrap().clone();
    assert_eq!(rendered.last(), Some(&TrayStatus::Recovered));

    // The state file holds what a restart needs.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rig.state_dir.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["highest_seen"]["sequence"], 4);
}

#[tokio::test]
async fn offline_after_restart_the_dr_code_is_still_known() {
    let rig = Rig::new("offline");
    rig.server.serve_document(&document(1, State::Failover, 0));
    rig.controller.check_now().await;
    rig.server.set(Reply::Status(503));

    let home = rig.home.clone();
    let restarted = start(&home, &home.join("tray.toml"), &rig.clock);
    let outcome = restarted.check_now().await;
    assert_eq!(outcome, CheckOutcome::Failed("HTTP 503 Service Unavailable".to_owned()));
    assert_eq!(restarted.view().state, TrayStatus::Failover);
    assert_eq!(restarted.view().dr_registration_code.as_deref(), Some(DR_CODE));
    assert!(restarted.desktop().notified.lock().unwrap().is_empty());
    restarted.connect(ConnectTarget::Active).unwrap();
    assert_eq!(
        *restarted.desktop().opened.lock().unwrap(),
        [format!("workspaces://jdoe@{DR_CODE}")]
    );
}

#[tokio::test]
async fn unreachable_server_and_missing_configuration() {
    let home = scratch_dir("missing");
    let clock = Arc::new(Mutex::new(at(0)));
    let controller = start(&home, &home.join("absent.toml"), &clock);
    assert_eq!(controller.check_now().await, CheckOutcome::NotConfigured);
    let view = controller.view();
    assert_eq!(view.state, TrayStatus::Misconfigured);
    assert!(view.problems[0].contains("no configuration file found"), "{:?}", view.problems);
    assert!(matches!(
        controller.connect(ConnectTarget::Dr),
        Err(ConnectError::Refused(ConnectRefusal::Misconfigured(_)))
    ));
    assert!(controller.desktop().opened.lock().unwrap().is_empty());
}

#[tokio::test]
async fn oversized_and_error_responses() {
    let rig = Rig::new("errors");
    rig.server.serve_document(&vec![b'{'; 200_000]);
    assert!(matches!(
        rig.controller.check_now().await,
        CheckOutcome::Rejected(wsdr_protocol::Rejection::TooLarge { .. })
    ));
    rig.server.set(Reply::Status(404));
    assert_eq!(
        rig.controller.check_now().await,
        CheckOutcome::Failed("HTTP 404 Not Found".to_owned())
    );
    assert_eq!(rig.controller.view().state, TrayStatus::Stale);
}
