//! Reading a segment: [`Segment`] opens a file, checks its `META`
//! against its sections, and answers a scan's questions (the rows a band
//! key names, a row's content hash, tokens and place), reading only what
//! each question needs.

use super::{
    DICT, DOC_BYTES, DOCS, META, META_BYTES, NONE, PARA_BYTES, PARAS, RowWidths, SEGMENT_VERSION,
    STRDATA, STROFF, TOKCODE, TOKSEQ, VARIANT, VARIANT_BYTES, VWFP, WFP, WROW, band_tag,
};
use crate::Error;
use crate::id::{DocId, InputId};
use crate::index::file::{IndexFile, Section};
use crate::index::packed::{Buckets, Directory, EntryBuckets, Shape, field};
use crate::index::tokens::{CLASSES, ClassCode};
use crate::index::wanted::{Probe, Wanted};
use crate::pipeline::prior::{Numbered, PriorParagraph, Tokens};
use crate::report::Location;
use crate::shingle::content_of_tokens;
use std::sync::{Arc, OnceLock};

/// How a segment lays its tables out.
#[derive(Debug)]
enum Layout {
    /// Versions 1 and 2: `(key u32, row u32)` entries, 48-byte rows,
    /// LEB128 tokens.
    Whole,
    /// Version 3: [`crate::index::packed`], tokens in `code` (`TOKSEQ`'s first
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
            (hi * width).div_ceil(8) + crate::index::packed::PAD as u64,
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
    pub(in crate::index) rows: u64,
    pub(in crate::index) docs: u64,
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
    pub(in crate::index) variants: u64,
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
                .checked_add(crate::index::packed::PAD as u64)
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
                rows.checked_mul(r.row_bits()).and_then(|bits| {
                    bits.div_ceil(8)
                        .checked_add(crate::index::packed::PAD as u64)
                }),
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
    pub(in crate::index) fn is_current(&self) -> bool {
        self.version == SEGMENT_VERSION
    }

    /// Its segment version (`META`).
    pub(in crate::index) fn version(&self) -> u32 {
        self.version
    }

    /// Whether its variants name their kept paragraphs by how many rows
    /// back they are (version 6), not by their rows across the index.
    pub(in crate::index) fn names_kept_rows_back(&self) -> bool {
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
    pub(in crate::index) fn is_full_and_current(&self, limit: usize) -> Result<bool, Error> {
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
    pub(in crate::index) fn winnowed(
        &self,
        fps: &[u64],
        limit: usize,
    ) -> Result<Vec<(u64, u32)>, Error> {
        let Some((_, entries)) = self.winnowed else {
            return Ok(Vec::new());
        };
        let most = limit as u64 + 1;
        if let Layout::Packed { .. } = self.layout {
            // A bucket a fingerprint (about 2 chunks each to check): for
            // a few of them, else the table a megabyte at a time.
            let searched =
                (fps.len() as u64).saturating_mul(2) < entries * 9 / crate::index::file::CHUNK;
            return self.winnowed_by(fps, most, searched);
        }
        // Where each wanted fingerprint's run starts and how long it is
        // (at most `limit + 1`): by binary search for a few fingerprints,
        // else by one streaming pass (as `matches` decides).
        let runs =
            if (fps.len() as u64).saturating_mul(20) < entries * 8 / crate::index::file::CHUNK {
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
    pub(in crate::index) fn variants_winnowed(
        &self,
        fps: &[u64],
        limit: usize,
    ) -> Result<Vec<(u64, u32)>, Error> {
        let Some(table) = self.variant_table()? else {
            return Ok(Vec::new());
        };
        let searched = (fps.len() as u64).saturating_mul(2)
            < self.variant_entries * 9 / crate::index::file::CHUNK;
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
    pub(in crate::index) fn variant_rows(&self, base: u64) -> Result<Vec<(u32, u64, u64)>, Error> {
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
    pub(in crate::index) fn matches(
        &self,
        band: usize,
        wanted: &Wanted,
    ) -> Result<Vec<(u32, u32)>, Error> {
        let mut out = Vec::new();
        self.matches_with(band, wanted, &mut Vec::new(), |key, row| {
            out.push((key, row))
        })?;
        Ok(out)
    }

    /// [`matches`](Self::matches), each `(key, row)` found handed to
    /// `found` (a large batch against a large index finds millions); the
    /// table is read into `buf`.
    pub(in crate::index) fn matches_with(
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
        let searched =
            (wanted.len() as u64).saturating_mul(probes) < bytes / crate::index::file::CHUNK;
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
    pub(in crate::index) fn keys_by_row(&self) -> Result<Vec<u32>, Error> {
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
                let to = ((row + 1 + u64::from(next)) * bits).div_ceil(8)
                    + crate::index::packed::PAD as u64;
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
                    let to = ((last + 1) * bits).div_ceil(8) + crate::index::packed::PAD as u64;
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
    pub(in crate::index) fn for_each_row(
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
    pub(in crate::index) fn content(&self, row: u32) -> Result<u64, Error> {
        Ok(self.fields(row, false)?.0.content)
    }

    /// The content hashes of `rows`, in their order ([`DENSE`] runs read
    /// together).
    pub(in crate::index) fn contents(&self, rows: &[u32]) -> Result<Vec<u64>, Error> {
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
    pub(in crate::index) fn paragraph(&self, row: u32) -> Result<PriorParagraph, Error> {
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
                let bytes =
                    seq.read_range(from / 8..to.div_ceil(8) + crate::index::packed::PAD as u64)?;
                let base = from / 8 * 8;
                code.decode(&bytes, from - base, to - base, self.dict()?)
            }
            _ => {
                let to = next.unwrap_or(seq.len());
                if from > to || to > seq.len() {
                    return Err(self.damaged("token offsets out of order"));
                }
                crate::index::tokens::decode_leb128(&seq.read_range(from..to)?, self.dict()?)
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
    pub(in crate::index) fn location(&self, row: u32) -> Result<Location, Error> {
        self.location_of(&self.fields(row, false)?.0)
    }

    /// The locations of `rows`, in their order, as
    /// [`location`](Self::location) gives them: the rows of a [`DENSE`]
    /// run are read together, and so are their documents.
    pub(in crate::index) fn locations(&self, rows: &[u32]) -> Result<Vec<Location>, Error> {
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

// The tests build segments and look inside them: they sit below the
// reader, whose private tables they check.
#[cfg(test)]
#[path = "tests.rs"]
mod tests;
