//! Benchmark of `plan` at 1k, 10k and 100k users × as many WorkSpaces: wall time and peak memory, side by side.
//!
//! Run: `cargo bench -p wsdr-core --bench plan`. Each size runs in a fresh child process so that its peak
//! resident memory (`VmHWM`, Linux) is its own; the figure is printed before and after planning, so the plan's
//! own share is visible. Time is the median of several runs. Goal: < 100 ms and < 100 MB at 100k, linear growth.

#![allow(clippy::disallowed_methods)] // A benchmark reads the clock and starts its own child processes.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // A benchmark that cannot run has failed; it prints figures.

use std::process::Command;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use wsdr_core::plan::{MissingSince, plan};
use wsdr_core::policy::{Limits, Policy};
use wsdr_core::username::Username;
use wsdr_core::users::DesiredUsers;
use wsdr_core::workspace::{DirectoryId, Workspace, WorkspaceId, WorkspaceState};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const RUNS: usize = 7;
const DIRECTORY: &str = "d-1234567890";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--one") {
        run_one(args[position + 1].parse().unwrap());
        return;
    }
    println!(
        "plan: n users × n WorkSpaces (90 % matched as spelled, 5 % in another case, 5 % untagged, 5 % leavers)"
    );
    println!(
        "{:>8} {:>12} {:>14} {:>16} {:>16}",
        "n", "median ms", "ns per user", "peak RSS before", "peak RSS after"
    );
    for n in SIZES {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--one", &n.to_string()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        print!("{}", String::from_utf8(output.stdout).unwrap());
    }
}

fn run_one(n: usize) {
    let (desired, current) = inputs(n);
    let policy = Policy::new(DirectoryId::new(DIRECTORY).unwrap(), Limits::RECOMMENDED).unwrap();
    let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
    let before = peak_rss_mib();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let plan = plan(&desired, &current, &MissingSince::new(), &policy, now);
            let elapsed = start.elapsed();
            assert_eq!(plan.counts.desired, n);
            elapsed
        })
        .collect();
    times.sort();
    let median = times[RUNS / 2];
    let nanos_per_user = median.as_nanos() / n as u128;
    println!(
        "{n:>8} {:>12.1} {nanos_per_user:>14} {:>12.1} MiB {:>12.1} MiB",
        median.as_secs_f64() * 1e3,
        before,
        peak_rss_mib()
    );
}

/// `n` desired users and `n` WorkSpaces: most matched (some in another case), some leavers, some untagged.
fn inputs(n: usize) -> (DesiredUsers, Vec<Workspace>) {
    let desired =
        DesiredUsers::from_names((0..n).map(|i| Username::new(&format!("User.{i:06}")).unwrap()));
    let current = (0..n)
        .map(|i| {
            let (user, owned) = match i % 20 {
                0 => (format!("leaver.{i:06}"), true),
                1 => (format!("user.{i:06}"), false),
                2 => (format!("USER.{i:06}"), true),
                _ => (format!("User.{i:06}"), true),
            };
            Workspace {
                id: WorkspaceId::new(&format!("ws-{i:09}")).unwrap(),
                directory_id: DIRECTORY.to_owned(),
                user_name: Some(user),
                state: if i % 3 == 0 { WorkspaceState::Stopped } else { WorkspaceState::Available },
                owned,
                created_at: None,
            }
        })
        .collect();
    (desired, current)
}

/// The process's peak resident set size so far, from `/proc/self/status` (Linux).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}
