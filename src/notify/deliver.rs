//! Sending batches: `sns:Publish`, `events:PutEvents`, webhook posts; retried with backoff
//! within a run, and left in the outbox when they still fail.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sns::types::MessageAttributeValue;
use tokio::runtime::Handle;

use super::{Batch, Delivered, NotifyConfig, Target, DETAIL_TYPE, SCHEMA, SOURCE};
use crate::aws::{describe, in_region};

/// How to reach the targets: the run's runtime and AWS configuration.
pub struct Transport {
    pub runtime: Handle,
    pub config: SdkConfig,
}

/// Webhook attempts within a run, and the first pause between them (doubled each time).
const WEBHOOK_ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// Slack allows about one message a second per webhook.
const WEBHOOK_SPACING: Duration = Duration::from_secs(1);

/// Sends every batch of `outbox`; the delivered ones leave it, the others stay with one more
/// attempt counted (an EventBridge batch keeps only the entries that failed). Must be called
/// outside the runtime.
pub fn deliver(outbox: &mut Vec<Batch>, config: &NotifyConfig, transport: &Transport) -> Delivered {
    let mut delivered = Delivered::default();
    if outbox.is_empty() {
        return delivered;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(30))
        .build();
    transport.runtime.block_on(async {
        let mut kept = Vec::new();
        let mut posted_before = false;
        for mut batch in std::mem::take(outbox) {
            let Some(target) = config.targets.get(&batch.target) else {
                delivered.failed.push(format!(
                    "batch {} for `{}`: no such target in [notify.targets] any more",
                    batch.id, batch.target
                ));
                batch.attempts += 1;
                kept.push(batch);
                continue;
            };
            let sent = match target {
                Target {
                    sns: Some(topic), ..
                } => publish(transport, topic, &batch).await,
                Target {
                    eventbridge: Some(bus),
                    ..
                } => put_events(transport, bus, &mut batch).await,
                _ => {
                    if posted_before {
                        tokio::time::sleep(WEBHOOK_SPACING).await;
                    }
                    posted_before = true;
                    match &http {
                        Ok(http) => post(http, target, &batch).await,
                        Err(e) => Err(format!("no HTTP client: {e}")),
                    }
                }
            };
            match sent {
                Ok(()) => {
                    tracing::info!(
                        batch = batch.id,
                        target = batch.target,
                        findings = batch.notices.len(),
                        "notified"
                    );
                    delivered.batches += 1;
                    delivered.findings += batch.notices.len() as u64;
                }
                Err(why) => {
                    tracing::warn!(
                        batch = batch.id,
                        target = batch.target,
                        "not delivered: {why}"
                    );
                    delivered
                        .failed
                        .push(format!("batch {} for `{}`: {why}", batch.id, batch.target));
                    batch.attempts += 1;
                    kept.push(batch);
                }
            }
        }
        *outbox = kept;
    });
    delivered
}

/// The region in an ARN, else the configuration's.
fn client_config(transport: &Transport, arn: &str) -> SdkConfig {
    match arn.split(':').nth(3).filter(|r| !r.is_empty()) {
        Some(region) if arn.starts_with("arn:") => in_region(&transport.config, region),
        _ => transport.config.clone(),
    }
}

/// One SNS message per batch; FIFO topics deduplicate by the batch id themselves.
async fn publish(transport: &Transport, topic: &str, batch: &Batch) -> Result<(), String> {
    let client = aws_sdk_sns::Client::new(&client_config(transport, topic));
    let ids: Vec<&str> = batch.notices.iter().map(|n| n.id.as_str()).collect();
    let attribute = |value: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| e.to_string())
    };
    let mut request = client
        .publish()
        .topic_arn(topic)
        .subject(format!("tagtrail: {} new finding(s)", batch.notices.len()))
        .message(batch.message().to_string())
        .message_attributes("tagtrail_batch_id", attribute(&batch.id)?)
        .message_attributes("tagtrail_schema", attribute(SCHEMA)?)
        .message_attributes(
            "tagtrail_finding_ids",
            MessageAttributeValue::builder()
                .data_type("String.Array")
                .string_value(serde_json::json!(ids).to_string())
                .build()
                .map_err(|e| e.to_string())?,
        );
    if topic.ends_with(".fifo") {
        request = request
            .message_group_id(SOURCE)
            .message_deduplication_id(&batch.id);
    }
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("sns:Publish {topic}: {}", describe(&e)))
}

/// One event per finding, at most ten a call; the entries EventBridge refuses stay in the
/// batch.
async fn put_events(transport: &Transport, bus: &str, batch: &mut Batch) -> Result<(), String> {
    let client = aws_sdk_eventbridge::Client::new(&client_config(transport, bus));
    let entries: Vec<PutEventsRequestEntry> = batch
        .notices
        .iter()
        .map(|notice| {
            let detail = serde_json::json!({
                "schema": SCHEMA,
                "batch_id": batch.id,
                "run": batch.run,
                "report_url": batch.report_url,
                "finding": notice,
            });
            PutEventsRequestEntry::builder()
                .source(SOURCE)
                .detail_type(DETAIL_TYPE)
                .event_bus_name(bus)
                .set_resources(notice.resource_arn.clone().map(|arn| vec![arn]))
                .detail(detail.to_string())
                .build()
        })
        .collect();
    let answer = client
        .put_events()
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| format!("events:PutEvents {bus}: {}", describe(&e)))?;
    if answer.failed_entry_count() == 0 {
        return Ok(());
    }
    let results = answer.entries();
    let mut reasons = Vec::new();
    let mut index = 0;
    batch.notices.retain(|_| {
        let failed = results.get(index).is_some_and(|r| r.error_code().is_some());
        if let Some(code) = results.get(index).and_then(|r| r.error_code()) {
            reasons.push(code.to_string());
        }
        index += 1;
        failed
    });
    reasons.dedup();
    Err(format!(
        "events:PutEvents {bus}: {} entr(ies) refused ({})",
        batch.notices.len(),
        reasons.join(", ")
    ))
}

/// A webhook post `{"text": …}` (what Slack and Teams incoming webhooks take), with the batch
/// id in `Idempotency-Key`; retried on connection errors, 429 and 5xx, after `Retry-After`
/// when given.
async fn post(http: &reqwest::Client, target: &Target, batch: &Batch) -> Result<(), String> {
    let url = match (&target.webhook, &target.webhook_env) {
        (Some(url), _) => url.clone(),
        (None, Some(var)) => std::env::var(var)
            .map_err(|_| format!("the environment variable {var} (the webhook URL) is not set"))?,
        (None, None) => return Err("no webhook URL".into()),
    };
    let body = serde_json::json!({ "text": batch.text() });
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    let mut tried = 0;
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        tried = attempt;
        let answer = http
            .post(&url)
            .header("Idempotency-Key", &batch.id)
            .header("X-Tagtrail-Batch", &batch.id)
            .json(&body)
            .send()
            .await;
        let retry_after = match answer {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => {
                let status = response.status();
                last = format!("HTTP {status}");
                if !(status.as_u16() == 429 || status.is_server_error()) {
                    break;
                }
                response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(30)))
            }
            // The URL is a secret: reqwest's error names it, so only its kind is kept.
            Err(e) if e.is_connect() => {
                last = "cannot connect".into();
                None
            }
            Err(e) if e.is_timeout() => {
                last = "timed out".into();
                None
            }
            Err(_) => {
                last = "request failed".into();
                None
            }
        };
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(retry_after.unwrap_or(pause)).await;
            pause *= 2;
        }
    }
    Err(format!("webhook: {last} after {tried} attempt(s)"))
}
