//! Converging 1,000 users from an empty DR directory on the emulator with the documented WorkSpaces throttling
//! (2 calls/s sustained, burst 5): API calls by operation and wall time, beside the floor.
//!
//! The floor is what any correct run must do at that rate: one DescribeWorkspaces page of the empty directory,
//! ⌈1000/25⌉ = 40 CreateWorkspaces calls, and 40 pages to confirm — 81 calls, of which the first 5 ride the burst
//! and the other 76 come at 2 per second: 38 s. The original sample made 1,002 calls (one CreateWorkspaces per
//! user, one describe) — 500 s at the same rate.
//!
//! `cargo bench -p wsdr-aws --bench converge --profile dev` (the dev profile reuses the test build: this
//! benchmark waits on the network, not on code). `WSDR_BENCH_USERS=N` changes the size.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

#[allow(dead_code)]
#[path = "../tests/emulator/support.rs"]
mod support;

use std::fmt::Write;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use wsdr_aws::clock::SystemClock;
use wsdr_aws::limiter::Rate;
use wsdr_aws::reconcile::{NoProgress, Ports, Run, Settings, UsersInput, reconcile};
use wsdr_aws::s3::S3Location;
use wsdr_core::policy::Limits;

use support::{Emulator, calls};

#[tokio::main]
async fn main() {
    let users: usize =
        std::env::var("WSDR_BENCH_USERS").ok().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let emulator = Emulator::start(&[
        "--pending-seconds",
        "1",
        "--throttle-rate",
        "2",
        "--throttle-burst",
        "5",
    ]);
    let (directory_id, bundle_id) = emulator.bootstrap();
    let clients = emulator.clients().await;
    clients.s3.create_bucket().bucket("bench").send().await.unwrap();
    let mut csv = String::from("SamAccountName,Enabled,UserPrincipalName\r\n");
    for index in 0..users {
        let _ = write!(csv, "user{index:05},True,user{index:05}@corp.example.com\r\n");
    }
    clients
        .s3
        .put_object()
        .bucket("bench")
        .key("users.csv")
        .body(ByteStream::from(csv.into_bytes()))
        .send()
        .await
        .unwrap();
    let config = Settings {
        directory_id,
        bundle_id,
        auto_stop_timeout_minutes: 60,
        limits: Limits { grace_days: 0, ..Limits::RECOMMENDED },
        state_prefix: Some("s3://bench/state/".to_owned()),
        ..Settings::default()
    }
    .validate()
    .unwrap();
    let ports = Ports::new(&clients, Rate::WORKSPACES);
    emulator.take_counters();

    let started = Instant::now();
    let run = Run { trigger: "bench", clock: &SystemClock, deadline: None, progress: &NoProgress };
    let report =
        reconcile(&ports, &config, UsersInput::S3(S3Location::new("bench", "users.csv")), &run)
            .await
            .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let counters = emulator.take_counters();
    assert_eq!(report.created.len(), users, "{}", report.summary());
    assert!(report.failed.is_empty());

    let batches = users.div_ceil(25);
    let floor_describe = 1 + batches;
    let floor_calls = floor_describe + batches;
    let floor_seconds = floor_calls.saturating_sub(5) as f64 / 2.0;
    let describe = calls(&counters, "workspaces:DescribeWorkspaces");
    let create = calls(&counters, "workspaces:CreateWorkspaces");
    let total = describe + create;
    println!(
        "converge {users} users from empty, emulator throttling 2 calls/s burst 5, client limiter {}/s burst {}",
        Rate::WORKSPACES.per_second,
        Rate::WORKSPACES.burst
    );
    println!("{:<34} {:>8} {:>8} {:>7}", "", "measured", "floor", "ratio");
    println!(
        "{:<34} {:>8} {:>8} {:>7.2}",
        "workspaces:DescribeWorkspaces",
        describe,
        floor_describe,
        describe as f64 / floor_describe as f64
    );
    println!(
        "{:<34} {:>8} {:>8} {:>7.2}",
        "workspaces:CreateWorkspaces",
        create,
        batches,
        create as f64 / batches as f64
    );
    println!(
        "{:<34} {:>8} {:>8} {:>7.2}",
        "WorkSpaces calls",
        total,
        floor_calls,
        total as f64 / floor_calls as f64
    );
    println!(
        "{:<34} {:>8} {:>8} {:>7}",
        "throttled by the service",
        counters["total_throttled"].as_u64().unwrap_or(0),
        0,
        ""
    );
    println!(
        "{:<34} {:>8.1} {:>8.1} {:>7.3}",
        "wall time (s)",
        elapsed,
        floor_seconds,
        elapsed / floor_seconds
    );
    println!(
        "{:<34} {:>8} {:>8.1}",
        "original sample (calls, s)",
        users + 2,
        (users + 2).saturating_sub(5) as f64 / 2.0
    );
    println!(
        "other calls: tagging {} · s3 {}+{}",
        calls(&counters, "tagging:GetResources"),
        calls(&counters, "s3:GetObject"),
        calls(&counters, "s3:PutObject")
    );
}
