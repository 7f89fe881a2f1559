//! The reconcile Lambda's event → trigger decode: classic S3 notifications (`Records`), EventBridge events
//! (`detail-type`: Object Created, Scheduled Event) and direct invocations (`{"dry_run": true}`).
//!
//! The decode lives in `wsdr_lambda::reconcile::trigger_of`, which this crate must not depend on (wsdr-lambda pulls
//! the whole AWS SDK). `decode` below is a copy of its logic over the same types (`aws_lambda_events` with the
//! same features, `wsdr_core::trigger`), so the serde decode of the event types and the core's key decoding and
//! newest-record choice are what is fuzzed. Keep it in step with `trigger_of` until that decision moves into
//! wsdr-core (issue 18: "which trigger a Lambda ignores").
//!
//! Properties: never panics; the chosen export is one of the notification's records (bucket and decoded key), and
//! none of the other records is newer; every key the core decodes re-encodes and decodes to itself.
#![no_main]

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wsdr_core::trigger::{S3Record, decode_object_key, latest_export};

const USERS_BUCKET: &str = "users-bucket";
const USERS_PREFIX: &str = "users/";

#[derive(Debug, PartialEq, Eq)]
enum Trigger {
    Export { bucket: String, key: String },
    Schedule,
    Direct { dry_run: bool },
    Ignore,
}

/// `trigger_of` with `USERS_BUCKET`/`USERS_PREFIX` and no directory configured; also returns the S3 records.
fn decode(event: &Value) -> (Result<Trigger, String>, Vec<S3Record>) {
    if event.get("Records").is_some() {
        let notification: S3Event = match serde_json::from_value(event.clone()) {
            Ok(notification) => notification,
            Err(error) => return (Err(format!("unreadable S3 notification: {error}")), Vec::new()),
        };
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
        let trigger = match latest_export(&records) {
            Err(error) => Err(error.to_string()),
            Ok(None) => Ok(Trigger::Ignore),
            Ok(Some(object)) => Ok(export(object.bucket, object.key)),
        };
        return (trigger, records);
    }
    if event.get("detail-type").is_some() {
        let envelope: EventBridgeEvent<Value> = match serde_json::from_value(event.clone()) {
            Ok(envelope) => envelope,
            Err(error) => return (Err(format!("unreadable EventBridge event: {error}")), Vec::new()),
        };
        let trigger = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
            ("aws.events" | "aws.scheduler", "Scheduled Event") => Ok(Trigger::Schedule),
            ("aws.s3", "Object Created") => {
                let bucket =
                    envelope.detail["bucket"]["name"].as_str().unwrap_or_default().to_owned();
                match envelope.detail["object"]["key"].as_str() {
                    Some(key) => Ok(export(bucket, key.to_owned())),
                    None => Err("an Object Created event without detail.object.key".to_owned()),
                }
            }
            (source, detail_type) => Err(format!("unexpected event {source} / {detail_type}")),
        };
        return (trigger, Vec::new());
    }
    if let Some(object) = event.as_object() {
        if let Some(unknown) = object.keys().find(|key| key.as_str() != "dry_run") {
            return (Err(format!("unexpected field {unknown:?}")), Vec::new());
        }
        let trigger = match object.get("dry_run") {
            None => Ok(Trigger::Direct { dry_run: false }),
            Some(Value::Bool(dry_run)) => Ok(Trigger::Direct { dry_run: *dry_run }),
            Some(other) => Err(format!("dry_run must be true or false, not {other}")),
        };
        return (trigger, Vec::new());
    }
    (Err(format!("unexpected event: {event}")), Vec::new())
}

fn export(bucket: String, key: String) -> Trigger {
    if bucket != USERS_BUCKET || !key.starts_with(USERS_PREFIX) {
        return Trigger::Ignore;
    }
    Trigger::Export { bucket, key }
}

/// S3's notification encoding of a key: `+` for a space, `%XX` for every byte but unreserved ones.
fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for byte in key.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fuzz_target!(|bytes: &[u8]| {
    // The Lambda runtime hands the handler a parsed JSON value.
    let Ok(event) = serde_json::from_slice::<Value>(bytes) else { return };
    let (trigger, records) = decode(&event);

    let mut decoded = Vec::new();
    for record in &records {
        if let Ok(key) = decode_object_key(&record.encoded_key) {
            assert_eq!(decode_object_key(&encode_key(&key)).as_ref(), Ok(&key), "key round trip");
            decoded.push((record, key));
        }
    }
    if !records.is_empty() && decoded.len() == records.len() {
        let newest = latest_export(&records).expect("every key decoded").expect("records");
        let later = |a: &S3Record, b: &S3Record| {
            (&a.event_time, a.sequencer.len(), &a.sequencer)
                > (&b.event_time, b.sequencer.len(), &b.sequencer)
        };
        assert!(
            decoded.iter().any(|(record, key)| {
                record.bucket == newest.bucket
                    && *key == newest.key
                    && decoded.iter().all(|(other, _)| !later(other, record))
            }),
            "the export is not the newest of the records"
        );
        if newest.bucket == USERS_BUCKET && newest.key.starts_with(USERS_PREFIX) {
            assert_eq!(trigger, Ok(Trigger::Export { bucket: newest.bucket, key: newest.key }));
        }
    }
    if let Err(message) = trigger {
        assert!(!message.is_empty());
    }
});
