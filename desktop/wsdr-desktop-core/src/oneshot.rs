//! The one-shot modes (`--status`, `--connect`) of `wsdr-tray-cli` and `wsdr-tray`: the tray's
//! [`Controller`], driven once, with a desktop that has no tray icon and shows no notification but
//! opens URIs through the [`launcher`](crate::launcher). The binaries only parse arguments and
//! print what these return.

use std::path::PathBuf;

use crate::controller::{ConnectError, Controller, Desktop, LaunchError};
use crate::launcher::{self, ChildEnv};
use crate::menu::MenuSpec;
use crate::{ConnectTarget, LaunchUri, Notification, View, clock};

/// A desktop without a tray: renders nothing, notifies nobody, opens URIs for real.
struct Headless {
    child_env: ChildEnv,
}

impl Desktop for Headless {
    fn render(&self, _view: &View, _menu: &MenuSpec) {}

    fn notify(&self, _notification: &Notification) {}

    fn open_uri(&self, uri: &LaunchUri) -> Result<(), LaunchError> {
        launcher::open_uri(uri, &self.child_env)
    }
}

/// Why a one-shot mode could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum OneShotError {
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The state could not be serialised.
    #[error("cannot serialise the state: {0}")]
    Serialise(serde_json::Error),
    /// Connecting was refused or the URL handler failed.
    #[error("cannot connect: {0}")]
    Connect(#[from] ConnectError),
}

fn controller(config: Option<PathBuf>, child_env: ChildEnv) -> Controller<Headless> {
    Controller::start(
        |name| std::env::var_os(name),
        config,
        Headless { child_env },
        clock::system(),
    )
}

fn runtime() -> Result<tokio::runtime::Runtime, OneShotError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(OneShotError::Runtime)
}

/// Polls once and returns the view as pretty JSON (the state, even `misconfigured` or `stale`,
/// is in it).
///
/// # Errors
/// [`OneShotError`] when nothing could be printed.
pub fn status(config: Option<PathBuf>) -> Result<String, OneShotError> {
    let runtime = runtime()?;
    let controller = controller(config, ChildEnv::inherit());
    runtime.block_on(controller.check_now());
    serde_json::to_string_pretty(&controller.view()).map_err(OneShotError::Serialise)
}

/// Polls once (so `active` is current when the server answers; the remembered document serves
/// otherwise), then opens the client; returns the URI the handler took.
///
/// # Errors
/// [`OneShotError::Connect`] when connecting is refused or the URL handler failed (no client
/// registered: [`launcher::NO_HANDLER`]).
pub fn connect(
    target: ConnectTarget,
    config: Option<PathBuf>,
    child_env: ChildEnv,
) -> Result<LaunchUri, OneShotError> {
    let runtime = runtime()?;
    let controller = controller(config, child_env);
    runtime.block_on(controller.check_now());
    Ok(controller.connect(target)?)
}
