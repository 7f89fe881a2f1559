//! Status payload JSON → `wsdr_protocol::StatusPayload::from_unsigned_json` (the payload decoder `verify` runs
//! after the signature checked).
//!
//! Properties: never panics; an accepted payload re-encodes to canonical bytes that decode to the same payload and
//! re-encode identically; signed with a test key, that payload verifies to itself (what the backend signs, the
//! tray accepts), and its launch URIs build.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wsdr_protocol::{
    KeyId, KeyRing, LocalSigner, MAX_DOCUMENT_BYTES, Rejection, SiteRole, StatusPayload, UnsignedDocument, verify,
};

static SIGNER: LazyLock<(LocalSigner, KeyRing)> = LazyLock::new(|| {
    let id = KeyId::parse("wsdr-test-2026").expect("a key id");
    let signer = LocalSigner::from_pkcs8_pem(
        id.clone(),
        include_str!("../../../backend/wsdr-protocol/tests/fixtures/test-key.pem"),
    )
    .expect("the protocol's test key");
    let mut keys = KeyRing::new();
    keys.insert(id, signer.public_key()).expect("one key");
    (signer, keys)
});

fuzz_target!(|bytes: &[u8]| {
    let payload = match StatusPayload::from_unsigned_json(bytes) {
        Ok(payload) => payload,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let canonical = payload.to_json_bytes().expect("an accepted payload encodes");
    let again = StatusPayload::from_unsigned_json(&canonical).expect("canonical bytes decode");
    assert_eq!(again, payload, "the canonical bytes decode to another payload");
    assert_eq!(again.to_json_bytes().as_ref(), Ok(&canonical), "canonical bytes are not a fixed point");

    let (signer, keys) = &*SIGNER;
    let document = UnsignedDocument::new(&payload)
        .expect("an accepted payload makes a document")
        .sign_with(signer)
        .expect("the test key signs")
        .to_json_bytes();
    match verify(&document, keys, None, payload.issued_at) {
        Ok(verified) => {
            assert_eq!(verified.payload(), &payload, "verify returned another payload");
            for role in [SiteRole::Primary, SiteRole::Dr] {
                let uri = verified.launch_uri(role, None);
                assert!(!uri.as_str().contains(char::is_whitespace));
            }
        }
        Err(Rejection::Expired { .. }) => assert!(payload.issued_at >= payload.expires_at),
        Err(Rejection::TooLarge { .. }) => assert!(document.len() > MAX_DOCUMENT_BYTES),
        Err(rejection) => panic!("a signed accepted payload was rejected: {rejection}"),
    }
});
