//! Writing a segment: [`SegmentBuilder`] takes the kept paragraphs (and
//! variants) a scan hands it, holds them until a segment is full, and
//! writes each segment's file on a thread of its own.

use super::{
    DICT, DOC_BYTES, DOCS, META, META_BYTES, NONE, PARAS, RowWidths, SEGMENT_TOKENS,
    SEGMENT_VERSION, STRDATA, STROFF, TOKCODE, TOKSEQ, VARIANT, VARIANT_BYTES, VWFP, WFP,
    Winnowing, band_tag,
};
use crate::Error;
use crate::id::DocId;
use crate::index::file::{FileInfo, FileWriter};
use crate::index::packed::{Bits, Directory, Shape, bits_for};
use crate::index::tokens::{Coded, Numbering};
use crate::pipeline::prior::{KeptParagraph, KeptSink, Numbered, Tokens, VariantParagraph};
use crate::report::Location;
use ahash::AHashMap;
use std::io::Write;
use std::sync::Arc;

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

    /// Starts writing the last segment ([`finish`](Self::finish) waits
    /// for it).
    fn rows_done(&mut self) -> Result<(), Error> {
        self.flush()
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
