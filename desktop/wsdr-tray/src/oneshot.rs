//! `--status` and `--connect`: [`wsdr_desktop_core::oneshot`] (the same code as `wsdr-tray-cli`),
//! printed.

use std::path::PathBuf;
use std::process::ExitCode;

use wsdr_desktop_core::{ConnectTarget, oneshot};

use crate::gdk_gl;

/// Polls once and prints the view as JSON on stdout. Exit 0 when printed (the state, even
/// `misconfigured` or `stale`, is in the JSON), 1 otherwise.
pub(crate) fn status(config: Option<PathBuf>) -> ExitCode {
    match oneshot::status(config) {
        Ok(json) => print_line(&json),
        Err(error) => fail(&error.to_string()),
    }
}

/// Polls once, then opens the client. Exit 0 when the URL handler took the URI, 1 with the reason
/// on stderr when it may not or failed.
pub(crate) fn connect(target: ConnectTarget, config: Option<PathBuf>) -> ExitCode {
    match oneshot::connect(target, config, gdk_gl::child_env()) {
        Ok(uri) => print_line(uri.as_str()),
        Err(error) => fail(&error.to_string()),
    }
}

#[allow(clippy::print_stdout)] // The one-shot modes' output.
fn print_line(text: &str) -> ExitCode {
    println!("{text}");
    ExitCode::SUCCESS
}

#[allow(clippy::print_stderr)] // The reason a one-shot mode failed.
fn fail(text: &str) -> ExitCode {
    eprintln!("wsdr-tray: {text}");
    ExitCode::FAILURE
}
