//! Integration tests of the tray's logic: the verification matrix through the core, the states
//! and their notifications over time, persistence, and the controller against a local HTTP
//! server with a fake desktop.
#![allow(clippy::unwrap_used)]

mod controller;
mod server;
mod states;
mod support;
mod verification;
