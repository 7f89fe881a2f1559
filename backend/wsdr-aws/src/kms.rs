//! AWS KMS: signing status documents with an asymmetric `ECC_NIST_P256` key that never leaves KMS.
//!
//! `wsdr_protocol::Signer` is synchronous on purpose, so KMS signs the other way the protocol offers: KMS `Sign`
//! with `SigningAlgorithm=ECDSA_SHA_256`, then [`UnsignedDocument::assemble`] with the DER signature KMS returns.
//! Payloads of at most [`RAW_LIMIT`] bytes (every ordinary document) are sent as they are (`MessageType=RAW`);
//! larger ones as their [`UnsignedDocument::signing_digest`] (`MessageType=DIGEST`: KMS refuses larger `RAW`
//! messages). AWS KMS gives signatures that verify identically either way.
//!
//! Emulator note: moto 5.2.5 ignores `MessageType=DIGEST` (it hashes the digest again), so only the `RAW` path
//! verifies there; the emulator tests sign ordinary payloads, which take that path.
//! The envelope's `key_id` is the KMS key id the signer was given (`WSDR_STATUS_KEY_ID`), which is what tray
//! configurations map to the key's public PEM (`wsdr status public-key` prints it from `GetPublicKey`).
//!
//! IAM: `kms:Sign` and `kms:GetPublicKey` on the status key only.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use wsdr_protocol::{KeyId, PublicKey, SignedDocument, UnsignedDocument};

use crate::error::{AwsError, ErrorKind};

/// Largest message KMS `Sign` accepts with `MessageType=RAW`.
pub const RAW_LIMIT: usize = 4096;

/// Signs status documents with one KMS key.
#[derive(Clone, Debug)]
pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    key_id: KeyId,
    /// `GetPublicKey`'s answer, read once per process (a Lambda container signs many documents with one key).
    public_key: std::sync::Arc<tokio::sync::OnceCell<PublicKey>>,
}

impl KmsSigner {
    /// A signer with the KMS key `key_id` (key id, key ARN, alias name or alias ARN), also written as the
    /// envelope's `key_id`.
    pub fn new(client: aws_sdk_kms::Client, key_id: KeyId) -> KmsSigner {
        KmsSigner { client, key_id, public_key: std::sync::Arc::default() }
    }

    /// The key id written into the envelope.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// KMS `Sign` of a SHA-256 digest (`MessageType=DIGEST`); answers the DER signature.
    pub async fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, AwsError> {
        self.sign_message(digest.to_vec(), MessageType::Digest).await
    }

    /// KMS `Sign` of a message of at most [`RAW_LIMIT`] bytes (`MessageType=RAW`); answers the DER signature.
    pub async fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, AwsError> {
        self.sign_message(message.to_vec(), MessageType::Raw).await
    }

    async fn sign_message(
        &self,
        message: Vec<u8>,
        message_type: MessageType,
    ) -> Result<Vec<u8>, AwsError> {
        let output = self
            .client
            .sign()
            .key_id(self.key_id.as_str())
            .message(Blob::new(message))
            .message_type(message_type)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|error| crate::error::from_sdk("kms:Sign", error))?;
        output.signature().map(|blob| blob.as_ref().to_vec()).ok_or_else(|| AwsError {
            operation: "kms:Sign",
            code: None,
            message: "KMS answered without a signature".to_owned(),
            kind: ErrorKind::Transient,
        })
    }

    /// Signs `document` and assembles the envelope. A signature that is not strict DER for P-256 (a key of
    /// another spec) is [`ErrorKind::Rejected`].
    pub async fn sign(&self, document: UnsignedDocument) -> Result<SignedDocument, AwsError> {
        let signature = if document.signing_input().len() <= RAW_LIMIT {
            self.sign_raw(document.signing_input()).await?
        } else {
            self.sign_digest(&document.signing_digest()).await?
        };
        document.assemble(self.key_id.clone(), &signature).map_err(|error| AwsError {
            operation: "kms:Sign",
            code: None,
            message: format!("key {}: {error} (is it an ECC_NIST_P256 key?)", self.key_id),
            kind: ErrorKind::Rejected,
        })
    }

    /// KMS `GetPublicKey` (once per process), checked to be an `ECC_NIST_P256` signing key that allows
    /// `ECDSA_SHA_256`.
    pub async fn public_key(&self) -> Result<PublicKey, AwsError> {
        self.public_key.get_or_try_init(|| self.fetch_public_key()).await.cloned()
    }

    async fn fetch_public_key(&self) -> Result<PublicKey, AwsError> {
        const OPERATION: &str = "kms:GetPublicKey";
        let output = self
            .client
            .get_public_key()
            .key_id(self.key_id.as_str())
            .send()
            .await
            .map_err(|error| crate::error::from_sdk(OPERATION, error))?;
        let rejected = |message: String| AwsError {
            operation: OPERATION,
            code: None,
            message,
            kind: ErrorKind::Rejected,
        };
        if let Some(spec) = output.key_spec()
            && *spec != KeySpec::EccNistP256
        {
            return Err(rejected(format!(
                "key {} is {}, not ECC_NIST_P256: status documents are ES256",
                self.key_id,
                spec.as_str()
            )));
        }
        if let Some(usage) = output.key_usage()
            && *usage != KeyUsageType::SignVerify
        {
            return Err(rejected(format!(
                "key {} is not a signing key ({})",
                self.key_id,
                usage.as_str()
            )));
        }
        if !output.signing_algorithms().is_empty()
            && !output.signing_algorithms().contains(&SigningAlgorithmSpec::EcdsaSha256)
        {
            return Err(rejected(format!("key {} does not allow ECDSA_SHA_256", self.key_id)));
        }
        let der = output
            .public_key()
            .ok_or_else(|| rejected("KMS answered without a public key".to_owned()))?;
        PublicKey::from_spki_der(der.as_ref())
            .map_err(|error| rejected(format!("key {}: {error}", self.key_id)))
    }
}
