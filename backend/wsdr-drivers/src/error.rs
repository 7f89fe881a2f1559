//! One error type for every call through a port, classified the way callers must react to it.
//!
//! The AWS adapters build it from the SDK's errors (`wsdr_aws::error::from_sdk`), the simulator builds it for the
//! faults it injects; the drivers only look at [`ErrorKind`].

use std::fmt;

/// How a failed call should be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The service throttled us even after the SDK's retries: try again later, slower.
    Throttled,
    /// A network error, a timeout or a 5xx after the SDK's retries: try again later.
    Transient,
    /// The object or resource does not exist (never a missing bucket: that is a wrong setting, [`Rejected`]).
    ///
    /// [`Rejected`]: ErrorKind::Rejected
    NotFound,
    /// An S3 conditional write lost the race (412 `PreconditionFailed`, 409 `ConditionalRequestConflict`).
    PreconditionFailed,
    /// The request was wrong (validation, permissions, a missing bucket, bad parameters): retrying will not help.
    Rejected,
}

impl ErrorKind {
    /// Whether the same request may succeed later.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// A failed call: which one, what the service said, and how to treat it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    /// The operation, e.g. `workspaces:CreateWorkspaces`.
    pub operation: &'static str,
    /// The service's error code, when it sent one (e.g. `ThrottlingException`).
    pub code: Option<String>,
    /// The service's own words.
    pub message: String,
    /// How to treat it.
    pub kind: ErrorKind,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.message)
    }
}

impl AwsError {
    /// A request wsdr could not even build, or an answer it cannot use: not retryable.
    pub fn rejected(operation: &'static str, message: impl Into<String>) -> AwsError {
        AwsError { operation, code: None, message: message.into(), kind: ErrorKind::Rejected }
    }

    /// An error of `kind` without a service code (timeouts, dropped connections, injected faults).
    pub fn new(operation: &'static str, kind: ErrorKind, message: impl Into<String>) -> AwsError {
        AwsError { operation, code: None, message: message.into(), kind }
    }
}

/// Error codes the AWS SDKs treat as throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// How to treat a service error with this code and HTTP status.
///
/// Only S3's two conditional-write codes (and 412) mean "lost the race"; another service's 409 is a conflict of its
/// own and is not retried as one. `NoSuchBucket` is a wrong setting, never "the object does not exist yet": reading
/// it as absent would, for one, turn the DR-in-use guard off.
pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    if code.is_some_and(|code| THROTTLING_CODES.contains(&code)) || status == Some(429) {
        return ErrorKind::Throttled;
    }
    match (code, status) {
        (Some("NoSuchBucket"), _) => ErrorKind::Rejected,
        (Some("PreconditionFailed" | "ConditionalRequestConflict"), _) | (None, Some(412)) => {
            ErrorKind::PreconditionFailed
        }
        (Some("OperationAborted"), _) => ErrorKind::Transient,
        (Some("NoSuchKey" | "NotFound" | "ResourceNotFoundException"), _) | (None, Some(404)) => {
            ErrorKind::NotFound
        }
        (_, Some(500..=599)) => ErrorKind::Transient,
        _ => ErrorKind::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_map_to_kinds() {
        assert_eq!(classify(Some("ThrottlingException"), Some(400)), ErrorKind::Throttled);
        assert_eq!(classify(None, Some(429)), ErrorKind::Throttled);
        assert_eq!(classify(Some("NoSuchKey"), Some(404)), ErrorKind::NotFound);
        assert_eq!(classify(None, Some(404)), ErrorKind::NotFound);
        assert_eq!(classify(Some("PreconditionFailed"), Some(412)), ErrorKind::PreconditionFailed);
        assert_eq!(
            classify(Some("ConditionalRequestConflict"), Some(409)),
            ErrorKind::PreconditionFailed
        );
        assert_eq!(classify(Some("InternalFailure"), Some(500)), ErrorKind::Transient);
        assert_eq!(classify(Some("ValidationException"), Some(400)), ErrorKind::Rejected);
        assert_eq!(classify(Some("AccessDeniedException"), Some(403)), ErrorKind::Rejected);
        assert!(ErrorKind::Throttled.is_retryable() && !ErrorKind::Rejected.is_retryable());
    }

    #[test]
    fn only_s3_conditional_conflicts_are_lost_races_and_a_missing_bucket_is_an_error() {
        // Another service's 409 is not a lost S3 race (defect: any 409 was).
        assert_eq!(classify(Some("ResourceInUseException"), Some(409)), ErrorKind::Rejected);
        assert_eq!(classify(Some("ConflictException"), Some(409)), ErrorKind::Rejected);
        assert_eq!(classify(Some("OperationAborted"), Some(409)), ErrorKind::Transient);
        // A wrong bucket name is not "no object yet" (defect: it read as "no failover record").
        assert_eq!(classify(Some("NoSuchBucket"), Some(404)), ErrorKind::Rejected);
    }
}
