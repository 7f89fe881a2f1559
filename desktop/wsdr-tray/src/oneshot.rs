//! `--status` and `--connect`: the tray's controller, driven once, with a desktop that has no
//! tray icon and shows no notification, but opens URIs through the same launcher.

use std::path::PathBuf;
use std::process::ExitCode;

use wsdr_desktop_core::menu::MenuSpec;
use wsdr_desktop_core::{
    ConnectTarget, Controller, Desktop, LaunchError, LaunchUri, Notification, View,
};

use crate::{clock, launcher};

/// A desktop without a tray: renders nothing, notifies nobody, opens URIs for real.
struct Headless;

impl Desktop for Headless {
    fn render(&self, _view: &View, _menu: &MenuSpec) {}

    fn notify(&self, _notification: &Notification) {}

    fn open_uri(&self, uri: &LaunchUri) -> Result<(), LaunchError> {
        launcher::open_uri(uri)
    }
}

fn controller(config: Option<PathBuf>) -> Controller<Headless> {
    Controller::start(|name| std::env::var_os(name), config, Headless, clock::system())
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .inspect_err(|error| tracing::error!(%error, "cannot start the async runtime"))
        .ok()
}

/// Polls once and prints the view as JSON on stdout. Exit 0 when printed (the state, even
/// `misconfigured` or `stale`, is in the JSON), 1 otherwise.
pub(crate) fn status(config: Option<PathBuf>) -> ExitCode {
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    let controller = controller(config);
    runtime.block_on(controller.check_now());
    match serde_json::to_string_pretty(&controller.view()) {
        Ok(json) => print_line(&json),
        Err(error) => {
            tracing::error!(%error, "cannot serialise the state");
            ExitCode::FAILURE
        }
    }
}

/// Polls once (so `active` is current when the server answers; the remembered document serves
/// otherwise), then opens the client. Exit 0 when the URL handler took the URI, 1 with the reason
/// on stderr when it may not or failed.
pub(crate) fn connect(target: ConnectTarget, config: Option<PathBuf>) -> ExitCode {
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    let controller = controller(config);
    runtime.block_on(controller.check_now());
    match controller.connect(target) {
        Ok(uri) => print_line(uri.as_str()),
        Err(error) => {
            eprint_line(&format!("wsdr-tray: cannot connect: {error}"));
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)] // The one-shot modes' output.
fn print_line(text: &str) -> ExitCode {
    println!("{text}");
    ExitCode::SUCCESS
}

#[allow(clippy::print_stderr)] // The reason a one-shot mode failed.
fn eprint_line(text: &str) {
    eprintln!("{text}");
}
