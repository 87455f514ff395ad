//! Verdicts by the tags in force at each event's time, on scenarios whose answers were worked
//! out by hand: a resource or principal whose product changes mid-window through each kind of
//! tag API (a failed call ignored), dated inventory snapshots, a role chain with session tags
//! from an Identity Center sign-in, a cross-account call logged in both accounts, and a record
//! CloudTrail delivered again with corrections.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::{stderr, stdout, tagtrail};

const A: &str = "111122223333";
const B: &str = "444455556666";

fn at(day: u32, hour: u32) -> String {
    format!("2026-11-{day:02}T{hour:02}:00:00Z")
}

fn user(name: &str) -> Value {
    json!({"type": "IAMUser", "arn": format!("arn:aws:iam::{A}:user/{name}"), "accountId": A,
           "accessKeyId": format!("AKIA{}", name.to_uppercase()), "userName": name})
}

/// A role session: `role` is the role's path and name.
fn session(account: &str, role: &str, key: &str) -> Value {
    let name = role.rsplit('/').next().unwrap();
    json!({"type": "AssumedRole", "accountId": account, "accessKeyId": key,
           "arn": format!("arn:aws:sts::{account}:assumed-role/{name}/s"),
           "sessionContext": {"sessionIssuer": {"type": "Role", "accountId": account,
               "arn": format!("arn:aws:iam::{account}:role/{role}"), "userName": name}}})
}

/// A record; `fields` adds or overrides top-level fields.
fn record(id: &str, time: &str, who: Value, source: &str, name: &str, fields: Value) -> Value {
    let mut r = json!({"eventVersion": "1.09", "eventID": id, "eventTime": time, "eventSource": source,
        "eventName": name, "awsRegion": "us-east-1", "recipientAccountId": A, "userIdentity": who,
        "eventType": "AwsApiCall"});
    for (k, v) in fields.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// A read of `arn` named in `resources[]`.
fn access(id: &str, time: &str, who: Value, arn: &str) -> Value {
    let service = arn.split(':').nth(2).unwrap();
    record(
        id,
        time,
        who,
        &format!("{service}.amazonaws.com"),
        "ReadSomething",
        json!({"resources": [{"ARN": arn, "accountId": A}]}),
    )
}

fn write_inventory(
    dir: &Path,
    resources: &[(&str, Option<&str>)],
    principals: &[(&str, Option<&str>)],
) {
    std::fs::create_dir_all(dir).unwrap();
    let tags = |p: &Option<&str>| match p {
        Some(v) => json!([{"Key": "product", "Value": v}]),
        None => json!([{"Key": "team", "Value": "x"}]),
    };
    let list: Vec<Value> = resources
        .iter()
        .map(|(arn, p)| json!({"ResourceARN": arn, "Tags": tags(p)}))
        .collect();
    std::fs::write(
        dir.join("resources.json"),
        json!({"ResourceTagMappingList": list}).to_string(),
    )
    .unwrap();
    let users: Vec<Value> = principals
        .iter()
        .map(|(arn, p)| json!({"Arn": arn, "Tags": tags(p)}))
        .collect();
    std::fs::write(
        dir.join("principals.json"),
        json!({"Users": users}).to_string(),
    )
    .unwrap();
}

/// (event id, kind, resource, principal product, resource product, principal tag source,
/// resource tag source, previous resource product) of every finding.
type Row = [String; 8];

/// Scans `trail`, and checks that `tagtrail sql` run by each of `engines` finds the same.
fn scan(trail: &[Value], inventory: &Path, out: &Path, engines: &[&str]) -> (BTreeSet<Row>, Value) {
    let trail_file = out.join("trail.jsonl");
    std::fs::create_dir_all(out).unwrap();
    let lines: Vec<String> = trail.iter().map(Value::to_string).collect();
    std::fs::write(&trail_file, lines.join("\n")).unwrap();
    let reports = out.join("reports");
    let run_into = |reports: &Path, extra: &[&str]| {
        let mut args = vec![
            "scan",
            trail_file.to_str().unwrap(),
            "--inventory",
            inventory.to_str().unwrap(),
            "--out",
            reports.to_str().unwrap(),
            "--format",
            "csv,json",
            "--fail-on",
            "never",
        ];
        args.extend_from_slice(extra);
        let run = tagtrail(out, &args);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}{}",
            stdout(&run),
            stderr(&run)
        );
    };
    run_into(&reports, &[]);
    same_as_two_pass_reference("history scenario", &reports, |reference| {
        run_into(reference, &["--two-pass-reference"])
    });
    let text = std::fs::read_to_string(reports.join("findings.csv")).unwrap();
    let summary =
        serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
            .unwrap();
    let rows = rows_of(&text);
    // The scan as SQL (`tagtrail sql`) gives the same findings, tag sources included.
    for engine in engines {
        let sql_out = out.join(engine);
        crate::sql::sql_scan(engine, &[&trail_file], inventory, &sql_out, &[]);
        let sql_rows: BTreeSet<Row> =
            crate::sql::string_columns(&sql_out.join("findings.parquet"), COLUMNS)
                .into_iter()
                .map(|cells| cells.map(Option::unwrap_or_default))
                .collect();
        let missing: Vec<_> = rows.difference(&sql_rows).collect();
        let extra: Vec<_> = sql_rows.difference(&rows).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{engine}: only the scan {missing:#?}\nonly SQL {extra:#?}"
        );
        println!("{engine}: the same {} findings as the scan", rows.len());
    }
    (rows, summary)
}

/// Checks that the scan whose reports are in `reports` (one read, judging deferred) found,
/// counted and wrote what the order before it finds: a first read for the history alone, then
/// a second that judges. `reference` runs that scan into the folder it is given.
pub(crate) fn same_as_two_pass_reference(
    what: &str,
    reports: &Path,
    reference: impl FnOnce(&Path),
) {
    let folder = reports.with_file_name(format!(
        "{}-reference",
        reports.file_name().unwrap().to_string_lossy()
    ));
    reference(&folder);
    for file in ["findings.csv", "summary.json"] {
        let (one, two) = (
            std::fs::read_to_string(reports.join(file)).unwrap(),
            std::fs::read_to_string(folder.join(file)).unwrap(),
        );
        let differ = one.lines().zip(two.lines()).find(|(a, b)| a != b);
        assert!(
            one == two,
            "{what}: {file} differs from the two-pass reference ({} and {} lines; first: {differ:?})",
            one.lines().count(),
            two.lines().count()
        );
    }
}

/// The columns of a [`Row`].
const COLUMNS: [&str; 8] = [
    "event_id",
    "kind",
    "resource_arn",
    "principal_product",
    "resource_product",
    "principal_tag_source",
    "resource_tag_source",
    "previous_resource_product",
];

/// The [`Row`]s of a findings CSV file.
fn rows_of(text: &str) -> BTreeSet<Row> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns = COLUMNS.map(|name| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"))
    });
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            columns.map(|i| cells[i].to_string())
        })
        .collect()
}

fn row(cells: [&str; 8]) -> Row {
    cells.map(str::to_string)
}

#[test]
fn each_tag_api_changes_the_verdict_from_its_time_on() {
    let dir = tempfile::tempdir().unwrap();
    let arn = |s: &str| match s.split_once(':') {
        Some(("s3", b)) => format!("arn:aws:s3:::{b}"),
        Some(("ec2", i)) => format!("arn:aws:ec2:us-east-1:{A}:instance/{i}"),
        Some(("sqs", q)) => format!("arn:aws:sqs:us-east-1:{A}:{q}"),
        Some(("lambda", f)) => format!("arn:aws:lambda:us-east-1:{A}:function:{f}"),
        Some(("user", u)) => format!("arn:aws:iam::{A}:user/{u}"),
        Some(("role", r)) => format!("arn:aws:iam::{A}:role/{r}"),
        _ => unreachable!(),
    };
    // Today's inventory: the state after every change below.
    write_inventory(
        &dir.path().join("inventory"),
        &[
            (&arn("s3:b-put"), Some("bbb")),
            (&arn("s3:b-del"), None),
            (&arn("s3:b-aaa"), Some("aaa")),
            (&arn("s3:b-stale"), Some("aaa")),
            (&arn("ec2:i-1"), Some("bbb")),
            (&arn("ec2:i-2"), None),
            (&arn("sqs:q1"), Some("bbb")),
            (&arn("sqs:q2"), None),
            (&arn("sqs:q-new"), Some("ccc")),
            (&arn("lambda:f1"), Some("bbb")),
        ],
        &[
            (&arn("user:alice"), Some("aaa")),
            (&arn("user:admin"), None),
            (&arn("user:bob"), Some("bbb")),
            (&arn("role:r2"), None),
        ],
    );
    let admin = || user("admin");
    let s3 = |id: &str, t: &str, name: &str, bucket: &str, request: Value| {
        let mut r = json!({"bucketName": bucket});
        for (k, v) in request.as_object().unwrap() {
            r[k] = v.clone();
        }
        record(
            id,
            t,
            admin(),
            "s3.amazonaws.com",
            name,
            json!({"requestParameters": r}),
        )
    };
    let put_bucket_tagging = |id: &str, t: &str, bucket: &str, value: &str| {
        s3(
            id,
            t,
            "PutBucketTagging",
            bucket,
            json!({"Tagging": {"TagSet": {"Tag": [{"Key": "team", "Value": "x"}, {"Key": "product", "Value": value}]}}}),
        )
    };
    let ec2 = |id: &str, t: &str, name: &str, instance: &str, tags: Value| {
        record(
            id,
            t,
            admin(),
            "ec2.amazonaws.com",
            name,
            json!({"requestParameters": {
            "resourcesSet": {"items": [{"resourceId": instance}]}, "tagSet": {"items": tags}}}),
        )
    };
    let sqs = |id: &str, t: &str, name: &str, queue: &str, request: Value| {
        let mut r = json!({"queueUrl": format!("https://sqs.us-east-1.amazonaws.com/{A}/{queue}")});
        for (k, v) in request.as_object().unwrap() {
            r[k] = v.clone();
        }
        record(
            id,
            t,
            admin(),
            "sqs.amazonaws.com",
            name,
            json!({"requestParameters": r}),
        )
    };
    let iam = |id: &str, t: &str, name: &str, request: Value| {
        record(
            id,
            t,
            admin(),
            "iam.amazonaws.com",
            name,
            json!({"requestParameters": request}),
        )
    };
    let mut failed = put_bucket_tagging("put-failed", &at(4, 2), "b-put", "zzz");
    failed["errorCode"] = json!("AccessDenied");
    failed["errorMessage"] = json!("Access Denied");
    let alice = || user("alice");
    let trail = vec![
        // S3: replace, then clear.
        put_bucket_tagging("put-1", &at(1, 1), "b-put", "aaa"),
        access("put-a1", &at(2, 1), alice(), &arn("s3:b-put")),
        put_bucket_tagging("put-2", &at(3, 1), "b-put", "bbb"),
        access("put-a2", &at(4, 1), alice(), &arn("s3:b-put")),
        failed,
        access("put-a3", &at(5, 1), alice(), &arn("s3:b-put")),
        put_bucket_tagging("del-1", &at(1, 2), "b-del", "aaa"),
        access("del-a1", &at(2, 2), alice(), &arn("s3:b-del")),
        s3(
            "del-2",
            &at(3, 2),
            "DeleteBucketTagging",
            "b-del",
            json!({"tagging": ""}),
        ),
        access("del-a2", &at(4, 2), alice(), &arn("s3:b-del")),
        // EC2: CreateTags, DeleteTags.
        ec2(
            "ec2-1",
            &at(1, 3),
            "CreateTags",
            "i-1",
            json!([{"key": "product", "value": "aaa"}]),
        ),
        access("ec2-a1", &at(2, 3), alice(), &arn("ec2:i-1")),
        ec2(
            "ec2-2",
            &at(3, 3),
            "CreateTags",
            "i-1",
            json!([{"key": "product", "value": "bbb"}]),
        ),
        access("ec2-a2", &at(4, 3), alice(), &arn("ec2:i-1")),
        ec2(
            "ec2-3",
            &at(1, 4),
            "CreateTags",
            "i-2",
            json!([{"key": "product", "value": "aaa"}]),
        ),
        access("ec2-a3", &at(2, 4), alice(), &arn("ec2:i-2")),
        ec2(
            "ec2-4",
            &at(3, 4),
            "DeleteTags",
            "i-2",
            json!([{"key": "product"}]),
        ),
        access("ec2-a4", &at(4, 4), alice(), &arn("ec2:i-2")),
        // A service's TagResource family: SQS (a map), Lambda (versioned name).
        sqs(
            "sqs-1",
            &at(1, 5),
            "TagQueue",
            "q1",
            json!({"tags": {"product": "aaa"}}),
        ),
        access("sqs-a1", &at(2, 5), alice(), &arn("sqs:q1")),
        sqs(
            "sqs-2",
            &at(3, 5),
            "TagQueue",
            "q1",
            json!({"tags": {"product": "bbb"}}),
        ),
        access("sqs-a2", &at(4, 5), alice(), &arn("sqs:q1")),
        sqs(
            "sqs-3",
            &at(1, 6),
            "TagQueue",
            "q2",
            json!({"tags": {"product": "aaa"}}),
        ),
        access("sqs-a3", &at(2, 6), alice(), &arn("sqs:q2")),
        sqs(
            "sqs-4",
            &at(3, 6),
            "UntagQueue",
            "q2",
            json!({"tagKeys": ["product"]}),
        ),
        access("sqs-a4", &at(4, 6), alice(), &arn("sqs:q2")),
        record(
            "fn-1",
            &at(1, 7),
            admin(),
            "lambda.amazonaws.com",
            "TagResource20170331v2",
            json!({"requestParameters": {"resource": arn("lambda:f1"), "tags": {"product": "aaa"}}}),
        ),
        access("fn-a1", &at(2, 7), alice(), &arn("lambda:f1")),
        record(
            "fn-2",
            &at(3, 7),
            admin(),
            "lambda.amazonaws.com",
            "TagResource20170331v2",
            json!({"requestParameters": {"resource": arn("lambda:f1"), "tags": {"product": "bbb"}}}),
        ),
        access("fn-a2", &at(4, 7), alice(), &arn("lambda:f1")),
        // A creation that carries tags.
        sqs(
            "new-1",
            &at(1, 8),
            "CreateQueue",
            "q-new",
            json!({"queueName": "q-new", "tags": {"product": "ccc"}}),
        ),
        access("new-a1", &at(2, 8), alice(), &arn("sqs:q-new")),
        // Today's inventory still says aaa: it predates the trail's change to bbb, so that is
        // a tag change from aaa.
        put_bucket_tagging("stale-1", &at(3, 11), "b-stale", "bbb"),
        access("stale-a1", &at(2, 11), alice(), &arn("s3:b-stale")),
        access("stale-a2", &at(4, 11), alice(), &arn("s3:b-stale")),
        // IAM: a user's and a role's own tags.
        iam(
            "bob-1",
            &at(1, 9),
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "product", "value": "aaa"}]}),
        ),
        access("bob-a1", &at(2, 9), user("bob"), &arn("s3:b-aaa")),
        iam(
            "bob-2",
            &at(3, 9),
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "product", "value": "bbb"}]}),
        ),
        access("bob-a2", &at(4, 9), user("bob"), &arn("s3:b-aaa")),
        iam(
            "r2-1",
            &at(1, 10),
            "TagRole",
            json!({"roleName": "r2", "tags": [{"key": "product", "value": "aaa"}]}),
        ),
        access(
            "r2-a1",
            &at(2, 10),
            session(A, "r2", "ASIAR2"),
            &arn("s3:b-aaa"),
        ),
        iam(
            "r2-2",
            &at(3, 10),
            "UntagRole",
            json!({"roleName": "r2", "tagKeys": ["product"]}),
        ),
        access(
            "r2-a2",
            &at(4, 10),
            session(A, "r2", "ASIAR2"),
            &arn("s3:b-aaa"),
        ),
    ];
    let (rows, summary) = scan(
        &trail,
        &dir.path().join("inventory"),
        &dir.path().join("run"),
        &["duckdb", "spark"],
    );
    let untagged_admin = |id: &str, resource: &str, product: &str, source: &str| {
        row([
            id,
            "untagged-principal",
            resource,
            "",
            product,
            "iam",
            source,
            "",
        ])
    };
    let (b_put, b_del, i1, i2, q1, q2, f1) = (
        arn("s3:b-put"),
        arn("s3:b-del"),
        arn("ec2:i-1"),
        arn("ec2:i-2"),
        arn("sqs:q1"),
        arn("sqs:q2"),
        arn("lambda:f1"),
    );
    let expected: BTreeSet<Row> = [
        // The first tag call of each resource is judged by today's tags: nothing earlier is known,
        // so it is no tag-change either. The second is judged by the first, and is one.
        untagged_admin("put-1", &b_put, "bbb", "current"),
        untagged_admin("put-2", &b_put, "aaa", "trail"),
        row([
            "put-2",
            "tag-change",
            &b_put,
            "",
            "bbb",
            "iam",
            "trail",
            "aaa",
        ]),
        row([
            "put-a2",
            "product-mismatch",
            &b_put,
            "aaa",
            "bbb",
            "iam",
            "trail",
            "",
        ]),
        // The refused call changed nothing: b-put stays bbb.
        untagged_admin("put-failed", &b_put, "bbb", "trail"),
        row([
            "put-a3",
            "product-mismatch",
            &b_put,
            "aaa",
            "bbb",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("del-1", &b_del, "", "current"),
        untagged_admin("del-2", &b_del, "aaa", "trail"),
        row(["del-2", "tag-change", &b_del, "", "", "iam", "trail", "aaa"]),
        row([
            "del-a2",
            "untagged-resource",
            &b_del,
            "aaa",
            "",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("ec2-1", &i1, "bbb", "current"),
        untagged_admin("ec2-2", &i1, "aaa", "trail"),
        row(["ec2-2", "tag-change", &i1, "", "bbb", "iam", "trail", "aaa"]),
        row([
            "ec2-a2",
            "product-mismatch",
            &i1,
            "aaa",
            "bbb",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("ec2-3", &i2, "", "current"),
        untagged_admin("ec2-4", &i2, "aaa", "trail"),
        row(["ec2-4", "tag-change", &i2, "", "", "iam", "trail", "aaa"]),
        row([
            "ec2-a4",
            "untagged-resource",
            &i2,
            "aaa",
            "",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("sqs-1", &q1, "bbb", "current"),
        untagged_admin("sqs-2", &q1, "aaa", "trail"),
        row(["sqs-2", "tag-change", &q1, "", "bbb", "iam", "trail", "aaa"]),
        row([
            "sqs-a2",
            "product-mismatch",
            &q1,
            "aaa",
            "bbb",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("sqs-3", &q2, "", "current"),
        untagged_admin("sqs-4", &q2, "aaa", "trail"),
        row(["sqs-4", "tag-change", &q2, "", "", "iam", "trail", "aaa"]),
        row([
            "sqs-a4",
            "untagged-resource",
            &q2,
            "aaa",
            "",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("fn-1", &f1, "bbb", "current"),
        untagged_admin("fn-2", &f1, "aaa", "trail"),
        row(["fn-2", "tag-change", &f1, "", "bbb", "iam", "trail", "aaa"]),
        row([
            "fn-a2",
            "product-mismatch",
            &f1,
            "aaa",
            "bbb",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("new-1", &arn("sqs:q-new"), "ccc", "current"),
        row([
            "new-a1",
            "product-mismatch",
            &arn("sqs:q-new"),
            "aaa",
            "ccc",
            "iam",
            "trail",
            "",
        ]),
        untagged_admin("stale-1", &arn("s3:b-stale"), "aaa", "current"),
        row([
            "stale-1",
            "tag-change",
            &arn("s3:b-stale"),
            "",
            "bbb",
            "iam",
            "trail",
            "aaa",
        ]),
        row([
            "stale-a2",
            "product-mismatch",
            &arn("s3:b-stale"),
            "aaa",
            "bbb",
            "iam",
            "trail",
            "",
        ]),
        // Principals: bob was aaa from day 1 and bbb from day 3; r2 lost its tag on day 3.
        untagged_admin("bob-1", &arn("user:bob"), "bbb", "current"),
        untagged_admin("bob-2", &arn("user:bob"), "aaa", "trail"),
        row([
            "bob-2",
            "tag-change",
            &arn("user:bob"),
            "",
            "bbb",
            "iam",
            "trail",
            "aaa",
        ]),
        row([
            "bob-a2",
            "product-mismatch",
            &arn("s3:b-aaa"),
            "bbb",
            "aaa",
            "trail",
            "current",
            "",
        ]),
        untagged_admin("r2-1", &arn("role:r2"), "", "current"),
        untagged_admin("r2-2", &arn("role:r2"), "aaa", "trail"),
        row([
            "r2-2",
            "tag-change",
            &arn("role:r2"),
            "",
            "",
            "iam",
            "trail",
            "aaa",
        ]),
        row([
            "r2-a2",
            "untagged-principal",
            &arn("s3:b-aaa"),
            "",
            "aaa",
            "trail",
            "current",
            "",
        ]),
    ]
    .into_iter()
    .collect();
    let missing: Vec<_> = expected.difference(&rows).collect();
    let extra: Vec<_> = rows.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    // 20 product changes replayed, none from the refused call.
    assert_eq!(summary["tag_history"]["trail_changes"], 20, "{summary}");
    assert_eq!(summary["findings"]["tag-change"], 10);
}

#[test]
fn session_tags_along_a_role_chain_and_one_finding_per_access() {
    let dir = tempfile::tempdir().unwrap();
    let (b_aaa, b_bbb) = ("arn:aws:s3:::b-aaa", "arn:aws:s3:::b-bbb");
    let sso_role = "aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef";
    let deployer = format!("arn:aws:iam::{A}:role/deployer");
    let ops = format!("arn:aws:iam::{A}:role/ops");
    let partner = format!("arn:aws:iam::{B}:role/partner");
    write_inventory(
        &dir.path().join("inventory"),
        &[(b_aaa, Some("aaa")), (b_bbb, Some("bbb"))],
        // The Identity Center role has no product tag; the deployer role is bbb.
        &[
            (&format!("arn:aws:iam::{A}:role/{sso_role}"), None),
            (&deployer, Some("bbb")),
            (&ops, Some("bbb")),
            (&partner, Some("bbb")),
            (&format!("arn:aws:iam::{A}:user/alice"), Some("aaa")),
        ],
    );
    let saml_user = json!({"type": "SAMLUser", "principalId": "x:jane@example.com", "userName": "jane@example.com",
        "identityProvider": "arn:aws:iam::111122223333:saml-provider/AWSSSO_0123_DO_NOT_DELETE"});
    let sso = || session(A, sso_role, "ASIAIC");
    // `who` takes `role` as jane; the new session's key is `key`.
    let assume_role = |id: &str, time: &str, who: Value, role: &str, key: &str| {
        record(
            id,
            time,
            who,
            "sts.amazonaws.com",
            "AssumeRole",
            json!({
            "requestParameters": {"roleArn": role, "roleSessionName": "jane"},
            "responseElements": {"credentials": {"accessKeyId": key}}}),
        )
    };
    let chained = || session(A, "deployer", "ASIACHAIN");
    // The owner's copy names only the caller's account, as CloudTrail often logs it: the
    // principal comes from the caller's copy.
    let cross = |id: &str, recipient: &str| {
        let who = if recipient == A {
            json!({"type": "AWSAccount", "principalId": "AROAPARTNER:s", "accountId": B})
        } else {
            session(B, "partner", "ASIAPARTNER")
        };
        let mut r = access(id, &at(2, 3), who, b_aaa);
        r["recipientAccountId"] = json!(recipient);
        r["sharedEventID"] = json!("shared-1");
        r
    };
    let mut original = access("orig-1", &at(2, 4), user("alice"), b_bbb);
    original["requestID"] = json!("req-1");
    let mut updated = access("upd-1", &at(2, 4), user("alice"), b_aaa);
    updated["addendum"] = json!({"reason": "UPDATED_DATA", "updatedFields": "resources",
        "originalRequestID": "req-1", "originalEventID": "orig-1"});
    let trail = vec![
        // Identity Center signs jane in with her attributes for access control as session tags.
        record(
            "saml",
            &at(1, 1),
            saml_user,
            "sts.amazonaws.com",
            "AssumeRoleWithSAML",
            json!({
            "requestParameters": {"roleArn": format!("arn:aws:iam::{A}:role/{sso_role}"),
                "principalTags": {"product": "aaa", "team": "x"}, "transitiveTagKeys": ["product"]},
            "responseElements": {"credentials": {"accessKeyId": "ASIAIC"},
                "assumedRoleUser": {"arn": format!("arn:aws:sts::{A}:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/jane")}}}),
        ),
        access("ic-1", &at(1, 2), sso(), b_bbb),
        // She assumes the deployer role (bbb in IAM): the transitive aaa overrides it.
        assume_role("chain", &at(1, 3), sso(), &deployer, "ASIACHAIN"),
        access("chain-1", &at(1, 4), chained(), b_aaa),
        access("chain-2", &at(1, 5), chained(), b_bbb),
        // And from there the ops role (bbb): a third session down the chain, still aaa.
        assume_role("chain-ops", &at(1, 7), chained(), &ops, "ASIAOPS"),
        access("ops-1", &at(1, 8), session(A, "ops", "ASIAOPS"), b_bbb),
        // A deployer session that began before the window: the role's own tag.
        access("old-1", &at(1, 6), session(A, "deployer", "ASIAOLD"), b_aaa),
        // A cross-account call logged in the caller's account and in the owner's.
        cross("x-caller", B),
        cross("x-owner", A),
        // A record delivered again with corrected resources replaces the first delivery.
        original,
        updated,
    ];
    let (rows, summary) = scan(
        &trail,
        &dir.path().join("inventory"),
        &dir.path().join("run"),
        &["duckdb", "spark"],
    );
    let sso_arn = format!("arn:aws:iam::{A}:role/{sso_role}");
    // jane, aaa by her session tags down the chain, on something of bbb.
    let aaa_by_session_on_bbb = |id: &str, arn: &str| {
        row([
            id,
            "product-mismatch",
            arn,
            "aaa",
            "bbb",
            "session",
            "current",
            "",
        ])
    };
    let expected: BTreeSet<Row> = [
        // The sign-in itself: jane is aaa by her attributes; the role she takes is untagged.
        row([
            "saml",
            "untagged-resource",
            &sso_arn,
            "aaa",
            "",
            "session",
            "current",
            "",
        ]),
        aaa_by_session_on_bbb("ic-1", b_bbb),
        // Taking a role of another product is an access across products.
        aaa_by_session_on_bbb("chain", &deployer),
        aaa_by_session_on_bbb("chain-2", b_bbb),
        aaa_by_session_on_bbb("chain-ops", &ops),
        aaa_by_session_on_bbb("ops-1", b_bbb),
        row([
            "old-1",
            "product-mismatch",
            b_aaa,
            "bbb",
            "aaa",
            "iam",
            "current",
            "",
        ]),
        row([
            "x-owner",
            "product-mismatch",
            b_aaa,
            "bbb",
            "aaa",
            "iam",
            "current",
            "",
        ]),
    ]
    .into_iter()
    .collect();
    assert_eq!(rows, expected);
    let csv = std::fs::read_to_string(dir.path().join("run/reports/findings.csv")).unwrap();
    let owner = csv.lines().find(|l| l.contains("x-owner")).unwrap();
    assert!(
        owner.contains(&format!("{partner},assumed-role,{B},true")),
        "the caller's principal, cross-account: {owner}"
    );
    assert_eq!(summary["tag_history"]["tagged_sessions"], 3, "{summary}");
    assert_eq!(summary["tag_history"]["duplicates"], 2, "{summary}");
    assert_eq!(summary["records"]["read"], 12);
    // chain-1 matches (aaa by session on an aaa bucket), as does the corrected record.
    assert_eq!(summary["counted"]["matches"], 2, "{summary}");
}

#[test]
fn the_snapshot_in_force_at_each_event_judges_it() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = "arn:aws:s3:::b-moved";
    let alice = format!("arn:aws:iam::{A}:user/alice");
    let snapshots = dir.path().join("snapshots");
    write_inventory(
        &snapshots.join("2026-11-01"),
        &[(bucket, Some("aaa"))],
        &[(&alice, Some("aaa"))],
    );
    write_inventory(
        &snapshots.join("2026-11-15T120000Z"),
        &[(bucket, Some("bbb"))],
        &[(&alice, Some("aaa"))],
    );
    let read = |id: &str, time: &str| access(id, time, user("alice"), bucket);
    let trail = vec![
        read("before-both", "2026-10-20T00:00:00Z"),
        read("first", "2026-11-05T00:00:00Z"),
        read("second", "2026-11-20T00:00:00Z"),
    ];
    let (rows, summary) = scan(&trail, &snapshots, &dir.path().join("run"), &["duckdb"]);
    let expected: BTreeSet<Row> = [row([
        "second",
        "product-mismatch",
        bucket,
        "aaa",
        "bbb",
        "snapshot:2026-11-15T12:00:00Z",
        "snapshot:2026-11-15T12:00:00Z",
        "",
    ])]
    .into_iter()
    .collect();
    assert_eq!(rows, expected);
    assert_eq!(summary["counted"]["matches"], 2);
    assert_eq!(summary["counted"]["judged_on_current_tags"], 0);
    assert_eq!(
        summary["tag_history"]["snapshots"],
        json!(["2026-11-01T00:00:00Z", "2026-11-15T12:00:00Z"])
    );
    // An inventory file beside snapshot folders is ambiguous: refused, named.
    std::fs::write(snapshots.join("stray.json"), "{}").unwrap();
    let run = tagtrail(
        dir.path(),
        &[
            "scan",
            "--inventory",
            snapshots.to_str().unwrap(),
            "--out",
            "r",
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("stray.json"), "{}", stderr(&run));
}

/// Scheduled runs carry the history to the next: a session begun, and a tag changed, in one
/// run's files judge the accesses of the next run's files as one scan of all of them would,
/// and a cross-account call whose two copies are read by two runs is reported once.
#[test]
fn scheduled_runs_carry_sessions_and_tag_changes_to_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let b_aaa = "arn:aws:s3:::b-aaa";
    let deployer = format!("arn:aws:iam::{A}:role/deployer");
    let inventory = dir.path().join("inventory");
    write_inventory(
        &inventory,
        &[(b_aaa, Some("aaa"))],
        &[
            (&deployer, Some("bbb")),
            (&format!("arn:aws:iam::{A}:user/alice"), Some("aaa")),
            (&format!("arn:aws:iam::{B}:role/partner"), Some("bbb")),
        ],
    );
    let first = vec![
        // alice takes the deployer role (bbb in IAM) with the session tag product=ccc.
        record(
            "assume",
            &at(1, 1),
            user("alice"),
            "sts.amazonaws.com",
            "AssumeRole",
            json!({
            "requestParameters": {"roleArn": deployer, "roleSessionName": "alice",
                "tags": [{"key": "product", "value": "ccc"}]},
            "responseElements": {"credentials": {"accessKeyId": "ASIANEXT"}}}),
        ),
        // The bucket becomes ddd.
        record(
            "retag",
            &at(1, 2),
            user("alice"),
            "s3.amazonaws.com",
            "PutBucketTagging",
            json!({"requestParameters": {"bucketName": "b-aaa",
                "Tagging": {"TagSet": {"Tag": {"Key": "product", "Value": "ddd"}}}}}),
        ),
    ];
    // Two cross-account reads of b-aaa by a partner role, each logged in both accounts: the
    // caller's copy of the first in the first run and its owner's copy in the second; the
    // other way round for the second.
    let cross = |id: &str, shared: &str, recipient: &str| {
        let who = if recipient == A {
            json!({"type": "AWSAccount", "principalId": "AROAPARTNER:s", "accountId": B})
        } else {
            session(B, "partner", "ASIAPARTNER")
        };
        let mut r = access(id, &at(1, 2), who, b_aaa);
        r["recipientAccountId"] = json!(recipient);
        r["sharedEventID"] = json!(shared);
        r
    };
    let mut first = first;
    first.extend([cross("c1-caller", "s1", B), cross("c2-owner", "s2", A)]);
    let second = vec![
        access(
            "later",
            &at(1, 5),
            session(A, "deployer", "ASIANEXT"),
            b_aaa,
        ),
        cross("c1-owner", "s1", A),
        cross("c2-caller", "s2", B),
    ];
    let trail = dir.path().join("trail");
    std::fs::create_dir_all(&trail).unwrap();
    let write = |name: &str, records: &[Value]| {
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        std::fs::write(trail.join(name), lines.join("\n")).unwrap();
    };
    let root_dir = dir.path().join("root");
    let run = |now: &str| {
        let out = tagtrail(
            dir.path(),
            &[
                "scan",
                trail.to_str().unwrap(),
                "--inventory",
                inventory.to_str().unwrap(),
                "--state",
                dir.path().join("state.json").to_str().unwrap(),
                "--out",
                root_dir.to_str().unwrap(),
                "--format",
                "csv",
                "--now",
                now,
                "--fail-on",
                "never",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
    };
    write("first.jsonl", &first);
    run(&at(1, 3));
    write("second.jsonl", &second);
    run(&at(1, 6));
    let mut scheduled = BTreeSet::new();
    for entry in walkdir::WalkDir::new(root_dir.join("findings")) {
        let path = entry.unwrap().into_path();
        if path.extension().is_some_and(|e| e == "csv") {
            scheduled.extend(rows_of(&std::fs::read_to_string(path).unwrap()));
        }
    }
    let mut all = first.clone();
    all.extend(second);
    let (whole, _) = scan(&all, &inventory, &dir.path().join("whole"), &["duckdb"]);
    let later = row([
        "later",
        "product-mismatch",
        b_aaa,
        "ccc",
        "ddd",
        "session",
        "trail",
        "",
    ]);
    assert!(whole.contains(&later), "{whole:?}");
    // Each cross-account read once: the full scan reports the owners' copies; the runs report
    // the first copy they read (the caller's, for the first read).
    let ids =
        |rows: &BTreeSet<Row>| -> BTreeSet<String> { rows.iter().map(|r| r[0].clone()).collect() };
    assert!(
        ids(&whole).contains("c1-owner") && ids(&whole).contains("c2-owner"),
        "{whole:?}"
    );
    // The owner's copy of the second read names only the caller's account, and its caller's
    // copy (the principal) arrives one run later: the first run judges it without it.
    let as_whole = |rows: &BTreeSet<Row>| -> BTreeSet<Row> {
        rows.iter()
            .filter(|r| r[0] != "c2-owner")
            .map(|r| {
                let mut r = r.clone();
                if r[0] == "c1-caller" {
                    r[0] = "c1-owner".into();
                }
                r
            })
            .collect()
    };
    assert_eq!(as_whole(&scheduled), as_whole(&whole));
    let c2 = scheduled.iter().find(|r| r[0] == "c2-owner").unwrap();
    assert_eq!(c2[1], "untagged-principal", "{c2:?}");
    assert!(ids(&scheduled).contains("c1-caller") && !ids(&scheduled).contains("c2-caller"));
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(
        state["history"]["sessions"]["ASIANEXT"]["product"], "ccc",
        "{state}"
    );
    assert_eq!(
        state["history"]["changes"][b_aaa][0]["product"], "ddd",
        "{state}"
    );
}
