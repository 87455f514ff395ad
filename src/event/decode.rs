//! Container detection: bytes of one input → CloudTrail records, each with its position.
//!
//! The container is recognised by content, never by file name:
//! - a trail file as CloudTrail writes it to S3, `{"Records":[...]}`;
//! - a JSON array of records;
//! - JSON Lines (or values simply concatenated, as Firehose writes them), each line a record,
//!   an EventBridge envelope with the record in `detail`, a LookupEvents event, or a
//!   CloudWatch Logs subscription message;
//! - the output of `aws cloudtrail lookup-events`, `{"Events":[...]}`, whose `CloudTrailEvent`
//!   holds the record as a JSON string and `Resources[]` the names LookupEvents reports.
//!
//! Every unit of input ends as exactly one [`Item`]: a record, something skipped with a reason
//! (a digest file, JSON that is not CloudTrail), or something rejected as malformed with its
//! position. What can be read before a point of damage is kept.
//!
//! Why serde_json: measured on a 373 KB trail file of the benchmark corpus (2026-11-23, this
//! machine), splitting it into raw records took 253 µs with serde_json and 307 µs with
//! sonic-rs 0.5 through serde (`LazyValue`), and typing the records 369 µs against 411 µs,
//! even with `-C target-cpu=native`; gunzip of the same file took 540 µs. Over 300 files
//! (182 MB), a struct of the same fields with plain borrowed strings read at 620 MB/s with
//! serde_json, 750 MB/s with sonic-rs 0.5 and 820-880 MB/s with simd-json 0.15 (request
//! sections skipped, not kept): at most 1.4x, for a second JSON stack (the book: docs/src/performance.md).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::Event;

/// Where in an input a record or a problem is: the line (1-based, for line-oriented inputs)
/// and the index of the record in its container array (0-based).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: Option<usize>,
    pub index: Option<usize>,
}

impl Position {
    fn line(line: usize) -> Self {
        Position {
            line: Some(line),
            index: None,
        }
    }
    fn with_index(self, index: usize) -> Self {
        Position {
            index: Some(index),
            ..self
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.index) {
            (Some(l), Some(i)) => write!(f, "line {l} record {i}"),
            (Some(l), None) => write!(f, "line {l}"),
            (None, Some(i)) => write!(f, "record {i}"),
            (None, None) => write!(f, "file"),
        }
    }
}

/// A resource as the LookupEvents API names it: `ResourceName` may be an ARN, a name or an id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LookupResource {
    #[serde(rename = "ResourceType", default)]
    pub kind: Option<String>,
    #[serde(rename = "ResourceName", default)]
    pub name: Option<String>,
}

/// The JSON text of one CloudTrail record and where it was found.
#[derive(Debug)]
pub struct RawRecord<'a> {
    pub json: Cow<'a, str>,
    pub position: Position,
    /// `Resources[]` of a LookupEvents event; empty for other containers.
    pub lookup: Vec<LookupResource>,
    /// The record already typed, when the container was read in one typed pass.
    pub event: Option<Event<'a>>,
}

/// One unit of input, in exactly one bucket.
#[derive(Debug)]
// Records are nearly every item; boxing them would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
pub enum Item<'a> {
    Record(RawRecord<'a>),
    Skipped { position: Position, reason: String },
    Rejected { position: Position, reason: String },
}

/// Decodes one input. `damage` says the bytes were cut short by a decompression error: the
/// parse error it causes at the end is reported as that damage, once.
pub fn decode<'a>(bytes: &'a [u8], damage: Option<&str>) -> Vec<Item<'a>> {
    let mut out = Decoder {
        items: Vec::new(),
        damage,
        damage_reported: false,
    };
    out.run(bytes);
    if let (Some(d), false) = (damage, out.damage_reported) {
        out.items.push(Item::Rejected {
            position: Position::default(),
            reason: d.to_string(),
        });
    }
    out.items
}

struct Decoder<'d, 'a> {
    items: Vec<Item<'a>>,
    damage: Option<&'d str>,
    damage_reported: bool,
}

impl<'a> Decoder<'_, 'a> {
    fn run(&mut self, bytes: &'a [u8]) {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
            return self.skip(Position::default(), "empty input");
        };
        if !matches!(first, b'{' | b'[') {
            return self.skip(Position::default(), "not JSON");
        }
        // The common case, a trail file, typed in one pass over the bytes.
        if let Some(records) = typed_trail_file(bytes) {
            self.items = records;
            return;
        }
        // A trail file with a record that is not CloudTrail, or keys around `Records`.
        if let Ok(trail) = serde_json::from_slice::<TrailFile>(bytes) {
            for (i, element) in trail.records.into_iter().enumerate() {
                self.record(element, Position::default().with_index(i));
            }
            return;
        }
        // One JSON value, or several (JSON Lines, or values simply concatenated): told by where
        // the first value ends.
        let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<&RawValue>();
        match values.next() {
            Some(Ok(doc)) if bytes[values.byte_offset()..].trim_ascii().is_empty() => {
                self.document(doc, Position::default())
            }
            Some(Ok(_)) => self.lines(bytes),
            None => self.skip(Position::default(), "empty input"),
            Some(Err(err)) => {
                let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
                let more_lines = first_line.len() + 1 < bytes.len();
                if more_lines && serde_json::from_slice::<&RawValue>(first_line).is_ok() {
                    self.lines(bytes)
                } else {
                    self.salvage(bytes, err)
                }
            }
        }
    }

    /// A whole document: an array of records or one object.
    fn document(&mut self, doc: &'a RawValue, position: Position) {
        if doc.get().starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(doc.get()) {
                Ok(elements) => {
                    for (i, element) in elements.into_iter().enumerate() {
                        self.record(element, position.with_index(i));
                    }
                }
                Err(err) => self.reject(position, format!("malformed JSON array: {err}")),
            }
        } else {
            self.value(doc, position);
        }
    }

    /// JSON Lines, or JSON values concatenated with or without newlines.
    fn lines(&mut self, bytes: &'a [u8]) {
        let mut start = 0;
        let mut line_no = 0;
        while start < bytes.len() {
            line_no += 1;
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let line = &bytes[start..end];
            start = end + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let position = Position::line(line_no);
            let mut stream = serde_json::Deserializer::from_slice(line).into_iter::<&RawValue>();
            let mut values = 0;
            loop {
                match stream.next() {
                    None => break,
                    Some(Ok(value)) => {
                        let pos = if values == 0 {
                            position
                        } else {
                            position.with_index(values)
                        };
                        values += 1;
                        self.document(value, pos);
                    }
                    Some(Err(err)) => {
                        let at_end = start >= bytes.len();
                        self.reject_parse(position, err, at_end);
                        break;
                    }
                }
            }
        }
    }

    /// A single object: a container, an envelope, a record, or something else.
    fn value(&mut self, value: &'a RawValue, position: Position) {
        let shape: Shape<'a> = match serde_json::from_str(value.get()) {
            Ok(shape) => shape,
            Err(_) => return self.skip(position, "JSON that is not an object"),
        };
        if let Some(records) = shape.records {
            match serde_json::from_str::<Vec<&RawValue>>(records.get()) {
                Ok(elements) => {
                    for (i, element) in elements.into_iter().enumerate() {
                        self.record(element, position.with_index(i));
                    }
                }
                Err(err) => self.reject(
                    position,
                    format!("`Records` is not an array of records: {err}"),
                ),
            }
        } else if let Some(events) = shape.events {
            match serde_json::from_str::<Vec<LookupEvent>>(events.get()) {
                Ok(events) => {
                    for (i, event) in events.into_iter().enumerate() {
                        self.lookup_event(event, position.with_index(i));
                    }
                }
                Err(err) => self.reject(
                    position,
                    format!("`Events` is not LookupEvents output: {err}"),
                ),
            }
        } else if shape.cloudtrail_event.is_some() {
            match serde_json::from_str::<LookupEvent>(value.get()) {
                Ok(event) => self.lookup_event(event, position),
                Err(err) => self.reject(position, format!("malformed LookupEvents event: {err}")),
            }
        } else if let Some(detail) = shape.detail {
            let detail_type = shape.detail_type.as_deref().unwrap_or("?");
            if looks_like_record(detail) {
                self.record(detail, position);
            } else {
                self.skip(
                    position,
                    format!("EventBridge event that is not a CloudTrail record (detail-type `{detail_type}`)"),
                );
            }
        } else if let Some(log_events) = shape.log_events {
            match serde_json::from_str::<Vec<LogEvent>>(log_events.get()) {
                Ok(events) => {
                    for (i, event) in events.into_iter().enumerate() {
                        self.items.push(Item::Record(RawRecord {
                            json: event.message,
                            position: position.with_index(i),
                            lookup: Vec::new(),
                            event: None,
                        }));
                    }
                }
                Err(err) => self.reject(
                    position,
                    format!("malformed CloudWatch Logs `logEvents`: {err}"),
                ),
            }
        } else if shape.digest_start_time.is_some() || shape.digest_signature_algorithm.is_some() {
            self.skip(position, "CloudTrail digest file")
        } else if shape.event_source.is_some() && shape.event_name.is_some() {
            self.record(value, position)
        } else if shape.message_type.is_some() {
            self.skip(position, "CloudWatch Logs control message")
        } else {
            self.skip(position, "JSON that is not a CloudTrail record")
        }
    }

    fn record(&mut self, json: &'a RawValue, position: Position) {
        self.items.push(Item::Record(RawRecord {
            json: Cow::Borrowed(json.get()),
            position,
            lookup: Vec::new(),
            event: None,
        }));
    }

    fn lookup_event(&mut self, event: LookupEvent<'a>, position: Position) {
        match event.cloudtrail_event {
            Some(json) => self.items.push(Item::Record(RawRecord {
                json,
                position,
                lookup: event.resources.unwrap_or_default(),
                event: None,
            })),
            None => self.reject(
                position,
                "LookupEvents event without `CloudTrailEvent`".into(),
            ),
        }
    }

    /// A broken single document: keep the `Records` read before the damage, reject the rest.
    fn salvage(&mut self, bytes: &'a [u8], err: serde_json::Error) {
        let mut kept = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let outcome = RecordsSeed { out: &mut kept }.deserialize(&mut de);
        let salvaged = !kept.is_empty();
        for (i, element) in kept.into_iter().enumerate() {
            self.record(element, Position::default().with_index(i));
        }
        let err = match outcome {
            Err(inner) if salvaged => inner,
            _ => err,
        };
        self.reject_parse(Position::line(err.line()), err, true);
    }

    fn reject_parse(&mut self, position: Position, err: serde_json::Error, at_end: bool) {
        match self.damage {
            Some(damage) if at_end && err.is_eof() && !self.damage_reported => {
                self.damage_reported = true;
                self.reject(position, damage.to_string());
            }
            _ => {
                let what = if err.is_eof() {
                    "truncated JSON"
                } else {
                    "malformed JSON"
                };
                self.reject(position, format!("{what}: {err}"));
            }
        }
    }

    fn skip(&mut self, position: Position, reason: impl Into<String>) {
        self.items.push(Item::Skipped {
            position,
            reason: reason.into(),
        });
    }

    fn reject(&mut self, position: Position, reason: String) {
        self.items.push(Item::Rejected { position, reason });
    }
}

fn looks_like_record(value: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(rename = "eventSource", borrow)]
        event_source: Option<&'a RawValue>,
        #[serde(rename = "eventName", borrow)]
        event_name: Option<&'a RawValue>,
    }
    serde_json::from_str::<Probe>(value.get())
        .is_ok_and(|p| p.event_source.is_some() && p.event_name.is_some())
}

/// A trail file exactly as CloudTrail writes it, `{"Records":[...]}`, each record typed as an
/// [`Event`] straight from the file, with the span of text it was parsed from: one pass
/// instead of splitting the file into records and parsing each again. `None` when the file
/// has another shape or a record that is not CloudTrail: the caller then reads it the general
/// way, which rejects such records one by one.
fn typed_trail_file(bytes: &[u8]) -> Option<Vec<Item<'_>>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let skip_ws = |at: usize| at + (text[at..].len() - text[at..].trim_start().len());
    let rest = text
        .trim_start()
        .strip_prefix('{')?
        .trim_start()
        .strip_prefix("\"Records\"")?
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('[')?;
    let mut at = skip_ws(text.len() - rest.len());
    // Records are built in place (an item is ~750 bytes): room for records of ~1.5 KB, the
    // size of typical ones.
    let mut records = Vec::with_capacity(text.len() / 1536 + 1);
    if text[at..].starts_with(']') {
        at += 1;
    } else {
        loop {
            let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Event>();
            let event = stream.next()?.ok()?;
            let end = at + stream.byte_offset();
            records.push(Item::Record(RawRecord {
                json: Cow::Borrowed(&text[at..end]),
                position: Position::default().with_index(records.len()),
                lookup: Vec::new(),
                event: Some(event),
            }));
            at = skip_ws(end);
            match text.as_bytes().get(at) {
                Some(b',') => at = skip_ws(at + 1),
                Some(b']') => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    let tail = text[at..].trim_start().strip_prefix('}')?;
    tail.trim().is_empty().then_some(records)
}

/// A trail file as CloudTrail writes it.
#[derive(Deserialize)]
struct TrailFile<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

/// The top-level keys that tell containers apart; values stay raw.
#[derive(Deserialize)]
struct Shape<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<&'a RawValue>,
    #[serde(rename = "Events", borrow)]
    events: Option<&'a RawValue>,
    #[serde(rename = "CloudTrailEvent", borrow)]
    cloudtrail_event: Option<&'a RawValue>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    #[serde(rename = "detail-type", borrow)]
    detail_type: Option<Cow<'a, str>>,
    #[serde(rename = "logEvents", borrow)]
    log_events: Option<&'a RawValue>,
    #[serde(rename = "messageType", borrow)]
    message_type: Option<&'a RawValue>,
    #[serde(rename = "digestStartTime", borrow)]
    digest_start_time: Option<&'a RawValue>,
    #[serde(rename = "digestSignatureAlgorithm", borrow)]
    digest_signature_algorithm: Option<&'a RawValue>,
    #[serde(rename = "eventSource", borrow)]
    event_source: Option<&'a RawValue>,
    #[serde(rename = "eventName", borrow)]
    event_name: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LookupEvent<'a> {
    #[serde(rename = "CloudTrailEvent", borrow)]
    cloudtrail_event: Option<Cow<'a, str>>,
    #[serde(rename = "Resources")]
    resources: Option<Vec<LookupResource>>,
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// Reads `{"Records":[...]}` element by element into `out`, so that the elements before a
/// parse error are kept.
struct RecordsSeed<'o, 'a> {
    out: &'o mut Vec<&'a RawValue>,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail trail file")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Records" {
                map.next_value_seed(ElementsSeed {
                    out: &mut *self.out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct ElementsSeed<'o, 'a> {
    out: &'o mut Vec<&'a RawValue>,
}

impl<'de> DeserializeSeed<'de> for ElementsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ElementsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            self.out.push(element);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Record(r) => format!("record@{}", r.position),
                Item::Skipped { position, reason } => format!("skipped@{position}:{reason}"),
                Item::Rejected { position, reason } => format!("rejected@{position}:{reason}"),
            })
            .collect()
    }

    const REC: &str = r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}"#;

    #[test]
    fn trail_file() {
        let doc = format!(r#"{{"Records":[{REC},{REC}]}}"#);
        assert_eq!(
            kinds(&decode(doc.as_bytes(), None)),
            ["record@record 0", "record@record 1"]
        );
    }

    #[test]
    fn a_trail_file_is_typed_in_one_pass_with_each_record_text() {
        let doc = format!("{{ \"Records\" : [ {REC} ,\n{REC}\n] }}\n");
        let items = decode(doc.as_bytes(), None);
        assert_eq!(kinds(&items), ["record@record 0", "record@record 1"]);
        for item in &items {
            let Item::Record(record) = item else {
                panic!("{item:?}")
            };
            assert_eq!(record.json, REC);
            assert_eq!(record.event.as_ref().unwrap().event_name, "GetObject");
        }
        assert!(typed_trail_file(br#"{"Records":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn a_trail_file_with_a_foreign_record_is_read_record_by_record() {
        // `{}` is JSON but not CloudTrail: the typed pass gives up, the general one reads the
        // file and the record is rejected by itself later (it has no event to offer).
        let doc = format!(r#"{{"Records":[{REC},{{}},{REC}]}}"#);
        assert!(typed_trail_file(doc.as_bytes()).is_none());
        let items = decode(doc.as_bytes(), None);
        assert_eq!(
            kinds(&items),
            ["record@record 0", "record@record 1", "record@record 2"]
        );
        assert!(items
            .iter()
            .all(|i| matches!(i, Item::Record(r) if r.event.is_none())));
        let other_keys = format!(r#"{{"Other":1,"Records":[{REC}]}}"#);
        assert!(typed_trail_file(other_keys.as_bytes()).is_none());
        assert_eq!(
            kinds(&decode(other_keys.as_bytes(), None)),
            ["record@record 0"]
        );
    }

    #[test]
    fn eventbridge_lines_and_concatenated_values() {
        let env = format!(
            r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{REC}}}"#
        );
        let other = r#"{"detail-type":"Scheduled Event","detail":{}}"#;
        let doc = format!("{env}\n{other}\n\n{env}{env}\n");
        let got = kinds(&decode(doc.as_bytes(), None));
        assert_eq!(got[0], "record@line 1");
        assert!(got[1].starts_with("skipped@line 2:EventBridge event"));
        assert_eq!(got[2..], ["record@line 4", "record@line 4 record 1"]);
    }

    #[test]
    fn lookup_events_output_keeps_resources() {
        let inner = serde_json::to_string(REC).unwrap();
        let doc = format!(
            r#"{{"Events":[{{"EventId":"1","Resources":[{{"ResourceType":"AWS::S3::Bucket","ResourceName":"hoge0109tmp"}}],"CloudTrailEvent":{inner}}}]}}"#
        );
        let items = decode(doc.as_bytes(), None);
        let Item::Record(record) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(record.json, REC);
        assert_eq!(record.lookup[0].name.as_deref(), Some("hoge0109tmp"));
    }

    #[test]
    fn digest_and_foreign_json_are_skipped() {
        let digest =
            r#"{"awsAccountId":"1","digestStartTime":"2023-01-01T00:00:00Z","logFiles":[]}"#;
        assert!(kinds(&decode(digest.as_bytes(), None))[0].contains("digest file"));
        assert!(kinds(&decode(br#"{"name":"x"}"#, None))[0].contains("not a CloudTrail record"));
        assert!(kinds(&decode(b"id,name\n1,x\n", None))[0].contains("not JSON"));
    }

    #[test]
    fn truncated_trail_file_keeps_complete_records() {
        let doc = format!(r#"{{"Records":[{REC},{REC},{{"eventSource":"s3.am"#);
        let got = kinds(&decode(doc.as_bytes(), None));
        assert_eq!(got[..2], ["record@record 0", "record@record 1"]);
        assert!(
            got[2].starts_with("rejected@line 1:truncated JSON"),
            "{got:?}"
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn bad_line_is_rejected_with_its_number() {
        let doc = format!("{REC}\n{{\"eventSource\": oops}}\n{REC}\n");
        let got = kinds(&decode(doc.as_bytes(), None));
        assert_eq!(got[0], "record@line 1");
        assert!(
            got[1].starts_with("rejected@line 2:malformed JSON"),
            "{got:?}"
        );
        assert_eq!(got[2], "record@line 3");
    }

    #[test]
    fn damage_is_reported_once_in_place_of_the_truncation() {
        let doc = format!("{REC}\n{{\"eventSo");
        let got = kinds(&decode(doc.as_bytes(), Some("corrupt gzip")));
        assert_eq!(got, ["record@line 1", "rejected@line 2:corrupt gzip"]);
    }
}
