//! Health watch and alerting on the emulator: SNS → SQS delivery of admin alerts, signed status documents in S3
//! verified with the public key, conditional writes that keep concurrent publishers from going backwards, KMS
//! signing (moto 5.2.5 signs with `ECC_NIST_P256` keys, and its signatures verify with `GetPublicKey`'s key).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use wsdr_aws::ErrorKind;
use wsdr_aws::failover::{
    FailoverConfig, FailoverDriver, FailoverError, FailoverRecord, PendingAlert, RECORD_FORMAT,
};
use wsdr_aws::kms::KmsSigner;
use wsdr_aws::s3::{Precondition, Put, S3Location, S3Store};
use wsdr_aws::sdk::Clients;
use wsdr_aws::sns::{AdminAlert, AlertsTopic};
use wsdr_aws::status::{
    STATUS_CACHE_CONTROL, StatusConfig, StatusObject, StatusSigner, StatusWrite,
};
use wsdr_core::failover::{AdminCommand, DrState, FailoverPolicy, Message, Mode};
use wsdr_core::health::Region;
use wsdr_protocol::{KeyId, KeyRing, LocalSigner, Rejection, State, UnsignedDocument, verify};

#[path = "plain.rs"]
mod plain;

use plain::{AdminQueue, attribute};

use crate::support::{Emulator, repo_root};

const BUCKET: &str = "wsdr-state";
const STATUS_KEY: &str = "status/status.json";

fn now() -> Timestamp {
    "2025-03-11T14:06:00Z".parse().unwrap()
}

fn event(name: &str) -> Value {
    let path = repo_root().join("tests/fixtures/health").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn local_signer(seed: u8) -> LocalSigner {
    LocalSigner::from_secret_bytes(KeyId::parse("wsdr-test-1").unwrap(), &[seed; 32]).unwrap()
}

fn keys(signer: &LocalSigner) -> KeyRing {
    let mut keys = KeyRing::new();
    keys.insert(KeyId::parse("wsdr-test-1").unwrap(), signer.public_key()).unwrap();
    keys
}

struct Setup {
    _emulator: Emulator,
    clients: Clients,
    topic_arn: String,
    queue: AdminQueue,
}

impl Setup {
    async fn start() -> Setup {
        let emulator = Emulator::start(&[]);
        let clients = emulator.clients().await;
        clients.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let topic = clients.sns.create_topic().name("wsdr-alerts").send().await.unwrap();
        let topic_arn = topic.topic_arn().unwrap().to_owned();
        let queue = AdminQueue::subscribe(&emulator.url, &topic_arn, "admins");
        Setup { _emulator: emulator, clients, topic_arn, queue }
    }

    fn config(&self, auto_failover: bool) -> FailoverConfig {
        let region = |r| Region::parse(r).unwrap();
        FailoverConfig {
            bucket: BUCKET.to_owned(),
            state_prefix: "state/".to_owned(),
            status_key: STATUS_KEY.to_owned(),
            topic_arn: self.topic_arn.clone(),
            policy: FailoverPolicy::new(auto_failover, region("us-east-1"), region("us-west-2"))
                .unwrap(),
            status: StatusConfig::new("us-east-1", "SLiad+ABCDEF", "us-west-2", "WSpdx+ABC12D", 24)
                .unwrap(),
            status_url: Some("https://status.example.com/status.json".to_owned()),
        }
    }

    fn driver(&self, signer: StatusSigner) -> FailoverDriver {
        wsdr_aws::failover::driver(&self.clients, self.config(false), signer)
    }

    async fn status_bytes(&self) -> Vec<u8> {
        let store = S3Store::new(self.clients.s3.clone());
        store.get(&S3Location::new(BUCKET, STATUS_KEY)).await.unwrap().bytes
    }
}

#[tokio::test]
async fn alerts_reach_the_admins_queue_with_subject_text_and_attributes() {
    let setup = Setup::start().await;
    let topic = AlertsTopic::new(setup.clients.sns.clone(), &setup.topic_arn);

    let plain = AdminAlert::new(
        "[wsdr] plan blocked\nfor d-1234567890",
        "The plan would terminate 40 WorkSpaces.",
    )
    .with_attribute("wsdr_event_kind", "plan_blocked");
    let id = topic.publish(&plain).await.unwrap();
    assert!(!id.is_empty());
    let structured = AdminAlert::new("[wsdr] operations failed", "2 creations failed.")
        .with_json(r#"{"failed": 2}"#)
        .with_attribute("wsdr_event_kind", "operations_failed");
    topic.publish(&structured).await.unwrap();

    let got = setup.queue.expect(2);
    assert_eq!(got[0].subject, "[wsdr] plan blocked for d-1234567890");
    assert_eq!(got[0].message, "The plan would terminate 40 WorkSpaces.");
    assert_eq!(attribute(&got[0], "wsdr_event_kind"), "plan_blocked");
    assert_eq!(got[1].subject, "[wsdr] operations failed");
    // Machine subscribers (SQS) get the JSON document; people get the text.
    assert_eq!(
        serde_json::from_str::<Value>(&got[1].message).unwrap(),
        serde_json::json!({"failed": 2})
    );
    assert_eq!(attribute(&got[1], "wsdr_event_kind"), "operations_failed");

    // What SNS would refuse is refused before the call.
    let bad = AdminAlert::new("s", "t").with_attribute("AWS.reserved", "x");
    assert_eq!(topic.publish(&bad).await.unwrap_err().kind, ErrorKind::Rejected);
    setup.queue.expect(0);
}

#[tokio::test]
async fn a_primary_issue_alerts_admins_and_failover_publishes_a_verifiable_document() {
    let setup = Setup::start().await;
    let signer = local_signer(7);
    let keys = keys(&signer);
    let driver = setup.driver(StatusSigner::Local(local_signer(7)));

    // The open issue in the primary region: failover recommended, admins told, users not moved.
    let report = driver.on_health_event(&event("open-issue-primary.json"), now()).await.unwrap();
    assert_eq!(
        (report.outcome, report.mode, report.last_sequence),
        ("transition", Mode::FailoverRecommended, 1)
    );
    let got = setup.queue.expect(1);
    assert_eq!(attribute(&got[0], "wsdr_event_kind"), "failover_recommended");
    assert_eq!(attribute(&got[0], "wsdr_state"), "failover_recommended");
    assert!(got[0].subject.contains("failover recommended"), "{}", got[0].subject);
    let body: Value = serde_json::from_str(&got[0].message).unwrap();
    assert_eq!(body["next_command"], "wsdr failover");
    assert_eq!(body["sequence"], 1);
    let document = setup.status_bytes().await;
    let verified = verify(&document, &keys, None, now()).unwrap();
    assert_eq!((verified.payload().sequence, verified.payload().state), (1, State::Normal));

    // The same communication from the backup region: a duplicate, nothing sent or published.
    let report =
        driver.on_health_event(&event("open-issue-backup-copy.json"), now()).await.unwrap();
    assert_eq!(report.outcome, "duplicate");
    setup.queue.expect(0);
    // An event about another region is ignored.
    let report = driver.on_health_event(&event("other-region.json"), now()).await.unwrap();
    assert_eq!(report.outcome, "ignored");

    // The admin declares failover.
    let later = now() + SignedDuration::from_mins(5);
    let report =
        driver.command(AdminCommand::DeclareFailover { message: None }, later).await.unwrap();
    assert_eq!((report.mode, report.last_sequence), (Mode::Failover, 2));
    let got = setup.queue.expect(1);
    assert_eq!(attribute(&got[0], "wsdr_event_kind"), "failover_declared");
    let document = setup.status_bytes().await;
    assert_eq!(report.status.as_ref().unwrap().document.as_bytes(), document.as_slice());
    let verified = verify(&document, &keys, Some(&verified.highest_seen()), later).unwrap();
    let payload = verified.payload();
    assert_eq!((payload.sequence, payload.state), (2, State::Failover));
    assert_eq!(payload.active_site().registration_code.as_str(), "WSpdx+ABC12D");
    assert!(payload.cause.event_arn.is_some(), "the admin's failover names the event it follows");

    // A tampered copy (the payload flipped back to normal, the signature kept) is rejected.
    let mut flipped = payload.clone();
    flipped.state = State::Normal;
    flipped.active = wsdr_protocol::SiteRole::Primary;
    let other = UnsignedDocument::new(&flipped).unwrap().sign_with(&local_signer(8)).unwrap();
    let mut tampered: Value = serde_json::from_slice(&document).unwrap();
    tampered["payload"] =
        serde_json::from_slice::<Value>(&other.to_json_bytes()).unwrap()["payload"].clone();
    let rejection = verify(tampered.to_string().as_bytes(), &keys, None, later).unwrap_err();
    assert!(matches!(rejection, Rejection::BadSignature { .. }), "{rejection:?}");

    // The object is served with the polling Cache-Control.
    let head = setup.clients.s3.head_object().bucket(BUCKET).key(STATUS_KEY).send().await.unwrap();
    assert_eq!(head.cache_control(), Some(STATUS_CACHE_CONTROL));
    assert_eq!(head.content_type(), Some("application/json"));
    assert!(head.e_tag().is_some());

    // Contradictory commands are refused and change nothing.
    let error =
        driver.command(AdminCommand::DeclareFailover { message: None }, later).await.unwrap_err();
    assert!(matches!(error, FailoverError::Refused(_)), "{error}");
    assert!(error.to_string().contains("wsdr failback"), "{error}");
    setup.queue.expect(0);
    assert_eq!(setup.status_bytes().await, document);

    // The issue closes: recovered, users stay on DR; then the admin fails back.
    let report = driver.on_health_event(&event("closed-issue.json"), later).await.unwrap();
    assert_eq!((report.mode, report.last_sequence), (Mode::Recovered, 3));
    let report = driver.command(AdminCommand::Failback { message: None }, later).await.unwrap();
    assert_eq!((report.mode, report.last_sequence), (Mode::Normal, 4));
    let kinds: Vec<String> =
        setup.queue.expect(2).iter().map(|n| attribute(n, "wsdr_event_kind")).collect();
    assert_eq!(kinds, ["recovered", "failback_declared"]);
    let verified = verify(&setup.status_bytes().await, &keys, None, later).unwrap();
    assert_eq!((verified.payload().sequence, verified.payload().state), (4, State::Normal));
    let record = driver.load(Some(&driver.keys().await.unwrap()), now()).await.unwrap();
    assert!(record.record.pending.is_empty(), "delivered effects are cleared");
}

#[tokio::test]
async fn concurrent_publishers_never_go_backwards() {
    let setup = Setup::start().await;
    let signer = local_signer(3);
    let keys = keys(&signer);
    let drivers: Vec<Arc<FailoverDriver>> =
        (0..6).map(|_| Arc::new(setup.driver(StatusSigner::Local(local_signer(3))))).collect();

    // Six admins send an alert at the same moment: every alert gets its own sequence, each is published once.
    let mut tasks = Vec::new();
    for (i, driver) in drivers.iter().enumerate() {
        let driver = Arc::clone(driver);
        tasks.push(tokio::spawn(async move {
            let message =
                Message::new(&format!("Notice {i}"), "Planned maintenance tonight.").unwrap();
            driver.command(AdminCommand::Alert(message), now()).await
        }));
    }
    let mut sequences = Vec::new();
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        assert_eq!(report.outcome, "transition");
        sequences.push(report.last_sequence);
    }
    sequences.sort_unstable();
    assert_eq!(sequences, [1, 2, 3, 4, 5, 6]);
    assert_eq!(setup.queue.expect(6).len(), 6);
    let verified = verify(&setup.status_bytes().await, &keys, None, now()).unwrap();
    assert_eq!(verified.payload().sequence, 6, "the object holds the highest sequence");

    // Writers of single documents racing in every order: the object only ever moves up.
    let object = Arc::new(StatusObject::new(
        S3Store::new(setup.clients.s3.clone()),
        S3Location::new(BUCKET, "status/race.json"),
    ));
    let config = setup.config(false).status;
    let mut tasks = Vec::new();
    for sequence in [7_u64, 3, 9, 1, 8, 2, 10, 5, 4, 6] {
        let (_, change) = DrState::new(sequence - 1).renew(now()).unwrap();
        let document = UnsignedDocument::new(&config.payload(&change).unwrap())
            .unwrap()
            .sign_with(&signer)
            .unwrap();
        let object = Arc::clone(&object);
        let keys = keys.clone();
        tasks.push(tokio::spawn(async move {
            (sequence, object.write(&document, sequence, &keys, now()).await.unwrap())
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        let (sequence, write) = task.await.unwrap();
        if let StatusWrite::Written { replaced, .. } = write {
            assert!(replaced.is_none_or(|r| r < sequence), "{sequence} replaced {replaced:?}");
            written.push(sequence);
        }
    }
    assert!(written.contains(&10), "{written:?}");
    assert_eq!(object.read(&keys, now()).await.unwrap().sequence(), Some(10));
    // A lower or equal sequence is never written over a higher one.
    let (_, change) = DrState::new(2).renew(now()).unwrap();
    let low = UnsignedDocument::new(&config.payload(&change).unwrap())
        .unwrap()
        .sign_with(&signer)
        .unwrap();
    assert_eq!(
        object.write(&low, 3, &keys, now()).await.unwrap(),
        StatusWrite::Superseded { current: 10 }
    );
}

#[tokio::test]
async fn kms_signs_documents_that_verify_with_its_public_key() {
    let setup = Setup::start().await;
    let key = setup
        .clients
        .kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    let signer = KmsSigner::new(setup.clients.kms.clone(), KeyId::parse(&key_id).unwrap());
    let public = signer.public_key().await.unwrap();
    let mut keys = KeyRing::new();
    keys.insert(KeyId::parse(&key_id).unwrap(), public).unwrap();

    let driver = setup.driver(StatusSigner::Kms(signer));
    let report =
        driver.command(AdminCommand::DeclareFailover { message: None }, now()).await.unwrap();
    assert_eq!(report.status.as_ref().unwrap().key_id, key_id);
    let verified = verify(&setup.status_bytes().await, &keys, None, now()).unwrap();
    assert_eq!((verified.payload().sequence, verified.payload().state), (1, State::Failover));

    // A symmetric key is refused with a clear message, not a broken document.
    let symmetric = setup.clients.kms.create_key().send().await.unwrap();
    let symmetric_id = symmetric.key_metadata().unwrap().key_id().to_owned();
    let wrong = KmsSigner::new(setup.clients.kms.clone(), KeyId::parse(&symmetric_id).unwrap());
    let error = wrong.public_key().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Rejected, "{error}");
}

#[tokio::test]
async fn refresh_renews_before_expiry_and_dead_invocations_are_caught_up() {
    let setup = Setup::start().await;
    let signer = local_signer(5);
    let keys = keys(&signer);
    let driver = setup.driver(StatusSigner::Local(local_signer(5)));

    // A new deployment: the first refresh publishes the first document.
    let report = driver.refresh(now()).await.unwrap();
    assert_eq!((report.outcome, report.last_sequence), ("renewed", 1));
    let first = verify(&setup.status_bytes().await, &keys, None, now()).unwrap();
    assert_eq!(first.payload().state, State::Normal);
    // An hour later it is still current; 13 hours later (less than half of 24 h left) it is re-signed.
    let report = driver.refresh(now() + SignedDuration::from_hours(1)).await.unwrap();
    assert_eq!(report.outcome, "current");
    let later = now() + SignedDuration::from_hours(13);
    let report = driver.refresh(later).await.unwrap();
    assert_eq!((report.outcome, report.last_sequence), ("renewed", 2));
    let renewed =
        verify(&setup.status_bytes().await, &keys, Some(&first.highest_seen()), later).unwrap();
    assert_eq!(renewed.payload().issued_at, later);
    setup.queue.expect(0);

    // An invocation committed a transition and died before its effects: a later one carries them out.
    let loaded = driver.load(Some(&driver.keys().await.unwrap()), now()).await.unwrap();
    let message = Message::new("Maintenance", "Tonight.").unwrap();
    let step = loaded
        .record
        .state
        .step(
            &wsdr_core::failover::Input::Command(AdminCommand::Alert(message)),
            &driver.config().policy,
            later,
        )
        .unwrap();
    let effects = step.outcome.effects().unwrap().clone();
    let record = FailoverRecord {
        format: RECORD_FORMAT,
        state: step.state,
        pending: vec![PendingAlert {
            sequence: effects.status.sequence,
            committed_at: later,
            claimed_at: Some(later),
            alert: AdminAlert::from_notice(&effects.notice),
        }],
    };
    S3Store::new(setup.clients.s3.clone())
        .put(
            driver.record_location(),
            serde_json::to_vec(&record).unwrap(),
            &Put::json(Precondition::Matches(loaded.etag.unwrap())),
        )
        .await
        .unwrap();
    let report = driver.refresh(later + SignedDuration::from_mins(5)).await.unwrap();
    assert_eq!(report.caught_up, [3]);
    let got = setup.queue.expect(1);
    assert_eq!(attribute(&got[0], "wsdr_event_kind"), "alert_sent");
    let verified = verify(&setup.status_bytes().await, &keys, None, later).unwrap();
    assert_eq!(verified.payload().sequence, 3);
    assert_eq!(verified.payload().message.title(), "Maintenance");
    assert!(
        driver
            .load(Some(&driver.keys().await.unwrap()), now())
            .await
            .unwrap()
            .record
            .pending
            .is_empty()
    );
}
