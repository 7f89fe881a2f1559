use expect_test::expect;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::notice::sns_subject;
use super::*;
use crate::health::{SEEN_EVENTS_CAP, classify_value};

const ARN_A: &str = "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/A";
const ARN_B: &str = "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/B";

fn region(s: &str) -> Region {
    Region::parse(s).unwrap()
}

fn policy(auto: bool) -> FailoverPolicy {
    FailoverPolicy::new(auto, region("us-east-1"), region("eu-west-1")).unwrap()
}

fn ts(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_741_701_600 + minutes * 60).unwrap()
}

/// An event as EventBridge delivers it, with the fields that vary in tests.
#[derive(Clone, Debug)]
struct Ev {
    arn: &'static str,
    status: &'static str,
    category: &'static str,
    service: &'static str,
    event_region: &'static str,
    delivered: &'static str,
    comm: String,
    updated_minute: u32,
    abuse: bool,
}

impl Ev {
    fn open(arn: &'static str, comm: &str, minute: u32) -> Ev {
        Ev {
            arn,
            status: "open",
            category: "issue",
            service: "WORKSPACES",
            event_region: "us-east-1",
            delivered: "us-east-1",
            comm: comm.to_owned(),
            updated_minute: minute,
            abuse: false,
        }
    }

    fn closed(arn: &'static str, comm: &str, minute: u32) -> Ev {
        Ev { status: "closed", ..Ev::open(arn, comm, minute) }
    }

    fn json(&self) -> Value {
        json!({
            "version": "0",
            "id": format!("id-{}-{}", self.comm, self.delivered),
            "detail-type": if self.abuse { "AWS Health Abuse Event" } else { "AWS Health Event" },
            "source": "aws.health",
            "account": "123456789012",
            "time": "2025-03-11T14:05:31Z",
            "region": self.delivered,
            "resources": [],
            "detail": {
                "eventArn": self.arn,
                "service": self.service,
                "eventTypeCode": "AWS_WORKSPACES_OPERATIONAL_ISSUE",
                "eventTypeCategory": self.category,
                "eventScopeCode": "PUBLIC",
                "communicationId": self.comm,
                "startTime": "Tue, 11 Mar 2025 13:52:00 GMT",
                "lastUpdatedTime": format!("Tue, 11 Mar 2025 14:{:02}:00 GMT", self.updated_minute),
                "statusCode": self.status,
                "eventRegion": self.event_region,
                "eventDescription": [{"language": "en_US", "latestDescription": "We are investigating."}],
            }
        })
    }

    fn classify(&self) -> Classification {
        classify_value(&self.json(), &region("us-east-1")).unwrap()
    }

    fn input(&self) -> Input {
        Input::Health(Box::new(self.classify()))
    }
}

fn cmd(c: AdminCommand) -> Input {
    Input::Command(c)
}

fn msg(title: &str, body: &str) -> Message {
    Message::new(title, body).unwrap()
}

fn failover() -> Input {
    cmd(AdminCommand::DeclareFailover { message: None })
}

fn failback() -> Input {
    cmd(AdminCommand::Failback { message: None })
}

fn start_drill(active: Site) -> Input {
    cmd(AdminCommand::StartDrill { message: msg("DR drill", "This is a drill."), active })
}

fn end_drill() -> Input {
    cmd(AdminCommand::EndDrill { message: None })
}

/// Applies `inputs` from a fresh state, expecting every step to succeed.
fn run(p: &FailoverPolicy, inputs: &[Input]) -> DrState {
    let mut state = DrState::new(0);
    for (i, input) in inputs.iter().enumerate() {
        state = state.step(input, p, ts(i as i64)).unwrap().state;
    }
    state
}

#[track_caller]
fn transition(state: &DrState, input: &Input, p: &FailoverPolicy) -> (DrState, Effects) {
    let step = state.step(input, p, ts(100)).unwrap();
    match step.outcome {
        Outcome::Transition(effects) => (step.state, *effects),
        other => panic!("expected a transition, got {other:?}"),
    }
}

#[track_caller]
fn no_effects(state: &DrState, input: &Input, p: &FailoverPolicy) -> (DrState, Outcome) {
    let step = state.step(input, p, ts(100)).unwrap();
    assert!(step.outcome.effects().is_none(), "unexpected transition: {:?}", step.outcome);
    assert_eq!(step.state.last_sequence(), state.last_sequence());
    assert_eq!(step.state.mode(), state.mode());
    (step.state, step.outcome)
}

#[test]
fn open_issue_recommends_failover() {
    let p = policy(false);
    let (state, fx) = transition(&DrState::new(0), &Ev::open(ARN_A, "a-1", 5).input(), &p);
    assert_eq!(state.mode(), Mode::FailoverRecommended);
    assert_eq!(state.active(), Site::Primary);
    assert_eq!(state.last_sequence(), 1);
    assert_eq!(fx.status.sequence, 1);
    assert_eq!(fx.status.state, PublishedState::Normal);
    assert_eq!(fx.status.active, Site::Primary);
    assert_eq!(
        fx.status.cause,
        Cause { source: CauseSource::AwsHealth, event_arn: Some(EventArn::parse(ARN_A).unwrap()) }
    );
    assert_eq!(fx.notice.body.kind, NoticeKind::FailoverRecommended);
    assert_eq!(fx.notice.body.next_command.as_deref(), Some("wsdr failover"));
    assert_eq!(fx.notice.subject, "[wsdr] WorkSpaces issue in us-east-1: failover recommended");
    assert!(fx.notice.text.contains("\n    wsdr failover\n"), "{}", fx.notice.text);
    expect![[r#"
        {
            "wsdr_active": "primary",
            "wsdr_cause_source": "aws.health",
            "wsdr_event_kind": "failover_recommended",
            "wsdr_previous_state": "normal",
            "wsdr_primary_region": "us-east-1",
            "wsdr_state": "failover_recommended",
        }
    "#]]
    .assert_debug_eq(&fx.notice.attributes);
    assert_eq!(state.last_status(), Some(&fx.status));
}

#[test]
fn auto_failover_moves_users_on_a_confirmed_issue_only() {
    let p = policy(true);
    let (state, fx) = transition(&DrState::new(0), &Ev::open(ARN_A, "a-1", 5).input(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Failover, Site::Dr));
    assert_eq!(fx.status.state, PublishedState::Failover);
    assert_eq!(fx.notice.body.kind, NoticeKind::AutoFailover);
    assert_eq!(fx.notice.body.next_command.as_deref(), Some("wsdr failback"));

    let investigation = Ev { category: "investigation", ..Ev::open(ARN_A, "a-1", 5) };
    let (state, fx) = transition(&DrState::new(0), &investigation.input(), &p);
    assert_eq!(state.mode(), Mode::FailoverRecommended);
    assert_eq!(fx.notice.body.kind, NoticeKind::FailoverRecommended);
}

#[test]
fn duplicates_and_updates_yield_nothing() {
    let p = policy(false);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input()]);
    // The same communication from the backup region.
    let backup = Ev { delivered: "us-west-2", ..Ev::open(ARN_A, "a-1", 5) };
    let (after, outcome) = no_effects(&state, &backup.input(), &p);
    assert!(matches!(outcome, Outcome::Duplicate { .. }));
    assert_eq!(after, state);
    // An update (new communication id) is remembered but changes nothing.
    let (after, outcome) = no_effects(&state, &Ev::open(ARN_A, "a-2", 9).input(), &p);
    assert!(matches!(outcome, Outcome::Unchanged { .. }), "{outcome:?}");
    assert_eq!(after.seen().len(), state.seen().len() + 1);
}

#[test]
fn ignored_events_change_nothing() {
    let p = policy(true);
    let state = DrState::new(7);
    for ev in [
        Ev { event_region: "eu-west-1", delivered: "eu-west-1", ..Ev::open(ARN_A, "a-1", 5) },
        Ev { service: "EC2", ..Ev::open(ARN_A, "a-1", 5) },
        Ev { category: "scheduledChange", ..Ev::open(ARN_A, "a-1", 5) },
        Ev { category: "accountNotification", ..Ev::open(ARN_A, "a-1", 5) },
        Ev { abuse: true, ..Ev::open(ARN_A, "a-1", 5) },
    ] {
        let (after, outcome) = no_effects(&state, &ev.input(), &p);
        assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:?}");
        assert_eq!(after, state);
    }
    // Classified against another primary region.
    let other = FailoverPolicy::new(true, region("us-west-2"), region("eu-west-1")).unwrap();
    let (after, outcome) = no_effects(&state, &Ev::open(ARN_A, "a-1", 5).input(), &other);
    assert!(matches!(outcome, Outcome::Ignored { ref reason } if reason.contains("us-west-2")));
    assert_eq!(after, state);
}

#[test]
fn closed_before_failover_withdraws_the_recommendation() {
    let p = policy(false);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input()]);
    let (state, fx) = transition(&state, &Ev::closed(ARN_A, "a-3", 30).input(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Normal, Site::Primary));
    assert_eq!(fx.notice.body.kind, NoticeKind::RecommendationWithdrawn);
    assert_eq!(fx.status.state, PublishedState::Normal);
    assert_eq!(state.cause(), None);
    assert_eq!(state.event(), None);
}

#[test]
fn admin_failover_after_recommendation_names_the_event() {
    let p = policy(false);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input()]);
    let (state, fx) = transition(&state, &failover(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Failover, Site::Dr));
    assert_eq!(
        fx.status.cause,
        Cause { source: CauseSource::Admin, event_arn: Some(EventArn::parse(ARN_A).unwrap()) }
    );
    assert_eq!(fx.status.sequence, 2);
    assert_eq!(fx.notice.body.kind, NoticeKind::FailoverDeclared);
    assert_eq!(fx.status.message.title(), "Switch to your disaster-recovery WorkSpace");
}

#[test]
fn admin_failover_from_normal_with_own_message() {
    let p = policy(false);
    let own = msg("Use DR now", "Our network to us-east-1 is down.");
    let (state, fx) = transition(
        &DrState::new(0),
        &cmd(AdminCommand::DeclareFailover { message: Some(own.clone()) }),
        &p,
    );
    assert_eq!(state.mode(), Mode::Failover);
    assert_eq!(fx.status.message, own);
    assert_eq!(fx.status.cause, Cause { source: CauseSource::Admin, event_arn: None });
}

#[test]
fn closed_during_failover_means_recovered_and_users_stay_on_dr() {
    let p = policy(false);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input(), failover()]);
    let (state, fx) = transition(&state, &Ev::closed(ARN_A, "a-3", 30).input(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Recovered, Site::Dr));
    assert_eq!(fx.status.state, PublishedState::Failover);
    assert_eq!(fx.status.active, Site::Dr);
    assert_eq!(fx.notice.body.kind, NoticeKind::Recovered);
    assert_eq!(fx.notice.body.next_command.as_deref(), Some("wsdr failback"));
    assert_eq!(
        fx.notice.subject,
        "[wsdr] WorkSpaces issue in us-east-1 closed: run wsdr failback when ready"
    );
    // The state keeps the admin's cause; the status names the health event that closed.
    assert_eq!(state.cause().map(|c| c.source), Some(CauseSource::Admin));
    assert_eq!(fx.status.cause.source, CauseSource::AwsHealth);

    let (state, fx) = transition(&state, &failback(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Normal, Site::Primary));
    assert_eq!(fx.notice.body.kind, NoticeKind::FailbackDeclared);
    assert_eq!(fx.status.state, PublishedState::Normal);
    assert_eq!(fx.status.sequence, 4);
}

#[test]
fn recovery_waits_for_every_open_event() {
    let p = policy(true);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input(), Ev::open(ARN_B, "b-1", 6).input()]);
    assert_eq!(state.mode(), Mode::Failover);
    assert_eq!(state.open_events(), 2);
    let (state, outcome) = no_effects(&state, &Ev::closed(ARN_A, "a-3", 30).input(), &p);
    assert!(matches!(outcome, Outcome::Unchanged { ref reason } if reason.contains("1 other")));
    let (state, _) = transition(&state, &Ev::closed(ARN_B, "b-3", 31).input(), &p);
    assert_eq!(state.mode(), Mode::Recovered);
}

#[test]
fn new_issue_during_recovery_returns_to_failover() {
    let p = policy(false);
    let state = run(
        &p,
        &[Ev::open(ARN_A, "a-1", 5).input(), failover(), Ev::closed(ARN_A, "a-3", 30).input()],
    );
    assert_eq!(state.mode(), Mode::Recovered);
    let (state, fx) = transition(&state, &Ev::open(ARN_B, "b-1", 40).input(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Failover, Site::Dr));
    assert_eq!(fx.notice.body.kind, NoticeKind::IssueDuringRecovery);
    assert_eq!(fx.status.active, Site::Dr);
}

#[test]
fn closed_event_never_seen_open_does_not_recover() {
    let p = policy(false);
    let state = run(&p, &[failover()]);
    let (state, outcome) = no_effects(&state, &Ev::closed(ARN_A, "a-3", 30).input(), &p);
    assert!(matches!(outcome, Outcome::Unchanged { ref reason } if reason.contains("never seen")));
    assert_eq!(state.mode(), Mode::Failover);
}

#[test]
fn stale_and_repeated_updates_do_not_reopen() {
    let p = policy(false);
    let state = run(
        &p,
        &[
            Ev::open(ARN_A, "a-1", 5).input(),
            failover(),
            Ev::closed(ARN_A, "a-3", 30).input(),
            failback(),
        ],
    );
    assert_eq!(state.mode(), Mode::Normal);
    // A late copy of an older open update (delayed backup delivery).
    let (state, outcome) = no_effects(&state, &Ev::open(ARN_A, "a-2", 9).input(), &p);
    assert!(matches!(outcome, Outcome::Unchanged { ref reason } if reason.starts_with("stale")));
    // Another closed update of the closed event.
    let (_, outcome) = no_effects(&state, &Ev::closed(ARN_A, "a-4", 35).input(), &p);
    assert!(
        matches!(outcome, Outcome::Unchanged { ref reason } if reason.contains("already closed"))
    );
}

#[test]
fn failback_while_an_event_is_still_open_is_allowed_and_noted() {
    let p = policy(true);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input()]);
    let (state, fx) = transition(&state, &failback(), &p);
    assert_eq!(state.mode(), Mode::Normal);
    assert!(
        fx.notice.text.contains("still reports 1 open WorkSpaces event(s)"),
        "{}",
        fx.notice.text
    );
    // Later updates of that event do not recommend again: the admin already decided.
    let (_, outcome) = no_effects(&state, &Ev::open(ARN_A, "a-2", 9).input(), &p);
    assert!(matches!(outcome, Outcome::Unchanged { .. }));
}

#[test]
fn drills_never_move_users_by_default() {
    let p = policy(false);
    let (state, fx) = transition(&DrState::new(0), &start_drill(Site::Primary), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Drill, Site::Primary));
    assert_eq!(fx.status.state, PublishedState::Drill);
    assert_eq!(fx.status.active, Site::Primary);
    assert_eq!(fx.status.message.title(), "DR drill");
    assert_eq!(fx.notice.body.next_command.as_deref(), Some("wsdr alert --end-drill"));
    let (state, fx) = transition(&state, &end_drill(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Normal, Site::Primary));
    assert_eq!(fx.notice.body.kind, NoticeKind::DrillEnded);

    let (state, fx) = transition(&DrState::new(0), &start_drill(Site::Dr), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Drill, Site::Dr));
    assert_eq!(fx.status.state, PublishedState::Drill);
    assert_eq!(fx.notice.subject, "[wsdr] DR drill started: drill targets DR region eu-west-1");
}

#[test]
fn a_real_event_ends_a_drill() {
    let p = policy(false);
    let state = run(&p, &[start_drill(Site::Dr)]);
    let (state, fx) = transition(&state, &Ev::open(ARN_A, "a-1", 5).input(), &p);
    // Users the drill put on DR stay there: the primary is the region that is failing.
    assert_eq!((state.mode(), state.active()), (Mode::FailoverRecommended, Site::Dr));
    assert_eq!(fx.status.active, Site::Dr);
    assert!(fx.notice.subject.ends_with("(drill ended)"), "{}", fx.notice.subject);
    assert!(fx.notice.text.contains("The running DR drill was ended"));
    assert!(fx.status.message.body().starts_with("The DR drill has ended."));
    assert!(fx.status.message.body().contains("Keep using your disaster-recovery WorkSpace"));
    assert!(state.dr_in_use(), "users are on DR: reconcile must not terminate");
    // The admin's failover keeps them there; the issue closing without one sends them home, and says so.
    let (failed_over, _) = transition(&state, &failover(), &p);
    assert_eq!((failed_over.mode(), failed_over.active()), (Mode::Failover, Site::Dr));
    let (withdrawn, fx) = transition(&state, &Ev::closed(ARN_A, "a-2", 9).input(), &p);
    assert_eq!((withdrawn.mode(), withdrawn.active()), (Mode::Normal, Site::Primary));
    assert_eq!(fx.status.message.title(), "Return to your usual WorkSpace");
    assert!(!withdrawn.dr_in_use());

    let state = run(&p, &[start_drill(Site::Dr)]);
    let (state, _) = transition(&state, &Ev::open(ARN_A, "a-1", 5).input(), &policy(true));
    assert_eq!((state.mode(), state.active()), (Mode::Failover, Site::Dr));

    let state = run(&p, &[start_drill(Site::Primary)]);
    let (state, _) = transition(&state, &Ev::open(ARN_A, "a-1", 5).input(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::FailoverRecommended, Site::Primary));

    let state = run(&p, &[start_drill(Site::Primary)]);
    let (state, _) = transition(&state, &failover(), &p);
    assert_eq!((state.mode(), state.active()), (Mode::Failover, Site::Dr));
}

#[test]
fn alerts_publish_in_every_mode_without_changing_it() {
    let p = policy(false);
    let alert = cmd(AdminCommand::Alert(msg("Printer down", "Use the second floor.")));
    for prefix in [
        vec![],
        vec![Ev::open(ARN_A, "a-1", 5).input()],
        vec![failover()],
        vec![Ev::open(ARN_A, "a-1", 5).input(), failover(), Ev::closed(ARN_A, "a-3", 30).input()],
        vec![start_drill(Site::Primary)],
    ] {
        let state = run(&p, &prefix);
        let (after, fx) = transition(&state, &alert, &p);
        assert_eq!((after.mode(), after.active()), (state.mode(), state.active()));
        assert_eq!(after.cause(), state.cause());
        assert_eq!(fx.status.sequence, state.last_sequence() + 1);
        assert_eq!(fx.status.state, state.mode().published_state());
        assert_eq!(fx.status.cause, Cause { source: CauseSource::Admin, event_arn: None });
        assert_eq!(fx.notice.subject, "[wsdr] Alert sent to users: Printer down");
    }
}

#[test]
fn contradictory_commands_are_refused() {
    let p = policy(false);
    let normal = DrState::new(0);
    let recommended = run(&p, &[Ev::open(ARN_A, "a-1", 5).input()]);
    let failed_over = run(&p, &[failover()]);
    let recovered = run(
        &p,
        &[Ev::open(ARN_A, "a-1", 5).input(), failover(), Ev::closed(ARN_A, "a-3", 30).input()],
    );
    let drill = run(&p, &[start_drill(Site::Primary)]);
    let cases = [
        (&normal, failback(), Refusal::NotFailedOver(Mode::Normal)),
        (&recommended, failback(), Refusal::NotFailedOver(Mode::FailoverRecommended)),
        (&drill, failback(), Refusal::DrillRunning),
        (&failed_over, failover(), Refusal::AlreadyFailedOver),
        (&recovered, failover(), Refusal::StillOnDr),
        (
            &recommended,
            start_drill(Site::Primary),
            Refusal::DrillNeedsNormal(Mode::FailoverRecommended),
        ),
        (&failed_over, start_drill(Site::Primary), Refusal::DrillNeedsNormal(Mode::Failover)),
        (&drill, start_drill(Site::Primary), Refusal::DrillNeedsNormal(Mode::Drill)),
        (&normal, end_drill(), Refusal::NoDrill(Mode::Normal)),
        (&recovered, end_drill(), Refusal::NoDrill(Mode::Recovered)),
    ];
    for (state, input, expected) in cases {
        assert_eq!(state.step(&input, &p, ts(200)), Err(expected));
    }
    expect![[r#"
        refused: nothing to fail back (mode normal); users are on the primary region
        refused: failover is already declared (mode failover); users are on DR. When the primary is healthy, run `wsdr failback`
        refused: users are still on DR (mode recovered: the AWS Health issue closed). To return them, run `wsdr failback`; to keep them on DR, do nothing
        refused: a drill is running, users were never moved; end it with `wsdr alert --end-drill`
    "#]]
    .assert_eq(&format!(
        "{}\n{}\n{}\n{}\n",
        Refusal::NotFailedOver(Mode::Normal),
        Refusal::AlreadyFailedOver,
        Refusal::StillOnDr,
        Refusal::DrillRunning
    ));
}

#[test]
fn sequence_continues_from_the_published_one_and_never_wraps() {
    let p = policy(false);
    let (_, fx) = transition(&DrState::new(41), &failover(), &p);
    assert_eq!(fx.status.sequence, 42);
    assert_eq!(
        DrState::new(u64::MAX).step(&failover(), &p, ts(0)),
        Err(Refusal::SequenceExhausted)
    );
}

#[test]
fn renew_reissues_the_current_status_with_the_next_sequence() {
    let p = policy(false);
    let fresh = DrState::new(9);
    let (first, status) = fresh.renew(ts(1)).unwrap();
    assert_eq!((status.sequence, status.issued_at), (10, ts(1)));
    assert_eq!((status.state, status.active), (PublishedState::Normal, Site::Primary));
    assert_eq!(status.cause.source, CauseSource::Admin);
    assert_eq!((first.mode(), first.last_sequence()), (Mode::Normal, 10));
    assert_eq!(first.last_status(), Some(&status));

    let failed_over = run(&p, &[Ev::open(ARN_A, "a-1", 5).input(), failover()]);
    let before = failed_over.last_status().unwrap().clone();
    let (next, renewed) = failed_over.renew(ts(60)).unwrap();
    assert_eq!(renewed.sequence, before.sequence + 1);
    assert_eq!(renewed.issued_at, ts(60));
    assert_eq!(
        (&renewed.state, &renewed.active, &renewed.message, &renewed.cause),
        (&before.state, &before.active, &before.message, &before.cause)
    );
    assert_eq!((next.mode(), next.active()), (failed_over.mode(), failed_over.active()));
    assert_eq!(DrState::from_json(next.to_json().as_bytes()).unwrap(), next);
    // The next transition continues after the renewed sequence.
    let (_, fx) = transition(&next, &failback(), &p);
    assert_eq!(fx.status.sequence, renewed.sequence + 1);
    assert_eq!(DrState::new(u64::MAX).renew(ts(0)), Err(Refusal::SequenceExhausted));
}

#[test]
fn state_round_trips_and_bad_state_is_rejected() {
    let p = policy(false);
    let state = run(&p, &[Ev::open(ARN_A, "a-1", 5).input(), failover()]);
    let json = state.to_json();
    assert_eq!(DrState::from_json(json.as_bytes()).unwrap(), state);

    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["active"] = json!("primary");
    let err = DrState::from_json(v.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("mode failover cannot have active site primary"), "{err}");
    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["version"] = json!(9);
    assert!(
        DrState::from_json(v.to_string().as_bytes()).unwrap_err().to_string().contains("version 9")
    );
    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["last_sequence"] = json!(7);
    assert!(DrState::from_json(v.to_string().as_bytes()).is_err());
    assert!(DrState::from_json(b"{").is_err());
}

#[test]
fn messages_are_the_status_documents_own() {
    // One type: whatever a transition carries, the status document can carry (defect: the state machine once
    // accepted a tab that the document refused, after the transition was committed).
    assert!(Message::new("t", "line 1\tline 2").is_err());
    assert!(Message::new("a\nb", "b").is_err());
    assert!(Message::new("t", "line 1\nline 2").is_ok());
    assert!(Message::new(&"x".repeat(MESSAGE_TITLE_MAX_LEN + 1), "b").is_err());
    assert!(Message::new("t", &"x".repeat(MESSAGE_BODY_MAX_LEN)).is_ok());
    assert!(serde_json::from_value::<Message>(json!({"title": "", "body": "b"})).is_err());
    assert!(serde_json::from_value::<Message>(json!({"title": "t", "body": "a\tb"})).is_err());
}

#[test]
fn default_messages_are_valid_for_every_kind() {
    let kinds = [
        NoticeKind::FailoverRecommended,
        NoticeKind::AutoFailover,
        NoticeKind::FailoverDeclared,
        NoticeKind::IssueDuringRecovery,
        NoticeKind::Recovered,
        NoticeKind::RecommendationWithdrawn,
        NoticeKind::FailbackDeclared,
        NoticeKind::AlertSent,
        NoticeKind::DrillStarted,
        NoticeKind::DrillEnded,
    ];
    let long =
        FailoverPolicy::new(true, region("us-gov-west-1"), region("ap-southeast-5")).unwrap();
    for kind in kinds {
        for from in [Mode::Normal, Mode::Drill, Mode::Recovered] {
            for was in [Site::Primary, Site::Dr] {
                for site in [Site::Primary, Site::Dr] {
                    let m = notice::default_message(kind, from, was, site, &long);
                    assert_eq!(Message::new(m.title(), m.body()), Ok(m.clone()), "{kind:?}");
                }
            }
        }
    }
}

#[test]
fn subjects_are_sns_safe() {
    assert_eq!(
        sns_subject("[wsdr] Alert sent to users: Café\nfermé"),
        "[wsdr] Alert sent to users: Caf? ferm?"
    );
    let s = sns_subject(&format!("[wsdr] Alert sent to users: {}", "é".repeat(200)));
    assert_eq!(s.len(), SUBJECT_MAX_CHARS);
    assert!(s.ends_with("...") && s.is_ascii());
}

// --- Property tests: random sequences of events and commands ---------------------------------------------------

#[derive(Clone, Debug)]
enum Action {
    Event(Ev),
    /// Deliver the n-th previously generated event again (modulo the count).
    Redeliver(usize),
    Command(AdminCommand),
}

fn arb_event() -> impl Strategy<Value = Ev> {
    (
        0usize..3,
        prop_oneof![3 => Just("open"), 2 => Just("closed"), 1 => Just("upcoming")],
        prop_oneof![4 => Just("issue"), 1 => Just("investigation"), 1 => Just("scheduledChange"), 1 => Just("accountNotification")],
        prop_oneof![5 => Just("WORKSPACES"), 1 => Just("EC2")],
        prop_oneof![5 => Just("us-east-1"), 1 => Just("eu-west-1")],
        any::<bool>(),
        0u32..5,
        0u32..6,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(arn, status, category, service, event_region, backup, comm, minute, abuse)| Ev {
            arn: [ARN_A, ARN_B, "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/C"][arn],
            status,
            category,
            service,
            event_region,
            delivered: if backup { "us-west-2" } else { event_region },
            comm: format!("c{arn}-{status}-{comm}"),
            updated_minute: minute,
            abuse,
        })
}

fn arb_command() -> impl Strategy<Value = AdminCommand> {
    prop_oneof![
        Just(AdminCommand::DeclareFailover { message: None }),
        Just(AdminCommand::Failback { message: None }),
        Just(AdminCommand::Alert(msg("Heads up", "Body"))),
        prop_oneof![Just(Site::Primary), Just(Site::Dr)].prop_map(|active| {
            AdminCommand::StartDrill { message: msg("Drill", "A drill."), active }
        }),
        Just(AdminCommand::EndDrill { message: None }),
    ]
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        5 => arb_event().prop_map(Action::Event),
        2 => any::<usize>().prop_map(Action::Redeliver),
        3 => arb_command().prop_map(Action::Command),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_invariants(
        auto in any::<bool>(),
        actions in proptest::collection::vec(arb_action(), 1..60),
    ) {
        let p = policy(auto);
        let mut state = DrState::new(0);
        let mut delivered: Vec<Ev> = Vec::new();
        let mut acted_keys = std::collections::BTreeSet::new();
        for (i, action) in actions.iter().enumerate() {
            let input = match action {
                Action::Event(ev) => {
                    delivered.push(ev.clone());
                    ev.input()
                }
                Action::Redeliver(n) if !delivered.is_empty() => delivered[n % delivered.len()].input(),
                Action::Redeliver(_) => continue,
                Action::Command(c) => cmd(c.clone()),
            };
            let before = state.clone();
            let result = before.step(&input, &p, ts(i as i64));
            let step = match (&input, result) {
                (Input::Command(_), Err(_)) => {
                    // Refused: the caller keeps the old state, which the step could not touch.
                    prop_assert_eq!(&state, &before);
                    continue;
                }
                (Input::Health(_), Err(e)) => {
                    return Err(TestCaseError::fail(format!("health input refused: {e}")));
                }
                (_, Ok(step)) => step,
            };
            let after = &step.state;

            if let Input::Health(c) = &input {
                if c.decision() == Decision::Ignore {
                    // Never failover (or recommend) from an ignored event; it changes nothing at all.
                    prop_assert!(matches!(step.outcome, Outcome::Ignored { .. }), "{:?}", step.outcome);
                    prop_assert_eq!(after, &before);
                } else if let Some(id) = c.identity() {
                    // The same communication delivered twice yields effects once.
                    if !acted_keys.insert(id.dedup_key.clone()) {
                        prop_assert!(matches!(step.outcome, Outcome::Duplicate { .. }), "{:?}", step.outcome);
                        prop_assert_eq!(after, &before);
                    }
                }
            }

            match step.outcome.effects() {
                Some(fx) => {
                    // Published sequence strictly increasing, by exactly one.
                    prop_assert_eq!(fx.status.sequence, before.last_sequence() + 1);
                    prop_assert_eq!(after.last_sequence(), fx.status.sequence);
                    prop_assert_eq!(fx.status.state, after.mode().published_state());
                    prop_assert_eq!(fx.status.active, after.active());
                    prop_assert_eq!(fx.status.issued_at, ts(i as i64));
                    prop_assert!(Message::new(fx.status.message.title(), fx.status.message.body()).is_ok());
                    prop_assert!(fx.notice.subject.len() <= SUBJECT_MAX_CHARS && fx.notice.subject.is_ascii());
                    prop_assert!(!fx.notice.subject.contains('\n'));
                    prop_assert_eq!(fx.notice.attributes.get("wsdr_state").map(String::as_str), Some(after.mode().as_str()));
                    prop_assert!(fx.notice.attributes.contains_key("wsdr_event_kind"));
                    prop_assert_eq!(fx.notice.body.sequence, fx.status.sequence);
                }
                None => {
                    prop_assert_eq!(after.last_sequence(), before.last_sequence());
                    prop_assert_eq!(after.mode(), before.mode());
                    prop_assert_eq!(after.active(), before.active());
                }
            }

            // Recovered only after failover.
            if after.mode() == Mode::Recovered && before.mode() != Mode::Recovered {
                prop_assert_eq!(before.mode(), Mode::Failover);
            }
            // Failover (or its recommendation) is entered only by the admin or by an open event.
            let entered = |m: Mode| after.mode() == m && before.mode() != m;
            if entered(Mode::Failover) || entered(Mode::FailoverRecommended) {
                let by_admin = matches!(input, Input::Command(AdminCommand::DeclareFailover { .. }));
                let by_event = matches!(&input, Input::Health(c) if c.decision() == Decision::FailoverRecommended);
                prop_assert!(by_admin || by_event, "entered {} from {:?}", after.mode(), input);
            }
            // Drills move nobody unless explicitly targeted.
            if entered(Mode::Drill) {
                let target = match &input {
                    Input::Command(AdminCommand::StartDrill { active, .. }) => Some(*active),
                    _ => None,
                };
                prop_assert_eq!(Some(after.active()), target);
            }
            // Bounds and persistence.
            prop_assert!(after.seen().len() <= SEEN_EVENTS_CAP);
            prop_assert!(after.tracked().len() <= TRACKED_EVENTS_CAP);
            prop_assert_eq!(&DrState::from_json(after.to_json().as_bytes()).unwrap(), after);
            state = step.state;
        }
    }
}
