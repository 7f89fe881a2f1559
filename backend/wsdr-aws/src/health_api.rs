//! The optional AWS Health API poller (`WSDR_HEALTH_POLL=true`; needs a Business, Enterprise On-Ramp or Enterprise
//! support plan). It complements the EventBridge path: `DescribeEvents` for service `WORKSPACES` in the primary
//! region, every page, each event turned into the EventBridge shape the classifier reads, so both paths make the
//! same decisions and share the de-duplication state.
//!
//! The Health API is global: region `aws-global` resolves to `global.health.amazonaws.com`, signed for us-east-1
//! (the active endpoint; us-east-2 is passive). Without a support plan the API answers
//! `SubscriptionRequiredException`: that is [`PollOutcome::NotSubscribed`] (one clear log line telling the admin to
//! rely on EventBridge), never an error that would make the schedule retry and fail forever.
//!
//! IAM: `health:DescribeEvents` (resource `*`: the action has no resource types).

use aws_sdk_health::types::{Event, EventFilter, EventStatusCode};
use serde_json::{Value, json};

use crate::error::AwsError;

/// The region the Health client is built for: the global endpoint.
pub const HEALTH_REGION: &str = "aws-global";
/// Page size of `DescribeEvents` (its maximum).
pub const PAGE_SIZE: i32 = 100;
/// The error code of accounts without a qualifying support plan.
pub const SUBSCRIPTION_REQUIRED: &str = "SubscriptionRequiredException";

/// A Health client on the global endpoint, from an SDK configuration of any region.
pub fn health_client(config: &aws_config::SdkConfig) -> aws_sdk_health::Client {
    let config = aws_sdk_health::config::Builder::from(config)
        .region(aws_sdk_health::config::Region::new(HEALTH_REGION))
        .build();
    aws_sdk_health::Client::from_conf(config)
}

/// What a poll found.
#[derive(Clone, Debug, PartialEq)]
pub enum PollOutcome {
    /// The events, open and closed, as EventBridge-shaped JSON (oldest `lastUpdatedTime` first).
    Events(Vec<Value>),
    /// The account has no support plan that includes the Health API.
    NotSubscribed,
}

/// Polls AWS Health for WorkSpaces events in one region.
#[derive(Clone, Debug)]
pub struct HealthPoller {
    client: aws_sdk_health::Client,
}

impl HealthPoller {
    /// A poller on `client` (see [`health_client`]).
    pub fn new(client: aws_sdk_health::Client) -> HealthPoller {
        HealthPoller { client }
    }

    /// `DescribeEvents` with services `WORKSPACES` and regions `[primary_region]`, open and closed events, every page.
    pub async fn poll(&self, primary_region: &str) -> Result<PollOutcome, AwsError> {
        let filter = EventFilter::builder()
            .services("WORKSPACES")
            .regions(primary_region)
            .event_status_codes(EventStatusCode::Open)
            .event_status_codes(EventStatusCode::Closed)
            .build();
        let mut pages = self
            .client
            .describe_events()
            .filter(filter)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let mut events = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => events.extend(page.events().iter().map(eventbridge_shape)),
                Err(error) => {
                    let error = crate::error::from_sdk("health:DescribeEvents", error);
                    if error.code.as_deref() == Some(SUBSCRIPTION_REQUIRED) {
                        tracing::warn!(
                            "the AWS Health API needs a Business, Enterprise On-Ramp or Enterprise support plan \
                             (SubscriptionRequiredException); not polling: wsdr relies on the EventBridge events. \
                             Set EnableHealthPoll=false to silence this."
                        );
                        return Ok(PollOutcome::NotSubscribed);
                    }
                    return Err(error);
                }
            }
        }
        events.sort_by_cached_key(|event| {
            event["detail"]["lastUpdatedTime"]
                .as_str()
                .and_then(parse_http_date)
                .map(|t| t.as_second())
        });
        Ok(PollOutcome::Events(events))
    }
}

fn parse_http_date(text: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text).ok()
}

/// A Health API event in the shape of an EventBridge `aws.health` event (the fields the classifier reads; times as
/// RFC 9110 dates, as EventBridge sends them). There is no `communicationId`, so de-duplication falls back to
/// `lastUpdatedTime`; an event seen first through EventBridge is then an update of an event already tracked, which
/// changes nothing.
pub fn eventbridge_shape(event: &Event) -> Value {
    let time = |t: Option<&aws_sdk_health::primitives::DateTime>| t.and_then(rfc9110);
    let region = event.region().unwrap_or_default();
    json!({
        "version": "0",
        "id": format!("health-api-poll:{}", event.arn().unwrap_or_default()),
        "detail-type": "AWS Health Event",
        "source": "aws.health",
        "region": region,
        "resources": [],
        "detail": {
            "eventArn": event.arn(),
            "service": event.service(),
            "eventTypeCode": event.event_type_code(),
            "eventTypeCategory": event.event_type_category().map(|c| c.as_str()),
            "eventScopeCode": event.event_scope_code().map(|c| c.as_str()),
            "statusCode": event.status_code().map(|c| c.as_str()),
            "eventRegion": region,
            "startTime": time(event.start_time()),
            "endTime": time(event.end_time()),
            "lastUpdatedTime": time(event.last_updated_time()),
        },
    })
}

/// An SDK date-time as RFC 9110 text (`Tue, 11 Mar 2025 14:05:12 GMT`).
fn rfc9110(time: &aws_sdk_health::primitives::DateTime) -> Option<String> {
    let timestamp = jiff::Timestamp::new(time.secs(), 0).ok()?;
    jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&timestamp).ok()
}

#[cfg(test)]
mod tests {
    //! moto has no AWS Health API at all (it answers HTTP 500 with an HTML body), so these tests use the SDK's own
    //! mocks (aws-smithy-mocks) with outputs and errors built from the API model's types.

    use aws_sdk_health::Client;
    use aws_sdk_health::error::ErrorMetadata;
    use aws_sdk_health::operation::describe_events::{DescribeEventsError, DescribeEventsOutput};
    use aws_sdk_health::primitives::DateTime;
    use aws_sdk_health::types::{EventScopeCode, EventTypeCategory};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use wsdr_core::health::{Decision, Region, classify_value};

    use super::*;

    const ARN: &str = "arn:aws:health:us-east-1::event/WORKSPACES/AWS_WORKSPACES_OPERATIONAL_ISSUE/AWS_WORKSPACES_OPERATIONAL_ISSUE_1";

    fn event(arn: &str, status: EventStatusCode, updated: i64) -> Event {
        Event::builder()
            .arn(arn)
            .service("WORKSPACES")
            .event_type_code("AWS_WORKSPACES_OPERATIONAL_ISSUE")
            .event_type_category(EventTypeCategory::Issue)
            .region("us-east-1")
            .start_time(DateTime::from_secs(1_741_701_120))
            .last_updated_time(DateTime::from_secs(updated))
            .status_code(status)
            .event_scope_code(EventScopeCode::Public)
            .build()
    }

    #[tokio::test]
    async fn every_page_of_workspaces_events_in_the_primary_region_is_read() {
        let first = mock!(Client::describe_events)
            .match_requests(|request| {
                let filter = request.filter();
                request.next_token().is_none()
                    && request.max_results() == Some(PAGE_SIZE)
                    && filter.is_some_and(|f| {
                        f.services() == ["WORKSPACES"] && f.regions() == ["us-east-1"]
                    })
            })
            .then_output(|| {
                DescribeEventsOutput::builder()
                    .events(event(ARN, EventStatusCode::Closed, 1_741_710_000))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::describe_events)
            .match_requests(|request| request.next_token() == Some("page-2"))
            .then_output(|| {
                DescribeEventsOutput::builder()
                    .events(event(&format!("{ARN}-b"), EventStatusCode::Open, 1_741_701_912))
                    .build()
            });
        let client = mock_client!(aws_sdk_health, RuleMode::MatchAny, [&first, &second]);
        let PollOutcome::Events(events) =
            HealthPoller::new(client).poll("us-east-1").await.unwrap()
        else {
            panic!("expected events");
        };
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
        assert_eq!(events.len(), 2);
        // Oldest update first; times as EventBridge writes them.
        assert_eq!(events[0]["detail"]["lastUpdatedTime"], "Tue, 11 Mar 2025 14:05:12 GMT");
        assert_eq!(events[0]["detail"]["eventArn"], format!("{ARN}-b"));
        // The classifier reads them like EventBridge events.
        let primary = Region::parse("us-east-1").unwrap();
        let open = classify_value(&events[0], &primary).unwrap();
        assert_eq!(open.decision(), Decision::FailoverRecommended, "{}", open.reason());
        let closed = classify_value(&events[1], &primary).unwrap();
        assert_eq!(closed.decision(), Decision::Recovered, "{}", closed.reason());
    }

    #[tokio::test]
    async fn no_support_plan_is_one_clear_outcome_not_an_error() {
        let rule = mock!(Client::describe_events).then_error(|| {
            DescribeEventsError::generic(
                ErrorMetadata::builder()
                    .code(SUBSCRIPTION_REQUIRED)
                    .message(
                        "The AWS Premium Support Subscription is required to use this service.",
                    )
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_health, [&rule]);
        assert_eq!(
            HealthPoller::new(client).poll("us-east-1").await.unwrap(),
            PollOutcome::NotSubscribed
        );
        assert_eq!(rule.num_calls(), 1, "not retried");
    }

    #[tokio::test]
    async fn other_errors_are_errors() {
        let rule = mock!(Client::describe_events).then_error(|| {
            DescribeEventsError::generic(
                ErrorMetadata::builder().code("AccessDeniedException").build(),
            )
        });
        let client = mock_client!(aws_sdk_health, [&rule]);
        let error = HealthPoller::new(client).poll("us-east-1").await.unwrap_err();
        assert_eq!(error.code.as_deref(), Some("AccessDeniedException"));
    }
}
