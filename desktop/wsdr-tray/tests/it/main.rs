//! Tests of the `wsdr-tray` binary: the one-shot modes against a local HTTP server (no display
//! needed), and, under the desktop rig (`tests/desktop/run-tests.sh`: Xvfb, a session D-Bus, a
//! notification server, an `xdg-open` test handler), the real URL handler and the tray app itself.
//! The rig tests are `#[ignore]`d with that reason in plain `cargo test` and fail with a clear
//! message if run without the rig.
#![allow(clippy::unwrap_used)]

mod oneshot;
mod rig;
#[path = "../../../wsdr-desktop-core/tests/it/server.rs"]
mod server;
mod support;
mod tray_app;
mod webdriver;
mod window;
