//! The wsdr tray app: a thin Tauri 2 shell around `wsdr-desktop-core`.
//!
//! It renders the core's menu and state, forwards menu events and window commands to the core's controller,
//! shows desktop notifications and hands launch URIs to the OS URL handler. It decides nothing itself.
//!
//! Empty until the tray-app issue fills it (Tauri is not a dependency yet, so the foundation builds fast).
