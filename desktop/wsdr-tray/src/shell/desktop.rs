//! [`TauriDesktop`]: the core's [`Desktop`] on Tauri: tray icon and menu, the open window, notifications,
//! and the launcher.

use std::sync::Mutex;

use tauri::tray::TrayIcon;
use tauri::{AppHandle, Emitter as _, Manager as _};
use wsdr_desktop_core::menu::MenuSpec;
use wsdr_desktop_core::{Desktop, LaunchError, LaunchUri, Notification, TrayStatus, View};

use super::{notifier, tray, window};
use crate::launcher;

/// The desktop side of the tray app.
pub(crate) struct TauriDesktop {
    app: AppHandle,
    tray: TrayIcon,
    /// What is on screen, to skip redundant updates (idle CPU).
    shown: Mutex<Option<(TrayStatus, MenuSpec)>>,
}

impl TauriDesktop {
    pub(crate) fn new(app: AppHandle, tray: TrayIcon) -> Self {
        Self { app, tray, shown: Mutex::new(None) }
    }
}

impl Desktop for TauriDesktop {
    fn render(&self, view: &View, menu: &MenuSpec) {
        let next = (view.state, menu.clone());
        {
            let mut shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if shown.as_ref() != Some(&next) {
                match tray::show(&self.app, &self.tray, view.state, menu) {
                    Ok(()) => {
                        tracing::info!(state = view.state.as_str(), "tray icon and menu updated")
                    }
                    Err(error) => tracing::warn!(%error, "cannot update the tray icon"),
                }
                *shown = Some(next);
            }
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
        launcher::open_uri(uri)
    }
}
