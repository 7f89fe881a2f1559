//! One error type for every AWS call, classified the way callers must react to it.

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// How a failed AWS call should be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The service throttled us even after the SDK's retries: try again later, slower.
    Throttled,
    /// A network error, a timeout or a 5xx after the SDK's retries: try again later.
    Transient,
    /// The object or resource does not exist.
    NotFound,
    /// A conditional write lost the race (S3 412 Precondition Failed or 409 ConditionalRequestConflict).
    PreconditionFailed,
    /// The request was wrong (validation, permissions, bad parameters): retrying will not help.
    Rejected,
}

impl ErrorKind {
    /// Whether the same request may succeed later.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// A failed AWS call: which one, what the service said, and how to treat it.
#[derive(Debug, thiserror::Error)]
pub struct AwsError {
    /// The operation, e.g. `workspaces:CreateWorkspaces`.
    pub operation: &'static str,
    /// The service's error code, when it sent one (e.g. `ThrottlingException`).
    pub code: Option<String>,
    /// The full message, with the SDK's context.
    pub message: String,
    /// How to treat it.
    pub kind: ErrorKind,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.message)
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

impl AwsError {
    /// A request wsdr could not even build, or an answer it cannot use: not retryable.
    pub fn rejected(operation: &'static str, message: impl Into<String>) -> AwsError {
        AwsError { operation, code: None, message: message.into(), kind: ErrorKind::Rejected }
    }

    /// Classifies an SDK error from `operation`.
    pub fn from_sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        match &error {
            SdkError::ServiceError(context) => {
                let (service_error, status) = (context.err(), context.raw().status().as_u16());
                let code = service_error.code().map(str::to_owned);
                // The service's own words, not the SDK's debug dump of the raw response.
                let message = match (service_error.code(), service_error.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => format!("{code} (HTTP {status})"),
                    _ => format!("HTTP {status}: {}", DisplayErrorContext(service_error)),
                };
                let kind = classify(code.as_deref(), Some(status));
                AwsError { operation, code, message, kind }
            }
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => AwsError {
                operation,
                code: None,
                message: DisplayErrorContext(&error).to_string(),
                kind: ErrorKind::Transient,
            },
            _ => AwsError {
                operation,
                code: None,
                message: DisplayErrorContext(&error).to_string(),
                kind: ErrorKind::Rejected,
            },
        }
    }
}

fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    if code.is_some_and(|code| THROTTLING_CODES.contains(&code)) || status == Some(429) {
        return ErrorKind::Throttled;
    }
    match (code, status) {
        (Some("NoSuchKey" | "NotFound" | "NoSuchBucket" | "ResourceNotFoundException"), _)
        | (_, Some(404)) => ErrorKind::NotFound,
        (Some("PreconditionFailed" | "ConditionalRequestConflict"), _) | (_, Some(412 | 409)) => {
            ErrorKind::PreconditionFailed
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
        assert_eq!(classify(Some("PreconditionFailed"), Some(412)), ErrorKind::PreconditionFailed);
        assert_eq!(classify(None, Some(409)), ErrorKind::PreconditionFailed);
        assert_eq!(classify(Some("InternalFailure"), Some(500)), ErrorKind::Transient);
        assert_eq!(classify(Some("ValidationException"), Some(400)), ErrorKind::Rejected);
        assert_eq!(classify(Some("AccessDeniedException"), Some(403)), ErrorKind::Rejected);
        assert!(ErrorKind::Throttled.is_retryable() && !ErrorKind::Rejected.is_retryable());
    }
}
