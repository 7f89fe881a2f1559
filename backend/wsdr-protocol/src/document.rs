//! The signed envelope and how it is made.
//!
//! ```json
//! {"payload":"<base64 of the payload bytes>","signature":"<base64 of the DER signature>",
//!  "key_id":"<KeyId>","alg":"ES256"}
//! ```
//!
//! The signature is ECDSA P-256 with SHA-256 over the exact payload bytes, DER-encoded (an
//! `ECDSA-Sig-Value`), which is what AWS KMS `Sign` returns for `ECDSA_SHA_256` with
//! `MessageType=RAW`. Base64 is the standard alphabet with padding (RFC 4648 §4).
//!
//! Two ways to sign, one format:
//!
//! - in process, with any [`Signer`] (such as [`crate::LocalSigner`]):
//!   `UnsignedDocument::new(&payload)?.sign_with(&signer)?`;
//! - anywhere else (AWS KMS, asynchronously, in another crate): have
//!   [`UnsignedDocument::signing_digest`] signed (KMS `Sign` with `MessageType=DIGEST`,
//!   `SigningAlgorithm=ECDSA_SHA_256`: KMS refuses `RAW` messages over 4096 bytes, and a payload
//!   may be larger), then [`UnsignedDocument::assemble`] with the DER signature and the key id.
//!   Signing the digest and signing the raw bytes give signatures that verify identically.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::keys::KeyId;
use crate::payload::{PayloadError, StatusPayload};

/// The only `alg` value: ECDSA with P-256 and SHA-256 (the JOSE name).
pub const ALG_ES256: &str = "ES256";

/// Largest status document accepted by [`crate::verify`], in bytes (64 KiB). A maximal payload
/// (every text field at its limit) is far smaller, so [`UnsignedDocument`] never produces a
/// document over it.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// Something that signs payload bytes with an ECDSA P-256 / SHA-256 key and returns a DER
/// signature. Synchronous on purpose: an asynchronous signer (AWS KMS) uses
/// [`UnsignedDocument::signing_input`] and [`UnsignedDocument::assemble`] instead.
pub trait Signer {
    /// The id of the key, written into the envelope.
    fn key_id(&self) -> &KeyId;

    /// Signs `message` (SHA-256 is applied by the signer) and returns the DER-encoded signature.
    ///
    /// # Errors
    /// [`SignError::Backend`] when the signer fails.
    fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Why a document could not be signed or assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The payload breaks a rule.
    #[error("invalid payload: {0}")]
    Payload(#[from] PayloadError),
    /// The signature is not a strict-DER ECDSA P-256 signature (for example a raw `r||s`
    /// signature, or one from another curve).
    #[error("the signature is not a DER-encoded ECDSA P-256 signature")]
    MalformedSignature,
    /// The signing backend failed.
    #[error("signing failed: {detail}")]
    Backend {
        /// What the backend said.
        detail: String,
    },
}

/// A payload serialised to its canonical bytes, ready to be signed. Keeps the exact bytes, so
/// nothing can re-serialise them differently between signing and assembling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedDocument {
    payload_bytes: Vec<u8>,
}

impl UnsignedDocument {
    /// Serialises `payload` ([`StatusPayload::to_json_bytes`]).
    ///
    /// # Errors
    /// [`PayloadError`] when the payload breaks a cross-field rule.
    pub fn new(payload: &StatusPayload) -> Result<Self, PayloadError> {
        Ok(Self { payload_bytes: payload.to_json_bytes()? })
    }

    /// The exact bytes to sign (what a [`Signer`] receives; ECDSA-SHA-256 hashes them).
    pub fn signing_input(&self) -> &[u8] {
        &self.payload_bytes
    }

    /// SHA-256 of [`UnsignedDocument::signing_input`]: what to give AWS KMS `Sign` with
    /// `MessageType=DIGEST` and `SigningAlgorithm=ECDSA_SHA_256`.
    pub fn signing_digest(&self) -> [u8; 32] {
        Sha256::digest(&self.payload_bytes).into()
    }

    /// Signs with `signer` and assembles the envelope.
    ///
    /// # Errors
    /// [`SignError`] from the signer or from [`UnsignedDocument::assemble`].
    pub fn sign_with(self, signer: &impl Signer) -> Result<SignedDocument, SignError> {
        let signature = signer.sign_der(&self.payload_bytes)?;
        self.assemble(signer.key_id().clone(), &signature)
    }

    /// Assembles the envelope from a DER signature made elsewhere over
    /// [`UnsignedDocument::signing_input`] (or its [`UnsignedDocument::signing_digest`]). The signature is checked to be strict DER for P-256
    /// (the same check verification makes), not checked against a key: verify the result with
    /// [`crate::verify`] when the public key is at hand.
    ///
    /// # Errors
    /// [`SignError::MalformedSignature`].
    pub fn assemble(
        self,
        key_id: KeyId,
        der_signature: &[u8],
    ) -> Result<SignedDocument, SignError> {
        parse_der_signature(der_signature).ok_or(SignError::MalformedSignature)?;
        Ok(SignedDocument {
            payload_bytes: self.payload_bytes,
            signature_der: der_signature.to_vec(),
            key_id,
        })
    }
}

/// A signed status document. Its JSON form is [`SignedDocument::to_json_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDocument {
    payload_bytes: Vec<u8>,
    signature_der: Vec<u8>,
    key_id: KeyId,
}

impl SignedDocument {
    /// The envelope as compact JSON (no trailing newline), fields in the order `payload`,
    /// `signature`, `key_id`, `alg`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Written by hand: base64 and key ids (allow-listed) never need JSON escaping, so this
        // is exact and cannot fail.
        format!(
            r#"{{"payload":"{}","signature":"{}","key_id":"{}","alg":"{ALG_ES256}"}}"#,
            BASE64.encode(&self.payload_bytes),
            BASE64.encode(&self.signature_der),
            self.key_id.as_str(),
        )
        .into_bytes()
    }

    /// The signed payload bytes.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.payload_bytes
    }

    /// The DER signature.
    pub fn signature_der(&self) -> &[u8] {
        &self.signature_der
    }

    /// The signing key's id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }
}

/// The envelope as read: exactly these four string fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvelopeIn {
    pub(crate) payload: String,
    pub(crate) signature: String,
    pub(crate) key_id: String,
    pub(crate) alg: String,
}

/// Decodes standard padded base64, refusing anything non-canonical.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    BASE64.decode(s).ok()
}

/// Parses a DER ECDSA P-256 signature, accepting only the canonical encoding: the bytes must be
/// exactly what re-encoding the parsed `(r, s)` gives (minimal lengths and integers, no trailing
/// data), and `r`, `s` must be in `1..n`. High-S values are accepted: AWS KMS does not normalise
/// S, FIPS 186 ECDSA has no low-S rule, and nothing here identifies a document by its signature
/// bytes (only by its payload bytes), so the malleability is harmless.
pub(crate) fn parse_der_signature(der: &[u8]) -> Option<p256::ecdsa::Signature> {
    let signature = p256::ecdsa::Signature::from_der(der).ok()?;
    (signature.to_der().as_bytes() == der).then_some(signature)
}
