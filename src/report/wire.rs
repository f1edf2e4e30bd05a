//! A scan's findings as a file: what the last stage of a spread clean
//! hands to the machines that write the cleaned shards.
//!
//! A clean spread over machines scans once (the last stage) and writes
//! from many places (one job per shard). A job needs, for the inputs of
//! its shard only, what [`crate::rewrite::Removals`] is built from: each
//! duplicate in them with the kept paragraph it repeats and each
//! paragraph of them inside a longer one, with full [`Location`]s and
//! snippets (the rewrite checks each cut against them); and the inputs
//! the scan could not read (which must not be written). So the findings
//! are stored cut by input: a job reads the offsets of its inputs and then
//! only their parts, whatever the size of the corpus. The container is an
//! index file ([`crate::index::file`]: checksummed in 64 KiB chunks, each
//! checked when first read; written under a temporary name and renamed).
//!
//! Encoding, every number little-endian:
//!
//! - `META`: [`WIRE_VERSION`] (u32).
//! - `HEAD`: the 14 counts of [`Summary`] (u64, in declaration order), the
//!   paragraphs per input (u64 count, then u64 each), the unreadable
//!   inputs (u32 count, then each name as a u32 length and UTF-8 bytes).
//! - `OFFSETS`: per input and one more, the offset (u64) of its part in
//!   `PARTS`; input `i`'s part is `offsets[i]..offsets[i + 1]`.
//! - `PARTS`: per input, its strings (u32 count, each a u32 length and
//!   UTF-8 bytes), which its locations name by number (u32, `u32::MAX`
//!   for none); its duplicates (u32 count; each the kept member, the
//!   duplicate's member, the similarity as intersection and union u32 and
//!   the kind u8), in report order; and the containment findings whose
//!   shorter paragraph is in it (u32 count; each two locations, shared
//!   and of u32, two word ranges as four u64, the word counts and the
//!   content hashes as u64 pairs). A member is its location, its snippet
//!   (u32 length and bytes), an optional full text (u8 flag, then length
//!   and bytes) and its content hash (u64); a location is path, input
//!   (u32), document id, address, document number (u32), document line
//!   (u64), paragraph (u32), line, start, end (u64) and batch.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::{Cluster, Contained, Duplicate, Kind, Location, Member, Report, Summary};
use crate::id::{DocId, InputId};
use crate::index::file::{FileWriter, IndexFile};
use crate::{Config, Error, ErrorKind, Similarity};

/// The file kind.
pub const KIND: [u8; 4] = *b"FIND";
/// The encoding's version; a reader refuses any other. Version 1 held
/// the findings in one piece.
pub const WIRE_VERSION: u32 = 2;

const META: [u8; 8] = *b"META\0\0\0\0";
const HEAD: [u8; 8] = *b"HEAD\0\0\0\0";
const OFFSETS: [u8; 8] = *b"OFFSETS\0";
const PARTS: [u8; 8] = *b"PARTS\0\0\0";
const NONE: u32 = u32::MAX;

/// Writes `report`'s findings to `dir/name`, under a temporary name
/// first (a crash leaves no half-written file there). Returns the file's
/// length in bytes.
///
/// # Errors
///
/// Writing the file failed, or a snippet, text or list is too long for
/// the encoding's 32-bit lengths.
///
/// # Example
///
/// ```
/// use neardup::corpus::{Format, Input, MemorySource};
/// use neardup::pipeline::{scan, ScanOptions, Silent};
/// use neardup::report::wire;
///
/// let line = "the harbour board voted to rebuild the old north pier before winter\n";
/// let inputs = [Input::new(MemorySource::new("a.txt", line.repeat(2)), Format::Text)];
/// let report = scan(&inputs, &neardup::Config::default(), &ScanOptions::default(), &Silent)?;
/// let dir = std::env::temp_dir().join(format!("neardup-wire-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// wire::write(&dir, "findings", &report)?;
/// let (back, unreadable) = wire::read(&dir.join("findings"), 0..1)?;
/// assert_eq!(back.clusters, report.clusters);
/// assert!(unreadable.is_empty());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(dir: &Path, name: &str, report: &Report) -> Result<u64, Error> {
    use std::io::Write as _;
    let path = dir.join(name);
    let too_long = || {
        Error::limit(format!(
            "{}: the findings do not fit findings format {WIRE_VERSION} (a text, a list or a \
             table of names is longer than 32-bit lengths allow)",
            path.display()
        ))
    };
    let io = |err: std::io::Error| Error::index(format!("writing {}: {err}", path.display()));
    let head = encode_head(report).ok_or_else(too_long)?;
    let mut w = FileWriter::create(dir, name, KIND).map_err(io)?.replacing();
    for (tag, bytes) in [(META, &WIRE_VERSION.to_le_bytes()[..]), (HEAD, &head[..])] {
        let mut s = w.section(tag);
        s.write_all(bytes).map_err(io)?;
        s.finish().map_err(io)?;
    }
    // The parts go to the file one input at a time: a large report's
    // findings are never all encoded in memory at once.
    let mut s = w.section(PARTS);
    let offsets = encode_parts(report, &mut |part| s.write_all(part))
        .map_err(io)?
        .ok_or_else(too_long)?;
    s.finish().map_err(io)?;
    let mut s = w.section(OFFSETS);
    s.write_all(&offsets).map_err(io)?;
    s.finish().map_err(io)?;
    Ok(w.finish().map_err(io)?.len)
}

/// Reads the findings of inputs `inputs` (clamped to the scan's inputs):
/// a report whose clusters hold each duplicate in those inputs under the
/// kept paragraph it repeats (consecutive duplicates of one kept
/// paragraph share a cluster), whose containment findings are those whose
/// shorter paragraph is in them, with the whole scan's counts and
/// paragraphs per input, no passages (a clean needs none), default
/// settings and no diagnostics; and the names of the inputs the scan
/// could not read (I/O diagnostics with a path, in report order, each
/// once), which a cleaning job must not write. Only those inputs' parts
/// are read.
///
/// # Errors
///
/// The file is missing, of another kind or of another [`WIRE_VERSION`],
/// or what is read of it is damaged or truncated; the error names it.
pub fn read(path: &Path, inputs: Range<usize>) -> Result<(Report, Vec<String>), Error> {
    let file = IndexFile::open(path, KIND)?;
    let whole = |tag: [u8; 8]| -> Result<Vec<u8>, Error> {
        let s = file.section(tag)?;
        s.read_range(0..s.len())
    };
    let meta = whole(META)?;
    let version = match meta[..] {
        [a, b, c, d] => u32::from_le_bytes([a, b, c, d]),
        _ => u32::MAX,
    };
    if version != WIRE_VERSION {
        return Err(Error::index(format!(
            "{} was written by another neardup version (findings format {version}, this one \
             reads {WIRE_VERSION}): run the last stage again",
            path.display()
        )));
    }
    let damaged = || {
        Error::index(format!(
            "{} is damaged: its findings do not decode (run the last stage again)",
            path.display()
        ))
    };
    let (summary, paragraphs_by_input, unreadable) =
        decode_head(&whole(HEAD)?).ok_or_else(damaged)?;
    let n = paragraphs_by_input.len();
    let inputs = inputs.start.min(n)..inputs.end.min(n);
    let offsets = file.section(OFFSETS)?;
    if offsets.len() != 8 * (n as u64 + 1) {
        return Err(damaged());
    }
    let bounds = offsets.read_range(8 * inputs.start as u64..8 * (inputs.end as u64 + 1))?;
    let bounds: Vec<u64> = bounds
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let parts = file.section(PARTS)?;
    let (first, last) = (bounds[0], bounds[bounds.len() - 1]);
    if first > last || last > parts.len() || bounds.windows(2).any(|w| w[0] > w[1]) {
        return Err(damaged());
    }
    let bytes = parts.read_range(first..last)?;
    let (mut clusters, mut contained) = (Vec::new(), Vec::new());
    for w in bounds.windows(2) {
        let part = &bytes[(w[0] - first) as usize..(w[1] - first) as usize];
        decode_part(part, &mut clusters, &mut contained).ok_or_else(damaged)?;
    }
    let report = Report {
        summary,
        config: Config::default(),
        clusters,
        passages: Vec::new(),
        paragraphs_by_input,
        diagnostics: Vec::new(),
        timings: Vec::new(),
        contained,
    };
    Ok((report, unreadable))
}

/// The `HEAD` section of `report`; `None` when a length does not fit in
/// 32 bits.
fn encode_head(report: &Report) -> Option<Vec<u8>> {
    let mut head = Encoder::default();
    head.summary(&report.summary);
    head.u64(report.paragraphs_by_input.len() as u64);
    for &n in &report.paragraphs_by_input {
        head.u64(n);
    }
    let mut unreadable: Vec<&str> = Vec::new();
    for d in &report.diagnostics {
        if let (ErrorKind::Io, Some(path)) = (d.kind(), d.path())
            && !unreadable.contains(&path)
        {
            unreadable.push(path);
        }
    }
    head.len(unreadable.len());
    for path in unreadable {
        head.text(path);
    }
    (!head.too_long).then_some(head.body)
}

/// The `PARTS` section of `report`, an input's part at a time to `out`,
/// and the `OFFSETS` section; `None` when a length does not fit in 32
/// bits.
fn encode_parts(
    report: &Report,
    out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<Option<Vec<u8>>> {
    // Each input's duplicates and contained paragraphs, in report order.
    let n = report.paragraphs_by_input.len();
    let mut pairs: Vec<Vec<(&Member, &Duplicate)>> = vec![Vec::new(); n];
    for c in &report.clusters {
        for d in &c.duplicates {
            let Some(list) = pairs.get_mut(d.member.location.input.index()) else {
                return Ok(None);
            };
            list.push((&c.kept, d));
        }
    }
    let mut inside: Vec<Vec<&Contained>> = vec![Vec::new(); n];
    for c in report.contained.iter().filter(|c| c.short.batch.is_none()) {
        let Some(list) = inside.get_mut(c.short.input.index()) else {
            return Ok(None);
        };
        list.push(c);
    }
    let mut offsets = Vec::with_capacity(8 * (n + 1));
    let mut at = 0u64;
    for (pairs, inside) in pairs.iter().zip(&inside) {
        offsets.extend_from_slice(&at.to_le_bytes());
        let mut e = Encoder::default();
        e.len(pairs.len());
        for (kept, d) in pairs {
            e.member(kept);
            e.member(&d.member);
            e.u32(d.similarity.intersection);
            e.u32(d.similarity.union);
            e.body.push(match d.kind {
                Kind::WithinDocument => 0,
                Kind::CrossDocument => 1,
            });
        }
        e.len(inside.len());
        for c in inside {
            e.location(&c.short);
            e.location(&c.long);
            e.u32(c.shared);
            e.u32(c.of);
            for n in [
                c.short_words.start,
                c.short_words.end,
                c.long_words.start,
                c.long_words.end,
                c.words.0,
                c.words.1,
            ] {
                e.u64(n as u64);
            }
            e.u64(c.content.0);
            e.u64(c.content.1);
        }
        let Some(part) = e.finish() else {
            return Ok(None);
        };
        out(&part)?;
        at += part.len() as u64;
    }
    offsets.extend_from_slice(&at.to_le_bytes());
    Ok(Some(offsets))
}

/// The `HEAD`, `OFFSETS` and `PARTS` sections of `report`, in memory.
#[cfg(test)]
fn encode(report: &Report) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let mut parts = Vec::new();
    let offsets = encode_parts(report, &mut |p| {
        parts.extend_from_slice(p);
        Ok(())
    })
    .expect("writing to a vector")?;
    Some((encode_head(report)?, offsets, parts))
}

/// The counts, the paragraphs per input and the unreadable inputs.
fn decode_head(bytes: &[u8]) -> Option<(Summary, Vec<u64>, Vec<String>)> {
    let d = &mut Decoder {
        bytes,
        at: 0,
        strings: Vec::new(),
    };
    let summary = d.summary()?;
    let n = d.count(8)?;
    let paragraphs_by_input = (0..n).map(|_| d.u64()).collect::<Option<Vec<_>>>()?;
    let n = d.count32(4)?;
    let unreadable = (0..n).map(|_| d.text()).collect::<Option<Vec<_>>>()?;
    (d.left() == 0).then_some((summary, paragraphs_by_input, unreadable))
}

/// Adds one input's part to `clusters` and `contained`; `None` at the
/// first thing that does not decode, never a panic.
fn decode_part(
    part: &[u8],
    clusters: &mut Vec<Cluster>,
    contained: &mut Vec<Contained>,
) -> Option<()> {
    let mut d = Decoder {
        bytes: part,
        at: 0,
        strings: Vec::new(),
    };
    let n = d.count32(4)?;
    let table = (0..n)
        .map(|_| d.text().map(Arc::<str>::from))
        .collect::<Option<Vec<_>>>()?;
    d.strings = table;
    let n = d.count32(PAIR)?;
    for _ in 0..n {
        let kept = d.member()?;
        let member = d.member()?;
        let similarity = Similarity {
            intersection: d.u32()?,
            union: d.u32()?,
        };
        let kind = match d.byte()? {
            0 => Kind::WithinDocument,
            1 => Kind::CrossDocument,
            _ => return None,
        };
        let duplicate = Duplicate {
            member,
            similarity,
            kind,
        };
        match clusters.last_mut() {
            Some(c) if c.kept == kept => c.duplicates.push(duplicate),
            _ => clusters.push(Cluster {
                kept,
                duplicates: vec![duplicate],
            }),
        }
    }
    let n = d.count32(CONTAINED)?;
    for _ in 0..n {
        let (short, long) = (d.location()?, d.location()?);
        let (shared, of) = (d.u32()?, d.u32()?);
        let mut n = [0usize; 6];
        for v in &mut n {
            *v = usize::try_from(d.u64()?).ok()?;
        }
        contained.push(Contained {
            short,
            long,
            shared,
            of,
            short_words: n[0]..n[1],
            long_words: n[2]..n[3],
            words: (n[4], n[5]),
            content: (d.u64()?, d.u64()?),
        });
    }
    (d.left() == 0).then_some(())
}

/// The fewest bytes each item can take (empty snippets, no text): what a
/// count read from the file is checked against before anything is
/// allocated for it.
const LOCATION: usize = 7 * 4 + 4 * 8;
const MEMBER: usize = LOCATION + 4 + 1 + 8;
const DUPLICATE: usize = MEMBER + 2 * 4 + 1;
const PAIR: usize = MEMBER + DUPLICATE;
const CONTAINED: usize = 2 * LOCATION + 2 * 4 + 8 * 8;

/// Every count of a summary, in declaration order: what is written and
/// read, in one list (a new field is a compile error here, not a count
/// silently lost).
fn counts(s: &mut Summary) -> [&mut u64; 14] {
    let Summary {
        inputs,
        documents,
        paragraphs,
        fingerprinted,
        allowed,
        duplicate_paragraphs,
        within_document,
        cross_document,
        clusters,
        passages,
        bytes_read,
        comparisons,
        empty_documents,
        invalid_utf8,
    } = s;
    [
        inputs,
        documents,
        paragraphs,
        fingerprinted,
        allowed,
        duplicate_paragraphs,
        within_document,
        cross_document,
        clusters,
        passages,
        bytes_read,
        comparisons,
        empty_documents,
        invalid_utf8,
    ]
}

/// The body being written, and the strings it names by number. Also the
/// encoding of the spread scan's stage files ([`crate::stage`]), which
/// carry members, counts and problems between machines.
#[derive(Default)]
pub(crate) struct Encoder<'a> {
    body: Vec<u8>,
    strings: Vec<&'a str>,
    numbers: ahash::AHashMap<&'a str, u32>,
    /// A length did not fit in 32 bits: the findings cannot be written.
    too_long: bool,
}

impl<'a> Encoder<'a> {
    pub(crate) fn u32(&mut self, n: u32) {
        self.body.extend_from_slice(&n.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, n: u64) {
        self.body.extend_from_slice(&n.to_le_bytes());
    }

    pub(crate) fn len(&mut self, n: usize) {
        let n = u32::try_from(n).unwrap_or_else(|_| {
            self.too_long = true;
            0
        });
        self.u32(n);
    }

    pub(crate) fn text(&mut self, s: &str) {
        self.len(s.len());
        self.body.extend_from_slice(s.as_bytes());
    }

    fn string_ref(&mut self, s: Option<&'a str>) {
        let n = match s {
            None => NONE,
            Some(s) => *self.numbers.entry(s).or_insert_with(|| {
                self.strings.push(s);
                (self.strings.len() - 1) as u32
            }),
        };
        self.u32(n);
    }

    pub(crate) fn summary(&mut self, s: &Summary) {
        let mut s = *s;
        for n in counts(&mut s) {
            self.u64(*n);
        }
    }

    pub(crate) fn location(&mut self, l: &'a Location) {
        self.string_ref(Some(&l.path));
        self.u32(l.input.index() as u32);
        self.string_ref(Some(&l.doc));
        self.string_ref(l.url.as_deref());
        self.u32(l.doc_index.index() as u32);
        self.u64(l.doc_line);
        self.u32(l.paragraph);
        self.u64(l.line);
        self.u64(l.start);
        self.u64(l.end);
        self.string_ref(l.batch.as_deref());
    }

    /// An optional number: a flag byte, then the number.
    pub(crate) fn maybe(&mut self, n: Option<u64>) {
        self.body.push(u8::from(n.is_some()));
        self.u64(n.unwrap_or(0));
    }

    /// A problem (without its source, which no message shows).
    pub(crate) fn error(&mut self, e: &Error) {
        let (kind, message, path, line, offset, flags) = e.to_wire();
        self.body.extend_from_slice(&[kind, flags]);
        self.text(message);
        self.body.push(u8::from(path.is_some()));
        self.text(path.unwrap_or(""));
        self.maybe(line);
        self.maybe(offset);
    }

    /// The table of the strings named so far, then the body; `None` when a
    /// length does not fit in 32 bits.
    pub(crate) fn finish(self) -> Option<Vec<u8>> {
        let mut table = Encoder::default();
        table.len(self.strings.len());
        for s in &self.strings {
            table.text(s);
        }
        if self.too_long || table.too_long || self.strings.len() >= NONE as usize {
            return None;
        }
        table.body.extend_from_slice(&self.body);
        Some(table.body)
    }

    pub(crate) fn member(&mut self, m: &'a Member) {
        self.location(&m.location);
        self.text(&m.snippet);
        match &m.text {
            Some(t) => {
                self.body.push(1);
                self.text(t);
            }
            None => self.body.push(0),
        }
        self.u64(m.content);
    }
}

/// Reads what [`Encoder`] wrote; `None` at the first thing that does not
/// decode, never a panic.
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    strings: Vec<Arc<str>>,
}

impl<'a> Decoder<'a> {
    /// A decoder of what [`Encoder::finish`] wrote: the table of strings
    /// read first.
    pub(crate) fn with_table(bytes: &'a [u8]) -> Option<Decoder<'a>> {
        let mut d = Decoder {
            bytes,
            at: 0,
            strings: Vec::new(),
        };
        let n = d.count32(4)?;
        d.strings = (0..n)
            .map(|_| d.text().map(Arc::<str>::from))
            .collect::<Option<Vec<_>>>()?;
        Some(d)
    }

    pub(crate) fn maybe(&mut self) -> Option<Option<u64>> {
        let flag = self.byte()?;
        let n = self.u64()?;
        match flag {
            0 => Some(None),
            1 => Some(Some(n)),
            _ => None,
        }
    }

    /// A problem [`Encoder::error`] wrote.
    pub(crate) fn error(&mut self) -> Option<Error> {
        let (kind, flags) = (self.byte()?, self.byte()?);
        let message = self.text()?;
        let has_path = self.byte()?;
        let path = self.text()?;
        let path = match has_path {
            0 => None,
            1 => Some(path),
            _ => return None,
        };
        let (line, offset) = (self.maybe()?, self.maybe()?);
        Error::from_wire((kind, message, path, line, offset, flags))
    }

    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Some(out)
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A u64 count of items of at least `least` bytes each, refused when
    /// the bytes left cannot hold them (so a damaged count cannot ask for
    /// a huge allocation).
    pub(crate) fn count(&mut self, least: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.fits(n, least)
    }

    /// The same for a u32 count.
    pub(crate) fn count32(&mut self, least: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        self.fits(n, least)
    }

    fn fits(&self, n: usize, least: usize) -> Option<usize> {
        (n.checked_mul(least)? <= self.left()).then_some(n)
    }

    pub(crate) fn text(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    /// A string by number: `Some(None)` for none.
    fn string(&mut self) -> Option<Option<Arc<str>>> {
        match self.u32()? {
            NONE => Some(None),
            n => Some(Some(self.strings.get(n as usize)?.clone())),
        }
    }

    pub(crate) fn summary(&mut self) -> Option<Summary> {
        let mut s = Summary::default();
        for n in counts(&mut s) {
            *n = self.u64()?;
        }
        Some(s)
    }

    pub(crate) fn location(&mut self) -> Option<Location> {
        Some(Location {
            path: self.string()??,
            input: InputId::new(self.u32()?),
            doc: self.string()??,
            url: self.string()?,
            doc_index: DocId::new(self.u32()?),
            doc_line: self.u64()?,
            paragraph: self.u32()?,
            line: self.u64()?,
            start: self.u64()?,
            end: self.u64()?,
            batch: self.string()?,
        })
    }

    pub(crate) fn member(&mut self) -> Option<Member> {
        let location = self.location()?;
        let snippet = self.text()?;
        let text = match self.byte()? {
            0 => None,
            1 => Some(self.text()?),
            _ => return None,
        };
        Some(Member {
            location,
            snippet,
            text,
            content: self.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Format, Input, MemorySource, Source};
    use crate::pipeline::{ScanOptions, Silent, scan};
    use crate::rewrite::{CleanOptions, Removals, rewrite};

    /// An input that cannot be opened, as a deleted file.
    struct Gone;
    impl Source for Gone {
        fn name(&self) -> &str {
            "gone.txt"
        }
        fn open(&self) -> std::io::Result<Box<dyn std::io::Read + Send + '_>> {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }

    /// Duplicates within a text file and across a JSON Lines file (with
    /// a number and a string id and a malformed record), a 30-word quote
    /// inside a longer paragraph, and an unreadable input named twice.
    fn inputs() -> Vec<Input> {
        let pier = "the harbour board voted to rebuild the old north pier before";
        let ferry = "ferry services resumed on monday after the storm";
        let quote: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let quote = quote.join(" ");
        let a = format!(
            "{pier} winter\nsome ten words of opening here then {quote} and a close\n\
             {pier} winter\n"
        );
        let b = format!(
            "{{\"id\": 7, \"text\": \"{pier} spring\\n{quote}\"}}\nnot json\n\
             {{\"id\": \"x\", \"text\": \"{ferry}\"}}\n"
        );
        let c = format!("{ferry}\n");
        vec![
            Input::new(MemorySource::new("a.txt", a), Format::Text),
            Input::new(MemorySource::new("b.jsonl", b), Format::Jsonl),
            Input::new(Gone, Format::Text),
            Input::new(MemorySource::new("c.txt", c), Format::Text),
            Input::new(Gone, Format::Text),
        ]
    }

    fn report(inputs: &[Input]) -> Report {
        let options = ScanOptions {
            full_text: true,
            containment: Some(crate::containment::find::Settings::default()),
            ..ScanOptions::default()
        };
        scan(inputs, &Config::default(), &options, &Silent).unwrap()
    }

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("neardup-wire-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Each duplicate with its kept paragraph, in input order of the
    /// duplicates: what a clean acts on, however clusters are cut.
    fn pairs(r: &Report) -> Vec<(Member, Duplicate)> {
        let mut out: Vec<(Member, Duplicate)> = r
            .clusters
            .iter()
            .flat_map(|c| c.duplicates.iter().map(|d| (c.kept.clone(), d.clone())))
            .collect();
        out.sort_by_key(|(_, d)| (d.member.location.doc_index, d.member.location.paragraph));
        out
    }

    #[test]
    fn findings_read_back_as_written_and_clean_alike() {
        let inputs = inputs();
        let report = report(&inputs);
        let duplicates = || report.clusters.iter().flat_map(|c| &c.duplicates);
        assert!(duplicates().all(|d| d.member.text.is_some()));
        let kinds: Vec<Kind> = duplicates().map(|d| d.kind).collect();
        assert!(
            kinds.contains(&Kind::WithinDocument) && kinds.contains(&Kind::CrossDocument),
            "{kinds:?}"
        );
        assert!(!report.contained.is_empty());
        let kinds: Vec<ErrorKind> = report.diagnostics.iter().map(Error::kind).collect();
        assert!(
            kinds.contains(&ErrorKind::Io) && kinds.contains(&ErrorKind::Record),
            "{kinds:?}"
        );
        let d = dir("round");
        let len = write(&d, "f.ndf", &report).unwrap();
        assert_eq!(len, std::fs::metadata(d.join("f.ndf")).unwrap().len());
        let (back, unreadable) = read(&d.join("f.ndf"), 0..usize::MAX).unwrap();
        assert_eq!(pairs(&back), pairs(&report));
        assert_eq!(back.contained, report.contained);
        assert_eq!(back.summary, report.summary);
        assert_eq!(back.paragraphs_by_input, report.paragraphs_by_input);
        assert!(back.diagnostics.is_empty() && back.timings.is_empty());
        assert_eq!(unreadable, ["gone.txt"]);
        // One string per name in a part, shared by every location naming it.
        let c = &back.clusters[0];
        assert!(Arc::ptr_eq(
            &c.kept.location.path,
            &c.duplicates[0].member.location.path
        ));
        // The same removals: every readable input cleaned to the same bytes,
        // from the whole file and from each input's part alone.
        let a = Removals::new(&report, &inputs).with_contained(&report.contained);
        let b = Removals::new(&back, &inputs).with_contained(&back.contained);
        let mut removed = 0;
        for (i, input) in inputs.iter().enumerate() {
            if unreadable.iter().any(|n| n == input.source.name()) {
                continue;
            }
            let (part, _) = read(&d.join("f.ndf"), i..i + 1).unwrap();
            assert!(
                pairs(&part)
                    .iter()
                    .all(|(_, d)| d.member.location.input.index() == i)
            );
            assert!(part.contained.iter().all(|c| c.short.input.index() == i));
            let c = Removals::new(&part, &inputs).with_contained(&part.contained);
            let id = InputId::new(i as u32);
            let o = CleanOptions::default();
            let mut outs = Vec::new();
            for r in [&a, &b, &c] {
                let mut x = Vec::new();
                let stats = rewrite(input, id, r, &o, &mut x, |_| Ok(())).unwrap();
                outs.push((x, stats));
            }
            removed += outs[0].1.removed;
            assert!(outs[0] == outs[1] && outs[1] == outs[2], "input {i}");
        }
        assert!(removed >= 3, "{removed}");
        // A range past the inputs reads nothing, and is no error.
        let (none, _) = read(&d.join("f.ndf"), 7..9).unwrap();
        assert!(none.clusters.is_empty() && none.contained.is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Fields a scan of text inputs leaves empty (addresses, batches)
    /// come back too, and the least sizes that counts are checked against
    /// are those of the smallest items (else a valid file could be
    /// refused).
    #[test]
    fn smallest_items_and_every_field_round_trip() {
        let mut r = report(&inputs());
        r.clusters.truncate(1);
        r.clusters[0].duplicates.truncate(1);
        r.contained.truncate(1);
        r.diagnostics = Vec::new();
        let c = &mut r.clusters[0];
        for m in [&mut c.kept, &mut c.duplicates[0].member] {
            (m.snippet, m.text) = (String::new(), None);
        }
        c.duplicates[0].member.location.url = Some("https://example.org/".into());
        r.contained[0].long.batch = Some("batch-1".into());
        let (_, offsets, parts) = encode(&r).unwrap();
        let mut clusters = Vec::new();
        let mut contained = Vec::new();
        for w in offsets.chunks_exact(8).collect::<Vec<_>>().windows(2) {
            let [a, b] = [w[0], w[1]].map(|x| u64::from_le_bytes(x.try_into().unwrap()) as usize);
            let part = &parts[a..b];
            let before = (clusters.len(), contained.len());
            decode_part(part, &mut clusters, &mut contained).unwrap();
            // The strings' table, then the counts and the items at their least.
            let items =
                (clusters.len() - before.0) * PAIR + (contained.len() - before.1) * CONTAINED;
            let table = u32::from_le_bytes(part[..4].try_into().unwrap()) as usize;
            assert!(
                items + 8 <= part.len() - 4 - 4 * table,
                "{items} {}",
                part.len()
            );
        }
        assert_eq!((clusters, contained), (r.clusters, r.contained));
        assert_eq!(PAIR, 2 * (7 * 4 + 4 * 8 + 13) + 9);
    }

    #[test]
    fn damaged_or_truncated_files_are_refused_by_name_never_misread() {
        let report = report(&inputs());
        let d = dir("damaged");
        write(&d, "f.ndf", &report).unwrap();
        let path = d.join("f.ndf");
        let good = std::fs::read(&path).unwrap();
        let refused = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            match read(&path, 0..usize::MAX) {
                Err(err) => assert!(err.to_string().contains("f.ndf"), "{err}"),
                // A byte no checksum covers must not change the findings.
                Ok((back, _)) => assert_eq!(pairs(&back), pairs(&report)),
            }
        };
        // Every third byte: each part of the file, at a few ms a file.
        for at in (0..good.len()).step_by(3) {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            refused(&bad);
        }
        for len in (0..good.len()).step_by(7) {
            std::fs::write(&path, &good[..len]).unwrap();
            let err = read(&path, 0..usize::MAX).expect_err("truncated");
            assert!(err.to_string().contains("f.ndf"), "{err}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// The checksums stop damage before decoding; the decoder must still
    /// refuse any cut or changed part without panicking.
    #[test]
    fn decoding_damaged_sections_never_panics() {
        let (head, _, parts) = encode(&report(&inputs())).unwrap();
        assert!(decode_head(&head).is_some());
        for len in 0..head.len() {
            assert!(decode_head(&head[..len]).is_none(), "{len}");
        }
        let (mut c, mut k) = (Vec::new(), Vec::new());
        // Input 0's part is at the start of PARTS; the whole area decodes as
        // one part only by accident, so cut and changed prefixes are tried.
        for len in 0..parts.len().min(4000) {
            let _ = decode_part(&parts[..len], &mut c, &mut k);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut bad = parts.clone();
            bad[(x % parts.len() as u64) as usize] = (x >> 32) as u8;
            let _ = decode_part(&bad, &mut c, &mut k);
        }
    }

    #[test]
    fn other_kinds_versions_and_undecodable_files_are_refused() {
        let d = dir("foreign");
        let file = |name: &str, kind: [u8; 4], version: u32, head: &[u8]| {
            let mut w = FileWriter::create(&d, name, kind).unwrap();
            for (tag, bytes) in [
                (META, &version.to_le_bytes()[..]),
                (HEAD, head),
                (OFFSETS, &0u64.to_le_bytes()[..]),
                (PARTS, &[][..]),
            ] {
                use std::io::Write as _;
                let mut s = w.section(tag);
                s.write_all(bytes).unwrap();
                s.finish().unwrap();
            }
            w.finish().unwrap();
            read(&d.join(name), 0..1).err().unwrap().to_string()
        };
        let err = file("other.ndf", *b"OTHR", WIRE_VERSION, &[]);
        assert!(
            err.contains("other.ndf") && err.contains("\"OTHR\""),
            "{err}"
        );
        let err = file("v1.ndf", KIND, 1, &[]);
        assert!(
            err.contains("v1.ndf") && err.contains("findings format 1, this one reads 2"),
            "{err}"
        );
        let err = file("bad.ndf", KIND, WIRE_VERSION, &[0xFF; 200]);
        assert!(err.contains("bad.ndf is damaged"), "{err}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
