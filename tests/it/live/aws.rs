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
    // Each object is downloaded once, though a scan reads its inputs twice (the spool).
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

    // The whole bucket: the demo's findings, from S3 this time; digests are never listed.
    let out = run(&["--out", "all"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = json_file(&dir.path().join("all/summary.json"));
    assert_eq!(summary["inputs"], 6 + 1001);
    assert_eq!(summary["records"]["read"], 51 + 1001);
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
        summary["inputs"], 1,
        "one object: account 401234567890, us-east-1, 2026/11/21"
    );

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
        summary["inputs"], 3,
        "the three days of account 402345678901, no digest"
    );
    assert_eq!(summary["skipped_by_reason"], serde_json::json!({}));
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
        summary["inputs"], 3,
        "the us-east-1 folders of the demo, from an eu-west-1 bucket"
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
