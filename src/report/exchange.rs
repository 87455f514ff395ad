//! Findings for the systems security teams already use: OCSF Detection Findings (Amazon
//! Security Lake, SIEMs) and the AWS Security Finding Format (Security Hub). Each record is
//! built from one report row alone and holds nothing that changes from run to run (its times
//! are the event's), so a re-run yields the same records and the same ids.

use serde_json::{json, Map, Value};

use super::rows::FindingRow;
use crate::verdict::Kind;

/// The OCSF version the records follow.
pub const OCSF_VERSION: &str = "1.5.0";

/// The ASFF schema version.
pub const ASFF_VERSION: &str = "2018-10-08";

/// How severe a finding is: (OCSF `severity_id`, its caption). An access across products is
/// Medium, an attempt that was refused Low; what cannot be judged is Informational.
fn severity(row: &FindingRow) -> (u8, &'static str) {
    match row.kind {
        Kind::ProductMismatch | Kind::TagChange if !row.denied => (3, "Medium"),
        Kind::ProductMismatch | Kind::TagChange => (2, "Low"),
        Kind::UntaggedPrincipal | Kind::UntaggedResource => (2, "Low"),
        Kind::ResourceNotInInventory | Kind::UnresolvedResource => (1, "Informational"),
    }
}

fn title(row: &FindingRow) -> String {
    let who = row
        .principal_arn
        .as_deref()
        .unwrap_or("an unknown principal");
    let what = row
        .resource_arn
        .as_deref()
        .unwrap_or("an unresolved resource");
    let verb = if row.denied { "tried" } else { "called" };
    format!(
        "{}: {who} {verb} {} on {what}",
        row.kind.as_str(),
        row.event_name
    )
}

fn partition(arn: Option<&str>) -> &str {
    arn.and_then(|a| a.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// The row's columns that neither format has a field for, by their report names.
fn details(row: &FindingRow) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.insert(key.into(), Value::String(v.to_string()));
        }
    };
    put("kind", Some(row.kind.as_str()));
    put("principal_product", row.principal_product.as_deref());
    put("principal_tag_source", row.principal_tag_source.as_deref());
    put("resource_product", row.resource_product.as_deref());
    put("resource_tag_source", row.resource_tag_source.as_deref());
    put(
        "previous_resource_product",
        row.previous_resource_product.as_deref(),
    );
    put("resolved_via", row.resolved_via.as_deref());
    put("error_code", row.error_code.as_deref());
    put("principal_type", Some(row.principal_type.as_str()));
    put("denied", Some(if row.denied { "true" } else { "false" }));
    put(
        "cross_account",
        Some(if row.cross_account { "true" } else { "false" }),
    );
    put("source", Some(&row.source.to_string()));
    out
}

fn millis(row: &FindingRow) -> i64 {
    row.event_time.map_or(0, |t| t.timestamp_millis())
}

fn aws_account(uid: &str) -> Value {
    json!({"uid": uid, "name": uid, "type_id": 10, "type": "AWS Account"})
}

/// One OCSF 1.5.0 Detection Finding (class 2004, activity Create): the resource as the
/// affected resource, the API call as evidence, the caller in the evidence's data.
pub fn ocsf(row: &FindingRow) -> Value {
    let (severity_id, severity) = severity(row);
    let id = row.finding_id();
    let account = row.account_id.as_deref().unwrap_or("");
    let region = row.aws_region.as_deref();
    let api = json!({
        "operation": &*row.event_name,
        "service": {"name": &*row.event_source, "uid": &*row.event_source, "version": ""},
        "request": {"uid": row.event_id.as_deref().unwrap_or("")},
    });
    let mut resource = json!({
        "uid": row.resource_arn.as_deref(),
        "cloud_partition": partition(row.resource_arn.as_deref()),
        "region": region,
        "labels": row.resource_product.as_deref().map(|p| vec![format!("product:{p}")]),
        "data": {"product": row.resource_product.as_deref()},
    });
    strip_nulls(&mut resource);
    let mut caller = Map::new();
    for (key, value) in [
        ("principal_arn", row.principal_arn.as_deref()),
        ("principal_account", row.principal_account.as_deref()),
        ("principal_product", row.principal_product.as_deref()),
    ] {
        if let Some(v) = value {
            caller.insert(key.into(), Value::String(v.into()));
        }
    }
    caller.insert("principal_type".into(), row.principal_type.as_str().into());
    let mut record = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "time": millis(row),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "message": row.kind.description(),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": &id,
            "event_code": row.kind.as_str(),
            "product": {"name": "tagtrail", "vendor_name": "tagtrail", "version": env!("CARGO_PKG_VERSION")},
        },
        "finding_info": {
            "uid": &id,
            "title": title(row),
            "desc": row.kind.description(),
            "types": [row.kind.as_str()],
            "data_sources": ["AWS CloudTrail"],
            "first_seen_time": millis(row),
            "last_seen_time": millis(row),
        },
        "cloud": {"provider": "AWS", "region": region, "account": aws_account(account)},
        "api": api.clone(),
        "resources": row.resource_arn.is_some().then(|| vec![resource.clone()]),
        "evidences": [{
            "api": api,
            "data": caller,
            "resources": row.resource_arn.is_some().then(|| vec![resource.clone()]),
            "verdict_id": 0,
        }],
        "unmapped": details(row),
    });
    strip_nulls(&mut record);
    record
}

/// One AWS Security Finding (ASFF) for the Security Hub of `hub` = (region, account), else
/// of the event's own region and account: its id the finding's, its product the account's own
/// (`product/<account>/default`), its times the event's.
pub fn asff(row: &FindingRow, hub: Option<(&str, &str)>) -> Value {
    let (region, account) = hub.unwrap_or((
        row.aws_region.as_deref().unwrap_or("us-east-1"),
        row.account_id.as_deref().unwrap_or(""),
    ));
    let (_, severity) = severity(row);
    let time = row
        .event_time
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into());
    let resource_arn = row.resource_arn.as_deref();
    let mut fields = Map::new();
    for (key, value) in details(row) {
        fields.insert(format!("tagtrail/{key}"), value);
    }
    if let Some(p) = row.principal_arn.as_deref() {
        fields.insert("tagtrail/principal_arn".into(), p.into());
    }
    let mut resource = json!({
        "Type": "Other",
        // A finding with no resolved resource is about the call: Security Hub needs a resource.
        "Id": resource_arn.map_or_else(|| format!("{}:{}", row.event_source, row.event_name), str::to_string),
        "Partition": partition(resource_arn),
        "Region": row.aws_region.as_deref().unwrap_or(region),
    });
    if let Some(p) = row.resource_product.as_deref() {
        resource["Tags"] = json!({"product": p});
    }
    let mut record = json!({
        "SchemaVersion": ASFF_VERSION,
        "Id": format!("tagtrail/{}", row.finding_id()),
        "ProductArn": format!(
            "arn:{}:securityhub:{region}:{account}:product/{account}/default",
            crate::arn::partition_of(region)
        ),
        "GeneratorId": format!("tagtrail/{}", row.kind.as_str()),
        "AwsAccountId": row.account_id.as_deref().unwrap_or(account),
        "Types": ["Unusual Behaviors/User"],
        "FirstObservedAt": &time,
        "LastObservedAt": &time,
        "CreatedAt": &time,
        "UpdatedAt": &time,
        "Severity": {"Label": severity.to_ascii_uppercase()},
        "Title": truncate(&title(row), 256),
        "Description": truncate(row.kind.description(), 1024),
        "ProductName": "tagtrail",
        "CompanyName": "tagtrail",
        "Resources": [resource],
        "ProductFields": fields,
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
        "Action": {
            "ActionType": "AWS_API_CALL",
            "AwsApiCallAction": {
                "Api": &*row.event_name,
                "ServiceName": &*row.event_source,
                "CallerType": "remoteIp",
                "FirstSeen": &time,
                "LastSeen": &time,
            },
        },
    });
    strip_nulls(&mut record);
    record
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// Removes `null` members, which both formats treat as absent.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
