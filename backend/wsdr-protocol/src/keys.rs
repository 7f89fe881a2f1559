//! Keys: key ids, P-256 public keys, the key ring a verifier trusts, and the local signing key.

use std::collections::BTreeMap;
use std::fmt;

use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::document::{SignError, Signer};
use crate::target::{Quoted, string_conversions};

/// Longest key id, in characters.
pub const KEY_ID_MAX_LEN: usize = 256;

/// The name of a signing key, carried in the envelope's `key_id` (for example `wsdr-2026-01`, a
/// KMS key ARN or `alias/wsdr-status`): 1 to [`KEY_ID_MAX_LEN`] characters from `A-Z a-z 0-9` and
/// `- _ . : / + = @`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

/// Why a string is not a [`KeyId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "is not a key id (1 to {KEY_ID_MAX_LEN} characters from letters, digits and - _ . : / + = @)"
)]
pub struct KeyIdError;

impl KeyId {
    /// Validates `s` as a key id.
    ///
    /// # Errors
    /// [`KeyIdError`] when it is empty, too long or has another character.
    pub fn parse(s: &str) -> Result<Self, KeyIdError> {
        let ok = !s.is_empty()
            && s.len() <= KEY_ID_MAX_LEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b));
        if ok { Ok(Self(s.to_owned())) } else { Err(KeyIdError) }
    }

    /// The key id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(KeyId, KeyIdError);

/// Why a key could not be read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a PEM/DER SubjectPublicKeyInfo holding a P-256 (prime256v1) EC public key.
    #[error("not a P-256 public key in SPKI form (PEM \"BEGIN PUBLIC KEY\" or DER)")]
    PublicKey,
    /// Not an unencrypted PKCS#8 P-256 private key.
    #[error("not an unencrypted PKCS#8 P-256 private key (PEM \"BEGIN PRIVATE KEY\")")]
    PrivateKey,
    /// 32 bytes that are not a valid P-256 secret scalar (zero or not below the group order).
    #[error("the 32 secret bytes are not a valid P-256 private key; draw new random bytes")]
    SecretBytes,
    /// Encoding a key failed.
    #[error("could not encode the key")]
    Encode,
    /// A key ring entry has an invalid key id.
    #[error("key id {} {error}", Quoted(key_id))]
    KeyId {
        /// The refused key id.
        key_id: String,
        /// What is wrong.
        error: KeyIdError,
    },
    /// A key ring entry has an invalid key.
    #[error("public key {key_id}: {error}")]
    Entry {
        /// The entry.
        key_id: KeyId,
        /// What is wrong.
        error: Box<KeyError>,
    },
    /// The same key id twice in a key ring.
    #[error("key id {0} is in the key ring twice")]
    DuplicateKeyId(KeyId),
}

/// A P-256 public key that status documents are verified with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads a PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`), as `openssl pkey -pubout`
    /// writes and as the tray configuration holds.
    ///
    /// # Errors
    /// [`KeyError::PublicKey`] when it is not a P-256 public key.
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        VerifyingKey::from_public_key_pem(pem.trim()).map(Self).map_err(|_| KeyError::PublicKey)
    }

    /// Reads a DER SubjectPublicKeyInfo, as AWS KMS `GetPublicKey` returns it.
    ///
    /// # Errors
    /// [`KeyError::PublicKey`] when it is not a P-256 public key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        VerifyingKey::from_public_key_der(der).map(Self).map_err(|_| KeyError::PublicKey)
    }

    /// The key as DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// [`KeyError::Encode`] (not expected for a valid key).
    pub fn to_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        self.0.to_public_key_der().map(|d| d.as_bytes().to_vec()).map_err(|_| KeyError::Encode)
    }

    /// The key as PEM SubjectPublicKeyInfo with `\n` line endings.
    ///
    /// # Errors
    /// [`KeyError::Encode`] (not expected for a valid key).
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        self.0.to_public_key_pem(LineEnding::LF).map_err(|_| KeyError::Encode)
    }

    /// `SHA256:` and the lower-case hex SHA-256 of the DER SubjectPublicKeyInfo: a short way to
    /// compare keys in logs and on screen.
    ///
    /// # Errors
    /// [`KeyError::Encode`] (not expected for a valid key).
    pub fn fingerprint(&self) -> Result<String, KeyError> {
        Ok(format!("SHA256:{}", crate::hex(&Sha256::digest(self.to_spki_der()?))))
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fingerprint() {
            Ok(fp) => write!(f, "PublicKey({fp})"),
            Err(_) => f.write_str("PublicKey(?)"),
        }
    }
}

/// The public keys a verifier trusts, by key id. Several keys allow rotation: publish with the new
/// key only once every tray has it, then drop the old one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    keys: BTreeMap<KeyId, PublicKey>,
}

impl KeyRing {
    /// An empty key ring (it verifies nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a key ring from `(key_id, SPKI PEM)` pairs, such as the tray configuration's
    /// `[public_keys]` table.
    ///
    /// # Errors
    /// [`KeyError`] naming the first bad entry (invalid key id, invalid key, duplicate id).
    pub fn from_pem_entries<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, KeyError> {
        let mut ring = Self::new();
        for (key_id, pem) in entries {
            let key_id = KeyId::parse(key_id)
                .map_err(|error| KeyError::KeyId { key_id: key_id.to_owned(), error })?;
            let key = PublicKey::from_spki_pem(pem).map_err(|error| KeyError::Entry {
                key_id: key_id.clone(),
                error: Box::new(error),
            })?;
            ring.insert(key_id, key)?;
        }
        Ok(ring)
    }

    /// Adds a key.
    ///
    /// # Errors
    /// [`KeyError::DuplicateKeyId`] when the id is already present (a key is never replaced
    /// silently).
    pub fn insert(&mut self, key_id: KeyId, key: PublicKey) -> Result<(), KeyError> {
        if self.keys.contains_key(&key_id) {
            return Err(KeyError::DuplicateKeyId(key_id));
        }
        self.keys.insert(key_id, key);
        Ok(())
    }

    /// The key with this id.
    pub fn get(&self, key_id: &str) -> Option<&PublicKey> {
        self.keys.get(key_id)
    }

    /// The key with this id, and the id as stored.
    pub(crate) fn entry(&self, key_id: &str) -> Option<(&KeyId, &PublicKey)> {
        self.keys.get_key_value(key_id)
    }

    /// The key ids, in order.
    pub fn key_ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.keys()
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl std::borrow::Borrow<str> for KeyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), wiped from memory when dropped and
/// never printed by `Debug`.
pub struct PrivateKeyPem(p256::pkcs8::der::zeroize::Zeroizing<String>);

impl PrivateKeyPem {
    /// The PEM text, to write to a file readable only by its owner.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(..)")
    }
}

/// A P-256 signing key held in this process: the local default (the production key lives in AWS
/// KMS and signs through [`crate::UnsignedDocument::assemble`]).
///
/// Signing is deterministic (RFC 6979), so it needs no randomness: the same key and payload give
/// the same signature bytes.
pub struct LocalSigner {
    key_id: KeyId,
    key: SigningKey,
}

impl LocalSigner {
    /// Reads an unencrypted PKCS#8 PEM private key (`openssl genpkey -algorithm EC -pkeyopt
    /// ec_paramgen_curve:P-256` writes one).
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`] when it is not a P-256 PKCS#8 key.
    pub fn from_pkcs8_pem(key_id: KeyId, pem: &str) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| KeyError::PrivateKey)?;
        Ok(Self { key_id, key })
    }

    /// Makes a key from 32 secret bytes that the caller drew from a cryptographically secure
    /// random source (this crate never reads one: `wsdr keygen` does). Key generation is this
    /// plus [`LocalSigner::to_pkcs8_pem`].
    ///
    /// # Errors
    /// [`KeyError::SecretBytes`] for the (negligibly rare) byte strings that are not a valid
    /// scalar: draw again.
    pub fn from_secret_bytes(key_id: KeyId, secret: &[u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_slice(secret).map_err(|_| KeyError::SecretBytes)?;
        Ok(Self { key_id, key })
    }

    /// The private key as PKCS#8 PEM with `\n` line endings.
    ///
    /// # Errors
    /// [`KeyError::Encode`] (not expected).
    pub fn to_pkcs8_pem(&self) -> Result<PrivateKeyPem, KeyError> {
        self.key.to_pkcs8_pem(LineEnding::LF).map(PrivateKeyPem).map_err(|_| KeyError::Encode)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(*self.key.verifying_key())
    }
}

impl Signer for LocalSigner {
    fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let signature: p256::ecdsa::Signature =
            p256::ecdsa::signature::Signer::try_sign(&self.key, message).map_err(|_| {
                SignError::Backend { detail: "local P-256 signing failed".to_owned() }
            })?;
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

impl fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSigner").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids() {
        for ok in
            ["wsdr-2026-01", "alias/wsdr-status", "arn:aws:kms:us-west-2:111122223333:key/1234abcd"]
        {
            assert!(KeyId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a\n", "é", &"k".repeat(257)] {
            assert!(KeyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secret_bytes_roundtrip_through_pem() {
        let id = KeyId::parse("k").unwrap();
        let signer = LocalSigner::from_secret_bytes(id.clone(), &[7; 32]).unwrap();
        let pem = signer.to_pkcs8_pem().unwrap();
        assert!(pem.as_str().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(format!("{pem:?}"), "PrivateKeyPem(..)");
        let again = LocalSigner::from_pkcs8_pem(id, pem.as_str()).unwrap();
        assert_eq!(again.public_key(), signer.public_key());
        let spki = signer.public_key().to_spki_pem().unwrap();
        assert_eq!(PublicKey::from_spki_pem(&spki).unwrap(), signer.public_key());
        let der = signer.public_key().to_spki_der().unwrap();
        assert_eq!(PublicKey::from_spki_der(&der).unwrap(), signer.public_key());
        assert!(LocalSigner::from_secret_bytes(KeyId::parse("k").unwrap(), &[0; 32]).is_err());
        assert!(LocalSigner::from_secret_bytes(KeyId::parse("k").unwrap(), &[0xFF; 32]).is_err());
    }

    #[test]
    fn key_ring_refuses_duplicates_and_names_bad_entries() {
        let signer = LocalSigner::from_secret_bytes(KeyId::parse("k").unwrap(), &[7; 32]).unwrap();
        let pem = signer.public_key().to_spki_pem().unwrap();
        let ring = KeyRing::from_pem_entries([("a", pem.as_str()), ("b", pem.as_str())]).unwrap();
        assert_eq!(ring.len(), 2);
        assert!(ring.get("a").is_some() && ring.get("c").is_none());
        let err =
            KeyRing::from_pem_entries([("a", pem.as_str()), ("a", pem.as_str())]).unwrap_err();
        assert_eq!(err.to_string(), "key id a is in the key ring twice");
        let err = KeyRing::from_pem_entries([("b", "nope")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "public key b: not a P-256 public key in SPKI form (PEM \"BEGIN PUBLIC KEY\" or DER)"
        );
        let err = KeyRing::from_pem_entries([("a b", pem.as_str())]).unwrap_err();
        assert!(err.to_string().starts_with("key id \"a b\" is not a key id"), "{err}");
    }
}
