//! `rules new`: a rule file to start from, for one API call, with a test case from a real
//! record. The scaffold passes `rules check`; its case fails `rules test` until the author
//! writes the extractor and the expected ARNs.

use serde_json::{json, Map, Value};

/// The record fields a case keeps; the rest is noise in a rule file.
const KEPT: &[&str] = &[
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "errorCode",
    "requestParameters",
    "responseElements",
    "resources",
];

/// `StartInstances` → `start-instances`; any other character than a letter or digit becomes
/// one `-` (`items[*]` → `items`).
pub(super) fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 && !name[..i].ends_with(|p: char| p.is_ascii_uppercase())
        {
            out.push('-');
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Trims a record to the fields a case needs.
pub fn trim_record(record: &Value) -> Value {
    let mut kept = Map::new();
    for key in KEPT {
        if let Some(v) = record.get(*key) {
            kept.insert(key.to_string(), v.clone());
        }
    }
    if let Some(identity) = record.get("userIdentity") {
        let mut id = Map::new();
        for key in ["type", "arn", "accountId"] {
            if let Some(v) = identity.get(key) {
                id.insert(key.to_string(), v.clone());
            }
        }
        kept.insert("userIdentity".into(), Value::Object(id));
    }
    Value::Object(kept)
}

/// The first scalar field of `requestParameters`, as a path to start from.
fn first_path(record: &Value) -> String {
    record
        .get("requestParameters")
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(_, v)| v.is_string())
                .map(|(k, _)| k.clone())
        })
        .map_or_else(
            || "requestParameters.CHANGEME".into(),
            |k| format!("requestParameters.{k}"),
        )
}

/// The text of a new rule file for `event_source` / `event_name`, its case taken from `record`.
pub fn rule_file(
    event_source: &str,
    event_name: &str,
    record: Option<&Value>,
    from: &str,
) -> String {
    let prefix = event_source.split('.').next().unwrap_or(event_source);
    let id = format!("{prefix}-{}", kebab(event_name));
    let record = record.map(trim_record).unwrap_or_else(|| {
        json!({"eventSource": event_source, "eventName": event_name, "awsRegion": "us-east-1",
               "recipientAccountId": "111122223333", "requestParameters": {}})
    });
    let path = first_path(&record);
    let event = serde_json::to_string(&record).expect("JSON values serialise");
    format!(
        r#"# {event_source} {event_name}: scaffolded by `tagtrail rules new`.
# Write the extractor (see rules/README.md), put the ARNs the record names in `expect`, and run
# `tagtrail rules test`. Check the ARN format in the Service Authorization Reference.
source = "{event_source}"

[[rule]]
id = "{id}"
description = "CHANGEME: what the calls touch and where the record names it."
events = ["{event_name}"]

  [[rule.extract]]
  path = "{path}"
  arn = "arn:{{partition}}:{prefix}:{{region}}:{{account}}:CHANGEME/{{value}}"

  [[rule.test]]
  name = "{event_name} ({from})"
  event = '''{event}'''
  expect = []
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::RuleSet;

    #[test]
    fn a_scaffold_passes_check() {
        let record = json!({"eventSource": "guardduty.amazonaws.com", "eventName": "GetDetector", "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333", "requestParameters": {"detectorId": "12abc"}, "sourceIPAddress": "x",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a", "accountId": "111122223333", "accessKeyId": "AKIA"}});
        let text = rule_file(
            "guardduty.amazonaws.com",
            "GetDetector",
            Some(&record),
            "a record",
        );
        assert!(text.contains("id = \"guardduty-get-detector\""), "{text}");
        assert!(
            text.contains("path = \"requestParameters.detectorId\""),
            "{text}"
        );
        assert!(
            !text.contains("sourceIPAddress") && !text.contains("AKIA"),
            "trimmed: {text}"
        );
        RuleSet::from_files(&[("new.toml".into(), text)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kebab("DescribeDBInstances"), "describe-dbinstances");
        assert_eq!(kebab("GetObject"), "get-object");
    }
}
