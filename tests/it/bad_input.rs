//! Bad input: corrupt gzip, truncated JSON, files that are not CloudTrail. The counts still add
//! up, the exit code says input was rejected, and every readable record is kept.

use serde_json::Value;

use crate::{gzip, root, stderr, stdout, tagtrail};

const REC: &str = r#"{"eventSource":"s3.amazonaws.com","eventName":"GetBucketAcl","awsRegion":"us-east-1","recipientAccountId":"401234567890","eventTime":"2026-11-20T10:00:00Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::401234567890:user/alice","accountId":"401234567890"},"requestParameters":{"bucketName":"bbb-reports"}}"#;

/// A folder with one good file and one of each kind of bad input.
fn bad_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let trail = |n: usize| format!(r#"{{"Records":[{}]}}"#, vec![REC; n].join(","));
    std::fs::write(p("good.json.gz"), gzip(trail(3).as_bytes())).unwrap();
    // A gzip cut in half: its first records are still readable.
    let big = gzip(trail(400).as_bytes());
    std::fs::write(p("corrupt.json.gz"), &big[..big.len() / 2]).unwrap();
    // Truncated JSON: two complete records, then the cut.
    let truncated = format!(r#"{{"Records":[{REC},{REC},{{"eventSource":"s3.amaz"#);
    std::fs::write(p("truncated.json"), truncated).unwrap();
    // JSON that is not CloudTrail, and a file that is not JSON.
    std::fs::write(
        p("package.json"),
        r#"{"name":"not-cloudtrail","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(p("notes.txt"), "hello\n").unwrap();
    dir
}

#[test]
fn resolve_counts_add_up_and_keeps_what_is_readable() {
    let dir = bad_folder();
    let out = tagtrail(dir.path(), &["resolve", "."]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "rejected input makes exit code 2"
    );
    let records = stdout(&out).lines().count();
    let err = stderr(&out);
    let counts: Vec<u64> = err
        .lines()
        .next()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let [read, resolved, unresolved, skipped, rejected, inputs] = counts[..] else {
        panic!("{err}")
    };
    assert_eq!(read, resolved + unresolved + skipped + rejected, "{err}");
    assert_eq!(inputs, 5);
    assert_eq!(skipped, 2, "package.json and notes.txt are skipped: {err}");
    assert_eq!(
        rejected, 2,
        "the corrupt gzip and the truncated JSON: {err}"
    );
    // 3 good + 2 before the truncation + the records before the gzip damage.
    assert!(
        records as u64 > 5,
        "records before the damage are kept: {records}"
    );
    assert_eq!(records as u64, resolved + unresolved);
    assert!(
        err.contains("corrupt.json.gz:") && err.contains("corrupt gzip"),
        "{err}"
    );
    assert!(
        err.contains("truncated.json:line 1: truncated JSON"),
        "{err}"
    );
}

#[test]
fn scan_exit_codes_follow_the_rule() {
    let dir = bad_folder();
    let inventory = root().join("examples/demo/inventory");
    let out_dir = dir.path().join("out");
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", ".", "--inventory", inventory.to_str().unwrap()];
        args.extend(["--out", out_dir.to_str().unwrap()]);
        args.extend_from_slice(extra);
        tagtrail(dir.path(), &args)
    };
    let out = scan(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let r = &summary["records"];
    let n = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(
        n("read"),
        n("resolved") + n("unresolved") + n("skipped") + n("rejected")
    );
    assert_eq!(n("rejected"), 2);
    assert_eq!(summary["rejected"].as_array().unwrap().len(), 2);
    // alice (aaa) reads bbb-reports in every readable record: all are findings.
    let mismatches = summary["findings"]["product-mismatch"].as_u64().unwrap();
    assert_eq!(mismatches, n("resolved"), "every readable record is judged");

    let out = scan(&["--allow-partial"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings at or above product-mismatch: {}",
        stderr(&out)
    );
    let out = scan(&["--allow-partial", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("rejected input"),
        "the summary lists rejected input"
    );
}

#[test]
fn bad_arguments_and_unreadable_inventory_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = tagtrail(dir.path(), &["scan", "nowhere", "--inventory", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no *.json inventory files"),
        "{}",
        stderr(&out)
    );
    std::fs::write(dir.path().join("inv.json"), "{\"Foo\": 1}").unwrap();
    let out = tagtrail(dir.path(), &["scan", "x", "--inventory", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("inv.json: not an inventory file"),
        "{}",
        stderr(&out)
    );
    let out = tagtrail(dir.path(), &["scan", "--demo", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    let out = tagtrail(dir.path(), &["scan", "--demo", "--fail-on", "bad-kind"]);
    assert_eq!(out.status.code(), Some(2));
}
