//! Property tests.

use proptest::prelude::*;
use proptest::sample::Index;
use wsdr_protocol::{
    CONNECTION_ALIAS_MAX_LEN, Cause, CauseSource, ConnectionAlias, LAUNCH_USER_MAX_LEN, LaunchUri,
    LaunchUser, MAX_SEQUENCE, Message, REGISTRATION_CODE_MAX_LEN, RegistrationCode,
    RegistrationTarget, Rejection, SiteRole, State, StatusPayload, verify,
};

use crate::launch::decode;
use crate::support::{TEST_KEY_ID, envelope, keys, now, parts, payload, signed, test_signer, ts};

/// Signature checks are slow in debug builds: fewer cases where each case verifies.
fn crypto_config() -> ProptestConfig {
    ProptestConfig { cases: 64, ..ProptestConfig::default() }
}

/// Strings that stress validators: anything, printable Unicode, and ASCII near the rules.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "\\PC{0,80}", "[ -~]{0,80}", "[-A-Za-z0-9+.%@ \"&=\n\t]{0,30}",]
}

fn registration_code() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{1,9}\\+[A-Za-z0-9]{1,9}"
}

fn connection_alias() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.][.0-9A-Za-z-]{0,100}"
}

fn target() -> impl Strategy<Value = RegistrationTarget> {
    prop_oneof![registration_code(), connection_alias()]
        .prop_map(|s| RegistrationTarget::parse(&s).unwrap())
}

fn launch_user() -> impl Strategy<Value = LaunchUser> {
    prop_oneof!["\\PC{1,63}", "[!-~]{1,63}"]
        .prop_filter_map("not a valid user", |s| LaunchUser::parse(&s).ok())
}

/// The brief's rules for a user name, written independently of the crate.
fn breaks_user_rules(s: &str) -> bool {
    s.is_empty()
        || s.chars().count() > 63
        || s.starts_with('-')
        || s.chars().any(|c| c.is_control() || c.is_whitespace() || c == '%')
}

/// `^[A-Za-z0-9]+\+[A-Za-z0-9]+$`, at most 20 characters.
fn is_registration_code(s: &str) -> bool {
    let Some((a, b)) = s.split_once('+') else { return false };
    let alnum = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric());
    alnum(a) && alnum(b) && s.len() <= 20
}

/// `^[.0-9A-Za-z-]{1,255}$`, not starting with `-`.
fn is_connection_alias(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && !s.starts_with('-')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

proptest! {
    #![proptest_config(crypto_config())]

    #[test]
    fn flipping_a_payload_byte_breaks_the_signature(at in any::<Index>(), mask in 1..=u8::MAX) {
        let (mut payload_bytes, signature) = parts(&signed(&payload(5), &test_signer()));
        let i = at.index(payload_bytes.len());
        payload_bytes[i] ^= mask;
        let result = verify(&envelope(&payload_bytes, &signature, TEST_KEY_ID, "ES256"), &keys(), None, now());
        prop_assert!(matches!(result, Err(Rejection::BadSignature { .. })), "{result:?}");
    }

    #[test]
    fn flipping_a_signature_byte_fails(at in any::<Index>(), mask in 1..=u8::MAX) {
        let (payload_bytes, mut signature) = parts(&signed(&payload(5), &test_signer()));
        let i = at.index(signature.len());
        signature[i] ^= mask;
        let result = verify(&envelope(&payload_bytes, &signature, TEST_KEY_ID, "ES256"), &keys(), None, now());
        prop_assert!(
            matches!(result, Err(Rejection::BadSignature { .. } | Rejection::MalformedSignature)),
            "{result:?}"
        );
    }

    #[test]
    fn flipping_any_document_byte_fails(at in any::<Index>(), mask in 1..=u8::MAX) {
        let mut document = signed(&payload(5), &test_signer());
        let i = at.index(document.len());
        document[i] ^= mask;
        prop_assert!(verify(&document, &keys(), None, now()).is_err());
    }

    #[test]
    fn payloads_round_trip_and_verify(
        sequence in 0..=MAX_SEQUENCE,
        state in prop_oneof![Just(State::Normal), Just(State::Failover), Just(State::Drill)],
        active in prop_oneof![Just(SiteRole::Primary), Just(SiteRole::Dr)],
        source in prop_oneof![Just(CauseSource::Admin), Just(CauseSource::AwsHealth)],
        title in "[^\\p{Cc}]{1,120}",
        body in "([^\\p{Cc}]|\n){0,300}",
        primary in target(),
        dr in target(),
        valid_secs in 0_i64..10_000_000,
    ) {
        let mut p = payload(sequence);
        p.state = state;
        p.active = active;
        p.cause = Cause { source, event_arn: None };
        p.message = Message::new(&title, &body).unwrap();
        p.primary.registration_code = primary;
        p.dr.registration_code = dr;
        p.issued_at = ts("2026-03-01T10:00:00Z");
        p.expires_at = p.issued_at.checked_add(jiff::SignedDuration::from_secs(valid_secs)).unwrap();
        let bytes = p.to_json_bytes().unwrap();
        prop_assert_eq!(&StatusPayload::from_unsigned_json(&bytes).unwrap(), &p);
        let document = signed(&p, &test_signer());
        match verify(&document, &keys(), None, p.issued_at) {
            Ok(verified) => prop_assert_eq!(verified.payload(), &p),
            // Valid for zero seconds: expired at its own issue time.
            Err(Rejection::Expired { .. }) => prop_assert_eq!(valid_secs, 0),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

proptest! {
    #[test]
    fn launch_uris_are_clean_and_decode_to_their_parts(user in proptest::option::of(launch_user()), target in target()) {
        let uri = LaunchUri::new(user.clone(), target.clone());
        let text = uri.as_str();
        // Only scheme characters, unreserved, '%' escapes, one '@', and the code's '+'.
        prop_assert!(
            text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%@+:/".contains(&b)),
            "{}", text
        );
        prop_assert!(!text["workspaces://".len()..].contains(['/', ':']), "{}", text);
        let (decoded_user, decoded_target) = decode(text);
        prop_assert_eq!(decoded_user.as_deref(), user.as_ref().map(LaunchUser::as_str));
        prop_assert_eq!(decoded_target.as_str(), target.as_str());
        prop_assert_eq!(uri.user(), user.as_ref());
        prop_assert_eq!(uri.target(), &target);
        prop_assert_eq!(uri.to_string(), text);
    }

    #[test]
    fn accepted_users_obey_the_rules(s in any_text()) {
        match LaunchUser::parse(&s) {
            Ok(user) => {
                prop_assert!(!breaks_user_rules(&s), "{:?} accepted", s);
                prop_assert_eq!(user.as_str(), s.as_str());
                // serde goes through the same validation.
                let json = serde_json::to_string(&user).unwrap();
                prop_assert_eq!(serde_json::from_str::<LaunchUser>(&json).unwrap(), user);
            }
            Err(_) => {
                if let Ok(json) = serde_json::to_string(&s) {
                    prop_assert!(serde_json::from_str::<LaunchUser>(&json).is_err());
                }
            }
        }
        if breaks_user_rules(&s) {
            prop_assert!(LaunchUser::parse(&s).is_err(), "{:?} accepted", s);
        }
    }

    #[test]
    fn users_with_a_bad_character_are_refused(
        user in launch_user(),
        at in any::<Index>(),
        bad in prop_oneof![
            Just(' '), Just('\t'), Just('\n'), Just('\r'), Just('\0'), Just('\u{7f}'),
            Just('\u{85}'), Just('\u{a0}'), Just('\u{2028}'), Just('\u{3000}'), Just('%'),
            Just('\u{200b}'), Just('\u{202e}'), Just('\u{feff}'),
        ],
    ) {
        let mut chars: Vec<char> = user.as_str().chars().collect();
        chars.insert(at.index(chars.len() + 1), bad);
        let s: String = chars.into_iter().collect();
        prop_assert!(LaunchUser::parse(&s).is_err(), "{:?} accepted", s);
        let leading = format!("-{}", user.as_str());
        prop_assert!(LaunchUser::parse(&leading).is_err());
        let long = format!("{}{}", user.as_str(), "x".repeat(LAUNCH_USER_MAX_LEN + 1 - user.as_str().chars().count()));
        prop_assert!(LaunchUser::parse(&long).is_err());
    }

    #[test]
    fn accepted_codes_and_aliases_obey_the_rules(s in prop_oneof![any_text(), registration_code(), connection_alias()]) {
        prop_assert_eq!(RegistrationCode::parse(&s).is_ok(), is_registration_code(&s), "{:?}", s);
        prop_assert_eq!(ConnectionAlias::parse(&s).is_ok(), is_connection_alias(&s), "{:?}", s);
        if let Ok(t) = RegistrationTarget::parse(&s) {
            prop_assert_eq!(t.as_str(), s.as_str());
            prop_assert!(is_registration_code(&s) || is_connection_alias(&s));
            let json = serde_json::to_string(&t).unwrap();
            prop_assert_eq!(serde_json::from_str::<RegistrationTarget>(&json).unwrap(), t);
        }
        prop_assert!(s.chars().count() <= REGISTRATION_CODE_MAX_LEN || RegistrationCode::parse(&s).is_err());
        prop_assert!(s.chars().count() <= CONNECTION_ALIAS_MAX_LEN || ConnectionAlias::parse(&s).is_err());
    }
}
