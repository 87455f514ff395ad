//! The self-check (`rules check --records`, `authoring::selfcheck`) over every record this
//! repository holds: every ARN a rule builds agrees with the full ARNs of its type that the
//! record itself holds.

use std::path::PathBuf;
use std::process::Command;

use tagtrail::authoring::selfcheck::{self, SelfCheck};
use tagtrail::pipeline::Inputs;
use tagtrail::ruleset::RuleSet;

use crate::{root, stderr};

/// AWS examples (tests/eval) whose own request and response name different resources of one
/// type: the rule builds the one the request names, the record holds the other. Their quirk
/// variants (`<id>+<quirk>`) are the same records.
const CONTRADICTING_FIXTURES: &[(&str, &str)] = &[
    (
        "awscli:docdb/start-db-cluster#1",
        "starts `sample-cluster`; the response shows `sample-cluster-2019-03-16-00-01-restored`",
    ),
    (
        "botocore:lambda/PublishVersion#1",
        "publishes `myFunction`; the response shows `my-function`",
    ),
    (
        "botocore:secretsmanager/DeleteResourcePolicy#1",
        "names `MyTestDatabaseSecret`; the response shows `MyTestDatabaseMasterSecret-a1b2c3`",
    ),
    (
        "botocore:secretsmanager/DeleteSecret#1",
        "names `MyTestDatabaseSecret1`; the response shows `MyTestDatabaseSecret-a1b2c3`",
    ),
];

/// Every record the repository holds: the real corpus, the AWS examples plain and with
/// CloudTrail's quirks, the demo trail, and 20,000 events of the bench generator.
fn every_record(dir: &std::path::Path) -> Vec<PathBuf> {
    let bench = dir.join("bench");
    let run = Command::new("python3")
        .arg(root().join("bench/synthetic/gen_corpus.py"))
        .args(["--events", "20000", "--seed", "42", "--out"])
        .arg(&bench)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    vec![
        root().join("tests/corpus"),
        root().join("tests/eval"),
        root().join("examples/demo/trail"),
        bench.join("AWSLogs"),
    ]
}

fn check(rules: &RuleSet, paths: &[PathBuf]) -> SelfCheck {
    selfcheck::check(&Inputs::Paths(paths.to_vec()), rules).unwrap()
}

fn unexpected(report: &SelfCheck) -> Vec<String> {
    report
        .disagreements
        .iter()
        .filter(|c| {
            let id = c.event_id.as_deref().unwrap_or_default();
            let base = id.split_once('+').map_or(id, |(b, _)| b);
            !CONTRADICTING_FIXTURES.iter().any(|(f, _)| *f == base)
        })
        .map(|c| {
            format!(
                "{} {} {}: {} vs {:?}",
                c.source,
                c.call,
                c.rule.as_deref().unwrap_or("-"),
                c.arn,
                c.held
            )
        })
        .collect()
}

#[test]
fn every_arn_a_rule_builds_agrees_with_the_record_it_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let paths = every_record(dir.path());
    let report = check(&RuleSet::builtin().unwrap(), &paths);
    print!("{}", report.to_text(20));
    assert!(report.tally.is_consistent() && report.tally.rejected == 0);
    assert!(report.total.records > 30_000, "{}", report.total.records);
    let wrong = unexpected(&report);
    assert!(
        wrong.is_empty(),
        "{} disagreement(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The list stays honest: each fixture it names still disagrees.
    for (id, why) in CONTRADICTING_FIXTURES {
        assert!(
            report
                .disagreements
                .iter()
                .any(|c| c.event_id.as_deref() == Some(*id)),
            "{id} ({why}) no longer disagrees: take it off the list"
        );
    }
}

/// A template bug of the kind real records showed (the resource type written twice) is
/// caught: the records that hold the function's own ARN disagree with it.
#[test]
fn a_template_broken_on_purpose_fails_the_self_check() {
    let files: Vec<(String, String)> = RuleSet::builtin_files()
        .into_iter()
        .map(|(name, text)| {
            let text = if name.ends_with("lambda.toml") {
                text.replace(":function:{name}\"", ":function:function:{name}\"")
            } else {
                text
            };
            (name, text)
        })
        .collect();
    let broken = RuleSet::from_files(&files).unwrap();
    let paths = [root().join("tests/corpus"), root().join("tests/eval")];
    let report = check(&broken, &paths);
    let wrong = unexpected(&report);
    println!("{} disagreement(s) with the broken template", wrong.len());
    assert!(wrong.len() >= 10, "{wrong:?}");
    assert!(report
        .disagreements
        .iter()
        .all(|c| c.rule.as_deref() == Some("lambda-function")
            || CONTRADICTING_FIXTURES
                .iter()
                .any(|(f, _)| c.event_id.as_deref().is_some_and(|id| id.starts_with(f)))));
}
