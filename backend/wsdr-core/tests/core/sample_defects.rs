//! One regression test per defect of the original sample (shared/docs/domain-facts.md, section 1.7), named
//! after it. Each would fail if wsdr repeated the sample's behaviour.

use wsdr_core::plan::{BlockCode, IgnoreReason, MissingSince, plan};
use wsdr_core::policy::Limits;
use wsdr_core::trigger::{ObjectRef, S3Record, latest_export};
use wsdr_core::users::parse_users;
use wsdr_core::workspace::parse_describe_workspaces;

use crate::support::*;

/// B1: an empty (or header-only) users list terminated every WorkSpace of the directory.
#[test]
fn b1_empty_or_header_only_list_blocks_instead_of_mass_termination() {
    let current: Vec<_> = (1..=40).map(|n| ws(n, &format!("user{n}"))).collect();
    for file in ["users/empty.csv", "users/header-only.csv", "users/blank-lines-only.csv"] {
        let desired = parse_users(&fixture(file)).unwrap().into_desired().unwrap();
        // Even with caps that would allow it, an empty list never terminates.
        let plan = plan_now(&desired, &current, OPEN);
        let blocked = plan.blocked.as_ref().unwrap_or_else(|| panic!("{file}: not blocked"));
        assert_eq!(blocked.code, BlockCode::EmptyUsersList, "{file}");
        assert!(blocked.reason.contains("40 live WorkSpace(s)"), "{}", blocked.reason);
        assert!(plan.missing_since.is_empty(), "a blocked plan starts no grace period");
    }
}

/// B1, second half: a wrong OU (a list that lost most users) is caught by the termination caps.
#[test]
fn b1_a_list_that_lost_most_users_is_blocked_by_the_caps() {
    let current: Vec<_> = (1..=100).map(|n| ws(n, &format!("user{n}"))).collect();
    let desired = desired(&["user1", "user2", "user3"]);
    let limits = Limits { grace_days: 0, ..Limits::RECOMMENDED };
    let plan = plan_now(&desired, &current, limits);
    assert_eq!(plan.blocked.as_ref().map(|b| b.code), Some(BlockCode::TooManyTerminations));
    assert_eq!(plan.terminate.len(), 97, "the plan still shows what it would have done");
}

/// B2: `JSmith` in AD and `jsmith` in WorkSpaces: the sample terminated the WorkSpace and created another.
#[test]
fn b2_case_spacing_and_normal_form_differences_change_nothing() {
    let desired = desired(&["JSmith", "  adoe ", "Jose\u{301}"]);
    let current = [ws(1, "jsmith"), ws(2, "ADOE"), ws(3, "jos\u{e9}")];
    let plan = plan_now(&desired, &current, OPEN);
    assert!(plan.is_empty(), "{}", plan.render_table());
    assert_eq!(plan.keep.len(), 3);
}

/// B3: only the first DescribeWorkspaces page (≤ 25) was read; users beyond it looked missing.
#[test]
fn b3_every_describe_page_counts() {
    let pages: Vec<String> = (0..3)
        .map(|page| {
            let items: Vec<String> = (0..25)
                .map(|i| {
                    let n = page * 25 + i;
                    format!(
                        r#"{{"WorkspaceId":"ws-{n:09}","DirectoryId":"{DIRECTORY}","UserName":"user{n}","State":"AVAILABLE",
                           "Tags":[{{"Key":"wsdr:managed-by","Value":"wsdr"}}]}}"#
                    )
                })
                .collect();
            format!(r#"{{"Workspaces":[{}],"NextToken":"t{page}"}}"#, items.join(","))
        })
        .collect();
    let current = parse_describe_workspaces(format!("[{}]", pages.join(",")).as_bytes()).unwrap();
    assert_eq!(current.len(), 75);
    let names: Vec<String> = (0..75).map(|n| format!("user{n}")).collect();
    let desired = desired(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let plan = plan_now(&desired, &current, OPEN);
    assert!(
        plan.is_empty(),
        "users on pages 2 and 3 must not look missing:\n{}",
        plan.render_table()
    );
}

/// B4: the sample decoded the ANSI export as UTF-8 and aborted on the first non-ASCII name.
#[test]
fn b4_non_ascii_names_in_an_ansi_export_are_read() {
    let list = parse_users(&fixture("users/sample-ansi-crlf.csv")).unwrap();
    let desired = list.into_desired().unwrap();
    // WorkSpaces reports names in Unicode; the cp1252 bytes must decode to the same users.
    let current = [ws(1, "josé.garcía"), ws(2, "MMÜLLER")];
    let plan = plan_now(&desired, &current, OPEN);
    assert_eq!(created(&plan), ["adoe", "JSmith", "Kim Lee"]);
    assert_eq!(plan.keep.len(), 2);
}

/// B5: ERROR and TERMINATING WorkSpaces counted as present; users being terminated were re-created and users
/// with a broken WorkSpace never got a working one.
#[test]
fn b5_states_decide_presence() {
    let desired = desired(&["broken", "leaving", "fresh"]);
    let current = [
        ws(1, "broken").state("ERROR"),
        ws(2, "leaving").state("TERMINATING"),
        ws(3, "fresh").state("PENDING"),
        ws(4, "gone").state("TERMINATED"),
        ws(5, "frozen").state("SUSPENDED"),
    ];
    let plan = plan_now(&desired, &current, OPEN);
    // A TERMINATING WorkSpace is not present: its user gets a new one. ERROR and PENDING get no duplicate.
    assert_eq!(created(&plan), ["leaving"]);
    assert!(
        terminated(&plan).is_empty(),
        "terminating and suspended WorkSpaces are never terminated"
    );
    let reason = |id: &str| {
        plan.ignore.iter().find(|i| i.workspace_id.as_str() == id).map(|i| i.reason.clone())
    };
    assert_eq!(reason("ws-000000001"), Some(IgnoreReason::ErrorState));
    assert_eq!(reason("ws-000000002"), Some(IgnoreReason::Terminating));
    assert_eq!(reason("ws-000000005"), Some(IgnoreReason::CannotTerminate));
    assert_eq!(plan.counts.ready, 0, "neither ERROR nor PENDING is ready");
}

/// B6: any WorkSpace of an unlisted user was terminated, including admins' and test WorkSpaces.
#[test]
fn b6_only_owned_workspaces_are_ever_terminated() {
    let desired = desired(&["jsmith", "legacy"]);
    let current = [
        ws(1, "jsmith"),
        ws(2, "admin").untagged(),
        ws(3, "legacy").untagged(),
        ws(4, "left"),
        ws(5, "elsewhere").directory("d-9999999999"),
    ];
    let plan = plan_now(&desired, &current, OPEN);
    assert_eq!(terminated(&plan), ["ws-000000004"]);
    assert_eq!(plan.adopt.len(), 1, "the listed user's untagged WorkSpace is adopted");
    assert_eq!(plan.adopt[0].workspace_id.as_str(), "ws-000000003");
    let ignored: Vec<_> =
        plan.ignore.iter().map(|i| (i.workspace_id.as_str(), &i.reason)).collect();
    assert!(ignored.contains(&("ws-000000002", &IgnoreReason::NotOwned)));
    assert!(matches!(ignored[1].1, IgnoreReason::OtherDirectory { .. }), "{ignored:?}");
}

/// B7: disabled AD users were exported and got (billed) DR WorkSpaces.
#[test]
fn b7_disabled_users_are_not_desired() {
    let list = parse_users(&fixture("users/improved-utf8-bom-crlf.csv")).unwrap();
    assert_eq!(list.disabled.len(), 2);
    let desired = list.into_desired().unwrap();
    let current = [ws(1, "mmüller")];
    let plan = plan_now(&desired, &current, OPEN);
    assert!(!created(&plan).contains(&"mmüller"));
    assert_eq!(
        terminated(&plan),
        ["ws-000000001"],
        "a disabled user's WorkSpace goes, after the grace period"
    );
}

/// B11: only `Records[0]` was read, and its key was not URL-decoded.
#[test]
fn b11_every_record_is_read_and_keys_are_decoded() {
    let record = |key: &str, time: &str, sequencer: &str| S3Record {
        bucket: "users-bucket".to_owned(),
        encoded_key: key.to_owned(),
        event_time: time.to_owned(),
        sequencer: sequencer.to_owned(),
    };
    let records = [
        record("exports/users+old.csv", "2026-11-24T10:00:00.000Z", "0055AED6DCD90281E5"),
        record(
            "exports/AD+users%20%C3%A9t%C3%A9.csv",
            "2026-11-24T10:05:00.000Z",
            "0055AED6DCD90281E6",
        ),
    ];
    let expected = ObjectRef {
        bucket: "users-bucket".to_owned(),
        key: "exports/AD users été.csv".to_owned(),
    };
    assert_eq!(latest_export(&records).unwrap(), Some(expected.clone()));
    // Order of records does not matter; the newest wins.
    let reversed = [records[1].clone(), records[0].clone()];
    assert_eq!(latest_export(&reversed).unwrap(), Some(expected));
    assert_eq!(latest_export(&[]).unwrap(), None);
}

#[test]
fn grace_period_keeps_a_leaver_until_due_then_terminates() {
    let desired = desired(&["stays"]);
    let current = [ws(1, "stays"), ws(2, "left")];
    let limits = Limits { grace_days: 3, ..OPEN };
    let first = plan(&desired, &current, &MissingSince::new(), &policy(limits), now());
    assert!(first.terminate.is_empty());
    assert_eq!(first.pending.len(), 1);
    assert_eq!(first.pending[0].due_at.to_string(), "2026-11-27T12:00:00Z");
    // Two days later: still pending, the clock is not restarted.
    let later = now() + jiff::SignedDuration::from_hours(48);
    let second = plan(&desired, &current, &first.missing_since, &policy(limits), later);
    assert_eq!(second.pending.len(), 1);
    assert_eq!(second.missing_since, first.missing_since);
    // Three days after it was first missed: due.
    let due = now() + jiff::SignedDuration::from_hours(72);
    let third = plan(&desired, &current, &second.missing_since, &policy(limits), due);
    assert_eq!(terminated(&third), ["ws-000000002"]);
    // The user coming back clears the clock.
    let back = plan(
        &crate::support::desired(&["stays", "LEFT"]),
        &current,
        &third.missing_since,
        &policy(limits),
        due,
    );
    assert!(back.missing_since.is_empty() && back.is_empty());
}

#[test]
fn a_users_second_workspace_is_reported_not_terminated() {
    let desired = desired(&["jsmith"]);
    let mut newest = ws(2, "JSmith");
    newest.created_at = Some("2026-10-01T00:00:00Z".parse().unwrap());
    let mut older = ws(1, "jsmith");
    older.created_at = Some("2025-01-01T00:00:00Z".parse().unwrap());
    let plan = plan_now(&desired, &[older, newest, ws(3, "jsmith").state("ERROR")], OPEN);
    assert_eq!(plan.keep.len(), 1);
    assert_eq!(plan.keep[0].workspace_id.as_str(), "ws-000000002", "the newest usable one is kept");
    assert!(plan.terminate.is_empty() && plan.create.is_empty());
    let duplicates: Vec<_> = plan.ignore.iter().map(|i| i.workspace_id.as_str()).collect();
    assert_eq!(duplicates, ["ws-000000001", "ws-000000003"]);
}

#[test]
fn a_listed_users_workspace_in_another_directory_does_not_count() {
    let plan = plan_now(&desired(&["jsmith"]), &[ws(1, "jsmith").directory("d-0000000001")], OPEN);
    assert_eq!(created(&plan), ["jsmith"]);
}
