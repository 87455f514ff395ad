//! `tagtrail report ddl` and `report diff`: the statements run in DuckDB and parse in Athena's
//! dialect (sqlglot) over a one-off folder and a scheduled report root; a diff names what
//! changed.

use std::path::Path;
use std::process::Command;

use crate::{root, stdout, tagtrail};

/// Runs Python code with the test environment's interpreter (duckdb and sqlglot installed by
/// `scripts/test`); returns its standard output.
pub(crate) fn python(code: &str, args: &[&str]) -> String {
    let out = Command::new(crate::live::aws::moto_server().with_file_name("python"))
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

/// The product tag of each ARN in AWS CLI JSON (`get-resources`, and the users and roles of
/// `get-account-authorization-details`), read independently of tagtrail: (ARN, product, kind).
fn tags_in_cli_json(dir: &Path) -> std::collections::BTreeSet<(String, String, String)> {
    let mut out = std::collections::BTreeSet::new();
    let product = |tags: &serde_json::Value| {
        tags.as_array()
            .and_then(|t| t.iter().find(|t| t["Key"] == "product"))
            .map_or(String::new(), |t| {
                t["Value"].as_str().unwrap().trim().to_string()
            })
    };
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    for r in read("resources.json")["ResourceTagMappingList"]
        .as_array()
        .unwrap()
    {
        let arn = r["ResourceARN"].as_str().unwrap().to_string();
        out.insert((arn, product(&r["Tags"]), "resource".to_string()));
    }
    let details = read("account-authorization-details.json");
    for list in ["UserDetailList", "RoleDetailList"] {
        for p in details[list].as_array().unwrap() {
            let arn = p["Arn"].as_str().unwrap().to_string();
            out.insert((arn, product(&p["Tags"]), "principal".to_string()));
        }
    }
    out
}

/// `inventory export` writes what the AWS CLI files say, read back by DuckDB from Parquet and
/// from CSV; dated snapshots become intervals that hold exactly where each snapshot is in force.
#[test]
fn the_exported_inventory_is_the_one_the_cli_files_describe() {
    let dir = tempfile::tempdir().unwrap();
    let demo = root().join("examples/demo/inventory");
    let expected = tags_in_cli_json(&demo);
    for format in ["parquet", "csv"] {
        let out = dir.path().join(format);
        let run = tagtrail(
            &root(),
            &[
                "inventory",
                "export",
                "--inventory",
                demo.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--format",
                format,
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{}", crate::stderr(&run));
        let rows = python(
            "import duckdb, json, sys\n\
             rows = duckdb.sql(f\"select arn, coalesce(product, ''), kind, source, snapshot, \
             valid_from, valid_to from '{sys.argv[1]}'\").fetchall()\n\
             print(json.dumps([[str(v) for v in r] for r in rows]))",
            &[out.join(format!("inventory.{format}")).to_str().unwrap()],
        );
        let rows: Vec<Vec<String>> = serde_json::from_str(&rows).unwrap();
        let got: std::collections::BTreeSet<_> = rows
            .iter()
            .map(|r| {
                assert_eq!(r[3..], ["inventory", "None", "None", "None"], "{r:?}");
                (r[0].clone(), r[1].clone(), r[2].clone())
            })
            .collect();
        // Every principal and resource of the files, and nothing else but KMS keys the
        // aliases file lists without tags.
        assert!(
            got.is_superset(&expected),
            "{:?}",
            expected.difference(&got)
        );
        assert_eq!(got.len(), rows.len(), "one row per ARN");
    }

    // Two dated snapshots: a role tagged aaa, then bbb.
    let snapshots = dir.path().join("snapshots");
    let role = "arn:aws:iam::111122223333:role/app";
    for (day, product) in [("2026-11-01", "aaa"), ("2026-11-15T120000Z", "bbb")] {
        std::fs::create_dir_all(snapshots.join(day)).unwrap();
        std::fs::write(
            snapshots.join(day).join("roles.json"),
            format!(r#"{{"Roles":[{{"Arn":"{role}","RoleName":"app","Tags":[{{"Key":"product","Value":"{product}"}}]}}]}}"#),
        )
        .unwrap();
    }
    let out = dir.path().join("dated");
    let run = tagtrail(
        &root(),
        &[
            "inventory",
            "export",
            "--inventory",
            snapshots.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", crate::stderr(&run));
    // The product each instant is judged by, as SQL finds it with the intervals.
    let at = |instant: &str| {
        python(
            "import duckdb, sys\n\
             print(duckdb.sql(f\"select string_agg(product, ',') from '{sys.argv[1]}' \
             where arn = '{sys.argv[2]}' and coalesce(valid_from <= TIMESTAMPTZ '{sys.argv[3]}', true) \
             and coalesce(TIMESTAMPTZ '{sys.argv[3]}' < valid_to, true)\").fetchall()[0][0])",
            &[out.join("inventory.parquet").to_str().unwrap(), role, instant],
        )
        .trim()
        .to_string()
    };
    assert_eq!(
        at("2026-10-01T00:00:00Z"),
        "aaa",
        "before every snapshot: the oldest"
    );
    assert_eq!(at("2026-11-15T11:59:59Z"), "aaa");
    assert_eq!(at("2026-11-15T12:00:00Z"), "bbb");
    assert_eq!(at("2027-01-01T00:00:00Z"), "bbb");

    // An inventory that cannot be read is named.
    let run = tagtrail(
        &root(),
        &[
            "inventory",
            "export",
            "--inventory",
            "/nonexistent",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        crate::stderr(&run).contains("/nonexistent"),
        "{}",
        crate::stderr(&run)
    );
}
