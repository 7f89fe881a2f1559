//! Objects as the drivers see them: an address, whole bytes, an entity tag, and the condition of a write.
//!
//! Conditional writes are what make wsdr's state safe to share between concurrent runs: `If-None-Match: *` creates
//! an object only when it does not exist, `If-Match: <etag>` replaces it only when it is still the version read.
//! The loser gets [`ErrorKind::PreconditionFailed`](crate::error::ErrorKind::PreconditionFailed) and must re-read.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

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

#[cfg(test)]
mod tests {
    use super::*;

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
