//! [`TrayCore`]: the tray's state machine, with no I/O. It takes what a poll brought back
//! ([`FetchOutcome`]) and the time, and says what changed ([`Update`]); everything shown is
//! derived from it on demand ([`TrayCore::status`], [`TrayCore::view`], [`TrayCore::menu`]).

use jiff::Timestamp;
use wsdr_protocol::{KeyRing, LaunchUri, Rejection, Verified, verify};

use crate::config::{Config, ConfigError};
use crate::connect::{self, ConnectRefusal, ConnectTarget};
use crate::fetch::FetchOutcome;
use crate::memory::Memory;
use crate::menu::{MenuInputs, MenuSpec};
use crate::notification::{self, Announcement, NewsKind, Notification};
use crate::status::{self, TrayStatus};
use crate::view::View;

/// How one check ended, as the window's "last check" line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// A new document was verified and accepted.
    Accepted {
        /// Its sequence.
        sequence: u64,
    },
    /// The server sent the document already accepted, or answered 304 Not Modified.
    Unchanged,
    /// The server sent a document that failed verification; nothing trusted changed.
    Rejected(Rejection),
    /// The document could not be fetched.
    Failed(String),
    /// There is no usable configuration, so nothing was fetched.
    NotConfigured,
}

impl CheckOutcome {
    /// Whether the status server answered with something usable (for the poll backoff): a
    /// rejected document counts as a failure.
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Accepted { .. } | Self::Unchanged)
    }
}

/// A check and when it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    /// When.
    pub at: Timestamp,
    /// How it ended.
    pub outcome: CheckOutcome,
}

/// What one check changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// How the check ended.
    pub outcome: CheckOutcome,
    /// Whether [`TrayCore::memory`] changed and should be saved.
    pub memory_changed: bool,
    /// The notification to show, if this check brought news.
    pub notification: Option<Notification>,
}

/// The tray's state: configuration, memory, the current trusted document, the last check, and
/// what users were last told.
#[derive(Debug, Clone)]
pub struct TrayCore {
    config: Result<Config, ConfigError>,
    memory: Memory,
    current: Option<Verified>,
    last_check: Option<CheckRecord>,
    announced: Option<Announcement>,
    autostart: bool,
}

impl TrayCore {
    /// The state after start-up: the remembered document is trusted again only if it still
    /// verifies with the configured keys ([`crate::AcceptedDocument::reverify`]); what it says
    /// counts as already announced, so a restart does not notify again.
    pub fn new(config: Result<Config, ConfigError>, memory: Memory, now: Timestamp) -> Self {
        let current = match (&config, &memory.accepted) {
            (Ok(config), Some(accepted)) => accepted.reverify(&config.keys),
            _ => None,
        };
        let mut core =
            Self { config, memory, current, last_check: None, announced: None, autostart: false };
        core.announced = core.announcement(now);
        core
    }

    /// Takes the result of a poll.
    pub fn on_fetch(&mut self, fetched: FetchOutcome, now: Timestamp) -> Update {
        let outcome = match (&self.config, fetched) {
            (Err(_), _) => CheckOutcome::NotConfigured,
            (Ok(_), FetchOutcome::Failed(reason)) => CheckOutcome::Failed(reason),
            (Ok(_), FetchOutcome::NotModified) if self.current.is_some() => CheckOutcome::Unchanged,
            (Ok(_), FetchOutcome::NotModified) => {
                CheckOutcome::Failed("304 Not Modified, but no document is held".to_owned())
            }
            (Ok(config), FetchOutcome::Document { body, etag }) => {
                // A clone of a few keys per poll keeps the borrow of `self.config` short.
                let keys = config.keys.clone();
                self.verify_and_accept(&keys, &body, etag, now)
            }
        };
        let memory_changed = outcome.succeeded();
        if memory_changed {
            self.memory.last_success_at = Some(now);
        }
        match &outcome {
            CheckOutcome::Rejected(rejection) => {
                tracing::warn!(%rejection, "status document rejected; nothing trusted changed");
            }
            CheckOutcome::Failed(reason) => tracing::warn!(%reason, "status check failed"),
            CheckOutcome::Accepted { sequence } => {
                tracing::info!(sequence, "status document accepted");
            }
            CheckOutcome::Unchanged | CheckOutcome::NotConfigured => {}
        }
        self.last_check = Some(CheckRecord { at: now, outcome: outcome.clone() });
        let notification = self.take_news(now);
        Update { outcome, memory_changed, notification }
    }

    fn verify_and_accept(
        &mut self,
        keys: &KeyRing,
        body: &[u8],
        etag: Option<String>,
        now: Timestamp,
    ) -> CheckOutcome {
        let verified = match verify(body, keys, self.memory.highest_seen.as_ref(), now) {
            Ok(verified) => verified,
            // The newest document again. If it is not held (its stored copy no longer
            // verified at start-up, say after a key rotation), it verified just now with
            // today's keys: take it.
            Err(rejection) if rejection.is_unchanged() => {
                self.memory.etag = etag.clone().or(self.memory.etag.take());
                if self.current.is_some() {
                    return CheckOutcome::Unchanged;
                }
                match verify(body, keys, None, now) {
                    Ok(verified) => verified,
                    Err(rejection) => return CheckOutcome::Rejected(rejection),
                }
            }
            Err(rejection) => return CheckOutcome::Rejected(rejection),
        };
        let sequence = verified.payload().sequence;
        self.memory.accept(body, &verified, etag, now);
        self.current = Some(verified);
        CheckOutcome::Accepted { sequence }
    }

    /// The notification for what users have not been told yet, if any.
    fn take_news(&mut self, now: Timestamp) -> Option<Notification> {
        let next = self.announcement(now)?;
        let notification = notification::decide(self.announced.as_ref(), &next);
        self.announced = Some(next);
        notification
    }

    /// What a current trusted document tells users now (`None` when stale or misconfigured).
    fn announcement(&self, now: Timestamp) -> Option<Announcement> {
        let kind = NewsKind::of(self.status(now))?;
        let message = &self.current.as_ref()?.payload().message;
        Some(Announcement {
            kind,
            title: message.title().to_owned(),
            body: message.body().to_owned(),
        })
    }

    /// The state now.
    pub fn status(&self, now: Timestamp) -> TrayStatus {
        status::derive(
            self.config.is_ok(),
            self.current.as_ref().map(Verified::payload),
            &self.memory.history,
            now,
        )
    }

    /// Everything the window and `--status` show.
    pub fn view(&self, now: Timestamp) -> View {
        View::new(self, now)
    }

    /// The tray menu now.
    pub fn menu(&self, now: Timestamp) -> MenuSpec {
        MenuSpec::new(MenuInputs {
            status: self.status(now),
            codes_known: self.current.is_some(),
            autostart: self.autostart,
        })
    }

    /// The launch URI for `target`, or why there is none.
    ///
    /// # Errors
    /// [`ConnectRefusal`] when misconfigured or no document was ever verified.
    pub fn connect(&self, target: ConnectTarget) -> Result<LaunchUri, ConnectRefusal> {
        let config = self.config.as_ref().map_err(ToString::to_string);
        connect::launch_uri(config, self.current.as_ref(), target)
    }

    /// The `ETag` to send as `If-None-Match` (only while its document is held).
    pub fn etag(&self) -> Option<&str> {
        self.current.as_ref().and(self.memory.etag.as_deref())
    }

    /// The configuration, or why there is none.
    pub fn config(&self) -> Result<&Config, &ConfigError> {
        self.config.as_ref()
    }

    /// What persists.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The current trusted document (possibly expired: see [`TrayCore::status`]).
    pub fn current(&self) -> Option<&Verified> {
        self.current.as_ref()
    }

    /// The last check, if any.
    pub fn last_check(&self) -> Option<&CheckRecord> {
        self.last_check.as_ref()
    }

    /// Whether the tray starts at login (shown as a menu toggle).
    pub fn autostart(&self) -> bool {
        self.autostart
    }

    /// Records whether the tray starts at login.
    pub fn set_autostart(&mut self, enabled: bool) {
        self.autostart = enabled;
    }
}
