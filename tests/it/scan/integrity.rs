//! The trail read, checked against CloudTrail's digest files while it is read: the demo's
//! digests (real digests of its trail, hourly, chained) vouch for it; a modified, deleted or
//! extra log file, a deleted or forged digest are each reported, in `summary.json`, on stdout and
//! in the HTML report; `--require-integrity` turns any of them into exit code 2.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{gunzip, gzip, root, stderr, stdout, tagtrail};

/// A copy of the demo's trail, to damage.
fn demo_copy(dir: &Path) -> PathBuf {
    let trail = dir.join("trail");
    for entry in walkdir::WalkDir::new(root().join("examples/demo/trail")) {
        let entry = entry.unwrap();
        let to = trail.join(
            entry
                .path()
                .strip_prefix(root().join("examples/demo/trail"))
                .unwrap(),
        );
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    trail
}

const LOG: &str = "AWSLogs/401234567890/CloudTrail/us-east-1/2026/11/21/401234567890_CloudTrail_us-east-1_20261121T2355Z_demo211.json.gz";
const DIGEST: &str = "AWSLogs/401234567890/CloudTrail-Digest/us-east-1/2026/11/21/401234567890_CloudTrail-Digest_us-east-1_demo_us-east-1_20261121T115900Z.json.gz";

/// Scans `trail` with the demo's inventory and policy; returns the exit code, stdout and the
/// summary.
fn scan(trail: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String, Value) {
    let demo = root().join("examples/demo");
    let (inventory, policy) = (demo.join("inventory"), demo.join("policy.toml"));
    let mut args = vec![
        "scan",
        trail.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "parquet,csv,json,html",
    ];
    args.extend_from_slice(extra);
    let run = tagtrail(&root(), &args);
    let summary =
        std::fs::read(out.join("summary.json")).unwrap_or_else(|e| panic!("{e}: {}", stderr(&run)));
    (
        run.status.code(),
        stdout(&run),
        serde_json::from_slice(&summary).unwrap(),
    )
}

fn objects(summary: &Value, list: &str) -> Vec<String> {
    summary["integrity"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_demos_digests_vouch_for_its_trail() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text, summary) = scan(
        &root().join("examples/demo/trail"),
        dir.path(),
        &["--require-integrity"],
    );
    assert_eq!(
        code,
        Some(1),
        "product mismatches, and integrity passes: {text}"
    );
    let integrity = &summary["integrity"];
    assert_eq!(integrity["digests"], 98);
    assert_eq!(integrity["log_files_verified"], 6);
    assert_eq!(
        integrity["signatures_not_verifiable"], 98,
        "a local copy has no S3 metadata"
    );
    assert!(
        text.contains("digests  98 digest file(s): 6 log file(s) verified"),
        "{text}"
    );
    assert!(!text.contains("INTEGRITY FAILED"));
}

#[test]
fn a_modified_log_file_is_reported_its_records_still_counted_and_required_integrity_fails() {
    let dir = tempfile::tempdir().unwrap();
    let trail = demo_copy(dir.path());
    // One record's source IP changed, the file gzipped again: still a valid trail file.
    let path = trail.join(LOG);
    let text = String::from_utf8(gunzip(&std::fs::read(&path).unwrap())).unwrap();
    let forged = text.replacen(
        "\"sourceIPAddress\":\"",
        "\"sourceIPAddress\":\"10.9.9.9,",
        1,
    );
    assert_ne!(forged, text);
    std::fs::write(&path, gzip(forged.as_bytes())).unwrap();

    let (code, text, summary) = scan(&trail, &dir.path().join("a"), &[]);
    assert_eq!(
        code,
        Some(1),
        "without the flag the exit code follows --fail-on: {text}"
    );
    assert_eq!(
        objects(&summary, "log_files_modified"),
        [path.display().to_string()]
    );
    assert_eq!(
        summary["records"]["resolved"], 47,
        "its records are still read and counted"
    );
    assert!(
        text.contains("INTEGRITY FAILED") && text.contains("log file modified"),
        "{text}"
    );
    let html = std::fs::read_to_string(dir.path().join("a/report.html")).unwrap();
    assert!(html.contains("Integrity check failed") && html.contains("demo211"));

    let (code, _, _) = scan(&trail, &dir.path().join("b"), &["--require-integrity"]);
    assert_eq!(code, Some(2));
}

#[test]
fn a_deleted_log_file_an_extra_one_and_a_deleted_digest_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let trail = demo_copy(dir.path());
    std::fs::remove_file(trail.join(LOG)).unwrap();
    std::fs::remove_file(trail.join(DIGEST)).unwrap();
    let extra = trail.join(LOG.replace("T2355Z_demo211", "T1030Z_extra"));
    std::fs::write(&extra, gzip(br#"{"Records":[]}"#)).unwrap();

    let (code, text, summary) = scan(&trail, &dir.path().join("out"), &["--require-integrity"]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(
        objects(&summary, "log_files_missing"),
        [format!("s3://demo-trail/{LOG}")]
    );
    assert_eq!(
        objects(&summary, "log_files_not_in_any_digest"),
        [extra.display().to_string()]
    );
    assert_eq!(objects(&summary, "digests_missing"), [DIGEST]);
    assert_eq!(
        summary["integrity"]["streams"]["AWSLogs/401234567890/CloudTrail/us-east-1/"]["faults"],
        3
    );
}

#[test]
fn a_forged_digest_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let trail = demo_copy(dir.path());
    // The digest that lists the 21st's log file rewritten to list nothing, as someone hiding
    // that file would: the next digest's hash of it no longer matches.
    let listing = "AWSLogs/401234567890/CloudTrail-Digest/us-east-1/2026/11/21/401234567890_CloudTrail-Digest_us-east-1_demo_us-east-1_20261121T235900Z.json.gz";
    let path = trail.join(listing);
    let digest: Value = serde_json::from_slice(&gunzip(&std::fs::read(&path).unwrap())).unwrap();
    assert_eq!(digest["logFiles"].as_array().unwrap().len(), 1, "{digest}");
    let mut forged = digest.clone();
    forged["logFiles"] = serde_json::json!([]);
    std::fs::write(&path, gzip(forged.to_string().as_bytes())).unwrap();

    let (code, text, summary) = scan(&trail, &dir.path().join("out"), &["--require-integrity"]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(
        objects(&summary, "digests_invalid"),
        [path.display().to_string()]
    );
    // The file it no longer lists is read but in no digest.
    assert_eq!(objects(&summary, "log_files_not_in_any_digest").len(), 1);
}

#[test]
fn a_trail_without_digests_fails_only_when_integrity_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let trail = demo_copy(dir.path());
    for account in ["401234567890", "402345678901"] {
        std::fs::remove_dir_all(
            trail
                .join("AWSLogs")
                .join(account)
                .join("CloudTrail-Digest"),
        )
        .unwrap();
    }
    let (code, _, summary) = scan(&trail, &dir.path().join("a"), &[]);
    assert_eq!(code, Some(1));
    assert!(
        summary.get("integrity").is_none(),
        "no digests, nothing to say"
    );
    let (code, _, _) = scan(&trail, &dir.path().join("b"), &["--require-integrity"]);
    assert_eq!(code, Some(2));
    // LookupEvents has no digests: the flag is refused, not silently unmet.
    let inventory = root().join("examples/demo/inventory");
    let run = tagtrail(
        dir.path(),
        &[
            "scan",
            "--lookup-events",
            "--require-integrity",
            "--inventory",
            inventory.to_str().unwrap(),
            "--out",
            "o",
        ],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("LookupEvents has neither"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn a_stream_whose_digests_are_all_gone_is_not_vouched_for() {
    let dir = tempfile::tempdir().unwrap();
    let trail = demo_copy(dir.path());
    std::fs::remove_dir_all(trail.join("AWSLogs/402345678901/CloudTrail-Digest")).unwrap();
    let (code, text, summary) = scan(&trail, &dir.path().join("a"), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(summary["integrity"]["log_files_verified"], 3);
    assert_eq!(summary["integrity"]["log_files_without_digests"], 3);
    let (code, _, _) = scan(&trail, &dir.path().join("b"), &["--require-integrity"]);
    assert_eq!(
        code,
        Some(2),
        "the other account's files are vouched for by nothing"
    );
}

/// Scheduled runs over a local copy (signed by `tests/it/live/signed_trail.py`, read without
/// S3 metadata): the second run checks the log files the first read against the digest that
/// arrived since, and its first digest against the last one the first run read; a digest
/// deleted between runs breaks the chain and fails `--require-integrity`.
#[test]
fn scheduled_runs_over_a_local_copy_keep_the_chain_and_the_hashes() {
    let python = crate::live::aws::moto_server().with_file_name("python");
    let work = tempfile::tempdir().unwrap();
    let made = work.path().join("made");
    let generated = std::process::Command::new(python)
        .arg(root().join("tests/it/live/signed_trail.py"))
        .arg(&made)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", stderr(&generated));
    let trail = work.path().join("trail");
    // Copies the log files of `hours`, and their digests when `digests`.
    let deliver = |hours: &[u32], digests: bool| {
        for entry in walkdir::WalkDir::new(made.join("files")) {
            let entry = entry.unwrap();
            let name = entry.file_name().to_str().unwrap().to_string();
            if !entry.file_type().is_file() {
                continue;
            }
            let parts: Vec<&str> = name.split('_').collect();
            let is_digest = name.contains("CloudTrail-Digest");
            let stamp = parts[parts.len() - if is_digest { 1 } else { 2 }];
            let hour: u32 = stamp[9..11].parse::<u32>().unwrap() - u32::from(is_digest);
            if !hours.contains(&hour) || (is_digest && !digests) {
                continue;
            }
            let to = trail.join(entry.path().strip_prefix(made.join("files")).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), to).unwrap();
        }
    };
    let demo = root().join("examples/demo");
    let run = |now: &str| {
        let out = tagtrail(
            work.path(),
            &[
                "scan",
                trail.to_str().unwrap(),
                "--inventory",
                demo.join("inventory").to_str().unwrap(),
                "--state",
                "state.json",
                "--out",
                "root",
                "--now",
                now,
                "--fail-on",
                "never",
                "--require-integrity",
            ],
        );
        let mut summaries: Vec<PathBuf> = walkdir::WalkDir::new(work.path().join("root"))
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.ends_with("summary.json"))
            .collect();
        summaries.sort();
        let newest = summaries.last().unwrap();
        let summary: Value = serde_json::from_slice(&std::fs::read(newest).unwrap()).unwrap();
        (
            out.status.code(),
            summary["integrity"].clone(),
            stderr(&out),
        )
    };

    deliver(&[9], true);
    let (code, first, err) = run("2026-11-21T10:10:00Z");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        (&first["log_files_verified"], &first["chain_starts"]),
        (&2.into(), &1.into()),
        "{first:#}"
    );
    // Log files alone: hashed all the same, and kept for the digest to come.
    deliver(&[10], false);
    let (code, second, err) = run("2026-11-21T10:50:00Z");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(second["log_files_awaiting_digest"], 2, "{second:#}");

    deliver(&[10], true);
    let (code, third, err) = run("2026-11-21T11:10:00Z");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        (
            &third["digests"],
            &third["log_files_verified"],
            &third["chain_starts"]
        ),
        (&1.into(), &2.into(), &0.into()),
        "the 10:00 files read by the run before, checked now: {third:#}"
    );

    // The 11:00 digest never arrives: 12:00's names it.
    deliver(&[11], false);
    deliver(&[12], true);
    let (code, fourth, err) = run("2026-11-21T13:10:00Z");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        fourth["digests_missing"][0]["object"]
            .as_str()
            .unwrap()
            .contains("20261121T120000Z"),
        "{fourth:#}"
    );
}
