//! CloudTrail's LookupEvents API: management events of the last 90 days, through the SDK's
//! paginator, paced at the published limit of 2 requests per second per account and region
//! (the SDK's standard retry handles throttling on top). Each page becomes an input in the
//! shape `aws cloudtrail lookup-events` prints, so its `Resources[]` reach the resolver.

use std::time::Duration;

use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::Client;
use serde_json::{json, Value};
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::time::{interval, MissedTickBehavior};

use super::{Pending, Window};
use crate::aws::describe;

/// The published LookupEvents limit: 2 requests per second per account and region.
pub const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// Why pulling stopped.
#[derive(Debug, Error)]
pub enum LookupError {
    /// A page could not be read; the pages before it were sent.
    #[error("cloudtrail:LookupEvents page {page}: {detail}")]
    Page { page: usize, detail: String },
    /// The receiver is gone: nobody reads the pages any more.
    #[error("the run stopped reading LookupEvents pages")]
    Closed,
}

/// Pulls every page for the window, sending each to `sender` as fetched bytes. Returns the
/// number of pages.
pub async fn pull(
    client: &Client,
    label: &str,
    window: &Window,
    min_interval: Duration,
    sender: &mpsc::Sender<Pending>,
) -> Result<usize, LookupError> {
    let mut pace = interval(min_interval);
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pages = client
        .lookup_events()
        .set_start_time(window.since.map(|t| DateTime::from_secs(t.timestamp())))
        .set_end_time(window.until.map(|t| DateTime::from_secs(t.timestamp())))
        .max_results(50)
        .into_paginator()
        .send();
    let mut count = 0;
    loop {
        // The paginator sends a request only when asked for the next page: pace before asking.
        pace.tick().await;
        let Some(response) = pages.next().await else {
            return Ok(count);
        };
        count += 1;
        let response = response.map_err(|e| LookupError::Page {
            page: count,
            detail: describe(&e),
        })?;
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
        let page = Pending::fetched(
            format!("lookup-events:{label}:page {count}"),
            json!({ "Events": events }).to_string().into_bytes(),
        );
        if sender.send(page).await.is_err() {
            return Err(LookupError::Closed);
        }
    }
}
