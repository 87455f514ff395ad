//! Where a file sits in CloudTrail's delivery layout:
//! `[prefix/]AWSLogs/[o-org/]<account>/CloudTrail[-Digest]/<region>/YYYY/MM/DD/<file>`.
//!
//! The same for S3 keys and for the paths of a synced copy: a *stream* is one account's log
//! (or digest) files in one region, everything up to the region folder; its day folders are
//! publication dates, filled in no particular key order.

use chrono::NaiveDate;

/// One file of the trail layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailFile<'a> {
    /// Everything before the `YYYY/MM/DD/` folders, ending in `/`.
    pub stream: &'a str,
    /// The day folder: the day CloudTrail published the file.
    pub day: NaiveDate,
    /// The file's name.
    pub name: &'a str,
}

impl<'a> TrailFile<'a> {
    /// `key` (an S3 key or a `/`-separated path) when it ends in `YYYY/MM/DD/<name>`.
    pub fn parse(key: &'a str) -> Option<Self> {
        let (folder, name) = key.rsplit_once('/')?;
        if name.is_empty() {
            return None;
        }
        let (stream, day) = day_folder(folder)?;
        Some(TrailFile { stream, day, name })
    }

    /// Whether this is a digest file (`CloudTrail-Digest/`), not a log file.
    pub fn is_digest(&self) -> bool {
        is_digest_stream(self.stream)
    }
}

/// `folder` split as (stream ending in `/`, day) when its last three components are
/// `YYYY/MM/DD`.
pub fn day_folder(folder: &str) -> Option<(&str, NaiveDate)> {
    let folder = folder.trim_end_matches('/');
    let (mut cut, mut start) = (folder.len(), 0);
    let mut parts = [""; 3];
    for (i, width) in [(2, 2), (1, 2), (0, 4)] {
        start = folder[..cut].rfind('/').map_or(0, |at| at + 1);
        let part = &folder[start..cut];
        if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        parts[i] = part;
        cut = start.saturating_sub(1);
    }
    let day = NaiveDate::from_ymd_opt(
        parts[0].parse().ok()?,
        parts[1].parse().ok()?,
        parts[2].parse().ok()?,
    )?;
    Some((&folder[..start], day))
}

/// The folder of one day of a stream.
pub fn day_path(stream: &str, day: NaiveDate) -> String {
    format!("{stream}{}/", day.format("%Y/%m/%d"))
}

/// Whether a stream holds digest files.
pub fn is_digest_stream(stream: &str) -> bool {
    stream.contains("/CloudTrail-Digest/")
}

/// The log stream a digest stream vouches for (`CloudTrail-Digest/` → `CloudTrail/`).
pub fn logs_of_digests(stream: &str) -> String {
    stream.replacen("/CloudTrail-Digest/", "/CloudTrail/", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_paths_of_the_layout() {
        let key = "logs/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/11/30/111122223333_CloudTrail_eu-west-1_20261130T0005Z_x.json.gz";
        let file = TrailFile::parse(key).unwrap();
        assert_eq!(
            file.stream,
            "logs/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/"
        );
        assert_eq!(file.day, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert!(file.name.starts_with("111122223333_CloudTrail_"));
        assert!(!file.is_digest());
        let digest =
            TrailFile::parse("AWSLogs/1/CloudTrail-Digest/us-east-1/2026/01/02/d.json.gz").unwrap();
        assert!(digest.is_digest());
        assert_eq!(
            logs_of_digests(digest.stream),
            "AWSLogs/1/CloudTrail/us-east-1/"
        );
        // A day folder at the very start of a relative path.
        assert_eq!(
            day_folder("2026/02/28").unwrap(),
            ("", NaiveDate::from_ymd_opt(2026, 2, 28).unwrap())
        );
        assert_eq!(
            day_path("s3://b/AWSLogs/1/CloudTrail/r/", file.day),
            "s3://b/AWSLogs/1/CloudTrail/r/2026/11/30/"
        );
        for not_layout in [
            "a/2026/11/30/",
            "a/2026/13/01/f",
            "a/26/11/30/f",
            "f.json",
            "2026/11/30",
            "a/2026/1/30/f",
        ] {
            assert!(TrailFile::parse(not_layout).is_none(), "{not_layout}");
        }
    }
}
