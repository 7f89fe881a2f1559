//! The `health` Lambda function: AWS Health events → the failover state machine → SNS alert and signed status
//! document (`wsdr_aws::failover::FailoverDriver` does the work).
//!
//! Events:
//! - an EventBridge `aws.health` / `AWS Health Event` (local, or forwarded from the primary or backup region with
//!   its original envelope): classified against `WSDR_PRIMARY_REGION`, de-duplicated, applied;
//! - `{"action":"poll"}` (the schedule, when `WSDR_HEALTH_POLL=true`): the AWS Health API's WorkSpaces events of
//!   the primary region, each applied like an EventBridge event. Without a support plan: one warning, success.
//!
//! Errors: a malformed event, a state that cannot be read, or an AWS failure fails the invocation with a typed
//! error (`MalformedEvent`, `BadState`, `Aws`, ...); asynchronous invocations are retried twice and then parked
//! in the dead-letter queue (alarmed). Retries are safe: every write is conditional and a repeated event is a
//! duplicate.
//!
//! Panics: the handler does not panic on any input (no unwraps; malformed JSON is an error value). Should one
//! happen anyway, the release profile of cargo-lambda aborts the process: Lambda reports `Runtime.ExitError`,
//! restarts the runtime and retries the invocation like any other failure. Nothing is left half-written, because
//! a step's only commit point is one conditional S3 write; effects not yet carried out are picked up by the next
//! invocation (see the driver's "pending" effects).

// The drivers' futures are generic over the ports and nest deeply; the default limit is too low for them.
#![recursion_limit = "256"]

mod common;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use wsdr_aws::clock::{Clock, SystemClock};
use wsdr_aws::failover::{FailoverDriver, FailoverError};
use wsdr_aws::health_api::{HealthPoller, PollOutcome};

/// What the handler works with.
struct Ports {
    driver: FailoverDriver,
    /// `Some` when `WSDR_HEALTH_POLL=true`.
    poller: Option<HealthPoller>,
    clock: Box<dyn Clock>,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    wsdr_lambda::logging::init();
    let poll = match wsdr_lambda::env::optional("WSDR_HEALTH_POLL").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            let message = format!("WSDR_HEALTH_POLL={other:?} must be true or false");
            tracing::error!(%message, "invalid configuration");
            return Err(message.into());
        }
    };
    let (driver, poller) = common::driver_from_env(poll).await.map_err(|message| {
        tracing::error!(%message, "invalid configuration");
        message
    })?;
    let ports = Ports { driver, poller, clock: Box::new(SystemClock) };
    lambda_runtime::run(lambda_runtime::service_fn(|event| handler(&ports, event))).await
}

/// One invocation.
async fn handler(ports: &Ports, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let now = ports.clock.now();
    let payload = event.payload;
    match payload.get("action") {
        None => {
            let report = ports.driver.on_health_event(&payload, now).await.map_err(|error| {
                tracing::error!(%error, "AWS Health event not applied");
                common::diagnostic(&error)
            })?;
            common::log_report(&report);
            Ok(json!(report))
        }
        Some(action) if action == "poll" => poll(ports, now).await,
        Some(other) => Err(Diagnostic {
            error_type: "UnknownAction".to_owned(),
            error_message: format!(
                "unknown action {other}: the health function takes aws.health events and {{\"action\":\"poll\"}}"
            ),
        }),
    }
}

async fn poll(ports: &Ports, now: jiff::Timestamp) -> Result<Value, Diagnostic> {
    let Some(poller) = &ports.poller else {
        tracing::warn!(
            "{{\"action\":\"poll\"}} received but WSDR_HEALTH_POLL is not true; nothing polled"
        );
        return Ok(json!({"outcome": "poll_disabled"}));
    };
    let primary = ports.driver.config().policy.primary_region().as_str().to_owned();
    let events = match poller.poll(&primary).await {
        Ok(PollOutcome::Events(events)) => events,
        Ok(PollOutcome::NotSubscribed) => return Ok(json!({"outcome": "not_subscribed"})),
        Err(error) => {
            tracing::error!(%error, "AWS Health API poll failed");
            return Err(common::diagnostic(&FailoverError::Aws(error)));
        }
    };
    let mut reports = Vec::new();
    for event in &events {
        match ports.driver.on_health_event(event, now).await {
            Ok(report) => {
                common::log_report(&report);
                reports.push(report);
            }
            Err(FailoverError::Malformed(error)) => {
                tracing::warn!(%error, "an AWS Health API event could not be classified; skipped");
            }
            Err(error) => return Err(common::diagnostic(&error)),
        }
    }
    Ok(json!({"outcome": "polled", "events": events.len(), "reports": reports}))
}

#[cfg(test)]
#[allow(dead_code, clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]
#[path = "../../../wsdr-aws/tests/emulator/support.rs"]
mod support;

#[cfg(test)]
#[path = "../../../wsdr-aws/tests/emulator/plain.rs"]
mod plain;

#[cfg(test)]
mod tests {
    use lambda_runtime::Context;
    use wsdr_aws::clock::FixedClock;
    use wsdr_protocol::{State, verify};

    use super::*;
    use crate::plain::attribute;
    use crate::support::repo_root;

    fn fixture(name: &str) -> Value {
        let path = repo_root().join("tests/fixtures/health").join(name);
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn invoke(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, Context::default())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_primary_workspaces_issue_reaches_the_admins_queue_once() {
        let common::AlertingSite { emulator, queue, keys, driver } =
            common::AlertingSite::start().await;
        let now: jiff::Timestamp = "2025-03-11T14:06:00Z".parse().unwrap();
        let ports = Ports { driver, poller: None, clock: Box::new(FixedClock(now)) };

        let answer = handler(&ports, invoke(fixture("open-issue-primary.json"))).await.unwrap();
        assert_eq!(answer["outcome"], "transition");
        assert_eq!(answer["mode"], "failover_recommended");
        let got = queue.expect(1);
        assert_eq!(attribute(&got[0], "wsdr_event_kind"), "failover_recommended");
        assert_eq!(attribute(&got[0], "wsdr_primary_region"), "us-east-1");
        assert!(got[0].subject.contains("us-east-1"), "{}", got[0].subject);
        let body: Value = serde_json::from_str(&got[0].message).unwrap();
        assert_eq!(body["next_command"], "wsdr failover");

        // The backup region's copy and a later update: nothing more for the admins.
        let answer = handler(&ports, invoke(fixture("open-issue-backup-copy.json"))).await.unwrap();
        assert_eq!(answer["outcome"], "duplicate");
        let answer = handler(&ports, invoke(fixture("open-issue-update.json"))).await.unwrap();
        assert_eq!(answer["outcome"], "unchanged");
        queue.expect(0);

        // The status document (users not moved) is signed with the KMS key.
        let (status, document) =
            plain::get_object(&emulator.url, "wsdr-state", "status/status.json");
        assert_eq!(status, 200);
        let verified = verify(document.as_bytes(), &keys, None, now).unwrap();
        assert_eq!((verified.payload().sequence, verified.payload().state), (1, State::Normal));

        // Malformed input is an error naming the problem, never a failover; an unknown action too.
        let error =
            handler(&ports, invoke(fixture("malformed-wrong-source.json"))).await.unwrap_err();
        assert_eq!(error.error_type, "MalformedEvent");
        let error = handler(&ports, invoke(json!({"action": "dance"}))).await.unwrap_err();
        assert_eq!(error.error_type, "UnknownAction");
        // Polling is off: said, not failed.
        let answer = handler(&ports, invoke(json!({"action": "poll"}))).await.unwrap();
        assert_eq!(answer["outcome"], "poll_disabled");
        queue.expect(0);
    }
}
