//! Findings into AWS Security Hub: the ASFF records of a scan (`exchange::asff`) imported with
//! `BatchImportFindings`, 100 a call, under the importing account's own product
//! (`product/<account>/default`). Ids are the findings' own, so a re-run updates what it
//! imported before instead of adding it twice; a full scan archives (`RecordState`) the
//! tagtrail findings of its window that it no longer reports.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_securityhub::types::{
    Action, AwsApiCallAction, AwsSecurityFinding, AwsSecurityFindingFilters, Partition,
    RecordState, Resource, Severity, SeverityLabel, StringFilter, StringFilterComparison, Workflow,
    WorkflowStatus,
};
use aws_sdk_securityhub::Client;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::report::sinks::Sink;
use crate::report::summary::Summary;
use crate::report::{exchange, FindingRow, ReportError};
use crate::source::Window;

/// Findings a `BatchImportFindings` call takes at most.
const BATCH: usize = 100;

/// The hub findings go to: the account and region of the credentials used.
#[derive(Debug, Clone)]
pub struct Hub {
    pub region: String,
    pub account: String,
}

impl Hub {
    /// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            crate::arn::partition_of(&self.region),
            self.region,
            self.account,
            self.account
        )
    }
}

/// The ASFF records of a scan's findings, gathered from the findings stream for [`publish`]:
/// a sink (`report::sinks`) beside the report files.
pub struct Gathered<'a>(pub &'a mut Vec<Value>);

impl Sink for Gathered<'_> {
    fn name(&self) -> &'static str {
        "gather security hub records"
    }

    fn push(&mut self, row: &FindingRow) -> Result<(), ReportError> {
        self.0.push(exchange::asff(row, None));
        Ok(())
    }

    fn finish(self: Box<Self>, _: &Summary) -> Result<Vec<std::path::PathBuf>, ReportError> {
        Ok(Vec::new())
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Published {
    pub imported: usize,
    pub archived: usize,
    /// (finding id, why) of the findings Security Hub refused.
    pub failed: Vec<(String, String)>,
}

/// A call to Security Hub that failed as a whole.
#[derive(Debug, thiserror::Error)]
#[error("securityhub:{call}: {detail}")]
pub struct PublishError {
    pub call: &'static str,
    pub detail: String,
}

/// Imports `findings` (ASFF records), then, when `archive` gives the scan's window, archives
/// the hub's active tagtrail findings first observed in it that `findings` no longer holds.
pub async fn publish(
    client: &Client,
    hub: &Hub,
    findings: &[Value],
    archive: Option<&Window>,
) -> Result<Published, PublishError> {
    let product = hub.product_arn();
    let mut published = Published::default();
    let converted: Vec<AwsSecurityFinding> =
        findings.iter().map(|f| finding(f, &product)).collect();
    import(client, converted, &mut published).await?;
    if let Some(window) = archive {
        let current: BTreeSet<&str> = findings.iter().filter_map(|f| f["Id"].as_str()).collect();
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let stale: Vec<AwsSecurityFinding> = active(client, &product)
            .await?
            .into_iter()
            .filter(|f| f.id.as_deref().is_some_and(|id| !current.contains(id)))
            .filter(|f| within(f.first_observed_at.as_deref(), window))
            .map(|mut f| {
                f.record_state = Some(RecordState::Archived);
                f.updated_at = Some(now.clone());
                f
            })
            .collect();
        let before = published.imported;
        import(client, stale, &mut published).await?;
        published.archived = published.imported - before;
        published.imported = before;
    }
    Ok(published)
}

async fn import(
    client: &Client,
    findings: Vec<AwsSecurityFinding>,
    published: &mut Published,
) -> Result<(), PublishError> {
    for batch in findings.chunks(BATCH) {
        let out = client
            .batch_import_findings()
            .set_findings(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| PublishError {
                call: "BatchImportFindings",
                detail: crate::aws::describe(&e),
            })?;
        published.imported += out.success_count.unwrap_or_default() as usize;
        for failed in out.failed_findings.unwrap_or_default() {
            published.failed.push((
                failed.id.unwrap_or_default(),
                format!(
                    "{}: {}",
                    failed.error_code.unwrap_or_default(),
                    failed.error_message.unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// The hub's active findings of tagtrail's product (checked here too: not every
/// implementation of the API applies every filter).
async fn active(client: &Client, product: &str) -> Result<Vec<AwsSecurityFinding>, PublishError> {
    let equals = |value: &str| {
        StringFilter::builder()
            .value(value)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .product_arn(equals(product))
        .record_state(equals(RecordState::Active.as_str()))
        .generator_id(
            StringFilter::builder()
                .value("tagtrail/")
                .comparison(StringFilterComparison::Prefix)
                .build(),
        )
        .build();
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| PublishError {
            call: "GetFindings",
            detail: crate::aws::describe(&e),
        })?;
        out.extend(page.findings.unwrap_or_default().into_iter().filter(|f| {
            f.product_arn.as_deref() == Some(product)
                && f.record_state.as_ref() == Some(&RecordState::Active)
                && f.generator_id
                    .as_deref()
                    .is_some_and(|g| g.starts_with("tagtrail/"))
        }));
    }
    Ok(out)
}

/// Whether a finding first observed at `observed` falls in the scan's window (one without a
/// readable time is left alone).
fn within(observed: Option<&str>, window: &Window) -> bool {
    observed
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|time| window.admits_time(Some(time.with_timezone(&Utc))))
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(v: &Value) -> HashMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The SDK's form of an ASFF record written by `exchange::asff`, under `product`.
fn finding(v: &Value, product: &str) -> AwsSecurityFinding {
    let resources = v["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            Resource::builder()
                .set_type(text(r, "Type"))
                .set_id(text(r, "Id"))
                .set_partition(text(r, "Partition").map(|p| Partition::from(p.as_str())))
                .set_region(text(r, "Region"))
                .set_tags(r.get("Tags").map(strings))
                .build()
        })
        .collect();
    let call = &v["Action"]["AwsApiCallAction"];
    AwsSecurityFinding::builder()
        .set_schema_version(text(v, "SchemaVersion"))
        .set_id(text(v, "Id"))
        .product_arn(product)
        .set_generator_id(text(v, "GeneratorId"))
        .set_aws_account_id(text(v, "AwsAccountId"))
        .set_types(v["Types"].as_array().map(|t| {
            t.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        }))
        .set_first_observed_at(text(v, "FirstObservedAt"))
        .set_last_observed_at(text(v, "LastObservedAt"))
        .set_created_at(text(v, "CreatedAt"))
        .set_updated_at(text(v, "UpdatedAt"))
        .severity(
            Severity::builder()
                .set_label(text(&v["Severity"], "Label").map(|l| SeverityLabel::from(l.as_str())))
                .build(),
        )
        .set_title(text(v, "Title"))
        .set_description(text(v, "Description"))
        .set_product_name(text(v, "ProductName"))
        .set_company_name(text(v, "CompanyName"))
        .set_resources(Some(resources))
        .set_product_fields(v.get("ProductFields").map(strings))
        .record_state(RecordState::Active)
        .workflow(Workflow::builder().status(WorkflowStatus::New).build())
        .action(
            Action::builder()
                .set_action_type(text(&v["Action"], "ActionType"))
                .aws_api_call_action(
                    AwsApiCallAction::builder()
                        .set_api(text(call, "Api"))
                        .set_service_name(text(call, "ServiceName"))
                        .set_caller_type(text(call, "CallerType"))
                        .set_first_seen(text(call, "FirstSeen"))
                        .set_last_seen(text(call, "LastSeen"))
                        .build(),
                )
                .build(),
        )
        .build()
}
