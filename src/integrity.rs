//! Evidence that the trail read is complete and untampered: CloudTrail's digest files (log
//! file integrity validation), checked while the trail is read.
//!
//! Every hour, per account and region, CloudTrail delivers a digest that lists the log files it
//! delivered in the hour, each with the SHA-256 of its uncompressed content, and names the
//! digest before it with that digest's SHA-256 (of its uncompressed content) and signature. A
//! digest's own signature (SHA256withRSA, hex, in the `signature` metadata of its S3 object)
//! signs [`string_to_sign`] with the region's private key; `ListPublicKeys` gives the public key
//! by the fingerprint the digest names.
//!
//! Checked here: each log file read against the digest that lists it; each digest against the
//! link the next one holds (its object, hash and signature); each digest's signature, when it
//! was read with its metadata and the key is known; and completeness: files a digest lists that
//! were not read, files read that no digest lists although digests of their hour arrived, and
//! digests a later digest names that were not found. A local copy has no S3 metadata: its
//! digests are chained by hash, and the newest digest of each stream is vouched for by its
//! signature alone, which cannot be checked there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::source::layout::{logs_of_digests, TrailFile};

/// A digest file, as CloudTrail writes it (the fields the checks read).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    pub aws_account_id: String,
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    #[serde(default)]
    pub digest_public_key_fingerprint: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<ListedLog>,
}

/// A log file a digest lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedLog {
    pub s3_bucket: String,
    pub s3_object: String,
    /// Hex SHA-256 of the file's uncompressed content.
    pub hash_value: String,
}

/// The data a digest's signature signs: its end time, `bucket/key`, the hex SHA-256 of its
/// uncompressed content, and the previous digest's signature (`null` at a chain's start).
pub fn string_to_sign(digest: &DigestFile, content_sha256: &str) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        digest.digest_end_time,
        digest.digest_s3_bucket,
        digest.digest_s3_object,
        content_sha256,
        digest
            .previous_digest_signature
            .as_deref()
            .unwrap_or("null")
    )
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The region of a stream (`…/<region>/`).
fn region_of(stream: &str) -> &str {
    stream
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

/// The part of a path or key from `AWSLogs/` on: what a local copy shares with the bucket.
pub fn layout_key(name: &str) -> Option<&str> {
    let name = name.strip_prefix("s3://").unwrap_or(name);
    name.rfind("AWSLogs/").map(|at| &name[at..])
}

/// CloudTrail's public keys by fingerprint (`ListPublicKeys`: PKCS#1 DER).
#[derive(Debug, Clone, Default)]
pub struct PublicKeys(pub BTreeMap<String, Vec<u8>>);

/// Whether `signature` (hex) is `key`'s SHA256withRSA signature of `message`.
#[cfg(feature = "aws")]
pub fn verify_signature(key: &[u8], message: &[u8], signature_hex: &str) -> bool {
    use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    let Some(signature) = from_hex(signature_hex) else {
        return false;
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(message, &signature)
        .is_ok()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A digest as read: where, its content's hash, and its signature when its S3 metadata was
/// read with it.
#[derive(Debug, Clone)]
pub struct ReadDigest {
    pub source: String,
    pub file: DigestFile,
    pub sha256: String,
    pub signature: Option<String>,
}

/// The newest digest of a stream that a run checked: the next run's first digest must name it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChainLink {
    /// Where it was read.
    pub source: String,
    /// Its `digestS3Object`.
    pub object: String,
    pub end: String,
    pub sha256: String,
    pub signature: Option<String>,
}

/// What earlier runs of an incremental scan leave for the next one to check against.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Carried {
    /// Log files read whose digest had not arrived: (name, SHA-256).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<(String, String)>,
    /// The newest digest checked, by stream.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub chain: BTreeMap<String, ChainLink>,
    /// CloudTrail's public keys fetched so far (hex DER, by fingerprint).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub public_keys: BTreeMap<String, String>,
}

impl Carried {
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty() && self.chain.is_empty() && self.public_keys.is_empty()
    }
}

/// What a run read, gathered by the workers as they read: each log file's hash (of the content
/// they inflate anyway) and each digest; and what earlier runs left (an incremental scan).
#[derive(Debug, Default)]
pub struct Evidence {
    read: Mutex<Read>,
}

#[derive(Debug, Default)]
struct Read {
    /// Each log file's name and hash.
    logs: Vec<(String, String)>,
    digests: Vec<ReadDigest>,
    /// Digest files that could not be parsed, with why.
    unreadable: Vec<Fault>,
    /// Left by earlier runs; `None` for a one-off scan.
    carried: Option<Carried>,
}

impl Evidence {
    /// Evidence for one run of an incremental scan, which continues what earlier runs read.
    /// Log files a digest lists that were not read are left to the schedule, which waits for
    /// them until their folder closes.
    pub fn continuing(carried: Carried) -> Self {
        Evidence {
            read: Mutex::new(Read {
                carried: Some(carried),
                ..Read::default()
            }),
        }
    }

    /// Notes one input, by its name: a log file of the trail layout is hashed, a digest file
    /// parsed (with its signature, when it was read from S3 with its metadata); anything else
    /// is not evidence.
    pub fn observe(&self, name: &str, content: &[u8], signature: Option<&str>) {
        let Some(key) = layout_key(name) else {
            return;
        };
        if key.contains("/CloudTrail-Digest/") {
            let parsed = serde_json::from_slice::<DigestFile>(content);
            let sha256 = sha256_hex(content);
            let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
            match parsed {
                Ok(file) => read.digests.push(ReadDigest {
                    source: name.to_string(),
                    file,
                    sha256,
                    signature: signature.map(str::to_string),
                }),
                Err(err) => read.unreadable.push(Fault {
                    object: name.to_string(),
                    detail: format!("not a digest file: {err}"),
                }),
            }
        } else if key.contains("/CloudTrail/") {
            let hash = sha256_hex(content);
            let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
            read.logs.push((name.to_string(), hash));
        }
    }

    /// The public keys known from earlier runs.
    pub fn known_keys(&self) -> PublicKeys {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let known = read.carried.iter().flat_map(|c| &c.public_keys);
        PublicKeys(
            known
                .filter_map(|(fingerprint, hex)| Some((fingerprint.clone(), from_hex(hex)?)))
                .collect(),
        )
    }

    /// The keys to fetch: the regions of digests read from S3 with a signature whose
    /// fingerprint `known` lacks, and the hours they span (first start, last end).
    pub fn keys_wanted(&self, known: &PublicKeys) -> Option<(BTreeSet<String>, String, String)> {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let mut regions = BTreeSet::new();
        let (mut start, mut end) = (String::new(), String::new());
        for digest in read.digests.iter().filter(|d| d.signature.is_some()) {
            let fingerprint = digest.file.digest_public_key_fingerprint.as_deref();
            if fingerprint.is_some_and(|f| known.0.contains_key(f)) {
                continue;
            }
            let Some(file) = TrailFile::parse(layout_key(&digest.source).unwrap_or_default())
            else {
                continue;
            };
            regions.insert(region_of(file.stream).to_string());
            if start.is_empty() || digest.file.digest_start_time < start {
                start = digest.file.digest_start_time.clone();
            }
            if digest.file.digest_end_time > end {
                end = digest.file.digest_end_time.clone();
            }
        }
        (!regions.is_empty()).then_some((regions, start, end))
    }

    /// Whether there is anything to check: a digest file read (parsed or not), or a chain
    /// that earlier runs began.
    pub fn has_digests(&self) -> bool {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let chained = read.carried.as_ref().is_some_and(|c| !c.chain.is_empty());
        !(read.digests.is_empty() && read.unreadable.is_empty()) || chained
    }

    /// Checks what was read. `expected` says whether an object (a key from `AWSLogs/` on)
    /// lies in what the run set out to read: a file a digest lists outside the window is not
    /// missing.
    pub fn check(&self, keys: Option<&PublicKeys>, expected: &dyn Fn(&str) -> bool) -> Integrity {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let mut logs = read.logs.clone();
        let empty = Carried::default();
        let carried = read.carried.as_ref().unwrap_or(&empty);
        logs.extend(carried.logs.iter().cloned());
        let continuing = read.carried.is_some();
        // An incremental scan's log files that a digest lists but that were not read yet are
        // the schedule's to wait for.
        let log_expected = |key: &str| !continuing && expected(key);
        let mut out = check(
            &logs,
            &read.digests,
            &read.unreadable,
            &carried.chain,
            keys,
            &log_expected,
            expected,
        );
        // What the next run continues from.
        if let Some(carried) = &read.carried {
            out.carry = Carried {
                logs: std::mem::take(&mut out.carry.logs),
                chain: carried
                    .chain
                    .clone()
                    .into_iter()
                    .chain(std::mem::take(&mut out.carry.chain))
                    .collect(),
                public_keys: keys
                    .map(|k| k.0.iter().map(|(f, der)| (f.clone(), hex(der))).collect())
                    .unwrap_or_else(|| carried.public_keys.clone()),
            };
        }
        out
    }
}

/// One object that failed a check, and how.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fault {
    pub object: String,
    pub detail: String,
}

/// The counts of one stream (an account's log files in one region).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StreamCounts {
    pub digests: u64,
    pub log_files_verified: u64,
    pub faults: u64,
}

/// The integrity of what a run read.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Integrity {
    /// Digest files read.
    pub digests: u64,
    /// Log files read whose hash matches the digest that lists them.
    pub log_files_verified: u64,
    /// Log files read whose hash differs from the digest's: modified after delivery. Their
    /// records are still counted and reported.
    pub log_files_modified: Vec<Fault>,
    /// Log files a digest lists that were not found.
    pub log_files_missing: Vec<Fault>,
    /// Log files read that no digest lists, although digests of their hour were read.
    pub log_files_not_in_any_digest: Vec<Fault>,
    /// Log files read after the newest digest of their stream: their digest has not arrived.
    pub log_files_awaiting_digest: u64,
    /// Log files read before the oldest digest of their stream, or in streams without digests.
    pub log_files_without_digests: u64,
    /// Digests a later digest names that were not found, and hours without a digest after
    /// the newest one although log files were delivered well after it.
    pub digests_missing: Vec<Fault>,
    /// Digests whose content, place or signature differs from what vouches for them.
    pub digests_invalid: Vec<Fault>,
    /// Digests whose signature was checked against CloudTrail's public key.
    pub signatures_verified: u64,
    /// Digests whose signature could not be checked (a local copy: no S3 metadata).
    pub signatures_not_verifiable: u64,
    /// Digests that start a chain (no previous digest: validation or logging was off before).
    pub chain_starts: u64,
    /// Per stream (`AWSLogs/<account>/CloudTrail/<region>/`).
    pub streams: BTreeMap<String, StreamCounts>,
    /// Why CloudTrail's public keys could not be had (`cloudtrail:ListPublicKeys`): the
    /// signatures of digests read from S3 went unchecked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_keys_unavailable: Vec<String>,
    /// What the next run of an incremental scan continues from.
    #[serde(skip)]
    pub carry: Carried,
}

impl Integrity {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        !(self.log_files_modified.is_empty()
            && self.log_files_missing.is_empty()
            && self.log_files_not_in_any_digest.is_empty()
            && self.digests_missing.is_empty()
            && self.digests_invalid.is_empty())
    }

    /// Whether every log file read is vouched for: no check failed, and no file lies outside
    /// the digests (a stream without digests, or hours before its first). Files whose digest
    /// has not arrived yet are not held against it.
    pub fn vouches_for_all(&self) -> bool {
        !self.failed()
            && self.log_files_without_digests == 0
            && self.public_keys_unavailable.is_empty()
    }

    /// Every fault, in one list.
    pub fn faults(&self) -> impl Iterator<Item = (&'static str, &Fault)> {
        [
            ("log file modified", &self.log_files_modified),
            ("log file missing", &self.log_files_missing),
            ("log file in no digest", &self.log_files_not_in_any_digest),
            ("digest missing", &self.digests_missing),
            ("digest invalid", &self.digests_invalid),
        ]
        .into_iter()
        .flat_map(|(what, faults)| faults.iter().map(move |f| (what, f)))
    }
}

/// The stream of a key of the layout (`AWSLogs/<account>/CloudTrail/<region>/`), digests
/// under their log stream's name.
fn stream_of(key: &str) -> Option<String> {
    TrailFile::parse(key).map(|file| logs_of_digests(file.stream))
}

/// The delivery time in a log file's name (`…_20261121T2355Z_…`), as `YYYY-MM-DDTHH:MM`.
fn delivered(key: &str) -> Option<String> {
    let name = key.rsplit('/').next()?;
    let stamp = name
        .split('_')
        .find(|part| part.len() == 14 && part.as_bytes()[8] == b'T' && part.ends_with('Z'))?;
    let digits = |r: std::ops::Range<usize>| {
        stamp
            .get(r)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    Some(format!(
        "{}-{}-{}T{}:{}",
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?
    ))
}

/// How long after a log file's delivery the digest of its hour is surely delivered: the hour
/// ends within one hour, and CloudTrail delivers the hour's digest after it.
const DIGEST_DELAY: chrono::TimeDelta = chrono::TimeDelta::hours(2);

/// `2026-11-21T23:59:00Z` → `2026-11-21T23:59`, as [`delivered`] writes times.
fn minute(time: &str) -> &str {
    time.get(..16).unwrap_or(time)
}

/// The checks. `log_expected` and `digest_expected` say whether a log file or digest not
/// found was to be read; `chain` holds the newest digest of each stream that earlier runs
/// checked.
fn check(
    logs: &[(String, String)],
    digests: &[ReadDigest],
    unreadable: &[Fault],
    chain: &BTreeMap<String, ChainLink>,
    keys: Option<&PublicKeys>,
    log_expected: &dyn Fn(&str) -> bool,
    digest_expected: &dyn Fn(&str) -> bool,
) -> Integrity {
    let mut out = Integrity {
        digests: digests.len() as u64,
        digests_invalid: unreadable.to_vec(),
        ..Integrity::default()
    };
    let fault = |object: &str, detail: String| Fault {
        object: object.to_string(),
        detail,
    };
    // Log files read, by key.
    let read: BTreeMap<&str, (&str, &str)> = logs
        .iter()
        .filter_map(|(name, hash)| Some((layout_key(name)?, (name.as_str(), hash.as_str()))))
        .collect();
    let mut listed: BTreeSet<&str> = BTreeSet::new();
    // Each stream's digest hours: the earliest start and the latest end.
    // An earlier run's newest digest: files delivered after it await theirs.
    let mut hours: BTreeMap<String, (String, String)> = chain
        .iter()
        .map(|(stream, link)| (stream.clone(), (link.end.clone(), link.end.clone())))
        .collect();
    // Every digest a link may name: those read, and the chain's ends from earlier runs.
    let by_key: BTreeMap<&str, (&str, &str, Option<&str>)> = chain
        .values()
        .map(|l| (&l.object, &l.source, &l.sha256, &l.signature))
        .chain(
            digests
                .iter()
                .map(|d| (&d.file.digest_s3_object, &d.source, &d.sha256, &d.signature)),
        )
        .filter_map(|(object, source, sha256, signature)| {
            Some((
                layout_key(object)?,
                (source.as_str(), sha256.as_str(), signature.as_deref()),
            ))
        })
        .collect();
    for digest in digests {
        let file = &digest.file;
        let stream = stream_of(&file.digest_s3_object).unwrap_or_default();
        out.streams.entry(stream.clone()).or_default().digests += 1;
        let span = hours
            .entry(stream.clone())
            .or_insert_with(|| (file.digest_start_time.clone(), file.digest_end_time.clone()));
        if file.digest_start_time < span.0 {
            span.0 = file.digest_start_time.clone();
        }
        if file.digest_end_time > span.1 {
            span.1 = file.digest_end_time.clone();
        }
        // Where it was read must be where CloudTrail put it.
        let placed = layout_key(&digest.source) == layout_key(&file.digest_s3_object);
        if !placed {
            out.digests_invalid.push(fault(
                &digest.source,
                format!(
                    "not where CloudTrail delivered it ({})",
                    file.digest_s3_object
                ),
            ));
        }
        verify_own_signature(digest, keys, &mut out);
        // The link to the previous digest.
        match &file.previous_digest_s3_object {
            Some(previous) => match layout_key(previous).and_then(|k| by_key.get(k)) {
                Some(&(source, sha256, signature)) => {
                    let hash = file.previous_digest_hash_value.as_deref();
                    if hash != Some(sha256) {
                        out.digests_invalid.push(fault(
                            source,
                            format!(
                                "its content differs from the SHA-256 the next digest holds for it ({})",
                                file.digest_s3_object
                            ),
                        ));
                    }
                    if let Some(signature) = signature {
                        if file.previous_digest_signature.as_deref() != Some(signature) {
                            out.digests_invalid.push(fault(
                                source,
                                format!(
                                    "its signature differs from the one the next digest holds for it ({})",
                                    file.digest_s3_object
                                ),
                            ));
                        }
                    }
                }
                // After the newest digest an earlier run checked, or in the window.
                None if match chain.get(&stream) {
                    Some(link) => layout_key(previous) > layout_key(&link.object),
                    None => layout_key(previous).is_some_and(digest_expected),
                } =>
                {
                    out.digests_missing.push(fault(
                        previous,
                        format!("named as the previous digest by {}", file.digest_s3_object),
                    ));
                }
                None => {}
            },
            None => out.chain_starts += 1,
        }
        // The log files it lists.
        for log in &file.log_files {
            let Some(key) = layout_key(&log.s3_object) else {
                continue;
            };
            listed.insert(key);
            match read.get(key) {
                Some((_, hash)) if *hash == log.hash_value => {
                    out.log_files_verified += 1;
                    out.streams
                        .entry(stream.clone())
                        .or_default()
                        .log_files_verified += 1;
                }
                Some((name, hash)) => out.log_files_modified.push(fault(
                    name,
                    format!(
                        "SHA-256 {hash}, the digest says {} ({})",
                        log.hash_value, file.digest_s3_object
                    ),
                )),
                None if log_expected(key) => out.log_files_missing.push(fault(
                    &format!("s3://{}/{}", log.s3_bucket, log.s3_object),
                    format!("listed by {}, not found", file.digest_s3_object),
                )),
                None => {}
            }
        }
    }
    // Each stream's newest digest, for the next run to continue the chain from.
    for digest in digests {
        let stream = stream_of(&digest.file.digest_s3_object).unwrap_or_default();
        let newer = out
            .carry
            .chain
            .get(&stream)
            .is_none_or(|link| digest.file.digest_end_time > link.end);
        if newer {
            out.carry.chain.insert(
                stream,
                ChainLink {
                    source: digest.source.clone(),
                    object: digest.file.digest_s3_object.clone(),
                    end: digest.file.digest_end_time.clone(),
                    sha256: digest.sha256.clone(),
                    signature: digest.signature.clone(),
                },
            );
        }
    }
    // Log files read that no digest lists; the first and last delivery after each stream's
    // newest digest.
    let mut awaiting: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (key, (name, hash)) in &read {
        if listed.contains(key) {
            continue;
        }
        let (Some(stream), Some(at)) = (stream_of(key), delivered(key)) else {
            out.log_files_without_digests += 1;
            continue;
        };
        match hours.get(&stream) {
            Some((start, end)) if at.as_str() >= minute(start) && at.as_str() < minute(end) => {
                out.log_files_not_in_any_digest.push(fault(
                    name,
                    format!("delivered {at}Z, in the hours the digests of {stream} cover"),
                ))
            }
            Some((_, end)) if at.as_str() >= minute(end) => {
                out.log_files_awaiting_digest += 1;
                out.carry.logs.push((name.to_string(), hash.to_string()));
                let (first, last) = awaiting
                    .entry(stream)
                    .or_insert_with(|| (at.clone(), at.clone()));
                if at < *first {
                    *first = at.clone();
                }
                if at > *last {
                    *last = at;
                }
            }
            _ => out.log_files_without_digests += 1,
        }
    }
    // The newest digests of a stream have no later one to name them: a log file after the
    // newest digest whose hour's digest was due before a later file was delivered means the
    // digests from that hour on are gone.
    for (stream, (first, last)) in awaiting {
        let time = |t: &str| NaiveDateTime::parse_from_str(minute(t), "%Y-%m-%dT%H:%M").ok();
        if let (Some(first_time), Some(last_time)) = (time(&first), time(&last)) {
            if last_time - first_time >= DIGEST_DELAY {
                out.digests_missing.push(fault(
                    &stream.replacen("/CloudTrail/", "/CloudTrail-Digest/", 1),
                    format!(
                        "no digest lists the log files delivered from {first}Z on, although \
                         files were delivered until {last}Z: the digest of {first}Z's hour was \
                         due by then",
                    ),
                ));
            }
        }
    }
    for faults in [
        &mut out.log_files_modified,
        &mut out.log_files_missing,
        &mut out.log_files_not_in_any_digest,
        &mut out.digests_missing,
        &mut out.digests_invalid,
    ] {
        faults.sort();
        faults.dedup();
    }
    let faults: Vec<String> = out.faults().map(|(_, f)| f.object.clone()).collect();
    for object in faults {
        if let Some(stream) = layout_key(&object).and_then(stream_of) {
            out.streams.entry(stream).or_default().faults += 1;
        }
    }
    out
}

/// Checks a digest's own signature, where its metadata was read and the key is known.
fn verify_own_signature(digest: &ReadDigest, keys: Option<&PublicKeys>, out: &mut Integrity) {
    if digest.signature.is_none() && digest.source.starts_with("s3://") {
        out.digests_invalid.push(Fault {
            object: digest.source.clone(),
            detail: "no signature in its S3 metadata: CloudTrail signs every digest it delivers"
                .into(),
        });
        return;
    }
    let (Some(signature), Some(keys)) = (&digest.signature, keys) else {
        out.signatures_not_verifiable += 1;
        return;
    };
    let fingerprint = digest
        .file
        .digest_public_key_fingerprint
        .as_deref()
        .unwrap_or("");
    let Some(key) = keys.0.get(fingerprint) else {
        out.digests_invalid.push(Fault {
            object: digest.source.clone(),
            detail: format!("no CloudTrail public key has its fingerprint `{fingerprint}`"),
        });
        return;
    };
    #[cfg(feature = "aws")]
    let valid = verify_signature(
        key,
        string_to_sign(&digest.file, &digest.sha256).as_bytes(),
        signature,
    );
    #[cfg(not(feature = "aws"))]
    let valid = {
        let _ = (key, signature);
        false
    };
    if valid {
        out.signatures_verified += 1;
    } else {
        out.digests_invalid.push(Fault {
            object: digest.source.clone(),
            detail: "its signature does not verify with CloudTrail's public key".into(),
        });
    }
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
    use serde_json::json;

    use super::*;

    const DAY: &str = "2026/11/21/";
    const LOGS: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/";
    const DIGESTS: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/";
    const FINGERPRINT: &str = "31e8b5433410dfb61a9dc45cc65b22ff";

    fn log_key(hour: u32, n: u32) -> String {
        format!(
            "{LOGS}{DAY}111122223333_CloudTrail_us-east-1_20261121T{hour:02}{:02}Z_f{n}.json.gz",
            10 + n * 20
        )
    }

    fn digest_key(hour: u32) -> String {
        format!("{DIGESTS}{DAY}111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261121T{:02}0000Z.json.gz", hour + 1)
    }

    /// Hours 9, 10 and 11 of a trail as CloudTrail delivers it: two log files an hour, a
    /// digest an hour listing them, chained to the one before and signed with `key`.
    #[derive(Clone)]
    struct Trail {
        logs: Vec<(String, Vec<u8>)>,
        digests: Vec<(String, Vec<u8>, String)>,
    }

    fn sign(key: &RsaKeyPair, message: &str) -> String {
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message.as_bytes(),
            &mut signature,
        )
        .unwrap();
        hex(&signature)
    }

    /// A digest of `hour` listing `logs`, after `previous` (its key, content and signature),
    /// as CloudTrail writes it.
    fn digest(
        hour: u32,
        logs: &[(String, Vec<u8>)],
        previous: Option<&(String, Vec<u8>, String)>,
    ) -> Vec<u8> {
        let value = json!({
            "awsAccountId": "111122223333",
            "digestStartTime": format!("2026-11-21T{hour:02}:00:00Z"),
            "digestEndTime": format!("2026-11-21T{:02}:00:00Z", hour + 1),
            "digestS3Bucket": "trail-bucket",
            "digestS3Object": digest_key(hour),
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.map(|_| "trail-bucket"),
            "previousDigestS3Object": previous.map(|p| p.0.clone()),
            "previousDigestHashValue": previous.map(|p| sha256_hex(&p.1)),
            "previousDigestHashAlgorithm": previous.map(|_| "SHA-256"),
            "previousDigestSignature": previous.map(|p| p.2.clone()),
            "logFiles": logs.iter().map(|(key, content)| json!({
                "s3Bucket": "trail-bucket", "s3Object": key,
                "hashValue": sha256_hex(content), "hashAlgorithm": "SHA-256",
            })).collect::<Vec<_>>(),
        });
        serde_json::to_vec(&value).unwrap()
    }

    fn trail(key: &RsaKeyPair) -> Trail {
        let mut trail = Trail {
            logs: Vec::new(),
            digests: Vec::new(),
        };
        for hour in 9..12 {
            let logs: Vec<(String, Vec<u8>)> = (0..2)
                .map(|n| {
                    (
                        log_key(hour, n),
                        format!(r#"{{"Records":[{{"eventID":"{hour}-{n}"}}]}}"#).into_bytes(),
                    )
                })
                .collect();
            let content = digest(hour, &logs, trail.digests.last());
            let file: DigestFile = serde_json::from_slice(&content).unwrap();
            let signature = sign(key, &string_to_sign(&file, &sha256_hex(&content)));
            trail.digests.push((digest_key(hour), content, signature));
            trail.logs.extend(logs);
        }
        trail
    }

    /// The evidence of reading `trail` from a local copy (`signed`: from S3, with metadata).
    fn read(trail: &Trail, signed: bool) -> Evidence {
        let evidence = Evidence::default();
        let place = if signed { "s3://trail-bucket" } else { "copy" };
        for (key, content) in &trail.logs {
            evidence.observe(&format!("{place}/{key}"), content, None);
        }
        for (key, content, signature) in &trail.digests {
            let signature = signed.then_some(signature.as_str());
            evidence.observe(&format!("{place}/{key}"), content, signature);
        }
        evidence
    }

    fn keys(key: &RsaKeyPair) -> PublicKeys {
        PublicKeys(BTreeMap::from([(
            FINGERPRINT.to_string(),
            key.public_key().as_ref().to_vec(),
        )]))
    }

    fn key() -> RsaKeyPair {
        RsaKeyPair::generate(KeySize::Rsa2048).unwrap()
    }

    fn everything(_: &str) -> bool {
        true
    }

    fn objects(faults: &[Fault]) -> Vec<&str> {
        faults
            .iter()
            .map(|f| layout_key(&f.object).unwrap_or(&f.object))
            .collect()
    }

    #[test]
    fn an_intact_trail_passes_signed_and_as_a_local_copy() {
        let key = key();
        let trail = trail(&key);
        let signed = read(&trail, true).check(Some(&keys(&key)), &everything);
        assert!(!signed.failed(), "{signed:#?}");
        assert_eq!(
            (
                signed.digests,
                signed.log_files_verified,
                signed.signatures_verified
            ),
            (3, 6, 3)
        );
        assert_eq!(signed.chain_starts, 1);
        let local = read(&trail, false).check(None, &everything);
        assert!(!local.failed(), "{local:#?}");
        assert_eq!(
            (local.log_files_verified, local.signatures_not_verifiable),
            (6, 3)
        );
        assert_eq!(local.streams[LOGS].log_files_verified, 6);
    }

    #[test]
    fn a_modified_a_deleted_and_an_extra_log_file_are_found() {
        let key = key();
        let mut trail = trail(&key);
        trail.logs[1].1.extend_from_slice(b" ");
        let deleted = trail.logs.remove(2).0;
        let extra =
            format!("{LOGS}{DAY}111122223333_CloudTrail_us-east-1_20261121T1015Z_x.json.gz");
        trail.logs.push((extra.clone(), b"{}".to_vec()));
        // Delivered after the newest digest: waiting for its digest, not a fault.
        let late = format!("{LOGS}{DAY}111122223333_CloudTrail_us-east-1_20261121T1205Z_y.json.gz");
        trail.logs.push((late, b"{}".to_vec()));
        let found = read(&trail, false).check(None, &everything);
        assert_eq!(objects(&found.log_files_modified), [log_key(9, 1)]);
        assert_eq!(objects(&found.log_files_missing), [deleted.as_str()]);
        assert_eq!(
            objects(&found.log_files_not_in_any_digest),
            [extra.as_str()]
        );
        assert_eq!(found.log_files_awaiting_digest, 1);
        assert!(found.failed());
        assert_eq!(found.streams[LOGS].faults, 3);
        // A listed file outside what the run set out to read is not missing.
        let deleted_day = |key: &str| key != deleted;
        let found = read(&trail, false).check(None, &deleted_day);
        assert!(found.log_files_missing.is_empty());
    }

    #[test]
    fn a_forged_digest_breaks_its_signature_and_the_chain() {
        let key = key();
        let mut trail = trail(&key);
        // The middle digest rewritten without a log file it listed, not signed again.
        let logs: Vec<_> = trail.logs[2..3].to_vec();
        let previous = trail.digests[0].clone();
        trail.digests[1].1 = digest(10, &logs, Some(&previous));
        let signed = read(&trail, true).check(Some(&keys(&key)), &everything);
        let invalid = objects(&signed.digests_invalid);
        assert_eq!(invalid, [digest_key(10), digest_key(10)], "{signed:#?}");
        assert!(signed
            .digests_invalid
            .iter()
            .any(|f| f.detail.contains("signature does not verify")));
        // A local copy: the next digest's hash of it no longer matches.
        let local = read(&trail, false).check(None, &everything);
        assert_eq!(objects(&local.digests_invalid), [digest_key(10)]);
        assert!(local.digests_invalid[0]
            .detail
            .contains("SHA-256 the next digest holds"));
    }

    #[test]
    fn a_deleted_digest_breaks_the_chain() {
        let key = key();
        let mut trail = trail(&key);
        trail.digests.remove(1);
        let found = read(&trail, true).check(Some(&keys(&key)), &everything);
        assert_eq!(objects(&found.digests_missing), [digest_key(10)]);
        // Its log files are now in no digest read.
        assert_eq!(found.log_files_not_in_any_digest.len(), 2);
        assert!(found.failed());
    }

    #[test]
    fn a_wrong_or_unknown_key_fails_every_signature() {
        let trail = trail(&key());
        let wrong = read(&trail, true).check(Some(&keys(&key())), &everything);
        assert_eq!(wrong.digests_invalid.len(), 3, "{wrong:#?}");
        assert_eq!(wrong.signatures_verified, 0);
        let unknown = read(&trail, true).check(Some(&PublicKeys::default()), &everything);
        assert!(unknown
            .digests_invalid
            .iter()
            .all(|f| f.detail.contains("fingerprint")));
    }

    /// Two runs of an incremental scan: the first reads the digests of 9:00 and 10:00 and
    /// every log file; the second only the digest of 11:00.
    fn two_runs(trail: &Trail, keys: &PublicKeys, second: &[usize]) -> Integrity {
        let first = Evidence::continuing(Carried::default());
        for (key, content) in &trail.logs {
            first.observe(&format!("s3://trail-bucket/{key}"), content, None);
        }
        for (key, content, signature) in &trail.digests[..2] {
            first.observe(
                &format!("s3://trail-bucket/{key}"),
                content,
                Some(signature),
            );
        }
        let found = first.check(Some(keys), &everything);
        assert!(!found.failed(), "{found:#?}");
        // Those after 11:00 await their digest.
        assert_eq!(
            found.log_files_awaiting_digest as usize,
            trail.logs.len() - 4
        );
        let then = Evidence::continuing(found.carry);
        assert_eq!(then.known_keys().0, keys.0, "the keys are carried");
        for &i in second {
            let (key, content, signature) = &trail.digests[i];
            then.observe(
                &format!("s3://trail-bucket/{key}"),
                content,
                Some(signature),
            );
        }
        then.check(Some(keys), &everything)
    }

    #[test]
    fn an_incremental_scan_keeps_the_chain_and_the_hashes_across_runs() {
        let key = key();
        let trail = trail(&key);
        let next = two_runs(&trail, &keys(&key), &[2]);
        assert!(!next.failed(), "{next:#?}");
        assert_eq!(
            (
                next.log_files_verified,
                next.signatures_verified,
                next.chain_starts
            ),
            (2, 1, 0),
            "the files of 11:00, read by the first run, checked by the second"
        );
        assert_eq!(next.carry.chain[LOGS].object, digest_key(11));
        assert!(next.carry.logs.is_empty());

        // The digest the first run ended on, forged in between: its hash no longer matches.
        let mut forged = trail.clone();
        forged.digests[1].1.extend_from_slice(b" ");
        let first = Evidence::continuing(Carried::default());
        for (k, content, signature) in &forged.digests[..2] {
            first.observe(&format!("s3://trail-bucket/{k}"), content, Some(signature));
        }
        let carry = first.check(Some(&keys(&key)), &everything).carry;
        let then = Evidence::continuing(carry);
        let (k, content, signature) = &trail.digests[2];
        then.observe(&format!("s3://trail-bucket/{k}"), content, Some(signature));
        let found = then.check(Some(&keys(&key)), &everything);
        assert!(objects(&found.digests_invalid).contains(&digest_key(10).as_str()));
    }

    #[test]
    fn a_digest_deleted_between_runs_breaks_the_chain() {
        let key = key();
        let mut trail = trail(&key);
        // A fourth hour, so that the second run reads 12:00 while 11:00 is gone.
        let logs = vec![(log_key(12, 0), b"{}".to_vec())];
        let content = digest(12, &logs, trail.digests.last());
        let file: DigestFile = serde_json::from_slice(&content).unwrap();
        let signature = sign(&key, &string_to_sign(&file, &sha256_hex(&content)));
        trail.digests.push((digest_key(12), content, signature));
        trail.logs.extend(logs);
        let found = two_runs(&trail, &keys(&key), &[3]);
        assert_eq!(objects(&found.digests_missing), [digest_key(11)]);
    }

    /// The newest digests deleted: no later digest names them, but log files delivered hours
    /// after the first file the last digest left does not list do.
    #[test]
    fn digests_deleted_at_the_end_of_the_trail_are_missed_by_the_log_files_after_them() {
        let key = key();
        let mut trail = trail(&key);
        // 11:00's digest gone: its files (11:30, 11:40) are only awaiting one, not yet late.
        trail.digests.pop();
        let found = read(&trail, false).check(None, &everything);
        assert!(found.digests_missing.is_empty(), "{found:#?}");
        assert_eq!(found.log_files_awaiting_digest, 2);
        // A file delivered at 14:05: 11:10's digest was due by then.
        let late = format!("{LOGS}{DAY}111122223333_CloudTrail_us-east-1_20261121T1405Z_z.json.gz");
        trail.logs.push((late, b"{}".to_vec()));
        let found = read(&trail, false).check(None, &everything);
        assert_eq!(found.digests_missing.len(), 1, "{found:#?}");
        assert_eq!(found.digests_missing[0].object, DIGESTS);
        assert!(found.failed());
    }

    #[test]
    fn a_digest_in_s3_without_a_signature_is_not_cloudtrails() {
        let key = key();
        let trail = trail(&key);
        let evidence = Evidence::default();
        let (k, content, _) = &trail.digests[0];
        evidence.observe(&format!("s3://trail-bucket/{k}"), content, None);
        let found = evidence.check(Some(&keys(&key)), &everything);
        assert!(found.digests_invalid[0].detail.contains("no signature"));
        // The keys to fetch: those of signed digests whose fingerprint is not known.
        let (k, content, signature) = &trail.digests[1];
        evidence.observe(&format!("s3://trail-bucket/{k}"), content, Some(signature));
        let (regions, start, end) = evidence.keys_wanted(&PublicKeys::default()).unwrap();
        assert_eq!(regions.into_iter().collect::<Vec<_>>(), ["us-east-1"]);
        assert_eq!(
            (start.as_str(), end.as_str()),
            ("2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z")
        );
        assert!(evidence.keys_wanted(&keys(&key)).is_none());
    }

    #[test]
    fn the_data_to_sign_is_cloudtrails_on_its_documented_example() {
        // The sample digest of CloudTrail's documentation (digest file structure), the first
        // of its chain.
        let file: DigestFile = serde_json::from_value(json!({
            "awsAccountId": "111122223333",
            "digestStartTime": "2015-08-17T14:01:31Z",
            "digestEndTime": "2015-08-17T15:01:31Z",
            "digestS3Bucket": "amzn-s3-demo-bucket",
            "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
            "previousDigestSignature": null,
            "logFiles": [],
        }))
        .unwrap();
        let hash = sha256_hex(b"");
        assert_eq!(
            string_to_sign(&file, &hash),
            format!("2015-08-17T15:01:31Z\namzn-s3-demo-bucket/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz\n{hash}\nnull")
        );
        assert_eq!(
            hash,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_digest_that_is_not_one_is_invalid_by_its_name() {
        let evidence = Evidence::default();
        let name = format!("copy/{}", digest_key(9));
        evidence.observe(&name, b"{\"awsAccountId\": 1}", None);
        let found = evidence.check(None, &everything);
        assert_eq!(found.digests_invalid.len(), 1);
        assert_eq!(found.digests_invalid[0].object, name);
        assert!(found.digests_invalid[0]
            .detail
            .starts_with("not a digest file"));
    }

    #[test]
    fn delivery_times_are_read_from_log_file_names() {
        assert_eq!(
            delivered(&log_key(9, 1)).as_deref(),
            Some("2026-11-21T09:30")
        );
        assert_eq!(
            delivered("AWSLogs/1/CloudTrail/r/2026/11/21/x.json.gz"),
            None
        );
        assert_eq!(layout_key("s3://b/p/AWSLogs/1/x"), Some("AWSLogs/1/x"));
    }
}
