//! Which resources an event touched, as ARNs in the tagging API's form, each with how it was
//! found (`via`): the record's `resources[]`, LookupEvents `Resources[]`, or an extractor rule
//! (completed against the inventory where a name alone cannot give the ARN).
//!
//! Plain functions on values: no I/O, safe to run in parallel.

pub mod lookup;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::arn;
use crate::event::{Event, LookupResource, RecordSource};
use crate::inventory::{ArnIndex, Completion};
use crate::principal::{principal_of, Principal};
use crate::ruleset::{context_of, named, EventContext, JsonPath, LazyRecord, Record, RuleSet};

/// How a resource was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    /// The record's own `resources[]`.
    Resources,
    /// LookupEvents `Resources[]`.
    Lookup,
    /// An extractor rule, by id.
    Rule(String),
    /// A rule or LookupEvents name completed against the inventory.
    Inventory,
    /// The access-denied message of a refused call (`... perform: sts:AssumeRole on resource:
    /// arn:...`).
    ErrorMessage,
    /// For a call no rule covers: an ARN of the call's own service in its request or response.
    ArnInRecord,
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Resources => f.write_str("resources"),
            Via::Lookup => f.write_str("lookup"),
            Via::Rule(id) => write!(f, "rule:{id}"),
            Via::Inventory => f.write_str("inventory"),
            Via::ErrorMessage => f.write_str("error-message"),
            Via::ArnInRecord => f.write_str("arn-in-record"),
        }
    }
}

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A resource an event touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Touched {
    pub arn: String,
    pub via: Via,
}

/// Why no resource was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// No rule matches the call, and the record names no resource.
    NoRule,
    /// The call targets no single resource by design (`ListBuckets`).
    NoResource { rule: String },
    /// A rule matched, but the record holds none of its values (a Describe call without ids).
    NothingFound { rule: String },
    /// LookupEvents named resources of a type without a known ARN format.
    UnknownLookupType(String),
}

impl Unresolved {
    /// A stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            Unresolved::NoRule => "no-rule",
            Unresolved::NoResource { .. } => "no-resource",
            Unresolved::NothingFound { .. } => "nothing-found",
            Unresolved::UnknownLookupType(_) => "unknown-lookup-type",
        }
    }
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unresolved::NoRule => {
                f.write_str("no-rule: no rule for this call and no resources[] in the record")
            }
            Unresolved::NoResource { rule } => write!(
                f,
                "no-resource: the call targets no single resource (rule {rule})"
            ),
            Unresolved::NothingFound { rule } => write!(
                f,
                "nothing-found: rule {rule} found no resource in the record"
            ),
            Unresolved::UnknownLookupType(t) => write!(
                f,
                "unknown-lookup-type: LookupEvents type {t} has no ARN format"
            ),
        }
    }
}

/// Who touched what in one event.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub principal: Principal,
    pub resources: Vec<Touched>,
    pub unresolved: Option<Unresolved>,
}

/// One resolved record with the fields reports need.
#[derive(Debug, Clone)]
pub struct ResolvedEvent {
    pub event_time: Option<DateTime<Utc>>,
    pub event_id: Option<String>,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: Option<String>,
    /// The account that received the call and owns what it touched.
    pub account_id: Option<String>,
    pub error_code: Option<String>,
    pub read_only: Option<bool>,
    /// The record holds request parameters (failed calls often have none).
    pub request_logged: bool,
    pub resolution: Resolution,
    /// The input and the record's position in it.
    pub source: RecordSource,
    /// Which delivery of its event the record is.
    pub delivery: Delivery,
}

/// Which delivery of an event a record is: what tells a duplicate from the record reported,
/// once the whole trail has been read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The record corrects an earlier delivery of its event (`addendum`).
    pub corrects: bool,
    /// `sharedEventID`: both copies of a cross-account call carry it.
    pub shared_event_id: Option<String>,
    /// The copy logged in the account that received the call (see [`Event::is_owner_copy`]).
    pub owner_copy: bool,
}

impl Delivery {
    pub fn of(event: &Event) -> Self {
        Delivery {
            corrects: event.addendum.is_some(),
            shared_event_id: event
                .shared_event_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            owner_copy: event.is_owner_copy(),
        }
    }
}

impl ResolvedEvent {
    /// The fields reports need of `event`, with its resolution.
    pub fn new(
        event: &Event,
        event_time: Option<DateTime<Utc>>,
        resolution: Resolution,
        source: RecordSource,
    ) -> Self {
        let owned = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        ResolvedEvent {
            event_time,
            event_id: owned(event.event_id.as_deref()),
            event_source: event.event_source.to_string(),
            event_name: event.event_name.to_string(),
            aws_region: owned(event.region()),
            account_id: owned(event.owner_account()),
            error_code: owned(event.error_code.as_deref()),
            read_only: event.read_only,
            request_logged: event.request_parameters.is_some_and(|r| r.get() != "{}"),
            resolution,
            source,
            delivery: Delivery::of(event),
        }
    }
}

/// Options of resolution.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    /// Read the record's `resources[]` (off to measure what rules find alone).
    pub record_resources: bool,
    pub lookup: bool,
    pub rules: bool,
    /// Read the resource an access-denied message names.
    pub error_message: bool,
}

impl Sources {
    /// Only the rules: what `rules diff` and `rules coverage --rules-only` measure.
    pub fn rules_only() -> Self {
        Sources {
            record_resources: false,
            lookup: false,
            rules: true,
            error_message: false,
        }
    }
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            record_resources: true,
            lookup: true,
            rules: true,
            error_message: true,
        }
    }
}

/// Resolves events with a rule set and, optionally, the ARNs an inventory knows.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'r> {
    pub rules: &'r RuleSet,
    pub index: Option<&'r ArnIndex>,
    pub sources: Sources,
}

impl Resolver<'_> {
    /// Resolves one event. `json` is the record's text, parsed again only when a rule matches.
    pub fn resolve(&self, event: &Event, json: &str, lookup: &[LookupResource]) -> Resolution {
        let mut principal = principal_of(event);
        if let (Some(index), Some(arn)) = (self.index, principal.arn.as_mut()) {
            if let Some(full) = index.complete(arn, Completion::Path) {
                *arn = full;
            }
        }
        let mut resources: Vec<Touched> = Vec::new();
        let mut add = |arn: String, via: Via| {
            if !resources.iter().any(|r| r.arn == arn) {
                resources.push(Touched { arn, via });
            }
        };
        if self.sources.record_resources {
            for entry in event.resources.iter().flatten() {
                let text = entry.arn.as_deref().or(entry.arn_prefix.as_deref());
                if let Some(arn) = text.and_then(arn::normalize) {
                    add(arn, Via::Resources);
                }
            }
        }
        let ctx = context_of(event);
        if self.sources.error_message {
            if let Some(arn) = event
                .error_message
                .as_deref()
                .and_then(|m| denied_resource(m, event, ctx))
            {
                add(arn, Via::ErrorMessage);
            }
        }
        let unknown_type = if self.sources.lookup {
            self.add_lookup_names(lookup, ctx, &mut add)
        } else {
            None
        };
        let rule_outcome = if self.sources.rules {
            self.add_rule_finds(event, json, ctx, &mut add)
        } else {
            None
        };
        let unresolved = resources.is_empty().then(|| {
            rule_outcome
                .or(unknown_type.map(Unresolved::UnknownLookupType))
                .unwrap_or(Unresolved::NoRule)
        });
        Resolution {
            principal,
            resources,
            unresolved,
        }
    }

    /// Adds the ARNs of LookupEvents `Resources[]`; returns a type without a known ARN format.
    fn add_lookup_names(
        &self,
        lookup: &[LookupResource],
        ctx: (&str, &str, &str),
        add: &mut impl FnMut(String, Via),
    ) -> Option<String> {
        let mut unknown_type = None;
        for entry in lookup {
            let Some(name) = entry.name.as_deref().filter(|n| !n.trim().is_empty()) else {
                continue;
            };
            match lookup::build(entry.kind.as_deref(), name, ctx, self.index) {
                lookup::Built::Arn { arn, completed } => add(
                    arn,
                    if completed {
                        Via::Inventory
                    } else {
                        Via::Lookup
                    },
                ),
                lookup::Built::UnknownType(t) => unknown_type = Some(t),
            }
        }
        unknown_type
    }

    /// Adds what the call's rule finds, or for a call no rule covers what the ARN-in-record
    /// fallback finds; returns why the rule gave nothing, when it did not.
    fn add_rule_finds(
        &self,
        event: &Event,
        json: &str,
        (partition, region, account): (&str, &str, &str),
        add: &mut impl FnMut(String, Via),
    ) -> Option<Unresolved> {
        let record = LazyRecord::new(event, json);
        let context = EventContext {
            partition,
            region,
            account,
        };
        let Some(rule) = self.rules.rule_for(&event.event_source, &event.event_name) else {
            let mut found = arns_in_record(&record, event);
            // A service event names its resource by the member its API would (`snapshotId`).
            if found.is_empty() && event.event_type.as_deref() == Some("AwsServiceEvent") {
                let details = JsonPath::parse("requestParameters").expect("a valid path");
                let service = arn::service_of(&event.event_source);
                found.extend(
                    named(&details, service, &record, context)
                        .into_iter()
                        .map(|e| e.arn),
                );
            }
            for arn in found {
                add(arn, Via::ArnInRecord);
            }
            return None;
        };
        if rule.no_resource {
            return Some(Unresolved::NoResource {
                rule: rule.id.clone(),
            });
        }
        let mut found: Vec<_> = rule
            .extract(&record, context, self.index)
            .into_iter()
            .map(|e| (e, rule))
            .collect();
        // A learned rule beside a generated one for the call: what either finds.
        let companion = self
            .rules
            .companion_for(&event.event_source, &event.event_name);
        if let Some(other) = companion {
            for e in other.extract(&record, context, self.index) {
                if !found.iter().any(|(f, _)| f.arn == e.arn) {
                    found.push((e, other));
                }
            }
        }
        drop_contradicted(&mut found, event);
        let held = held_targets(&record, event, found.iter().map(|(e, _)| e.arn.as_str()));
        let outcome = (found.is_empty() && held.is_empty() && !rule.is_fallback()).then(|| {
            Unresolved::NothingFound {
                rule: rule.id.clone(),
            }
        });
        for (e, by) in found {
            let via = if e.completed {
                Via::Inventory
            } else {
                Via::Rule(by.id.clone())
            };
            add(e.arn, via);
        }
        for arn in held {
            add(arn, Via::ArnInRecord);
        }
        outcome
    }
}

/// The full ARNs a record holds in the parts `sections` names, normalised, without the
/// caller's own, patterns (`bucket/*`) and ARNs with text around them; `resources[]` too
/// when `with_resources`.
pub fn arns_held(
    event: &Event,
    record: &impl Record,
    sections: &[&str],
    with_resources: bool,
) -> Vec<String> {
    let identity = event.user_identity.as_ref();
    let caller: Vec<&str> = identity
        .into_iter()
        .flat_map(|i| {
            let issuer = i
                .session_context
                .as_ref()
                .and_then(|c| c.session_issuer.as_ref())
                .and_then(|s| s.arn.as_deref());
            [i.arn.as_deref(), issuer]
        })
        .flatten()
        .collect();
    let mut out = Vec::new();
    let mut take = |text: &str| {
        let text = text.trim();
        if !text.starts_with("arn:") || caller.contains(&text) || text.contains(['*', '?', ' ']) {
            return;
        }
        if let Some(normal) = arn::normalize(text) {
            out.push(normal);
        }
    };
    for section in sections {
        if let Some(node) = record.section(section) {
            node.visit_strings(&mut take);
        }
    }
    if with_resources {
        for entry in event.resources.iter().flatten() {
            if let Some(text) = entry.arn.as_deref() {
                take(text);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every part of a record that holds what the call was given or made.
pub const RECORD_PARTS: &[&str] = &[
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
];

/// The full ARNs a record holds whose resource type the call acts on (per the Service
/// Authorization Reference), beside what its rule found: a call that names its target by
/// ARN names it whatever member holds it (`storageConfigurationArn`, a list of ARNs). The
/// result (the response; what a service event reports in `additionalEventData`) counts for
/// a call that makes something (`Create*`, `Copy*`, `Start*`...) where neither the rule nor
/// the request names that type, and for any call where nothing else names a target of a type
/// it acts on (a key's alias does not stand for the key a `GenerateDataKey` response names). ARNs
/// inside what the rule found (a log stream of its log group) are not added.
fn held_targets<'f>(
    record: &impl Record,
    event: &Event,
    found: impl Iterator<Item = &'f str> + Clone,
) -> Vec<String> {
    // Most records hold no ARN at all: look at the text before parsing anything.
    let holds_arn = [
        event.request_parameters,
        event.response_elements,
        event.additional_event_data,
        event.service_event_details,
    ]
    .into_iter()
    .flatten()
    .any(|raw| memchr::memmem::find(raw.get().as_bytes(), b"arn:").is_some());
    if !holds_arn {
        return Vec::new();
    }
    let Some(targets) = crate::sar::targets(&event.event_source, &event.event_name) else {
        return Vec::new();
    };
    let acted_on =
        |arn: &str| crate::sar::type_of(arn).filter(|t| targets.iter().any(|a| a.same_type(t)));
    let new = |arn: &String| !found.clone().any(|f| f == arn || arn::inside(arn, f));
    let mut out: Vec<String> = arns_held(event, record, &["requestParameters"], false)
        .into_iter()
        .filter(|arn| acted_on(arn).is_some() && new(arn))
        .collect();
    let nothing_else = out.is_empty() && !found.clone().any(|f| acted_on(f).is_some());
    if makes(&event.event_name) || nothing_else {
        let mut named: Vec<&'static crate::sar::Format> =
            found.clone().filter_map(crate::sar::type_of).collect();
        named.extend(out.iter().filter_map(|a| crate::sar::type_of(a)));
        let made = arns_held(event, record, &["responseElements"], false)
            .into_iter()
            .filter(|arn| {
                acted_on(arn).is_some_and(|t| !named.iter().any(|n| n.same_type(t))) && new(arn)
            })
            .collect::<Vec<_>>();
        out.extend(made);
    }
    out.sort();
    out.dedup();
    out
}

/// Drops what a rule built where the record's own `resources[]` contradicts it: when it lists
/// ARNs of the built ARN's type (service, region, account and format), the built ARN must be
/// one of them or inside one. `GetParameters` names a parameter that does not exist, which
/// CloudTrail leaves out of `resources[]`.
fn drop_contradicted<T>(found: &mut Vec<(crate::ruleset::Extracted, T)>, event: &Event) {
    let Some(listed) = event
        .resources
        .as_ref()
        .filter(|r| !r.is_empty() && !found.is_empty())
    else {
        return;
    };
    let listed: Vec<String> = listed
        .iter()
        .filter_map(|r| r.arn.as_deref().and_then(arn::normalize))
        .collect();
    // What the record lists itself is never contradicted: most records need no type at all.
    if found.iter().all(|(e, _)| listed.contains(&e.arn)) {
        return;
    }
    let listed: Vec<(String, &'static crate::sar::Format)> = listed
        .into_iter()
        .filter_map(|a| crate::sar::type_of(&a).map(|t| (a, t)))
        .collect();
    if listed.is_empty() {
        return;
    }
    found.retain(|(e, _)| {
        let Some(t) = crate::sar::type_of(&e.arn) else {
            return true;
        };
        let parts = arn::Arn::parse(&e.arn);
        let same: Vec<&String> = listed
            .iter()
            .filter(|(a, lt)| {
                lt.same_type(t)
                    && arn::Arn::parse(a)
                        .zip(parts)
                        .is_some_and(|(a, b)| a.region == b.region && a.account == b.account)
            })
            .map(|(a, _)| a)
            .collect();
        same.is_empty()
            || same
                .iter()
                .any(|a| **a == e.arn || arn::inside(a, &e.arn) || arn::inside(&e.arn, a))
    });
}

/// Whether a call makes a resource, whose ARN its response then holds.
fn makes(event_name: &str) -> bool {
    const MAKING_VERBS: &[&str] = &[
        "Create", "Register", "Import", "Allocate", "Copy", "Clone", "Restore", "Run", "Start",
        "Submit", "Issue", "Request", "Publish",
    ];
    MAKING_VERBS.iter().any(|verb| event_name.starts_with(verb))
}

/// The fallback for calls no rule covers: every full ARN of the call's own service (by its
/// eventSource: `states.amazonaws.com` → `arn:…:states:…`) in the request, the caller's own
/// ARN excluded; where the request holds none, those of the response, unless the call only
/// reads (`List*`, `Describe*`, `Get*`...: what it returns is data, not its target). Limiting
/// it to the call's own service keeps out what a call only mentions: a role it passes (IAM),
/// a key that encrypts (KMS), a topic it notifies or a stream it reads from (another service).
fn arns_in_record(record: &LazyRecord, event: &Event) -> Vec<String> {
    let service = arn::service_of(&event.event_source);
    let caller = event.user_identity.as_ref().and_then(|i| i.arn.as_deref());
    let reads = only_reads(&event.event_name);
    let mut found = Vec::new();
    for section in ["requestParameters", "responseElements"] {
        if section == "responseElements" && (!found.is_empty() || reads) {
            break;
        }
        if let Some(node) = record.section(section) {
            node.visit_strings(&mut |text| {
                if found.len() >= MAX_ARNS_IN_RECORD || Some(text) == caller {
                    return;
                }
                if arn::Arn::parse(text.trim()).is_some_and(|a| names_a_target(&a, service)) {
                    found.extend(arn::normalize(text));
                }
            });
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Whether an ARN of the call's own service can be the resource it touched. Not: an STS
/// session (a caller, never a taggable resource); what AWS owns (`arn:aws:iam::aws:policy/…`,
/// a Lambda runtime without an account); an ARN whose account field is not an account
/// (`arn:aws:apigateway:…:lambda:path/…`); a pattern from a policy document (`bucket/*`).
/// A few services name their resources without an account (Service Authorization Reference).
fn names_a_target(arn: &arn::Arn, service: &str) -> bool {
    let account_ok = if NO_ACCOUNT_IN_ARN.contains(&arn.service) {
        arn.account.is_empty()
    } else {
        arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit())
    };
    arn.service == service && service != "sts" && account_ok && !arn.resource.contains(['*', '?'])
}

/// Services whose resource ARNs have no account: `arn:aws:s3:::bucket`,
/// `arn:aws:apigateway:us-east-1::/restapis/id`, `arn:aws:route53:::hostedzone/id`,
/// `arn:aws:sso:::instance/ssoins-id`.
const NO_ACCOUNT_IN_ARN: &[&str] = &["s3", "apigateway", "route53", "sso"];

/// Whether a call only reads (`List*`, `Describe*`, `Get*`...): what it returns is data, not
/// what it touched.
pub fn only_reads(event_name: &str) -> bool {
    const READING_VERBS: &[&str] = &[
        "List", "Describe", "Get", "Search", "Lookup", "Scan", "Query", "BatchGet",
    ];
    READING_VERBS
        .iter()
        .any(|verb| event_name.starts_with(verb))
}

/// ARNs the fallback takes from one record at most.
const MAX_ARNS_IN_RECORD: usize = 100;

/// The resource an access-denied message names, when the refused action is the event's own
/// (`User: arn:... is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/x
/// because ...`). A message about another action (`iam:PassRole` refused during `RunInstances`)
/// names a resource the call only mentions, and is not used. IAM names its own resources by
/// type and name (`on resource: role deploy because ...`): their ARN is built in the event's
/// account, without a path (the message gives none).
fn denied_resource(
    message: &str,
    event: &Event,
    (partition, _, account): (&str, &str, &str),
) -> Option<String> {
    let (_, after) = message.split_once("perform: ")?;
    let (action, after) = after.split_once(' ')?;
    let (_, action_name) = action.split_once(':')?;
    if action_name != crate::ruleset::strip_api_version(&event.event_name) {
        return None;
    }
    let target = after.strip_prefix("on resource: ")?.trim_start_matches('"');
    if let Some((kind, rest)) = target.split_once(' ') {
        let iam_kind = matches!(kind, "role" | "user" | "group" | "instance-profile");
        let name = rest.split(char::is_whitespace).next().unwrap_or("");
        let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        if iam_kind
            && event.event_source == "iam.amazonaws.com"
            && !name.is_empty()
            && name.chars().all(valid)
            && !account.is_empty()
        {
            return Some(format!("arn:{partition}:iam::{account}:{kind}/{name}"));
        }
    }
    // `on resource: policy arn:aws:iam::1:policy/p version v1`
    let target = target.strip_prefix("policy ").unwrap_or(target);
    let end = target
        .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
        .unwrap_or(target.len());
    arn::normalize(target[..end].trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(name: &str, message: &str) -> Option<String> {
        let json = serde_json::json!({
            "eventSource": "sts.amazonaws.com", "eventName": name, "errorCode": "AccessDenied",
            "errorMessage": message,
        })
        .to_string();
        let event = Event::parse(&json).unwrap();
        denied_resource(
            event.error_message.as_deref().unwrap(),
            &event,
            context_of(&event),
        )
    }

    fn resolve(json: &str) -> Vec<(String, String)> {
        let rules = RuleSet::builtin().unwrap();
        let resolver = Resolver {
            rules: &rules,
            index: None,
            sources: Sources::default(),
        };
        let event = Event::parse(json).unwrap();
        resolver
            .resolve(&event, json, &[])
            .resources
            .into_iter()
            .map(|t| (t.arn, t.via.to_string()))
            .collect()
    }

    /// A learned rule beside the generated one of a call: each finds what it reads, each
    /// named as the finder, and the call is unresolved only when neither finds anything.
    #[test]
    fn a_learned_rule_adds_to_the_generated_rule_of_its_call() {
        let rule = |id: &str, marks: &str, path: &str| {
            format!(
                "[[rule]]\nid = \"{id}\"\nsource = \"x.amazonaws.com\"\nevents = [\"Get\"]\n{marks}\n\
                 [[rule.extract]]\npath = \"requestParameters.{path}\"\n\
                 arn = \"arn:{{partition}}:x:{{region}}:{{account}}:thing/{{value}}\"\n\
                 [[rule.test]]\nevent = '{{\"eventSource\": \"x.amazonaws.com\", \"eventName\": \"Get\", \"awsRegion\": \"us-east-1\", \"recipientAccountId\": \"1\", \"requestParameters\": {{\"{path}\": \"n\"}}}}'\n\
                 expect = [\"arn:aws:x:us-east-1:1:thing/n\"]\n"
            )
        };
        let rules = RuleSet::from_files(&[
            ("g.toml".into(), rule("gen-x", "generated = true", "name")),
            (
                "l.toml".into(),
                rule("x-learned", "learned = true", "thingId"),
            ),
        ])
        .unwrap();
        let resolver = Resolver {
            rules: &rules,
            index: None,
            sources: Sources::rules_only(),
        };
        let run = |request: serde_json::Value| {
            let json = serde_json::json!({
                "eventSource": "x.amazonaws.com", "eventName": "Get", "awsRegion": "us-east-1",
                "recipientAccountId": "1", "requestParameters": request,
            })
            .to_string();
            let resolution = resolver.resolve(&Event::parse(&json).unwrap(), &json, &[]);
            let mut found: Vec<(String, String)> = resolution
                .resources
                .into_iter()
                .map(|t| (t.arn, t.via.to_string()))
                .collect();
            found.sort();
            (found, resolution.unresolved.map(|u| u.code()))
        };
        let (found, unresolved) = run(serde_json::json!({"name": "a", "thingId": "b"}));
        assert_eq!(
            found,
            [
                (
                    "arn:aws:x:us-east-1:1:thing/a".to_string(),
                    "rule:gen-x".to_string()
                ),
                (
                    "arn:aws:x:us-east-1:1:thing/b".to_string(),
                    "rule:x-learned".to_string()
                ),
            ]
        );
        assert_eq!(unresolved, None);
        let (found, _) = run(serde_json::json!({"thingId": "b"}));
        assert_eq!(found.len(), 1);
        assert_eq!(run(serde_json::json!({})), (vec![], Some("nothing-found")));
    }

    /// Shape of a real rolesanywhere:CreateProfile record (stratus-red-team, tests/corpus),
    /// renamed to a call no rule covers: the profile the call creates is its target; the roles
    /// it lists and the caller are not.
    #[test]
    fn a_call_no_rule_covers_names_the_arns_of_its_own_service() {
        let record = serde_json::json!({
            "eventSource": "rolesanywhere.amazonaws.com", "eventName": "CreateFutureProfile",
            "awsRegion": "us-east-1", "recipientAccountId": "123837392027",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123837392027:user/bert-jan"},
            "requestParameters": {"name": "p", "roleArns": ["arn:aws:iam::123837392027:role/r"]},
            "responseElements": {"profile": {
                "createdBy": "arn:aws:iam::123837392027:user/bert-jan",
                "profileArn": "arn:aws:rolesanywhere:us-east-1:123837392027:profile/ac4e09d1",
                "roleArns": ["arn:aws:iam::123837392027:role/r"],
            }},
        })
        .to_string();
        assert_eq!(
            resolve(&record),
            [(
                "arn:aws:rolesanywhere:us-east-1:123837392027:profile/ac4e09d1".to_string(),
                "arn-in-record".to_string()
            )]
        );
        // The caller's own ARN, in a call of its own service, is not a target either.
        let own = serde_json::json!({
            "eventSource": "iam.amazonaws.com", "eventName": "SomeFutureCall",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/u"},
            "responseElements": {"by": "arn:aws:iam::111122223333:user/u", "group": "arn:aws:iam::111122223333:group/g"},
        })
        .to_string();
        assert_eq!(
            resolve(&own),
            [(
                "arn:aws:iam::111122223333:group/g".to_string(),
                "arn-in-record".to_string()
            )]
        );
    }

    /// What a read call returns is data, not its target: the fallback reads its request only.
    #[test]
    fn the_fallback_ignores_what_a_read_call_returns() {
        let listing = |name: &str| {
            serde_json::json!({
                "eventSource": "rolesanywhere.amazonaws.com", "eventName": name,
                "recipientAccountId": "123837392027",
                "responseElements": {"profiles": [
                    {"profileArn": "arn:aws:rolesanywhere:us-east-1:123837392027:profile/a"},
                    {"profileArn": "arn:aws:rolesanywhere:us-east-1:123837392027:profile/b"},
                ]},
            })
            .to_string()
        };
        assert_eq!(resolve(&listing("ListFutureProfiles")), []);
        assert_eq!(resolve(&listing("DescribeFutureProfiles")), []);
        assert_eq!(resolve(&listing("CreateFutureProfiles")).len(), 2);
    }

    /// Shapes from tests/corpus that the fallback once took for targets: an STS session, an
    /// AWS-managed policy, a Lambda runtime, an integration URI, a policy's resource pattern.
    #[test]
    fn the_fallback_leaves_out_sessions_aws_owned_arns_and_patterns() {
        let record = serde_json::json!({
            "eventSource": "sts.amazonaws.com", "eventName": "SomeFutureCall",
            "responseElements": {"assumedRoleUser": {"arn": "arn:aws:sts::1:assumed-role/r/s"}},
        })
        .to_string();
        assert_eq!(resolve(&record), []);
        let record = serde_json::json!({
            "eventSource": "lambda.amazonaws.com", "eventName": "SomeFutureCall",
            "requestParameters": {
                "policy": "arn:aws:lambda:us-east-1:aws:policy/x",
                "runtime": "arn:aws:lambda:us-east-1::runtime:bf3c2cf12ad2",
                "uri": "arn:aws:lambda:us-east-1:lambda:path/2015-03-31/functions/f",
                "pattern": "arn:aws:lambda:us-east-1:123456789012:function:*",
                "target": "arn:aws:lambda:us-east-1:123456789012:function:f",
            },
        })
        .to_string();
        assert_eq!(
            resolve(&record),
            [(
                "arn:aws:lambda:us-east-1:123456789012:function:f".to_string(),
                "arn-in-record".to_string()
            )]
        );
    }

    /// A rule for the call, even one that finds nothing, wins over the fallback; a full ARN
    /// of a type the call acts on (a bucket, for GetBucketAcl) is its target all the same.
    #[test]
    fn the_fallback_yields_to_any_rule_for_the_call() {
        let record = |value: &str| {
            serde_json::json!({
                "eventSource": "s3.amazonaws.com", "eventName": "GetBucketAcl",
                "requestParameters": {"other": value},
            })
            .to_string()
        };
        assert_eq!(resolve(&record("arn:aws:s3:::not-the-target/object")), []);
        assert_eq!(
            resolve(&record("arn:aws:s3:::a-bucket")),
            [(
                "arn:aws:s3:::a-bucket".to_string(),
                "arn-in-record".to_string()
            )]
        );
    }

    #[test]
    fn an_access_denied_message_names_the_resource_of_the_refused_call() {
        // Shape from stratus-red-team records in ../shared/corpus.
        let message = "User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role";
        assert_eq!(
            denied("AssumeRole", message).as_deref(),
            Some("arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role")
        );
        let with_reason = "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: lambda:AddPermission on resource: arn:aws:lambda:us-east-1:1:function:f because no identity-based policy allows the lambda:AddPermission action";
        assert_eq!(
            denied("AddPermission20150331v2", with_reason).as_deref(),
            Some("arn:aws:lambda:us-east-1:1:function:f")
        );
    }

    /// IAM's messages name its resources by type and name; the ARN is built in the event's
    /// account.
    #[test]
    fn an_iam_refusal_names_its_role_or_user_by_name() {
        let record = |name: &str, message: &str| {
            serde_json::json!({
                "eventSource": "iam.amazonaws.com", "eventName": name, "errorCode": "AccessDenied",
                "awsRegion": "us-east-1", "recipientAccountId": "111111111111",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/TrailDiscover", "accountId": "111111111111"},
                "errorMessage": message, "requestParameters": null,
            })
            .to_string()
        };
        let role = "User: arn:aws:iam::111111111111:user/TrailDiscover is not authorized to perform: iam:AttachRolePolicy on resource: role TrailDiscover-Role because no identity-based policy allows the iam:AttachRolePolicy action";
        assert_eq!(
            resolve(&record("AttachRolePolicy", role)),
            [(
                "arn:aws:iam::111111111111:role/TrailDiscover-Role".to_string(),
                "error-message".to_string()
            )]
        );
        let user = "User: arn:aws:iam::111111111111:user/a is not authorized to perform: iam:CreateAccessKey on resource: user bob because no identity-based policy allows the iam:CreateAccessKey action";
        assert_eq!(
            resolve(&record("CreateAccessKey", user))[0].0,
            "arn:aws:iam::111111111111:user/bob"
        );
        let policy = "User: arn:aws:iam::111111111111:user/a is not authorized to perform: iam:SetDefaultPolicyVersion on resource: policy arn:aws:iam::111111111111:policy/TrailDiscover version v2 because no identity-based policy allows the iam:SetDefaultPolicyVersion action";
        assert_eq!(
            resolve(&record("SetDefaultPolicyVersion", policy))[0].0,
            "arn:aws:iam::111111111111:policy/TrailDiscover"
        );
        // No name (`on resource: user  because`), or another service's message in the same
        // form (no ARN to build): nothing.
        let nameless = user.replace("user bob", "user ");
        assert!(resolve(&record("CreateAccessKey", &nameless))
            .iter()
            .all(|(_, via)| via != "error-message"));
        let json =
            record("AttachRolePolicy", role).replace("iam.amazonaws.com", "sts.amazonaws.com");
        let event = Event::parse(&json).unwrap();
        let message = event.error_message.as_deref().unwrap();
        assert_eq!(denied_resource(message, &event, context_of(&event)), None);
    }

    #[test]
    fn a_message_about_another_action_or_without_a_resource_names_nothing() {
        let pass_role = "User: arn:aws:iam::1:user/u is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/r";
        assert_eq!(denied("RunInstances", pass_role), None);
        assert_eq!(denied("AssumeRole", "Rate exceeded"), None);
        assert_eq!(
            denied(
                "AssumeRole",
                "User: x is not authorized to perform: sts:AssumeRole on resource: *"
            ),
            None
        );
    }
}
