//! Loading the AWS configuration the standard way (environment, profiles, `AWS_ENDPOINT_URL`) with wsdr's retry
//! policy, and building every client from it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// How the SDK retries a failed call before wsdr sees the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The first backoff (exponential with full jitter from there).
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
}

impl Retries {
    /// Production: six attempts, 1 s first backoff, at most 20 s — rides out a throttle storm of about a minute.
    pub const DEFAULT: Retries = Retries {
        max_attempts: 6,
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(20),
    };

    /// The SDK retry configuration.
    pub fn retry_config(self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }
}

/// Loads the standard AWS configuration (region, credentials, endpoint) with wsdr's retry policy;
/// `region` overrides the environment's.
pub async fn load_config(region: Option<String>, retries: Retries) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(retries.retry_config());
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    loader.load().await
}

/// One client per service wsdr talks to, all from one configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Amazon WorkSpaces.
    pub workspaces: aws_sdk_workspaces::Client,
    /// Resource Groups Tagging (reads wsdr's ownership tags in bulk).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// Amazon S3.
    pub s3: aws_sdk_s3::Client,
    /// Amazon SNS.
    pub sns: aws_sdk_sns::Client,
    /// AWS KMS.
    pub kms: aws_sdk_kms::Client,
    /// AWS Secrets Manager (the directory service account's password).
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Builds every client from `config`. With an endpoint override (a local emulator) S3 uses path-style
    /// addressing, which works for any host name.
    pub fn new(config: &SdkConfig) -> Clients {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Clients {
            workspaces: aws_sdk_workspaces::Client::new(config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            sns: aws_sdk_sns::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
        }
    }
}
