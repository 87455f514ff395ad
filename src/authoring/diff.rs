//! `rules diff`: what a change to the rule files does to the resolutions of a corpus. Runs the
//! base and the working rule sets (rules alone: `resources[]` and LookupEvents names are left
//! out) over the same records and reports, per rule, the records whose ARNs were gained, lost
//! or changed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::pipeline::{self, Inputs};
use crate::resolve::ResolvedEvent;
use crate::resolve::{Resolver, Sources, Unresolved, Via};
use crate::ruleset::RuleSet;
use crate::source::{SourceError, Window};
use crate::tally::Tally;

/// The rule resolutions of one record: the rule that matched and the ARNs it found.
#[derive(Debug, Clone, Default)]
struct Outcome {
    rule: Option<String>,
    arns: BTreeSet<String>,
}

impl Outcome {
    fn of(event: &ResolvedEvent) -> Self {
        let rule = event
            .resolution
            .resources
            .iter()
            .find_map(|t| match &t.via {
                Via::Rule(id) => Some(id.clone()),
                _ => None,
            })
            .or_else(|| match &event.resolution.unresolved {
                Some(Unresolved::NothingFound { rule } | Unresolved::NoResource { rule }) => {
                    Some(rule.clone())
                }
                _ => None,
            });
        Outcome {
            rule,
            arns: event
                .resolution
                .resources
                .iter()
                .map(|t| t.arn.clone())
                .collect(),
        }
    }
}

/// What a change did to one rule's resolutions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleChange {
    pub rule: String,
    pub file: String,
    pub line: usize,
    /// Records where the working set finds ARNs the base did not, and loses none.
    pub gained: u64,
    /// Records where the working set loses ARNs the base found, and adds none.
    pub lost: u64,
    /// Records where it both loses and adds ARNs.
    pub changed: u64,
    /// A few records as examples: `source: -lost +gained`.
    pub examples: Vec<String>,
}

/// The diff of two rule sets over a corpus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub records: u64,
    pub rules: Vec<RuleChange>,
}

impl Diff {
    /// True when some resolution was lost or changed.
    pub fn loses(&self) -> bool {
        self.rules.iter().any(|r| r.lost > 0 || r.changed > 0)
    }
}

fn outcomes(
    rules: &RuleSet,
    inputs: &Inputs,
) -> Result<(BTreeMap<String, Outcome>, Tally), SourceError> {
    let resolver = Resolver {
        rules,
        index: None,
        sources: Sources::rules_only(),
    };
    let mut map = BTreeMap::new();
    let tally = pipeline::run(inputs, &Window::default(), &resolver, |event| {
        map.insert(event.source.to_string(), Outcome::of(&event));
    })?;
    Ok((map, tally))
}

/// Compares `base` and `head` over the records of `inputs`.
pub fn diff(base: &RuleSet, head: &RuleSet, inputs: &Inputs) -> Result<Diff, SourceError> {
    const EXAMPLES: usize = 3;
    let (before, tally) = outcomes(base, inputs)?;
    let (after, _) = outcomes(head, inputs)?;
    let mut changes: BTreeMap<String, RuleChange> = BTreeMap::new();
    for (source, old) in &before {
        let new = after.get(source).cloned().unwrap_or_default();
        if old.arns == new.arns {
            continue;
        }
        let lost: Vec<&String> = old.arns.difference(&new.arns).collect();
        let gained: Vec<&String> = new.arns.difference(&old.arns).collect();
        let rule = if new.arns.is_empty() {
            old.rule.clone()
        } else {
            new.rule.clone()
        };
        let rule = rule
            .or(new.rule.clone())
            .unwrap_or_else(|| "(no rule)".into());
        let (file, line) = head
            .rules()
            .iter()
            .chain(base.rules())
            .find(|r| r.id == rule)
            .map(|r| (r.file.clone(), r.line))
            .unwrap_or_default();
        let change = changes.entry(rule.clone()).or_insert_with(|| RuleChange {
            rule,
            file,
            line,
            ..RuleChange::default()
        });
        match (lost.is_empty(), gained.is_empty()) {
            (true, false) => change.gained += 1,
            (false, true) => change.lost += 1,
            _ => change.changed += 1,
        }
        if change.examples.len() < EXAMPLES {
            let fmt = |sign: char, arns: &[&String]| {
                arns.iter()
                    .map(|a| format!(" {sign}{a}"))
                    .collect::<String>()
            };
            change
                .examples
                .push(format!("{source}:{}{}", fmt('-', &lost), fmt('+', &gained)));
        }
    }
    Ok(Diff {
        records: tally.read,
        rules: changes.into_values().collect(),
    })
}
