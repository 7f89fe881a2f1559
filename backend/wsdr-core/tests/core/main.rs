//! wsdr-core's integration tests: one binary, one module per concern.

mod properties;
mod sample_defects;
mod support;
mod users_fixtures;
