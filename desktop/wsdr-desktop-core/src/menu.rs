//! The tray menu as plain data (house style 11, after firezone's tray): [`MenuSpec`] is rendered
//! from the state and compared whole in tests; clicks come back as a typed [`MenuEvent`], whose
//! [`id`](MenuEvent::id) is the only string the shell sees.

use crate::status::TrayStatus;

/// What a menu click asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MenuEvent {
    /// Launch the client on the site the document says to use.
    ConnectActive,
    /// Launch the client on the DR site.
    ConnectDr,
    /// Poll the status document now.
    CheckNow,
    /// Open (or focus) the wsdr window.
    OpenWindow,
    /// Turn starting at login on or off.
    ToggleAutostart,
    /// Quit the tray app.
    Quit,
}

impl MenuEvent {
    /// Every event.
    pub const ALL: [MenuEvent; 6] = [
        Self::ConnectActive,
        Self::ConnectDr,
        Self::CheckNow,
        Self::OpenWindow,
        Self::ToggleAutostart,
        Self::Quit,
    ];

    /// The menu item id.
    pub fn id(self) -> &'static str {
        match self {
            Self::ConnectActive => "connect-active",
            Self::ConnectDr => "connect-dr",
            Self::CheckNow => "check-now",
            Self::OpenWindow => "open-window",
            Self::ToggleAutostart => "toggle-autostart",
            Self::Quit => "quit",
        }
    }

    /// The event with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.id() == id)
    }
}

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuItem {
    /// A line of text that cannot be clicked.
    Label(String),
    /// A clickable entry.
    Action {
        /// What clicking asks for.
        event: MenuEvent,
        /// The text.
        text: String,
        /// Whether it can be clicked now.
        enabled: bool,
    },
    /// An entry with a check mark.
    Toggle {
        /// What clicking asks for.
        event: MenuEvent,
        /// The text.
        text: String,
        /// Whether it is checked.
        checked: bool,
    },
    /// A separator line.
    Separator,
}

/// The whole menu, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuSpec {
    /// The entries.
    pub items: Vec<MenuItem>,
}

/// What the menu depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuInputs {
    /// The tray's state.
    pub status: TrayStatus,
    /// Whether the registration codes are known (a document was verified once).
    pub codes_known: bool,
    /// Whether the tray starts at login.
    pub autostart: bool,
}

impl MenuSpec {
    /// The menu for `inputs`.
    pub fn new(inputs: MenuInputs) -> Self {
        let can_connect = inputs.codes_known && inputs.status != TrayStatus::Misconfigured;
        let action =
            |event, text: &str, enabled| MenuItem::Action { event, text: text.to_owned(), enabled };
        Self {
            items: vec![
                MenuItem::Label(inputs.status.headline().to_owned()),
                MenuItem::Separator,
                action(MenuEvent::ConnectActive, "Connect to WorkSpaces", can_connect),
                action(MenuEvent::ConnectDr, "Connect to DR", can_connect),
                MenuItem::Separator,
                action(
                    MenuEvent::CheckNow,
                    "Check now",
                    inputs.status != TrayStatus::Misconfigured,
                ),
                action(MenuEvent::OpenWindow, "Open wsdr", true),
                MenuItem::Toggle {
                    event: MenuEvent::ToggleAutostart,
                    text: "Start at login".to_owned(),
                    checked: inputs.autostart,
                },
                MenuItem::Separator,
                action(MenuEvent::Quit, "Quit", true),
            ],
        }
    }

    /// A plain-text rendering (for tests and logs): one line per item, `[x]`/`[ ]` for toggles,
    /// `(disabled)` after what cannot be clicked, `---` for separators.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            let line = match item {
                MenuItem::Label(text) => format!("  {text}"),
                MenuItem::Action { event, text, enabled: true } => {
                    format!("> {text} <{}>", event.id())
                }
                MenuItem::Action { event, text, enabled: false } => {
                    format!("> {text} <{}> (disabled)", event.id())
                }
                MenuItem::Toggle { event, text, checked } => {
                    format!("[{}] {text} <{}>", if *checked { 'x' } else { ' ' }, event.id())
                }
                MenuItem::Separator => "---".to_owned(),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn ids_round_trip() {
        for event in MenuEvent::ALL {
            assert_eq!(MenuEvent::from_id(event.id()), Some(event));
        }
        assert_eq!(MenuEvent::from_id("connect"), None);
    }

    #[test]
    fn menu_for_every_state() {
        let mut out = String::new();
        for status in TrayStatus::ALL {
            for codes_known in [true, false] {
                let spec =
                    MenuSpec::new(MenuInputs { status, codes_known, autostart: codes_known });
                out.push_str(&format!("## {} codes_known={codes_known}\n", status.as_str()));
                out.push_str(&spec.render_text());
            }
        }
        expect![[r#"
            ## ready codes_known=true
              WorkSpaces normal
            ---
            > Connect to WorkSpaces <connect-active>
            > Connect to DR <connect-dr>
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [x] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## ready codes_known=false
              WorkSpaces normal
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [ ] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## failover codes_known=true
              Failover: use your DR WorkSpace
            ---
            > Connect to WorkSpaces <connect-active>
            > Connect to DR <connect-dr>
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [x] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## failover codes_known=false
              Failover: use your DR WorkSpace
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [ ] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## drill codes_known=true
              DR drill under way
            ---
            > Connect to WorkSpaces <connect-active>
            > Connect to DR <connect-dr>
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [x] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## drill codes_known=false
              DR drill under way
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [ ] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## recovered codes_known=true
              Service restored: you may go back
            ---
            > Connect to WorkSpaces <connect-active>
            > Connect to DR <connect-dr>
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [x] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## recovered codes_known=false
              Service restored: you may go back
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [ ] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## stale codes_known=true
              Status unknown
            ---
            > Connect to WorkSpaces <connect-active>
            > Connect to DR <connect-dr>
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [x] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## stale codes_known=false
              Status unknown
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now>
            > Open wsdr <open-window>
            [ ] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## misconfigured codes_known=true
              wsdr is not configured correctly
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now> (disabled)
            > Open wsdr <open-window>
            [x] Start at login <toggle-autostart>
            ---
            > Quit <quit>
            ## misconfigured codes_known=false
              wsdr is not configured correctly
            ---
            > Connect to WorkSpaces <connect-active> (disabled)
            > Connect to DR <connect-dr> (disabled)
            ---
            > Check now <check-now> (disabled)
            > Open wsdr <open-window>
            [ ] Start at login <toggle-autostart>
            ---
            > Quit <quit>
        "#]]
        .assert_eq(&out);
    }
}
