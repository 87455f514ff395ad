//! The stages wired together: inputs → decode → event → resolve, in parallel over files, with
//! every record counted in exactly one bucket.
//!
//! Files are processed in chunks on all cores (rayon); results are handed to the caller's sink
//! in input order, so output is deterministic and memory is bounded by one chunk.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::event::Event;
use crate::resolve::{Resolution, Resolver};
use crate::source::{self, decode, Input, Item, SourceError, Window};

/// Where the records come from.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// Files and folders (walked).
    Paths(Vec<PathBuf>),
    /// Standard input.
    Stdin,
}

/// One resolved record with the fields reports need.
#[derive(Debug, Clone)]
pub struct ResolvedEvent {
    pub event_time: Option<DateTime<Utc>>,
    pub event_id: Option<String>,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: Option<String>,
    /// The account that received the call and owns what it touched.
    pub account_id: Option<String>,
    pub error_code: Option<String>,
    pub read_only: Option<bool>,
    pub resolution: Resolution,
    /// The input and the record's position in it: `path:line 3`, `path:record 12`.
    pub source: String,
}

/// A unit of input that could not be read, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub source: String,
    pub reason: String,
}

/// The record buckets. `read = resolved + unresolved + skipped + rejected`, always.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub read: u64,
    pub resolved: u64,
    pub unresolved: u64,
    pub skipped: u64,
    pub rejected: u64,
    /// Inputs (files, or stdin) opened.
    pub inputs: u64,
    pub unresolved_by_reason: BTreeMap<String, u64>,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub rejections: Vec<Problem>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.read += other.read;
        self.resolved += other.resolved;
        self.unresolved += other.unresolved;
        self.skipped += other.skipped;
        self.rejected += other.rejected;
        self.inputs += other.inputs;
        for (k, v) in other.unresolved_by_reason {
            *self.unresolved_by_reason.entry(k).or_default() += v;
        }
        for (k, v) in other.skipped_by_reason {
            *self.skipped_by_reason.entry(k).or_default() += v;
        }
        self.rejections.extend(other.rejections);
    }

    fn skip(&mut self, reason: &str) {
        self.read += 1;
        self.skipped += 1;
        *self
            .skipped_by_reason
            .entry(reason.to_string())
            .or_default() += 1;
    }

    fn reject(&mut self, source: String, reason: String) {
        self.read += 1;
        self.rejected += 1;
        self.rejections.push(Problem { source, reason });
    }

    /// True when the buckets add up to what was read.
    pub fn is_consistent(&self) -> bool {
        self.read == self.resolved + self.unresolved + self.skipped + self.rejected
    }

    /// `read 10: resolved 6, unresolved 2, skipped 1, rejected 1`.
    pub fn one_line(&self) -> String {
        format!(
            "read {}: resolved {}, unresolved {}, skipped {}, rejected {} ({} input(s))",
            self.read, self.resolved, self.unresolved, self.skipped, self.rejected, self.inputs
        )
    }
}

/// How many files are processed together; bounds the memory held at once.
const CHUNK: usize = 64;

/// Reads, decodes and resolves every record of `inputs`, handing each resolved event to `sink`
/// in input order. Fails only when an input named by the user cannot be found.
pub fn run(
    inputs: &Inputs,
    window: &Window,
    resolver: &Resolver,
    mut sink: impl FnMut(ResolvedEvent),
) -> Result<Tally, SourceError> {
    let mut tally = Tally::default();
    match inputs {
        Inputs::Stdin => {
            let input = source::read_stdin()?;
            let (events, t) = process(&input, window, resolver);
            tally.merge(t);
            events.into_iter().for_each(&mut sink);
        }
        Inputs::Paths(paths) => {
            let files = source::discover(paths, window)?;
            for chunk in files.chunks(CHUNK) {
                let results: Vec<_> = chunk
                    .par_iter()
                    .map(|path| match source::read_file(path) {
                        Ok(input) => process(&input, window, resolver),
                        Err(err) => {
                            let mut t = Tally {
                                inputs: 1,
                                ..Tally::default()
                            };
                            t.reject(path.display().to_string(), format!("cannot read: {err}"));
                            (Vec::new(), t)
                        }
                    })
                    .collect();
                for (events, t) in results {
                    tally.merge(t);
                    events.into_iter().for_each(&mut sink);
                }
            }
        }
    }
    Ok(tally)
}

/// Decodes and resolves one input.
pub fn process(input: &Input, window: &Window, resolver: &Resolver) -> (Vec<ResolvedEvent>, Tally) {
    let mut tally = Tally {
        inputs: 1,
        ..Tally::default()
    };
    let mut events = Vec::new();
    let at = |position: decode::Position| format!("{}:{position}", input.name);
    for item in decode(&input.bytes, input.damage.as_deref()) {
        match item {
            Item::Skipped { reason, .. } => tally.skip(&reason),
            Item::Rejected { position, reason } => tally.reject(at(position), reason),
            Item::Record(record) => {
                let event = match Event::parse(&record.json) {
                    Ok(event) => event,
                    Err(err) => {
                        tally.reject(
                            at(record.position),
                            format!("not a CloudTrail record: {err}"),
                        );
                        continue;
                    }
                };
                if event.is_insight() {
                    tally.skip("CloudTrail Insights event");
                    continue;
                }
                let event_time = event
                    .event_time
                    .as_deref()
                    .and_then(source::window::parse_event_time);
                if !window.admits_time(event_time) {
                    tally.skip("outside the time window");
                    continue;
                }
                let resolution = resolver.resolve(&event, &record.json, &record.lookup);
                tally.read += 1;
                match &resolution.unresolved {
                    None => tally.resolved += 1,
                    Some(reason) => {
                        tally.unresolved += 1;
                        *tally
                            .unresolved_by_reason
                            .entry(reason.code().to_string())
                            .or_default() += 1;
                    }
                }
                let owned = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
                events.push(ResolvedEvent {
                    event_time,
                    event_id: owned(event.event_id.as_deref()),
                    event_source: event.event_source.to_string(),
                    event_name: event.event_name.to_string(),
                    aws_region: owned(event.region()),
                    account_id: owned(event.owner_account()),
                    error_code: owned(event.error_code.as_deref()),
                    read_only: event.read_only,
                    resolution,
                    source: at(record.position),
                });
            }
        }
    }
    (events, tally)
}
