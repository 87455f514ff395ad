//! Where CloudTrail comes from: local files and folders, stdin, and the live sources (`live`:
//! S3 objects, LookupEvents pages).
//!
//! In: paths given by the user, or bytes fetched elsewhere. Out: [`Pending`] inputs in a
//! stable order, each turned into an [`Input`] (the decompressed bytes of one file with its
//! name) by [`Pending::load`] on whichever worker takes it. Decoding the bytes into records is
//! `event::decode`'s job; this module only finds, reads and decompresses, and never drops a
//! file without saying why.

mod gzip;
pub mod layout;
#[cfg(feature = "aws")]
pub mod live;
#[cfg(feature = "aws")]
pub mod lookup_api;
#[cfg(feature = "aws")]
pub mod s3;
pub mod window;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

// Files are inflated whole with libdeflate (see `gzip`); flate2 with the zlib-rs backend, the
// fastest streaming decoder measured, reads the damaged ones as far as they go.
use flate2::bufread::GzDecoder;
use thiserror::Error;

use crate::tally::Problem;
pub use window::Window;

/// What one input may inflate to by default: CloudTrail's own files are a few megabytes, and
/// Firehose writes objects of at most 128 MiB (its largest buffer); a gzip member that
/// inflates to gigabytes is refused instead of held whole. Reading a file holds its records
/// at once (~3.7 times its size at worst, measured), so this also bounds memory per worker.
pub const DEFAULT_MAX_FILE_BYTES: usize = 128 << 20;

/// A failure to find or open an input.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// One input read whole: a file, or stdin.
#[derive(Debug)]
pub struct Input {
    /// The file's path as given or found, or `-` for stdin.
    pub name: String,
    /// The decompressed content.
    pub bytes: Vec<u8>,
    /// Set when decompression failed part-way: what was decoded before it is in `bytes`.
    pub damage: Option<String>,
    /// A digest file's signature, from its S3 object's metadata (`x-amz-meta-signature`).
    pub signature: Option<String>,
}

/// One input not read yet: a local file, bytes fetched elsewhere (stdin, an S3 object, a
/// LookupEvents page), or a source that could not be read at all.
#[derive(Debug)]
pub enum Pending {
    File(PathBuf),
    Fetched {
        name: String,
        raw: Vec<u8>,
        /// See [`Input::signature`].
        signature: Option<String>,
    },
    Unreadable(Problem),
}

impl Pending {
    /// Reads (for a file) and decompresses, into `buffer` where it can (its content is dropped,
    /// its memory kept: a worker that hands back the bytes of its last input saves the page
    /// faults of a fresh multi-megabyte buffer per file). Nothing inflates past `max_bytes`.
    pub fn load(self, buffer: Vec<u8>, max_bytes: usize) -> Result<Input, Problem> {
        match self {
            Pending::File(path) => read_file_reusing(&path, buffer, max_bytes),
            Pending::Fetched {
                name,
                raw,
                signature,
            } => decompress(name, raw, buffer, max_bytes).map(|input| Input { signature, ..input }),
            Pending::Unreadable(problem) => Err(problem),
        }
    }

    /// Bytes fetched elsewhere, with no signature.
    pub fn fetched(name: impl Into<String>, raw: Vec<u8>) -> Self {
        Pending::Fetched {
            name: name.into(),
            raw,
            signature: None,
        }
    }

    /// The name this input is reported under.
    pub fn name(&self) -> String {
        match self {
            Pending::File(path) => path.display().to_string(),
            Pending::Fetched { name, .. } => name.clone(),
            Pending::Unreadable(problem) => problem.source.clone(),
        }
    }
}

/// The inputs under `paths` (folders are walked, sorted by path, following symbolic links),
/// leaving out folders of the trail layout `YYYY/MM/DD` whose day is outside `window`. Every
/// entry that is not a folder becomes an input, so a FIFO or a device is counted as rejected
/// when read, never skipped in silence; an entry that cannot be walked (a symbolic-link loop, a
/// folder that cannot be read) is an unreadable input. Fails only when a path given does not
/// exist or cannot be looked at.
pub fn discover(paths: &[PathBuf], window: &Window) -> Result<Vec<Pending>, SourceError> {
    discover_admitting(paths, |folder| window.admits_folder(folder))
}

/// [`discover`], walking only into the folders `admit` accepts.
pub fn discover_admitting(
    paths: &[PathBuf],
    admit: impl Fn(&Path) -> bool,
) -> Result<Vec<Pending>, SourceError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|source| SourceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if !meta.is_dir() {
            found.push(Pending::File(path.clone()));
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| !entry.file_type().is_dir() || admit(entry.path()));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_dir() => {}
                Ok(entry) => found.push(Pending::File(entry.into_path())),
                Err(err) => found.push(Pending::Unreadable(Problem {
                    source: err
                        .path()
                        .map_or_else(|| path.display().to_string(), |p| p.display().to_string()),
                    reason: match err.loop_ancestor() {
                        Some(ancestor) => format!(
                            "cannot read: a symbolic link loops back to {}",
                            ancestor.display()
                        ),
                        None => format!("cannot read: {}", io::Error::from(err)),
                    },
                })),
            }
        }
    }
    Ok(found)
}

/// Reads and decompresses one file, refusing one that is, or inflates to, more than
/// `max_bytes`.
pub fn read_file(path: &Path, max_bytes: usize) -> Result<Input, SourceError> {
    read_file_reusing(path, Vec::new(), max_bytes).map_err(|problem| SourceError::Io {
        path: problem.source,
        source: io::Error::other(problem.reason),
    })
}

/// Reads and decompresses one regular file into `buffer`. A FIFO, a device or a file larger
/// than `max_bytes` is refused without reading it (a FIFO would block the scan forever).
fn read_file_reusing(path: &Path, buffer: Vec<u8>, max_bytes: usize) -> Result<Input, Problem> {
    let problem = |reason: String| Problem {
        source: path.display().to_string(),
        reason,
    };
    let meta = fs::metadata(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(problem(
            "cannot read: not a regular file (a FIFO, socket or device)".into(),
        ));
    }
    if meta.len() > max_bytes as u64 {
        return Err(problem(too_large(max_bytes)));
    }
    let raw = fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    decompress(path.display().to_string(), raw, buffer, max_bytes)
}

/// Reads stdin whole, refusing more than `max_bytes`; it is decompressed when loaded, like
/// any input.
pub fn read_stdin(max_bytes: usize) -> Result<Pending, SourceError> {
    let mut raw = Vec::new();
    io::stdin()
        .lock()
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|source| SourceError::Io {
            path: "-".into(),
            source,
        })?;
    if raw.len() > max_bytes {
        return Ok(Pending::Unreadable(Problem {
            source: "-".into(),
            reason: too_large(max_bytes),
        }));
    }
    Ok(Pending::fetched("-", raw))
}

fn too_large(max_bytes: usize) -> String {
    format!(
        "larger than {} MiB once decompressed (raise --max-file-mib to read it)",
        max_bytes >> 20
    )
}

fn decompress(
    name: String,
    raw: Vec<u8>,
    mut buffer: Vec<u8>,
    max_bytes: usize,
) -> Result<Input, Problem> {
    if !is_gzip(&raw) {
        if raw.len() > max_bytes {
            return Err(Problem {
                source: name,
                reason: too_large(max_bytes),
            });
        }
        return Ok(Input {
            name,
            bytes: raw,
            damage: None,
            signature: None,
        });
    }
    buffer.clear();
    match gunzip(&raw, &mut buffer, max_bytes) {
        Ok(damage) => Ok(Input {
            name,
            bytes: buffer,
            damage,
            signature: None,
        }),
        Err(TooLarge) => Err(Problem {
            source: name,
            reason: too_large(max_bytes),
        }),
    }
}

/// The look of a progress bar counting `unit`s (shown only on a terminal; see `main.rs`).
pub fn progress_style(unit: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {{span_name}} {{pos}}/{{len}} {unit} [{{elapsed}}] {{span_fields}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Zeros after the last gzip member, as some writers leave.
fn is_zero_padding(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// The data inflates past the limit.
struct TooLarge;

/// Decompresses every gzip member in `raw` (Firehose and `cat` make multi-member files), never
/// past `max_bytes`. On damage, `out` keeps what was decompressed before it and the damage is
/// described.
fn gunzip(raw: &[u8], out: &mut Vec<u8>, max_bytes: usize) -> Result<Option<String>, TooLarge> {
    match gzip::decompress_all(raw, out, size_hint(raw), max_bytes) {
        gzip::Inflated::Whole => return Ok(None),
        gzip::Inflated::TooLarge => return Err(TooLarge),
        gzip::Inflated::Damaged => {}
    }
    out.clear();
    stream_gunzip(raw, out, max_bytes)
}

/// The streaming decoder, member by member, for damaged files: it keeps what comes before the
/// damage and says where it is.
fn stream_gunzip(
    raw: &[u8],
    out: &mut Vec<u8>,
    max_bytes: usize,
) -> Result<Option<String>, TooLarge> {
    let mut rest = raw;
    while !rest.is_empty() {
        let offset = raw.len() - rest.len();
        if !is_gzip(rest) {
            if is_zero_padding(rest) {
                break;
            }
            return Ok(Some(format!(
                "trailing data that is not gzip at byte {offset}"
            )));
        }
        let mut decoder = GzDecoder::new(rest);
        let allowed = max_bytes.saturating_sub(out.len()) as u64;
        match decoder.by_ref().take(allowed + 1).read_to_end(out) {
            Ok(_) if out.len() > max_bytes => return Err(TooLarge),
            Ok(_) => rest = decoder.into_inner(),
            Err(err) => {
                return Ok(Some(format!(
                    "corrupt gzip in the member at byte {offset}: {err}"
                )))
            }
        }
    }
    Ok(None)
}

/// The decompressed size to reserve: a single member's trailer holds it (ISIZE, modulo 2^32);
/// when that is implausible (several members, or damage), eight times the compressed size.
fn size_hint(raw: &[u8]) -> usize {
    let fallback = raw.len().saturating_mul(8);
    let Some(trailer) = raw.len().checked_sub(4).and_then(|at| raw.get(at..)) else {
        return fallback;
    };
    let isize = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]) as usize;
    // Deflate expands at most ~1032:1; a larger figure is not a trailer of this data.
    if isize >= raw.len() / 2 && isize <= raw.len().saturating_mul(1032) {
        isize + 1
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};

    /// `raw` as one input under the default cap.
    fn input_from_bytes(raw: Vec<u8>) -> Input {
        decompress("x".into(), raw, Vec::new(), DEFAULT_MAX_FILE_BYTES).unwrap()
    }
    use std::io::Write;

    /// `data` gzipped (also used by `gzip`'s tests).
    pub(super) fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_every_gzip_member() {
        let mut raw = gz(b"{\"a\":1}\n");
        raw.extend(gz(b"{\"b\":2}\n"));
        let input = input_from_bytes(raw);
        assert_eq!(input.bytes, b"{\"a\":1}\n{\"b\":2}\n");
        assert!(input.damage.is_none());
    }

    #[test]
    fn keeps_what_came_before_trailing_garbage() {
        let mut raw = gz(b"{\"a\":1}\n");
        raw.extend(b"garbage");
        let input = input_from_bytes(raw);
        assert_eq!(input.bytes, b"{\"a\":1}\n");
        assert!(input.damage.unwrap().contains("not gzip"));
    }

    #[test]
    fn reports_a_truncated_gzip_member() {
        let raw = gz(&b"{\"a\":1}\n".repeat(1000));
        let input = input_from_bytes(raw[..raw.len() / 2].to_vec());
        assert!(input.damage.unwrap().contains("corrupt gzip"));
    }

    #[test]
    fn refuses_input_that_inflates_past_the_limit() {
        let raw = gz(&vec![b' '; 3 << 20]);
        let problem = decompress("bomb.gz".into(), raw.clone(), Vec::new(), 1 << 20).unwrap_err();
        assert_eq!(problem.source, "bomb.gz");
        assert!(
            problem.reason.contains("larger than 1 MiB"),
            "{}",
            problem.reason
        );
        // The streaming decoder, used for damaged files, stops at the limit too.
        let mut damaged = raw;
        damaged.extend(b"garbage");
        assert!(stream_gunzip(&damaged, &mut Vec::new(), 1 << 20).is_err());
        let mut out = Vec::new();
        let damage = stream_gunzip(&damaged, &mut out, 4 << 20).ok().flatten();
        assert_eq!(out.len(), 3 << 20);
        assert!(damage.unwrap().contains("not gzip"));
    }
}
