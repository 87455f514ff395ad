//! `rules learn`: rules proposed from a team's own trail and inventory.
//!
//! For each call no rule covers, a value of its request or response that names a resource of
//! the call's own service in the inventory (its whole ARN, or the last segment of its ARN, in
//! the record's account) shows the path a rule would read. Paths are grouped per (source,
//! path, ARN template) over all records; a proposal is kept when it matches in enough records
//! and never disagrees with a record's own `resources[]`. Only the call's own service counts,
//! so a passed role (IAM) or a key used for encryption (KMS) is never taken for the target;
//! a value that names the caller, or that matches two resources, is left out.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::arn::{self, Arn};
use crate::event::Event;
use crate::inventory::Inventory;
use crate::pipeline::{self, Inputs, Plan};
use crate::resolve::{ResolvedEvent, Resolver, Sources, Unresolved};
use crate::ruleset::{LazyRecord, Node, Record, RuleSet};
use crate::source::{SourceError, Window};
use crate::tally::Tally;

use super::scaffold::{kebab, trim_record};

/// Values of one record walked at most: a bound on a huge response.
const MAX_VALUES: usize = 2_000;

/// Cases kept per proposal.
const CASES: usize = 2;

/// One proposed rule: a path that names resources of the call's service.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub source: String,
    pub events: BTreeSet<String>,
    /// Calls left out of the proposal: their records contradicted it.
    pub contradicting_events: BTreeSet<String>,
    pub path: String,
    pub template: String,
    /// Removed from the value before the template is filled.
    pub strip_prefix: Option<String>,
    /// Records where the path named an inventory resource.
    pub records: usize,
    /// Records whose `resources[]` names other ARNs than the match.
    pub contradicted: usize,
    pub example_value: String,
    pub example_arn: String,
    /// Trimmed records and the ARNs the rule must find in them.
    pub cases: Vec<(Value, Vec<String>)>,
}

/// A value that named several resources: reported, not guessed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ambiguous {
    pub call: String,
    pub path: String,
    pub value: String,
    pub arns: Vec<String>,
}

/// What `learn` found.
#[derive(Debug, Default)]
pub struct Learned {
    /// Kept: enough records, no contradiction.
    pub proposals: Vec<Proposal>,
    /// Left out, with their counts: too few records, or contradicted.
    pub left_out: Vec<Proposal>,
    pub ambiguous: Vec<Ambiguous>,
    /// Calls no rule covers and no value names, by record count.
    pub unmatched: BTreeMap<String, usize>,
    pub tally: Tally,
}

/// The resources of the inventory by (service, a name the ARN ends with: its last segment, its
/// resource after the type, or its whole resource), each with that name.
struct Segments(foldhash::HashMap<(String, String), Vec<String>>);

/// The names a resource may be called by in a request: the last segment (`i-1`), the part
/// after the type (`/app/db-url` of `parameter/app/db-url`), the whole resource
/// (`alias/aws/s3`).
fn names_of(resource: &str) -> Vec<&str> {
    let mut names = vec![last_segment(resource), resource];
    if let Some(at) = resource.find(['/', ':']) {
        if resource[..at]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        {
            names.push(&resource[at + 1..]);
        }
    }
    names.sort();
    names.dedup();
    names
}

fn last_segment(resource: &str) -> &str {
    resource.rsplit(['/', ':']).next().unwrap_or(resource)
}

impl Segments {
    fn new(inventory: &Inventory) -> Self {
        let mut by = foldhash::HashMap::<(String, String), Vec<String>>::default();
        for text in inventory.arns() {
            if let Some(parsed) = Arn::parse(text) {
                for name in names_of(parsed.resource) {
                    let key = (parsed.service.to_string(), name.to_string());
                    by.entry(key).or_default().push(text.to_string());
                }
            }
        }
        Segments(by)
    }
}

/// A match of one value: the ARN, and the template that rebuilds it from the value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Match {
    arn: String,
    template: String,
    /// Removed from the value first (SSM's leading `/`).
    strip_prefix: Option<&'static str>,
}

/// The template that builds `arn` from `name` (the end of its resource), with the record's
/// region and account as variables; `None` where the ARN is in another account.
fn template_of(arn: &Arn, name: &str, region: &str, account: &str) -> Option<String> {
    let account_part = match arn.account {
        "" => "",
        a if a == account => "{account}",
        _ => return None,
    };
    let region_part = match arn.region {
        "" => "",
        r if r == region => "{region}",
        r => r,
    };
    // IAM names are unique whatever their path: the rule names the type only and completes
    // the path against the inventory (`complete = "path"`).
    if let Some(kind) = iam_pathed_type(arn) {
        if name == last_segment(arn.resource) {
            return Some(format!(
                "arn:{{partition}}:iam::{account_part}:{kind}/{{value}}"
            ));
        }
    }
    let prefix = arn.resource.strip_suffix(name)?;
    // The part before the value must be the resource type (`function:`, `table/`,
    // `loadbalancer/app/`), never a name: a template holding one bucket's or one load
    // balancer's name would only ever match that one.
    let typed = prefix.is_empty()
        || (arn.service != "s3"
            && prefix.split_inclusive(['/', ':']).count() <= 2
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || matches!(c, '-' | '/' | ':')));
    if !typed {
        return None;
    }
    Some(format!(
        "arn:{{partition}}:{}:{region_part}:{account_part}:{prefix}{{value}}",
        arn.service
    ))
}

/// IAM resource types whose ARN holds a path before the name.
const IAM_PATHED: &[&str] = &["user", "role", "group", "policy", "instance-profile"];

/// The type of an IAM ARN that may hold a path (`role` of `role/service/app`).
fn iam_pathed_type(arn: &Arn) -> Option<&'static str> {
    let (kind, _) = arn.resource.split_once('/')?;
    (arn.service == "iam").then_some(())?;
    IAM_PATHED.iter().copied().find(|k| *k == kind)
}

/// Whether a template names an IAM type whose path the inventory completes.
fn completes_path(template: &str) -> bool {
    template.starts_with("arn:{partition}:iam::")
        && IAM_PATHED
            .iter()
            .any(|k| template.ends_with(&format!(":{k}/{{value}}")))
}

/// Every string leaf of `node` with its path (`[*]` for array elements).
fn leaves<'n>(node: &'n Node, path: &mut String, out: &mut Vec<(String, &'n str)>) {
    if out.len() >= MAX_VALUES {
        return;
    }
    match node {
        Node::String(s) => out.push((path.clone(), s)),
        Node::Array(items) => {
            for item in items {
                let len = path.len();
                match selector(item) {
                    // `[name=instance-id]`: the element says what its values are, so a rule
                    // reads only elements of that kind (EC2 filters, tag lists).
                    Some((field, value)) => path.push_str(&format!("[{field}={value}]")),
                    None => path.push_str("[*]"),
                }
                leaves(item, path, out);
                path.truncate(len);
            }
        }
        Node::Object(entries) => {
            for (key, value) in entries {
                let len = path.len();
                if key.contains(['.', '[', ']', ' ', '"']) || key.is_empty() {
                    if key.contains('"') {
                        continue;
                    }
                    path.push_str(&format!(".\"{key}\""));
                } else {
                    path.push('.');
                    path.push_str(key);
                }
                leaves(value, path, out);
                path.truncate(len);
            }
        }
        Node::Number(_) | Node::Other => {}
    }
}

/// The field of an array element that names what kind of element it is (`name`, `key`), and
/// its value, where a path filter can hold it.
fn selector<'n>(item: &'n Node) -> Option<(&'static str, &'n str)> {
    ["name", "Name", "key", "Key"]
        .into_iter()
        .find_map(|field| {
            let value = item.get(field)?.as_str()?;
            let plain = !value.is_empty() && !value.contains([']', '=', '[', '"']);
            plain.then_some((field, value))
        })
}

/// What one record shows: (path, match) pairs, ambiguous values, and its own ARNs.
struct Seen {
    call: (String, String),
    matches: Vec<(String, String, Match)>,
    ambiguous: Vec<Ambiguous>,
    resources: Vec<String>,
    trimmed: Option<Value>,
}

fn observe(
    event: &Event,
    json: &str,
    resolved: &ResolvedEvent,
    segments: &Segments,
    inventory: &Inventory,
) -> Seen {
    let service = arn::service_of(&event.event_source).to_string();
    let region = event.region().unwrap_or("");
    let account = event.owner_account().unwrap_or("");
    let principal = &resolved.resolution.principal;
    let caller: Vec<&str> = [principal.arn.as_deref(), principal.session_name.as_deref()]
        .into_iter()
        .flatten()
        .flat_map(|a| [a, last_segment(a)])
        .collect();
    let record = LazyRecord::new(event, json);
    let mut values = Vec::new();
    for root in ["requestParameters", "responseElements"] {
        if let Some(section) = record.section(root) {
            leaves(section, &mut root.to_string(), &mut values);
        }
    }
    let mut seen = Seen {
        call: (event.event_source.to_string(), event.event_name.to_string()),
        matches: Vec::new(),
        ambiguous: Vec::new(),
        resources: event
            .resources
            .iter()
            .flatten()
            .filter_map(|r| r.arn.as_deref().and_then(arn::normalize))
            .collect(),
        trimmed: None,
    };
    for (path, value) in values {
        let value = value.trim();
        if value.len() < 3 || caller.contains(&value) {
            continue;
        }
        // The name the value gives, and what a rule strips to get it.
        let (name, strip_prefix) = match value.strip_prefix('/') {
            Some(rest) if !rest.is_empty() => (rest, Some("/")),
            _ => (value, None),
        };
        let candidates: Vec<String> = match arn::normalize(value) {
            Some(full) if inventory.exact(&full).is_some() => vec![full],
            Some(_) => continue,
            None => segments
                .0
                .get(&(service.clone(), name.to_string()))
                .cloned()
                .unwrap_or_default(),
        };
        let own: Vec<(String, Match)> = candidates
            .into_iter()
            .filter_map(|text| {
                let parsed = Arn::parse(&text)?;
                (parsed.service == service).then_some(())?;
                // A whole ARN is taken as is; a name fills the template's `{value}`.
                let named = if value.starts_with("arn:") {
                    last_segment(parsed.resource)
                } else {
                    name
                };
                let template = template_of(&parsed, named, region, account)?;
                Some((
                    value.to_string(),
                    Match {
                        arn: text.clone(),
                        template,
                        strip_prefix: strip_prefix.filter(|_| !value.starts_with("arn:")),
                    },
                ))
            })
            .collect();
        match own.as_slice() {
            [] => {}
            [(value, one)] => seen.matches.push((path, value.clone(), one.clone())),
            several => seen.ambiguous.push(Ambiguous {
                call: format!("{}:{}", seen.call.0, seen.call.1),
                path,
                value: value.to_string(),
                arns: several.iter().map(|(_, m)| m.arn.clone()).collect(),
            }),
        }
    }
    if !seen.matches.is_empty() {
        seen.trimmed = serde_json::from_str(json).ok().map(|v| trim_record(&v));
    }
    seen
}

/// Proposes rules for the calls `rules` leaves without one, from `inputs` and `inventory`.
pub fn learn(
    inputs: &Inputs,
    rules: &RuleSet,
    inventory: &Inventory,
    min_records: usize,
) -> Result<Learned, SourceError> {
    let segments = Segments::new(inventory);
    let resolver = Resolver {
        rules,
        index: Some(inventory.index()),
        sources: Sources::rules_only(),
    };
    let mut learned = Learned::default();
    let mut groups: BTreeMap<(String, String, String), Proposal> = BTreeMap::new();
    // Records per (group, call), to drop the calls whose records contradicted a group.
    let mut records_of: BTreeMap<((String, String, String), String), usize> = BTreeMap::new();
    let tally = pipeline::run_plan(
        &Plan::local(inputs.clone()),
        &Window::default(),
        &resolver,
        &pipeline::keep_all,
        |resolved, event, json| {
            matches!(resolved.resolution.unresolved, Some(Unresolved::NoRule))
                .then(|| observe(event, json, &resolved, &segments, inventory))
        },
        |seen: Option<Seen>| {
            let Some(seen) = seen else { return };
            learned.ambiguous.extend(seen.ambiguous);
            if seen.matches.is_empty() {
                *learned
                    .unmatched
                    .entry(format!("{}:{}", seen.call.0, seen.call.1))
                    .or_default() += 1;
                return;
            }
            // Per group, the ARNs this record names through it.
            let mut per_group: BTreeMap<(String, String, String), Vec<(String, String)>> =
                BTreeMap::new();
            for (path, value, m) in seen.matches {
                per_group
                    // A template starts with `arn:`: a leading `/` marks a value stripped of it.
                    .entry((
                        seen.call.0.clone(),
                        path,
                        format!("{}{}", m.strip_prefix.unwrap_or(""), m.template),
                    ))
                    .or_default()
                    .push((value, m.arn));
            }
            for (key, found) in per_group {
                let proposal = groups.entry(key.clone()).or_insert_with(|| Proposal {
                    source: key.0.clone(),
                    events: BTreeSet::new(),
                    contradicting_events: BTreeSet::new(),
                    path: key.1.clone(),
                    template: key.2.trim_start_matches('/').to_string(),
                    strip_prefix: key.2.starts_with('/').then(|| "/".to_string()),
                    records: 0,
                    contradicted: 0,
                    example_value: found[0].0.clone(),
                    example_arn: found[0].1.clone(),
                    cases: Vec::new(),
                });
                proposal.events.insert(seen.call.1.clone());
                proposal.records += 1;
                *records_of
                    .entry((key.clone(), seen.call.1.clone()))
                    .or_default() += 1;
                let arns: Vec<String> = found
                    .into_iter()
                    .map(|(_, a)| a)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if !seen.resources.is_empty() && arns.iter().any(|a| !seen.resources.contains(a)) {
                    proposal.contradicted += 1;
                    proposal.contradicting_events.insert(seen.call.1.clone());
                }
                if proposal.cases.len() < CASES {
                    if let Some(trimmed) = &seen.trimmed {
                        proposal.cases.push((trimmed.clone(), arns));
                    }
                }
            }
        },
    )?;
    learned.tally = tally;
    for (key, proposal) in groups {
        // A call whose record's own resources[] disagrees is never learned; the others are.
        let mut kept = proposal.clone();
        kept.events
            .retain(|e| !proposal.contradicting_events.contains(e));
        kept.records = kept
            .events
            .iter()
            .map(|e| records_of[&(key.clone(), e.clone())])
            .sum();
        kept.contradicted = 0;
        kept.cases.retain(|(record, _)| {
            record["eventName"]
                .as_str()
                .is_some_and(|e| kept.events.contains(e))
        });
        if kept.records >= min_records && !kept.cases.is_empty() {
            if !proposal.contradicting_events.is_empty() {
                learned.left_out.push(Proposal {
                    events: proposal.contradicting_events.clone(),
                    ..proposal
                });
            }
            learned.proposals.push(kept);
        } else {
            learned.left_out.push(proposal);
        }
    }
    learned.ambiguous.sort();
    learned.ambiguous.dedup();
    Ok(learned)
}

/// One rule of the learned file: the calls it takes and its extractors.
struct LearnedRule<'p> {
    source: &'p str,
    events: BTreeSet<&'p str>,
    proposals: Vec<&'p Proposal>,
}

/// The proposals as rules: the extractors of each call, and the calls with the same
/// extractors in one rule (two rules may not take the same call).
fn rules_of(learned: &Learned) -> Vec<LearnedRule<'_>> {
    let mut per_call: BTreeMap<(&str, &str), Vec<&Proposal>> = BTreeMap::new();
    for p in &learned.proposals {
        for event in &p.events {
            per_call.entry((&p.source, event)).or_default().push(p);
        }
    }
    type Extractors<'e> = Vec<(&'e str, &'e str, Option<&'e str>)>;
    let mut rules: BTreeMap<(&str, Extractors), LearnedRule> = BTreeMap::new();
    for ((source, event), proposals) in per_call {
        let key: Extractors = proposals
            .iter()
            .map(|p| {
                (
                    p.path.as_str(),
                    p.template.as_str(),
                    p.strip_prefix.as_deref(),
                )
            })
            .collect();
        rules
            .entry((source, key))
            .or_insert_with(|| LearnedRule {
                source,
                events: BTreeSet::new(),
                proposals,
            })
            .events
            .insert(event);
    }
    rules.into_values().collect()
}

/// The kept proposals as a rule file, `learned = true`, with cases from the records that
/// taught them: each case expects what the rule finds in its record, and is kept only where
/// that includes what the record taught.
pub fn to_toml(learned: &Learned) -> String {
    let mut out = String::from(
        "# Learned by `tagtrail rules learn` from this team's trail and inventory. Review each rule\n\
         # (paths, ARN templates, cases) before committing: `tagtrail rules test` runs the cases.\n",
    );
    let mut ids = BTreeSet::new();
    for rule in rules_of(learned) {
        let first = rule.proposals[0];
        let service = arn::service_of(rule.source);
        let leaf = first.path.rsplit('.').next().unwrap_or(&first.path);
        let base = format!("learned-{service}-{}", kebab(leaf));
        let mut id = base.clone();
        let mut n = 2;
        while !ids.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        let events: Vec<String> = rule.events.iter().map(|e| toml_string(e)).collect();
        let records: usize = rule.proposals.iter().map(|p| p.records).sum();
        let mut text = format!(
            "\n[[rule]]\nid = {}\nsource = {}\nlearned = true\ndescription = {}\nevents = [{}]\n",
            toml_string(&id),
            toml_string(rule.source),
            toml_string(&format!(
                "Learned from {records} match(es) in the trail, e.g. `{}` at {} -> {}.",
                first.example_value, first.path, first.example_arn
            )),
            events.join(", "),
        );
        for p in &rule.proposals {
            text.push_str(&format!(
                "\n  [[rule.extract]]\n  path = {}\n  arn = {}\n",
                toml_string(&p.path),
                toml_string(&p.template),
            ));
            if let Some(strip) = &p.strip_prefix {
                text.push_str(&format!("  strip_prefix = {}\n", toml_string(strip)));
            }
            if completes_path(&p.template) {
                text.push_str("  complete = \"path\"\n");
            }
        }
        let cases: Vec<&(Value, Vec<String>)> = rule
            .proposals
            .iter()
            .flat_map(|p| &p.cases)
            .take(CASES)
            .collect();
        let Some((first_case, _)) = cases.first() else {
            continue;
        };
        // A rule is read only with a case; this one is replaced by the real ones below.
        let probe = format!(
            "{text}\n  [[rule.test]]\n  name = \"probe\"\n  event = {}\n  expect = []\n",
            toml_string(&first_case.to_string())
        );
        let Ok(alone) = RuleSet::from_files(&[("learned.toml".into(), probe)]) else {
            continue;
        };
        let mut tested = false;
        for (i, (record, taught)) in cases.into_iter().enumerate() {
            let json = record.to_string();
            let Ok(event) = Event::parse(&json) else {
                continue;
            };
            // The ARNs taught, as the case's inventory: IAM paths complete against it.
            let mut index = crate::inventory::ArnIndex::default();
            taught.iter().for_each(|a| index.insert(a));
            let resolver = Resolver {
                rules: &alone,
                index: Some(&index),
                sources: Sources::rules_only(),
            };
            let found: Vec<String> = resolver
                .resolve(&event, &json, &[])
                .resources
                .into_iter()
                .map(|t| t.arn)
                .collect();
            if !taught.iter().all(|a| found.contains(a)) {
                continue;
            }
            let quoted = |arns: &[String]| -> String {
                arns.iter()
                    .map(|a| toml_string(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            text.push_str(&format!(
                "\n  [[rule.test]]\n  name = {}\n  event = {}\n",
                toml_string(&format!("learned from record {}", i + 1)),
                toml_string(&json),
            ));
            if rule.proposals.iter().any(|p| completes_path(&p.template)) {
                text.push_str(&format!("  inventory = [{}]\n", quoted(taught)));
            }
            text.push_str(&format!("  expect = [{}]\n", quoted(&found)));
            tested = true;
        }
        if tested {
            out.push_str(&text);
        }
    }
    out
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The table for a person: kept proposals, those left out and why, ambiguous values, and the
/// calls still unmatched.
pub fn to_text(learned: &Learned) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let row = |s: &mut String, p: &Proposal| {
        let _ = writeln!(
            s,
            "  {:>5} {:>5}  {}:{}  {}  `{}` -> {}",
            p.records,
            p.contradicted,
            arn::service_of(&p.source),
            p.events.iter().cloned().collect::<Vec<_>>().join(","),
            p.path,
            p.example_value,
            p.example_arn
        );
    };
    let _ = writeln!(
        s,
        "proposed rules ({}): records, contradicting, call, path, example",
        learned.proposals.len()
    );
    learned.proposals.iter().for_each(|p| row(&mut s, p));
    if !learned.left_out.is_empty() {
        let _ = writeln!(
            s,
            "\nleft out ({}): too few records or contradicted by resources[]",
            learned.left_out.len()
        );
        learned.left_out.iter().for_each(|p| row(&mut s, p));
    }
    if !learned.ambiguous.is_empty() {
        let _ = writeln!(
            s,
            "\nambiguous values ({}), not guessed",
            learned.ambiguous.len()
        );
        for a in &learned.ambiguous {
            let _ = writeln!(
                s,
                "  {}  {}  `{}` -> {}",
                a.call,
                a.path,
                a.value,
                a.arns.join(" | ")
            );
        }
    }
    if !learned.unmatched.is_empty() {
        let _ = writeln!(
            s,
            "\nstill unresolved: calls no rule covers whose records name no inventory resource"
        );
        let mut calls: Vec<(&String, &usize)> = learned.unmatched.iter().collect();
        calls.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (call, n) in calls.into_iter().take(20) {
            let _ = writeln!(s, "  {n:>5}  {call}");
        }
    }
    s
}
