//! Tests of the `wsdr-tray` binary: its one-shot modes (the same code as `wsdr-tray-cli`, whose
//! tests cover them in depth) against a local HTTP server (no display needed), and, under the desktop rig (`tests/desktop/run-tests.sh`: Xvfb, a session D-Bus, a
//! notification server, an `xdg-open` test handler), the real URL handler and the tray app itself.
//! The rig tests are `#[ignore]`d with that reason in plain `cargo test` and fail with a clear
//! message if run without the rig.
#![allow(clippy::unwrap_used)]

/// The binary under test.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_wsdr-tray");

mod oneshot;
mod rig;
#[allow(dead_code)] // Shared with other test crates, which use the rest.
#[path = "../../../wsdr-desktop-core/tests/it/server.rs"]
mod server;
#[allow(dead_code)] // Shared with wsdr-tray-cli's tests, which use the rest.
mod support;
mod tray_app;
mod webdriver;
mod window;
#[cfg(windows)]
mod wine;
