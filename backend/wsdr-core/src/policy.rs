//! The safety policy a plan obeys: which directory counts, how many terminations one run may carry out, and how
//! long a WorkSpace whose user left is kept before it is terminated.

use serde::Serialize;

use crate::workspace::DirectoryId;

/// The most items AWS accepts in one CreateWorkspaces or TerminateWorkspaces call.
pub const MAX_BATCH: usize = 25;

/// The reconciliation policy, validated once. There is no `Default`: the directory must be named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    directory_id: DirectoryId,
    limits: Limits,
}

/// The configurable limits of a [`Policy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// A plan terminating more WorkSpaces than this is blocked.
    pub max_terminate: u32,
    /// A plan terminating more than this percentage of the owned WorkSpaces is blocked (0–100; 0 forbids any
    /// termination). The percentage is rounded down but allows at least one termination, so a fleet of five can
    /// still lose one user without an override.
    pub max_terminate_percent: u8,
    /// Days a WorkSpace whose user left the list is kept before it is terminated (0 = at the next run).
    pub grace_days: u32,
}

impl Limits {
    /// What an admin would choose: a user's departure takes effect after three days' grace, and no run
    /// removes more than 20 WorkSpaces or a fifth of the fleet without a human raising the limit.
    pub const RECOMMENDED: Limits =
        Limits { max_terminate: 20, max_terminate_percent: 20, grace_days: 3 };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::RECOMMENDED
    }
}

/// A policy value out of range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPolicy {
    /// A percentage above 100.
    #[error("max_terminate_percent is {0}; it must be between 0 and 100")]
    Percent(u8),
    /// A grace period longer than a year.
    #[error("grace_days is {0}; it must be at most 365")]
    GraceDays(u32),
}

impl Policy {
    /// A policy for `directory_id` with `limits`, validated.
    pub fn new(directory_id: DirectoryId, limits: Limits) -> Result<Policy, InvalidPolicy> {
        if limits.max_terminate_percent > 100 {
            return Err(InvalidPolicy::Percent(limits.max_terminate_percent));
        }
        if limits.grace_days > 365 {
            return Err(InvalidPolicy::GraceDays(limits.grace_days));
        }
        Ok(Policy { directory_id, limits })
    }

    /// The DR directory: only its WorkSpaces count.
    pub fn directory_id(&self) -> &DirectoryId {
        &self.directory_id
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many terminations a run may carry out when wsdr owns `owned` live WorkSpaces.
    pub fn termination_allowance(&self, owned: usize) -> usize {
        let Limits { max_terminate, max_terminate_percent, .. } = self.limits;
        let by_percent = match max_terminate_percent {
            0 => 0,
            percent => (owned * usize::from(percent) / 100).max(1),
        };
        by_percent.min(usize::try_from(max_terminate).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_terminate: u32, max_terminate_percent: u8) -> Policy {
        let limits = Limits { max_terminate, max_terminate_percent, grace_days: 0 };
        Policy::new(DirectoryId::new("d-1234567890").unwrap(), limits).unwrap()
    }

    #[test]
    fn allowance_is_the_smaller_cap_with_a_floor_of_one() {
        assert_eq!(policy(20, 20).termination_allowance(100), 20);
        assert_eq!(policy(5, 20).termination_allowance(100), 5);
        assert_eq!(policy(20, 20).termination_allowance(12), 2);
        assert_eq!(policy(20, 20).termination_allowance(3), 1, "a small fleet can lose one user");
        assert_eq!(policy(20, 0).termination_allowance(100), 0, "0 % forbids terminations");
        assert_eq!(policy(0, 100).termination_allowance(100), 0);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let directory = DirectoryId::new("d-1234567890").unwrap();
        let limits = Limits { max_terminate_percent: 101, ..Limits::RECOMMENDED };
        assert_eq!(Policy::new(directory.clone(), limits), Err(InvalidPolicy::Percent(101)));
        let limits = Limits { grace_days: 400, ..Limits::RECOMMENDED };
        assert_eq!(Policy::new(directory, limits), Err(InvalidPolicy::GraceDays(400)));
    }
}
