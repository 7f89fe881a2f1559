//! The AWS adapters: the only crate in wsdr that depends on the AWS SDK.
//!
//! One small module per service, each owning pagination, batching (at most 25 items per WorkSpaces call),
//! client-side rate limiting and the mapping of per-item `FailedRequests` into typed outcomes; and the drivers
//! that carry out the core's decisions through them. The adapters make no decisions: what to create or terminate
//! comes from `wsdr_core::plan`.

pub mod clock;
pub mod emulator;
pub mod error;
pub mod failover;
pub mod health_api;
pub mod kms;
pub mod limiter;
pub mod reconcile;
pub mod s3;
pub mod sdk;
pub mod secrets;
pub mod sns;
pub mod state;
pub mod status;
pub mod tagging;
pub mod workspaces;

pub use error::{AwsError, ErrorKind};
