//! SNS: the admins' alerts topic.
//!
//! One [`AdminAlert`] is one SNS message: a subject (SNS-safe, at most
//! [`SUBJECT_MAX_CHARS`](wsdr_core::failover::SUBJECT_MAX_CHARS) characters), a readable text for e-mail, chat and
//! SMS subscribers, optionally a JSON document for machine subscribers (SQS, Lambda, HTTP/S), and String message
//! attributes that subscription filter policies can match (e.g. `{"wsdr_event_kind": ["failover_recommended"]}`).
//!
//! With a JSON document the message is sent with `MessageStructure=json`: e-mail and the default get the text,
//! `sqs`, `lambda`, `http` and `https` subscribers get the JSON, `sms` gets the subject (an SMS is short).
//! Failover notices, reconcile alerts ("plan blocked", "operations failed") and anything else admins must know go
//! through [`AlertsTopic::publish`].

use aws_sdk_sns::types::MessageAttributeValue;
pub use wsdr_core::alert::{AdminAlert, MAX_ATTRIBUTES, MAX_MESSAGE_BYTES};
use wsdr_core::failover::sns_subject;

use wsdr_drivers::ports::AdminsTopic;

use crate::error::{AwsError, ErrorKind};

/// The admins' alerts topic.
#[derive(Clone, Debug)]
pub struct AlertsTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl AlertsTopic {
    /// The topic `topic_arn` (`WSDR_ALERTS_TOPIC_ARN`).
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> AlertsTopic {
        AlertsTopic { client, topic_arn: topic_arn.into() }
    }

    /// The topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publishes `alert`; answers SNS's message id. An alert SNS would refuse (see [`AdminAlert::to_message`]) is
    /// [`ErrorKind::Rejected`] without a call.
    pub async fn publish(&self, alert: &AdminAlert) -> Result<String, AwsError> {
        const OPERATION: &str = "sns:Publish";
        let (message, structure) = alert.to_message().map_err(|message| AwsError {
            operation: OPERATION,
            code: None,
            message,
            kind: ErrorKind::Rejected,
        })?;
        let subject = sns_subject(&alert.subject);
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message)
            .set_message_structure(structure.map(str::to_owned))
            .set_subject((!subject.is_empty()).then_some(subject));
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|error| AwsError {
                    operation: OPERATION,
                    code: None,
                    message: format!("message attribute {name}: {error}"),
                    kind: ErrorKind::Rejected,
                })?;
            request = request.message_attributes(name, attribute);
        }
        let output =
            request.send().await.map_err(|error| crate::error::from_sdk(OPERATION, error))?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

impl AdminsTopic for AlertsTopic {
    async fn publish(&self, alert: &AdminAlert) -> Result<String, AwsError> {
        AlertsTopic::publish(self, alert).await
    }
}
