//! Alert latency on the emulator: an AWS Health event in → the state committed, the status document signed and
//! written to S3 (conditional writes), the SNS alert published. p50/p99 over alternating open/closed events (each
//! one a transition), with a local P-256 key and with a KMS key.
//!
//! `cargo bench -p wsdr-aws --bench alert_latency --profile dev` (`WSDR_BENCH_ITERATIONS`, default 200).

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr, missing_docs)]

#[allow(dead_code)]
#[path = "../tests/emulator/support.rs"]
mod support;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use wsdr_aws::failover::{FailoverConfig, FailoverDriver};
use wsdr_aws::kms::KmsSigner;
use wsdr_aws::status::{StatusConfig, StatusSigner};
use wsdr_core::failover::FailoverPolicy;
use wsdr_core::health::Region;
use wsdr_protocol::{KeyId, LocalSigner};

fn event(n: usize, open: bool) -> Value {
    json!({
        "version": "0", "id": format!("bench-{n}"), "detail-type": "AWS Health Event", "source": "aws.health",
        "account": "123456789012", "time": "2025-03-11T14:05:31Z", "region": "us-east-1", "resources": [],
        "detail": {
            "eventArn": format!("arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/bench-{}", n / 2),
            "service": "WORKSPACES", "eventTypeCode": "AWS_WORKSPACES_OPERATIONAL_ISSUE",
            "eventTypeCategory": "issue", "eventScopeCode": "PUBLIC",
            "communicationId": format!("bench-{n}"),
            "startTime": "Tue, 11 Mar 2025 13:52:00 GMT", "lastUpdatedTime": "Tue, 11 Mar 2025 14:05:12 GMT",
            "statusCode": if open { "open" } else { "closed" }, "eventRegion": "us-east-1",
        }
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn run(label: &str, driver: &FailoverDriver, iterations: usize) {
    let start: Timestamp = "2025-03-11T14:06:00Z".parse().unwrap();
    let mut samples = Vec::with_capacity(iterations);
    for n in 0..iterations {
        let now = start + SignedDuration::from_secs(i64::try_from(n).unwrap());
        #[allow(clippy::disallowed_methods)] // Measuring is what a benchmark is for.
        let begun = std::time::Instant::now();
        let report = driver.on_health_event(&event(n, n % 2 == 0), now).await.unwrap();
        samples.push(begun.elapsed());
        assert_eq!(report.outcome, "transition", "{report:?}");
        assert!(report.status.is_some() && report.sns_message_id.is_some());
    }
    samples.sort_unstable();
    let mean = samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap();
    println!(
        "alert_latency/{label}: n={iterations} p50={:.1} ms p99={:.1} ms max={:.1} ms mean={:.1} ms",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let iterations: usize =
        std::env::var("WSDR_BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let emulator = support::Emulator::start(&[]);
    let clients = emulator.clients().await;
    let topic = clients.sns.create_topic().name("wsdr-alerts").send().await.unwrap();
    let key = clients
        .kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let kms_key = KeyId::parse(key.key_metadata().unwrap().key_id()).unwrap();
    for (label, bucket) in [("local-key", "bench-local"), ("kms-key", "bench-kms")] {
        clients.s3.create_bucket().bucket(bucket).send().await.unwrap();
        let config = FailoverConfig {
            bucket: bucket.to_owned(),
            state_prefix: "state/".to_owned(),
            status_key: "status/status.json".to_owned(),
            topic_arn: topic.topic_arn().unwrap().to_owned(),
            policy: FailoverPolicy::new(
                false,
                Region::parse("us-east-1").unwrap(),
                Region::parse("us-west-2").unwrap(),
            )
            .unwrap(),
            status: StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-west-2", "WSpdx+ABC12D", 24)
                .unwrap(),
            status_url: None,
        };
        let signer = if label == "kms-key" {
            StatusSigner::Kms(KmsSigner::new(clients.kms.clone(), kms_key.clone()))
        } else {
            StatusSigner::Local(
                LocalSigner::from_secret_bytes(KeyId::parse("bench").unwrap(), &[11; 32]).unwrap(),
            )
        };
        let driver = wsdr_aws::failover::driver(&clients, config, signer);
        run(label, &driver, iterations).await;
    }
}
