//! The wsdr drivers: the core's decisions carried out through small ports.
//!
//! A driver reads what it needs through the [`ports`], asks the pure core (`wsdr-core`) what to do, and performs
//! exactly that; it makes no decision of its own beyond sequencing and retrying. The ports are implemented on the
//! AWS SDK by `wsdr-aws` (what the Lambda functions and the CLI run) and in memory, with faults, by `wsdr-sim`
//! (what the fault simulator runs): one driver code for both.
//!
//! - [`failover`]: health events, admin commands and the periodic refresh against the failover record, the
//!   admins' topic and the status document.
//! - [`status`]: the status document's configuration, payload and object (verified before it is trusted).

pub mod error;
pub mod failover;
pub mod object;
pub mod ports;
pub mod status;

pub use error::{AwsError, ErrorKind};
