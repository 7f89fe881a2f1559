//! `wsdr-tray-cli`: the tray's one-shot modes as a console program, for helpdesk scripts and
//! for Windows, where the tray itself is a GUI-subsystem program without a console. Built on
//! `wsdr-desktop-core` alone (no Tauri, no WebView2), the same code as `wsdr-tray --status`:
//!
//! ```text
//! wsdr-tray-cli --status [--config FILE]                  poll and verify once, print the state as JSON
//! wsdr-tray-cli --connect active|dr|primary [--config FILE]   launch the WorkSpaces client
//! ```

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use wsdr_desktop_core::launcher::ChildEnv;
use wsdr_desktop_core::{ConnectTarget, oneshot};

/// The wsdr tray's one-shot modes (the tray app itself is wsdr-tray).
#[derive(Debug, clap::Parser)]
#[command(name = "wsdr-tray-cli", version, about)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["status", "connect"])))]
struct Args {
    /// Poll and verify the status document once, print the state as JSON, and exit.
    #[arg(long)]
    status: bool,
    /// Launch the WorkSpaces client on this site through the OS URL handler, and exit.
    #[arg(long, value_name = "SITE", value_parser = ["active", "dr", "primary"])]
    connect: Option<String>,
    /// Read only this configuration file (instead of the admins' file, the user's file and, on
    /// Windows, Group Policy).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Logs go to stderr (stdout is --status's JSON): warnings by default, RUST_LOG overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let target = args.connect.as_deref().and_then(ConnectTarget::parse);
    let result = match target {
        Some(target) => {
            oneshot::connect(target, args.config, ChildEnv::inherit()).map(|uri| uri.into_string())
        }
        None => oneshot::status(args.config),
    };
    match result {
        Ok(text) => print_line(&text),
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
    eprintln!("wsdr-tray-cli: {text}");
    ExitCode::FAILURE
}
