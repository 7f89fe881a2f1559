//! Shared fixtures: the protocol crate's test keys, payload builders and a scratch directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use wsdr_desktop_core::config::RawConfig;
use wsdr_desktop_core::{Config, Memory, TrayCore};
use wsdr_protocol::{
    Cause, CauseSource, KeyId, LocalSigner, Message, Region, RegistrationTarget, Signer as _, Site,
    SiteRole, State, StatusPayload, UnsignedDocument,
};

const FIXTURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../backend/wsdr-protocol/tests/fixtures");

pub(crate) const TEST_KEY_ID: &str = "wsdr-test-2026";
pub(crate) const OTHER_KEY_ID: &str = "wsdr-other";
pub(crate) const PRIMARY_CODE: &str = "SLiad+ABCDEF";
pub(crate) const DR_CODE: &str = "WSpdx+ABC12D";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

pub(crate) fn test_public_pem() -> String {
    fixture("test-key.pub.pem")
}

pub(crate) fn test_signer() -> LocalSigner {
    LocalSigner::from_pkcs8_pem(KeyId::parse(TEST_KEY_ID).unwrap(), &fixture("test-key.pem"))
        .unwrap()
}

pub(crate) fn other_signer() -> LocalSigner {
    LocalSigner::from_pkcs8_pem(KeyId::parse(OTHER_KEY_ID).unwrap(), &fixture("other-key.pem"))
        .unwrap()
}

pub(crate) fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Minutes after 2026-03-01T10:00Z, the time every test document is issued around.
pub(crate) fn at(minutes: i64) -> Timestamp {
    ts("2026-03-01T10:00:00Z") + jiff::SignedDuration::from_mins(minutes)
}

fn site(region: &str, code: &str) -> Site {
    Site {
        region: Region::parse(region).unwrap(),
        registration_code: RegistrationTarget::parse(code).unwrap(),
    }
}

/// A payload issued `issued_min` minutes after 10:00, valid for a day.
pub(crate) fn payload(sequence: u64, state: State, issued_min: i64) -> StatusPayload {
    let (active, title, body) = match state {
        State::Normal => (SiteRole::Primary, "WorkSpaces normal", "Use your usual WorkSpace."),
        State::Failover => (
            SiteRole::Dr,
            "WorkSpaces failover",
            "The primary region has a WorkSpaces outage.\nUse your DR WorkSpace.",
        ),
        State::Drill => (SiteRole::Dr, "DR drill", "Please try your DR WorkSpace today."),
    };
    StatusPayload {
        sequence,
        issued_at: at(issued_min),
        expires_at: at(issued_min) + jiff::SignedDuration::from_hours(24),
        state,
        primary: site("us-east-1", PRIMARY_CODE),
        dr: site("us-west-2", DR_CODE),
        active,
        message: Message::new(title, body).unwrap(),
        cause: Cause { source: CauseSource::Admin, event_arn: None },
    }
}

pub(crate) fn sign(payload: &StatusPayload, signer: &LocalSigner) -> Vec<u8> {
    UnsignedDocument::new(payload).unwrap().sign_with(signer).unwrap().to_json_bytes()
}

/// A document signed by the test key.
pub(crate) fn document(sequence: u64, state: State, issued_min: i64) -> Vec<u8> {
    sign(&payload(sequence, state, issued_min), &test_signer())
}

/// Arbitrary payload bytes, correctly signed by the test key (for payloads the builders refuse).
pub(crate) fn signed_raw(payload_bytes: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = test_signer().sign_der(payload_bytes).unwrap();
    format!(
        r#"{{"payload":"{}","signature":"{}","key_id":"{TEST_KEY_ID}","alg":"ES256"}}"#,
        b64.encode(payload_bytes),
        b64.encode(signature)
    )
    .into_bytes()
}

/// The configuration file text trusting the test key.
pub(crate) fn config_toml(status_url: &str) -> String {
    format!(
        "status_url = \"{status_url}\"\nusername = \"jdoe\"\npoll_interval_secs = 5\n\n[public_keys]\n\"{TEST_KEY_ID}\" = \"\"\"\n{}\"\"\"\n",
        test_public_pem()
    )
}

pub(crate) fn config(status_url: &str) -> Config {
    RawConfig::parse(Path::new("tray.toml"), &config_toml(status_url))
        .unwrap()
        .validate(None)
        .unwrap()
}

/// A core with the test configuration and an empty memory.
pub(crate) fn fresh_core(now: Timestamp) -> TrayCore {
    TrayCore::new(Ok(config("https://status.example.com/s.json")), Memory::default(), now)
}

/// A new empty directory under the system's temporary directory.
pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "wsdr-desktop-core-{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
