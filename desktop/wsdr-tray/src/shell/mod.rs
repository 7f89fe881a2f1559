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

use tauri::{AppHandle, Manager as _, RunEvent};
use wsdr_desktop_core::{ConnectTarget, Controller, MenuEvent, clock, presence};

use self::desktop::TauriDesktop;

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
        // The setup never fails: an error here would panic inside the event loop, and the
        // process would hang instead of exiting (seen under Wine before its system tray existed).
        .setup(move |app| {
            let desktop = TauriDesktop::new(app.handle().clone());
            let created = tray::create(app.handle());
            let controller =
                Controller::start(|name| std::env::var_os(name), config, desktop, clock::system());
            app.manage(controller.clone());
            match created {
                Ok(tray) => controller.desktop().set_tray(tray),
                Err(error) => {
                    tracing::warn!(%error, "cannot create the tray icon (no taskbar yet?); will retry");
                    create_tray_later(app.handle().clone(), 1);
                }
            }
            controller.set_autostart(autostart::is_enabled());
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

/// Tries again to create the tray icon, `failures` attempts having failed, after the core's
/// backoff; exits the app with an error when the attempts are used up.
fn create_tray_later(app: AppHandle, failures: u32) {
    let Some(delay) = presence::creation_retry(failures) else {
        tracing::error!(attempts = failures, "cannot create the tray icon; giving up");
        app.exit(1);
        return;
    };
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        match tray::create(&app) {
            Ok(tray) => {
                tracing::info!(attempts = failures + 1, "tray icon created");
                let controller = app.state::<TrayController>();
                controller.desktop().set_tray(tray);
                controller.render();
            }
            Err(error) => {
                tracing::warn!(%error, attempts = failures + 1, "cannot create the tray icon");
                create_tray_later(app, failures + 1);
            }
        }
    });
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
