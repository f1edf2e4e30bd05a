//! Segments: kept paragraphs of an index (of one batch or a part of it;
//! after `compact`, of several), in one immutable file of sections ([`super::file`]).
//!
//! What a segment holds per paragraph is what a later scan needs to treat
//! it as an earlier, kept paragraph without its text: its content hash,
//! its 32-bit band keys (in one table per band, sorted by key, so a batch
//! finds its candidates by merging its own sorted keys with the table),
//! its token hashes (so the exact shingle set, and with it the exact
//! similarity, can be computed again: verification is as exact as in a
//! one-shot scan, not an estimate) and where it was found.
//!
//! Token hashes take 8 bytes each; stored as numbers into a per-segment
//! dictionary ordered by frequency, LEB128-coded, a token of news prose
//! takes under 2 bytes. The full layout, section by section, is in
//! `docs/index-format.md`; every number is little-endian.
//!
//! | section | content |
//! |---|---|
//! | `META` | segment version u32, bands u32, rows u64, documents u64, strings u64, dictionary entries u64 |
//! | `PARAS` | per row: content hash u64, token offset u64 (into `TOKSEQ`), document u32, paragraph u32, line u64, start u64, end u64 (48 bytes) |
//! | `DOCS` | per document: path u32, id u32 (`u32::MAX`: the path), url u32 (`u32::MAX`: none), input u32, first line u64 (24 bytes) |
//! | `STROFF`, `STRDATA` | the strings: `strings + 1` offsets u64 into the UTF-8 bytes |
//! | `DICT` | the token hashes u64, most frequent first (ties by hash) |
//! | `TOKSEQ` | per row, its tokens' dictionary numbers as LEB128 |
//! | `BAND0000` ... | per band: (key u32, row u32) for every row, sorted by key, then row |

use super::file::{FileInfo, FileWriter, IndexFile};
use crate::Error;
use crate::id::{DocId, InputId};
use crate::pipeline::prior::{KeptParagraph, KeptSink, PriorParagraph};
use crate::report::Location;
use ahash::AHashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// The file kind of a segment.
pub const KIND: [u8; 4] = *b"SEGM";

/// The version of what a segment's sections hold (the container has its
/// own, [`super::file::FILE_VERSION`]).
pub const SEGMENT_VERSION: u32 = 1;

const META: [u8; 8] = *b"META\0\0\0\0";
const PARAS: [u8; 8] = *b"PARAS\0\0\0";
const DOCS: [u8; 8] = *b"DOCS\0\0\0\0";
const STROFF: [u8; 8] = *b"STROFF\0\0";
const STRDATA: [u8; 8] = *b"STRDATA\0";
const DICT: [u8; 8] = *b"DICT\0\0\0\0";
const TOKSEQ: [u8; 8] = *b"TOKSEQ\0\0";
const PARA_BYTES: usize = 48;
const DOC_BYTES: usize = 24;
const NONE: u32 = u32::MAX;

/// The tag of band `b`'s table.
fn band_tag(b: usize) -> [u8; 8] {
    let mut tag = *b"BAND0000";
    tag[4..].copy_from_slice(format!("{:04}", b % 10_000).as_bytes());
    tag
}

/// Token hashes held before a segment is cut at the next document: 64 MiB
/// of them (about 70 MB of news text), which bounds a writer's memory
/// whatever the batch's size: one segment fills while the one before it is
/// written by a thread of its own (at 1 GB this overlap made `index create`
/// 25% faster; with segments half this size its peak memory stayed where it
/// was).
pub const SEGMENT_TOKENS: usize = 1 << 23;

/// One paragraph while a segment is built.
struct Row {
    content: u64,
    doc: u32,
    paragraph: u32,
    line: u64,
    start: u64,
    end: u64,
    /// End of its tokens in the builder's token buffer.
    tokens_end: usize,
}

struct DocRow {
    path: u32,
    id: u32,
    url: u32,
    input: u32,
    line: u64,
}

/// Writes the kept paragraphs handed to it into segment files, cutting a
/// new segment at a document boundary once [`SEGMENT_TOKENS`] tokens are
/// held. `create` makes each file's writer.
pub struct SegmentBuilder<F> {
    create: F,
    limit: usize,
    held: Held,
    string_ids: AHashMap<Arc<str>, u32>,
    last_doc: Option<DocId>,
    files: Vec<(FileInfo, u64)>,
    /// The segment being written by a thread of its own while the next
    /// one fills (one at a time: on 2 cores a second writer bought nothing
    /// measurable, `index create` being CPU-bound by then, and cost 170 MB
    /// more at 1 GB).
    writing: Option<std::thread::JoinHandle<Result<(FileInfo, u64), Error>>>,
    /// Where the scan writing into it keeps its scratch file.
    spill_dir: Option<std::path::PathBuf>,
}

/// The rows of one segment, before it is written.
#[derive(Default)]
struct Held {
    bands: usize,
    rows: Vec<Row>,
    keys: Vec<u32>,
    tokens: Vec<u64>,
    docs: Vec<DocRow>,
    strings: Vec<Arc<str>>,
}

impl<F> SegmentBuilder<F>
where
    F: FnMut() -> Result<FileWriter, Error> + Send,
{
    /// A builder for paragraphs with `bands` band keys.
    pub fn new(bands: usize, create: F) -> SegmentBuilder<F> {
        SegmentBuilder::with_limit(bands, SEGMENT_TOKENS, create)
    }

    /// [`new`](Self::new), cutting segments after `limit` tokens (tests
    /// use small limits to get many segments).
    pub fn with_limit(bands: usize, limit: usize, create: F) -> SegmentBuilder<F> {
        SegmentBuilder {
            create,
            limit: limit.max(1),
            held: Held {
                bands,
                ..Held::default()
            },
            string_ids: AHashMap::new(),
            last_doc: None,
            files: Vec::new(),
            writing: None,
            spill_dir: None,
        }
    }

    /// Lets the scan that writes into it keep its scratch file in `dir`
    /// (the index's directory), not in memory.
    pub fn spilling_in(mut self, dir: &std::path::Path) -> SegmentBuilder<F> {
        self.spill_dir = Some(dir.to_owned());
        self
    }

    /// Writes what is held and returns every file written, with its
    /// paragraph count.
    ///
    /// # Errors
    ///
    /// Writing a file failed.
    pub fn finish(mut self) -> Result<Vec<(FileInfo, u64)>, Error> {
        self.flush()?;
        self.join()?;
        Ok(std::mem::take(&mut self.files))
    }

    fn string(&mut self, s: &Arc<str>) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.held.strings.len() as u32;
        self.held.strings.push(s.clone());
        self.string_ids.insert(s.clone(), id);
        id
    }

    /// Waits for the segment being written.
    fn join(&mut self) -> Result<(), Error> {
        if let Some(writing) = self.writing.take() {
            let done = writing
                .join()
                .map_err(|_| Error::index("the thread writing an index segment panicked"))??;
            self.files.push(done);
        }
        Ok(())
    }

    /// Starts writing the held rows as one segment, on a thread of its
    /// own (after the one before it is written).
    fn flush(&mut self) -> Result<(), Error> {
        if self.held.rows.is_empty() {
            return Ok(());
        }
        self.join()?;
        let file = (self.create)()?;
        let bands = self.held.bands;
        let held = std::mem::replace(
            &mut self.held,
            Held {
                bands,
                ..Held::default()
            },
        );
        self.string_ids.clear();
        self.writing = Some(std::thread::spawn(move || held.write(file)));
        Ok(())
    }
}

impl<F> Drop for SegmentBuilder<F> {
    /// A builder dropped early (an error) still waits for its writers, so
    /// that no thread writes into the index after the writer's lock is
    /// gone.
    fn drop(&mut self) {
        if let Some(writing) = self.writing.take() {
            let _ = writing.join();
        }
    }
}

impl Held {
    /// The dictionary (token hashes, most frequent first), the rows' token
    /// numbers as LEB128 and each row's offset into them.
    fn encode_tokens(&self) -> (Vec<u64>, Vec<u8>, Vec<u64>) {
        // The dictionary: most frequent tokens get the shortest numbers.
        // Each token is looked up once (one cache miss, the cost of this
        // step), for a number in order of first appearance and a count;
        // the dictionary's order then renumbers them.
        let mut first_seen: AHashMap<u64, (u32, u32)> = AHashMap::new();
        let numbered: Vec<u32> = self
            .tokens
            .iter()
            .map(|&t| {
                let next = first_seen.len() as u32;
                let (n, count) = first_seen.entry(t).or_insert((next, 0));
                *count += 1;
                *n
            })
            .collect();
        let mut entries: Vec<(u32, u64, u32)> = first_seen
            .into_iter()
            .map(|(t, (n, count))| (count, t, n))
            .collect();
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut rank = vec![0u32; entries.len()];
        for (r, &(_, _, n)) in entries.iter().enumerate() {
            rank[n as usize] = r as u32;
        }
        let dict: Vec<u64> = entries.iter().map(|&(_, t, _)| t).collect();
        let mut seq = Vec::with_capacity(self.tokens.len() * 2);
        let mut offsets = Vec::with_capacity(self.rows.len());
        let mut from = 0;
        for row in &self.rows {
            offsets.push(seq.len() as u64);
            for &n in &numbered[from..row.tokens_end] {
                leb128(&mut seq, rank[n as usize]);
            }
            from = row.tokens_end;
        }
        (dict, seq, offsets)
    }

    /// Each band's table: (key, row) for every row, sorted by key, then
    /// row, as bytes.
    fn band_tables(&self) -> Vec<Vec<u8>> {
        let mut scratch = Vec::new();
        (0..self.bands)
            .map(|band| {
                let mut pairs: Vec<u64> = (0..self.rows.len())
                    .map(|r| u64::from(self.keys[r * self.bands + band]) << 32 | r as u64)
                    .collect();
                sort_by_key(&mut pairs, &mut scratch);
                let mut table = Vec::with_capacity(pairs.len() * 8);
                for &pair in &pairs {
                    table.extend_from_slice(&((pair >> 32) as u32).to_le_bytes());
                    table.extend_from_slice(&(pair as u32).to_le_bytes());
                }
                table
            })
            .collect()
    }

    /// Writes the rows as one segment into `file`.
    fn write(self, mut file: FileWriter) -> Result<(FileInfo, u64), Error> {
        let name = file.name().to_owned();
        let io = |e: std::io::Error| Error::index(format!("writing index segment {name}: {e}"));
        // The token numbers and the band tables are independent: built
        // side by side, on a second thread (the last segment of a batch is
        // written while nothing else runs).
        let ((dict, seq, offsets), tables) = std::thread::scope(|scope| {
            let tokens = scope.spawn(|| self.encode_tokens());
            let tables = self.band_tables();
            (
                tokens.join().expect("encoding a segment's tokens panicked"),
                tables,
            )
        });
        let mut put = |tag: [u8; 8], bytes: &[u8]| -> Result<(), Error> {
            let mut s = file.section(tag);
            s.write_all(bytes).map_err(io)?;
            s.finish().map_err(io)
        };
        let mut meta = Vec::with_capacity(40);
        meta.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
        meta.extend_from_slice(&(self.bands as u32).to_le_bytes());
        for n in [
            self.rows.len(),
            self.docs.len(),
            self.strings.len(),
            dict.len(),
        ] {
            meta.extend_from_slice(&(n as u64).to_le_bytes());
        }
        put(META, &meta)?;
        let mut paras = Vec::with_capacity(self.rows.len() * PARA_BYTES);
        for (row, &offset) in self.rows.iter().zip(&offsets) {
            paras.extend_from_slice(&row.content.to_le_bytes());
            paras.extend_from_slice(&offset.to_le_bytes());
            paras.extend_from_slice(&row.doc.to_le_bytes());
            paras.extend_from_slice(&row.paragraph.to_le_bytes());
            for n in [row.line, row.start, row.end] {
                paras.extend_from_slice(&n.to_le_bytes());
            }
        }
        put(PARAS, &paras)?;
        drop(paras);
        let mut docs = Vec::with_capacity(self.docs.len() * DOC_BYTES);
        for d in &self.docs {
            for n in [d.path, d.id, d.url, d.input] {
                docs.extend_from_slice(&n.to_le_bytes());
            }
            docs.extend_from_slice(&d.line.to_le_bytes());
        }
        put(DOCS, &docs)?;
        let mut stroff = Vec::with_capacity((self.strings.len() + 1) * 8);
        let mut strdata = Vec::new();
        for s in &self.strings {
            stroff.extend_from_slice(&(strdata.len() as u64).to_le_bytes());
            strdata.extend_from_slice(s.as_bytes());
        }
        stroff.extend_from_slice(&(strdata.len() as u64).to_le_bytes());
        put(STROFF, &stroff)?;
        put(STRDATA, &strdata)?;
        let dict_bytes: Vec<u8> = dict.iter().flat_map(|t| t.to_le_bytes()).collect();
        put(DICT, &dict_bytes)?;
        put(TOKSEQ, &seq)?;
        drop(seq);
        for (band, table) in tables.iter().enumerate() {
            put(band_tag(band), table)?;
        }
        let info = file.finish().map_err(io)?;
        Ok((info, self.rows.len() as u64))
    }
}

impl<F> KeptSink for SegmentBuilder<F>
where
    F: FnMut() -> Result<FileWriter, Error> + Send,
{
    fn spill_dir(&self) -> Option<&std::path::Path> {
        self.spill_dir.as_deref()
    }

    fn kept(&mut self, p: KeptParagraph<'_>) -> Result<(), Error> {
        let l = p.location;
        if p.keys.len() != self.held.bands {
            return Err(Error::index(format!(
                "a paragraph with {} band keys for an index of {} bands",
                p.keys.len(),
                self.held.bands
            )));
        }
        if self.last_doc != Some(l.doc_index) {
            // A new document: the place to cut a full segment.
            if self.held.tokens.len() >= self.limit {
                self.flush()?;
            }
            self.last_doc = Some(l.doc_index);
            let path = self.string(&l.path);
            let id = if Arc::ptr_eq(&l.path, &l.doc) {
                NONE
            } else {
                self.string(&l.doc)
            };
            let url = match &l.url {
                Some(u) => self.string(u),
                None => NONE,
            };
            self.held.docs.push(DocRow {
                path,
                id,
                url,
                input: l.input.get(),
                line: l.doc_line,
            });
        }
        self.held.tokens.extend_from_slice(p.tokens);
        self.held.keys.extend_from_slice(p.keys);
        self.held.rows.push(Row {
            content: p.content,
            doc: self.held.docs.len() as u32 - 1,
            paragraph: l.paragraph,
            line: l.line,
            start: l.start,
            end: l.end,
            tokens_end: self.held.tokens.len(),
        });
        Ok(())
    }
}

/// Sorts `key << 32 | row` values by key, rows in their order: they are
/// built in row order, and a stable radix sort of the key's 32 bits in
/// three passes of 11 bits keeps it (linear, where a comparison sort of
/// each band's table was a tenth of an `index create`).
fn sort_by_key(values: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    const BITS: u32 = 11;
    scratch.clear();
    scratch.resize(values.len(), 0);
    for shift in [32, 32 + BITS, 32 + 2 * BITS] {
        let digit = |v: u64| ((v >> shift) & ((1 << BITS) - 1)) as usize;
        let mut at = vec![0usize; 1 << BITS];
        for &v in values.iter() {
            at[digit(v)] += 1;
        }
        let mut total = 0;
        for count in &mut at {
            (*count, total) = (total, total + *count);
        }
        for &v in values.iter() {
            let d = digit(v);
            scratch[at[d]] = v;
            at[d] += 1;
        }
        std::mem::swap(values, scratch);
    }
}

fn leb128(out: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A segment opened for reading: its tables are read when first needed,
/// the band tables streamed, never all held.
pub struct Segment {
    file: IndexFile,
    pub(super) rows: u64,
    pub(super) docs: u64,
    bands: usize,
    strings: u64,
    dict_len: u64,
    /// The number of documents in the index before this segment's.
    doc_base: u32,
    dict: OnceLock<Result<Vec<u64>, String>>,
    strs: OnceLock<Result<Vec<Arc<str>>, String>>,
}

impl Segment {
    /// Opens the segment in `file`, whose documents are numbered from
    /// `doc_base`.
    ///
    /// # Errors
    ///
    /// The file is not a segment of this version, or its tables do not
    /// agree with each other.
    pub fn open(file: IndexFile, doc_base: u32) -> Result<Segment, Error> {
        let name = file.path().display().to_string();
        let bad = |what: &str| Error::index(format!("index segment {name} is damaged: {what}"));
        let meta = file.section(META)?.read_range(0..40)?;
        let u32_at = |i: usize| u32::from_le_bytes(meta[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(meta[i..i + 8].try_into().expect("8 bytes"));
        let version = u32_at(0);
        if version != SEGMENT_VERSION {
            return Err(Error::index(format!(
                "index segment {name} has segment version {version}; this neardup reads \
                 version {SEGMENT_VERSION}"
            )));
        }
        let (bands, rows, docs, strings, dict_len) = (
            u32_at(4) as usize,
            u64_at(8),
            u64_at(16),
            u64_at(24),
            u64_at(32),
        );
        let expect = |tag: [u8; 8], len: u64| -> Result<(), Error> {
            let actual = file.section(tag)?.len();
            if Some(actual) == Some(len) {
                Ok(())
            } else {
                Err(bad(&format!(
                    "section {} holds {actual} bytes, its table says {len}",
                    String::from_utf8_lossy(&tag).trim_end_matches('\0')
                )))
            }
        };
        let sizes = (|| {
            Some((
                rows.checked_mul(PARA_BYTES as u64)?,
                docs.checked_mul(DOC_BYTES as u64)?,
                strings.checked_add(1)?.checked_mul(8)?,
                dict_len.checked_mul(8)?,
                rows.checked_mul(8)?,
            ))
        })()
        .ok_or_else(|| bad("counts out of range"))?;
        expect(PARAS, sizes.0)?;
        expect(DOCS, sizes.1)?;
        expect(STROFF, sizes.2)?;
        expect(DICT, sizes.3)?;
        for b in 0..bands {
            expect(band_tag(b), sizes.4)?;
        }
        if docs > u64::from(u32::MAX) || rows > u64::from(u32::MAX) {
            return Err(bad("more rows than a segment may hold"));
        }
        Ok(Segment {
            file,
            rows,
            docs,
            bands,
            strings,
            dict_len,
            doc_base,
            dict: OnceLock::new(),
            strs: OnceLock::new(),
        })
    }

    /// Its file.
    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// The band count the segment was written with.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// The rows whose key in `band` is in `keys` (ascending, distinct),
    /// as `(key, row)`: by streaming the band's table once, or, for a few
    /// keys in a large table, by binary search.
    pub(super) fn matches(&self, band: usize, keys: &[u32]) -> Result<Vec<(u32, u32)>, Error> {
        // A probe touches (and checks, the first time) a 64 KiB chunk:
        // about 20 of them per key against reading the table's
        // `8 × rows` bytes once.
        let probes = (keys.len() as u64).saturating_mul(20);
        let stream_chunks = self.rows * 8 / super::file::CHUNK;
        if probes < stream_chunks {
            self.matches_searched(band, keys)
        } else {
            self.matches_streamed(band, keys)
        }
    }

    /// [`matches`](Self::matches) by binary search of each key.
    fn matches_searched(&self, band: usize, keys: &[u32]) -> Result<Vec<(u32, u32)>, Error> {
        let section = self.file.section(band_tag(band))?;
        let entry = |i: u64| -> Result<(u32, u32), Error> {
            let b = section.read_range(i * 8..i * 8 + 8)?;
            Ok((
                u32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
                u32::from_le_bytes(b[4..].try_into().expect("4 bytes")),
            ))
        };
        let mut out = Vec::new();
        for &key in keys {
            let (mut lo, mut hi) = (0u64, self.rows);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if entry(mid)?.0 < key {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            while lo < self.rows {
                let (k, row) = entry(lo)?;
                if k != key {
                    break;
                }
                if u64::from(row) >= self.rows {
                    return Err(self.damaged("a band table names a row past the end"));
                }
                out.push((k, row));
                lo += 1;
            }
        }
        Ok(out)
    }

    /// [`matches`](Self::matches) by one pass over the table.
    fn matches_streamed(&self, band: usize, keys: &[u32]) -> Result<Vec<(u32, u32)>, Error> {
        let mut out = Vec::new();
        if keys.is_empty() || self.rows == 0 {
            return Ok(out);
        }
        let section = self.file.section(band_tag(band))?;
        // Read a megabyte at a time: the table can be hundreds of them.
        const STEP: u64 = 1 << 20;
        let mut at = 0;
        let mut k = 0;
        while at < section.len() && k < keys.len() {
            let end = (at + STEP).min(section.len());
            let bytes = section.read_range(at..end)?;
            for pair in bytes.chunks_exact(8) {
                let key = u32::from_le_bytes(pair[..4].try_into().expect("4 bytes"));
                while k < keys.len() && keys[k] < key {
                    k += 1;
                }
                if k == keys.len() {
                    break;
                }
                if keys[k] == key {
                    let row = u32::from_le_bytes(pair[4..].try_into().expect("4 bytes"));
                    if u64::from(row) >= self.rows {
                        return Err(self.damaged("a band table names a row past the end"));
                    }
                    out.push((key, row));
                }
            }
            at = end;
        }
        Ok(out)
    }

    /// Every row's band keys, row by row (`rows × bands`), from the band
    /// tables.
    pub(super) fn keys_by_row(&self) -> Result<Vec<u32>, Error> {
        let mut keys = vec![0u32; self.rows as usize * self.bands];
        for band in 0..self.bands {
            let section = self.file.section(band_tag(band))?;
            let bytes = section.read_range(0..section.len())?;
            for pair in bytes.chunks_exact(8) {
                let key = u32::from_le_bytes(pair[..4].try_into().expect("4 bytes"));
                let row = u32::from_le_bytes(pair[4..].try_into().expect("4 bytes"));
                let slot = keys
                    .get_mut(row as usize * self.bands + band)
                    .ok_or_else(|| self.damaged("a band table names a row past the end"))?;
                *slot = key;
            }
        }
        Ok(keys)
    }

    fn damaged(&self, what: &str) -> Error {
        Error::index(format!(
            "index segment {} is damaged: {what} (run `neardup index verify`)",
            self.file.path().display()
        ))
    }

    fn para(&self, row: u32) -> Result<Vec<u8>, Error> {
        if u64::from(row) >= self.rows {
            return Err(self.damaged("a row past the end"));
        }
        let at = u64::from(row) * PARA_BYTES as u64;
        self.file
            .section(PARAS)?
            .read_range(at..at + PARA_BYTES as u64)
    }

    /// The content hash of `row`.
    pub(super) fn content(&self, row: u32) -> Result<u64, Error> {
        let p = self.para(row)?;
        Ok(u64::from_le_bytes(p[..8].try_into().expect("8 bytes")))
    }

    fn dict(&self) -> Result<&[u64], Error> {
        let dict = self.dict.get_or_init(|| {
            let bytes = self
                .file
                .section(DICT)
                .and_then(|s| s.read_range(0..self.dict_len * 8))
                .map_err(|e| e.to_string())?;
            Ok(bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect())
        });
        dict.as_deref().map_err(|e| Error::index(e.clone()))
    }

    fn strs(&self) -> Result<&[Arc<str>], Error> {
        let strs = self.strs.get_or_init(|| {
            let read = || -> Result<Vec<Arc<str>>, Error> {
                let offs = self
                    .file
                    .section(STROFF)?
                    .read_range(0..(self.strings + 1) * 8)?;
                let data = self.file.section(STRDATA)?;
                let data = data.read_range(0..data.len())?;
                let offs: Vec<usize> = offs
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")) as usize)
                    .collect();
                offs.windows(2)
                    .map(|w| {
                        let bytes = data
                            .get(w[0]..w[1])
                            .ok_or_else(|| self.damaged("a string out of bounds"))?;
                        std::str::from_utf8(bytes)
                            .map(Arc::from)
                            .map_err(|_| self.damaged("a string that is not UTF-8"))
                    })
                    .collect()
            };
            read().map_err(|e| e.to_string())
        });
        strs.as_deref().map_err(|e| Error::index(e.clone()))
    }

    /// The token hashes and location of `row` (its batch is the index's
    /// to say: [`Location::batch`] is `None`).
    pub(super) fn paragraph(&self, row: u32) -> Result<PriorParagraph, Error> {
        let p = self.para(row)?;
        let u32_at = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(p[i..i + 8].try_into().expect("8 bytes"));
        let (from, doc, paragraph) = (u64_at(8), u32_at(16), u32_at(20));
        let (line, start, end) = (u64_at(24), u64_at(32), u64_at(40));
        let seq = self.file.section(TOKSEQ)?;
        let to = if u64::from(row) + 1 < self.rows {
            u64::from_le_bytes(self.para(row + 1)?[8..16].try_into().expect("8 bytes"))
        } else {
            seq.len()
        };
        if from > to || to > seq.len() {
            return Err(self.damaged("token offsets out of order"));
        }
        let bytes = seq.read_range(from..to)?;
        let dict = self.dict()?;
        let mut tokens = Vec::with_capacity(bytes.len());
        let mut n: u32 = 0;
        let mut shift = 0;
        for &b in &bytes {
            if shift > 28 {
                return Err(self.damaged("a token number too long"));
            }
            n |= u32::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                let t = dict
                    .get(n as usize)
                    .ok_or_else(|| self.damaged("a token number past the dictionary"))?;
                tokens.push(*t);
                (n, shift) = (0, 0);
            } else {
                shift += 7;
            }
        }
        if shift != 0 {
            return Err(self.damaged("a token number cut short"));
        }
        if u64::from(doc) >= self.docs {
            return Err(self.damaged("a paragraph of a document past the end"));
        }
        let d = self
            .file
            .section(DOCS)?
            .read_range(u64::from(doc) * DOC_BYTES as u64..u64::from(doc + 1) * DOC_BYTES as u64)?;
        let d32 = |i: usize| u32::from_le_bytes(d[i..i + 4].try_into().expect("4 bytes"));
        let strs = self.strs()?;
        let string = |i: u32| {
            strs.get(i as usize)
                .cloned()
                .ok_or_else(|| self.damaged("a string number past the table"))
        };
        let path = string(d32(0))?;
        let id = match d32(4) {
            NONE => path.clone(),
            i => string(i)?,
        };
        let url = match d32(8) {
            NONE => None,
            i => Some(string(i)?),
        };
        let doc_line = u64::from_le_bytes(d[16..24].try_into().expect("8 bytes"));
        Ok(PriorParagraph {
            tokens,
            location: Location {
                path,
                input: InputId::new(d32(12)),
                doc: id,
                url,
                doc_index: DocId::new(self.doc_base.saturating_add(doc)),
                doc_line,
                paragraph,
                line,
                start,
                end,
                batch: None,
            },
        })
    }

    /// Checks every checksum and that every table is in order and in
    /// bounds: each band table sorted and naming each row once, token
    /// offsets ascending, every token number and string number in range.
    ///
    /// # Errors
    ///
    /// The first problem found, naming the file.
    pub fn verify(&self) -> Result<(), Error> {
        self.file.verify_all()?;
        for band in 0..self.bands {
            let section = self.file.section(band_tag(band))?;
            let bytes = section.read_range(0..section.len())?;
            let mut seen = vec![false; self.rows as usize];
            let mut last = (0u32, 0u32);
            for (i, pair) in bytes.chunks_exact(8).enumerate() {
                let key = u32::from_le_bytes(pair[..4].try_into().expect("4 bytes"));
                let row = u32::from_le_bytes(pair[4..].try_into().expect("4 bytes"));
                if i > 0 && (key, row) <= last {
                    return Err(self.damaged(&format!("band {band}'s table is out of order")));
                }
                last = (key, row);
                match seen.get_mut(row as usize) {
                    Some(s) if !*s => *s = true,
                    _ => {
                        return Err(self.damaged(&format!(
                            "band {band}'s table names a row twice or past the end"
                        )));
                    }
                }
            }
        }
        for row in 0..self.rows as u32 {
            self.paragraph(row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binary search and streaming find the same rows, for keys that are
    /// in the table (once or many times) and keys that are not.
    #[test]
    fn searched_and_streamed_matches_agree() {
        let d = std::env::temp_dir().join(format!("neardup-seg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let bands = 2;
        let mut n = 0;
        let mut builder = SegmentBuilder::new(bands, || {
            n += 1;
            FileWriter::create(&d, &format!("s{n}"), KIND).map_err(|e| Error::index(e.to_string()))
        });
        let path: Arc<str> = Arc::from("a.txt");
        let mut state = 7u64;
        let mut all: Vec<[u32; 2]> = Vec::new();
        for row in 0..5_000u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            // Band 0: few distinct keys (long runs); band 1: many.
            let keys = [(state >> 60) as u32, (state >> 40) as u32];
            all.push(keys);
            let location = Location {
                path: path.clone(),
                input: InputId::new(0),
                doc: path.clone(),
                url: None,
                doc_index: DocId::new(0),
                doc_line: 1,
                paragraph: row,
                line: u64::from(row) + 1,
                start: 0,
                end: 1,
                batch: None,
            };
            builder
                .kept(KeptParagraph {
                    content: u64::from(row),
                    keys: &keys,
                    tokens: &[1, 2, 3],
                    location: &location,
                })
                .unwrap();
        }
        let files = builder.finish().unwrap();
        assert_eq!(files.len(), 1);
        let file = IndexFile::open(&d.join("s1"), KIND).unwrap();
        let segment = Segment::open(file, 0).unwrap();
        segment.verify().unwrap();
        for band in 0..bands {
            // Keys in the table (every 97th row's) and keys not in it.
            let mut keys: Vec<u32> = all.iter().step_by(97).map(|k| k[band]).collect();
            keys.extend([u32::MAX - 1, u32::MAX]);
            keys.sort_unstable();
            keys.dedup();
            let mut searched = segment.matches_searched(band, &keys).unwrap();
            searched.sort_unstable();
            let streamed = segment.matches_streamed(band, &keys).unwrap();
            assert!(!streamed.is_empty(), "band {band}: no key found");
            assert_eq!(searched, streamed, "band {band}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
