//! What the tray remembers between runs, as plain data: the last accepted document (so the DR
//! registration code is known offline and after a reboot), the highest sequence seen (so a
//! replayed older document is refused), the alert history and the `ETag`.
//!
//! [`crate::store`] writes it to disk; nothing here does I/O.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use wsdr_protocol::{HighestSeen, KeyRing, SiteRole, State, StatusPayload, Verified, verify};

/// How many alert-history entries are kept (newest first).
pub const HISTORY_LEN: usize = 50;

/// The persisted memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// The newest document accepted.
    #[serde(default)]
    pub accepted: Option<AcceptedDocument>,
    /// The verifier's memory: the newest accepted sequence and its payload digest.
    #[serde(default)]
    pub highest_seen: Option<HighestSeen>,
    /// When a check last succeeded (a new document, or the same one again).
    #[serde(default)]
    pub last_success_at: Option<Timestamp>,
    /// The `ETag` of the accepted document, sent back as `If-None-Match`.
    #[serde(default)]
    pub etag: Option<String>,
    /// What users were told, newest first: one entry per change of state, site or message.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

/// A document exactly as received, and when it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedDocument {
    /// The signed envelope as received (JSON text).
    pub envelope: String,
    /// When the tray accepted it (the tray's clock).
    pub accepted_at: Timestamp,
}

impl AcceptedDocument {
    /// Verifies the stored envelope again with today's keys, at the instant it was accepted: a
    /// document signed by a key that has since been removed from the configuration is no longer
    /// trusted, and one edited on disk never was. Expiry is judged later, against `now`.
    pub fn reverify(&self, keys: &KeyRing) -> Option<Verified> {
        verify(self.envelope.as_bytes(), keys, None, self.accepted_at).ok()
    }
}

/// One entry of the alert history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// The document's sequence.
    pub sequence: u64,
    /// When the backend issued it.
    pub issued_at: Timestamp,
    /// `normal`, `failover` or `drill`.
    pub state: State,
    /// The site users were told to use.
    pub active: SiteRole,
    /// The admins' title.
    pub title: String,
    /// The admins' message.
    pub body: String,
}

impl HistoryEntry {
    /// The entry for a verified payload.
    pub fn of(payload: &StatusPayload) -> Self {
        Self {
            sequence: payload.sequence,
            issued_at: payload.issued_at,
            state: payload.state,
            active: payload.active,
            title: payload.message.title().to_owned(),
            body: payload.message.body().to_owned(),
        }
    }

    /// Whether two entries tell users the same thing (a re-published document does).
    fn same_news(&self, other: &Self) -> bool {
        (self.state, self.active, &self.title, &self.body)
            == (other.state, other.active, &other.title, &other.body)
    }
}

impl Memory {
    /// Records a newly accepted document.
    pub fn accept(
        &mut self,
        envelope: &[u8],
        verified: &Verified,
        etag: Option<String>,
        now: Timestamp,
    ) {
        self.accepted = Some(AcceptedDocument {
            envelope: String::from_utf8_lossy(envelope).into_owned(),
            accepted_at: now,
        });
        self.highest_seen = Some(verified.highest_seen());
        self.last_success_at = Some(now);
        self.etag = etag;
        let entry = HistoryEntry::of(verified.payload());
        if self.history.first().is_none_or(|newest| !newest.same_news(&entry)) {
            self.history.insert(0, entry);
            self.history.truncate(HISTORY_LEN);
        }
    }
}
