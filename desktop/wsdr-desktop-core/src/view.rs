//! [`View`]: everything the window shows and `wsdr-tray --status` prints, as one serialisable
//! value. Fields are only added, never renamed: helpdesk scripts read `state` and
//! `dr_registration_code`.

use jiff::Timestamp;
use serde::Serialize;
use wsdr_protocol::{SiteRole, StatusPayload};

use crate::memory::HistoryEntry;
use crate::status::TrayStatus;
use crate::tray::{CheckOutcome, TrayCore};

/// The tray's state for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// `ready | failover | drill | recovered | stale | misconfigured`.
    pub state: TrayStatus,
    /// The state in plain words.
    pub headline: String,
    /// What is wrong with the configuration (only when `misconfigured`).
    pub problems: Vec<String>,
    /// The DR site's registration code or alias, when known.
    pub dr_registration_code: Option<String>,
    /// The primary site's registration code or alias, when known.
    pub primary_registration_code: Option<String>,
    /// The DR region, when known.
    pub dr_region: Option<String>,
    /// The primary region, when known.
    pub primary_region: Option<String>,
    /// Which site users should use (`primary` or `dr`), when known.
    pub active: Option<SiteRole>,
    /// The admins' message of the current document.
    pub message: Option<MessageView>,
    /// The current document's sequence, issue and expiry times.
    pub document: Option<DocumentView>,
    /// When a check last succeeded.
    pub last_success_at: Option<Timestamp>,
    /// The last check of this run.
    pub last_check: Option<LastCheckView>,
    /// The user name the client is opened with.
    pub username: Option<String>,
    /// Where the status document comes from.
    pub status_url: Option<String>,
    /// What users were told, newest first.
    pub history: Vec<HistoryEntry>,
}

/// The admins' message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    /// One line.
    pub title: String,
    /// Plain text, may hold line feeds.
    pub body: String,
}

/// The current document's identity and validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentView {
    /// Its sequence.
    pub sequence: u64,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// The last check, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastCheckView {
    /// When it ended.
    pub at: Timestamp,
    /// `accepted`, `unchanged`, `rejected`, `failed` or `not_configured`.
    pub outcome: &'static str,
    /// The reason, for `rejected` and `failed`.
    pub detail: Option<String>,
}

impl View {
    /// The view of `core` at `now`.
    pub(crate) fn new(core: &TrayCore, now: Timestamp) -> Self {
        let state = core.status(now);
        let payload: Option<&StatusPayload> =
            core.config().ok().and(core.current()).map(|verified| verified.payload());
        let config = core.config();
        Self {
            state,
            headline: state.headline().to_owned(),
            problems: match config {
                Ok(_) => Vec::new(),
                Err(error) => error.problems().iter().map(ToString::to_string).collect(),
            },
            dr_registration_code: payload.map(|p| p.dr.registration_code.as_str().to_owned()),
            primary_registration_code: payload
                .map(|p| p.primary.registration_code.as_str().to_owned()),
            dr_region: payload.map(|p| p.dr.region.as_str().to_owned()),
            primary_region: payload.map(|p| p.primary.region.as_str().to_owned()),
            active: payload.map(|p| p.active),
            message: payload.map(|p| MessageView {
                title: p.message.title().to_owned(),
                body: p.message.body().to_owned(),
            }),
            document: payload.map(|p| DocumentView {
                sequence: p.sequence,
                issued_at: p.issued_at,
                expires_at: p.expires_at,
            }),
            last_success_at: core.memory().last_success_at,
            last_check: core.last_check().map(|check| {
                let (outcome, detail) = match &check.outcome {
                    CheckOutcome::Accepted { .. } => ("accepted", None),
                    CheckOutcome::Unchanged => ("unchanged", None),
                    CheckOutcome::Rejected(rejection) => ("rejected", Some(rejection.to_string())),
                    CheckOutcome::Failed(reason) => ("failed", Some(reason.clone())),
                    CheckOutcome::NotConfigured => ("not_configured", None),
                };
                LastCheckView { at: check.at, outcome, detail }
            }),
            username: config.ok().map(|c| c.username.as_str().to_owned()),
            status_url: config.ok().map(|c| c.status_url.to_string()),
            history: core.memory().history.clone(),
        }
    }
}
