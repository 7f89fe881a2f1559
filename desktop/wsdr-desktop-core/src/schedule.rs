//! When to poll next: the configured interval with ±20 % jitter (so thousands of trays do not
//! poll in step), and exponential backoff after failures, from [`RETRY_BASE`] up to four
//! intervals. Pure arithmetic: the caller supplies the random fraction.

use std::time::Duration;

/// The first retry after a failure (before jitter).
pub const RETRY_BASE: Duration = Duration::from_secs(10);

/// Jitter, as a fraction of the delay either way.
pub const JITTER: f64 = 0.2;

/// The poll schedule: the interval and how many checks in a row have failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSchedule {
    interval: Duration,
    consecutive_failures: u32,
}

impl PollSchedule {
    /// A schedule polling every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self { interval, consecutive_failures: 0 }
    }

    /// Records the outcome of a check.
    pub fn record(&mut self, succeeded: bool) {
        self.consecutive_failures =
            if succeeded { 0 } else { self.consecutive_failures.saturating_add(1) };
    }

    /// How many checks in a row have failed.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// The delay before the next check; `random` is a uniform fraction in `[0, 1)` (values
    /// outside are clamped, NaN reads as 0.5), mapped to a factor in `[0.8, 1.2)`.
    pub fn next_delay(&self, random: f64) -> Duration {
        let base = match self.consecutive_failures {
            0 => self.interval,
            failures => {
                let doublings = (failures - 1).min(16);
                let backoff = RETRY_BASE.saturating_mul(1 << doublings);
                backoff.min(self.interval.saturating_mul(4))
            }
        };
        let random = if random.is_nan() { 0.5 } else { random.clamp(0.0, 1.0) };
        let factor = 1.0 - JITTER + 2.0 * JITTER * random;
        base.mul_f64(factor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn backoff_doubles_up_to_four_intervals() {
        let mut schedule = PollSchedule::new(Duration::from_secs(300));
        assert_eq!(schedule.next_delay(0.5), Duration::from_secs(300));
        let mut delays = Vec::new();
        for _ in 0..10 {
            schedule.record(false);
            delays.push(schedule.next_delay(0.5).as_secs());
        }
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1200, 1200, 1200]);
        schedule.record(true);
        assert_eq!(schedule.next_delay(0.5), Duration::from_secs(300));
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent(
            interval in 5_u64..=86_400,
            failures in 0_u32..100,
            random in proptest::num::f64::ANY,
        ) {
            let mut schedule = PollSchedule::new(Duration::from_secs(interval));
            for _ in 0..failures {
                schedule.record(false);
            }
            let low = schedule.next_delay(0.0);
            let high = schedule.next_delay(1.0);
            let delay = schedule.next_delay(random);
            prop_assert!(low <= delay && delay <= high);
            let middle = schedule.next_delay(0.5).as_secs_f64();
            prop_assert!((low.as_secs_f64() - 0.8 * middle).abs() < 1e-6 * middle + 1e-6);
            prop_assert!((high.as_secs_f64() - 1.2 * middle).abs() < 1e-6 * middle + 1e-6);
            prop_assert!(delay <= Duration::from_secs(interval * 4).mul_f64(1.2));
        }
    }
}
