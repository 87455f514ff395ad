//! Which resources an event touched, as ARNs in the tagging API's form, each with how it was
//! found (`via`): the record's `resources[]`, LookupEvents `Resources[]`, or an extractor rule
//! (completed against the inventory where a name alone cannot give the ARN).
//!
//! Plain functions on values: no I/O, safe to run in parallel.

pub mod lookup;

use std::cell::OnceCell;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::arn;
use crate::event::Event;
use crate::principal::{principal_of, Principal};
use crate::ruleset::{ArnIndex, Completion, EventContext, Record, RuleSet};
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
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Resources => f.write_str("resources"),
            Via::Lookup => f.write_str("lookup"),
            Via::Rule(id) => write!(f, "rule:{id}"),
            Via::Inventory => f.write_str("inventory"),
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
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            record_resources: true,
            lookup: true,
            rules: true,
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
    let partition = caller_arn
        .and_then(arn::Arn::parse)
        .map(|a| a.partition)
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

/// The record as rules see it: a top-level field is parsed only when a rule asks for it, from
/// the raw JSON the event kept, so most of a record is never turned into a tree.
struct LazyRecord<'e, 'a> {
    event: &'e Event<'a>,
    json: &'e str,
    sections: [OnceCell<Option<Value>>; 8],
    whole: OnceCell<Value>,
}

impl<'e, 'a> LazyRecord<'e, 'a> {
    fn new(event: &'e Event<'a>, json: &'e str) -> Self {
        LazyRecord {
            event,
            json,
            sections: Default::default(),
            whole: OnceCell::new(),
        }
    }
}

impl Record for LazyRecord<'_, '_> {
    fn section(&self, root: &str) -> Option<&Value> {
        let e = self.event;
        let raw = |r: Option<&serde_json::value::RawValue>| {
            r.and_then(|r| serde_json::from_str(r.get()).ok())
        };
        let text = |t: Option<&str>| t.map(|t| Value::String(t.to_string()));
        let (slot, make): (usize, &dyn Fn() -> Option<Value>) = match root {
            "requestParameters" => (0, &|| raw(e.request_parameters)),
            "responseElements" => (1, &|| raw(e.response_elements)),
            "additionalEventData" => (2, &|| raw(e.additional_event_data)),
            "serviceEventDetails" => (3, &|| raw(e.service_event_details)),
            "eventName" => (4, &|| text(Some(&e.event_name))),
            "eventSource" => (5, &|| text(Some(&e.event_source))),
            "awsRegion" => (6, &|| text(e.aws_region.as_deref())),
            "recipientAccountId" => (7, &|| text(e.recipient_account_id.as_deref())),
            _ => {
                let whole = self
                    .whole
                    .get_or_init(|| serde_json::from_str(self.json).unwrap_or(Value::Null));
                return whole.get(root);
            }
        };
        self.sections[slot].get_or_init(make).as_ref()
    }
}
