//! Shared fixtures and builders.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use wsdr_protocol::{
    Cause, CauseSource, EventArn, KeyId, KeyRing, LocalSigner, Message, Region, RegistrationTarget,
    Signer as _, Site, SiteRole, State, StatusPayload, UnsignedDocument,
};

/// The fixed test key (PKCS#8 PEM, P-256), checked in for deterministic golden documents.
pub(crate) const TEST_KEY_PEM: &str = include_str!("../fixtures/test-key.pem");
/// Its public key (SPKI PEM).
pub(crate) const TEST_PUB_PEM: &str = include_str!("../fixtures/test-key.pub.pem");
/// A second P-256 key, trusted under another id or not at all.
pub(crate) const OTHER_KEY_PEM: &str = include_str!("../fixtures/other-key.pem");
/// Its public key.
pub(crate) const OTHER_PUB_PEM: &str = include_str!("../fixtures/other-key.pub.pem");
/// A P-384 public key: the right format, the wrong curve.
pub(crate) const P384_PUB_PEM: &str = include_str!("../fixtures/p384-key.pub.pem");

pub(crate) const TEST_KEY_ID: &str = "wsdr-test-2026";
pub(crate) const OTHER_KEY_ID: &str = "wsdr-other";

pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The clock used by most checks: one hour after [`payload`] was issued.
pub(crate) fn now() -> Timestamp {
    ts("2026-03-01T11:00:00Z")
}

pub(crate) fn test_signer() -> LocalSigner {
    LocalSigner::from_pkcs8_pem(KeyId::parse(TEST_KEY_ID).unwrap(), TEST_KEY_PEM).unwrap()
}

pub(crate) fn other_signer() -> LocalSigner {
    LocalSigner::from_pkcs8_pem(KeyId::parse(OTHER_KEY_ID).unwrap(), OTHER_KEY_PEM).unwrap()
}

/// Trusts the test key only.
pub(crate) fn keys() -> KeyRing {
    KeyRing::from_pem_entries([(TEST_KEY_ID, TEST_PUB_PEM)]).unwrap()
}

pub(crate) fn site(region: &str, code: &str) -> Site {
    Site {
        region: Region::parse(region).unwrap(),
        registration_code: RegistrationTarget::parse(code).unwrap(),
    }
}

/// A failover payload with sequence `sequence`, issued 2026-03-01T10:00Z, valid for a day.
pub(crate) fn payload(sequence: u64) -> StatusPayload {
    StatusPayload {
        sequence,
        issued_at: ts("2026-03-01T10:00:00Z"),
        expires_at: ts("2026-03-02T10:00:00Z"),
        state: State::Failover,
        primary: site("us-east-1", "SLiad+ABCDEF"),
        dr: site("us-west-2", "WSpdx+ABC12D"),
        active: SiteRole::Dr,
        message: Message::new(
            "WorkSpaces failover",
            "The primary region has a WorkSpaces outage.\nUse your DR WorkSpace until told otherwise.",
        )
        .unwrap(),
        cause: Cause {
            source: CauseSource::AwsHealth,
            event_arn: Some(
                EventArn::parse(
                    "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_ABC123",
                )
                .unwrap(),
            ),
        },
    }
}

/// `payload` signed by `signer`, as envelope bytes.
pub(crate) fn signed(payload: &StatusPayload, signer: &LocalSigner) -> Vec<u8> {
    UnsignedDocument::new(payload).unwrap().sign_with(signer).unwrap().to_json_bytes()
}

/// An envelope written by hand around any bytes (no check at all).
pub(crate) fn envelope(payload: &[u8], signature: &[u8], key_id: &str, alg: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "payload": BASE64.encode(payload),
        "signature": BASE64.encode(signature),
        "key_id": key_id,
        "alg": alg,
    }))
    .unwrap()
}

/// Arbitrary payload bytes (for example hand-written JSON that the builders would refuse),
/// correctly signed by the test key.
pub(crate) fn signed_raw(payload_bytes: &[u8]) -> Vec<u8> {
    let signer = test_signer();
    let signature = signer.sign_der(payload_bytes).unwrap();
    envelope(payload_bytes, &signature, TEST_KEY_ID, "ES256")
}

/// The payload JSON of [`payload`] as a mutable value, for hand-made variants.
pub(crate) fn payload_json(sequence: u64) -> serde_json::Value {
    serde_json::from_slice(&payload(sequence).to_json_bytes().unwrap()).unwrap()
}

/// The decoded (payload bytes, DER signature) of an envelope.
pub(crate) fn parts(document: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let v: serde_json::Value = serde_json::from_slice(document).unwrap();
    let field = |name: &str| BASE64.decode(v[name].as_str().unwrap()).unwrap();
    (field("payload"), field("signature"))
}
