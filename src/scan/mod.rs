//! `tagtrail scan`: resolve every record, judge it with the tags in force at its time, sort
//! the findings, and decide the exit code. It writes no report: the findings go to the sinks
//! (`report::sinks`) the caller asks for.
//!
//! One read of the inputs: each record is resolved once, what changes tags and identities
//! (the trail's tag calls, role sessions, duplicates; see `history`) is observed, and the
//! record is kept aside on disk ([`deferred`]); once the history is complete every record is
//! judged. Memory holds the history, never the records.

pub mod deferred;

use std::path::PathBuf;

use rayon::prelude::*;

use crate::event::Event;
use crate::history::{self, Carried, History, Observed, TagCalls, Tags};
use crate::integrity::{Evidence, Integrity, PublicKeys};
use crate::inventory::Snapshots;
use crate::pipeline::{self, Plan};
use crate::policy::Policy;
use crate::report::sorter::{FindingSorter, Sorted};
use crate::report::summary::{FindingStats, Summary, TagHistory};
use crate::report::{FindingRow, ReportError};
use crate::resolve::{Delivery, ResolvedEvent, Resolver, Sources, Unresolved};
use crate::ruleset::LazyRecord;
use crate::ruleset::RuleSet;
use crate::source::{SourceError, Window};
use crate::tally::{Problem, Tally};
use crate::verdict::{self, Counted, Kind};
use deferred::{Chunk, Deferred};

/// Everything a scan needs.
pub struct ScanOptions {
    pub plan: Plan,
    pub window: Window,
    pub rules: RuleSet,
    /// The current inventory, or dated snapshots.
    pub snapshots: Snapshots,
    /// How the inputs are read and judged.
    pub passes: Passes,
    /// Parts of a live inventory that could not be fetched: reported like rejected input.
    pub inventory_problems: Vec<Problem>,
    pub policy: Policy,
    /// Where the scan keeps its temporary files: resolved records waiting for the history,
    /// findings spilled while sorted (anonymous files, the report folder in practice).
    pub scratch_dir: PathBuf,
    /// Findings of this kind or more severe fail the run; `None`: never.
    pub fail_on: Option<Kind>,
    /// Rejected input does not fail the run.
    pub allow_partial: bool,
    /// A trail that CloudTrail's digests do not vouch for fails the run (exit code 2).
    pub require_integrity: bool,
    /// Findings held in memory before a sorted run is spilled to disk (see `report::sorter`).
    pub spill_rows: usize,
    /// What earlier scheduled runs carried of the history (tag changes, tagged sessions).
    pub carried: Carried,
}

/// How a scan reads and judges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Passes {
    /// One read; every record judged once the history is complete.
    #[default]
    Deferred,
    /// One read, each record judged as read by the inventory alone, without the trail's tag
    /// calls, session tags or duplicate detection (`--single-pass`).
    Single,
    /// Two reads, the history first: the order before judging was deferred, kept for tests
    /// to compare with (local files only).
    TwoPassReference,
}

/// A failure that stops a scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{0}")]
    Refused(String),
}

/// How a run ends, most severe last: what schedulers and CI read from the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Nothing at or above `--fail-on`.
    Clean,
    /// Findings at or above `--fail-on`.
    Findings,
    /// The run cannot vouch for its result: rejected input (unless allowed), a trail its
    /// digests do not vouch for (`--require-integrity`), notifications not delivered
    /// (`--require-notify`), findings Security Hub refused.
    Failed,
}

impl ExitStatus {
    /// The process exit code: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Failed => 2,
        }
    }
}

/// What a scan found: the findings in report order, for the sinks (`report::sinks`), and the
/// summary.
pub struct ScanOutcome {
    pub summary: Summary,
    pub findings: Sorted,
    pub tally: Tally,
    pub exit: ExitStatus,
    /// The tag changes and sessions the scan knew, for a scheduled run to carry on.
    pub history: History,
}

impl ScanOutcome {
    /// The findings, for the sinks; none are left.
    pub fn take_findings(&mut self) -> Sorted {
        std::mem::take(&mut self.findings)
    }
}

/// The trail read, checked against the digests read with it (none read: nothing to say).
fn check_integrity(options: &ScanOptions) -> Option<Integrity> {
    let evidence = options
        .plan
        .integrity
        .as_ref()
        .filter(|e| e.has_digests())?;
    // A file a digest lists is expected where its day folder is in the window.
    let expected = |key: &str| {
        let folder = key.rsplit_once('/').map_or(key, |(folder, _)| folder);
        options.window.admits_folder(std::path::Path::new(folder))
    };
    let (keys, unavailable) = public_keys(options, evidence);
    let mut integrity = evidence.check(keys.as_ref(), &expected);
    integrity.public_keys_unavailable = unavailable;
    if integrity.failed() {
        tracing::warn!(
            faults = integrity.faults().count(),
            "the trail read is not what CloudTrail's digests vouch for"
        );
    }
    Some(integrity)
}

/// CloudTrail's public keys for the digests read from S3: those earlier runs fetched, and the
/// rest fetched now, once per region; with why they could not be had. `None`: no digest was
/// read with a signature, and none can be checked.
fn public_keys(options: &ScanOptions, evidence: &Evidence) -> (Option<PublicKeys>, Vec<String>) {
    let mut keys = evidence.known_keys();
    let (mut fetched, mut unavailable) = (false, Vec::new());
    if let Some((regions, start, end)) = evidence.keys_wanted(&keys) {
        let regions: Vec<String> = regions.into_iter().collect();
        #[cfg(feature = "aws")]
        let answer = match &options.plan.live {
            Some(live) => live.public_keys(&regions, &start, &end),
            None => Err(format!(
                "no AWS session to fetch the public keys of {regions:?}"
            )),
        };
        #[cfg(not(feature = "aws"))]
        let answer: Result<Vec<(String, Vec<u8>)>, String> = {
            let _ = (options, start, end);
            Err(format!(
                "no AWS session to fetch the public keys of {regions:?}"
            ))
        };
        match answer {
            Ok(found) => {
                tracing::info!(keys = found.len(), ?regions, "CloudTrail public keys");
                keys.0.extend(found);
                fetched = true;
            }
            Err(why) => {
                tracing::warn!("digest signatures not checked: {why}");
                unavailable.push(why);
            }
        }
    }
    // Keys fetched (even none) check signatures: an unknown fingerprint is then a fault.
    ((fetched || !keys.0.is_empty()).then_some(keys), unavailable)
}

/// Runs a scan.
pub fn scan(options: &ScanOptions) -> Result<ScanOutcome, ScanError> {
    scan_reporting(options, &mut |_| true)
}

/// Judges resolved events with the tags at their time.
struct Judge<'j> {
    history: &'j History,
    tags: Tags<'j>,
    policy: &'j Policy,
}

impl Judge<'_> {
    /// The findings rows of one event, and what it only counts.
    fn judge(&self, mut event: ResolvedEvent) -> (Vec<FindingRow>, Counted) {
        if let Some(caller) = self.history.caller_of(&event) {
            event.resolution.principal = caller;
        }
        let judgement = verdict::judge(&event, &self.tags, self.policy);
        let rows = judgement
            .findings
            .iter()
            .map(|f| FindingRow::new(&event, f))
            .collect();
        (rows, judgement.counted)
    }

    /// [`Judge::judge`], or why the event is skipped after all: a duplicate the history found
    /// once the whole trail was read.
    fn judge_or_skip(&self, event: ResolvedEvent) -> Judged {
        match self
            .history
            .duplicate(event.event_id.as_deref(), &event.delivery)
        {
            Some(reason) => Judged::Duplicate {
                reason,
                unresolved: event.resolution.unresolved.as_ref().map(Unresolved::code),
            },
            None => {
                let (rows, counted) = self.judge(event);
                Judged::Findings(rows, counted)
            }
        }
    }
}

enum Judged {
    Findings(Vec<FindingRow>, Counted),
    /// A record counted as resolved (or unresolved, with this code) that is a duplicate.
    Duplicate {
        reason: &'static str,
        unresolved: Option<&'static str>,
    },
}

/// Where judged events go: the findings to report, sorted, and what is counted.
struct Gather<'g> {
    sorter: FindingSorter,
    stats: FindingStats,
    counted: Counted,
    reported_before: u64,
    spill_error: Option<std::io::Error>,
    first_report: &'g mut (dyn FnMut(&FindingRow) -> bool + Send),
}

impl Gather<'_> {
    fn add(&mut self, rows: Vec<FindingRow>, counted: &Counted) {
        for row in rows {
            if !(self.first_report)(&row) {
                self.reported_before += 1;
                continue;
            }
            self.stats.add(&row);
            if self.spill_error.is_none() {
                self.spill_error = self.sorter.push(row).err();
            }
        }
        self.counted.add(counted);
    }
}

/// The error of a file the scan keeps beside its reports (spilled findings, resolved records).
fn scratch_error(options: &ScanOptions, what: &str) -> impl Fn(std::io::Error) -> ScanError {
    let path = format!("{} ({what})", options.scratch_dir.display());
    move |source| {
        ScanError::Report(ReportError::Io {
            path: path.clone(),
            source,
        })
    }
}

/// The default read: each record resolved once, its history observations gathered and the
/// record kept aside; judged once the history is complete.
fn read_then_judge(
    options: &ScanOptions,
    resolver: &Resolver,
    gather: &mut Gather,
) -> Result<(History, Tally), ScanError> {
    let deferred_error = scratch_error(options, "file of resolved records");
    let mut deferred = Deferred::new_in(&options.scratch_dir).map_err(&deferred_error)?;
    let calls = TagCalls::builtin();
    let key = options.snapshots.newest().inventory.tag_key();
    let mut observed = Vec::new();
    let mut write_error = None;
    let mut stage = Stage::start("read and resolve");
    let mut tally = {
        let _span = tracing::info_span!("resolve").entered();
        pipeline::run_plan(
            &options.plan,
            &options.window,
            resolver,
            &pipeline::keep_all,
            |resolved, event, json| {
                let found = if history::is_observed(event, calls) {
                    let record = LazyRecord::new(event, json);
                    history::observe(event, &record, &resolved, calls, key)
                } else {
                    Vec::new()
                };
                (deferred::encode(&resolved), found)
            },
            |(encoded, found): (Vec<u8>, Vec<Observed>)| {
                observed.extend(found);
                if write_error.is_none() {
                    write_error = deferred.push(&encoded).err();
                }
            },
        )?
    };
    if let Some(err) = write_error {
        return Err(deferred_error(err));
    }
    stage.next("history");
    let history = History::build_after(&options.carried, observed);
    let (changes, sessions) = history.counts();
    tracing::info!(changes, sessions, records = deferred.len(), "history read");
    stage.next("judge");

    let _span = tracing::info_span!("judge").entered();
    let judge = Judge {
        history: &history,
        tags: Tags {
            history: &history,
            snapshots: &options.snapshots,
        },
        policy: &options.policy,
    };
    let mut chunks = deferred.finish().map_err(&deferred_error)?;
    // A thread reads the records back a chunk at a time and has the workers judge it, while
    // this one gathers the findings of the chunk before: the sorter's work overlaps judging.
    let (to_gather, chunks_judged) = std::sync::mpsc::sync_channel(1);
    let gathered = std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut chunk = Chunk::default();
            loop {
                let judged = match chunks.next_into(&mut chunk) {
                    Ok(false) => return,
                    Ok(true) => judge_chunk(&judge, &chunk),
                    Err(err) => Err(err),
                };
                let stop = judged.is_err();
                if to_gather.send(judged).is_err() || stop {
                    return;
                }
            }
        });
        for outcomes in chunks_judged {
            for outcome in outcomes?.into_iter().flatten() {
                match outcome {
                    Judged::Findings(rows, counted) => gather.add(rows, &counted),
                    Judged::Duplicate { reason, unresolved } => {
                        tally.skip_instead(unresolved, reason)
                    }
                }
            }
        }
        Ok(())
    });
    gathered.map_err(&deferred_error)?;
    drop(_span);
    stage.end();
    Ok((history, tally))
}

/// The wall time of one stage after another, logged (target `tagtrail::stages`) for
/// `bench/run.sh`'s table.
struct Stage {
    name: &'static str,
    started: std::time::Instant,
}

impl Stage {
    fn start(name: &'static str) -> Self {
        Stage {
            name,
            started: std::time::Instant::now(),
        }
    }

    fn next(&mut self, name: &'static str) {
        let seconds = self.started.elapsed().as_secs_f64();
        tracing::info!(target: "tagtrail::stages", stage = self.name, seconds);
        *self = Stage::start(name);
    }

    fn end(self) {
        let seconds = self.started.elapsed().as_secs_f64();
        tracing::info!(target: "tagtrail::stages", stage = self.name, seconds);
    }
}

/// Decodes and judges the records of one chunk on all cores, in order.
fn judge_chunk(judge: &Judge, chunk: &Chunk) -> std::io::Result<Vec<Vec<Judged>>> {
    chunk
        .spans()
        .par_chunks(256)
        .map(|spans| {
            let mut input = None;
            spans
                .iter()
                .map(|&span| {
                    let event = deferred::decode(chunk.record(span), &mut input)?;
                    Ok(judge.judge_or_skip(event))
                })
                .collect()
        })
        .collect()
}

/// Reads and judges each record as read, with `history` (empty for `--single-pass`).
fn judge_as_read(
    options: &ScanOptions,
    plan: &Plan,
    resolver: &Resolver,
    history: &History,
    gather: &mut Gather,
) -> Result<Tally, ScanError> {
    let judge = Judge {
        history,
        tags: Tags {
            history,
            snapshots: &options.snapshots,
        },
        policy: &options.policy,
    };
    let duplicate =
        |event: &Event| history.duplicate(event.event_id.as_deref(), &Delivery::of(event));
    Ok(pipeline::run_plan(
        plan,
        &options.window,
        resolver,
        &duplicate,
        |event, _, _| judge.judge(event),
        |(rows, counted): (Vec<FindingRow>, Counted)| gather.add(rows, &counted),
    )?)
}

/// The order before judging was deferred, kept as the reference tests compare with: a first
/// read for the history alone, then a second that judges. Local files only.
fn two_pass_reference(
    options: &ScanOptions,
    resolver: &Resolver,
    gather: &mut Gather,
) -> Result<(History, Tally), ScanError> {
    if options.plan.reads_once() {
        return Err(ScanError::Refused(
            "the two-pass reference reads local files only".into(),
        ));
    }
    let calls = TagCalls::builtin();
    let key = options.snapshots.newest().inventory.tag_key();
    let needed = |event: &Event| {
        (!history::is_observed(event, calls)).then_some("not needed by the history pass")
    };
    let mut observed = Vec::new();
    let plan = Plan {
        integrity: None,
        ..options.plan.clone()
    };
    pipeline::run_plan(
        &plan,
        &options.window,
        resolver,
        &needed,
        |resolved, event, json| {
            let record = LazyRecord::new(event, json);
            history::observe(event, &record, &resolved, calls, key)
        },
        |found: Vec<Observed>| observed.extend(found),
    )?;
    let history = History::build_after(&options.carried, observed);
    let tally = judge_as_read(options, &options.plan, resolver, &history, gather)?;
    Ok((history, tally))
}

/// [`scan`], reporting only the findings `first_report` says were not reported before (by an
/// earlier run of a scheduled scan); the others are counted in the summary's
/// `reported_before`.
pub fn scan_reporting(
    options: &ScanOptions,
    first_report: &mut (dyn FnMut(&FindingRow) -> bool + Send),
) -> Result<ScanOutcome, ScanError> {
    let current = &options.snapshots.newest().inventory;
    let resolver = Resolver {
        rules: &options.rules,
        index: Some(current.index()),
        sources: Sources::default(),
    };
    let mut gather = Gather {
        sorter: FindingSorter::new(&options.scratch_dir, options.spill_rows),
        stats: FindingStats::default(),
        counted: Counted::default(),
        reported_before: 0,
        spill_error: None,
        first_report,
    };
    let (history, mut tally) = match options.passes {
        Passes::Deferred => read_then_judge(options, &resolver, &mut gather)?,
        Passes::Single => {
            let history = History::default();
            let tally = judge_as_read(options, &options.plan, &resolver, &history, &mut gather)?;
            (history, tally)
        }
        Passes::TwoPassReference => two_pass_reference(options, &resolver, &mut gather)?,
    };
    let spill = scratch_error(options, "findings spill file");
    if let Some(err) = gather.spill_error.take() {
        return Err(spill(err));
    }
    for problem in &options.inventory_problems {
        tally.add_unreadable(
            format!("inventory {}", problem.source),
            problem.reason.clone(),
        );
    }
    debug_assert!(tally.is_consistent());
    let Gather {
        sorter,
        stats,
        counted,
        reported_before,
        ..
    } = gather;
    tracing::info!(runs = sorter.runs_spilled(), "findings sorted");
    let failing = options
        .fail_on
        .is_some_and(|threshold| stats.any_at_or_above(threshold));
    let mut summary = Summary::new(
        &tally,
        stats,
        counted,
        current.len(),
        &current.tag_key().key,
    );
    let (trail_changes, tagged_sessions) = history.counts();
    summary.tag_history = TagHistory {
        trail_changes,
        tagged_sessions,
        snapshots: options
            .snapshots
            .iter()
            .filter_map(|s| s.taken)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect(),
        ..summary.tag_history
    };
    summary.reported_before = reported_before;
    summary.integrity = check_integrity(options);

    let findings = sorter.finish().map_err(spill)?;

    let vouched = summary
        .integrity
        .as_ref()
        .is_some_and(Integrity::vouches_for_all);
    let exit = if tally.rejected > 0 && !options.allow_partial {
        ExitStatus::Failed
    } else if options.require_integrity && !vouched {
        tracing::error!(
            "--require-integrity: CloudTrail's digests do not vouch for the trail read"
        );
        ExitStatus::Failed
    } else if failing {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    };
    Ok(ScanOutcome {
        summary,
        findings,
        tally,
        exit,
        history,
    })
}
