//! The generated pack, the SAR's data files and the quirk records of the evaluation are
//! written again from this repository and the pinned inputs (scripts/requirements.txt), and
//! are what is committed.

use std::path::PathBuf;
use std::process::Command;

use crate::{root, stderr};

/// Python with the pinned botocore (`scripts/test` makes it).
fn python() -> PathBuf {
    let candidate = std::env::var_os("TAGTRAIL_GENERATOR_PYTHON").map(PathBuf::from);
    crate::peer(
        "Python with scripts/requirements.txt (botocore 1.44.8)",
        candidate.filter(|p| p.is_file()),
    )
}

fn run(script: &str, args: &[&str]) {
    let out = Command::new(python())
        .arg(root().join("scripts").join(script))
        .args(args)
        .env("TAGTRAIL", env!("CARGO_BIN_EXE_tagtrail"))
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {}", stderr(&out));
}

#[test]
fn the_generator_writes_the_committed_pack_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated.toml");
    run("generate_rules.py", &["--out", out.to_str().unwrap()]);
    let written = std::fs::read_to_string(&out).unwrap();
    let committed = std::fs::read_to_string(root().join("rules/generated.toml")).unwrap();
    assert!(
        written == committed,
        "rules/generated.toml differs from what scripts/generate_rules.py writes now: run it"
    );
}

#[test]
fn the_sar_data_and_the_quirk_records_are_written_again_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    run("sar_targeting.py", &["--out", out]);
    let quirks = dir.path().join("quirks.jsonl.gz");
    run("eval_quirks.py", &["--out", quirks.to_str().unwrap()]);
    for (written, committed) in [
        ("resource-targeting.txt", "data/resource-targeting.txt"),
        ("arn-formats.txt", "data/arn-formats.txt"),
        ("quirks.jsonl.gz", "tests/eval/quirks.jsonl.gz"),
    ] {
        let new = std::fs::read(dir.path().join(written)).unwrap();
        let old = std::fs::read(root().join(committed)).unwrap();
        assert!(
            new == old,
            "{committed} differs from what its script writes now"
        );
    }
}
