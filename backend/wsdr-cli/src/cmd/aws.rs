//! What the commands that talk to AWS share: an async runtime and clients from the standard AWS environment
//! (`AWS_REGION`, `AWS_PROFILE`, credentials, `AWS_ENDPOINT_URL` for a local emulator).

use std::future::Future;

use wsdr_aws::AwsError;
use wsdr_aws::sdk::{self, Clients, Retries};

use crate::failure::Failure;

/// Runs `future` to completion on a fresh runtime (the CLI is synchronous everywhere else).
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Operations(format!("cannot start the async runtime: {error}")))?;
    Ok(runtime.block_on(future))
}

/// Clients for every service, from the standard AWS environment; `region` overrides it.
pub(crate) async fn clients(region: Option<String>) -> Result<Clients, Failure> {
    let config = sdk::load_config(region, Retries::DEFAULT).await;
    if config.region().is_none() {
        return Err(Failure::BadInput(
            "no AWS region: set AWS_REGION (or a profile's region), or pass --region".to_owned(),
        ));
    }
    Ok(Clients::new(&config))
}

/// An AWS error as the CLI reports it: an operational failure (exit 1), with the operation and the service's words.
pub(crate) fn failure(error: AwsError) -> Failure {
    Failure::Operations(error.to_string())
}
