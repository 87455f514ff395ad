//! Every CloudTrail container, read through the `resolve` command's JSON Lines contract.

use serde_json::Value;

use crate::{gzip, root, stderr, stdout, tagtrail};

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is JSON"))
        .collect()
}

fn arns(line: &Value) -> Vec<(String, String)> {
    line["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["arn"].as_str().unwrap().to_string(),
                r["via"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn lookup_events_names_become_arns() {
    let out = tagtrail(&root(), &["resolve", "tests/fixtures/lookup-events.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&stdout(&out));
    assert_eq!(got.len(), 3);
    // The article's three shapes: a trail ARN, a bare bucket name, a bare instance id.
    assert_eq!(
        arns(&got[0]),
        [(
            "arn:aws:cloudtrail:ap-northeast-1:123456789012:trail/hogeTrail".into(),
            "lookup".into()
        )]
    );
    assert_eq!(
        arns(&got[1]),
        [("arn:aws:s3:::hoge0109tmp".into(), "lookup".into())]
    );
    assert_eq!(
        arns(&got[2]),
        [(
            "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-05ae8f7dcc61815ac".into(),
            "lookup".into()
        )]
    );
    assert_eq!(
        got[2]["principal"]["arn"],
        "arn:aws:iam::123456789012:user/hoge0108"
    );
    assert_eq!(got[2]["principal"]["access_key_id"], "AKIAEXAMPLEHOGE0108");
    assert!(stderr(&out).contains("read 3: resolved 3, unresolved 0, skipped 0, rejected 0"));
}

#[test]
fn lookup_events_one_per_line() {
    let doc: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/fixtures/lookup-events.json")).unwrap(),
    )
    .unwrap();
    let lines_text: String = doc["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.jsonl"), lines_text).unwrap();
    let out = tagtrail(dir.path(), &["resolve", "events.jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&stdout(&out)).len(), 3);
    assert!(stderr(&out).contains("read 3: resolved 3"));
}

#[test]
fn eventbridge_envelopes_from_firehose() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(root().join("tests/fixtures/firehose-eventbridge.jsonl")).unwrap();
    std::fs::write(dir.path().join("firehose-1"), gzip(&text)).unwrap();
    let out = tagtrail(dir.path(), &["resolve", "firehose-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&stdout(&out));
    assert_eq!(got.len(), 2);
    assert_eq!(
        arns(&got[0]),
        [(
            "arn:aws:iam::123456789012:user/batch-runner".into(),
            "rule:iam-user".into()
        )]
    );
    assert_eq!(
        arns(&got[1]),
        [(
            "arn:aws:iam::123456789012:role/deploy".into(),
            "rule:iam-role".into()
        )]
    );
    assert_eq!(got[0]["source"], "firehose-1:line 1");
    assert!(
        stderr(&out).contains("read 3: resolved 2, unresolved 0, skipped 1, rejected 0"),
        "the scheduled event is skipped, not lost: {}",
        stderr(&out)
    );
}

#[test]
fn stdin_and_unresolved_reasons() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let records = r#"{"Records":[
        {"eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"ap-northeast-1","recipientAccountId":"123456789012",
         "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/hoge0108","accountId":"123456789012"},
         "requestParameters":{"instancesSet":{"items":[{"instanceId":"i-05ae8f7dcc61815ac"}]}}},
        {"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","recipientAccountId":"123456789012"},
        {"eventSource":"example.amazonaws.com","eventName":"DoSomething","recipientAccountId":"123456789012"}]}"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagtrail"))
        .arg("resolve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(records.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&stdout(&out));
    // EC2 StartInstances with no resources[]: the rule names the instance.
    assert_eq!(
        arns(&got[0]),
        [(
            "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-05ae8f7dcc61815ac".into(),
            "rule:ec2-resource-ids".into()
        )]
    );
    assert_eq!(got[0]["unresolved"], Value::Null);
    assert!(got[1]["unresolved"]
        .as_str()
        .unwrap()
        .starts_with("no-resource:"));
    assert!(got[2]["unresolved"]
        .as_str()
        .unwrap()
        .starts_with("no-rule:"));
    assert_eq!(got[2]["source"], "-:record 2");
}
