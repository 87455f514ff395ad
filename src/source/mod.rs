//! Where CloudTrail comes from: local files and folders, stdin, S3 (`s3`), the LookupEvents
//! API (`lookup_api`).
//!
//! In: paths given by the user. Out: [`Input`]s, each the decompressed bytes of one file with
//! its name, in a stable order. Decoding the bytes into records is `decode`'s job; this module
//! only finds, reads and decompresses, and never drops a file without saying why.

pub mod decode;
mod gzip;
pub mod lookup_api;
pub mod s3;
pub mod window;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

// Files are inflated whole with libdeflate (see `gzip`); flate2 with the zlib-rs backend, the
// fastest streaming decoder measured, reads the damaged ones as far as they go.
use flate2::bufread::GzDecoder;
use thiserror::Error;

pub use decode::{decode, Item, Position, RawRecord};
pub use window::Window;

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
}

/// Lists the files under `paths` (folders are walked, sorted by path), leaving out folders of
/// the trail layout `YYYY/MM/DD` whose day is outside `window`.
pub fn discover(paths: &[PathBuf], window: &Window) -> Result<Vec<PathBuf>, SourceError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|source| SourceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                !entry.file_type().is_dir() || window.admits_folder(entry.path())
            });
        for entry in walker {
            let entry = entry.map_err(|err| SourceError::Io {
                path: err
                    .path()
                    .map_or_else(|| path.display().to_string(), |p| p.display().to_string()),
                source: err.into(),
            })?;
            if entry.file_type().is_file() {
                files.push(entry.into_path());
            }
        }
    }
    Ok(files)
}

/// Reads and decompresses one file.
pub fn read_file(path: &Path) -> Result<Input, SourceError> {
    read_file_reusing(path, Vec::new())
}

/// Reads and decompresses one file into `buffer` (its content is dropped, its memory kept):
/// a worker that hands back the bytes of its last input saves the page faults of a fresh
/// multi-megabyte buffer per file.
pub fn read_file_reusing(path: &Path, buffer: Vec<u8>) -> Result<Input, SourceError> {
    let raw = fs::read(path).map_err(|source| SourceError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(decompress(path.display().to_string(), raw, buffer))
}

/// Reads and decompresses stdin.
pub fn read_stdin() -> Result<Input, SourceError> {
    let mut raw = Vec::new();
    io::stdin()
        .lock()
        .read_to_end(&mut raw)
        .map_err(|source| SourceError::Io {
            path: "-".into(),
            source,
        })?;
    Ok(input_from_bytes("-".into(), raw))
}

/// Turns raw bytes into an [`Input`], gunzipping them when they start with the gzip magic.
pub fn input_from_bytes(name: String, raw: Vec<u8>) -> Input {
    decompress(name, raw, Vec::new())
}

fn decompress(name: String, raw: Vec<u8>, mut buffer: Vec<u8>) -> Input {
    if !is_gzip(&raw) {
        return Input {
            name,
            bytes: raw,
            damage: None,
        };
    }
    buffer.clear();
    let damage = gunzip(&raw, &mut buffer);
    Input {
        name,
        bytes: buffer,
        damage,
    }
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Zeros after the last gzip member, as some writers leave.
fn is_zero_padding(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// Decompresses every gzip member in `raw` (Firehose and `cat` make multi-member files).
/// On damage, `out` keeps what was decompressed before it and the damage is described.
fn gunzip(raw: &[u8], out: &mut Vec<u8>) -> Option<String> {
    if gzip::decompress_all(raw, out, size_hint(raw)) {
        return None;
    }
    out.clear();
    let mut rest = raw;
    while !rest.is_empty() {
        let offset = raw.len() - rest.len();
        if !is_gzip(rest) {
            if is_zero_padding(rest) {
                break;
            }
            return Some(format!("trailing data that is not gzip at byte {offset}"));
        }
        let mut decoder = GzDecoder::new(rest);
        match decoder.read_to_end(out) {
            Ok(_) => rest = decoder.into_inner(),
            Err(err) => {
                return Some(format!(
                    "corrupt gzip in the member at byte {offset}: {err}"
                ))
            }
        }
    }
    None
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
        let input = input_from_bytes("x".into(), raw);
        assert_eq!(input.bytes, b"{\"a\":1}\n{\"b\":2}\n");
        assert!(input.damage.is_none());
    }

    #[test]
    fn keeps_what_came_before_trailing_garbage() {
        let mut raw = gz(b"{\"a\":1}\n");
        raw.extend(b"garbage");
        let input = input_from_bytes("x".into(), raw);
        assert_eq!(input.bytes, b"{\"a\":1}\n");
        assert!(input.damage.unwrap().contains("not gzip"));
    }

    #[test]
    fn reports_a_truncated_gzip_member() {
        let raw = gz(&b"{\"a\":1}\n".repeat(1000));
        let input = input_from_bytes("x".into(), raw[..raw.len() / 2].to_vec());
        assert!(input.damage.unwrap().contains("corrupt gzip"));
    }
}
