//! The reconcile function: which users export an event names, the configuration from the environment, and the
//! handler — parse, call `wsdr_aws::reconcile`, emit metrics, alert, answer. All logic is in the driver.
//!
//! Events: EventBridge `Object Created` from the users bucket (and classic S3 notifications, `Records[]`, for
//! deployments that wire the bucket to the function directly), EventBridge `Scheduled Event` (the safety-net
//! run, which reads `WSDR_USERS_KEY`), and a direct invocation `{"dry_run": true}` (or `{}`), which also reads
//! `WSDR_USERS_KEY`.
//!
//! With `WSDR_USERS_LDAP_URL` set, the users come from the directory instead: scheduled and direct runs search
//! the OU (the password read from Secrets Manager at each run), and export uploads are ignored.

use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::s3::S3Event;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use wsdr_aws::AwsError;
use wsdr_aws::clock::{Clock, SystemClock};
use wsdr_aws::reconcile::signals::{attention_alert, metrics_document};
use wsdr_aws::reconcile::{
    Deadline, NoProgress, Ports, ReconcileConfig, Run, Settings, UsersInput, reconcile,
};
use wsdr_aws::s3::{S3Location, S3Store};
use wsdr_aws::secrets::SecretsApi;
use wsdr_aws::sns::AlertsTopic;
use wsdr_core::policy::Limits;
use wsdr_core::trigger::{S3Record, latest_export};
use wsdr_ldap::{CaBundle, DirectorySource, DirectoryUrl};

use crate::env::{self, EnvError};

/// Time kept back from the invocation's deadline for saving state, confirming and reporting.
const RESERVE: Duration = Duration::from_secs(45);

/// The function's configuration (`infra/README.md` documents each variable).
#[derive(Clone, Debug)]
pub struct Config {
    /// The validated reconcile configuration.
    pub reconcile: ReconcileConfig,
    /// Bucket of users exports.
    pub users_bucket: String,
    /// Only keys under this prefix are users exports.
    pub users_prefix: String,
    /// The export scheduled and direct runs read.
    pub users_key: String,
    /// The admins' topic, if alerts are wanted.
    pub alerts_topic_arn: Option<String>,
    /// CloudWatch namespace of the metrics.
    pub metrics_namespace: String,
    /// The directory, when the users come from it rather than from exports.
    pub directory: Option<DirectoryConfig>,
}

/// How the function reads the users from the directory (`WSDR_USERS_LDAP_URL` and `WSDR_LDAP_*`).
#[derive(Clone, Debug)]
pub struct DirectoryConfig {
    /// The DC and the OU.
    pub url: DirectoryUrl,
    /// Who to bind as (DN or user principal name).
    pub bind_dn: String,
    /// The Secrets Manager secret holding the password (name or ARN).
    pub password_secret: String,
    /// A PEM CA bundle in S3; the system's roots when absent.
    pub ca_bundle: Option<S3Location>,
    /// The longest wait for the DC.
    pub timeout: Duration,
    /// Entries per page.
    pub page_size: u32,
}

impl DirectoryConfig {
    /// The directory settings, when `WSDR_USERS_LDAP_URL` is set; every other variable they need is then required.
    fn from_env() -> Result<Option<DirectoryConfig>, String> {
        let Some(url) = env::optional("WSDR_USERS_LDAP_URL") else { return Ok(None) };
        let text = |error: EnvError| error.to_string();
        let url = url
            .parse()
            .map_err(|error| format!("environment variable WSDR_USERS_LDAP_URL: {error}"))?;
        let ca_bundle = env::optional("WSDR_LDAP_CA_BUNDLE")
            .map(|raw| {
                raw.parse::<S3Location>().map_err(|error| {
                    format!("environment variable WSDR_LDAP_CA_BUNDLE={raw:?}: {error} (an s3://BUCKET/KEY of a PEM file)")
                })
            })
            .transpose()?;
        Ok(Some(DirectoryConfig {
            url,
            bind_dn: env::required("WSDR_LDAP_BIND_DN").map_err(text)?,
            password_secret: env::required("WSDR_LDAP_PASSWORD_SECRET").map_err(text)?,
            ca_bundle,
            timeout: Duration::from_secs(
                env::parsed_or(
                    "WSDR_LDAP_TIMEOUT_SECONDS",
                    DirectorySource::DEFAULT_TIMEOUT.as_secs(),
                )
                .map_err(text)?,
            ),
            page_size: env::parsed_or("WSDR_LDAP_PAGE_SIZE", DirectorySource::DEFAULT_PAGE_SIZE)
                .map_err(text)?,
        }))
    }

    /// The source for one run: the password read now (so a rotation takes effect), the CA bundle from S3.
    pub async fn source(
        &self,
        secrets: &SecretsApi,
        store: &S3Store,
    ) -> Result<DirectorySource, AwsError> {
        let password = secrets.password(&self.password_secret).await?;
        let ca = match &self.ca_bundle {
            None => CaBundle::System,
            Some(location) => CaBundle::Pem {
                source: location.to_string(),
                pem: store.get(location).await?.bytes,
            },
        };
        Ok(DirectorySource {
            url: self.url.clone(),
            bind_dn: self.bind_dn.clone(),
            password,
            ca,
            timeout: self.timeout,
            page_size: self.page_size,
        })
    }
}

impl Config {
    /// Reads and validates every variable; the error names each bad one.
    pub fn from_env() -> Result<Config, String> {
        let limits = (|| -> Result<Limits, EnvError> {
            Ok(Limits {
                max_terminate: env::parsed_or(
                    "WSDR_MAX_TERMINATE",
                    Limits::RECOMMENDED.max_terminate,
                )?,
                max_terminate_percent: env::parsed_or(
                    "WSDR_MAX_TERMINATE_PERCENT",
                    Limits::RECOMMENDED.max_terminate_percent,
                )?,
                grace_days: env::parsed_or("WSDR_GRACE_DAYS", Limits::RECOMMENDED.grace_days)?,
            })
        })()
        .map_err(|error| error.to_string())?;
        let state_bucket = env::required("WSDR_STATE_BUCKET").map_err(|error| error.to_string())?;
        let state_prefix =
            env::optional("WSDR_STATE_PREFIX").unwrap_or_else(|| "state/".to_owned());
        let reports_prefix =
            env::optional("WSDR_REPORTS_PREFIX").unwrap_or_else(|| "reports/".to_owned());
        let settings = Settings {
            directory_id: env::optional("WSDR_DIRECTORY_ID").unwrap_or_default(),
            bundle_id: env::optional("WSDR_BUNDLE_ID").unwrap_or_default(),
            auto_stop_timeout_minutes: env::parsed_or("WSDR_RUNNING_MODE_TIMEOUT_MINUTES", 60)
                .map_err(|error| error.to_string())?,
            volume_encryption_key: env::optional("WSDR_VOLUME_ENCRYPTION_KEY"),
            extra_tags: env::optional("WSDR_WORKSPACE_TAGS")
                .map(|tags| {
                    tags.split(',')
                        .map(str::trim)
                        .filter(|tag| !tag.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            limits,
            dry_run: env::parsed_or("WSDR_DRY_RUN", false).map_err(|error| error.to_string())?,
            state_prefix: Some(format!("s3://{state_bucket}/{state_prefix}")),
            reports_prefix: Some(format!("s3://{state_bucket}/{reports_prefix}")),
        };
        let reconcile = settings.validate().map_err(|error| error.to_string())?;
        Ok(Config {
            reconcile,
            users_bucket: env::required("WSDR_USERS_BUCKET").map_err(|error| error.to_string())?,
            users_prefix: env::optional("WSDR_USERS_PREFIX").unwrap_or_else(|| "users/".to_owned()),
            users_key: env::optional("WSDR_USERS_KEY")
                .unwrap_or_else(|| "users/workspaces-users.csv".to_owned()),
            alerts_topic_arn: env::optional("WSDR_ALERTS_TOPIC_ARN"),
            metrics_namespace: env::optional("WSDR_METRICS_NAMESPACE")
                .unwrap_or_else(|| "wsdr".to_owned()),
            directory: DirectoryConfig::from_env()?,
        })
    }
}

/// What an invocation asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A new export: reconcile from it.
    Export(S3Location),
    /// The safety-net schedule: reconcile from the configured export.
    Schedule,
    /// A direct invocation, optionally forcing a dry run.
    Direct {
        /// `{"dry_run": true}`.
        dry_run: bool,
    },
    /// An event about another object (not a users export): nothing to do.
    Ignore(String),
}

impl Trigger {
    /// The trigger's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Export(_) => "s3",
            Trigger::Schedule => "schedule",
            Trigger::Direct { .. } => "direct",
            Trigger::Ignore(_) => "ignored",
        }
    }
}

/// Reads what `event` asks for. An event this function cannot understand is an error (never a guess).
pub fn trigger_of(event: &Value, config: &Config) -> Result<Trigger, String> {
    if event.get("Records").is_some() {
        let notification: S3Event = serde_json::from_value(event.clone())
            .map_err(|error| format!("unreadable S3 notification: {error}"))?;
        let records: Vec<S3Record> = notification
            .records
            .iter()
            .map(|record| S3Record {
                bucket: record.s3.bucket.name.clone().unwrap_or_default(),
                encoded_key: record.s3.object.key.clone().unwrap_or_default(),
                event_time: record.event_time.to_rfc3339(),
                sequencer: record.s3.object.sequencer.clone().unwrap_or_default(),
            })
            .collect();
        return match latest_export(&records).map_err(|error| error.to_string())? {
            None => Ok(Trigger::Ignore("an S3 notification without records".to_owned())),
            Some(object) => Ok(export(config, object.bucket, object.key)),
        };
    }
    if event.get("detail-type").is_some() {
        let envelope: EventBridgeEvent<Value> = serde_json::from_value(event.clone())
            .map_err(|error| format!("unreadable EventBridge event: {error}"))?;
        return match (envelope.source.as_str(), envelope.detail_type.as_str()) {
            ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Trigger::Schedule),
            ("aws.s3", "Object Created") => {
                let bucket =
                    envelope.detail["bucket"]["name"].as_str().unwrap_or_default().to_owned();
                let key = envelope.detail["object"]["key"]
                    .as_str()
                    .ok_or("an Object Created event without detail.object.key")?;
                // EventBridge carries the key as S3 stored it, not URL-encoded as in S3 notifications.
                Ok(export(config, bucket, key.to_owned()))
            }
            (source, detail_type) => Err(format!("unexpected event {source} / {detail_type}")),
        };
    }
    if let Some(object) = event.as_object() {
        if let Some(unknown) = object.keys().find(|key| key.as_str() != "dry_run") {
            return Err(format!(
                "unexpected field {unknown:?} in a direct invocation (expected {{\"dry_run\": true}})"
            ));
        }
        let dry_run = match object.get("dry_run") {
            None => false,
            Some(Value::Bool(dry_run)) => *dry_run,
            Some(other) => return Err(format!("dry_run must be true or false, not {other}")),
        };
        return Ok(Trigger::Direct { dry_run });
    }
    Err(format!("unexpected event: {event}"))
}

fn export(config: &Config, bucket: String, key: String) -> Trigger {
    if let Some(directory) = &config.directory {
        return Trigger::Ignore(format!(
            "s3://{bucket}/{key}: the users come from the directory ({}), not from exports",
            directory.url
        ));
    }
    if bucket != config.users_bucket || !key.starts_with(&config.users_prefix) {
        return Trigger::Ignore(format!(
            "s3://{bucket}/{key} is not under s3://{}/{}",
            config.users_bucket, config.users_prefix
        ));
    }
    Trigger::Export(S3Location::new(bucket, key))
}

/// What the handler needs besides the event.
pub struct Handler {
    /// The services.
    pub ports: Ports,
    /// The configuration.
    pub config: Config,
    /// The admins' topic.
    pub alerts: Option<AlertsTopic>,
    /// Secrets Manager, for the directory's password.
    pub secrets: SecretsApi,
    /// The clock.
    pub clock: Box<dyn Clock>,
}

impl Handler {
    /// Handles one invocation. Retryable failures (throttling, 5xx, a lost race) are errors, so Lambda retries the
    /// asynchronous invocation; everything else — including a refused list or a blocked plan — is a report, with
    /// an alert for the admins when it needs one.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let (payload, context) = event.into_parts();
        let trigger = trigger_of(&payload, &self.config).map_err(|message| {
            tracing::error!(%message, "refused event");
            diagnostic("InvalidEvent", message)
        })?;
        let (users, dry_run) = match &trigger {
            Trigger::Ignore(reason) => {
                tracing::info!(%reason, "ignored");
                return Ok(json!({"outcome": "ignored", "reason": reason}));
            }
            Trigger::Export(location) => (UsersInput::S3(location.clone()), false),
            Trigger::Schedule => (self.configured_users().await?, false),
            Trigger::Direct { dry_run } => (self.configured_users().await?, *dry_run),
        };
        let mut config = self.config.reconcile.clone();
        config.dry_run |= dry_run;
        let deadline = remaining(context.deadline, self.clock.now())
            .map(|left| Deadline { at: tokio::time::Instant::now() + left, reserve: RESERVE });
        let run = Run {
            trigger: trigger.name(),
            clock: self.clock.as_ref(),
            deadline,
            progress: &NoProgress,
        };

        let report = match reconcile(&self.ports, &config, users, &run).await {
            Ok(report) => report,
            Err(error) => {
                tracing::error!(operation = error.operation, kind = ?error.kind, message = %error.message, "run failed");
                return Err(aws_diagnostic(&error));
            }
        };
        tracing::info!(
            run_id = %report.run_id,
            outcome = report.outcome.as_str(),
            created = report.created.len(),
            terminated = report.terminated.len(),
            failed = report.failed.len(),
            readiness = report.readiness.percent,
            summary = %report.summary(),
            "reconciled"
        );
        if let Some(metrics) =
            metrics_document(&report, &self.config.metrics_namespace, self.clock.now())
        {
            // EMF: CloudWatch extracts the metrics from this line on standard output; no log level filters it.
            crate::logging::metrics(&metrics);
        }
        if let (Some(alerts), Some(alert)) = (&self.alerts, attention_alert(&report)) {
            // The admins must hear of a blocked run or failed operations: a few tries, then the invocation fails
            // (Lambda retries it; the run is idempotent, and its report is already saved).
            let mut last_error = None;
            for attempt in 0..ALERT_ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_secs(1 << attempt)).await;
                }
                match alerts.publish(&alert).await {
                    Ok(_) => {
                        last_error = None;
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(%error, attempt, "could not alert the admins");
                        last_error = Some(error);
                    }
                }
            }
            if let Some(error) = last_error {
                tracing::error!(%error, "the admins' alert was not delivered; failing the invocation so that it is retried");
                return Err(diagnostic(
                    "AlertNotDelivered",
                    format!(
                        "run {} needs the admins' attention, but the alert failed: {error}",
                        report.run_id
                    ),
                ));
            }
        }
        serde_json::to_value(&report)
            .map_err(|error| diagnostic("Serialization", error.to_string()))
    }
}

/// Attempts at the admins' alert before the invocation fails.
const ALERT_ATTEMPTS: u32 = 3;

impl Handler {
    /// The users source that scheduled and direct runs read: the directory when configured, else the export.
    async fn configured_users(&self) -> Result<UsersInput, Diagnostic> {
        match &self.config.directory {
            None => Ok(UsersInput::S3(S3Location::new(&self.config.users_bucket, &self.config.users_key))),
            Some(directory) => {
                directory.source(&self.secrets, &self.ports.store).await.map(UsersInput::Directory).map_err(|error| {
                    tracing::error!(operation = error.operation, kind = ?error.kind, message = %error.message, "directory settings unreadable");
                    aws_diagnostic(&error)
                })
            }
        }
    }
}

fn aws_diagnostic(error: &AwsError) -> Diagnostic {
    diagnostic(if error.kind.is_retryable() { "Retryable" } else { "AwsError" }, error.to_string())
}

/// Time left before the invocation's deadline (milliseconds since the epoch; 0 when not set).
fn remaining(deadline_ms: u64, now: jiff::Timestamp) -> Option<Duration> {
    let deadline = i64::try_from(deadline_ms).ok().filter(|ms| *ms > 0)?;
    let left = deadline - now.as_millisecond();
    Some(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
}

fn diagnostic(error_type: &str, message: String) -> Diagnostic {
    Diagnostic { error_type: error_type.to_owned(), error_message: message }
}

/// Runs the function: configuration from the environment, clients from the Lambda's AWS environment.
pub async fn main() -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let config = Config::from_env().map_err(|message| {
        tracing::error!(%message, "invalid configuration");
        message
    })?;
    let sdk = wsdr_aws::sdk::load_config(None, wsdr_aws::sdk::Retries::DEFAULT).await;
    let clients = wsdr_aws::sdk::Clients::new(&sdk);
    let handler = Handler {
        ports: Ports::new(&clients, wsdr_aws::limiter::Rate::WORKSPACES),
        alerts: config
            .alerts_topic_arn
            .clone()
            .map(|arn| AlertsTopic::new(clients.sns.clone(), arn)),
        secrets: SecretsApi::new(clients.secrets.clone()),
        config,
        clock: Box::new(SystemClock),
    };
    lambda_runtime::run(lambda_runtime::service_fn(|event| handler.handle(event))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            reconcile: Settings {
                directory_id: "d-90670a1b2c".to_owned(),
                bundle_id: "wsb-wsdrstd01".to_owned(),
                auto_stop_timeout_minutes: 60,
                ..Settings::default()
            }
            .validate()
            .unwrap(),
            users_bucket: "users-bucket".to_owned(),
            users_prefix: "users/".to_owned(),
            users_key: "users/workspaces-users.csv".to_owned(),
            alerts_topic_arn: None,
            metrics_namespace: "wsdr".to_owned(),
            directory: None,
        }
    }

    fn fixture(name: &str) -> Value {
        let path =
            format!("{}/../../tests/fixtures/reconcile-events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    }

    #[test]
    fn eventbridge_object_created_names_the_export_verbatim() {
        let trigger = trigger_of(&fixture("eventbridge-object-created.json"), &config()).unwrap();
        assert_eq!(
            trigger,
            Trigger::Export(S3Location::new("users-bucket", "users/export 2026+11.csv"))
        );
    }

    #[test]
    fn s3_notifications_are_decoded_and_the_newest_record_wins() {
        let trigger = trigger_of(&fixture("s3-notification-two-records.json"), &config()).unwrap();
        assert_eq!(
            trigger,
            Trigger::Export(S3Location::new("users-bucket", "users/export 2026+11.csv"))
        );
    }

    #[test]
    fn schedules_and_direct_invocations_read_the_configured_export() {
        assert_eq!(
            trigger_of(&fixture("scheduled-event.json"), &config()).unwrap(),
            Trigger::Schedule
        );
        assert_eq!(
            trigger_of(&json!({"dry_run": true}), &config()).unwrap(),
            Trigger::Direct { dry_run: true }
        );
        assert_eq!(trigger_of(&json!({}), &config()).unwrap(), Trigger::Direct { dry_run: false });
    }

    #[test]
    fn other_objects_are_ignored_and_nonsense_is_refused() {
        let mut event = fixture("eventbridge-object-created.json");
        event["detail"]["object"]["key"] = json!("reports/x.json");
        assert!(matches!(trigger_of(&event, &config()).unwrap(), Trigger::Ignore(_)));
        assert!(
            trigger_of(&json!({"dry_run": "yes"}), &config())
                .unwrap_err()
                .contains("true or false")
        );
        assert!(trigger_of(&json!({"dryrun": true}), &config()).unwrap_err().contains("dryrun"));
        assert!(trigger_of(&json!([1]), &config()).is_err());
    }

    #[test]
    fn with_the_directory_as_source_exports_are_ignored() {
        let mut config = config();
        config.directory = Some(DirectoryConfig {
            url: "ldaps://dc1.corp.example.com/OU=DR Users,DC=corp,DC=example,DC=com"
                .parse()
                .unwrap(),
            bind_dn: "svc-wsdr@corp.example.com".to_owned(),
            password_secret: "wsdr/ldap".to_owned(),
            ca_bundle: None,
            timeout: DirectorySource::DEFAULT_TIMEOUT,
            page_size: DirectorySource::DEFAULT_PAGE_SIZE,
        });
        let Trigger::Ignore(reason) =
            trigger_of(&fixture("eventbridge-object-created.json"), &config).unwrap()
        else {
            panic!("an export upload must not start a run when the directory is the source");
        };
        assert_eq!(
            reason,
            "s3://users-bucket/users/export 2026+11.csv: the users come from the directory \
             (ldaps://dc1.corp.example.com:636/OU=DR Users,DC=corp,DC=example,DC=com), not from exports"
        );
        assert_eq!(
            trigger_of(&fixture("scheduled-event.json"), &config).unwrap(),
            Trigger::Schedule
        );
    }

    #[test]
    fn the_remaining_time_comes_from_the_invocation_deadline() {
        let now: jiff::Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let deadline = u64::try_from(now.as_millisecond() + 90_000).unwrap();
        assert_eq!(remaining(deadline, now), Some(Duration::from_secs(90)));
        assert_eq!(remaining(0, now), None);
        assert_eq!(remaining(1, now), Some(Duration::ZERO));
    }
}
