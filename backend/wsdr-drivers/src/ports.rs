//! The ports: the few operations the drivers need from the outside world, as traits.
//!
//! `wsdr-aws` implements them on the AWS SDK; `wsdr-sim` implements them in memory, with faults injected at every
//! call. A driver is generic over them and holds no other handle on the world, so what a simulated run proves
//! holds for the deployed code: the same driver code runs in both.
//!
//! Every method returns a `Send` future so that drivers can run on a multi-threaded runtime.

use std::future::Future;
use std::time::Duration;

use wsdr_core::alert::AdminAlert;
use wsdr_protocol::{KeyId, PublicKey, SignedDocument, UnsignedDocument};

use crate::error::AwsError;
use crate::object::{ETag, Object, Precondition, Put, S3Location};

/// Whole objects with conditional writes (S3).
pub trait ObjectStore: Send + Sync {
    /// The object at `location`, or `None` when there is none.
    fn read(
        &self,
        location: &S3Location,
    ) -> impl Future<Output = Result<Option<Object>, AwsError>> + Send;

    /// Writes `bytes` at `location` if `put.precondition` holds, answering the new entity tag;
    /// [`ErrorKind::PreconditionFailed`](crate::error::ErrorKind::PreconditionFailed) when it does not.
    fn write(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        put: &Put<'_>,
    ) -> impl Future<Output = Result<ETag, AwsError>> + Send;
}

/// The admins' topic (SNS).
pub trait AdminsTopic: Send + Sync {
    /// Publishes `alert`, answering the message id.
    fn publish(&self, alert: &AdminAlert) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// What signs status documents (KMS, or a local key).
pub trait DocumentSigner: Send + Sync {
    /// The envelope's `key_id`.
    fn key_id(&self) -> &KeyId;

    /// Signs `document`.
    fn sign(
        &self,
        document: UnsignedDocument,
    ) -> impl Future<Output = Result<SignedDocument, AwsError>> + Send;

    /// The public key trays verify with; the publisher verifies what the status object holds with it.
    fn public_key(&self) -> impl Future<Output = Result<PublicKey, AwsError>> + Send;
}

/// Waiting: the pause after a lost conditional-write race (jittered, so contenders spread out).
pub trait Pause: Send + Sync {
    /// Waits a little before attempt `attempt + 1`; a few tens of milliseconds times `attempt`.
    fn after_lost_race(&self, attempt: usize) -> impl Future<Output = ()> + Send;

    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// A write's condition from an entity tag read before: `If-Match` it, or `If-None-Match: *` when nothing was
/// there. An empty tag is refused: an empty `If-Match` would not protect anything.
pub fn precondition_after(etag: Option<&ETag>) -> Result<Precondition, AwsError> {
    match etag {
        None => Ok(Precondition::Absent),
        Some(etag) if etag.0.trim().is_empty() => Err(AwsError::rejected(
            "s3:PutObject",
            "the object was read without an entity tag: a conditional write is impossible",
        )),
        Some(etag) => Ok(Precondition::Matches(etag.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conditional_write_needs_a_real_entity_tag() {
        assert_eq!(precondition_after(None).unwrap(), Precondition::Absent);
        let etag = ETag("\"abc\"".to_owned());
        assert_eq!(precondition_after(Some(&etag)).unwrap(), Precondition::Matches(etag));
        // Defect: a missing ETag became an empty If-Match, which protects nothing.
        assert!(precondition_after(Some(&ETag(String::new()))).is_err());
    }
}
