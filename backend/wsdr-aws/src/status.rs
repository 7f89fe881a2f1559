//! The status document on AWS: the [`StatusSigner`] (a local key or KMS) as the drivers' [`DocumentSigner`] port.
//! Everything else about the document (configuration, payload, the object and its verification) is the
//! drivers' (`wsdr_drivers::status`), re-exported here.

use wsdr_drivers::ports::DocumentSigner;
pub use wsdr_drivers::status::{
    CurrentStatus, STATUS_CACHE_CONTROL, StatusConfig, StatusConfigError, StatusObject,
    StatusWrite, judge, signer_key_ring,
};
use wsdr_protocol::{KeyId, LocalSigner, PublicKey, SignedDocument, Signer as _, UnsignedDocument};

use crate::error::{AwsError, ErrorKind};
use crate::kms::KmsSigner;

/// What signs status documents.
#[derive(Debug)]
pub enum StatusSigner {
    /// A local PKCS#8 P-256 key (`wsdr keygen`): the local default and tests.
    Local(LocalSigner),
    /// An AWS KMS `ECC_NIST_P256` key: production (the key never leaves KMS).
    Kms(KmsSigner),
}

impl StatusSigner {
    /// The envelope's `key_id`.
    pub fn key_id(&self) -> &KeyId {
        match self {
            StatusSigner::Local(signer) => signer.key_id(),
            StatusSigner::Kms(signer) => signer.key_id(),
        }
    }

    /// Signs `document`.
    pub async fn sign(&self, document: UnsignedDocument) -> Result<SignedDocument, AwsError> {
        match self {
            StatusSigner::Local(signer) => document.sign_with(signer).map_err(|error| AwsError {
                operation: "local:Sign",
                code: None,
                message: error.to_string(),
                kind: ErrorKind::Rejected,
            }),
            StatusSigner::Kms(signer) => signer.sign(document).await,
        }
    }

    /// The public key trays verify with.
    pub async fn public_key(&self) -> Result<PublicKey, AwsError> {
        match self {
            StatusSigner::Local(signer) => Ok(signer.public_key()),
            StatusSigner::Kms(signer) => signer.public_key().await,
        }
    }
}

impl DocumentSigner for StatusSigner {
    fn key_id(&self) -> &KeyId {
        StatusSigner::key_id(self)
    }

    async fn sign(&self, document: UnsignedDocument) -> Result<SignedDocument, AwsError> {
        StatusSigner::sign(self, document).await
    }

    async fn public_key(&self) -> Result<PublicKey, AwsError> {
        StatusSigner::public_key(self).await
    }
}
