//! The desktop rig that `tests/desktop/run-tests.sh` sets up: a display, a session bus with a
//! notification server watched by `dbus-monitor`, an `xdg-open` handler for `workspaces://` that
//! records what it receives, and a folder for artifacts.

use std::path::PathBuf;
use std::time::Duration;

/// What the rig provides.
pub(crate) struct Rig {
    /// Lines appended by the `workspaces://` test handler, one URI per launch.
    pub(crate) uri_log: PathBuf,
    /// `dbus-monitor`'s log of `org.freedesktop.Notifications` calls.
    pub(crate) notify_log: PathBuf,
    /// Where to leave artifacts (footprint figures).
    pub(crate) artifacts: PathBuf,
}

/// The rig, or a panic that says how to get it: these tests never pass without it.
pub(crate) fn require() -> Rig {
    let var = |name: &str| {
        std::env::var_os(name).filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!(
                "{name} is not set: this test needs the desktop rig; run tests/desktop/run-tests.sh"
            )
        })
    };
    var("DISPLAY");
    var("DBUS_SESSION_BUS_ADDRESS");
    Rig {
        uri_log: var("WSDR_TEST_URI_LOG").into(),
        notify_log: var("WSDR_TEST_NOTIFY_LOG").into(),
        artifacts: var("WSDR_TEST_ARTIFACTS").into(),
    }
}

impl Rig {
    /// The URIs the handler has received so far.
    pub(crate) fn uris(&self) -> Vec<String> {
        std::fs::read_to_string(&self.uri_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// How many notifications with this title were sent to the notification server.
    pub(crate) fn notifications_titled(&self, title: &str) -> usize {
        let needle = format!("string \"{title}\"");
        std::fs::read_to_string(&self.notify_log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.trim() == needle)
            .count()
    }

    /// The id the notification server gave the first notification titled `title`: the reply
    /// (`reply_serial`) to the `Notify` call (`serial`) that carried the title.
    pub(crate) fn notification_id(&self, title: &str) -> Option<u32> {
        let log = self.notify_log_text();
        let lines: Vec<&str> = log.lines().collect();
        let needle = format!("string \"{title}\"");
        let title_at = lines.iter().position(|line| line.trim() == needle)?;
        let call = lines[..title_at].iter().rev().find(|line| line.contains("member=Notify"))?;
        let serial = field(call, "serial=")?;
        let reply_at = lines.iter().position(|line| {
            line.starts_with("method return") && field(line, "reply_serial=") == Some(serial)
        })?;
        lines.get(reply_at + 1)?.trim().strip_prefix("uint32 ")?.parse().ok()
    }

    /// The whole notification log.
    pub(crate) fn notify_log_text(&self) -> String {
        std::fs::read_to_string(&self.notify_log).unwrap_or_default()
    }
}

/// The tray icon's centre on screen, from the window tree (`xwininfo`): trayer embeds it as a
/// window named after the app ("tray-icon tray app wsdr").
pub(crate) fn tray_icon_centre() -> Option<(i32, i32)> {
    let tree = run("xwininfo", &["-root", "-tree"]);
    let line = tree.lines().find(|line| line.contains("\"tray-icon tray app wsdr\""))?;
    // "... 32x30+0+0  +1247+1": size, then the absolute position.
    let mut words = line.rsplit(' ').filter(|w| !w.is_empty());
    let absolute = words.next()?;
    let size = line.split_whitespace().find(|w| w.contains('x') && w.contains('+'))?;
    let (width, height) = size.split_once('+')?.0.split_once('x')?;
    let mut at = absolute.trim_start_matches('+').split('+');
    let (x, y): (i32, i32) = (at.next()?.parse().ok()?, at.next()?.parse().ok()?);
    Some((x + width.parse::<i32>().ok()? / 2, y + height.parse::<i32>().ok()? / 2))
}

/// The colour of one screen pixel (ImageMagick's `import`).
pub(crate) fn pixel(x: i32, y: i32) -> Option<(u8, u8, u8)> {
    let text = run("import", &["-window", "root", "-crop", &format!("1x1+{x}+{y}"), "txt:-"]);
    // "0,0: (50886,10280,10280)  #C6C628282828  srgb(198,40,40)": the srgb() form is 8-bit.
    let srgb = text.split("srgb(").nth(1)?.split(')').next()?;
    let mut channels = srgb.split(',').map(|c| c.trim().parse::<u8>().ok());
    Some((channels.next()??, channels.next()??, channels.next()??))
}

/// Saves a screenshot of the whole display.
pub(crate) fn screenshot(path: &std::path::Path) {
    run("import", &["-window", "root", path.to_str().unwrap_or_default()]);
}

/// Runs a rig tool and returns its stdout.
pub(crate) fn run(program: &str, args: &[&str]) -> String {
    #[allow(clippy::disallowed_methods)] // The test drives the rig's X tools.
    let output = std::process::Command::new(program).args(args).output();
    let output =
        output.unwrap_or_else(|e| panic!("{program}: {e} (run tests/desktop/run-tests.sh)"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits up to `seconds` for `condition`, checking every 200 ms.
pub(crate) fn wait_for(seconds: u64, mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..seconds * 5 {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    condition()
}

/// The value of `name` (`serial=`, `reply_serial=`) in a dbus-monitor header line.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split_whitespace().find_map(|word| word.strip_prefix(name))
}
