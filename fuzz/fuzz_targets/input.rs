//! Any bytes as one input (plain or gzip, any container): read, decoded, resolved with the
//! built-in rule pack, and counted (every record lands in exactly one bucket); then the scan's
//! history pass over it (tag calls, sessions, duplicates) and the history built from that.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tagtrail::event::Event;
use tagtrail::history::{self, History, TagCalls};
use tagtrail::inventory::TagKey;
use tagtrail::pipeline::{keep_all, process};
use tagtrail::resolve::{Resolver, Sources};
use tagtrail::ruleset::{LazyRecord, RuleSet};
use tagtrail::source::{Pending, Window};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("the built-in pack loads"))
}

fuzz_target!(|data: &[u8]| {
    let pending = Pending::fetched("fuzz", data.to_vec());
    // 16 MiB: a gzip bomb is refused, not held.
    let Ok(input) = pending.load(Vec::new(), 16 << 20) else {
        return;
    };
    let resolver = Resolver {
        rules: rules(),
        index: None,
        sources: Sources::default(),
    };
    let (events, tally) = process(&input, &Window::default(), &resolver, &keep_all, |e, _, _| e);
    assert!(tally.is_consistent(), "{tally:?}");
    assert_eq!(events.len() as u64, tally.resolved + tally.unresolved);

    let calls = TagCalls::builtin();
    let key = TagKey {
        key: "product".into(),
        case_insensitive: true,
    };
    let needed = |e: &Event| (!history::is_observed(e, calls)).then_some("not needed");
    let (observed, tally) = process(&input, &Window::default(), &resolver, &needed, |r, e, json| {
        history::observe(e, &LazyRecord::new(e, json), &r, calls, &key)
    });
    assert!(tally.is_consistent(), "{tally:?}");
    let history = History::build(observed.into_iter().flatten());
    let _ = history.counts();
});
