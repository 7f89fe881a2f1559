//! S3: objects read whole, written whole, optionally only if nobody wrote them first (conditional writes).
//!
//! Conditional writes are what make wsdr's state safe to share between concurrent runs: `If-None-Match: *` creates
//! an object only when it does not exist, `If-Match: <etag>` replaces it only when it is still the version we read.
//! The loser gets [`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed) and must re-read.

use std::fmt;
use std::str::FromStr;

use aws_sdk_s3::primitives::ByteStream;
use jiff::Timestamp;

use crate::error::{AwsError, ErrorKind};

/// An object's address: `s3://bucket/key`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The object key (decoded: S3 event notifications URL-encode keys, this does not).
    pub key: String,
}

impl S3Location {
    /// An object in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> S3Location {
        S3Location { bucket: bucket.into(), key: key.into() }
    }

    /// Another object in the same bucket.
    pub fn sibling(&self, key: impl Into<String>) -> S3Location {
        S3Location { bucket: self.bucket.clone(), key: key.into() }
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("s3://{}/{}", self.bucket, self.key))
    }
}

/// An `s3://` URI that is not one.
#[derive(Debug, thiserror::Error)]
#[error("{uri:?} is not an S3 object URI (s3://BUCKET/KEY): {reason}")]
pub struct BadS3Uri {
    uri: String,
    reason: &'static str,
}

impl FromStr for S3Location {
    type Err = BadS3Uri;

    fn from_str(uri: &str) -> Result<S3Location, BadS3Uri> {
        let bad = |reason| BadS3Uri { uri: uri.to_owned(), reason };
        let rest = uri.strip_prefix("s3://").ok_or_else(|| bad("it does not start with s3://"))?;
        let (bucket, key) =
            rest.split_once('/').ok_or_else(|| bad("there is no key after the bucket"))?;
        if bucket.is_empty() {
            return Err(bad("the bucket is empty"));
        }
        if key.is_empty() {
            return Err(bad("the key is empty"));
        }
        Ok(S3Location::new(bucket, key))
    }
}

/// An S3 entity tag, as S3 returns it (quotes included); what conditional writes compare.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ETag(pub String);

/// An object read whole.
#[derive(Clone, Debug)]
pub struct Object {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its entity tag, for a later `If-Match`.
    pub etag: ETag,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
}

/// When a write may happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// Always (last writer wins).
    None,
    /// Only if no object exists at the key (`If-None-Match: *`).
    Absent,
    /// Only if the object is still the version with this entity tag (`If-Match`).
    Matches(ETag),
}

/// How an object is written.
#[derive(Clone, Debug)]
pub struct Put<'a> {
    /// `Content-Type`.
    pub content_type: &'a str,
    /// `Cache-Control`, if any.
    pub cache_control: Option<&'a str>,
    /// The condition of the write.
    pub precondition: Precondition,
}

impl Put<'static> {
    /// A JSON document, written only under `precondition`.
    pub fn json(precondition: Precondition) -> Put<'static> {
        Put { content_type: "application/json", cache_control: None, precondition }
    }
}

/// Reads and writes whole objects.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
}

impl ObjectStore {
    /// A store on `client`.
    pub fn new(client: aws_sdk_s3::Client) -> ObjectStore {
        ObjectStore { client }
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
            .map_err(|error| AwsError::from_sdk("s3:GetObject", error))?;
        let etag = ETag(output.e_tag().unwrap_or_default().to_owned());
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
            Precondition::Matches(etag) => request.if_match(&etag.0),
        };
        let output =
            request.send().await.map_err(|error| AwsError::from_sdk("s3:PutObject", error))?;
        Ok(ETag(output.e_tag().unwrap_or_default().to_owned()))
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

    #[test]
    fn s3_uris_parse_or_say_what_is_wrong() {
        let location: S3Location = "s3://users-bucket/users/export 1.csv".parse().unwrap();
        assert_eq!(location, S3Location::new("users-bucket", "users/export 1.csv"));
        assert_eq!(location.to_string(), "s3://users-bucket/users/export 1.csv");
        for (uri, reason) in [
            ("users.csv", "does not start with s3://"),
            ("s3://bucket", "no key"),
            ("s3://bucket/", "key is empty"),
            ("s3:///key", "bucket is empty"),
        ] {
            let error = uri.parse::<S3Location>().unwrap_err().to_string();
            assert!(error.contains(reason) && error.contains(uri), "{uri}: {error}");
        }
    }
}
