//! What a run tells the outside world besides its report: CloudWatch metrics in the Embedded Metric Format (one
//! JSON log line that CloudWatch turns into metrics, no API call), and an alert for the admins when the run needs
//! a human.

use std::fmt::Write;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::report::{Outcome, RunReport};
use crate::sns::AdminAlert;

/// The metrics of a run as an EMF document (namespace `namespace`, dimension `DirectoryId`); `None` for a
/// skipped run, which did nothing to measure. Names and units are the ones `infra/README.md` documents and the
/// template's alarms watch.
pub fn metrics_document(report: &RunReport, namespace: &str, now: Timestamp) -> Option<Value> {
    if report.outcome == Outcome::Skipped {
        return None;
    }
    let refused = matches!(report.outcome, Outcome::Blocked | Outcome::InvalidUsers);
    let age_minutes =
        report.users.last_modified.map(|written| now.duration_since(written).as_secs_f64() / 60.0);
    let mut metrics: Vec<(&str, &str, Value)> = vec![
        ("PlanBlocked", "Count", json!(u8::from(refused))),
        ("OperationsFailed", "Count", json!(report.failed.len())),
        ("Readiness", "Percent", json!(report.readiness.percent)),
        ("ReconcileCompleted", "Count", json!(1)),
        ("WorkspacesCreated", "Count", json!(report.created.len())),
        ("WorkspacesTerminated", "Count", json!(report.terminated.len())),
        ("WorkspacesAdopted", "Count", json!(report.adopted.len())),
        ("UnmanagedWorkspaces", "Count", json!(report.unmanaged)),
    ];
    if let Some(age) = age_minutes {
        metrics.push(("UsersListAgeMinutes", "None", json!(age)));
    }
    // A refused list says nothing about readiness: leave it out rather than report a misleading number.
    if report.outcome == Outcome::InvalidUsers {
        metrics.retain(|(name, _, _)| *name != "Readiness");
    }

    let mut document = Map::new();
    document.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": now.as_millisecond(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["DirectoryId"]],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    document.insert("DirectoryId".to_owned(), json!(report.directory_id));
    document.insert("RunId".to_owned(), json!(report.run_id));
    document.insert("Outcome".to_owned(), json!(report.outcome.as_str()));
    for (name, _, value) in metrics {
        document.insert(name.to_owned(), value);
    }
    Some(Value::Object(document))
}

/// The admins' alert for a run that needs a human (blocked, refused list, failed operations), else `None`.
pub fn attention_alert(report: &RunReport) -> Option<AdminAlert> {
    if !report.needs_attention() {
        return None;
    }
    let subject = match report.outcome {
        Outcome::Blocked => format!("wsdr: reconciliation of {} blocked", report.directory_id),
        Outcome::InvalidUsers => format!("wsdr: users list refused for {}", report.directory_id),
        _ => format!(
            "wsdr: {} DR WorkSpace operation(s) failed in {}",
            report.failed.len(),
            report.directory_id
        ),
    };
    let mut text =
        format!("{}\n\nRun {} ({} trigger).\n", report.summary(), report.run_id, report.trigger);
    for item in report.failed.iter().take(20) {
        let _ =
            writeln!(text, "- {} {}: {} ({})", item.operation, item.user, item.reason, item.code);
    }
    if report.failed.len() > 20 {
        let _ = writeln!(text, "- … and {} more", report.failed.len() - 20);
    }
    for reject in report.users.rejects.iter().take(20) {
        let _ = writeln!(text, "- {} line {}: {}", report.users.source, reject.line, reject.reason);
    }
    text.push_str(match report.outcome {
        Outcome::Blocked => "\nNothing was created or terminated. Check the users export; if the change is intended, \
                             run `wsdr reconcile` with higher --max-terminate/--max-terminate-percent.\n",
        Outcome::InvalidUsers => "\nNothing was created or terminated. Fix the users source (the export on the \
                                  domain controller, or the directory's settings and reachability); \
                                  `wsdr users --from SOURCE` shows what wsdr reads and every rejected row.\n",
        _ => "\nThe next run retries the failed items.\n",
    });
    if let Some(location) = &report.report_location {
        let _ = writeln!(text, "Report: {location}");
    }
    let json = serde_json::to_string(report).ok();
    let mut alert = AdminAlert::new(&subject, text)
        .with_attribute("wsdr_event_kind", format!("reconcile_{}", report.outcome.as_str()))
        .with_attribute("wsdr_directory_id", report.directory_id.clone());
    if let Some(json) = json.filter(|json| json.len() < 200 * 1024) {
        alert = alert.with_json(json);
    }
    Some(alert)
}
