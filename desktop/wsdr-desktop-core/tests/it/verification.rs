//! The verification matrix, through the core: every bad document is refused with its reason, and
//! refusing changes nothing the tray trusts (state, codes, memory, what a click would open).

use wsdr_desktop_core::{CheckOutcome, FetchOutcome, TrayCore, TrayStatus, Update};
use wsdr_protocol::{MAX_DOCUMENT_BYTES, Rejection, State};

use crate::support::*;

/// A core that has accepted a failover document (sequence 10) at minute 5.
fn trusting_core() -> TrayCore {
    let mut core = fresh_core(at(0));
    let update = core.on_fetch(fetched(document(10, State::Failover, 0)), at(5));
    assert_eq!(update.outcome, CheckOutcome::Accepted { sequence: 10 });
    core
}

fn fetched(body: Vec<u8>) -> FetchOutcome {
    FetchOutcome::Document { body, etag: None }
}

/// Feeds `body` to a trusting core and returns the update, checking that nothing trusted moved.
fn refuse(body: Vec<u8>) -> Update {
    let mut core = trusting_core();
    let before = (core.status(at(6)), core.memory().clone(), core.connect_uri_dr());
    let update = core.on_fetch(fetched(body), at(6));
    assert!(matches!(update.outcome, CheckOutcome::Rejected(_)), "{:?}", update.outcome);
    assert!(!update.memory_changed);
    assert_eq!(update.notification, None);
    assert_eq!((core.status(at(6)), core.memory().clone(), core.connect_uri_dr()), before);
    assert_eq!(core.view(at(6)).last_check.unwrap().outcome, "rejected");
    update
}

trait ConnectDr {
    fn connect_uri_dr(&self) -> String;
}

impl ConnectDr for TrayCore {
    fn connect_uri_dr(&self) -> String {
        self.connect(wsdr_desktop_core::ConnectTarget::Dr).unwrap().into_string()
    }
}

fn rejection(update: Update) -> Rejection {
    match update.outcome {
        CheckOutcome::Rejected(rejection) => rejection,
        other => panic!("{other:?}"),
    }
}

#[test]
fn valid_document_is_accepted_and_gives_the_dr_code() {
    let core = trusting_core();
    assert_eq!(core.status(at(6)), TrayStatus::Failover);
    assert_eq!(core.connect_uri_dr(), format!("workspaces://jdoe@{DR_CODE}"));
    let view = core.view(at(6));
    assert_eq!(view.dr_registration_code.as_deref(), Some(DR_CODE));
    assert_eq!(core.memory().highest_seen.unwrap().sequence, 10);
}

#[test]
fn bad_signature() {
    let good = payload(11, State::Normal, 1);
    let forged = sign(&good, &other_signer()).into_iter().collect::<Vec<_>>();
    // Signed by the other key but claiming the trusted key id.
    let forged = String::from_utf8(forged).unwrap().replace("wsdr-other", TEST_KEY_ID);
    assert!(matches!(rejection(refuse(forged.into_bytes())), Rejection::BadSignature { .. }));
}

#[test]
fn unknown_key() {
    let document = sign(&payload(11, State::Normal, 1), &other_signer());
    assert!(matches!(rejection(refuse(document)), Rejection::UnknownKey { .. }));
}

#[test]
fn lower_sequence_is_a_replay() {
    let update = refuse(document(9, State::Normal, 1));
    assert_eq!(rejection(update), Rejection::Replay { sequence: 9, highest_seen: 10 });
}

#[test]
fn reused_sequence_with_other_content() {
    let update = refuse(document(10, State::Normal, 1));
    assert_eq!(rejection(update), Rejection::SequenceReused { sequence: 10 });
}

#[test]
fn expired() {
    let mut stale = payload(11, State::Normal, -2000);
    stale.expires_at = at(-1);
    assert!(matches!(rejection(refuse(sign(&stale, &test_signer()))), Rejection::Expired { .. }));
}

#[test]
fn truncated() {
    let document = document(11, State::Normal, 1);
    for cut in [0, 1, document.len() / 2, document.len() - 1] {
        let update = refuse(document[..cut].to_vec());
        assert!(matches!(rejection(update), Rejection::MalformedEnvelope { .. }), "cut at {cut}");
    }
}

#[test]
fn oversized() {
    let mut document = document(11, State::Normal, 1);
    document.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    assert!(matches!(rejection(refuse(document)), Rejection::TooLarge { .. }));
}

#[test]
fn signed_but_invalid_registration_code() {
    let mut json: serde_json::Value =
        serde_json::from_slice(&payload(11, State::Failover, 1).to_json_bytes().unwrap()).unwrap();
    for evil in ["WSpdx+ABC12D --gpu-launcher=calc", "-WSpdx+X", "a+b+c", "evil.example/x"] {
        json["dr"]["registration_code"] = evil.into();
        let update = refuse(signed_raw(&serde_json::to_vec(&json).unwrap()));
        assert!(matches!(rejection(update), Rejection::Payload(_)), "{evil}");
    }
}

#[test]
fn garbage_and_wrong_algorithm() {
    refuse(b"<html>captive portal</html>".to_vec());
    let document = String::from_utf8(document(11, State::Normal, 1)).unwrap();
    let update = refuse(document.replace("ES256", "none").into_bytes());
    assert!(matches!(rejection(update), Rejection::UnsupportedAlgorithm { .. }));
}

#[test]
fn the_same_document_again_is_unchanged_not_news() {
    let mut core = trusting_core();
    let update = core.on_fetch(fetched(document(10, State::Failover, 0)), at(7));
    assert_eq!(update.outcome, CheckOutcome::Unchanged);
    assert_eq!(update.notification, None);
    assert_eq!(core.memory().last_success_at, Some(at(7)));
}
