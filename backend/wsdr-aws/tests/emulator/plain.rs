//! Talking to the emulator over plain HTTP, without the AWS SDK: for the test crates that do not depend on it
//! (`wsdr-cli`, `wsdr-lambda`) and for the SQS side of SNS → SQS delivery (wsdr has no SQS client; the admins'
//! queue stands in for a subscriber). moto does not check SigV4 signatures but routes by the credential scope,
//! so requests carry a well-formed but unsigned `Authorization` header.
//!
//! Include it with `#[path = ".../backend/wsdr-aws/tests/emulator/plain.rs"] mod plain;`.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The region of every request.
pub const REGION: &str = "us-east-1";
/// moto's account.
pub const ACCOUNT: &str = "123456789012";

/// An emulator started without the SDK harness; killed on drop.
pub struct PlainEmulator {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl PlainEmulator {
    /// Starts `tests/emulator/run-emulator.sh` (the venv is set up by `tests/emulator/setup.sh`).
    pub fn start() -> PlainEmulator {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/emulator/run-emulator.sh");
        #[allow(clippy::disallowed_methods)] // The test harness starts the emulator.
        let mut child = std::process::Command::new(&script)
            .args(["--port", "0", "--exit-with-parent"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", script.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("WSDR_EMULATOR_READY ")
            .unwrap_or_else(|| panic!("the emulator did not start: {line:?}"))
            .to_owned();
        PlainEmulator { child, url }
    }
}

impl Drop for PlainEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 request; answers `(status, body)`.
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, payload.to_owned())
}

fn authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/{service}/aws4_request, SignedHeaders=host, \
         Signature=0000"
    )
}

/// An AWS JSON 1.0 call (SQS).
pub fn sqs(url: &str, operation: &str, body: &Value) -> Value {
    let target = format!("AmazonSQS.{operation}");
    let auth = authorization("sqs");
    let (status, answer) = http(
        url,
        "POST",
        "/",
        &[
            ("Authorization", &auth),
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "sqs:{operation}: {answer}");
    serde_json::from_str(&answer).unwrap()
}

/// An AWS JSON 1.1 call to KMS.
pub fn kms(url: &str, operation: &str, body: &Value) -> Value {
    let target = format!("TrentService.{operation}");
    let auth = authorization("kms");
    let (status, answer) = http(
        url,
        "POST",
        "/",
        &[
            ("Authorization", &auth),
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "kms:{operation}: {answer}");
    serde_json::from_str(&answer).unwrap()
}

/// Creates an `ECC_NIST_P256` signing key; answers its key id.
pub fn create_signing_key(url: &str) -> String {
    let answer =
        kms(url, "CreateKey", &json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}));
    answer["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
}

/// An SNS query-protocol call; answers the XML.
pub fn sns(url: &str, params: &[(&str, &str)]) -> String {
    let mut form = String::from("Version=2010-03-31");
    for (name, value) in params {
        form.push_str(&format!("&{name}={}", percent(value)));
    }
    let auth = authorization("sns");
    let (status, answer) = http(
        url,
        "POST",
        "/",
        &[("Authorization", &auth), ("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    );
    assert_eq!(status, 200, "sns {params:?}: {answer}");
    answer
}

fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// Creates an SNS topic; answers its ARN.
pub fn create_topic(url: &str, name: &str) -> String {
    xml_text(&sns(url, &[("Action", "CreateTopic"), ("Name", name)]), "TopicArn").unwrap()
}

/// Creates an S3 bucket (path style).
pub fn create_bucket(url: &str, bucket: &str) {
    let auth = authorization("s3");
    let (status, answer) =
        http(url, "PUT", &format!("/{bucket}"), &[("Authorization", &auth)], b"");
    assert_eq!(status, 200, "CreateBucket {bucket}: {answer}");
}

/// Reads an S3 object (path style): `(status, body)`.
pub fn get_object(url: &str, bucket: &str, key: &str) -> (u16, String) {
    let auth = authorization("s3");
    http(url, "GET", &format!("/{bucket}/{key}"), &[("Authorization", &auth)], b"")
}

/// An SQS queue subscribed to an SNS topic: what an admin's mail box or chat channel would receive.
pub struct AdminQueue {
    url: String,
    queue_url: String,
}

/// One SNS notification as SQS delivers it (the SNS envelope, not raw delivery).
#[derive(Debug, Clone)]
pub struct Notification {
    /// `Subject`.
    pub subject: String,
    /// `Message`: the JSON document for machine subscribers.
    pub message: String,
    /// `MessageAttributes`: name → `Value`.
    pub attributes: Value,
    /// The whole envelope.
    pub envelope: Value,
}

impl AdminQueue {
    /// Creates the queue `name` and subscribes it to `topic_arn`.
    pub fn subscribe(url: &str, topic_arn: &str, name: &str) -> AdminQueue {
        let queue_url = sqs(url, "CreateQueue", &json!({"QueueName": name}))["QueueUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
        sns(
            url,
            &[
                ("Action", "Subscribe"),
                ("TopicArn", topic_arn),
                ("Protocol", "sqs"),
                ("Endpoint", &queue_arn),
            ],
        );
        AdminQueue { url: url.to_owned(), queue_url }
    }

    /// Receives (and deletes) what is there now.
    pub fn receive(&self) -> Vec<Notification> {
        let answer = sqs(
            &self.url,
            "ReceiveMessage",
            &json!({"QueueUrl": self.queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0}),
        );
        let mut out = Vec::new();
        for message in answer["Messages"].as_array().cloned().unwrap_or_default() {
            let envelope: Value = serde_json::from_str(message["Body"].as_str().unwrap()).unwrap();
            sqs(
                &self.url,
                "DeleteMessage",
                &json!({"QueueUrl": self.queue_url, "ReceiptHandle": message["ReceiptHandle"]}),
            );
            out.push(Notification {
                subject: envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                message: envelope["Message"].as_str().unwrap_or_default().to_owned(),
                attributes: envelope["MessageAttributes"].clone(),
                envelope,
            });
        }
        out
    }

    /// Receives until `count` notifications arrived (or 10 s passed), then checks that no more arrive.
    pub fn expect(&self, count: usize) -> Vec<Notification> {
        #[allow(clippy::disallowed_methods)] // A test deadline, not a decision.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::new();
        #[allow(clippy::disallowed_methods)]
        while got.len() < count && Instant::now() < deadline {
            got.extend(self.receive());
            if got.len() < count {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        got.extend(self.receive());
        assert_eq!(
            got.len(),
            count,
            "notifications: {:#?}",
            got.iter().map(|n| &n.subject).collect::<Vec<_>>()
        );
        got
    }
}

/// The String value of a message attribute of a notification.
pub fn attribute(notification: &Notification, name: &str) -> String {
    notification.attributes[name]["Value"].as_str().unwrap_or_default().to_owned()
}
