//! What admins are told: one [`AdminAlert`] is one message on the admins' SNS topic.
//!
//! A subject (SNS-safe, at most [`SUBJECT_MAX_CHARS`](crate::failover::SUBJECT_MAX_CHARS) characters), a readable
//! text for e-mail, chat and SMS subscribers, optionally a JSON document for machine subscribers (SQS, Lambda,
//! HTTP/S), and String message attributes that subscription filter policies can match (e.g.
//! `{"wsdr_event_kind": ["failover_recommended"]}`).
//!
//! With a JSON document the message is sent with `MessageStructure=json`: e-mail and the default get the text,
//! `sqs`, `lambda`, `http` and `https` subscribers get the JSON, `sms` gets the subject (an SMS is short).
//! [`AdminAlert::to_message`] is the whole rendering, and refuses what SNS would refuse, so the SNS adapter only
//! sends. Failover notices and reconcile alerts ("plan blocked", "operations failed") alike are `AdminAlert`s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::failover::{AdminNotice, sns_subject};

/// SNS accepts at most this many message attributes per message (and SQS raw delivery at most 10).
pub const MAX_ATTRIBUTES: usize = 10;
/// Largest message SNS accepts (256 KiB), subject, body and attributes together.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// One message for the admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAlert {
    /// The subject (e-mail subject line). [`AdminAlert::new`] and [`AlertsTopic::publish`] make it SNS-safe.
    pub subject: String,
    /// Readable text: what happened and what to do.
    pub text: String,
    /// The same facts as a JSON document, for machine subscribers; `None` sends `text` to everyone.
    pub json: Option<String>,
    /// String message attributes for filter policies: names of letters, digits, `_`, `-` and `.`.
    pub attributes: BTreeMap<String, String>,
}

impl AdminAlert {
    /// An alert with an SNS-safe version of `subject`, `text`, no JSON and no attributes.
    pub fn new(subject: &str, text: impl Into<String>) -> AdminAlert {
        AdminAlert {
            subject: sns_subject(subject),
            text: text.into(),
            json: None,
            attributes: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) a String message attribute.
    #[must_use]
    pub fn with_attribute(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> AdminAlert {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Sets the JSON document for machine subscribers (it must be a JSON object or value; it is sent as is).
    #[must_use]
    pub fn with_json(mut self, json: impl Into<String>) -> AdminAlert {
        self.json = Some(json.into());
        self
    }

    /// The failover state machine's notice, as it is sent: subject, text, the notice body as JSON and its
    /// attributes (`wsdr_event_kind`, `wsdr_state`, ...).
    pub fn from_notice(notice: &AdminNotice) -> AdminAlert {
        AdminAlert {
            subject: sns_subject(&notice.subject),
            text: notice.text.clone(),
            json: Some(notice.body_json()),
            attributes: notice.attributes.clone(),
        }
    }

    /// The message as SNS receives it: `(message, message_structure)`. Errors name what SNS would refuse.
    pub fn to_message(&self) -> Result<(String, Option<&'static str>), String> {
        if self.text.trim().is_empty() {
            return Err("the alert text is empty".to_owned());
        }
        if self.attributes.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "the alert has {} message attributes; SNS allows at most {MAX_ATTRIBUTES}",
                self.attributes.len()
            ));
        }
        for (name, value) in &self.attributes {
            check_attribute(name, value)?;
        }
        let (message, structure) = match &self.json {
            None => (self.text.clone(), None),
            Some(json) => {
                let document: serde_json::Value = serde_json::from_str(json)
                    .map_err(|error| format!("the alert's JSON document is not JSON: {error}"))?;
                let compact = document.to_string();
                let short =
                    if self.subject.is_empty() { self.text.clone() } else { self.subject.clone() };
                let envelope = serde_json::json!({
                    "default": self.text,
                    "email": self.text,
                    "sqs": compact,
                    "lambda": compact,
                    "http": compact,
                    "https": compact,
                    "sms": short,
                });
                (envelope.to_string(), Some("json"))
            }
        };
        let size = message.len()
            + self.subject.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + "String".len())
                .sum::<usize>();
        if size > MAX_MESSAGE_BYTES {
            return Err(format!(
                "the alert is {size} bytes; SNS accepts at most {MAX_MESSAGE_BYTES} (shorten the text)"
            ));
        }
        Ok((message, structure))
    }
}

/// SNS message attribute names: 1–256 characters from letters, digits, `_`, `-`, `.`; no leading or trailing
/// `.`, no `..`, not starting with `AWS.` or `Amazon.`; values must not be empty.
fn check_attribute(name: &str, value: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if !ok {
        return Err(format!("{name:?} is not a valid SNS message attribute name"));
    }
    if value.is_empty() {
        return Err(format!(
            "message attribute {name} has an empty value; SNS refuses empty values"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_made_sns_safe() {
        let alert = AdminAlert::new("[wsdr] plan blocked\nin eu-west-1 — é", "text");
        assert_eq!(alert.subject, "[wsdr] plan blocked in eu-west-1 ? ?");
        let long = AdminAlert::new(&"x".repeat(300), "text");
        assert!(long.subject.len() < 100 && long.subject.ends_with("..."), "{}", long.subject);
    }

    #[test]
    fn plain_alerts_send_the_text() {
        let alert =
            AdminAlert::new("s", "hello admins").with_attribute("wsdr_event_kind", "plan_blocked");
        assert_eq!(alert.to_message().unwrap(), ("hello admins".to_owned(), None));
    }

    #[test]
    fn json_alerts_send_text_to_people_and_json_to_machines() {
        let alert = AdminAlert::new("Subject", "readable").with_json(r#"{ "kind": "x" }"#);
        let (message, structure) = alert.to_message().unwrap();
        assert_eq!(structure, Some("json"));
        let envelope: serde_json::Value = serde_json::from_str(&message).unwrap();
        assert_eq!(envelope["default"], "readable");
        assert_eq!(envelope["email"], "readable");
        assert_eq!(envelope["sqs"], r#"{"kind":"x"}"#);
        assert_eq!(envelope["sms"], "Subject");
    }

    #[test]
    fn what_sns_would_refuse_is_refused_before_the_call() {
        let bad_json = AdminAlert::new("s", "t").with_json("{nope");
        assert!(bad_json.to_message().unwrap_err().contains("not JSON"));
        assert!(AdminAlert::new("s", "  ").to_message().unwrap_err().contains("empty"));
        for name in ["AWS.x", "amazon.y", ".a", "a.", "a..b", "a b", ""] {
            let alert = AdminAlert::new("s", "t").with_attribute(name, "v");
            assert!(alert.to_message().is_err(), "{name:?}");
        }
        let empty_value = AdminAlert::new("s", "t").with_attribute("k", "");
        assert!(empty_value.to_message().unwrap_err().contains("empty value"));
        let mut many = AdminAlert::new("s", "t");
        for i in 0..11 {
            many = many.with_attribute(format!("k{i}"), "v");
        }
        assert!(many.to_message().unwrap_err().contains("at most 10"));
        let huge = AdminAlert::new("s", "x".repeat(MAX_MESSAGE_BYTES));
        assert!(huge.to_message().unwrap_err().contains("bytes"));
    }
}
