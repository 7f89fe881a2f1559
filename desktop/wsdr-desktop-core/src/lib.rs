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
//!
//! # I/O modules (each one clearly bounded)
//!
//! - [`locations`] and [`config::load`]: where the files are and reading them.
//! - [`store`]: the state file under `$XDG_STATE_HOME/wsdr/` (atomic writes).
//! - [`fetch`]: the HTTPS poll (reqwest with rustls, `If-None-Match`, timeouts, a size bound).
//! - [`controller`]: [`Controller`], the one driver shared by the tray and the one-shot modes;
//!   it reaches the desktop only through the [`Desktop`] trait.
//!
//! # Invariants
//!
//! - Nothing the tray trusts changes unless [`wsdr_protocol::verify`] accepted a document; a
//!   rejected document only changes the "last check" line, and the reason is logged.
//! - No code path builds a launch URI from text: only from a verified document's sites and the
//!   configured [`wsdr_protocol::LaunchUser`].
//! - A configuration problem is a state (`misconfigured`, with its reasons), never a panic.

pub mod config;
pub mod connect;
pub mod controller;
pub mod fetch;
pub mod locations;
pub mod memory;
pub mod menu;
pub mod notification;
pub mod schedule;
pub mod status;
pub mod store;
pub mod tray;
pub mod view;

pub use config::{Config, ConfigError, ConfigProblem, StatusUrl};
pub use connect::{ConnectRefusal, ConnectTarget};
pub use controller::{Clock, ConnectError, Controller, Desktop, LaunchError};
pub use fetch::{FetchOutcome, StatusClient};
pub use locations::Locations;
pub use memory::{AcceptedDocument, HistoryEntry, Memory};
pub use menu::{MenuEvent, MenuItem, MenuSpec};
pub use notification::{Announcement, Notification, NotificationAction};
pub use schedule::PollSchedule;
pub use status::TrayStatus;
pub use store::{Store, StoreError};
pub use tray::{CheckOutcome, CheckRecord, TrayCore, Update};
pub use view::View;
pub use wsdr_protocol::LaunchUri;
