//! The desktop programs' one reading of the clock (the tray, `wsdr-tray-cli`); everything else
//! takes `now` from here through the [`Clock`] the controller is given.

use std::sync::Arc;

use jiff::Timestamp;

use crate::controller::Clock;

/// The system clock.
#[allow(clippy::disallowed_methods)] // The single sanctioned clock read of the desktop programs.
fn now() -> Timestamp {
    Timestamp::now()
}

/// The system clock as the controller takes it.
pub fn system() -> Clock {
    Arc::new(now)
}
