//! What the `health` and `publish` binaries share: the failover driver from the environment (`infra/README.md`,
//! "Configuration contract"), signing with the KMS key `WSDR_STATUS_KEY_ID`.

use lambda_runtime::Diagnostic;
use wsdr_aws::failover::{FailoverConfig, FailoverDriver, FailoverError};
use wsdr_aws::health_api::{HealthPoller, health_client};
use wsdr_aws::kms::KmsSigner;
use wsdr_aws::sdk::{Clients, Retries};
use wsdr_aws::status::StatusSigner;
use wsdr_lambda::env;
use wsdr_protocol::KeyId;

/// The driver, from the environment and the Lambda's AWS configuration, and the AWS Health poller when `poll`.
/// The error names every bad variable.
pub(crate) async fn driver_from_env(
    poll: bool,
) -> Result<(FailoverDriver, Option<HealthPoller>), String> {
    let config = FailoverConfig::from_lookup(env::optional)?;
    let key_id = env::required("WSDR_STATUS_KEY_ID").map_err(|error| error.to_string())?;
    let key_id =
        KeyId::parse(&key_id).map_err(|error| format!("WSDR_STATUS_KEY_ID={key_id:?} {error}"))?;
    let sdk = wsdr_aws::sdk::load_config(None, Retries::DEFAULT).await;
    let clients = Clients::new(&sdk);
    let signer = StatusSigner::Kms(KmsSigner::new(clients.kms.clone(), key_id));
    let poller = poll.then(|| HealthPoller::new(health_client(&sdk)));
    Ok((wsdr_aws::failover::driver(&clients, config, signer), poller))
}

/// A driver error as the invocation's error: its type names the class, its message says what to do.
pub(crate) fn diagnostic(error: &FailoverError) -> Diagnostic {
    let error_type = match error {
        FailoverError::Refused(_) => "Refused",
        FailoverError::Malformed(_) => "MalformedEvent",
        FailoverError::BadRecord { .. } => "BadState",
        FailoverError::Status(_) => "StatusDocument",
        FailoverError::Aws(_) => "Aws",
        FailoverError::Incomplete { .. } => "EffectsIncomplete",
    };
    Diagnostic { error_type: error_type.to_owned(), error_message: error.to_string() }
}

/// Logs a driver report as one JSON line.
pub(crate) fn log_report(report: &wsdr_aws::failover::Report) {
    tracing::info!(
        outcome = report.outcome,
        previous_mode = report.previous_mode.as_str(),
        mode = report.mode.as_str(),
        last_sequence = report.last_sequence,
        reason = report.reason.as_deref().unwrap_or(""),
        sns_message_id = report.sns_message_id.as_deref().unwrap_or(""),
        status_sequence = report.status.as_ref().map(|s| s.sequence),
        attempts = report.attempts,
        caught_up = ?report.caught_up,
        "failover step"
    );
}

/// What both binaries' tests run on: an emulator with the state bucket, the alerts topic with the admins' queue
/// subscribed, a KMS signing key, and the failover driver configured as the functions' environment would.
#[cfg(test)]
pub(crate) struct AlertingSite {
    pub(crate) emulator: crate::support::Emulator,
    pub(crate) queue: crate::plain::AdminQueue,
    pub(crate) keys: wsdr_protocol::KeyRing,
    pub(crate) driver: FailoverDriver,
}

#[cfg(test)]
impl AlertingSite {
    pub(crate) async fn start() -> AlertingSite {
        let emulator = crate::support::Emulator::start(&[]);
        let clients = emulator.clients().await;
        clients.s3.create_bucket().bucket("wsdr-state").send().await.unwrap();
        let topic = clients.sns.create_topic().name("wsdr-alerts").send().await.unwrap();
        let topic_arn = topic.topic_arn().unwrap().to_owned();
        let queue = crate::plain::AdminQueue::subscribe(&emulator.url, &topic_arn, "admins");
        let key_id = KeyId::parse(&crate::plain::create_signing_key(&emulator.url)).unwrap();
        let signer = KmsSigner::new(clients.kms.clone(), key_id.clone());
        let mut keys = wsdr_protocol::KeyRing::new();
        keys.insert(key_id, signer.public_key().await.unwrap()).unwrap();
        let env = [
            ("WSDR_STATE_BUCKET", "wsdr-state"),
            ("WSDR_ALERTS_TOPIC_ARN", topic_arn.as_str()),
            ("WSDR_PRIMARY_REGION", "us-east-1"),
            ("WSDR_DR_REGION", "us-west-2"),
            ("WSDR_PRIMARY_REGISTRATION_CODE", "SLiad+ABCDEF"),
            ("WSDR_DR_REGISTRATION_CODE", "WSpdx+ABC12D"),
        ];
        let config = FailoverConfig::from_lookup(|name| {
            env.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        })
        .unwrap();
        let driver = wsdr_aws::failover::driver(&clients, config, StatusSigner::Kms(signer));
        AlertingSite { emulator, queue, keys, driver }
    }
}
