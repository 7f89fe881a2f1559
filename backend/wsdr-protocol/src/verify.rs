//! Verification: from untrusted bytes to a [`Verified`] payload, or a [`Rejection`].

use std::fmt;

use jiff::Timestamp;
use p256::ecdsa::signature::Verifier as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::document::{
    ALG_ES256, EnvelopeIn, MAX_DOCUMENT_BYTES, decode_base64, parse_der_signature,
};
use crate::keys::{KeyId, KeyRing};
use crate::launch::{LaunchUri, LaunchUser};
use crate::payload::{PayloadError, SiteRole, StatusPayload, decode};
use crate::target::{Quoted, sanitize};

/// What a verifier remembers of the newest document it accepted: its sequence and the SHA-256 of
/// its payload bytes. Persist it (it is serde-serialisable as
/// `{"sequence":N,"payload_sha256":"<64 hex>"}`) and pass it to the next [`verify`].
///
/// The digest is what tells a re-fetch of the same document ([`Rejection::Unchanged`]) from a
/// different payload that reuses the sequence ([`Rejection::SequenceReused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HighestSeen {
    /// The highest sequence accepted.
    pub sequence: u64,
    /// SHA-256 of the payload bytes of the document with that sequence.
    #[serde(serialize_with = "hex_serialize", deserialize_with = "hex_deserialize")]
    pub payload_sha256: [u8; 32],
}

fn hex_serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::hex(bytes))
}

fn hex_deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
    let s = String::deserialize(d)?;
    let mut out = [0_u8; 32];
    let digits = s.as_bytes();
    if digits.len() != 64 {
        return Err(serde::de::Error::custom("payload_sha256 must be 64 hex digits"));
    }
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = hex_value(pair[0]);
        let lo = hex_value(pair[1]);
        match (hi, lo) {
            (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
            _ => return Err(serde::de::Error::custom("payload_sha256 must be 64 hex digits")),
        }
    }
    Ok(out)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// A status document whose signature, key, payload, times and sequence all checked out. Only
/// [`verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    payload: StatusPayload,
    key_id: KeyId,
    payload_sha256: [u8; 32],
}

impl Verified {
    /// The verified payload.
    pub fn payload(&self) -> &StatusPayload {
        &self.payload
    }

    /// The key that signed it.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// What to remember and pass to the next [`verify`].
    pub fn highest_seen(&self) -> HighestSeen {
        HighestSeen { sequence: self.payload.sequence, payload_sha256: self.payload_sha256 }
    }

    /// The launch URI for one of the document's sites, optionally pre-filling `user`.
    pub fn launch_uri(&self, site: SiteRole, user: Option<LaunchUser>) -> LaunchUri {
        LaunchUri::new(user, self.payload.site(site).registration_code.clone())
    }
}

/// Which base64 field of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeField {
    /// `payload`.
    Payload,
    /// `signature`.
    Signature,
}

impl fmt::Display for EnvelopeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// Why a status document was not accepted. Variants are listed in the order [`verify`] checks
/// them. Values quoted from the envelope are sanitised (truncated, control characters escaped);
/// payload values appear only in variants reached after the signature was verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the document.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not the envelope's JSON shape (four string fields, nothing else).
    #[error("malformed envelope: {detail}")]
    MalformedEnvelope {
        /// The parser's message (sanitised).
        detail: String,
    },
    /// `alg` is not `ES256`.
    #[error("unsupported signature algorithm {} (only {ALG_ES256})", Quoted(alg))]
    UnsupportedAlgorithm {
        /// The `alg` found (sanitised).
        alg: String,
    },
    /// No trusted key has this id.
    #[error("unknown signing key {}", Quoted(key_id))]
    UnknownKey {
        /// The `key_id` found (sanitised).
        key_id: String,
    },
    /// A field is not canonical standard base64 with padding.
    #[error("{0} is not valid base64")]
    BadBase64(EnvelopeField),
    /// The signature is not a canonical DER ECDSA P-256 signature.
    #[error("signature is not a canonical DER ECDSA P-256 signature")]
    MalformedSignature,
    /// The signature does not verify with the key named by `key_id`.
    #[error("signature does not verify with key {key_id}")]
    BadSignature {
        /// The key tried.
        key_id: KeyId,
    },
    /// The (signed) payload is invalid.
    #[error("{0}")]
    Payload(PayloadError),
    /// `now` is at or after `expires_at`.
    #[error("document expired at {expires_at} (now {now})")]
    Expired {
        /// When it expired.
        expires_at: Timestamp,
        /// The time it was checked at.
        now: Timestamp,
    },
    /// The sequence is lower than one already accepted: a replay of an older document.
    #[error("sequence {sequence} is lower than {highest_seen}, already seen (replay)")]
    Replay {
        /// The document's sequence.
        sequence: u64,
        /// The highest sequence accepted before.
        highest_seen: u64,
    },
    /// The sequence equals the highest seen but the payload differs: a signer reused a sequence
    /// number, or a forgery attempt. Never treat this as unchanged.
    #[error("sequence {sequence} was already used by a different payload")]
    SequenceReused {
        /// The sequence.
        sequence: u64,
    },
    /// The same document as the newest one already accepted (same sequence, same payload bytes):
    /// nothing new, keep the current state. Not an attack; see [`Rejection::is_unchanged`].
    #[error("unchanged: sequence {sequence} is the document already accepted")]
    Unchanged {
        /// The sequence.
        sequence: u64,
    },
}

impl Rejection {
    /// Whether this is just a re-fetch of the document already accepted ([`Rejection::Unchanged`]).
    pub fn is_unchanged(&self) -> bool {
        matches!(self, Self::Unchanged { .. })
    }
}

/// Verifies a status document.
///
/// `highest_seen` is what the caller remembered from the newest document it accepted (`None`
/// the first time); `now` is the caller's clock. Checks, cheapest first, stopping at the first
/// failure:
///
/// 1. size ≤ [`MAX_DOCUMENT_BYTES`];
/// 2. envelope JSON: an object with exactly `payload`, `signature`, `key_id`, `alg`, all
///    strings, no duplicates;
/// 3. `alg == "ES256"`;
/// 4. `key_id` is in `keys`;
/// 5. `payload` and `signature` are canonical padded standard base64;
/// 6. the signature is canonical DER for P-256 (high S accepted, as KMS produces it);
/// 7. the signature verifies over the exact payload bytes;
/// 8. payload JSON shape and `version == 1`, then every field's rules (regions, registration
///    codes / aliases, message bounds, event ARN), `sequence ≤ 2^53 - 1`, `issued_at ≤
///    expires_at`;
/// 9. `now < expires_at` (`issued_at` is not compared with `now`: end-user clocks drift, and
///    freshness comes from the sequence and the expiry);
/// 10. against `highest_seen`: a lower sequence is [`Rejection::Replay`]; an equal one is
///     [`Rejection::Unchanged`] if the payload bytes are identical, else
///     [`Rejection::SequenceReused`]; a higher one is accepted.
///
/// # Errors
/// The first [`Rejection`] met; nothing of the payload is returned unless every check passed.
pub fn verify(
    document: &[u8],
    keys: &KeyRing,
    highest_seen: Option<&HighestSeen>,
    now: Timestamp,
) -> Result<Verified, Rejection> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(Rejection::TooLarge { size: document.len(), limit: MAX_DOCUMENT_BYTES });
    }
    if !crate::is_json_object(document) {
        return Err(Rejection::MalformedEnvelope { detail: "not a JSON object".to_owned() });
    }
    let envelope: EnvelopeIn = serde_json::from_slice(document)
        .map_err(|e| Rejection::MalformedEnvelope { detail: sanitize(&e.to_string(), 200) })?;
    if envelope.alg != ALG_ES256 {
        return Err(Rejection::UnsupportedAlgorithm { alg: sanitize(&envelope.alg, 32) });
    }
    let Some((key_id, key)) = keys.entry(&envelope.key_id) else {
        return Err(Rejection::UnknownKey { key_id: sanitize(&envelope.key_id, 80) });
    };
    let payload_bytes =
        decode_base64(&envelope.payload).ok_or(Rejection::BadBase64(EnvelopeField::Payload))?;
    let signature_der =
        decode_base64(&envelope.signature).ok_or(Rejection::BadBase64(EnvelopeField::Signature))?;
    let signature = parse_der_signature(&signature_der).ok_or(Rejection::MalformedSignature)?;
    key.verifying_key()
        .verify(&payload_bytes, &signature)
        .map_err(|_| Rejection::BadSignature { key_id: key_id.clone() })?;
    let key_id = key_id.clone();

    // Only now is anything inside the payload looked at.
    let payload = decode(&payload_bytes).map_err(Rejection::Payload)?;
    if now >= payload.expires_at {
        return Err(Rejection::Expired { expires_at: payload.expires_at, now });
    }
    let payload_sha256: [u8; 32] = Sha256::digest(&payload_bytes).into();
    if let Some(seen) = highest_seen {
        if payload.sequence < seen.sequence {
            return Err(Rejection::Replay {
                sequence: payload.sequence,
                highest_seen: seen.sequence,
            });
        }
        if payload.sequence == seen.sequence {
            return Err(if payload_sha256 == seen.payload_sha256 {
                Rejection::Unchanged { sequence: payload.sequence }
            } else {
                Rejection::SequenceReused { sequence: payload.sequence }
            });
        }
    }
    Ok(Verified { payload, key_id, payload_sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_seen_serde() {
        let seen = HighestSeen { sequence: 7, payload_sha256: [0xAB; 32] };
        let json = serde_json::to_string(&seen).unwrap();
        assert_eq!(json, format!("{{\"sequence\":7,\"payload_sha256\":\"{}\"}}", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<HighestSeen>(&json).unwrap(), seen);
        for bad in ["ab", &"AB".repeat(32), &"zz".repeat(32)] {
            let json = format!("{{\"sequence\":7,\"payload_sha256\":\"{bad}\"}}");
            assert!(serde_json::from_str::<HighestSeen>(&json).is_err(), "{bad}");
        }
    }
}
