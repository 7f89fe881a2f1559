//! The publish Lambda's event → admin command decode: `{"action": "refresh" | "failover" | "failback" | "alert" |
//! "start_drill" | "end_drill", ...}`.
//!
//! The decode lives in the binary `wsdr-lambda/src/bin/publish.rs` (a private `Request` enum, then
//! `wsdr_drivers::failover::optional_message`), whose crate this one must not depend on (the AWS SDK). `Request`
//! and `command` below copy it over the same types; keep them in step until the decode moves into wsdr-core.
//!
//! Properties: never panics; a message that is accepted has a non-empty title and renders; a request either
//! becomes a command or a `BadRequest` message; and issue 18's defect 1 stays fixed: whatever message is accepted,
//! the status payload's `Message` accepts too (the fuzzer found the tab once, with two definitions; now there is
//! one, and this checks it stays so).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;
use wsdr_core::failover::Message;

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

/// `wsdr_aws::failover::optional_message`.
fn optional_message(title: Option<&str>, body: Option<&str>) -> Result<Option<Message>, String> {
    match (title, body) {
        (None, None) => Ok(None),
        (Some(title), Some(body)) => {
            Message::new(title.trim(), body.trim()).map(Some).map_err(|e| e.to_string())
        }
        (Some(_), None) => Err("a title needs a body".to_owned()),
        (None, Some(_)) => Err("a body needs a title".to_owned()),
    }
}

/// The messages a request carries once decoded (`command` in publish.rs), or why it is a bad request.
fn command(request: Request) -> Result<Vec<Message>, String> {
    let required = |title: String, body: String| Message::new(&title, &body).map_err(|e| e.to_string());
    let optional = |title: Option<String>, body: Option<String>| {
        optional_message(title.as_deref(), body.as_deref()).map(|m| m.into_iter().collect())
    };
    match request {
        Request::Refresh => Ok(Vec::new()),
        Request::Failover { title, body }
        | Request::Failback { title, body }
        | Request::EndDrill { title, body } => optional(title, body),
        Request::Alert { title, body } => Ok(vec![required(title, body)?]),
        Request::StartDrill { title, body, target } => match target.as_deref() {
            None | Some("primary" | "dr") => Ok(vec![required(title, body)?]),
            Some(other) => Err(format!("target {other:?} must be primary or dr")),
        },
    }
}

fuzz_target!(|bytes: &[u8]| {
    // The Lambda runtime hands the handler a parsed JSON value.
    let Ok(event) = serde_json::from_slice::<Value>(bytes) else { return };
    let request: Request = match serde_json::from_value(event) {
        Ok(request) => request,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    match command(request) {
        Ok(messages) => {
            for message in messages {
                assert!(!message.title().is_empty(), "a message without a title");
                let _ = format!("{message:?}");
                let wire = wsdr_protocol::Message::new(message.title(), message.body());
                assert!(wire.is_ok(), "{message:?} is accepted, the status payload refuses it: {wire:?}");
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});
