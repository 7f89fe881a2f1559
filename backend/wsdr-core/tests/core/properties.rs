//! Property tests of the planner's invariants over random users lists, fleets, histories and policies.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use wsdr_core::plan::{IgnoreReason, MissingSince, Plan, plan};
use wsdr_core::policy::{Limits, Policy};
use wsdr_core::username::{UserKey, Username};
use wsdr_core::users::DesiredUsers;
use wsdr_core::workspace::{Workspace, WorkspaceId, WorkspaceState};

use crate::support::{DIRECTORY, OPEN, now, policy};

/// Few base names, so that lists and fleets overlap a lot; two need Unicode folding.
const NAMES: [&str; 8] = ["alice", "bob", "carol", "dave", "eve", "josé", "straße", "kim lee"];
const STATES: [&str; 9] = [
    "AVAILABLE",
    "STOPPED",
    "PENDING",
    "ERROR",
    "TERMINATING",
    "TERMINATED",
    "SUSPENDED",
    "IMPAIRED",
    "HIBERNATING",
];

/// A spelling of `NAMES[index]` that AD or WorkSpaces would treat as the same user.
fn spelling() -> impl Strategy<Value = String> {
    (0..NAMES.len(), 0..5u8, any::<bool>()).prop_map(|(index, variant, padded)| {
        let base = NAMES[index];
        let spelled = match variant {
            0 => base.to_owned(),
            1 => base.to_uppercase(),
            2 => base.replace('é', "e\u{301}"),
            3 => base.replace("ß", "SS"),
            _ => base
                .chars()
                .enumerate()
                .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
                .collect(),
        };
        if padded { format!("  {spelled} ") } else { spelled }
    })
}

fn workspace() -> impl Strategy<Value = (String, usize, bool, bool, Option<i64>)> {
    (
        spelling(),
        0..STATES.len(),
        any::<bool>(),
        prop::bool::weighted(0.85),
        prop::option::of(0..1_000i64),
    )
}

fn fleet() -> impl Strategy<Value = Vec<Workspace>> {
    prop::collection::vec(workspace(), 0..24).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(n, (user, state, owned, in_directory, created))| Workspace {
                id: WorkspaceId::new(&format!("ws-{n:09}")).unwrap(),
                directory_id: if in_directory {
                    DIRECTORY.to_owned()
                } else {
                    "d-0000000009".to_owned()
                },
                user_name: Some(user),
                state: WorkspaceState::parse(STATES[state]),
                owned,
                created_at: created
                    .map(|days| Timestamp::UNIX_EPOCH + SignedDuration::from_hours(days * 24)),
            })
            .collect()
    })
}

fn desired() -> impl Strategy<Value = DesiredUsers> {
    prop::collection::vec(spelling(), 0..NAMES.len())
        .prop_map(|names| DesiredUsers::from_names(names.iter().map(|n| Username::new(n).unwrap())))
}

fn limits() -> impl Strategy<Value = Limits> {
    (0..30u32, 0..=100u8, 0..5u32).prop_map(|(max_terminate, max_terminate_percent, grace_days)| {
        Limits { max_terminate, max_terminate_percent, grace_days }
    })
}

fn history() -> impl Strategy<Value = MissingSince> {
    prop::collection::btree_map(
        (0..NAMES.len()).prop_map(|i| UserKey::new(NAMES[i]).unwrap()),
        (0..10i64).prop_map(|days| now() - SignedDuration::from_hours(days * 24)),
        0..4,
    )
}

fn key(workspace: &Workspace) -> Option<UserKey> {
    UserKey::new(workspace.user_name.as_deref()?).ok()
}

/// Carries out an unblocked plan against the fleet, as AWS would.
fn apply(plan: &Plan, mut fleet: Vec<Workspace>) -> Vec<Workspace> {
    let terminated: Vec<&WorkspaceId> = plan.terminate.iter().map(|t| &t.workspace_id).collect();
    fleet.retain(|w| !terminated.contains(&&w.id));
    for adopt in &plan.adopt {
        fleet.iter_mut().filter(|w| w.id == adopt.workspace_id).for_each(|w| w.owned = true);
    }
    for (n, create) in plan.create.iter().enumerate() {
        fleet.push(Workspace {
            id: WorkspaceId::new(&format!("ws-new{n:06}")).unwrap(),
            directory_id: DIRECTORY.to_owned(),
            user_name: Some(create.user.as_str().to_owned()),
            state: WorkspaceState::Pending,
            owned: true,
            created_at: Some(now()),
        });
    }
    fleet
}

fn live_in_directory(fleet: &[Workspace]) -> impl Iterator<Item = &Workspace> {
    fleet.iter().filter(|w| w.directory_id == DIRECTORY && !w.state.is_gone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn never_terminates_what_it_must_not(
        desired in desired(), fleet in fleet(), history in history(), limits in limits(),
    ) {
        let plan = plan(&desired, &fleet, &history, &policy(limits), now());
        let by_id: BTreeMap<&WorkspaceId, &Workspace> = fleet.iter().map(|w| (&w.id, w)).collect();
        for terminate in &plan.terminate {
            let workspace = by_id[&terminate.workspace_id];
            prop_assert!(workspace.owned, "terminates an unowned WorkSpace: {workspace:?}");
            prop_assert_eq!(&workspace.directory_id, DIRECTORY);
            prop_assert!(workspace.state.can_terminate(), "terminates a {} WorkSpace", workspace.state);
            let user = key(workspace).unwrap();
            prop_assert!(!desired.contains(&user), "terminates listed user {user}'s WorkSpace");
        }
    }

    #[test]
    fn withheld_terminations_terminate_nothing_and_keep_everything_else(
        desired in desired(), fleet in fleet(), history in history(), limits in limits(),
    ) {
        let planned = plan(&desired, &fleet, &history, &policy(limits), now());
        let mut withheld = planned.clone();
        withheld.withhold_terminations("failover declared");
        prop_assert!(withheld.terminate.is_empty());
        prop_assert_eq!(withheld.terminate_batches().count(), 0);
        prop_assert_eq!(withheld.counts.terminate, 0);
        let held = withheld.withheld.as_ref().map_or(0, |withheld| withheld.terminate.len());
        prop_assert_eq!(held, planned.terminate.len());
        prop_assert_eq!(&withheld.create, &planned.create);
        prop_assert_eq!(&withheld.adopt, &planned.adopt);
        prop_assert_eq!(&withheld.missing_since, &planned.missing_since, "grace periods keep running");
        prop_assert_eq!(&withheld.blocked, &planned.blocked);
    }

    #[test]
    fn caps_hold_for_every_input(
        desired in desired(), fleet in fleet(), history in history(), limits in limits(),
    ) {
        let policy = policy(limits);
        let plan = plan(&desired, &fleet, &history, &policy, now());
        let owned = live_in_directory(&fleet).filter(|w| w.owned && key(w).is_some()).count();
        prop_assert_eq!(plan.counts.owned, owned);
        let allowance = policy.termination_allowance(owned);
        match &plan.blocked {
            None => {
                prop_assert!(plan.terminate.len() <= allowance);
                prop_assert!(!(desired.is_empty() && owned > 0), "an empty list must block");
            }
            Some(_) => {
                prop_assert!(plan.terminate.len() > allowance || desired.is_empty());
                prop_assert_eq!(&plan.missing_since, &history, "a blocked plan changes no state");
            }
        }
        prop_assert!(plan.create_batches().all(|batch| batch.len() <= 25));
        prop_assert!(plan.terminate_batches().all(|batch| batch.len() <= 25));
    }

    #[test]
    fn applying_a_plan_converges_to_one_workspace_per_user(desired in desired(), fleet in fleet()) {
        let policy: Policy = policy(OPEN);
        let first = plan(&desired, &fleet, &MissingSince::new(), &policy, now());
        prop_assume!(!first.is_blocked());
        let applied = apply(&first, fleet);
        for (user, _) in desired.iter() {
            let theirs = live_in_directory(&applied).filter(|w| key(w).as_ref() == Some(user)).count();
            prop_assert!(theirs >= 1, "{user} has no live WorkSpace after apply");
        }
        let second = plan(&desired, &applied, &first.missing_since, &policy, now());
        prop_assert!(second.is_empty(), "the plan of an applied state is not empty:\n{}", second.render_table());
        // Exactly one WorkSpace per user is theirs; any other is reported as a duplicate.
        let designated = second.keep.len()
            + second.ignore.iter().filter(|i| i.reason == IgnoreReason::ErrorState).count();
        prop_assert_eq!(designated, desired.len());
    }

    #[test]
    fn output_is_deterministic_and_independent_of_input_order(
        desired in desired(), fleet in fleet(), history in history(), limits in limits(),
    ) {
        let policy = policy(limits);
        let forward = plan(&desired, &fleet, &history, &policy, now());
        let reversed_fleet: Vec<Workspace> = fleet.iter().rev().cloned().collect();
        let backward = plan(&desired, &reversed_fleet, &history, &policy, now());
        prop_assert_eq!(serde_json::to_string(&forward).unwrap(), serde_json::to_string(&backward).unwrap());
        prop_assert_eq!(forward.render_table(), backward.render_table());
    }
}
