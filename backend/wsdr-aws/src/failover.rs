//! The failover driver on AWS: `wsdr_drivers::failover` on S3, SNS, the [`StatusSigner`] and tokio's timer.

pub use wsdr_core::failover::{FailoverRecord, PendingAlert, RECORD_FORMAT};
pub use wsdr_drivers::failover::{
    COMMIT_ATTEMPTS, FailoverConfig, FailoverError, Loaded, PublishedStatus, Report,
    optional_message, record_key,
};

use crate::clock::TokioPause;
use crate::s3::S3Store;
use crate::sdk::Clients;
use crate::sns::AlertsTopic;
use crate::status::StatusSigner;

/// The failover driver as the functions and the CLI run it.
pub type FailoverDriver =
    wsdr_drivers::failover::FailoverDriver<S3Store, AlertsTopic, StatusSigner, TokioPause>;

/// A driver on `clients` (S3 and SNS) with `signer`.
pub fn driver(clients: &Clients, config: FailoverConfig, signer: StatusSigner) -> FailoverDriver {
    let store = S3Store::new(clients.s3.clone());
    let topic = AlertsTopic::new(clients.sns.clone(), &config.topic_arn);
    FailoverDriver::new(store, topic, signer, TokioPause, config)
}
