//! The one place that starts a process: the OS URL handler, given a validated [`LaunchUri`] as
//! its single argument, without a shell (docs/contracts.md "Client launch", CVE-2021-38112).
//!
//! The handler's exit status is awaited for a few seconds: a non-zero status is a failure with its
//! reason; a handler still running then (some run the client in the foreground) is taken as
//! launched, and a thread reaps it when it ends.

use std::process::{Command, Stdio};
use std::time::Duration;

use wsdr_desktop_core::{LaunchError, LaunchUri};

/// How long the handler's exit status is awaited, in polls of [`POLL`].
const WAIT_POLLS: u32 = 50;
const POLL: Duration = Duration::from_millis(100);

/// The URL handler of this OS, and the arguments before the URI.
fn handler() -> (&'static str, &'static [&'static str]) {
    if cfg!(target_os = "macos") {
        ("/usr/bin/open", &[])
    } else if cfg!(windows) {
        // rundll32 hands the URI to the registered protocol handler; no cmd.exe, no shell parsing.
        ("rundll32.exe", &["url.dll,FileProtocolHandler"])
    } else {
        ("xdg-open", &[])
    }
}

/// Opens `uri` with the OS URL handler.
pub(crate) fn open_uri(uri: &LaunchUri) -> Result<(), LaunchError> {
    let (program, leading) = handler();
    #[allow(clippy::disallowed_methods)] // The one launcher: a validated LaunchUri, one argument.
    let mut command = Command::new(program);
    crate::gdk_gl::restore_for(&mut command);
    let mut child = command
        .args(leading)
        .arg(uri.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|error| LaunchError(format!("cannot run {program}: {error}")))?;
    for _ in 0..WAIT_POLLS {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(LaunchError(format!("{program} failed ({status})"))),
            Ok(None) => std::thread::sleep(POLL),
            Err(error) => return Err(LaunchError(format!("{program}: {error}"))),
        }
    }
    tracing::info!(program, "URL handler still running; taking the client as launched");
    std::thread::spawn(move || child.wait());
    Ok(())
}
