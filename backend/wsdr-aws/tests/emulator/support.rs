//! The emulator harness: every test starts its own AWS-faithful emulator (`tests/emulator/`, moto behind wsdr's
//! WorkSpaces patches, throttling and fault knobs) on a free loopback port, and stops it when the test ends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use serde_json::{Value, json};
use wsdr_aws::sdk::{Clients, Retries};

/// The region every test runs in.
pub(crate) const REGION: &str = "us-east-1";

/// A running emulator (stopped when dropped), with panicking helpers for tests.
pub(crate) struct Emulator {
    inner: wsdr_aws::emulator::Emulator,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

/// The repository's root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

impl Emulator {
    /// Starts an emulator with the launcher's `args` (knobs, e.g. `--pending-seconds 0.2`). The emulator's venv is
    /// set up by `tests/emulator/setup.sh` (the test command runs it first; here it is a no-op when ready).
    pub(crate) fn start(args: &[&str]) -> Emulator {
        let inner = wsdr_aws::emulator::Emulator::start(&repo_root(), args).unwrap();
        let url = inner.url().to_owned();
        Emulator { inner, url }
    }

    /// Calls the control API (`/_wsdr/...`); panics unless it answers 200.
    pub(crate) fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.inner.control(method, path, body.as_ref()).unwrap()
    }

    /// Patches the knobs (`POST /_wsdr/config`).
    pub(crate) fn configure(&self, patch: Value) -> Value {
        self.control("POST", "config", Some(patch))
    }

    /// Registers a DR directory and answers `(directory_id, bundle_id)`.
    pub(crate) fn bootstrap(&self) -> (String, String) {
        let answer = self.control("POST", "bootstrap", Some(json!({"region": REGION})));
        (
            answer["directory_id"].as_str().unwrap().to_owned(),
            answer["bundle_id"].as_str().unwrap().to_owned(),
        )
    }

    /// Reads and zeroes the call counters; answers `calls` by `service:Operation`.
    pub(crate) fn take_counters(&self) -> Value {
        self.control("GET", "counters?reset=1", None)
    }

    /// Completes every pending lifecycle transition now.
    pub(crate) fn settle(&self) {
        self.control("POST", "settle", None);
    }

    /// An SDK configuration pointing at this emulator, with fast retries (1 ms first backoff).
    pub(crate) async fn sdk_config(&self) -> SdkConfig {
        let retries = Retries { initial_backoff: Duration::from_millis(1), ..Retries::DEFAULT };
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "wsdr-tests"))
            .retry_config(retries.retry_config())
            .load()
            .await
    }

    /// Every client, pointing at this emulator.
    pub(crate) async fn clients(&self) -> Clients {
        Clients::new(&self.sdk_config().await)
    }
}

/// Calls of one `service:Operation` in a counters answer.
pub(crate) fn calls(counters: &Value, operation: &str) -> u64 {
    counters["calls"][operation].as_u64().unwrap_or(0)
}
