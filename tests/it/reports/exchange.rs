//! OCSF and ASFF findings: valid against the OCSF models and Security Hub's own validator, one
//! record per finding, ids stable from run to run.

use std::path::Path;

use crate::{root, tagtrail};

/// The Python of the test environment (`scripts/test` installs botocore and py-ocsf-models
/// beside moto).
fn python() -> std::path::PathBuf {
    crate::live::aws::moto_server().with_file_name("python")
}

fn ids(path: &Path, key: &str, lines: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let values: Vec<serde_json::Value> = if lines {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    values
        .iter()
        .map(|v| v.pointer(key).and_then(|s| s.as_str()).unwrap().to_string())
        .collect()
}

#[test]
fn ocsf_and_asff_findings_validate_and_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let scan = |out: &str| {
        let out = dir.path().join(out);
        let run = tagtrail(
            &root(),
            &[
                "scan",
                "--demo",
                "--format",
                "csv,ocsf,asff",
                "--fail-on",
                "never",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{}", crate::stderr(&run));
        out
    };
    let first = scan("first");
    let check = std::process::Command::new(python())
        .arg(root().join("scripts/validate_exchange.py"))
        .args([
            "--ocsf",
            first.join("findings.ocsf.jsonl").to_str().unwrap(),
        ])
        .args(["--asff", first.join("findings.asff.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", crate::stderr(&check));

    let rows = crate::finding_rows(&first).len();
    let ocsf = ids(
        &first.join("findings.ocsf.jsonl"),
        "/finding_info/uid",
        true,
    );
    let asff = ids(&first.join("findings.asff.json"), "/Id", false);
    assert!(rows > 0);
    assert_eq!(
        (ocsf.len(), asff.len()),
        (rows, rows),
        "one record per finding"
    );
    let distinct: std::collections::BTreeSet<_> = ocsf.iter().collect();
    assert_eq!(distinct.len(), rows, "ids are unique");
    for (o, a) in ocsf.iter().zip(&asff) {
        assert_eq!(a, &format!("tagtrail/{o}"));
    }
    let again = scan("again");
    assert_eq!(
        ids(
            &again.join("findings.ocsf.jsonl"),
            "/finding_info/uid",
            true
        ),
        ocsf,
        "the same accesses get the same ids in another run"
    );
}
