//! CloudTrail's LookupEvents API: management events of the last 90 days, paginated, paced at
//! the published limit of 2 requests per second per account and region (the SDK's standard
//! retry handles throttling on top). Each page becomes an input in the shape
//! `aws cloudtrail lookup-events` prints, so its `Resources[]` reach the resolver.

use std::time::Duration;

use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::Client;
use serde_json::{json, Value};
use tokio::time::{interval, MissedTickBehavior};

use super::{Input, Window};
use crate::aws::describe;

/// The published LookupEvents limit: 2 requests per second per account and region.
pub const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// Pulls every page for the window, handing each to `on_page`. Returns the number of pages;
/// an error names the page it stopped at.
pub async fn pull(
    client: &Client,
    label: &str,
    window: &Window,
    min_interval: Duration,
    mut on_page: impl FnMut(Input),
) -> Result<usize, String> {
    let mut pace = interval(min_interval);
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        pace.tick().await;
        let response = client
            .lookup_events()
            .set_start_time(window.since.map(|t| DateTime::from_secs(t.timestamp())))
            .set_end_time(window.until.map(|t| DateTime::from_secs(t.timestamp())))
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("page {}: {}", pages + 1, describe(&e)))?;
        pages += 1;
        let events: Vec<Value> = response
            .events()
            .iter()
            .map(|e| {
                let resources: Vec<Value> = e
                    .resources()
                    .iter()
                    .map(|r| json!({"ResourceType": r.resource_type(), "ResourceName": r.resource_name()}))
                    .collect();
                json!({
                    "EventId": e.event_id(),
                    "EventName": e.event_name(),
                    "EventSource": e.event_source(),
                    "Resources": resources,
                    "CloudTrailEvent": e.cloud_trail_event(),
                })
            })
            .collect();
        let bytes =
            serde_json::to_vec(&json!({ "Events": events })).expect("JSON values serialise");
        on_page(Input {
            name: format!("lookup-events:{label}:page {pages}"),
            bytes,
            damage: None,
        });
        token = response.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(pages);
        }
    }
}
