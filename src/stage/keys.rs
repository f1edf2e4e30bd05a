//! Key files: one shard's band keys, cut by key so that the group stage
//! reads only its part of them.
//!
//! Grouping needs every paragraph that shares a key in a band with another
//! in one place, whichever shard they came from. So each shard writes its
//! keys sorted and cut into [`RANGES`] ranges by a key's top byte; group
//! part `p` of `q` takes ranges `256p/q .. 256(p+1)/q` of every shard's
//! file (one contiguous read each), and no part holds more than its share
//! of the corpus's keys.
//!
//! A key file is an index container (`index::file`: checksummed, written
//! under a temporary name and renamed) of kind `KEYS`, named
//! `keys-FIRST-END.ndk` after the inputs it covers, with three sections,
//! numbers little-endian:
//!
//! ```text
//! META     version u32 (1) | bands u32 | first input u64 | end input u64 |
//!          per input: settings key u64 | size u64 | fingerprinted paragraphs u32
//! DIR      (bands × RANGES + 1) × u64: where the entries of (band b,
//!          range r) start in ENTRIES, at index b × RANGES + r, in bytes
//! ENTRIES  band by band, range by range, each (band, range)'s entries
//!          sorted by key, then slot, each as two LEB128 numbers: the key
//!          minus the previous entry's (the range's first key, r << 24,
//!          before the first), and the slot, which numbers the shard's
//!          fingerprinted paragraphs from 0, in order
//! ```
//!
//! About 5 bytes an entry instead of 8: a shard of a million paragraphs
//! has about 4,000 keys per (band, range), so a key's difference from the
//! previous fits 2 bytes, and a slot 3.
//!
//! A part reads one run of entries per band: its ranges are contiguous
//! within each band's sorted keys.

use std::ops::Range;
use std::path::Path;

use crate::Error;
use crate::column::Column;
use crate::id::FingerprintId;
use crate::index::file::{FileWriter, IndexFile};
use crate::pipeline::radix::radix_sort_by_key;

/// The file kind of a key file.
pub const KIND: [u8; 4] = *b"KEYS";
/// How many ranges of keys a key file is cut into (by a key's top byte).
pub const RANGES: usize = 256;
const VERSION: u32 = 1;
const META: [u8; 8] = *b"META\0\0\0\0";
const DIR: [u8; 8] = *b"DIR\0\0\0\0\0";
const ENTRIES: [u8; 8] = *b"ENTRIES\0";

/// The name of the key file of the shard holding inputs `inputs`.
pub fn file_name(inputs: &Range<usize>) -> String {
    format!("keys-{:010}-{:010}.ndk", inputs.start, inputs.end)
}

/// The inputs a key file's name says it covers.
pub(crate) fn parse_name(name: &str) -> Option<Range<usize>> {
    let rest = name.strip_prefix("keys-")?.strip_suffix(".ndk")?;
    let (a, b) = rest.split_once('-')?;
    Some(a.parse().ok()?..b.parse().ok()?)
}

/// What a key file says of each input it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputKeys {
    pub(crate) settings: u64,
    pub(crate) size: u64,
    pub(crate) slots: u32,
}

/// The range of a key.
fn range_of(key: u32) -> usize {
    (key >> 24) as usize
}

/// Appends `n` in LEB128: 7 bits a byte, low bits first, the high bit set
/// on every byte but the last.
pub(crate) fn put_leb128(out: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Appends `n` in LEB128, as [`put_leb128`] (up to 10 bytes).
pub(crate) fn put_leb128_u64(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The 64-bit LEB128 number at the start of `bytes`, and the rest; `None`
/// if it is cut short or longer than 64 bits.
pub(crate) fn take_leb128_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut n = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(b & 0x7f);
        if i == 9 && bits > 1 {
            return None;
        }
        n |= bits << (7 * i);
        if b < 0x80 {
            return Some((n, &bytes[i + 1..]));
        }
    }
    None
}

/// The LEB128 number at the start of `bytes`, and the rest; `None` if it
/// is cut short or longer than 32 bits.
pub(crate) fn take_leb128(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut n = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((u32::try_from(n).ok()?, &bytes[i + 1..]));
        }
    }
    None
}

/// Writes the key file of the shard of `inputs` into `dir`, consuming
/// `keys`: one column per band of each of the shard's fingerprinted
/// paragraphs' key in that band. Returns its bytes.
pub(crate) fn write(
    dir: &Path,
    inputs: Range<usize>,
    per_input: &[InputKeys],
    mut keys: Vec<Column>,
) -> Result<u64, Error> {
    let name = file_name(&inputs);
    let path = dir.join(&name);
    let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
    let bands = keys.len();
    let slots = keys.first().map_or(0, Column::len);
    if u32::try_from(slots).is_err() {
        return Err(Error::limit(format!(
            "a shard has more than {} paragraphs: use more shards",
            u32::MAX
        )));
    }
    let mut meta = Vec::with_capacity(24 + 20 * per_input.len());
    meta.extend_from_slice(&VERSION.to_le_bytes());
    meta.extend_from_slice(&(bands as u32).to_le_bytes());
    meta.extend_from_slice(&(inputs.start as u64).to_le_bytes());
    meta.extend_from_slice(&(inputs.end as u64).to_le_bytes());
    for i in per_input {
        meta.extend_from_slice(&i.settings.to_le_bytes());
        meta.extend_from_slice(&i.size.to_le_bytes());
        meta.extend_from_slice(&i.slots.to_le_bytes());
    }
    // Every band has one entry per slot, so where (band, range) starts
    // is the band's start plus the entries of the band's earlier ranges.
    let mut dir_table = Vec::with_capacity(bands * RANGES + 1);
    let mut w = FileWriter::create(dir, &name, KIND)
        .map_err(io)?
        .replacing();
    let mut section = |tag: [u8; 8], bytes: &[u8]| -> std::io::Result<()> {
        use std::io::Write;
        let mut s = w.section(tag);
        s.write_all(bytes)?;
        s.finish()
    };
    section(META, &meta).map_err(io)?;
    // Band by band: sorted (a stable radix sort by key keeps each key's
    // slots ascending), encoded, and its column freed.
    let mut encoded = Vec::with_capacity(bands * slots * 5);
    let (mut pairs, mut scratch) = (Vec::with_capacity(slots), Vec::new());
    for column in &mut keys {
        let column = std::mem::take(column);
        pairs.clear();
        pairs.extend(
            column
                .iter()
                .zip(0u32..)
                .map(|(k, s)| (k, FingerprintId::new(s))),
        );
        drop(column);
        radix_sort_by_key(&mut pairs, &mut scratch);
        let mut at = 0;
        for r in 0..RANGES {
            dir_table.push(encoded.len() as u64);
            let end = at + pairs[at..].partition_point(|&(k, _)| range_of(k) == r);
            let mut previous = (r as u32) << 24;
            for &(k, s) in &pairs[at..end] {
                put_leb128(&mut encoded, k - previous);
                put_leb128(&mut encoded, s.get());
                previous = k;
            }
            at = end;
        }
    }
    dir_table.push(encoded.len() as u64);
    let dir_bytes: Vec<u8> = dir_table.iter().flat_map(|d| d.to_le_bytes()).collect();
    section(DIR, &dir_bytes).map_err(io)?;
    section(ENTRIES, &encoded).map_err(io)?;
    Ok(w.finish().map_err(io)?.len)
}

/// An opened key file: its header read, its entries read by range.
pub(crate) struct KeyFile {
    file: IndexFile,
    pub(crate) inputs: Range<usize>,
    pub(crate) per_input: Vec<InputKeys>,
    pub(crate) bands: usize,
}

impl KeyFile {
    /// Opens the key file at `path` (its header and footer only).
    pub(crate) fn open(path: &Path) -> Result<KeyFile, Error> {
        let file = IndexFile::open(path, KIND)?;
        let bad = |what: &str| Error::index(format!("key file {} {what}", path.display()));
        let meta = file.section(META)?;
        let meta = meta.read_range(0..meta.len())?;
        let u32_at = |at: usize| u32::from_le_bytes(meta[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(meta[at..at + 8].try_into().expect("8"));
        if meta.len() < 24 {
            return Err(bad("is damaged: its META section is too short"));
        }
        if u32_at(0) != VERSION {
            return Err(bad(&format!(
                "is of key file version {}; this neardup reads version {VERSION}: run the \
                 fingerprint stage again",
                u32_at(0)
            )));
        }
        let bands = u32_at(4) as usize;
        let inputs = u64_at(8) as usize..u64_at(16) as usize;
        if meta.len() != 24 + 20 * inputs.len() {
            return Err(bad("is damaged: its META section has the wrong size"));
        }
        let per_input = (0..inputs.len())
            .map(|i| {
                let at = 24 + 20 * i;
                InputKeys {
                    settings: u64_at(at),
                    size: u64_at(at + 8),
                    slots: u32_at(at + 16),
                }
            })
            .collect();
        Ok(KeyFile {
            file,
            inputs,
            per_input,
            bands,
        })
    }

    /// The checksum of the whole file.
    pub(crate) fn checksum(&self) -> u64 {
        self.file.checksum()
    }

    /// The shard's fingerprinted paragraphs.
    pub(crate) fn slots(&self) -> u64 {
        self.per_input.iter().map(|i| u64::from(i.slots)).sum()
    }

    /// The entries of band `band` in key ranges `ranges`, as `(key,
    /// slot)` sorted by key, then slot.
    pub(crate) fn read(&self, band: usize, ranges: Range<usize>) -> Result<Vec<(u32, u32)>, Error> {
        let bad = || {
            Error::index(format!(
                "key file {} is damaged: its directory or entries are out of order or bounds",
                self.file.path().display()
            ))
        };
        let dir = self.file.section(DIR)?;
        if dir.len() != (self.bands * RANGES * 8 + 8) as u64 || ranges.end > RANGES {
            return Err(bad());
        }
        let at = ((band * RANGES + ranges.start) * 8) as u64;
        let raw = dir.read_range(at..at + (ranges.len() as u64 + 1) * 8)?;
        let starts: Vec<u64> = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let entries = self.file.section(ENTRIES)?;
        let (first, last) = (starts[0], starts[starts.len() - 1]);
        if starts.windows(2).any(|w| w[0] > w[1]) || last > entries.len() {
            return Err(bad());
        }
        let raw = entries.read_range(first..last)?;
        let slots = self.slots();
        let mut pairs = Vec::with_capacity(raw.len() / 5);
        for (i, r) in ranges.enumerate() {
            let mut rest = &raw[(starts[i] - first) as usize..(starts[i + 1] - first) as usize];
            let mut key = (r as u32) << 24;
            while !rest.is_empty() {
                let (delta, tail) = take_leb128(rest).ok_or_else(bad)?;
                let (slot, tail) = take_leb128(tail).ok_or_else(bad)?;
                key = key.checked_add(delta).ok_or_else(bad)?;
                if range_of(key) != r || u64::from(slot) >= slots {
                    return Err(bad());
                }
                pairs.push((key, slot));
                rest = tail;
            }
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_name(&file_name(&(3..17))), Some(3..17));
        assert_eq!(parse_name("keys-1-x.ndk"), None);
        assert_eq!(parse_name("input-0000000001.ndp"), None);
    }

    #[test]
    fn ranges_read_back_sorted_by_key() {
        let dir = std::env::temp_dir().join(format!("neardup-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Two bands, four paragraphs; keys in ranges 0, 1 and 255.
        let bands = [
            [0x0100_0002, 0x0000_0005, 0x0100_0002, 0xff00_0000],
            [0x0000_0001, 0x0000_0001, 0xff00_0001, 0x0100_0000],
        ];
        let keys = bands
            .iter()
            .map(|band| {
                let mut c = Column::default();
                c.extend_from_slice(band);
                c
            })
            .collect();
        let per = InputKeys {
            settings: 7,
            size: 99,
            slots: 4,
        };
        write(&dir, 5..6, &[per], keys).unwrap();
        let f = KeyFile::open(&dir.join(file_name(&(5..6)))).unwrap();
        assert_eq!((f.inputs.clone(), f.bands, f.slots()), (5..6, 2, 4));
        assert_eq!(f.per_input, [per]);
        assert_eq!(
            f.read(0, 0..2).unwrap(),
            [(0x0000_0005, 1), (0x0100_0002, 0), (0x0100_0002, 2)]
        );
        assert_eq!(
            f.read(1, 0..1).unwrap(),
            [(0x0000_0001, 0), (0x0000_0001, 1)]
        );
        assert_eq!(f.read(1, 1..255).unwrap(), [(0x0100_0000, 3)]);
        assert_eq!(f.read(0, 255..256).unwrap(), [(0xff00_0000, 3)]);
        assert_eq!(f.read(1, 0..256).unwrap().len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn leb128_round_trips_and_refuses_what_is_cut_or_too_long() {
        let mut out = Vec::new();
        for n in [0, 1, 127, 128, 16_383, 16_384, u32::MAX] {
            out.clear();
            put_leb128(&mut out, n);
            assert_eq!(take_leb128(&out), Some((n, &[][..])), "{n}");
            assert!(take_leb128(&out[..out.len() - 1]).is_none_or(|_| out.len() == 1));
        }
        assert_eq!(take_leb128(&[0x80, 0x80, 0x80, 0x80, 0x80, 0]), None);
        assert_eq!(
            take_leb128(&[0xff, 0xff, 0xff, 0xff, 0x1f]),
            None,
            "past 32 bits"
        );
        for n in [0, 127, 128, u64::from(u32::MAX) + 1, 1 << 62, u64::MAX] {
            out.clear();
            put_leb128_u64(&mut out, n);
            assert_eq!(take_leb128_u64(&out), Some((n, &[][..])), "{n}");
            assert!(take_leb128_u64(&out[..out.len() - 1]).is_none_or(|_| out.len() == 1));
        }
        let mut past = vec![0xff; 9];
        past.push(0x02);
        assert_eq!(take_leb128_u64(&past), None, "past 64 bits");
    }
}
