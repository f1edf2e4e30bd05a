//! A scan's findings as a file: what the last stage of a spread clean
//! hands to the machines that write the cleaned shards.
//!
//! A clean spread over machines scans once (the last stage) and writes
//! from many places (one job per shard). The jobs need what
//! [`crate::rewrite::Removals`] is built from — every cluster with its
//! kept paragraph and duplicates, every containment finding, each with
//! its full [`Location`] and snippet (the rewrite checks each cut against
//! them) — plus the counts and the inputs the scan could not read (which
//! must not be written). That is small next to the corpus (the
//! duplicates, not the paragraphs), so it is handed over whole, in an
//! index container file ([`crate::index::file`]: checksummed, written
//! under a temporary name and renamed).
//!
//! Encoding, every number little-endian: section `META` holds
//! [`WIRE_VERSION`] (u32); `STRINGS` a count (u32) and each string as a
//! u32 length and UTF-8 bytes, which the paths, document ids, addresses
//! and batches of locations name by number (u32, `u32::MAX` for none),
//! so a million findings in a few files do not repeat the paths; `BODY`
//! the 14 counts of [`Summary`] (u64, in declaration order), the
//! paragraphs per input (u64 count, then u64 each), the unreadable inputs
//! (u32 count, then string numbers), the clusters (u64 count; each a
//! member, a u32 count of duplicates, then each duplicate's member,
//! similarity as intersection and union u32 and kind u8) and the
//! containment findings (u64 count; each two locations, shared and of
//! u32, two word ranges as four u64, the word counts and the content
//! hashes as u64 pairs). A member is its location, its snippet (u32
//! length and bytes), an optional full text (u8 flag, then length and
//! bytes) and its content hash (u64); a location is path, input (u32),
//! document id, address, document number (u32), document line (u64),
//! paragraph (u32), line, start, end (u64) and batch.

use std::path::Path;
use std::sync::Arc;

use super::{Cluster, Contained, Duplicate, Kind, Location, Member, Report, Summary};
use crate::id::{DocId, InputId};
use crate::index::file::{FileWriter, IndexFile};
use crate::{Config, Error, ErrorKind, Similarity};

/// The file kind.
pub const KIND: [u8; 4] = *b"FIND";
/// The encoding's version; a reader refuses any other.
pub const WIRE_VERSION: u32 = 1;

const META: [u8; 8] = *b"META\0\0\0\0";
const STRINGS: [u8; 8] = *b"STRINGS\0";
const BODY: [u8; 8] = *b"BODY\0\0\0\0";
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
/// let (back, unreadable) = wire::read(&dir.join("findings"))?;
/// assert_eq!(back.clusters, report.clusters);
/// assert!(unreadable.is_empty());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(dir: &Path, name: &str, report: &Report) -> Result<u64, Error> {
    let path = dir.join(name);
    let (strings, body) = encode(report).ok_or_else(|| {
        Error::limit(format!(
            "{}: the findings do not fit findings format {WIRE_VERSION} (a text, a list or the \
             table of names is longer than 32-bit lengths allow)",
            path.display()
        ))
    })?;
    let io = |err: std::io::Error| Error::index(format!("writing {}: {err}", path.display()));
    let mut w = FileWriter::create(dir, name, KIND).map_err(io)?;
    for (tag, bytes) in [
        (META, &WIRE_VERSION.to_le_bytes()[..]),
        (STRINGS, &strings[..]),
        (BODY, &body[..]),
    ] {
        use std::io::Write as _;
        let mut s = w.section(tag);
        s.write_all(bytes).map_err(io)?;
        s.finish().map_err(io)?;
    }
    Ok(w.finish().map_err(io)?.len)
}

/// Reads findings back: a report whose clusters, containment findings,
/// counts and paragraphs per input are the written ones, whose passages
/// are computed again from the clusters, with default settings, no
/// timings and no diagnostics; and the names of the inputs the scan could
/// not read (I/O diagnostics with a path, in report order, each once),
/// which a cleaning job must not write.
///
/// # Errors
///
/// The file is missing, damaged or truncated (every checksum is checked
/// first), of another kind, or of another [`WIRE_VERSION`]; the error
/// names it.
pub fn read(path: &Path) -> Result<(Report, Vec<String>), Error> {
    let file = IndexFile::open(path, KIND)?;
    file.verify_all()?;
    let section = |tag: [u8; 8]| -> Result<Vec<u8>, Error> {
        let s = file.section(tag)?;
        s.read_range(0..s.len())
    };
    let meta = section(META)?;
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
    decode(&section(STRINGS)?, &section(BODY)?).ok_or_else(|| {
        Error::index(format!(
            "{} is damaged: its findings do not decode (run the last stage again)",
            path.display()
        ))
    })
}

/// The `STRINGS` and `BODY` sections of `report`; `None` when a length
/// does not fit in 32 bits.
fn encode(report: &Report) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut e = Encoder::default();
    e.summary(&report.summary);
    e.u64(report.paragraphs_by_input.len() as u64);
    for &n in &report.paragraphs_by_input {
        e.u64(n);
    }
    let mut unreadable: Vec<&str> = Vec::new();
    for d in &report.diagnostics {
        if let (ErrorKind::Io, Some(path)) = (d.kind(), d.path())
            && !unreadable.contains(&path)
        {
            unreadable.push(path);
        }
    }
    e.len(unreadable.len());
    for path in unreadable {
        e.string_ref(Some(path));
    }
    e.u64(report.clusters.len() as u64);
    for c in &report.clusters {
        e.member(&c.kept);
        e.len(c.duplicates.len());
        for d in &c.duplicates {
            e.member(&d.member);
            e.u32(d.similarity.intersection);
            e.u32(d.similarity.union);
            e.body.push(match d.kind {
                Kind::WithinDocument => 0,
                Kind::CrossDocument => 1,
            });
        }
    }
    e.u64(report.contained.len() as u64);
    for c in &report.contained {
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
    // Numbers up to `NONE` name strings; the table itself is written with
    // the same 32-bit lengths.
    let mut table = Encoder::default();
    table.len(e.strings.len());
    for s in &e.strings {
        table.text(s);
    }
    let fits = !e.too_long && !table.too_long && e.strings.len() < NONE as usize;
    fits.then_some((table.body, e.body))
}

/// Reads what [`encode`] wrote; `None` at the first thing that does not
/// decode, never a panic.
fn decode(strings: &[u8], body: &[u8]) -> Option<(Report, Vec<String>)> {
    let mut d = Decoder {
        bytes: strings,
        at: 0,
        strings: Vec::new(),
    };
    let n = d.count32(4)?;
    let table = (0..n)
        .map(|_| d.text().map(Arc::<str>::from))
        .collect::<Option<Vec<_>>>()?;
    if d.left() != 0 {
        return None;
    }
    let d = &mut Decoder {
        bytes: body,
        at: 0,
        strings: table,
    };
    let summary = d.summary()?;
    let n = d.count(8)?;
    let paragraphs_by_input = (0..n).map(|_| d.u64()).collect::<Option<Vec<_>>>()?;
    let n = d.count32(4)?;
    let unreadable = (0..n)
        .map(|_| Some(d.string()??.to_string()))
        .collect::<Option<Vec<_>>>()?;
    let n = d.count(CLUSTER)?;
    let mut clusters = Vec::with_capacity(n);
    for _ in 0..n {
        let kept = d.member()?;
        let k = d.count32(DUPLICATE)?;
        let mut duplicates = Vec::with_capacity(k);
        for _ in 0..k {
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
            duplicates.push(Duplicate {
                member,
                similarity,
                kind,
            });
        }
        clusters.push(Cluster { kept, duplicates });
    }
    let n = d.count(CONTAINED)?;
    let mut contained = Vec::with_capacity(n);
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
    if d.left() != 0 {
        return None;
    }
    let passages = crate::passage::passages(&clusters);
    let report = Report {
        summary,
        config: Config::default(),
        clusters,
        passages,
        paragraphs_by_input,
        diagnostics: Vec::new(),
        timings: Vec::new(),
        contained,
    };
    Some((report, unreadable))
}

/// The fewest bytes each item can take (empty snippets, no text): what a
/// count read from the file is checked against before anything is
/// allocated for it.
const LOCATION: usize = 7 * 4 + 4 * 8;
const MEMBER: usize = LOCATION + 4 + 1 + 8;
const CLUSTER: usize = MEMBER + 4;
const DUPLICATE: usize = MEMBER + 2 * 4 + 1;
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

/// The body being written, and the strings it names by number.
#[derive(Default)]
struct Encoder<'a> {
    body: Vec<u8>,
    strings: Vec<&'a str>,
    numbers: ahash::AHashMap<&'a str, u32>,
    /// A length did not fit in 32 bits: the findings cannot be written.
    too_long: bool,
}

impl<'a> Encoder<'a> {
    fn u32(&mut self, n: u32) {
        self.body.extend_from_slice(&n.to_le_bytes());
    }

    fn u64(&mut self, n: u64) {
        self.body.extend_from_slice(&n.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        let n = u32::try_from(n).unwrap_or_else(|_| {
            self.too_long = true;
            0
        });
        self.u32(n);
    }

    fn text(&mut self, s: &str) {
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

    fn summary(&mut self, s: &Summary) {
        let mut s = *s;
        for n in counts(&mut s) {
            self.u64(*n);
        }
    }

    fn location(&mut self, l: &'a Location) {
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

    fn member(&mut self, m: &'a Member) {
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
struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    strings: Vec<Arc<str>>,
}

impl Decoder<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Some(out)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A u64 count of items of at least `least` bytes each, refused when
    /// the bytes left cannot hold them (so a damaged count cannot ask for
    /// a huge allocation).
    fn count(&mut self, least: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.fits(n, least)
    }

    /// The same for a u32 count.
    fn count32(&mut self, least: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        self.fits(n, least)
    }

    fn fits(&self, n: usize, least: usize) -> Option<usize> {
        (n.checked_mul(least)? <= self.left()).then_some(n)
    }

    fn text(&mut self) -> Option<String> {
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

    fn summary(&mut self) -> Option<Summary> {
        let mut s = Summary::default();
        for n in counts(&mut s) {
            *n = self.u64()?;
        }
        Some(s)
    }

    fn location(&mut self) -> Option<Location> {
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

    fn member(&mut self) -> Option<Member> {
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
        assert!(!report.contained.is_empty() && !report.passages.is_empty());
        let kinds: Vec<ErrorKind> = report.diagnostics.iter().map(Error::kind).collect();
        assert!(
            kinds.contains(&ErrorKind::Io) && kinds.contains(&ErrorKind::Record),
            "{kinds:?}"
        );
        let d = dir("round");
        let len = write(&d, "f.ndf", &report).unwrap();
        assert_eq!(len, std::fs::metadata(d.join("f.ndf")).unwrap().len());
        let (back, unreadable) = read(&d.join("f.ndf")).unwrap();
        assert_eq!(back.clusters, report.clusters);
        assert_eq!(back.contained, report.contained);
        assert_eq!(back.summary, report.summary);
        assert_eq!(back.paragraphs_by_input, report.paragraphs_by_input);
        assert_eq!(back.passages, report.passages);
        assert!(back.diagnostics.is_empty() && back.timings.is_empty());
        assert_eq!(unreadable, ["gone.txt"]);
        // One string per name, shared by every location naming it.
        let c = &back.clusters[0];
        assert!(Arc::ptr_eq(
            &c.kept.location.path,
            &c.duplicates[0].member.location.path
        ));
        // The same removals: every readable input cleaned to the same bytes.
        let (a, b) = (
            Removals::new(&report, &inputs).with_contained(&report.contained),
            Removals::new(&back, &inputs).with_contained(&back.contained),
        );
        let mut removed = 0;
        for (i, input) in inputs.iter().enumerate() {
            if unreadable.iter().any(|n| n == input.source.name()) {
                continue;
            }
            let id = InputId::new(i as u32);
            let (mut x, mut y) = (Vec::new(), Vec::new());
            let o = CleanOptions::default();
            let sx = rewrite(input, id, &a, &o, &mut x, |_| Ok(())).unwrap();
            let sy = rewrite(input, id, &b, &o, &mut y, |_| Ok(())).unwrap();
            removed += sx.removed;
            assert_eq!((x, sx), (y, sy), "input {i}");
        }
        assert!(removed >= 3, "{removed}");
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
        (r.paragraphs_by_input, r.diagnostics) = (Vec::new(), Vec::new());
        let c = &mut r.clusters[0];
        for m in [&mut c.kept, &mut c.duplicates[0].member] {
            (m.snippet, m.text) = (String::new(), None);
        }
        c.duplicates[0].member.location.url = Some("https://example.org/".into());
        r.contained[0].short.batch = Some("batch-1".into());
        let (strings, body) = encode(&r).unwrap();
        let counts = 14 * 8 + 8 + 4 + 8 + 8;
        assert_eq!(body.len(), counts + CLUSTER + DUPLICATE + CONTAINED);
        let (back, _) = decode(&strings, &body).unwrap();
        assert_eq!((back.clusters, back.contained), (r.clusters, r.contained));
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
            match read(&path) {
                Err(err) => assert!(err.to_string().contains("f.ndf"), "{err}"),
                // A byte no checksum covers must not change the findings.
                Ok((back, _)) => assert_eq!(back.clusters, report.clusters),
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
            let err = read(&path).expect_err("truncated");
            assert!(err.to_string().contains("f.ndf"), "{err}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// The checksums stop damage before decoding; the decoder must still
    /// refuse any cut or changed body without panicking.
    #[test]
    fn decoding_damaged_sections_never_panics() {
        let (strings, body) = encode(&report(&inputs())).unwrap();
        assert!(decode(&strings, &body).is_some());
        for len in 0..body.len() {
            assert!(decode(&strings, &body[..len]).is_none(), "{len}");
        }
        for len in 0..strings.len() {
            assert!(decode(&strings[..len], &body).is_none(), "{len}");
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut bad = body.clone();
            bad[(x % body.len() as u64) as usize] = (x >> 32) as u8;
            let _ = decode(&strings, &bad);
        }
    }

    #[test]
    fn other_kinds_versions_and_undecodable_bodies_are_refused() {
        let d = dir("foreign");
        let file = |name: &str, kind: [u8; 4], version: u32, body: &[u8]| {
            let mut w = FileWriter::create(&d, name, kind).unwrap();
            for (tag, bytes) in [
                (META, &version.to_le_bytes()[..]),
                (STRINGS, &0u32.to_le_bytes()[..]),
                (BODY, body),
            ] {
                use std::io::Write as _;
                let mut s = w.section(tag);
                s.write_all(bytes).unwrap();
                s.finish().unwrap();
            }
            w.finish().unwrap();
            read(&d.join(name)).err().unwrap().to_string()
        };
        let err = file("other.ndf", *b"OTHR", WIRE_VERSION, &[]);
        assert!(
            err.contains("other.ndf") && err.contains("\"OTHR\""),
            "{err}"
        );
        let err = file("v2.ndf", KIND, 2, &[]);
        assert!(
            err.contains("v2.ndf") && err.contains("findings format 2, this one reads 1"),
            "{err}"
        );
        let err = file("bad.ndf", KIND, WIRE_VERSION, &[0xFF; 200]);
        assert!(err.contains("bad.ndf is damaged"), "{err}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
