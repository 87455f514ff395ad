//! `rules generate`: the second half of the rule generator. `scripts/generate_rules.py`
//! proposes extractors per API call from public API data (the iam-dataset, the Service
//! Authorization Reference, botocore's shapes) and hands them here as candidate rules; this
//! module runs each with the engine itself over real records and AWS's examples, and writes
//! `rules/generated.toml` through [`RawRuleFile`]:
//! - a call whose rule finds ARNs in a real record none of which the record's own
//!   `resources[]` names is dropped (the rule contradicts the record);
//! - a rule that names a resource in a real record is confirmed and carries up to two of
//!   those records as cases, cut down to what it reads; any other rule has
//!   `confidence = "low"` and carries an AWS example whose truth it finds, else a synthetic
//!   case built from its paths.
//!
//! No second engine: what a rule finds is what the resolver finds with it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::arn;
use crate::event::{decode, Event, Item};
use crate::ruleset::raw::{RawExtractor, RawRule, RawRuleFile, RawTest};
use crate::ruleset::{
    context_of, strip_api_version, EventContext, JsonPath, LazyRecord, RuleSet, Segment,
};
use crate::source::{self, SourceError, Window};

/// Real records a case may carry at most, per rule.
const REAL_CASES: usize = 2;

/// What `scripts/generate_rules.py` proposes.
#[derive(Debug, Deserialize)]
pub struct Candidates {
    /// The file's header comment lines.
    pub header: Vec<String>,
    pub rules: Vec<Candidate>,
}

/// One proposed rule: its calls and extractors, without cases.
#[derive(Debug, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub source: String,
    pub description: String,
    pub events: Vec<String>,
    pub extract: Vec<RawExtractor>,
    /// Where the shape of a synthetic case comes from (`botocore Lambda GetFunction`).
    pub shape_from: String,
}

/// A call: (eventSource, eventName without API version).
type Call = (String, String);

/// The records a rule is held against: real ones (with their own `resources[]`), and AWS's
/// examples with the ARNs they target.
#[derive(Debug, Default)]
pub struct Evidence {
    real: HashMap<Call, Vec<Value>>,
    examples: HashMap<Call, Vec<(Value, BTreeSet<String>)>>,
}

impl Evidence {
    /// Reads the real records of `corpus` (files or folders, any container) and the examples
    /// of `eval` (`examples.jsonl.gz` and `truth.json`, as scripts/build_eval.py writes them).
    pub fn load(corpus: &[std::path::PathBuf], eval: &Path) -> Result<Self, SourceError> {
        let mut out = Evidence::default();
        for record in records(corpus)? {
            if let Some(key) = call_of(&record) {
                out.real.entry(key).or_default().push(record);
            }
        }
        let truth_path = eval.join("truth.json");
        let truth: BTreeMap<String, BTreeSet<String>> = std::fs::read_to_string(&truth_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        for record in records(&[eval.join("examples.jsonl.gz")])? {
            let id = record["eventID"].as_str().unwrap_or_default();
            let arns = truth.get(id).cloned().unwrap_or_default();
            if let Some(key) = call_of(&record) {
                out.examples.entry(key).or_default().push((record, arns));
            }
        }
        Ok(out)
    }
}

/// (eventSource, eventName without API version) of a record.
fn call_of(record: &Value) -> Option<Call> {
    let source = record["eventSource"].as_str()?;
    let name = record["eventName"].as_str()?;
    Some((source.to_string(), strip_api_version(name).to_string()))
}

/// Every record of `paths` as JSON values, in input order.
fn records(paths: &[std::path::PathBuf]) -> Result<Vec<Value>, SourceError> {
    let mut out = Vec::new();
    for pending in source::discover(paths, &Window::default())? {
        let Ok(input) = pending.load(Vec::new(), source::DEFAULT_MAX_FILE_BYTES) else {
            continue;
        };
        for item in decode(&input.bytes, input.damage.as_deref()) {
            if let Item::Record(r) = item {
                out.extend(serde_json::from_str::<Value>(&r.json).ok());
            }
        }
    }
    Ok(out)
}

/// The pack written, and counts of what happened.
#[derive(Debug, Default)]
pub struct Generated {
    pub file: RawRuleFile,
    pub counts: BTreeMap<&'static str, usize>,
}

/// Holds every candidate against the evidence and writes the pack.
pub fn generate(candidates: Candidates, evidence: &Evidence) -> Generated {
    let mut out = Generated::default();
    out.file.header = candidates.header;
    for candidate in candidates.rules {
        if let Some(rule) = hold(candidate, evidence, &mut out.counts) {
            out.file.rule.push(rule);
        }
    }
    out.file
        .rule
        .sort_by(|a, b| (&a.source, &a.id).cmp(&(&b.source, &b.id)));
    out
}

/// One rule, alone, as a set the resolver runs.
fn compile(rule: &RawRule, case: &Value) -> Option<RuleSet> {
    let mut probe = rule.clone();
    probe.test = vec![RawTest {
        name: None,
        event: case.to_string(),
        inventory: Vec::new(),
        expect: Vec::new(),
    }];
    let file = RawRuleFile {
        rule: vec![probe],
        ..RawRuleFile::default()
    };
    RuleSet::from_files(&[("generated.toml".into(), file.to_toml())]).ok()
}

/// What the one rule of `rules` finds in `record`, as its cases run it (the rule alone:
/// not `resources[]`, not what the resolver adds beside it).
fn finds(rules: &RuleSet, record: &Value) -> Vec<String> {
    let json = record.to_string();
    let Ok(event) = Event::parse(&json) else {
        return Vec::new();
    };
    let Some(rule) = rules.rule_for(&event.event_source, &event.event_name) else {
        return Vec::new();
    };
    let (partition, region, account) = context_of(&event);
    let context = EventContext {
        partition,
        region,
        account,
    };
    rule.extract(&LazyRecord::new(&event, &json), context, None)
        .into_iter()
        .map(|e| e.arn)
        .collect()
}

fn hold(
    candidate: Candidate,
    evidence: &Evidence,
    counts: &mut BTreeMap<&'static str, usize>,
) -> Option<RawRule> {
    let mut rule = RawRule {
        id: candidate.id,
        source: Some(candidate.source.clone()),
        description: Some(candidate.description),
        events: candidate.events.clone(),
        generated: true,
        extract: candidate.extract,
        ..RawRule::default()
    };
    let synthetic = synthetic(&candidate.source, &candidate.events[0], &rule.extract);
    let set = compile(&rule, &synthetic)?;
    let (mut events, mut real, mut example) = (Vec::new(), Vec::new(), None);
    for event in &candidate.events {
        let key = (candidate.source.clone(), event.clone());
        let mut confirmed = Vec::new();
        let contradicted = evidence.real.get(&key).into_iter().flatten().any(|record| {
            let found = finds(&set, record);
            let named: BTreeSet<String> = record["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["ARN"].as_str().or(r["arn"].as_str()))
                .filter_map(arn::normalize)
                .collect();
            let contradicts =
                !found.is_empty() && !named.is_empty() && !found.iter().any(|f| named.contains(f));
            if !found.is_empty() {
                confirmed.push(record);
            }
            contradicts
        });
        if contradicted {
            *counts
                .entry("calls dropped: a real record's resources[] contradicts the rule")
                .or_default() += 1;
            continue;
        }
        events.push(event.clone());
        for record in confirmed {
            if real.len() < REAL_CASES {
                real.push(case(
                    &set,
                    record,
                    &rule.extract,
                    "real record, tests/corpus",
                ));
            }
        }
        if example.is_none() {
            example = evidence
                .examples
                .get(&key)
                .into_iter()
                .flatten()
                .find(|(record, truth)| {
                    let found: BTreeSet<String> = finds(&set, record).into_iter().collect();
                    !found.is_empty() && &found == truth
                })
                .map(|(record, _)| {
                    case(
                        &set,
                        record,
                        &rule.extract,
                        "AWS example, tests/eval; expect = its truth",
                    )
                });
        }
    }
    if events.is_empty() {
        return None;
    }
    rule.events = events;
    let (kind, cases) = if !real.is_empty() {
        ("rules confirmed by real records", real)
    } else if let Some(example) = example {
        rule.confidence = Some("low".into());
        ("rules with an AWS example case", vec![example])
    } else {
        rule.confidence = Some("low".into());
        let name = format!("synthetic: request shape from {}", candidate.shape_from);
        let expect = finds(&set, &synthetic);
        let case = RawTest {
            name: Some(name),
            event: compact(&synthetic),
            inventory: Vec::new(),
            expect,
        };
        ("rules with a synthetic case", vec![case])
    };
    *counts.entry(kind).or_default() += 1;
    rule.test = cases;
    Some(rule)
}

/// A case from `record`: the record cut down to what the rule reads (the fields that place
/// it, and the values at its paths), unless that changes what the rule finds; its
/// expectation is what the rule finds there.
fn case(rules: &RuleSet, record: &Value, extract: &[RawExtractor], origin: &str) -> RawTest {
    let whole = finds(rules, record);
    let cut = trimmed(record, extract);
    let event = if finds(rules, &cut) == whole {
        cut
    } else {
        crate::authoring::scaffold::trim_record(record)
    };
    let label = record["eventID"]
        .as_str()
        .filter(|id| id.contains(':'))
        .map_or_else(
            || record["eventName"].as_str().unwrap_or_default().to_string(),
            str::to_string,
        );
    RawTest {
        name: Some(format!("{label} ({origin})")),
        expect: finds(rules, &event),
        event: compact(&event),
        inventory: Vec::new(),
    }
}

/// JSON text with sorted keys (serde_json's maps are sorted), as cases are written.
fn compact(record: &Value) -> String {
    record.to_string()
}

/// The fields a cut-down case keeps besides the rule's paths.
const PLACING: &[&str] = &[
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "resources",
];

/// The record with the fields that place it and what the rule's paths (with `vars` and
/// `unless`) select, keys and values as they were.
fn trimmed(record: &Value, extract: &[RawExtractor]) -> Value {
    let mut out = Map::new();
    for key in PLACING {
        if let Some(v) = record.get(*key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    let mut out = Value::Object(out);
    for x in extract {
        let paths = std::iter::once(&x.path)
            .chain(x.vars.values())
            .chain(&x.unless)
            .chain(x.when.keys());
        for path in paths {
            if let Ok(path) = JsonPath::parse(path) {
                copy(record, &mut out, path.segments());
            }
        }
    }
    out
}

/// The key of `object` a path step reads, as the engine does: the exact key, else the last
/// one that differs only in case.
fn key_in<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v String> {
    object
        .get_key_value(key)
        .map(|(k, _)| k)
        .or_else(|| object.keys().rev().find(|k| k.eq_ignore_ascii_case(key)))
}

/// Copies what `segments` select in `src` into `dst`, with the keys and elements on the way.
fn copy(src: &Value, dst: &mut Value, segments: &[Segment]) {
    let Some((segment, rest)) = segments.split_first() else {
        *dst = src.clone();
        return;
    };
    match (segment, src) {
        (Segment::Key(key), Value::Object(map)) => {
            let Some(found) = key_in(map, key) else {
                return;
            };
            let Value::Object(into) = ensure(dst, || json!({})) else {
                return;
            };
            let slot = into.entry(found.clone()).or_insert(Value::Null);
            copy(&map[found], slot, rest);
        }
        (Segment::All | Segment::Index(_) | Segment::Filter(..), Value::Array(items)) => {
            let Value::Array(into) = ensure(dst, || Value::Array(vec![Value::Null; items.len()]))
            else {
                return;
            };
            for (i, item) in items.iter().enumerate() {
                let wanted = match segment {
                    Segment::Index(n) => *n == i,
                    Segment::Filter(key, value) => {
                        item.get(key).and_then(Value::as_str) == Some(value)
                    }
                    _ => true,
                };
                if wanted {
                    if let Segment::Filter(key, value) = segment {
                        if into[i].is_null() {
                            into[i] = json!({ key.clone(): value });
                        }
                    }
                    copy(item, &mut into[i], rest);
                }
            }
            // Elements no step reached stay as empty objects, so positions hold.
            for slot in into.iter_mut().filter(|s| s.is_null()) {
                *slot = json!({});
            }
        }
        (Segment::All, Value::Object(map)) => {
            let Value::Object(into) = ensure(dst, || json!({})) else {
                return;
            };
            for (k, v) in map {
                let slot = into.entry(k.clone()).or_insert(Value::Null);
                copy(v, slot, rest);
                if slot.is_null() {
                    into.remove(k);
                }
            }
        }
        _ => {}
    }
}

/// `dst` as the container `make` builds, when it is not one yet.
fn ensure(dst: &mut Value, make: impl Fn() -> Value) -> &mut Value {
    let fits = matches!(
        (&*dst, make()),
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
    );
    if !fits {
        *dst = make();
    }
    dst
}

/// A record of the call holding an example value at every path the last extractor reads.
fn synthetic(source: &str, event: &str, extract: &[RawExtractor]) -> Value {
    let mut record = json!({
        "eventSource": source, "eventName": event, "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333",
    });
    let Some(x) = extract.last() else {
        return record;
    };
    let value = match &x.arn_of {
        Some(service) => format!("arn:aws:{service}:us-east-1:111122223333:example"),
        None => "example-1".to_string(),
    };
    put(&mut record, &x.path, Value::String(value));
    for (name, path) in &x.vars {
        put(&mut record, path, Value::String(format!("example-{name}")));
    }
    record
}

/// Writes `value` at `path` (keys and `[*]` steps), making the objects and one-element
/// arrays on the way.
fn put(record: &mut Value, path: &str, value: Value) {
    let Ok(path) = JsonPath::parse(path) else {
        return;
    };
    let mut node = record;
    let segments = path.segments();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match segment {
            Segment::Key(key) => {
                let Value::Object(map) = ensure(node, || json!({})) else {
                    return;
                };
                if last {
                    map.insert(key.clone(), value);
                    return;
                }
                node = map.entry(key.clone()).or_insert(Value::Null);
            }
            Segment::All | Segment::Index(_) | Segment::Filter(..) => {
                if last {
                    *node = Value::Array(vec![value]);
                    return;
                }
                let Value::Array(items) = ensure(node, || Value::Array(vec![json!({})])) else {
                    return;
                };
                node = &mut items[0];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extractor(path: &str, arn: &str) -> RawExtractor {
        RawExtractor {
            path: path.into(),
            arn: Some(arn.into()),
            ..RawExtractor::default()
        }
    }

    #[test]
    fn cases_keep_what_the_rule_reads_and_synthetic_ones_hold_its_paths() {
        let extract = vec![extractor(
            "requestParameters.items[*].name",
            "arn:{partition}:x:{region}:{account}:thing/{value}",
        )];
        let record = json!({"eventSource": "x.amazonaws.com", "eventName": "Get", "eventTime": "t",
            "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
            "requestParameters": {"Items": [{"name": "a", "other": 1}, {"size": 2}], "noise": "n"}});
        assert_eq!(
            trimmed(&record, &extract),
            json!({"eventSource": "x.amazonaws.com", "eventName": "Get", "awsRegion": "us-east-1",
                "recipientAccountId": "111122223333", "requestParameters": {"Items": [{"name": "a"}, {}]}})
        );
        let made = synthetic("x.amazonaws.com", "Get", &extract);
        assert_eq!(
            made["requestParameters"]["items"],
            json!([{"name": "example-1"}])
        );
    }

    #[test]
    fn a_call_whose_rule_contradicts_a_real_record_is_dropped() {
        let candidate = || Candidate {
            id: "gen-x-thing".into(),
            source: "x.amazonaws.com".into(),
            description: "Calls on a thing.".into(),
            events: vec!["Get".into(), "Put".into()],
            extract: vec![extractor(
                "requestParameters.name",
                "arn:{partition}:x:{region}:{account}:thing/{value}",
            )],
            shape_from: "a test".into(),
        };
        let record = |event: &str, named: &str| {
            json!({"eventSource": "x.amazonaws.com", "eventName": event, "awsRegion": "us-east-1",
                "recipientAccountId": "111122223333", "requestParameters": {"name": "a"},
                "resources": [{"ARN": named}]})
        };
        let mut evidence = Evidence::default();
        let key = |e: &str| ("x.amazonaws.com".to_string(), e.to_string());
        evidence.real.insert(
            key("Get"),
            vec![record("Get", "arn:aws:x:us-east-1:111122223333:thing/a")],
        );
        evidence.real.insert(
            key("Put"),
            vec![record("Put", "arn:aws:x:us-east-1:111122223333:thing/b")],
        );
        let mut counts = BTreeMap::new();
        let rule = hold(candidate(), &evidence, &mut counts).unwrap();
        assert_eq!(rule.events, ["Get"]);
        assert_eq!(rule.confidence, None);
        assert_eq!(
            rule.test[0].expect,
            ["arn:aws:x:us-east-1:111122223333:thing/a"]
        );
        let rule = hold(candidate(), &Evidence::default(), &mut counts).unwrap();
        assert_eq!(rule.confidence.as_deref(), Some("low"));
        assert_eq!(
            rule.test[0].expect,
            ["arn:aws:x:us-east-1:111122223333:thing/example-1"]
        );
    }
}
