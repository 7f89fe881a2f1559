//! The `publish` Lambda function: re-signs the status document before it expires, and carries out admin actions
//! for admins who invoke the function instead of running the CLI (same driver, same state machine).
//!
//! Events (JSON, `action` names what to do):
//! - `{"action":"refresh"}` (hourly schedule): carries out effects left by a dead invocation, re-publishes the last
//!   status if the object lags behind the state, and re-signs with the next sequence when the published document is
//!   missing or past half its validity;
//! - `{"action":"failover"}`, `{"action":"failback"}` (optional `"title"` and `"body"`, both or neither);
//! - `{"action":"alert","title":T,"body":B}`;
//! - `{"action":"start_drill","title":T,"body":B,"target":"primary"|"dr"}` (default `primary`: nobody moves);
//! - `{"action":"end_drill"}` (optional `"title"`, `"body"`).
//!
//! A contradictory action (failover during failover, failback in normal, ...) fails with error type `Refused` and
//! the state machine's explanation; nothing changes.
//!
//! Panics: none expected (no unwraps). With cargo-lambda's `panic = "abort"` a panic would end the process; Lambda
//! reports `Runtime.ExitError` and retries like any failure, which is safe: the one commit point is a conditional S3
//! write, and a retried admin action after its commit is refused or re-sends nothing.

// The drivers' futures are generic over the ports and nest deeply; the default limit is too low for them.
#![recursion_limit = "256"]

mod common;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Deserialize;
use serde_json::{Value, json};
use wsdr_aws::clock::{Clock, SystemClock};
use wsdr_aws::failover::{FailoverDriver, optional_message};
use wsdr_core::failover::{AdminCommand, Message, Site};

/// What the handler works with.
struct Ports {
    driver: FailoverDriver,
    clock: Box<dyn Clock>,
}

/// An invocation's payload.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Request {
    Refresh,
    Failover { title: Option<String>, body: Option<String> },
    Failback { title: Option<String>, body: Option<String> },
    Alert { title: String, body: String },
    StartDrill { title: String, body: String, target: Option<String> },
    EndDrill { title: Option<String>, body: Option<String> },
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    wsdr_lambda::logging::init();
    let (driver, _) = common::driver_from_env(false).await.map_err(|message| {
        tracing::error!(%message, "invalid configuration");
        message
    })?;
    let ports = Ports { driver, clock: Box::new(SystemClock) };
    lambda_runtime::run(lambda_runtime::service_fn(|event| handler(&ports, event))).await
}

fn bad_request(message: String) -> Diagnostic {
    Diagnostic { error_type: "BadRequest".to_owned(), error_message: message }
}

/// The admin command a request asks for; `None` for a refresh.
fn command(request: Request) -> Result<Option<AdminCommand>, Diagnostic> {
    let message = |title: Option<String>, body: Option<String>| {
        optional_message(title.as_deref(), body.as_deref()).map_err(bad_request)
    };
    let required = |title: String, body: String| {
        Message::new(&title, &body).map_err(|e| bad_request(e.to_string()))
    };
    Ok(Some(match request {
        Request::Refresh => return Ok(None),
        Request::Failover { title, body } => {
            AdminCommand::DeclareFailover { message: message(title, body)? }
        }
        Request::Failback { title, body } => {
            AdminCommand::Failback { message: message(title, body)? }
        }
        Request::Alert { title, body } => AdminCommand::Alert(required(title, body)?),
        Request::StartDrill { title, body, target } => {
            let active = match target.as_deref() {
                None | Some("primary") => Site::Primary,
                Some("dr") => Site::Dr,
                Some(other) => {
                    return Err(bad_request(format!("target {other:?} must be primary or dr")));
                }
            };
            AdminCommand::StartDrill { message: required(title, body)?, active }
        }
        Request::EndDrill { title, body } => {
            AdminCommand::EndDrill { message: message(title, body)? }
        }
    }))
}

/// One invocation.
async fn handler(ports: &Ports, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let now = ports.clock.now();
    let request: Request = serde_json::from_value(event.payload).map_err(|error| {
        bad_request(format!(
            "{error}: expected {{\"action\": \"refresh\" | \"failover\" | \"failback\" | \"alert\" | \"start_drill\" | \
             \"end_drill\", ...}}"
        ))
    })?;
    let report = match command(request)? {
        None => ports.driver.refresh(now).await,
        Some(command) => ports.driver.command(command, now).await,
    }
    .map_err(|error| {
        tracing::error!(%error, "publish action not carried out");
        common::diagnostic(&error)
    })?;
    common::log_report(&report);
    Ok(json!(report))
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
    use std::sync::{Arc, Mutex};

    use jiff::{SignedDuration, Timestamp};
    use lambda_runtime::Context;
    use wsdr_protocol::{State, verify};

    use super::*;
    use crate::plain::attribute;

    fn invoke(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, Context::default())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn refresh_and_admin_actions_publish_and_contradictions_are_refused() {
        let common::AlertingSite { emulator, queue, keys, driver } =
            common::AlertingSite::start().await;
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let clock = SharedClock(Arc::new(Mutex::new(now)));
        let ports = Ports { driver, clock: Box::new(clock.clone()) };
        let at = |hours| {
            *clock.0.lock().unwrap() = now + SignedDuration::from_hours(hours);
            &ports
        };
        let document = || plain::get_object(&emulator.url, "wsdr-state", "status/status.json").1;

        // The hourly refresh of a new deployment publishes the first document; an hour later nothing changes.
        let answer = handler(at(0), invoke(json!({"action": "refresh"}))).await.unwrap();
        assert_eq!(
            (answer["outcome"].as_str(), answer["last_sequence"].as_u64()),
            (Some("renewed"), Some(1))
        );
        let answer = handler(at(1), invoke(json!({"action": "refresh"}))).await.unwrap();
        assert_eq!(answer["outcome"], "current");
        queue.expect(0);

        // A drill, then its end; failback during the drill is refused.
        let drill = json!({"action": "start_drill", "title": "DR drill", "body": "Pilot users: connect to DR."});
        handler(at(2), invoke(drill)).await.unwrap();
        let verified =
            verify(document().as_bytes(), &keys, None, now + SignedDuration::from_hours(2))
                .unwrap();
        assert_eq!((verified.payload().sequence, verified.payload().state), (2, State::Drill));
        let error = handler(at(2), invoke(json!({"action": "failback"}))).await.unwrap_err();
        assert_eq!(error.error_type, "Refused");
        assert!(error.error_message.contains("wsdr alert --end-drill"), "{}", error.error_message);
        handler(at(3), invoke(json!({"action": "end_drill"}))).await.unwrap();
        let kinds: Vec<String> =
            queue.expect(2).iter().map(|n| attribute(n, "wsdr_event_kind")).collect();
        assert_eq!(kinds, ["drill_started", "drill_ended"]);

        // Bad requests name the problem.
        for bad in [
            json!({"action": "alert", "title": "T"}),
            json!({"action": "nope"}),
            json!({"action": "failover", "title": "T"}),
        ] {
            let error = handler(at(3), invoke(bad.clone())).await.unwrap_err();
            assert_eq!(error.error_type, "BadRequest", "{bad}: {}", error.error_message);
        }
        queue.expect(0);
    }

    /// A clock the test moves.
    #[derive(Clone)]
    struct SharedClock(Arc<Mutex<Timestamp>>);

    impl Clock for SharedClock {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
    }
}
