//! The one integration test binary, so the crate's dependencies link once; its modules are
//! the groups of `tests/README.md`, one per feature.

mod architecture;
mod docs;
mod input;
mod live;
mod reports;
mod rules;
mod scan;
mod sql;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A peer the tests run against (moto, Chromium, Python with DuckDB and sqlglot, Java for
/// Spark): where it is; where it is not installed, the whole run stops in one line, since
/// `scripts/test` installs every peer (`tests/README.md`).
pub fn peer(what: &str, found: Option<PathBuf>) -> PathBuf {
    found.unwrap_or_else(|| {
        // Written past the harness's capture of `eprintln!`, which exiting would lose.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\ntagtrail's integration tests need {what}: run them with `scripts/test`, which installs it"
        );
        std::process::exit(2)
    })
}

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

/// The content of gzip `bytes`.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The rows of a report folder's `findings.csv`, without the header.
pub fn finding_rows(report: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(report.join("findings.csv")).unwrap();
    csv.lines().skip(1).map(str::to_string).collect()
}

/// The rule files of `rules/`, sorted by name, as (name, text).
pub fn rule_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Per corpus record: the ARNs found, and the ids of the rules that found them.
pub type Found = std::collections::BTreeMap<
    String,
    (
        std::collections::BTreeSet<String>,
        std::collections::BTreeSet<String>,
    ),
>;

/// Resolves the corpus with `set`.
pub fn resolve_corpus(
    set: &tagtrail::ruleset::RuleSet,
    sources: tagtrail::resolve::Sources,
) -> Found {
    use tagtrail::resolve::{ResolvedEvent, Resolver, Via};
    let resolver = Resolver {
        rules: set,
        index: None,
        sources,
    };
    let mut out = Found::new();
    tagtrail::pipeline::run(
        &tagtrail::pipeline::Inputs::Paths(vec![corpus_dir()]),
        &tagtrail::source::Window::default(),
        &resolver,
        |e: ResolvedEvent| {
            let (mut arns, mut rules) = (
                std::collections::BTreeSet::new(),
                std::collections::BTreeSet::new(),
            );
            for t in e.resolution.resources {
                if let Via::Rule(id) = &t.via {
                    rules.insert(id.clone());
                }
                arns.insert(t.arn);
            }
            out.insert(e.source.to_string(), (arns, rules));
        },
    )
    .unwrap();
    out
}

/// Recall and precision of what is left after rules are removed, per rule file and in all.
#[derive(Default)]
pub struct Score {
    rows: Vec<String>,
    truth: usize,
    found: usize,
    hit: usize,
}

impl Score {
    /// Scores `left` against `whole` on the records the rules `removed` resolved in `whole`;
    /// returns this row's (recall, precision).
    pub fn add(
        &mut self,
        name: &str,
        whole: &Found,
        removed: &std::collections::BTreeSet<String>,
        left: &Found,
        note: &str,
    ) -> (f64, f64) {
        let (mut t, mut f, mut h) = (0, 0, 0);
        for (source, (arns, by)) in whole {
            if by.is_disjoint(removed) {
                continue;
            }
            let remaining = &left[source].0;
            t += arns.len();
            f += remaining.len();
            h += arns.intersection(remaining).count();
        }
        if t > 0 {
            self.rows.push(format!(
                "{name:<20} {t:>5} {f:>5} {h:>5}  recall {:>5.1}%  precision {}{note}",
                100.0 * h as f64 / t as f64,
                if f > 0 {
                    format!("{:>5.1}%", 100.0 * h as f64 / f as f64)
                } else {
                    "    -".into()
                }
            ));
        }
        (self.truth, self.found, self.hit) = (self.truth + t, self.found + f, self.hit + h);
        (
            h as f64 / t.max(1) as f64,
            if f > 0 { h as f64 / f as f64 } else { 1.0 },
        )
    }

    /// Prints the table and the totals; returns (recall, precision).
    pub fn print(&self, verb: &str) -> (f64, f64) {
        let recall = self.hit as f64 / self.truth as f64;
        let precision = self.hit as f64 / self.found as f64;
        println!(
            "file                 truth found   hit\n{}",
            self.rows.join("\n")
        );
        println!(
            "all: {} of {} ARNs {verb} (recall {:.1}%), {} found (precision {:.1}%)",
            self.hit,
            self.truth,
            100.0 * recall,
            self.found,
            100.0 * precision
        );
        (recall, precision)
    }
}
