//! Integration tests for `wsdr-protocol`: one binary (`cargo test -p wsdr-protocol`).
//!
//! - `verification`: the verification matrix, one data-driven `check` per case;
//! - `golden`: the deterministic golden document (`tests/fixtures/status-golden.json`);
//! - `openssl`: interoperability with the `openssl` command (fails, never skips, without it);
//! - `launch`: launch URIs and CVE-2021-38112-style injection attempts;
//! - `props`: property tests (tampering, URI encoding, validation rules, round trips).

#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed")]

mod golden;
mod launch;
mod openssl;
mod props;
mod support;
mod verification;
