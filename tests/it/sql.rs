//! `tagtrail sql` and `scripts/spark-scan`: the Athena form parses as Trino SQL (sqlglot), and
//! the scan run as SQL finds what `tagtrail scan` finds, on the demo and on the real corpus
//! (with its tag calls) with an inventory of every ARN it names: by Apache Spark (the Spark
//! form), and by DuckDB (the Athena form translated by sqlglot). The scenarios of
//! `history.rs` (tag calls, sessions, duplicates, snapshots) are compared there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use polars::prelude::*;

use crate::reports::tables::python;
use crate::{root, stderr, stdout, tagtrail};

/// The rows the comparison is on: (event_id, resource_arn, kind, principal_product,
/// resource_product).
type Row = [Option<String>; 5];

fn read_parquet(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file).finish().unwrap()
}

/// The cells of a string column.
fn strings(column: &Column) -> Vec<Option<String>> {
    let column = column.str().unwrap();
    column.iter().map(|v| v.map(str::to_string)).collect()
}

/// The string columns `names` of a findings file, row by row.
pub(crate) fn string_columns<const N: usize>(
    path: &Path,
    names: [&str; N],
) -> Vec<[Option<String>; N]> {
    let frame = read_parquet(path);
    let cols: Vec<Vec<Option<String>>> = names
        .iter()
        .map(|name| strings(frame.column(name).unwrap()))
        .collect();
    (0..frame.height())
        .map(|i| std::array::from_fn(|c| cols[c][i].clone()))
        .collect()
}

fn findings(path: &Path) -> BTreeSet<Row> {
    let names = [
        "event_id",
        "resource_arn",
        "kind",
        "principal_product",
        "resource_product",
    ];
    string_columns(path, names).into_iter().collect()
}

/// Every row of a findings file with its cells as text (times in epoch milliseconds), but
/// `source`, which the scan gives with the record's position and the engines without; and
/// the names of its columns, in order.
fn whole_rows(path: &Path) -> (Vec<String>, BTreeMap<Vec<Option<String>>, usize>) {
    let frame = read_parquet(path);
    let names = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let cells: Vec<Vec<Option<String>>> = frame
        .columns()
        .iter()
        .filter(|c| c.name().as_str() != "source")
        .map(|column| {
            let column = match column.dtype() {
                DataType::Datetime(_, zone) => column
                    .cast(&DataType::Datetime(TimeUnit::Milliseconds, zone.clone()))
                    .and_then(|c| c.cast(&DataType::Int64))
                    .unwrap(),
                _ => column.clone(),
            };
            strings(&column.cast(&DataType::String).unwrap())
        })
        .collect();
    let mut rows = BTreeMap::new();
    for i in 0..frame.height() {
        *rows
            .entry(cells.iter().map(|c| c[i].clone()).collect())
            .or_insert(0) += 1;
    }
    (names, rows)
}

fn scan(paths: &[&Path], inventory: &Path, out: &Path, extra: &[&str]) {
    let mut args: Vec<&str> = vec!["scan"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    args.extend([
        "--inventory",
        inventory.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    args.extend_from_slice(extra);
    let run = tagtrail(&root(), &args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

/// The scan as SQL: `spark` asks the test run's one Spark session (`scripts/spark-scan
/// --serve`); `duckdb` runs the Athena form translated for DuckDB with the test suite's
/// Python. Returns what it printed.
pub(crate) fn sql_scan(
    engine: &str,
    paths: &[&Path],
    inventory: &Path,
    out: &Path,
    extra: &[&str],
) -> String {
    let mut args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(["--inventory".into(), inventory.display().to_string()]);
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    if engine == "spark" {
        return spark::scan(&args);
    }
    let run = Command::new(crate::live::aws::moto_server().with_file_name("python"))
        .arg(root().join("scripts/sql_scan.py"))
        .args([
            "--engine",
            engine,
            "--tagtrail",
            env!("CARGO_BIN_EXE_tagtrail"),
        ])
        .args(&args)
        .output()
        .unwrap();
    assert!(run.status.success(), "{engine}: {}", stderr(&run));
    stdout(&run)
}

/// One Spark session for every Spark comparison of the test run: starting Spark costs more
/// than most of the scans it runs. Scans take turns.
mod spark {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
    use std::sync::Mutex;

    use crate::root;

    struct Session {
        requests: ChildStdin,
        answers: BufReader<ChildStdout>,
        /// Ends when its stdin closes, with the test binary (statics are never dropped).
        _process: Child,
    }

    static SESSION: Mutex<Option<Session>> = Mutex::new(None);

    fn start() -> Session {
        let java = Command::new("java").arg("-version").output().is_ok();
        crate::peer("Java 17 (for Apache Spark)", java.then(Default::default));
        let mut child = Command::new(root().join("scripts/spark-scan"))
            .arg("--serve")
            .env("TAGTRAIL_BIN", env!("CARGO_BIN_EXE_tagtrail"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("scripts/spark-scan --serve");
        Session {
            requests: child.stdin.take().unwrap(),
            answers: BufReader::new(child.stdout.take().unwrap()),
            _process: child,
        }
    }

    /// Runs `scripts/spark-scan ARGS` on the shared session; returns what it printed.
    pub(crate) fn scan(args: &[String]) -> String {
        // A scan that failed in another test leaves the session usable.
        let mut session = SESSION.lock().unwrap_or_else(|e| e.into_inner());
        let session = session.get_or_insert_with(start);
        writeln!(session.requests, "{}", serde_json::json!(args)).unwrap();
        session.requests.flush().unwrap();
        let mut line = String::new();
        session.answers.read_line(&mut line).unwrap();
        assert!(
            !line.is_empty(),
            "scripts/spark-scan --serve ended: see its stderr"
        );
        let answer: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("spark-scan --serve answered {line:?}: {e}"));
        assert!(
            answer["ok"] == true,
            "spark: {}",
            answer["error"].as_str().unwrap_or("")
        );
        answer["stdout"].as_str().unwrap().to_string()
    }
}

/// An inventory of every ARN a scan names (principals and resources), each with a product by
/// its hash: a tenth left out, a tenth untagged, the rest `aaa` or `bbb`. What a rule built to
/// be completed is listed completed, as the Tagging API would: an id for `*` (Auto Scaling
/// groups), a random suffix for a secret named without one.
fn synthetic_inventory(trail: &Path, dir: &Path) {
    use sha2::{Digest, Sha256};
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(
        empty.join("resources.json"),
        r#"{"ResourceTagMappingList":[]}"#,
    )
    .unwrap();
    let first = dir.join("first");
    scan(&[trail], &empty, &first, &["--single-pass"]);
    let named = string_columns(
        &first.join("findings.parquet"),
        ["resource_arn", "principal_arn"],
    );
    let suffixed = regex::Regex::new(r"-[A-Za-z0-9]{6}$").unwrap();
    let arns: BTreeSet<String> = named
        .into_iter()
        .flatten()
        .flatten()
        .map(|arn| {
            if arn.contains(":secret:") && !suffixed.is_match(&arn) {
                format!("{arn}-Ab12Cd")
            } else {
                arn.replace(":*:", ":0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:")
            }
        })
        .collect();
    let rows: Vec<serde_json::Value> = arns
        .iter()
        .filter_map(|arn| {
            let h = Sha256::digest(arn.as_bytes())[0] % 20;
            let tags = match h {
                0 | 1 => return None,
                2 | 3 => serde_json::json!([]),
                _ => serde_json::json!([{"Key": "product", "Value": if h % 2 == 1 { "aaa" } else { "bbb" }}]),
            };
            Some(serde_json::json!({"ResourceARN": arn, "Tags": tags}))
        })
        .collect();
    let inventory = dir.join("inventory");
    std::fs::create_dir_all(&inventory).unwrap();
    std::fs::write(
        inventory.join("resources.json"),
        serde_json::json!({ "ResourceTagMappingList": rows }).to_string(),
    )
    .unwrap();
}

fn assert_same(what: &str, scan: &BTreeSet<Row>, sql: &BTreeSet<Row>) {
    let only_scan: Vec<_> = scan.difference(sql).take(10).collect();
    let only_sql: Vec<_> = sql.difference(scan).take(10).collect();
    assert!(
        only_scan.is_empty() && only_sql.is_empty(),
        "{what}: {} rows from the scan, {} from SQL\nonly the scan: {only_scan:#?}\nonly SQL: {only_sql:#?}",
        scan.len(),
        sql.len()
    );
    println!("{what}: the same {} finding rows", scan.len());
}

/// Runs the scan and both SQL engines on `paths` (`records` records), and compares their
/// findings.
fn compare(
    what: &str,
    (paths, records): (&[&Path], usize),
    inventory: &Path,
    dir: &Path,
    extra: &[&str],
) {
    let scanned = dir.join(format!("{what}-scan/findings.parquet"));
    scan(paths, inventory, scanned.parent().unwrap(), extra);
    crate::scan::history::same_as_two_pass_reference(what, scanned.parent().unwrap(), |out| {
        scan(
            paths,
            inventory,
            out,
            &[extra, &["--two-pass-reference"]].concat(),
        )
    });
    let expected = findings(&scanned);
    let (columns, whole) = whole_rows(&scanned);
    for engine in ["duckdb", "spark"] {
        let out = dir.join(format!("{what}-{engine}"));
        let said = sql_scan(engine, paths, inventory, &out, extra);
        assert!(said.contains(&format!("records {records},")), "{said}");
        let found = out.join("findings.parquet");
        assert_same(&format!("{what}, {engine}"), &expected, &findings(&found));
        // The same columns, and every cell of every row the same (but `source`).
        let (engine_columns, engine_whole) = whole_rows(&found);
        assert_eq!(engine_columns, columns, "{what}, {engine}");
        let differ: Vec<_> = whole
            .iter()
            .filter(|(row, n)| engine_whole.get(*row) != Some(n))
            .take(5)
            .collect();
        assert!(
            differ.is_empty() && whole.len() == engine_whole.len(),
            "{what}, {engine}: rows the scan has that SQL has not (of {}): {differ:#?}",
            whole.len()
        );
    }
}

#[test]
fn sql_finds_what_the_scan_finds_on_the_demo_and_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let demo = root().join("examples/demo");
    let policy = demo.join("policy.toml");
    compare(
        "demo",
        (&[&demo.join("trail")], 51),
        &demo.join("inventory"),
        dir.path(),
        &["--policy", policy.to_str().unwrap()],
    );

    // The real corpus, every one of its shapes, with an inventory of what it names; its tag
    // calls (PutBucketTagging and the like) re-tag some buckets before later calls touch them.
    let corpus = crate::corpus_dir();
    let files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    let files: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    synthetic_inventory(&corpus, dir.path());
    compare(
        "corpus",
        (&files, 4114),
        &dir.path().join("inventory"),
        dir.path(),
        &[],
    );
}

/// A generated corpus of 100,000 events over 3 regions and 2 accounts, with its inventory
/// (bench/synthetic/gen_corpus.py, seed 42; its tag calls make 677 product changes).
#[test]
fn sql_finds_what_the_scan_finds_on_a_generated_100k_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let run = Command::new("python3")
        .arg(root().join("bench/synthetic/gen_corpus.py"))
        .args(["--events", "100000", "--seed", "42", "--out"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    compare(
        "bench",
        (&[&corpus.join("AWSLogs")], 100_000),
        &corpus.join("inventory"),
        dir.path(),
        &[],
    );
}

/// An extractor the query cannot express (more vars than it fills) is named in the query's
/// header and on stderr, never dropped silently.
#[test]
fn a_rule_the_sql_cannot_express_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rule = r#"
[[rule]]
id = "example-five-vars"
source = "example.amazonaws.com"
description = "A template of five vars."
events = ["DoThing"]

  [[rule.extract]]
  path = "requestParameters.e"
  vars = { a = "requestParameters.a", b = "requestParameters.b", c = "requestParameters.c", d = "requestParameters.d", f = "requestParameters.f" }
  arn = "arn:{partition}:example:{region}:{account}:thing/{a}/{b}/{c}/{d}/{f}/{value}"

  [[rule.test]]
  name = "hand-written"
  event = '{"awsRegion": "us-east-1", "eventName": "DoThing", "eventSource": "example.amazonaws.com", "recipientAccountId": "123456789012", "requestParameters": {"a": "1", "b": "2", "c": "3", "d": "4", "f": "5", "e": "x"}}'
  expect = ["arn:aws:example:us-east-1:123456789012:thing/1/2/3/4/5/x"]
"#;
    let file = dir.path().join("wide.toml");
    std::fs::write(&file, rule).unwrap();
    for dialect in ["athena", "spark"] {
        let run = tagtrail(
            dir.path(),
            &[
                "sql",
                "--dialect",
                dialect,
                "--add-rules",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        let said = "not translated: rule example-five-vars: extractor 1 takes 5 vars";
        assert!(stdout(&run).contains(&format!("-- {said}")), "{dialect}");
        assert!(
            stderr(&run).contains("rule=example-five-vars"),
            "{}",
            stderr(&run)
        );
    }
}

#[test]
fn the_athena_form_parses_as_trino_and_its_tables_as_athena_ddl() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("athena");
    let run = tagtrail(
        &root(),
        &[
            "sql",
            "--dialect",
            "athena",
            "--out",
            out.to_str().unwrap(),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-08",
            "--trail-location",
            "s3://trail-bucket/org",
            "--organization",
            "o-abc123",
            "--accounts",
            "111122223333,444455556666",
            "--trail-regions",
            "us-east-1,eu-west-1",
            "--tables-location",
            "s3://tables-bucket/tagtrail",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let query = std::fs::read_to_string(out.join("query.sql")).unwrap();
    // The window restricts the day partitions with a day of slack each side.
    assert!(query.contains("\"timestamp\" >= '2026/10/31'"), "{query}");
    assert!(query.contains("\"timestamp\" <= '2026/11/09'"), "{query}");
    assert!(query.len() < 256 * 1024, "Athena's limit on a query's size");
    let tables = std::fs::read_to_string(out.join("tables.sql")).unwrap();
    assert!(
        tables.contains(
            "'s3://trail-bucket/org/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${timestamp}'"
        ),
        "{tables}"
    );
    let parsed = python(
        "import sqlglot, sys\n\
         q = sqlglot.parse(open(sys.argv[1]).read(), read='trino')\n\
         t = sqlglot.parse(open(sys.argv[2]).read(), read='athena')\n\
         print(len([s for s in q if s]), len([s for s in t if s]))",
        &[
            out.join("query.sql").to_str().unwrap(),
            out.join("tables.sql").to_str().unwrap(),
        ],
    );
    assert_eq!(
        parsed.trim(),
        "1 15",
        "one query; the trail, 12 rule tables and 2 inventory tables"
    );
    // Every rule table was written, one JSON object a line.
    for (table, _) in tagtrail::sql::TABLES {
        let text = std::fs::read_to_string(out.join(table).join(format!("{table}.jsonl"))).unwrap();
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}
