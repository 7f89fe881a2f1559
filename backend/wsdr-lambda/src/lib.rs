//! wsdr's AWS Lambda functions: `reconcile`, `health` and `publish`.
//!
//! Each function is a thin `main` that builds its clients and configuration once, then hands every event to a
//! handler that is generic over the ports in `wsdr-aws`, so handlers are tested without AWS. Separate functions
//! so that each one gets its own least-privilege role.
//!
//! Empty until the live-reconciliation and health issues fill it.
