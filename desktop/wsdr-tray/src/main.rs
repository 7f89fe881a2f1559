//! `wsdr-tray`: the wsdr tray app (a thin Tauri 2 shell around `wsdr-desktop-core`), and its
//! one-shot modes for helpdesk scripts and tests (docs/contracts.md "Tray binary"):
//!
//! ```text
//! wsdr-tray [--window] [--config FILE]               run as the tray app
//! wsdr-tray --status [--config FILE]                 poll and verify once, print the state as JSON
//! wsdr-tray --connect active|dr|primary [--config FILE]   launch the WorkSpaces client
//! ```
//!
//! Every mode drives the same [`wsdr_desktop_core::Controller`]; this crate only renders,
//! notifies and launches. On Windows this is a GUI-subsystem program (no console window at login
//! or from Explorer, in debug and release builds alike, so tests run what users run): its
//! one-shot modes still write to redirected output, but from a console use `wsdr-tray-cli`, the
//! same modes in a console program without Tauri or WebView2.
#![cfg_attr(windows, windows_subsystem = "windows")]

mod cli;
mod gdk_gl;
mod oneshot;
mod shell;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    gdk_gl::disable();
    let args = cli::Args::parse();
    let mode = args.mode();
    init_logging(matches!(mode, cli::Mode::Tray));
    match mode {
        cli::Mode::Status => oneshot::status(args.config),
        cli::Mode::Connect(target) => oneshot::connect(target, args.config),
        cli::Mode::Tray => shell::run(args.config, args.window),
    }
}

/// Logs go to stderr (stdout is `--status`'s JSON): `info` for the tray, `warn` for the one-shot
/// modes, `RUST_LOG` overrides.
fn init_logging(tray: bool) {
    let default = if tray { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
