//! AWS Health fixtures (tests/fixtures/health/, built field by field from the documented EventBridge schema)
//! through the classifier and the failover state machine. Update snapshots with `UPDATE_EXPECT=1`.

use expect_test::{Expect, expect};
use jiff::Timestamp;
use wsdr_core::failover::{AdminCommand, DrState, FailoverPolicy, Input, Outcome};
use wsdr_core::health::{Classification, Region, classify_slice};

fn fixture(name: &str) -> Vec<u8> {
    crate::support::fixture(&format!("health/{name}.json"))
}

fn primary() -> Region {
    Region::parse("us-east-1").unwrap()
}

fn classify(name: &str) -> Result<Classification, String> {
    classify_slice(&fixture(name), &primary()).map_err(|e| e.to_string())
}

/// Classifies one fixture against primary region us-east-1 and compares decision, reason and key.
#[track_caller]
fn check(name: &str, expected: Expect) {
    let actual = match classify(name) {
        Ok(c) => format!(
            "decision: {}\nreason: {}\nkey: {}\n",
            c.decision(),
            c.reason(),
            c.identity().map_or("-".to_owned(), |id| id.dedup_key.to_string())
        ),
        Err(e) => format!("error: {e}\n"),
    };
    expected.assert_eq(&actual);
}

#[test]
fn open_issue_in_primary() {
    check(
        "open-issue-primary",
        expect![[r#"
            decision: failover_recommended
            reason: failover recommended: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE is open in the primary region us-east-1
            key: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:6d0e3a5c91f2b7e84a1c0d9f3e2b5a7c8d4f1e60-1
        "#]],
    );
}

#[test]
fn open_issue_backup_copy_has_the_same_key() {
    check(
        "open-issue-backup-copy",
        expect![[r#"
            decision: failover_recommended
            reason: failover recommended: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE is open in the primary region us-east-1 (copy delivered to us-west-2)
            key: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:6d0e3a5c91f2b7e84a1c0d9f3e2b5a7c8d4f1e60-1
        "#]],
    );
}

#[test]
fn open_issue_update_has_a_new_key() {
    check(
        "open-issue-update",
        expect![[r#"
            decision: failover_recommended
            reason: failover recommended: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE is open in the primary region us-east-1
            key: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:9a4c2e7f0b3d5a1c8e6f2b4d7a9c0e3f5b1d8a26-1
        "#]],
    );
}

#[test]
fn closed_issue() {
    check(
        "closed-issue",
        expect![[r#"
            decision: recovered
            reason: recovered: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE in the primary region us-east-1 is closed
            key: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:2f7b9d1e4a6c8e0b3d5f7a9c1e2b4d6f8a0c3e51-1
        "#]],
    );
}

#[test]
fn other_region() {
    check(
        "other-region",
        expect![[r#"
            decision: ignore
            reason: ignored: the WorkSpaces event affects eu-west-1, not the primary region us-east-1
            key: -
        "#]],
    );
}

#[test]
fn other_service() {
    check(
        "other-service",
        expect![[r#"
            decision: ignore
            reason: ignored: service EC2 is not WORKSPACES
            key: -
        "#]],
    );
}

#[test]
fn scheduled_change() {
    check(
        "scheduled-change",
        expect![[r#"
            decision: ignore
            reason: ignored: AWS_WORKSPACES_MAINTENANCE_SCHEDULED is a scheduledChange (planned maintenance), not an outage
            key: -
        "#]],
    );
}

#[test]
fn account_notification() {
    check(
        "account-notification",
        expect![[r#"
            decision: ignore
            reason: ignored: AWS_WORKSPACES_PERSONAL_BUNDLE_NOTIFICATION is an accountNotification, not an outage
            key: -
        "#]],
    );
}

#[test]
fn abuse_event() {
    check(
        "abuse-event",
        expect![[r#"
            decision: ignore
            reason: ignored: detail-type "AWS Health Abuse Event" reports abuse involving this account's resources, not WorkSpaces availability
            key: -
        "#]],
    );
}

#[test]
fn investigation() {
    check(
        "investigation-open",
        expect![[r#"
            decision: failover_recommended
            reason: failover recommended: AWS is investigating a WorkSpaces problem (AWS_WORKSPACES_INVESTIGATION) in the primary region us-east-1; an investigation never triggers automatic failover
            key: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_INVESTIGATION/AWS_WORKSPACES_INVESTIGATION_4d5e6f7a-8b9c-4d0e-a1f2-3b4c5d6e7f8a#comm:8e0a2c4b6d8f0e2a4c6b8d0f2e4a6c8b0d2f4e93-1
        "#]],
    );
}

#[test]
fn missing_event_region_falls_back_to_the_delivery_region() {
    check(
        "missing-event-region",
        expect![[r#"
            decision: failover_recommended
            reason: failover recommended: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE is open in the primary region us-east-1 (detail.eventRegion is absent; used the delivery region us-east-1)
            key: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:6d0e3a5c91f2b7e84a1c0d9f3e2b5a7c8d4f1e60-1
        "#]],
    );
}

#[test]
fn malformed_missing_detail() {
    check(
        "malformed-missing-detail",
        expect![[r#"
            error: `detail` is missing: an AWS Health event carries its content in `detail`
        "#]],
    );
}

#[test]
fn malformed_wrong_types() {
    check(
        "malformed-wrong-types",
        expect![[r#"
            error: `detail.statusCode` must be a string, found a number
        "#]],
    );
}

#[test]
fn malformed_not_json() {
    check(
        "malformed-not-json",
        expect![[r#"
            error: the event is not valid JSON: EOF while parsing a string at line 11 column 130
        "#]],
    );
}

#[test]
fn malformed_wrong_source() {
    check(
        "malformed-wrong-source",
        expect![[r#"
            error: not an AWS Health event: `source` is "aws.workspaces", expected "aws.health"
        "#]],
    );
}

/// The JSON `wsdr health classify` prints.
#[test]
fn classification_json() {
    let c = classify("open-issue-primary").unwrap();
    expect![[r#"
        {
          "decision": "failover_recommended",
          "reason": "failover recommended: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE is open in the primary region us-east-1",
          "primary_region": "us-east-1",
          "identity": {
            "event_arn": "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115",
            "dedup_key": "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:6d0e3a5c91f2b7e84a1c0d9f3e2b5a7c8d4f1e60-1"
          },
          "event": {
            "event_arn": "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115",
            "service": "WORKSPACES",
            "event_type_code": "AWS_WORKSPACES_OPERATIONAL_ISSUE",
            "category": "issue",
            "scope": "PUBLIC",
            "status_code": "open",
            "affected_region": "us-east-1",
            "delivered_region": "us-east-1",
            "communication_id": "6d0e3a5c91f2b7e84a1c0d9f3e2b5a7c8d4f1e60-1",
            "start_time": "Tue, 11 Mar 2025 13:52:00 GMT",
            "end_time": null,
            "last_updated_time": "Tue, 11 Mar 2025 14:05:12 GMT",
            "description": "[02:05 PM UTC] We are investigating increased connection errors when launching Amazon WorkSpaces in the US-EAST-1 Region."
          }
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&c).unwrap());
}

/// The whole incident through the state machine: what admins receive and what users are told, step by step.
#[test]
fn incident_scenario() {
    let policy =
        FailoverPolicy::new(false, primary(), Region::parse("eu-west-1").unwrap()).unwrap();
    let health = |name: &str| Input::Health(Box::new(classify(name).unwrap()));
    let steps: Vec<(&str, Input)> = vec![
        ("open-issue-primary", health("open-issue-primary")),
        ("open-issue-backup-copy", health("open-issue-backup-copy")),
        ("other-region", health("other-region")),
        ("open-issue-update", health("open-issue-update")),
        ("wsdr failover", Input::Command(AdminCommand::DeclareFailover { message: None })),
        ("wsdr failover (again)", Input::Command(AdminCommand::DeclareFailover { message: None })),
        ("closed-issue", health("closed-issue")),
        ("wsdr failback", Input::Command(AdminCommand::Failback { message: None })),
    ];
    let mut state = DrState::new(0);
    let mut log = String::new();
    for (minute, (label, input)) in steps.iter().enumerate() {
        let now = Timestamp::from_second(1_741_702_000 + 600 * minute as i64).unwrap();
        log.push_str(&format!("=== {label}\n"));
        match state.step(input, &policy, now) {
            Err(refusal) => log.push_str(&format!("{refusal}\n")),
            Ok(step) => {
                match &step.outcome {
                    Outcome::Transition(fx) => {
                        log.push_str(&format!(
                            "subject: {}\n{}",
                            fx.notice.subject, fx.notice.text
                        ));
                        log.push_str(&format!(
                            "status: {}\n",
                            serde_json::to_string(&fx.status).unwrap()
                        ));
                    }
                    Outcome::Duplicate { key } => log.push_str(&format!("duplicate: {key}\n")),
                    Outcome::Ignored { reason } => log.push_str(&format!("{reason}\n")),
                    Outcome::Unchanged { reason } => {
                        log.push_str(&format!("unchanged: {reason}\n"))
                    }
                }
                state = step.state;
            }
        }
        log.push_str(&format!("--> mode {}, active {}\n", state.mode(), state.active().as_str()));
    }
    expect![[r#"
        === open-issue-primary
        subject: [wsdr] WorkSpaces issue in us-east-1: failover recommended
        AWS Health reports an open WorkSpaces event in the primary region us-east-1. Users have NOT been moved; they were told that AWS reports a problem.

        AWS Health event: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115
            type AWS_WORKSPACES_OPERATIONAL_ISSUE (issue, PUBLIC), status open
            affected region us-east-1
            started Tue, 11 Mar 2025 13:52:00 GMT, last updated Tue, 11 Mar 2025 14:05:12 GMT
            AWS says: [02:05 PM UTC] We are investigating increased connection errors when launching Amazon WorkSpaces in the US-EAST-1 Region.

        Users now see (status #1, state normal, use primary = us-east-1):
            WorkSpaces service issue reported
            AWS reports a problem with Amazon WorkSpaces in us-east-1. Keep using your usual WorkSpace for now. If you need to switch, you will be told here.

        Next step: To move users to the DR region eu-west-1, run:
            wsdr failover
        If you decide not to fail over, do nothing: wsdr will tell you when AWS closes the event.
        status: {"sequence":1,"issued_at":"2025-03-11T14:06:40Z","state":"normal","active":"primary","message":{"title":"WorkSpaces service issue reported","body":"AWS reports a problem with Amazon WorkSpaces in us-east-1. Keep using your usual WorkSpace for now. If you need to switch, you will be told here."},"cause":{"source":"aws.health","event_arn":"arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115"}}
        --> mode failover_recommended, active primary
        === open-issue-backup-copy
        duplicate: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115#comm:6d0e3a5c91f2b7e84a1c0d9f3e2b5a7c8d4f1e60-1
        --> mode failover_recommended, active primary
        === other-region
        ignored: the WorkSpaces event affects eu-west-1, not the primary region us-east-1
        --> mode failover_recommended, active primary
        === open-issue-update
        unchanged: update of arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115, already reported open; mode stays failover_recommended
        --> mode failover_recommended, active primary
        === wsdr failover
        subject: [wsdr] Failover declared: users told to use eu-west-1
        An admin declared failover. Users were told to use the DR region eu-west-1.

        AWS Health event: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115
            type AWS_WORKSPACES_OPERATIONAL_ISSUE (issue, PUBLIC), status open
            affected region us-east-1
            started Tue, 11 Mar 2025 13:52:00 GMT, last updated Tue, 11 Mar 2025 14:05:12 GMT
            AWS says: [02:05 PM UTC] We are investigating increased connection errors when launching Amazon WorkSpaces in the US-EAST-1 Region.

        Users now see (status #2, state failover, use dr = eu-west-1):
            Switch to your disaster-recovery WorkSpace
            Your usual WorkSpaces in us-east-1 are unavailable. Connect to your disaster-recovery WorkSpace in eu-west-1 from the wsdr menu. Files saved on your usual WorkSpace are not available there. You will be told when to switch back.

        Next step: When the primary region us-east-1 is healthy again, run:
            wsdr failback
        status: {"sequence":2,"issued_at":"2025-03-11T14:46:40Z","state":"failover","active":"dr","message":{"title":"Switch to your disaster-recovery WorkSpace","body":"Your usual WorkSpaces in us-east-1 are unavailable. Connect to your disaster-recovery WorkSpace in eu-west-1 from the wsdr menu. Files saved on your usual WorkSpace are not available there. You will be told when to switch back."},"cause":{"source":"admin","event_arn":"arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115"}}
        --> mode failover, active dr
        === wsdr failover (again)
        refused: failover is already declared (mode failover); users are on DR. When the primary is healthy, run `wsdr failback`
        --> mode failover, active dr
        === closed-issue
        subject: [wsdr] WorkSpaces issue in us-east-1 closed: run wsdr failback when ready
        AWS Health reports the WorkSpaces event in us-east-1 closed. Users are still on the DR region eu-west-1 and were told to stay there until you fail back.

        AWS Health event: arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115
            type AWS_WORKSPACES_OPERATIONAL_ISSUE (issue, PUBLIC), status closed
            affected region us-east-1
            started Tue, 11 Mar 2025 13:52:00 GMT, last updated Tue, 11 Mar 2025 17:21:20 GMT
            AWS says: [05:21 PM UTC] Between 01:52 PM and 05:15 PM UTC, customers experienced increased connection errors when launching Amazon WorkSpaces in the US-EAST-1 Region. The issue has been resolved and the service is operating normally.

        Users now see (status #3, state failover, use dr = eu-west-1):
            Keep using your disaster-recovery WorkSpace
            AWS reports that the WorkSpaces problem in us-east-1 is resolved. Keep using your disaster-recovery WorkSpace in eu-west-1 until you are told to switch back.

        Next step: Check that WorkSpaces in us-east-1 work for you, then run:
            wsdr failback
        status: {"sequence":3,"issued_at":"2025-03-11T15:06:40Z","state":"failover","active":"dr","message":{"title":"Keep using your disaster-recovery WorkSpace","body":"AWS reports that the WorkSpaces problem in us-east-1 is resolved. Keep using your disaster-recovery WorkSpace in eu-west-1 until you are told to switch back."},"cause":{"source":"aws.health","event_arn":"arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_8f3a2c41-5e77-4b0d-9c1a-7d2e6b90f115"}}
        --> mode recovered, active dr
        === wsdr failback
        subject: [wsdr] Failback declared: users told to return to us-east-1
        An admin declared failback. Users were told to return to the primary region us-east-1.

        Users now see (status #4, state normal, use primary = us-east-1):
            Return to your usual WorkSpace
            Your usual WorkSpaces in us-east-1 are available again. Save your work on the disaster-recovery WorkSpace, disconnect, and connect to your usual WorkSpace from the wsdr menu.

        Next step: No action needed.
        status: {"sequence":4,"issued_at":"2025-03-11T15:16:40Z","state":"normal","active":"primary","message":{"title":"Return to your usual WorkSpace","body":"Your usual WorkSpaces in us-east-1 are available again. Save your work on the disaster-recovery WorkSpace, disconnect, and connect to your usual WorkSpace from the wsdr menu."},"cause":{"source":"admin"}}
        --> mode normal, active primary
    "#]].assert_eq(&log);
}
