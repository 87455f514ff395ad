//! The time window of a scan (`--since` / `--until`), applied to records and to the
//! `YYYY/MM/DD` folders of the trail layout, so that days outside it are never opened.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A half-open interval `[since, until)` of event times; either end may be open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    /// True when the event time is inside the window. A record without a readable time is
    /// kept: dropping it silently would hide activity.
    pub fn admits_time(&self, time: Option<DateTime<Utc>>) -> bool {
        let Some(time) = time else { return true };
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time < u)
    }

    /// False for a folder `…/YYYY/MM/DD` (trail layout) whose whole day is outside the window.
    pub fn admits_folder(&self, path: &Path) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Some((_, day)) = path.to_str().and_then(super::layout::day_folder) else {
            return true;
        };
        let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = start + Duration::days(1);
        self.since.is_none_or(|s| end > s) && self.until.is_none_or(|u| start < u)
    }
}

/// Parses `--since`/`--until`: RFC 3339, a date (`2026-11-01`), or a duration before `now`
/// (`90m`, `24h`, `7d`, `2w`, `1h30m`: humantime's syntax). Never panics: a duration that
/// reaches before the earliest representable time is an error like any other bad value.
pub fn parse_instant(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let span = humantime::parse_duration(text).map_err(|err| {
        format!("`{text}` is neither RFC 3339, a date, nor a duration like 24h or 7d ({err})")
    })?;
    Duration::from_std(span)
        .ok()
        .and_then(|span| now.checked_sub_signed(span))
        .ok_or_else(|| format!("`{text}` reaches before the earliest time tagtrail can represent"))
}

/// Parses a CloudTrail `eventTime` (`2023-07-10T11:42:36Z`).
pub fn parse_event_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    // Without an offset (exports and hand-written samples): CloudTrail's times are UTC.
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_outside_the_window_are_not_admitted() {
        let now = parse_instant("2026-11-23T12:00:00Z", Utc::now()).unwrap();
        let window = Window {
            since: Some(parse_instant("2d", now).unwrap()),
            until: None,
        };
        let base = Path::new("AWSLogs/1/CloudTrail/us-east-1/2026/11");
        assert!(!window.admits_folder(&base.join("20")));
        assert!(window.admits_folder(&base.join("21")));
        assert!(window.admits_folder(&base.join("23")));
        assert!(window.admits_folder(Path::new("AWSLogs/1/CloudTrail/us-east-1/2026")));
    }

    #[test]
    fn event_times_without_an_offset_are_utc() {
        for (text, utc) in [
            ("2023-01-10T20:10:41Z", "2023-01-10T20:10:41+00:00"),
            ("2023-01-10T22:10:41+02:00", "2023-01-10T20:10:41+00:00"),
            ("2023-01-10 20:10:41", "2023-01-10T20:10:41+00:00"),
            ("2021-01-24 04:55:45.250", "2021-01-24T04:55:45.250+00:00"),
        ] {
            let parsed = parse_event_time(text).map(|t| t.to_rfc3339());
            assert_eq!(parsed.as_deref(), Some(utc), "{text}");
        }
        assert_eq!(parse_event_time("last tuesday"), None);
    }

    #[test]
    fn bad_instants_are_explained() {
        assert!(parse_instant("yesterday", Utc::now())
            .unwrap_err()
            .contains("RFC 3339"));
        let now = Utc::now();
        assert_eq!(
            parse_instant("1h30m", now).unwrap(),
            now - Duration::minutes(90)
        );
    }

    /// `--since 7é` cut a character in two and `--since 99999999999w` overflowed: both panicked.
    #[test]
    fn a_multibyte_suffix_or_a_huge_duration_is_an_error_not_a_panic() {
        for text in [
            "7é",
            "é",
            "99999999999w",
            "18446744073709551615s",
            "",
            "-3d",
            "1e9d",
        ] {
            assert!(parse_instant(text, Utc::now()).is_err(), "{text}");
        }
    }
}
