//! The one integration test binary (modules per area), so the crate's dependencies link once.

mod architecture;
mod aws;
mod bad_input;
mod config;
mod containers;
mod corpus;
mod history;
mod learn;
mod lookup;
mod loopback;
mod rules;
mod scan;
mod secrets;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `tagtrail` binary in `dir` with `args`.
pub fn tagtrail(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtrail"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the tagtrail binary runs")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/corpus`: real CloudTrail records from public sources, vendored with their licences.
pub fn corpus_dir() -> PathBuf {
    root().join("tests/corpus")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `bytes` gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The rows of a report folder's `findings.csv`, without the header.
pub fn finding_rows(report: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(report.join("findings.csv")).unwrap();
    csv.lines().skip(1).map(str::to_string).collect()
}
