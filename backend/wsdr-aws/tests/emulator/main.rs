//! Integration tests of wsdr's AWS side: the real AWS SDK over HTTP against the AWS-faithful local emulator.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod alerting;
mod reconcile;
mod support;
