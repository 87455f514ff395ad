//! Findings rows → polars frames of the documented schema, a bounded batch at a time, and
//! the CSV-safe copy of a frame.

use polars::prelude::*;

use super::rows::FindingRow;
use super::ReportError;

/// Builds the findings frame, in the order of `rows`.
pub fn frame(rows: &[FindingRow]) -> PolarsResult<DataFrame> {
    use rayon::prelude::*;
    type Build<'a> = Box<dyn Fn() -> Column + Send + Sync + 'a>;
    fn text<'a>(
        name: &'static str,
        rows: &'a [FindingRow],
        f: impl Fn(&'a FindingRow) -> Option<&'a str> + Send + Sync + 'a,
    ) -> Build<'a> {
        Box::new(move || Column::new(name.into(), rows.iter().map(&f).collect::<Vec<_>>()))
    }
    fn flag<'a>(
        name: &'static str,
        rows: &'a [FindingRow],
        f: impl Fn(&FindingRow) -> Option<bool> + Send + Sync + 'a,
    ) -> Build<'a> {
        Box::new(move || Column::new(name.into(), rows.iter().map(&f).collect::<Vec<_>>()))
    }
    let builders: Vec<Build> = vec![
        Box::new(|| {
            Int64Chunked::from_iter_options(
                "event_time".into(),
                rows.iter()
                    .map(|r| r.event_time.map(|t| t.timestamp_millis())),
            )
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            .into_series()
            .into_column()
        }),
        text("event_id", rows, |r| r.event_id.as_deref()),
        text("event_source", rows, |r| Some(&*r.event_source)),
        text("event_name", rows, |r| Some(&*r.event_name)),
        text("aws_region", rows, |r| r.aws_region.as_deref()),
        text("account_id", rows, |r| r.account_id.as_deref()),
        text("principal_arn", rows, |r| r.principal_arn.as_deref()),
        text("principal_type", rows, |r| Some(r.principal_type.as_str())),
        text("principal_account", rows, |r| {
            r.principal_account.as_deref()
        }),
        flag("cross_account", rows, |r| Some(r.cross_account)),
        text("principal_product", rows, |r| {
            r.principal_product.as_deref()
        }),
        text("principal_tag_source", rows, |r| {
            r.principal_tag_source.as_deref()
        }),
        text("resource_arn", rows, |r| r.resource_arn.as_deref()),
        text("resource_product", rows, |r| r.resource_product.as_deref()),
        text("resource_tag_source", rows, |r| {
            r.resource_tag_source.as_deref()
        }),
        text("previous_resource_product", rows, |r| {
            r.previous_resource_product.as_deref()
        }),
        text("kind", rows, |r| Some(r.kind.as_str())),
        text("resolved_via", rows, |r| r.resolved_via.as_deref()),
        text("error_code", rows, |r| r.error_code.as_deref()),
        flag("denied", rows, |r| Some(r.denied)),
        flag("read_only", rows, |r| r.read_only),
        Box::new(|| {
            Column::new(
                "source".into(),
                rows.iter()
                    .map(|r| r.source.to_string())
                    .collect::<Vec<_>>(),
            )
        }),
    ];
    // Columns are independent: built on all cores.
    let columns: Vec<Column> = builders.par_iter().map(|build| build()).collect();
    DataFrame::new(rows.len(), columns)
}

/// Rows per frame when writing (and per Parquet row group): memory for the frames stays bounded
/// whatever the row count. A few frames are alive at a time (one being built, and per file one
/// being written and [`FRAMES_AHEAD`] waiting); with 20,000 rows the 1M-event benchmark peaked
/// ~30 MB higher at the same speed.
pub(super) const BATCH: usize = 10_000;

/// Hands frames of [`BATCH`] rows (one, empty, when there are none) to `take` until it returns
/// `false` or the rows end.
pub(super) fn build_frames(
    rows: impl Iterator<Item = std::io::Result<FindingRow>>,
    mut take: impl FnMut(DataFrame) -> bool,
) -> Result<(), ReportError> {
    let mut batch = Vec::with_capacity(BATCH);
    let mut rows = rows.peekable();
    let mut first = true;
    while first || rows.peek().is_some() {
        first = false;
        batch.clear();
        for row in rows.by_ref().take(BATCH) {
            batch.push(row.map_err(|source| ReportError::Io {
                path: "findings spill file".into(),
                source,
            })?);
        }
        let frame = frame(&batch).map_err(|source| ReportError::Polars {
            path: "findings".into(),
            source,
        })?;
        if !take(frame) {
            break;
        }
    }
    Ok(())
}

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
