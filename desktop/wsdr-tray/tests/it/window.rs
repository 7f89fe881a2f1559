//! The real window under Xvfb, driven through WebDriver (tauri-driver + WebKitWebDriver): what it
//! shows for a failover, "Connect to DR" reaching the URL handler, "Check now" picking up the
//! recovery, a screenshot as an artifact, and closing the window leaving the tray running.

use std::process::{Child, Stdio};
use std::time::Duration;

use wsdr_protocol::State;

use crate::rig::{self, wait_for};
use crate::server::DocumentServer;
use crate::support::*;
use crate::webdriver::Session;

/// tauri-driver as a child process, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
#[ignore = "needs the desktop rig: run tests/desktop/run-tests.sh"]
async fn window_shows_the_state_and_connects() {
    let rig = rig::require();
    let driver_binary = std::env::var("WSDR_TAURI_DRIVER")
        .unwrap_or_else(|_| panic!("WSDR_TAURI_DRIVER is not set: run tests/desktop/run-tests.sh"));
    let server = DocumentServer::start();
    let home = Home::new("window", server.url());
    server.serve_document(&document(2, State::Failover));

    let port = 4444 + u16::try_from(std::process::id() % 1000).unwrap();
    // The app inherits tauri-driver's environment: this home's state and config directories.
    #[allow(clippy::disallowed_methods)] // The test harness starts the WebDriver server.
    let mut driver_command = std::process::Command::new(&driver_binary);
    driver_command
        .args(["--port", &port.to_string(), "--native-port", &(port + 1000).to_string()])
        .envs(home.environment())
        .env("HOME", &home.dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(rig.artifacts.join("tauri-driver.log")).unwrap());
    let _driver = Driver(driver_command.spawn().unwrap());
    let url = format!("http://127.0.0.1:{port}");
    assert!(
        wait_for(20, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()),
        "tauri-driver did not listen on {port}"
    );

    let config = home.config().to_str().unwrap().to_owned();
    let args = vec!["--window".to_owned(), "--config".to_owned(), config];
    let session = Session::start(&url, BINARY, &args).await;

    session.wait_for_text("#headline", "Failover: use your DR WorkSpace", 20).await;
    assert_eq!(session.text("#message-title").await, "WorkSpaces failover");
    assert_eq!(session.text("#site-dr .code").await, DR_CODE);
    assert_eq!(session.text("#site-primary .code").await, PRIMARY_CODE);
    assert_eq!(session.text("#active-site").await, "Use the disaster-recovery region (us-west-2).");
    assert_eq!(
        session.execute("return document.getElementById('status').dataset.state").await,
        "failover"
    );
    // The admins' message is shown as text, never as markup.
    assert_eq!(
        session.execute("return document.querySelectorAll('#message-body b').length").await,
        0
    );

    let screenshot = session.screenshot().await;
    std::fs::write(rig.artifacts.join("window-failover.png"), &screenshot).unwrap();
    assert!(screenshot.starts_with(b"\x89PNG"));

    let before = rig.uris().len();
    session.click("#connect-dr").await;
    let expected = format!("workspaces://jdoe@{DR_CODE}");
    assert!(wait_for(15, || rig.uris().len() > before), "the URL handler got nothing");
    assert_eq!(rig.uris().last(), Some(&expected));

    server.serve_document(&document(3, State::Normal));
    session.click("#check-now").await;
    session.wait_for_text("#headline", "Service restored: you may go back", 20).await;
    std::fs::write(rig.artifacts.join("window-recovered.png"), session.screenshot().await).unwrap();

    // Closing the window leaves the tray polling. The close is deferred so that the script's result reaches the
    // driver before the window (and its web view) is gone: closing inside the script raced the reply, and
    // WebKitWebDriver then answered 500 "Could not parse script result" (seen once on CI).
    session
        .execute(
            "setTimeout(() => window.__TAURI__.window.getCurrentWindow().close(), 200); return null",
        )
        .await;
    let polls = server.counts().0;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        wait_for(20, || server.counts().0 >= polls + 2),
        "the tray stopped polling after its window closed"
    );
    let config = home.config();
    let processes = process_tree_rss(config.to_str().unwrap());
    let total: u64 = processes.iter().map(|(_, rss)| rss).sum();
    let each: Vec<String> = processes
        .iter()
        .map(|(name, rss)| format!("{name} {:.1} MB", *rss as f64 / 1024.0))
        .collect();
    let figures = format!(
        "wsdr-tray after its window was opened and closed: RSS {:.1} MB in all ({})\n",
        total as f64 / 1024.0,
        each.join(", ")
    );
    println!("{figures}");
    std::fs::write(rig.artifacts.join("footprint-after-window.txt"), figures).unwrap();
    session.end().await;
}

/// The tray started with `config` and its descendants (WebKit's processes): each one's name and
/// resident memory in KiB.
fn process_tree_rss(config: &str) -> Vec<(String, u64)> {
    let processes: Vec<(u32, u32, u64)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let value = |key: &str| -> Option<u64> {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(key))?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            };
            Some((pid, u32::try_from(value("PPid:")?).ok()?, value("VmRSS:").unwrap_or(0)))
        })
        .collect();
    let root = processes.iter().map(|p| p.0).find(|pid| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        args.first() == Some(&BINARY.as_bytes()) && args.contains(&config.as_bytes())
    });
    let Some(root) = root else { panic!("the tray process was not found") };
    let mut tree = vec![root];
    for _ in 0..8 {
        for (pid, ppid, _) in &processes {
            if tree.contains(ppid) && !tree.contains(pid) {
                tree.push(*pid);
            }
        }
    }
    processes
        .iter()
        .filter(|p| tree.contains(&p.0))
        .map(|(pid, _, rss)| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            (name.trim().to_owned(), *rss)
        })
        .collect()
}
