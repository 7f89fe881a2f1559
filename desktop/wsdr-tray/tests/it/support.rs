//! Running the binary, signed test documents and configuration files. Shared with
//! `wsdr-tray-cli`'s tests (included by path); each test crate names its `BINARY`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::{SignedDuration, Timestamp};
use wsdr_protocol::{
    Cause, CauseSource, KeyId, LocalSigner, Message, Region, RegistrationTarget, Site, SiteRole,
    State, StatusPayload, UnsignedDocument,
};

const FIXTURES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../backend/wsdr-protocol/tests/fixtures");
pub(crate) const TEST_KEY_ID: &str = "wsdr-test-2026";
pub(crate) const PRIMARY_CODE: &str = "SLiad+ABCDEF";
pub(crate) const DR_CODE: &str = "WSpdx+ABC12D";
pub(crate) use crate::BINARY;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

fn signer(key_file: &str, key_id: &str) -> LocalSigner {
    LocalSigner::from_pkcs8_pem(KeyId::parse(key_id).unwrap(), &fixture(key_file)).unwrap()
}

fn site(region: &str, code: &str) -> Site {
    Site {
        region: Region::parse(region).unwrap(),
        registration_code: RegistrationTarget::parse(code).unwrap(),
    }
}

/// A document in `state`, issued a minute ago and valid for a day (the binary reads the real
/// clock), signed by the test key.
pub(crate) fn document(sequence: u64, state: State) -> Vec<u8> {
    signed(sequence, state, "test-key.pem", TEST_KEY_ID, 0)
}

/// The same, signed by a key the configuration does not trust.
pub(crate) fn forged_document(sequence: u64, state: State) -> Vec<u8> {
    signed(sequence, state, "other-key.pem", TEST_KEY_ID, 0)
}

/// Signed by a key under an id the configuration does not know.
pub(crate) fn unknown_key_document(sequence: u64, state: State) -> Vec<u8> {
    signed(sequence, state, "other-key.pem", "wsdr-unknown", 0)
}

/// Correctly signed, but issued two days ago and expired a day ago.
pub(crate) fn expired_document(sequence: u64, state: State) -> Vec<u8> {
    signed(sequence, state, "test-key.pem", TEST_KEY_ID, 48 * 60)
}

fn signed(sequence: u64, state: State, key_file: &str, key_id: &str, age_min: i64) -> Vec<u8> {
    #[allow(clippy::disallowed_methods)] // Documents must be valid now for the real binary.
    let now = Timestamp::now() - SignedDuration::from_mins(age_min);
    let (active, title) = match state {
        State::Normal => (SiteRole::Primary, "WorkSpaces normal"),
        State::Failover => (SiteRole::Dr, "WorkSpaces failover"),
        State::Drill => (SiteRole::Dr, "DR drill"),
    };
    let payload = StatusPayload {
        sequence,
        issued_at: now - SignedDuration::from_mins(1),
        expires_at: now + SignedDuration::from_hours(24),
        state,
        primary: site("us-east-1", PRIMARY_CODE),
        dr: site("us-west-2", DR_CODE),
        active,
        message: Message::new(title, "Message from the admins <b>not markup</b> & more.").unwrap(),
        cause: Cause { source: CauseSource::Admin, event_arn: None },
    };
    let signer = signer(key_file, "wsdr-signer");
    let document = UnsignedDocument::new(&payload).unwrap().sign_with(&signer).unwrap();
    // Re-label the key id (a forgery claims the trusted id).
    String::from_utf8(document.to_json_bytes()).unwrap().replace("wsdr-signer", key_id).into_bytes()
}

/// A fresh directory with a `tray.toml` for `status_url`, and a state directory.
pub(crate) struct Home {
    pub(crate) dir: PathBuf,
}

impl Home {
    pub(crate) fn new(name: &str, status_url: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wsdr-tray-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "status_url = \"{status_url}\"\nusername = \"jdoe\"\npoll_interval_secs = 5\n\n[public_keys]\n\"{TEST_KEY_ID}\" = \"\"\"\n{}\"\"\"\n",
            fixture("test-key.pub.pem")
        );
        std::fs::write(dir.join("tray.toml"), config).unwrap();
        Self { dir }
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("tray.toml")
    }

    /// The environment that confines the binary to this home, on every OS: the XDG directories,
    /// and Windows' `%LOCALAPPDATA%` (state), `%APPDATA%` (user file), `%ProgramData%` (admins'
    /// file; `WSDR_TRAY_SYSTEM_CONFIG` replaces it unless [`Home::with_program_data`]).
    pub(crate) fn environment(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("XDG_STATE_HOME", self.dir.join("state")),
            ("XDG_CONFIG_HOME", self.dir.join("config")),
            ("LOCALAPPDATA", self.dir.join("local")),
            ("APPDATA", self.dir.join("config")),
            ("ProgramData", self.dir.join("programdata")),
            ("WSDR_TRAY_SYSTEM_CONFIG", self.dir.join("no-system.toml")),
        ]
    }

    /// The user's configuration file under this home (XDG and `%APPDATA%` alike).
    pub(crate) fn user_config(&self) -> PathBuf {
        self.dir.join("config").join("wsdr").join("tray.toml")
    }

    /// The state file under this home, where this OS keeps it.
    pub(crate) fn state_file(&self) -> PathBuf {
        if cfg!(windows) {
            self.dir.join("local").join("wsdr").join("state").join("state.json")
        } else {
            self.dir.join("state").join("wsdr").join("state.json")
        }
    }

    /// The binary with this home's environment and `args`.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        #[allow(clippy::disallowed_methods)] // The test harness runs the binary under test.
        let mut command = Command::new(BINARY);
        command.args(args).envs(self.environment()).env_remove("RUST_LOG");
        command
    }

    /// `wsdr-tray --status --config <this home's file>`, parsed.
    pub(crate) fn status(&self) -> serde_json::Value {
        let config = self.config();
        let output =
            self.command(&["--status", "--config", config.to_str().unwrap()]).output().unwrap();
        assert!(output.status.success(), "{}", describe(&output));
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", describe(&output)))
    }
}

pub(crate) fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
