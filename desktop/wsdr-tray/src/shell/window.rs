//! The wsdr window, created only when opened (a window and its WebKit processes cost hundreds of
//! megabytes; the tray alone idles small). Closing it destroys it; the tray stays.

use tauri::{AppHandle, Manager as _, WebviewUrl, WebviewWindowBuilder};

/// The window's label (the capability in `capabilities/` names it).
pub(crate) const LABEL: &str = "main";

/// The event carrying a new [`wsdr_desktop_core::View`] to the window.
pub(crate) const VIEW_EVENT: &str = "wsdr://view";

/// Opens the window, or brings it to the front.
pub(crate) fn open(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html".into()))
        .title("wsdr — WorkSpaces disaster recovery")
        .inner_size(620.0, 720.0)
        .min_inner_size(420.0, 480.0)
        .build();
    if let Err(error) = built {
        tracing::error!(%error, "cannot open the window");
    }
}
