//! `wsdr reconcile`: the live run, from a terminal — the same driver as the reconcile Lambda function.

use std::fmt::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wsdr_aws::clock::SystemClock;
use wsdr_aws::limiter::Rate;
use wsdr_aws::reconcile::{
    Outcome, Ports, Progress, Run, RunReport, Settings, UsersInput, reconcile,
};

use super::users::UsersSource;
use super::{aws, directory};
use crate::cli::{DirectoryArgs, Format, ReconcileArgs};
use crate::failure::Failure;
use crate::output;

pub(super) fn run(args: &ReconcileArgs) -> Result<(), Failure> {
    let settings = Settings {
        directory_id: args.directory_id.clone(),
        bundle_id: args.bundle_id.clone(),
        auto_stop_timeout_minutes: args.auto_stop_minutes,
        volume_encryption_key: args.volume_encryption_key.clone(),
        extra_tags: args.tags.clone(),
        limits: args.policy.limits(),
        dry_run: args.dry_run,
        state_prefix: args.state.clone(),
        reports_prefix: args.reports.clone(),
    };
    let config = settings.validate().map_err(|error| Failure::BadInput(error.to_string()))?;
    let rate = Rate { per_second: args.rate, burst: args.burst }
        .validate()
        .map_err(|reason| Failure::BadInput(format!("--rate/--burst: {reason}")))?;
    let users = UsersSource::parse(&args.users)?;
    if config.state.is_none() && !config.dry_run && config.policy.limits().grace_days > 0 {
        output::warn(
            "no --state: the grace period cannot be remembered between runs, so no WorkSpace will be terminated",
        );
    }

    let progress = TerminalProgress::new(rate);
    let report = aws::block_on(async {
        let clients = aws::clients(args.region.clone()).await?;
        let users = users_input(users, &args.directory, args.region.clone()).await?;
        let ports = Ports::new(&clients, rate);
        let run = Run { trigger: "cli", clock: &SystemClock, deadline: None, progress: &progress };
        reconcile(&ports, &config, users, &run).await.map_err(aws::failure)
    })??;

    match args.format {
        Format::Json => output::print_json(&report)?,
        Format::Table => output::print(&render(&report)),
    }
    verdict(&report)
}

/// `s3://…` (read by the driver, which records its age), the directory (read by the driver, its password
/// resolved here), or a local file (read here, so a missing file is named before anything changes).
async fn users_input(
    source: UsersSource,
    directory: &DirectoryArgs,
    region: Option<String>,
) -> Result<UsersInput, Failure> {
    Ok(match source {
        UsersSource::S3(location) => UsersInput::S3(location),
        UsersSource::Directory(url) => {
            UsersInput::Directory(directory::source(&url, directory, region).await?)
        }
        source @ UsersSource::File(_) => {
            UsersInput::Bytes { source: source.to_string(), bytes: source.read()? }
        }
    })
}

/// The exit code the report calls for.
fn verdict(report: &RunReport) -> Result<(), Failure> {
    match report.outcome {
        Outcome::Blocked => Err(Failure::Blocked(
            report.blocked.as_ref().map_or_else(String::new, |blocked| blocked.reason.clone()),
        )),
        Outcome::InvalidUsers => {
            let mut message = format!(
                "{}: {}",
                report.users.source,
                report.users.error.as_deref().unwrap_or("unusable users list")
            );
            for reject in &report.users.rejects {
                let _ = write!(
                    message,
                    "\n  {}: line {}: {}",
                    report.users.source, reject.line, reject.reason
                );
            }
            for reject in &report.users.entry_rejects {
                let _ = write!(message, "\n  {}: {}", reject.dn, reject.reason);
            }
            Err(Failure::BadInput(message))
        }
        Outcome::Skipped | Outcome::Incomplete => Err(Failure::Operations(report.summary())),
        Outcome::Completed | Outcome::DryRun if !report.failed.is_empty() => {
            Err(Failure::Operations(format!(
                "{} operation(s) failed; the next run retries them",
                report.failed.len()
            )))
        }
        Outcome::Completed | Outcome::DryRun => Ok(()),
    }
}

fn render(report: &RunReport) -> String {
    let mut text = format!("{}\n", report.summary());
    let mut section = |title: &str, items: &[String]| {
        if !items.is_empty() {
            let _ = writeln!(text, "{title} ({}): {}", items.len(), items.join(", "));
        }
    };
    section("would create", &report.planned_create);
    section("would terminate", &report.planned_terminate);
    section("created", &report.created);
    section("already had one", &report.already_existed);
    section("adopted", &report.adopted);
    section("terminated", &report.terminated);
    for item in &report.failed {
        let _ = writeln!(
            text,
            "FAILED {} {}: {} ({})",
            item.operation, item.user, item.reason, item.code
        );
    }
    if let Some(confirmation) = &report.confirmation {
        if !confirmation.created_not_listed.is_empty() {
            let _ =
                writeln!(text, "not listed yet: {}", confirmation.created_not_listed.join(", "));
        }
        if !confirmation.terminated_still_live.is_empty() {
            let _ = writeln!(text, "still live: {}", confirmation.terminated_still_live.join(", "));
        }
    }
    if report.rate_limited.waits > 0 {
        let _ = writeln!(
            text,
            "rate limiter: {} call(s) waited {:.1} s in all",
            report.rate_limited.waits, report.rate_limited.waited_seconds
        );
    }
    if let Some(location) = &report.report_location {
        let _ = writeln!(text, "report: {location}");
    }
    text
}

/// A progress bar on standard error when it is a terminal; nothing otherwise.
pub(super) struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    pub(super) fn new(rate: Rate) -> TerminalProgress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} {msg:<48} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("rate-limited to {}/s, burst {}", rate.per_second, rate.burst));
        bar.enable_steady_tick(Duration::from_millis(120));
        TerminalProgress { bar }
    }
}

impl Progress for TerminalProgress {
    fn stage(&self, message: &str) {
        self.bar.set_message(format!("{message} ({})", self.bar.prefix()));
    }

    fn items(&self, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    fn advance(&self, done: u64) {
        self.bar.inc(done);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
