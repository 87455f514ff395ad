//! `rules check --records`: the rules held against the records themselves, with no labels.
//!
//! For every ARN a rule builds from a record:
//! - (a) **format**: it fits the Service Authorization Reference's ARN format of a resource
//!   type the call acts on (literal parts in their exact case), or of the parent of one (a log
//!   group for a log stream); for a call the SAR scopes to no type, a format of any type;
//! - (b) **agreement**: where the record itself holds full ARNs of the same service, region,
//!   account and resource type (request, response, `resources[]`, `additionalEventData`,
//!   `serviceEventDetails`; never the caller's identity, nor what a read call returns: a
//!   listing's other resources are data), the built ARN is one of them;
//!
//! and (c) **reach**: every full ARN of a type the call acts on that those parts hold is
//! resolved (by any source: `resources[]` counts).
//!
//! In: records (any input the pipeline reads) and a rule set. Out: counts per class and per
//! call, and the records behind every disagreement. No I/O of its own beyond the pipeline's.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::arn;
use crate::event::Event;
use crate::pipeline::{self, Inputs, Plan};
use crate::resolve::{Resolver, Sources, Via};
use crate::ruleset::{LazyRecord, RuleSet};
use crate::source::{SourceError, Window};
use crate::tally::Tally;

use crate::sar::{self, Format};

/// (a): how a built ARN fits the formats of the SAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fit {
    /// The format of a resource type the call acts on.
    ActedOn,
    /// The format of the parent of such a type (tags apply there).
    Parent,
    /// The call is scoped to no type (the SAR lists `*`, or does not know it): a format of
    /// some type.
    AnyType,
    /// The call acts on types, and the ARN is of another one.
    OtherType,
    /// No format at all: a malformed ARN.
    NoFormat,
}

/// (b): how a built ARN compares with the full ARNs of its type the record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// It is one of them.
    Agrees,
    /// The record holds none of its type (or it fits no format).
    NoneHeld,
    /// The record holds ARNs of its type, and it is none of them.
    Disagrees,
}

/// Counts of one call, or of all.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub records: usize,
    /// ARNs rules built.
    pub built: usize,
    pub fit: BTreeMap<Fit, usize>,
    pub agreement: BTreeMap<Agreement, usize>,
    /// (c): full ARNs of a type the call acts on, held in the record.
    pub held_targets: usize,
    /// (c): those resolved.
    pub held_resolved: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.records += other.records;
        self.built += other.built;
        for (k, v) in &other.fit {
            *self.fit.entry(*k).or_default() += v;
        }
        for (k, v) in &other.agreement {
            *self.agreement.entry(*k).or_default() += v;
        }
        self.held_targets += other.held_targets;
        self.held_resolved += other.held_resolved;
    }

    pub fn disagreements(&self) -> usize {
        self.agreement
            .get(&Agreement::Disagrees)
            .copied()
            .unwrap_or(0)
    }

    pub fn no_format(&self) -> usize {
        self.fit.get(&Fit::NoFormat).copied().unwrap_or(0)
    }

    pub fn missed(&self) -> usize {
        self.held_targets - self.held_resolved
    }
}

/// A record behind a finding of the check.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub source: String,
    pub event_id: Option<String>,
    pub call: String,
    /// The rule that built the ARN (none for a missed ARN).
    pub rule: Option<String>,
    pub arn: String,
    /// For a disagreement: the full ARNs of the same type the record holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
}

/// The outcome of a check over records.
#[derive(Debug, Default, Serialize)]
pub struct SelfCheck {
    pub total: Counts,
    /// Per call (`eventSource:eventName`).
    pub calls: BTreeMap<String, Counts>,
    pub disagreements: Vec<Case>,
    pub no_format: Vec<Case>,
    pub missed: Vec<Case>,
    #[serde(skip)]
    pub tally: Tally,
}

/// What one record gives the check.
struct Outcome {
    call: String,
    counts: Counts,
    disagreements: Vec<Case>,
    no_format: Vec<Case>,
    missed: Vec<Case>,
}

/// Runs the check over `inputs` with `rules`.
pub fn check(inputs: &Inputs, rules: &RuleSet) -> Result<SelfCheck, SourceError> {
    let full = Resolver {
        rules,
        index: None,
        sources: Sources::default(),
    };
    let built_only = Resolver {
        sources: Sources::rules_only(),
        ..full
    };
    let mut out = SelfCheck::default();
    let tally = pipeline::run_plan(
        &Plan::local(inputs.clone()),
        &Window::default(),
        &full,
        &pipeline::keep_all,
        |resolved, event, json| {
            let resolved_arns: Vec<String> = resolved
                .resolution
                .resources
                .iter()
                .map(|t| t.arn.clone())
                .collect();
            let source = resolved.source.to_string();
            check_record(&built_only, event, json, &resolved_arns, source)
        },
        |outcome: Outcome| {
            out.total.add(&outcome.counts);
            out.calls
                .entry(outcome.call)
                .or_default()
                .add(&outcome.counts);
            out.disagreements.extend(outcome.disagreements);
            out.no_format.extend(outcome.no_format);
            out.missed.extend(outcome.missed);
        },
    )?;
    out.tally = tally;
    Ok(out)
}

/// (a) for one ARN a rule built.
fn fit(arn: &str, own_type: Option<&Format>, targets: &[&'static Format]) -> Fit {
    if targets.is_empty() {
        return if own_type.is_some() {
            Fit::AnyType
        } else {
            Fit::NoFormat
        };
    }
    if targets.iter().any(|t| t.fits(arn)) {
        return Fit::ActedOn;
    }
    let service = arn::Arn::parse(arn).map_or("", |a| a.service);
    let parent = sar::formats_of_service(service)
        .any(|f| f.fits(arn) && targets.iter().any(|t| f.is_parent_of(t)));
    match (parent, own_type) {
        (true, _) => Fit::Parent,
        (false, Some(_)) => Fit::OtherType,
        (false, None) => Fit::NoFormat,
    }
}

fn check_record(
    rules_only: &Resolver,
    event: &Event,
    json: &str,
    resolved: &[String],
    source: String,
) -> Outcome {
    let call = format!("{}:{}", event.event_source, event.event_name);
    let record = LazyRecord::new(event, json);
    // What a read call returns is data (the other assets of a listing), not what it was given.
    let parts: &[&str] = if crate::resolve::only_reads(&event.event_name) {
        &["requestParameters"]
    } else {
        crate::resolve::RECORD_PARTS
    };
    let held: Vec<(String, Option<&'static Format>)> =
        crate::resolve::arns_held(event, &record, parts, true)
            .into_iter()
            .map(|a| {
                let t = sar::type_of(&a);
                (a, t)
            })
            .collect();
    let targets = sar::targets(&event.event_source, &event.event_name).unwrap_or_default();
    let mut counts = Counts {
        records: 1,
        ..Counts::default()
    };
    let case = |rule: Option<String>, arn: &str, held: Vec<String>| Case {
        source: source.clone(),
        event_id: event.event_id.as_deref().map(str::to_string),
        call: call.clone(),
        rule,
        arn: arn.to_string(),
        held,
    };
    let (mut disagreements, mut no_format, mut missed) = (Vec::new(), Vec::new(), Vec::new());
    let built = rules_only.resolve(event, json, &[]).resources;
    for touched in built {
        let rule = match &touched.via {
            Via::Rule(id) => Some(id.clone()),
            Via::Inventory => None,
            _ => continue,
        };
        let arn = touched.arn.as_str();
        counts.built += 1;
        let own_type = sar::type_of(arn);
        let fit = fit(arn, own_type, &targets);
        *counts.fit.entry(fit).or_default() += 1;
        if fit == Fit::NoFormat {
            no_format.push(case(rule.clone(), arn, Vec::new()));
        }
        let parts = arn::Arn::parse(arn);
        let same: Vec<String> = held
            .iter()
            .filter(|(h, t)| {
                own_type.is_some_and(|o| t.is_some_and(|t| t.same_type(o)))
                    && arn::Arn::parse(h)
                        .zip(parts)
                        .is_some_and(|(h, b)| h.region == b.region && h.account == b.account)
                    && !crate::arn::inside(h, arn)
            })
            .map(|(h, _)| h.clone())
            .collect();
        let agreement = if same.is_empty() {
            Agreement::NoneHeld
        } else if same.iter().any(|h| h == arn) {
            Agreement::Agrees
        } else {
            disagreements.push(case(rule, arn, same));
            Agreement::Disagrees
        };
        *counts.agreement.entry(agreement).or_default() += 1;
    }
    for (h, t) in &held {
        let acted_on = t.is_some_and(|t| targets.iter().any(|a| a.same_type(t)));
        if !acted_on {
            continue;
        }
        counts.held_targets += 1;
        if resolved.iter().any(|r| r == h || crate::arn::inside(h, r)) {
            counts.held_resolved += 1;
        } else {
            missed.push(case(None, h, Vec::new()));
        }
    }
    Outcome {
        call,
        counts,
        disagreements,
        no_format,
        missed,
    }
}

impl SelfCheck {
    /// The report for people: totals, the calls with a problem, and the records behind them.
    pub fn to_text(&self, most: usize) -> String {
        use std::fmt::Write;
        let t = &self.total;
        let count = |m: &BTreeMap<Fit, usize>, k| m.get(&k).copied().unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "records {}; ARNs built by rules {}",
            t.records, t.built
        );
        let _ = writeln!(
            out,
            "(a) format: {} of a type the call acts on, {} of its parent, {} of some type (call scoped to none), {} of another type, {} fit no format",
            count(&t.fit, Fit::ActedOn),
            count(&t.fit, Fit::Parent),
            count(&t.fit, Fit::AnyType),
            count(&t.fit, Fit::OtherType),
            t.no_format()
        );
        let agreement = |k| t.agreement.get(&k).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "(b) agreement with the record's own ARNs of the same type: {} agree, {} disagree, {} without one to compare",
            agreement(Agreement::Agrees),
            t.disagreements(),
            agreement(Agreement::NoneHeld)
        );
        let _ = writeln!(
            out,
            "(c) reach: {} of {} full ARNs of a type the call acts on, held in the records, resolved",
            t.held_resolved, t.held_targets
        );
        let mut worst: Vec<(&String, &Counts)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.disagreements() + c.no_format() + c.missed() > 0)
            .collect();
        worst.sort_by_key(|(name, c)| {
            (
                std::cmp::Reverse((c.disagreements(), c.no_format(), c.missed())),
                *name,
            )
        });
        if !worst.is_empty() {
            let _ = writeln!(
                out,
                "\ncalls with a problem (disagree / no format / missed, of built / held)"
            );
            for (name, c) in worst.iter().take(most) {
                let _ = writeln!(
                    out,
                    "  {:>4} {:>4} {:>4}  of {:>4} / {:>4}  {name}",
                    c.disagreements(),
                    c.no_format(),
                    c.missed(),
                    c.built,
                    c.held_targets
                );
            }
        }
        for (title, cases) in [
            ("disagreements", &self.disagreements),
            ("ARNs that fit no format", &self.no_format),
            ("held ARNs not resolved", &self.missed),
        ] {
            if cases.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title} ({})", cases.len());
            for c in cases.iter().take(most) {
                let _ = write!(out, "  {} {}: {}", c.source, c.call, c.arn);
                if let Some(rule) = &c.rule {
                    let _ = write!(out, " (rule {rule})");
                }
                if !c.held.is_empty() {
                    let _ = write!(out, "; the record holds {}", c.held.join(", "));
                }
                let _ = writeln!(out);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str, rules: &str) -> Outcome {
        let rules = RuleSet::from_files(&[("r.toml".into(), rules.into())]).unwrap();
        let resolver = Resolver {
            rules: &rules,
            index: None,
            sources: Sources::rules_only(),
        };
        let event = Event::parse(json).unwrap();
        let resolved: Vec<String> = Resolver {
            sources: Sources::default(),
            ..resolver
        }
        .resolve(&event, json, &[])
        .resources
        .into_iter()
        .map(|t| t.arn)
        .collect();
        check_record(&resolver, &event, json, &resolved, "test:record 1".into())
    }

    const RULE: &str = r#"
[[rule]]
id = "x"
source = "secretsmanager.amazonaws.com"
events = ["PutResourcePolicy"]
  [[rule.extract]]
  path = "requestParameters.secretId"
  arn = "arn:{partition}:secretsmanager:{region}:{account}:secret:{value}"
  [[rule.test]]
  event = '{"eventSource": "secretsmanager.amazonaws.com", "eventName": "PutResourcePolicy", "awsRegion": "us-east-1", "recipientAccountId": "123456789012", "requestParameters": {"secretId": "s"}}'
  expect = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:s"]
"#;

    /// Shape of a real PutResourcePolicy record (streamalert, tests/corpus): the response
    /// holds the secret's full ARN, with the random suffix a name alone lacks.
    #[test]
    fn a_built_arn_the_record_contradicts_is_a_disagreement() {
        let json = r#"{"eventSource": "secretsmanager.amazonaws.com", "eventName": "PutResourcePolicy",
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "userIdentity": {"arn": "arn:aws:iam::123456789012:user/u"},
            "requestParameters": {"secretId": "test"},
            "responseElements": {"aRN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:test-zeCISw"}}"#;
        let outcome = one(json, RULE);
        assert_eq!(outcome.counts.disagreements(), 1);
        assert_eq!(
            outcome.disagreements[0].held,
            ["arn:aws:secretsmanager:us-east-1:123456789012:secret:test-zeCISw"]
        );
        assert_eq!(outcome.counts.fit.get(&Fit::ActedOn), Some(&1));
        // (c): the held ARN is a target of the call, and no rule resolved it.
        assert_eq!(
            (outcome.counts.held_targets, outcome.counts.missed()),
            (1, 1)
        );
    }

    #[test]
    fn a_built_arn_among_the_records_own_agrees_and_a_child_is_no_contradiction() {
        let json = r#"{"eventSource": "secretsmanager.amazonaws.com", "eventName": "PutResourcePolicy",
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "requestParameters": {"secretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:test-zeCISw"}}"#;
        let outcome = one(json, RULE);
        assert_eq!(outcome.counts.agreement.get(&Agreement::Agrees), Some(&1));
        assert_eq!(outcome.counts.missed(), 0);
        assert!(crate::arn::inside(
            "arn:a:g:r:1:group/g/deployments/d",
            "arn:a:g:r:1:group/g"
        ));
        assert!(!crate::arn::inside(
            "arn:a:s:r:1:secret:test-zeCISw",
            "arn:a:s:r:1:secret:test"
        ));
    }

    #[test]
    fn a_template_with_a_wrong_literal_fits_no_format() {
        let broken = RULE.replace(":secret:{value}", ":Secret:{value}");
        let broken = broken.replace(":secret:s\"]", ":Secret:s\"]");
        let json = r#"{"eventSource": "secretsmanager.amazonaws.com", "eventName": "PutResourcePolicy",
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "requestParameters": {"secretId": "test"}}"#;
        let outcome = one(json, &broken);
        assert_eq!(outcome.counts.no_format(), 1);
        assert_eq!(
            outcome.no_format[0].arn,
            "arn:aws:secretsmanager:us-east-1:123456789012:Secret:test"
        );
    }
}
