//! The verification matrix: each case is one `check` of a document against the test key ring.

use expect_test::{Expect, expect};
use jiff::Timestamp;
use wsdr_protocol::{
    HighestSeen, KeyId, KeyRing, MAX_DOCUMENT_BYTES, PublicKey, Rejection, Signer as _, SiteRole,
    Verified, verify,
};

use crate::support::{
    OTHER_KEY_ID, OTHER_PUB_PEM, P384_PUB_PEM, TEST_KEY_ID, envelope, keys, now, other_signer,
    parts, payload, payload_json, signed, signed_raw, test_signer, ts,
};

fn render(result: &Result<Verified, Rejection>) -> String {
    match result {
        Ok(v) => format!(
            "ok: sequence {} {:?}, active {} = {} (key {})",
            v.payload().sequence,
            v.payload().state,
            v.payload().active.as_str(),
            v.payload().active_site().registration_code,
            v.key_id()
        ),
        Err(rejection) => format!("rejected: {rejection}"),
    }
}

#[track_caller]
fn check_with(
    document: &[u8],
    keys: &KeyRing,
    seen: Option<&HighestSeen>,
    now: Timestamp,
    expect: Expect,
) {
    expect.assert_eq(&render(&verify(document, keys, seen, now)));
}

#[track_caller]
fn check(document: &[u8], expect: Expect) {
    check_with(document, &keys(), None, now(), expect);
}

/// What a poller remembers after accepting `payload(sequence)`.
fn seen_after(sequence: u64) -> HighestSeen {
    verify(&signed(&payload(sequence), &test_signer()), &keys(), None, now())
        .unwrap()
        .highest_seen()
}

#[test]
fn valid() {
    check(
        &signed(&payload(5), &test_signer()),
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    // Higher than the highest seen.
    check_with(
        &signed(&payload(6), &test_signer()),
        &keys(),
        Some(&seen_after(5)),
        now(),
        expect![[r#"ok: sequence 6 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
}

#[test]
fn bad_signature() {
    // The signature of another payload, same key.
    let (_, other_signature) = parts(&signed(&payload(6), &test_signer()));
    let (payload_bytes, _) = parts(&signed(&payload(5), &test_signer()));
    check(
        &envelope(&payload_bytes, &other_signature, TEST_KEY_ID, "ES256"),
        expect![[r#"rejected: signature does not verify with key wsdr-test-2026"#]],
    );
}

#[test]
fn signature_from_another_key() {
    // Signed by the other key but claiming the trusted key's id.
    let (payload_bytes, signature) = parts(&signed(&payload(5), &other_signer()));
    check(
        &envelope(&payload_bytes, &signature, TEST_KEY_ID, "ES256"),
        expect![[r#"rejected: signature does not verify with key wsdr-test-2026"#]],
    );
    // Signed by the other key under its own id, which is not trusted.
    check(
        &signed(&payload(5), &other_signer()),
        expect![[r#"rejected: unknown signing key "wsdr-other""#]],
    );
}

#[test]
fn unknown_key_id() {
    let (payload_bytes, signature) = parts(&signed(&payload(5), &test_signer()));
    check(
        &envelope(&payload_bytes, &signature, "wsdr-retired-2024", "ES256"),
        expect![[r#"rejected: unknown signing key "wsdr-retired-2024""#]],
    );
    // A hostile key id is quoted safely.
    check(
        &envelope(&payload_bytes, &signature, "x\n\u{1b}[31mred", "ES256"),
        expect![[r#"rejected: unknown signing key "x\u{a}\u{1b}[31mred""#]],
    );
    // An empty key ring trusts nothing.
    check_with(
        &signed(&payload(5), &test_signer()),
        &KeyRing::new(),
        None,
        now(),
        expect![[r#"rejected: unknown signing key "wsdr-test-2026""#]],
    );
}

#[test]
fn key_rotation() {
    let mut both = keys();
    both.insert(
        KeyId::parse(OTHER_KEY_ID).unwrap(),
        PublicKey::from_spki_pem(OTHER_PUB_PEM).unwrap(),
    )
    .unwrap();
    check_with(
        &signed(&payload(5), &test_signer()),
        &both,
        None,
        now(),
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    check_with(
        &signed(&payload(6), &other_signer()),
        &both,
        Some(&seen_after(5)),
        now(),
        expect![[r#"ok: sequence 6 Failover, active dr = WSpdx+ABC12D (key wsdr-other)"#]],
    );
}

#[test]
fn wrong_alg() {
    let (payload_bytes, signature) = parts(&signed(&payload(5), &test_signer()));
    check(
        &envelope(&payload_bytes, &signature, TEST_KEY_ID, "none"),
        expect![[r#"rejected: unsupported signature algorithm "none" (only ES256)"#]],
    );
    check(
        &envelope(&payload_bytes, &signature, TEST_KEY_ID, "es256"),
        expect![[r#"rejected: unsupported signature algorithm "es256" (only ES256)"#]],
    );
    check(
        &envelope(&payload_bytes, &signature, TEST_KEY_ID, "HS256"),
        expect![[r#"rejected: unsupported signature algorithm "HS256" (only ES256)"#]],
    );
}

#[test]
fn lower_sequence_is_a_replay() {
    check_with(
        &signed(&payload(4), &test_signer()),
        &keys(),
        Some(&seen_after(5)),
        now(),
        expect![[r#"rejected: sequence 4 is lower than 5, already seen (replay)"#]],
    );
}

#[test]
fn equal_sequence_same_bytes_is_unchanged() {
    let document = signed(&payload(5), &test_signer());
    let seen = verify(&document, &keys(), None, now()).unwrap().highest_seen();
    let result = verify(&document, &keys(), Some(&seen), now());
    assert!(result.as_ref().is_err_and(Rejection::is_unchanged));
    check_with(
        &document,
        &keys(),
        Some(&seen),
        now(),
        expect![[r#"rejected: unchanged: sequence 5 is the document already accepted"#]],
    );
}

#[test]
fn equal_sequence_different_bytes_is_refused() {
    let mut different = payload(5);
    different.active = SiteRole::Primary;
    let result = verify(&signed(&different, &test_signer()), &keys(), Some(&seen_after(5)), now());
    assert!(matches!(result, Err(Rejection::SequenceReused { sequence: 5 })));
    check_with(
        &signed(&different, &test_signer()),
        &keys(),
        Some(&seen_after(5)),
        now(),
        expect![[r#"rejected: sequence 5 was already used by a different payload"#]],
    );
}

#[test]
fn expiry() {
    let document = signed(&payload(5), &test_signer());
    let at = |t: &str, e: Expect| check_with(&document, &keys(), None, ts(t), e);
    at(
        "2026-03-02T09:59:59.999999999Z",
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    at(
        "2026-03-02T10:00:00Z",
        expect![[
            r#"rejected: document expired at 2026-03-02T10:00:00Z (now 2026-03-02T10:00:00Z)"#
        ]],
    );
    at(
        "2027-01-01T00:00:00Z",
        expect![[
            r#"rejected: document expired at 2026-03-02T10:00:00Z (now 2027-01-01T00:00:00Z)"#
        ]],
    );
    // Issued "in the future" for a client whose clock is behind: accepted (clocks drift).
    at(
        "2026-03-01T09:00:00Z",
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    // An expired replay is reported as expired (the more useful reason).
    check_with(
        &document,
        &keys(),
        Some(&seen_after(6)),
        ts("2026-03-03T00:00:00Z"),
        expect![[
            r#"rejected: document expired at 2026-03-02T10:00:00Z (now 2026-03-03T00:00:00Z)"#
        ]],
    );
}

#[test]
fn inconsistent_times() {
    // The builder refuses to write it...
    let mut p = payload(5);
    p.expires_at = ts("2026-03-01T09:00:00Z");
    assert!(p.to_json_bytes().is_err());
    // ...and a hand-written, correctly signed one is refused by the verifier.
    let mut json = payload_json(5);
    json["expires_at"] = "2026-03-01T09:00:00Z".into();
    check(
        &signed_raw(&serde_json::to_vec(&json).unwrap()),
        expect![[
            r#"rejected: issued_at 2026-03-01T10:00:00Z is after expires_at 2026-03-01T09:00:00Z"#
        ]],
    );
    // Equal instants are consistent (and already expired at that instant).
    json["expires_at"] = "2026-03-01T10:00:00Z".into();
    check_with(
        &signed_raw(&serde_json::to_vec(&json).unwrap()),
        &keys(),
        None,
        ts("2026-03-01T09:00:00Z"),
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
}

#[test]
fn truncated_document() {
    let document = signed(&payload(5), &test_signer());
    check(
        &document[..document.len() - 1],
        expect!["rejected: malformed envelope: EOF while parsing an object at line 1 column 916"],
    );
    check(&[], expect!["rejected: malformed envelope: not a JSON object"]);
    for len in 0..document.len() {
        assert!(
            matches!(
                verify(&document[..len], &keys(), None, now()),
                Err(Rejection::MalformedEnvelope { .. })
            ),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn oversized_document() {
    let mut document = signed(&payload(5), &test_signer());
    // JSON allows trailing whitespace: pad exactly to the limit (accepted), then one byte more.
    document.resize(MAX_DOCUMENT_BYTES, b' ');
    check(
        &document,
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    document.push(b' ');
    check(
        &document,
        expect![[r#"rejected: document is 65537 bytes, more than the limit of 65536"#]],
    );
    check(
        &vec![b'{'; 10 * 1024 * 1024],
        expect![[r#"rejected: document is 10485760 bytes, more than the limit of 65536"#]],
    );
}

#[test]
fn malformed_envelopes() {
    let document = signed(&payload(5), &test_signer());
    let mut v: serde_json::Value = serde_json::from_slice(&document).unwrap();
    v["extra"] = "x".into();
    check(
        &sorted_json(&v),
        expect![
            "rejected: malformed envelope: unknown field `extra`, expected one of `payload`, `signature`, `key_id`, `alg` at line 1 column 22"
        ],
    );
    check(
        br#"{"payload":"","signature":"","key_id":"k"}"#,
        expect![[r#"rejected: malformed envelope: missing field `alg` at line 1 column 42"#]],
    );
    // serde would read a struct from an array of its fields: refused.
    check(
        br#"["e30=","MAYCAQECAQE=","wsdr-test-2026","ES256"]"#,
        expect!["rejected: malformed envelope: not a JSON object"],
    );
    check(br#"[1,2]"#, expect!["rejected: malformed envelope: not a JSON object"]);
    check(
        br#"{"payload":1,"signature":"","key_id":"k","alg":"ES256"}"#,
        expect![[
            r#"rejected: malformed envelope: invalid type: integer `1`, expected a string at line 1 column 12"#
        ]],
    );
    check(
        br#"{"alg":"ES256","alg":"ES256","payload":"","signature":"","key_id":"k"}"#,
        expect![[r#"rejected: malformed envelope: duplicate field `alg` at line 1 column 20"#]],
    );
}

#[test]
fn bad_base64() {
    let (payload_bytes, signature) = parts(&signed(&payload(5), &test_signer()));
    let good = envelope(&payload_bytes, &signature, TEST_KEY_ID, "ES256");
    let good: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let with = |field: &str, value: String| {
        let mut v = good.clone();
        v[field] = value.into();
        serde_json::to_vec(&v).unwrap()
    };
    let payload_b64 = good["payload"].as_str().unwrap().to_owned();
    let signature_b64 = good["signature"].as_str().unwrap().to_owned();
    check(
        &with("payload", format!("!{payload_b64}")),
        expect![[r#"rejected: payload is not valid base64"#]],
    );
    // URL-safe alphabet character.
    check(
        &with("payload", format!("-{}", &payload_b64[1..])),
        expect![[r#"rejected: payload is not valid base64"#]],
    );
    check(
        &with("signature", signature_b64.trim_end_matches('=').to_owned()),
        expect![[r#"rejected: signature is not valid base64"#]],
    );
    check(
        &with("signature", format!("{signature_b64}\n")),
        expect![[r#"rejected: signature is not valid base64"#]],
    );
    // Non-canonical trailing bits: "QQ==" is "A"; "QR==" decodes to "A" too in lax decoders.
    check(
        &with("signature", "QR==".to_owned()),
        expect![[r#"rejected: signature is not valid base64"#]],
    );
}

#[test]
fn signature_encodings() {
    let signer = test_signer();
    let (payload_bytes, der) = parts(&signed(&payload(5), &signer));
    let signature = p256::ecdsa::Signature::from_der(&der).unwrap();
    let doc = |sig: &[u8]| envelope(&payload_bytes, sig, TEST_KEY_ID, "ES256");

    // High-S form of the same signature (as KMS may return): accepted.
    let (r, s) = signature.split_scalars();
    let flipped = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    assert_ne!(flipped.to_der().as_bytes(), der.as_slice());
    check(
        &doc(flipped.to_der().as_bytes()),
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );

    // Raw r||s (JOSE style) instead of DER.
    check(
        &doc(&signature.to_bytes()),
        expect![[r#"rejected: signature is not a canonical DER ECDSA P-256 signature"#]],
    );
    // Trailing garbage after the DER sequence.
    let mut trailing = der.clone();
    trailing.push(0);
    check(
        &doc(&trailing),
        expect![[r#"rejected: signature is not a canonical DER ECDSA P-256 signature"#]],
    );
    // BER long-form length (0x81 nn) for the outer sequence.
    let mut long_form = vec![0x30, 0x81, der[1]];
    long_form.extend_from_slice(&der[2..]);
    check(
        &doc(&long_form),
        expect![[r#"rejected: signature is not a canonical DER ECDSA P-256 signature"#]],
    );
    // A superfluous leading zero on r.
    let r_len = usize::from(der[3]);
    let mut padded = vec![0x30, der[1] + 1, 0x02, der[3] + 1, 0x00];
    padded.extend_from_slice(&der[4..4 + r_len]);
    padded.extend_from_slice(&der[4 + r_len..]);
    check(
        &doc(&padded),
        expect![[r#"rejected: signature is not a canonical DER ECDSA P-256 signature"#]],
    );
    // Empty.
    check(
        &doc(&[]),
        expect![[r#"rejected: signature is not a canonical DER ECDSA P-256 signature"#]],
    );

    // The assembler refuses what the verifier refuses.
    let unsigned = wsdr_protocol::UnsignedDocument::new(&payload(5)).unwrap();
    assert!(unsigned.clone().assemble(signer.key_id().clone(), &signature.to_bytes()).is_err());
    assert!(unsigned.assemble(signer.key_id().clone(), &der).is_ok());
}

#[test]
fn invalid_registration_code_correctly_signed() {
    let mut json = payload_json(5);
    json["dr"]["registration_code"] = "--gpu-launcher=calc.exe".into();
    check(
        &signed_raw(&serde_json::to_vec(&json).unwrap()),
        expect![[
            r#"rejected: dr.registration_code has the character '=' at position 14, which is not allowed (letters, digits, '.' and '-')"#
        ]],
    );
    json["dr"]["registration_code"] = "WSpdx+ABC12D\" --x".into();
    check(
        &signed_raw(&serde_json::to_vec(&json).unwrap()),
        expect![[
            r#"rejected: dr.registration_code has the character '"' at position 12, which is not allowed (letters, digits and one '+')"#
        ]],
    );
    let mut json = payload_json(5);
    json["primary"]["registration_code"] = "-leading.example.com".into();
    check(
        &signed_raw(&serde_json::to_vec(&json).unwrap()),
        expect![[r#"rejected: primary.registration_code starts with '-'"#]],
    );
    let mut json = payload_json(5);
    json["primary"]["region"] = "US East".into();
    check(
        &signed_raw(&serde_json::to_vec(&json).unwrap()),
        expect![[r#"rejected: primary.region is not a region name like us-east-1"#]],
    );
}

#[test]
fn unknown_state_and_other_bad_payloads() {
    let bad = |edit: &dyn Fn(&mut serde_json::Value), e: Expect| {
        let mut json = payload_json(5);
        edit(&mut json);
        check(&signed_raw(&sorted_json(&json)), e);
    };
    bad(
        &|j| j["state"] = "panic".into(),
        expect![
            "rejected: malformed payload JSON: unknown variant `panic`, expected one of `normal`, `failover`, `drill` at line 1 column 547"
        ],
    );
    bad(
        &|j| j["active"] = "both".into(),
        expect![
            "rejected: malformed payload JSON: unknown variant `both`, expected `primary` or `dr` at line 1 column 16"
        ],
    );
    bad(
        &|j| j["cause"]["source"] = "aws.ec2".into(),
        expect![
            "rejected: malformed payload JSON: unknown variant `aws.ec2`, expected `aws.health` or `admin` at line 1 column 172"
        ],
    );
    bad(
        &|j| j["version"] = 2.into(),
        expect![[r#"rejected: unsupported payload version 2 (this build reads version 1)"#]],
    );
    bad(
        &|j| j["version"] = "1".into(),
        expect![[
            r#"rejected: malformed payload JSON: invalid type: string "1", expected u64 at line 1 column 564"#
        ]],
    );
    bad(
        &|j| j["sequence"] = (-1).into(),
        expect![
            "rejected: malformed payload JSON: invalid value: integer `-1`, expected u64 at line 1 column 532"
        ],
    );
    bad(
        &|j| j["sequence"] = (1_u64 << 53).into(),
        expect![[r#"rejected: sequence 9007199254740992 is above the maximum 9007199254740991"#]],
    );
    bad(
        &|j| j["issued_at"] = "yesterday".into(),
        expect![
            "rejected: malformed payload JSON: failed to parse four digit integer as year: invalid digit, expected 0-9 but got y at line 1 column 299"
        ],
    );
    bad(
        &|j| {
            j.as_object_mut().unwrap().remove("cause");
        },
        expect!["rejected: malformed payload JSON: missing field `cause` at line 1 column 401"],
    );
    bad(
        &|j| j["message"]["title"] = "Two\nlines".into(),
        expect![[r#"rejected: message title has a control character at position 3"#]],
    );
    bad(
        &|j| j["message"]["body"] = "x".repeat(2001).into(),
        expect![[r#"rejected: message body is 2001 characters long; at most 2000 are allowed"#]],
    );
    bad(
        &|j| j["cause"]["event_arn"] = "not an arn".into(),
        expect![[
            r#"rejected: cause.event_arn is not an ARN ("arn:" followed by printable ASCII, at most 1600 characters)"#
        ]],
    );
    // Unknown payload fields are ignored (forward compatibility within version 1).
    bad(
        &|j| j["future_field"] = serde_json::json!({"x": 1}),
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    // A missing or null event ARN is none.
    bad(
        &|j| j["cause"]["event_arn"] = serde_json::Value::Null,
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
    // Not JSON at all, and duplicate fields (which parsers disagree on).
    check(
        &signed_raw(br#"[1,5,"2026-03-01T10:00:00Z"]"#),
        expect!["rejected: malformed payload JSON: not a JSON object"],
    );
    check(&signed_raw(b"\xff\xfe"), expect!["rejected: malformed payload JSON: not a JSON object"]);
    let text = String::from_utf8(payload(5).to_json_bytes().unwrap()).unwrap();
    let duplicated =
        text.replacen("\"state\":\"failover\"", "\"state\":\"failover\",\"state\":\"normal\"", 1);
    check(
        &signed_raw(duplicated.as_bytes()),
        expect!["rejected: malformed payload JSON: duplicate field `state` at line 1 column 123"],
    );
}

#[test]
fn nothing_unverified_is_echoed() {
    // A forged payload (signed by an untrusted key, under the trusted id) carrying hostile text:
    // the rejection says nothing of it.
    let mut json = payload_json(5);
    json["message"]["title"] = "CLICK workspaces://x@evil+CODE".into();
    let forged = serde_json::to_vec(&json).unwrap();
    let signature = other_signer().sign_der(&forged).unwrap();
    let rejection =
        verify(&envelope(&forged, &signature, TEST_KEY_ID, "ES256"), &keys(), None, now())
            .unwrap_err();
    assert!(matches!(rejection, Rejection::BadSignature { .. }));
    assert!(!rejection.to_string().contains("evil"));
    assert!(!format!("{rejection:?}").contains("evil"));
}

#[test]
fn wrong_curve_and_bad_keys_are_refused() {
    assert!(PublicKey::from_spki_pem(P384_PUB_PEM).is_err());
    assert!(PublicKey::from_spki_pem(crate::support::TEST_KEY_PEM).is_err());
    assert!(PublicKey::from_spki_pem("").is_err());
    assert!(
        wsdr_protocol::LocalSigner::from_pkcs8_pem(
            KeyId::parse("k").unwrap(),
            crate::support::TEST_PUB_PEM
        )
        .is_err()
    );
}

#[test]
fn highest_seen_survives_a_restart() {
    // The tray persists `HighestSeen` as JSON and reads it back after a restart.
    let document = signed(&payload(5), &test_signer());
    let seen = verify(&document, &keys(), None, now()).unwrap().highest_seen();
    let stored = serde_json::to_string(&seen).unwrap();
    let restored: HighestSeen = serde_json::from_str(&stored).unwrap();
    assert!(verify(&document, &keys(), Some(&restored), now()).is_err_and(|r| r.is_unchanged()));
}

#[test]
fn digest_signature_as_kms_makes_it_verifies() {
    // AWS KMS `Sign` with MessageType=DIGEST signs the SHA-256 we hand it; the result must
    // verify exactly like a signature over the raw payload bytes.
    use p256::ecdsa::signature::hazmat::PrehashSigner as _;
    use p256::pkcs8::DecodePrivateKey as _;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(crate::support::TEST_KEY_PEM).unwrap();
    let unsigned = wsdr_protocol::UnsignedDocument::new(&payload(5)).unwrap();
    let signature: p256::ecdsa::Signature = key.sign_prehash(&unsigned.signing_digest()).unwrap();
    let document = unsigned
        .assemble(KeyId::parse(TEST_KEY_ID).unwrap(), signature.to_der().as_bytes())
        .unwrap()
        .to_json_bytes();
    check(
        &document,
        expect![[r#"ok: sequence 5 Failover, active dr = WSpdx+ABC12D (key wsdr-test-2026)"#]],
    );
}

/// `value` serialized with every object's keys in sorted order, whatever serde_json's features: another crate in
/// the workspace may turn on `preserve_order`, and the expected error columns above must not depend on that.
fn sorted_json(value: &serde_json::Value) -> Vec<u8> {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                serde_json::Value::Object(
                    keys.into_iter().map(|key| (key.clone(), sorted(&map[key]))).collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(value)).unwrap()
}
