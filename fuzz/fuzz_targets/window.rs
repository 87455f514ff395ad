//! Any text as `--since`/`--until`: a time or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtrail::source::window::parse_instant;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap();
    let _ = parse_instant(text, now);
    let _ = tagtrail::source::window::parse_event_time(text);
});
