//! Live AWS against a real AWS API server on loopback: moto in server mode (installed by
//! `scripts/test`). The server is started on a free port of 127.0.0.1, reset between
//! scenarios and stopped at the end. A machine without moto fails here, saying how to get it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{finding_rows, root, stderr, stdout};

const SECRET: &str = "tagtrailTESTsecretKEYthatMUSTnotLEAK000";
const TOKEN: &str = "tagtrailTESTsessionTOKENthatMUSTnotLEAK";

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn moto_server() -> PathBuf {
    let candidates = [
        std::env::var_os("TAGTRAIL_MOTO_SERVER").map(PathBuf::from),
        Some(root().join("target/moto-venv/bin/moto_server")),
    ];
    crate::peer(
        "moto (PyPI `moto[server]`)",
        candidates.into_iter().flatten().find(|p| p.is_file()),
    )
}

impl Moto {
    fn start() -> Moto {
        let server = moto_server();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while moto.http("GET", "/moto-api/").is_none() {
            assert!(
                Instant::now() < deadline,
                "moto did not answer on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        moto
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A bare HTTP request; the status code, or None when nothing answers.
    fn http(&self, method: &str, path: &str) -> Option<u16> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split_whitespace().nth(1)?.parse().ok()
    }

    fn reset(&self) {
        assert_eq!(self.http("POST", "/moto-api/reset"), Some(200));
    }

    /// Runs a Python script with the venv's interpreter (boto3 comes with moto).
    fn python(&self, script: &Path, args: &[&str]) -> String {
        let python = moto_server().with_file_name("python");
        let out = Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The tagtrail binary, pointed at this server with dummy credentials and no local config.
    fn tagtrail(&self, dir: &Path, args: &[&str]) -> Output {
        self.tagtrail_with(dir, args, &[])
    }

    /// `tagtrail`, with more environment variables.
    fn tagtrail_with(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_tagtrail"))
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "AKIATAGTRAILTEST0001")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        for text in [stdout(&out), stderr(&out)] {
            assert!(
                !text.contains(SECRET) && !text.contains(TOKEN),
                "a credential leaked into the output: {text}"
            );
        }
        out
    }

    /// Uploads every file under `from` to `s3://bucket/prefix…` (creating the bucket).
    fn upload(&self, from: &Path, bucket: &str, prefix: &str) {
        self.upload_in(from, bucket, prefix, "us-east-1")
    }

    /// `upload`, to a bucket created in `region`.
    fn upload_in(&self, from: &Path, bucket: &str, prefix: &str, region: &str) {
        let location = if region == "us-east-1" {
            String::new()
        } else {
            format!(r#", CreateBucketConfiguration={{"LocationConstraint": "{region}"}}"#)
        };
        let script = format!(
            r#"
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="{region}", aws_access_key_id="a", aws_secret_access_key="b")
try:
    s3.create_bucket(Bucket="{bucket}"{location})
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
for d, _, files in os.walk(sys.argv[2]):
    for f in files:
        path = os.path.join(d, f)
        s3.upload_file(path, "{bucket}", "{prefix}" + os.path.relpath(path, sys.argv[2]))
"#
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), script).unwrap();
        self.python(file.path(), &[&self.endpoint(), from.to_str().unwrap()]);
    }
}

/// Runs a boto3 snippet against the server (`s3` is a client); returns its output.
impl Moto {
    fn boto3(&self, code: &str) -> String {
        let script = format!(
            "import boto3, json, os, sys\ns3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b')\n{code}\n"
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), script).unwrap();
        self.python(file.path(), &[&self.endpoint()])
    }
}

/// `scan --state` with the trail, the state and the report root all in S3: three runs over a
/// bucket that receives new, late and re-delivered objects between them give together exactly
/// the findings of one full scan, each once; a fourth with nothing new adds nothing; a run
/// finding the lock of a live run refuses, and takes over one whose lease expired.
fn scheduled_runs_over_s3_report_each_finding_once(moto: &Moto) {
    use crate::live::schedule::{assert_exactly_once, at, full_scan, parquet_files, Trail};
    let work = tempfile::tempdir().unwrap();
    let trail = Trail::new(&work.path().join("trail"));
    moto.boto3("s3.create_bucket(Bucket='reports')");
    let inv = root().join("examples/demo/inventory");
    let policy = root().join("examples/demo/policy.toml");
    let run = |now: &str| {
        let out = moto.tagtrail(
            work.path(),
            &[
                "scan",
                "--logs",
                "s3://trail/",
                "--inventory",
                inv.to_str().unwrap(),
                "--policy",
                policy.to_str().unwrap(),
                "--state",
                "s3://reports/state/tagtrail.json",
                "--out",
                "s3://reports/root/",
                "--fail-on",
                "never",
                "--now",
                now,
            ],
        );
        (out.status.code(), stdout(&out), stderr(&out))
    };
    let upload = || moto.upload(&trail.dir, "trail", "");
    let root_copy = work.path().join("root");
    let download = || {
        let _ = std::fs::remove_dir_all(&root_copy);
        moto.boto3(&format!(
            "for o in s3.list_objects_v2(Bucket='reports', Prefix='root/').get('Contents', []):\n    \
             path = os.path.join({:?}, o['Key'][len('root/'):])\n    \
             os.makedirs(os.path.dirname(path), exist_ok=True)\n    \
             s3.download_file('reports', o['Key'], path)",
            root_copy.display().to_string()
        ));
    };

    let first = trail.file(0, "2026-11-09T10:05:00Z", "a", 60);
    trail.file(1, "2026-11-10T05:05:00Z", "b", 60);
    // Log file validation: a digest vouches for the first file's hour.
    trail.digest(0, "2026-11-09T11:00:00Z", &[&first]);
    upload();
    let (code, out, err) = run("2026-11-10T06:00:00Z");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("3 not read before"), "{out}"); // two log files and the digest

    // New objects, a late one in yesterday's folder, a second delivery of one already read.
    trail.file(1, "2026-11-10T11:05:00Z", "c", 50);
    trail.file(0, "2026-11-09T21:00:00Z", "late", 30);
    trail.redeliver(&first, at("2026-11-10T11:10:00Z"));
    upload();
    let (code, out, err) = run("2026-11-10T12:00:00Z");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("3 not read before"), "{out}");

    // The next day, and one more late object for the day before.
    trail.file(0, "2026-11-11T08:05:00Z", "d", 40);
    trail.file(1, "2026-11-09T23:00:00Z", "later", 20);
    upload();
    let (code, _, err) = run("2026-11-11T12:00:00Z");
    assert_eq!(code, Some(0), "{err}");
    download();
    let expected = full_scan(&trail.dir);
    assert_exactly_once(&root_copy, &expected);
    let files = parquet_files(&root_copy).len();
    let complete: u64 = walkdir(&root_copy.join("runs"))
        .iter()
        .filter(|p| p.ends_with("run.json"))
        .map(|p| json_file(p)["digests"]["hours_complete"].as_u64().unwrap())
        .sum();
    assert_eq!(complete, 1, "the digest read from S3 completes its hour");

    // Nothing new: nothing added.
    let (code, out, err) = run("2026-11-11T13:00:00Z");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(" 0 not read before"), "{out}");
    download();
    assert_eq!(parquet_files(&root_copy).len(), files);
    assert_exactly_once(&root_copy, &expected);

    // A live run's lock is respected; an expired one is taken over.
    let lease = |expires: &str| {
        moto.boto3(&format!(
            "s3.put_object(Bucket='reports', Key='state/tagtrail.json.lock', Body=json.dumps({{'pid': 1, 'host': 'other', 'taken': '2026-11-11T00:00:00Z', 'expires': '{expires}'}}))"
        ))
    };
    lease("2999-01-01T00:00:00Z");
    let (code, _, err) = run("2026-11-11T14:00:00Z");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("another tagtrail run holds the lock"), "{err}");
    lease("2000-01-01T00:00:00Z");
    let (code, _, err) = run("2026-11-11T14:00:00Z");
    assert_eq!(code, Some(0), "{err}");
    let left = moto.boto3(
        "print(len(s3.list_objects_v2(Bucket='reports', Prefix='state/').get('Contents', [])))",
    );
    assert_eq!(left.trim(), "1", "the lock is released after the run");
}

/// No file under `dir` holds a credential.
fn assert_no_credentials_in(dir: &Path) {
    for entry in walkdir(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(SECRET) && !text.contains(TOKEN),
            "a credential leaked into {}",
            entry.display()
        );
    }
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

#[test]
fn live_aws_against_moto() {
    let moto = Moto::start();
    inventory_fetch_finds_exactly_what_was_created(&moto);
    moto.reset();
    scan_reads_trail_objects_from_s3(&moto);
    moto.reset();
    the_bucket_region_is_looked_up_not_taken_from_regions(&moto);
    moto.reset();
    a_failing_bucket_is_reported_and_the_scan_goes_on(&moto);
    moto.reset();
    aws_config_records_judge_what_today_s_inventory_lacks(&moto);
    moto.reset();
    an_organisation_is_read_account_by_account_through_a_role(&moto);
    moto.reset();
    a_log_archive_bucket_is_read_with_a_role(&moto);
    moto.reset();
    scheduled_runs_over_s3_report_each_finding_once(&moto);
    moto.reset();
    s3_digests_are_verified_with_cloudtrail_s_public_keys(&moto);
    moto.reset();
    scheduled_runs_keep_the_digest_chain(&moto);
    moto.reset();
    new_findings_reach_their_owners_once(&moto);
    moto.reset();
    findings_round_trip_through_security_hub(&moto);
}

/// `scan --security-hub`: every finding imported once under its stable id, a second run
/// imports none twice, and an earlier run's finding that the scan's window covers but the
/// scan no longer reports is archived (one outside the window is left alone).
fn findings_round_trip_through_security_hub(moto: &Moto) {
    let dir = tempfile::tempdir().unwrap();
    let script = root().join("tests/moto/securityhub.py");
    let endpoint = moto.endpoint();
    moto.python(
        &script,
        &[
            &endpoint,
            "stale",
            "tagtrail/gone-in-window",
            "2026-11-10T00:00:00.000Z",
        ],
    );
    moto.python(
        &script,
        &[
            &endpoint,
            "stale",
            "tagtrail/before-window",
            "2026-10-01T00:00:00.000Z",
        ],
    );
    let scan = |out: &str| {
        let run = moto.tagtrail(
            dir.path(),
            &[
                "scan",
                "--demo",
                "--security-hub",
                "--format",
                "csv",
                "--fail-on",
                "never",
                "--since",
                "2026-11-01T00:00:00Z",
                "--out",
                out,
            ],
        );
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}{}",
            stdout(&run),
            stderr(&run)
        );
        stdout(&run)
    };
    let first = scan("one");
    let rows = crate::finding_rows(&dir.path().join("one")).len();
    assert!(
        first.contains(&format!(
            "security hub: {rows} finding(s) imported, 1 archived, 0 refused"
        )),
        "{first}"
    );
    let list = || -> Vec<Value> {
        serde_json::from_str(&moto.python(&script, &[&endpoint, "list"])).unwrap()
    };
    let state_of = |findings: &[Value], id: &str| {
        findings
            .iter()
            .find(|f| f["Id"] == id)
            .map(|f| f["RecordState"].as_str().unwrap().to_string())
    };
    let findings = list();
    assert_eq!(findings.len(), rows + 2, "{findings:?}");
    assert_eq!(
        state_of(&findings, "tagtrail/gone-in-window").as_deref(),
        Some("ARCHIVED")
    );
    assert_eq!(
        state_of(&findings, "tagtrail/before-window").as_deref(),
        Some("ACTIVE")
    );
    let asff: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("one/findings.asff.json")).unwrap(),
    )
    .unwrap();
    for f in &asff {
        let id = f["Id"].as_str().unwrap();
        assert_eq!(state_of(&findings, id).as_deref(), Some("ACTIVE"), "{id}");
    }
    // A second run updates the same findings: nothing is added twice, nothing archived.
    let second = scan("two");
    assert!(
        second.contains(&format!(
            "security hub: {rows} finding(s) imported, 0 archived, 0 refused"
        )),
        "{second}"
    );
    assert_eq!(list().len(), rows + 2);
}

/// A stand-in endpoint in front of moto: passes each request on unchanged, unless `refuse`
/// (given the request's head and body) returns the status and XML error to answer instead.
/// Returns the endpoint and the heads of the requests it saw.
fn stand_in(
    moto: String,
    refuse: impl Fn(&str, &str) -> Option<(u16, String)> + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let upstream = moto.trim_start_matches("http://").to_string();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut head, mut line, mut length) = (String::new(), String::new(), 0);
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap();
                    }
                }
                // One request per connection: the answer closes it.
                if !line.to_ascii_lowercase().starts_with("connection:") {
                    head.push_str(&line);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push(head.clone());
            if let Some((status, xml)) = refuse(&head, &String::from_utf8_lossy(&body)) {
                let _ = write!(stream, "HTTP/1.1 {status} Refused\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}", xml.len());
                continue;
            }
            let mut moto = std::net::TcpStream::connect(&upstream).unwrap();
            moto.write_all(head.as_bytes()).unwrap();
            moto.write_all(b"Connection: close\r\n\r\n").unwrap();
            moto.write_all(&body).unwrap();
            let mut answer = Vec::new();
            moto.read_to_end(&mut answer).unwrap();
            let _ = stream.write_all(&answer);
        }
    });
    (endpoint, seen)
}

/// `--logs-role`: trail objects are read with the role's credentials (the S3 requests carry
/// the assumed session's key, not the caller's), and an object S3 refuses is named with the
/// likely cause while the others are read.
fn a_log_archive_bucket_is_read_with_a_role(moto: &Moto) {
    moto.upload(
        &root().join("examples/demo/trail"),
        "archive-bucket",
        "org/",
    );
    let refused_key = "AWSLogs/401234567890/CloudTrail/us-east-1/2026/11/21/";
    let (s3, seen) = stand_in(moto.endpoint(), move |head, _| {
        (head.starts_with("GET /archive-bucket/org/") && head.contains(refused_key)).then(|| {
            (
                403,
                "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                    .to_string(),
            )
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let out = moto.tagtrail_with(
        dir.path(),
        &[
            "scan",
            "--logs",
            "s3://archive-bucket/org/",
            "--logs-role",
            "arn:aws:iam::999988887777:role/LogArchiveReader",
            "--inventory",
            root().join("examples/demo/inventory").to_str().unwrap(),
            "--out",
            "r",
            "--format",
            "json",
        ],
        &[("AWS_ENDPOINT_URL_S3", &s3)],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let summary = json_file(&dir.path().join("r/summary.json"));
    let rejected = summary["rejected"].as_array().unwrap();
    assert!(!rejected.is_empty(), "{summary}");
    for problem in rejected {
        let (source, reason) = (
            problem["source"].as_str().unwrap(),
            problem["reason"].as_str().unwrap(),
        );
        assert!(
            source.contains(
                "archive-bucket/org/AWSLogs/401234567890/CloudTrail/us-east-1/2026/11/21/"
            ),
            "{problem}"
        );
        assert!(
            reason.contains("AccessDenied")
                && reason.contains("Object Ownership")
                && reason.contains("kms:Decrypt"),
            "{problem}"
        );
    }
    assert!(
        summary["records"]["read"].as_u64().unwrap() > 0,
        "the other objects are read: {summary}"
    );
    // Every object request was signed with the assumed role's session key.
    let heads = seen.lock().unwrap();
    let gets: Vec<&String> = heads
        .iter()
        .filter(|h| h.starts_with("GET /archive-bucket/org/AWSLogs"))
        .collect();
    assert!(!gets.is_empty());
    // Each object is downloaded once: the scan reads its inputs once.
    let mut keys: Vec<&str> = gets.iter().map(|h| h.split(' ').nth(1).unwrap()).collect();
    let count = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), count, "an object fetched twice: {keys:?}");
    for head in gets {
        assert!(
            !head.contains("Credential=AKIATAGTRAILTEST0001") && head.contains("Credential=ASIA"),
            "{head}"
        );
    }
}

/// `inventory fetch --assume-role` over an organisation: the accounts come from
/// `ListAccounts`, each is read through the role; one whose role cannot be assumed is named
/// and makes the exit code partial, the others are complete.
fn an_organisation_is_read_account_by_account_through_a_role(moto: &Moto) {
    let seeded: Value = serde_json::from_str(
        &moto.python(&root().join("tests/moto/seed_org.py"), &[&moto.endpoint()]),
    )
    .unwrap();
    let refused = seeded["accounts"][2].as_str().unwrap().to_string();
    let marker = format!("iam%3A%3A{refused}%3A");
    let (sts, _) = stand_in(moto.endpoint(), move |_, body| {
        body.contains(&marker).then(|| {
            (403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>".to_string())
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let out = moto.tagtrail_with(
        dir.path(),
        &[
            "inventory",
            "fetch",
            "--assume-role",
            "OrganizationAccountAccessRole",
            "--out",
            "inv",
            "--regions",
            "us-east-1",
        ],
        &[("AWS_ENDPOINT_URL_STS", &sts)],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!(
            "sts:AssumeRole arn:aws:iam::{refused}:role/OrganizationAccountAccessRole"
        )) && stderr(&out).contains("AccessDenied"),
        "{}",
        stderr(&out)
    );
    let mut fetched: BTreeMap<String, Option<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir.path().join("inv")).unwrap() {
        let path = entry.unwrap().path();
        let document = json_file(&path);
        for list in ["ResourceTagMappingList", "UserDetailList", "RoleDetailList"] {
            for item in document[list].as_array().into_iter().flatten() {
                let arn = item["ResourceARN"]
                    .as_str()
                    .or(item["Arn"].as_str())
                    .unwrap();
                let product = item["Tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["Key"] == "product");
                fetched.insert(
                    arn.to_string(),
                    product.map(|t| t["Value"].as_str().unwrap().to_string()),
                );
            }
        }
    }
    // Every member's tagged resources and users but the refused account's (moto may add
    // untagged roles of its own).
    let expected: BTreeMap<String, Option<String>> = seeded["created"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(arn, product)| !arn.contains(&refused) && *product != "ccc")
        .map(|(arn, product)| (arn.clone(), Some(product.as_str().unwrap().to_string())))
        .collect();
    fetched.retain(|_, product| product.is_some());
    assert_eq!(fetched, expected);
    // Each account's documents carry its id.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("inv"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for account in seeded["accounts"].as_array().unwrap().iter().take(2) {
        let account = account.as_str().unwrap();
        assert!(
            names.contains(&format!("{account}-resources-us-east-1.json")),
            "{names:?}"
        );
    }
}

/// `inventory fetch --from config` on moto's Config (one item per resource; its timestamps and
/// a role's tag list are read leniently); a scan judges by that record where nothing else knows
/// the resource, and says so (`config`). Histories of several items: tests/it/config.rs.
fn aws_config_records_judge_what_today_s_inventory_lacks(moto: &Moto) {
    let created: BTreeMap<String, String> = serde_json::from_str(&moto.python(
        &root().join("tests/moto/seed_config.py"),
        &[&moto.endpoint()],
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = moto.tagtrail(
        dir.path(),
        &[
            "inventory",
            "fetch",
            "--from",
            "config",
            "--out",
            "inv",
            "--regions",
            "us-east-1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items = json_file(&dir.path().join("inv/config-us-east-1.json"));
    let recorded: BTreeMap<String, String> = items["ConfigurationItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let product = i["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["Key"] == "product");
            (
                i["ResourceARN"].as_str().unwrap().to_string(),
                product
                    .map_or("", |t| t["Value"].as_str().unwrap())
                    .to_string(),
            )
        })
        .filter(|(arn, _)| created.contains_key(arn))
        .collect();
    assert_eq!(recorded, created, "{items}");
    std::fs::write(
        dir.path().join("inv/users.json"),
        r#"{"Users":[{"Arn":"arn:aws:iam::123456789012:user/alice","Tags":[{"Key":"product","Value":"aaa"}]}]}"#,
    )
    .unwrap();
    // After moto captured the items (it records them at creation, now).
    let read = |name: &str, source: &str, request: Value| {
        serde_json::json!({"eventSource": source, "eventName": name, "awsRegion": "us-east-1",
            "recipientAccountId": "123456789012", "eventTime": "2099-01-01T00:00:00Z", "eventID": name,
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012"},
            "requestParameters": request})
        .to_string()
    };
    std::fs::write(
        dir.path().join("trail.jsonl"),
        [
            read(
                "GetBucketAcl",
                "s3.amazonaws.com",
                serde_json::json!({"bucketName": "config-aaa"}),
            ),
            read(
                "GetTopicAttributes",
                "sns.amazonaws.com",
                serde_json::json!({"topicArn": "arn:aws:sns:us-east-1:123456789012:config-ccc"}),
            ),
        ]
        .join("\n"),
    )
    .unwrap();
    let scan = moto.tagtrail(
        dir.path(),
        &[
            "scan",
            "trail.jsonl",
            "--inventory",
            "inv",
            "--out",
            "r",
            "--format",
            "csv,json",
        ],
    );
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
        rows[0].contains("GetTopicAttributes")
            && rows[0].contains(",ccc,config,")
            && rows[0].contains("product-mismatch"),
        "{rows:?}"
    );
    assert_eq!(
        json_file(&dir.path().join("r/summary.json"))["counted"]["matches"],
        1
    );
}

fn inventory_fetch_finds_exactly_what_was_created(moto: &Moto) {
    let created: BTreeMap<String, Option<String>> =
        serde_json::from_str(&moto.python(&root().join("tests/moto/seed.py"), &[&moto.endpoint()]))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = moto.tagtrail(
        dir.path(),
        &[
            "inventory",
            "fetch",
            "--out",
            "inv",
            "--regions",
            "us-east-1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // moto lists its AWS managed aliases too: their number is moto's.
    let line = stdout(&out);
    assert!(
        line.starts_with("129 resources, 130 users, 3 roles, ")
            && line.trim().ends_with(" KMS aliases -> inv"),
        "{line}"
    );
    let aliases = json_file(&dir.path().join("inv/aliases-us-east-1.json"));
    let app = aliases["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["AliasName"] == "alias/aaa-app")
        .expect("the alias created");
    assert!(
        app["TargetKeyId"].as_str().is_some_and(|k| !k.is_empty()),
        "{app}"
    );

    // Every ARN created, with its product tag, and nothing else.
    let mut fetched: BTreeMap<String, Option<String>> = BTreeMap::new();
    let product = |item: &Value| {
        item["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["Key"] == "product")
            .map(|t| t["Value"].as_str().unwrap().to_string())
    };
    for item in json_file(&dir.path().join("inv/resources-us-east-1.json"))
        ["ResourceTagMappingList"]
        .as_array()
        .unwrap()
    {
        fetched.insert(
            item["ResourceARN"].as_str().unwrap().to_string(),
            product(item),
        );
    }
    let details = json_file(&dir.path().join("inv/account-authorization-details.json"));
    for item in details["UserDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .chain(details["RoleDetailList"].as_array().unwrap())
    {
        fetched.insert(item["Arn"].as_str().unwrap().to_string(), product(item));
    }
    assert_eq!(fetched, created);
    let manifest = json_file(&dir.path().join("inv/fetch.json"));
    assert_eq!(
        manifest["tagtrail_inventory_fetch"]["regions"],
        serde_json::json!(["us-east-1"])
    );

    // The written inventory is one `--inventory DIR` reads; `--inventory aws` gives the same scan.
    let trail = dir.path().join("trail.json");
    std::fs::write(
        &trail,
        r#"{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"GetBucketAcl","awsRegion":"us-east-1","recipientAccountId":"123456789012","eventTime":"2026-11-20T10:00:00Z",
        "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/people/user-001","accountId":"123456789012"},"requestParameters":{"bucketName":"bucket-000"}},
        {"eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","recipientAccountId":"123456789012","eventTime":"2026-11-20T10:01:00Z",
        "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/people/user-001","accountId":"123456789012"},"requestParameters":{"keyId":"alias/aaa-app"}}]}"#,
    )
    .unwrap();
    let from_files = moto.tagtrail(
        dir.path(),
        &[
            "scan",
            "trail.json",
            "--inventory",
            "inv",
            "--out",
            "a",
            "--format",
            "csv",
        ],
    );
    let live = moto.tagtrail(
        dir.path(),
        &[
            "scan",
            "trail.json",
            "--inventory",
            "aws",
            "--out",
            "b",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        from_files.status.code(),
        Some(1),
        "user-001 (bbb) reads bucket-000 (aaa): {}",
        stderr(&from_files)
    );
    assert_eq!(live.status.code(), Some(1), "{}", stderr(&live));
    let a = std::fs::read_to_string(dir.path().join("a/findings.csv")).unwrap();
    assert_eq!(
        a,
        std::fs::read_to_string(dir.path().join("b/findings.csv")).unwrap()
    );
    assert!(a.contains("product-mismatch"), "{a}");
    // The key used by alias is judged by the key's tag (aaa), fetched with its alias.
    assert!(
        a.lines().any(
            |l| l.contains("arn:aws:kms:us-east-1:123456789012:alias/aaa-app")
                && l.contains(",bbb,")
                && l.contains(",aaa,")
                && l.contains("product-mismatch")
        ),
        "{a}"
    );
    assert_no_credentials_in(dir.path());
}

fn scan_reads_trail_objects_from_s3(moto: &Moto) {
    // The demo trail (two accounts, two regions, three days, digests beside) under a prefix,
    // plus 1,001 more trail files in one day folder so that listing takes two pages.
    moto.upload(&root().join("examples/demo/trail"), "trail-bucket", "org/");
    let many = tempfile::tempdir().unwrap();
    let day = many
        .path()
        .join("AWSLogs/401234567890/CloudTrail/us-east-1/2026/11/19");
    std::fs::create_dir_all(&day).unwrap();
    let rec = r#"{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventTime":"2026-11-19T12:00:00Z","recipientAccountId":"401234567890"}]}"#;
    for i in 0..1001 {
        std::fs::write(day.join(format!("f{i:04}.json")), rec).unwrap();
    }
    moto.upload(many.path(), "trail-bucket", "org/");

    let dir = tempfile::tempdir().unwrap();
    let inv = root().join("examples/demo/inventory");
    let policy = root().join("examples/demo/policy.toml");
    let args = |extra: &[&'static str]| {
        let mut a: Vec<String> = [
            "scan",
            "--logs",
            "s3://trail-bucket/org/",
            "--inventory",
            inv.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(["--policy".into(), policy.display().to_string()]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        moto.tagtrail(dir.path(), &refs)
    };

    // The whole bucket: the demo's findings, from S3 this time, and its 98 digests read
    // beside (uploaded without CloudTrail's signature metadata, so they are not vouched for).
    let out = run(&["--out", "all"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = json_file(&dir.path().join("all/summary.json"));
    assert_eq!(summary["inputs"], 104 + 1001);
    assert_eq!(summary["records"]["read"], 149 + 1001);
    let integrity = &summary["integrity"];
    assert_eq!(integrity["digests"], 98);
    assert_eq!(integrity["log_files_verified"], 6, "{integrity:#}");
    assert!(integrity["digests_invalid"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["detail"]
            .as_str()
            .unwrap()
            .contains("no signature in its S3 metadata")));
    assert_eq!(summary["findings"]["product-mismatch"], 8);
    let local = tempfile::tempdir().unwrap();
    let demo_out = local.path().join("demo");
    crate::tagtrail(
        &root(),
        &[
            "scan",
            "--demo",
            "--out",
            demo_out.to_str().unwrap(),
            "--format",
            "csv",
        ],
    );
    let strip_source = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(
        strip_source(std::fs::read_to_string(dir.path().join("all/findings.csv")).unwrap()),
        strip_source(std::fs::read_to_string(demo_out.join("findings.csv")).unwrap()),
        "S3 and the local copy give the same findings"
    );

    // One day of one region: only that day's objects are listed and read.
    let out = run(&[
        "--out",
        "day",
        "--regions",
        "us-east-1",
        "--since",
        "2026-11-21T00:00:00Z",
        "--until",
        "2026-11-22T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = json_file(&dir.path().join("day/summary.json"));
    assert_eq!(
        summary["inputs"],
        1 + 24,
        "one log object (account 401234567890, us-east-1, 2026/11/21) and the day's digests"
    );
    assert_eq!(summary["integrity"]["log_files_verified"], 1);

    // An organisation trail, AWSLogs/<org-id>/<account>/..., read for one account only.
    moto.upload(
        &root().join("examples/demo/trail/AWSLogs"),
        "trail-bucket",
        "orgtrail/AWSLogs/o-aa11bb22cc/",
    );
    let inv_dir = inv.to_str().unwrap();
    let out = moto.tagtrail(
        dir.path(),
        &[
            "scan",
            "--logs",
            "s3://trail-bucket/orgtrail/",
            "--accounts",
            "402345678901",
            "--inventory",
            inv_dir,
            "--out",
            "org",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = json_file(&dir.path().join("org/summary.json"));
    assert_eq!(
        summary["inputs"],
        3 + 49,
        "the three days of account 402345678901 and their hourly digests"
    );
    assert_eq!(
        summary["skipped_by_reason"],
        serde_json::json!({"CloudTrail digest file": 49})
    );
    assert_eq!(
        summary["findings"]["product-mismatch"], 2,
        "that day alice reads a bbb secret and bbb-batch writes to an aaa queue"
    );
    assert_no_credentials_in(dir.path());
}

/// A bucket in another region than the one configured and asked for: its region is looked up
/// (HeadBucket) and its objects are read with a client of that region.
fn the_bucket_region_is_looked_up_not_taken_from_regions(moto: &Moto) {
    moto.upload_in(
        &root().join("examples/demo/trail"),
        "eu-trail",
        "",
        "eu-west-1",
    );
    let dir = tempfile::tempdir().unwrap();
    let inv = root().join("examples/demo/inventory");
    let out = moto.tagtrail(
        dir.path(),
        &[
            "scan",
            "--logs",
            "s3://eu-trail/",
            "--regions",
            "us-east-1",
            "--inventory",
            inv.to_str().unwrap(),
            "--out",
            "eu",
            "--fail-on",
            "never",
            "-v",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(
        log.lines()
            .any(|l| l.contains("bucket region") && l.contains("eu-west-1")),
        "{log}"
    );
    let summary = json_file(&dir.path().join("eu/summary.json"));
    assert_eq!(
        summary["inputs"],
        3 + 49,
        "the us-east-1 folders of the demo and their digests, from an eu-west-1 bucket"
    );
}

fn a_failing_bucket_is_reported_and_the_scan_goes_on(moto: &Moto) {
    moto.upload(&root().join("examples/demo/trail"), "trail-bucket", "");
    let dir = tempfile::tempdir().unwrap();
    let inv = root().join("examples/demo/inventory");
    let out = moto.tagtrail(
        dir.path(),
        &[
            "scan",
            "--logs",
            "s3://no-such-bucket/AWSLogs/",
            "--logs",
            "s3://trail-bucket/",
            "--inventory",
            inv.to_str().unwrap(),
            "--out",
            "o",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a source that fails makes exit code 2: {}",
        stderr(&out)
    );
    let summary = json_file(&dir.path().join("o/summary.json"));
    let rejected = summary["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["source"], "s3://no-such-bucket/AWSLogs/");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("NoSuchBucket"),
        "{rejected:?}"
    );
    // The IAM action the failing call needs is named, for the permission to be granted.
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("s3:ListBucket s3://no-such-bucket/AWSLogs/"),
        "{rejected:?}"
    );
    assert_eq!(
        summary["records"]["resolved"], 47,
        "the other bucket was read whole"
    );
    assert_no_credentials_in(dir.path());
}

/// A trail with log file validation in S3 (`signed_trail.py`: digests signed as CloudTrail
/// signs them, the signature in each digest object's metadata) and CloudTrail's
/// `ListPublicKeys` served in its wire format by a loopback server (moto has no such call).
struct SignedTrail {
    dir: tempfile::TempDir,
    /// The ListPublicKeys calls the key server had.
    calls: Arc<Mutex<usize>>,
    /// Whether the key server refuses (AccessDenied).
    refuse: Arc<Mutex<bool>>,
    endpoint: String,
}

impl SignedTrail {
    fn new(moto: &Moto) -> SignedTrail {
        let dir = tempfile::tempdir().unwrap();
        moto.python(
            &root().join("tests/it/live/signed_trail.py"),
            &[dir.path().to_str().unwrap()],
        );
        let public: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("public.json")).unwrap())
                .unwrap();
        let (calls, refuse) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(false)));
        let (seen, refusing, answer) = (calls.clone(), refuse.clone(), public);
        let endpoint = crate::input::loopback::start(Arc::new(move |target, _| {
            assert_eq!(target, "ListPublicKeys");
            *seen.lock().unwrap() += 1;
            if *refusing.lock().unwrap() {
                return (
                    400,
                    serde_json::json!({"__type": "AccessDeniedException", "message": "not authorized to perform: cloudtrail:ListPublicKeys"}),
                );
            }
            let mut key = answer.clone();
            key["ValidityStartTime"] = 1.7e9.into();
            key["ValidityEndTime"] = 1.9e9.into();
            (200, serde_json::json!({ "PublicKeyList": [key] }))
        }));
        moto.boto3("s3.create_bucket(Bucket='signed')");
        SignedTrail {
            dir,
            calls,
            refuse,
            endpoint,
        }
    }

    /// Uploads the files of `hours` (their log files, and their digests when `digests`), each
    /// digest with its signature in its metadata.
    fn upload(&self, moto: &Moto, hours: &[u32], digests: bool) {
        let code = format!(
            "base = {:?}\nsignatures = json.load(open(os.path.join(base, 'signatures.json')))\n\
             for d, _, files in os.walk(os.path.join(base, 'files')):\n    \
                 for f in files:\n        \
                     path = os.path.join(d, f)\n        \
                     key = os.path.relpath(path, os.path.join(base, 'files'))\n        \
                     hour = int(f.split('_')[-1 if 'Digest' in f else -2][9:11]) - (1 if 'Digest' in f else 0)\n        \
                     if hour not in {hours:?} or ('Digest' in f and not {digests}):\n            \
                         continue\n        \
                     meta = {{'signature': signatures[key], 'signature-algorithm': 'SHA256withRSA'}} if key in signatures else {{}}\n        \
                     s3.put_object(Bucket='signed', Key=key, Body=open(path, 'rb').read(), Metadata=meta)",
            self.dir.path().display().to_string(),
            digests = if digests { "True" } else { "False" },
        );
        moto.boto3(&code);
    }

    fn scan(&self, moto: &Moto, dir: &Path, extra: &[&str]) -> Output {
        let inv = root().join("examples/demo/inventory");
        let mut args = vec![
            "scan",
            "--logs",
            "s3://signed/",
            "--inventory",
            inv.to_str().unwrap(),
            "--fail-on",
            "never",
            "--require-integrity",
        ];
        args.extend(extra);
        moto.tagtrail_with(
            dir,
            &args,
            &[("AWS_ENDPOINT_URL_CLOUDTRAIL", &self.endpoint)],
        )
    }
}

/// Digests read from S3: each signature checked against the key `ListPublicKeys` gives (one
/// call per run and region); a modified log file, a forged signature and unavailable keys each
/// fail `--require-integrity` (exit 2).
fn s3_digests_are_verified_with_cloudtrail_s_public_keys(moto: &Moto) {
    let trail = SignedTrail::new(moto);
    trail.upload(moto, &[9, 10, 11], true);
    let dir = tempfile::tempdir().unwrap();
    let integrity =
        |out: &str| json_file(&dir.path().join(out).join("summary.json"))["integrity"].clone();

    let out = trail.scan(moto, dir.path(), &["--out", "intact"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = integrity("intact");
    assert_eq!(
        (
            &found["digests"],
            &found["log_files_verified"],
            &found["signatures_verified"]
        ),
        (&3.into(), &6.into(), &3.into()),
        "{found:#}"
    );
    assert_eq!(
        *trail.calls.lock().unwrap(),
        1,
        "one call for the one region"
    );

    // A log file rewritten after delivery.
    let modified = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail_us-east-1_20261121T1030Z_1030.json.gz";
    moto.boto3(&format!(
        "import gzip\ns3.put_object(Bucket='signed', Key='{modified}', Body=gzip.compress(b'{{\"Records\":[]}}'))"
    ));
    let out = trail.scan(moto, dir.path(), &["--out", "modified"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let found = integrity("modified");
    assert!(
        found["log_files_modified"][0]["object"]
            .as_str()
            .unwrap()
            .ends_with(modified),
        "{found:#}"
    );
    assert_eq!(found["signatures_verified"], 3);

    // The 10:00 digest's signature replaced by the 09:00 one's: it no longer verifies.
    trail.upload(moto, &[10], false);
    let signatures: Value =
        serde_json::from_slice(&std::fs::read(trail.dir.path().join("signatures.json")).unwrap())
            .unwrap();
    let digests: Vec<&String> = signatures.as_object().unwrap().keys().collect();
    moto.boto3(&format!(
        "o = s3.get_object(Bucket='signed', Key='{key}')\n\
         s3.put_object(Bucket='signed', Key='{key}', Body=o['Body'].read(), Metadata={{'signature': '{forged}'}})",
        key = digests[1],
        forged = signatures[digests[0]].as_str().unwrap(),
    ));
    let out = trail.scan(moto, dir.path(), &["--out", "forged"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let found = integrity("forged");
    let invalid: Vec<&str> = found["digests_invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert!(
        invalid
            .iter()
            .any(|d| d.contains("signature does not verify")),
        "{invalid:?}"
    );
    assert!(
        invalid
            .iter()
            .any(|d| d.contains("signature differs from the one the next digest holds")),
        "{invalid:?}"
    );

    // Keys that cannot be had: nothing is vouched for, and the summary says why.
    trail.upload(moto, &[10], true);
    *trail.refuse.lock().unwrap() = true;
    let out = trail.scan(moto, dir.path(), &["--out", "nokeys"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let found = integrity("nokeys");
    assert!(
        found["public_keys_unavailable"][0]
            .as_str()
            .unwrap()
            .contains("cloudtrail:ListPublicKeys"),
        "{found:#}"
    );
    assert_eq!(found["signatures_not_verifiable"], 3);
}

/// Scheduled runs keep the chain: the second run checks its first digest against the last
/// one the first run read, and the log files the first run read against the digest that
/// arrives later; the keys are fetched once; a digest deleted between runs breaks the chain.
fn scheduled_runs_keep_the_digest_chain(moto: &Moto) {
    let trail = SignedTrail::new(moto);
    moto.boto3("s3.create_bucket(Bucket='reports')");
    let dir = tempfile::tempdir().unwrap();
    let run = |now: &str| {
        trail.scan(
            moto,
            dir.path(),
            &[
                "--state",
                "s3://reports/state.json",
                "--out",
                "s3://reports/root/",
                "--now",
                now,
            ],
        )
    };
    let newest_summary = || -> Value {
        let listing = moto.boto3(
            "keys = [o['Key'] for o in s3.list_objects_v2(Bucket='reports', Prefix='root/').get('Contents', []) if o['Key'].endswith('summary.json')]\n\
             print(json.dumps(json.load(s3.get_object(Bucket='reports', Key=sorted(keys)[-1])['Body'])))",
        );
        serde_json::from_str(listing.trim()).unwrap()
    };
    trail.upload(moto, &[9, 10], true);
    trail.upload(moto, &[11], false);
    let out = run("2026-11-21T11:50:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = newest_summary()["integrity"].clone();
    assert_eq!(
        (
            &first["log_files_verified"],
            &first["log_files_awaiting_digest"],
            &first["chain_starts"]
        ),
        (&4.into(), &2.into(), &1.into()),
        "{first:#}"
    );

    trail.upload(moto, &[11], true);
    let out = run("2026-11-21T12:10:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let second = newest_summary()["integrity"].clone();
    assert_eq!(
        (&second["digests"], &second["log_files_verified"], &second["signatures_verified"], &second["chain_starts"]),
        (&1.into(), &2.into(), &1.into(), &0.into()),
        "the 11:00 files read by the first run, checked against the digest read by the second: {second:#}"
    );
    assert_eq!(
        *trail.calls.lock().unwrap(),
        1,
        "the keys are kept in the state"
    );

    // The 12:00 digest never arrives (deleted): 13:00's names it.
    trail.upload(moto, &[12], false);
    trail.upload(moto, &[13], true);
    let out = run("2026-11-21T14:10:00Z");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let third = newest_summary()["integrity"].clone();
    let missing = third["digests_missing"][0]["object"].as_str().unwrap();
    assert!(missing.contains("20261121T130000Z"), "{third:#}");
}

/// The notification peers: an SNS topic with an SQS subscription (raw delivery), an
/// EventBridge rule on the default bus sending tagtrail's events to SQS, and a loopback
/// webhook that refuses its first two posts.
struct Owners {
    webhook: String,
    /// Posts answered with 200: the text of each.
    posts: Arc<Mutex<Vec<String>>>,
}

impl Owners {
    fn new(moto: &Moto) -> Owners {
        moto.boto3(
            "kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b')\n\
             sqs = boto3.client('sqs', **kw); sns = boto3.client('sns', **kw); events = boto3.client('events', **kw)\n\
             arn = lambda url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
             topic = sns.create_topic(Name='aaa-findings')['TopicArn']\n\
             q = sqs.create_queue(QueueName='aaa-q')['QueueUrl']\n\
             sns.subscribe(TopicArn=topic, Protocol='sqs', Endpoint=arn(q), Attributes={'RawMessageDelivery': 'true'})\n\
             e = sqs.create_queue(QueueName='events-q')['QueueUrl']\n\
             events.put_rule(Name='tagtrail', EventPattern=json.dumps({'source': ['tagtrail'], 'detail-type': ['tagtrail finding']}))\n\
             events.put_targets(Rule='tagtrail', Targets=[{'Id': 'q', 'Arn': arn(e)}])",
        );
        let (calls, posts) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(Vec::new())));
        let (seen, kept) = (calls.clone(), posts.clone());
        let webhook = crate::input::loopback::start(Arc::new(move |_, body| {
            let mut calls = seen.lock().unwrap();
            *calls += 1;
            if *calls <= 2 {
                return (500, serde_json::json!({}));
            }
            kept.lock()
                .unwrap()
                .push(body["text"].as_str().unwrap().to_string());
            (200, serde_json::json!({"ok": true}))
        }));
        Owners { webhook, posts }
    }

    /// Every message of an SQS queue, read and deleted: its body, and its attributes under
    /// `attributes` (object bodies only).
    fn drain(&self, moto: &Moto, queue: &str) -> Vec<Value> {
        let out = moto.boto3(&format!(
            "sqs = boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b')\n\
             url = sqs.get_queue_url(QueueName='{queue}')['QueueUrl']\n\
             while True:\n    \
                 got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=['All']).get('Messages', [])\n    \
                 if not got: break\n    \
                 for m in got:\n        \
                     body = json.loads(m['Body'])\n        \
                     body['attributes'] = {{k: v.get('StringValue') for k, v in m.get('MessageAttributes', {{}}).items()}}\n        \
                     print(json.dumps(body))\n        \
                     sqs.delete_message(QueueUrl=url, ReceiptHandle=m['ReceiptHandle'])"
        ));
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Three scheduled runs with `[notify]` routes: findings on `aaa` resources to an SNS topic
/// and a webhook, the rest to EventBridge. The second run reaches no target (its batches stay
/// in the outbox, `--require-notify` exits 2); the third delivers them with its own. In the
/// end every finding reached its owners exactly once, routed as configured.
fn new_findings_reach_their_owners_once(moto: &Moto) {
    use crate::live::schedule::{full_scan, Trail};
    let owners = Owners::new(moto);
    let work = tempfile::tempdir().unwrap();
    let trail = Trail::new(&work.path().join("trail"));
    let demo = root().join("examples/demo");
    let config = work.path().join("tagtrail.toml");
    std::fs::write(
        &config,
        format!(
            "paths = [\"trail\"]\ninventory = {:?}\npolicy = {:?}\nstate = \"state.json\"\nout = \"root\"\nfail-on = \"never\"\n\n\
             [notify]\non = \"tag-change\"\ndefault = \"ops\"\nreport-url = \"https://reports.example/{{run}}/report.html\"\n\
             [notify.targets.aaa]\nsns = \"arn:aws:sns:us-east-1:123456789012:aaa-findings\"\n\
             [notify.targets.ops]\neventbridge = \"default\"\n\
             [notify.targets.chat]\nwebhook-env = \"TAGTRAIL_TEST_WEBHOOK\"\n\
             [[notify.routes]]\nresource-product = \"aaa\"\nto = [\"aaa\", \"chat\"]\n",
            demo.join("inventory"),
            demo.join("policy.toml"),
        ),
    )
    .unwrap();
    let closed = "http://127.0.0.1:9";
    let run = |now: &str, reachable: bool| {
        let webhook = if reachable {
            owners.webhook.as_str()
        } else {
            closed
        };
        let mut env = vec![("TAGTRAIL_TEST_WEBHOOK", webhook)];
        if !reachable {
            env.extend([
                ("AWS_ENDPOINT_URL_SNS", closed),
                ("AWS_ENDPOINT_URL_EVENTBRIDGE", closed),
            ]);
        }
        let config = config.to_str().unwrap();
        moto.tagtrail_with(
            work.path(),
            &["scan", "--config", config, "--now", now, "--require-notify"],
            &env,
        )
    };

    trail.file(0, "2026-11-09T10:05:00Z", "a", 40);
    trail.file(1, "2026-11-09T10:35:00Z", "b", 40);
    let out = run("2026-11-09T12:00:00Z", true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("0 left in the outbox"),
        "{}",
        stdout(&out)
    );

    trail.file(0, "2026-11-09T13:05:00Z", "c", 30);
    trail.file(1, "2026-11-09T13:35:00Z", "d", 30);
    let out = run("2026-11-09T14:00:00Z", false);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).contains("not delivered"), "{}", stdout(&out));
    let state: Value = json_file(&work.path().join("state.json"));
    let waiting = state["outbox"].as_array().unwrap().len();
    assert!(
        waiting >= 3,
        "one batch per target at least stays: {state:#}"
    );

    trail.file(0, "2026-11-09T15:05:00Z", "e", 20);
    let out = run("2026-11-09T16:00:00Z", true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let state: Value = json_file(&work.path().join("state.json"));
    assert!(
        state.get("outbox").is_none(),
        "the outbox is empty: {state:#}"
    );

    // Every finding of the three runs, once per owner.
    let key = |f: &Value| {
        (
            f["event_id"].as_str().unwrap().to_string(),
            f["resource_arn"].as_str().unwrap_or("").to_string(),
            f["kind"].as_str().unwrap().to_string(),
        )
    };
    let (mut messages, bus) = (owners.drain(moto, "aaa-q"), owners.drain(moto, "events-q"));
    // SNS message attributes: the batch id and the ids of its findings, for receivers to
    // drop repeats without reading the message.
    for message in &mut messages {
        let attributes = message
            .as_object_mut()
            .unwrap()
            .remove("attributes")
            .unwrap();
        assert_eq!(attributes["tagtrail_batch_id"], message["batch_id"]);
        let ids: Vec<Value> = message["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].clone())
            .collect();
        let listed: Value =
            serde_json::from_str(attributes["tagtrail_finding_ids"].as_str().unwrap()).unwrap();
        assert_eq!(listed, Value::from(ids));
    }
    let sns: Vec<Value> = messages
        .iter()
        .flat_map(|m| m["findings"].as_array().unwrap().clone())
        .collect();
    let events: Vec<Value> = bus
        .iter()
        .map(|e| {
            assert_eq!(
                (e["source"].as_str(), e["detail-type"].as_str()),
                (Some("tagtrail"), Some("tagtrail finding"))
            );
            assert!(e["attributes"].as_object().unwrap().is_empty());
            e["detail"]["finding"].clone()
        })
        .collect();
    // What arrived is what the documented schema says (Python's `jsonschema`).
    let sent = tempfile::NamedTempFile::new().unwrap();
    let details: Vec<&Value> = bus.iter().map(|e| &e["detail"]).collect();
    std::fs::write(
        sent.path(),
        serde_json::to_vec(&(&messages, details)).unwrap(),
    )
    .unwrap();
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        script.path(),
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1]))\n\
         messages, details = json.load(open(sys.argv[2]))\n\
         for m in messages + details:\n    jsonschema.validate(m, schema)\n\
         print(len(messages) + len(details))",
    )
    .unwrap();
    let checked = moto.python(
        script.path(),
        &[
            root().join("docs/src/notice.schema.json").to_str().unwrap(),
            sent.path().to_str().unwrap(),
        ],
    );
    assert_eq!(checked.trim(), (messages.len() + bus.len()).to_string());
    assert!(
        sns.iter().all(|f| f["resource_product"] == "aaa"),
        "routed by resource product"
    );
    assert!(
        events.iter().all(|f| f["resource_product"] != "aaa"),
        "the default takes the rest"
    );
    let mut delivered: Vec<_> = sns.iter().chain(&events).map(key).collect();
    delivered.sort();
    let total = delivered.len();
    delivered.dedup();
    assert_eq!(total, delivered.len(), "a finding was delivered twice");
    let expected: Vec<_> = full_scan(&trail.dir).into_iter().collect();
    assert_eq!(delivered, expected, "every finding, to its owners");
    // The webhook: two refusals retried, then one post per run that had `aaa` findings, each
    // counting them and linking the report.
    let posts = owners.posts.lock().unwrap().clone();
    let counted: usize = posts
        .iter()
        .map(|p| p.split(' ').nth(1).unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, sns.len(), "{posts:#?}");
    assert!(
        posts.iter().all(|p| p.contains("https://reports.example/")),
        "{posts:#?}"
    );
}
