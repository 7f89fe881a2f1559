//! [`TauriDesktop`]: the core's [`Desktop`] on Tauri: tray icon and menu, the open window, notifications,
//! and the launcher.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tauri::tray::TrayIcon;
use tauri::{AppHandle, Emitter as _, Manager as _};
use wsdr_desktop_core::launcher::{self};
use wsdr_desktop_core::menu::MenuSpec;
use wsdr_desktop_core::{
    Desktop, LaunchError, LaunchUri, Notification, Presence, RetryAfter, TrayStatus, View,
};

use super::{TrayController, notifier, tray, window};
use crate::gdk_gl;

/// The desktop side of the tray app.
pub(crate) struct TauriDesktop {
    app: AppHandle,
    /// The tray icon, once created (creation is retried while there is no taskbar).
    tray: Mutex<Option<TrayIcon>>,
    /// What is on the tray icon: skips redundant updates (idle CPU), retries failed ones.
    presence: Mutex<Presence<(TrayStatus, MenuSpec)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TauriDesktop {
    pub(crate) fn new(app: AppHandle) -> Self {
        Self { app, tray: Mutex::new(None), presence: Mutex::new(Presence::new()) }
    }

    /// The tray icon exists now.
    pub(crate) fn set_tray(&self, tray: TrayIcon) {
        *lock(&self.tray) = Some(tray);
    }

    /// Puts the state on the tray icon if it is not there; a retry to schedule if that failed.
    fn show_on_tray(&self, view: &View, menu: &MenuSpec) -> RetryAfter {
        let wanted = (view.state, menu.clone());
        let mut presence = lock(&self.presence);
        if !presence.needs_update(&wanted) {
            return RetryAfter::Nothing;
        }
        let tray = lock(&self.tray).clone();
        let shown = match &tray {
            Some(tray) => tray::show(&self.app, tray, view.state, menu).map_err(|e| e.to_string()),
            None => Err("the tray icon does not exist yet".to_owned()),
        };
        match &shown {
            Ok(()) => tracing::info!(state = view.state.as_str(), "tray icon and menu updated"),
            Err(error) => tracing::warn!(
                %error,
                state = view.state.as_str(),
                failures = presence.failures() + 1,
                "cannot update the tray icon (no taskbar yet?); will retry"
            ),
        }
        presence.record(wanted, shown.is_ok())
    }
}

/// Renders again after `delay` (a failed tray update).
fn schedule_retry(app: &AppHandle, delay: Duration) {
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let controller = app.state::<TrayController>();
        lock(&controller.desktop().presence).retry_started();
        controller.render();
    });
}

impl Desktop for TauriDesktop {
    fn render(&self, view: &View, menu: &MenuSpec) {
        if let RetryAfter::Delay(delay) = self.show_on_tray(view, menu) {
            schedule_retry(&self.app, delay);
        }
        if let Some(window) = self.app.get_webview_window(window::LABEL)
            && let Err(error) = window.emit(window::VIEW_EVENT, view)
        {
            tracing::warn!(%error, "cannot update the window");
        }
    }

    fn notify(&self, notification: &Notification) {
        notifier::show(&self.app, notification);
    }

    fn open_uri(&self, uri: &LaunchUri) -> Result<(), LaunchError> {
        launcher::open_uri(uri, &gdk_gl::child_env())
    }
}
