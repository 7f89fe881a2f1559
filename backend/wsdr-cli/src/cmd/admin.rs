//! `wsdr failover`, `wsdr failback`, `wsdr alert` and `wsdr health ingest`: the admin side of the failover state
//! machine, through the same driver (`wsdr_aws::failover::FailoverDriver`) as the `health` and `publish` functions.
//!
//! The deployment comes from flags, each falling back to the functions' environment variable (`infra/README.md`,
//! "Configuration contract"), so an admin can export the stack's values once. Signing: `--key-file` (a local
//! PKCS#8 key from `wsdr keygen`, the local default) or, without it, the KMS key `--key-id`.
//!
//! Exit codes: 0 published; 1 an AWS call failed; 2 bad configuration or input; 3 the state machine refused a
//! contradictory command (failover while failed over, failback in normal, a drill outside normal, ...): nothing
//! changed, the message says what to run instead.

use std::path::PathBuf;

use clap::Args;
use wsdr_aws::failover::{FailoverConfig, FailoverDriver, FailoverError, Report, optional_message};
use wsdr_aws::kms::KmsSigner;
use wsdr_aws::sdk::Clients;
use wsdr_aws::status::StatusSigner;
use wsdr_core::failover::{AdminCommand, Message, Site};
use wsdr_protocol::{KeyId, LocalSigner};

use super::aws::{block_on, clients, failure};
use crate::cli::Format;
use crate::failure::Failure;
use crate::{clock, output};

/// Where the deployment's state, status document and topic are, and how to sign. Every flag falls back to the
/// environment variable named in its help.
#[derive(Debug, Args, Clone)]
pub(crate) struct DeployArgs {
    /// The state bucket [env: WSDR_STATE_BUCKET].
    #[arg(long, value_name = "BUCKET")]
    pub(crate) state_bucket: Option<String>,
    /// The state prefix [env: WSDR_STATE_PREFIX; default state/].
    #[arg(long, value_name = "PREFIX")]
    pub(crate) state_prefix: Option<String>,
    /// The status document's key in the state bucket [env: WSDR_STATUS_OBJECT_KEY; default status/status.json].
    #[arg(long, value_name = "KEY")]
    pub(crate) status_key: Option<String>,
    /// The admins' SNS topic [env: WSDR_ALERTS_TOPIC_ARN].
    #[arg(long, value_name = "ARN")]
    pub(crate) topic_arn: Option<String>,
    /// The primary region [env: WSDR_PRIMARY_REGION].
    #[arg(long, value_name = "R")]
    pub(crate) primary_region: Option<String>,
    /// The DR region [env: WSDR_DR_REGION, else AWS_REGION].
    #[arg(long, value_name = "R")]
    pub(crate) dr_region: Option<String>,
    /// The primary registration code or connection alias [env: WSDR_PRIMARY_REGISTRATION_CODE].
    #[arg(long, value_name = "CODE")]
    pub(crate) primary_code: Option<String>,
    /// The DR registration code or connection alias [env: WSDR_DR_REGISTRATION_CODE].
    #[arg(long, value_name = "CODE")]
    pub(crate) dr_code: Option<String>,
    /// Hours a status document is valid [env: WSDR_STATUS_VALIDITY_HOURS; default 24].
    #[arg(long, value_name = "H")]
    pub(crate) validity_hours: Option<u32>,
    /// The status document's public URL, quoted in alerts [env: WSDR_STATUS_URL].
    #[arg(long, value_name = "URL")]
    pub(crate) status_url: Option<String>,
    /// A local PKCS#8 P-256 private key to sign with (`wsdr keygen`) [env: WSDR_STATUS_KEY_FILE]; without it the
    /// KMS key --key-id signs.
    #[arg(long, value_name = "FILE")]
    pub(crate) key_file: Option<PathBuf>,
    /// The signing key's id, written into each document (with --key-file: any name the trays map to the public
    /// key; without: the KMS key id or ARN) [env: WSDR_STATUS_KEY_ID].
    #[arg(long, value_name = "ID")]
    pub(crate) key_id: Option<String>,
    /// The AWS region of the calls (default: the standard AWS environment).
    #[arg(long, value_name = "R")]
    pub(crate) region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

/// `wsdr failover`.
#[derive(Debug, Args)]
pub(crate) struct FailoverArgs {
    /// The title users see instead of the default (with --body).
    #[arg(long, value_name = "T")]
    pub(crate) title: Option<String>,
    /// The message users see instead of the default (with --title).
    #[arg(long, value_name = "B")]
    pub(crate) body: Option<String>,
    #[command(flatten)]
    pub(crate) deploy: DeployArgs,
}

/// `wsdr alert`.
#[derive(Debug, Args)]
pub(crate) struct AlertArgs {
    /// The title users see.
    #[arg(long, value_name = "T", required_unless_present = "end_drill")]
    pub(crate) title: Option<String>,
    /// The message users see.
    #[arg(long, value_name = "B", required_unless_present = "end_drill")]
    pub(crate) body: Option<String>,
    /// Start a DR drill (only from mode normal): users see the message, nobody is moved unless --target dr.
    #[arg(long, conflicts_with = "end_drill")]
    pub(crate) drill: bool,
    /// The site the drill exercises.
    #[arg(long, value_enum, default_value = "primary", requires = "drill", value_name = "SITE")]
    pub(crate) target: Target,
    /// End the running drill.
    #[arg(long)]
    pub(crate) end_drill: bool,
    #[command(flatten)]
    pub(crate) deploy: DeployArgs,
}

/// A drill's site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Target {
    /// Users stay on the primary (default).
    Primary,
    /// Users are sent to DR.
    Dr,
}

/// `wsdr health ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// The event, as EventBridge delivers it (JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) event: PathBuf,
    /// Fail over without an admin on an open issue [env: WSDR_AUTO_FAILOVER; default false].
    #[arg(long)]
    pub(crate) auto_failover: bool,
    #[command(flatten)]
    pub(crate) deploy: DeployArgs,
}

pub(crate) fn failover(args: &FailoverArgs) -> Result<(), Failure> {
    let message =
        optional_message(args.title.as_deref(), args.body.as_deref()).map_err(Failure::BadInput)?;
    run_command(&args.deploy, AdminCommand::DeclareFailover { message })
}

pub(crate) fn failback(args: &FailoverArgs) -> Result<(), Failure> {
    let message =
        optional_message(args.title.as_deref(), args.body.as_deref()).map_err(Failure::BadInput)?;
    run_command(&args.deploy, AdminCommand::Failback { message })
}

pub(crate) fn alert(args: &AlertArgs) -> Result<(), Failure> {
    let command = if args.end_drill {
        let message = optional_message(args.title.as_deref(), args.body.as_deref())
            .map_err(Failure::BadInput)?;
        AdminCommand::EndDrill { message }
    } else {
        let message = Message::new(
            args.title.as_deref().unwrap_or_default(),
            args.body.as_deref().unwrap_or_default(),
        )
        .map_err(|error| Failure::BadInput(format!("--title/--body: {error}")))?;
        if args.drill {
            let active = match args.target {
                Target::Primary => Site::Primary,
                Target::Dr => Site::Dr,
            };
            AdminCommand::StartDrill { message, active }
        } else {
            AdminCommand::Alert(message)
        }
    };
    run_command(&args.deploy, command)
}

pub(crate) fn ingest(args: &IngestArgs) -> Result<(), Failure> {
    let path = args.event.display();
    let bytes = std::fs::read(&args.event)
        .map_err(|error| Failure::BadInput(format!("{path}: cannot read the event: {error}")))?;
    let event: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|error| Failure::BadInput(format!("{path}: not JSON: {error}")))?;
    let auto = args.auto_failover;
    block_on(async {
        let driver = driver(&args.deploy, auto).await?;
        let report =
            driver.on_health_event(&event, clock::now()).await.map_err(|error| match error {
                FailoverError::Malformed(error) => Failure::BadInput(format!("{path}: {error}")),
                other => driver_failure(other),
            })?;
        print_report(&report, args.deploy.format)
    })?
}

fn run_command(deploy: &DeployArgs, command: AdminCommand) -> Result<(), Failure> {
    block_on(async {
        let driver = driver(deploy, false).await?;
        let report = driver.command(command, clock::now()).await.map_err(driver_failure)?;
        print_report(&report, deploy.format)
    })?
}

/// A driver error as the CLI reports it (see the module docs for the exit codes).
pub(crate) fn driver_failure(error: FailoverError) -> Failure {
    match error {
        FailoverError::Refused(refusal) => {
            let text = refusal.to_string();
            Failure::Blocked(text.strip_prefix("refused: ").unwrap_or(&text).to_owned())
        }
        FailoverError::Malformed(error) => Failure::BadInput(error.to_string()),
        FailoverError::BadRecord { .. } | FailoverError::Status(_) => {
            Failure::BadInput(error.to_string())
        }
        FailoverError::Aws(error) => failure(error),
        // Committed: say so, so that nobody runs the command again; what is left is retried by the functions.
        FailoverError::Incomplete { report, failures } => Failure::Operations(format!(
            "{}: mode is now {} (status #{}), but not every effect was carried out: {}. The publish function's \
             scheduled refresh carries out what is left; do not run the command again.",
            report.outcome,
            report.mode,
            report.last_sequence,
            failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        )),
    }
}

/// The deployment's configuration: flags, then the environment.
pub(crate) fn config(deploy: &DeployArgs, auto_failover: bool) -> Result<FailoverConfig, Failure> {
    let flag = |name: &str| -> Option<String> {
        match name {
            "WSDR_STATE_BUCKET" => deploy.state_bucket.clone(),
            "WSDR_STATE_PREFIX" => deploy.state_prefix.clone(),
            "WSDR_STATUS_OBJECT_KEY" => deploy.status_key.clone(),
            "WSDR_ALERTS_TOPIC_ARN" => deploy.topic_arn.clone(),
            "WSDR_PRIMARY_REGION" => deploy.primary_region.clone(),
            "WSDR_DR_REGION" => deploy.dr_region.clone(),
            "WSDR_PRIMARY_REGISTRATION_CODE" => deploy.primary_code.clone(),
            "WSDR_DR_REGISTRATION_CODE" => deploy.dr_code.clone(),
            "WSDR_STATUS_VALIDITY_HOURS" => deploy.validity_hours.map(|h| h.to_string()),
            "WSDR_STATUS_URL" => deploy.status_url.clone(),
            "WSDR_AUTO_FAILOVER" => auto_failover.then(|| "true".to_owned()),
            _ => None,
        }
    };
    FailoverConfig::from_lookup(|name| flag(name).or_else(|| std::env::var(name).ok()))
        .map_err(|problems| Failure::BadInput(format!("configuration: {problems}")))
}

/// Which key signs: a local key file, or a KMS key.
pub(crate) enum KeyChoice {
    /// A local PKCS#8 key.
    Local(LocalSigner),
    /// A KMS key id.
    Kms(KeyId),
}

impl KeyChoice {
    /// From `--key-file` / `--key-id`, falling back to `WSDR_STATUS_KEY_FILE` / `WSDR_STATUS_KEY_ID`. With a key
    /// file and no id, the id is the file's stem.
    pub(crate) fn from_flags(
        key_file: Option<&PathBuf>,
        key_id: Option<&String>,
    ) -> Result<KeyChoice, Failure> {
        let key_id = key_id
            .cloned()
            .or_else(|| std::env::var("WSDR_STATUS_KEY_ID").ok())
            .filter(|s| !s.is_empty());
        let key_file = key_file
            .cloned()
            .or_else(|| std::env::var_os("WSDR_STATUS_KEY_FILE").map(PathBuf::from))
            .filter(|p| !p.as_os_str().is_empty());
        let parse_id = |id: &str| {
            KeyId::parse(id).map_err(|error| Failure::BadInput(format!("--key-id {id:?} {error}")))
        };
        match (key_file, key_id) {
            (Some(file), key_id) => {
                let key_id = match key_id {
                    Some(id) => parse_id(&id)?,
                    None => parse_id(file.file_stem().and_then(|s| s.to_str()).unwrap_or("wsdr"))?,
                };
                let pem = std::fs::read_to_string(&file).map_err(|error| {
                    Failure::BadInput(format!("{}: cannot read the key: {error}", file.display()))
                })?;
                let signer = LocalSigner::from_pkcs8_pem(key_id, &pem)
                    .map_err(|error| Failure::BadInput(format!("{}: {error}", file.display())))?;
                Ok(KeyChoice::Local(signer))
            }
            (None, Some(id)) => Ok(KeyChoice::Kms(parse_id(&id)?)),
            (None, None) => Err(Failure::BadInput(
                "no signing key: pass --key-file FILE (a local key from `wsdr keygen`) or --key-id (a KMS key); \
                 or set WSDR_STATUS_KEY_FILE / WSDR_STATUS_KEY_ID"
                    .to_owned(),
            )),
        }
    }

    /// The signer (KMS keys use `clients`).
    pub(crate) fn signer(self, clients: &Clients) -> StatusSigner {
        match self {
            KeyChoice::Local(signer) => StatusSigner::Local(signer),
            KeyChoice::Kms(key_id) => {
                StatusSigner::Kms(KmsSigner::new(clients.kms.clone(), key_id))
            }
        }
    }
}

/// The driver for `deploy`.
pub(crate) async fn driver(
    deploy: &DeployArgs,
    auto_failover: bool,
) -> Result<FailoverDriver, Failure> {
    let config = config(deploy, auto_failover)?;
    let key = KeyChoice::from_flags(deploy.key_file.as_ref(), deploy.key_id.as_ref())?;
    let clients = clients(deploy.region.clone()).await?;
    let signer = key.signer(&clients);
    Ok(wsdr_aws::failover::driver(&clients, config, signer))
}

fn print_report(report: &Report, format: Format) -> Result<(), Failure> {
    match format {
        Format::Json => output::print_json(report),
        Format::Table => {
            let mut text = format!(
                "{}: mode {} -> {} (last sequence {})\n",
                report.outcome, report.previous_mode, report.mode, report.last_sequence
            );
            if let Some(reason) = &report.reason {
                text.push_str(&format!("  {reason}\n"));
            }
            if let Some(status) = &report.status {
                let write = serde_json::to_value(&status.write).unwrap_or_default();
                text.push_str(&format!(
                    "  status document #{} signed with key {} -> {} ({})\n",
                    status.sequence,
                    status.key_id,
                    status.location,
                    write["result"].as_str().unwrap_or("?")
                ));
            }
            if let Some(alert) = &report.alert {
                text.push_str(&format!(
                    "  SNS message {} to the admins: {}\n",
                    report.sns_message_id.as_deref().unwrap_or("(not sent)"),
                    alert.subject
                ));
            }
            output::print(&text);
            Ok(())
        }
    }
}
