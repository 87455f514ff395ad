//! Findings → rows with a fixed schema (`rows`), in report order through an external merge sort
//! (`sorter`), → the outputs asked for, each a sink (`sinks`): columns built row by row
//! (`frames`) → Parquet and CSV (`writers`); the run → `summary.json` and a table for people
//! (`summary`); OCSF and ASFF records for security systems (`exchange`); the HTML page
//! (`html`). The tag inventory as tables for SQL engines (`inventory_tables`).
//!
//! Files are written under a temporary name and renamed, so a crash never leaves half a report.

pub mod exchange;
#[cfg(feature = "reports")]
mod frames;
pub mod html;
#[cfg(feature = "reports")]
pub mod inventory_tables;
pub(crate) mod rows;
#[cfg(feature = "reports")]
pub mod sinks;
pub mod sorter;
pub mod summary;
#[cfg(feature = "reports")]
pub mod tables;
#[cfg(feature = "reports")]
mod writers;

#[cfg(feature = "reports")]
use polars::prelude::PolarsError;
use thiserror::Error;

#[cfg(feature = "reports")]
pub use frames::frame;
pub(crate) use rows::shared;
pub use rows::{FindingRow, SCHEMA};
#[cfg(feature = "reports")]
pub use writers::{write_bytes, FindingsTables, JsonStream};

/// A failure to write a report.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[cfg(feature = "reports")]
    #[error("{path}: {source}")]
    Polars {
        path: String,
        #[source]
        source: PolarsError,
    },
    #[error("summary: {0}")]
    Json(#[from] serde_json::Error),
}

/// Where a scan's report files go under its report folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Layout {
    /// `findings.parquet`, `findings.csv`, `summary.json`.
    #[default]
    Flat,
    /// One run of a report root that many runs append to: findings partitioned by event day,
    /// `findings/dt=YYYY-MM-DD/<run>.parquet` (and `.csv`), and `runs/<run>/summary.json`;
    /// every name followed by `suffix` (a staged file is not a report yet).
    Partitioned { run: String, suffix: String },
}

/// Report files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Parquet,
    Csv,
    /// `summary.json`.
    Json,
    /// `findings.ocsf.jsonl`: OCSF Detection Findings, one a line.
    Ocsf,
    /// `findings.asff.json`: AWS Security Findings, one JSON array.
    Asff,
    /// `report.html`: one self-contained page with charts and the findings table.
    Html,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Parquet,
        Format::Csv,
        Format::Json,
        Format::Ocsf,
        Format::Asff,
        Format::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ocsf => "ocsf",
            Format::Asff => "asff",
            Format::Html => "html",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "`{text}` is not a report format: expected {}",
                    names.join(", ")
                )
            })
    }
}
