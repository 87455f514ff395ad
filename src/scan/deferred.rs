//! Resolved records kept aside until the whole trail is read: judging at the event's time
//! needs the history (tag calls, sessions, duplicates), which is complete only after the read.
//!
//! Each record is encoded on the worker that resolved it, appended in input order to an
//! anonymous file beside the reports, and read back in chunks that the workers decode and
//! judge in parallel. Memory holds a write buffer and one chunk, however long the trail.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::DateTime;

use crate::event::{Position, RecordSource};
use crate::principal::{Principal, PrincipalKind};
use crate::report::sorter::{put_str, put_u64, NONE};
use crate::resolve::{Delivery, Resolution, ResolvedEvent, Touched, Unresolved, Via};

/// Bytes of encoded records read back at once.
const CHUNK_BYTES: usize = 8 << 20;

/// The file resolved records wait in.
pub struct Deferred {
    out: BufWriter<File>,
    records: u64,
}

impl Deferred {
    /// An empty file, anonymous (nothing is left behind), in `dir`.
    pub fn new_in(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Deferred {
            out: BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(dir)?),
            records: 0,
        })
    }

    /// Appends one record made by [`encode`].
    pub fn push(&mut self, encoded: &[u8]) -> io::Result<()> {
        self.out.write_all(&(encoded.len() as u32).to_le_bytes())?;
        self.out.write_all(encoded)?;
        self.records += 1;
        Ok(())
    }

    /// Records pushed so far.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The records, from the first, in chunks.
    pub fn finish(self) -> io::Result<Chunks> {
        let mut file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        Ok(Chunks {
            input: BufReader::with_capacity(1 << 20, file),
        })
    }
}

/// The records of a [`Deferred`] file, read back a chunk at a time.
pub struct Chunks {
    input: BufReader<File>,
}

/// Consecutive encoded records.
#[derive(Default)]
pub struct Chunk {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Chunk {
    /// Each record's bytes, for [`decode`].
    pub fn spans(&self) -> &[(usize, usize)] {
        &self.spans
    }

    pub fn record(&self, (start, end): (usize, usize)) -> &[u8] {
        &self.bytes[start..end]
    }
}

impl Chunks {
    /// Fills `chunk` with the next records (about [`CHUNK_BYTES`] of them); false at the end.
    pub fn next_into(&mut self, chunk: &mut Chunk) -> io::Result<bool> {
        chunk.bytes.clear();
        chunk.spans.clear();
        while chunk.bytes.len() < CHUNK_BYTES {
            let mut len = [0u8; 4];
            match self.input.read_exact(&mut len) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(err) => return Err(err),
            }
            let start = chunk.bytes.len();
            let end = start + u32::from_le_bytes(len) as usize;
            chunk.bytes.resize(end, 0);
            self.input.read_exact(&mut chunk.bytes[start..end])?;
            chunk.spans.push((start, end));
        }
        Ok(!chunk.spans.is_empty())
    }
}

// The format: fixed-width integers little-endian, strings as a u32 length then UTF-8, an
// absent string as u32::MAX (the sorter's spill files write them so too). Only this module
// writes and reads it, in one process.

fn put_flag(buf: &mut Vec<u8>, b: Option<bool>) {
    buf.push(match b {
        None => 2,
        Some(b) => b as u8,
    });
}

/// One record, as [`Deferred::push`] takes it.
pub fn encode(event: &ResolvedEvent) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    let time = event.event_time;
    put_u64(&mut buf, time.map(|t| t.timestamp() as u64));
    buf.extend_from_slice(&time.map_or(0, |t| t.timestamp_subsec_nanos()).to_le_bytes());
    for s in [
        &event.event_id,
        &event.aws_region,
        &event.account_id,
        &event.error_code,
    ] {
        put_str(&mut buf, s.as_deref());
    }
    put_str(&mut buf, Some(&event.event_source));
    put_str(&mut buf, Some(&event.event_name));
    put_flag(&mut buf, event.read_only);
    put_flag(&mut buf, Some(event.request_logged));
    let principal = &event.resolution.principal;
    for s in [
        &principal.arn,
        &principal.account_id,
        &principal.session_name,
        &principal.access_key_id,
        &principal.invoked_by,
    ] {
        put_str(&mut buf, s.as_deref());
    }
    buf.push(principal.kind as u8);
    put_flag(&mut buf, Some(principal.cross_account));
    buf.extend_from_slice(&(event.resolution.resources.len() as u32).to_le_bytes());
    for touched in &event.resolution.resources {
        put_str(&mut buf, Some(&touched.arn));
        let (tag, rule) = match &touched.via {
            Via::Resources => (0, None),
            Via::Lookup => (1, None),
            Via::Rule(id) => (2, Some(id.as_str())),
            Via::Inventory => (3, None),
            Via::ErrorMessage => (4, None),
            Via::ArnInRecord => (5, None),
        };
        buf.push(tag);
        put_str(&mut buf, rule);
    }
    let (tag, text) = match &event.resolution.unresolved {
        None => (0, None),
        Some(Unresolved::NoRule) => (1, None),
        Some(Unresolved::NoResource { rule }) => (2, Some(rule.as_str())),
        Some(Unresolved::NothingFound { rule }) => (3, Some(rule.as_str())),
        Some(Unresolved::UnknownLookupType(t)) => (4, Some(t.as_str())),
    };
    buf.push(tag);
    put_str(&mut buf, text);
    put_str(&mut buf, Some(&event.source.input));
    put_u64(&mut buf, event.source.position.line.map(|n| n as u64));
    put_u64(&mut buf, event.source.position.index.map(|n| n as u64));
    let delivery = &event.delivery;
    put_flag(&mut buf, Some(delivery.corrects));
    put_str(&mut buf, delivery.shared_event_id.as_deref());
    put_flag(&mut buf, Some(delivery.owner_copy));
    buf
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("file of resolved records: {what}"),
    )
}

/// Reads the fields of one encoded record in order.
struct Reader<'r> {
    bytes: &'r [u8],
}

impl<'r> Reader<'r> {
    fn take<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or_else(|| invalid("cut short"))?;
        self.bytes = rest;
        Ok(*head)
    }

    fn byte(&mut self) -> io::Result<u8> {
        Ok(self.take::<1>()?[0])
    }

    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> io::Result<Option<u64>> {
        let present = self.byte()? != 0;
        let n = u64::from_le_bytes(self.take()?);
        Ok(present.then_some(n))
    }

    fn flag(&mut self) -> io::Result<Option<bool>> {
        Ok(match self.byte()? {
            2 => None,
            b => Some(b != 0),
        })
    }

    fn str(&mut self) -> io::Result<Option<&'r str>> {
        let len = self.u32()?;
        if len == NONE {
            return Ok(None);
        }
        let len = len as usize;
        if self.bytes.len() < len {
            return Err(invalid("cut short"));
        }
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(text)
            .map(Some)
            .map_err(|_| invalid("not UTF-8"))
    }

    fn string(&mut self) -> io::Result<Option<String>> {
        Ok(self.str()?.map(str::to_string))
    }
}

/// Decodes one record made by [`encode`]. `input` is the name of the input the previous record
/// came from, shared with this one when it came from the same input.
pub fn decode(bytes: &[u8], input: &mut Option<Arc<str>>) -> io::Result<ResolvedEvent> {
    let mut r = Reader { bytes };
    let seconds = r.u64()?;
    let nanos = r.u32()?;
    let event_time = match seconds {
        Some(s) => Some(DateTime::from_timestamp(s as i64, nanos).ok_or_else(|| invalid("time"))?),
        None => None,
    };
    let event_id = r.string()?;
    let aws_region = r.string()?;
    let account_id = r.string()?;
    let error_code = r.string()?;
    let event_source = r.string()?.ok_or_else(|| invalid("event source"))?;
    let event_name = r.string()?.ok_or_else(|| invalid("event name"))?;
    let read_only = r.flag()?;
    let request_logged = r.flag()? == Some(true);
    let arn = r.string()?;
    let principal_account = r.string()?;
    let session_name = r.string()?;
    let access_key_id = r.string()?;
    let invoked_by = r.string()?;
    let kind = *PrincipalKind::ALL
        .get(r.byte()? as usize)
        .ok_or_else(|| invalid("principal type"))?;
    let cross_account = r.flag()? == Some(true);
    let count = r.u32()? as usize;
    let mut resources = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let arn = r.string()?.ok_or_else(|| invalid("resource"))?;
        let tag = r.byte()?;
        let rule = r.string()?;
        let via = match (tag, rule) {
            (0, _) => Via::Resources,
            (1, _) => Via::Lookup,
            (2, Some(id)) => Via::Rule(id),
            (3, _) => Via::Inventory,
            (4, _) => Via::ErrorMessage,
            (5, _) => Via::ArnInRecord,
            _ => return Err(invalid("how a resource was found")),
        };
        resources.push(Touched { arn, via });
    }
    let tag = r.byte()?;
    let text = r.string()?;
    let unresolved = match (tag, text) {
        (0, _) => None,
        (1, _) => Some(Unresolved::NoRule),
        (2, Some(rule)) => Some(Unresolved::NoResource { rule }),
        (3, Some(rule)) => Some(Unresolved::NothingFound { rule }),
        (4, Some(t)) => Some(Unresolved::UnknownLookupType(t)),
        _ => return Err(invalid("why unresolved")),
    };
    let name = r.str()?.ok_or_else(|| invalid("input"))?;
    let input = match input {
        Some(shared) if **shared == *name => shared.clone(),
        _ => input.insert(Arc::from(name)).clone(),
    };
    let position = Position {
        line: r.u64()?.map(|n| n as usize),
        index: r.u64()?.map(|n| n as usize),
    };
    let delivery = Delivery {
        corrects: r.flag()? == Some(true),
        shared_event_id: r.string()?,
        owner_copy: r.flag()? == Some(true),
    };
    if !r.bytes.is_empty() {
        return Err(invalid("trailing bytes"));
    }
    Ok(ResolvedEvent {
        event_time,
        event_id,
        event_source,
        event_name,
        aws_region,
        account_id,
        error_code,
        read_only,
        request_logged,
        resolution: Resolution {
            principal: Principal {
                arn,
                kind,
                account_id: principal_account,
                session_name,
                access_key_id,
                invoked_by,
                cross_account,
            },
            resources,
            unresolved,
        },
        source: RecordSource { input, position },
        delivery,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize) -> ResolvedEvent {
        let vias = [
            Via::Resources,
            Via::Lookup,
            Via::Rule("s3-get-object".into()),
            Via::Inventory,
            Via::ErrorMessage,
            Via::ArnInRecord,
        ];
        let unresolved = [
            None,
            Some(Unresolved::NoRule),
            Some(Unresolved::NoResource { rule: "r".into() }),
            Some(Unresolved::NothingFound { rule: "q".into() }),
            Some(Unresolved::UnknownLookupType("AWS::X::Y".into())),
        ];
        ResolvedEvent {
            event_time: (!n.is_multiple_of(3))
                .then(|| DateTime::from_timestamp(1_790_000_000 + n as i64, 123_456_789).unwrap()),
            event_id: (!n.is_multiple_of(4)).then(|| format!("id-{n}")),
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetObject".into(),
            aws_region: Some("eu-west-1".into()),
            account_id: n.is_multiple_of(2).then(|| "111122223333".into()),
            error_code: n.is_multiple_of(5).then(|| "AccessDenied".into()),
            read_only: [None, Some(true), Some(false)][n % 3],
            request_logged: n % 2 == 1,
            resolution: Resolution {
                principal: Principal {
                    arn: Some(format!("arn:aws:iam::111122223333:role/r{n}")),
                    kind: PrincipalKind::ALL[n % PrincipalKind::ALL.len()],
                    account_id: Some("111122223333".into()),
                    session_name: n.is_multiple_of(2).then(|| "s".into()),
                    access_key_id: Some("ASIAEXAMPLE".into()),
                    invoked_by: None,
                    cross_account: n % 3 == 1,
                },
                resources: (0..n % 4)
                    .map(|i| Touched {
                        arn: format!("arn:aws:s3:::b{i}"),
                        via: vias[(n + i) % vias.len()].clone(),
                    })
                    .collect(),
                unresolved: unresolved[n % unresolved.len()].clone(),
            },
            source: RecordSource {
                input: Arc::from(format!("f{}.json.gz", n / 3)),
                position: Position {
                    line: n.is_multiple_of(2).then_some(n),
                    index: Some(n * 2),
                },
            },
            delivery: Delivery {
                corrects: n.is_multiple_of(7),
                shared_event_id: (n % 3 == 2).then(|| format!("shared-{n}")),
                owner_copy: n % 5 == 1,
            },
        }
    }

    fn same(a: &ResolvedEvent, b: &ResolvedEvent) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    /// Every field survives the file, in order, and records of one input share its name.
    #[test]
    fn records_come_back_as_they_went_in() {
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<ResolvedEvent> = (0..60).map(event).collect();
        let mut deferred = Deferred::new_in(dir.path()).unwrap();
        for e in &events {
            deferred.push(&encode(e)).unwrap();
        }
        assert_eq!(deferred.len(), 60);
        let mut chunks = deferred.finish().unwrap();
        let mut chunk = Chunk::default();
        let mut back = Vec::new();
        let mut input = None;
        while chunks.next_into(&mut chunk).unwrap() {
            for &span in chunk.spans() {
                back.push(decode(chunk.record(span), &mut input).unwrap());
            }
        }
        assert_eq!(back.len(), events.len());
        for (a, b) in events.iter().zip(&back) {
            assert!(same(a, b), "{a:?}\n{b:?}");
        }
        assert!(Arc::ptr_eq(&back[0].source.input, &back[2].source.input));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let bytes = encode(&event(5));
        for cut in [0, 1, 9, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], &mut None).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, &mut None).is_err());
    }
}
