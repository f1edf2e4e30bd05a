//! Bit-packed tables, the layout of segment version 3: band tables and
//! paragraph rows in fixed-width fields of as many bits as their values
//! need, so an index takes about a third less space than with whole
//! 32- and 64-bit numbers, and any row is still found without decoding the
//! ones before it.
//!
//! Fields are written least significant bit first into a stream of bytes:
//! field `k` of width `w` starting at bit `b` of the stream is bits `b ..
//! b + w` of the stream read as one little-endian number. Every packed
//! table ends with [`PAD`] zero bytes, so that a reader can always load 16
//! bytes from the byte holding a field's first bit.
//!
//! A band table (`rows` entries of a 32-bit key and a row number, sorted
//! by key, then row) is cut into `2^bucket_bits` buckets by the key's top
//! bits ([`Shape`]): a directory of `2^bucket_bits + 1` u32 entry
//! numbers (where each bucket starts; the last is `rows`), then per entry
//! only the key's remaining bits and the row, `(low key << row_bits) |
//! row`. The buckets hold 16 to 32 entries on average: a key is found by
//! reading two directory entries and one bucket, and an entry takes about
//! 38 bits instead of 64.
//!
//! # Example
//!
//! ```
//! use neardup::index::packed::{Bits, field};
//!
//! let mut bits = Bits::default();
//! bits.push(5, 3);
//! bits.push(0x1ff, 9);
//! let bytes = bits.finish();
//! assert_eq!((field(&bytes, 0, 3), field(&bytes, 3, 9)), (Some(5), Some(0x1ff)));
//! ```

/// Zero bytes after every packed stream.
pub const PAD: usize = 16;

/// The number of bits that write every number up to `max` (0 for 0).
pub fn bits_for(max: u64) -> u32 {
    64 - max.leading_zeros()
}

/// A stream of fixed-width fields being written.
#[derive(Default)]
pub struct Bits {
    bytes: Vec<u8>,
    pending: u128,
    held: u32,
}

impl Bits {
    /// A stream with room for `bits` bits.
    pub fn with_capacity(bits: usize) -> Bits {
        Bits {
            bytes: Vec::with_capacity(bits / 8 + PAD + 8),
            ..Bits::default()
        }
    }

    /// A stream with room for `bits` bits in `buffer`'s memory (its
    /// contents are dropped).
    pub fn reusing(mut buffer: Vec<u8>, bits: usize) -> Bits {
        buffer.clear();
        buffer.reserve(bits / 8 + PAD + 8);
        Bits {
            bytes: buffer,
            ..Bits::default()
        }
    }

    /// Appends the low `width` bits of `value` (`width` at most 64).
    pub fn push(&mut self, value: u64, width: u32) {
        debug_assert!(width <= 64 && (width == 64 || value >> width == 0));
        self.pending |= u128::from(value) << self.held;
        self.held += width;
        if self.held >= 64 {
            self.bytes
                .extend_from_slice(&(self.pending as u64).to_le_bytes());
            self.pending >>= 64;
            self.held -= 64;
        }
    }

    /// The bits pushed so far.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 + u64::from(self.held)
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, with the last partial byte and [`PAD`] zero bytes.
    pub fn finish(mut self) -> Vec<u8> {
        let tail = self.held.div_ceil(8) as usize;
        self.bytes
            .extend_from_slice(&self.pending.to_le_bytes()[..tail]);
        self.bytes.resize(self.bytes.len() + PAD, 0);
        self.bytes
    }
}

/// The `width`-bit field (at most 64) starting at bit `bit` of `bytes`;
/// `None` if `bytes` ends too early (a damaged table).
pub fn field(bytes: &[u8], bit: u64, width: u32) -> Option<u64> {
    let at = usize::try_from(bit / 8).ok()?;
    let word: [u8; 16] = bytes.get(at..at.checked_add(16)?)?.try_into().ok()?;
    let v = (u128::from_le_bytes(word) >> (bit % 8)) as u64;
    Some(if width >= 64 {
        v
    } else {
        v & ((1u64 << width) - 1)
    })
}

/// How a bucketed table is packed: `entries` entries of a key (32 bits
/// for a band table, 64 for the containment fingerprints) and a row of a
/// segment of `rows` rows, sorted by key, then row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The bits of a key.
    pub key_bits: u32,
    /// The key's top bits that pick its bucket.
    pub bucket_bits: u32,
    /// The bits of a row number.
    pub row_bits: u32,
}

impl Shape {
    /// The shape of a band table of `rows` rows (one entry a row).
    pub fn band(rows: u64) -> Shape {
        Shape::new(32, rows, rows)
    }

    /// The shape of a band table of `entries` entries in a segment of
    /// `rows` rows (segment version 4: a variant row has no band keys).
    pub fn band_of(entries: u64, rows: u64) -> Shape {
        Shape::new(32, entries, rows)
    }

    /// The shape of a table of `entries` containment fingerprints of a
    /// segment of `rows` rows.
    pub fn fingerprints(entries: u64, rows: u64) -> Shape {
        Shape::new(64, entries, rows)
    }

    /// Row numbers of `bits_for(rows - 1)` bits and buckets of 16 to 32
    /// entries on average (one, for fewer than 32 entries).
    fn new(key_bits: u32, entries: u64, rows: u64) -> Shape {
        Shape {
            key_bits,
            bucket_bits: bits_for(entries.saturating_sub(1)).saturating_sub(5),
            row_bits: bits_for(rows.saturating_sub(1)),
        }
    }

    /// The bits of a key below its bucket's.
    fn low_bits(self) -> u32 {
        self.key_bits - self.bucket_bits
    }

    /// The bits of one entry: the row, then the key's bits below the
    /// bucket's (at most 96).
    pub fn entry_bits(self) -> u64 {
        u64::from(self.low_bits() + self.row_bits)
    }

    /// The number of buckets.
    pub fn buckets(self) -> u64 {
        1 << self.bucket_bits
    }

    /// The bucket of `key`.
    pub fn bucket(self, key: u64) -> u64 {
        if self.bucket_bits == 0 {
            0
        } else {
            key >> self.low_bits()
        }
    }

    /// The bytes of the directory, before the entries.
    pub fn directory_bytes(self) -> u64 {
        4 * (self.buckets() + 1)
    }

    /// The bytes of a table of `entries` entries.
    pub fn table_bytes(self, entries: u64) -> Option<u64> {
        let bits = entries.checked_mul(self.entry_bits())?;
        self.directory_bytes()
            .checked_add(bits.div_ceil(8))?
            .checked_add(PAD as u64)
    }

    /// Packs `pairs` (sorted) into a table: the directory, then each
    /// entry's row and the key's low bits.
    pub fn pack(self, pairs: impl ExactSizeIterator<Item = (u64, u32)> + Clone) -> Vec<u8> {
        let n = pairs.len();
        let mut out = Vec::with_capacity(self.table_bytes(n as u64).unwrap_or(0) as usize);
        let mut next = 0u32;
        let mut keys = pairs.clone().map(|p| p.0).peekable();
        for bucket in 0..=self.buckets() {
            while keys.next_if(|&k| self.bucket(k) < bucket).is_some() {
                next += 1;
            }
            out.extend_from_slice(&next.to_le_bytes());
        }
        let mut bits = Bits::with_capacity(n * self.entry_bits() as usize);
        let (row_bits, low_bits) = (self.row_bits, self.low_bits());
        for (key, row) in pairs {
            let low = key & low_mask(low_bits);
            if row_bits + low_bits <= 64 {
                bits.push(u64::from(row) | low << row_bits, row_bits + low_bits);
            } else {
                bits.push(u64::from(row), row_bits);
                bits.push(low, low_bits);
            }
        }
        out.extend_from_slice(&bits.finish());
        out
    }

    /// The key and row of the entry at `bit` of `entries` (the bytes after
    /// the directory), in bucket `bucket`.
    pub fn entry(self, entries: &[u8], bit: u64, bucket: u64) -> Option<(u64, u32)> {
        // One load of 16 bytes holds the whole entry (at most 96 bits,
        // from a bit below 8).
        let at = usize::try_from(bit / 8).ok()?;
        let word: [u8; 16] = entries.get(at..at.checked_add(16)?)?.try_into().ok()?;
        let v = u128::from_le_bytes(word) >> (bit % 8);
        let row = v as u64 & low_mask(self.row_bits);
        let low = (v >> self.row_bits) as u64 & low_mask(self.low_bits());
        let key = if self.bucket_bits == 0 {
            low
        } else {
            (bucket << self.low_bits()) | low
        };
        Some((key, row as u32))
    }
}

/// The mask of the low `bits` bits (all of them for 64).
fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields of every width round-trip, wherever they start.
    #[test]
    fn fields_round_trip() {
        let mut bits = Bits::default();
        let mut want = Vec::new();
        let mut state = 3u64;
        let mut at = 0u64;
        for i in 0..2_000u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let width = i % 65;
            let value = if width == 64 {
                state
            } else {
                state & ((1u64 << width) - 1)
            };
            bits.push(value, width);
            want.push((at, width, value));
            at += u64::from(width);
        }
        let bytes = bits.finish();
        assert_eq!(bytes.len() as u64, at.div_ceil(8) + PAD as u64);
        for (bit, width, value) in want {
            assert_eq!(
                field(&bytes, bit, width),
                Some(value),
                "bit {bit} width {width}"
            );
        }
        assert_eq!(field(&bytes, at.div_ceil(8) * 8, 8), Some(0), "the padding");
        assert_eq!(field(&bytes, (at.div_ceil(8) + 1) * 8, 8), None);
    }

    /// A known answer: two fields and the directory of a small table, byte
    /// for byte (`docs/index-format.md` shows the same bytes).
    #[test]
    fn known_answer() {
        let mut bits = Bits::default();
        bits.push(0b101, 3);
        bits.push(0x1ff, 9);
        assert_eq!(bits.finish()[..3], [0xfd, 0x0f, 0x00]);
        // 40 rows: 6-bit rows, 2 buckets (keys below and above 2^31).
        let shape = Shape::band(40);
        assert_eq!(
            (shape.row_bits, shape.bucket_bits, shape.entry_bits()),
            (6, 1, 37)
        );
        let pairs = [(7u64, 3u32), (0x8000_0001, 39)];
        let table = shape.pack(pairs.into_iter());
        assert_eq!(
            table[..12],
            [0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0],
            "directory: bucket 0 from entry 0, bucket 1 from 1, 2 entries"
        );
        // Entry 0: low key 7, row 3 = 7 << 6 | 3 = 0x1c3; entry 1 at bit
        // 37: low key 1, row 39 = 0x67.
        let entries = &table[12..];
        assert_eq!(field(entries, 0, 37), Some(0x1c3));
        assert_eq!(field(entries, 37, 37), Some(0x67));
        assert_eq!(shape.entry(entries, 37, 1), Some((0x8000_0001, 39)));
        assert_eq!(table.len() as u64, shape.table_bytes(2).unwrap());
    }

    /// A fingerprint table packs and reads back, in every bucket shape.
    #[test]
    fn fingerprint_tables_round_trip() {
        for n in [0usize, 1, 31, 33, 5_000] {
            let mut state = n as u64 + 1;
            let mut pairs: Vec<(u64, u32)> = (0..n)
                .map(|i| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (
                        if i % 7 == 0 {
                            u64::MAX - i as u64 % 3
                        } else {
                            state
                        },
                        (state >> 50) as u32 % 900,
                    )
                })
                .collect();
            pairs.sort_unstable();
            let shape = Shape::fingerprints(n as u64, 900);
            let table = shape.pack(pairs.iter().copied());
            assert_eq!(table.len() as u64, shape.table_bytes(n as u64).unwrap());
            let dir = shape.directory_bytes() as usize;
            let bound = |b: u64| {
                let at = 4 * b as usize;
                u32::from_le_bytes(table[at..at + 4].try_into().unwrap()) as u64
            };
            let mut back = Vec::new();
            for bucket in 0..shape.buckets() {
                for i in bound(bucket)..bound(bucket + 1) {
                    back.push(
                        shape
                            .entry(&table[dir..], i * shape.entry_bits(), bucket)
                            .unwrap(),
                    );
                }
            }
            assert_eq!(back, pairs, "{n} entries");
        }
    }

    /// Shapes for small and large tables: buckets of 16 to 32 entries.
    #[test]
    fn shapes() {
        assert_eq!(
            Shape::band(0),
            Shape {
                key_bits: 32,
                bucket_bits: 0,
                row_bits: 0
            }
        );
        assert_eq!(Shape::band(1).entry_bits(), 32);
        for rows in [100u64, 143_265, 1 << 20, u64::from(u32::MAX)] {
            let s = Shape::band(rows);
            let per_bucket = rows as f64 / s.buckets() as f64;
            assert!((8.0..=32.0).contains(&per_bucket), "{rows}: {per_bucket}");
            assert!(s.entry_bits() <= 37);
        }
    }
}
