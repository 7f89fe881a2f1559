//! The drivers' clock: a trait so that tests and the CLI's `--now` can set the time, and the one place in this
//! crate that reads the system clock.

use std::time::Duration;

use jiff::Timestamp;
use wsdr_drivers::ports::Pause;

/// Tells the time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The sanctioned clock read of the AWS side.
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock stopped at one instant.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// The drivers' [`Pause`] on tokio's timer, with the jitter that spreads contenders out.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioPause;

impl Pause for TokioPause {
    async fn after_lost_race(&self, attempt: usize) {
        let attempt = u64::try_from(attempt).unwrap_or(u64::MAX).min(16);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(10..=50) * attempt)).await;
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
