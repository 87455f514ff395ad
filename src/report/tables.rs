//! Reports read back: the findings of a report folder, and those new and gone between two
//! reports (`tagtrail report diff`). The statement that makes a report folder a table is in
//! `sql::ddl`, with the other tables' DDL.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::ReportError;

/// What identifies a finding, and what a reader needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    pub kind: String,
    pub event_id: String,
    pub resource_arn: String,
    pub event_name: String,
    pub principal_arn: String,
    pub event_time: String,
}

/// The findings of a report: a one-off folder's `findings.parquet`, or every
/// `findings/dt=*/<run>.parquet` of a report root.
pub fn read_findings(dir: &Path) -> Result<Vec<Listed>, ReportError> {
    let io = |path: &Path, source| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    let flat = dir.join("findings.parquet");
    let mut files: Vec<PathBuf> = Vec::new();
    if flat.is_file() {
        files.push(flat);
    } else {
        let partitions = dir.join("findings");
        for entry in fs::read_dir(&partitions).map_err(|e| io(&partitions, e))? {
            let partition = entry.map_err(|e| io(&partitions, e))?.path();
            for file in fs::read_dir(&partition).map_err(|e| io(&partition, e))? {
                let file = file.map_err(|e| io(&partition, e))?.path();
                if file.extension().is_some_and(|e| e == "parquet") {
                    files.push(file);
                }
            }
        }
        files.sort();
    }
    let mut out = Vec::new();
    for path in files {
        let polars = |source| ReportError::Polars {
            path: path.display().to_string(),
            source,
        };
        let file = fs::File::open(&path).map_err(|e| io(&path, e))?;
        let frame = ParquetReader::new(file).finish().map_err(polars)?;
        let text = |name: &str| -> Result<Vec<String>, ReportError> {
            let column = frame.column(name).map_err(polars)?;
            if name == "event_time" {
                // timestamp[ms, UTC] (SCHEMA): as RFC 3339.
                let millis = column.cast(&DataType::Int64).map_err(polars)?;
                return Ok(millis
                    .i64()
                    .map_err(polars)?
                    .iter()
                    .map(|ms| {
                        ms.and_then(chrono::DateTime::from_timestamp_millis)
                            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                            .unwrap_or_default()
                    })
                    .collect());
            }
            let column = column.cast(&DataType::String).map_err(polars)?;
            Ok(column
                .str()
                .map_err(polars)?
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect())
        };
        let columns = [
            "kind",
            "event_id",
            "resource_arn",
            "event_name",
            "principal_arn",
            "event_time",
        ]
        .map(text);
        let [kind, event_id, resource_arn, event_name, principal_arn, event_time] = columns;
        let (kind, event_id, resource_arn) = (kind?, event_id?, resource_arn?);
        let (event_name, principal_arn, event_time) = (event_name?, principal_arn?, event_time?);
        for i in 0..frame.height() {
            out.push(Listed {
                kind: kind[i].clone(),
                event_id: event_id[i].clone(),
                resource_arn: resource_arn[i].clone(),
                event_name: event_name[i].clone(),
                principal_arn: principal_arn[i].clone(),
                event_time: event_time[i].clone(),
            });
        }
    }
    Ok(out)
}

/// The findings of `new` that `old` does not have, and those of `old` gone from `new`, by
/// (event id, resource ARN, kind), each list in report order.
pub fn diff(old: &[Listed], new: &[Listed]) -> (Vec<Listed>, Vec<Listed>) {
    let key = |l: &Listed| (l.event_id.clone(), l.resource_arn.clone(), l.kind.clone());
    let old_keys: BTreeMap<_, _> = old.iter().map(|l| (key(l), l)).collect();
    let new_keys: BTreeMap<_, _> = new.iter().map(|l| (key(l), l)).collect();
    let mut added: Vec<Listed> = new_keys
        .iter()
        .filter(|(k, _)| !old_keys.contains_key(*k))
        .map(|(_, l)| (*l).clone())
        .collect();
    let mut gone: Vec<Listed> = old_keys
        .iter()
        .filter(|(k, _)| !new_keys.contains_key(*k))
        .map(|(_, l)| (*l).clone())
        .collect();
    for list in [&mut added, &mut gone] {
        list.sort_by(|a, b| (&a.event_time, &a.event_id).cmp(&(&b.event_time, &b.event_id)));
    }
    (added, gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, kind: &str) -> Listed {
        Listed {
            kind: kind.into(),
            event_id: id.into(),
            resource_arn: "arn:aws:s3:::b".into(),
            event_name: "GetObject".into(),
            principal_arn: "arn:aws:iam::1:user/u".into(),
            event_time: id.into(),
        }
    }

    #[test]
    fn a_diff_keys_findings_by_event_resource_and_kind() {
        let old = [
            listed("1", "product-mismatch"),
            listed("2", "product-mismatch"),
        ];
        let new = [
            listed("2", "product-mismatch"),
            listed("2", "tag-change"),
            listed("3", "product-mismatch"),
        ];
        let (added, gone) = diff(&old, &new);
        let ids = |l: &[Listed]| -> Vec<(String, String)> {
            l.iter()
                .map(|l| (l.event_id.clone(), l.kind.clone()))
                .collect()
        };
        assert_eq!(
            ids(&added),
            [
                ("2".into(), "tag-change".into()),
                ("3".into(), "product-mismatch".into())
            ]
        );
        assert_eq!(ids(&gone), [("1".into(), "product-mismatch".into())]);
    }
}
