//! `--lookup-events` against a loopback server (`loopback`) that answers LookupEvents in the
//! real wire format (awsJson1_1): three pages, one throttling answer, and measured pacing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::input::loopback;
use crate::{stderr, stdout};

/// What the server saw: when each request came and the token it asked for.
type Log = Arc<Mutex<Vec<(Instant, Option<String>)>>>;

fn record(id: &str, name: &str, source: &str) -> String {
    json!({
        "eventVersion": "1.08", "eventID": id, "eventName": name, "eventSource": source,
        "eventTime": "2021-01-09T01:00:00Z", "awsRegion": "ap-northeast-1", "recipientAccountId": "123456789012",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/hoge0108", "accountId": "123456789012"},
        "requestParameters": null
    })
    .to_string()
}

fn page(
    id: &str,
    name: &str,
    source: &str,
    kind: &str,
    resource: &str,
    next: Option<&str>,
) -> Value {
    let mut body = json!({"Events": [{
        "EventId": id, "EventName": name, "ReadOnly": "false", "EventTime": 1610154000.0, "EventSource": source,
        "Username": "hoge0108", "Resources": [{"ResourceType": kind, "ResourceName": resource}],
        "CloudTrailEvent": record(id, name, source),
    }]});
    if let Some(token) = next {
        body["NextToken"] = json!(token);
    }
    body
}

/// LookupEvents: page 1, a throttling error, then pages 2 and 3.
fn answer(request: &Value, log: &Log) -> (u16, Value) {
    let token = request["NextToken"].as_str().map(str::to_string);
    let seen = {
        let mut log = log.lock().unwrap();
        log.push((Instant::now(), token.clone()));
        log.len()
    };
    match (token.as_deref(), seen) {
        (None, _) => (
            200,
            page(
                "e1",
                "StartInstances",
                "ec2.amazonaws.com",
                "AWS::EC2::Instance",
                "i-05ae8f7dcc61815ac",
                Some("t1"),
            ),
        ),
        (Some("t1"), 2) => (
            400,
            json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
        ),
        (Some("t1"), _) => (
            200,
            page(
                "e2",
                "CreateBucket",
                "s3.amazonaws.com",
                "AWS::S3::Bucket",
                "hoge0109tmp",
                Some("t2"),
            ),
        ),
        (Some("t2"), _) => (
            200,
            page(
                "e3",
                "UpdateTrail",
                "cloudtrail.amazonaws.com",
                "AWS::CloudTrail::Trail",
                "arn:aws:cloudtrail:ap-northeast-1:123456789012:trail/hogeTrail",
                None,
            ),
        ),
        (Some(other), _) => panic!("unexpected token {other}"),
    }
}

#[test]
fn lookup_events_pages_throttling_and_pacing() {
    let log: Log = Arc::default();
    let server_log = log.clone();
    let endpoint = loopback::start(Arc::new(move |_, request| answer(request, &server_log)));

    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tagtrail"))
        .args(["resolve", "--lookup-events", "--regions", "ap-northeast-1"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIATAGTRAILTEST0002")
        .env("AWS_SECRET_ACCESS_KEY", "lookup-test-secret")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_REGION")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // The three pages' resources, as LookupEvents named them, turned into ARNs.
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let arns: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["resources"][0]["arn"].as_str().unwrap(),
                l["resources"][0]["via"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        arns,
        [
            (
                "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-05ae8f7dcc61815ac",
                "lookup"
            ),
            ("arn:aws:s3:::hoge0109tmp", "lookup"),
            (
                "arn:aws:cloudtrail:ap-northeast-1:123456789012:trail/hogeTrail",
                "lookup"
            ),
        ]
    );
    assert_eq!(
        lines[0]["source"],
        "lookup-events:ap-northeast-1:page 1:record 0"
    );
    assert!(
        stderr(&out).contains("read 3: resolved 3, unresolved 0, skipped 0, rejected 0"),
        "{}",
        stderr(&out)
    );

    // Four requests: three pages and the retry of the throttled one.
    let log = log.lock().unwrap();
    let tokens: Vec<Option<&str>> = log.iter().map(|(_, t)| t.as_deref()).collect();
    assert_eq!(tokens, [None, Some("t1"), Some("t1"), Some("t2")]);
    // Pacing: each page's first request is at least 0.5 s after the previous page's (2 per
    // second); the SDK's retry of the throttled request comes on top.
    let firsts = [log[0].0, log[1].0, log[3].0];
    for pair in firsts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(480),
            "requests {gap:?} apart: faster than 2 per second"
        );
    }
}
