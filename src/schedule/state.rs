//! What a scheduled scan remembers between runs, and nothing more: per stream of the trail
//! layout, the day folders still open and the files read in them; the findings reported
//! while a duplicate of their event may still arrive; digests waiting for their log files;
//! a run that committed but had not yet moved its reports in place.
//!
//! CloudTrail delivers within minutes but with no documented maximum and not in key order,
//! and a day folder is the day a file was published. So a folder stays open, re-listed from
//! its start on every run, until it is older than the lookback; then only the fact that it is
//! closed is kept (`closed_through`). The state grows with the open folders, never with the
//! bucket's history (see the year-long simulation in the tests).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::history::Carried;
use crate::report::FindingRow;
use crate::source::layout::TrailFile;

/// The state file's format; a newer one is refused rather than misread. 2 added `history`
/// (a state of version 1 is read, and written back as 2).
pub const VERSION: u32 = 2;

/// Everything a scheduled scan carries from one run to the next.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    /// Runs committed so far.
    #[serde(default)]
    pub runs: u64,
    /// Per stream (`…/CloudTrail/<region>/`, `…/CloudTrail-Digest/<region>/`).
    #[serde(default)]
    pub streams: BTreeMap<String, Stream>,
    /// Files outside the trail layout that were read, by name: they have no day to close.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub loose: BTreeSet<String>,
    /// Findings reported, by their event's day: the first 8 bytes of the SHA-256 of
    /// (event id, resource ARN, kind). Kept while a duplicate delivery may still arrive.
    #[serde(default)]
    pub reported: BTreeMap<NaiveDate, BTreeSet<u64>>,
    /// Digests read whose log files were not all read yet, by the digest's name.
    #[serde(default)]
    pub digests: BTreeMap<String, PendingDigest>,
    /// A run that committed and was moving its report files in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishing: Option<Publishing>,
    /// Tag changes and tagged sessions a later run's records may come after.
    #[serde(default, skip_serializing_if = "Carried::is_empty")]
    pub history: Carried,
    /// The digests' chain and what else the next run's integrity check continues from.
    #[serde(default, skip_serializing_if = "crate::integrity::Carried::is_empty")]
    pub integrity: crate::integrity::Carried,
    /// Notification batches not delivered yet (`[notify]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<crate::notify::Batch>,
}

/// One stream of the trail layout.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// Every day folder up to this one is closed: read, and never listed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_through: Option<NaiveDate>,
    /// The files read in each open day folder.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub open: BTreeMap<NaiveDate, BTreeSet<String>>,
}

/// A digest file whose hour is not complete yet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PendingDigest {
    /// The log stream it vouches for.
    pub logs: String,
    /// The digest's own day folder.
    pub day: NaiveDate,
    /// The hour it covers (`digestStartTime`, `digestEndTime`).
    pub start: String,
    pub end: String,
    /// The log files it lists that were not read yet: (day folder, name).
    pub waiting: Vec<(NaiveDate, String)>,
}

/// The report files of a committed run, staged, to be moved in place.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Publishing {
    pub run: String,
    /// Paths relative to the report root.
    pub files: Vec<String>,
}

/// A state file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{0}: not a tagtrail state file: {1}")]
    Parse(String, String),
    #[error("{0}: state format {1}, newer than this tagtrail reads ({VERSION}): upgrade tagtrail")]
    Newer(String, u32),
}

impl State {
    /// A state for a first run.
    pub fn new() -> Self {
        State {
            version: VERSION,
            ..State::default()
        }
    }

    /// Reads a state file's bytes; `name` is used in errors.
    pub fn from_json(bytes: &[u8], name: &str) -> Result<Self, StateError> {
        let state: State = serde_json::from_slice(bytes)
            .map_err(|e| StateError::Parse(name.to_string(), e.to_string()))?;
        if state.version > VERSION {
            return Err(StateError::Newer(name.to_string(), state.version));
        }
        Ok(State {
            version: VERSION,
            ..state
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A state of plain maps and strings always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The first day folder of `stream` still open; `None` for a stream never seen (read it
    /// all).
    pub fn first_open_day(&self, stream: &str) -> Option<NaiveDate> {
        self.streams
            .get(stream)?
            .closed_through
            .and_then(|day| day.succ_opt())
    }

    /// Whether a day folder is closed: nothing in it is read again.
    pub fn is_closed(&self, stream: &str, day: NaiveDate) -> bool {
        self.streams
            .get(stream)
            .and_then(|s| s.closed_through)
            .is_some_and(|closed| day <= closed)
    }

    /// Whether the file with this name (an S3 URL or a path) was read, or sits in a closed
    /// folder.
    pub fn is_read(&self, key: &str) -> bool {
        match TrailFile::parse(key) {
            Some(file) => {
                self.is_closed(file.stream, file.day)
                    || self
                        .streams
                        .get(file.stream)
                        .and_then(|s| s.open.get(&file.day))
                        .is_some_and(|names| names.contains(short_name(file.stream, file.name)))
            }
            None => self.loose.contains(key),
        }
    }

    /// Records that a file was read.
    pub fn mark_read(&mut self, key: &str) {
        match TrailFile::parse(key) {
            Some(file) if !self.is_closed(file.stream, file.day) => {
                self.streams
                    .entry(file.stream.to_string())
                    .or_default()
                    .open
                    .entry(file.day)
                    .or_default()
                    .insert(short_name(file.stream, file.name).to_string());
            }
            Some(_) => {}
            None => {
                self.loose.insert(key.to_string());
            }
        }
    }

    /// Closes every day folder up to `cutoff` of the streams listed in full from their first
    /// open day (a stream not listed this run may hold files not seen yet).
    pub fn close_through<'s>(
        &mut self,
        listed: impl IntoIterator<Item = &'s str>,
        cutoff: NaiveDate,
    ) {
        for name in listed {
            let stream = self.streams.entry(name.to_string()).or_default();
            if stream.closed_through.is_none_or(|closed| closed < cutoff) {
                stream.closed_through = Some(cutoff);
            }
            stream.open.retain(|day, _| *day > cutoff);
        }
    }

    /// True the first time a finding is seen across runs (and remembers it); false for a
    /// finding an earlier run reported. Findings without an event id are always new.
    pub fn first_report(&mut self, row: &FindingRow) -> bool {
        let (Some(_), Some(day)) = (row.event_id.as_deref(), row.event_time) else {
            return true;
        };
        // The first 8 bytes of the finding's digest (its id in OCSF and Security Hub).
        let digest = row.digest();
        let key = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
        self.reported
            .entry(day.date_naive())
            .or_default()
            .insert(key)
    }

    /// Forgets the findings of events before `keep_from`: a duplicate delivery of them could
    /// only come from a folder already closed.
    pub fn forget_reported_before(&mut self, keep_from: NaiveDate) {
        self.reported = self.reported.split_off(&keep_from);
    }

    /// Whether a log file listed by a digest was read: in its open day folder, or its folder
    /// is closed (nothing is known of it any more, and it was listed when it closed).
    pub fn digest_file_read(&self, logs: &str, day: NaiveDate, name: &str) -> bool {
        let Some(stream) = self.streams.get(logs) else {
            return false;
        };
        let name = short_name(logs, name);
        stream.closed_through.is_some_and(|closed| day <= closed)
            || stream.open.values().any(|names| names.contains(name))
    }
}

/// A file's name without what its stream already says: CloudTrail names every file
/// `<account>_CloudTrail_<region>_<time>_<unique>.json.gz` (digests `CloudTrail-Digest`),
/// so the state keeps `<time>_<unique>.json.gz`, half the size.
fn short_name<'n>(stream: &str, name: &'n str) -> &'n str {
    let mut parts = stream.trim_end_matches('/').rsplit('/');
    let (Some(region), Some(kind), Some(account)) = (parts.next(), parts.next(), parts.next())
    else {
        return name;
    };
    name.strip_prefix(account)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.strip_prefix(kind))
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.strip_prefix(region))
        .and_then(|rest| rest.strip_prefix('_'))
        .unwrap_or(name)
}

/// The day a log file listed by a digest sits in: its key's day folder when the digest gives
/// the key, else the digest's own day.
pub fn listed_day(object: &str, digest_day: NaiveDate) -> (NaiveDate, String) {
    match TrailFile::parse(object) {
        Some(file) => (file.day, file.name.to_string()),
        None => (
            digest_day,
            object.rsplit('/').next().unwrap_or(object).to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::layout;
    use chrono::{Duration, Timelike};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    const STREAM: &str = "s3://b/AWSLogs/1/CloudTrail/us-east-1/";

    fn key(d: u32, name: &str) -> String {
        format!("{}{name}", layout::day_path(STREAM, day(d)))
    }

    #[test]
    fn files_are_read_once_and_folders_close() {
        let mut state = State::new();
        assert!(!state.is_read(&key(20, "a")));
        assert_eq!(state.first_open_day(STREAM), None);
        state.mark_read(&key(20, "a"));
        state.mark_read(&key(21, "b"));
        state.mark_read("/tmp/loose.json");
        assert!(state.is_read(&key(20, "a")) && state.is_read("/tmp/loose.json"));
        assert!(!state.is_read(&key(20, "late")));
        state.close_through([STREAM], day(20));
        // Everything in a closed folder counts as read, late files too; the open one is kept.
        assert!(state.is_read(&key(20, "late")));
        assert!(!state.is_read(&key(21, "late")));
        assert_eq!(state.first_open_day(STREAM), Some(day(21)));
        assert_eq!(state.streams[STREAM].open.len(), 1);
        // A closed folder never moves back.
        state.close_through([STREAM], day(19));
        assert_eq!(state.streams[STREAM].closed_through, Some(day(20)));
        let again = State::from_json(&state.to_json(), "state").unwrap();
        assert_eq!(again, state);
        // Names are kept without what the stream says.
        let name = "1_CloudTrail_us-east-1_20261121T0005Z_x.json.gz";
        state.mark_read(&key(21, name));
        assert!(state.streams[STREAM].open[&day(21)].contains("20261121T0005Z_x.json.gz"));
        assert!(state.is_read(&key(21, name)));
        assert!(state.digest_file_read(STREAM, day(21), name));
    }

    #[test]
    fn refuses_other_files_and_newer_formats() {
        let err = State::from_json(b"{\"version\":1,\"extra\":2}", "s.json").unwrap_err();
        assert!(err.to_string().contains("s.json"), "{err}");
        assert!(err.to_string().contains("extra"), "{err}");
        let err = State::from_json(b"{\"version\":99}", "s.json").unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        // A state of the first format is read, and carries the current version on.
        let old = State::from_json(b"{\"version\":1}", "s.json").unwrap();
        assert_eq!(old.version, VERSION);
    }

    /// A year of hourly runs over an organisation-sized layout: the state's size depends on
    /// the open folders only. 20 streams (accounts × regions), a file every 5 minutes in each,
    /// 30 findings an hour, the default lookback of 2 days. Prints the sizes it measured.
    #[test]
    fn a_year_of_hourly_runs_keeps_the_state_small() {
        let streams: Vec<String> = (0..20)
            .map(|i| {
                format!(
                    "s3://trail/AWSLogs/o-org/{:012}/CloudTrail/us-east-1/",
                    100 + i
                )
            })
            .collect();
        let start = NaiveDate::from_ymd_opt(2025, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let lookback = Duration::days(2);
        let mut state = State::new();
        let mut sizes = BTreeMap::new();
        let mut finding = 0u64;
        for hour in 0..(365 * 24) {
            let now = start + Duration::hours(hour);
            for stream in &streams {
                for minute in (0..60).step_by(5) {
                    let published = now - Duration::minutes(60 - minute);
                    let name = format!(
                        "{}_CloudTrail_us-east-1_{}_{:016x}.json.gz",
                        stream.split('/').nth(5).unwrap(),
                        published.format("%Y%m%dT%H%MZ"),
                        hour * 100 + minute
                    );
                    state.mark_read(&format!(
                        "{}{name}",
                        layout::day_path(stream, published.date_naive())
                    ));
                }
            }
            for _ in 0..30 {
                finding += 1;
                let row = crate::report::rows::tests::row(
                    (now - Duration::minutes(30)).timestamp() - 1_700_000_000,
                    &format!("e-{finding}"),
                    crate::verdict::Kind::ProductMismatch,
                    Some("arn:aws:s3:::b"),
                );
                assert!(state.first_report(&row));
            }
            let cutoff = (now - lookback).date_naive().pred_opt().unwrap();
            state.close_through(streams.iter().map(String::as_str), cutoff);
            state.forget_reported_before(cutoff);
            if now.hour() == 12 && [30, 180, 364].contains(&(hour / 24)) {
                sizes.insert(hour / 24, state.to_json().len());
            }
        }
        println!("state size after a year of hourly runs (bytes, by day): {sizes:?}");
        let (day30, day364) = (sizes[&30], sizes[&364]);
        assert!(day364 < day30 + day30 / 10, "{sizes:?}");
        assert!(day364 < 2 << 20, "{sizes:?}");
    }
}
