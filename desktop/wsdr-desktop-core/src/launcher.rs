//! The one place that hands a launch URI to the OS (docs/contracts.md "Client launch", CVE-2021-38112):
//! a validated [`LaunchUri`], as one argument, never through a shell.
//!
//! - Windows: `ShellExecuteExW` (verb `open`, `SEE_MASK_NOASYNC | SEE_MASK_FLAG_NO_UI`), which
//!   runs the handler registered for `workspaces:` and reports when there is none (rundll32's
//!   `url.dll,FileProtocolHandler` exits 0 either way). The crate's only `unsafe` is that call.
//! - macOS: `/usr/bin/open URI`. Linux and the BSDs: `xdg-open URI`, found in an absolute
//!   directory of `PATH` (never the current directory).
//!
//! On Unix the handler's exit status is awaited for a few seconds: a non-zero status is a failure
//! with its reason; a handler still running then (some run the client in the foreground) is taken
//! as launched, and a thread reaps it when it ends.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::controller::LaunchError;
use wsdr_protocol::LaunchUri;

/// What the user is told when no program is registered for `workspaces://`.
pub const NO_HANDLER: &str = "no WorkSpaces client is registered for workspaces:// URIs — \
                              install the Amazon WorkSpaces client";

/// Environment variables the launched handler gets as the user had them, where the running
/// program changed them for itself (the tray's `GDK_GL`): name, inherited value (`None`: unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildEnv(Vec<(&'static str, Option<OsString>)>);

impl ChildEnv {
    /// The program's own environment, unchanged.
    pub fn inherit() -> Self {
        Self::default()
    }

    /// Gives the handler `value` for `name` (`None`: removes it).
    #[must_use]
    pub fn restore(mut self, name: &'static str, value: Option<OsString>) -> Self {
        self.0.push((name, value));
        self
    }

    /// The variables to set or remove.
    pub fn entries(&self) -> &[(&'static str, Option<OsString>)] {
        &self.0
    }
}

/// Opens `uri` with the OS URL handler.
///
/// # Errors
/// [`LaunchError`] with the reason: no handler registered ([`NO_HANDLER`]), the handler could not
/// be started, or it failed.
pub fn open_uri(uri: &LaunchUri, child_env: &ChildEnv) -> Result<(), LaunchError> {
    platform::open(uri.as_str(), child_env)
}

/// The first `name` in an absolute directory of `path` (the `PATH` value) for which `is_file`
/// holds. Relative and empty entries (which mean the current directory) are skipped.
pub fn find_in_path(
    name: &str,
    path: Option<&OsStr>,
    is_file: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| is_file(candidate))
}

/// Why `ShellExecuteExW` failed, in words, from its Win32 error code (`GetLastError`) and the
/// legacy `hInstApp` code (≤ 32 on failure). Pure, so it is tested on every OS.
pub fn shell_failure(win32_error: u32, inst_app: isize) -> String {
    // Win32 error codes and SE_ERR_* values (shellapi.h, winerror.h).
    const ERROR_FILE_NOT_FOUND: u32 = 2;
    const ERROR_PATH_NOT_FOUND: u32 = 3;
    const ERROR_ACCESS_DENIED: u32 = 5;
    const ERROR_CANCELLED: u32 = 1223;
    const ERROR_NO_ASSOCIATION: u32 = 1155;
    const SE_ERR_NOASSOC: isize = 31;
    const SE_ERR_ASSOCINCOMPLETE: isize = 27;
    match (win32_error, inst_app) {
        (ERROR_NO_ASSOCIATION, _) | (_, SE_ERR_NOASSOC | SE_ERR_ASSOCINCOMPLETE) => {
            NO_HANDLER.to_owned()
        }
        (ERROR_FILE_NOT_FOUND | ERROR_PATH_NOT_FOUND, _) => {
            "the program registered for workspaces:// URIs was not found — reinstall the Amazon \
             WorkSpaces client"
                .to_owned()
        }
        (ERROR_ACCESS_DENIED, _) => {
            "access denied when starting the WorkSpaces client (is it blocked by policy?)"
                .to_owned()
        }
        (ERROR_CANCELLED, _) => "starting the WorkSpaces client was cancelled".to_owned(),
        (code, inst) => format!("ShellExecuteExW failed (error {code}, code {inst})"),
    }
}

#[cfg(windows)]
mod platform {
    use windows::Win32::System::Com::{
        COINIT_APARTMENTTHREADED, COINIT_DISABLE_OLE1DDE, CoInitializeEx, CoUninitialize,
    };
    use windows::Win32::UI::Shell::{
        SEE_MASK_FLAG_NO_UI, SEE_MASK_NOASYNC, SHELLEXECUTEINFOW, ShellExecuteExW,
    };
    use windows::Win32::UI::WindowsAndMessaging::SW_SHOWNORMAL;
    use windows::core::{PCWSTR, w};

    use super::{ChildEnv, LaunchError, shell_failure};

    /// `ShellExecuteExW(open, uri)`. The child environment needs no restoring on Windows (the
    /// tray changes none of its variables there).
    pub(super) fn open(uri: &str, _child_env: &ChildEnv) -> Result<(), LaunchError> {
        let file: Vec<u16> = uri.encode_utf16().chain(std::iter::once(0)).collect();
        let mut info = SHELLEXECUTEINFOW {
            cbSize: u32::try_from(size_of::<SHELLEXECUTEINFOW>()).unwrap_or(u32::MAX),
            fMask: SEE_MASK_NOASYNC | SEE_MASK_FLAG_NO_UI,
            lpVerb: w!("open"),
            lpFile: PCWSTR(file.as_ptr()),
            nShow: SW_SHOWNORMAL.0,
            ..Default::default()
        };
        let result = shell_execute(&mut info);
        result.map_err(|error| {
            let code = u32::try_from(error.code().0 & 0xFFFF).unwrap_or(0);
            LaunchError(shell_failure(code, info.hInstApp.0 as isize))
        })
    }

    /// The crate's one `unsafe` block: COM initialised for this thread (shell extensions may
    /// need it), `ShellExecuteExW`, COM released again.
    #[allow(unsafe_code)]
    fn shell_execute(info: &mut SHELLEXECUTEINFOW) -> windows::core::Result<()> {
        // SAFETY: `info` is a fully initialised SHELLEXECUTEINFOW with the right `cbSize`; the
        // wide strings it points to (`lpVerb`, a static literal; `lpFile`, the caller's
        // NUL-terminated buffer) outlive the call, which does not keep them (SEE_MASK_NOASYNC:
        // it returns when the launch is done). CoInitializeEx/CoUninitialize are paired on this
        // thread; when COM was already initialised differently (RPC_E_CHANGED_MODE) we neither
        // use nor release it.
        unsafe {
            let com = CoInitializeEx(None, COINIT_APARTMENTTHREADED | COINIT_DISABLE_OLE1DDE);
            let result = ShellExecuteExW(info);
            if com.is_ok() {
                CoUninitialize();
            }
            result
        }
    }
}

#[cfg(not(windows))]
mod platform {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::{ChildEnv, LaunchError, find_in_path};

    /// How long the handler's exit status is awaited, in polls of [`POLL`].
    const WAIT_POLLS: u32 = 50;
    const POLL: Duration = Duration::from_millis(100);

    /// The URL handler of this OS, by absolute path.
    fn handler() -> Result<std::path::PathBuf, LaunchError> {
        if cfg!(target_os = "macos") {
            return Ok("/usr/bin/open".into());
        }
        let path = std::env::var_os("PATH");
        find_in_path("xdg-open", path.as_deref(), std::path::Path::is_file).ok_or_else(|| {
            LaunchError(
                "xdg-open was not found in PATH (install xdg-utils, or a WorkSpaces client \
                 that registers workspaces:// URIs)"
                    .to_owned(),
            )
        })
    }

    pub(super) fn open(uri: &str, child_env: &ChildEnv) -> Result<(), LaunchError> {
        let program = handler()?;
        let shown = program.display().to_string();
        #[allow(clippy::disallowed_methods)]
        // The one launcher: a validated LaunchUri, one argument.
        let mut command = Command::new(&program);
        for (name, value) in child_env.entries() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let mut child = command
            .arg(uri)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|error| LaunchError(format!("cannot run {shown}: {error}")))?;
        for _ in 0..WAIT_POLLS {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(LaunchError(format!("{shown} failed ({status})"))),
                Ok(None) => std::thread::sleep(POLL),
                Err(error) => return Err(LaunchError(format!("{shown}: {error}"))),
            }
        }
        tracing::info!(program = %shown, "URL handler still running; taking the client as launched");
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_search_skips_relative_and_empty_entries() {
        let sep = if cfg!(windows) { ";" } else { ":" };
        let (a, b) = if cfg!(windows) { (r"C:\a", r"C:\b") } else { ("/a", "/b") };
        let path = OsString::from(["", ".", "bin", a, b].join(sep));
        // Every candidate "exists": the first absolute directory wins, never "./xdg-open".
        assert_eq!(
            find_in_path("xdg-open", Some(&path), |_| true),
            Some(Path::new(a).join("xdg-open"))
        );
        let only_b = |p: &Path| p.starts_with(b);
        assert_eq!(
            find_in_path("xdg-open", Some(&path), only_b),
            Some(Path::new(b).join("xdg-open"))
        );
        let relative_only = OsString::from(["", ".", "bin"].join(sep));
        assert_eq!(find_in_path("xdg-open", Some(&relative_only), |_| true), None);
        assert_eq!(find_in_path("xdg-open", None, |_| true), None);
    }

    #[test]
    fn shell_failures_in_words() {
        // No association: the Win32 code, or only the legacy SE_ERR_NOASSOC (wine 8 sets that).
        assert_eq!(shell_failure(1155, 31), NO_HANDLER);
        assert_eq!(shell_failure(0, 31), NO_HANDLER);
        assert!(shell_failure(2, 2).contains("was not found"));
        assert!(shell_failure(1223, 0).contains("cancelled"));
        assert_eq!(shell_failure(87, 0), "ShellExecuteExW failed (error 87, code 0)");
    }

    #[test]
    fn child_env_restores_in_order() {
        let env = ChildEnv::inherit().restore("GDK_GL", None).restore("X", Some("1".into()));
        assert_eq!(env.entries(), [("GDK_GL", None), ("X", Some(OsString::from("1")))]);
    }
}
