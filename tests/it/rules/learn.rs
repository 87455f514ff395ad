//! `rules learn` relearns what a service family's rules resolved: for each hand-written rule
//! file, the pack without every rule of that file's services (hand-written and generated),
//! plus the rules learned from the corpus and an inventory of the ARNs its records name
//! (`resources[]` and the whole pack's answers), resolves the records the removed rules
//! resolved; recall and precision are against what the whole pack found for them.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use tagtrail::authoring::learn;
use tagtrail::inventory::{Inventory, TagKey};
use tagtrail::pipeline::Inputs;
use tagtrail::resolve::Sources;
use tagtrail::ruleset::RuleSet;

use crate::{corpus_dir, resolve_corpus, root, Found, Score};

/// The whole pack, what it finds in the corpus (the truth), and the inventory: every ARN the
/// records name or the whole pack resolves.
struct Setup {
    files: Vec<(String, String)>,
    whole: RuleSet,
    truth: Found,
    inventory: Inventory,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let files = crate::rule_files();
        let whole = RuleSet::from_files(&files).unwrap();
        let truth = resolve_corpus(&whole, Sources::rules_only());
        let mut inventory = Inventory::new(TagKey {
            key: "product".into(),
            case_insensitive: false,
        });
        for (arns, _) in resolve_corpus(&whole, Sources::default()).values() {
            for arn in arns {
                inventory.insert(arn, []);
            }
        }
        Setup {
            files,
            whole,
            truth,
            inventory,
        }
    })
}

/// Removes every rule of the services of one hand-written rule file (and their generated
/// rules), learns from the corpus, and scores what the reduced pack plus the learned rules
/// find on the records the removed rules resolved.
fn relearn(file: &str, score: &mut Score) -> (f64, f64) {
    let Setup {
        whole,
        truth,
        inventory,
        ..
    } = setup();
    let family: BTreeSet<String> = whole
        .rules()
        .iter()
        .filter(|r| r.file.ends_with(file))
        .map(|r| r.source.clone())
        .collect();
    let removed: BTreeSet<String> = whole
        .rules()
        .iter()
        .filter(|r| family.contains(&r.source))
        .map(|r| r.id.clone())
        .collect();
    let reduced = whole.retain(|r| !family.contains(&r.source));
    let corpus = Inputs::Paths(vec![corpus_dir()]);
    let learned = learn::learn(&corpus, &reduced, inventory, 2).unwrap();
    let text = learn::to_toml(&learned);
    let rules = if text.contains("[[rule]]") {
        RuleSet::from_files(&[("learned.toml".into(), text)]).unwrap()
    } else {
        RuleSet::default()
    };
    let left = resolve_corpus(&reduced.extended(&rules), Sources::rules_only());
    let note = format!("  ({} learned rules)", rules.rules().len());
    score.add(file, truth, &removed, &left, &note)
}

/// Every hand-written rule file in turn: the table, and floors on the whole.
#[test]
fn rules_learn_relearns_a_removed_service_family() {
    let mut score = Score::default();
    for (name, _) in setup().files.iter().filter(|(n, _)| n != "generated.toml") {
        relearn(name, &mut score);
    }
    let (recall, precision) = score.print("relearned");
    assert!(
        recall >= LEARN_RECALL && precision >= LEARN_PRECISION,
        "recall {recall:.3}, precision {precision:.3}"
    );
}

/// The floors of `rules_learn_relearns_a_removed_service_family`, measured 2026-12-01 (SAR
/// resource types, contradictions by kind, names in the record's region, names under a parent,
/// IAM's calling user): 2,691 of 2,792 ARNs relearned (0.964) with 2,739 found (0.982). Raise
/// them as learning improves.
const LEARN_RECALL: f64 = 0.96;
const LEARN_PRECISION: f64 = 0.98;

/// The issue's target for one family: at least 90% of what its rules resolved, relearned with
/// a precision of at least 0.97.
fn assert_relearned(file: &str) {
    let (recall, precision) = relearn(file, &mut Score::default());
    assert!(
        recall >= 0.90 && precision >= 0.97,
        "{file}: recall {recall:.3}, precision {precision:.3}"
    );
}

#[test]
fn rules_learn_relearns_iam() {
    assert_relearned("iam.toml");
}

#[test]
fn rules_learn_relearns_s3() {
    assert_relearned("s3.toml");
}

#[test]
fn rules_learn_relearns_secrets_manager() {
    assert_relearned("secretsmanager.toml");
}

#[test]
fn rules_learn_relearns_rds() {
    assert_relearned("rds.toml");
}

#[test]
fn rules_learn_relearns_kms() {
    assert_relearned("kms.toml");
}

#[test]
fn rules_learn_relearns_sts() {
    assert_relearned("sts.toml");
}

#[test]
fn rules_learn_relearns_lambda() {
    assert_relearned("lambda.toml");
}

#[test]
fn rules_learn_relearns_cloudtrail() {
    assert_relearned("cloudtrail.toml");
}

/// The command: a rule file that loads beside the pack and whose cases pass `rules test`;
/// an existing file is never overwritten.
#[test]
fn rules_learn_writes_a_file_the_ci_gate_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory");
    std::fs::create_dir(&inventory).unwrap();
    // ARNs that corpus records of SSM compliance items name.
    std::fs::write(
        inventory.join("resources.json"),
        r#"{"ResourceTagMappingList":[
            {"ResourceARN":"arn:aws:ssm:us-east-1:123837392027:document/AWS-GatherSoftwareInventory","Tags":[]},
            {"ResourceARN":"arn:aws:ssm:us-east-1:123837392027:association/56fcb26d-8140-4f3f-8f77-7ff7344b4057","Tags":[]}]}"#,
    )
    .unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    // The pack without the files that cover PutComplianceItems, so that the call is left to
    // learning.
    for entry in std::fs::read_dir(root().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        let left_out = path.ends_with("ssm.toml") || path.ends_with("generated.toml");
        if path.extension().is_some_and(|e| e == "toml") && !left_out {
            std::fs::copy(&path, rules.join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = rules.join("learned.toml");
    let args = |out: &std::path::Path| {
        vec![
            "rules".to_string(),
            "learn".into(),
            corpus_dir().display().to_string(),
            "--inventory".into(),
            inventory.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--rules".into(),
            rules.display().to_string(),
        ]
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::tagtrail(dir.path(), &refs)
    };
    let learned = run(args(&out));
    assert_eq!(
        learned.status.code(),
        Some(0),
        "{}",
        crate::stderr(&learned)
    );
    assert!(
        crate::stdout(&learned).contains("ssm:PutComplianceItems"),
        "{}",
        crate::stdout(&learned)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("learned = true") && text.contains("[[rule.test]]"),
        "{text}"
    );
    let test = run(vec![
        "rules".into(),
        "test".into(),
        rules.display().to_string(),
    ]);
    assert_eq!(
        test.status.code(),
        Some(0),
        "{}{}",
        crate::stdout(&test),
        crate::stderr(&test)
    );
    let again = run(args(&out));
    assert_eq!(again.status.code(), Some(2));
    assert!(
        crate::stderr(&again).contains("exists"),
        "{}",
        crate::stderr(&again)
    );
}

/// The workflow on a trail the pack has not seen (the AWS examples of `tests/eval`, with an
/// inventory of the ARNs they target): `rules learn` beside the built-in pack, then a scan with
/// `--add-rules` resolves records the pack alone left unresolved, and loses none.
#[test]
fn learned_rules_beside_the_built_in_pack_resolve_more_of_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let eval = root().join("tests/eval");
    let truth: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(eval.join("truth.json")).unwrap()).unwrap();
    let arns: BTreeSet<&String> = truth.values().flatten().collect();
    let mappings: Vec<serde_json::Value> = arns
        .iter()
        .map(|a| serde_json::json!({"ResourceARN": a, "Tags": [{"Key": "product", "Value": "p"}]}))
        .collect();
    let inventory = dir.path().join("inventory");
    std::fs::create_dir(&inventory).unwrap();
    std::fs::write(
        inventory.join("resources.json"),
        serde_json::json!({ "ResourceTagMappingList": mappings }).to_string(),
    )
    .unwrap();
    let trail = eval.join("examples.jsonl.gz").display().to_string();
    let inventory = inventory.display().to_string();
    let learned = dir.path().join("learned.toml").display().to_string();
    let run = |args: &[&str]| {
        let out = crate::tagtrail(dir.path(), args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            crate::stderr(&out)
        );
        out
    };
    let taught = run(&[
        "rules",
        "learn",
        &trail,
        "--inventory",
        &inventory,
        "--out",
        &learned,
        "--min-records",
        "1",
    ]);
    assert!(
        crate::stdout(&taught).contains("--add-rules"),
        "{}",
        crate::stdout(&taught)
    );
    let resolved = |extra: &[&str]| -> u64 {
        let out = dir.path().join(format!("out{}", extra.len()));
        let out = out.display().to_string();
        let mut args = vec!["scan", &trail, "--inventory", &inventory, "--out", &out];
        args.extend_from_slice(extra);
        run(&args);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{out}/summary.json")).unwrap())
                .unwrap();
        summary["records"]["resolved"].as_u64().unwrap()
    };
    let alone = resolved(&[]);
    let beside = resolved(&["--add-rules", &learned]);
    println!("resolved records: pack {alone}, pack + learned {beside}");
    assert!(beside > alone, "pack {alone}, pack + learned {beside}");
}
