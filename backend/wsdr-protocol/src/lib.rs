//! What crosses wsdr's process boundaries: the signed status document, registration targets and
//! client launch URIs.
//!
//! This crate is pure: no I/O, no clock (`now` is always a parameter), no randomness (signing is
//! RFC 6979 deterministic; key generation takes its 32 random bytes from the caller), no async.
//!
//! # Principal types
//!
//! - [`RegistrationCode`] (`WSpdx+ABC12D`), [`ConnectionAlias`] (an FQDN) and
//!   [`RegistrationTarget`] (either; what a site's `registration_code` holds).
//! - [`LaunchUser`] and [`LaunchUri`]: `workspaces://[user@]<target>`, built only from validated
//!   parts (CVE-2021-38112).
//! - [`StatusPayload`] (with [`State`], [`Site`], [`SiteRole`], [`Message`], [`Cause`]): what the
//!   backend tells the tray apps.
//! - [`UnsignedDocument`] → [`SignedDocument`]: the signed envelope, signed in process by a
//!   [`Signer`] such as [`LocalSigner`], or elsewhere (AWS KMS) and then
//!   [`assembled`](UnsignedDocument::assemble).
//! - [`KeyRing`] of [`PublicKey`]s by [`KeyId`], and [`verify`] → [`Verified`] or [`Rejection`],
//!   with [`HighestSeen`] as the verifier's memory between documents.
//!
//! # Invariants
//!
//! - A value of a validated type cannot hold an invalid value: constructors, `FromStr`,
//!   `TryFrom<String>` and `Deserialize` all go through the same check.
//! - There is no way to make a [`LaunchUri`] from a string; its text is ASCII, contains no
//!   whitespace, quote, `&`, `?`, `#`, and decodes to exactly its parts.
//! - Nothing from a document's payload is returned or echoed before its signature has verified;
//!   a [`Verified`] exists only when every check passed.
//! - Signing and verification agree on the exact payload bytes: they travel base64-encoded and
//!   are never re-serialised between [`UnsignedDocument::signing_input`] and the envelope.
//!
//! # Example
//!
//! ```
//! use wsdr_protocol::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = LocalSigner::from_secret_bytes(KeyId::parse("demo-1")?, &[42; 32])?;
//! let mut keys = KeyRing::new();
//! keys.insert(KeyId::parse("demo-1")?, signer.public_key())?;
//!
//! let site = |region: &str, code: &str| -> Result<Site, Box<dyn std::error::Error>> {
//!     Ok(Site { region: Region::parse(region)?, registration_code: RegistrationTarget::parse(code)? })
//! };
//! let payload = StatusPayload {
//!     sequence: 1,
//!     issued_at: "2026-03-01T10:00:00Z".parse()?,
//!     expires_at: "2026-03-02T10:00:00Z".parse()?,
//!     state: State::Failover,
//!     primary: site("us-east-1", "SLiad+ABCDEF")?,
//!     dr: site("us-west-2", "WSpdx+ABC12D")?,
//!     active: SiteRole::Dr,
//!     message: Message::new("Failover", "Use the DR desktop.")?,
//!     cause: Cause { source: CauseSource::Admin, event_arn: None },
//! };
//! let document = UnsignedDocument::new(&payload)?.sign_with(&signer)?.to_json_bytes();
//!
//! let verified = verify(&document, &keys, None, "2026-03-01T11:00:00Z".parse()?)?;
//! let uri = verified.launch_uri(verified.payload().active, Some(LaunchUser::parse("jdoe")?));
//! assert_eq!(uri.as_str(), "workspaces://jdoe@WSpdx+ABC12D");
//!
//! // Fetching the same document again is reported as unchanged.
//! let again = verify(&document, &keys, Some(&verified.highest_seen()), "2026-03-01T11:05:00Z".parse()?);
//! assert!(again.is_err_and(|rejection| rejection.is_unchanged()));
//! # Ok(())
//! # }
//! ```

mod document;
mod keys;
mod launch;
mod payload;
mod target;
mod verify;

pub use document::{
    ALG_ES256, MAX_DOCUMENT_BYTES, SignError, SignedDocument, Signer, UnsignedDocument,
};
pub use keys::{
    KEY_ID_MAX_LEN, KeyError, KeyId, KeyIdError, KeyRing, LocalSigner, PrivateKeyPem, PublicKey,
};
pub use launch::{LAUNCH_SCHEME, LAUNCH_USER_MAX_LEN, LaunchUri, LaunchUser, LaunchUserError};
pub use payload::{
    Cause, CauseSource, EVENT_ARN_MAX_LEN, EventArn, EventArnError, MAX_SEQUENCE,
    MESSAGE_BODY_MAX_LEN, MESSAGE_TITLE_MAX_LEN, Message, MessageError, PAYLOAD_VERSION,
    PayloadError, REGION_MAX_LEN, Region, RegionError, Site, SiteRole, State, StatusPayload,
};
pub use target::{
    CONNECTION_ALIAS_MAX_LEN, ConnectionAlias, REGISTRATION_CODE_MAX_LEN, RegistrationCode,
    RegistrationTarget, TargetError,
};
pub use verify::{EnvelopeField, HighestSeen, Rejection, Verified, verify};

/// Whether `bytes` is JSON whose top-level value is an object (serde would otherwise also read a
/// struct from an array of its fields, in order).
pub(crate) fn is_json_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) == Some(&b'{')
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
    out
}
