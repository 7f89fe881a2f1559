//! The wsdr decision core: every decision wsdr makes, as pure functions on plain data.
//!
//! - [`users`]: an AD export's bytes → [`users::UsersList`] → [`users::DesiredUsers`] (only when no row was
//!   rejected).
//! - [`username`]: [`username::UserKey`], the one way users are compared (trimmed, NFC, case-folded).
//! - [`workspace`]: WorkSpaces as observed (ids, states, ownership) and the `describe-workspaces` JSON reader.
//! - [`policy`]: the safety policy ([`policy::Policy`], [`policy::Limits`]).
//! - [`plan`]: [`plan::plan`] — what to create, adopt, terminate, keep and ignore, and whether it is blocked.
//! - [`directory`]: LDAP search entries → [`directory::DirectoryUsers`], and [`directory::judge_page`]: whether a
//!   search answer is whole.
//! - [`trigger`]: which users export an S3 notification names.
//! - [`health`], [`failover`]: AWS Health events → failover decisions.
//!
//! Invariants, stated as absences:
//! - this crate performs no I/O, starts no task and reads no clock: `now` is always a parameter;
//! - a [`plan::Plan`] never terminates a WorkSpace that lacks wsdr's ownership tag, that belongs to a listed user
//!   (whatever the case, spacing or normal form of the name), or that is outside the policy's directory;
//! - a plan is blocked rather than terminate on an empty users list, or beyond the policy's allowance;
//! - a users list with a rejected row yields no [`users::DesiredUsers`], so it cannot reach the planner;
//! - the same inputs give byte-identical output (`BTreeMap`s throughout; no hashing order).

pub mod alert;
pub mod directory;
pub mod failover;
pub mod health;
pub mod plan;
pub mod policy;
mod render;
pub mod trigger;
pub mod username;
pub mod users;
pub mod workspace;

/// Serializes a value through its `Display` form (for error enums in reports).
fn serialize_display<T: std::fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
