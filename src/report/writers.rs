//! Findings → `findings.parquet` and `findings.csv` ([`FindingsTables`]), each written on a
//! thread of its own from a small frame buffer; JSON streams; `summary.json` and other small
//! files. Every file is written
//! under a temporary name (`tempfile`) and renamed when complete, so a crash never leaves half
//! a report, and a failure deletes what it had written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;
use tempfile::TempPath;

use super::frames::{frame, neutralize_formulas, Columns, BATCH};
use super::rows::FindingRow;
use super::ReportError;

/// `findings.parquet` and/or `findings.csv`, in one folder or partitioned by event day, as a
/// sink (`report::sinks`): each finding's cells go straight into the columns, and every [`BATCH`] rows a
/// frame goes to each file, written on a thread of its own (Parquet compresses a row group on
/// one thread: the files do not wait for each other, the slowest sets the pace). Each file is
/// written under a temporary name and renamed once every file of its folder is complete; a
/// failure leaves none of them. CSV cells a spreadsheet would run as a formula are neutralised.
pub struct FindingsTables {
    dir: PathBuf,
    /// Partitioned by event day: the run's file stem and the suffix of every name.
    partitioned: Option<(String, String)>,
    parquet: bool,
    csv: bool,
    columns: Columns,
    open: Option<OpenFiles>,
    written: Vec<PathBuf>,
}

impl FindingsTables {
    /// `findings.parquet` and `findings.csv` (those asked for) in `dir`.
    pub fn flat(dir: &Path, parquet: bool, csv: bool) -> Self {
        FindingsTables {
            dir: dir.to_path_buf(),
            partitioned: None,
            parquet,
            csv,
            columns: Columns::default(),
            open: None,
            written: Vec::new(),
        }
    }

    /// Hive-style partitions by event day under `dir`: `findings/dt=YYYY-MM-DD/<stem>.parquet`
    /// and `.csv`, each name followed by `suffix`; rows come in report order (so in time order)
    /// and the partitions one after another. No finding, no file.
    pub fn partitioned(dir: &Path, stem: &str, suffix: &str, parquet: bool, csv: bool) -> Self {
        FindingsTables {
            partitioned: Some((stem.to_string(), suffix.to_string())),
            ..FindingsTables::flat(dir, parquet, csv)
        }
    }

    fn open(&self, partition: Option<String>) -> Result<OpenFiles, ReportError> {
        let (dir, [parquet, csv]) = match (&self.partitioned, &partition) {
            (Some((stem, suffix)), Some(partition)) => (
                self.dir.join("findings").join(partition),
                [
                    format!("{stem}.parquet{suffix}"),
                    format!("{stem}.csv{suffix}"),
                ],
            ),
            _ => (
                self.dir.clone(),
                ["findings.parquet".into(), "findings.csv".into()],
            ),
        };
        let mut writers = Vec::new();
        for (name, is_parquet) in [(parquet, true), (csv, false)] {
            if (is_parquet && self.parquet) || (!is_parquet && self.csv) {
                writers.push(FileWriter::start(FindingsFile::create(
                    &dir, &name, is_parquet,
                )?));
            }
        }
        Ok(OpenFiles {
            partition,
            writers,
            frames: 0,
        })
    }

    /// Sends the rows gathered so far as one frame to every open file.
    fn send(&mut self) -> Result<(), ReportError> {
        let frame = self
            .columns
            .take_frame()
            .map_err(|source| ReportError::Polars {
                path: self.dir.display().to_string(),
                source,
            })?;
        match self.open.as_mut() {
            Some(open) => open.send(Arc::new(frame)),
            None => Ok(()),
        }
    }

    /// Completes the open files (a file of no rows still has its header) and names them.
    fn close(&mut self) -> Result<(), ReportError> {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.frames == 0 || !self.columns.is_empty())
        {
            self.send()?;
        }
        if let Some(open) = self.open.take() {
            self.written.extend(open.close()?);
        }
        Ok(())
    }

    /// The next finding, in report order.
    pub fn push(&mut self, row: &FindingRow) -> Result<(), ReportError> {
        if !self.parquet && !self.csv {
            return Ok(());
        }
        let partition = self.partitioned.as_ref().map(|_| partition_of(row));
        if self.open.as_ref().is_none_or(|o| o.partition != partition) {
            self.close()?;
            self.open = Some(self.open(partition)?);
        }
        self.columns.push(row);
        if self.columns.len() >= BATCH {
            self.send()?;
        }
        Ok(())
    }

    /// After the last finding: completes the files; the files written.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, ReportError> {
        if self.open.is_none() && self.partitioned.is_none() && (self.parquet || self.csv) {
            self.open = Some(self.open(None)?);
        }
        self.close()?;
        Ok(std::mem::take(&mut self.written))
    }
}

/// The partition of a finding: its event's day, `dt=YYYY-MM-DD` (Hive's default partition
/// for an event without a time).
fn partition_of(row: &FindingRow) -> String {
    match row.event_time {
        Some(time) => format!("dt={}", time.format("%Y-%m-%d")),
        None => "dt=__HIVE_DEFAULT_PARTITION__".into(),
    }
}

/// The findings files of one folder being written.
struct OpenFiles {
    partition: Option<String>,
    writers: Vec<FileWriter>,
    frames: usize,
}

impl OpenFiles {
    fn send(&mut self, frame: Arc<DataFrame>) -> Result<(), ReportError> {
        self.frames += 1;
        for writer in &mut self.writers {
            if !writer.send(frame.clone()) {
                // The writer stopped on an error: it explains the stop.
                return Err(writer.stop().err().unwrap_or_else(|| ReportError::Io {
                    path: "findings".into(),
                    source: std::io::Error::other("a findings writer stopped"),
                }));
            }
        }
        Ok(())
    }

    /// Every file complete before any is renamed: a failure leaves none of them (the temporary
    /// files are deleted when dropped).
    fn close(mut self) -> Result<Vec<PathBuf>, ReportError> {
        let mut files = Vec::new();
        for writer in &mut self.writers {
            files.push(writer.stop()?);
        }
        files.iter_mut().try_for_each(FindingsFile::finish)?;
        files.iter_mut().try_for_each(FindingsFile::persist)?;
        Ok(files.into_iter().map(|file| file.target).collect())
    }
}

/// One findings file written on its own thread, from frames it takes from a buffer of
/// [`FRAMES_AHEAD`].
struct FileWriter {
    frames: Option<std::sync::mpsc::SyncSender<Arc<DataFrame>>>,
    thread: Option<std::thread::JoinHandle<Result<FindingsFile, ReportError>>>,
}

impl FileWriter {
    fn start(mut file: FindingsFile) -> Self {
        let (frames, taken) = std::sync::mpsc::sync_channel::<Arc<DataFrame>>(FRAMES_AHEAD);
        // A writer that fails drops its receiver, which stops the frames.
        let thread = std::thread::spawn(move || {
            taken.into_iter().try_for_each(|frame| file.write(&frame))?;
            Ok(file)
        });
        FileWriter {
            frames: Some(frames),
            thread: Some(thread),
        }
    }

    /// False when the writer has stopped.
    fn send(&mut self, frame: Arc<DataFrame>) -> bool {
        self.frames
            .as_ref()
            .is_some_and(|to| to.send(frame).is_ok())
    }

    /// Ends the frames and waits for the writer: the file it wrote, or why it stopped.
    fn stop(&mut self) -> Result<FindingsFile, ReportError> {
        self.frames = None;
        let thread = self.thread.take().ok_or_else(|| ReportError::Io {
            path: "findings".into(),
            source: std::io::Error::other("a findings writer stopped twice"),
        })?;
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Drop for FileWriter {
    /// A writer left behind (another output failed) ends, and its temporary file goes with it.
    fn drop(&mut self) {
        self.frames = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Frames a writer may have waiting beyond the one it writes.
const FRAMES_AHEAD: usize = 1;

/// One findings file being written, Parquet or CSV by its name.
struct FindingsFile {
    target: PathBuf,
    /// Deleted on drop unless persisted as `target`.
    temp: Option<TempPath>,
    writer: Option<FindingsWriter>,
    /// Time spent writing (logged per file, target `tagtrail::stages`, for `bench/run.sh`).
    busy: std::time::Duration,
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
            busy: Default::default(),
        })
    }

    fn polars(&self, source: PolarsError) -> ReportError {
        ReportError::Polars {
            path: self.target.display().to_string(),
            source,
        }
    }

    fn write(&mut self, frame: &DataFrame) -> Result<(), ReportError> {
        let started = std::time::Instant::now();
        let written = match self.writer.as_mut() {
            Some(FindingsWriter::Parquet(w)) => w.write_batch(frame),
            Some(FindingsWriter::Csv(w)) => {
                neutralize_formulas(frame).and_then(|safe| w.write_batch(&safe))
            }
            None => Ok(()),
        };
        self.busy += started.elapsed();
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
        let started = std::time::Instant::now();
        let (stage, finished) = match self.writer.take() {
            Some(FindingsWriter::Parquet(w)) => ("write parquet", w.finish().map(drop)),
            Some(FindingsWriter::Csv(mut w)) => ("write csv", w.finish()),
            None => return Ok(()),
        };
        let seconds = (self.busy + started.elapsed()).as_secs_f64();
        tracing::info!(target: "tagtrail::stages", stage, seconds);
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
    use crate::report::rows::tests::row;
    use crate::verdict::Kind;

    /// Hands `rows` to `tables` as the scan's sinks do, then completes them.
    fn drain(
        rows: impl Iterator<Item = std::io::Result<FindingRow>>,
        mut tables: FindingsTables,
    ) -> Result<Vec<PathBuf>, ReportError> {
        for row in rows {
            let row = row.map_err(|source| ReportError::Io {
                path: "rows".into(),
                source,
            })?;
            tables.push(&row)?;
        }
        tables.finish()
    }

    fn tables(dir: &Path) -> FindingsTables {
        FindingsTables::flat(dir, true, true)
    }

    /// Rows over several frames, then a failure reading them back: every frame goes out in
    /// order through the writer threads, and a failure leaves no findings file behind.
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
        let written = drain(rows.iter().cloned().map(Ok), tables(dir.path())).unwrap();
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
        let err = drain(broken, tables(failing.path())).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
        assert_eq!(fs::read_dir(failing.path()).unwrap().count(), 0);
    }

    /// No finding: the flat files still have their columns; partitioned, there is no file.
    #[test]
    fn no_finding_writes_empty_tables_or_no_partition() {
        let dir = tempfile::tempdir().unwrap();
        let written = drain(std::iter::empty(), tables(dir.path())).unwrap();
        assert_eq!(written.len(), 2);
        let csv = fs::read_to_string(dir.path().join("findings.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1);
        assert!(csv.starts_with("event_time,event_id,"), "{csv}");
        let partitioned =
            FindingsTables::partitioned(&dir.path().join("root"), "run", "", true, true);
        assert!(drain(std::iter::empty(), partitioned).unwrap().is_empty());
    }

    /// Rows of three days go to three partitions, in order, each with both files.
    #[test]
    fn partitions_follow_the_days_of_the_rows() {
        let dir = tempfile::tempdir().unwrap();
        let day = 86_400;
        let rows = (0..9).map(|i| {
            Ok(row(
                i / 3 * day,
                &format!("e-{i}"),
                Kind::UntaggedResource,
                None,
            ))
        });
        let tables = FindingsTables::partitioned(dir.path(), "run1", ".staged", true, true);
        let written = drain(rows, tables).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(
            names[0].starts_with("findings/dt=2023-11-14/run1.parquet.staged"),
            "{names:?}"
        );
        assert!(
            names[5].starts_with("findings/dt=2023-11-16/run1.csv.staged"),
            "{names:?}"
        );
        let last = fs::read_to_string(&written[5]).unwrap();
        assert_eq!(last.lines().count(), 4, "{last}");
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
            busy: Default::default(),
        };
        let mut open = OpenFiles {
            partition: None,
            writers: vec![FileWriter::start(good), FileWriter::start(bad)],
            frames: 0,
        };
        let rows: Vec<FindingRow> = (0..(5 * BATCH as i64))
            .map(|i| row(i, &format!("e-{i}"), Kind::ProductMismatch, None))
            .collect();
        let err = rows
            .chunks(BATCH)
            .try_for_each(|rows| open.send(Arc::new(frame(rows).unwrap())))
            .and_then(|()| open.close().map(drop))
            .unwrap_err();
        assert!(err.to_string().contains("findings.csv"), "{err}");
    }
}
