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

/// ARN formats per resource type, from the Service Authorization Reference:
/// `<ARN service part>\t<resource type>\t<format>` lines (scripts/sar_targeting.py).
const ARN_FORMATS: &str = include_str!("../../data/arn-formats.txt");

/// Format variables too generic to say what a member holds.
const GENERIC_VARS: &[&str] = &["resourceid", "resourcename", "resource", "id", "name"];

/// A proposed extractor: where the value is, and how it becomes an ARN.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    path: String,
    /// The `arn = ...` or `arn_of = ...` line.
    build: String,
    /// What the value names, for the reader.
    names: String,
}

/// The generator's heuristics on one record: values that are whole ARNs of the call's own
/// service, then members named as the variable of an ARN format of that service
/// (`functionName` for `function:${FunctionName}`). The request first; the response too unless
/// the call only reads. Paths in the order the record holds them.
fn candidates(record: &Value, event_source: &str, event_name: &str) -> Vec<Candidate> {
    let service = crate::arn::service_of(event_source);
    let formats: Vec<(&str, &str)> = ARN_FORMATS
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            (f.next()? == service).then_some((f.next()?, f.next()?))
        })
        .collect();
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
                path,
                build: format!("arn_of = \"{service}\""),
                names: format!("an ARN of {service}: {value}"),
            });
            continue;
        }
        let key = normalised(&key);
        let named = formats.iter().find(|(_, format)| {
            let vars = variables(format);
            vars.len() == 1 && normalised(vars[0]) == key && !GENERIC_VARS.contains(&key.as_str())
        });
        if let Some((resource_type, format)) = named {
            by_name.push(Candidate {
                path,
                build: format!("arn = \"{}\"", template_of(format)),
                names: format!("a {resource_type} by {value}"),
            });
        }
    }
    by_arn.extend(by_name);
    by_arn.dedup_by(|a, b| a.path == b.path);
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

/// The variables of a SAR ARN format other than partition, region and account.
fn variables(format: &str) -> Vec<&str> {
    format
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(var, _)| var))
        .filter(|var| !matches!(*var, "Partition" | "Region" | "Account"))
        .collect()
}

/// A SAR format with one variable as a rule template: `{partition}`, `{region}`,
/// `{account}`, the variable as `{value}`.
fn template_of(format: &str) -> String {
    let mut out = format
        .replace("${Partition}", "{partition}")
        .replace("${Region}", "{region}")
        .replace("${Account}", "{account}");
    for var in variables(format) {
        out = out.replace(&format!("${{{var}}}"), "{value}");
    }
    out
}

fn normalised(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The extractor tables of a new rule: the first candidate, the others commented out; without
/// one, the first string of the request and a template to edit.
fn extract_tables(record: &Value, event_source: &str, event_name: &str) -> String {
    let found = candidates(record, event_source, event_name);
    let Some((first, others)) = found.split_first() else {
        let path = record
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
            );
        let prefix = event_source.split('.').next().unwrap_or(event_source);
        return format!(
            "  [[rule.extract]]\n  path = \"{path}\"\n  arn = \"arn:{{partition}}:{prefix}:{{region}}:{{account}}:CHANGEME/{{value}}\"\n"
        );
    };
    let mut out = format!(
        "  # Proposed from the record: {}.\n  [[rule.extract]]\n  path = \"{}\"\n  {}\n",
        first.names, first.path, first.build
    );
    for c in others {
        out.push_str(&format!(
            "\n  # Another candidate: {}.\n  # [[rule.extract]]\n  # path = \"{}\"\n  # {}\n",
            c.names, c.path, c.build
        ));
    }
    out
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
    let extract = extract_tables(&record, event_source, event_name);
    let event = serde_json::to_string(&record).expect("JSON values serialise");
    format!(
        r#"# {event_source} {event_name}: scaffolded by `tagtrail rules new`.
# Check the extractor (see rules/README.md; proposals come from the record and the Service
# Authorization Reference's ARN formats), put the ARNs the record names in `expect`, and run
# `tagtrail rules test`.
source = "{event_source}"

[[rule]]
id = "{id}"
description = "CHANGEME: what the calls touch and where the record names it."
events = ["{event_name}"]

{extract}
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
            text.contains("path = \"requestParameters.detectorId\"")
                && text.contains(
                    "arn = \"arn:{partition}:guardduty:{region}:{account}:detector/{value}\""
                ),
            "the detector's ARN format, from the member's name: {text}"
        );
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
        let paths: Vec<&str> = found.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "requestParameters.layers",
                "responseElements.functionArn",
                "requestParameters.functionName",
                "responseElements.uUID"
            ]
        );
        assert_eq!(found[0].build, "arn_of = \"lambda\"");
        // `uUID` is the variable of `event-source-mapping:${UUID}`.
        assert!(found[3].build.contains(":event-source-mapping:{value}"));
        let read = candidates(&record, "lambda.amazonaws.com", "GetEventSourceMapping");
        assert!(read.iter().all(|c| c.path.starts_with("requestParameters")));
        let text = rule_file(
            "lambda.amazonaws.com",
            "CreateEventSourceMapping",
            Some(&record),
            "r",
        );
        assert!(text.contains("# Another candidate"), "{text}");
        RuleSet::from_files(&[("new.toml".into(), text)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kebab("GetObject"), "get-object");
    }
}
