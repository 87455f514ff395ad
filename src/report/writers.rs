//! Findings frames → `findings.parquet` and `findings.csv`, each written on a thread of its
//! own from a small frame buffer; `summary.json` and other small files. Every file is written
//! under a temporary name (`tempfile`) and renamed when complete, so a crash never leaves half
//! a report, and a failure deletes what it had written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;
use tempfile::TempPath;

use super::frames::{build_frames, frame, neutralize_formulas};
use super::rows::FindingRow;
use super::ReportError;

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
    let names = [
        parquet.then(|| "findings.parquet".to_string()),
        csv.then(|| "findings.csv".to_string()),
    ];
    write_findings_as(rows, dir, names)
}

/// The partition of a finding: its event's day, `dt=YYYY-MM-DD` (Hive's default partition
/// for an event without a time).
fn partition_of(row: &FindingRow) -> String {
    match row.event_time {
        Some(time) => format!("dt={}", time.format("%Y-%m-%d")),
        None => "dt=__HIVE_DEFAULT_PARTITION__".into(),
    }
}

/// Writes rows already in report order (so in event time order) into Hive-style partitions
/// by event day: `findings/dt=YYYY-MM-DD/<stem>.parquet` and `.csv`, each name followed by
/// `suffix`, one partition after another. Returns the paths written.
pub fn write_partitioned(
    rows: impl Iterator<Item = std::io::Result<FindingRow>> + Send,
    dir: &Path,
    stem: &str,
    suffix: &str,
    parquet: bool,
    csv: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut rows = rows.peekable();
    let mut written = Vec::new();
    while let Some(first) = rows.peek() {
        let partition = match first {
            Ok(row) => partition_of(row),
            // The error ends the rows: a writer reports it.
            Err(_) => String::new(),
        };
        let names = [
            parquet.then(|| format!("{stem}.parquet{suffix}")),
            csv.then(|| format!("{stem}.csv{suffix}")),
        ];
        let same = std::iter::from_fn(|| {
            rows.next_if(|row| row.as_ref().map_or(true, |r| partition_of(r) == partition))
        });
        let folder = dir.join("findings").join(&partition);
        written.extend(write_findings_as(same, &folder, names)?);
    }
    Ok(written)
}

/// Writes the findings files named (Parquet when the first name is given, CSV the second).
fn write_findings_as(
    rows: impl Iterator<Item = std::io::Result<FindingRow>> + Send,
    dir: &Path,
    names: [Option<String>; 2],
) -> Result<Vec<PathBuf>, ReportError> {
    let [parquet, csv] = names;
    if parquet.is_none() && csv.is_none() {
        // Other files may read the rows as they pass: they still go through.
        for row in rows {
            row.map_err(|source| ReportError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        return Ok(Vec::new());
    }
    let mut files: Vec<FindingsFile> = Vec::new();
    let opened = [(parquet, true), (csv, false)]
        .into_iter()
        .filter_map(|(name, is_parquet)| Some((name?, is_parquet)))
        .try_for_each(|(name, is_parquet)| {
            files.push(FindingsFile::create(dir, &name, is_parquet)?);
            Ok(())
        });
    let written = opened.and_then(|()| write_batches(rows, &mut files));
    // Every file complete before any is renamed: a failure leaves the previous reports, and
    // the temporary files are deleted when `files` is dropped.
    written
        .and_then(|()| files.iter_mut().try_for_each(FindingsFile::finish))
        .and_then(|()| files.iter_mut().try_for_each(FindingsFile::persist))?;
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

/// One findings file being written, Parquet or CSV by its name.
struct FindingsFile {
    target: PathBuf,
    /// Deleted on drop unless persisted as `target`.
    temp: Option<TempPath>,
    writer: Option<FindingsWriter>,
}

enum FindingsWriter {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<fs::File>>),
    Csv(polars::io::csv::write::BatchedWriter<fs::File>),
}

impl FindingsFile {
    fn create(dir: &Path, name: &str, parquet: bool) -> Result<Self, ReportError> {
        let (target, temp, file) = create_temp(dir, name)?;
        let polars = |source| ReportError::Polars {
            path: target.display().to_string(),
            source,
        };
        let schema = frame(&[]).map_err(polars)?.schema().clone();
        let writer = if parquet {
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
            temp: Some(temp),
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

    /// Renames the finished file to its name.
    fn persist(&mut self) -> Result<(), ReportError> {
        match self.temp.take() {
            Some(temp) => temp.persist(&self.target).map_err(|err| ReportError::Io {
                path: self.target.display().to_string(),
                source: err.error,
            }),
            None => Ok(()),
        }
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

/// A report file of JSON values written as the rows arrive, under a temporary name renamed
/// by [`JsonStream::finish`]: JSON Lines, or one JSON array.
pub struct JsonStream {
    target: PathBuf,
    temp: TempPath,
    out: std::io::BufWriter<fs::File>,
    array: bool,
    written: u64,
    error: Option<std::io::Error>,
}

impl JsonStream {
    pub fn create(dir: &Path, name: &str, array: bool) -> Result<Self, ReportError> {
        let (target, temp, file) = create_temp(dir, name)?;
        Ok(JsonStream {
            target,
            temp,
            out: std::io::BufWriter::new(file),
            array,
            written: 0,
            error: None,
        })
    }

    /// Appends one value; the first write error is kept for [`JsonStream::finish`].
    pub fn push(&mut self, value: &serde_json::Value) {
        if self.error.is_some() {
            return;
        }
        let separator: &[u8] = match (self.array, self.written) {
            (true, 0) => b"[\n",
            (true, _) => b",\n",
            (false, _) => b"",
        };
        let result = self
            .out
            .write_all(separator)
            .and_then(|()| serde_json::to_writer(&mut self.out, value).map_err(Into::into))
            .and_then(|()| {
                if self.array {
                    Ok(())
                } else {
                    self.out.write_all(b"\n")
                }
            });
        self.written += 1;
        self.error = result.err();
    }

    /// Completes the file and gives it its name.
    pub fn finish(mut self) -> Result<PathBuf, ReportError> {
        let end: &[u8] = match (self.array, self.written) {
            (true, 0) => b"[]\n",
            (true, _) => b"\n]\n",
            (false, _) => b"",
        };
        let io = |source| ReportError::Io {
            path: self.target.display().to_string(),
            source,
        };
        if let Some(e) = self.error.take() {
            return Err(io(e));
        }
        self.out
            .write_all(end)
            .and_then(|()| self.out.flush())
            .map_err(io)?;
        self.temp
            .persist(&self.target)
            .map_err(|err| ReportError::Io {
                path: self.target.display().to_string(),
                source: err.error,
            })?;
        Ok(self.target)
    }
}

/// Writes `bytes` as `name` in `dir`, via a temporary file and a rename.
pub fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let (target, temp, mut file) = create_temp(dir, name)?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|source| ReportError::Io {
            path: target.display().to_string(),
            source,
        })?;
    drop(file);
    temp.persist(&target).map_err(|err| ReportError::Io {
        path: target.display().to_string(),
        source: err.error,
    })?;
    Ok(target)
}

/// Creates `dir` if needed and a temporary file there that becomes `name` when persisted:
/// (target path, the temporary path, deleted on drop, the open file).
fn create_temp(dir: &Path, name: &str) -> Result<(PathBuf, TempPath, fs::File), ReportError> {
    let io = |path: &Path, source| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let (file, temp) = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io(dir, e))?
        .into_parts();
    Ok((dir.join(name), temp, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::frames::BATCH;
    use crate::report::rows::tests::row;
    use crate::verdict::Kind;

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
        let good = FindingsFile::create(dir.path(), "findings.parquet", true).unwrap();
        // A CSV writer over a file opened read-only: its first write fails.
        let target = dir.path().join("findings.csv");
        fs::write(&target, "").unwrap();
        let schema = frame(&[]).unwrap().schema().clone();
        let bad = FindingsFile {
            temp: Some(TempPath::try_from_path(&target).unwrap()),
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
}
