//! Status document bytes (the signed envelope) → `wsdr_protocol::verify` with a fixed key ring (the protocol's
//! test keys, `wsdr-test-2026` and `wsdr-other`) and a fixed `now` inside the golden document's validity.
//!
//! Properties: never panics; an accepted document is unexpired, signed by a key of the ring, and fetched again
//! reads as `Unchanged` (never accepted twice, never `SequenceReused`); every rejection renders.
#![no_main]

use std::sync::LazyLock;

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use wsdr_protocol::{KeyRing, Rejection, verify};

static KEYS: LazyLock<KeyRing> = LazyLock::new(|| {
    KeyRing::from_pem_entries([
        (
            "wsdr-test-2026",
            include_str!("../../../backend/wsdr-protocol/tests/fixtures/test-key.pub.pem"),
        ),
        ("wsdr-other", include_str!("../../../backend/wsdr-protocol/tests/fixtures/other-key.pub.pem")),
    ])
    .expect("the protocol's test keys")
});

static NOW: LazyLock<Timestamp> =
    LazyLock::new(|| "2026-03-01T11:00:00Z".parse().expect("a timestamp"));

fuzz_target!(|bytes: &[u8]| {
    let verified = match verify(bytes, &KEYS, None, *NOW) {
        Ok(verified) => verified,
        Err(rejection) => {
            assert!(!rejection.is_unchanged(), "unchanged without a highest_seen");
            let _ = rejection.to_string();
            return;
        }
    };
    assert!(KEYS.get(verified.key_id().as_str()).is_some());
    assert!(*NOW < verified.payload().expires_at, "an expired document was accepted");
    let seen = verified.highest_seen();
    match verify(bytes, &KEYS, Some(&seen), *NOW) {
        Err(Rejection::Unchanged { sequence }) => assert_eq!(sequence, seen.sequence),
        other => panic!("the same document fetched again: {other:?}"),
    }
});
