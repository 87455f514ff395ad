//! Scheduled scans (`scan --state`): each run reads only the trail files no earlier run read,
//! reports each finding once across all runs, and appends its reports to a root that no run
//! rewrites, exactly once even when a run is killed at any instant.
//!
//! A run: lock and read the state (`store`); finish moving the reports of a run that
//! committed but was killed before it had moved them, and delete what uncommitted runs staged
//! (`root`); list the open day folders of every stream and keep the files not read
//! (`state`); scan them, leaving out findings reported before; stage the reports; commit the
//! state with the list of staged files; move them in place; commit again without it.

pub mod root;
pub mod state;
pub mod store;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::integrity::Evidence;
use crate::notify::{Delivered, Notice, Notifier};
use crate::pipeline::{Inputs, Plan};
use crate::report::sinks::{Outputs, Sink};
use crate::report::{Format, Layout};
use crate::scan::{ExitStatus, ScanError, ScanOptions, ScanOutcome};
use crate::source::layout::TrailFile;
use crate::source::{self, Pending, SourceError};
use root::{Root, RootError};
use state::{PendingDigest, Publishing, State};
use store::{Store, StoreError};

/// How long a day folder stays open by default: CloudTrail delivers within minutes, with no
/// documented maximum.
pub const DEFAULT_LOOKBACK: Duration = Duration::days(2);

/// A scheduled run's settings.
pub struct Schedule {
    /// The root the reports are appended to.
    pub root: Root,
    /// A day folder is closed when its day ended more than this long ago.
    pub lookback: Duration,
    /// The run's clock.
    pub now: DateTime<Utc>,
    /// Where new findings are sent (`[notify]`).
    pub notify: Option<Notifier>,
}

/// A failure that stops a scheduled run; the state is left as the last committed run left it.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Root(#[from] RootError),
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("listing the trail: {0}")]
    List(String),
    #[error("--state: {0}")]
    Unsupported(&'static str),
}

/// What one run read and what the digests say: `runs/<run>/run.json`.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub run: String,
    pub state: String,
    /// Files listed in the open folders, and of them the ones not read before.
    pub listed: usize,
    pub selected: usize,
    /// Files that could not be read: read again by the next run while their folder is open.
    pub retry: Vec<String>,
    /// Files that could not be read and whose folder closed: given up.
    pub abandoned: Vec<String>,
    pub digests: DigestReport,
    /// Day folders still open after this run, over all streams.
    pub open_folders: usize,
    /// The state's size after this run, in bytes.
    pub state_bytes: usize,
    /// What routing made of this run's new findings (`[notify]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Queued>,
}

/// A run's new findings, routed and queued in the outbox.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Queued {
    pub routed: u64,
    pub unrouted: u64,
    pub below_threshold: u64,
    pub batches: usize,
}

/// Completeness from digest files (trails with log file validation).
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DigestReport {
    /// Hours whose digest arrived and every log file it lists was read, this run.
    pub hours_complete: usize,
    /// Hours whose digest arrived but not all their log files yet.
    pub hours_pending: usize,
    /// Log files those digests list that were not read yet.
    pub files_pending: usize,
    /// Log files a digest lists that were never found before their folder closed.
    pub files_missing: Vec<String>,
    /// Digest files that could not be read.
    pub unreadable: Vec<String>,
}

/// A scheduled run's outcome.
pub struct ScheduledOutcome {
    pub scan: ScanOutcome,
    /// The report files under the root, as paths.
    pub written: Vec<std::path::PathBuf>,
    pub run: RunRecord,
    /// The report files this run added under the root.
    pub published: Vec<String>,
    /// What was sent from the outbox after the commit (`None`: nothing to send).
    pub notified: Option<Delivered>,
    /// Batches still in the outbox.
    pub outbox: usize,
}

/// A name for a run, sortable by time and unique.
pub fn run_id(now: DateTime<Utc>) -> String {
    use std::hash::BuildHasher;
    let unique = std::collections::hash_map::RandomState::new()
        .hash_one((std::process::id(), Utc::now().timestamp_nanos_opt()));
    format!("{}-{:08x}", now.format("%Y%m%dT%H%M%SZ"), unique as u32)
}

/// One file chosen for this run.
struct Selected {
    /// The key the state knows it by.
    key: String,
    /// The name the scan reports it under.
    name: String,
    digest: bool,
}

/// Runs one scheduled scan of `options.plan` (local folders or `--logs` S3 URLs), writes its
/// reports in `formats`, staged, and hands the findings to the sinks of `also` too.
pub fn run<'s>(
    mut options: ScanOptions,
    formats: Vec<Format>,
    also: Vec<Box<dyn Sink + 's>>,
    schedule: &Schedule,
    mut store: Store,
    mut state: State,
) -> Result<ScheduledOutcome, ScheduleError> {
    let root = &schedule.root;
    // A run killed after its commit: finish moving its files.
    if let Some(publishing) = state.publishing.take() {
        tracing::info!(
            run = publishing.run,
            "finishing the reports of an interrupted run"
        );
        root.publish(&publishing)?;
        store.save(&state)?;
    }
    root.clean(None)?;

    let run = run_id(schedule.now);
    let Selection {
        selected,
        listed,
        streams,
    } = select(&mut options.plan, &state, &options.window)?;
    tracing::info!(listed, selected = selected.len(), "inputs not read before");
    let digests = read_digests(&options.plan, &selected);

    let mut holder = None;
    let staging = root.staging_dir(&run, &mut holder)?;
    options.scratch_dir = staging.clone();
    let outputs = Outputs {
        dir: staging.clone(),
        layout: Layout::Partitioned {
            run: run.clone(),
            suffix: root::STAGED.into(),
        },
        formats,
    };
    // Tag changes and sessions of earlier runs judge this run's records too.
    options.carried = std::mem::take(&mut state.history);
    // And the digests' chain, the hashes of log files whose digest had not come, the keys.
    if options.plan.integrity.is_some() {
        let carried = std::mem::take(&mut state.integrity);
        options.plan.integrity = Some(std::sync::Arc::new(Evidence::continuing(carried)));
    }
    let notify = schedule.notify.as_ref().map(|n| &n.config);
    let (mut new, mut below) = (Vec::new(), 0);
    let mut outcome = crate::scan::scan_reporting(&options, &mut |row| {
        let first = state.first_report(row);
        match notify {
            Some(config) if first && config.wants(row) => new.push(Notice::new(row)),
            Some(_) if first => below += 1,
            _ => {}
        }
        first
    })?;
    let mut sinks = outputs.sinks().map_err(ScanError::from)?;
    sinks.extend(also);
    let mut written = crate::report::sinks::drain(outcome.take_findings(), &outcome.summary, sinks)
        .map_err(ScanError::from)?;
    state.history = if options.passes == crate::scan::Passes::Single {
        std::mem::take(&mut options.carried)
    } else {
        outcome.history.carry(schedule.now, schedule.lookback)
    };

    // A file that could not be read at all is read again by the next run (a record that
    // could not be read is named `file:position`).
    let failed: std::collections::HashSet<String> = outcome
        .tally
        .rejections
        .iter()
        .map(|problem| problem.source.clone())
        .collect();
    let cutoff = (schedule.now - schedule.lookback).date_naive() - Duration::days(1);
    let mut record = RunRecord {
        run: run.clone(),
        state: store.name().to_string(),
        listed,
        selected: selected.len(),
        ..RunRecord::default()
    };
    for file in &selected {
        if failed.contains(&file.name) {
            let closing = TrailFile::parse(&file.key).is_some_and(|f| f.day <= cutoff);
            if closing {
                &mut record.abandoned
            } else {
                &mut record.retry
            }
            .push(file.name.clone());
        } else {
            state.mark_read(&file.key);
        }
    }
    state.digests.extend(digests.found);
    record.digests = check_digests(&mut state, digests.unreadable, cutoff);
    if let Some(integrity) = outcome.summary.integrity.as_mut() {
        let mut carry = std::mem::take(&mut integrity.carry);
        // A file whose folder closes without a digest listing it never will be.
        carry
            .logs
            .retain(|(name, _)| TrailFile::parse(name).is_some_and(|f| f.day > cutoff));
        state.integrity = carry;
    }
    if options.require_integrity && !record.digests.files_missing.is_empty() {
        tracing::error!(
            files = record.digests.files_missing.len(),
            "--require-integrity: files the digests list were never found"
        );
        outcome.exit = ExitStatus::Failed;
    }
    state.close_through(streams.iter().map(String::as_str), cutoff);
    state.forget_reported_before(cutoff - schedule.lookback);
    if let Some(notify) = &schedule.notify {
        let routed = notify.config.route(new, &run);
        record.notifications = Some(Queued {
            routed: routed.routed,
            unrouted: routed.unrouted,
            below_threshold: routed.below_threshold + below,
            batches: routed.batches.len(),
        });
        state.outbox.extend(routed.batches);
    }
    state.runs += 1;
    record.open_folders = state.streams.values().map(|s| s.open.len()).sum();
    record.state_bytes = state.to_json().len();

    let mut published = Vec::new();
    if !selected.is_empty() {
        let run_json = serde_json::to_vec_pretty(&record)
            .map_err(crate::report::ReportError::Json)
            .map_err(ScanError::from)?;
        let run_dir = staging.join("runs").join(&run);
        written.push(
            crate::report::write_bytes(&run_dir, &format!("run.json{}", root::STAGED), &run_json)
                .map_err(ScanError::from)?,
        );
        published = root.stage(&run, &staging, &written)?;
        fail::fail_point!("schedule::staged");
        state.publishing = Some(Publishing {
            run: run.clone(),
            files: published.clone(),
        });
    }
    // The commit: from here on, this run's findings count as reported.
    store.save(&state)?;
    fail::fail_point!("schedule::committed");
    if let Some(publishing) = state.publishing.take() {
        root.publish(&publishing)?;
        fail::fail_point!("schedule::published");
        store.save(&state)?;
    }
    // The outbox, this run's batches and those earlier runs could not deliver: what is sent
    // leaves it. A run stopped before the save sends them again, under the same ids.
    let notified = match &schedule.notify {
        Some(notify) if !state.outbox.is_empty() => {
            let delivered = notify.deliver(&mut state.outbox);
            store.save(&state)?;
            Some(delivered)
        }
        _ => None,
    };
    root.clean(None)?;
    store.release()?;
    let written = published
        .iter()
        .map(|name| {
            std::path::PathBuf::from(format!("{}/{name}", root.name().trim_end_matches('/')))
        })
        .collect();
    Ok(ScheduledOutcome {
        scan: outcome,
        written,
        run: record,
        published,
        notified,
        outbox: state.outbox.len(),
    })
}

/// The files of a run's listing no earlier run read.
#[derive(Default)]
struct Selection {
    selected: Vec<Selected>,
    /// Files listed in the open folders.
    listed: usize,
    /// The streams listed in full from their first open day.
    streams: std::collections::BTreeSet<String>,
}

impl Selection {
    /// Counts a listed file and chooses it when no earlier run read it.
    fn offer(&mut self, state: &State, key: String, name: String) -> bool {
        self.listed += 1;
        let trail = TrailFile::parse(&key);
        if let Some(trail) = trail {
            self.streams.insert(trail.stream.to_string());
        }
        if state.is_read(&key) {
            return false;
        }
        let digest = trail.is_some_and(|f| f.is_digest());
        self.selected.push(Selected { key, name, digest });
        true
    }
}

/// Chooses the files of the plan no earlier run read, and points the plan at them.
fn select(
    plan: &mut Plan,
    state: &State,
    window: &crate::source::Window,
) -> Result<Selection, ScheduleError> {
    if window.until.is_some() {
        return Err(ScheduleError::Unsupported(
            "--until would leave files out that the state then counts as read; use --since alone",
        ));
    }
    let mut selection = Selection::default();
    match plan.local.take() {
        None => {}
        Some(Inputs::Stdin) => {
            return Err(ScheduleError::Unsupported(
                "standard input has no file names to remember: give folders or --logs",
            ))
        }
        Some(Inputs::Paths(paths)) => {
            let mut files = Vec::new();
            for path in &paths {
                let base = std::fs::canonicalize(path).map_err(|source| SourceError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                let key_of = |p: &std::path::Path| {
                    let relative = p.strip_prefix(path).unwrap_or(p);
                    base.join(relative).to_string_lossy().into_owned()
                };
                let found = source::discover_admitting(std::slice::from_ref(path), |folder| {
                    let key = key_of(folder);
                    match source::layout::day_folder(&key) {
                        Some((stream, day)) => {
                            !state.is_closed(stream, day) && window.admits_folder(folder)
                        }
                        None => true,
                    }
                })?;
                for pending in found {
                    match pending {
                        Pending::File(file) => {
                            let name = file.display().to_string();
                            if selection.offer(state, key_of(&file), name) {
                                files.push(file);
                            }
                        }
                        // Counted as rejected by the scan, and read again next time.
                        other => files.extend(other_path(other)),
                    }
                }
            }
            plan.local = Some(Inputs::Paths(files));
        }
    }
    #[cfg(feature = "aws")]
    if let Some(live) = plan.live.as_mut() {
        if live.lookup_events {
            return Err(ScheduleError::Unsupported(
                "LookupEvents has no files to remember: read the trail's S3 objects with --logs",
            ));
        }
        let first_open = |stream: &str| state.first_open_day(stream);
        let listings = live
            .list(window, &first_open)
            .map_err(|e| ScheduleError::List(e.to_string()))?;
        let mut chosen = Vec::new();
        for (url, listing) in live.s3.iter().zip(listings) {
            selection.streams.extend(listing.streams);
            let mut objects = Vec::new();
            for object in listing.objects {
                let key = format!("s3://{}/{}", url.bucket, object.key);
                if selection.offer(state, key.clone(), key) {
                    objects.push(object);
                }
            }
            chosen.push(objects);
        }
        live.selected = Some(std::sync::Arc::new(chosen));
    }
    Ok(selection)
}

/// A path the walk could not read, passed on for the scan to count as rejected.
fn other_path(pending: Pending) -> Option<std::path::PathBuf> {
    match pending {
        Pending::File(path) => Some(path),
        Pending::Unreadable(problem) => Some(problem.source.into()),
        Pending::Fetched { .. } => None,
    }
}

/// The digests of this run, read.
#[derive(Default)]
struct Digests {
    found: Vec<(String, PendingDigest)>,
    unreadable: Vec<String>,
}

/// A digest file's fields that say which log files an hour holds.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestFile {
    digest_start_time: String,
    digest_end_time: String,
    #[serde(default)]
    log_files: Vec<DigestLogFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DigestLogFile {
    s3_object: String,
}

/// Reads the digest files chosen for this run.
fn read_digests(plan: &Plan, selected: &[Selected]) -> Digests {
    let mut digests = Digests::default();
    let wanted: Vec<&Selected> = selected.iter().filter(|s| s.digest).collect();
    if wanted.is_empty() {
        return digests;
    }
    let in_s3: Vec<String> = wanted
        .iter()
        .filter(|file| file.name.starts_with("s3://"))
        .map(|file| file.name.clone())
        .collect();
    let mut fetched = fetch_s3(plan, &in_s3).into_iter();
    let bytes: Vec<(String, Result<Vec<u8>, String>)> = wanted
        .iter()
        .map(|file| {
            let read = if file.name.starts_with("s3://") {
                fetched.next().unwrap_or_else(|| Err("not fetched".into()))
            } else {
                source::read_file(std::path::Path::new(&file.name), plan.max_file_bytes)
                    .map(|input| input.bytes)
                    .map_err(|e| e.to_string())
            };
            (file.key.clone(), read)
        })
        .collect();
    for (key, read) in bytes {
        let parsed = read.and_then(|bytes| {
            serde_json::from_slice::<DigestFile>(&bytes)
                .map_err(|e| format!("not a digest file: {e}"))
        });
        let (Ok(digest), Some(trail)) = (parsed.as_ref(), TrailFile::parse(&key)) else {
            let reason = parsed
                .err()
                .unwrap_or_else(|| "outside the trail layout".into());
            digests.unreadable.push(format!("{key}: {reason}"));
            continue;
        };
        let waiting = digest
            .log_files
            .iter()
            .map(|f| state::listed_day(&f.s3_object, trail.day))
            .collect();
        digests.found.push((
            key.clone(),
            PendingDigest {
                logs: source::layout::logs_of_digests(trail.stream),
                day: trail.day,
                start: digest.digest_start_time.clone(),
                end: digest.digest_end_time.clone(),
                waiting,
            },
        ));
    }
    digests
}

/// Digest objects' bytes, gunzipped, in order.
#[cfg(feature = "aws")]
fn fetch_s3(plan: &Plan, urls: &[String]) -> Vec<Result<Vec<u8>, String>> {
    let Some(live) = plan.live.as_ref() else {
        return urls.iter().map(|_| Err("no S3 source".into())).collect();
    };
    urls.iter()
        .zip(live.get_all(urls))
        .map(|(url, raw)| {
            Pending::fetched(url.clone(), raw.map_err(|e| e.to_string())?.bytes)
                .load(Vec::new(), plan.max_file_bytes)
                .map(|input| input.bytes)
                .map_err(|problem| problem.reason)
        })
        .collect()
}

#[cfg(not(feature = "aws"))]
fn fetch_s3(_: &Plan, urls: &[String]) -> Vec<Result<Vec<u8>, String>> {
    urls.iter()
        .map(|_| Err("S3 needs the `aws` feature".into()))
        .collect()
}

/// Settles the digests waiting in the state: complete, still waiting, or missing files (the
/// digest's folder closes this run, at `cutoff`, or was closed).
fn check_digests(state: &mut State, unreadable: Vec<String>, cutoff: NaiveDate) -> DigestReport {
    let mut report = DigestReport {
        unreadable,
        ..DigestReport::default()
    };
    let digests = std::mem::take(&mut state.digests);
    for (key, mut digest) in digests {
        digest
            .waiting
            .retain(|(day, name)| !state.digest_file_read(&digest.logs, *day, name));
        if digest.waiting.is_empty() {
            report.hours_complete += 1;
            continue;
        }
        // Files an hour lists are published by the time its digest is: once the digest's
        // folder is closed, its log files had every chance to be read.
        if digest.day <= cutoff || state.is_closed(&digest.logs, digest.day) {
            report
                .files_missing
                .extend(digest.waiting.iter().map(|(day, name)| {
                    format!("{}{name}", source::layout::day_path(&digest.logs, *day))
                }));
            continue;
        }
        report.hours_pending += 1;
        report.files_pending += digest.waiting.len();
        state.digests.insert(key, digest);
    }
    report
}
