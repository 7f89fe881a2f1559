//! The tray icon: its image reflects the state, its menu is the core's [`MenuSpec`] rendered
//! item by item (ids are [`wsdr_desktop_core::MenuEvent::id`]).

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem as TauriItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Wry};
use wsdr_desktop_core::TrayStatus;
use wsdr_desktop_core::menu::{MenuItem, MenuSpec};

const TRAY_ID: &str = "wsdr";
const STATUS_LINE_ID: &str = "status-line";

/// The icon for a state (PNG, embedded).
fn icon_bytes(status: TrayStatus) -> &'static [u8] {
    match status {
        TrayStatus::Ready => include_bytes!("../../icons/tray-ready.png"),
        TrayStatus::Failover => include_bytes!("../../icons/tray-failover.png"),
        TrayStatus::Drill => include_bytes!("../../icons/tray-drill.png"),
        TrayStatus::Recovered => include_bytes!("../../icons/tray-recovered.png"),
        TrayStatus::Stale => include_bytes!("../../icons/tray-stale.png"),
        TrayStatus::Misconfigured => include_bytes!("../../icons/tray-misconfigured.png"),
    }
}

/// Creates the tray icon, showing "status unknown" until the controller renders. Where there is
/// no taskbar yet, tray-icon still succeeds on Windows and adds the icon on `TaskbarCreated`; an
/// error here is retried by the caller (`presence::creation_retry`).
pub(crate) fn create(app: &AppHandle) -> tauri::Result<TrayIcon> {
    let status = TrayStatus::Stale;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon_bytes(status))?)
        .tooltip(format!("wsdr: {}", status.headline()))
        .menu(&Menu::with_items(
            app,
            &[&TauriItem::with_id(app, STATUS_LINE_ID, status.headline(), false, None::<&str>)?],
        )?)
        .show_menu_on_left_click(true)
        .build(app)
}

/// Shows `status` and `spec`. Fails while there is no taskbar (Windows: `NIM_MODIFY` on an icon
/// the shell does not have); the caller retries (`wsdr_desktop_core::presence`).
pub(crate) fn show(
    app: &AppHandle,
    tray: &TrayIcon,
    status: TrayStatus,
    spec: &MenuSpec,
) -> tauri::Result<()> {
    tray.set_icon(Some(Image::from_bytes(icon_bytes(status))?))?;
    tray.set_tooltip(Some(format!("wsdr: {}", status.headline())))?;
    tray.set_menu(Some(render(app, spec)?))?;
    Ok(())
}

fn render(app: &AppHandle, spec: &MenuSpec) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    for item in &spec.items {
        match item {
            MenuItem::Label(text) => {
                menu.append(&TauriItem::with_id(app, STATUS_LINE_ID, text, false, None::<&str>)?)?;
            }
            MenuItem::Action { event, text, enabled } => {
                menu.append(&TauriItem::with_id(app, event.id(), text, *enabled, None::<&str>)?)?;
            }
            MenuItem::Toggle { event, text, checked } => {
                menu.append(&CheckMenuItem::with_id(
                    app,
                    event.id(),
                    text,
                    true,
                    *checked,
                    None::<&str>,
                )?)?;
            }
            MenuItem::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}
