//! Desktop notifications (notify-rust: the freedesktop D-Bus service on Linux, with a "Connect to
//! DR" action where the server supports actions). Shown from a thread of their own: the D-Bus
//! call blocks, and waiting for an action blocks until the notification closes.

use tauri::{AppHandle, Manager as _};
use wsdr_desktop_core::notification::{NotificationAction, escape_markup};
use wsdr_desktop_core::{ConnectTarget, Notification};

use super::TrayController;

const APP_NAME: &str = "wsdr";

/// Shows `notification`; a click on its action connects.
pub(crate) fn show(app: &AppHandle, notification: &Notification) {
    let app = app.clone();
    let notification = notification.clone();
    std::thread::spawn(move || {
        let mut native = notify_rust::Notification::new();
        native
            .appname(APP_NAME)
            .summary(&notification.title)
            .body(&escape_markup(&notification.body))
            .icon(if notification.urgent { "dialog-warning" } else { "dialog-information" });
        if let Some(action) = notification.action {
            native.action(action.id(), action.label());
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        if notification.urgent {
            native.urgency(notify_rust::Urgency::Critical).timeout(notify_rust::Timeout::Never);
        }
        match native.show() {
            Ok(handle) => wait_for_action(handle, &app),
            Err(error) => tracing::warn!(%error, "cannot show the notification"),
        }
    });
}

#[cfg(all(unix, not(target_os = "macos")))]
fn wait_for_action(handle: notify_rust::NotificationHandle, app: &AppHandle) {
    handle.wait_for_action(|id| {
        if id == NotificationAction::ConnectDr.id() {
            let controller = app.state::<TrayController>();
            if let Err(error) = controller.connect(ConnectTarget::Dr) {
                show_error(&error.to_string());
            }
        }
    });
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn wait_for_action(_handle: notify_rust::NotificationHandle, _app: &AppHandle) {}

/// Tells the user that something they asked for failed.
pub(crate) fn show_error(message: &str) {
    let message = message.to_owned();
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname(APP_NAME)
            .summary("wsdr")
            .body(&escape_markup(&message))
            .icon("dialog-error")
            .show();
        if let Err(error) = shown {
            tracing::warn!(%error, "cannot show the notification");
        }
    });
}
