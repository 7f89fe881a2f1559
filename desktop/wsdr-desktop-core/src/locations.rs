//! Where the tray's files live, from the environment (docs/contracts.md "Tray configuration").
//!
//! | | Linux and other Unix (XDG) | macOS | Windows |
//! |---|---|---|---|
//! | system config | `/etc/wsdr/tray.toml` | `/Library/Application Support/wsdr/tray.toml` | `%ProgramData%\wsdr\tray.toml` |
//! | user config | `$XDG_CONFIG_HOME/wsdr/tray.toml` (`~/.config`) | `~/Library/Application Support/wsdr/tray.toml` | `%APPDATA%\wsdr\tray.toml` |
//! | state | `$XDG_STATE_HOME/wsdr/` (`~/.local/state`) | `~/Library/Application Support/wsdr/state/` | `%LOCALAPPDATA%\wsdr\state\` |
//!
//! `WSDR_TRAY_SYSTEM_CONFIG` replaces the system file's path (tests, packaging); `--config FILE`
//! replaces both layers with FILE alone. The environment is read through a lookup function, so
//! resolution is a pure function testable with any environment.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::config::Sources;

/// Environment variable that replaces the system configuration file's path.
pub const SYSTEM_CONFIG_ENV: &str = "WSDR_TRAY_SYSTEM_CONFIG";

/// The file name of both configuration layers.
pub const CONFIG_FILE_NAME: &str = "tray.toml";

/// The resolved places of the tray's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    /// The configuration files (the layers, or `--config FILE` alone).
    pub config: Sources,
    /// The state directory, when one could be determined.
    pub state_dir: Option<PathBuf>,
}

impl Locations {
    /// Resolves the locations from an environment lookup (`std::env::var_os` in the binary).
    /// `config_override` (`--config FILE`) replaces both configuration layers.
    pub fn resolve(
        env: impl Fn(&str) -> Option<OsString>,
        config_override: Option<PathBuf>,
    ) -> Self {
        let platform = Platform::current();
        let config = match config_override {
            Some(file) => Sources::Only(file),
            None => {
                let system = env(SYSTEM_CONFIG_ENV)
                    .filter(|value| !value.is_empty())
                    .map_or_else(|| platform.system_config(&env), PathBuf::from);
                let user = platform.user_dir(&env).map(|dir| dir.join(CONFIG_FILE_NAME));
                Sources::Layered { system, user }
            }
        };
        Self { config, state_dir: platform.state_dir(&env) }
    }
}

/// A conventional layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Xdg,
    MacOs,
    Windows,
}

impl Platform {
    fn current() -> Self {
        if cfg!(target_os = "macos") {
            Self::MacOs
        } else if cfg!(windows) {
            Self::Windows
        } else {
            Self::Xdg
        }
    }

    fn system_config(self, env: &impl Fn(&str) -> Option<OsString>) -> PathBuf {
        match self {
            Self::Xdg => PathBuf::from("/etc/wsdr").join(CONFIG_FILE_NAME),
            Self::MacOs => {
                PathBuf::from("/Library/Application Support/wsdr").join(CONFIG_FILE_NAME)
            }
            Self::Windows => absolute(env("ProgramData"))
                .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
                .join("wsdr")
                .join(CONFIG_FILE_NAME),
        }
    }

    /// The per-user configuration directory of wsdr.
    fn user_dir(self, env: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
        match self {
            Self::Xdg => xdg_dir(env, "XDG_CONFIG_HOME", ".config"),
            Self::MacOs => home(env).map(|h| h.join("Library/Application Support")),
            Self::Windows => absolute(env("APPDATA")),
        }
        .map(|dir| dir.join("wsdr"))
    }

    fn state_dir(self, env: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
        match self {
            Self::Xdg => xdg_dir(env, "XDG_STATE_HOME", ".local/state").map(|d| d.join("wsdr")),
            Self::MacOs => self.user_dir(env).map(|dir| dir.join("state")),
            Self::Windows => absolute(env("LOCALAPPDATA")).map(|d| d.join("wsdr").join("state")),
        }
    }
}

/// `$VAR` when set to an absolute path (the XDG spec says to ignore relative ones), else
/// `$HOME/fallback`.
fn xdg_dir(env: &impl Fn(&str) -> Option<OsString>, var: &str, fallback: &str) -> Option<PathBuf> {
    absolute(env(var)).or_else(|| home(env).map(|home| home.join(fallback)))
}

fn home(env: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    absolute(env("HOME")).or_else(|| absolute(env("USERPROFILE")))
}

fn absolute(value: Option<OsString>) -> Option<PathBuf> {
    value.map(PathBuf::from).filter(|path| path.is_absolute())
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn xdg_layout() {
        let at = Locations::resolve(
            env(&[("XDG_CONFIG_HOME", "/c"), ("XDG_STATE_HOME", "/s"), ("HOME", "/h")]),
            None,
        );
        assert_eq!(
            at.config.files(),
            [PathBuf::from("/etc/wsdr/tray.toml"), PathBuf::from("/c/wsdr/tray.toml")]
        );
        assert_eq!(at.state_dir, Some(PathBuf::from("/s/wsdr")));
    }

    #[test]
    fn home_fallbacks_and_relative_values_ignored() {
        let at = Locations::resolve(
            env(&[
                ("XDG_CONFIG_HOME", "relative"),
                ("HOME", "/h"),
                (SYSTEM_CONFIG_ENV, "/t/sys.toml"),
            ]),
            None,
        );
        assert_eq!(
            at.config.files(),
            [PathBuf::from("/t/sys.toml"), PathBuf::from("/h/.config/wsdr/tray.toml")]
        );
        assert_eq!(at.state_dir, Some(PathBuf::from("/h/.local/state/wsdr")));
        assert_eq!(Locations::resolve(env(&[]), None).state_dir, None);
    }

    #[test]
    fn override_replaces_both_layers() {
        let at = Locations::resolve(env(&[("HOME", "/h")]), Some(PathBuf::from("/x.toml")));
        assert_eq!(at.config, Sources::Only(PathBuf::from("/x.toml")));
    }
}

#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    #[test]
    fn windows_layout() {
        let env = |name: &str| match name {
            "ProgramData" => Some(OsString::from(r"D:\PD")),
            "APPDATA" => Some(OsString::from(r"D:\U\Roaming")),
            "LOCALAPPDATA" => Some(OsString::from(r"D:\U\Local")),
            _ => None,
        };
        let at = Locations::resolve(env, None);
        assert_eq!(
            at.config,
            Sources::Layered {
                system: PathBuf::from(r"D:\PD\wsdr\tray.toml"),
                user: Some(PathBuf::from(r"D:\U\Roaming\wsdr\tray.toml")),
            }
        );
        assert_eq!(at.state_dir, Some(PathBuf::from(r"D:\U\Local\wsdr\state")));
        // Without ProgramData: the conventional place; without LOCALAPPDATA: no state.
        let bare = Locations::resolve(|_: &str| None, None);
        assert_eq!(bare.config.files(), [PathBuf::from(r"C:\ProgramData\wsdr\tray.toml")]);
        assert_eq!(bare.state_dir, None);
    }
}
