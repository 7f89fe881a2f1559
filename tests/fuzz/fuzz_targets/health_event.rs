//! AWS Health event JSON → `wsdr_core::health::classify_slice` (what the CLI reads) and, on the same JSON
//! value, `classify_value` (what the health Lambda calls on its event payload).
//!
//! Properties: never panics; both entry points agree; anything but `Ignore` comes only from a WORKSPACES
//! `issue`/`investigation` in the primary region with status `open` (failover) or `closed` (recovered), and carries
//! an identity whose ARN is the event's; the description is bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdr_core::health::{
    Decision, MAX_DESCRIPTION_CHARS, Region, WORKSPACES_SERVICE, classify_slice, classify_value,
};

fuzz_target!(|bytes: &[u8]| {
    let Ok(primary) = Region::parse("us-east-1") else { return };
    let result = classify_slice(bytes, &primary);

    // The Lambda path: the runtime hands the handler a parsed JSON value.
    if !bytes.starts_with(b"\xEF\xBB\xBF") {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let via_value = classify_value(&value, &primary);
            assert_eq!(
                result.as_ref().map_err(|e| e.to_string()),
                via_value.as_ref().map_err(|e| e.to_string()),
                "classify_slice and classify_value disagree"
            );
        }
    }

    let classification = match result {
        Ok(classification) => classification,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let _ = classification.reason().to_owned();
    let event = classification.event();
    if let Some(description) = &event.description {
        assert!(description.chars().count() <= MAX_DESCRIPTION_CHARS, "description not bounded");
    }
    let _ = event.last_updated();
    match classification.decision() {
        Decision::Ignore => assert!(classification.identity().is_none()),
        decision => {
            let service = event.service.as_deref().unwrap_or_default();
            assert!(service.eq_ignore_ascii_case(WORKSPACES_SERVICE), "acted on service {service:?}");
            let region = event.affected_region.as_deref().unwrap_or_default();
            assert!(region.eq_ignore_ascii_case(primary.as_str()), "acted on region {region:?}");
            let category = event.category.as_deref();
            assert!(matches!(category, Some("issue" | "investigation")), "acted on {category:?}");
            let expected = match decision {
                Decision::FailoverRecommended => "open",
                _ => "closed",
            };
            assert_eq!(event.status_code.as_deref(), Some(expected));
            let identity = classification.identity().expect("an acted-on event has an identity");
            assert_eq!(event.event_arn.as_deref(), Some(identity.event_arn.as_str()));
            assert!(identity.dedup_key.as_str().contains(identity.event_arn.as_str()));
            assert_eq!(classification.is_confirmed_issue(), category == Some("issue"));
        }
    }
});
