//! The rule pack's embedded cases run under `cargo test`, and broken rules fail `rules check`
//! and `rules test` with a `file:line` message.

use tagtrail::ruleset::testing::{run_all, Status};
use tagtrail::ruleset::RuleSet;

use crate::{root, stdout, tagtrail};

#[test]
fn every_embedded_rule_case_passes() {
    let set = RuleSet::load_dir(&root().join("rules")).unwrap_or_else(|e| panic!("{e}"));
    let outcomes = run_all(&set);
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.status != Status::Pass)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(
        outcomes.len() >= 90,
        "the pack carries its cases: {}",
        outcomes.len()
    );
    for rule in set.rules() {
        assert!(!rule.tests.is_empty(), "rule {} has no case", rule.id);
    }
}

#[test]
fn the_committed_pack_checks_clean() {
    let out = tagtrail(&root(), &["rules", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("ok: "));
}

const GOOD: &str = r#"source = "sqs.amazonaws.com"

[[rule]]
id = "sqs-queue"
events = ["SendMessage"]

  [[rule.extract]]
  path = "requestParameters.queueUrl"
  regex = '^https://sqs\.(?P<r>[a-z0-9-]+)\.amazonaws\.com/(?P<a>\d{12})/(?P<name>[^/]+)$'
  arn = "arn:{partition}:sqs:{r}:{a}:{name}"

  [[rule.test]]
  event = '''{"eventSource": "sqs.amazonaws.com", "eventName": "SendMessage", "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "requestParameters": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/444455556666/jobs"}}'''
  expect = ["arn:aws:sqs:us-east-1:444455556666:jobs"]
"#;

#[test]
fn a_broken_rule_fails_check_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let broken = GOOD
        .replace(
            "path = \"requestParameters.queueUrl\"",
            "path = \"requestParams.queueUrl\"",
        )
        .replace(
            "events = [\"SendMessage\"]",
            "events = [\"SendMessage\"]\nevent_names = []",
        );
    std::fs::write(dir.path().join("sqs.toml"), broken).unwrap();
    let out = tagtrail(dir.path(), &["rules", "check", "."]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("sqs.toml:6:1: unknown key `event_names`"),
        "{text}"
    );
    assert!(
        text.contains("sqs.toml:9:10: bad path `requestParams.queueUrl`"),
        "{text}"
    );

    let out = tagtrail(dir.path(), &["rules", "check", ".", "--format", "github"]);
    assert!(
        stdout(&out).contains("::error file=./sqs.toml,line=6,col=1::unknown key"),
        "{}",
        stdout(&out)
    );

    let out = tagtrail(dir.path(), &["rules", "test", "."]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "rules test refuses to run on broken files"
    );
}

#[test]
fn a_wrong_expectation_fails_test_as_missing_and_noisy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sqs.toml"), GOOD).unwrap();
    let out = tagtrail(dir.path(), &["rules", "test", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 passed, 0 failed"));

    // The queue belongs to the account in its URL, not to the recipient: a rule that uses
    // {account} instead is wrong, and its case says so.
    let wrong = GOOD.replace(
        "arn:{partition}:sqs:{r}:{a}:{name}",
        "arn:{partition}:sqs:{r}:{account}:{name}",
    );
    std::fs::write(dir.path().join("sqs.toml"), wrong).unwrap();
    let out = tagtrail(dir.path(), &["rules", "test", "."]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("./sqs.toml:12: Missing rule `sqs-queue`"),
        "{text}"
    );
    assert!(
        text.contains("missing (expected, not found): arn:aws:sqs:us-east-1:444455556666:jobs"),
        "{text}"
    );
    assert!(
        text.contains("noisy (found, not expected): arn:aws:sqs:us-east-1:111122223333:jobs"),
        "{text}"
    );
    assert!(text.contains("0 passed, 1 failed"), "{text}");

    let out = tagtrail(dir.path(), &["rules", "test", ".", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["failed"], 1);
    assert_eq!(json["cases"][0]["status"], "missing");
}

#[test]
fn a_case_for_another_api_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sqs.toml"),
        GOOD.replace(
            "\"eventName\": \"SendMessage\"",
            "\"eventName\": \"DeleteQueue\"",
        ),
    )
    .unwrap();
    let out = tagtrail(dir.path(), &["rules", "test", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("Error rule `sqs-queue`: error: the case's event `sqs.amazonaws.com:DeleteQueue` is not matched"), "{}", stdout(&out));
}

#[test]
fn overlapping_rules_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        GOOD.replace("id = \"sqs-queue\"", "id = \"sqs-queue-2\""),
    )
    .unwrap();
    let out = tagtrail(dir.path(), &["rules", "check", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(
            "b.toml:3:1: `sqs.amazonaws.com:SendMessage` is matched by rule `sqs-queue` too"
        ),
        "{}",
        stdout(&out)
    );
}
