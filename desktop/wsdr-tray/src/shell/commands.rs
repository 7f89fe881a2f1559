//! The window's commands: they forward to the controller and decide nothing.

use tauri::State;
use wsdr_desktop_core::{ConnectTarget, View};

use super::TrayController;

/// The current view.
#[tauri::command]
pub(crate) fn view(controller: State<'_, TrayController>) -> View {
    controller.view()
}

/// Opens the client on `target`; the URI opened, or why not.
#[tauri::command]
pub(crate) async fn connect(
    controller: State<'_, TrayController>,
    target: ConnectTarget,
) -> Result<String, String> {
    let controller = controller.inner().clone();
    tauri::async_runtime::spawn_blocking(move || controller.connect(target))
        .await
        .map_err(|error| error.to_string())?
        .map(|uri| uri.into_string())
        .map_err(|error| error.to_string())
}

/// Asks for a check now; the window gets the result as a view event.
#[tauri::command]
pub(crate) fn check_now(controller: State<'_, TrayController>) {
    controller.request_check();
}
