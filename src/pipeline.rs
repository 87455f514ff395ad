//! The stages wired together: inputs → decode → event → resolve, in parallel over files, with
//! every record counted in exactly one bucket.
//!
//! Files are processed on all cores, each worker taking the next file; results are handed to
//! the caller's sink in input order, so output is deterministic and memory is bounded by the
//! few files in flight. Inputs read elsewhere (S3 objects, LookupEvents pages) are fed to the
//! same [`Run`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::event::Event;
use crate::resolve::{Resolution, Resolver};
use crate::source::s3::{self, S3Url};
use crate::source::{self, decode, lookup_api, Input, Item, SourceError, Window};

/// Where the records come from.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// Files and folders (walked).
    Paths(Vec<PathBuf>),
    /// Standard input.
    Stdin,
}

/// Every source of one run: local inputs, trail objects in S3, the LookupEvents API.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub local: Option<Inputs>,
    pub s3: Vec<S3Url>,
    pub lookup_events: bool,
    pub aws: AwsOptions,
}

/// How to reach AWS for the live sources.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// Regions for LookupEvents and the trail layout (empty: the configured region; all for S3).
    pub regions: Vec<String>,
    /// Accounts of the trail layout to read (empty: all).
    pub accounts: Vec<String>,
    /// S3 downloads in flight at once.
    pub concurrency: usize,
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
    /// The record holds request parameters (failed calls often have none).
    pub request_logged: bool,
    pub resolution: Resolution,
    /// The input and the record's position in it.
    pub source: RecordSource,
}

/// Where a record was read: the input (shared by all its records) and the position in it.
/// Displays as `path:line 3`, `path:record 12`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordSource {
    pub input: Arc<str>,
    pub position: decode::Position,
}

impl std::fmt::Display for RecordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.input, self.position)
    }
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
        count(&mut self.skipped_by_reason, reason);
    }

    /// An input that yielded nothing because it could not be read.
    fn unreadable(source: String, reason: String) -> Self {
        let mut t = Tally {
            inputs: 1,
            ..Tally::default()
        };
        t.reject(source, reason);
        t
    }

    fn reject(&mut self, source: String, reason: String) {
        self.read += 1;
        self.rejected += 1;
        self.rejections.push(Problem { source, reason });
    }

    /// Counts a source that could not be read at all.
    pub fn add_unreadable(&mut self, source: String, reason: String) {
        self.merge(Tally::unreadable(source, reason));
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

/// How far ahead of the oldest unfinished file the workers may go: results that wait for an
/// earlier file to finish are held, so this bounds the memory held at once.
const AHEAD_PER_WORKER: usize = 4;

/// One run over any number of inputs: decodes and resolves each, counts every record, turns
/// each resolved event into the caller's output with `map` (on the worker threads, in
/// parallel), and hands the outputs to `sink` in input order. Local files, S3 objects and
/// LookupEvents pages all go through it.
pub struct Run<'r, M, F> {
    window: &'r Window,
    resolver: &'r Resolver<'r>,
    map: M,
    out: Output<F>,
}

/// Where finished inputs go: the caller's sink and the counts, in input order.
struct Output<F> {
    sink: F,
    tally: Tally,
}

impl<F> Output<F> {
    fn absorb<T>(&mut self, outputs: Vec<T>, tally: Tally)
    where
        F: FnMut(T),
    {
        self.tally.merge(tally);
        outputs.into_iter().for_each(&mut self.sink);
    }
}

/// Results of files that finished before an earlier one, waiting for their turn.
struct Reorder<'o, F, T> {
    out: &'o mut Output<F>,
    /// The index of the next file whose result goes to the sink.
    next: usize,
    waiting: BTreeMap<usize, (Vec<T>, Tally)>,
}

impl<'r, T, M, F> Run<'r, M, F>
where
    T: Send,
    M: Fn(ResolvedEvent) -> T + Sync,
    F: FnMut(T) + Send,
{
    pub fn new(window: &'r Window, resolver: &'r Resolver<'r>, map: M, sink: F) -> Self {
        Run {
            window,
            resolver,
            map,
            out: Output {
                sink,
                tally: Tally::default(),
            },
        }
    }

    /// Decodes and resolves one input read whole.
    pub fn input(&mut self, input: &Input) {
        let (events, tally) = process(input, self.window, self.resolver);
        let outputs: Vec<T> = events.into_iter().map(&self.map).collect();
        self.out.absorb(outputs, tally);
    }

    /// Reads, decodes and resolves files on all cores, handing results over in file order.
    ///
    /// Each worker takes the next file by index, so all workers stay near the front of the
    /// list; a result that finishes early waits in a reorder buffer, and a worker that gets
    /// [`AHEAD_PER_WORKER`] files per worker ahead of the oldest unfinished one waits too.
    /// Memory is bounded by the files in flight, never by the number of files.
    pub fn files(&mut self, files: &[PathBuf]) {
        let workers = rayon::current_num_threads().max(1);
        let ahead = workers * AHEAD_PER_WORKER;
        let taken = AtomicUsize::new(0);
        let reorder = Mutex::new(Reorder {
            out: &mut self.out,
            next: 0,
            waiting: BTreeMap::new(),
        });
        let turn = Condvar::new();
        let (window, resolver, map) = (self.window, self.resolver, &self.map);
        let work = || {
            let mut spare = Vec::new();
            loop {
                let index = taken.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(index) else {
                    return;
                };
                {
                    let mut state = reorder.lock().unwrap_or_else(|e| e.into_inner());
                    while index >= state.next + ahead {
                        state = turn.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                }
                // A panic must not leave the other workers waiting for this file forever: it
                // is caught (the hook has printed it) and the file counted as rejected.
                let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let input = source::read_file_reusing(path, std::mem::take(&mut spare))
                        .map_err(|err| format!("cannot read: {err}"))?;
                    let (events, tally) = process(&input, window, resolver);
                    spare = input.bytes;
                    Ok((events.into_iter().map(map).collect(), tally))
                }))
                .unwrap_or_else(|_| {
                    Err("internal error while reading (a bug: please report it)".to_string())
                });
                let result = read.unwrap_or_else(|reason| {
                    (
                        Vec::new(),
                        Tally::unreadable(path.display().to_string(), reason),
                    )
                });
                let mut guard = reorder.lock().unwrap_or_else(|e| e.into_inner());
                let state = &mut *guard;
                state.waiting.insert(index, result);
                let mut advanced = false;
                while let Some((outputs, tally)) = state.waiting.remove(&state.next) {
                    state.out.absorb(outputs, tally);
                    state.next += 1;
                    advanced = true;
                }
                drop(guard);
                if advanced {
                    turn.notify_all();
                }
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(work);
            }
            work();
        });
    }

    /// Counts an input that could not be read at all (a bucket that denies access, say).
    pub fn unreadable(&mut self, source: String, reason: String) {
        self.out.tally.add_unreadable(source, reason);
    }

    /// The counts of everything this run read.
    pub fn finish(self) -> Tally {
        self.out.tally
    }
}

/// Runs every source of `plan`. Live sources that fail (a bucket or region that denies access)
/// are counted as rejected input with their reason; the rest of the run goes on.
pub fn run_plan<T: Send>(
    plan: &Plan,
    window: &Window,
    resolver: &Resolver,
    map: impl Fn(ResolvedEvent) -> T + Sync,
    sink: impl FnMut(T) + Send,
) -> Result<Tally, SourceError> {
    let mut run = Run::new(window, resolver, map, sink);
    match &plan.local {
        Some(Inputs::Stdin) => run.input(&source::read_stdin()?),
        Some(Inputs::Paths(paths)) => run.files(&source::discover(paths, window)?),
        None => {}
    }
    if plan.s3.is_empty() && !plan.lookup_events {
        return Ok(run.finish());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| SourceError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    runtime.block_on(async {
        let opts = &plan.aws;
        let config = crate::aws::load_config(
            opts.profile.as_deref(),
            opts.regions.first().map(String::as_str),
        )
        .await;
        let filter = s3::LayoutFilter {
            accounts: opts.accounts.clone(),
            regions: opts.regions.clone(),
        };
        for url in &plan.s3 {
            let client = crate::aws::s3_client(&config);
            match s3::list(&client, url, window, &filter).await {
                Ok(objects) => {
                    tracing::info!(url = %url, objects = objects.len(), "listed");
                    s3::read(
                        &client,
                        &url.bucket,
                        objects,
                        opts.concurrency,
                        |object| match object {
                            Ok(input) => run.input(&input),
                            Err((source, reason)) => run.unreadable(source, reason),
                        },
                    )
                    .await
                }
                Err(reason) => run.unreadable(url.to_string(), reason),
            }
        }
        if plan.lookup_events {
            for region in crate::aws::regions(&config, &opts.regions) {
                let client = aws_sdk_cloudtrail::Client::from_conf(
                    aws_sdk_cloudtrail::config::Builder::from(&config)
                        .region(aws_config::Region::new(region.clone()))
                        .build(),
                );
                let pulled =
                    lookup_api::pull(&client, &region, window, lookup_api::MIN_INTERVAL, |page| {
                        run.input(&page)
                    })
                    .await;
                if let Err(reason) = pulled {
                    run.unreadable(format!("lookup-events:{region}"), reason);
                }
            }
        }
    });
    Ok(run.finish())
}

/// Reads, decodes and resolves every record of local `inputs`, handing each resolved event to
/// `sink` in input order. Fails only when an input named by the user cannot be found.
pub fn run(
    inputs: &Inputs,
    window: &Window,
    resolver: &Resolver,
    sink: impl FnMut(ResolvedEvent) + Send,
) -> Result<Tally, SourceError> {
    let plan = Plan {
        local: Some(inputs.clone()),
        ..Plan::default()
    };
    run_plan(&plan, window, resolver, |event| event, sink)
}

/// Adds one to `reason`'s count, allocating its name only the first time.
fn count(counts: &mut BTreeMap<String, u64>, reason: &str) {
    match counts.get_mut(reason) {
        Some(n) => *n += 1,
        None => {
            counts.insert(reason.to_string(), 1);
        }
    }
}

/// Decodes and resolves one input.
pub fn process(input: &Input, window: &Window, resolver: &Resolver) -> (Vec<ResolvedEvent>, Tally) {
    let mut tally = Tally {
        inputs: 1,
        ..Tally::default()
    };
    let items = decode(&input.bytes, input.damage.as_deref());
    let mut events = Vec::with_capacity(items.len());
    let at = |position: decode::Position| format!("{}:{position}", input.name);
    let input_name: Arc<str> = Arc::from(input.name.as_str());
    for item in items {
        match item {
            Item::Skipped { reason, .. } => tally.skip(&reason),
            Item::Rejected { position, reason } => tally.reject(at(position), reason),
            Item::Record(mut record) => {
                let parsed = match record.event.take() {
                    Some(event) => Ok(event),
                    None => Event::parse(&record.json),
                };
                let event = match parsed {
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
                        count(&mut tally.unresolved_by_reason, reason.code());
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
                    request_logged: event.request_parameters.is_some_and(|r| r.get() != "{}"),
                    resolution,
                    source: RecordSource {
                        input: input_name.clone(),
                        position: record.position,
                    },
                });
            }
        }
    }
    (events, tally)
}
