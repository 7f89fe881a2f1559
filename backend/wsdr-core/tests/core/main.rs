//! wsdr-core's integration tests: one binary, one module per concern.

#![allow(clippy::unwrap_used)] // A test that cannot unwrap has failed.

mod health;
mod properties;
mod sample_defects;
mod support;
mod users_fixtures;
