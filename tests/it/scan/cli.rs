//! `tagtrail scan` on the bundled demo: the expected findings (checked by hand against
//! examples/demo/generate.py), the Parquet schema, identical reruns, exit codes and windows.

use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use crate::{gzip, root, stderr, stdout, tagtrail};

fn scan_demo(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["scan", "--demo", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    tagtrail(&root(), &args)
}

/// (kind, principal, resource, via, denied) of every finding row, from the CSV.
fn csv_rows(dir: &Path) -> Vec<[String; 5]> {
    let text = std::fs::read_to_string(dir.join("findings.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (kind, principal, resource, via, denied) = (
        col("kind"),
        col("principal_arn"),
        col("resource_arn"),
        col("resolved_via"),
        col("denied"),
    );
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            [kind, principal, resource, via, denied].map(|i| cells[i].to_string())
        })
        .collect()
}

#[test]
fn demo_findings_are_the_planted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = scan_demo(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "product-mismatch findings fail the run: {}",
        stderr(&out)
    );
    const A1: &str = "arn:aws:iam::401234567890";
    let row = |kind: &str, principal: &str, resource: &str, via: &str, denied: bool| {
        [
            kind,
            principal,
            resource,
            via,
            if denied { "true" } else { "false" },
        ]
        .map(str::to_string)
    };
    let expected = vec![
        // 2026-11-20: bob (bbb) stops an aaa instance; no resources[] in the record.
        row("product-mismatch", &format!("{A1}:user/bob"), "arn:aws:ec2:us-east-1:401234567890:instance/i-0aaa1111111111111", "rule:ec2-resource-ids", false),
        // aaa-app (role with a path) reads a bbb object: resources[] names bucket and object.
        row("product-mismatch", &format!("{A1}:role/service/aaa-app"), "arn:aws:s3:::bbb-reports", "resources", false),
        row("product-mismatch", &format!("{A1}:role/service/aaa-app"), "arn:aws:s3:::bbb-reports/2026/q3.csv", "resources", false),
        // 2026-11-21: alice (aaa) reads a bbb secret by name; the suffix comes from the inventory.
        row("product-mismatch", &format!("{A1}:user/alice"), "arn:aws:secretsmanager:us-east-1:401234567890:secret:bbb/api-key-XyZ789", "inventory", false),
        // carol has no product tag.
        row("untagged-principal", &format!("{A1}:user/carol"), "arn:aws:ec2:us-east-1:401234567890:instance/i-0bbb2222222222222", "rule:ec2-resource-ids", false),
        row("untagged-resource", &format!("{A1}:user/alice"), "arn:aws:s3:::logs-untagged", "rule:s3-bucket", false),
        // bbb-batch from the other account sends to an aaa queue.
        row("product-mismatch", "arn:aws:iam::402345678901:role/bbb-batch", "arn:aws:sqs:us-east-1:401234567890:aaa-orders", "rule:sqs-queue", false),
        // 2026-11-22: bob tries to delete an aaa object and is denied.
        row("product-mismatch", &format!("{A1}:user/bob"), "arn:aws:s3:::aaa-data", "resources", true),
        row("product-mismatch", &format!("{A1}:user/bob"), "arn:aws:s3:::aaa-data/daily/21.parquet", "resources", true),
        row("resource-not-in-inventory", &format!("{A1}:user/alice"), "arn:aws:ec2:us-east-1:401234567890:instance/i-0ccc3333333333333", "rule:ec2-resource-ids", false),
        row("unresolved-resource", &format!("{A1}:user/alice"), "", "", false),
        // An Identity Center session (aaa) reconfigures a bbb function in the other account.
        row(
            "product-mismatch",
            &format!("{A1}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdminAccess_2b1c3d4e5f6a7b8c"),
            "arn:aws:lambda:eu-west-1:402345678901:function:bbb-worker",
            "rule:lambda-function",
            false,
        ),
    ];
    assert_eq!(csv_rows(dir.path()), expected);

    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["records"],
        serde_json::json!({"read": 149, "resolved": 47, "unresolved": 4, "skipped": 98, "rejected": 0})
    );
    // Hourly digests of two streams over 49 hours.
    assert_eq!(summary["skipped_by_reason"]["CloudTrail digest file"], 98);
    assert_eq!(summary["counted"]["matches"], 36);
    assert_eq!(
        summary["counted"]["allowed_by_policy"], 8,
        "shared bucket reads and the CI role"
    );
    assert_eq!(summary["counted"]["service_events"], 3);
    assert_eq!(summary["denied_attempts"], 2);
    assert!(
        stdout(&out).contains("product-mismatch                  8"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn parquet_reads_back_with_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    scan_demo(dir.path(), &["--fail-on", "never"]);
    let file = std::fs::File::open(dir.path().join("findings.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    assert_eq!(df.height(), 12);
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    let documented: Vec<&str> = tagtrail::report::SCHEMA
        .iter()
        .map(|(n, _, _)| *n)
        .collect();
    assert_eq!(names, documented);
    assert_eq!(
        df.column("event_time").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
    );
    for (name, kind, _) in tagtrail::report::SCHEMA {
        let dtype = df.column(name).unwrap().dtype().clone();
        match *kind {
            "string" => assert_eq!(dtype, DataType::String, "{name}"),
            "bool" => assert_eq!(dtype, DataType::Boolean, "{name}"),
            _ => {}
        }
    }
    let kinds = df.column("kind").unwrap().str().unwrap();
    assert_eq!(kinds.get(0), Some("product-mismatch"));
}

#[test]
fn two_runs_give_identical_csv() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    scan_demo(a.path(), &[]);
    scan_demo(b.path(), &[]);
    let read = |d: &Path| std::fs::read(d.join("findings.csv")).unwrap();
    assert_eq!(read(a.path()), read(b.path()));
    assert!(!read(a.path()).is_empty());
}

#[test]
fn findings_spilled_to_disk_come_back_in_the_same_order() {
    // Runs of two rows: the 12 findings of the demo go through six spilled runs and the merge.
    let (held, spilled) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    scan_demo(held.path(), &[]);
    let out = scan_demo(spilled.path(), &["--spill-rows", "2", "-v"]);
    assert!(
        stderr(&out).contains("findings sorted runs=6"),
        "{}",
        stderr(&out)
    );
    for file in ["findings.csv", "findings.parquet"] {
        let read = |d: &Path| std::fs::read(d.join(file)).unwrap();
        assert_eq!(read(held.path()), read(spilled.path()), "{file}");
    }
    let left: Vec<_> = std::fs::read_dir(spilled.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 3, "no spill file is left behind: {left:?}");
}

#[test]
fn formats_fail_on_and_no_half_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = scan_demo(
        dir.path(),
        &["--format", "csv", "--fail-on", "untagged-resource"],
    );
    assert_eq!(out.status.code(), Some(1));
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["findings.csv"],
        "only the asked format, no temporary file left"
    );
    let out = scan_demo(dir.path(), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn csv_cells_that_look_like_formulas_are_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv");
    std::fs::create_dir(&inv).unwrap();
    std::fs::write(
        inv.join("tags.json"),
        r#"{"ResourceTagMappingList":[{"ResourceARN":"arn:aws:s3:::b","Tags":[{"Key":"product","Value":"=HYPERLINK(\"http://x\")"}]}],
            "UserDetailList":[{"Arn":"arn:aws:iam::1:user/u","Tags":[{"Key":"product","Value":"@aaa"}]}]}"#,
    )
    .unwrap();
    let rec = r#"{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"GetBucketAcl","eventID":"-1","awsRegion":"us-east-1","recipientAccountId":"1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u","accountId":"1"},"requestParameters":{"bucketName":"b"}}]}"#;
    std::fs::write(dir.path().join("t.json"), rec).unwrap();
    let out = tagtrail(
        dir.path(),
        &[
            "scan",
            "t.json",
            "--inventory",
            "inv",
            "--out",
            "out",
            "--fail-on",
            "never",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = std::fs::read_to_string(dir.path().join("out/findings.csv")).unwrap();
    assert!(csv.contains(",'-1,"), "{csv}");
    assert!(csv.contains(",'@aaa,"), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    let df =
        ParquetReader::new(std::fs::File::open(dir.path().join("out/findings.parquet")).unwrap())
            .finish()
            .unwrap();
    assert_eq!(
        df.column("principal_product")
            .unwrap()
            .str()
            .unwrap()
            .get(0),
        Some("@aaa"),
        "Parquet keeps the raw value"
    );
}

#[test]
fn days_outside_the_window_are_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let day = |d: &str| {
        let p = dir
            .path()
            .join(format!("AWSLogs/1/CloudTrail/us-east-1/2026/11/{d}"));
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let rec = |t: &str| {
        format!(
            r#"{{"Records":[{{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventTime":"{t}","recipientAccountId":"1"}}]}}"#
        )
    };
    std::fs::write(
        day("20").join("a.json.gz"),
        b"not gzip at all, and not JSON",
    )
    .unwrap();
    std::fs::write(
        day("21").join("b.json.gz"),
        gzip(rec("2026-11-21T10:00:00Z").as_bytes()),
    )
    .unwrap();
    std::fs::write(
        day("22").join("c.json.gz"),
        gzip(rec("2026-11-22T10:00:00Z").as_bytes()),
    )
    .unwrap();
    let inv = root().join("examples/demo/inventory");
    let out = tagtrail(
        dir.path(),
        &[
            "scan",
            "AWSLogs",
            "--inventory",
            inv.to_str().unwrap(),
            "--out",
            "out",
            "--since",
            "2026-11-21T00:00:00Z",
            "--until",
            "2026-11-22T05:00:00Z",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["inputs"], 2, "day 20 was not opened");
    assert_eq!(summary["records"]["read"], 2);
    assert_eq!(
        summary["skipped_by_reason"]["outside the time window"], 1,
        "day 22's record is outside --until"
    );
}

/// A scheduled run ends with one line for the scheduler's log: as a JSON object with
/// `--log-format json`, whatever the log level.
#[test]
fn a_scan_ends_with_one_status_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = scan_demo(dir.path(), &["--log-format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let last: Value = serde_json::from_str(stderr(&out).lines().last().unwrap()).unwrap();
    assert_eq!(last["target"], "tagtrail::done");
    let fields = &last["fields"];
    assert_eq!(fields["message"], "scan finished");
    assert_eq!(fields["read"], 149);
    assert_eq!(
        fields["read"].as_u64(),
        ["resolved", "unresolved", "skipped", "rejected"]
            .iter()
            .map(|k| fields[k].as_u64().unwrap())
            .sum::<u64>()
            .into()
    );
    assert_eq!(fields["findings"], 12);
    assert_eq!(fields["exit_code"], 0);
}

/// Standard input can be read once: the history pass keeps it for the verdict pass, so a scan
/// of a trail piped in finds what a scan of the same records in a file finds.
#[test]
fn a_trail_on_standard_input_is_scanned_in_both_passes() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trail.json");
    let records: Vec<u8> = ["2026/11/20", "2026/11/21"]
        .iter()
        .flat_map(|day| {
            let folder = root().join(format!(
                "examples/demo/trail/AWSLogs/401234567890/CloudTrail/us-east-1/{day}"
            ));
            std::fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect::<Vec<_>>()
        })
        .flat_map(|path| {
            let text = String::from_utf8(crate::gunzip(&std::fs::read(path).unwrap())).unwrap();
            text.into_bytes()
        })
        .collect();
    std::fs::write(&file, &records).unwrap();
    let inventory = root().join("examples/demo/inventory");
    let args = |out: &str| -> Vec<String> {
        [
            "scan",
            "--inventory",
            inventory.to_str().unwrap(),
            "--out",
            out,
            "--format",
            "csv",
            "--fail-on",
            "never",
        ]
        .map(str::to_string)
        .to_vec()
    };
    let mut from_file = args("a");
    from_file.push(file.display().to_string());
    let refs: Vec<&str> = from_file.iter().map(String::as_str).collect();
    assert_eq!(tagtrail(dir.path(), &refs).status.code(), Some(0));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tagtrail"))
        .args(args("b"))
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&records).unwrap();
    assert!(child.wait().unwrap().success());
    let rows = |out: &str| -> Vec<String> {
        // The source column names the file or `-`: compared without it.
        crate::finding_rows(&dir.path().join(out))
            .into_iter()
            .map(|r| r.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    let (a, b) = (rows("a"), rows("b"));
    assert!(!a.is_empty());
    assert_eq!(a, b);
}
