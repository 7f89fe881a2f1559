//! The AWS adapters: the only crate in wsdr that depends on the AWS SDK.
//!
//! One small module per service (WorkSpaces, S3, SNS, Health, KMS), each behind a trait that the drivers call.
//! The adapters own pagination, batching (at most 25 items per WorkSpaces call), client-side rate limiting,
//! bounded retries and the mapping of per-item `FailedRequests` into typed outcomes. They make no decisions:
//! what to create or terminate comes from `wsdr_core::plan`.
//!
//! Empty until the live-reconciliation issue fills it.
