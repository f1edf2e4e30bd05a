//! Prints: what the first pass learned about one input, kept between runs
//! so that an unchanged input need not be fingerprinted again.
//!
//! Fingerprinting is most of a scan's time. A print holds, for every block
//! of an input, exactly what the first pass keeps of it (paragraph and
//! record counts, content hashes, the 32-bit band keys), so a scan that
//! loads a print builds the same index, and the same report, as one that
//! reads the input. The second pass still reads the input itself, but only
//! the blocks holding candidates.
//!
//! A print is valid only for the settings that made it: its header carries
//! a key of every setting that changes first-pass results (the fingerprint
//! definition, paragraph mode, tokens, shingle size, `min_words`,
//! `num_perm`, seed, banding, input format and fields, block size,
//! allowlist), and a print with another key is ignored. The encoding is
//! explicit little-endian, versioned and checksummed with XXH3; a print
//! that does not decode completely is ignored, never trusted. Inputs with
//! problems (unreadable, malformed records, invalid UTF-8) get no print, so
//! that every run reports their problems again.
//!
//! Where prints live and whether an input changed since its print was made
//! is for the caller to decide, through a [`PrintCache`]: the library does
//! not open paths.

use super::ScanOptions;
use crate::cluster::sketch::Outline;
use crate::config::Config;
use crate::corpus::Format;
use crate::hash::{self, xxh3};
use crate::id::{BlockId, InputId};
use crate::normalize::TokenKind;
use crate::paragraph::ParagraphMode;
use crate::{Error, allow::Allowlist};

/// Version of the print encoding. 2: an input whose records have ids
/// that cannot be ids (null, arrays, ...) now has warnings and so no print,
/// and a record with a number id beyond `f64` (`1E400`) is read rather than
/// refused; a version-1 print of such an input would hide the warnings.
///
/// 3: with containment on, each block also holds the fingerprints
/// winnowing selected per paragraph (the key then holds containment's
/// window and `min_words`).
///
/// 4: a WARC block also takes the blank lines after its last record's
/// body, so blocks are cut elsewhere; and a stage file's print may hold no
/// band keys (0 bands).
///
/// 5: an input under 64 blocks is cut into smaller blocks
/// ([`crate::corpus::block::block_size_for`]); a version-4 print of it
/// numbers other blocks.
pub const PRINT_VERSION: u32 = 5;

const MAGIC: &[u8; 8] = b"NDPRINT\0";

/// Storage for prints, keyed by input: the number of the input in the
/// scan's list.
///
/// [`load`](Self::load) should return a print only when the input has not
/// changed since it was stored; the library checks that the print belongs
/// to the same settings and is intact.
pub trait PrintCache: Sync {
    /// The print stored for input `input`, if the input is unchanged.
    fn load(&self, input: usize) -> Option<Vec<u8>>;
    /// Keeps the print of input `input`, just computed from its contents.
    fn store(&self, input: usize, print: &[u8]);
    /// The print of input `input` was used instead of reading it (it was
    /// intact and of the same settings).
    fn used(&self, _input: usize) {}
}

/// Where a block of a gzip input can be decoded again alone: the raw
/// offset of the member starting at its first byte, and the block's place
/// in the decoded stream. A second reading that needs only some blocks
/// reads their raw bytes and leaves the decoding to the workers, in
/// parallel, instead of decoding the whole input on the reader thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seek {
    pub(crate) raw: u64,
    pub(crate) offset: u64,
    pub(crate) first_line: u64,
    /// Its decoded length: decoding stops there, so that a block read
    /// before an input's damaged end is read again without the damage.
    pub(crate) len: u64,
}

/// The first pass's result for one block: what the index keeps of it, and
/// what a print stores.
#[derive(Debug, Default)]
pub(crate) struct Fingerprinted {
    pub(crate) input: InputId,
    pub(crate) index: BlockId,
    /// Decoded bytes of the block.
    pub(crate) bytes: u64,
    /// Record formats: the line (row) and paragraph count of each good
    /// document.
    pub(crate) records: Vec<(u64, u32)>,
    pub(crate) paragraphs: u32,
    /// Paragraphs dropped by the allowlist.
    pub(crate) allowed: u32,
    /// Block-local paragraph number of each fingerprinted paragraph.
    pub(crate) local: Vec<u32>,
    pub(crate) content: Vec<u64>,
    /// In a scan against a prior: the XXH3 of each fingerprinted
    /// paragraph's text, so that the second pass can tell an unchanged
    /// copy of an indexed paragraph by its bytes, without normalising it
    /// again (never in a print: a block from one has none).
    pub(crate) text_hashes: Vec<u64>,
    /// The [`Outline`] of each fingerprinted paragraph's shingles, by
    /// which the grouping step drops members of a group that can reach
    /// the threshold with none of the others (never in a print: a block
    /// from one has none).
    pub(crate) outlines: Vec<Outline>,
    /// Band-major band keys: `keys[b][i]` is band `b`'s key of the block's
    /// `i`-th fingerprinted paragraph.
    pub(crate) keys: Vec<Vec<u32>>,
    /// Problems in the block; a block with any is never stored.
    pub(crate) diagnostics: Vec<Error>,
    /// Invalid UTF-8: the first line (record) where it was found and how
    /// many lines (records) had it. A block with any is never stored.
    pub(crate) invalid_utf8: Option<(u64, u64)>,
    /// With containment on, the fingerprints winnowing selected, per
    /// fingerprinted paragraph: those of the `i`-th are
    /// `winnowed[winnow_ends[i - 1]..winnow_ends[i]]`, sorted and distinct
    /// (none for a paragraph below containment's `min_words`). Both empty
    /// with containment off.
    pub(crate) winnowed: Vec<u64>,
    pub(crate) winnow_ends: Vec<u32>,
    /// What an index stores of each fingerprinted paragraph, when the scan
    /// stores its kept paragraphs (never in a print).
    pub(crate) stored: Option<Box<super::spill::Stored>>,
    /// Where the block can be decoded again alone, when a gzip member
    /// starts at its first byte (not in a print: a scan from prints reads
    /// the inputs again front to back).
    pub(crate) seek: Option<Seek>,
}

/// The key of the settings a print of an input in `format` depends on.
pub fn settings_key(config: &Config, options: &ScanOptions, format: Format) -> u64 {
    let mut b = Vec::with_capacity(128);
    let num = |b: &mut Vec<u8>, n: u64| b.extend_from_slice(&n.to_le_bytes());
    num(&mut b, u64::from(PRINT_VERSION));
    num(&mut b, u64::from(hash::FORMAT_VERSION));
    num(
        &mut b,
        match config.paragraphs() {
            ParagraphMode::Line => 0,
            ParagraphMode::BlankLine => 1,
        },
    );
    num(
        &mut b,
        match config.tokens() {
            TokenKind::Words => 0,
            TokenKind::Chars => 1,
        },
    );
    for n in [
        config.shingle_size(),
        config.min_words(),
        config.num_perm(),
        config.lsh().bands(),
        config.lsh().rows(),
        options.block_size,
    ] {
        num(&mut b, n as u64);
    }
    num(&mut b, config.seed());
    for text in [format.name(), &options.fields.text, &options.fields.id] {
        num(&mut b, text.len() as u64);
        b.extend_from_slice(text.as_bytes());
    }
    num(&mut b, allowlist_key(&options.allowlist));
    // Containment's threshold and cap only act after the first pass.
    match options.containment {
        Some(c) => {
            let window = crate::containment::window_for(config.shingle_size(), c.min_words);
            num(&mut b, window.unwrap_or(0) as u64);
            num(&mut b, c.min_words as u64);
        }
        None => num(&mut b, 0),
    }
    xxh3(&b, 0)
}

fn allowlist_key(list: &Allowlist) -> u64 {
    let mut b = Vec::new();
    for (kind, items) in [(0u8, list.texts()), (1, list.pattern_sources())] {
        for item in items {
            b.push(kind);
            b.extend_from_slice(&(item.len() as u64).to_le_bytes());
            b.extend_from_slice(item.as_bytes());
        }
    }
    xxh3(&b, 0)
}

/// Appends the encoding of one block to `out`, with its band keys or (for
/// the stage files of a spread scan, whose keys go to key files) without:
/// a print without keys holds 0 bands, and only a scan expecting 0 bands
/// takes it.
pub(crate) fn encode_block(out: &mut Vec<u8>, b: &Fingerprinted, keys: bool) {
    let u32s = |out: &mut Vec<u8>, v: &[u32]| {
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    };
    for x in [b.index.get(), b.paragraphs, b.allowed] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.extend_from_slice(&b.bytes.to_le_bytes());
    out.extend_from_slice(&(b.records.len() as u32).to_le_bytes());
    for &(line, n) in &b.records {
        out.extend_from_slice(&line.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&(b.local.len() as u32).to_le_bytes());
    u32s(out, &b.local);
    for c in &b.content {
        out.extend_from_slice(&c.to_le_bytes());
    }
    let bands = if keys { &b.keys[..] } else { &[] };
    out.extend_from_slice(&(bands.len() as u32).to_le_bytes());
    for band in bands {
        u32s(out, band);
    }
    out.extend_from_slice(&(b.winnow_ends.len() as u32).to_le_bytes());
    u32s(out, &b.winnow_ends);
    for h in &b.winnowed {
        out.extend_from_slice(&h.to_le_bytes());
    }
}

/// A whole print: the header for `key`, `blocks` encoded blocks from
/// [`encode_block`], and the checksum.
pub(crate) fn finish(key: u64, blocks: u32, encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&PRINT_VERSION.to_le_bytes());
    out.extend_from_slice(&key.to_le_bytes());
    out.extend_from_slice(&blocks.to_le_bytes());
    out.extend_from_slice(encoded);
    let sum = xxh3(&out, 0);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Reads little-endian values, failing on a short input.
struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.data.len() < n {
            return None;
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// `n` values, after checking that the input can hold them (so that a
    /// damaged count cannot make us allocate without bound).
    fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let raw = self.take(n.checked_mul(4)?)?;
        Some(
            raw.chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
        )
    }
    fn u64s(&mut self, n: usize) -> Option<Vec<u64>> {
        let raw = self.take(n.checked_mul(8)?)?;
        Some(
            raw.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        )
    }
}

/// The blocks of a print of input `input`, if `data` is an intact print
/// made with settings `key` for `bands` bands (0: a print without keys).
pub(crate) fn decode(
    data: &[u8],
    key: u64,
    bands: usize,
    input: InputId,
) -> Option<Vec<Fingerprinted>> {
    let (body, sum) = data.split_at_checked(data.len().checked_sub(8)?)?;
    if xxh3(body, 0).to_le_bytes() != sum {
        return None;
    }
    let mut r = Reader { data: body };
    if r.take(8)? != MAGIC || r.u32()? != PRINT_VERSION || r.u64()? != key {
        return None;
    }
    let n_blocks = r.u32()?;
    let mut blocks = Vec::new();
    for expected in BlockId::new(0).span(n_blocks) {
        let index = BlockId::new(r.u32()?);
        let paragraphs = r.u32()?;
        let allowed = r.u32()?;
        let bytes = r.u64()?;
        let n_records = r.u32()? as usize;
        let mut records = Vec::new();
        for _ in 0..n_records {
            let line = r.u64()?;
            records.push((line, r.u32()?));
        }
        let n = r.u32()? as usize;
        let local = r.u32s(n)?;
        let content = r.u64s(n)?;
        let n_bands = r.u32()? as usize;
        let ascending = local.windows(2).all(|w| w[0] < w[1]);
        let in_range = local.last().is_none_or(|&l| l < paragraphs);
        if index != expected || n_bands != bands || !ascending || !in_range {
            return None;
        }
        let keys = (0..n_bands)
            .map(|_| r.u32s(n))
            .collect::<Option<Vec<_>>>()?;
        let n_ends = r.u32()? as usize;
        let winnow_ends = r.u32s(n_ends)?;
        let ends_ascending = winnow_ends.windows(2).all(|w| w[0] <= w[1]);
        if (n_ends != 0 && n_ends != n) || !ends_ascending {
            return None;
        }
        let winnowed = r.u64s(winnow_ends.last().copied().unwrap_or(0) as usize)?;
        blocks.push(Fingerprinted {
            input,
            index,
            bytes,
            records,
            paragraphs,
            allowed,
            local,
            content,
            text_hashes: Vec::new(),
            outlines: Vec::new(),
            keys,
            winnowed,
            winnow_ends,
            diagnostics: Vec::new(),
            invalid_utf8: None,
            stored: None,
            seek: None,
        });
    }
    r.data.is_empty().then_some(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Fingerprinted {
        Fingerprinted {
            input: InputId::new(3),
            index: BlockId::new(0),
            bytes: 120,
            records: vec![(1, 2), (2, 1)],
            paragraphs: 3,
            allowed: 1,
            local: vec![0, 2],
            content: vec![11, 22],
            text_hashes: Vec::new(),
            outlines: Vec::new(),
            keys: vec![vec![1, 2], vec![3, 4]],
            winnowed: vec![5, 9, 7],
            winnow_ends: vec![2, 3],
            diagnostics: Vec::new(),
            invalid_utf8: None,
            stored: None,
            seek: None,
        }
    }

    fn print(key: u64) -> Vec<u8> {
        let mut body = Vec::new();
        encode_block(&mut body, &block(), true);
        finish(key, 1, &body)
    }

    #[test]
    fn prints_round_trip() {
        let blocks = decode(&print(7), 7, 2, InputId::new(5)).unwrap();
        let b = &blocks[0];
        assert_eq!(b.input, InputId::new(5));
        assert_eq!((b.bytes, b.paragraphs, b.allowed), (120, 3, 1));
        assert_eq!(b.records, [(1, 2), (2, 1)]);
        assert_eq!((&b.local[..], &b.content[..]), (&[0, 2][..], &[11, 22][..]));
        assert_eq!(b.keys, [vec![1, 2], vec![3, 4]]);
        assert_eq!(
            (&b.winnowed[..], &b.winnow_ends[..]),
            (&[5, 9, 7][..], &[2, 3][..])
        );
    }

    #[test]
    fn a_print_without_keys_is_only_taken_without_keys() {
        let mut body = Vec::new();
        encode_block(&mut body, &block(), false);
        let keyless = finish(7, 1, &body);
        assert!(keyless.len() < print(7).len());
        assert!(decode(&keyless, 7, 2, InputId::new(0)).is_none());
        let blocks = decode(&keyless, 7, 0, InputId::new(0)).unwrap();
        assert!(blocks[0].keys.is_empty());
        assert_eq!(blocks[0].content, [11, 22]);
        assert!(decode(&print(7), 7, 0, InputId::new(0)).is_none());
    }

    #[test]
    fn other_settings_and_damage_are_refused() {
        let p = print(7);
        assert!(
            decode(&p, 8, 2, InputId::new(0)).is_none(),
            "other settings"
        );
        assert!(decode(&p, 7, 3, InputId::new(0)).is_none(), "other banding");
        for cut in [0, 1, 8, p.len() - 9, p.len() - 1] {
            assert!(
                decode(&p[..cut], 7, 2, InputId::new(0)).is_none(),
                "cut at {cut}"
            );
        }
        for at in [0, 12, 30, p.len() - 1] {
            let mut bad = p.clone();
            bad[at] ^= 1;
            assert!(
                decode(&bad, 7, 2, InputId::new(0)).is_none(),
                "flipped byte {at}"
            );
        }
    }

    #[test]
    fn prints_of_older_versions_are_refused() {
        // Intact but older: such a print may hide warnings (see
        // `PRINT_VERSION`).
        let mut old = print(7);
        old.truncate(old.len() - 8);
        old[8..12].copy_from_slice(&2u32.to_le_bytes());
        let sum = xxh3(&old, 0);
        old.extend_from_slice(&sum.to_le_bytes());
        assert!(decode(&old, 7, 2, InputId::new(0)).is_none());
        assert!(decode(&print(7), 7, 2, InputId::new(0)).is_some());
    }

    #[test]
    fn settings_key_tracks_what_changes_fingerprints() {
        let options = ScanOptions::default();
        let key =
            |config: &Config, options: &ScanOptions, format| settings_key(config, options, format);
        let base = key(&Config::default(), &options, Format::Text);
        assert_eq!(base, key(&Config::default(), &options, Format::Text));
        assert_ne!(base, key(&Config::default(), &options, Format::Jsonl));
        let other = Config::builder().shingle_size(3).build().unwrap();
        assert_ne!(base, key(&other, &options, Format::Text));
        // The threshold only matters through the banding it picks.
        let same_banding = Config::builder()
            .threshold("0.9".parse().unwrap())
            .bands(25)
            .rows(5)
            .build()
            .unwrap();
        assert_eq!(base, key(&same_banding, &options, Format::Text));
        let other_banding = Config::builder()
            .threshold("0.9".parse().unwrap())
            .build()
            .unwrap();
        assert_ne!(base, key(&other_banding, &options, Format::Text));
        let allowing = ScanOptions {
            allowlist: Allowlist::new(&["0 Comments"], &[] as &[&str]).unwrap(),
            ..ScanOptions::default()
        };
        assert_ne!(base, key(&Config::default(), &allowing, Format::Text));
        // Containment's fingerprints are in the print; its threshold is not.
        let containing = |min_words, threshold| ScanOptions {
            containment: Some(crate::containment::find::Settings {
                min_words,
                threshold,
                ..Default::default()
            }),
            ..ScanOptions::default()
        };
        let on = key(&Config::default(), &containing(25, (8, 10)), Format::Text);
        assert_ne!(base, on);
        assert_eq!(
            on,
            key(&Config::default(), &containing(25, (9, 10)), Format::Text)
        );
        assert_ne!(
            on,
            key(&Config::default(), &containing(30, (8, 10)), Format::Text)
        );
    }
}
