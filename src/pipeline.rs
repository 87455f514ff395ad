//! The stages wired together: inputs → decode → event → resolve, in parallel, with every
//! record counted in exactly one bucket.
//!
//! Inputs of every kind (local files, stdin, S3 objects and LookupEvents pages from
//! `source::live`) are [`Pending`] units taken in order by workers on all cores, which read,
//! decompress, decode and resolve them; results are handed to the caller's sink in input
//! order, so output is deterministic and memory is bounded by the few inputs in flight. No I/O
//! of its own and no async: the live sources feed it through an iterator.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use tracing_indicatif::span_ext::IndicatifSpanExt;

use crate::event::{decode, Event, Item, Position, RecordSource};
use crate::integrity::Evidence;
use crate::resolve::{ResolvedEvent, Resolver};
#[cfg(feature = "aws")]
use crate::source::live::Live;
use crate::source::{self, Input, Pending, SourceError, Window};
use crate::tally::{Problem, Tally};

/// Local inputs.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// Files and folders (walked).
    Paths(Vec<PathBuf>),
    /// Standard input.
    Stdin,
}

/// Every source of one run: local inputs, and the live ones (S3, LookupEvents).
#[derive(Debug, Clone)]
pub struct Plan {
    pub local: Option<Inputs>,
    #[cfg(feature = "aws")]
    pub live: Option<Live>,
    /// What one input may inflate to; larger ones are rejected.
    pub max_file_bytes: usize,
    /// Gathers the integrity evidence of trail files (digests, and the hashes of the log files
    /// they vouch for) as they are read.
    pub integrity: Option<Arc<Evidence>>,
}

impl Plan {
    /// Whether the plan reads inputs that can be read once only: standard input, S3,
    /// LookupEvents.
    pub fn reads_once(&self) -> bool {
        #[cfg(feature = "aws")]
        let live = self.live.is_some();
        #[cfg(not(feature = "aws"))]
        let live = false;
        live || matches!(self.local, Some(Inputs::Stdin))
    }

    /// Local inputs only.
    pub fn local(inputs: Inputs) -> Self {
        Plan {
            local: Some(inputs),
            #[cfg(feature = "aws")]
            live: None,
            max_file_bytes: source::DEFAULT_MAX_FILE_BYTES,
            integrity: None,
        }
    }
}

/// Decides, before a record is resolved, whether it is skipped, and why (a duplicate, or a
/// record a pass does not need).
pub type Triage<'t> = dyn Fn(&Event) -> Option<&'static str> + Sync + 't;

/// Keeps every record.
pub fn keep_all(_: &Event) -> Option<&'static str> {
    None
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
    triage: &'r Triage<'r>,
    map: M,
    out: Output<F>,
    /// Where each input's integrity evidence goes, when it is gathered.
    evidence: Option<&'r Evidence>,
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
    M: Fn(ResolvedEvent, &Event, &str) -> T + Sync,
    F: FnMut(T) + Send,
{
    /// A run that hands `map` each resolved event with the record it came from.
    pub fn new(window: &'r Window, resolver: &'r Resolver<'r>, map: M, sink: F) -> Self {
        Run {
            window,
            resolver,
            triage: &keep_all,
            map,
            out: Output {
                sink,
                tally: Tally::default(),
            },
            evidence: None,
        }
    }

    /// Skips the records `triage` names a reason for, before they are resolved.
    pub fn with_triage(mut self, triage: &'r Triage<'r>) -> Self {
        self.triage = triage;
        self
    }

    /// Reads, decodes and resolves `pending` inputs on all cores, handing results over in
    /// input order.
    ///
    /// Each worker takes the next input in order, so all workers stay near the front; a result
    /// that finishes early waits in a reorder buffer, and a worker that gets
    /// [`AHEAD_PER_WORKER`] inputs per worker ahead of the oldest unfinished one waits too.
    /// Memory is bounded by the inputs in flight, never by their number. A worker that waits
    /// for a live source to deliver its next input holds the queue: the others wait with it.
    pub fn pending(
        &mut self,
        pending: impl Iterator<Item = Pending> + Send,
        max_file_bytes: usize,
    ) {
        let workers = rayon::current_num_threads().max(1);
        let ahead = workers * AHEAD_PER_WORKER;
        let span = tracing::info_span!("read", "indicatif.pb_show" = tracing::field::Empty);
        if let (_, Some(known)) = pending.size_hint() {
            span.pb_set_length(known as u64);
        }
        span.pb_set_style(&source::progress_style("inputs"));
        let _entered = span.enter();
        let queue = Mutex::new(pending.enumerate());
        let reorder = Mutex::new(Reorder {
            out: &mut self.out,
            next: 0,
            waiting: BTreeMap::new(),
        });
        let turn = Condvar::new();
        let (window, resolver, triage, map) = (self.window, self.resolver, self.triage, &self.map);
        let evidence = self.evidence;
        let work = || {
            let mut spare = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some((index, pending)) = next else {
                    return;
                };
                {
                    let mut state = reorder.lock().unwrap_or_else(|e| e.into_inner());
                    while index >= state.next + ahead {
                        state = turn.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                }
                let result = read_one(pending, &mut spare, max_file_bytes, &span, |input| {
                    if let Some(evidence) = evidence {
                        evidence.observe(&input.name, &input.bytes, input.signature.as_deref());
                    }
                    process(input, window, resolver, triage, map)
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
                span.pb_inc(1);
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

    /// The counts of everything this run read.
    pub fn finish(self) -> Tally {
        self.out.tally
    }
}

/// Runs every source of `plan`: local inputs first, then the live ones. Live sources that
/// fail (a bucket or region that denies access) are counted as rejected input with their
/// reason; the rest of the run goes on.
pub fn run_plan<T: Send>(
    plan: &Plan,
    window: &Window,
    resolver: &Resolver,
    triage: &Triage,
    map: impl Fn(ResolvedEvent, &Event, &str) -> T + Sync,
    sink: impl FnMut(T) + Send,
) -> Result<Tally, SourceError> {
    let mut run = Run::new(window, resolver, map, sink).with_triage(triage);
    let max = plan.max_file_bytes;
    if let Some(Inputs::Paths(paths)) = &plan.local {
        let found = source::discover(paths, window)?;
        // Log files are hashed only where digests vouch for them: digests among the inputs, or
        // a chain earlier runs began (their digests arrive with a later run).
        let digests = |p: &Pending| matches!(p, Pending::File(path) if path.to_string_lossy().contains("/CloudTrail-Digest/"));
        run.evidence = plan
            .integrity
            .as_deref()
            .filter(|evidence| evidence.has_digests() || found.iter().any(digests));
        run.pending(found.into_iter(), max);
    }
    // S3 objects are hashed whenever evidence is gathered: their digests come later in the
    // listing than their logs.
    run.evidence = plan.integrity.as_deref();
    if let Some(Inputs::Stdin) = &plan.local {
        run.pending(std::iter::once(source::read_stdin(max)?), max);
    }
    #[cfg(feature = "aws")]
    if let Some(sources) = &plan.live {
        run.pending(sources.stream(window), max);
    }
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
    run_plan(
        &Plan::local(inputs.clone()),
        window,
        resolver,
        &keep_all,
        |event, _, _| event,
        sink,
    )
}

/// Loads one input (into `spare`'s memory, which it gets back) and hands it to `handle`. A
/// panic must not leave the other workers waiting for this input forever: it is caught (the
/// hook has printed it) and the input counted as rejected, like one that cannot be read.
fn read_one<T>(
    pending: Pending,
    spare: &mut Vec<u8>,
    max_file_bytes: usize,
    span: &tracing::Span,
    handle: impl FnOnce(&Input) -> (Vec<T>, Tally),
) -> (Vec<T>, Tally) {
    let name = pending.name();
    let _input = tracing::debug_span!(parent: span, "input", name).entered();
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let input = pending.load(std::mem::take(spare), max_file_bytes)?;
        let handled = handle(&input);
        *spare = input.bytes;
        Ok(handled)
    }))
    .unwrap_or_else(|_| {
        Err(Problem {
            source: name,
            reason: "internal error while reading (a bug: please report it)".into(),
        })
    });
    read.unwrap_or_else(|problem: Problem| {
        (
            Vec::new(),
            Tally::unreadable(problem.source, problem.reason),
        )
    })
}

/// Decodes and resolves one input, turning each resolved event into the caller's output with
/// `map` as soon as it is made: a large input never holds all its resolved events at once.
/// Records `triage` names a reason for are counted as skipped, unresolved.
pub fn process<T>(
    input: &Input,
    window: &Window,
    resolver: &Resolver,
    triage: &Triage,
    map: impl Fn(ResolvedEvent, &Event, &str) -> T,
) -> (Vec<T>, Tally) {
    let mut tally = Tally {
        inputs: 1,
        ..Tally::default()
    };
    let items = decode(&input.bytes, input.damage.as_deref());
    let mut events = Vec::with_capacity(items.len());
    let at = |position: Position| format!("{}:{position}", input.name);
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
                if let Some(reason) = triage(&event) {
                    tally.skip(reason);
                    continue;
                }
                let resolution = resolver.resolve(&event, &record.json, &record.lookup);
                match &resolution.unresolved {
                    None => tally.resolve(),
                    Some(reason) => tally.unresolve(reason.code()),
                }
                let source = RecordSource {
                    input: input_name.clone(),
                    position: record.position,
                };
                let resolved = ResolvedEvent::new(&event, event_time, resolution, source);
                events.push(map(resolved, &event, &record.json));
            }
        }
    }
    (events, tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Sources;
    use crate::ruleset::RuleSet;

    /// The built-in rules, loaded once for all tests.
    fn resolver() -> Resolver<'static> {
        static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
        Resolver {
            rules: RULES.get_or_init(|| RuleSet::builtin().unwrap()),
            index: None,
            sources: Sources::default(),
        }
    }

    fn record(id: usize) -> String {
        format!(
            r#"{{"eventID":"e{id}","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventTime":"2026-11-01T00:00:00Z"}}"#
        )
    }

    /// Many small inputs finish out of order on several workers; the sink sees them in input
    /// order, each input's records in record order, and every record is counted.
    #[test]
    fn results_reach_the_sink_in_input_order() {
        let resolver = resolver();
        let window = Window::default();
        // Inputs of very different sizes, so that later ones often finish first.
        let inputs: Vec<Pending> = (0..64)
            .map(|i| {
                let lines: Vec<String> = (0..(1 + (i * 37) % 200))
                    .map(|j| record(i * 1000 + j))
                    .collect();
                Pending::fetched(format!("in{i}"), lines.join("\n").into_bytes())
            })
            .collect();
        let expected: Vec<String> = (0..64)
            .flat_map(|i: usize| {
                (0..(1 + (i * 37) % 200)).map(move |j| format!("e{}", i * 1000 + j))
            })
            .collect();
        let mut seen = Vec::new();
        let mut run = Run::new(
            &window,
            &resolver,
            |e: ResolvedEvent, _: &Event, _: &str| e.event_id,
            |id| seen.push(id.unwrap()),
        );
        run.pending(inputs.into_iter(), source::DEFAULT_MAX_FILE_BYTES);
        let tally = run.finish();
        assert_eq!(seen, expected);
        assert_eq!(tally.read as usize, expected.len());
        assert_eq!(tally.inputs, 64);
        assert!(tally.is_consistent());
    }

    /// A panic while handling one input (here in the caller's `map`) rejects that input with a
    /// message naming it; the other inputs go on, in order, and no worker waits forever.
    #[test]
    fn a_panic_rejects_its_input_and_the_run_goes_on() {
        let resolver = resolver();
        let window = Window::default();
        let inputs = (0..20).map(|i| Pending::fetched(format!("in{i}"), record(i).into_bytes()));
        let mut seen = Vec::new();
        let mut run = Run::new(
            &window,
            &resolver,
            |e: ResolvedEvent, _: &Event, _: &str| {
                assert_ne!(e.event_id.as_deref(), Some("e7"), "a bug while judging");
                e.event_id.unwrap()
            },
            |id| seen.push(id),
        );
        run.pending(inputs, source::DEFAULT_MAX_FILE_BYTES);
        let tally = run.finish();
        let expected: Vec<String> = (0..20)
            .filter(|&i| i != 7)
            .map(|i| format!("e{i}"))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(tally.rejected, 1);
        assert_eq!(tally.rejections[0].source, "in7");
        assert!(tally.rejections[0].reason.contains("internal error"));
        assert!(tally.is_consistent());
    }

    /// Pieces real inputs are made of: records, records of other shapes, digests, damage.
    fn piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..1000).prop_map(record),
            Just(
                r#"{"Records":[{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances"}]}"#
                    .to_string()
            ),
            Just(r#"{"digestStartTime":"2026-11-01T00:00:00Z","logFiles":[]}"#.to_string()),
            Just(r#"{"eventSource": 3}"#.to_string()),
            Just(
                r#"{"eventVersion":"1.08","eventCategory":"Insight","insightDetails":{}}"#
                    .to_string()
            ),
            Just("[1, 2".to_string()),
            Just("not json".to_string()),
            Just(String::new()),
            "[ -~]{0,40}",
        ]
    }

    proptest::proptest! {
        /// For any sequence of inputs, whole or cut short, gzipped or not: every record read
        /// lands in exactly one bucket, every input is counted, and the sink gets exactly the
        /// resolved and unresolved records.
        #[test]
        fn every_record_read_lands_in_exactly_one_bucket(
            inputs in proptest::collection::vec(
                (proptest::collection::vec(piece(), 0..6), proptest::bool::ANY, 0usize..3, proptest::collection::vec(proptest::num::u8::ANY, 0..8)),
                0..12,
            )
        ) {
            let resolver = resolver();
            let window = Window::default();
            let count = inputs.len();
            let pending = inputs.into_iter().enumerate().map(|(i, (pieces, gzip, cut, noise))| {
                let mut raw = pieces.join("\n").into_bytes();
                if gzip {
                    use std::io::Write;
                    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    enc.write_all(&raw).unwrap();
                    raw = enc.finish().unwrap();
                }
                // Cut short, or followed by noise: damage of either kind.
                match cut {
                    1 => raw.truncate(raw.len() / 2),
                    2 => raw.extend(&noise),
                    _ => {}
                }
                Pending::fetched(format!("in{i}"), raw)
            });
            let mut emitted = 0u64;
            let mut run = Run::new(&window, &resolver, |_, _: &Event, _: &str| (), |()| emitted += 1);
            run.pending(pending, 1 << 20);
            let tally = run.finish();
            proptest::prop_assert!(tally.is_consistent(), "{tally:?}");
            proptest::prop_assert_eq!(tally.inputs as usize, count);
            proptest::prop_assert_eq!(emitted, tally.resolved + tally.unresolved);
        }
    }
}
