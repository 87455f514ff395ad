//! `rules test`: run every case embedded in the rule files and sort it as pass, missing
//! (expected, not found), noisy (found, not expected) or error, with `file:line`.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::context_of;
use super::{ArnIndex, Rule, RuleSet, RuleTest};

/// How one case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Missing,
    Noisy,
    Error,
}

/// The outcome of one embedded case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    pub file: String,
    pub line: usize,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: Status,
    /// Expected and not found.
    pub missing: Vec<String>,
    /// Found and not expected.
    pub noisy: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs every case of every rule.
pub fn run_all(set: &RuleSet) -> Vec<CaseOutcome> {
    set.rules()
        .iter()
        .flat_map(|rule| rule.tests.iter().map(move |case| run_case(rule, case)))
        .collect()
}

/// Runs one case: the rule alone (not `resources[]`) on the case's record.
pub fn run_case(rule: &Rule, case: &RuleTest) -> CaseOutcome {
    let mut outcome = CaseOutcome {
        file: rule.file.clone(),
        line: case.line,
        rule: rule.id.clone(),
        name: case.name.clone(),
        status: Status::Pass,
        missing: Vec::new(),
        noisy: Vec::new(),
        error: None,
    };
    match found_by(rule, case) {
        Err(error) => {
            outcome.status = Status::Error;
            outcome.error = Some(error);
        }
        Ok(found) => {
            let expected: BTreeSet<&str> = case.expect.iter().map(String::as_str).collect();
            let found: BTreeSet<&str> = found.iter().map(String::as_str).collect();
            outcome.missing = expected.difference(&found).map(|s| s.to_string()).collect();
            outcome.noisy = found.difference(&expected).map(|s| s.to_string()).collect();
            outcome.status = if !outcome.missing.is_empty() {
                Status::Missing
            } else if !outcome.noisy.is_empty() {
                Status::Noisy
            } else {
                Status::Pass
            };
        }
    }
    outcome
}

fn found_by(rule: &Rule, case: &RuleTest) -> Result<Vec<String>, String> {
    let record: Value =
        serde_json::from_str(&case.event).map_err(|e| format!("`event` is not JSON: {e}"))?;
    let text = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("");
    let (source, name) = (text("eventSource"), text("eventName"));
    if source != rule.source || !rule.matches(name) {
        return Err(format!(
            "the case's event `{source}:{name}` is not matched by the rule"
        ));
    }
    let event = crate::event::Event::parse(&case.event)
        .map_err(|e| format!("`event` is not a CloudTrail record: {e}"))?;
    let mut index = ArnIndex::default();
    for arn in &case.inventory {
        index.insert(arn);
    }
    let (partition, region, account) = context_of(&event);
    let ctx = super::EventContext {
        partition,
        region,
        account,
    };
    Ok(rule
        .extract(
            &super::LazyRecord::new(&event, &case.event),
            ctx,
            Some(&index),
        )
        .into_iter()
        .map(|e| e.arn)
        .collect())
}
