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
//! dictionary ordered by frequency, each number coded by its frequency
//! class ([`super::tokens`]), a token of news prose takes under 12 bits.
//! The band tables and the rows are bit-packed ([`super::packed`]): a
//! band entry takes about 35 bits instead of 64, a row about 18 bytes
//! instead of 48. An index of news takes 0.57 times its JSON Lines (0.90
//! in segment versions 1 and 2, whole numbers and LEB128 tokens, which are
//! still read). The full layout, section by section, is in
//! `docs/index-format.md`; every number is little-endian.
//!
//! | section | content |
//! |---|---|
//! | `META` | segment version u32, bands u32, rows u64, documents u64, strings u64, dictionary entries u64, window u64, containment entries u64; version 3: the row fields' widths and the band tables' shape |
//! | `PARAS` | per row: content hash, token offset (into `TOKSEQ`), document, paragraph, line, start, end (packed; 48 bytes in versions 1 and 2) |
//! | `DOCS` | per document: path u32, id u32 (`u32::MAX`: the path), url u32 (`u32::MAX`: none), input u32, first line u64 (24 bytes) |
//! | `STROFF`, `STRDATA` | the strings: `strings + 1` offsets u64 into the UTF-8 bytes |
//! | `DICT` | the token hashes u64, most frequent first (ties by hash) |
//! | `TOKCODE`, `TOKSEQ` | version 3: the code lengths of the token numbers' classes, and per row its tokens' dictionary numbers in that code (LEB128 in versions 1 and 2) |
//! | `BAND0000` ... | per band: (key, row) for every row, sorted by key, then row (packed by bucket; 8 bytes each in versions 1 and 2) |
//! | `WFP` (`WROW`) | an index with containment fingerprints: the (fingerprint, row) pairs winnowing selects from the kept rows, sorted (packed by bucket; in version 2 two arrays, u64 and u32) |
//! | `VARIANT`, `VWFP` | version 4: the variant rows (row, content hash, and the kept paragraph's row across the index; version 6: how many rows before the variant it is), and their containment fingerprints as `WFP` |
//!
//! Containment fingerprints ([`Winnowing`]) are what `scan --against
//! INDEX --containment` finds quotes of indexed paragraphs with, as a scan
//! finds them among its own paragraphs; the segment selects them from the
//! token hashes it is given, so a batch, a compaction and a rewrite that
//! adds them select alike.
//!
//! Rows are kept paragraphs and, since version 4, *variants*
//! ([`VariantParagraph`]): near-duplicates with a text of their own, which
//! containment takes as the longer side (a quote of a republished version
//! is in the version). A variant has no band keys, so it is in no band
//! table and no scan takes it for a kept paragraph.

use super::file::{FileInfo, FileWriter, IndexFile, Section};
use super::packed::{Bits, Buckets, Directory, EntryBuckets, Shape, bits_for, field};
use super::tokens::{CLASSES, ClassCode, Coded, Numbering};
use super::wanted::{Probe, Wanted};
use crate::Error;
use crate::id::{DocId, InputId};
use crate::pipeline::prior::{
    KeptParagraph, KeptSink, Numbered, PriorParagraph, Tokens, VariantParagraph,
};
use crate::report::Location;
use crate::shingle::content_of_tokens;
use ahash::AHashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// The file kind of a segment.
pub const KIND: [u8; 4] = *b"SEGM";

/// The version of what a segment's sections hold (the container has its
/// own, [`super::file::FILE_VERSION`]): 6, packed band tables and rows
/// ([`super::packed`]) whose tables find their buckets through unary
/// directories ([`Directory::Unary`]), with or without containment
/// fingerprints, and variant rows that name their kept paragraph by how
/// far back it is, so that dropping older rows leaves the segment as it
/// is ([`super::drop_batches`]). Versions 1 (whole numbers), 2 (whole numbers
/// and containment fingerprints), 3 (packed, no variants), 4 (as 5, with
/// a u32 per bucket of 16 to 32 entries) and 5 (as 6, a variant naming
/// its kept paragraph's row across the index) are still read.
pub const SEGMENT_VERSION: u32 = 6;

const META: [u8; 8] = *b"META\0\0\0\0";
const PARAS: [u8; 8] = *b"PARAS\0\0\0";
const DOCS: [u8; 8] = *b"DOCS\0\0\0\0";
const STROFF: [u8; 8] = *b"STROFF\0\0";
const STRDATA: [u8; 8] = *b"STRDATA\0";
const DICT: [u8; 8] = *b"DICT\0\0\0\0";
const TOKSEQ: [u8; 8] = *b"TOKSEQ\0\0";
const TOKCODE: [u8; 8] = *b"TOKCODE\0";
const WFP: [u8; 8] = *b"WFP\0\0\0\0\0";
const WROW: [u8; 8] = *b"WROW\0\0\0\0";
const VARIANT: [u8; 8] = *b"VARIANT\0";
const VWFP: [u8; 8] = *b"VWFP\0\0\0\0";
const PARA_BYTES: usize = 48;
const VARIANT_BYTES: usize = 24;
const META_BYTES: usize = 88;
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

/// How a segment selects its rows' containment fingerprints: the
/// selection a scan's first pass makes ([`crate::containment::Winnower`]
/// over the shingle hashes in text order, each distinct fingerprint once
/// per row), for rows of at least `min_words` tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Winnowing {
    /// The words of a shingle.
    pub shingle_size: usize,
    /// Rows with fewer tokens have none.
    pub min_words: usize,
    /// The winnowing window.
    pub window: usize,
}

impl Winnowing {
    /// The selection that guarantees finding shared runs of `min_words`
    /// words, or `None` if `min_words` is shorter than one shingle.
    pub fn new(shingle_size: usize, min_words: usize) -> Option<Winnowing> {
        Some(Winnowing {
            shingle_size,
            min_words,
            window: crate::containment::window_for(shingle_size, min_words)?,
        })
    }
}

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
    /// For a variant (a near-duplicate kept for containment only), its
    /// kept paragraph's row (across the index).
    variant_of: Option<u64>,
}

/// `(fingerprint, row)` pairs, sorted.
type Postings = Vec<(u64, u32)>;

/// What a row is, as the builder is given it.
enum RowKind<'a> {
    /// A kept paragraph, with its band keys.
    Kept(&'a [u32]),
    /// A variant, with its kept paragraph's row (across the index).
    Variant(u64),
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
    writing: Option<std::thread::JoinHandle<Result<Written, Error>>>,
    /// The columns of the segment written last, emptied, for the next one
    /// to fill: fresh columns cost a page fault per 4 KiB (for 1 GB of
    /// news, reusing them took `index create` from 1.38 M page faults to
    /// 0.70 M, and its system time from 3.7-4.7 s to 2.2-2.6 s).
    spare: Option<Held>,
    /// Where the scan writing into it keeps its scratch file.
    spill_dir: Option<std::path::PathBuf>,
    /// The variants given to it so far.
    variants: u64,
}

/// What writing a segment gives back: the file, its rows, and the
/// emptied columns.
type Written = (FileInfo, u64, Held);

/// The rows of one segment, before it is written.
#[derive(Default)]
struct Held {
    bands: usize,
    winnowing: Option<Winnowing>,
    /// The number of its first row across the index.
    first: u64,
    rows: Vec<Row>,
    /// The band keys of the kept rows (not the variants), band by band
    /// (each band's table reads its column in order).
    keys: Vec<Vec<u32>>,
    variants: usize,
    /// The rows' tokens, numbered as they come.
    tokens: Numbering,
    /// The memory of the last segment's coded tokens, for the next one's.
    coded_spare: Vec<u8>,
    docs: Vec<DocRow>,
    strings: Vec<Arc<str>>,
}

impl<F> SegmentBuilder<F>
where
    F: FnMut() -> Result<FileWriter, Error> + Send,
{
    /// A builder for paragraphs with `bands` band keys, the first of
    /// which will be row `first_row` of the index (a variant names its
    /// kept paragraph by how many rows before it that one is).
    pub fn new(bands: usize, first_row: u64, create: F) -> SegmentBuilder<F> {
        SegmentBuilder::with_limit(bands, SEGMENT_TOKENS, first_row, create)
    }

    /// [`new`](Self::new), cutting segments after `limit` tokens (tests
    /// use small limits to get many segments).
    pub fn with_limit(bands: usize, limit: usize, first_row: u64, create: F) -> SegmentBuilder<F> {
        SegmentBuilder {
            create,
            limit: limit.max(1),
            held: Held {
                first: first_row,
                ..Held::new(bands, None)
            },
            string_ids: AHashMap::new(),
            last_doc: None,
            files: Vec::new(),
            writing: None,
            spare: None,
            spill_dir: None,
            variants: 0,
        }
    }

    /// Makes every segment keep its rows' containment fingerprints.
    pub fn winnowing(mut self, winnowing: Option<Winnowing>) -> SegmentBuilder<F> {
        self.held.winnowing = winnowing;
        self
    }

    /// Lets the scan that writes into it keep its scratch file in `dir`
    /// (the index's directory), not in memory.
    pub fn spilling_in(mut self, dir: &std::path::Path) -> SegmentBuilder<F> {
        self.spill_dir = Some(dir.to_owned());
        self
    }

    /// The variants given to it so far (each file's rows count them too).
    pub fn variants(&self) -> u64 {
        self.variants
    }

    /// Writes what is held, returns every file written so far with its
    /// row count, and goes on with row `first_row` of the index: the rows
    /// between are in segments written before (a drop keeps a segment as
    /// it is between rewritten ones).
    ///
    /// # Errors
    ///
    /// Writing a file failed.
    pub fn cut(&mut self, first_row: u64) -> Result<Vec<(FileInfo, u64)>, Error> {
        self.flush()?;
        self.join()?;
        self.held.first = first_row;
        self.last_doc = None;
        Ok(std::mem::take(&mut self.files))
    }

    /// Writes what is held and returns every file written, with its
    /// row count (kept paragraphs and variants).
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
            let (info, rows, spare) = writing
                .join()
                .map_err(|_| Error::index("the thread writing an index segment panicked"))??;
            self.files.push((info, rows));
            self.spare = Some(spare);
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
        let (bands, winnowing) = (self.held.bands, self.held.winnowing);
        let first = self.held.first + self.held.rows.len() as u64;
        let next = match self.spare.take() {
            Some(spare) => Held {
                winnowing,
                first,
                ..spare
            },
            None => Held {
                first,
                ..Held::new(bands, winnowing)
            },
        };
        let held = std::mem::replace(&mut self.held, next);
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
    /// No rows yet, for paragraphs of `bands` band keys.
    fn new(bands: usize, winnowing: Option<Winnowing>) -> Held {
        Held {
            bands,
            winnowing,
            keys: vec![Vec::new(); bands],
            ..Held::default()
        }
    }

    /// The rows' tokens, coded ([`Coded`]).
    fn encode_tokens(&self, buffer: Vec<u8>) -> Coded {
        let ends: Vec<usize> = self.rows.iter().map(|r| r.tokens_end).collect();
        Coded::reusing(&self.tokens, &ends, buffer)
    }

    /// The shape of its band tables: an entry per kept row.
    fn band_shape(&self) -> Shape {
        let rows = self.rows.len() as u64;
        Shape::band_of(rows - self.variants as u64, rows, Directory::Unary)
    }

    /// Each band's table: (key, row) for every kept row, sorted by key,
    /// then row, packed ([`Shape::pack`]).
    fn band_tables(&self) -> Vec<Vec<u8>> {
        let shape = self.band_shape();
        let kept: Vec<u32> = (0..self.rows.len() as u32)
            .filter(|&r| self.rows[r as usize].variant_of.is_none())
            .collect();
        let mut scratch = Vec::new();
        (0..self.bands)
            .map(|band| {
                let mut pairs: Vec<u64> = kept
                    .iter()
                    .zip(&self.keys[band])
                    .map(|(&r, &key)| u64::from(key) << 32 | u64::from(r))
                    .collect();
                sort_by_key(&mut pairs, &mut scratch);
                shape.pack(pairs.iter().map(|&p| (p >> 32, p as u32)))
            })
            .collect()
    }

    /// The rows packed ([`RowWidths`]), and the widths.
    fn packed_rows(&self, offsets: &[u64], tokens_len: u64) -> Result<(Vec<u8>, RowWidths), Error> {
        let most = |f: &dyn Fn(&Row) -> u64| self.rows.iter().map(f).max().unwrap_or(0);
        if self.rows.iter().any(|r| r.end < r.start) {
            return Err(Error::index("a paragraph that ends before it starts"));
        }
        let widths = RowWidths {
            tokens: bits_for(tokens_len),
            doc: bits_for(self.docs.len().saturating_sub(1) as u64),
            paragraph: bits_for(most(&|r| u64::from(r.paragraph))),
            line: bits_for(most(&|r| r.line)),
            start: bits_for(most(&|r| r.start)),
            len: bits_for(most(&|r| r.end - r.start)),
        };
        let mut bits = Bits::with_capacity(self.rows.len() * widths.row_bits() as usize);
        for (row, &offset) in self.rows.iter().zip(offsets) {
            bits.push(row.content, 64);
            bits.push(offset, widths.tokens);
            bits.push(u64::from(row.doc), widths.doc);
            bits.push(u64::from(row.paragraph), widths.paragraph);
            bits.push(row.line, widths.line);
            bits.push(row.start, widths.start);
            bits.push(row.end - row.start, widths.len);
        }
        Ok((bits.finish(), widths))
    }

    /// The containment fingerprints of the kept rows and of the variants,
    /// each as `(fingerprint, row)` sorted.
    fn winnowed(&self, w: &Winnowing) -> (Postings, Postings) {
        let shingler =
            crate::shingle::Shingler::new(crate::normalize::TokenKind::Words, w.shingle_size);
        let mut scratch = crate::shingle::Scratch::default();
        let mut winnower = crate::containment::Winnower::new(w.window);
        let (mut pairs, mut variants, mut selected) = (Vec::new(), Vec::new(), Vec::new());
        let (mut from, mut tokens) = (0, Vec::new());
        for (r, row) in self.rows.iter().enumerate() {
            let range = from..row.tokens_end;
            from = row.tokens_end;
            if range.len() < w.min_words {
                continue;
            }
            tokens.clear();
            tokens.extend(self.tokens.hashes(range));
            let (shingles, _) = shingler.shingles_of_tokens(&tokens, &mut scratch);
            selected.clear();
            winnower.reset();
            winnower.push(shingles, |h, _| selected.push(h));
            winnower.finish(|h, _| selected.push(h));
            selected.sort_unstable();
            selected.dedup();
            let to = if row.variant_of.is_some() {
                &mut variants
            } else {
                &mut pairs
            };
            to.extend(selected.iter().map(|&h| (h, r as u32)));
        }
        pairs.sort_unstable();
        variants.sort_unstable();
        (pairs, variants)
    }

    /// Writes the rows as one segment into `file`.
    fn write(mut self, mut file: FileWriter) -> Result<Written, Error> {
        let name = file.name().to_owned();
        let buffer = std::mem::take(&mut self.coded_spare);
        let io = |e: std::io::Error| Error::index(format!("writing index segment {name}: {e}"));
        // The token numbers, the band tables and the containment
        // fingerprints are independent: built side by side, on threads of
        // their own (the last segment of a batch is written while nothing
        // else runs).
        let (coded, tables, winnowed) = std::thread::scope(|scope| {
            let tokens = scope.spawn(|| self.encode_tokens(buffer));
            let winnowed = scope.spawn(|| self.winnowing.map(|w| self.winnowed(&w)));
            let tables = self.band_tables();
            (
                tokens.join().expect("encoding a segment's tokens panicked"),
                tables,
                winnowed
                    .join()
                    .expect("winnowing a segment's rows panicked"),
            )
        });
        let mut put = |tag: [u8; 8], bytes: &[u8]| -> Result<(), Error> {
            let mut s = file.section(tag);
            s.write_all(bytes).map_err(io)?;
            s.finish().map_err(io)
        };
        let (paras, widths) = self.packed_rows(&coded.offsets, coded.bits)?;
        let shape = self.band_shape();
        let mut meta = Vec::with_capacity(META_BYTES);
        meta.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
        meta.extend_from_slice(&(self.bands as u32).to_le_bytes());
        let (window, entries, variant_entries) = match (&self.winnowing, &winnowed) {
            (Some(w), Some((pairs, variants))) => (w.window, pairs.len(), variants.len()),
            _ => (0, 0, 0),
        };
        for n in [
            self.rows.len(),
            self.docs.len(),
            self.strings.len(),
            coded.dict.len(),
            window,
            entries,
        ] {
            meta.extend_from_slice(&(n as u64).to_le_bytes());
        }
        meta.extend(widths.as_array().map(|w| w as u8));
        meta.extend([shape.bucket_bits as u8, shape.row_bits as u8]);
        meta.extend_from_slice(&coded.bits.to_le_bytes());
        meta.extend_from_slice(&(self.variants as u64).to_le_bytes());
        meta.extend_from_slice(&(variant_entries as u64).to_le_bytes());
        put(META, &meta)?;
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
        let dict_bytes: Vec<u8> = coded.dict.iter().flat_map(|t| t.to_le_bytes()).collect();
        put(DICT, &dict_bytes)?;
        put(TOKCODE, coded.code.lengths())?;
        put(TOKSEQ, &coded.seq)?;
        self.coded_spare = coded.seq;
        for (band, table) in tables.iter().enumerate() {
            put(band_tag(band), table)?;
        }
        let rows = self.rows.len() as u64;
        if let Some((pairs, variants)) = winnowed {
            let shape = Shape::fingerprints(pairs.len() as u64, rows, Directory::Unary);
            put(WFP, &shape.pack(pairs.iter().copied()))?;
            if !variants.is_empty() {
                let shape = Shape::fingerprints(variants.len() as u64, rows, Directory::Unary);
                put(VWFP, &shape.pack(variants.iter().copied()))?;
            }
        }
        if self.variants > 0 {
            let mut table = Vec::with_capacity(self.variants * VARIANT_BYTES);
            for (r, row) in self.rows.iter().enumerate() {
                if let Some(kept) = row.variant_of {
                    // How far back its kept paragraph is: `row` checked
                    // that it is before it.
                    let back = self.first + r as u64 - kept;
                    for n in [r as u64, row.content, back] {
                        table.extend_from_slice(&n.to_le_bytes());
                    }
                }
            }
            put(VARIANT, &table)?;
        }
        let info = file.finish().map_err(io)?;
        Ok((info, rows, self.emptied()))
    }

    /// `self` without rows, its columns' memory kept.
    fn emptied(mut self) -> Held {
        self.rows.clear();
        for column in &mut self.keys {
            column.clear();
        }
        self.variants = 0;
        self.tokens.clear();
        self.docs.clear();
        self.strings.clear();
        self
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
        if p.keys.len() != self.held.bands {
            return Err(Error::index(format!(
                "a paragraph with {} band keys for an index of {} bands",
                p.keys.len(),
                self.held.bands
            )));
        }
        self.row(p.content, p.tokens, p.location, RowKind::Kept(p.keys))
    }

    fn variant(&mut self, p: VariantParagraph<'_>) -> Result<bool, Error> {
        self.row(p.content, p.tokens, p.location, RowKind::Variant(p.kept))?;
        Ok(true)
    }
}

impl<F> SegmentBuilder<F>
where
    F: FnMut() -> Result<FileWriter, Error> + Send,
{
    /// One more row.
    fn row(
        &mut self,
        content: u64,
        tokens: Tokens<'_>,
        l: &Location,
        kind: RowKind<'_>,
    ) -> Result<(), Error> {
        if let RowKind::Variant(kept) = kind {
            let at = self.held.first + self.held.rows.len() as u64;
            if kept >= at {
                return Err(Error::index(format!(
                    "a variant (row {at}) of row {kept}, which is not an earlier row"
                )));
            }
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
        match tokens {
            Tokens::Numbered(Numbered {
                block,
                dict,
                numbers,
            }) => self.held.tokens.push_numbered(block, dict, numbers)?,
            Tokens::Hashes(hashes) => self.held.tokens.push_hashes(hashes),
        }
        let variant_of = match kind {
            RowKind::Variant(kept) => {
                self.held.variants += 1;
                self.variants += 1;
                Some(kept)
            }
            RowKind::Kept(keys) => {
                for (column, &key) in self.held.keys.iter_mut().zip(keys) {
                    column.push(key);
                }
                None
            }
        };
        self.held.rows.push(Row {
            content,
            doc: self.held.docs.len() as u32 - 1,
            paragraph: l.paragraph,
            line: l.line,
            start: l.start,
            end: l.end,
            tokens_end: self.held.tokens.len(),
            variant_of,
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
    const SHIFTS: [u32; 3] = [32, 32 + BITS, 32 + 2 * BITS];
    scratch.clear();
    scratch.resize(values.len(), 0);
    // The three digits' counts in one pass over the values.
    let mut counts = vec![[0usize; 1 << BITS]; 3];
    for &v in values.iter() {
        for (count, shift) in counts.iter_mut().zip(SHIFTS) {
            count[((v >> shift) & ((1 << BITS) - 1)) as usize] += 1;
        }
    }
    for (mut at, shift) in counts.into_iter().zip(SHIFTS) {
        let digit = |v: u64| ((v >> shift) & ((1 << BITS) - 1)) as usize;
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

/// The widths in bits of a packed row's fields after its 64-bit content
/// hash (segment version 3).
#[derive(Clone, Copy, Debug)]
struct RowWidths {
    tokens: u32,
    doc: u32,
    paragraph: u32,
    line: u32,
    start: u32,
    len: u32,
}

impl RowWidths {
    fn as_array(self) -> [u32; 6] {
        [
            self.tokens,
            self.doc,
            self.paragraph,
            self.line,
            self.start,
            self.len,
        ]
    }

    /// The bits of one row.
    fn row_bits(self) -> u64 {
        64 + self.as_array().iter().map(|&w| u64::from(w)).sum::<u64>()
    }
}

/// How a segment lays its tables out.
#[derive(Debug)]
enum Layout {
    /// Versions 1 and 2: `(key u32, row u32)` entries, 48-byte rows,
    /// LEB128 tokens.
    Whole,
    /// Version 3: [`super::packed`], tokens in `code` (`TOKSEQ`'s first
    /// `token_bits` bits).
    Packed {
        rows: RowWidths,
        bands: Shape,
        code: Box<ClassCode>,
        token_bits: u64,
    },
}

/// How far apart, on average, the ascending numbers of a run may be for
/// [`dense_runs`] to keep them in one run: a read each costs about as much
/// as reading the 16 rows (or documents) between two.
const DENSE: u64 = 16;

/// The most numbers one run of [`dense_runs`] spans.
const RUN_SPAN: u64 = 1 << 16;

/// `numbers` cut into runs to be read in one piece each: ascending, within
/// [`RUN_SPAN`], and on average at most [`DENSE`] apart. Numbers out of
/// order or far apart make runs of one.
fn dense_runs(numbers: &[u32]) -> impl Iterator<Item = &[u32]> {
    let mut rest = numbers;
    std::iter::from_fn(move || {
        let (&first, _) = rest.split_first()?;
        let first = u64::from(first);
        let mut end = 1;
        while let Some(&n) = rest.get(end) {
            let n = u64::from(n);
            let span = n.wrapping_sub(first);
            if n < u64::from(rest[end - 1]) || span >= RUN_SPAN || span > DENSE * end as u64 {
                break;
            }
            end += 1;
        }
        let (run, after) = rest.split_at(end);
        rest = after;
        Some(run)
    })
}

/// A row of `PARAS` in whole numbers (versions 1 and 2), from the start
/// of `p`.
fn whole_row(p: &[u8]) -> RowFields {
    let u32_at = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(p[i..i + 8].try_into().expect("8 bytes"));
    RowFields {
        content: u64_at(0),
        tokens: u64_at(8),
        doc: u32_at(16),
        paragraph: u32_at(20),
        line: u64_at(24),
        start: u64_at(32),
        end: u64_at(40),
    }
}

/// The fields of one row.
struct RowFields {
    content: u64,
    /// Where its tokens start in `TOKSEQ`.
    tokens: u64,
    doc: u32,
    paragraph: u32,
    line: u64,
    start: u64,
    end: u64,
}

/// A packed table of a segment ([`Shape`], version 3): a band table or
/// the containment fingerprints, read through one lookup.
struct Table<'s> {
    segment: &'s Segment,
    section: Section<'s>,
    shape: Shape,
    entries: u64,
    /// What it is, for errors.
    what: &'static str,
}

impl Table<'_> {
    fn damaged(&self, what: &str) -> Error {
        self.segment.damaged(&format!("{} {what}", self.what))
    }

    /// Entries `lo..hi` of a bucket, from its two entries of a directory
    /// of bounds, checked.
    fn bounds(&self, two: &[u8]) -> Result<(u64, u64), Error> {
        let bound = |b: Option<&[u8]>| -> Option<u64> {
            Some(u64::from(u32::from_le_bytes(b?.try_into().ok()?)))
        };
        match (bound(two.get(..4)), bound(two.get(4..8))) {
            (Some(lo), Some(hi)) if lo <= hi && hi <= self.entries => Ok((lo, hi)),
            _ => Err(self.damaged("has its directory out of order")),
        }
    }

    /// The bytes holding entries `lo..hi`, and the bit of the entries at
    /// which they start.
    fn read(&self, lo: u64, hi: u64, buf: &mut Vec<u8>) -> Result<u64, Error> {
        let width = self.shape.entry_bits();
        let dir = self.shape.directory_bytes();
        let (from, to) = (
            lo * width / 8,
            (hi * width).div_ceil(8) + super::packed::PAD as u64,
        );
        self.section.read_range_into(dir + from..dir + to, buf)?;
        Ok(from * 8)
    }

    /// The entries whose key is one of `wanted`, at most `most` of each
    /// key, in order: each bucket's directory entries and entries read
    /// alone (`searched`, for a few keys), or the table a few megabytes at
    /// a time, merged bucket by bucket with the keys or, when nearly every
    /// bucket holds one, walked through the keys' bitmap
    /// ([`Wanted::probe`]).
    fn lookup(&self, wanted: &Wanted, most: u64, searched: bool) -> Result<Vec<(u64, u32)>, Error> {
        let mut out = Vec::new();
        let found = |key, row| out.push((key, row));
        self.lookup_with(wanted, most, searched, &mut Vec::new(), found)?;
        Ok(out)
    }

    /// [`lookup`](Self::lookup), each entry found handed to `found`; the
    /// table is read into `buf`.
    fn lookup_with(
        &self,
        wanted: &Wanted,
        most: u64,
        searched: bool,
        buf: &mut Vec<u8>,
        mut found_one: impl FnMut(u64, u32),
    ) -> Result<(), Error> {
        let (shape, width) = (self.shape, self.shape.entry_bits());
        // A directory of bounds is read a bucket at a time when searched;
        // a unary one (a few bits an entry) whole.
        let directory = if searched && shape.directory == Directory::Bounds {
            None
        } else {
            Some(self.section.read_range(0..shape.directory_bytes())?)
        };
        let mut buckets = directory.as_deref().map(|d| Buckets::new(shape, d));
        let keys = wanted.keys();
        let probe = (!searched && keys.len() as u64 >= shape.buckets()).then(|| wanted.probe());
        if let (Some(p), Some(d)) = (probe, &directory)
            && let Some(each) = EntryBuckets::new(shape, d)
        {
            return self.walk(wanted, p, each, most, buf, found_one);
        }
        let step = (8 << 20) / width;
        // The bit `buf` starts at, its entries first..end.
        let mut window: Option<(u64, u64, u64)> = None;
        // The next wanted key (`k`); the key of the last entry kept, and
        // how many of its entries were.
        let (mut k, mut last) = (0, (None, 0));
        let mut bucket = 0;
        while k < keys.len() && bucket < shape.buckets() {
            // With the bitmap, every bucket in turn; else the next wanted
            // key's, whose wanted keys end at `end`.
            let end = match probe {
                Some(_) => keys.len(),
                None => {
                    bucket = shape.bucket(keys[k]);
                    k + keys[k..]
                        .iter()
                        .take_while(|&&w| shape.bucket(w) == bucket)
                        .count()
                }
            };
            let (lo, hi) = match &mut buckets {
                Some(b) => b
                    .bounds(bucket)
                    .ok_or_else(|| self.damaged("has its directory out of order"))?,
                None => self.bounds(&self.section.read_range(4 * bucket..4 * bucket + 8)?)?,
            };
            if lo < hi && !window.is_some_and(|(_, first, end)| first <= lo && hi <= end) {
                let to = if searched {
                    hi
                } else {
                    hi.max(lo.saturating_add(step)).min(self.entries)
                };
                window = Some((self.read(lo, to, buf)?, lo, to));
            }
            let (bytes, base) = match window {
                Some((base, _, _)) => (&buf[..], base),
                None => (&[][..], 0),
            };
            for i in lo..hi {
                let (key, row) = shape
                    .entry(bytes, i * width - base, bucket)
                    .ok_or_else(|| self.damaged("is cut short"))?;
                k = match probe {
                    Some(p) if !p.may_hold(key) => continue,
                    Some(_) => wanted.first_at_least(k, key),
                    None => k + keys[k..end].iter().take_while(|&&w| w < key).count(),
                };
                if k == end {
                    break;
                }
                if keys[k] == key {
                    self.keep(key, row, most, &mut last, &mut found_one)?;
                }
            }
            bucket += 1;
            if probe.is_none() {
                k = end;
            }
        }
        Ok(())
    }

    /// Hands the wanted entry `(key, row)` to `found_one` unless `most` of
    /// `key`'s were: `last` is the key of the last entry handed over and
    /// how many of its entries were.
    fn keep(
        &self,
        key: u64,
        row: u32,
        most: u64,
        last: &mut (Option<u64>, u64),
        found_one: &mut impl FnMut(u64, u32),
    ) -> Result<(), Error> {
        if last.0 != Some(key) {
            *last = (Some(key), 0);
        }
        if last.1 < most {
            if u64::from(row) >= self.segment.rows {
                return Err(self.damaged("names a row past the end"));
            }
            found_one(key, row);
            last.1 += 1;
        }
        Ok(())
    }

    /// [`lookup_with`](Self::lookup_with) through the keys' bitmap
    /// `probe` in a table of a unary directory: every entry in turn, its
    /// bucket from `each`, the table read a few megabytes at a time.
    fn walk(
        &self,
        wanted: &Wanted,
        probe: Probe<'_>,
        mut each: EntryBuckets<'_>,
        most: u64,
        buf: &mut Vec<u8>,
        mut found_one: impl FnMut(u64, u32),
    ) -> Result<(), Error> {
        let (shape, width, keys) = (self.shape, self.shape.entry_bits(), wanted.keys());
        let step = (8 << 20) / width;
        // The next wanted key (`k`); the key of the last entry kept, and
        // how many of its entries were.
        let (mut k, mut last) = (0, (None, 0));
        let mut lo = 0;
        while lo < self.entries {
            let hi = lo.saturating_add(step).min(self.entries);
            let base = self.read(lo, hi, buf)?;
            for i in lo..hi {
                let (key, row) = each
                    .next()
                    .filter(|&b| b < shape.buckets())
                    .and_then(|bucket| shape.entry(buf, i * width - base, bucket))
                    .ok_or_else(|| self.damaged("is cut short or its directory out of order"))?;
                if !probe.may_hold(key) {
                    continue;
                }
                k = wanted.first_at_least(k, key);
                if k == keys.len() {
                    return Ok(());
                }
                if keys[k] == key {
                    self.keep(key, row, most, &mut last, &mut found_one)?;
                }
            }
            lo = hi;
        }
        Ok(())
    }

    /// Every entry, in order, the directory checked.
    fn all(&self) -> Result<Vec<(u64, u32)>, Error> {
        let bytes = self.section.read_range(0..self.section.len())?;
        let dir = self.shape.directory_bytes() as usize;
        let (directory, entries) = bytes.split_at(dir.min(bytes.len()));
        let width = self.shape.entry_bits();
        let mut out = Vec::with_capacity(self.entries as usize);
        let dir_damaged = || self.damaged("has its directory out of order");
        if let Some(mut each) = EntryBuckets::new(self.shape, directory) {
            for i in 0..self.entries {
                let bucket = (each.next())
                    .filter(|&b| b < self.shape.buckets())
                    .ok_or_else(dir_damaged)?;
                out.push(
                    (self.shape.entry(entries, i * width, bucket))
                        .ok_or_else(|| self.damaged("is cut short"))?,
                );
            }
            return if each.finish() {
                Ok(out)
            } else {
                Err(dir_damaged())
            };
        }
        let mut buckets = Buckets::new(self.shape, directory);
        for bucket in 0..self.shape.buckets() {
            let (lo, hi) = buckets
                .bounds(bucket)
                .ok_or_else(|| self.damaged("has its directory out of order"))?;
            if lo != out.len() as u64 {
                return Err(self.damaged("has its directory out of order"));
            }
            for i in lo..hi {
                out.push(
                    self.shape
                        .entry(entries, i * width, bucket)
                        .ok_or_else(|| self.damaged("is cut short"))?,
                );
            }
        }
        if out.len() as u64 != self.entries {
            return Err(self.damaged("has its directory out of order"));
        }
        Ok(out)
    }
}

/// How the packed tables of segment version `version` find their
/// buckets: version 5 is version 4 with unary directories.
fn directory_of(version: u32) -> Directory {
    if version >= 5 {
        Directory::Unary
    } else {
        Directory::Bounds
    }
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
    /// With containment fingerprints: the window they were selected
    /// with, and how many there are (of kept rows).
    winnowed: Option<(u64, u64)>,
    /// How many of the rows are variants (version 4), and how many
    /// containment fingerprints they have.
    pub(super) variants: u64,
    variant_entries: u64,
    layout: Layout,
    /// Its segment version.
    version: u32,
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
        let meta = file.section(META)?;
        let version = u32::from_le_bytes(meta.read_range(0..4)?.try_into().expect("4 bytes"));
        if !(1..=SEGMENT_VERSION).contains(&version) {
            return Err(Error::index(format!(
                "index segment {name} has segment version {version}; this neardup reads \
                 versions 1 to {SEGMENT_VERSION}"
            )));
        }
        let directory = directory_of(version);
        let meta = meta.read_range(
            0..match version {
                1 => 40,
                2 => 56,
                3 => 72,
                _ => META_BYTES as u64,
            },
        )?;
        let u32_at = |i: usize| u32::from_le_bytes(meta[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(meta[i..i + 8].try_into().expect("8 bytes"));
        let (bands, rows, docs, strings, dict_len) = (
            u32_at(4) as usize,
            u64_at(8),
            u64_at(16),
            u64_at(24),
            u64_at(32),
        );
        let winnowed = match version {
            1 => None,
            2 => Some((u64_at(40), u64_at(48))),
            _ if u64_at(40) == 0 && u64_at(48) == 0 => None,
            _ if u64_at(40) == 0 => return Err(bad("containment fingerprints without a window")),
            _ => Some((u64_at(40), u64_at(48))),
        };
        if docs > u64::from(u32::MAX) || rows > u64::from(u32::MAX) {
            return Err(bad("more rows than a segment may hold"));
        }
        let (variants, variant_entries) = match version {
            ..4 => (0, 0),
            _ => (u64_at(72), u64_at(80)),
        };
        if variants > rows || (variant_entries > 0 && winnowed.is_none()) {
            return Err(bad(
                "more variants than rows, or their fingerprints without a window",
            ));
        }
        let kept = rows - variants;
        let layout = if version < 3 {
            Layout::Whole
        } else {
            let w = |i: usize| u32::from(meta[56 + i]);
            let widths = RowWidths {
                tokens: w(0),
                doc: w(1),
                paragraph: w(2),
                line: w(3),
                start: w(4),
                len: w(5),
            };
            if widths.as_array().iter().any(|&w| w > 64) || widths.doc > 32 || widths.paragraph > 32
            {
                return Err(bad("a row field wider than its number"));
            }
            let shape = Shape::band_of(kept, rows, directory);
            if (w(6), w(7)) != (shape.bucket_bits, shape.row_bits) {
                return Err(bad("band tables packed for another number of rows"));
            }
            let token_bits = u64_at(64);
            let seq = file.section(TOKSEQ)?.len();
            if token_bits
                .div_ceil(8)
                .checked_add(super::packed::PAD as u64)
                != Some(seq)
            {
                return Err(bad("the token stream's length does not match its table"));
            }
            let section = file.section(TOKCODE)?;
            let lengths: [u8; CLASSES] = section
                .read_range(0..section.len())?
                .try_into()
                .map_err(|_| bad("a token code table of the wrong length"))?;
            Layout::Packed {
                rows: widths,
                bands: shape,
                code: Box::new(
                    ClassCode::from_lengths(&lengths)
                        .ok_or_else(|| bad("a token code that is not a prefix code"))?,
                ),
                token_bits,
            }
        };
        let expect = |tag: [u8; 8], len: Option<u64>| -> Result<(), Error> {
            let len = len.ok_or_else(|| bad("counts out of range"))?;
            let actual = file.section(tag)?.len();
            if actual == len {
                Ok(())
            } else {
                Err(bad(&format!(
                    "section {} holds {actual} bytes, its table says {len}",
                    String::from_utf8_lossy(&tag).trim_end_matches('\0')
                )))
            }
        };
        let (paras, band) = match &layout {
            Layout::Whole => (rows.checked_mul(PARA_BYTES as u64), rows.checked_mul(8)),
            Layout::Packed { rows: r, bands, .. } => (
                rows.checked_mul(r.row_bits())
                    .and_then(|bits| bits.div_ceil(8).checked_add(super::packed::PAD as u64)),
                bands.table_bytes(),
            ),
        };
        expect(PARAS, paras)?;
        expect(DOCS, docs.checked_mul(DOC_BYTES as u64))?;
        expect(
            STROFF,
            strings.checked_add(1).and_then(|n| n.checked_mul(8)),
        )?;
        expect(DICT, dict_len.checked_mul(8))?;
        for b in 0..bands {
            expect(band_tag(b), band)?;
        }
        match (winnowed, &layout) {
            (Some((_, entries)), Layout::Whole) => {
                expect(WFP, entries.checked_mul(8))?;
                expect(WROW, entries.checked_mul(4))?;
            }
            (Some((_, entries)), Layout::Packed { .. }) => {
                if entries > u64::from(u32::MAX) {
                    return Err(bad("more containment fingerprints than a segment may hold"));
                }
                expect(
                    WFP,
                    Shape::fingerprints(entries, rows, directory).table_bytes(),
                )?;
            }
            (None, _) => {}
        }
        if variants > 0 {
            expect(VARIANT, variants.checked_mul(VARIANT_BYTES as u64))?;
        }
        if variant_entries > 0 {
            let shape = Shape::fingerprints(variant_entries, rows, directory);
            expect(VWFP, shape.table_bytes())?;
        }
        Ok(Segment {
            file,
            rows,
            docs,
            bands,
            strings,
            dict_len,
            doc_base,
            winnowed,
            variants,
            variant_entries,
            layout,
            version,
            dict: OnceLock::new(),
            strs: OnceLock::new(),
        })
    }

    /// How its packed tables find their buckets.
    fn directory(&self) -> Directory {
        directory_of(self.version)
    }

    /// Whether it is of the current segment version.
    pub(super) fn is_current(&self) -> bool {
        self.version == SEGMENT_VERSION
    }

    /// Whether its variants name their kept paragraphs by how many rows
    /// back they are (version 6), not by their rows across the index.
    pub(super) fn names_kept_rows_back(&self) -> bool {
        self.version >= 6
    }

    /// Whether a compaction into segments of `limit` tokens may keep it as
    /// it is: it is of the current version and holds at least `limit`
    /// tokens, as every segment but the last of a write does (counted by
    /// reading its token stream, without the dictionary).
    ///
    /// # Errors
    ///
    /// Its token stream cannot be read or does not decode.
    pub(super) fn is_full_and_current(&self, limit: usize) -> Result<bool, Error> {
        if !self.is_current() {
            return Ok(false);
        }
        let Layout::Packed {
            ref code,
            token_bits,
            ..
        } = self.layout
        else {
            return Ok(false);
        };
        let seq = self.file.section(TOKSEQ)?;
        let tokens = code
            .count(&seq.read_range(0..seq.len())?, 0, token_bits)
            .ok_or_else(|| self.damaged("a token number cut short or too long"))?;
        Ok(tokens >= limit as u64)
    }

    /// Its file.
    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// The band count the segment was written with.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// The window its containment fingerprints were selected with, if it
    /// has them.
    pub fn window(&self) -> Option<u64> {
        self.winnowed.map(|(window, _)| window)
    }

    /// The rows that have one of `fps` (ascending, distinct) among their
    /// containment fingerprints, as `(fingerprint, row)` sorted; of a
    /// fingerprint in more than `limit` rows, only the first `limit + 1`
    /// (enough to know it is over the limit). Empty without containment
    /// fingerprints.
    pub(super) fn winnowed(&self, fps: &[u64], limit: usize) -> Result<Vec<(u64, u32)>, Error> {
        let Some((_, entries)) = self.winnowed else {
            return Ok(Vec::new());
        };
        let most = limit as u64 + 1;
        if let Layout::Packed { .. } = self.layout {
            // A bucket a fingerprint (about 2 chunks each to check): for
            // a few of them, else the table a megabyte at a time.
            let searched = (fps.len() as u64).saturating_mul(2) < entries * 9 / super::file::CHUNK;
            return self.winnowed_by(fps, most, searched);
        }
        // Where each wanted fingerprint's run starts and how long it is
        // (at most `limit + 1`): by binary search for a few fingerprints,
        // else by one streaming pass (as `matches` decides).
        let runs = if (fps.len() as u64).saturating_mul(20) < entries * 8 / super::file::CHUNK {
            self.runs_searched(fps, entries, most)?
        } else {
            self.runs_streamed(fps, most)?
        };
        let row_section = self.file.section(WROW)?;
        let mut out = Vec::with_capacity(runs.iter().map(|r| r.2 as usize).sum());
        for (fp, from, n) in runs {
            let bytes = row_section.read_range(from * 4..(from + n) * 4)?;
            for b in bytes.chunks_exact(4) {
                let row = u32::from_le_bytes(b.try_into().expect("4 bytes"));
                if u64::from(row) >= self.rows {
                    return Err(self.damaged("a containment fingerprint names a row past the end"));
                }
                out.push((fp, row));
            }
        }
        Ok(out)
    }

    /// [`winnowed`](Self::winnowed) from a packed table (version 3),
    /// each fingerprint's bucket read alone (`searched`) or the table a
    /// megabyte at a time.
    fn winnowed_by(
        &self,
        fps: &[u64],
        most: u64,
        searched: bool,
    ) -> Result<Vec<(u64, u32)>, Error> {
        match self.fingerprint_table()? {
            Some(table) => table.lookup(&Wanted::new(fps.to_vec()), most, searched),
            None => Ok(Vec::new()),
        }
    }

    /// The packed table of containment fingerprints, if the segment has
    /// one (version 3).
    fn fingerprint_table(&self) -> Result<Option<Table<'_>>, Error> {
        match (self.winnowed, &self.layout) {
            (Some((_, entries)), Layout::Packed { .. }) => Ok(Some(Table {
                segment: self,
                section: self.file.section(WFP)?,
                shape: Shape::fingerprints(entries, self.rows, self.directory()),
                entries,
                what: "the containment table",
            })),
            _ => Ok(None),
        }
    }

    /// The packed table of band `band` (version 3).
    fn band_table(&self, band: usize, shape: Shape) -> Result<Table<'_>, Error> {
        Ok(Table {
            segment: self,
            section: self.file.section(band_tag(band))?,
            shape,
            entries: self.rows - self.variants,
            what: "a band table",
        })
    }

    /// The variants' containment fingerprint table, if it has one.
    fn variant_table(&self) -> Result<Option<Table<'_>>, Error> {
        if self.variant_entries == 0 {
            return Ok(None);
        }
        Ok(Some(Table {
            segment: self,
            section: self.file.section(VWFP)?,
            shape: Shape::fingerprints(self.variant_entries, self.rows, self.directory()),
            entries: self.variant_entries,
            what: "the variants' containment table",
        }))
    }

    /// The variant rows that have one of `fps` (ascending, distinct)
    /// among their containment fingerprints, as
    /// [`winnowed`](Self::winnowed) finds kept rows.
    pub(super) fn variants_winnowed(
        &self,
        fps: &[u64],
        limit: usize,
    ) -> Result<Vec<(u64, u32)>, Error> {
        let Some(table) = self.variant_table()? else {
            return Ok(Vec::new());
        };
        let searched =
            (fps.len() as u64).saturating_mul(2) < self.variant_entries * 9 / super::file::CHUNK;
        table.lookup(&Wanted::new(fps.to_vec()), limit as u64 + 1, searched)
    }

    /// Its variants, in row order: (row, content hash, kept paragraph's
    /// row across the index), the segment's first row being row `base`
    /// of the index.
    ///
    /// # Errors
    ///
    /// `VARIANT` cannot be read, is out of order, or names a kept
    /// paragraph that is not an earlier row.
    pub(super) fn variant_rows(&self, base: u64) -> Result<Vec<(u32, u64, u64)>, Error> {
        let mut variants = self.variant_entries()?;
        if self.names_kept_rows_back() {
            for (row, _, kept) in &mut variants {
                let back = *kept;
                *kept = (base + u64::from(*row))
                    .checked_sub(back)
                    .filter(|_| back > 0)
                    .ok_or_else(|| {
                        self.damaged(&format!(
                            "variant row {row} names its kept paragraph {back} rows back, \
                             which is not an earlier row of the index"
                        ))
                    })?;
            }
        }
        Ok(variants)
    }

    /// Its variants as `VARIANT` holds them, in row order: (row, content
    /// hash, and the kept paragraph's row across the index, or from
    /// version 6 how many rows before the variant it is).
    fn variant_entries(&self) -> Result<Vec<(u32, u64, u64)>, Error> {
        if self.variants == 0 {
            return Ok(Vec::new());
        }
        let bytes = self
            .file
            .section(VARIANT)?
            .read_range(0..self.variants * VARIANT_BYTES as u64)?;
        let mut out = Vec::with_capacity(self.variants as usize);
        let mut last = None;
        for v in bytes.chunks_exact(VARIANT_BYTES) {
            let n = |i: usize| u64::from_le_bytes(v[i..i + 8].try_into().expect("8 bytes"));
            let row = n(0);
            if row >= self.rows || last.is_some_and(|l| row <= l) {
                return Err(self.damaged("its variants are out of order or past the end"));
            }
            last = Some(row);
            out.push((row as u32, n(8), n(16)));
        }
        Ok(out)
    }

    /// Every `(fingerprint, row)` of the containment table, in its order.
    fn winnowed_entries(&self) -> Result<Vec<(u64, u32)>, Error> {
        if let Some(table) = self.fingerprint_table()? {
            return table.all();
        }
        if self.winnowed.is_none() {
            return Ok(Vec::new());
        }
        let fps = self.file.section(WFP)?;
        let fps = fps.read_range(0..fps.len())?;
        let rows = self.file.section(WROW)?;
        let rows = rows.read_range(0..rows.len())?;
        Ok(fps
            .chunks_exact(8)
            .zip(rows.chunks_exact(4))
            .map(|(fp, row)| {
                (
                    u64::from_le_bytes(fp.try_into().expect("8 bytes")),
                    u32::from_le_bytes(row.try_into().expect("4 bytes")),
                )
            })
            .collect())
    }

    /// The rows whose key in `band` is one of `wanted` (32-bit keys), as
    /// `(key, row)`: by streaming the band's table once, or, for a few
    /// keys in a large table, by binary search.
    #[cfg(test)]
    pub(super) fn matches(&self, band: usize, wanted: &Wanted) -> Result<Vec<(u32, u32)>, Error> {
        let mut out = Vec::new();
        self.matches_with(band, wanted, &mut Vec::new(), |key, row| {
            out.push((key, row))
        })?;
        Ok(out)
    }

    /// [`matches`](Self::matches), each `(key, row)` found handed to
    /// `found` (a large batch against a large index finds millions); the
    /// table is read into `buf`.
    pub(super) fn matches_with(
        &self,
        band: usize,
        wanted: &Wanted,
        buf: &mut Vec<u8>,
        found: impl FnMut(u32, u32),
    ) -> Result<(), Error> {
        // A probe touches (and checks, the first time) a 64 KiB chunk:
        // about 20 of them per key against reading the table's
        // `8 × rows` bytes once (a packed table: about 2 per key, and
        // 5 bytes per row).
        let (probes, bytes) = match self.layout {
            Layout::Whole => (20, self.rows * 8),
            Layout::Packed { .. } => (2, self.rows * 5),
        };
        let searched = (wanted.len() as u64).saturating_mul(probes) < bytes / super::file::CHUNK;
        self.matches_by(band, wanted, searched, buf, found)
    }

    /// [`matches`](Self::matches), by looking each key up (`searched`) or
    /// by reading the table once.
    fn matches_by(
        &self,
        band: usize,
        wanted: &Wanted,
        searched: bool,
        buf: &mut Vec<u8>,
        mut found: impl FnMut(u32, u32),
    ) -> Result<(), Error> {
        let narrow = || -> Vec<u32> { wanted.keys().iter().map(|&k| k as u32).collect() };
        let whole = match (&self.layout, searched) {
            (Layout::Packed { bands, .. }, _) => {
                return self.band_table(band, *bands)?.lookup_with(
                    wanted,
                    u64::MAX,
                    searched,
                    buf,
                    |key, row| found(key as u32, row),
                );
            }
            (Layout::Whole, true) => self.matches_searched(band, &narrow())?,
            (Layout::Whole, false) => self.matches_streamed(band, &narrow())?,
        };
        for (key, row) in whole {
            found(key, row);
        }
        Ok(())
    }

    /// [`matches`](Self::matches) in a table of whole numbers (versions 1
    /// and 2), by binary search of each key.
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

    /// [`matches`](Self::matches) in a table of whole numbers, by one
    /// pass over it.
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

    /// Every `(key, row)` of band `band`'s table, in its order.
    fn band_entries(&self, band: usize) -> Result<Vec<(u32, u32)>, Error> {
        if let Layout::Packed { bands, .. } = &self.layout {
            let all = self.band_table(band, *bands)?.all()?;
            return Ok(all.into_iter().map(|(k, row)| (k as u32, row)).collect());
        }
        let section = self.file.section(band_tag(band))?;
        let bytes = section.read_range(0..section.len())?;
        Ok(bytes
            .chunks_exact(8)
            .map(|pair| {
                (
                    u32::from_le_bytes(pair[..4].try_into().expect("4 bytes")),
                    u32::from_le_bytes(pair[4..].try_into().expect("4 bytes")),
                )
            })
            .collect())
    }

    /// Where each of `fps` starts in `WFP` and how many rows (at most
    /// `most`) have it, by binary search.
    fn runs_searched(
        &self,
        fps: &[u64],
        entries: u64,
        most: u64,
    ) -> Result<Vec<(u64, u64, u64)>, Error> {
        let section = self.file.section(WFP)?;
        let fp_at = |i: u64| -> Result<u64, Error> {
            let b = section.read_range(i * 8..i * 8 + 8)?;
            Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
        };
        let mut runs = Vec::new();
        for &fp in fps {
            let (mut lo, mut hi) = (0u64, entries);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if fp_at(mid)? < fp {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let mut end = lo;
            while end < entries && end - lo < most && fp_at(end)? == fp {
                end += 1;
            }
            if end > lo {
                runs.push((fp, lo, end - lo));
            }
        }
        Ok(runs)
    }

    /// [`runs_searched`](Self::runs_searched) by one pass over `WFP`.
    fn runs_streamed(&self, fps: &[u64], most: u64) -> Result<Vec<(u64, u64, u64)>, Error> {
        let section = self.file.section(WFP)?;
        const STEP: u64 = 1 << 20;
        let (mut runs, mut at, mut k): (Vec<(u64, u64, u64)>, u64, usize) = (Vec::new(), 0, 0);
        while at < section.len() && k < fps.len() {
            let end = (at + STEP).min(section.len());
            let bytes = section.read_range(at..end)?;
            for (i, b) in (at / 8..).zip(bytes.chunks_exact(8)) {
                let fp = u64::from_le_bytes(b.try_into().expect("8 bytes"));
                while k < fps.len() && fps[k] < fp {
                    k += 1;
                }
                if k == fps.len() {
                    break;
                }
                if fps[k] == fp {
                    match runs.last_mut() {
                        Some(run) if run.0 == fp => run.2 = (run.2 + 1).min(most),
                        _ => runs.push((fp, i, 1)),
                    }
                }
            }
            at = end;
        }
        Ok(runs)
    }

    /// Every row's band keys, row by row (`rows × bands`), from the band
    /// tables.
    pub(super) fn keys_by_row(&self) -> Result<Vec<u32>, Error> {
        let mut keys = vec![0u32; self.rows as usize * self.bands];
        for band in 0..self.bands {
            for (key, row) in self.band_entries(band)? {
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

    /// The fields of `row` and, when `with_next`, where the next row's
    /// tokens start (`None` for the last row).
    fn fields(&self, row: u32, with_next: bool) -> Result<(RowFields, Option<u64>), Error> {
        if u64::from(row) >= self.rows {
            return Err(self.damaged("a row past the end"));
        }
        let row = u64::from(row);
        let next = with_next && row + 1 < self.rows;
        let section = self.file.section(PARAS)?;
        match &self.layout {
            Layout::Whole => {
                let at = row * PARA_BYTES as u64;
                let len = if next { 2 * PARA_BYTES } else { PARA_BYTES } as u64;
                let p = section.read_range(at..at + len)?;
                let next = next.then(|| whole_row(&p[PARA_BYTES..]).tokens);
                Ok((whole_row(&p), next))
            }
            &Layout::Packed { rows: w, .. } => {
                let bits = w.row_bits();
                let from = row * bits / 8;
                let to =
                    ((row + 1 + u64::from(next)) * bits).div_ceil(8) + super::packed::PAD as u64;
                let p = section.read_range(from..to.min(section.len()))?;
                self.packed_fields(&p, row * bits - from * 8, w, next)
            }
        }
    }

    /// The fields of `rows`, in their order. The rows of an ascending run
    /// close together ([`DENSE`]) are read in one piece: a read each, a
    /// system call and a fresh buffer, cost more than the rows between.
    fn fields_of_rows(&self, rows: &[u32]) -> Result<Vec<RowFields>, Error> {
        let mut out = Vec::with_capacity(rows.len());
        let section = self.file.section(PARAS)?;
        for run in dense_runs(rows) {
            let (first, last) = (u64::from(run[0]), u64::from(run[run.len() - 1]));
            if last >= self.rows {
                return Err(self.damaged("a row past the end"));
            }
            match &self.layout {
                Layout::Whole => {
                    let at = first * PARA_BYTES as u64;
                    let p = section.read_range(at..(last + 1) * PARA_BYTES as u64)?;
                    out.extend(
                        run.iter().map(|&r| {
                            whole_row(&p[(u64::from(r) - first) as usize * PARA_BYTES..])
                        }),
                    );
                }
                &Layout::Packed { rows: w, .. } => {
                    let bits = w.row_bits();
                    let from = first * bits / 8;
                    let to = ((last + 1) * bits).div_ceil(8) + super::packed::PAD as u64;
                    let p = section.read_range(from..to.min(section.len()))?;
                    for &r in run {
                        let at = u64::from(r) * bits - from * 8;
                        out.push(self.packed_fields(&p, at, w, false)?.0);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The fields of the packed row at bit `at` of `p`, and with `next`
    /// the next row's token offset.
    fn packed_fields(
        &self,
        p: &[u8],
        mut at: u64,
        w: RowWidths,
        next: bool,
    ) -> Result<(RowFields, Option<u64>), Error> {
        let mut take = |width: u32| {
            let v = field(p, at, width);
            at += u64::from(width);
            v.ok_or_else(|| self.damaged("a row cut short"))
        };
        let content = take(64)?;
        let tokens = take(w.tokens)?;
        let (doc, paragraph) = (take(w.doc)? as u32, take(w.paragraph)? as u32);
        let (line, start, len) = (take(w.line)?, take(w.start)?, take(w.len)?);
        let next = if next {
            take(64)?;
            Some(take(w.tokens)?)
        } else {
            None
        };
        let end = start
            .checked_add(len)
            .ok_or_else(|| self.damaged("a paragraph's end out of range"))?;
        let fields = RowFields {
            content,
            tokens,
            doc,
            paragraph,
            line,
            start,
            end,
        };
        Ok((fields, next))
    }

    /// Hands `each` every row in order: its number, content hash, tokens
    /// and place. What a compaction copies. A packed segment's rows and
    /// tokens sections are read whole, once (a row at a time took two
    /// reads per row), and its tokens are handed over as numbers into the
    /// segment's dictionary (`Tokens::Numbered`, naming it `block`), so
    /// that the segment they go to numbers each distinct token once, not
    /// each token. Older layouts give each row's token hashes.
    ///
    /// # Errors
    ///
    /// A section cannot be read or a row does not decode; or `each`'s
    /// error.
    pub(super) fn for_each_row(
        &self,
        block: u64,
        mut each: impl FnMut(u32, u64, Tokens<'_>, &Location) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let &Layout::Packed {
            rows: w,
            ref code,
            token_bits,
            ..
        } = &self.layout
        else {
            for row in 0..self.rows as u32 {
                let p = self.paragraph(row)?;
                each(
                    row,
                    self.content(row)?,
                    Tokens::Hashes(&p.tokens),
                    &p.location,
                )?;
            }
            return Ok(());
        };
        let whole = |tag: [u8; 8]| -> Result<Vec<u8>, Error> {
            let section = self.file.section(tag)?;
            section.read_range(0..section.len())
        };
        let (paras, seq, dict) = (whole(PARAS)?, whole(TOKSEQ)?, self.dict()?);
        // The documents' entries, read once (a read per row was 2.4
        // million reads in a rewrite of 1 GB of news).
        let docs = whole(DOCS)?;
        if (docs.len() as u64) < self.docs * DOC_BYTES as u64 {
            return Err(self.damaged("its document table is shorter than its documents"));
        }
        let bits = w.row_bits();
        let mut numbers: Vec<u32> = Vec::new();
        for row in 0..self.rows {
            let (fields, next) = self.packed_fields(&paras, row * bits, w, row + 1 < self.rows)?;
            let to = next.unwrap_or(token_bits);
            if fields.tokens > to || to > token_bits {
                return Err(self.damaged("token offsets out of order"));
            }
            numbers.clear();
            code.numbers(&seq, fields.tokens, to, |n| {
                (n < dict.len() as u64).then(|| numbers.push(n as u32))
            })
            .ok_or_else(|| {
                self.damaged("a token number cut short, too long or past the dictionary")
            })?;
            let tokens = Tokens::Numbered(Numbered {
                block,
                dict,
                numbers: &numbers,
            });
            let at = self.checked_doc(fields.doc)? as usize * DOC_BYTES;
            let location = self.location_in(&fields, &docs[at..at + DOC_BYTES])?;
            each(row as u32, fields.content, tokens, &location)?;
        }
        Ok(())
    }

    /// The content hash of `row`.
    pub(super) fn content(&self, row: u32) -> Result<u64, Error> {
        Ok(self.fields(row, false)?.0.content)
    }

    /// The content hashes of `rows`, in their order ([`DENSE`] runs read
    /// together).
    pub(super) fn contents(&self, rows: &[u32]) -> Result<Vec<u64>, Error> {
        Ok(self
            .fields_of_rows(rows)?
            .into_iter()
            .map(|f| f.content)
            .collect())
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
        let (fields, next) = self.fields(row, true)?;
        let from = fields.tokens;
        let seq = self.file.section(TOKSEQ)?;
        let tokens = match &self.layout {
            &Layout::Packed {
                ref code,
                token_bits,
                ..
            } => {
                let to = next.unwrap_or(token_bits);
                if from > to || to > token_bits {
                    return Err(self.damaged("token offsets out of order"));
                }
                let bytes = seq.read_range(from / 8..to.div_ceil(8) + super::packed::PAD as u64)?;
                let base = from / 8 * 8;
                code.decode(&bytes, from - base, to - base, self.dict()?)
            }
            _ => {
                let to = next.unwrap_or(seq.len());
                if from > to || to > seq.len() {
                    return Err(self.damaged("token offsets out of order"));
                }
                super::tokens::decode_leb128(&seq.read_range(from..to)?, self.dict()?)
            }
        }
        .ok_or_else(|| self.damaged("a token number cut short, too long or past the dictionary"))?;
        Ok(PriorParagraph {
            tokens,
            location: self.location_of(&fields)?,
        })
    }

    /// Where `row` was found, without its tokens: what a finding names of
    /// an indexed paragraph whose shingles it does not need (an exact copy
    /// of it is known by its content hash).
    pub(super) fn location(&self, row: u32) -> Result<Location, Error> {
        self.location_of(&self.fields(row, false)?.0)
    }

    /// The locations of `rows`, in their order, as
    /// [`location`](Self::location) gives them: the rows of a [`DENSE`]
    /// run are read together, and so are their documents.
    pub(super) fn locations(&self, rows: &[u32]) -> Result<Vec<Location>, Error> {
        let fields = self.fields_of_rows(rows)?;
        let docs: Vec<u32> = fields.iter().map(|f| f.doc).collect();
        let section = self.file.section(DOCS)?;
        let mut out = Vec::with_capacity(fields.len());
        let mut at = 0;
        for run in dense_runs(&docs) {
            let (first, last) = (u64::from(run[0]), self.checked_doc(run[run.len() - 1])?);
            let d = section.read_range(first * DOC_BYTES as u64..(last + 1) * DOC_BYTES as u64)?;
            for f in &fields[at..at + run.len()] {
                let i = (u64::from(f.doc) - first) as usize * DOC_BYTES;
                out.push(self.location_in(f, &d[i..i + DOC_BYTES])?);
            }
            at += run.len();
        }
        Ok(out)
    }

    /// The location of a row with these fields.
    fn location_of(&self, fields: &RowFields) -> Result<Location, Error> {
        let doc = self.checked_doc(fields.doc)?;
        let d = self
            .file
            .section(DOCS)?
            .read_range(doc * DOC_BYTES as u64..(doc + 1) * DOC_BYTES as u64)?;
        self.location_in(fields, &d)
    }

    /// Document `doc`'s number, if the segment has it.
    fn checked_doc(&self, doc: u32) -> Result<u64, Error> {
        let doc = u64::from(doc);
        if doc >= self.docs {
            return Err(self.damaged("a paragraph of a document past the end"));
        }
        Ok(doc)
    }

    /// The location of a row with these fields, whose document's entry in
    /// `DOCS` is `d`.
    fn location_in(&self, fields: &RowFields, d: &[u8]) -> Result<Location, Error> {
        let &RowFields {
            doc,
            paragraph,
            line,
            start,
            end,
            ..
        } = fields;
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
        Ok(Location {
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
        })
    }

    /// Checks every checksum and that every table is in order and in
    /// bounds: each band table sorted and naming each row once, token
    /// offsets ascending, every token number and string number in range,
    /// every variant naming an earlier row (the segment's first row being
    /// row `base` of the index).
    ///
    /// # Errors
    ///
    /// The first problem found, naming the file.
    pub fn verify(&self, base: u64) -> Result<(), Error> {
        self.file.verify_all()?;
        let variant_rows = self.variant_rows(base)?;
        let mut variant = vec![false; self.rows as usize];
        for &(row, _, _) in &variant_rows {
            variant[row as usize] = true;
        }
        for band in 0..self.bands {
            // A variant has no band keys: marked as seen.
            let mut seen = variant.clone();
            let mut last = None;
            for (key, row) in self.band_entries(band)? {
                if last.is_some_and(|l| (key, row) <= l) {
                    return Err(self.damaged(&format!("band {band}'s table is out of order")));
                }
                last = Some((key, row));
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
        if self.winnowed.is_some() {
            let variants = match self.variant_table()? {
                Some(table) => table.all()?,
                None => Vec::new(),
            };
            for (entries, of_variants) in [(self.winnowed_entries()?, false), (variants, true)] {
                let mut last = None;
                for (fp, row) in entries {
                    if variant.get(row as usize) != Some(&of_variants) {
                        return Err(self.damaged(
                            "a containment fingerprint names a row past the end or of the \
                             other kind (kept or variant)",
                        ));
                    }
                    if last.is_some_and(|l| (fp, row) <= l) {
                        return Err(self.damaged("the containment fingerprints are out of order"));
                    }
                    last = Some((fp, row));
                }
            }
        }
        // Every row decodes, has its place, and its tokens give its
        // content hash (a scan checks this before it uses them, and asks
        // for `index verify` when they do not); a variant's entry in
        // `VARIANT` has its row's content hash.
        let (mut bytes, mut variants) = (Vec::new(), variant_rows.iter().peekable());
        self.for_each_row(0, |row, content, tokens, _| {
            let read = match tokens {
                Tokens::Hashes(h) => content_of_tokens(h.iter().copied(), &mut bytes),
                Tokens::Numbered(n) => {
                    content_of_tokens(n.numbers.iter().map(|&i| n.dict[i as usize]), &mut bytes)
                }
            };
            if read != content {
                return Err(
                    self.damaged(&format!("row {row}'s tokens do not give its content hash"))
                );
            }
            if variants
                .next_if(|v| v.0 == row)
                .is_some_and(|v| v.1 != content)
            {
                return Err(self.damaged(&format!(
                    "variant row {row} has another content hash than its row"
                )));
            }
            Ok(())
        })?;
        if variants.next().is_some() {
            return Err(self.damaged("its variants are not in row order"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The content hash of a row of `tokens`.
    fn content(tokens: &[u64]) -> u64 {
        content_of_tokens(tokens.iter().copied(), &mut Vec::new())
    }

    /// Paragraph `paragraph` of document `doc` in `path`, on line
    /// `doc + paragraph + 1`.
    fn line_of(path: &Arc<str>, doc: u32, paragraph: u32) -> Location {
        Location {
            path: path.clone(),
            input: InputId::new(0),
            doc: path.clone(),
            url: None,
            doc_index: DocId::new(doc),
            doc_line: 1,
            paragraph,
            line: u64::from(doc + paragraph) + 1,
            start: 0,
            end: 1,
            batch: None,
        }
    }

    /// A segment's containment fingerprints are those `winnow` selects
    /// from each row's shingles, and reading their buckets one by one and
    /// reading the table a megabyte at a time find the same rows of them,
    /// cut at the limit.
    /// Variant rows sit between kept rows with their tokens and place,
    /// are in no band table, have their fingerprints in `VWFP` only (the
    /// kept rows' in `WFP` only), name their kept row, and pass `verify`.
    #[test]
    fn variants_are_rows_without_band_keys() {
        let d = std::env::temp_dir().join(format!("neardup-segv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let mut builder = SegmentBuilder::new(2, 10, || {
            FileWriter::create(&d, "s", KIND).map_err(|e| Error::index(e.to_string()))
        })
        .winnowing(Winnowing::new(5, 25));
        let path: Arc<str> = Arc::from("a.txt");
        let tokens = |row: u64| -> Vec<u64> { (0..40).map(|t| row * 1000 + t).collect() };
        // Rows 0, 2, 3 kept (keys 7 and 100 + row), rows 1 and 4 variants
        // of rows 0 and 3; the segment's first row is row 10 of the index.
        for row in 0..5u64 {
            let location = line_of(&path, row as u32, 0);
            let t = tokens(row);
            if row == 1 || row == 4 {
                let kept = 10 + row - 1;
                // Not of itself, nor of a later row.
                for later in [10 + row, 10 + row + 1] {
                    let p = VariantParagraph {
                        content: content(&t),
                        kept: later,
                        tokens: Tokens::Hashes(&t),
                        location: &location,
                    };
                    assert!(builder.variant(p).is_err());
                }
                let p = VariantParagraph {
                    content: content(&t),
                    kept,
                    tokens: Tokens::Hashes(&t),
                    location: &location,
                };
                assert!(builder.variant(p).unwrap());
            } else {
                let keys = [7, 100 + row as u32];
                let p = KeptParagraph {
                    content: content(&t),
                    keys: &keys,
                    tokens: Tokens::Hashes(&t),
                    location: &location,
                };
                builder.kept(p).unwrap();
            }
        }
        assert_eq!(builder.variants(), 2);
        let files = builder.finish().unwrap();
        assert_eq!(files[0].1, 5);
        let segment = Segment::open(IndexFile::open(&d.join("s"), KIND).unwrap(), 0).unwrap();
        segment.verify(10).unwrap();
        assert_eq!((segment.rows, segment.variants), (5, 2));
        assert_eq!(
            segment.variant_rows(10).unwrap(),
            [(1, content(&tokens(1)), 10), (4, content(&tokens(4)), 13)]
        );
        // The variants name their kept rows by how far back they are: the
        // same file as the index's first segment names rows 0 and 3.
        assert_eq!(
            segment.variant_rows(0).unwrap(),
            [(1, content(&tokens(1)), 0), (4, content(&tokens(4)), 3)]
        );
        assert_eq!(
            segment.variant_entries().unwrap(),
            [(1, content(&tokens(1)), 1), (4, content(&tokens(4)), 1)]
        );
        let mut rows = segment.matches(0, &Wanted::new(vec![7])).unwrap();
        rows.sort_unstable();
        assert_eq!(rows, [(7, 0), (7, 2), (7, 3)]);
        assert_eq!(
            segment.matches(1, &Wanted::new(vec![101, 104])).unwrap(),
            []
        );
        assert_eq!(segment.paragraph(4).unwrap().tokens, tokens(4));
        assert_eq!(segment.content(1).unwrap(), content(&tokens(1)));
        // Each row's fingerprints: its own tokens are distinct from every
        // other row's, so they name it alone.
        let kept: Vec<u32> = segment
            .winnowed_entries()
            .unwrap()
            .iter()
            .map(|e| e.1)
            .collect();
        let variant_table = segment.variant_table().unwrap().unwrap();
        let variants: Vec<u32> = variant_table.all().unwrap().iter().map(|e| e.1).collect();
        assert!(kept.iter().all(|r| [0, 2, 3].contains(r)), "{kept:?}");
        assert!(variants.iter().all(|r| [1, 4].contains(r)), "{variants:?}");
        let fps: Vec<u64> = variant_table.all().unwrap().iter().map(|e| e.0).collect();
        let mut sorted = fps.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let found = segment.variants_winnowed(&sorted, 10).unwrap();
        assert_eq!(found.len(), variants.len());
        assert_eq!(segment.winnowed(&sorted, 10).unwrap(), []);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn containment_fingerprints_are_found_bucket_by_bucket_and_at_once() {
        let d = std::env::temp_dir().join(format!("neardup-segw-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let winnowing = Winnowing::new(5, 25).unwrap();
        let mut builder = SegmentBuilder::new(1, 0, || {
            FileWriter::create(&d, "s", KIND).map_err(|e| Error::index(e.to_string()))
        })
        .winnowing(Some(winnowing));
        let path: Arc<str> = Arc::from("a.txt");
        let mut state = 11u64;
        let mut rows: Vec<Vec<u64>> = Vec::new();
        for row in 0..3_000u32 {
            // Rows of 10 to 90 random tokens, some too short to have
            // fingerprints.
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let n = 10 + (state >> 40) as usize % 80;
            let mut tokens: Vec<u64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    state >> 20
                })
                .collect();
            // Every third row quotes 30 tokens of the first rows.
            let quoted = &rows[..rows.len().min(5)];
            if row % 3 == 0
                && let Some(q) = quoted.get((state >> 60) as usize % 5)
                && q.len() >= 30
            {
                tokens.splice(n / 2..n / 2, q[..30].iter().copied());
            }
            let location = line_of(&path, row, 0);
            builder
                .kept(KeptParagraph {
                    content: content(&tokens),
                    keys: &[0],
                    tokens: Tokens::Hashes(&tokens),
                    location: &location,
                })
                .unwrap();
            rows.push(tokens);
        }
        builder.finish().unwrap();
        let segment = Segment::open(IndexFile::open(&d.join("s"), KIND).unwrap(), 0).unwrap();
        segment.verify(0).unwrap();
        assert_eq!(segment.window(), Some(21));
        let shingler = crate::shingle::Shingler::new(crate::normalize::TokenKind::Words, 5);
        let mut expected: Vec<(u64, u32)> = Vec::new();
        for (r, tokens) in rows.iter().enumerate() {
            if tokens.len() >= 25 {
                let mut scratch = crate::shingle::Scratch::default();
                let (seq, _) = shingler.shingles_of_tokens(tokens, &mut scratch);
                let mut fps: Vec<u64> = crate::containment::winnow(seq, 21)
                    .into_iter()
                    .map(|p| p.0)
                    .collect();
                fps.sort_unstable();
                fps.dedup();
                expected.extend(fps.into_iter().map(|fp| (fp, r as u32)));
            }
        }
        expected.sort_unstable();
        let mut wanted: Vec<u64> = expected.iter().step_by(7).map(|p| p.0).collect();
        wanted.extend([0, u64::MAX]);
        wanted.sort_unstable();
        wanted.dedup();
        for most in [1, 3, u64::MAX] {
            let searched = segment.winnowed_by(&wanted, most, true).unwrap();
            assert_eq!(
                searched,
                segment.winnowed_by(&wanted, most, false).unwrap(),
                "limit {most}"
            );
            let want: Vec<(u64, u32)> = expected
                .iter()
                .filter(|p| wanted.binary_search(&p.0).is_ok())
                .filter(|p| {
                    // The first `most` rows of each fingerprint.
                    let before = expected.iter().filter(|q| q.0 == p.0 && q.1 < p.1).count();
                    (before as u64) < most
                })
                .copied()
                .collect();
            assert_eq!(searched, want, "limit {most}");
        }
        assert_eq!(segment.winnowed_entries().unwrap(), expected);
        let all = segment.winnowed(&wanted, usize::MAX - 1).unwrap();
        let want: Vec<(u64, u32)> = expected
            .iter()
            .filter(|p| wanted.binary_search(&p.0).is_ok())
            .copied()
            .collect();
        assert!(
            want.iter()
                .any(|w| want.iter().filter(|x| x.0 == w.0).count() > 3)
        );
        assert_eq!(all, want);
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Dense runs hold every number once, in order; each run ascends, its
    /// numbers on average at most `DENSE` apart, within `RUN_SPAN`.
    #[test]
    fn dense_runs_cut_where_numbers_fall_back_or_spread() {
        let mut state = 3u64;
        let mut numbers = Vec::new();
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let last = numbers.last().copied().unwrap_or(0u32);
            // One in 64 falls back, one in 64 jumps far.
            numbers.push(match state >> 58 {
                0 => last.wrapping_sub((state >> 40) as u32 % 100),
                1 => last.wrapping_add((state >> 20) as u32),
                2..8 => last,
                _ => last.wrapping_add((state >> 40) as u32 % 20),
            });
        }
        let runs: Vec<&[u32]> = dense_runs(&numbers).collect();
        assert_eq!(runs.concat(), numbers);
        assert!(runs.len() > 100 && runs.iter().any(|r| r.len() > 50));
        for run in runs {
            assert!(run.windows(2).all(|w| w[0] <= w[1]), "{run:?}");
            let span = u64::from(run[run.len() - 1] - run[0]);
            assert!(span < RUN_SPAN && span <= DENSE * (run.len() as u64 - 1).max(1));
        }
        assert_eq!(dense_runs(&[]).count(), 0);
        let far = [5, u32::MAX, 0, 1, 2];
        let runs: Vec<&[u32]> = dense_runs(&far).collect();
        assert_eq!(runs, [&[5][..], &[u32::MAX], &[0, 1, 2]]);
    }

    /// Binary search and streaming find the same rows, for keys that are
    /// in the table (once or many times) and keys that are not.
    #[test]
    fn searched_and_streamed_matches_agree() {
        let d = std::env::temp_dir().join(format!("neardup-seg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let bands = 2;
        let mut n = 0;
        let mut builder = SegmentBuilder::new(bands, 0, || {
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
            let location = line_of(&path, 0, row);
            builder
                .kept(KeptParagraph {
                    content: content(&[1, 2, 3]),
                    keys: &keys,
                    tokens: Tokens::Hashes(&[1, 2, 3]),
                    location: &location,
                })
                .unwrap();
        }
        let files = builder.finish().unwrap();
        assert_eq!(files.len(), 1);
        let file = IndexFile::open(&d.join("s1"), KIND).unwrap();
        let segment = Segment::open(file, 0).unwrap();
        segment.verify(0).unwrap();
        // Every 97th and every 3rd row's keys want fewer keys than the
        // tables have buckets (found bucket by bucket); band 1's keys of
        // every row more (the table walked through the keys' bitmap).
        let Layout::Packed { bands: shape, .. } = segment.layout else {
            panic!("a packed segment")
        };
        for (band, step) in (0..bands).flat_map(|b| [(b, 97), (b, 3), (b, 1)]) {
            // Keys in the table and keys not in it.
            let mut keys: Vec<u64> = all.iter().step_by(step).map(|k| k[band].into()).collect();
            keys.extend([0, 1, u64::from(u32::MAX - 1), u64::from(u32::MAX)]);
            keys.sort_unstable();
            keys.dedup();
            let mut want: Vec<(u32, u32)> = (0..all.len() as u32)
                .map(|row| (all[row as usize][band], row))
                .filter(|&(k, _)| keys.binary_search(&k.into()).is_ok())
                .collect();
            want.sort_unstable();
            if (band, step) == (1, 1) {
                // Read by walking the whole table.
                assert!(keys.len() as u64 >= shape.buckets(), "{}", keys.len());
            }
            let keys = Wanted::new(keys);
            let by = |searched| {
                let mut out = Vec::new();
                segment
                    .matches_by(band, &keys, searched, &mut Vec::new(), |k, r| {
                        out.push((k, r))
                    })
                    .unwrap();
                out
            };
            let mut searched = by(true);
            searched.sort_unstable();
            let streamed = by(false);
            assert!(!streamed.is_empty(), "band {band}: no key found");
            assert_eq!(searched, want, "band {band}, every {step}th row");
            assert_eq!(streamed, want, "band {band}, every {step}th row");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A segment with every kind of table (3 bands, containment
    /// fingerprints, variants, several files and documents, a skewed
    /// vocabulary), written into `d` as `s`; with the band keys of each
    /// band and the fingerprints to look up.
    fn every_table(d: &std::path::Path) -> (Vec<Vec<u64>>, Vec<u64>) {
        let mut builder = SegmentBuilder::new(3, 0, || {
            FileWriter::create(d, "s", KIND).map_err(|e| Error::index(e.to_string()))
        })
        .winnowing(Winnowing::new(5, 25));
        let paths: Vec<Arc<str>> = ["a.txt", "b.jsonl", "c/d.txt"].map(Arc::from).into();
        let mut state = 3u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % n
        };
        let mut keys: Vec<Vec<u64>> = vec![Vec::new(); 3];
        for row in 0..300u64 {
            // Tokens of a vocabulary of 400, the low numbers far more
            // often (a product of two uniform draws), 8 to 70 of them.
            let len = 8 + next(63) as usize;
            let tokens: Vec<u64> = (0..len).map(|_| next(20) * next(20) + 1).collect();
            let mut location = line_of(&paths[(row / 40) as usize % 3], (row / 7) as u32, 0);
            location.url = (row % 2 == 0).then(|| Arc::from(format!("https://x.test/{row}")));
            if row % 9 == 4 {
                let kept = row - 1 - next(3);
                let p = VariantParagraph {
                    content: content(&tokens),
                    kept: if kept % 9 == 4 { kept - 1 } else { kept },
                    tokens: Tokens::Hashes(&tokens),
                    location: &location,
                };
                builder.variant(p).unwrap();
            } else {
                // Keys from 50 values: buckets and runs of many entries.
                let k: Vec<u32> = (0..3).map(|_| next(50) as u32 * 85_899_345).collect();
                for (band, &key) in k.iter().enumerate() {
                    keys[band].push(key.into());
                }
                let p = KeptParagraph {
                    content: content(&tokens),
                    keys: &k,
                    tokens: Tokens::Hashes(&tokens),
                    location: &location,
                };
                builder.kept(p).unwrap();
            }
        }
        builder.finish().unwrap();
        // Band 0's wanted keys outnumber its buckets: its table is walked.
        keys[0].extend((0..300).map(|i| i * 14_316_557));
        for k in &mut keys {
            k.extend([0, u64::from(u32::MAX)]);
            k.sort_unstable();
            k.dedup();
        }
        let segment = Segment::open(IndexFile::open(&d.join("s"), KIND).unwrap(), 0).unwrap();
        let mut fps: Vec<u64> = segment
            .winnowed_entries()
            .unwrap()
            .iter()
            .map(|e| e.0)
            .collect();
        fps.extend(
            segment
                .variant_table()
                .unwrap()
                .unwrap()
                .all()
                .unwrap()
                .iter()
                .map(|e| e.0),
        );
        fps.extend([0, u64::MAX]);
        fps.sort_unstable();
        fps.dedup();
        (keys, fps)
    }

    /// Every read a scan, an explanation, a compaction or a drop makes of a
    /// segment.
    fn read_everything(s: &Segment, keys: &[Vec<u64>], fps: &[u64]) -> Result<(), Error> {
        for (band, keys) in keys.iter().enumerate().take(s.bands()) {
            let wanted = Wanted::new(keys.clone());
            for searched in [true, false] {
                s.matches_by(band, &wanted, searched, &mut Vec::new(), |_, _| ())?;
            }
            s.band_entries(band)?;
        }
        let rows: Vec<u32> = (0..s.rows as u32).collect();
        s.locations(&rows)?;
        s.contents(&rows)?;
        for &row in &rows {
            // As a scan does before it uses an indexed row's tokens.
            if content(&s.paragraph(row)?.tokens) != s.content(row)? {
                return Err(Error::index(format!(
                    "row {row} does not match its content hash"
                )));
            }
            s.location(row)?;
        }
        s.for_each_row(0, |_, _, tokens, _| {
            tokens.to_vec();
            Ok(())
        })?;
        s.keys_by_row()?;
        s.variant_rows(0)?;
        s.winnowed(fps, 3)?;
        s.variants_winnowed(fps, 3)?;
        Ok(())
    }

    /// A segment whose tables were changed after it was written — a bit
    /// flipped (anywhere, or in a table's first bytes), a number replaced by 0, 1, a large or an off-by-one value,
    /// a table cut short or lengthened — and checksummed again, as a
    /// faulty writer would leave it, never makes a reader panic or
    /// allocate without bound: every read is an answer or an error. And
    /// `verify` is complete: when it passes, every read answers.
    #[test]
    fn rewritten_tables_give_errors_never_panics() {
        let d = std::env::temp_dir().join(format!("neardup-segf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let (keys, fps) = every_table(&d);
        let good = IndexFile::open(&d.join("s"), KIND).unwrap();
        let sections: Vec<([u8; 8], Vec<u8>)> = good
            .tags()
            .into_iter()
            .map(|tag| {
                let s = good.section(tag).unwrap();
                (tag, s.read_range(0..s.len()).unwrap())
            })
            .collect();
        let segment = Segment::open(good, 0).unwrap();
        segment.verify(0).unwrap();
        read_everything(&segment, &keys, &fps).unwrap();
        let mut state = 5u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 20) % n.max(1)
        };
        let (mut opened, mut verified) = (0, 0);
        for round in 0..4_000 {
            let mut sections = sections.clone();
            let which = next(sections.len() as u64) as usize;
            let bytes = &mut sections[which].1;
            let len = bytes.len() as u64;
            match next(5) {
                // A bit of the section's head: counts, a directory's first
                // entries or samples.
                4 if len > 0 => {
                    let bit = next(len.min(48) * 8);
                    bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
                }
                0 if len > 0 => {
                    let bit = next(len * 8);
                    bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
                }
                1 if len >= 4 => {
                    let width = if len >= 8 && next(2) == 0 { 8 } else { 4 };
                    let at = (next(len / width) * width) as usize;
                    let old = bytes[at..at + width as usize]
                        .iter()
                        .rev()
                        .fold(0u64, |v, &b| v << 8 | u64::from(b));
                    let new = match next(6) {
                        0 => 0,
                        1 => 1,
                        2 => u64::MAX,
                        3 => old.wrapping_add(1),
                        4 => old.wrapping_sub(1),
                        _ => 1 << next(64),
                    };
                    bytes[at..at + width as usize]
                        .copy_from_slice(&new.to_le_bytes()[..width as usize]);
                }
                2 => bytes.truncate(next(len) as usize),
                _ => bytes.extend((0..1 + next(24)).map(|_| next(256) as u8)),
            }
            let name = format!("m{round}");
            let mut w = FileWriter::create(&d, &name, KIND).unwrap();
            for (tag, bytes) in &sections {
                let mut s = w.section(*tag);
                s.write_all(bytes).unwrap();
                s.finish().unwrap();
            }
            w.finish().unwrap();
            let path = d.join(&name);
            let opened_segment = Segment::open(IndexFile::open(&path, KIND).unwrap(), 0);
            if let Ok(s) = opened_segment {
                opened += 1;
                let verdict = s.verify(0);
                let read = read_everything(&s, &keys, &fps);
                if verdict.is_ok() {
                    verified += 1;
                    assert!(
                        read.is_ok(),
                        "round {round}: section {} changed, verify passed but a read failed: {}",
                        String::from_utf8_lossy(&sections[which].0),
                        read.unwrap_err()
                    );
                }
            }
            std::fs::remove_file(&path).unwrap();
        }
        // The changes reached the readers: many segments still opened,
        // and some changes (a location, a token) are not damage at all.
        assert!(
            opened > 1_000 && verified > 100,
            "{opened} opened, {verified} verified"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
