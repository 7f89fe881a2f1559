//! The SDK side of [`AwsError`]: what an AWS SDK error becomes. The type and its classification live in
//! `wsdr-drivers` (the drivers and the simulator use them too).

use std::error::Error as StdError;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
pub use wsdr_drivers::error::{AwsError, ErrorKind, classify};

/// Classifies an SDK error from `operation`: the service's code and words when it answered, [`ErrorKind::Transient`]
/// for timeouts and dropped connections.
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
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            AwsError {
                operation,
                code: None,
                message: DisplayErrorContext(&error).to_string(),
                kind: ErrorKind::Transient,
            }
        }
        _ => AwsError {
            operation,
            code: None,
            message: DisplayErrorContext(&error).to_string(),
            kind: ErrorKind::Rejected,
        },
    }
}
