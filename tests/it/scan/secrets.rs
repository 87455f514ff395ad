//! Reports hold identifiers, never payloads: scanning and resolving the real corpus, no output
//! holds a credential, token or password the records carry, and no request or response value
//! appears in any column but the identifier columns.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{corpus_dir, root, stdout, tagtrail};

/// Keys whose values are secrets wherever they appear in a record.
const SECRET_KEYS: &[&str] = &[
    "sessionToken",
    "secretAccessKey",
    "masterUserPassword",
    "password",
    "clientSecret",
    "accessToken",
    "idToken",
    "refreshToken",
    "tokenValue",
    "secretString",
    "secretBinary",
];

/// Every string leaf of `value`, with the key it sits under.
fn leaves<'v>(value: &'v Value, key: &'v str, out: &mut Vec<(&'v str, &'v str)>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| leaves(v, k, out)),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, key, out)),
        Value::String(s) => out.push((key, s)),
        _ => {}
    }
}

fn corpus_records() -> Vec<Value> {
    let mut records = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".jsonl.gz") {
            continue;
        }
        let text = String::from_utf8(crate::gunzip(&std::fs::read(&path).unwrap())).unwrap();
        records.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    records
}

#[test]
fn no_report_holds_a_secret_or_a_payload_value() {
    let records = corpus_records();
    let (mut secrets, mut payload) = (BTreeSet::new(), BTreeSet::new());
    // What a finding may legitimately repeat: the records' own top-level fields and identities.
    let mut identity = Vec::new();
    for record in &records {
        for (key, value) in record.as_object().unwrap() {
            if ![
                "requestParameters",
                "responseElements",
                "additionalEventData",
            ]
            .contains(&key.as_str())
            {
                leaves(value, key, &mut identity);
            }
        }
    }
    let identity: BTreeSet<&str> = identity.into_iter().map(|(_, v)| v).collect();
    for record in &records {
        for section in [
            "requestParameters",
            "responseElements",
            "additionalEventData",
        ] {
            let mut found = Vec::new();
            leaves(&record[section], section, &mut found);
            for (key, value) in found {
                if SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
                    && value.len() > 8
                    && !value.starts_with("HIDDEN_DUE_TO")
                {
                    secrets.insert(value.to_string());
                } else if value.len() >= 24
                    && !value.starts_with("arn:")
                    && !identity.contains(value)
                {
                    payload.insert(value.to_string());
                }
            }
        }
    }
    assert!(
        secrets.len() >= 50,
        "the corpus holds session tokens: {}",
        secrets.len()
    );

    let out_dir = tempfile::tempdir().unwrap();
    let inventory = root().join("examples/demo/inventory");
    let scan = tagtrail(
        &root(),
        &[
            "scan",
            corpus_dir().to_str().unwrap(),
            "--inventory",
            inventory.to_str().unwrap(),
            "--out",
            out_dir.path().to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(scan.status.code(), Some(0), "{}", crate::stderr(&scan));
    let resolve = tagtrail(&root(), &["resolve", corpus_dir().to_str().unwrap()]);
    let csv = std::fs::read_to_string(out_dir.path().join("findings.csv")).unwrap();
    let summary = std::fs::read_to_string(out_dir.path().join("summary.json")).unwrap();
    let resolved = stdout(&resolve);
    assert!(csv.lines().count() > 1000, "the scan listed findings");

    for (name, text) in [
        ("findings.csv", &csv),
        ("summary.json", &summary),
        ("resolve", &resolved),
    ] {
        let leaked: Vec<&String> = secrets
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .collect();
        assert!(leaked.is_empty(), "{name} holds {} secret(s)", leaked.len());
    }
    // A long request or response value may appear only inside an identifier column
    // (`event_time` is a timestamp the scan formats: a request may hold the same instant).
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let identifiers = [
        "principal_arn",
        "resource_arn",
        "event_id",
        "source",
        "event_time",
    ];
    for line in csv.lines().skip(1) {
        for (column, cell) in header.iter().zip(line.split(',')) {
            if identifiers.contains(column) {
                continue;
            }
            assert!(
                !payload.contains(cell.trim_matches('"')),
                "column {column} holds a payload value: {cell}"
            );
        }
    }
}
