//! Any text as a rule file: checked (every problem reported, never a panic), and when it
//! parses, its own test cases run through the path evaluator and templates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtrail::ruleset::{testing, RuleSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = RuleSet::from_files(&[("fuzz.toml".to_string(), text.to_string())]) {
        let _ = testing::run_all(&set);
    }
});
