//! The tray configuration (docs/contracts.md "Tray configuration").
//!
//! Two stages, as ripgrep does it: every layer is read into a [`RawConfig`] that mirrors the TOML
//! verbatim (every key optional), the [`Layers`] are merged by one pure rule, and the result is
//! validated once into a [`Config`] whose fields are already typed. Validation collects every
//! problem, so an admin sees them all at once.
//!
//! The layers, lowest first: the admins' file (`/etc/wsdr/tray.toml`, `%ProgramData%\wsdr\...`),
//! the user's file, and on Windows the Group Policy registry key ([`crate::policy`]). The user
//! may set `username` and `poll_interval_secs`, but never `status_url` or `[public_keys]` when an
//! admins' layer sets them: what the tray trusts and where it looks are the admins' (the user's
//! keys would otherwise be added to the trusted set). Policy wins over both files.
//!
//! ```toml
//! status_url = "https://dr-status.example.com/status.json"
//! username = "jdoe"            # optional: the OS login name by default
//! poll_interval_secs = 300     # optional
//!
//! [public_keys]
//! "wsdr-2026-01" = """
//! -----BEGIN PUBLIC KEY-----
//! ...
//! -----END PUBLIC KEY-----
//! """
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use wsdr_protocol::{KeyError, KeyRing, LaunchUser, LaunchUserError};

/// Poll interval when the configuration names none: five minutes.
pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 300;
/// Shortest poll interval accepted (tests and demos poll every few seconds).
pub const MIN_POLL_INTERVAL_SECS: u64 = 5;
/// Longest poll interval accepted: a day.
pub const MAX_POLL_INTERVAL_SECS: u64 = 86_400;

/// One configuration file as written: every key optional, nothing validated yet. Unknown keys
/// are refused, so a misspelt key is reported instead of silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `status_url`.
    pub status_url: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `poll_interval_secs`.
    pub poll_interval_secs: Option<u64>,
    /// `[public_keys]`: key id → SPKI PEM.
    #[serde(default)]
    pub public_keys: BTreeMap<String, String>,
}

impl RawConfig {
    /// Parses one file's text; `origin` names it in the error.
    ///
    /// # Errors
    /// [`ConfigProblem::Syntax`] with the parser's message.
    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigProblem> {
        toml::from_str(text).map_err(|error| ConfigProblem::Syntax {
            origin: origin.to_owned(),
            detail: error.to_string().trim_end().to_owned(),
        })
    }

    /// Validates the merged layers. `os_login` is the OS login name, the default `username`.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem found.
    pub fn validate(self, os_login: Option<&str>) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let status_url = match self.status_url.as_deref() {
            None => Err(ConfigProblem::MissingStatusUrl),
            Some(text) => StatusUrl::parse(text),
        };
        let username = match (self.username.as_deref(), os_login) {
            (Some(name), _) => LaunchUser::parse(name)
                .map_err(|error| ConfigProblem::Username { name: name.to_owned(), error }),
            (None, Some(login)) => LaunchUser::parse(login)
                .map_err(|error| ConfigProblem::LoginName { name: login.to_owned(), error }),
            (None, None) => Err(ConfigProblem::NoUsername),
        };
        let secs = self.poll_interval_secs.unwrap_or(DEFAULT_POLL_INTERVAL_SECS);
        let poll_interval = if (MIN_POLL_INTERVAL_SECS..=MAX_POLL_INTERVAL_SECS).contains(&secs) {
            Ok(Duration::from_secs(secs))
        } else {
            Err(ConfigProblem::PollInterval { secs })
        };
        let keys = if self.public_keys.is_empty() {
            Err(ConfigProblem::NoPublicKeys)
        } else {
            KeyRing::from_pem_entries(
                self.public_keys.iter().map(|(id, pem)| (id.as_str(), pem.as_str())),
            )
            .map_err(ConfigProblem::PublicKey)
        };
        let status_url = status_url.map_err(|p| problems.push(p));
        let username = username.map_err(|p| problems.push(p));
        let poll_interval = poll_interval.map_err(|p| problems.push(p));
        let keys = keys.map_err(|p| problems.push(p));
        match (status_url, username, poll_interval, keys) {
            (Ok(status_url), Ok(username), Ok(poll_interval), Ok(keys)) => {
                Ok(Config { status_url, username, poll_interval, keys })
            }
            _ => Err(ConfigError { problems }),
        }
    }
}

/// The configuration layers, each as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layers {
    /// The admins' file.
    pub system: RawConfig,
    /// The user's file.
    pub user: RawConfig,
    /// Group Policy (Windows registry): the highest layer.
    pub policy: RawConfig,
}

/// A user setting that an admins' layer overrules (logged, not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overruled {
    /// The user's `status_url`.
    StatusUrl,
    /// The user's `[public_keys]`.
    PublicKeys,
}

impl Layers {
    /// Merges the layers: `status_url` and `[public_keys]` come from the highest admins' layer
    /// (policy, then the admins' file) that sets them, and from the user's file only when no
    /// admins' layer does (`[public_keys]` as a whole table, never entry by entry);
    /// `poll_interval_secs` from policy, then the user, then the admins' file; `username` from
    /// the user, then the admins' file. Also says which user settings were overruled.
    pub fn merge(self) -> (RawConfig, Vec<Overruled>) {
        let Self { system, user, policy } = self;
        let mut overruled = Vec::new();
        let admins_url = policy.status_url.or(system.status_url);
        if user.status_url.is_some() && admins_url.is_some() && user.status_url != admins_url {
            overruled.push(Overruled::StatusUrl);
        }
        let admins_keys =
            if policy.public_keys.is_empty() { system.public_keys } else { policy.public_keys };
        if !user.public_keys.is_empty()
            && !admins_keys.is_empty()
            && user.public_keys != admins_keys
        {
            overruled.push(Overruled::PublicKeys);
        }
        let merged = RawConfig {
            status_url: admins_url.or(user.status_url),
            username: policy.username.or(user.username).or(system.username),
            poll_interval_secs: policy
                .poll_interval_secs
                .or(user.poll_interval_secs)
                .or(system.poll_interval_secs),
            public_keys: if admins_keys.is_empty() { user.public_keys } else { admins_keys },
        };
        (merged, overruled)
    }
}

/// The validated configuration. No `Default`: every field comes from an admin's file (or the
/// OS login name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the signed status document is fetched from.
    pub status_url: StatusUrl,
    /// Who is pre-filled in the WorkSpaces client.
    pub username: LaunchUser,
    /// How often to poll (before jitter).
    pub poll_interval: Duration,
    /// The keys status documents must be signed with.
    pub keys: KeyRing,
}

/// The status document's URL: `https://`, or `http://` to a loopback address only (local tests
/// and the local demo), with no user name or password in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUrl(Url);

impl StatusUrl {
    /// Validates `text`.
    ///
    /// # Errors
    /// [`ConfigProblem::StatusUrl`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, ConfigProblem> {
        let problem =
            |reason: &str| ConfigProblem::StatusUrl { url: text.to_owned(), reason: reason.into() };
        let url = Url::parse(text).map_err(|error| problem(&error.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(problem("must not carry a user name or password"));
        }
        match url.scheme() {
            "https" => Ok(Self(url)),
            "http" if is_loopback(&url) => Ok(Self(url)),
            "http" => {
                Err(problem("must be https:// (http:// is allowed to loopback addresses only)"))
            }
            _ => Err(problem("must be an https:// URL")),
        }
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for StatusUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    /// A file exists but could not be read.
    #[error("cannot read {}: {detail}", origin.display())]
    Unreadable {
        /// The file.
        origin: PathBuf,
        /// The OS error.
        detail: String,
    },
    /// A file is not valid TOML, or has an unknown key or a value of the wrong type.
    #[error("{}: {detail}", origin.display())]
    Syntax {
        /// The file.
        origin: PathBuf,
        /// The parser's message.
        detail: String,
    },
    /// No configuration file was found at all.
    #[error("no configuration file found (looked at {})", display_paths(looked_at))]
    NoFile {
        /// The places looked at, in order.
        looked_at: Vec<PathBuf>,
    },
    /// A Group Policy value is not what the ADMX template writes.
    #[error("{origin}: {detail}")]
    Policy {
        /// The registry value (`HKLM\\SOFTWARE\\Policies\\wsdr\\...`).
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// `status_url` is missing.
    #[error("status_url is missing")]
    MissingStatusUrl,
    /// `status_url` is not acceptable.
    #[error("status_url {url:?} {reason}")]
    StatusUrl {
        /// The value.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// `username` is not a valid WorkSpaces user name.
    #[error("username {name:?}: {error}")]
    Username {
        /// The value.
        name: String,
        /// What is wrong.
        error: LaunchUserError,
    },
    /// No `username`, and the OS login name is not a valid WorkSpaces user name.
    #[error(
        "the login name {name:?} cannot be used as the WorkSpaces user name ({error}): set username"
    )]
    LoginName {
        /// The login name.
        name: String,
        /// What is wrong.
        error: LaunchUserError,
    },
    /// No `username` and no OS login name.
    #[error("username is missing and the OS login name is unknown")]
    NoUsername,
    /// `poll_interval_secs` is out of range.
    #[error(
        "poll_interval_secs {secs} is outside {MIN_POLL_INTERVAL_SECS}..={MAX_POLL_INTERVAL_SECS}"
    )]
    PollInterval {
        /// The value.
        secs: u64,
    },
    /// `[public_keys]` is missing or empty: nothing could ever be verified.
    #[error("[public_keys] is missing or empty")]
    NoPublicKeys,
    /// A `[public_keys]` entry is invalid.
    #[error("[public_keys]: {0}")]
    PublicKey(KeyError),
}

fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// Why there is no usable configuration: every problem found, in file then key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<ConfigProblem>,
}

impl ConfigError {
    /// An error with these problems (at least one is expected).
    pub fn new(problems: Vec<ConfigProblem>) -> Self {
        Self { problems }
    }

    /// The problems.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sources {
    /// `--config FILE`: this file alone (no other file, no policy).
    Only(PathBuf),
    /// The admins' file, the user's file (if a user directory is known), and the policy.
    Layered {
        /// The admins' file.
        system: PathBuf,
        /// The user's file.
        user: Option<PathBuf>,
    },
}

impl Sources {
    /// The files, in layer order.
    pub fn files(&self) -> Vec<PathBuf> {
        match self {
            Self::Only(file) => vec![file.clone()],
            Self::Layered { system, user } => {
                std::iter::once(system.clone()).chain(user.clone()).collect()
            }
        }
    }
}

/// Reads one file (I/O): `Ok(None)` when it does not exist.
fn read_layer(path: &Path) -> Result<Option<RawConfig>, ConfigProblem> {
    match std::fs::read_to_string(path) {
        Ok(text) => RawConfig::parse(path, &text).map(Some),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => {
            Err(ConfigProblem::Unreadable { origin: path.to_owned(), detail: error.to_string() })
        }
    }
}

/// Reads the configuration (I/O): the files of `sources` (a missing file skipped) and, for
/// [`Sources::Layered`], the `policy` layer as read (`Ok(None)`: no policy); merges them with
/// [`Layers::merge`] and validates. At least one file or a policy must exist.
///
/// # Errors
/// [`ConfigError`] with every unreadable file or policy value, syntax error and invalid value.
pub fn load(
    sources: &Sources,
    policy: Result<Option<RawConfig>, Vec<ConfigProblem>>,
    os_login: Option<&str>,
) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let mut found = false;
    let mut read = |path: &Path| match read_layer(path) {
        Ok(layer) => {
            found |= layer.is_some();
            layer.unwrap_or_default()
        }
        Err(problem) => {
            found = true;
            problems.push(problem);
            RawConfig::default()
        }
    };
    let mut layers = match sources {
        Sources::Only(file) => Layers { system: read(file), ..Layers::default() },
        Sources::Layered { system, user } => Layers {
            system: read(system),
            user: user.as_deref().map(&mut read).unwrap_or_default(),
            policy: RawConfig::default(),
        },
    };
    if matches!(sources, Sources::Layered { .. }) {
        match policy {
            Ok(Some(policy)) => {
                found = true;
                layers.policy = policy;
            }
            Ok(None) => {}
            Err(policy_problems) => {
                found = true;
                problems.extend(policy_problems);
            }
        }
    }
    if !found {
        return Err(ConfigError::new(vec![ConfigProblem::NoFile { looked_at: sources.files() }]));
    }
    if !problems.is_empty() {
        return Err(ConfigError::new(problems));
    }
    let (merged, overruled) = layers.merge();
    for setting in overruled {
        tracing::warn!(
            ?setting,
            "the user's setting is ignored: the admins' configuration sets it"
        );
    }
    merged.validate(os_login)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: &str =
        include_str!("../../../backend/wsdr-protocol/tests/fixtures/test-key.pub.pem");

    fn raw(text: &str) -> RawConfig {
        RawConfig::parse(Path::new("tray.toml"), text).unwrap()
    }

    #[test]
    fn user_layer_wins_for_its_own_settings_only() {
        let system = raw(
            "status_url = \"https://a.example/s.json\"\npoll_interval_secs = 60\n[public_keys]\nk1 = \"x\"\n",
        );
        let user = raw(
            "status_url = \"https://evil.example/s.json\"\nusername = \"jdoe\"\npoll_interval_secs = 30\n[public_keys]\nk2 = \"y\"\n",
        );
        let (merged, overruled) = Layers { system, user, policy: RawConfig::default() }.merge();
        assert_eq!(merged.status_url.as_deref(), Some("https://a.example/s.json"));
        assert_eq!(merged.username.as_deref(), Some("jdoe"));
        assert_eq!(merged.poll_interval_secs, Some(30));
        assert_eq!(merged.public_keys.keys().collect::<Vec<_>>(), ["k1"]);
        assert_eq!(overruled, [Overruled::StatusUrl, Overruled::PublicKeys]);
    }

    #[test]
    fn user_layer_alone_is_enough_without_admins() {
        let user = raw("status_url = \"https://u.example/s.json\"\n[public_keys]\nk2 = \"y\"\n");
        let (merged, overruled) = Layers { user: user.clone(), ..Layers::default() }.merge();
        assert_eq!(merged, user);
        assert!(overruled.is_empty());
    }

    #[test]
    fn policy_wins_over_both_files() {
        let system = raw("status_url = \"https://a.example/s\"\n[public_keys]\nk1 = \"x\"\n");
        let user = raw("poll_interval_secs = 30\n");
        let policy = raw(
            "status_url = \"https://p.example/s\"\npoll_interval_secs = 900\n[public_keys]\nkp = \"z\"\n",
        );
        let (merged, _) = Layers { system, user, policy }.merge();
        assert_eq!(merged.status_url.as_deref(), Some("https://p.example/s"));
        assert_eq!(merged.poll_interval_secs, Some(900));
        assert_eq!(merged.public_keys.keys().collect::<Vec<_>>(), ["kp"]);
    }

    fn arb_layer() -> impl proptest::strategy::Strategy<Value = RawConfig> {
        use proptest::prelude::*;
        let url = proptest::option::of("[a-c]{1,2}");
        let keys = proptest::collection::btree_map("k[1-3]", "[x-z]", 0..3);
        (url.clone(), url, proptest::option::of(5u64..10), keys).prop_map(
            |(status_url, username, poll_interval_secs, public_keys)| RawConfig {
                status_url,
                username,
                poll_interval_secs,
                public_keys,
            },
        )
    }

    proptest::proptest! {
        /// Whatever the user writes, an admins' `status_url` or `[public_keys]` stands (the
        /// policy's before the file's), and the user's own settings still apply.
        #[test]
        fn the_user_never_overrides_the_admins(
            system in arb_layer(), user in arb_layer(), policy in arb_layer()
        ) {
            let layers = Layers { system: system.clone(), user: user.clone(), policy: policy.clone() };
            let (merged, overruled) = layers.merge();
            let admins_url = policy.status_url.clone().or(system.status_url.clone());
            if admins_url.is_some() {
                proptest::prop_assert_eq!(&merged.status_url, &admins_url);
            } else {
                proptest::prop_assert_eq!(&merged.status_url, &user.status_url);
            }
            let admins_keys = if policy.public_keys.is_empty() { &system.public_keys } else { &policy.public_keys };
            if admins_keys.is_empty() {
                proptest::prop_assert_eq!(&merged.public_keys, &user.public_keys);
            } else {
                proptest::prop_assert_eq!(&merged.public_keys, admins_keys);
                // Not one user key is trusted beside the admins' (unless the admins list it).
                for (id, pem) in &merged.public_keys {
                    proptest::prop_assert_eq!(admins_keys.get(id), Some(pem));
                }
            }
            proptest::prop_assert_eq!(
                merged.username, policy.username.or(user.username).or(system.username)
            );
            proptest::prop_assert_eq!(
                merged.poll_interval_secs,
                policy.poll_interval_secs.or(user.poll_interval_secs).or(system.poll_interval_secs)
            );
            proptest::prop_assert_eq!(
                overruled.contains(&Overruled::StatusUrl),
                user.status_url.is_some() && admins_url.is_some() && user.status_url != admins_url
            );
        }
    }

    #[test]
    fn every_problem_is_listed() {
        let error = raw("status_url = \"http://example.com/s\"\npoll_interval_secs = 1\n")
            .validate(Some("-root"))
            .unwrap_err();
        expect_test::expect![[r#"status_url "http://example.com/s" must be https:// (http:// is allowed to loopback addresses only); the login name "-root" cannot be used as the WorkSpaces user name (user name starts with '-'): set username; poll_interval_secs 1 is outside 5..=86400; [public_keys] is missing or empty"#]]
        .assert_eq(&error.to_string());
    }

    #[test]
    fn unknown_keys_and_bad_syntax_are_refused() {
        let problem = RawConfig::parse(Path::new("t.toml"), "status_ulr = \"x\"").unwrap_err();
        assert!(problem.to_string().contains("unknown field `status_ulr`"), "{problem}");
        assert!(RawConfig::parse(Path::new("t.toml"), "status_url = ").is_err());
    }

    #[test]
    fn status_urls() {
        for ok in [
            "https://dr.example.com/status.json",
            "http://127.0.0.1:8080/s",
            "http://localhost/s",
            "http://[::1]:9/s",
        ] {
            assert!(StatusUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/s",
            "ftp://example.com/s",
            "https://user:pw@example.com/s",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(StatusUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_valid_configuration() {
        let text = format!(
            "status_url = \"https://dr.example.com/s.json\"\n[public_keys]\n\"wsdr-1\" = \"\"\"\n{PUB}\"\"\"\n"
        );
        let config = raw(&text).validate(Some("jdoe")).unwrap();
        assert_eq!(config.username.as_str(), "jdoe");
        assert_eq!(config.poll_interval, Duration::from_secs(DEFAULT_POLL_INTERVAL_SECS));
        assert_eq!(config.keys.len(), 1);
        assert_eq!(config.status_url.to_string(), "https://dr.example.com/s.json");
    }
}
