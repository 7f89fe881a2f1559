use proptest::prelude::*;
use serde_json::json;

use super::*;

fn region(s: &str) -> Region {
    Region::parse(s).unwrap()
}

fn ts(s: u32) -> Timestamp {
    Timestamp::from_second(1_741_700_000 + i64::from(s)).unwrap()
}

fn event(detail: Value) -> Value {
    json!({
        "version": "0",
        "id": "x",
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "account": "123456789012",
        "time": "2025-03-11T14:05:31Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    })
}

fn open_detail() -> Value {
    json!({
        "eventArn": "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/X1",
        "service": "WORKSPACES",
        "eventTypeCode": "AWS_WORKSPACES_OPERATIONAL_ISSUE",
        "eventTypeCategory": "issue",
        "eventScopeCode": "PUBLIC",
        "communicationId": "c-1",
        "startTime": "Tue, 11 Mar 2025 13:52:00 GMT",
        "lastUpdatedTime": "Tue, 11 Mar 2025 14:05:12 GMT",
        "statusCode": "open",
        "eventRegion": "us-east-1",
        "eventDescription": [{"language": "en_US", "latestDescription": "We are investigating."}],
    })
}

#[test]
fn regions() {
    for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-5"] {
        assert!(Region::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "global",
        "US-EAST-1",
        "us-east",
        "useast1",
        "us--1",
        "us-east-x",
        "u-east-1",
        " us-west-2 ",
    ] {
        assert!(Region::parse(bad).is_err(), "{bad}");
    }
    let parsed: Region = serde_json::from_str("\"eu-west-1\"").unwrap();
    assert_eq!(parsed, region("eu-west-1"));
    assert!(serde_json::from_str::<Region>("\"nowhere\"").is_err());
}

#[test]
fn dedup_key_prefers_communication_id() {
    let arn = "arn:aws:health:us-east-1::event/W/T/1";
    assert_eq!(
        DedupKey::new(arn, Some("c-1"), Some("Tue")).unwrap().as_str(),
        "arn:aws:health:us-east-1::event/W/T/1#comm:c-1"
    );
    assert_eq!(
        DedupKey::new(arn, None, Some("Tue, 11 Mar 2025 14:05:12 GMT")).unwrap().as_str(),
        "arn:aws:health:us-east-1::event/W/T/1#updated:Tue, 11 Mar 2025 14:05:12 GMT"
    );
    assert_eq!(DedupKey::new(arn, None, None), None);
}

#[test]
fn falls_back_to_last_updated_time_for_the_key() {
    let mut d = open_detail();
    d.as_object_mut().unwrap().remove("communicationId");
    let c = classify_value(&event(d), &region("us-east-1")).unwrap();
    assert_eq!(
        c.identity().unwrap().dedup_key.as_str(),
        "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/X1#updated:Tue, 11 Mar 2025 14:05:12 GMT"
    );
}

#[test]
fn relevant_event_without_any_discriminator_is_malformed() {
    let mut d = open_detail();
    let o = d.as_object_mut().unwrap();
    o.remove("communicationId");
    o.remove("lastUpdatedTime");
    let err = classify_value(&event(d), &region("us-east-1")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`detail.communicationId` is missing: neither it nor detail.lastUpdatedTime is present to deduplicate copies"
    );
}

#[test]
fn wrong_types_name_the_field() {
    let cases = [
        (
            json!({"eventDescription": "text"}),
            "`detail.eventDescription` must be an array, found a string",
        ),
        (
            json!({"eventDescription": [{"language": "en_US", "latestDescription": 5}]}),
            "`detail.eventDescription[0].latestDescription` must be a string, found a number",
        ),
        (
            json!({"eventRegion": ["us-east-1"]}),
            "`detail.eventRegion` must be a string, found an array",
        ),
        (json!({"eventArn": {"a": 1}}), "`detail.eventArn` must be a string, found an object"),
    ];
    for (patch, expected) in cases {
        let mut d = open_detail();
        for (k, v) in patch.as_object().unwrap() {
            d.as_object_mut().unwrap().insert(k.clone(), v.clone());
        }
        let err = classify_value(&event(d), &region("us-east-1")).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    let err = classify_value(&json!([1, 2]), &region("us-east-1")).unwrap_err();
    assert_eq!(err.to_string(), "`(the event)` must be a JSON object, found an array");
    let err = classify_value(&json!({"source": "aws.health", "detail": 3}), &region("us-east-1"))
        .unwrap_err();
    assert_eq!(err.to_string(), "`detail` must be an object, found a number");
}

#[test]
fn empty_and_null_strings_count_as_missing() {
    let mut d = open_detail();
    d["statusCode"] = json!("  ");
    let err = classify_value(&event(d), &region("us-east-1")).unwrap_err();
    assert!(err.to_string().starts_with("`detail.statusCode` is missing"), "{err}");
    let mut d = open_detail();
    d["eventRegion"] = Value::Null;
    let c = classify_value(&event(d), &region("us-east-1")).unwrap();
    assert_eq!(c.decision(), Decision::FailoverRecommended);
    assert!(c.reason().contains("detail.eventRegion is absent"), "{}", c.reason());
}

#[test]
fn ignored_events_need_only_what_decided_them() {
    // Another service: no ARN, no status, still a clean ignore.
    let c = classify_value(
        &event(json!({"service": "EC2", "eventRegion": "us-east-1"})),
        &region("us-east-1"),
    )
    .unwrap();
    assert_eq!(c.decision(), Decision::Ignore);
    assert_eq!(c.identity(), None);
    assert_eq!(c.reason(), "ignored: service EC2 is not WORKSPACES");
}

#[test]
fn bad_arn_and_oversized_input_are_rejected() {
    let mut d = open_detail();
    d["eventArn"] = json!("not-an-arn");
    let err = classify_value(&event(d), &region("us-east-1")).unwrap_err();
    assert!(matches!(err, MalformedEvent::BadArn(_)), "{err}");
    let big = vec![b' '; MAX_EVENT_BYTES + 1];
    assert_eq!(
        classify_slice(&big, &region("us-east-1")).unwrap_err(),
        MalformedEvent::TooLarge(MAX_EVENT_BYTES + 1)
    );
}

#[test]
fn byte_order_mark_is_tolerated() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec(&event(open_detail())).unwrap());
    let c = classify_slice(&bytes, &region("us-east-1")).unwrap();
    assert_eq!(c.decision(), Decision::FailoverRecommended);
}

#[test]
fn description_prefers_en_us_and_is_truncated() {
    let mut d = open_detail();
    d["eventDescription"] = json!([
        {"language": "de_DE", "latestDescription": "Wir untersuchen."},
        {"language": "en_US", "latestDescription": "x".repeat(MAX_DESCRIPTION_CHARS + 10)},
    ]);
    let c = classify_value(&event(d), &region("us-east-1")).unwrap();
    let text = c.event().description.clone().unwrap();
    assert_eq!(text.chars().count(), MAX_DESCRIPTION_CHARS);
    assert!(text.ends_with('…'));
    let mut d = open_detail();
    d["eventDescription"] = json!([{"language": "de_DE", "latestDescription": "Wir untersuchen."}]);
    let c = classify_value(&event(d), &region("us-east-1")).unwrap();
    assert_eq!(c.event().description.as_deref(), Some("Wir untersuchen."));
}

#[test]
fn last_updated_parses_rfc2822() {
    let c = classify_value(&event(open_detail()), &region("us-east-1")).unwrap();
    assert_eq!(c.event().last_updated().unwrap().to_string(), "2025-03-11T14:05:12Z");
    let summary = HealthEventSummary {
        last_updated_time: Some("yesterday".to_owned()),
        ..HealthEventSummary::default()
    };
    assert_eq!(summary.last_updated(), None);
}

#[test]
fn upcoming_issue_is_ignored() {
    let mut d = open_detail();
    d["statusCode"] = json!("upcoming");
    let c = classify_value(&event(d), &region("us-east-1")).unwrap();
    assert_eq!(c.decision(), Decision::Ignore);
    assert_eq!(
        c.reason(),
        "ignored: WorkSpaces issue AWS_WORKSPACES_OPERATIONAL_ISSUE in us-east-1 has statusCode \"upcoming\"; \
         only open and closed are acted on"
    );
}

#[test]
fn seen_events_deduplicate_and_evict_oldest() {
    let key =
        |i: u32| DedupKey::new(&format!("arn:aws:health:x::event/{i}"), Some("c"), None).unwrap();
    let mut seen = SeenEvents::with_cap(3);
    assert_eq!(seen.insert(key(1), ts(1)), Insert::New);
    assert_eq!(seen.insert(key(1), ts(2)), Insert::Duplicate);
    seen.insert(key(2), ts(3));
    seen.insert(key(3), ts(4));
    seen.insert(key(4), ts(5));
    assert_eq!(seen.len(), 3);
    assert!(!seen.contains(&key(1)), "the first inserted key is evicted first");
    assert!(seen.contains(&key(2)) && seen.contains(&key(3)) && seen.contains(&key(4)));
}

#[test]
fn seen_events_round_trip_and_repair_on_load() {
    let key =
        |i: usize| DedupKey::new(&format!("arn:aws:health:x::event/{i}"), Some("c"), None).unwrap();
    let mut seen = SeenEvents::new();
    for i in 0..5 {
        seen.insert(key(i), ts(1));
    }
    let json = serde_json::to_string(&seen).unwrap();
    let back: SeenEvents = serde_json::from_str(&json).unwrap();
    assert_eq!(back, seen);

    // A set stored by a build with a bigger cap is trimmed oldest-first, and the counter moves past the orders.
    let entries: BTreeMap<String, SeenEntry> = (0..SEEN_EVENTS_CAP + 5)
        .map(|i| (key(i).to_string(), SeenEntry { first_seen: ts(1), order: i as u64 }))
        .collect();
    let json = serde_json::json!({"entries": entries, "next_order": 0});
    let mut loaded: SeenEvents = serde_json::from_value(json).unwrap();
    assert_eq!(loaded.len(), SEEN_EVENTS_CAP);
    assert!(!loaded.contains(&key(4)) && loaded.contains(&key(5)));
    loaded.insert(key(9999), ts(2));
    assert!(!loaded.contains(&key(5)), "new keys get a higher order than every loaded one");
}

proptest! {
    #[test]
    fn seen_set_never_exceeds_cap_and_keeps_the_newest(
        cap in 1usize..8,
        keys in proptest::collection::vec(0u8..20, 0..60),
    ) {
        let mut seen = SeenEvents::with_cap(cap);
        let mut order: Vec<u8> = Vec::new(); // reference model: distinct keys in first-insertion order
        for (i, k) in keys.iter().enumerate() {
            let key = DedupKey::new(&format!("arn:aws:health:x::event/{k}"), Some("c"), None).unwrap();
            let expected_dup = order.iter().rev().take(cap).any(|o| o == k);
            let got = seen.insert(key, ts(i as u32));
            prop_assert_eq!(got == Insert::Duplicate, expected_dup);
            if !expected_dup {
                order.retain(|o| o != k);
                order.push(*k);
            }
            prop_assert!(seen.len() <= cap);
            prop_assert_eq!(seen.len(), order.len().min(cap));
        }
    }

    #[test]
    fn classify_never_panics_on_arbitrary_json(
        status in prop_oneof![Just(json!("open")), Just(json!("closed")), Just(json!(1)), Just(Value::Null)],
        category in prop_oneof![Just(json!("issue")), Just(json!("investigation")), Just(json!("scheduledChange")), Just(json!(true))],
        service in prop_oneof![Just(json!("WORKSPACES")), Just(json!("EC2")), Just(Value::Null)],
        region_v in prop_oneof![Just(json!("us-east-1")), Just(json!("us-west-2")), Just(Value::Null), Just(json!(7))],
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let d = json!({
            "eventArn": "arn:aws:health:us-east-1::event/WORKSPACES/T/1",
            "service": service, "eventTypeCategory": category, "statusCode": status,
            "eventRegion": region_v, "communicationId": "c-1",
        });
        let primary = region("us-east-1");
        if let Ok(c) = classify_value(&event(d), &primary) {
            // Only a WorkSpaces issue/investigation in the primary region is ever acted on.
            if c.decision() != Decision::Ignore {
                prop_assert_eq!(c.event().service.as_deref(), Some("WORKSPACES"));
                prop_assert_eq!(c.event().affected_region.as_deref(), Some("us-east-1"));
                prop_assert!(c.identity().is_some());
            }
        }
        let _ = classify_slice(&bytes, &primary);
    }
}
