//! `tagtrail scan`: resolve every record, judge it with the tags in force at its time, write
//! reports, and decide the exit code.
//!
//! Two passes over the inputs: the first keeps what changes tags and identities (the trail's
//! tag calls, role sessions, duplicates; see `history`), the second judges every record.
//! Both stream: memory holds the history, never the records.

use std::path::PathBuf;

use crate::event::Event;
use crate::history::{self, Carried, History, Observed, TagCalls, Tags};
use crate::integrity::{Evidence, Integrity, PublicKeys};
use crate::inventory::Snapshots;
use crate::pipeline::{self, LiveMode, Plan};
use crate::policy::Policy;
use crate::report::sorter::FindingSorter;
use crate::report::summary::{FindingStats, Summary, TagHistory};
use crate::report::{self, FindingRow, Format, Layout, ReportError};
use crate::resolve::{ResolvedEvent, Resolver, Sources};
use crate::ruleset::LazyRecord;
use crate::ruleset::RuleSet;
use crate::source::spool::Spool;
use crate::source::{SourceError, Window};
use crate::tally::{Problem, Tally};
use crate::verdict::{self, Counted, Kind};

/// Everything a scan needs.
pub struct ScanOptions {
    pub plan: Plan,
    pub window: Window,
    pub rules: RuleSet,
    /// The current inventory, or dated snapshots.
    pub snapshots: Snapshots,
    /// One pass: judge by the inventory alone, without the trail's tag calls, session tags
    /// or duplicate detection.
    pub single_pass: bool,
    /// Parts of a live inventory that could not be fetched: reported like rejected input.
    pub inventory_problems: Vec<Problem>,
    pub policy: Policy,
    pub out_dir: PathBuf,
    /// The report files' names under `out_dir`.
    pub layout: Layout,
    pub formats: Vec<Format>,
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

/// A failure that stops a scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Report(#[from] ReportError),
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

/// What a scan found and wrote.
pub struct ScanOutcome {
    pub summary: Summary,
    pub written: Vec<PathBuf>,
    pub tally: Tally,
    pub exit: ExitStatus,
    /// The tag changes and sessions the scan knew, for a scheduled run to carry on.
    pub history: History,
}

/// Writes the findings (in report order) and the summary in the formats asked for.
fn write_reports(
    rows: impl Iterator<Item = std::io::Result<FindingRow>> + Send,
    summary: &Summary,
    options: &ScanOptions,
) -> Result<Vec<PathBuf>, ReportError> {
    let _span =
        tracing::info_span!("report", "indicatif.pb_show" = tracing::field::Empty).entered();
    let (parquet, csv) = (
        options.formats.contains(&Format::Parquet),
        options.formats.contains(&Format::Csv),
    );
    // Files of one run that are not partitioned by day: the flat folder, or the run's.
    let (run_dir, suffix) = match &options.layout {
        Layout::Flat => (options.out_dir.clone(), ""),
        Layout::Partitioned { run, suffix } => {
            (options.out_dir.join("runs").join(run), suffix.as_str())
        }
    };
    let stream = |format, name: &str, array| {
        options
            .formats
            .contains(&format)
            .then(|| report::JsonStream::create(&run_dir, &format!("{name}{suffix}"), array))
            .transpose()
    };
    let mut ocsf = stream(Format::Ocsf, "findings.ocsf.jsonl", false)?;
    let mut asff = stream(Format::Asff, "findings.asff.json", true)?;
    let mut html = options
        .formats
        .contains(&Format::Html)
        .then(report::html::HtmlReport::default);
    let rows = rows.inspect(|row| {
        if let Ok(row) = row {
            if let Some(page) = html.as_mut() {
                page.push(row);
            }
            if let Some(file) = ocsf.as_mut() {
                file.push(&report::exchange::ocsf(row));
            }
            if let Some(file) = asff.as_mut() {
                file.push(&report::exchange::asff(row, None));
            }
        }
    });
    let mut written = match &options.layout {
        Layout::Flat => report::write_findings(rows, &options.out_dir, parquet, csv)?,
        Layout::Partitioned { run, suffix } => {
            report::write_partitioned(rows, &options.out_dir, run, suffix, parquet, csv)?
        }
    };
    for file in [ocsf, asff].into_iter().flatten() {
        written.push(file.finish()?);
    }
    if let Some(page) = html {
        let name = format!("report.html{suffix}");
        written.push(report::write_bytes(
            &run_dir,
            &name,
            page.render(summary).as_bytes(),
        )?);
    }
    let (summary_dir, summary_name) = (run_dir, format!("summary.json{suffix}"));
    if options.formats.contains(&Format::Json) {
        let json = serde_json::to_vec_pretty(summary).map_err(ReportError::Json)?;
        written.push(report::write_bytes(&summary_dir, &summary_name, &json)?);
    }
    Ok(written)
}

/// The first pass: what changes tags and identities, and which records are duplicates.
fn read_history(
    options: &ScanOptions,
    resolver: &Resolver,
    live: LiveMode,
) -> Result<History, ScanError> {
    let _span = tracing::info_span!("history").entered();
    let calls = TagCalls::builtin();
    let key = options.snapshots.newest().inventory.tag_key();
    let needed = |event: &Event| {
        (!history::is_observed(event, calls)).then_some("not needed by the history pass")
    };
    let mut observed = Vec::new();
    // The judging pass gathers the integrity evidence.
    let plan = Plan {
        integrity: None,
        ..options.plan.clone()
    };
    pipeline::run_plan_live(
        &plan,
        live,
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
    let (changes, sessions) = history.counts();
    tracing::info!(changes, sessions, "history read");
    Ok(history)
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

/// Runs a scan and writes its reports.
pub fn scan(options: &ScanOptions) -> Result<ScanOutcome, ScanError> {
    scan_reporting(options, &mut |_| true)
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
    // Standard input and live inputs are read once: the first pass keeps them on disk for the
    // second.
    let spool = match (options.single_pass, options.plan.reads_once()) {
        (false, true) => {
            let spool_error = |source| ReportError::Io {
                path: format!("{} (spool of inputs read once)", options.out_dir.display()),
                source,
            };
            std::fs::create_dir_all(&options.out_dir).map_err(spool_error)?;
            Some(Spool::new_in(&options.out_dir).map_err(spool_error)?)
        }
        _ => None,
    };
    let history = if options.single_pass {
        History::default()
    } else {
        read_history(
            options,
            &resolver,
            spool.as_ref().map_or(LiveMode::Fetch, LiveMode::Record),
        )?
    };
    let tags = Tags {
        history: &history,
        snapshots: &options.snapshots,
    };
    let duplicate = |event: &Event| history.duplicate(event);
    let mut sorter = FindingSorter::new(&options.out_dir, options.spill_rows);
    let mut stats = FindingStats::default();
    let mut counted = Counted::default();
    let mut spill_error = None;
    let mut reported_before = 0u64;
    // Judging runs on the worker threads; the sink only gathers, in input order.
    let judge = |mut event: ResolvedEvent, record: &Event, _: &str| {
        if let Some(caller) = history.caller_of(record, &event.resolution.principal) {
            event.resolution.principal = caller;
        }
        let judgement = verdict::judge(&event, &tags, &options.policy);
        let rows: Vec<FindingRow> = judgement
            .findings
            .iter()
            .map(|f| FindingRow::new(&event, f))
            .collect();
        (rows, judgement.counted)
    };
    let mut tally = pipeline::run_plan_live(
        &options.plan,
        spool.as_ref().map_or(LiveMode::Fetch, LiveMode::Replay),
        &options.window,
        &resolver,
        &duplicate,
        judge,
        |(found, count): (Vec<FindingRow>, Counted)| {
            for row in found {
                if !first_report(&row) {
                    reported_before += 1;
                    continue;
                }
                stats.add(&row);
                if spill_error.is_none() {
                    spill_error = sorter.push(row).err();
                }
            }
            counted.add(&count);
        },
    )?;
    let spill = |source| ReportError::Io {
        path: format!("{} (findings spill file)", options.out_dir.display()),
        source,
    };
    if let Some(err) = spill_error {
        return Err(spill(err).into());
    }
    for problem in &options.inventory_problems {
        tally.add_unreadable(
            format!("inventory {}", problem.source),
            problem.reason.clone(),
        );
    }
    debug_assert!(tally.is_consistent());
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

    let rows = sorter.finish().map_err(spill)?;
    let written = write_reports(rows, &summary, options)?;

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
        written,
        tally,
        exit,
        history,
    })
}
