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

/// Inputs built to break a reader: each is counted and located, none stops the scan, the
/// counts add up and the exit code is 2 (rejected input), never a panic (101) or a signal.
#[test]
fn adversarial_inputs_are_counted_and_located_never_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    std::fs::write(p("a-good.json"), format!(r#"{{"Records":[{REC}]}}"#)).unwrap();
    // JSON nested far deeper than any record: as a document, and inside a record's request
    // (read lazily: a rule that walks it finds nothing, the reader does not overflow its stack).
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    std::fs::write(p("deep.json"), deep).unwrap();
    let deep_record = format!(
        r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{}1{}}}"#,
        r#"{"a":"#.repeat(5000),
        "}".repeat(5000)
    );
    std::fs::write(p("deep-record.jsonl"), format!("{REC}\n{deep_record}\n")).unwrap();
    // Bytes that are not UTF-8 inside a record, and a record with an 8 MB string.
    let mut latin1 = REC.replace("alice", "al\u{1}ice").into_bytes();
    let at = latin1.iter().position(|&b| b == 1).unwrap();
    latin1[at] = 0xE9;
    std::fs::write(p("latin1.jsonl"), &latin1).unwrap();
    let huge = REC.replace("bbb-reports", &"x".repeat(8 << 20));
    std::fs::write(p("huge-string.json"), huge).unwrap();
    // An empty file, an empty gzip member, and a gzip bomb: 64 MiB of spaces in ~64 KB,
    // refused by --max-file-mib 16.
    std::fs::write(p("empty.json"), "").unwrap();
    std::fs::write(p("empty.json.gz"), gzip(b"")).unwrap();
    std::fs::write(p("bomb.json.gz"), gzip(&vec![b' '; 64 << 20])).unwrap();
    // A symbolic-link loop, a dangling link, and a FIFO that nobody writes to.
    std::fs::create_dir(p("loop")).unwrap();
    std::os::unix::fs::symlink(p("loop"), p("loop/again")).unwrap();
    std::os::unix::fs::symlink(p("nowhere"), p("dangling.json")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(p("fifo.json"))
        .status();
    let has_fifo = fifo.is_ok_and(|s| s.success());

    let out_dir = tempfile::tempdir().unwrap();
    let inventory = root().join("examples/demo/inventory");
    let out = tagtrail(
        dir.path(),
        &[
            "scan",
            ".",
            "--inventory",
            inventory.to_str().unwrap(),
            "--out",
            out_dir.path().to_str().unwrap(),
            "--max-file-mib",
            "16",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.path().join("summary.json")).unwrap(),
    )
    .unwrap();
    let n = |k: &str| summary["records"][k].as_u64().unwrap();
    assert_eq!(
        n("read"),
        n("resolved") + n("unresolved") + n("skipped") + n("rejected")
    );
    let rejected: Vec<String> = summary["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["source"].as_str().unwrap(),
                p["reason"].as_str().unwrap()
            )
        })
        .collect();
    let named = |needle: &str, why: &str| {
        assert!(
            rejected
                .iter()
                .any(|r| r.contains(needle) && r.contains(why)),
            "{needle} ({why}) not among {rejected:#?}"
        )
    };
    named("deep.json", "not a CloudTrail record");
    named("latin1.jsonl", "line 1");
    named("bomb.json.gz", "larger than 16 MiB");
    named("loop", "loops back");
    named("dangling.json", "cannot read");
    if has_fifo {
        named("fifo.json", "not a regular file");
    }
    assert_eq!(n("rejected"), rejected.len() as u64);
    // The good record, the first line of deep-record.jsonl and the record with a huge string;
    // the deeply nested request is read, and its rule finds nothing in it.
    assert_eq!(n("resolved"), 3, "{summary:#}");
    assert_eq!(n("unresolved"), 1, "{summary:#}");
    assert!(
        n("skipped") >= 2,
        "the empty inputs are skipped: {summary:#}"
    );
}

#[test]
fn bad_flag_values_exit_2_with_a_message_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["scan", "--demo", "--since", "7é"][..],
        &["scan", "--demo", "--since", "99999999999w"],
        &["scan", "--demo", "--until", "18446744073709551615s"],
        &[
            "scan",
            "--demo",
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-01",
        ],
        &["scan", "--demo", "--format", "xml"],
        &["scan", "--demo", "--spill-rows", "-1"],
        &["scan", "--demo", "--max-file-mib", "0"],
        &["scan", "--demo", "--concurrency", "x"],
        &["scan", "--demo", "--logs", "https://bucket/x"],
        &["scan", "--demo", "--log-format", "yaml"],
        &["scan", "--demo", "--tag-key="],
        &["scan", "--demo", "--regions", "us-east-1,,eu-west-1"],
        &["resolve", "--since", "é"],
        &["rules", "coverage", "missing-folder"],
        &[
            "rules",
            "new",
            "s3.amazonaws.com",
            "X",
            "--from-record",
            "missing.json",
        ],
    ] {
        let out = tagtrail(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        // A cause is said once, not repeated by the chain.
        assert!(
            !message.contains("(os error 2): No such file"),
            "{args:?}: {message}"
        );
        assert!(message.contains("error"), "{args:?}: {message}");
    }
}
