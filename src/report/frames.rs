//! Findings rows → polars frames of the documented schema, a bounded batch at a time, and
//! the CSV-safe copy of a frame.

use polars::prelude::*;

use super::rows::FindingRow;

/// The findings columns of the documented schema ([`super::SCHEMA`]), built from each row as it
/// comes: no batch of rows is held to build them.
pub struct Columns {
    rows: usize,
    event_time: PrimitiveChunkedBuilder<Int64Type>,
    text: Vec<(StringChunkedBuilder, Text)>,
    flags: Vec<(BooleanChunkedBuilder, Flag)>,
    /// `source`, formatted into `scratch` first.
    source: StringChunkedBuilder,
    scratch: String,
}

type Text = fn(&FindingRow) -> Option<&str>;
type Flag = fn(&FindingRow) -> Option<bool>;

/// The string columns, each with its cell of a row.
const TEXT: [(&str, Text); 17] = [
    ("event_id", |r| r.event_id.as_deref()),
    ("event_source", |r| Some(&*r.event_source)),
    ("event_name", |r| Some(&*r.event_name)),
    ("aws_region", |r| r.aws_region.as_deref()),
    ("account_id", |r| r.account_id.as_deref()),
    ("principal_arn", |r| r.principal_arn.as_deref()),
    ("principal_type", |r| Some(r.principal_type.as_str())),
    ("principal_account", |r| r.principal_account.as_deref()),
    ("principal_product", |r| r.principal_product.as_deref()),
    ("principal_tag_source", |r| {
        r.principal_tag_source.as_deref()
    }),
    ("resource_arn", |r| r.resource_arn.as_deref()),
    ("resource_product", |r| r.resource_product.as_deref()),
    ("resource_tag_source", |r| r.resource_tag_source.as_deref()),
    ("previous_resource_product", |r| {
        r.previous_resource_product.as_deref()
    }),
    ("kind", |r| Some(r.kind.as_str())),
    ("resolved_via", |r| r.resolved_via.as_deref()),
    ("error_code", |r| r.error_code.as_deref()),
];

/// The boolean columns, each with its cell of a row.
const FLAGS: [(&str, Flag); 3] = [
    ("cross_account", |r| Some(r.cross_account)),
    ("denied", |r| Some(r.denied)),
    ("read_only", |r| r.read_only),
];

impl Default for Columns {
    fn default() -> Self {
        Columns::with_capacity(0)
    }
}

impl Columns {
    fn with_capacity(rows: usize) -> Self {
        Columns {
            rows: 0,
            event_time: PrimitiveChunkedBuilder::new("event_time".into(), rows),
            text: TEXT
                .iter()
                .map(|&(name, cell)| (StringChunkedBuilder::new(name.into(), rows), cell))
                .collect(),
            flags: FLAGS
                .iter()
                .map(|&(name, cell)| (BooleanChunkedBuilder::new(name.into(), rows), cell))
                .collect(),
            source: StringChunkedBuilder::new("source".into(), rows),
            scratch: String::new(),
        }
    }

    /// Appends one row's cells.
    pub fn push(&mut self, row: &FindingRow) {
        use std::fmt::Write;
        self.rows += 1;
        self.event_time
            .append_option(row.event_time.map(|t| t.timestamp_millis()));
        for (column, cell) in &mut self.text {
            column.append_option(cell(row));
        }
        for (column, cell) in &mut self.flags {
            column.append_option(cell(row));
        }
        self.scratch.clear();
        let _ = write!(self.scratch, "{}", row.source);
        self.source.append_value(&self.scratch);
    }

    /// Rows pushed since the last frame.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows pushed since the last frame, as a frame of the documented schema; the columns
    /// start empty again.
    pub fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let Columns {
            rows,
            event_time,
            text,
            flags,
            source,
            ..
        } = std::mem::replace(self, Columns::with_capacity(BATCH));
        let mut columns: Vec<Column> = Vec::with_capacity(super::SCHEMA.len());
        columns.push(
            event_time
                .finish()
                .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
                .into_series()
                .into_column(),
        );
        columns.extend(text.into_iter().map(|(c, _)| c.finish().into_column()));
        columns.extend(flags.into_iter().map(|(c, _)| c.finish().into_column()));
        columns.push(source.finish().into_column());
        // In the documented order.
        let order: Vec<&str> = super::SCHEMA.iter().map(|(name, _, _)| *name).collect();
        DataFrame::new(rows, columns)?.select(order)
    }
}

/// Builds the findings frame of `rows`, in their order.
pub fn frame(rows: &[FindingRow]) -> PolarsResult<DataFrame> {
    let mut columns = Columns::with_capacity(rows.len());
    rows.iter().for_each(|row| columns.push(row));
    columns.take_frame()
}

/// Rows per frame when writing (and per Parquet row group): memory for the frames stays bounded
/// whatever the row count. A few frames are alive at a time (one being built, and per file one
/// being written and one waiting); with 20,000 rows the 1M-event benchmark peaked ~30 MB higher
/// at the same speed.
pub(super) const BATCH: usize = 10_000;

/// Prefixes `'` to string cells that start with `=`, `+`, `-`, `@`, tab or carriage return
/// (OWASP's CSV injection advice), so a spreadsheet shows them as text.
pub(super) fn neutralize_formulas(df: &DataFrame) -> PolarsResult<DataFrame> {
    let mut out = df.clone();
    let names: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| c.name().clone())
        .collect();
    for name in names {
        let column = df.column(&name)?.str()?;
        // Most columns hold no such cell: they are written as they are, without a copy.
        if !column.iter().flatten().any(is_formula) {
            continue;
        }
        let safe: StringChunked = column
            .iter()
            .map(|v| {
                v.map(|s| {
                    if is_formula(s) {
                        format!("'{s}")
                    } else {
                        s.to_string()
                    }
                })
            })
            .collect();
        out.replace(
            &name,
            safe.with_name(name.clone()).into_series().into_column(),
        )?;
    }
    Ok(out)
}

fn is_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}
