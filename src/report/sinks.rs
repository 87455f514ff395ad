//! Where findings go. A scan returns its findings sorted, with the summary, and writes nothing;
//! every output is a [`Sink`] that takes the findings one at a time, in report order, then the
//! summary: the findings tables (Parquet, CSV), `summary.json`, `report.html`, the OCSF and
//! ASFF files, and the Security Hub import (`security_hub`). [`Outputs`] makes the sinks of
//! the formats asked for; [`drain`] feeds them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::html::HtmlReport;
use super::rows::FindingRow;
use super::summary::Summary;
use super::writers::{write_bytes, FindingsTables, JsonStream};
use super::{exchange, Format, Layout, ReportError};

/// One output of the findings.
pub trait Sink {
    /// What it is, for the time it took (logged, target `tagtrail::stages`).
    fn name(&self) -> &'static str;

    /// The next finding, in report order.
    fn push(&mut self, row: &FindingRow) -> Result<(), ReportError>;

    /// After the last finding: completes the output. The files written, if any.
    fn finish(self: Box<Self>, summary: &Summary) -> Result<Vec<PathBuf>, ReportError>;
}

/// Hands every finding to every sink, then the summary; the files written, in the order of
/// the sinks. The first failure stops it: the files of the sinks not finished are not left
/// behind.
pub fn drain<'s>(
    rows: impl Iterator<Item = std::io::Result<FindingRow>>,
    summary: &Summary,
    mut sinks: Vec<Box<dyn Sink + 's>>,
) -> Result<Vec<PathBuf>, ReportError> {
    let _span =
        tracing::info_span!("report", "indicatif.pb_show" = tracing::field::Empty).entered();
    let all = Instant::now();
    let mut busy = vec![Duration::ZERO; sinks.len()];
    for row in rows {
        let row = row.map_err(|source| ReportError::Io {
            path: "findings spill file".into(),
            source,
        })?;
        for (sink, busy) in sinks.iter_mut().zip(&mut busy) {
            let started = Instant::now();
            sink.push(&row)?;
            *busy += started.elapsed();
        }
    }
    let mut written = Vec::new();
    for (sink, busy) in sinks.into_iter().zip(busy) {
        let stage = sink.name();
        let started = Instant::now();
        written.extend(sink.finish(summary)?);
        let seconds = (busy + started.elapsed()).as_secs_f64();
        tracing::info!(target: "tagtrail::stages", stage, seconds);
    }
    let seconds = all.elapsed().as_secs_f64();
    tracing::info!(target: "tagtrail::stages", stage = "merge and write reports", seconds);
    Ok(written)
}

/// The report files of one scan: where, how laid out, in which formats.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub dir: PathBuf,
    pub layout: Layout,
    pub formats: Vec<Format>,
}

impl Outputs {
    /// Where the run's files that are not partitioned by day go, and the suffix of every name.
    fn run_dir(&self) -> (PathBuf, &str) {
        match &self.layout {
            Layout::Flat => (self.dir.clone(), ""),
            Layout::Partitioned { run, suffix } => {
                (self.dir.join("runs").join(run), suffix.as_str())
            }
        }
    }

    fn wants(&self, format: Format) -> bool {
        self.formats.contains(&format)
    }

    /// The sinks of the formats asked for: the findings tables, OCSF, ASFF, HTML, then
    /// `summary.json`.
    pub fn sinks(&self) -> Result<Vec<Box<dyn Sink>>, ReportError> {
        let (parquet, csv) = (self.wants(Format::Parquet), self.wants(Format::Csv));
        let (run_dir, suffix) = self.run_dir();
        let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(match &self.layout {
            Layout::Flat => FindingsTables::flat(&self.dir, parquet, csv),
            Layout::Partitioned { run, suffix } => {
                FindingsTables::partitioned(&self.dir, run, suffix, parquet, csv)
            }
        })];
        if self.wants(Format::Ocsf) {
            let file =
                JsonStream::create(&run_dir, &format!("findings.ocsf.jsonl{suffix}"), false)?;
            sinks.push(Box::new(Exchange::Ocsf(file)));
        }
        if self.wants(Format::Asff) {
            let file = JsonStream::create(&run_dir, &format!("findings.asff.json{suffix}"), true)?;
            sinks.push(Box::new(Exchange::Asff(file)));
        }
        let named = |name: &str| (run_dir.clone(), format!("{name}{suffix}"));
        if self.wants(Format::Html) {
            let (dir, name) = named("report.html");
            sinks.push(Box::new(Html {
                page: HtmlReport::default(),
                dir,
                name,
            }));
        }
        if self.wants(Format::Json) {
            let (dir, name) = named("summary.json");
            sinks.push(Box::new(SummaryJson { dir, name }));
        }
        Ok(sinks)
    }
}

impl Sink for FindingsTables {
    fn name(&self) -> &'static str {
        "write findings tables"
    }

    fn push(&mut self, row: &FindingRow) -> Result<(), ReportError> {
        FindingsTables::push(self, row)
    }

    fn finish(self: Box<Self>, _: &Summary) -> Result<Vec<PathBuf>, ReportError> {
        (*self).finish()
    }
}

/// OCSF Detection Findings (JSON Lines) or ASFF records (one JSON array).
enum Exchange {
    Ocsf(JsonStream),
    Asff(JsonStream),
}

impl Sink for Exchange {
    fn name(&self) -> &'static str {
        match self {
            Exchange::Ocsf(_) => "write ocsf",
            Exchange::Asff(_) => "write asff",
        }
    }

    fn push(&mut self, row: &FindingRow) -> Result<(), ReportError> {
        match self {
            Exchange::Ocsf(file) => file.push(&exchange::ocsf(row)),
            Exchange::Asff(file) => file.push(&exchange::asff(row, None)),
        }
        Ok(())
    }

    fn finish(self: Box<Self>, _: &Summary) -> Result<Vec<PathBuf>, ReportError> {
        let (Exchange::Ocsf(file) | Exchange::Asff(file)) = *self;
        Ok(vec![file.finish()?])
    }
}

/// `report.html`, written when the summary is known.
struct Html {
    page: HtmlReport,
    dir: PathBuf,
    name: String,
}

impl Sink for Html {
    fn name(&self) -> &'static str {
        "write html"
    }

    fn push(&mut self, row: &FindingRow) -> Result<(), ReportError> {
        self.page.push(row);
        Ok(())
    }

    fn finish(self: Box<Self>, summary: &Summary) -> Result<Vec<PathBuf>, ReportError> {
        let page = self.page.render(summary);
        Ok(vec![write_bytes(&self.dir, &self.name, page.as_bytes())?])
    }
}

/// `summary.json`.
struct SummaryJson {
    dir: PathBuf,
    name: String,
}

impl Sink for SummaryJson {
    fn name(&self) -> &'static str {
        "write summary"
    }

    fn push(&mut self, _: &FindingRow) -> Result<(), ReportError> {
        Ok(())
    }

    fn finish(self: Box<Self>, summary: &Summary) -> Result<Vec<PathBuf>, ReportError> {
        let json = serde_json::to_vec_pretty(summary).map_err(ReportError::Json)?;
        Ok(vec![write_bytes(&self.dir, &self.name, &json)?])
    }
}
