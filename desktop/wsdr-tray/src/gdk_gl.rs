//! Keeps OpenGL out of the tray process.
//!
//! GDK probes OpenGL when it opens the X display, which maps the whole Mesa driver into the
//! process (llvmpipe under Xvfb: +55 MB RSS), although the tray draws nothing with GL: its menu is
//! plain GTK, and WebKit renders the window's page in its own process. `GDK_GL=disable` skips the
//! probe (GTK 3.24). It is set only when the user has not set `GDK_GL` themselves, and the
//! launcher restores the user's environment for the processes it starts.

use std::ffi::OsString;
use std::sync::OnceLock;

use wsdr_desktop_core::launcher::ChildEnv;

const VAR: &str = "GDK_GL";

/// `GDK_GL` as the process inherited it (`None`: unset).
static INHERITED: OnceLock<Option<OsString>> = OnceLock::new();

/// Sets `GDK_GL=disable` unless the user set `GDK_GL`. Call first thing in `main`, before any
/// thread exists.
#[allow(unsafe_code)]
pub(crate) fn disable() {
    let inherited = INHERITED.get_or_init(|| std::env::var_os(VAR));
    if inherited.is_none() {
        // SAFETY: called at the start of `main`, before the process starts any thread, so nothing
        // reads or writes the environment concurrently.
        unsafe { std::env::set_var(VAR, "disable") };
    }
}

/// The user's own `GDK_GL` (or none), not the tray's, for the processes the launcher starts.
pub(crate) fn child_env() -> ChildEnv {
    match INHERITED.get() {
        Some(inherited) => ChildEnv::inherit().restore(VAR, inherited.clone()),
        None => ChildEnv::inherit(),
    }
}
