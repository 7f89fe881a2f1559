//! Whether a change deserves a desktop notification: once per transition, never once per poll.
//!
//! The tray remembers the last [`Announcement`] (what users were told: the kind of news and the
//! admins' message) and compares the next one with it. A re-published document, a failed poll,
//! a stale or misconfigured spell tell users nothing new and notify nobody.

use crate::status::TrayStatus;

/// The news a trusted document carries, as far as notifications are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// What kind of news.
    pub kind: NewsKind,
    /// The admins' title.
    pub title: String,
    /// The admins' message.
    pub body: String,
}

/// The kinds of news (the states a trusted, current document gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewsKind {
    /// Normal operation.
    Ready,
    /// Failover declared.
    Failover,
    /// A DR drill.
    Drill,
    /// Service restored after a failover.
    Recovered,
}

impl NewsKind {
    /// The kind for a tray state; `None` for the states that carry no news (stale,
    /// misconfigured).
    pub fn of(status: TrayStatus) -> Option<Self> {
        match status {
            TrayStatus::Ready => Some(Self::Ready),
            TrayStatus::Failover => Some(Self::Failover),
            TrayStatus::Drill => Some(Self::Drill),
            TrayStatus::Recovered => Some(Self::Recovered),
            TrayStatus::Stale | TrayStatus::Misconfigured => None,
        }
    }
}

/// A desktop notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The title (plain text).
    pub title: String,
    /// The body (plain text: escape it where the platform reads markup, see
    /// [`escape_markup`]).
    pub body: String,
    /// Whether it should stay until dismissed.
    pub urgent: bool,
    /// The button offered, where the platform supports actions.
    pub action: Option<NotificationAction>,
}

/// A notification button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationAction {
    /// "Connect to DR".
    ConnectDr,
}

impl NotificationAction {
    /// The action's id.
    pub fn id(self) -> &'static str {
        match self {
            Self::ConnectDr => "connect-dr",
        }
    }

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            Self::ConnectDr => "Connect to DR",
        }
    }
}

/// The notification for going from `previous` (what users were last told, if anything) to
/// `next`, or `None`.
///
/// - failover, drill, recovered: notify when the kind or the message changed;
/// - ready: notify only for news within normal operation (an admin's new message) or the end of
///   a drill; the first document ever, and recovered turning into ready, stay silent.
pub fn decide(previous: Option<&Announcement>, next: &Announcement) -> Option<Notification> {
    if previous == Some(next) {
        return None;
    }
    let previous_kind = previous.map(|p| p.kind);
    let worth_it = match next.kind {
        NewsKind::Failover | NewsKind::Drill | NewsKind::Recovered => true,
        NewsKind::Ready => matches!(previous_kind, Some(NewsKind::Ready | NewsKind::Drill)),
    };
    worth_it.then(|| Notification {
        title: next.title.clone(),
        body: next.body.clone(),
        urgent: next.kind == NewsKind::Failover,
        action: (next.kind == NewsKind::Failover).then_some(NotificationAction::ConnectDr),
    })
}

/// `text` with `&`, `<` and `>` escaped: notification servers read a subset of HTML in bodies,
/// and the admins' message is plain text.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn news(kind: NewsKind, title: &str) -> Announcement {
        Announcement { kind, title: title.to_owned(), body: "body".to_owned() }
    }

    #[test]
    fn once_per_transition() {
        use NewsKind::*;
        let failover = news(Failover, "Failover");
        let first = decide(None, &failover).unwrap();
        assert!(first.urgent);
        assert_eq!(first.action, Some(NotificationAction::ConnectDr));
        assert_eq!(decide(Some(&failover), &failover), None, "same news again");
        assert!(decide(Some(&failover), &news(Failover, "Update")).is_some(), "new message");
        let recovered = news(Recovered, "Back");
        assert!(decide(Some(&failover), &recovered).is_some_and(|n| n.action.is_none()));
        assert_eq!(decide(Some(&recovered), &news(Ready, "Back")), None, "notice period over");
        assert_eq!(decide(None, &news(Ready, "All good")), None, "first document");
        assert!(decide(Some(&news(Ready, "a")), &news(Ready, "b")).is_some(), "admin message");
        assert!(decide(Some(&news(Drill, "d")), &news(Ready, "d")).is_some(), "drill over");
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape_markup("<b>a & b</b>"), "&lt;b&gt;a &amp; b&lt;/b&gt;");
    }
}
