//! Any bytes as one input (plain or gzip, any container): read, decoded, resolved with the
//! built-in rule pack, and counted. Every record lands in exactly one bucket.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tagtrail::pipeline::process;
use tagtrail::resolve::{Resolver, Sources};
use tagtrail::ruleset::RuleSet;
use tagtrail::source::{Pending, Window};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("the built-in pack loads"))
}

fuzz_target!(|data: &[u8]| {
    let pending = Pending::Fetched {
        name: "fuzz".into(),
        raw: data.to_vec(),
    };
    // 16 MiB: a gzip bomb is refused, not held.
    let Ok(input) = pending.load(Vec::new(), 16 << 20) else {
        return;
    };
    let resolver = Resolver {
        rules: rules(),
        index: None,
        sources: Sources::default(),
    };
    let (events, tally) = process(&input, &Window::default(), &resolver, |event| event);
    assert!(tally.is_consistent(), "{tally:?}");
    assert_eq!(events.len() as u64, tally.resolved + tally.unresolved);
});
