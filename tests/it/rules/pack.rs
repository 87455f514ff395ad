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

/// Copies the committed rule pack into a fresh folder.
fn copy_of_the_pack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

#[test]
fn rules_diff_fails_on_a_lost_resolution_and_passes_on_a_gain() {
    let corpus = crate::corpus_dir();
    let corpus = corpus.to_str().unwrap();
    let base = copy_of_the_pack();
    let base_dir = base.path().to_str().unwrap();

    // Dropping the S3 bucket extractor of `s3-bucket` loses resolutions.
    let head = copy_of_the_pack();
    let s3 = std::fs::read_to_string(head.path().join("s3.toml")).unwrap();
    let lossy = s3.replacen(
        "  [[rule.extract]]\n  path = \"requestParameters.bucketName\"\n  arn = \"arn:{partition}:s3:::{value}\"\n\n  [[rule.test]]\n  name = \"GetBucketAcl",
        "  [[rule.extract]]\n  path = \"requestParameters.bucketNameX\"\n  arn = \"arn:{partition}:s3:::{value}\"\n\n  [[rule.test]]\n  name = \"GetBucketAcl",
        1,
    );
    assert_ne!(lossy, s3, "the edit applies");
    std::fs::write(head.path().join("s3.toml"), lossy).unwrap();
    let head_dir = head.path().to_str().unwrap();
    let out = tagtrail(
        &root(),
        &[
            "rules", "diff", "--base", base_dir, "--rules", head_dir, corpus,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("s3.toml:") && text.contains("rule `s3-bucket`: gained 0, lost"),
        "{text}"
    );
    let out = tagtrail(
        &root(),
        &[
            "rules", "diff", "--base", base_dir, "--rules", head_dir, corpus, "--accept",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "--accept acknowledges the loss");
    let out = tagtrail(
        &root(),
        &[
            "rules", "diff", "--base", base_dir, "--rules", head_dir, corpus, "--format", "github",
        ],
    );
    assert!(stdout(&out).contains("::error file="), "{}", stdout(&out));

    // A new rule for a call nothing covered only gains: the account's own opt-in settings.
    let head = copy_of_the_pack();
    std::fs::write(
        head.path().join("account.toml"),
        r#"source = "account.amazonaws.com"

[[rule]]
id = "account-region-opt-status"
events = ["GetRegionOptStatus"]

  [[rule.extract]]
  path = "requestParameters.regionName"
  arn = "arn:{partition}:account::{account}:account"

  [[rule.test]]
  event = '''{"eventSource": "account.amazonaws.com", "eventName": "GetRegionOptStatus", "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "requestParameters": {"RegionName": "eu-north-1"}}'''
  expect = ["arn:aws:account::111111111111:account"]
"#,
    )
    .unwrap();
    let out = tagtrail(
        &root(),
        &[
            "rules",
            "diff",
            "--base",
            base_dir,
            "--rules",
            head.path().to_str().unwrap(),
            corpus,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("rule `account-region-opt-status`: gained 3, lost 0, changed 0"),
        "{text}"
    );
    assert!(text.contains(" 0 lost, 0 changed"), "{text}");
}

/// `--base REV` reads the rules of a git revision: in a repository of its own, the committed
/// pack against itself changes nothing (exit 0), and a lossy edit in the working tree fails
/// (exit 1).
#[test]
fn rules_diff_against_a_git_revision() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            crate::stderr(&out)
        );
    };
    git(&["init", "-q"]);
    let pack = copy_of_the_pack();
    let rules = repo.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for entry in std::fs::read_dir(pack.path()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, rules.join(path.file_name().unwrap())).unwrap();
    }
    git(&["add", "rules"]);
    git(&["commit", "-q", "-m", "pack"]);
    let corpus = crate::corpus_dir();
    let diff = || {
        tagtrail(
            repo.path(),
            &["rules", "diff", "--base", "HEAD", corpus.to_str().unwrap()],
        )
    };
    let out = diff();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        crate::stderr(&out)
    );
    assert!(
        stdout(&out).contains(": 0 gained, 0 lost, 0 changed"),
        "{}",
        stdout(&out)
    );

    let s3 = std::fs::read_to_string(rules.join("s3.toml")).unwrap();
    let lossy = s3.replace(
        "requestParameters.bucketName\"",
        "requestParameters.bucketNameX\"",
    );
    assert_ne!(lossy, s3, "the edit applies");
    std::fs::write(rules.join("s3.toml"), lossy).unwrap();
    let out = diff();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("rule `s3-bucket`: gained 0, lost"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn coverage_on_the_real_corpus() {
    let out = tagtrail(
        &root(),
        &[
            "rules",
            "coverage",
            crate::corpus_dir().to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", crate::stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["records", "resource_targeting", "resolved", "coverage"] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["records"], 4114);
    let coverage = report["coverage"].as_f64().unwrap();
    println!(
        "coverage of resource-targeting calls on the corpus: {:.1}%",
        100.0 * coverage
    );
    // Measured 2026-11-23: 86.5%. A rule change that lowers it fails here.
    assert!(coverage >= 0.905, "coverage fell to {coverage}");
}

#[test]
fn the_committed_schema_is_current() {
    let committed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("rules/schema.json")).unwrap()).unwrap();
    assert_eq!(
        committed,
        tagtrail::ruleset::schema::json_schema(),
        "rules/schema.json is stale: regenerate it with `tagtrail rules schema > rules/schema.json`"
    );
}

#[test]
fn rules_new_scaffolds_a_file_that_checks_and_asks_for_expectations() {
    let dir = copy_of_the_pack();
    let record = dir.path().join("record.json");
    std::fs::write(
        &record,
        r#"{"Records":[{"eventSource":"cloudsearch.amazonaws.com","eventName":"CreateDomain","awsRegion":"us-east-1","recipientAccountId":"111111111111","requestParameters":{"domainName":"demo-search"},"sourceIPAddress":"198.51.100.1"}]}"#,
    )
    .unwrap();
    let rules = dir.path().to_str().unwrap();
    let out = tagtrail(
        &root(),
        &[
            "rules",
            "new",
            "cloudsearch.amazonaws.com",
            "CreateDomain",
            "--from-record",
            record.to_str().unwrap(),
            "--rules",
            rules,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", crate::stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("cloudsearch-createdomain.toml")).unwrap();
    assert!(
        text.contains(r#""domainName":"demo-search""#) && !text.contains("sourceIPAddress"),
        "{text}"
    );
    assert_eq!(
        tagtrail(&root(), &["rules", "check", rules]).status.code(),
        Some(0)
    );
    let out = tagtrail(&root(), &["rules", "test", rules]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the case waits for its expected ARNs"
    );
    assert!(
        stdout(&out).contains("Noisy rule `cloudsearch-create-domain`"),
        "{}",
        stdout(&out)
    );
    // A call the pack covers already is refused.
    let out = tagtrail(
        &root(),
        &[
            "rules",
            "new",
            "s3.amazonaws.com",
            "GetObject",
            "--rules",
            rules,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::stderr(&out).contains("covered by rule `s3-object`"),
        "{}",
        crate::stderr(&out)
    );
}

/// Leave one service out: for each hand-written rule file, the pack without it (generated rules
/// and the ARN-in-record fallback still in) resolves the corpus records that file's rules
/// resolved; recall and precision are against what the whole pack found for those records.
/// Measures how far the rules generalise to a service nobody wrote rules for. Prints the table
/// docs/src/resolution.md gives; fails if the totals drop below what was measured.
#[test]
fn leave_one_service_out_on_the_corpus() {
    use std::collections::BTreeSet;
    use tagtrail::resolve::Sources;

    let files = crate::rule_files();
    let whole = crate::resolve_corpus(&RuleSet::from_files(&files).unwrap(), Sources::rules_only());
    let mut score = crate::Score::default();
    for (name, _) in files.iter().filter(|(n, _)| n != "generated.toml") {
        let set = RuleSet::from_files(&files).unwrap();
        let ids: BTreeSet<String> = set
            .rules()
            .iter()
            .filter(|r| r.file.ends_with(name.as_str()))
            .map(|r| r.id.clone())
            .collect();
        let without: Vec<(String, String)> =
            files.iter().filter(|(n, _)| n != name).cloned().collect();
        let left = crate::resolve_corpus(
            &RuleSet::from_files(&without).unwrap(),
            Sources::rules_only(),
        );
        score.add(name, &whole, &ids, &left, "");
    }
    let (recall, precision) = score.print("still found");
    // Measured 2026-11-30 (README, Rules that generalise): a drop fails here.
    assert!(
        recall >= LOSO_RECALL && precision >= LOSO_PRECISION,
        "recall {recall:.3}, precision {precision:.3}"
    );
}

/// The floors of `leave_one_service_out_on_the_corpus`, measured 2026-11-30 with the
/// generator's second version: 956 of 2,776 ARNs (0.3444) with 970 found (0.9856); the first
/// version found 340 of 2,731 (0.1245) at 0.9605. Raise them as the rules generalise.
const LOSO_RECALL: f64 = 0.344;
const LOSO_PRECISION: f64 = 0.985;
