//! `plan`: what reconciliation must do to give every desired user exactly one DR WorkSpace, and nothing more.
//!
//! Rules, in the order they apply:
//! - only WorkSpaces of the policy's directory count; the others are ignored ([`IgnoreReason::OtherDirectory`]);
//! - TERMINATING / TERMINATED WorkSpaces are not present and never terminated again;
//! - a listed user's live WorkSpaces: one is designated theirs (usable first, then owned, then newest, then by
//!   id): kept when wsdr owns it, adopted (tagged) when it is untagged, reported as [`IgnoreReason::ErrorState`]
//!   when it is in ERROR (the user gets no duplicate); any other is reported as a duplicate, never terminated;
//! - a listed user with no live WorkSpace gets one created;
//! - an unlisted user's WorkSpace is terminated only when wsdr owns it, its state allows it, and the user has
//!   been missing for the grace period; before that it is pending. Untagged ones are left alone;
//! - the safety policy: an empty list while wsdr owns live WorkSpaces, or more terminations than the policy's
//!   allowance, blocks the plan. A blocked plan still lists what it would do, but executes nothing.
//!
//! The output is a pure function of the inputs, in a stable order: the same inputs give byte-identical JSON.

use std::collections::BTreeMap;
use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::policy::{MAX_BATCH, Policy};
use crate::username::{UserKey, Username};
use crate::users::DesiredUsers;
use crate::workspace::{DirectoryId, Workspace, WorkspaceId, WorkspaceState};

/// Since when each user who still has an owned WorkSpace has been missing from the users list. The state the
/// grace period needs; it lives outside the core, and [`Plan::missing_since`] is its next value.
pub type MissingSince = BTreeMap<UserKey, Timestamp>;

/// What reconciliation will do, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The DR directory planned for.
    pub directory_id: DirectoryId,
    /// Set when the safety policy forbids carrying out this plan.
    pub blocked: Option<Blocked>,
    /// The totals, for a reader who looks at nothing else.
    pub counts: Counts,
    /// Users who get a WorkSpace, in key order.
    pub create: Vec<Create>,
    /// Untagged WorkSpaces of listed users that get wsdr's ownership tag.
    pub adopt: Vec<Adopt>,
    /// Owned WorkSpaces of users who left, past their grace period.
    pub terminate: Vec<Terminate>,
    /// Owned WorkSpaces of users who left, still within their grace period.
    pub pending: Vec<Pending>,
    /// Owned WorkSpaces of listed users that stay as they are.
    pub keep: Vec<Keep>,
    /// WorkSpaces the plan does not act on, each with the reason.
    pub ignore: Vec<Ignored>,
    /// Terminations that are due but held back, and why (see [`Plan::withhold_terminations`]).
    pub withheld: Option<Withheld>,
    /// The next value of the missing-since state (unchanged when the plan is blocked).
    #[serde(skip)]
    pub missing_since: MissingSince,
}

/// The totals of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Users on the list.
    pub desired: usize,
    /// Listed users whose WorkSpace is usable now (readiness = ready / desired).
    pub ready: usize,
    /// WorkSpaces in the input, all directories and states.
    pub workspaces_seen: usize,
    /// Live WorkSpaces in the DR directory that wsdr owns.
    pub owned: usize,
    /// Users to create a WorkSpace for.
    pub create: usize,
    /// CreateWorkspaces calls needed.
    pub create_batches: usize,
    /// WorkSpaces to tag.
    pub adopt: usize,
    /// WorkSpaces to terminate.
    pub terminate: usize,
    /// TerminateWorkspaces calls needed.
    pub terminate_batches: usize,
    /// Terminations waiting for the grace period.
    pub pending: usize,
    /// WorkSpaces kept.
    pub keep: usize,
    /// WorkSpaces ignored.
    pub ignore: usize,
}

/// A WorkSpace to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Create {
    /// The user, spelled as the directory spells them.
    pub user: Username,
}

/// An untagged WorkSpace of a listed user, to tag as wsdr's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Adopt {
    /// The WorkSpace.
    pub workspace_id: WorkspaceId,
    /// Its user, as WorkSpaces reports them.
    pub user: String,
    /// Its state.
    pub state: WorkspaceState,
}

/// An owned WorkSpace to terminate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Terminate {
    /// The WorkSpace.
    pub workspace_id: WorkspaceId,
    /// Its user, as WorkSpaces reports them.
    pub user: String,
    /// Its state.
    pub state: WorkspaceState,
    /// Since when the user has been missing from the list.
    pub missing_since: Timestamp,
}

/// An owned WorkSpace whose user left, kept until the grace period ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// The WorkSpace.
    pub workspace_id: WorkspaceId,
    /// Its user, as WorkSpaces reports them.
    pub user: String,
    /// Since when the user has been missing from the list.
    pub missing_since: Timestamp,
    /// When it becomes due for termination.
    pub due_at: Timestamp,
}

/// An owned WorkSpace of a listed user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Keep {
    /// The WorkSpace.
    pub workspace_id: WorkspaceId,
    /// Its user, as WorkSpaces reports them.
    pub user: String,
    /// Its state.
    pub state: WorkspaceState,
    /// Whether the user could connect to it now.
    pub usable: bool,
}

/// A WorkSpace the plan leaves alone, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// The WorkSpace.
    pub workspace_id: WorkspaceId,
    /// Its user, as WorkSpaces reports them.
    pub user: Option<String>,
    /// Its state.
    pub state: WorkspaceState,
    /// Whether wsdr owns it.
    pub owned: bool,
    /// Why it is left alone.
    pub reason: IgnoreReason,
}

/// Terminations held back while something outside the users list forbids them (e.g. users working on DR).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Withheld {
    /// Why, for a human.
    pub reason: String,
    /// The terminations that were due; the next run without the reason carries them out.
    pub terminate: Vec<Terminate>,
}

/// Why a WorkSpace is left alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum IgnoreReason {
    /// It belongs to another directory.
    OtherDirectory {
        /// That directory.
        directory_id: String,
    },
    /// Its user is not listed and wsdr does not own it.
    NotOwned,
    /// It is terminating or terminated.
    Terminating,
    /// It is its listed user's only WorkSpace, in ERROR: the user gets no duplicate; an admin should rebuild it.
    ErrorState,
    /// Its user has another WorkSpace that the plan keeps.
    Duplicate {
        /// The WorkSpace kept for the user.
        kept: WorkspaceId,
    },
    /// Its user left, but TerminateWorkspaces would refuse its state (SUSPENDED) or wsdr does not know it.
    CannotTerminate,
    /// Its user name is not one wsdr can match (missing, reserved or invalid).
    InvalidUserName {
        /// Why.
        detail: String,
    },
}

/// Why the safety policy blocks a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blocked {
    /// A stable code for alarms and scripts.
    pub code: BlockCode,
    /// What happened and what to do, for a human.
    pub reason: String,
}

/// The kinds of block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockCode {
    /// The users list is empty while wsdr owns live WorkSpaces.
    EmptyUsersList,
    /// More terminations than the policy allows.
    TooManyTerminations,
}

/// Plans reconciliation of `current` towards `desired` under `policy`, at `now`.
pub fn plan(
    desired: &DesiredUsers,
    current: &[Workspace],
    missing_since: &MissingSince,
    policy: &Policy,
    now: Timestamp,
) -> Plan {
    let grace = SignedDuration::from_hours(i64::from(policy.limits().grace_days) * 24);
    let mut plan = Plan {
        directory_id: policy.directory_id().clone(),
        blocked: None,
        counts: Counts {
            desired: desired.len(),
            workspaces_seen: current.len(),
            ..Counts::default()
        },
        create: Vec::new(),
        adopt: Vec::new(),
        terminate: Vec::new(),
        pending: Vec::new(),
        keep: Vec::new(),
        ignore: Vec::new(),
        withheld: None,
        missing_since: MissingSince::new(),
    };

    // Live WorkSpaces of the directory, keyed by user; everything else is ignored with its reason.
    let mut live: Vec<(UserKey, &Workspace)> = Vec::with_capacity(current.len());
    for workspace in current {
        let reason = if workspace.directory_id != policy.directory_id().as_str() {
            IgnoreReason::OtherDirectory { directory_id: workspace.directory_id.clone() }
        } else if workspace.state.is_gone() {
            IgnoreReason::Terminating
        } else {
            match UserKey::new(workspace.user_name.as_deref().unwrap_or_default()) {
                Ok(key) => {
                    live.push((key, workspace));
                    continue;
                }
                Err(error) => IgnoreReason::InvalidUserName { detail: error.to_string() },
            }
        };
        plan.ignore(workspace, reason);
    }
    plan.counts.owned = live.iter().filter(|(_, w)| w.owned).count();

    // A merge join of two key-ordered sequences: each user's WorkSpaces against the desired users. Every list
    // below is built in key order (then by id within a user), so the output never depends on input order.
    live.sort_unstable_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.id.cmp(&y.id)));
    let mut desired_users = desired.iter().peekable();
    for group in live.chunk_by(|(a, _), (b, _)| a == b) {
        let key = &group[0].0;
        while let Some((_, name)) = desired_users.next_if(|(desired_key, _)| *desired_key < key) {
            plan.create.push(Create { user: name.clone() });
        }
        if desired_users.next_if(|(desired_key, _)| *desired_key == key).is_some() {
            // Usable first, then owned (no tagging needed), then the newest (the one the user can reach).
            let preference = |w: &Workspace| (w.state.is_usable(), w.owned, w.created_at);
            let designated = group
                .iter()
                .map(|(_, w)| *w)
                .reduce(|best, w| if preference(w) > preference(best) { w } else { best })
                .expect("chunk_by never yields an empty group");
            plan.designate(designated);
            for (_, other) in group.iter().filter(|(_, w)| w.id != designated.id) {
                plan.ignore(other, IgnoreReason::Duplicate { kept: designated.id.clone() });
            }
        } else {
            plan.leaver(key, group.iter().map(|(_, w)| *w), missing_since, grace, now);
        }
    }
    plan.create.extend(desired_users.map(|(_, name)| Create { user: name.clone() }));

    plan.block_if_unsafe(desired, policy, missing_since);
    plan.ignore.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
    plan.count();
    plan
}

impl Plan {
    /// Whether the safety policy forbids carrying out this plan.
    pub fn is_blocked(&self) -> bool {
        self.blocked.is_some()
    }

    /// Whether the plan changes nothing (no create, adopt or terminate).
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.adopt.is_empty() && self.terminate.is_empty()
    }

    /// The creations, in CreateWorkspaces-sized batches.
    pub fn create_batches(&self) -> std::slice::Chunks<'_, Create> {
        self.create.chunks(MAX_BATCH)
    }

    /// The terminations, in TerminateWorkspaces-sized batches.
    pub fn terminate_batches(&self) -> std::slice::Chunks<'_, Terminate> {
        self.terminate.chunks(MAX_BATCH)
    }

    /// Holds back every due termination (creations and adoptions still happen), e.g. while DR is active: users
    /// are working on their DR WorkSpaces and the users export may come from a directory in the failed region.
    /// The grace-period state is unchanged, so the terminations happen at the first run after the reason ends.
    pub fn withhold_terminations(&mut self, reason: impl Into<String>) {
        if self.terminate.is_empty() {
            return;
        }
        let terminate = std::mem::take(&mut self.terminate);
        self.withheld = Some(Withheld { reason: reason.into(), terminate });
        self.count();
    }

    /// Readiness: the share of desired users whose DR WorkSpace is usable now (1.0 for an empty list).
    pub fn readiness(&self) -> f64 {
        if self.counts.desired == 0 {
            return 1.0;
        }
        // Counts are far below 2^52: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let ratio = self.counts.ready as f64 / self.counts.desired as f64;
        ratio
    }

    fn designate(&mut self, workspace: &Workspace) {
        let (workspace_id, user, state) =
            (workspace.id.clone(), reported_user(workspace), workspace.state.clone());
        if workspace.state == WorkspaceState::Error {
            self.ignore(workspace, IgnoreReason::ErrorState);
        } else if workspace.owned {
            let usable = state.is_usable();
            self.keep.push(Keep { workspace_id, user, state, usable });
        } else {
            self.adopt.push(Adopt { workspace_id, user, state });
        }
        if workspace.state.is_usable() {
            self.counts.ready += 1;
        }
    }

    /// The WorkSpaces of a user who is not desired: owned ones are terminated once the grace period has passed.
    fn leaver<'a>(
        &mut self,
        key: &UserKey,
        workspaces: impl Iterator<Item = &'a Workspace>,
        missing_since: &MissingSince,
        grace: SignedDuration,
        now: Timestamp,
    ) {
        let since = missing_since.get(key).copied().unwrap_or(now);
        let mut owns_one = false;
        for workspace in workspaces {
            if !workspace.owned {
                self.ignore(workspace, IgnoreReason::NotOwned);
                continue;
            }
            owns_one = true;
            if !workspace.state.can_terminate() {
                self.ignore(workspace, IgnoreReason::CannotTerminate);
                continue;
            }
            let due_at = since.checked_add(grace).unwrap_or(Timestamp::MAX);
            let (workspace_id, user) = (workspace.id.clone(), reported_user(workspace));
            if due_at <= now {
                let state = workspace.state.clone();
                self.terminate.push(Terminate { workspace_id, user, state, missing_since: since });
            } else {
                self.pending.push(Pending { workspace_id, user, missing_since: since, due_at });
            }
        }
        if owns_one {
            self.missing_since.insert(key.clone(), since);
        }
    }

    fn ignore(&mut self, workspace: &Workspace, reason: IgnoreReason) {
        self.ignore.push(Ignored {
            workspace_id: workspace.id.clone(),
            user: workspace.user_name.clone(),
            state: workspace.state.clone(),
            owned: workspace.owned,
            reason,
        });
    }

    fn block_if_unsafe(
        &mut self,
        desired: &DesiredUsers,
        policy: &Policy,
        missing_since: &MissingSince,
    ) {
        let owned = self.counts.owned;
        let directory = policy.directory_id();
        let blocked = if desired.is_empty() && owned > 0 {
            Some(Blocked {
                code: BlockCode::EmptyUsersList,
                reason: format!(
                    "the users list is empty while wsdr owns {owned} live WorkSpace(s) in {directory}: an AD query \
                     failure, a wrong OU or an empty upload looks like this, so nothing will be terminated or \
                     created. Upload a list with the users, or terminate by hand if the OU really is empty."
                ),
            })
        } else {
            let allowance = policy.termination_allowance(owned);
            let count = self.terminate.len();
            (count > allowance).then(|| {
                let limits = policy.limits();
                Blocked {
                    code: BlockCode::TooManyTerminations,
                    reason: format!(
                        "this plan would terminate {count} WorkSpace(s) but the policy allows {allowance} \
                         (max_terminate {}, max_terminate_percent {} % of {owned} owned): nothing will be changed. \
                         Check the users list; if the terminations are intended, raise the limits for one run.",
                        limits.max_terminate, limits.max_terminate_percent
                    ),
                }
            })
        };
        if blocked.is_some() {
            // A blocked plan executes nothing, not even the start of a grace period.
            self.missing_since = missing_since.clone();
            self.blocked = blocked;
        }
    }

    fn count(&mut self) {
        let counts = &mut self.counts;
        counts.create = self.create.len();
        counts.create_batches = self.create.len().div_ceil(MAX_BATCH);
        counts.adopt = self.adopt.len();
        counts.terminate = self.terminate.len();
        counts.terminate_batches = self.terminate.len().div_ceil(MAX_BATCH);
        counts.pending = self.pending.len();
        counts.keep = self.keep.len();
        counts.ignore = self.ignore.len();
    }
}

fn reported_user(workspace: &Workspace) -> String {
    workspace.user_name.clone().unwrap_or_default()
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreReason::OtherDirectory { directory_id } => {
                write!(f, "in another directory ({directory_id})")
            }
            IgnoreReason::NotOwned => {
                f.write_str("not listed, and not created by wsdr: left alone")
            }
            IgnoreReason::Terminating => f.write_str("already terminating"),
            IgnoreReason::ErrorState => f.write_str(
                "the user's WorkSpace is in ERROR: no duplicate is created; rebuild or replace it",
            ),
            IgnoreReason::Duplicate { kept } => {
                write!(f, "the user's second WorkSpace ({kept} is kept): review it")
            }
            IgnoreReason::CannotTerminate => {
                f.write_str("not listed, but its state cannot be terminated")
            }
            IgnoreReason::InvalidUserName { detail } => write!(f, "unusable user name: {detail}"),
        }
    }
}
