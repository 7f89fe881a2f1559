//! The command line's grammar (clap). Flags mirror docs/contracts.md's CLI contract; names may grow, never change.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use wsdr_core::policy::Limits;

/// wsdr keeps a warm-standby Amazon WorkSpaces DR environment and gets users onto it.
#[derive(Debug, Parser)]
#[command(name = "wsdr", version, about, max_term_width = 110)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Offline: the plan that reconciliation would carry out, from a users export and a WorkSpaces snapshot.
    Plan(PlanArgs),
    /// Live: reconciles the DR directory with a users export (region, endpoint and credentials from the standard
    /// AWS environment; `AWS_ENDPOINT_URL` points it at a local emulator).
    Reconcile(ReconcileArgs),
    /// The desired users wsdr sees in a users export, and the rows it rejects with their reasons.
    Users(UsersArgs),
    /// The whole DR story on the local AWS emulator: sync, drift, health event, failover, the tray, failback.
    Demo(DemoArgs),
    /// The `workspaces://` URI that opens the WorkSpaces client for a user on a registration code.
    Link(LinkArgs),
    /// AWS Health events: what the health function would decide, or feed one through it.
    #[command(subcommand)]
    Health(HealthCommand),
    /// Makes a local status-signing key (PKCS#8 PEM) and prints its public key for the tray configuration.
    Keygen(crate::cmd::keygen::KeygenArgs),
    /// Signed status documents: sign, verify, show.
    #[command(subcommand)]
    Status(crate::cmd::status::StatusCommand),
    /// Tells users to use the DR region: SNS alert to the admins and a new signed status document.
    Failover(crate::cmd::admin::FailoverArgs),
    /// Tells users to return to the primary region: SNS alert and a new signed status document.
    Failback(crate::cmd::admin::FailoverArgs),
    /// Sends users a message (--drill starts a DR drill, --end-drill ends it): SNS alert and a new signed document.
    Alert(crate::cmd::admin::AlertArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LinkArgs {
    /// The user name to pre-fill (at most 63 characters; no spaces, control characters or leading '-').
    #[arg(long, value_name = "U")]
    pub(crate) user: Option<String>,
    /// A registration code (e.g. WSpdx+ABC12D) or a connection alias (FQDN).
    #[arg(long, value_name = "C")]
    pub(crate) code: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HealthCommand {
    /// Classifies one EventBridge `aws.health` event: failover_recommended, recovered or ignore, with the reason.
    Classify(ClassifyArgs),
    /// Feeds one EventBridge `aws.health` event through the health function's state machine (state in S3, SNS
    /// alert, signed status document), as the Lambda function would.
    Ingest(Box<crate::cmd::admin::IngestArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct ClassifyArgs {
    /// The event, as EventBridge delivers it (JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) event: PathBuf,
    /// The region whose WorkSpaces the DR environment stands in for (e.g. us-east-1).
    #[arg(long, value_name = "R")]
    pub(crate) primary_region: String,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The users: an export (CSV: the original sample's or wsdr's format, any of the encodings Windows writes) in
    /// a file or at `s3://BUCKET/KEY`, or the directory itself, `ldaps://HOST[:PORT]/OU=…`.
    #[arg(long, value_name = "SOURCE")]
    pub(crate) users: String,
    #[command(flatten)]
    pub(crate) directory: DirectoryArgs,
    /// The WorkSpaces: what `aws workspaces describe-workspaces` prints, or a JSON array of such pages;
    /// `"Tags"` on a WorkSpace tell ownership (`wsdr:managed-by=wsdr`).
    #[arg(long, value_name = "FILE")]
    pub(crate) workspaces: PathBuf,
    /// The DR directory (d-…). Optional when every WorkSpace in the snapshot belongs to one directory.
    #[arg(long, value_name = "D")]
    pub(crate) directory_id: Option<String>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    /// Plan as of this time (RFC 3339), e.g. to see what the grace period allows on a given day.
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    /// The users: an export at `s3://BUCKET/KEY` or in a local file, or the directory itself,
    /// `ldaps://HOST[:PORT]/OU=…`.
    #[arg(long, value_name = "SOURCE")]
    pub(crate) users: String,
    #[command(flatten)]
    pub(crate) directory: DirectoryArgs,
    /// The DR directory (d-…).
    #[arg(long, value_name = "D")]
    pub(crate) directory_id: String,
    /// The bundle of new WorkSpaces (wsb-…).
    #[arg(long, value_name = "B")]
    pub(crate) bundle_id: String,
    /// Plan and report, change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    /// Where the lock and the grace periods live (`s3://BUCKET/PREFIX/`; the object is
    /// `PREFIX/reconcile/<directory>.json`). Without it the grace period restarts every run, so nothing is
    /// terminated unless --grace-days is 0.
    #[arg(long, value_name = "S3_PREFIX")]
    pub(crate) state: Option<String>,
    /// Also write the run report to `s3://BUCKET/PREFIX/<directory>/<run id>.json`.
    #[arg(long, value_name = "S3_PREFIX")]
    pub(crate) reports: Option<String>,
    /// AutoStop timeout of new WorkSpaces, in minutes (60-minute steps).
    #[arg(long, value_name = "MIN", default_value_t = 60)]
    pub(crate) auto_stop_minutes: u32,
    /// An extra tag for new WorkSpaces, `Key=Value` (repeatable).
    #[arg(long = "tag", value_name = "K=V")]
    pub(crate) tags: Vec<String>,
    /// KMS key to encrypt new WorkSpaces' volumes with.
    #[arg(long, value_name = "ARN")]
    pub(crate) volume_encryption_key: Option<String>,
    /// WorkSpaces API calls per second (the service allows 2 by default).
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    pub(crate) rate: f64,
    /// WorkSpaces API calls allowed at once after a pause.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(crate) burst: u32,
    /// The DR region (default: the AWS environment's).
    #[arg(long, value_name = "R")]
    pub(crate) region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Rows in the first users export.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u16).range(20..=2000))]
    pub(crate) users: u16,
    /// Also run the real tray app (`wsdr-tray`, built next to `wsdr`) against the demo's status document: needs a
    /// display; the story pauses after each change so its icon and notifications can be watched.
    #[arg(long)]
    pub(crate) gui: bool,
}

/// The safety policy's limits, shared by `plan` and `reconcile`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// Days a WorkSpace whose user left is kept before it is terminated.
    #[arg(long, value_name = "N", default_value_t = Limits::RECOMMENDED.grace_days)]
    pub(crate) grace_days: u32,
    /// Block the plan when it would terminate more WorkSpaces than this.
    #[arg(long, value_name = "N", default_value_t = Limits::RECOMMENDED.max_terminate)]
    pub(crate) max_terminate: u32,
    /// Block the plan when it would terminate more than this percentage of the owned WorkSpaces (at least one
    /// is always allowed unless this is 0).
    #[arg(long, value_name = "P", default_value_t = Limits::RECOMMENDED.max_terminate_percent)]
    pub(crate) max_terminate_percent: u8,
}

#[derive(Debug, Args)]
pub(crate) struct UsersArgs {
    /// The users source to read: an export in a file or at `s3://BUCKET/KEY`, or the directory,
    /// `ldaps://HOST[:PORT]/OU=…[??one]` (`ldap://` for StartTLS on 389).
    #[arg(long, value_name = "SOURCE")]
    pub(crate) from: String,
    #[command(flatten)]
    pub(crate) directory: DirectoryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

/// How to read a directory users source (`ldaps://…`): who to bind as and what to trust. Ignored for exports.
#[derive(Debug, Args)]
#[command(next_help_heading = "Directory source (ldaps://…)")]
pub(crate) struct DirectoryArgs {
    /// The service account to bind as: a DN or a user principal name (svc-wsdr@corp.example.com).
    #[arg(long, value_name = "DN", env = "WSDR_LDAP_BIND_DN")]
    pub(crate) ldap_bind_dn: Option<String>,
    /// A file holding the service account's password (its first line). Without this or --ldap-password-secret,
    /// the password is read from the environment variable WSDR_LDAP_PASSWORD.
    #[arg(long, value_name = "FILE", conflicts_with = "ldap_password_secret")]
    pub(crate) ldap_password_file: Option<PathBuf>,
    /// The AWS Secrets Manager secret holding the password (name or ARN; a plain string, or JSON with a
    /// "password" field).
    #[arg(long, value_name = "SECRET", env = "WSDR_LDAP_PASSWORD_SECRET")]
    pub(crate) ldap_password_secret: Option<String>,
    /// PEM bundle of the CA(s) the DC's certificate must chain to, e.g. the AD CS root (default: the system's
    /// trusted roots).
    #[arg(long, value_name = "FILE", env = "WSDR_LDAP_CA_BUNDLE")]
    pub(crate) ldap_ca: Option<PathBuf>,
    /// Seconds to wait for the DC: to connect, and for each reply.
    #[arg(long, value_name = "S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub(crate) ldap_timeout: u64,
    /// Entries per page of the search (AD serves at most 1000).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) ldap_page_size: u32,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Table,
    /// For programs.
    Json,
}

impl PolicyArgs {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_terminate: self.max_terminate,
            max_terminate_percent: self.max_terminate_percent,
            grace_days: self.grace_days,
        }
    }
}
