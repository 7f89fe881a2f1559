//! "Start at login". On Linux and the BSDs an XDG autostart entry,
//! `$XDG_CONFIG_HOME/autostart/wsdr-tray.desktop` (written here: the `auto-launch` crate ignores
//! `XDG_CONFIG_HOME` and does not quote the path); on macOS and Windows the `auto-launch` crate (a
//! launch agent, the Run registry key), which the official autostart plugin also wraps.

/// Whether the tray starts at login.
pub(crate) fn is_enabled() -> bool {
    platform::is_enabled()
}

/// Turns starting at login on or off; returns the resulting setting.
pub(crate) fn set(enabled: bool) -> bool {
    if let Err(error) = platform::set(enabled) {
        tracing::warn!(%error, enabled, "cannot change starting at login");
    }
    is_enabled()
}

#[cfg(not(any(windows, target_os = "macos")))]
mod platform {
    use std::path::{Path, PathBuf};

    const FILE_NAME: &str = "wsdr-tray.desktop";

    /// The autostart entry's path: `$XDG_CONFIG_HOME/autostart/` (`~/.config/autostart/`).
    fn entry_path() -> Option<PathBuf> {
        let absolute = |name| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
        absolute("XDG_CONFIG_HOME")
            .or_else(|| absolute("HOME").map(|home| home.join(".config")))
            .map(|config| config.join("autostart").join(FILE_NAME))
    }

    pub(super) fn is_enabled() -> bool {
        entry_path().is_some_and(|path| path.exists())
    }

    pub(super) fn set(enabled: bool) -> Result<(), String> {
        let path = entry_path().ok_or("no HOME or XDG_CONFIG_HOME")?;
        if !enabled {
            return match std::fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    Err(error.to_string())
                }
                _ => Ok(()),
            };
        }
        let exe = std::env::current_exe().map_err(|error| error.to_string())?;
        let entry = desktop_entry(&exe)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|error| error.to_string())?;
        }
        std::fs::write(&path, entry).map_err(|error| error.to_string())
    }

    /// The entry for `exe`. The path is quoted in `Exec`; a path with a character that would
    /// need escaping there (`"`, `` ` ``, `$`, `\`, `%`, control characters) is refused.
    fn desktop_entry(exe: &Path) -> Result<String, String> {
        let path = exe.to_str().ok_or("the program's path is not UTF-8")?;
        if path.chars().any(|c| matches!(c, '"' | '`' | '$' | '\\' | '%') || c.is_control()) {
            return Err(format!("cannot start {path:?} at login: its path needs escaping"));
        }
        Ok(format!(
            "[Desktop Entry]\nType=Application\nName=wsdr\nComment=WorkSpaces disaster recovery \
             status\nExec=\"{path}\"\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn entries() {
            let entry = desktop_entry(Path::new("/opt/wsdr tray/wsdr-tray")).unwrap();
            assert!(entry.contains("\nExec=\"/opt/wsdr tray/wsdr-tray\"\n"), "{entry}");
            for bad in ["/x/$HOME/t", "/x/a\"b", "/x/100%", "/x/a\nb"] {
                assert!(desktop_entry(Path::new(bad)).is_err(), "{bad:?}");
            }
        }
    }
}

#[cfg(any(windows, target_os = "macos"))]
mod platform {
    use auto_launch::{AutoLaunch, AutoLaunchBuilder};

    fn entry() -> Result<AutoLaunch, String> {
        let exe = std::env::current_exe().map_err(|error| error.to_string())?;
        AutoLaunchBuilder::new()
            .set_app_name("wsdr-tray")
            .set_app_path(exe.to_str().ok_or("the program's path is not UTF-8")?)
            .build()
            .map_err(|error| error.to_string())
    }

    pub(super) fn is_enabled() -> bool {
        entry().and_then(|entry| entry.is_enabled().map_err(|e| e.to_string())).unwrap_or(false)
    }

    pub(super) fn set(enabled: bool) -> Result<(), String> {
        let entry = entry()?;
        let result = if enabled { entry.enable() } else { entry.disable() };
        result.map_err(|error| error.to_string())
    }
}
