//! The command line's one reading of the clock; everything below it takes `now` as a parameter.

use jiff::Timestamp;

/// The current time.
#[allow(clippy::disallowed_methods)] // The single sanctioned clock read of this binary.
pub(crate) fn now() -> Timestamp {
    Timestamp::now()
}
