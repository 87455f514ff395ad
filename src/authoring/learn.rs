//! `rules learn`: rules proposed from a team's own trail and inventory.
//!
//! For each call no rule covers (or whose generated rule found nothing), a value of its request
//! or response that names a resource of the inventory (its whole ARN, or the last segment of
//! its ARN, in the record's account) shows the path a rule would read. Which resources count:
//! those of the types the Service Authorization Reference says the call acts on, of any service
//! (SSM's SendCommand acts on EC2 instances), else those of the call's own service; where a
//! value names a type the call acts on, the others of the record are secondary (the role an
//! AddRoleToInstanceProfile passes). A value inside an array element whose own id matched
//! describes that element. A value that names the caller, or two resources, is left out.
//! Paths are grouped per (source, path, ARN template) over all records; a call is kept in a
//! proposal when it matches in enough records and no record's own `resources[]` names resources
//! of the same kind but none of those matched.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::arn::{self, Arn};
use crate::event::Event;
use crate::inventory::Inventory;
use crate::pipeline::{self, Inputs, Plan};
use crate::resolve::{ResolvedEvent, Resolver, Sources, Unresolved};
use crate::ruleset::raw::{RawExtractor, RawRule, RawRuleFile, RawTest};
use crate::ruleset::{LazyRecord, Node, Record, RuleSet};
use crate::source::{SourceError, Window};
use crate::tally::Tally;

use super::scaffold::{kebab, trim_record};
use crate::sar;

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
    /// The path of the value the template's `{parent}` takes (an S3 object's bucket).
    pub parent: Option<String>,
    /// Records where the path named an inventory resource.
    pub records: usize,
    /// Records whose `resources[]` names resources of the match's kind, but not the match.
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
    /// The path of another value of the record the template's `{parent}` takes.
    parent: Option<String>,
}

/// The template that builds `arn` from `name` (the end of its resource), with the record's
/// region and account as variables; `None` where the ARN is in another account. Where the
/// resource holds a name before `name` (an S3 object's bucket, a table's name before its
/// index), another value of the record (`others`: path, value) must give it: the template
/// takes it as `{parent}`, with that value's path.
fn template_of(
    arn: &Arn,
    name: &str,
    region: &str,
    account: &str,
    others: &[(String, &str)],
) -> Option<(String, Option<String>)> {
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
            return Some((
                format!("arn:{{partition}}:iam::{account_part}:{kind}/{{value}}"),
                None,
            ));
        }
    }
    let prefix = arn.resource.strip_suffix(name)?;
    let start = format!(
        "arn:{{partition}}:{}:{region_part}:{account_part}:",
        arn.service
    );
    if is_type(arn.service, prefix) {
        return Some((format!("{start}{prefix}{{value}}"), None));
    }
    // `<type><parent><separator><value>`, the parent named by another value of the record.
    let separator = prefix.chars().last().filter(|c| matches!(c, '/' | ':'))?;
    let before = &prefix[..prefix.len() - 1];
    others.iter().find_map(|(path, other)| {
        let kind = before.strip_suffix(other)?;
        (other.len() >= 3 && *other != name && is_type(arn.service, kind)).then(|| {
            (
                format!("{start}{kind}{{parent}}{separator}{{value}}"),
                Some(path.clone()),
            )
        })
    })
}

/// Whether the part of a resource before a value is its type only (`function:`, `table/`,
/// `loadbalancer/app/`), never a name: a template holding one bucket's or one load balancer's
/// name would only ever match that one.
fn is_type(service: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || (service != "s3"
            && prefix.split_inclusive(['/', ':']).count() <= 2
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || matches!(c, '-' | '/' | ':')))
}

/// IAM resource types whose ARN holds a path before the name.
const IAM_PATHED: &[&str] = &["user", "role", "group", "policy", "instance-profile"];

/// The type of an IAM ARN that may hold a path (`role` of `role/service/app`).
fn iam_pathed_type(arn: &Arn) -> Option<&'static str> {
    let (kind, _) = arn.resource.split_once('/')?;
    (arn.service == "iam").then_some(())?;
    IAM_PATHED.iter().copied().find(|k| *k == kind)
}

/// The member of IAM's calls on a user.
const USER_NAME: &str = "requestParameters.userName";

/// What no trail teaches, because the value is the caller's own: IAM's calls on a user act on
/// the calling user when `userName` is left out (IAM API reference, e.g. GetUser, ListAccessKeys).
/// Added to every learned rule that reads `userName`, as the hand-written `iam-user` rule has it.
fn caller_user() -> RawExtractor {
    RawExtractor {
        path: "userIdentity.arn".into(),
        unless: vec![USER_NAME.into()],
        regex: Some(r"^arn:(?P<p>[^:]+):iam::(?P<a>\d{12}):user/(?P<rest>.+)$".into()),
        accept_arn: Some(false),
        arn: Some("arn:{p}:iam::{a}:user/{rest}".into()),
        ..RawExtractor::default()
    }
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
    // What the call may act on: the SAR's types for it (other services' too: SSM's SendCommand
    // acts on EC2 instances), else any type of its own service.
    let targets = sar::targets(&event.event_source, &event.event_name).unwrap_or_default();
    let mut services: Vec<&str> = targets.iter().map(|t| t.service).collect();
    services.push(&service);
    services.sort_unstable();
    services.dedup();
    let acts_on = |arn: &Arn| targets.iter().any(|t| t.matches(arn));
    let allowed = |arn: &Arn| arn.service == service || acts_on(arn);
    for (path, value) in values.iter().cloned() {
        let value = value.trim();
        if value.len() < 3 || caller.contains(&value) {
            continue;
        }
        // The resources a name stands for: in the record's account and region (a name never
        // crosses them; an ARN does), or global.
        let named = |name: &str| -> Vec<String> {
            services
                .iter()
                .filter_map(|s| segments.0.get(&(s.to_string(), name.to_string())))
                .flatten()
                .filter(|arn| {
                    Arn::parse(arn).is_some_and(|a| {
                        (a.region.is_empty() || a.region == region)
                            && (a.account.is_empty() || a.account == account)
                    })
                })
                .cloned()
                .collect()
        };
        // The name the value gives, and what a rule strips to get it: the value as it is
        // (a log group's `/aws/lambda/f`), else without its leading `/` (SSM's parameters).
        let (name, strip_prefix, mut candidates) = match arn::normalize(value) {
            Some(full) if inventory.exact(&full).is_some() => (value, None, vec![full]),
            Some(_) => continue,
            None => match (named(value), value.strip_prefix('/')) {
                (found, Some(rest)) if found.is_empty() && !rest.is_empty() => {
                    (rest, Some("/"), named(rest))
                }
                (found, _) => (value, None, found),
            },
        };
        // A resource of a type the call acts on is the target; another resource the value
        // also names (an SSM inventory entry of an instance) is not.
        if candidates
            .iter()
            .any(|c| Arn::parse(c).is_some_and(|a| acts_on(&a)))
        {
            candidates.retain(|c| Arn::parse(c).is_some_and(|a| acts_on(&a)));
        }
        let own: Vec<(String, Match)> = candidates
            .into_iter()
            .filter_map(|text| {
                let parsed = Arn::parse(&text)?;
                allowed(&parsed).then_some(())?;
                // A whole ARN is taken as is; a name fills the template's `{value}`.
                let named = if value.starts_with("arn:") {
                    last_segment(parsed.resource)
                } else {
                    name
                };
                let (template, parent) = template_of(&parsed, named, region, account, &values)?;
                Some((
                    value.to_string(),
                    Match {
                        arn: text.clone(),
                        template,
                        strip_prefix: strip_prefix.filter(|_| !value.starts_with("arn:")),
                        parent,
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
    // Values naming a type the call acts on make the others secondary: AddRoleToInstanceProfile
    // acts on the profile, its roleName is the role passed.
    let of_target = |m: &Match| Arn::parse(&m.arn).is_some_and(|a| acts_on(&a));
    if seen.matches.iter().any(|(_, _, m)| of_target(m)) {
        seen.matches.retain(|(_, _, m)| of_target(m));
    }
    // A value inside an array element whose own id was matched describes that element (the
    // network interface of an instance RunInstances returns), it is not another target.
    let elements: Vec<String> = seen
        .matches
        .iter()
        .filter_map(|(path, _, _)| element_of(path))
        .collect();
    seen.matches.retain(|(path, _, _)| {
        !elements.iter().any(|e| {
            path.strip_prefix(e.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|inside| inside.contains('['))
        })
    });
    if !seen.matches.is_empty() {
        seen.trimmed = serde_json::from_str(json).ok().map(|v| trim_record(&v));
    }
    seen
}

/// The array element a path's value is a direct member of (`a.items[*]` of `a.items[*].id`).
fn element_of(path: &str) -> Option<String> {
    let (element, key) = path.rsplit_once('.')?;
    (element.ends_with(']') && !key.contains('[')).then(|| element.to_string())
}

/// The kind of resource an ARN names: its service and the start of its resource up to the
/// first `/` or `:` (`instance/`, `db:`); S3's bucket or object.
fn kind_of(arn: &str) -> Option<(&str, &str)> {
    let a = Arn::parse(arn)?;
    let kind = match (a.service, a.resource.find(['/', ':'])) {
        ("s3", Some(_)) => "object",
        ("s3", None) => "bucket",
        (_, Some(at)) => &a.resource[..=at],
        (_, None) => "",
    };
    Some((a.service, kind))
}

/// Whether a record's own `resources[]` says the ARNs `found` through a path are not what it
/// acted on: it names resources of their kind, and none of them.
fn contradicts(resources: &[String], found: &[String]) -> bool {
    let kinds: BTreeSet<_> = found.iter().filter_map(|f| kind_of(f)).collect();
    resources
        .iter()
        .any(|r| kind_of(r).is_some_and(|k| kinds.contains(&k)))
        && !found.iter().any(|f| resources.contains(f))
}

/// What proposals are grouped by: source, path, template (after a `/` when the value is
/// stripped of one), and the path of the template's `{parent}` (empty without one).
type GroupKey = (String, String, String, String);

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
    let mut groups: BTreeMap<GroupKey, Proposal> = BTreeMap::new();
    // Records per (group, call), to drop the calls whose records contradicted a group.
    let mut records_of: BTreeMap<(GroupKey, String), usize> = BTreeMap::new();
    let tally = pipeline::run_plan(
        &Plan::local(inputs.clone()),
        &Window::default(),
        &resolver,
        &pipeline::keep_all,
        |resolved, event, json| {
            let learnable = match &resolved.resolution.unresolved {
                Some(Unresolved::NoRule) => true,
                // A generated rule that found nothing: a learned one works beside it. A
                // hand-written rule is never overridden, nor learned beside.
                Some(Unresolved::NothingFound { .. }) => rules
                    .rule_for(&event.event_source, &event.event_name)
                    .is_some_and(|r| r.generated && !r.learned),
                _ => false,
            };
            learnable.then(|| observe(event, json, &resolved, &segments, inventory))
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
            let mut per_group: BTreeMap<GroupKey, Vec<(String, String)>> = BTreeMap::new();
            for (path, value, m) in seen.matches {
                per_group
                    // A template starts with `arn:`: a leading `/` marks a value stripped of it.
                    .entry((
                        seen.call.0.clone(),
                        path,
                        format!("{}{}", m.strip_prefix.unwrap_or(""), m.template),
                        m.parent.unwrap_or_default(),
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
                    parent: (!key.3.is_empty()).then(|| key.3.clone()),
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
                if contradicts(&seen.resources, &arns) {
                    proposal.contradicted += 1;
                    proposal.contradicting_events.insert(seen.call.1.clone());
                }
                let of_call = |(record, _): &&(Value, Vec<String>)| {
                    record["eventName"].as_str() == Some(seen.call.1.as_str())
                };
                if proposal.cases.iter().filter(of_call).count() < CASES {
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
    type Extractors<'e> = Vec<(&'e str, &'e str, Option<&'e str>, Option<&'e str>)>;
    let mut rules: BTreeMap<(&str, Extractors), LearnedRule> = BTreeMap::new();
    for ((source, event), proposals) in per_call {
        let key: Extractors = proposals
            .iter()
            .map(|p| {
                (
                    p.path.as_str(),
                    p.template.as_str(),
                    p.strip_prefix.as_deref(),
                    p.parent.as_deref(),
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
    let mut file = RawRuleFile {
        header: vec![
            "Learned by `tagtrail rules learn` from this team's trail and inventory. Review each rule"
                .into(),
            "(paths, ARN templates, cases) before committing: `tagtrail rules test` runs the cases."
                .into(),
        ],
        ..RawRuleFile::default()
    };
    let mut ids = BTreeSet::new();
    for rule in rules_of(learned) {
        let first = rule.proposals[0];
        let service = arn::service_of(rule.source);
        let leaf = first.path.rsplit('.').next().unwrap_or(&first.path);
        let base = format!("learned-{service}-{}", kebab(leaf));
        let mut id = base.clone();
        let mut n = 2;
        while ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        let records: usize = rule.proposals.iter().map(|p| p.records).sum();
        let mut raw = RawRule {
            id: id.clone(),
            source: Some(rule.source.to_string()),
            description: Some(format!(
                "Learned from {records} match(es) in the trail, e.g. `{}` at {} -> {}.",
                first.example_value, first.path, first.example_arn
            )),
            events: rule.events.iter().map(|e| e.to_string()).collect(),
            learned: true,
            ..RawRule::default()
        };
        for p in &rule.proposals {
            raw.extract.push(RawExtractor {
                path: p.path.clone(),
                arn: Some(p.template.clone()),
                strip_prefix: p.strip_prefix.clone(),
                vars: p
                    .parent
                    .iter()
                    .map(|parent| ("parent".to_string(), parent.clone()))
                    .collect(),
                complete: completes_path(&p.template).then(|| "path".to_string()),
                ..RawExtractor::default()
            });
            if p.path == USER_NAME && p.template.ends_with(":user/{value}") {
                raw.extract.push(caller_user());
            }
        }
        let cases: Vec<&(Value, Vec<String>)> = rule
            .proposals
            .iter()
            .flat_map(|p| &p.cases)
            .filter(|(record, _)| {
                record["eventName"]
                    .as_str()
                    .is_some_and(|e| rule.events.contains(e))
            })
            .take(CASES)
            .collect();
        let Some((first_case, _)) = cases.first() else {
            continue;
        };
        // A rule is read only with a case; this one is replaced by the real ones below.
        let mut probe = raw.clone();
        probe.test = vec![RawTest {
            name: Some("probe".into()),
            event: first_case.to_string(),
            ..RawTest::default()
        }];
        let probe = RawRuleFile {
            rule: vec![probe],
            ..RawRuleFile::default()
        };
        let Ok(alone) = RuleSet::from_files(&[("learned.toml".into(), probe.to_toml())]) else {
            continue;
        };
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
            let completes = rule.proposals.iter().any(|p| completes_path(&p.template));
            raw.test.push(RawTest {
                name: Some(format!("learned from record {}", i + 1)),
                event: json,
                inventory: if completes {
                    taught.clone()
                } else {
                    Vec::new()
                },
                expect: found,
            });
        }
        if !raw.test.is_empty() {
            ids.insert(id);
            file.rule.push(raw);
        }
    }
    if file.rule.is_empty() {
        return String::new();
    }
    file.to_toml()
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
            "\nstill unresolved: calls left to learn (no rule, or a generated rule that found \
             nothing) whose records name no inventory resource"
        );
        let mut calls: Vec<(&String, &usize)> = learned.unmatched.iter().collect();
        calls.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (call, n) in calls.into_iter().take(20) {
            let _ = writeln!(s, "  {n:>5}  {call}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::TagKey;
    use serde_json::json;

    /// A record of `source`/`name` in account 1, us-east-1, called by an IAM user.
    fn record(
        source: &str,
        name: &str,
        request: Value,
        response: Value,
        resources: Value,
    ) -> Value {
        json!({
            "eventVersion": "1.08", "eventTime": "2026-11-01T00:00:00Z",
            "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                             "arn": "arn:aws:iam::111122223333:user/caller"},
            "requestParameters": request, "responseElements": response, "resources": resources,
        })
    }

    /// Learns from `records` (each twice, so that two records match) with an empty pack.
    fn learn_from(records: &[Value], arns: &[&str]) -> Learned {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trail.jsonl");
        let lines: Vec<String> = records
            .iter()
            .flat_map(|r| [r.to_string(), r.to_string()])
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        let mut inventory = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: false,
        });
        arns.iter().for_each(|a| inventory.insert(a, []));
        learn(
            &Inputs::Paths(vec![file]),
            &RuleSet::default(),
            &inventory,
            2,
        )
        .unwrap()
    }

    /// The ARNs the learned rules find in `record`.
    fn resolve_learned(learned: &Learned, record: &Value) -> Vec<String> {
        let rules = RuleSet::from_files(&[("learned.toml".into(), to_toml(learned))]).unwrap();
        let resolver = Resolver {
            rules: &rules,
            index: None,
            sources: Sources::rules_only(),
        };
        let json = record.to_string();
        resolver
            .resolve(&Event::parse(&json).unwrap(), &json, &[])
            .resources
            .into_iter()
            .map(|t| t.arn)
            .collect()
    }

    fn paths(learned: &Learned) -> Vec<(String, String)> {
        learned
            .proposals
            .iter()
            .map(|p| (p.path.clone(), p.template.clone()))
            .collect()
    }

    #[test]
    fn a_passed_role_is_not_the_target_of_an_instance_profile_call() {
        let learned = learn_from(
            &[record(
                "iam.amazonaws.com",
                "AddRoleToInstanceProfile",
                json!({"instanceProfileName": "web", "roleName": "web-role"}),
                json!(null),
                json!(null),
            )],
            &[
                "arn:aws:iam::111122223333:instance-profile/web",
                "arn:aws:iam::111122223333:role/web-role",
            ],
        );
        assert_eq!(
            paths(&learned),
            [(
                "requestParameters.instanceProfileName".to_string(),
                "arn:{partition}:iam::{account}:instance-profile/{value}".to_string()
            )]
        );
    }

    #[test]
    fn a_call_may_act_on_another_services_resource_the_sar_names() {
        // SSM's SendCommand acts on EC2 instances; the SSM inventory entry of the same id is
        // not its target.
        let learned = learn_from(
            &[record(
                "ssm.amazonaws.com",
                "SendCommand",
                json!({"instanceIds": ["i-0abc"], "documentName": "AWS-RunShellScript"}),
                json!(null),
                json!(null),
            )],
            &[
                "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
                "arn:aws:ssm:us-east-1:111122223333:managed-instance-inventory/i-0abc",
            ],
        );
        assert_eq!(
            paths(&learned),
            [(
                "requestParameters.instanceIds[*]".to_string(),
                "arn:{partition}:ec2:{region}:{account}:instance/{value}".to_string()
            )]
        );
    }

    #[test]
    fn resources_of_another_kind_do_not_contradict_and_of_the_same_kind_do() {
        // KMS logs the key in resources[] when the request names its alias.
        let alias = record(
            "kms.amazonaws.com",
            "Encrypt",
            json!({"keyId": "alias/app"}),
            json!(null),
            json!([{"ARN": "arn:aws:kms:us-east-1:111122223333:key/k-1"}]),
        );
        // A record whose resources[] names another bucket than its request.
        let other_bucket = record(
            "s3.amazonaws.com",
            "PutObject",
            json!({"bucketName": "logs", "key": "a"}),
            json!(null),
            json!([{"ARN": "arn:aws:s3:::data"}]),
        );
        let learned = learn_from(
            &[alias, other_bucket],
            &[
                "arn:aws:kms:us-east-1:111122223333:alias/app",
                "arn:aws:s3:::logs",
                "arn:aws:s3:::data",
            ],
        );
        assert_eq!(
            paths(&learned),
            [(
                "requestParameters.keyId".to_string(),
                // The value is the whole resource part: `alias/app`.
                "arn:{partition}:kms:{region}:{account}:{value}".to_string()
            )]
        );
        assert_eq!(learned.left_out.len(), 1);
        assert_eq!(learned.left_out[0].contradicted, 2);
    }

    #[test]
    fn a_name_is_read_as_it_is_and_in_the_records_region() {
        let learned = learn_from(
            &[
                record(
                    "logs.amazonaws.com",
                    "DeleteLogGroup",
                    json!({"logGroupName": "/aws/lambda/f"}),
                    json!(null),
                    json!(null),
                ),
                record(
                    "rds.amazonaws.com",
                    "RebootDBCluster",
                    json!({"dBClusterIdentifier": "prod"}),
                    json!(null),
                    json!(null),
                ),
            ],
            &[
                "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f",
                "arn:aws:rds:us-east-1:111122223333:cluster:prod",
                "arn:aws:rds:eu-west-1:111122223333:cluster:prod",
            ],
        );
        assert_eq!(
            paths(&learned),
            [
                (
                    "requestParameters.logGroupName".to_string(),
                    "arn:{partition}:logs:{region}:{account}:log-group:{value}".to_string()
                ),
                (
                    "requestParameters.dBClusterIdentifier".to_string(),
                    "arn:{partition}:rds:{region}:{account}:cluster:{value}".to_string()
                ),
            ]
        );
        assert!(learned.ambiguous.is_empty(), "{:?}", learned.ambiguous);
        assert!(learned.proposals.iter().all(|p| p.strip_prefix.is_none()));
    }

    #[test]
    fn a_name_under_another_takes_it_from_the_record() {
        // An S3 object: its ARN holds the bucket, which the record gives at another path.
        let learned = learn_from(
            &[record(
                "s3.amazonaws.com",
                "GetObjectTagging",
                json!({"bucketName": "data", "key": "reports/q1.csv"}),
                json!(null),
                json!(null),
            )],
            &["arn:aws:s3:::data/reports/q1.csv"],
        );
        let object = learned
            .proposals
            .iter()
            .find(|p| p.path == "requestParameters.key")
            .expect("the key is learned");
        assert_eq!(object.template, "arn:{partition}:s3:::{parent}/{value}");
        assert_eq!(
            object.parent.as_deref(),
            Some("requestParameters.bucketName")
        );
        let text = to_toml(&learned);
        let written = RuleSet::from_files(&[("learned.toml".into(), text.clone())]).unwrap();
        assert_eq!(
            written.rules()[0].extractors[0].vars[0].1.as_str(),
            "requestParameters.bucketName",
            "{text}"
        );
        let other = record(
            "s3.amazonaws.com",
            "GetObjectTagging",
            json!({"bucketName": "logs", "key": "a/b.gz"}),
            json!(null),
            json!(null),
        );
        assert_eq!(
            resolve_learned(&learned, &other),
            ["arn:aws:s3:::logs/a/b.gz"]
        );
    }

    #[test]
    fn values_inside_a_matched_element_describe_it() {
        let learned = learn_from(
            &[record(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({"instancesSet": {"items": [{"imageId": "ami-1"}]}}),
                json!({"instancesSet": {"items": [{"instanceId": "i-0abc",
                    "networkInterfaceSet": {"items": [{"networkInterfaceId": "eni-0abc"}]}}]}}),
                json!(null),
            )],
            &[
                "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
                "arn:aws:ec2:us-east-1:111122223333:network-interface/eni-0abc",
            ],
        );
        assert_eq!(
            paths(&learned),
            [(
                "responseElements.instancesSet.items[*].instanceId".to_string(),
                "arn:{partition}:ec2:{region}:{account}:instance/{value}".to_string()
            )]
        );
    }

    #[test]
    fn a_learned_user_rule_names_the_calling_user_without_user_name() {
        let learned = learn_from(
            &[record(
                "iam.amazonaws.com",
                "ListAccessKeys",
                json!({"userName": "deploy"}),
                json!(null),
                json!(null),
            )],
            &["arn:aws:iam::111122223333:user/deploy"],
        );
        let without = record(
            "iam.amazonaws.com",
            "ListAccessKeys",
            json!(null),
            json!(null),
            json!(null),
        );
        assert_eq!(
            resolve_learned(&learned, &without),
            ["arn:aws:iam::111122223333:user/caller"]
        );
    }
}
