//! Tests of `wsdr-tray-cli`: the one-shot modes against a local HTTP server (accepted, forged,
//! replayed, expired and unknown-key documents; configuration layers), and on Windows the
//! launcher through `ShellExecuteExW` and the Group Policy layer. The tests that write HKLM are
//! `#[ignore]`d outside the Wine rig (`tests/windows/run-tests.sh`).
#![allow(clippy::unwrap_used)]

/// The binary under test.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_wsdr-tray-cli");

mod layers;
mod oneshot;
#[path = "../../../wsdr-desktop-core/tests/it/server.rs"]
mod server;
#[path = "../../../wsdr-tray/tests/it/support.rs"]
mod support;
#[cfg(windows)]
mod windows;
