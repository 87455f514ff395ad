//! The tag inventory as tables (`tagtrail inventory export`): what SQL engines join the trail
//! with. `inventory` holds one row per ARN and interval ([`TagInterval`]), `kms_aliases` the
//! key each KMS alias points to.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::inventory::{Snapshots, TagInterval};

use super::frames::neutralize_formulas;
use super::ReportError;

/// The columns of the `inventory` table, in order, with what each holds.
pub const INVENTORY_SCHEMA: &[(&str, &str, &str)] = &[
    (
        "arn",
        "string",
        "the ARN, in the form the Resource Groups Tagging API reports",
    ),
    (
        "product",
        "string",
        "the product tag's value, trimmed; null: known without the tag",
    ),
    (
        "kind",
        "string",
        "principal (an IAM user or role) or resource",
    ),
    (
        "source",
        "string",
        "inventory (a listed ARN) or config (what AWS Config recorded)",
    ),
    (
        "snapshot",
        "timestamp",
        "when the inventory snapshot was taken; null: today's inventory",
    ),
    (
        "valid_from",
        "timestamp",
        "the product holds from this instant; null: from the start",
    ),
    (
        "valid_to",
        "timestamp",
        "until before this instant; null: still",
    ),
];

/// The columns of the `kms_aliases` table.
pub const ALIAS_SCHEMA: &[(&str, &str, &str)] = &[
    ("alias_arn", "string", "the KMS alias ARN"),
    (
        "key_arn",
        "string",
        "the ARN of the key it points to, whose tags judge it",
    ),
    (
        "snapshot",
        "timestamp",
        "when the inventory snapshot was taken; null: today's inventory",
    ),
];

/// Which files `write_inventory` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
}

impl TableFormat {
    fn extension(self) -> &'static str {
        match self {
            TableFormat::Parquet => "parquet",
            TableFormat::Csv => "csv",
        }
    }
}

/// Writes `inventory.<ext>` and `kms_aliases.<ext>` into `dir`, each via a temporary file
/// renamed when complete. Returns the paths written.
pub fn write_inventory(
    snapshots: &Snapshots,
    dir: &Path,
    format: TableFormat,
) -> Result<Vec<PathBuf>, ReportError> {
    let polars = |name: &str| {
        let path = dir.join(name).display().to_string();
        move |source| ReportError::Polars { path, source }
    };
    let intervals = snapshots.intervals();
    let aliases: Vec<(&str, &str, Option<DateTime<Utc>>)> = snapshots
        .iter()
        .flat_map(|s| s.inventory.aliases().map(move |(a, k)| (a, k, s.taken)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let tables = [
        ("inventory", inventory_frame(&intervals)),
        ("kms_aliases", alias_frame(&aliases)),
    ];
    let mut written = Vec::new();
    for (table, frame) in tables {
        let name = format!("{table}.{}", format.extension());
        let mut frame = frame.map_err(polars(&name))?;
        let mut bytes = Vec::new();
        match format {
            TableFormat::Parquet => ParquetWriter::new(&mut bytes)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut frame)
                .map(drop),
            TableFormat::Csv => neutralize_formulas(&frame).and_then(|mut safe| {
                CsvWriter::new(&mut bytes)
                    .include_header(true)
                    .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.3fZ".into()))
                    .finish(&mut safe)
            }),
        }
        .map_err(polars(&name))?;
        written.push(super::write_bytes(dir, &name, &bytes)?);
    }
    Ok(written)
}

fn times(name: &str, values: impl Iterator<Item = Option<DateTime<Utc>>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.map(|t| t.map(|t| t.timestamp_millis())))
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_series()
        .into_column()
}

fn inventory_frame(rows: &[TagInterval<'_>]) -> PolarsResult<DataFrame> {
    fn text<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
        Column::new(name.into(), values.collect::<Vec<_>>())
    }
    let kind = |r: &TagInterval<'_>| {
        if r.is_principal() {
            "principal"
        } else {
            "resource"
        }
    };
    DataFrame::new(
        rows.len(),
        vec![
            text("arn", rows.iter().map(|r| Some(r.arn))),
            text("product", rows.iter().map(|r| r.product)),
            text("kind", rows.iter().map(|r| Some(kind(r)))),
            text("source", rows.iter().map(|r| Some(r.source.as_str()))),
            times("snapshot", rows.iter().map(|r| r.snapshot)),
            times("valid_from", rows.iter().map(|r| r.valid_from)),
            times("valid_to", rows.iter().map(|r| r.valid_to)),
        ],
    )
}

fn alias_frame(rows: &[(&str, &str, Option<DateTime<Utc>>)]) -> PolarsResult<DataFrame> {
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "alias_arn".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "key_arn".into(),
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            ),
            times("snapshot", rows.iter().map(|r| r.2)),
        ],
    )
}
