//! `inventory fetch --from config` against a loopback server answering AWS Config in the real
//! wire format (moto's Config sends timestamps the SDK cannot read, and keeps no history):
//! a resource whose product changed, a deleted one, one Config refuses; then a scan judges each
//! access by what Config recorded as of its time.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::input::loopback;
use crate::{finding_rows, stderr, stdout};

const ACCOUNT: &str = "123456789012";

fn epoch(time: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(time)
        .unwrap()
        .timestamp() as f64
}

fn item(arn: &str, time: &str, status: &str, tags: Value) -> Value {
    json!({"arn": arn, "configurationItemCaptureTime": epoch(time), "configurationItemStatus": status,
           "tags": tags, "resourceType": "AWS::S3::Bucket", "accountId": ACCOUNT})
}

/// SelectResourceConfig in two pages, then each resource's history.
fn answer(operation: &str, request: &Value) -> (u16, Value) {
    let row = |id: &str| json!({"resourceType": "AWS::S3::Bucket", "resourceId": id}).to_string();
    match operation {
        "SelectResourceConfig" => match request["NextToken"].as_str() {
            None => (
                200,
                json!({"Results": [row("moved"), row("gone")], "NextToken": "p2"}),
            ),
            Some("p2") => (200, json!({"Results": [row("refused")]})),
            Some(other) => panic!("unexpected token {other}"),
        },
        "GetResourceConfigHistory" => match request["resourceId"].as_str().unwrap() {
            "moved" => (
                200,
                json!({"configurationItems": [
                    item("arn:aws:s3:::moved", "2026-11-01T00:00:00Z", "OK", json!({"product": "aaa"})),
                    item("arn:aws:s3:::moved", "2026-11-15T00:00:00Z", "OK", json!({"product": "bbb", "team": "x"})),
                ]}),
            ),
            "gone" => (
                200,
                json!({"configurationItems": [
                    item("arn:aws:s3:::gone", "2026-11-01T00:00:00Z", "ResourceDiscovered", json!({"product": "aaa"})),
                    item("arn:aws:s3:::gone", "2026-11-10T00:00:00Z", "ResourceDeleted", json!({})),
                ]}),
            ),
            _ => (
                400,
                json!({"__type": "ResourceNotDiscoveredException", "message": "Resource refused is not discovered"}),
            ),
        },
        other => panic!("unexpected call {other}"),
    }
}

#[test]
fn config_history_judges_each_access_by_the_tags_recorded_at_its_time() {
    let endpoint = loopback::start(Arc::new(answer));
    let dir = tempfile::tempdir().unwrap();
    let tagtrail = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tagtrail"))
            .args(args)
            .current_dir(dir.path())
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIATAGTRAILTEST0003")
            .env("AWS_SECRET_ACCESS_KEY", "config-test-secret")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let fetch = tagtrail(&[
        "inventory",
        "fetch",
        "--from",
        "config",
        "--out",
        "inv",
        "--regions",
        "us-east-1",
    ]);
    // The refused resource is reported and fails the fetch; the rest is written.
    assert_eq!(fetch.status.code(), Some(2), "{}", stderr(&fetch));
    assert_eq!(
        stdout(&fetch).trim(),
        "3 resources, 4 configuration items from AWS Config -> inv"
    );
    assert!(
        stderr(&fetch)
            .contains("config:GetResourceConfigHistory AWS::S3::Bucket refused us-east-1")
            && stderr(&fetch).contains("ResourceNotDiscoveredException"),
        "{}",
        stderr(&fetch)
    );
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("inv/config-us-east-1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        written["ConfigurationItems"][1]["CapturedAt"],
        "2026-11-15T00:00:00Z"
    );
    assert_eq!(
        written["ConfigurationItems"][1]["Tags"],
        json!([{"Key": "product", "Value": "bbb"}, {"Key": "team", "Value": "x"}])
    );

    std::fs::write(
        dir.path().join("inv/users.json"),
        format!(r#"{{"Users":[{{"Arn":"arn:aws:iam::{ACCOUNT}:user/alice","Tags":[{{"Key":"product","Value":"aaa"}}]}}]}}"#),
    )
    .unwrap();
    let read = |id: &str, time: &str, bucket: &str| {
        json!({"eventSource": "s3.amazonaws.com", "eventName": "GetBucketAcl", "eventID": id, "eventTime": time,
               "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT,
               "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/alice"), "accountId": ACCOUNT},
               "requestParameters": {"bucketName": bucket}})
        .to_string()
    };
    std::fs::write(
        dir.path().join("trail.jsonl"),
        [
            read("moved-early", "2026-11-05T00:00:00Z", "moved"),
            read("moved-late", "2026-11-20T00:00:00Z", "moved"),
            read("gone", "2026-11-05T00:00:00Z", "gone"),
        ]
        .join("\n"),
    )
    .unwrap();
    let scan = tagtrail(&[
        "scan",
        "trail.jsonl",
        "--inventory",
        "inv",
        "--out",
        "r",
        "--format",
        "csv,json",
    ]);
    assert_eq!(
        scan.status.code(),
        Some(1),
        "{}{}",
        stdout(&scan),
        stderr(&scan)
    );
    let rows = finding_rows(&dir.path().join("r"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("moved-late")
            && rows[0].contains(",bbb,config,")
            && rows[0].contains("product-mismatch"),
        "{rows:?}"
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r/summary.json")).unwrap())
            .unwrap();
    // moved before its change, and the deleted bucket while it existed: both aaa.
    assert_eq!(summary["counted"]["matches"], 2, "{summary}");

    // `--dated` writes a snapshot folder named by the time of the fetch, which a scan reads as one.
    tagtrail(&[
        "inventory",
        "fetch",
        "--from",
        "config",
        "--out",
        "snapshots",
        "--dated",
        "--regions",
        "us-east-1",
    ]);
    let folders: Vec<_> = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1);
    std::fs::copy(
        dir.path().join("inv/users.json"),
        folders[0].join("users.json"),
    )
    .unwrap();
    let scan = tagtrail(&[
        "scan",
        "trail.jsonl",
        "--inventory",
        "snapshots",
        "--out",
        "s",
        "--format",
        "json",
    ]);
    assert_eq!(scan.status.code(), Some(1), "{}", stderr(&scan));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s/summary.json")).unwrap())
            .unwrap();
    let name = folders[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let taken = summary["tag_history"]["snapshots"][0]
        .as_str()
        .unwrap()
        .replace(':', "");
    assert_eq!(taken, name, "{summary}");
}
