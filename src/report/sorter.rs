//! Findings in report order, whatever their number: an external merge sort.
//!
//! Rows are gathered into runs of at most [`RUN_ROWS`]; a full run is sorted and written to an
//! anonymous temporary file beside the reports, in a compact binary form. At the end the runs
//! are merged. A scan with fewer findings than one run never touches the disk. Memory is one
//! run, a read buffer per spilled run and a bounded table of repeated strings, however many
//! events and findings there are.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::DateTime;

use super::FindingRow;
use crate::event::Position;
use crate::event::RecordSource;
use crate::principal::PrincipalKind;
use crate::verdict::Kind;

/// Rows held in memory before a sorted run is written out (~250 bytes each, their strings
/// mostly shared with other rows: see `FindingRow::new`).
pub const RUN_ROWS: usize = 50_000;

/// Gathers findings and gives them back in report order ([`FindingRow::sort_key`]).
pub struct FindingSorter {
    dir: PathBuf,
    run_rows: usize,
    run: Vec<FindingRow>,
    spilled: Vec<File>,
    strings: StringTable,
}

impl FindingSorter {
    /// A sorter that holds up to `run_rows` rows ([`RUN_ROWS`] by default) and writes sorted
    /// runs, if it needs to, as anonymous files in `dir`.
    pub fn new(dir: &Path, run_rows: usize) -> Self {
        FindingSorter {
            dir: dir.to_path_buf(),
            run_rows: run_rows.max(1),
            run: Vec::new(),
            spilled: Vec::new(),
            strings: StringTable::new(TABLE_STRINGS),
        }
    }

    /// Adds a row; writes out the run when it is full.
    pub fn push(&mut self, row: FindingRow) -> io::Result<()> {
        if self.run.capacity() == 0 {
            self.run.reserve_exact(self.run_rows);
        }
        self.run.push(row);
        if self.run.len() >= self.run_rows {
            self.spill()?;
        }
        Ok(())
    }

    /// Runs written to disk so far.
    pub fn runs_spilled(&self) -> usize {
        self.spilled.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        sort(&mut self.run);
        std::fs::create_dir_all(&self.dir)?;
        let mut out = BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(&self.dir)?);
        let mut buf = Vec::with_capacity(512);
        for row in self.run.drain(..) {
            buf.clear();
            encode(&row, &mut self.strings, &mut buf);
            out.write_all(&buf)?;
        }
        let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.spilled.push(file);
        Ok(())
    }

    /// All rows, in report order.
    pub fn finish(mut self) -> io::Result<Sorted> {
        sort(&mut self.run);
        if self.spilled.is_empty() {
            return Ok(Sorted::Memory(self.run.into_iter()));
        }
        let mut runs: Vec<Run> = self
            .spilled
            .into_iter()
            .map(|file| Run::Disk(BufReader::with_capacity(1 << 16, file)))
            .collect();
        runs.push(Run::Memory(self.run.into_iter()));
        let strings = self.strings.strings;
        let mut heads = BinaryHeap::new();
        for (index, run) in runs.iter_mut().enumerate() {
            if let Some(row) = run.next_row(&strings)? {
                heads.push(Reverse(Head { row, run: index }));
            }
        }
        Ok(Sorted::Merge {
            runs,
            heads,
            strings,
        })
    }
}

fn sort(rows: &mut [FindingRow]) {
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// The rows of a [`FindingSorter`], in report order.
pub enum Sorted {
    Memory(std::vec::IntoIter<FindingRow>),
    Merge {
        runs: Vec<Run>,
        heads: BinaryHeap<Reverse<Head>>,
        /// The strings spilled rows name by number.
        strings: Vec<Arc<str>>,
    },
}

impl Default for Sorted {
    /// No rows.
    fn default() -> Self {
        Sorted::Memory(Vec::new().into_iter())
    }
}

impl Iterator for Sorted {
    type Item = io::Result<FindingRow>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Sorted::Memory(rows) => rows.next().map(Ok),
            Sorted::Merge {
                runs,
                heads,
                strings,
            } => {
                let Reverse(Head { row, run }) = heads.pop()?;
                match runs[run].next_row(strings) {
                    Ok(Some(next)) => heads.push(Reverse(Head { row: next, run })),
                    Ok(None) => {}
                    Err(err) => return Some(Err(err)),
                }
                Some(Ok(row))
            }
        }
    }
}

/// One sorted run: the last one stays in memory.
pub enum Run {
    Disk(BufReader<File>),
    Memory(std::vec::IntoIter<FindingRow>),
}

impl Run {
    fn next_row(&mut self, strings: &[Arc<str>]) -> io::Result<Option<FindingRow>> {
        match self {
            Run::Memory(rows) => Ok(rows.next()),
            Run::Disk(reader) => decode(reader, strings),
        }
    }
}

/// The smallest row of a run, ordered by report order, then by run so equal rows keep the
/// order they were pushed in.
pub struct Head {
    row: FindingRow,
    run: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.row
            .sort_key()
            .cmp(&other.row.sort_key())
            .then(self.run.cmp(&other.run))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Head {}

// The spill format: fixed-width integers little-endian, strings as a u32 length then UTF-8,
// an absent string as length u32::MAX. Strings that rows repeat (all but the event id) are a
// u32: the number of the string in the sorter's `StringTable`, or one of the two markers below.
// Only this module writes and reads it, in one process.

/// An absent string (also in `scan::deferred`, which writes strings the same way).
pub(crate) const NONE: u32 = u32::MAX;
/// A repeated string the table had no room for: its length and UTF-8 follow.
const WHOLE: u32 = u32::MAX - 1;

/// Strings the table holds at most (a few MB), so memory stays bounded when rows name ever new
/// resources.
const TABLE_STRINGS: usize = 1 << 16;

/// The repeated strings of spilled rows, each written once: a spilled row names them by number,
/// and reading a row back clones them instead of copying and looking up its text. Reading the
/// 436,000 findings of the 1M-event benchmark back was almost half of the merge's time before
/// this.
///
/// Keyed by the address of the row's copy: rows made on one thread share copies
/// (`report::shared`), and the table holds every copy it numbered, so an address cannot come back
/// for other text. Equal text at two addresses gets two numbers, which costs only room.
struct StringTable {
    numbers: foldhash::HashMap<usize, u32>,
    strings: Vec<Arc<str>>,
    room: usize,
}

impl StringTable {
    fn new(room: usize) -> Self {
        StringTable {
            numbers: Default::default(),
            strings: Vec::new(),
            room,
        }
    }

    /// The number of `text`, given one if there is room.
    fn number(&mut self, text: &Arc<str>) -> Option<u32> {
        let address = Arc::as_ptr(text).cast::<u8>() as usize;
        if let Some(&number) = self.numbers.get(&address) {
            return Some(number);
        }
        if self.strings.len() >= self.room.min(WHOLE as usize) {
            return None;
        }
        let number = self.strings.len() as u32;
        self.strings.push(text.clone());
        self.numbers.insert(address, number);
        Some(number)
    }
}

fn put_shared(buf: &mut Vec<u8>, strings: &mut StringTable, s: Option<&Arc<str>>) {
    match s.map(|text| (text, strings.number(text))) {
        None => buf.extend_from_slice(&NONE.to_le_bytes()),
        Some((_, Some(number))) => buf.extend_from_slice(&number.to_le_bytes()),
        Some((text, None)) => {
            buf.extend_from_slice(&WHOLE.to_le_bytes());
            put_str(buf, Some(text));
        }
    }
}

/// A string as a u32 length then UTF-8; absent as [`NONE`].
pub(crate) fn put_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        None => buf.extend_from_slice(&NONE.to_le_bytes()),
    }
}

/// A presence byte, then the number (0 when absent).
pub(crate) fn put_u64(buf: &mut Vec<u8>, n: Option<u64>) {
    buf.push(n.is_some() as u8);
    buf.extend_from_slice(&n.unwrap_or(0).to_le_bytes());
}

fn encode(row: &FindingRow, strings: &mut StringTable, buf: &mut Vec<u8>) {
    put_u64(buf, row.event_time.map(|t| t.timestamp_millis() as u64));
    put_str(buf, row.event_id.as_deref());
    put_shared(buf, strings, Some(&row.event_source));
    put_shared(buf, strings, Some(&row.event_name));
    for s in [
        &row.aws_region,
        &row.account_id,
        &row.principal_arn,
        &row.principal_account,
        &row.principal_product,
        &row.principal_tag_source,
        &row.resource_arn,
        &row.resource_product,
        &row.resource_tag_source,
        &row.previous_resource_product,
        &row.resolved_via,
        &row.error_code,
    ] {
        put_shared(buf, strings, s.as_ref());
    }
    buf.push(row.principal_type as u8);
    buf.push(row.kind as u8);
    buf.push(row.cross_account as u8);
    buf.push(row.denied as u8);
    buf.push(match row.read_only {
        None => 2,
        Some(b) => b as u8,
    });
    put_shared(buf, strings, Some(&row.source.input));
    put_u64(buf, row.source.position.line.map(|n| n as u64));
    put_u64(buf, row.source.position.index.map(|n| n as u64));
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("findings spill file: {what}"),
    )
}

/// Reads the fields of one row; `scratch` holds the bytes of each string written whole until
/// it is copied into its `Box`, or found among the strings this thread already shares
/// (`report::shared`).
struct Reader<'r, R> {
    input: &'r mut R,
    strings: &'r [Arc<str>],
    scratch: Vec<u8>,
}

impl<R: Read> Reader<'_, R> {
    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.input.read_exact(&mut b)?;
        Ok(b)
    }

    fn byte(&mut self) -> io::Result<u8> {
        Ok(self.bytes::<1>()?[0])
    }

    fn u64(&mut self) -> io::Result<Option<u64>> {
        let present = self.byte()? != 0;
        let n = u64::from_le_bytes(self.bytes()?);
        Ok(present.then_some(n))
    }

    /// The next string, read into `scratch`.
    fn text(&mut self) -> io::Result<Option<&str>> {
        let len = u32::from_le_bytes(self.bytes()?);
        if len == NONE {
            return Ok(None);
        }
        self.scratch.resize(len as usize, 0);
        self.input.read_exact(&mut self.scratch)?;
        std::str::from_utf8(&self.scratch)
            .map(Some)
            .map_err(|_| invalid("not UTF-8"))
    }

    /// The next repeated string: a number in the table, or the string itself.
    fn shared(&mut self) -> io::Result<Option<Arc<str>>> {
        match u32::from_le_bytes(self.bytes()?) {
            NONE => Ok(None),
            WHOLE => Ok(self.text()?.map(super::shared)),
            number => self
                .strings
                .get(number as usize)
                .cloned()
                .map(Some)
                .ok_or_else(|| invalid("string number")),
        }
    }
}

/// Reads the next row, or `None` at the end of the run.
fn decode<R: Read>(input: &mut R, strings: &[Arc<str>]) -> io::Result<Option<FindingRow>> {
    let mut first = [0u8; 1];
    if input.read(&mut first)? == 0 {
        return Ok(None);
    }
    let mut r = Reader {
        input,
        strings,
        scratch: Vec::new(),
    };
    let millis = u64::from_le_bytes(r.bytes()?);
    let event_time = if first[0] != 0 {
        Some(DateTime::from_timestamp_millis(millis as i64).ok_or_else(|| invalid("time"))?)
    } else {
        None
    };
    let event_id = r.text()?.map(Box::from);
    let event_source = r.shared()?.ok_or_else(|| invalid("event source"))?;
    let event_name = r.shared()?.ok_or_else(|| invalid("event name"))?;
    let aws_region = r.shared()?;
    let account_id = r.shared()?;
    let principal_arn = r.shared()?;
    let principal_account = r.shared()?;
    let principal_product = r.shared()?;
    let principal_tag_source = r.shared()?;
    let resource_arn = r.shared()?;
    let resource_product = r.shared()?;
    let resource_tag_source = r.shared()?;
    let previous_resource_product = r.shared()?;
    let resolved_via = r.shared()?;
    let error_code = r.shared()?;
    let principal_type = *PrincipalKind::ALL
        .get(r.byte()? as usize)
        .ok_or_else(|| invalid("principal type"))?;
    let kind = *Kind::ALL
        .get(r.byte()? as usize)
        .ok_or_else(|| invalid("kind"))?;
    let cross_account = r.byte()? != 0;
    let denied = r.byte()? != 0;
    let read_only = match r.byte()? {
        2 => None,
        b => Some(b != 0),
    };
    let input: Arc<str> = r.shared()?.ok_or_else(|| invalid("source"))?;
    let position = Position {
        line: r.u64()?.map(|n| n as usize),
        index: r.u64()?.map(|n| n as usize),
    };
    Ok(Some(FindingRow {
        event_time,
        event_id,
        event_source,
        event_name,
        aws_region,
        account_id,
        principal_arn,
        principal_type,
        principal_account,
        cross_account,
        principal_product,
        principal_tag_source,
        resource_arn,
        resource_product,
        resource_tag_source,
        previous_resource_product,
        kind,
        resolved_via,
        error_code,
        denied,
        read_only,
        source: RecordSource { input, position },
    }))
}

#[cfg(test)]
mod tests {
    use super::super::rows::tests::row;
    use super::*;

    #[test]
    fn kinds_are_stored_by_their_place_in_all() {
        // `encode` writes `kind as u8`; `decode` reads it back as an index into `ALL`.
        assert!(PrincipalKind::ALL
            .iter()
            .enumerate()
            .all(|(i, k)| *k as usize == i));
        assert!(Kind::ALL.iter().enumerate().all(|(i, k)| *k as usize == i));
    }

    #[test]
    fn rows_survive_the_spill_format() {
        let first = row(7, "e-7", Kind::UntaggedResource, Some("arn:aws:s3:::b"));
        let second = row(8, "e-8", Kind::ProductMismatch, Some("arn:aws:s3:::c"));
        for room in [TABLE_STRINGS, 1, 0] {
            // With less room than strings, the rest are written whole.
            let mut strings = StringTable::new(room);
            let mut buf = Vec::new();
            encode(&first, &mut strings, &mut buf);
            encode(&second, &mut strings, &mut buf);
            assert!(strings.strings.len() <= room);
            let mut reader = &buf[..];
            let table = &strings.strings;
            assert_eq!(decode(&mut reader, table).unwrap().as_ref(), Some(&first));
            assert_eq!(decode(&mut reader, table).unwrap().as_ref(), Some(&second));
            assert_eq!(decode(&mut reader, table).unwrap(), None);
        }
    }

    #[test]
    fn spilled_runs_merge_into_the_same_order_as_one_sort() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<FindingRow> = (0..1000)
            .map(|i| {
                let second = (i * 7919) % 613; // many ties on time
                let kind = Kind::ALL[i as usize % Kind::ALL.len()];
                let resource = (i % 4 != 0).then(|| format!("arn:aws:s3:::b{}", i % 5));
                row(second, &format!("e-{}", i % 97), kind, resource.as_deref())
            })
            .collect();
        let mut expected = rows.clone();
        sort(&mut expected);

        let mut sorter = FindingSorter::new(dir.path(), 64);
        for r in rows.clone() {
            sorter.push(r).unwrap();
        }
        assert_eq!(sorter.runs_spilled(), 1000 / 64);
        let merged: Vec<FindingRow> = sorter.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(merged, expected);

        let mut in_memory = FindingSorter::new(dir.path(), 10_000);
        for r in rows {
            in_memory.push(r).unwrap();
        }
        assert_eq!(in_memory.runs_spilled(), 0);
        let sorted: Vec<FindingRow> = in_memory.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(sorted, expected);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "spill files are anonymous and leave nothing behind"
        );
    }
}
