//! Scheduled scans (`scan --state`): runs over a trail that receives new, late and duplicate
//! files between them report, together, exactly the findings of one full scan, each once;
//! runs stopped by a fault at every commit step, or killed with SIGKILL at random moments,
//! lose nothing and duplicate nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;
use serde_json::Value;

use crate::{gzip, root, stderr, stdout};

/// (event id, resource ARN, kind) of a finding.
pub type Finding = (String, String, String);

/// Writes trail files in the delivery layout, made of the demo trail's records with new event
/// ids and times.
pub struct Trail {
    pub dir: PathBuf,
    templates: BTreeMap<String, Vec<Value>>,
}

/// The two streams of the demo trail.
pub const STREAMS: [(&str, &str); 2] =
    [("401234567890", "us-east-1"), ("402345678901", "eu-west-1")];

impl Trail {
    pub fn new(dir: &Path) -> Trail {
        let mut templates: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let demo = root().join("examples/demo/trail/AWSLogs");
        for (account, region) in STREAMS {
            let days = demo
                .join(account)
                .join("CloudTrail")
                .join(region)
                .join("2026/11");
            for day in ["20", "21", "22"] {
                for file in std::fs::read_dir(days.join(day)).unwrap() {
                    let raw = std::fs::read(file.unwrap().path()).unwrap();
                    let records: Value = serde_json::from_slice(&crate::gunzip(&raw)).unwrap();
                    templates
                        .entry(account.to_string())
                        .or_default()
                        .extend(records["Records"].as_array().unwrap().iter().cloned());
                }
            }
        }
        Trail {
            dir: dir.to_path_buf(),
            templates,
        }
    }

    /// One log file of stream `stream` (an index of [`STREAMS`]) published at `published`
    /// (RFC 3339), of `count` records from five minutes before, with event ids `<tag>-<n>`.
    pub fn file(&self, stream: usize, published: &str, tag: &str, count: usize) -> PathBuf {
        self.file_at(stream, at(published), tag, count)
    }

    /// [`Trail::file`], published at `published`.
    pub fn file_at(
        &self,
        stream: usize,
        published: DateTime<Utc>,
        tag: &str,
        count: usize,
    ) -> PathBuf {
        let time = published - Duration::minutes(5);
        let (account, region) = STREAMS[stream];
        let templates = &self.templates[account];
        let records: Vec<Value> = (0..count)
            .map(|n| {
                let mut record = templates[n % templates.len()].clone();
                record["eventID"] = format!("{tag}-{n}").into();
                record["eventTime"] = (time + Duration::seconds(n as i64 % 3000))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
                    .into();
                record
            })
            .collect();
        let folder = self.dir.join(format!(
            "AWSLogs/{account}/CloudTrail/{region}/{}",
            published.format("%Y/%m/%d")
        ));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!(
            "{account}_CloudTrail_{region}_{}_{tag}.json.gz",
            published.format("%Y%m%dT%H%MZ")
        ));
        let body = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
        std::fs::write(&path, gzip(&body)).unwrap();
        path
    }

    /// A digest file of stream `stream` published at `published`, listing `files` (paths
    /// under the trail, as a digest gives them: `AWSLogs/…`).
    pub fn digest(&self, stream: usize, published: &str, files: &[&Path]) -> PathBuf {
        let (account, region) = STREAMS[stream];
        let published = at(published);
        let folder = self.dir.join(format!(
            "AWSLogs/{account}/CloudTrail-Digest/{region}/{}",
            published.format("%Y/%m/%d")
        ));
        std::fs::create_dir_all(&folder).unwrap();
        let listed: Vec<Value> = files
            .iter()
            .map(|f| serde_json::json!({"s3Bucket": "trail", "s3Object": f.strip_prefix(&self.dir).unwrap_or(f)}))
            .collect();
        let digest = serde_json::json!({
            "awsAccountId": account,
            "digestStartTime": (published - Duration::hours(1)).to_rfc3339(),
            "digestEndTime": published.to_rfc3339(),
            "logFiles": listed,
        });
        let path = folder.join(format!(
            "{account}_CloudTrail-Digest_{region}_trail_{region}_{}.json.gz",
            published.format("%Y%m%dT%H%M%SZ")
        ));
        std::fs::write(&path, gzip(&serde_json::to_vec(&digest).unwrap())).unwrap();
        path
    }

    /// A second delivery of a file already written, under another name, in `published`'s
    /// day folder: the same events, the same ids.
    pub fn redeliver(&self, file: &Path, published: DateTime<Utc>) -> PathBuf {
        let name = file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".json.gz", "-again.json.gz");
        let stream = file
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap();
        let folder = stream.join(published.format("%Y/%m/%d").to_string());
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(name);
        std::fs::copy(file, &path).unwrap();
        path
    }
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// The findings of every Parquet file under `dir` (a report root or folder), each file read
/// as a findings file with the documented schema.
pub fn findings_under(dir: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    for path in parquet_files(dir) {
        let frame = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let names: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        let expected: Vec<&str> = tagtrail::report::SCHEMA.iter().map(|c| c.0).collect();
        assert_eq!(names, expected, "{}", path.display());
        let column = |name: &str| {
            let values = frame.column(name).unwrap().str().unwrap().clone();
            (0..values.len())
                .map(|i| values.get(i).unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        let (ids, arns, kinds) = (column("event_id"), column("resource_arn"), column("kind"));
        for i in 0..ids.len() {
            out.push((ids[i].clone(), arns[i].clone(), kinds[i].clone()));
        }
    }
    out
}

/// Every `*.parquet` under `dir`, as `read_parquet('dir/**/*.parquet')` would take them.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect()
}

/// The findings of one full scan of `trail`, as a set (a full scan reports a re-delivered
/// event once per copy; the set is what runs must add up to).
pub fn full_scan(trail: &Path) -> BTreeSet<Finding> {
    let out = tempfile::tempdir().unwrap();
    let demo = root().join("examples/demo");
    let run = crate::tagtrail(
        &root(),
        &[
            "scan",
            trail.to_str().unwrap(),
            "--inventory",
            demo.join("inventory").to_str().unwrap(),
            "--policy",
            demo.join("policy.toml").to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--format",
            "parquet",
        ],
    );
    assert!(run.status.code().is_some_and(|c| c < 2), "{}", stderr(&run));
    findings_under(out.path()).into_iter().collect()
}

/// Runs `tagtrail scan --state` over `trail` at `now`, with extra environment variables.
fn scheduled(trail: &Path, work: &Path, now: &str, env: &[(&str, &str)]) -> Output {
    scheduled_command(trail, work, now)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn scheduled_command(trail: &Path, work: &Path, now: &str) -> Command {
    let demo = root().join("examples/demo");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tagtrail"));
    command
        .args(["scan", trail.to_str().unwrap(), "--inventory"])
        .arg(demo.join("inventory"))
        .arg("--policy")
        .arg(demo.join("policy.toml"))
        .arg("--state")
        .arg(work.join("state.json"))
        .arg("--out")
        .arg(work.join("root"))
        .args(["--now", now, "--fail-on", "never"])
        .env_remove("RUST_LOG")
        .env_remove("FAILPOINTS")
        .stdin(Stdio::null());
    command
}

/// No finding twice, and together exactly `expected`; nothing staged is left visible.
pub fn assert_exactly_once(root_dir: &Path, expected: &BTreeSet<Finding>) {
    let all = findings_under(root_dir);
    let distinct: BTreeSet<Finding> = all.iter().cloned().collect();
    assert_eq!(all.len(), distinct.len(), "a finding was reported twice");
    let missing: Vec<_> = expected.difference(&distinct).take(5).collect();
    let extra: Vec<_> = distinct.difference(expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for path in parquet_files(root_dir) {
        let relative = path
            .strip_prefix(root_dir)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(relative.starts_with("findings/dt="), "{relative}");
    }
}

#[test]
fn runs_report_new_late_and_redelivered_files_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let trail = Trail::new(&work.path().join("trail"));
    let run = |now: &str| {
        let out = scheduled(&trail.dir, work.path(), now, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        out
    };
    // Run 1: yesterday and this morning.
    let first = trail.file(0, "2026-11-09T10:05:00Z", "a", 60);
    trail.file(1, "2026-11-09T23:55:00Z", "b", 40);
    trail.file(0, "2026-11-10T05:05:00Z", "c", 60);
    let out = run("2026-11-10T06:00:00Z");
    assert!(
        stdout(&out).contains("3 not read before"),
        "{}",
        stdout(&out)
    );
    let after_first = findings_under(&work.path().join("root")).len();
    assert!(after_first > 0);

    // Run 2: new files, a late file in yesterday's folder, and a second delivery of a file
    // already read (same events, another name) in today's.
    trail.file(1, "2026-11-10T11:05:00Z", "d", 50);
    trail.file(0, "2026-11-09T20:00:00Z", "late", 30);
    trail.redeliver(&first, at("2026-11-10T11:10:00Z"));
    let out = run("2026-11-10T12:00:00Z");
    assert!(
        stdout(&out).contains("3 not read before"),
        "{}",
        stdout(&out)
    );
    let summaries = runs_summaries(&work.path().join("root"));
    assert!(
        summaries
            .iter()
            .any(|s| s["reported_before"].as_u64() > Some(0)),
        "the second delivery's findings are left out: {summaries:?}"
    );

    // Run 3: the next day, with one more late file for the day before yesterday, whose
    // folder is still open (a 2-day lookback).
    trail.file(1, "2026-11-11T09:05:00Z", "e", 50);
    trail.file(1, "2026-11-09T22:00:00Z", "later", 20);
    run("2026-11-11T12:00:00Z");

    // Together: exactly the findings of one full scan, each once.
    let expected = full_scan(&trail.dir);
    assert_exactly_once(&work.path().join("root"), &expected);

    // Run 4: nothing new, nothing added.
    let files = parquet_files(&work.path().join("root")).len();
    let out = run("2026-11-11T13:00:00Z");
    assert!(
        stdout(&out).contains(" 0 not read before"),
        "{}",
        stdout(&out)
    );
    assert_eq!(parquet_files(&work.path().join("root")).len(), files);

    // A file that arrives after its folder closed is not listed again: the state keeps only
    // that the folder is closed.
    let state: Value =
        serde_json::from_slice(&std::fs::read(work.path().join("state.json")).unwrap()).unwrap();
    let streams = state["streams"].as_object().unwrap();
    assert!(
        streams
            .values()
            .all(|s| s["closed_through"] == "2026-11-08"),
        "{state}"
    );
    trail.file(0, "2026-11-08T12:00:00Z", "too-late", 10);
    let out = run("2026-11-11T14:00:00Z");
    assert!(
        stdout(&out).contains(" 0 not read before"),
        "{}",
        stdout(&out)
    );
    assert_exactly_once(&work.path().join("root"), &expected);
}

/// The `runs/<run>/summary.json` of every run under a root.
fn runs_summaries(root_dir: &Path) -> Vec<Value> {
    walkdir::WalkDir::new(root_dir.join("runs"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.file_name().is_some_and(|n| n == "summary.json"))
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

/// A run that stops at any step of its commit (a fault point: the binary built for the tests
/// has them) leaves no file a reader takes, and the next run ends in exactly the findings of
/// a full scan.
#[test]
fn a_run_stopped_at_any_commit_step_loses_and_duplicates_nothing() {
    for point in [
        "schedule::staged=panic",
        "schedule::committed=panic",
        "schedule::publish-one=1*off->panic",
        "schedule::published=panic",
    ] {
        let work = tempfile::tempdir().unwrap();
        let trail = Trail::new(&work.path().join("trail"));
        trail.file(0, "2026-11-09T10:05:00Z", "a", 60);
        trail.file(1, "2026-11-10T10:05:00Z", "b", 60);
        let now = "2026-11-10T12:00:00Z";
        let stopped = scheduled(&trail.dir, work.path(), now, &[("FAILPOINTS", point)]);
        assert_eq!(
            stopped.status.code(),
            Some(101),
            "{point}: {}",
            stderr(&stopped)
        );
        // Whatever a reader of the root takes is whole and reported once.
        let partial = findings_under(&work.path().join("root"));
        let distinct: BTreeSet<_> = partial.iter().collect();
        assert_eq!(partial.len(), distinct.len(), "{point}");

        trail.file(0, "2026-11-10T11:05:00Z", "c", 40);
        let out = scheduled(&trail.dir, work.path(), now, &[]);
        assert_eq!(out.status.code(), Some(0), "{point}: {}", stderr(&out));
        assert_exactly_once(&work.path().join("root"), &full_scan(&trail.dir));
        assert!(
            !work.path().join("root/_tmp").exists()
                || std::fs::read_dir(work.path().join("root/_tmp"))
                    .unwrap()
                    .next()
                    .is_none(),
            "{point}: staged files left behind"
        );
    }
}

/// `kill -9` at random moments, round after round, while a trail of 240,000 events arrives
/// (new files, late files for folders already read), then a run to the end: the union of
/// everything the runs wrote is one full scan's findings, each once.
#[test]
fn runs_killed_at_random_moments_lose_and_duplicate_nothing() {
    let work = tempfile::tempdir().unwrap();
    let trail = Trail::new(&work.path().join("trail"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut random = seed | 1;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    // How long a run takes, learnt from the runs that finish before their kill.
    let mut typical = std::time::Duration::from_millis(1500);
    let (mut kills, mut finished) = (0, 0);
    let start = at("2026-11-10T00:00:00Z");
    let mut file = 0;
    for round in 0..12 {
        let now = start + Duration::hours(3 * round);
        // 20 files of 1,000 events: most published in the last 3 hours, every fifth late,
        // in a folder up to a day and a half old (still open with the 2-day lookback).
        for _ in 0..20 {
            let published = if file % 5 == 4 {
                now - Duration::minutes((next() % 2160) as i64)
            } else {
                now - Duration::minutes((next() % 180) as i64)
            };
            trail.file_at(file % 2, published, &format!("f{file}"), 1000);
            file += 1;
        }
        let now = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let began = std::time::Instant::now();
        let mut child = scheduled_command(&trail.dir, work.path(), &now)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Killed at a random moment up to half again a typical run's time, unless it ends
        // first: most runs die somewhere in their work, some finish.
        let budget = (typical.as_millis() as u64 * 3 / 2).max(1);
        let delay = std::time::Duration::from_millis(next() % budget);
        loop {
            if child.try_wait().unwrap().is_some() {
                typical = began.elapsed();
                finished += 1;
                break;
            }
            if began.elapsed() >= delay {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.wait().unwrap();
    }
    let last = (start + Duration::hours(36))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let out = scheduled(&trail.dir, work.path(), &last, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    println!("kill loop (seed {seed}): {kills} runs killed, {finished} finished, {file} files");
    assert!(kills > 0, "no run was killed: the loop tested nothing");
    let expected = full_scan(&trail.dir);
    assert!(expected.len() > 10_000, "{}", expected.len());
    assert_exactly_once(&work.path().join("root"), &expected);
}

/// The commented example configuration runs as shipped (flags moving its state and reports
/// to a temporary folder win over the file), and a key that is no scan option is refused
/// at its line and column.
#[test]
fn the_example_config_runs_and_bad_keys_are_refused_where_they_are() {
    let work = tempfile::tempdir().unwrap();
    let example = root().join("examples/tagtrail.toml");
    let state = work.path().join("state.json");
    let out_dir = work.path().join("root");
    // Its two webhooks: the `aaa` team's and the security team's.
    let hook = || {
        let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let kept = posts.clone();
        let url = crate::input::loopback::start(std::sync::Arc::new(move |_, body| {
            kept.lock()
                .unwrap()
                .push(body["text"].as_str().unwrap().to_string());
            (200, serde_json::json!({"ok": true}))
        }));
        (url, posts)
    };
    let ((aaa, aaa_posts), (security, security_posts)) = (hook(), hook());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--config",
            example.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ];
        args.extend(extra);
        Command::new(env!("CARGO_BIN_EXE_tagtrail"))
            .args(&args)
            .current_dir(work.path())
            .env("TAGTRAIL_AAA_WEBHOOK", &aaa)
            .env("TAGTRAIL_SECURITY_WEBHOOK", &security)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    };
    let out = run(&[]);
    // The file's fail-on (product-mismatch) makes the demo's findings fail the run.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The 8 product mismatches, routed by the resource's product.
    let lines = |posts: &std::sync::Mutex<Vec<String>>| -> Vec<String> {
        let posts = posts.lock().unwrap();
        assert_eq!(posts.len(), 1, "{posts:?}");
        posts[0]
            .lines()
            .skip(1)
            .filter(|l| l.starts_with('•'))
            .map(str::to_string)
            .collect()
    };
    let (to_aaa, to_security) = (lines(&aaa_posts), lines(&security_posts));
    assert_eq!(
        to_aaa.len() + to_security.len(),
        8,
        "{to_aaa:?} {to_security:?}"
    );
    let product = |line: &String| {
        line.rsplit_once(" (")
            .unwrap()
            .1
            .split(')')
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        !to_aaa.is_empty() && to_aaa.iter().all(|l| product(l) == "aaa"),
        "{to_aaa:?}"
    );
    assert!(
        to_security.iter().all(|l| product(l) != "aaa"),
        "{to_security:?}"
    );
    assert!(
        stdout(&out).contains("104 not read before"),
        "{}",
        stdout(&out)
    );
    let demo = findings_under(&out_dir);
    assert_eq!(demo.iter().filter(|f| f.2 == "product-mismatch").count(), 8);
    // A flag overrides the file: nothing new, and `never` fails nothing.
    let out = run(&["--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(" 0 not read before"),
        "{}",
        stdout(&out)
    );

    let bad = work.path().join("bad.toml");
    std::fs::write(&bad, "inventory = \"inv\"\n\n  fial-on = \"never\"\n").unwrap();
    let out = crate::tagtrail(work.path(), &["scan", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.toml:3:3: `fial-on` is not a scan option; did you mean `fail-on`?"),
        "{err}"
    );
    std::fs::write(&bad, "single-pass = \"yes\"\n").unwrap();
    let out = crate::tagtrail(work.path(), &["scan", "--config", bad.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("bad.toml:1:1: `single-pass` must be true or false"),
        "{}",
        stderr(&out)
    );
    // Values go through the flags' own checks.
    std::fs::write(&bad, "inventory = \"inv\"\nlookback = \"soon\"\n").unwrap();
    let out = crate::tagtrail(work.path(), &["scan", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`soon` is not a duration"),
        "{}",
        stderr(&out)
    );
}

/// Digest files say when an hour is complete: pending while a file they list has not arrived,
/// complete once it is read, and a file never delivered is reported missing when its folder
/// closes.
#[test]
fn digests_tell_complete_hours_pending_files_and_files_never_found() {
    let work = tempfile::tempdir().unwrap();
    let trail = Trail::new(&work.path().join("trail"));
    let run_record = |now: &str| {
        let out = scheduled(&trail.dir, work.path(), now, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let runs = work.path().join("root/runs");
        let newest = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .max()
            .unwrap();
        serde_json::from_slice::<Value>(&std::fs::read(newest.join("run.json")).unwrap()).unwrap()
            ["digests"]
            .clone()
    };
    let read = trail.file(0, "2026-11-10T09:05:00Z", "a", 10);
    let late = trail.dir.join(
        "AWSLogs/401234567890/CloudTrail/us-east-1/2026/11/10/401234567890_CloudTrail_us-east-1_20261110T0935Z_b.json.gz",
    );
    let never = trail.dir.join(
        "AWSLogs/401234567890/CloudTrail/us-east-1/2026/11/10/401234567890_CloudTrail_us-east-1_20261110T0940Z_never.json.gz",
    );
    trail.digest(0, "2026-11-10T10:00:00Z", &[&read]);
    trail.digest(0, "2026-11-10T11:00:00Z", &[&late, &never]);
    let digests = run_record("2026-11-10T12:00:00Z");
    assert_eq!(digests["hours_complete"], 1, "{digests}");
    assert_eq!(digests["hours_pending"], 1, "{digests}");
    assert_eq!(digests["files_pending"], 2, "{digests}");

    // The late file arrives; the other never does.
    trail.file(0, "2026-11-10T09:35:00Z", "b", 10);
    let digests = run_record("2026-11-10T13:00:00Z");
    assert_eq!(digests["files_pending"], 1, "{digests}");
    trail.file(1, "2026-11-13T09:05:00Z", "c", 10);
    let digests = run_record("2026-11-13T12:00:00Z");
    let missing = digests["files_missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{digests}");
    assert!(
        missing[0].as_str().unwrap().ends_with("_never.json.gz"),
        "{digests}"
    );
    assert_eq!(digests["hours_pending"], 0, "{digests}");
}

/// A one-off scan notifies only when asked (`--notify`), every finding at or above `on`, in
/// one webhook post; without a `[notify]` table the flag is refused.
#[test]
fn a_one_off_scan_notifies_only_when_asked() {
    let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let kept = posts.clone();
    let hook = crate::input::loopback::start(std::sync::Arc::new(move |_, body| {
        kept.lock()
            .unwrap()
            .push(body["text"].as_str().unwrap().to_string());
        (200, serde_json::json!({"ok": true}))
    }));
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("notify.toml");
    std::fs::write(
        &config,
        "[notify]\non = \"product-mismatch\"\ndefault = \"chat\"\n\
         [notify.targets.chat]\nwebhook-env = \"TAGTRAIL_TEST_HOOK\"\n",
    )
    .unwrap();
    let run = |extra: &[&str], config: &Path| {
        Command::new(env!("CARGO_BIN_EXE_tagtrail"))
            .args(["scan", "--demo", "--config"])
            .arg(config)
            .args(extra)
            .current_dir(work.path())
            .env("TAGTRAIL_TEST_HOOK", &hook)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    };
    let out = run(&["--out", "quiet"], &config);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(posts.lock().unwrap().is_empty(), "not asked, nothing sent");

    let out = run(&["--out", "told", "--notify", "--require-notify"], &config);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("notify: 8 finding(s) routed, 0 unrouted"),
        "{text}"
    );
    let posts = posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].starts_with("tagtrail: 8 new finding(s) (8 product-mismatch)"),
        "{}",
        posts[0]
    );

    let bare = work.path().join("bare.toml");
    std::fs::write(&bare, "fail-on = \"never\"\n").unwrap();
    let out = run(&["--out", "refused", "--notify"], &bare);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--notify needs a [notify] table"),
        "{}",
        stderr(&out)
    );
}
