//! The Group Policy layer (Windows): what an ADMX template (or Intune) writes under
//! `HKLM\SOFTWARE\Policies\wsdr`, read into a [`RawConfig`] that lies over both files.
//!
//! | value | type | meaning |
//! |---|---|---|
//! | `StatusUrl` | `REG_SZ` | `status_url` |
//! | `PollIntervalSecs` | `REG_DWORD` | `poll_interval_secs` |
//! | subkey `PublicKeys`, value name = key id | `REG_SZ` | `[public_keys]`: the SPKI public key as PEM, or the bare base64 of its DER on one line |
//!
//! These names are a contract with the ADMX/ADML files shipped with the installer. The
//! conversion ([`policy_layer`]) is pure; only [`read`] touches the registry (Windows only).

use std::collections::BTreeMap;

use crate::config::{ConfigProblem, RawConfig};

/// The policy key under `HKEY_LOCAL_MACHINE`.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\wsdr";
/// The subkey holding the trusted public keys.
pub const PUBLIC_KEYS_SUBKEY: &str = "PublicKeys";
/// `status_url`.
pub const STATUS_URL_VALUE: &str = "StatusUrl";
/// `poll_interval_secs`.
pub const POLL_INTERVAL_VALUE: &str = "PollIntervalSecs";

/// A registry value as read, reduced to what the policy layer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyValue {
    /// `REG_SZ`.
    String(String),
    /// `REG_DWORD`.
    Dword(u32),
    /// Any other type, by name (`REG_EXPAND_SZ`, `REG_BINARY`, ...).
    Other(String),
}

impl PolicyValue {
    fn type_name(&self) -> &str {
        match self {
            Self::String(_) => "REG_SZ",
            Self::Dword(_) => "REG_DWORD",
            Self::Other(name) => name,
        }
    }
}

/// The policy values as read: those of the policy key, and those of its `PublicKeys` subkey.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyValues {
    /// `HKLM\SOFTWARE\Policies\wsdr`'s values, by name.
    pub values: Vec<(String, PolicyValue)>,
    /// `HKLM\SOFTWARE\Policies\wsdr\PublicKeys`'s values: key id → key.
    pub public_keys: Vec<(String, PolicyValue)>,
}

fn origin(name: &str) -> String {
    format!(r"HKLM\{POLICY_KEY}\{name}")
}

fn problem(name: &str, detail: impl Into<String>) -> ConfigProblem {
    ConfigProblem::Policy { origin: origin(name), detail: detail.into() }
}

/// The policy layer from the values read: every problem (a wrong type, an unknown value name)
/// is listed, like a file's.
///
/// # Errors
/// The problems found.
pub fn policy_layer(read: &PolicyValues) -> Result<RawConfig, Vec<ConfigProblem>> {
    let mut layer = RawConfig::default();
    let mut problems = Vec::new();
    for (name, value) in &read.values {
        match (name.as_str(), value) {
            (STATUS_URL_VALUE, PolicyValue::String(url)) => layer.status_url = Some(url.clone()),
            (POLL_INTERVAL_VALUE, PolicyValue::Dword(secs)) => {
                layer.poll_interval_secs = Some(u64::from(*secs));
            }
            (STATUS_URL_VALUE, other) => {
                problems.push(problem(name, format!("must be REG_SZ, not {}", other.type_name())));
            }
            (POLL_INTERVAL_VALUE, other) => problems
                .push(problem(name, format!("must be REG_DWORD, not {}", other.type_name()))),
            _ => problems.push(problem(
                name,
                format!(
                    "unknown policy value (expected {STATUS_URL_VALUE} or {POLL_INTERVAL_VALUE})"
                ),
            )),
        }
    }
    let mut keys = BTreeMap::new();
    for (key_id, value) in &read.public_keys {
        let name = format!(r"{PUBLIC_KEYS_SUBKEY}\{key_id}");
        match value {
            PolicyValue::String(text) => {
                keys.insert(key_id.clone(), as_pem(text));
            }
            other => {
                problems.push(problem(&name, format!("must be REG_SZ, not {}", other.type_name())))
            }
        }
    }
    layer.public_keys = keys;
    if problems.is_empty() { Ok(layer) } else { Err(problems) }
}

/// A key as PEM: PEM text is kept; a bare base64 DER (one line, as GPO list boxes hold it) is
/// wrapped in `PUBLIC KEY` armour with 64-character lines. Whether it is a valid P-256 key is
/// checked later, with every other key.
pub fn as_pem(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.starts_with("-----BEGIN") {
        // A GPO text box may have turned line breaks into spaces or "\n": restore the lines.
        return trimmed.replace("\\n", "\n");
    }
    let base64: Vec<char> = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in base64.chunks(64) {
        pem.extend(line);
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// Reads the policy key (I/O, Windows only): `Ok(None)` when no policy is set.
///
/// # Errors
/// The problems of [`policy_layer`], or a registry error other than "not found".
#[cfg(windows)]
pub fn read() -> Result<Option<RawConfig>, Vec<ConfigProblem>> {
    use windows_registry::{Key, LOCAL_MACHINE, Type, Value};

    // ERROR_FILE_NOT_FOUND as an HRESULT: the key or value does not exist.
    const NOT_FOUND: i32 = 0x8007_0002_u32 as i32;
    fn convert(value: Value) -> PolicyValue {
        match value.ty() {
            Type::String => String::try_from(value).map_or_else(
                |error| PolicyValue::Other(format!("unreadable REG_SZ ({error})")),
                PolicyValue::String,
            ),
            Type::U32 => u32::try_from(value).map_or_else(
                |error| PolicyValue::Other(format!("unreadable REG_DWORD ({error})")),
                PolicyValue::Dword,
            ),
            other => PolicyValue::Other(format!("{other:?}")),
        }
    }
    fn values(key: &Key, at: &str) -> Result<Vec<(String, PolicyValue)>, Vec<ConfigProblem>> {
        let values = key.values().map_err(|error| vec![problem(at, error.to_string())])?;
        Ok(values.map(|(name, value)| (name, convert(value))).collect())
    }
    let key = match LOCAL_MACHINE.open(POLICY_KEY) {
        Ok(key) => key,
        Err(error) if error.code().0 == NOT_FOUND => return Ok(None),
        Err(error) => return Err(vec![problem("", error.to_string())]),
    };
    let mut read = PolicyValues { values: values(&key, "")?, public_keys: Vec::new() };
    match key.open(PUBLIC_KEYS_SUBKEY) {
        Ok(subkey) => read.public_keys = values(&subkey, PUBLIC_KEYS_SUBKEY)?,
        Err(error) if error.code().0 == NOT_FOUND => {}
        Err(error) => return Err(vec![problem(PUBLIC_KEYS_SUBKEY, error.to_string())]),
    }
    policy_layer(&read).map(Some)
}

/// Reads the policy key: there is none outside Windows.
///
/// # Errors
/// Never.
#[cfg(not(windows))]
pub fn read() -> Result<Option<RawConfig>, Vec<ConfigProblem>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: &str =
        include_str!("../../../backend/wsdr-protocol/tests/fixtures/test-key.pub.pem");

    fn string(name: &str, value: &str) -> (String, PolicyValue) {
        (name.to_owned(), PolicyValue::String(value.to_owned()))
    }

    /// The DER's base64 on one line, as an admin pastes it into a GPO list box.
    fn one_line(pem: &str) -> String {
        pem.lines().filter(|line| !line.starts_with("-----")).collect()
    }

    #[test]
    fn values_become_a_layer_and_both_key_forms_validate() {
        let read = PolicyValues {
            values: vec![
                string(STATUS_URL_VALUE, "https://dr.example.com/s.json"),
                (POLL_INTERVAL_VALUE.to_owned(), PolicyValue::Dword(600)),
            ],
            public_keys: vec![string("k-pem", PUB), string("k-der", &one_line(PUB))],
        };
        let layer = policy_layer(&read).unwrap();
        assert_eq!(layer.status_url.as_deref(), Some("https://dr.example.com/s.json"));
        assert_eq!(layer.poll_interval_secs, Some(600));
        assert_eq!(layer.public_keys["k-der"], PUB);
        let config = layer.validate(Some("jdoe")).unwrap();
        assert_eq!(config.keys.len(), 2);
    }

    #[test]
    fn wrong_types_and_unknown_names_are_listed() {
        let read = PolicyValues {
            values: vec![
                (STATUS_URL_VALUE.to_owned(), PolicyValue::Other("ExpandString".into())),
                string(POLL_INTERVAL_VALUE, "600"),
                string("StatusURL2", "x"),
            ],
            public_keys: vec![("k".to_owned(), PolicyValue::Dword(1))],
        };
        let problems: Vec<String> =
            policy_layer(&read).unwrap_err().iter().map(ToString::to_string).collect();
        expect_test::expect![[r#"
            [
                "HKLM\\SOFTWARE\\Policies\\wsdr\\StatusUrl: must be REG_SZ, not ExpandString",
                "HKLM\\SOFTWARE\\Policies\\wsdr\\PollIntervalSecs: must be REG_DWORD, not REG_SZ",
                "HKLM\\SOFTWARE\\Policies\\wsdr\\StatusURL2: unknown policy value (expected StatusUrl or PollIntervalSecs)",
                "HKLM\\SOFTWARE\\Policies\\wsdr\\PublicKeys\\k: must be REG_SZ, not REG_DWORD",
            ]
        "#]]
        .assert_debug_eq(&problems);
    }

    #[test]
    fn an_empty_policy_key_sets_nothing() {
        assert_eq!(policy_layer(&PolicyValues::default()).unwrap(), RawConfig::default());
    }

    #[test]
    fn pem_with_escaped_newlines_is_restored() {
        assert_eq!(as_pem(&PUB.trim().replace('\n', "\\n")), PUB.trim());
    }
}
