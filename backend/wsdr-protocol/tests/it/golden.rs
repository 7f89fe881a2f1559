//! The golden document: the fixed test key and payload give byte-identical output (RFC 6979),
//! checked in as `tests/fixtures/status-golden.json` for other crates' tests to reuse.

use expect_test::{expect, expect_file};
use wsdr_protocol::{
    MAX_DOCUMENT_BYTES, MESSAGE_BODY_MAX_LEN, MESSAGE_TITLE_MAX_LEN, Message, SiteRole,
    UnsignedDocument, verify,
};

use crate::support::{keys, now, payload, signed, site, test_signer};

#[test]
fn golden_document() {
    let document = signed(&payload(42), &test_signer());
    expect_file!["../fixtures/status-golden.json"]
        .assert_eq(std::str::from_utf8(&document).unwrap());
    expect![[r#"{"version":1,"sequence":42,"issued_at":"2026-03-01T10:00:00Z","expires_at":"2026-03-02T10:00:00Z","state":"failover","primary":{"region":"us-east-1","registration_code":"SLiad+ABCDEF"},"dr":{"region":"us-west-2","registration_code":"WSpdx+ABC12D"},"active":"dr","message":{"title":"WorkSpaces failover","body":"The primary region has a WorkSpaces outage.\nUse your DR WorkSpace until told otherwise."},"cause":{"source":"aws.health","event_arn":"arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_ABC123"}}"#]]
        .assert_eq(std::str::from_utf8(&payload(42).to_json_bytes().unwrap()).unwrap());
    // Signing is deterministic.
    assert_eq!(document, signed(&payload(42), &test_signer()));
}

#[test]
fn golden_fixture_verifies_and_reads_back() {
    let document =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/status-golden.json"))
            .unwrap();
    let verified = verify(&document, &keys(), None, now()).unwrap();
    assert_eq!(verified.payload(), &payload(42));
    assert_eq!(verified.launch_uri(SiteRole::Dr, None).as_str(), "workspaces://@WSpdx+ABC12D");
    expect![[r#"{"sequence":42,"payload_sha256":"6c2fbfc00a71da515a8eb8bc29f8a77baf975e03db191f27e5c4024f732b65de"}"#]]
        .assert_eq(&serde_json::to_string(&verified.highest_seen()).unwrap());
}

#[test]
fn test_key_fingerprint() {
    expect!["SHA256:14e9c8b34fdb8539b76d86f4d9be4ffa18d9b4cf1ce962fe563214db3569bb85"]
        .assert_eq(&test_signer().public_key().fingerprint().unwrap());
}

#[test]
fn largest_payload_fits_under_the_size_limit() {
    // Every field at its bound, with the characters that take the most bytes in JSON: 4-byte
    // UTF-8 in the message (more than any 2-byte escape such as \" or \n), escaped
    // backslashes in the ARN, 255-character aliases.
    let mut p = payload(wsdr_protocol::MAX_SEQUENCE);
    p.message = Message::new(
        &"\u{10FFFF}".repeat(MESSAGE_TITLE_MAX_LEN),
        &"\u{10FFFF}".repeat(MESSAGE_BODY_MAX_LEN),
    )
    .unwrap();
    let alias = "a".repeat(255);
    p.primary = site("ap-southeast-5", &alias);
    p.dr = site("us-gov-west-1", &alias);
    let arn = format!("arn:{}", "\\".repeat(wsdr_protocol::EVENT_ARN_MAX_LEN - 4));
    p.cause.event_arn = Some(wsdr_protocol::EventArn::parse(&arn).unwrap());
    let document =
        UnsignedDocument::new(&p).unwrap().sign_with(&test_signer()).unwrap().to_json_bytes();
    assert!(document.len() < MAX_DOCUMENT_BYTES / 2, "{} bytes", document.len());
    assert!(verify(&document, &keys(), None, now()).is_ok());
}
