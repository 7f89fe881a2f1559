//! The Tauri 2 shell: a tray icon with the core's menu, a window created only when opened,
//! desktop notifications, one instance per session. It wires; the controller decides.

mod autostart;
mod commands;
mod desktop;
mod notifier;
mod tray;
mod window;

use std::path::PathBuf;
use std::process::ExitCode;

use tauri::{Manager as _, RunEvent};
use wsdr_desktop_core::{ConnectTarget, Controller, MenuEvent};

use self::desktop::TauriDesktop;
use crate::clock;

/// The controller as the shell holds it (Tauri-managed state).
type TrayController = Controller<TauriDesktop>;

/// Runs the tray app until "Quit".
pub(crate) fn run(config: Option<PathBuf>, open_window: bool) -> ExitCode {
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| window::open(app)))
        .invoke_handler(tauri::generate_handler![
            commands::view,
            commands::connect,
            commands::check_now
        ])
        .setup(move |app| {
            let tray = tray::create(app.handle())?;
            let desktop = TauriDesktop::new(app.handle().clone(), tray);
            let controller =
                Controller::start(|name| std::env::var_os(name), config, desktop, clock::system());
            controller.set_autostart(autostart::is_enabled());
            app.manage(controller.clone());
            tauri::async_runtime::spawn(async move { controller.run_poller(fastrand::f64).await });
            if open_window {
                window::open(app.handle());
            }
            Ok(())
        })
        .on_menu_event(|app, event| {
            if let Some(event) = MenuEvent::from_id(event.id().as_ref()) {
                handle_menu_event(app, event);
            }
        })
        .build(context());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "cannot start the tray app");
            return ExitCode::FAILURE;
        }
    };
    app.run(|_app, event| {
        // Closing the window must not quit the tray; only "Quit" (an explicit exit code) does.
        if let RunEvent::ExitRequested { api, code: None, .. } = event {
            api.prevent_exit();
        }
    });
    ExitCode::SUCCESS
}

/// The configuration, capabilities and `ui/` assets, embedded at compile time.
#[allow(clippy::disallowed_types)] // Tauri's generated code builds a HashMap; we never iterate it.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// What a menu click does.
fn handle_menu_event(app: &tauri::AppHandle, event: MenuEvent) {
    let controller = app.state::<TrayController>();
    match event {
        MenuEvent::ConnectActive => connect(&controller, ConnectTarget::Active),
        MenuEvent::ConnectDr => connect(&controller, ConnectTarget::Dr),
        MenuEvent::CheckNow => controller.request_check(),
        MenuEvent::OpenWindow => window::open(app),
        MenuEvent::ToggleAutostart => {
            controller.set_autostart(autostart::set(!controller.autostart()));
        }
        MenuEvent::Quit => app.exit(0),
    }
}

/// Connects, telling the user in a notification when it could not.
fn connect(controller: &TrayController, target: ConnectTarget) {
    let controller = controller.clone();
    // The URL handler is awaited for a few seconds: never on the UI thread.
    std::thread::spawn(move || {
        if let Err(error) = controller.connect(target) {
            tracing::warn!(%error, ?target, "connect failed");
            notifier::show_error(&error.to_string());
        }
    });
}
