//! Findings → a polars frame with a fixed schema → Parquet and CSV; the run → `summary.json`
//! and a table for people.
//!
//! Files are written under a temporary name and renamed, so a crash never leaves half a report.

pub mod sorter;
pub mod summary;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;
use thiserror::Error;

use crate::pipeline::{RecordSource, ResolvedEvent};
use crate::principal::PrincipalKind;
use crate::verdict::{Finding, Kind};

/// A failure to write a report.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Polars {
        path: String,
        #[source]
        source: PolarsError,
    },
    #[error("summary: {0}")]
    Json(#[from] serde_json::Error),
}

/// Report files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    Parquet,
    Csv,
    Json,
}

/// The columns of `findings.parquet` / `findings.csv`: name, type, meaning. This is the
/// documented contract; tests check the files against it.
pub const SCHEMA: &[(&str, &str, &str)] = &[
    ("event_time", "timestamp[ms, UTC]", "eventTime of the record"),
    ("event_id", "string", "eventID"),
    ("event_source", "string", "eventSource, e.g. s3.amazonaws.com"),
    ("event_name", "string", "eventName, e.g. GetObject"),
    ("aws_region", "string", "awsRegion"),
    ("account_id", "string", "the account that received the call and owns the resource (recipientAccountId)"),
    ("principal_arn", "string", "the IAM user or role that acted (the role behind a session)"),
    ("principal_type", "string", "iam-user, assumed-role, identity-center, root, federated-user, web-identity, aws-account, unknown"),
    ("principal_account", "string", "the caller's account"),
    ("cross_account", "bool", "the caller's account differs from account_id"),
    ("principal_product", "string", "the principal's product tag, if any"),
    ("resource_arn", "string", "the resource touched (empty for unresolved-resource)"),
    ("resource_product", "string", "the resource's product tag, if any"),
    ("kind", "string", "the finding kind (see README)"),
    ("resolved_via", "string", "how the resource was found: resources, lookup, rule:<id>, inventory, error-message"),
    ("error_code", "string", "errorCode of the call, if it failed"),
    ("denied", "bool", "the call was refused for lack of permission: an attempt, not an access"),
    ("read_only", "bool", "readOnly of the record"),
    ("source", "string", "the input file and the record's position in it"),
];

/// One row of the findings report.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub event_time: Option<DateTime<Utc>>,
    pub event_id: Option<Box<str>>,
    pub event_source: Arc<str>,
    pub event_name: Arc<str>,
    pub aws_region: Option<Arc<str>>,
    pub account_id: Option<Arc<str>>,
    pub principal_arn: Option<Arc<str>>,
    pub principal_type: PrincipalKind,
    pub principal_account: Option<Arc<str>>,
    pub cross_account: bool,
    pub principal_product: Option<Arc<str>>,
    pub resource_arn: Option<Arc<str>>,
    pub resource_product: Option<Arc<str>>,
    pub kind: Kind,
    pub resolved_via: Option<Arc<str>>,
    pub error_code: Option<Arc<str>>,
    pub denied: bool,
    pub read_only: Option<bool>,
    pub source: RecordSource,
}

impl FindingRow {
    /// The row of one finding; its strings are shared with earlier rows made on this thread.
    pub fn new(event: &ResolvedEvent, finding: &Finding) -> Self {
        let principal = &event.resolution.principal;
        let optional = |s: &Option<String>| s.as_deref().map(shared);
        FindingRow {
            // Reports keep milliseconds; truncating here keeps the order of spilled runs.
            event_time: event
                .event_time
                .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis())),
            event_id: event.event_id.as_deref().map(Box::from),
            event_source: shared(&event.event_source),
            event_name: shared(&event.event_name),
            aws_region: optional(&event.aws_region),
            account_id: optional(&event.account_id),
            principal_arn: optional(&principal.arn),
            principal_type: principal.kind,
            principal_account: optional(&principal.account_id),
            cross_account: principal.cross_account,
            principal_product: optional(&finding.principal_product),
            resource_arn: optional(&finding.resource_arn),
            resource_product: optional(&finding.resource_product),
            kind: finding.kind,
            resolved_via: optional(&finding.resolved_via),
            error_code: optional(&event.error_code),
            denied: finding.denied,
            read_only: event.read_only,
            source: event.source.clone(),
        }
    }

    /// The report order: time, then event id, then resource and kind, so reruns are identical.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.event_time,
            self.event_id.as_deref(),
            self.resource_arn.as_deref(),
            self.kind,
            &self.source,
        )
    }
}

/// The copy of `text` this thread already holds, or a new one it then holds. Rows repeat
/// principals, resources, services and regions: held rows cost little more than their event
/// ids, and making a row rarely allocates. At most [`SHARED_STRINGS`] are held per thread.
pub(crate) fn shared(text: &str) -> Arc<str> {
    thread_local! {
        static STRINGS: std::cell::RefCell<foldhash::HashSet<Arc<str>>> = Default::default();
    }
    STRINGS.with_borrow_mut(|strings| {
        if let Some(held) = strings.get(text) {
            return held.clone();
        }
        if strings.len() >= SHARED_STRINGS {
            strings.clear();
        }
        let new: Arc<str> = Arc::from(text);
        strings.insert(new.clone());
        new
    })
}

/// Strings [`shared`] holds per thread before it starts again (a few MB).
const SHARED_STRINGS: usize = 1 << 16;

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
        text("resource_arn", rows, |r| r.resource_arn.as_deref()),
        text("resource_product", rows, |r| r.resource_product.as_deref()),
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
const BATCH: usize = 10_000;

/// Writes `findings.parquet` and/or `findings.csv` from rows already in report order, a batch
/// of [`BATCH`] rows at a time (one frame feeds both files, written in parallel), each under a
/// temporary name renamed when complete. CSV cells a spreadsheet would run as a formula are
/// neutralised. Returns the paths written.
pub fn write_findings(
    rows: impl Iterator<Item = std::io::Result<FindingRow>> + Send,
    dir: &Path,
    parquet: bool,
    csv: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    if !parquet && !csv {
        return Ok(Vec::new());
    }
    let mut files: Vec<FindingsFile> = Vec::new();
    let opened = [("findings.parquet", parquet), ("findings.csv", csv)]
        .into_iter()
        .filter(|(_, wanted)| *wanted)
        .try_for_each(|(name, _)| {
            files.push(FindingsFile::create(dir, name)?);
            Ok(())
        });
    let written = opened.and_then(|()| write_batches(rows, &mut files));
    // Every file complete before any is renamed: a failure leaves the previous reports.
    let renamed = written
        .and_then(|()| files.iter_mut().try_for_each(FindingsFile::finish))
        .and_then(|()| {
            files.iter().try_for_each(|file| {
                fs::rename(&file.temp, &file.target).map_err(|source| ReportError::Io {
                    path: file.target.display().to_string(),
                    source,
                })
            })
        });
    if let Err(err) = renamed {
        for file in &files {
            let _ = fs::remove_file(&file.temp);
        }
        return Err(err);
    }
    Ok(files.into_iter().map(|file| file.target).collect())
}

/// Gathers rows into frames of [`BATCH`] rows and writes each to every file. Frames are merged
/// and built on one thread and every file is written on a thread of its own, each taking frames
/// from a buffer of [`FRAMES_AHEAD`], so no file waits for another and the slowest writer sets
/// the pace. On the 1M-event benchmark, writing both files frame by frame in lockstep left most
/// of a core idle in the report phase: Parquet compresses a row group on one thread.
fn write_batches(
    rows: impl Iterator<Item = std::io::Result<FindingRow>> + Send,
    files: &mut [FindingsFile],
) -> Result<(), ReportError> {
    let (senders, receivers): (Vec<_>, Vec<_>) = files
        .iter()
        .map(|_| std::sync::mpsc::sync_channel::<Arc<DataFrame>>(FRAMES_AHEAD))
        .unzip();
    // `move`: should building a frame panic, the senders go with the closure, so the writers
    // stop and the scope can end.
    std::thread::scope(move |scope| {
        let writers: Vec<_> = files
            .iter_mut()
            .zip(receivers)
            .map(|(file, frames)| {
                // A writer that fails drops its receiver, which stops the frames.
                scope.spawn(move || frames.into_iter().try_for_each(|frame| file.write(&frame)))
            })
            .collect();
        let built = build_frames(rows, |frame| {
            let frame = Arc::new(frame);
            senders.iter().all(|to| to.send(frame.clone()).is_ok())
        });
        drop(senders);
        let written = writers.into_iter().try_for_each(|writer| {
            writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        // A writer's own error explains a stop better than the frames it no longer took.
        written.and(built)
    })
}

/// Frames a writer may have waiting beyond the one it writes.
const FRAMES_AHEAD: usize = 1;

/// Hands frames of [`BATCH`] rows (one, empty, when there are none) to `take` until it returns
/// `false` or the rows end.
fn build_frames(
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

/// One findings file being written, Parquet or CSV by its name.
struct FindingsFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<FindingsWriter>,
}

enum FindingsWriter {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<fs::File>>),
    Csv(polars::io::csv::write::BatchedWriter<fs::File>),
}

impl FindingsFile {
    fn create(dir: &Path, name: &str) -> Result<Self, ReportError> {
        let (target, temp, file) = create_temp(dir, name)?;
        let polars = |source| ReportError::Polars {
            path: target.display().to_string(),
            source,
        };
        let schema = frame(&[]).map_err(polars)?.schema().clone();
        let writer = if name.ends_with(".parquet") {
            // zstd level 1 rather than the default 3: on the 1M-event benchmark a smaller file
            // (17.8 vs 18.1 MB) in ~15% less writer time.
            let level = ZstdLevel::try_new(1).map_err(polars)?;
            FindingsWriter::Parquet(Box::new(
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(Some(level)))
                    .batched(&schema)
                    .map_err(polars)?,
            ))
        } else {
            FindingsWriter::Csv(
                CsvWriter::new(file)
                    .include_header(true)
                    .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.3fZ".into()))
                    .batched(&schema)
                    .map_err(polars)?,
            )
        };
        Ok(FindingsFile {
            target,
            temp,
            writer: Some(writer),
        })
    }

    fn polars(&self, source: PolarsError) -> ReportError {
        ReportError::Polars {
            path: self.target.display().to_string(),
            source,
        }
    }

    fn write(&mut self, frame: &DataFrame) -> Result<(), ReportError> {
        let written = match self.writer.as_mut() {
            Some(FindingsWriter::Parquet(w)) => w.write_batch(frame),
            Some(FindingsWriter::Csv(w)) => {
                neutralize_formulas(frame).and_then(|safe| w.write_batch(&safe))
            }
            None => Ok(()),
        };
        written.map_err(|e| self.polars(e))
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        let finished = match self.writer.take() {
            Some(FindingsWriter::Parquet(w)) => w.finish().map(drop),
            Some(FindingsWriter::Csv(mut w)) => w.finish(),
            None => Ok(()),
        };
        finished.map_err(|e| self.polars(e))
    }
}

/// Writes `bytes` as `name` in `dir`, via a temporary file and a rename.
pub fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    use std::io::Write;
    let (target, temp, mut file) = create_temp(dir, name)?;
    let io = |path: &Path, source| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Err(err) = file.write_all(bytes) {
        let _ = fs::remove_file(&temp);
        return Err(io(&target, err));
    }
    fs::rename(&temp, &target).map_err(|e| io(&target, e))?;
    Ok(target)
}

/// Creates `dir` if needed and the temporary file that becomes `name` there when renamed:
/// (target path, temporary path, the open temporary file).
fn create_temp(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf, fs::File), ReportError> {
    let io = |path: &Path, source| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = fs::File::create(&temp).map_err(|e| io(&temp, e))?;
    Ok((dir.join(name), temp, file))
}

/// Prefixes `'` to string cells that start with `=`, `+`, `-`, `@`, tab or carriage return
/// (OWASP's CSV injection advice), so a spreadsheet shows them as text.
fn neutralize_formulas(df: &DataFrame) -> PolarsResult<DataFrame> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::RecordSource;
    use crate::source::Position;

    /// A findings row for tests (also used by `sorter`'s).
    pub(super) fn row(second: i64, id: &str, kind: Kind, resource: Option<&str>) -> FindingRow {
        FindingRow {
            event_time: DateTime::from_timestamp(1_700_000_000 + second, 0),
            event_id: Some(id.into()),
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetObject".into(),
            aws_region: Some("us-east-1".into()),
            account_id: None,
            principal_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            principal_type: PrincipalKind::IamUser,
            principal_account: Some("111122223333".into()),
            cross_account: second % 2 == 0,
            principal_product: Some("aaa".into()),
            resource_arn: resource.map(Arc::from),
            resource_product: Some("=bbb".into()),
            kind,
            resolved_via: Some("rule:s3-bucket".into()),
            error_code: None,
            denied: second % 3 == 0,
            read_only: [None, Some(true), Some(false)][(second % 3) as usize],
            source: RecordSource {
                input: "a/b.json.gz".into(),
                position: Position {
                    line: None,
                    index: Some(second as usize),
                },
            },
        }
    }

    /// Rows over several frames, then a failure reading them back: every frame goes out in
    /// order through the writer thread, and a failure leaves no findings file behind.
    #[test]
    fn findings_cross_frames_in_order_and_a_failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<FindingRow> = (0..(2 * BATCH as i64 + 7))
            .map(|i| {
                row(
                    i,
                    &format!("e-{i}"),
                    Kind::ProductMismatch,
                    Some("arn:aws:s3:::b"),
                )
            })
            .collect();
        let written = write_findings(rows.iter().cloned().map(Ok), dir.path(), true, true).unwrap();
        assert_eq!(written.len(), 2);
        let csv = fs::read_to_string(dir.path().join("findings.csv")).unwrap();
        let ids: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        let expected: Vec<String> = (0..rows.len()).map(|i| format!("e-{i}")).collect();
        assert_eq!(ids, expected);

        let failing = tempfile::tempdir().unwrap();
        let broken = rows
            .into_iter()
            .map(Ok)
            .take(BATCH + 3)
            .chain(std::iter::once(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "spill file cut short",
            ))));
        let err = write_findings(broken, failing.path(), true, true).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
        assert_eq!(fs::read_dir(failing.path()).unwrap().count(), 0);
    }

    /// A file that cannot be written stops the frames; the other file's writer ends too, and
    /// the error names the file that failed.
    #[test]
    fn a_writer_that_fails_stops_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let good = FindingsFile::create(dir.path(), "findings.parquet").unwrap();
        // A CSV writer over a file opened read-only: its first write fails.
        let target = dir.path().join("findings.csv");
        fs::write(&target, "").unwrap();
        let schema = frame(&[]).unwrap().schema().clone();
        let bad = FindingsFile {
            temp: target.clone(),
            writer: Some(FindingsWriter::Csv(
                CsvWriter::new(fs::File::open(&target).unwrap())
                    .batched(&schema)
                    .unwrap(),
            )),
            target,
        };
        let rows = (0..(5 * BATCH as i64))
            .map(|i| Ok(row(i, &format!("e-{i}"), Kind::ProductMismatch, None)));
        let err = write_batches(rows, &mut [good, bad]).unwrap_err();
        assert!(err.to_string().contains("findings.csv"), "{err}");
    }

    #[test]
    fn rows_share_their_strings_and_the_pool_stays_bounded() {
        let a = shared("arn:aws:s3:::bucket");
        assert!(Arc::ptr_eq(&a, &shared("arn:aws:s3:::bucket")));
        for n in 0..SHARED_STRINGS + 10 {
            assert_eq!(&*shared(&n.to_string()), n.to_string());
        }
        assert_eq!(&*shared("arn:aws:s3:::bucket"), "arn:aws:s3:::bucket");
    }
}
