//! Admin notices (SNS) and the default messages users see, one text per [`NoticeKind`].
//!
//! Every notice says what happened, what users now see, and the exact command to run next (see
//! [`commands`]). The subject is SNS-safe: printable ASCII only (other characters become `?`),
//! no line breaks, at most [`SUBJECT_MAX_CHARS`] characters.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Cause, FailoverPolicy, Message, Mode, Site, StatusChange, commands};
use crate::health::{HealthEventSummary, Region};

/// Longest SNS subject: SNS requires fewer than 100 characters.
pub const SUBJECT_MAX_CHARS: usize = 99;

/// What a notice reports; also the SNS attribute `wsdr_event_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// An open WorkSpaces issue in the primary; an admin should decide.
    FailoverRecommended,
    /// `auto_failover` moved users to DR.
    AutoFailover,
    /// An admin declared failover.
    FailoverDeclared,
    /// A new issue opened while users were still on DR after a recovery: back to failover.
    IssueDuringRecovery,
    /// The issue closed while users are on DR.
    Recovered,
    /// The issue closed before anyone failed over.
    RecommendationWithdrawn,
    /// An admin declared failback.
    FailbackDeclared,
    /// An admin sent users a message.
    AlertSent,
    /// An admin started a drill.
    DrillStarted,
    /// An admin ended the drill.
    DrillEnded,
}

impl NoticeKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::FailoverRecommended => "failover_recommended",
            NoticeKind::AutoFailover => "auto_failover",
            NoticeKind::FailoverDeclared => "failover_declared",
            NoticeKind::IssueDuringRecovery => "issue_during_recovery",
            NoticeKind::Recovered => "recovered",
            NoticeKind::RecommendationWithdrawn => "recommendation_withdrawn",
            NoticeKind::FailbackDeclared => "failback_declared",
            NoticeKind::AlertSent => "alert_sent",
            NoticeKind::DrillStarted => "drill_started",
            NoticeKind::DrillEnded => "drill_ended",
        }
    }
}

/// A message for the SNS alerts topic. Publish `text` as the default message (e-mail, SMS, chat) with `subject`,
/// `body` as JSON for machine subscribers (SQS, Lambda: e.g. with `MessageStructure=json`), and `attributes` as
/// String message attributes for subscription filter policies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminNotice {
    /// At most [`SUBJECT_MAX_CHARS`] printable ASCII characters.
    pub subject: String,
    /// Readable text: what happened, what users see, the command to run next.
    pub text: String,
    /// The same facts as structured data.
    pub body: NoticeBody,
    /// `wsdr_event_kind`, `wsdr_state`, `wsdr_previous_state`, `wsdr_active`, `wsdr_cause_source`,
    /// `wsdr_primary_region`.
    pub attributes: BTreeMap<String, String>,
}

impl AdminNotice {
    /// `body` as compact JSON.
    pub fn body_json(&self) -> String {
        // Plain data with string keys always serializes.
        serde_json::to_string(&self.body).unwrap_or_default()
    }
}

/// The structured content of an [`AdminNotice`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBody {
    /// What happened.
    pub kind: NoticeKind,
    /// The mode now.
    pub mode: Mode,
    /// The mode before.
    pub previous_mode: Mode,
    /// Which site users should use now.
    pub active: Site,
    /// The region of `active`.
    pub active_region: Region,
    /// The primary region.
    pub primary_region: Region,
    /// The DR region.
    pub dr_region: Region,
    /// The status document sequence just issued.
    pub sequence: u64,
    /// `now` of the step.
    pub at: Timestamp,
    /// Why.
    pub cause: Cause,
    /// The AWS Health event involved, if any.
    pub event: Option<HealthEventSummary>,
    /// AWS Health events still open in the primary region.
    pub open_events: usize,
    /// The command an admin should run next, if any.
    pub next_command: Option<String>,
    /// What users now see.
    pub message: Message,
}

/// Everything a notice is rendered from.
pub(super) struct Context<'a> {
    pub(super) kind: NoticeKind,
    pub(super) from: Mode,
    pub(super) to: Mode,
    pub(super) active: Site,
    pub(super) policy: &'a FailoverPolicy,
    pub(super) status: &'a StatusChange,
    pub(super) event: Option<&'a HealthEventSummary>,
    pub(super) open_events: usize,
    pub(super) now: Timestamp,
}

/// The message users see when the admin gave none. Built-in texts are within [`Message`]'s limits (tested).
pub(super) fn default_message(
    kind: NoticeKind,
    from: Mode,
    was_active: Site,
    active: Site,
    policy: &FailoverPolicy,
) -> Message {
    let primary = policy.primary_region();
    let dr = policy.dr_region();
    let drill_ended = if from == Mode::Drill { "The DR drill has ended. " } else { "" };
    let (title, body) = match kind {
        NoticeKind::FailoverRecommended if active == Site::Dr => (
            "WorkSpaces service issue reported".to_owned(),
            format!(
                "{drill_ended}AWS reports a problem with Amazon WorkSpaces in {primary}. Keep using your \
                 disaster-recovery WorkSpace in {dr}; do not switch back now. You will be told here what to do next."
            ),
        ),
        NoticeKind::RecommendationWithdrawn if was_active == Site::Dr => (
            "Return to your usual WorkSpace".to_owned(),
            format!(
                "AWS reports that the WorkSpaces problem in {primary} is resolved. Save your work on the \
                 disaster-recovery WorkSpace, disconnect, and connect to your usual WorkSpace from the wsdr menu."
            ),
        ),
        NoticeKind::FailoverRecommended => (
            "WorkSpaces service issue reported".to_owned(),
            format!(
                "{drill_ended}AWS reports a problem with Amazon WorkSpaces in {primary}. Keep using your usual \
                 WorkSpace for now. If you need to switch, you will be told here."
            ),
        ),
        NoticeKind::AutoFailover | NoticeKind::FailoverDeclared => (
            "Switch to your disaster-recovery WorkSpace".to_owned(),
            format!(
                "{drill_ended}Your usual WorkSpaces in {primary} are unavailable. Connect to your \
                 disaster-recovery WorkSpace in {dr} from the wsdr menu. Files saved on your usual WorkSpace are \
                 not available there. You will be told when to switch back."
            ),
        ),
        NoticeKind::IssueDuringRecovery => (
            "Keep using your disaster-recovery WorkSpace".to_owned(),
            format!(
                "AWS reports a new problem with Amazon WorkSpaces in {primary}. Keep using your \
                 disaster-recovery WorkSpace in {dr}. You will be told when to switch back."
            ),
        ),
        NoticeKind::Recovered => (
            "Keep using your disaster-recovery WorkSpace".to_owned(),
            format!(
                "AWS reports that the WorkSpaces problem in {primary} is resolved. Keep using your \
                 disaster-recovery WorkSpace in {dr} until you are told to switch back."
            ),
        ),
        NoticeKind::RecommendationWithdrawn => (
            "WorkSpaces service issue resolved".to_owned(),
            format!(
                "AWS reports that the WorkSpaces problem in {primary} is resolved. Nothing changes for you: keep \
                 using your usual WorkSpace."
            ),
        ),
        NoticeKind::FailbackDeclared => (
            "Return to your usual WorkSpace".to_owned(),
            format!(
                "Your usual WorkSpaces in {primary} are available again. Save your work on the disaster-recovery \
                 WorkSpace, disconnect, and connect to your usual WorkSpace from the wsdr menu."
            ),
        ),
        NoticeKind::DrillEnded => (
            "DR drill finished".to_owned(),
            "The disaster-recovery drill is over. Keep using your usual WorkSpace.".to_owned(),
        ),
        // Alerts and drills always carry the admin's message; this text is only a fallback.
        NoticeKind::AlertSent | NoticeKind::DrillStarted => (
            "Message from your IT team".to_owned(),
            format!("Keep using the WorkSpace in {}.", policy.region_of(active)),
        ),
    };
    built_in(&title, &body)
}

/// A built-in text as a [`Message`]: plain sentences with region names, within the limits for every kind and
/// region (tested), so the `expect` documents an invariant rather than handling an input.
pub(super) fn built_in(title: &str, body: &str) -> Message {
    #[allow(clippy::expect_used)]
    Message::new(title, body).expect("built-in texts are within the message limits")
}

/// Builds the admin notice for one transition.
pub(super) fn render(cx: &Context<'_>) -> AdminNotice {
    let primary = cx.policy.primary_region();
    let dr = cx.policy.dr_region();
    let active_region = cx.policy.region_of(cx.active);
    let from_drill = if cx.from == Mode::Drill { " (drill ended)" } else { "" };
    let (subject, headline, next_command, next_line) = match cx.kind {
        NoticeKind::FailoverRecommended => (
            format!("[wsdr] WorkSpaces issue in {primary}: failover recommended{from_drill}"),
            format!(
                "AWS Health reports an open WorkSpaces event in the primary region {primary}. Users have NOT been \
                 moved; they were told that AWS reports a problem."
            ),
            Some(commands::FAILOVER),
            format!(
                "To move users to the DR region {dr}, run:\n    {}\nIf you decide not to fail over, do nothing: \
                 wsdr will tell you when AWS closes the event.",
                commands::FAILOVER
            ),
        ),
        NoticeKind::AutoFailover => (
            format!("[wsdr] Automatic failover to {dr}: WorkSpaces issue in {primary}"),
            format!(
                "AWS Health reports an open WorkSpaces issue in the primary region {primary}. Because \
                 auto_failover is on, users were told to use the DR region {dr}."
            ),
            Some(commands::FAILBACK),
            format!(
                "When the primary region is healthy again, run:\n    {}\nwsdr will tell you when AWS closes the \
                 event.",
                commands::FAILBACK
            ),
        ),
        NoticeKind::FailoverDeclared => (
            format!("[wsdr] Failover declared: users told to use {dr}"),
            format!("An admin declared failover. Users were told to use the DR region {dr}."),
            Some(commands::FAILBACK),
            format!(
                "When the primary region {primary} is healthy again, run:\n    {}",
                commands::FAILBACK
            ),
        ),
        NoticeKind::IssueDuringRecovery => (
            format!("[wsdr] New WorkSpaces issue in {primary}: users stay on {dr}"),
            format!(
                "AWS Health reports a new open WorkSpaces event in {primary} while users were still on DR after \
                 the previous one closed. Users were told to keep using {dr}."
            ),
            Some(commands::FAILBACK),
            format!(
                "Wait until AWS closes the event and the primary is healthy, then run:\n    {}",
                commands::FAILBACK
            ),
        ),
        NoticeKind::Recovered => (
            format!("[wsdr] WorkSpaces issue in {primary} closed: run wsdr failback when ready"),
            format!(
                "AWS Health reports the WorkSpaces event in {primary} closed. Users are still on the DR region \
                 {dr} and were told to stay there until you fail back."
            ),
            Some(commands::FAILBACK),
            format!(
                "Check that WorkSpaces in {primary} work for you, then run:\n    {}",
                commands::FAILBACK
            ),
        ),
        NoticeKind::RecommendationWithdrawn => (
            format!(
                "[wsdr] WorkSpaces issue in {primary} closed before failover: no action needed"
            ),
            format!(
                "AWS Health reports the WorkSpaces event in {primary} closed. Nobody failed over; users were told \
                 the problem is resolved."
            ),
            None,
            "No action needed.".to_owned(),
        ),
        NoticeKind::FailbackDeclared => (
            format!("[wsdr] Failback declared: users told to return to {primary}"),
            format!(
                "An admin declared failback. Users were told to return to the primary region {primary}."
            ),
            None,
            "No action needed.".to_owned(),
        ),
        NoticeKind::AlertSent => (
            format!("[wsdr] Alert sent to users: {}", cx.status.message.title()),
            format!("An admin sent users a message. Mode stays {}.", cx.to),
            None,
            "No action needed.".to_owned(),
        ),
        NoticeKind::DrillStarted => (
            match cx.active {
                Site::Primary => format!("[wsdr] DR drill started: users stay on {primary}"),
                Site::Dr => format!("[wsdr] DR drill started: drill targets DR region {dr}"),
            },
            format!(
                "An admin started a DR drill. Users see the drill message; nobody is moved (the drill's active \
                 site is {} = {active_region}).",
                cx.active.as_str()
            ),
            Some(commands::END_DRILL),
            format!("When the drill is over, run:\n    {}", commands::END_DRILL),
        ),
        NoticeKind::DrillEnded => (
            "[wsdr] DR drill ended: users back to normal".to_owned(),
            "An admin ended the DR drill. Users were told it is over.".to_owned(),
            None,
            "No action needed.".to_owned(),
        ),
    };

    let mut text = headline;
    if cx.from == Mode::Drill && cx.to != Mode::Normal {
        text.push_str("\nThe running DR drill was ended by this real event.");
    }
    text.push('\n');
    if let Some(event) = cx.event {
        text.push_str(&event_lines(event));
    }
    if cx.open_events > 0 && matches!(cx.kind, NoticeKind::FailbackDeclared | NoticeKind::Recovered)
    {
        text.push_str(&format!(
            "\nNote: AWS Health still reports {} open WorkSpaces event(s) in {primary}.\n",
            cx.open_events
        ));
    }
    text.push_str(&format!(
        "\nUsers now see (status #{}, state {}, use {} = {active_region}):\n    {}\n{}\n",
        cx.status.sequence,
        published_state_str(cx.to),
        cx.active.as_str(),
        cx.status.message.title(),
        indent(cx.status.message.body()),
    ));
    text.push_str(&format!("\nNext step: {next_line}\n"));

    let body = NoticeBody {
        kind: cx.kind,
        mode: cx.to,
        previous_mode: cx.from,
        active: cx.active,
        active_region: active_region.clone(),
        primary_region: primary.clone(),
        dr_region: dr.clone(),
        sequence: cx.status.sequence,
        at: cx.now,
        cause: cx.status.cause.clone(),
        event: cx.event.cloned(),
        open_events: cx.open_events,
        next_command: next_command.map(str::to_owned),
        message: cx.status.message.clone(),
    };
    let attributes = BTreeMap::from([
        ("wsdr_event_kind".to_owned(), cx.kind.as_str().to_owned()),
        ("wsdr_state".to_owned(), cx.to.as_str().to_owned()),
        ("wsdr_previous_state".to_owned(), cx.from.as_str().to_owned()),
        ("wsdr_active".to_owned(), cx.active.as_str().to_owned()),
        ("wsdr_cause_source".to_owned(), cx.status.cause.source.as_str().to_owned()),
        ("wsdr_primary_region".to_owned(), primary.to_string()),
    ]);
    AdminNotice { subject: sns_subject(&subject), text, body, attributes }
}

fn published_state_str(mode: Mode) -> &'static str {
    match mode.published_state() {
        super::PublishedState::Normal => "normal",
        super::PublishedState::Failover => "failover",
        super::PublishedState::Drill => "drill",
    }
}

fn event_lines(e: &HealthEventSummary) -> String {
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_owned());
    let mut s = format!("\nAWS Health event: {}\n", or(&e.event_arn));
    s.push_str(&format!(
        "    type {} ({}, {}), status {}\n",
        or(&e.event_type_code),
        or(&e.category),
        or(&e.scope),
        or(&e.status_code)
    ));
    s.push_str(&format!("    affected region {}", or(&e.affected_region)));
    if let Some(delivered) = &e.delivered_region
        && Some(delivered) != e.affected_region.as_ref()
    {
        s.push_str(&format!(" (this copy was delivered to {delivered})"));
    }
    s.push('\n');
    s.push_str(&format!(
        "    started {}, last updated {}\n",
        or(&e.start_time),
        or(&e.last_updated_time)
    ));
    if let Some(description) = &e.description {
        s.push_str(&format!("    AWS says: {}\n", crate::health::truncate_chars(description, 600)));
    }
    s
}

fn indent(body: &str) -> String {
    body.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// SNS-safe subject: printable ASCII, whitespace runs collapsed to one space, at most [`SUBJECT_MAX_CHARS`]
/// (longer ones are cut and end with `...`). Idempotent. Used for every SNS subject wsdr sends.
pub fn sns_subject(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.push('?');
        }
    }
    let out = out.trim();
    if out.len() <= SUBJECT_MAX_CHARS {
        return out.to_owned();
    }
    // ASCII only, so byte and char positions agree.
    let cut = out.get(..SUBJECT_MAX_CHARS - 3).unwrap_or(out).trim_end();
    format!("{cut}...")
}
