//! The failover path under faults: thousands of seeded stories, every invariant checked after every step.
//!
//! `WSDR_SIM_SEEDS` sets how many seeds run (default 10,000); `WSDR_SIM_SEED` replays one.

use std::time::Instant;

use wsdr_sim::run_seed;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.parse().ok())
}

#[test]
#[allow(clippy::print_stderr)] // The figure the test command shows.
fn every_seed_keeps_every_invariant() {
    let seeds = env_u64("WSDR_SIM_SEEDS").unwrap_or(10_000);
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(4) as u64;
    #[allow(clippy::disallowed_methods)] // The figure printed below: seeds per second of wall time.
    let started = Instant::now();
    let results: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || {
                    let mut totals = wsdr_sim::SeedStats::default();
                    for seed in (worker..seeds).step_by(threads as usize) {
                        let stats = run_seed(seed).map_err(|violation| violation.to_string())?;
                        totals.add(&stats);
                    }
                    Ok::<_, String>(totals)
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().expect("a worker panicked")).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut totals = wsdr_sim::SeedStats::default();
    for result in results {
        let stats = result.unwrap_or_else(|violation| panic!("{violation}"));
        totals.add(&stats);
    }
    eprintln!(
        "simulator: {seeds} seeds in {elapsed:.1} s ({:.0} seeds/s on {threads} threads): {} invocations ({} died, {} \
         failed), {} transitions, {} alerts delivered, {} steps, faults {:?}",
        seeds as f64 / elapsed,
        totals.invocations,
        totals.crashed,
        totals.failed,
        totals.transitions,
        totals.deliveries,
        totals.steps,
        totals.faults
    );
    assert!(totals.crashed > 0 && totals.failed > 0, "the faults must actually bite: {totals:?}");
}

#[test]
fn replay() {
    let Some(seed) = env_u64("WSDR_SIM_SEED") else {
        // Without a seed to replay, replay the first one: the same seed must give the same story twice.
        let first = format!("{:?}", run_seed(1).map(|stats| (stats.steps, stats.deliveries)));
        let second = format!("{:?}", run_seed(1).map(|stats| (stats.steps, stats.deliveries)));
        assert_eq!(first, second, "a seed must replay exactly");
        return;
    };
    if let Err(violation) = run_seed(seed) {
        panic!("{violation}");
    }
}
