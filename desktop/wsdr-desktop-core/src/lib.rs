//! The tray app's logic, with no window and no I/O.
//!
//! The tray's state is a pure function of (configuration, last verified status document, poll outcome, `now`);
//! the menu is plain data rendered from that state, menu clicks are a typed enum, and the client is launched
//! only through `wsdr_protocol`'s validated launch URI. The Tauri shell (`wsdr-tray`) only renders and forwards.
//!
//! Empty until the tray-app issue fills it.
