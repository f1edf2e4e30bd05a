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
//! bits ([`BandShape`]): a directory of `2^bucket_bits + 1` u32 entry
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

/// How a band table of a number of rows is packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BandShape {
    /// The key's top bits that pick its bucket.
    pub bucket_bits: u32,
    /// The bits of a row number.
    pub row_bits: u32,
}

impl BandShape {
    /// The shape for `rows` rows: row numbers of `bits_for(rows - 1)`
    /// bits and buckets of 16 to 32 entries on average (one, for fewer
    /// than 32 rows).
    pub fn for_rows(rows: u64) -> BandShape {
        let row_bits = bits_for(rows.saturating_sub(1));
        BandShape {
            bucket_bits: row_bits.saturating_sub(5),
            row_bits,
        }
    }

    /// The bits of one entry: the key's bits below the bucket's, and the
    /// row.
    pub fn entry_bits(self) -> u32 {
        32 - self.bucket_bits + self.row_bits
    }

    /// The number of buckets.
    pub fn buckets(self) -> u64 {
        1 << self.bucket_bits
    }

    /// The bucket of `key`.
    pub fn bucket(self, key: u32) -> u64 {
        u64::from(key) >> (32 - self.bucket_bits)
    }

    /// The bytes of the directory, before the entries.
    pub fn directory_bytes(self) -> u64 {
        4 * (self.buckets() + 1)
    }

    /// The bytes of a table of `rows` entries.
    pub fn table_bytes(self, rows: u64) -> Option<u64> {
        let bits = rows.checked_mul(u64::from(self.entry_bits()))?;
        self.directory_bytes()
            .checked_add(bits.div_ceil(8))?
            .checked_add(PAD as u64)
    }

    /// Packs `pairs` (`key << 32 | row`, sorted) into a table.
    pub fn pack(self, pairs: &[u64]) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.table_bytes(pairs.len() as u64).unwrap_or(0) as usize);
        let mut next = 0usize;
        for bucket in 0..=self.buckets() {
            while next < pairs.len() && self.bucket((pairs[next] >> 32) as u32) < bucket {
                next += 1;
            }
            out.extend_from_slice(&(next as u32).to_le_bytes());
        }
        let (width, low) = (self.entry_bits(), self.low_mask());
        let mut bits = Bits::with_capacity(pairs.len() * width as usize);
        for &pair in pairs {
            let (key, row) = ((pair >> 32) as u32, pair & 0xffff_ffff);
            bits.push((u64::from(key) & low) << self.row_bits | row, width);
        }
        out.extend_from_slice(&bits.finish());
        out
    }

    /// The mask of a key's bits below its bucket's.
    pub fn low_mask(self) -> u64 {
        (1u64 << (32 - self.bucket_bits)) - 1
    }

    /// The key and row of the entry at `bit` of `entries` (the bytes after
    /// the directory), in bucket `bucket`.
    pub fn entry(self, entries: &[u8], bit: u64, bucket: u64) -> Option<(u32, u32)> {
        let v = field(entries, bit, self.entry_bits())?;
        let row = v & ((1u64 << self.row_bits) - 1);
        let key = (bucket << (32 - self.bucket_bits)) | (v >> self.row_bits);
        Some((key as u32, row as u32))
    }
}

/// How a table of containment fingerprints (`entries` pairs of a 64-bit
/// fingerprint and a row of a segment of `rows` rows, sorted) is packed:
/// as a band table, buckets by the fingerprint's top bits and a directory,
/// then per entry two fields, the fingerprint's other bits and the row
/// (about 66 bits instead of 96).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FingerprintShape {
    /// The fingerprint's top bits that pick its bucket.
    pub bucket_bits: u32,
    /// The bits of a row number.
    pub row_bits: u32,
}

impl FingerprintShape {
    /// The shape for `entries` entries of a segment of `rows` rows:
    /// buckets of 16 to 32 entries on average.
    pub fn new(entries: u64, rows: u64) -> FingerprintShape {
        FingerprintShape {
            bucket_bits: bits_for(entries.saturating_sub(1)).saturating_sub(5),
            row_bits: bits_for(rows.saturating_sub(1)),
        }
    }

    /// The bits of one entry.
    pub fn entry_bits(self) -> u64 {
        u64::from(64 - self.bucket_bits + self.row_bits)
    }

    /// The number of buckets.
    pub fn buckets(self) -> u64 {
        1 << self.bucket_bits
    }

    /// The bucket of `fp`.
    pub fn bucket(self, fp: u64) -> u64 {
        if self.bucket_bits == 0 {
            0
        } else {
            fp >> (64 - self.bucket_bits)
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

    /// Packs `pairs` (sorted) into a table.
    pub fn pack(self, pairs: &[(u64, u32)]) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.table_bytes(pairs.len() as u64).unwrap_or(0) as usize);
        let mut next = 0usize;
        for bucket in 0..=self.buckets() {
            while next < pairs.len() && self.bucket(pairs[next].0) < bucket {
                next += 1;
            }
            out.extend_from_slice(&(next as u32).to_le_bytes());
        }
        let low = 64 - self.bucket_bits;
        let mut bits = Bits::with_capacity(pairs.len() * self.entry_bits() as usize);
        for &(fp, row) in pairs {
            bits.push(
                if low == 64 {
                    fp
                } else {
                    fp & ((1u64 << low) - 1)
                },
                low,
            );
            bits.push(u64::from(row), self.row_bits);
        }
        out.extend_from_slice(&bits.finish());
        out
    }

    /// The fingerprint and row of the entry at `bit` of `entries` (the
    /// bytes after the directory), in bucket `bucket`.
    pub fn entry(self, entries: &[u8], bit: u64, bucket: u64) -> Option<(u64, u32)> {
        // One load of 16 bytes holds the whole entry (at most 96 bits,
        // from a bit below 8).
        let at = usize::try_from(bit / 8).ok()?;
        let word: [u8; 16] = entries.get(at..at.checked_add(16)?)?.try_into().ok()?;
        let v = u128::from_le_bytes(word) >> (bit % 8);
        let low = 64 - self.bucket_bits;
        let fp_low = if low == 64 {
            v as u64
        } else {
            v as u64 & ((1u64 << low) - 1)
        };
        let row = (v >> low) as u64 & ((1u64 << self.row_bits) - 1);
        let fp = if self.bucket_bits == 0 {
            fp_low
        } else {
            (bucket << low) | fp_low
        };
        Some((fp, row as u32))
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
        let shape = BandShape::for_rows(40);
        assert_eq!(
            (shape.row_bits, shape.bucket_bits, shape.entry_bits()),
            (6, 1, 37)
        );
        let pairs = [(7u64 << 32) | 3, (0x8000_0001u64 << 32) | 39];
        let table = shape.pack(&pairs);
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
            let shape = FingerprintShape::new(n as u64, 900);
            let table = shape.pack(&pairs);
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
            BandShape::for_rows(0),
            BandShape {
                bucket_bits: 0,
                row_bits: 0
            }
        );
        assert_eq!(BandShape::for_rows(1).entry_bits(), 32);
        for rows in [100u64, 143_265, 1 << 20, u64::from(u32::MAX)] {
            let s = BandShape::for_rows(rows);
            let per_bucket = rows as f64 / s.buckets() as f64;
            assert!((8.0..=32.0).contains(&per_bucket), "{rows}: {per_bucket}");
            assert!(s.entry_bits() <= 37);
        }
    }
}
