//! The states over time and what users are told: one notification per transition, persistence
//! across restarts, stale after expiry, misconfigured without a crash.

use std::path::Path;

use proptest::prelude::*;
use wsdr_desktop_core::config::RawConfig;
use wsdr_desktop_core::notification::NotificationAction;
use wsdr_desktop_core::{
    CheckOutcome, ConnectRefusal, ConnectTarget, FetchOutcome, Memory, Store, TrayCore, TrayStatus,
};
use wsdr_protocol::State;

use crate::support::*;

fn fetched(body: Vec<u8>) -> FetchOutcome {
    FetchOutcome::Document { body, etag: Some("\"e\"".to_owned()) }
}

#[test]
fn normal_failover_recovered_ready() {
    let mut core = fresh_core(at(0));
    assert_eq!(core.status(at(0)), TrayStatus::Stale, "nothing verified yet");
    assert_eq!(core.connect(ConnectTarget::Dr), Err(ConnectRefusal::CodesUnknown));

    let update = core.on_fetch(fetched(document(1, State::Normal, 0)), at(1));
    assert_eq!(update.notification, None, "the first normal document is not news");
    assert_eq!(core.status(at(1)), TrayStatus::Ready);
    let uri = core.connect(ConnectTarget::Active).unwrap();
    assert_eq!(uri.as_str(), format!("workspaces://jdoe@{PRIMARY_CODE}"));

    let update = core.on_fetch(fetched(document(2, State::Failover, 10)), at(11));
    let notification = update.notification.unwrap();
    assert_eq!(notification.title, "WorkSpaces failover");
    assert!(notification.urgent);
    assert_eq!(notification.action, Some(NotificationAction::ConnectDr));
    assert_eq!(core.status(at(11)), TrayStatus::Failover);
    assert_eq!(
        core.connect(ConnectTarget::Active).unwrap().as_str(),
        format!("workspaces://jdoe@{DR_CODE}")
    );

    // Polls that bring the same news, a re-published document, failures: no notification.
    for (minute, outcome) in [
        (12, fetched(document(2, State::Failover, 10))),
        (13, FetchOutcome::NotModified),
        (14, FetchOutcome::Failed("timeout".into())),
        (15, fetched(document(3, State::Failover, 15))),
    ] {
        assert_eq!(core.on_fetch(outcome, at(minute)).notification, None, "minute {minute}");
    }
    assert_eq!(core.memory().history.len(), 2, "the re-published document is not history");

    let update = core.on_fetch(fetched(document(4, State::Normal, 60)), at(61));
    assert_eq!(core.status(at(61)), TrayStatus::Recovered);
    assert!(update.notification.is_some_and(|n| !n.urgent && n.action.is_none()));
    assert_eq!(
        core.connect(ConnectTarget::Active).unwrap().as_str(),
        format!("workspaces://jdoe@{PRIMARY_CODE}")
    );

    // A day later the notice is over; the refreshed document is no news.
    let update = core.on_fetch(fetched(document(5, State::Normal, 60 * 25)), at(60 * 25));
    assert_eq!(update.notification, None);
    assert_eq!(core.status(at(60 * 25)), TrayStatus::Ready);

    let history: Vec<_> = core.memory().history.iter().map(|e| (e.sequence, e.state)).collect();
    assert_eq!(history, [(4, State::Normal), (2, State::Failover), (1, State::Normal)]);
}

#[test]
fn drill_and_its_end() {
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Normal, 0)), at(1));
    let update = core.on_fetch(fetched(document(2, State::Drill, 5)), at(6));
    assert_eq!(core.status(at(6)), TrayStatus::Drill);
    assert!(update.notification.is_some_and(|n| n.action.is_none()));
    let update = core.on_fetch(fetched(document(3, State::Normal, 30)), at(31));
    assert_eq!(core.status(at(31)), TrayStatus::Ready, "a drill's end is not a recovery");
    assert!(update.notification.is_some(), "users hear that the drill is over");
}

#[test]
fn expiry_makes_it_stale_but_the_codes_stay_known() {
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Failover, 0)), at(1));
    let after_expiry = at(60 * 24);
    assert_eq!(core.status(after_expiry), TrayStatus::Stale);
    assert_eq!(
        core.connect(ConnectTarget::Dr).unwrap().as_str(),
        format!("workspaces://jdoe@{DR_CODE}")
    );
    assert_eq!(core.view(after_expiry).dr_registration_code.as_deref(), Some(DR_CODE));
    // A new failover document after a stale spell is not news either.
    let update = core.on_fetch(fetched(document(2, State::Failover, 60 * 24)), after_expiry);
    assert_eq!(update.notification, None);
    assert_eq!(core.status(after_expiry), TrayStatus::Failover);
}

#[test]
fn misconfigured_is_a_state_with_reasons() {
    let error = RawConfig::parse(Path::new("t.toml"), "status_url = \"ftp://x\"")
        .unwrap()
        .validate(Some("jdoe"))
        .unwrap_err();
    let mut core = TrayCore::new(Err(error), Memory::default(), at(0));
    assert_eq!(core.status(at(0)), TrayStatus::Misconfigured);
    let update = core.on_fetch(fetched(document(1, State::Failover, 0)), at(1));
    assert_eq!(update.outcome, CheckOutcome::NotConfigured);
    assert_eq!(core.status(at(1)), TrayStatus::Misconfigured);
    assert!(matches!(core.connect(ConnectTarget::Dr), Err(ConnectRefusal::Misconfigured(_))));
    let view = core.view(at(1));
    assert_eq!(view.problems.len(), 2, "{:?}", view.problems);
    assert_eq!(view.dr_registration_code, None);
}

#[test]
fn memory_survives_a_restart_and_refuses_replays() {
    let store = Store::new(Some(scratch_dir("restart")));
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Normal, 0)), at(1));
    core.on_fetch(fetched(document(2, State::Failover, 5)), at(6));
    store.save(core.memory()).unwrap();

    let mut restarted =
        TrayCore::new(Ok(config("https://s.example/x")), store.load().unwrap(), at(7));
    assert_eq!(restarted.status(at(7)), TrayStatus::Failover);
    assert_eq!(restarted.etag(), Some("\"e\""));
    assert_eq!(restarted.view(at(7)).dr_registration_code.as_deref(), Some(DR_CODE));
    let update = restarted.on_fetch(FetchOutcome::NotModified, at(8));
    assert_eq!(update.notification, None, "a restart does not notify again");
    let update = restarted.on_fetch(fetched(document(1, State::Normal, 0)), at(9));
    assert!(matches!(update.outcome, CheckOutcome::Rejected(_)), "replay of sequence 1");
    assert_eq!(restarted.status(at(9)), TrayStatus::Failover);
}

#[test]
fn a_stored_document_from_a_key_no_longer_trusted_is_dropped() {
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Failover, 0)), at(1));
    let other_pem = wsdr_protocol::PublicKey::to_spki_pem(&other_signer().public_key()).unwrap();
    let rotated = RawConfig::parse(
        Path::new("t.toml"),
        &format!(
            "status_url = \"https://s.example/x\"\nusername = \"jdoe\"\n[public_keys]\n\"{OTHER_KEY_ID}\" = \"\"\"\n{other_pem}\"\"\"\n"
        ),
    )
    .unwrap()
    .validate(None)
    .unwrap();
    let restarted = TrayCore::new(Ok(rotated), core.memory().clone(), at(2));
    assert_eq!(restarted.status(at(2)), TrayStatus::Stale);
    assert_eq!(restarted.connect(ConnectTarget::Dr), Err(ConnectRefusal::CodesUnknown));
    assert_eq!(restarted.etag(), None, "no If-None-Match for a document not held");
}

#[test]
fn a_tampered_state_file_is_not_trusted() {
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Failover, 0)), at(1));
    let mut memory = core.memory().clone();
    let accepted = memory.accepted.as_mut().unwrap();
    accepted.envelope = accepted.envelope.replace("\"signature\":\"M", "\"signature\":\"N");
    let restarted = TrayCore::new(Ok(config("https://s.example/x")), memory, at(2));
    assert_eq!(restarted.status(at(2)), TrayStatus::Stale);
}

/// One step of a random run.
#[derive(Debug, Clone)]
enum Step {
    /// A new document (next sequence) in this state.
    Publish(State),
    /// The same document again.
    Refetch,
    /// 304.
    NotModified,
    /// The network failed.
    Fail,
    /// An older document replayed.
    Replay,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::sample::select(vec![State::Normal, State::Failover, State::Drill])
            .prop_map(Step::Publish),
        Just(Step::Refetch),
        Just(Step::NotModified),
        Just(Step::Fail),
        Just(Step::Replay),
    ]
}

proptest! {
    // Every step signs and verifies ECDSA in a debug build: fewer, longer runs.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Over any run of polls, a notification comes exactly when what users are told changes in
    /// a way worth telling, never twice for the same news; refused documents change nothing.
    #[test]
    fn notifications_once_per_transition(steps in prop::collection::vec(step(), 1..40)) {
        let mut core = fresh_core(at(0));
        let mut sequence = 0_u64;
        let mut last_body = None::<Vec<u8>>;
        let mut told: Option<(TrayStatus, String)> = None;
        for (index, step) in steps.iter().enumerate() {
            let minute = i64::try_from(index).unwrap() + 1;
            let outcome = match step {
                Step::Publish(state) => {
                    sequence += 1;
                    let body = document(sequence, *state, minute);
                    last_body = Some(body.clone());
                    fetched(body)
                }
                Step::Refetch => last_body.clone().map_or(FetchOutcome::NotModified, fetched),
                Step::NotModified => FetchOutcome::NotModified,
                Step::Fail => FetchOutcome::Failed("down".into()),
                Step::Replay if sequence > 1 => fetched(document(sequence - 1, State::Failover, 0)),
                Step::Replay => FetchOutcome::Failed("nothing to replay".into()),
            };
            let before = core.status(at(minute));
            let update = core.on_fetch(outcome, at(minute));
            let after = core.status(at(minute));
            let title = core.view(at(minute)).message.map(|m| m.title).unwrap_or_default();
            let news = Some((after, title.clone())) != told
                && after != TrayStatus::Stale
                && (after != TrayStatus::Ready
                    || matches!(told, Some((TrayStatus::Ready | TrayStatus::Drill, _))));
            prop_assert_eq!(update.notification.is_some(), news, "step {} {:?}: {:?} -> {:?}", index, step, before, after);
            if matches!(update.outcome, CheckOutcome::Rejected(_)) {
                prop_assert_eq!(before, after);
            }
            if after != TrayStatus::Stale {
                told = Some((after, title));
            }
        }
    }
}

#[test]
fn the_status_json_contract() {
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Normal, 0)), at(1));
    core.on_fetch(fetched(document(2, State::Failover, 5)), at(6));
    let json = serde_json::to_string_pretty(&core.view(at(6))).unwrap();
    expect_test::expect_file!["../fixtures/status-failover.json"].assert_eq(&json);
}

#[test]
fn recovered_lasts_a_day_from_the_all_clear() {
    let mut core = fresh_core(at(0));
    core.on_fetch(fetched(document(1, State::Failover, 0)), at(1));
    let mut all_clear = payload(2, State::Normal, 60);
    all_clear.expires_at = at(60 * 48);
    core.on_fetch(fetched(sign(&all_clear, &test_signer())), at(61));
    assert_eq!(core.status(at(60 + 24 * 60 - 1)), TrayStatus::Recovered);
    assert_eq!(core.status(at(60 + 24 * 60)), TrayStatus::Ready);
}

#[test]
fn a_corrupt_state_file_is_reported() {
    let dir = scratch_dir("corrupt");
    std::fs::write(dir.join("state.json"), b"{not json").unwrap();
    let error = Store::new(Some(dir.clone())).load().unwrap_err();
    assert!(error.to_string().contains("state.json"), "{error}");
    // Saving replaces it atomically and leaves no temporary file behind.
    Store::new(Some(dir.clone())).save(&Memory::default()).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["state.json"]);
    assert_eq!(Store::new(Some(dir)).load().unwrap(), Memory::default());
    assert!(Store::new(None).load().is_err());
}
