//! The worst hour's defects, each as a scripted scenario on the simulated world.

use wsdr_core::failover::{AdminCommand, Mode, Published};
use wsdr_drivers::failover::FailoverError;
use wsdr_sim::world::FaultRates;
use wsdr_sim::{Deployment, Operation, at};

const SIGNER_DOWN: FaultRates =
    FaultRates { error: 0.0, lost_answer: 0.0, crash: 0.0, signer: 1.0 };

fn failover() -> Operation {
    Operation::Command(AdminCommand::DeclareFailover { message: None })
}

fn kinds(deployment: &Deployment) -> Vec<String> {
    deployment
        .deliveries()
        .iter()
        .map(|alert| alert.attributes["wsdr_event_kind"].clone())
        .collect()
}

#[test]
fn while_the_signer_fails_the_admins_still_hear_of_a_failover_and_users_are_told_once_it_recovers()
{
    // Defect: the driver signed first and returned at the first error, so a KMS outage silenced the admins.
    let mut deployment = Deployment::new(1, SIGNER_DOWN);
    // The deployment has been running: the publish function's first refresh made the record and document #1.
    deployment.world.set_faults(false);
    deployment.run(Operation::Refresh, at(0)).unwrap().unwrap();
    deployment.world.set_faults(true);
    let outcome = deployment.run(failover(), at(30)).expect("no crash in this scenario");
    let Err(FailoverError::Incomplete { report, failures }) = outcome else {
        panic!(
            "a failover whose document cannot be signed is committed but incomplete: {outcome:?}"
        );
    };
    assert_eq!((report.mode, report.last_sequence), (Mode::Failover, 2));
    assert!(failures.iter().all(|failure| failure.operation.starts_with("kms:")), "{failures:?}");
    assert_eq!(kinds(&deployment), ["failover_declared"], "the alert did not wait on the signer");
    assert!(matches!(deployment.published(at(30)), Published::Verified { sequence: 1, .. }));
    assert!(deployment.record().unwrap().pending.is_empty(), "the delivered alert left the record");

    // A refresh while KMS is still down changes nothing and says why.
    assert!(deployment.run(Operation::Refresh, at(45)).unwrap().is_err());

    // KMS is back: the next refresh publishes the committed failover, and nobody is alerted twice.
    deployment.world.set_faults(false);
    let report = deployment.run(Operation::Refresh, at(60)).unwrap().unwrap();
    assert_eq!(report.outcome, "republished");
    assert!(matches!(deployment.published(at(60)), Published::Verified { sequence: 2, .. }));
    assert_eq!(kinds(&deployment), ["failover_declared"]);
}

#[test]
fn an_alert_that_sns_refused_is_delivered_by_the_next_invocation_not_lost() {
    // Defect: claimed effects left the record before they were carried out, and the first error ended the
    // invocation, so an SNS error (or a crash) after the commit lost the alert for good.
    let mut deployment = Deployment::new(2, FaultRates::NONE);
    deployment.world.set_faults(false);
    deployment.world.fail_next("sns:Publish", 1);
    let outcome = deployment.run(failover(), at(0)).expect("no crash in this scenario");
    let Err(FailoverError::Incomplete { report, failures }) = outcome else {
        panic!("committed but not announced must be an error: {outcome:?}");
    };
    assert_eq!(report.mode, Mode::Failover);
    assert_eq!(failures[0].operation, "sns:Publish");
    assert!(kinds(&deployment).is_empty());
    // The status document did not wait for the alert.
    assert!(matches!(deployment.published(at(0)), Published::Verified { sequence: 1, .. }));
    // The alert stays in the record, released: the very next invocation delivers it (a Lambda retry, here the
    // same event again, which is a duplicate for the state machine).
    let pending = deployment.record().unwrap().pending;
    assert_eq!((pending.len(), pending[0].claimed_at), (1, None));
    let report = deployment.run(Operation::Refresh, at(5)).unwrap().unwrap();
    assert_eq!(report.caught_up, [1]);
    assert_eq!(kinds(&deployment), ["failover_declared"]);
    assert!(deployment.record().unwrap().pending.is_empty());
}

#[test]
fn a_forged_status_object_with_the_largest_sequence_blocks_nothing_and_the_admins_are_told() {
    // Defect: the publisher read the object's sequence without verifying it, so a stray object with the largest
    // sequence blocked every later publish ("the status sequence is exhausted") and seeded a fresh state.
    let mut deployment = Deployment::new(5, FaultRates::NONE);
    deployment.plant_forged_status();
    let report = deployment.run(failover(), at(0)).unwrap().unwrap();
    assert_eq!(
        (report.mode, report.last_sequence),
        (Mode::Failover, 1),
        "nothing of the forgery was trusted"
    );
    assert!(matches!(deployment.published(at(0)), Published::Verified { sequence: 1, .. }));
    assert!(
        kinds(&deployment).contains(&"status_unverifiable".to_owned()),
        "{:?}",
        kinds(&deployment)
    );

    // The refresh path: a forgery planted later is replaced by the record's next sequence, with an alert.
    deployment.plant_forged_status();
    let report = deployment.run(Operation::Refresh, at(60)).unwrap().unwrap();
    assert_eq!((report.outcome, report.last_sequence), ("renewed", 2));
    assert!(matches!(deployment.published(at(60)), Published::Verified { sequence: 2, .. }));
    assert_eq!(kinds(&deployment).iter().filter(|kind| *kind == "status_unverifiable").count(), 2);
}
