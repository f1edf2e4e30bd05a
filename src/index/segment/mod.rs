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
//! ([`crate::pipeline::prior::VariantParagraph`]): near-duplicates with a
//! text of their own, which containment takes as the longer side (a quote
//! of a republished version is in the version). A variant has no band
//! keys, so it is in no band table and no scan takes it for a kept
//! paragraph.
//!
//! The writer is `write.rs` ([`SegmentBuilder`]), the reader `read.rs`
//! ([`Segment`]); what both must agree on (the section tags, the row
//! fields' widths) is here.

mod read;
mod write;

pub use read::Segment;
pub use write::SegmentBuilder;

/// The file kind of a segment.
pub const KIND: [u8; 4] = *b"SEGM";

/// The version of what a segment's sections hold (the container has its
/// own, [`super::file::FILE_VERSION`]): 6, packed band tables and rows
/// ([`super::packed`]) whose tables find their buckets through unary
/// directories ([`crate::index::packed::Directory::Unary`]), with or without containment
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
