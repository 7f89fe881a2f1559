//! Desktop notifications through notify-rust: the freedesktop D-Bus service on Linux, WinRT
//! toasts on Windows (under [`APP_USER_MODEL_ID`], which the installer's Start-menu shortcut
//! carries), each with a "Connect to DR" action where the platform supports actions. Shown from a
//! thread of their own: the call blocks, and waiting for an action blocks until the notification
//! closes.

use tauri::AppHandle;
use wsdr_desktop_core::Notification;
use wsdr_desktop_core::notification::escape_markup;

const APP_NAME: &str = "wsdr";

/// A notification with what every one of ours carries.
fn native(title: &str, body: &str, icon: &str) -> notify_rust::Notification {
    let mut native = notify_rust::Notification::new();
    native.appname(APP_NAME).summary(title).body(&escape_markup(body)).icon(icon);
    #[cfg(windows)]
    native.app_id(wsdr_desktop_core::APP_USER_MODEL_ID);
    native
}

/// Shows `notification`; a click on its action connects.
pub(crate) fn show(app: &AppHandle, notification: &Notification) {
    let app = app.clone();
    let notification = notification.clone();
    std::thread::spawn(move || {
        let icon = if notification.urgent { "dialog-warning" } else { "dialog-information" };
        let mut native = native(&notification.title, &notification.body, icon);
        if let Some(action) = notification.action {
            native.action(action.id(), action.label());
        }
        #[cfg(any(windows, all(unix, not(target_os = "macos"))))]
        if notification.urgent {
            native.urgency(notify_rust::Urgency::Critical).timeout(notify_rust::Timeout::Never);
        }
        match native.show() {
            Ok(handle) => actions::wait_for_action(handle, &app),
            Err(error) => tracing::warn!(%error, "cannot show the notification"),
        }
    });
}

/// Waiting for a click on the action: Linux/BSD (D-Bus `ActionInvoked`) and Windows (toast
/// activation); macOS notifications carry no action here.
#[cfg(any(windows, all(unix, not(target_os = "macos"))))]
mod actions {
    use tauri::{AppHandle, Manager as _};
    use wsdr_desktop_core::ConnectTarget;
    use wsdr_desktop_core::notification::NotificationAction;

    use super::super::TrayController;

    pub(super) fn wait_for_action(handle: notify_rust::NotificationHandle, app: &AppHandle) {
        handle.wait_for_action(|id| {
            if id == NotificationAction::ConnectDr.id() {
                let controller = app.state::<TrayController>();
                if let Err(error) = controller.connect(ConnectTarget::Dr) {
                    super::show_error(&error.to_string());
                }
            }
        });
    }
}

#[cfg(not(any(windows, all(unix, not(target_os = "macos")))))]
mod actions {
    pub(super) fn wait_for_action(
        _handle: notify_rust::NotificationHandle,
        _app: &super::AppHandle,
    ) {
    }
}

/// Tells the user that something they asked for failed (e.g. no WorkSpaces client installed).
pub(crate) fn show_error(message: &str) {
    let message = message.to_owned();
    std::thread::spawn(move || {
        if let Err(error) = native("wsdr", &message, "dialog-error").show() {
            tracing::warn!(%error, %message, "cannot show the notification");
        }
    });
}
