//! What the tray shell does when the tray icon cannot be created or updated (pure).
//!
//! At login the tray may start before the taskbar exists (Windows autostart, an explorer
//! restart; under Wine, before its system tray). Creating the icon or changing its image then
//! fails. That must not be fatal: an update that failed is not "shown", so it is tried again,
//! after a short backoff ([`Presence::record`]) and at every later render; tray-icon itself adds
//! the icon again when the taskbar announces itself (`TaskbarCreated`), with what was last shown
//! successfully. Creating the icon is retried a bounded number of times ([`creation_retry`]);
//! then the tray exits with an error instead of running invisible or hanging.

use std::time::Duration;

/// The first retry's delay; each failure doubles it, up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest delay between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(30);
/// How many times creating the tray icon is tried before the tray gives up (about 3 minutes).
pub const CREATE_ATTEMPTS: u32 = 10;

/// When to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Nothing to retry: shown, or a retry is already scheduled.
    Nothing,
    /// Schedule one retry after this delay.
    Delay(Duration),
}

/// The delay after the `failures`-th consecutive failure (1-based): 1 s, 2 s, 4 s, … 30 s.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY)
}

/// Whether creating the tray icon is tried again after `failed_attempts` failures, and when;
/// `None`: give up (the tray exits with an error).
pub fn creation_retry(failed_attempts: u32) -> Option<Duration> {
    (failed_attempts < CREATE_ATTEMPTS).then(|| backoff(failed_attempts))
}

/// What is on the tray icon (`T`: the state and menu shown), as far as the shell knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence<T> {
    shown: Option<T>,
    failures: u32,
    retry_scheduled: bool,
}

impl<T> Default for Presence<T> {
    fn default() -> Self {
        Self { shown: None, failures: 0, retry_scheduled: false }
    }
}

impl<T: PartialEq> Presence<T> {
    /// Nothing shown yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `wanted` must be put on the tray icon: it is not what was last shown successfully
    /// (a failed update leaves nothing known to be shown, so it is always tried again).
    pub fn needs_update(&self, wanted: &T) -> bool {
        self.shown.as_ref() != Some(wanted)
    }

    /// Records an attempt to show `wanted`; says whether to schedule a retry.
    pub fn record(&mut self, wanted: T, succeeded: bool) -> RetryAfter {
        if succeeded {
            self.shown = Some(wanted);
            self.failures = 0;
            return RetryAfter::Nothing;
        }
        self.shown = None;
        self.failures = self.failures.saturating_add(1);
        if self.retry_scheduled {
            return RetryAfter::Nothing;
        }
        self.retry_scheduled = true;
        RetryAfter::Delay(backoff(self.failures))
    }

    /// The scheduled retry is running now (another may be scheduled after it).
    pub fn retry_started(&mut self) {
        self.retry_scheduled = false;
    }

    /// Consecutive failed attempts.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_update_is_retried_until_it_succeeds() {
        let mut presence = Presence::new();
        assert!(presence.needs_update(&"stale"));
        // No taskbar yet: the first update fails; one retry is scheduled, not one per render.
        assert_eq!(presence.record("stale", false), RetryAfter::Delay(Duration::from_secs(1)));
        assert!(presence.needs_update(&"stale"), "a failed update must not count as shown");
        assert_eq!(presence.record("ready", false), RetryAfter::Nothing);
        presence.retry_started();
        assert_eq!(presence.record("ready", false), RetryAfter::Delay(Duration::from_secs(4)));
        presence.retry_started();
        // The taskbar is there: shown, and the same state is not pushed again.
        assert_eq!(presence.record("ready", true), RetryAfter::Nothing);
        assert!(!presence.needs_update(&"ready"));
        assert!(presence.needs_update(&"failover"));
        assert_eq!(presence.failures(), 0);
        // A later failure starts the backoff again from its first step.
        assert_eq!(presence.record("failover", false), RetryAfter::Delay(Duration::from_secs(1)));
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let delays: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
    }

    #[test]
    fn creating_the_icon_is_retried_a_bounded_number_of_times() {
        let delays: Vec<Duration> = (1..).map_while(creation_retry).collect();
        assert_eq!(delays.len(), (CREATE_ATTEMPTS - 1) as usize);
        let total: Duration = delays.iter().sum();
        assert!(total > Duration::from_secs(60) && total < Duration::from_secs(240), "{total:?}");
        assert_eq!(creation_retry(CREATE_ATTEMPTS), None);
    }
}
