//! Which resources an event touched, as ARNs in the tagging API's form, each with how it was
//! found (`via`): the record's `resources[]`, LookupEvents `Resources[]`, or an extractor rule
//! (completed against the inventory where a name alone cannot give the ARN).
//!
//! Plain functions on values: no I/O, safe to run in parallel.

pub mod lookup;

use std::cell::OnceCell;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::arn;
use crate::event::Event;
use crate::principal::{principal_of, Principal};
use crate::ruleset::{ArnIndex, Completion, EventContext, Node, Record, RuleSet};
use crate::source::decode::LookupResource;

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
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Resources => f.write_str("resources"),
            Via::Lookup => f.write_str("lookup"),
            Via::Rule(id) => write!(f, "rule:{id}"),
            Via::Inventory => f.write_str("inventory"),
            Via::ErrorMessage => f.write_str("error-message"),
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

/// Partition, region and account of the event, for building ARNs. The partition is the
/// caller's (calls never cross partitions), else the region's.
pub fn context_of<'e>(event: &'e Event) -> (&'e str, &'e str, &'e str) {
    let region = event.region().unwrap_or("");
    let identity = event.user_identity.as_ref();
    let caller_arn = identity.and_then(|i| {
        i.arn.as_deref().or_else(|| {
            i.session_context
                .as_ref()
                .and_then(|c| c.session_issuer.as_ref())
                .and_then(|s| s.arn.as_deref())
        })
    });
    // `arn:<partition>:...`: the partition alone, without parsing the whole ARN.
    let partition = caller_arn
        .and_then(|a| a.strip_prefix("arn:")?.split_once(':'))
        .map(|(partition, _)| partition)
        .filter(|p| p.starts_with("aws"))
        .unwrap_or_else(|| arn::partition_of(region));
    (partition, region, event.owner_account().unwrap_or(""))
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
        if self.sources.error_message {
            if let Some(arn) = event
                .error_message
                .as_deref()
                .and_then(|m| denied_resource(m, event))
            {
                add(arn, Via::ErrorMessage);
            }
        }
        let ctx = context_of(event);
        let mut unknown_type = None;
        if self.sources.lookup {
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
        }
        let mut rule_outcome = None;
        if self.sources.rules {
            if let Some(rule) = self.rules.rule_for(&event.event_source, &event.event_name) {
                if rule.no_resource {
                    rule_outcome = Some(Unresolved::NoResource {
                        rule: rule.id.clone(),
                    });
                } else {
                    let record = LazyRecord::new(event, json);
                    let (partition, region, account) = ctx;
                    let found = rule.extract(
                        &record,
                        EventContext {
                            partition,
                            region,
                            account,
                        },
                        self.index,
                    );
                    if found.is_empty() && !rule.is_fallback() {
                        rule_outcome = Some(Unresolved::NothingFound {
                            rule: rule.id.clone(),
                        });
                    }
                    for e in found {
                        add(
                            e.arn,
                            if e.completed {
                                Via::Inventory
                            } else {
                                Via::Rule(rule.id.clone())
                            },
                        );
                    }
                }
            }
        }
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
}

/// The resource an access-denied message names, when the refused action is the event's own
/// (`User: arn:... is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/x
/// because ...`). A message about another action (`iam:PassRole` refused during `RunInstances`)
/// names a resource the call only mentions, and is not used.
fn denied_resource(message: &str, event: &Event) -> Option<String> {
    let (_, after) = message.split_once("perform: ")?;
    let (action, after) = after.split_once(' ')?;
    let (_, action_name) = action.split_once(':')?;
    if action_name != crate::ruleset::strip_api_version(&event.event_name) {
        return None;
    }
    let target = after.strip_prefix("on resource: ")?.trim_start_matches('"');
    let end = target
        .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
        .unwrap_or(target.len());
    arn::normalize(target[..end].trim_end_matches('.'))
}

/// The record as rules see it: a top-level field is read into a tree only when a rule asks
/// for it, from the raw JSON the event kept, so most of a record is never turned into a tree.
pub(crate) struct LazyRecord<'e, 'a> {
    event: &'e Event<'a>,
    json: &'e str,
    sections: [OnceCell<Option<Node<'e>>>; 8],
    whole: OnceCell<Option<Node<'e>>>,
}

impl<'e, 'a> LazyRecord<'e, 'a> {
    /// `json` is the text `event` was read from.
    pub(crate) fn new(event: &'e Event<'a>, json: &'e str) -> Self {
        LazyRecord {
            event,
            json,
            sections: Default::default(),
            whole: OnceCell::new(),
        }
    }
}

impl<'e> Record for LazyRecord<'e, '_> {
    fn section(&self, root: &str) -> Option<&Node<'_>> {
        let e = self.event;
        let raw = |r: Option<&'e serde_json::value::RawValue>| r.and_then(|r| Node::parse(r.get()));
        let text = |t: Option<&'e str>| t.map(|t| Node::String(t.into()));
        let (slot, make): (usize, &dyn Fn() -> Option<Node<'e>>) = match root {
            "requestParameters" => (0, &|| raw(e.request_parameters)),
            "responseElements" => (1, &|| raw(e.response_elements)),
            "additionalEventData" => (2, &|| raw(e.additional_event_data)),
            "serviceEventDetails" => (3, &|| raw(e.service_event_details)),
            "eventName" => (4, &|| text(Some(&e.event_name))),
            "eventSource" => (5, &|| text(Some(&e.event_source))),
            "awsRegion" => (6, &|| text(e.aws_region.as_deref())),
            "recipientAccountId" => (7, &|| text(e.recipient_account_id.as_deref())),
            _ => {
                return self
                    .whole
                    .get_or_init(|| Node::parse(self.json))
                    .as_ref()?
                    .get(root)
            }
        };
        self.sections[slot].get_or_init(make).as_ref()
    }
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
        denied_resource(event.error_message.as_deref().unwrap(), &event)
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
