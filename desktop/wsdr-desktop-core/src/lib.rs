//! The wsdr tray app's logic, without a window.
//!
//! The tray's state is a pure function of (configuration, last verified status document, last
//! check, `now`); the menu is plain data rendered from that state, menu clicks are a typed enum,
//! and the WorkSpaces client is launched only through `wsdr_protocol`'s validated [`LaunchUri`].
//! The Tauri shell (`wsdr-tray`) renders what this crate decides and forwards what the user does.
//!
//! # Pure modules (no I/O, no clock: `now` is a parameter)
//!
//! - [`config`]: the TOML layers → [`Config`] or a [`ConfigError`] listing every problem.
//! - [`memory`]: what persists between runs ([`Memory`]: the last accepted document, the highest
//!   sequence seen, the alert history).
//! - [`status`]: [`TrayStatus`] (`ready | failover | drill | recovered | stale | misconfigured`).
//! - [`view`]: [`View`], everything the window and `wsdr-tray --status` show.
//! - [`menu`]: [`MenuSpec`] and [`MenuEvent`].
//! - [`notification`]: whether a change deserves a desktop notification (once per transition).
//! - [`connect`]: which [`LaunchUri`] a "Connect" click opens, or why it may not.
//! - [`schedule`]: the poll interval with jitter, and the backoff after failures.
//! - [`tray`]: [`TrayCore`], the state machine that ties them together.
//! - [`presence`]: what the tray shell does after a failed tray-icon update or creation (the
//!   taskbar may not exist yet at login): retry, with a bounded backoff.
//!
//! # I/O modules (each one clearly bounded)
//!
//! - [`locations`] and [`config::load`]: where the files are and reading them; [`policy`]: the
//!   Group Policy layer (pure conversion, and the registry read on Windows).
//! - [`store`]: the state file under `$XDG_STATE_HOME/wsdr/` (atomic writes).
//! - [`fetch`]: the HTTPS poll (reqwest with rustls, `If-None-Match`, timeouts, a size bound).
//! - [`controller`]: [`Controller`], the one driver shared by the tray and the one-shot modes;
//!   it reaches the desktop only through the [`Desktop`] trait.
//! - [`oneshot`]: `--status` and `--connect` (`wsdr-tray-cli`, `wsdr-tray`).
//! - [`launcher`]: the one place that hands a launch URI to the OS (`ShellExecuteExW` on
//!   Windows, `/usr/bin/open`, `xdg-open` by absolute path); its Windows call is the crate's only
//!   `unsafe` (the lint is `deny` here, `forbid` in the workspace).
//! - [`clock`]: the desktop programs' one clock read.
//!
//! # Invariants
//!
//! - Nothing the tray trusts changes unless [`wsdr_protocol::verify`] accepted a document; a
//!   rejected document only changes the "last check" line, and the reason is logged.
//! - No code path builds a launch URI from text: only from a verified document's sites and the
//!   configured [`wsdr_protocol::LaunchUser`].
//! - A configuration problem is a state (`misconfigured`, with its reasons), never a panic.

pub mod clock;
pub mod config;
pub mod connect;
pub mod controller;
pub mod fetch;
pub mod launcher;
pub mod locations;
pub mod memory;
pub mod menu;
pub mod notification;
pub mod oneshot;
pub mod policy;
pub mod presence;
pub mod schedule;
pub mod status;
pub mod store;
pub mod tray;
pub mod view;

pub use config::{Config, ConfigError, ConfigProblem, Layers, Overruled, Sources, StatusUrl};
pub use connect::{ConnectRefusal, ConnectTarget};
pub use controller::{Clock, ConnectError, Controller, Desktop, LaunchError};
pub use fetch::{FetchOutcome, StatusClient};
pub use locations::Locations;
pub use memory::{AcceptedDocument, HistoryEntry, Memory};
pub use menu::{MenuEvent, MenuItem, MenuSpec};
pub use notification::{Announcement, Notification, NotificationAction};
pub use presence::{Presence, RetryAfter};
pub use schedule::PollSchedule;
pub use status::TrayStatus;
pub use store::{Store, StoreError};
pub use tray::{CheckOutcome, CheckRecord, TrayCore, Update};
pub use view::View;

/// The AppUserModelID of the tray's notifications on Windows. The installer's Start-menu shortcut
/// must carry the same one (`System.AppUserModel.ID`), or Windows drops or mislabels the toasts.
pub const APP_USER_MODEL_ID: &str = "wsdr.tray";
pub use wsdr_protocol::LaunchUri;
