//! The record buckets every stage reports into: each record read lands in exactly one of
//! resolved, unresolved, skipped or rejected, so `read` is always their sum; inputs that could
//! not be read at all are rejected with where and why ([`Problem`]).
//!
//! A leaf module: it imports no other stage, so every stage may count into it.

use std::collections::BTreeMap;

use serde::Serialize;

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
    pub fn merge(&mut self, other: Tally) {
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

    pub fn skip(&mut self, reason: &str) {
        self.read += 1;
        self.skipped += 1;
        count(&mut self.skipped_by_reason, reason);
    }

    /// An input that yielded nothing because it could not be read.
    pub fn unreadable(source: String, reason: String) -> Self {
        let mut t = Tally {
            inputs: 1,
            ..Tally::default()
        };
        t.reject(source, reason);
        t
    }

    pub fn reject(&mut self, source: String, reason: String) {
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

    /// Counts an unresolved record under its reason code.
    pub fn unresolve(&mut self, code: &str) {
        self.read += 1;
        self.unresolved += 1;
        count(&mut self.unresolved_by_reason, code);
    }

    /// A record counted as resolved (or unresolved, under `unresolved`'s code) that proved to
    /// be skipped after all, for `reason`: moved to skipped.
    pub fn skip_instead(&mut self, unresolved: Option<&str>, reason: &str) {
        match unresolved {
            None => self.resolved -= 1,
            Some(code) => {
                self.unresolved -= 1;
                if let Some(n) = self.unresolved_by_reason.get_mut(code) {
                    *n -= 1;
                    if *n == 0 {
                        self.unresolved_by_reason.remove(code);
                    }
                }
            }
        }
        self.read -= 1;
        self.skip(reason);
    }

    /// Counts a resolved record.
    pub fn resolve(&mut self) {
        self.read += 1;
        self.resolved += 1;
    }
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
