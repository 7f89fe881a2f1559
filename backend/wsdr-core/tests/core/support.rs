//! Shared helpers: fixtures, builders for WorkSpaces and policies.

use std::path::PathBuf;

use jiff::Timestamp;
use wsdr_core::plan::{MissingSince, Plan, plan};
use wsdr_core::policy::{Limits, Policy};
use wsdr_core::username::Username;
use wsdr_core::users::DesiredUsers;
use wsdr_core::workspace::{DirectoryId, Workspace, WorkspaceId, WorkspaceState};

/// The DR directory of every test.
pub(crate) const DIRECTORY: &str = "d-1234567890";

/// A fixed "now", so snapshots are stable.
pub(crate) fn now() -> Timestamp {
    "2026-11-24T12:00:00Z".parse().unwrap()
}

/// The bytes of `tests/fixtures/<name>` at the workspace root.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Desired users from plain names.
pub(crate) fn desired(names: &[&str]) -> DesiredUsers {
    DesiredUsers::from_names(names.iter().map(|name| Username::new(name).unwrap()))
}

/// A policy for [`DIRECTORY`] with no grace period and generous caps, unless a test says otherwise.
pub(crate) fn policy(limits: Limits) -> Policy {
    Policy::new(DirectoryId::new(DIRECTORY).unwrap(), limits).unwrap()
}

/// Limits that never block and never wait.
pub(crate) const OPEN: Limits =
    Limits { max_terminate: u32::MAX, max_terminate_percent: 100, grace_days: 0 };

/// A WorkSpace builder: `ws(1, "jsmith")` is owned, AVAILABLE, in [`DIRECTORY`].
pub(crate) fn ws(n: u32, user: &str) -> Workspace {
    Workspace {
        id: WorkspaceId::new(&format!("ws-{n:09}")).unwrap(),
        directory_id: DIRECTORY.to_owned(),
        user_name: Some(user.to_owned()),
        state: WorkspaceState::Available,
        owned: true,
        created_at: None,
    }
}

/// Convenience modifiers for [`ws`].
pub(crate) trait WorkspaceExt {
    /// Without wsdr's tag.
    fn untagged(self) -> Self;
    /// In `state`.
    fn state(self, state: &str) -> Self;
    /// In another directory.
    fn directory(self, directory: &str) -> Self;
}

impl WorkspaceExt for Workspace {
    fn untagged(mut self) -> Self {
        self.owned = false;
        self
    }
    fn state(mut self, state: &str) -> Self {
        self.state = WorkspaceState::parse(state);
        self
    }
    fn directory(mut self, directory: &str) -> Self {
        self.directory_id = directory.to_owned();
        self
    }
}

/// Plans with no missing-since history at [`now`].
pub(crate) fn plan_now(desired: &DesiredUsers, current: &[Workspace], limits: Limits) -> Plan {
    plan(desired, current, &MissingSince::new(), &policy(limits), now())
}

/// The ids a plan terminates.
pub(crate) fn terminated(plan: &Plan) -> Vec<&str> {
    plan.terminate.iter().map(|t| t.workspace_id.as_str()).collect()
}

/// The users a plan creates for.
pub(crate) fn created(plan: &Plan) -> Vec<&str> {
    plan.create.iter().map(|c| c.user.as_str()).collect()
}
