//! The binary's one reading of the clock; everything below takes `now` from here.

use std::sync::Arc;

use jiff::Timestamp;
use wsdr_desktop_core::Clock;

/// The system clock.
#[allow(clippy::disallowed_methods)] // The single sanctioned clock read of this binary.
fn now() -> Timestamp {
    Timestamp::now()
}

/// The system clock as the controller takes it.
pub(crate) fn system() -> Clock {
    Arc::new(now)
}
