//! wsdr's AWS Lambda functions, one binary each so that each gets its own least-privilege role:
//! `reconcile` (users export → DR WorkSpaces), `health` (AWS Health events → failover state machine) and
//! `publish` (admin actions and the periodic re-signing of the status document).
//!
//! The binaries are thin: parse the event, call the driver in `wsdr-aws`, log the report. What they share lives
//! here: logging set-up and the environment-variable configuration (`infra/README.md` lists the variables).

pub mod env;
pub mod logging;
pub mod reconcile;
