//! The tray's state in one word, and the rules that give it.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use wsdr_protocol::{State, StatusPayload};

use crate::memory::HistoryEntry;

/// How long after service is restored the tray says so ([`TrayStatus::Recovered`]) before
/// returning to [`TrayStatus::Ready`].
pub const RECOVERED_NOTICE: SignedDuration = SignedDuration::from_hours(24);

/// What the tray shows, as in docs/contracts.md "Tray binary".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrayStatus {
    /// Normal operation; the DR registration code is known.
    Ready,
    /// Failover declared: users should move to the DR WorkSpace.
    Failover,
    /// A DR drill is under way.
    Drill,
    /// The primary region is back (within [`RECOVERED_NOTICE`] of the first normal document
    /// after a failover): users may go back.
    Recovered,
    /// No valid current document: none accepted yet, or the newest has expired.
    Stale,
    /// The configuration is unusable.
    Misconfigured,
}

impl TrayStatus {
    /// Every state, in declaration order.
    pub const ALL: [TrayStatus; 6] = [
        Self::Ready,
        Self::Failover,
        Self::Drill,
        Self::Recovered,
        Self::Stale,
        Self::Misconfigured,
    ];

    /// The wire name (`"ready"`, ...), as `--status` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Failover => "failover",
            Self::Drill => "drill",
            Self::Recovered => "recovered",
            Self::Stale => "stale",
            Self::Misconfigured => "misconfigured",
        }
    }

    /// The state in plain words, for the tray's status line and tooltip.
    pub fn headline(self) -> &'static str {
        match self {
            Self::Ready => "WorkSpaces normal",
            Self::Failover => "Failover: use your DR WorkSpace",
            Self::Drill => "DR drill under way",
            Self::Recovered => "Service restored: you may go back",
            Self::Stale => "Status unknown",
            Self::Misconfigured => "wsdr is not configured correctly",
        }
    }
}

/// The state for a configuration that is valid or not, the current trusted payload (if any),
/// the alert history (newest first) and `now`.
pub fn derive(
    config_ok: bool,
    current: Option<&StatusPayload>,
    history: &[HistoryEntry],
    now: Timestamp,
) -> TrayStatus {
    let Some(payload) = current.filter(|_| config_ok) else {
        return if config_ok { TrayStatus::Stale } else { TrayStatus::Misconfigured };
    };
    if now >= payload.expires_at {
        return TrayStatus::Stale;
    }
    match payload.state {
        State::Failover => TrayStatus::Failover,
        State::Drill => TrayStatus::Drill,
        State::Normal => match recovered_since(history) {
            Some(since) if since.checked_add(RECOVERED_NOTICE).is_ok_and(|until| now < until) => {
                TrayStatus::Recovered
            }
            _ => TrayStatus::Ready,
        },
    }
}

/// When the newest history entry is a normal document that directly followed a failover: that
/// entry's `issued_at` (the moment service was declared restored).
fn recovered_since(history: &[HistoryEntry]) -> Option<Timestamp> {
    match history {
        [newest, previous, ..]
            if newest.state == State::Normal && previous.state == State::Failover =>
        {
            Some(newest.issued_at)
        }
        _ => None,
    }
}
