//! `rules new`: a rule file to start from, for one API call, with a test case from a real
//! record. The scaffold passes `rules check`; its case fails `rules test` until the author
//! writes the extractor and the expected ARNs.

use serde_json::{json, Map, Value};

use crate::ruleset::raw::{RawExtractor, RawRule, RawRuleFile, RawTest};

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

/// Format variables too generic to say what a member holds.
const GENERIC_VARS: &[&str] = &["resourceid", "resourcename", "resource", "id", "name"];

/// A proposed extractor, and what the value names (for the reader).
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    extract: RawExtractor,
    names: String,
}

/// The generator's heuristics on one record: values that are whole ARNs of the call's own
/// service, then members named as the variable of an ARN format of that service
/// (`functionName` for `function:${FunctionName}`). The request first; the response too unless
/// the call only reads. Paths in the order the record holds them.
fn candidates(record: &Value, event_source: &str, event_name: &str) -> Vec<Candidate> {
    let service = crate::arn::service_of(event_source);
    let mut sections = vec!["requestParameters"];
    if !crate::resolve::only_reads(event_name) {
        sections.push("responseElements");
    }
    let mut values = Vec::new();
    for section in sections {
        if let Some(v) = record.get(section) {
            scalars(v, section.to_string(), "", &mut values);
        }
    }
    let mut by_arn = Vec::new();
    let mut by_name = Vec::new();
    for (path, key, value) in values {
        if crate::arn::Arn::parse(&value).is_some_and(|a| a.service == service) {
            by_arn.push(Candidate {
                extract: RawExtractor {
                    path,
                    arn_of: Some(service.to_string()),
                    ..RawExtractor::default()
                },
                names: format!("an ARN of {service}: {value}"),
            });
            continue;
        }
        if GENERIC_VARS.contains(&normalised(&key).as_str()) {
            continue;
        }
        if let Some(format) = crate::sar::format_named(service, &key) {
            by_name.push(Candidate {
                extract: RawExtractor {
                    path,
                    arn: Some(format.template()),
                    ..RawExtractor::default()
                },
                names: format!("a {} by {value}", format.resource_type),
            });
        }
    }
    by_arn.extend(by_name);
    by_arn.dedup_by(|a, b| a.extract.path == b.extract.path);
    by_arn
}

/// (path, member name, value) of every string of a record section, arrays walked with `[*]`.
fn scalars(value: &Value, path: String, key: &str, out: &mut Vec<(String, String, String)>) {
    match value {
        Value::String(s) if !s.trim().is_empty() => out.push((path, key.to_string(), s.clone())),
        Value::Array(items) => {
            if items.iter().any(Value::is_string) {
                if let Some(first) = items.iter().find_map(Value::as_str) {
                    out.push((path.clone(), key.to_string(), first.to_string()));
                }
            } else {
                for item in items.iter().take(1) {
                    scalars(item, format!("{path}[*]"), key, out);
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                if k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    scalars(v, format!("{path}.{k}"), k, out);
                }
            }
        }
        _ => {}
    }
}

fn normalised(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The text of a new rule file for `event_source` / `event_name`, its case taken from `record`:
/// the first candidate extractor, the others commented out at the end; without one, the
/// first string of the request and a template to edit.
pub fn rule_file(
    event_source: &str,
    event_name: &str,
    record: Option<&Value>,
    from: &str,
) -> String {
    let prefix = event_source.split('.').next().unwrap_or(event_source);
    let record = record.map(trim_record).unwrap_or_else(|| {
        json!({"eventSource": event_source, "eventName": event_name, "awsRegion": "us-east-1",
               "recipientAccountId": "111122223333", "requestParameters": {}})
    });
    let found = candidates(&record, event_source, event_name);
    let first = found.first().map_or_else(
        || {
            let member = record
                .get("requestParameters")
                .and_then(Value::as_object)
                .and_then(|m| {
                    m.iter()
                        .find(|(_, v)| v.is_string())
                        .map(|(k, _)| k.clone())
                })
                .unwrap_or_else(|| "CHANGEME".into());
            RawExtractor {
                path: format!("requestParameters.{member}"),
                arn: Some(format!(
                    "arn:{{partition}}:{prefix}:{{region}}:{{account}}:CHANGEME/{{value}}"
                )),
                ..RawExtractor::default()
            }
        },
        |c| c.extract.clone(),
    );
    let mut header = vec![
        format!("{event_source} {event_name}: scaffolded by `tagtrail rules new`."),
        "Check the extractor (see rules/README.md; proposals come from the record and the Service"
            .into(),
        "Authorization Reference's ARN formats), put the ARNs the record names in `expect`, and run"
            .into(),
        "`tagtrail rules test`.".into(),
    ];
    if let Some(c) = found.first() {
        header.push(format!("The extractor reads {}.", c.names));
    }
    let file = RawRuleFile {
        header,
        source: Some(event_source.to_string()),
        rule: vec![RawRule {
            id: format!("{prefix}-{}", kebab(event_name)),
            description: Some(
                "CHANGEME: what the calls touch and where the record names it.".into(),
            ),
            events: vec![event_name.to_string()],
            extract: vec![first],
            test: vec![RawTest {
                name: Some(format!("{event_name} ({from})")),
                event: serde_json::to_string(&record).expect("JSON values serialise"),
                ..RawTest::default()
            }],
            ..RawRule::default()
        }],
    };
    let mut text = file.to_toml();
    for c in found.iter().skip(1) {
        text.push_str(&format!("\n# Another candidate: {}.\n", c.names));
        for line in c.extract.to_toml().lines() {
            text.push_str(&format!("# {line}\n"));
        }
    }
    text
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
            text.contains("path = \"requestParameters.detectorId\"")
                && text.contains(
                    "arn = \"arn:{partition}:guardduty:{region}:{account}:detector/{value}\""
                ),
            "the detector's ARN format, from the member's name: {text}"
        );
        let set = RuleSet::from_files(&[("new.toml".into(), text.clone())])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.rules()[0].source, "guardduty.amazonaws.com");
        assert!(
            !text.contains("sourceIPAddress") && !text.contains("AKIA"),
            "trimmed: {text}"
        );
        RuleSet::from_files(&[("new.toml".into(), text)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kebab("DescribeDBInstances"), "describe-dbinstances");
    }

    #[test]
    fn whole_arns_of_the_service_come_first_and_read_calls_ignore_their_response() {
        let record = json!({"eventSource": "lambda.amazonaws.com", "eventName": "CreateEventSourceMapping",
            "requestParameters": {"functionName": "f", "eventSourceArn": "arn:aws:sqs:us-east-1:1:q",
                "layers": ["arn:aws:lambda:us-east-1:111122223333:layer:l:1"]},
            "responseElements": {"uUID": "u-1", "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:f"}});
        let found = candidates(&record, "lambda.amazonaws.com", "CreateEventSourceMapping");
        let paths: Vec<&str> = found.iter().map(|c| c.extract.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "requestParameters.layers",
                "responseElements.functionArn",
                "requestParameters.functionName",
                "responseElements.uUID"
            ]
        );
        assert_eq!(found[0].extract.arn_of.as_deref(), Some("lambda"));
        // `uUID` is the variable of `event-source-mapping:${UUID}`.
        assert!(found[3]
            .extract
            .arn
            .as_deref()
            .is_some_and(|a| a.contains(":event-source-mapping:{value}")));
        let read = candidates(&record, "lambda.amazonaws.com", "GetEventSourceMapping");
        assert!(read
            .iter()
            .all(|c| c.extract.path.starts_with("requestParameters")));
        let text = rule_file(
            "lambda.amazonaws.com",
            "CreateEventSourceMapping",
            Some(&record),
            "r",
        );
        assert!(text.contains("# Another candidate"), "{text}");
        assert!(
            text.contains("# [[rule.extract]]\n# path = \"requestParameters.functionName\""),
            "{text}"
        );
        RuleSet::from_files(&[("new.toml".into(), text)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kebab("GetObject"), "get-object");
    }
}
