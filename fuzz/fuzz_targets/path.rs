//! A rule path and a JSON document (split at the first newline): parsed, then evaluated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtrail::ruleset::{JsonPath, Node};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, json) = text.split_once('\n').unwrap_or((text, "{}"));
    if let (Ok(path), Some(node)) = (JsonPath::parse(path), Node::parse(json)) {
        let values = path.select(&node);
        assert!(values.len() <= tagtrail::ruleset::MAX_PATH_VALUES);
    }
});
