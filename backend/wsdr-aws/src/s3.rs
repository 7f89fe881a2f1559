//! S3: objects read whole, written whole, optionally only if nobody wrote them first (conditional writes); the
//! [`ObjectStore`] port on the SDK.

use aws_sdk_s3::primitives::ByteStream;
use jiff::Timestamp;
pub use wsdr_drivers::object::{BadS3Uri, ETag, Object, Precondition, Put, S3Location};
use wsdr_drivers::ports::ObjectStore;

use crate::error::{AwsError, ErrorKind};

/// The entity tag S3 answered with; an answer without one cannot take part in conditional writes.
fn etag(
    operation: &'static str,
    location: &S3Location,
    etag: Option<&str>,
) -> Result<ETag, AwsError> {
    match etag {
        Some(etag) if !etag.trim().is_empty() => Ok(ETag(etag.to_owned())),
        _ => Err(AwsError::rejected(operation, format!("{location}: S3 answered without an ETag"))),
    }
}

/// Reads and writes whole objects.
#[derive(Clone, Debug)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    /// A store on `client`.
    pub fn new(client: aws_sdk_s3::Client) -> S3Store {
        S3Store { client }
    }

    /// Reads an object; [`ErrorKind::NotFound`] when there is none.
    pub async fn get(&self, location: &S3Location) -> Result<Object, AwsError> {
        let output = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|error| crate::error::from_sdk("s3:GetObject", error))?;
        let etag = etag("s3:GetObject", location, output.e_tag())?;
        let last_modified = output.last_modified().and_then(|time| {
            Timestamp::new(time.secs(), i32::try_from(time.subsec_nanos()).ok()?).ok()
        });
        let bytes = output.body.collect().await.map_err(|error| AwsError {
            operation: "s3:GetObject",
            code: None,
            message: format!("reading {location}: {error}"),
            kind: ErrorKind::Transient,
        })?;
        Ok(Object { bytes: bytes.to_vec(), etag, last_modified })
    }

    /// Reads an object, or `None` when there is none.
    pub async fn get_if_exists(&self, location: &S3Location) -> Result<Option<Object>, AwsError> {
        if_exists(self.get(location).await, location)
    }

    /// Writes an object; [`ErrorKind::PreconditionFailed`] when its precondition does not hold.
    pub async fn put(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        put: &Put<'_>,
    ) -> Result<ETag, AwsError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .content_type(put.content_type)
            .set_cache_control(put.cache_control.map(str::to_owned))
            .body(ByteStream::from(bytes));
        request = match &put.precondition {
            Precondition::None => request,
            Precondition::Absent => request.if_none_match("*"),
            Precondition::Matches(etag) if etag.0.trim().is_empty() => {
                return Err(AwsError::rejected(
                    "s3:PutObject",
                    format!("{location}: an empty If-Match would not protect anything"),
                ));
            }
            Precondition::Matches(etag) => request.if_match(&etag.0),
        };
        let output =
            request.send().await.map_err(|error| crate::error::from_sdk("s3:PutObject", error))?;
        etag("s3:PutObject", location, output.e_tag())
    }
}

impl ObjectStore for S3Store {
    /// `GetObject`; a missing key (404) is `None`. A 403 stays an error that names the `s3:ListBucket` grant
    /// (see [`if_exists`]): read as absent it could hide a record that exists, such as the failover record whose
    /// "DR in use" guards terminations.
    async fn read(&self, location: &S3Location) -> Result<Option<Object>, AwsError> {
        if_exists(self.get(location).await, location)
    }

    async fn write(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        put: &Put<'_>,
    ) -> Result<ETag, AwsError> {
        self.put(location, bytes, put).await
    }
}

/// A read's result as "the object, or none": 404 is "none". A 403 `AccessDenied` stays an error, because it may
/// be a real permissions problem, but its message says what S3 does for a missing key when the caller lacks
/// `s3:ListBucket` on the bucket (403 instead of 404; GetObject API reference, "Permissions").
fn if_exists(
    result: Result<Object, AwsError>,
    location: &S3Location,
) -> Result<Option<Object>, AwsError> {
    match result {
        Ok(object) => Ok(Some(object)),
        Err(error) if error.kind == ErrorKind::NotFound => Ok(None),
        Err(error) if error.code.as_deref() == Some("AccessDenied") => Err(AwsError {
            message: format!(
                "{}: reading {location}, which may simply not exist yet: S3 answers a missing key with 403 instead \
                 of 404 unless the role has s3:ListBucket on arn:aws:s3:::{} (not conditioned on s3:prefix, which \
                 a GetObject does not carry)",
                error.message, location.bucket
            ),
            ..error
        }),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_object_is_none_and_a_403_names_the_list_bucket_grant() {
        let location: S3Location = "s3://state-bucket/state/failover/state.json".parse().unwrap();
        let error = |code: &str, kind| AwsError {
            operation: "s3:GetObject",
            code: Some(code.to_owned()),
            message: format!("{code}: ..."),
            kind,
        };
        assert!(
            if_exists(Err(error("NoSuchKey", ErrorKind::NotFound)), &location).unwrap().is_none()
        );
        let denied =
            if_exists(Err(error("AccessDenied", ErrorKind::Rejected)), &location).unwrap_err();
        assert_eq!(
            (denied.kind, denied.code.as_deref()),
            (ErrorKind::Rejected, Some("AccessDenied"))
        );
        assert!(denied.message.starts_with("AccessDenied: ..."), "{}", denied.message);
        assert!(
            denied.message.contains("s3:ListBucket on arn:aws:s3:::state-bucket"),
            "{}",
            denied.message
        );
        let other = if_exists(Err(error("SlowDown", ErrorKind::Throttled)), &location).unwrap_err();
        assert_eq!(other.message, "SlowDown: ...");
    }
}
