//! `tagtrail report ddl` and `report diff`: the statements run in DuckDB and parse in Athena's
//! dialect (sqlglot) over a one-off folder and a scheduled report root; a diff names what
//! changed.

use std::path::Path;
use std::process::Command;

use crate::{root, stdout, tagtrail};

/// Runs Python code with the test environment's interpreter (duckdb and sqlglot installed by
/// `scripts/test`); returns its standard output.
fn python(code: &str, args: &[&str]) -> String {
    let out = Command::new(crate::aws::moto_server().with_file_name("python"))
        .args(["-c", code])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::stderr(&out));
    stdout(&out)
}

fn ddl(args: &[&str]) -> String {
    let mut all = vec!["report", "ddl"];
    all.extend_from_slice(args);
    let out = tagtrail(&root(), &all);
    assert_eq!(out.status.code(), Some(0), "{}", crate::stderr(&out));
    stdout(&out)
}

fn duckdb_count(statement: &str) -> usize {
    let code = "import duckdb, sys\ncon = duckdb.connect()\ncon.execute(sys.argv[1])\n\
                print(con.execute('select count(*) from tagtrail_findings').fetchone()[0])";
    python(code, &[statement]).trim().parse().unwrap()
}

fn scan(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "scan",
        "--demo",
        "--fail-on",
        "never",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = tagtrail(&root(), &args);
    assert_eq!(run.status.code(), Some(0), "{}", crate::stderr(&run));
}

#[test]
fn reports_are_tables_in_duckdb_and_athena_and_diff_names_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let flat = dir.path().join("flat");
    scan(&flat, &[]);
    let rows = crate::finding_rows(&flat).len();
    let statement = ddl(&["--dialect", "duckdb", "--location", flat.to_str().unwrap()]);
    assert_eq!(duckdb_count(&statement), rows);

    // A scheduled scan's report root, partitioned by day.
    let root_dir = dir.path().join("root");
    let state = dir.path().join("state.json");
    scan(
        &root_dir,
        &[
            "--state",
            state.to_str().unwrap(),
            "--now",
            "2026-11-30T00:00:00Z",
        ],
    );
    let statement = ddl(&[
        "--dialect",
        "duckdb",
        "--location",
        root_dir.to_str().unwrap(),
        "--partitioned",
    ]);
    assert_eq!(
        duckdb_count(&statement),
        rows,
        "the same findings, in day partitions"
    );

    let parse = "import sqlglot, sys\nfor s in sqlglot.parse(sys.argv[1], read='athena', \
                 error_level=sqlglot.ErrorLevel.RAISE):\n    print(type(s).__name__)";
    for partitioned in [false, true] {
        let mut args = vec!["--dialect", "athena", "--location", "s3://reports/tagtrail"];
        if partitioned {
            args.push("--partitioned");
        }
        assert_eq!(python(parse, &[&ddl(&args)]).trim(), "Create");
    }

    // The same findings read from both layouts: no difference; a narrower window: gone ones.
    let same = tagtrail(
        &root(),
        &[
            "report",
            "diff",
            flat.to_str().unwrap(),
            root_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(stdout(&same).starts_with("0 new finding(s), 0 gone"));
    let later = dir.path().join("later");
    scan(&later, &["--since", "2026-11-21T00:00:00Z"]);
    let changed = tagtrail(
        &root(),
        &[
            "report",
            "diff",
            flat.to_str().unwrap(),
            later.to_str().unwrap(),
        ],
    );
    assert_eq!(changed.status.code(), Some(1));
    let gone = rows - crate::finding_rows(&later).len();
    assert!(gone > 0);
    assert!(
        stdout(&changed).starts_with(&format!("0 new finding(s), {gone} gone")),
        "{}",
        stdout(&changed)
    );
}
