//! Bit-packed tables, the layout of segment version 3 on: band tables and
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
//! A band table (an entry of a 32-bit key and a row number per kept row,
//! sorted by key, then row) is cut into `2^bucket_bits` buckets by the
//! key's top bits ([`Shape`]): a directory of where each bucket's entries
//! are, then per entry only the key's remaining bits and the row, `(low
//! key << row_bits) | row`. Segment versions 3 and 4 write the directory
//! as a u32 per bucket, buckets of 16 to 32 entries ([`Directory::Bounds`]:
//! about 38.6 bits an entry on 1 GB of news); version 5 on in unary, a 1
//! per entry and a 0 per bucket, buckets of 1 to 2 entries
//! ([`Directory::Unary`], read through [`Buckets`] and [`EntryBuckets`]),
//! so that each entry keeps 4 fewer bits of its key: 35.2 bits, 3.2
//! above the 32 bits of information a hashed key holds.
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

/// How a table finds the entries of a bucket (the key's top bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directory {
    /// Segment versions 3 and 4: a u32 per bucket, the number of its
    /// first entry (then the number of entries), buckets of 16 to 32
    /// entries on average.
    Bounds,
    /// Segment versions 5 and 6: buckets of 1 to 2 entries on average, each
    /// written in unary (a 1 per entry, then a 0), with the number of the
    /// first entry of every 64th bucket as a u32: about 2.3 bits per entry
    /// where the bounds took 1 to 2, but 4 fewer bits of each key.
    Unary,
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
    /// Its entries.
    pub entries: u64,
    /// How its buckets are found.
    pub directory: Directory,
}

impl Shape {
    /// The shape of a band table of `rows` rows (one entry a row).
    pub fn band(rows: u64, directory: Directory) -> Shape {
        Shape::new(32, rows, rows, directory)
    }

    /// The shape of a band table of `entries` entries in a segment of
    /// `rows` rows (segment version 4: a variant row has no band keys).
    pub fn band_of(entries: u64, rows: u64, directory: Directory) -> Shape {
        Shape::new(32, entries, rows, directory)
    }

    /// The shape of a table of `entries` containment fingerprints of a
    /// segment of `rows` rows.
    pub fn fingerprints(entries: u64, rows: u64, directory: Directory) -> Shape {
        Shape::new(64, entries, rows, directory)
    }

    /// Row numbers of `bits_for(rows - 1)` bits; buckets of 16 to 32
    /// entries on average with bounds (one, for fewer than 32 entries),
    /// of 1 to 2 in unary.
    fn new(key_bits: u32, entries: u64, rows: u64, directory: Directory) -> Shape {
        let per_bucket = match directory {
            Directory::Bounds => 5,
            Directory::Unary => 1,
        };
        Shape {
            key_bits,
            bucket_bits: bits_for(entries.saturating_sub(1)).saturating_sub(per_bucket),
            row_bits: bits_for(rows.saturating_sub(1)),
            entries,
            directory,
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

    /// The number of buckets whose first entry a unary directory gives.
    fn samples(self) -> u64 {
        self.buckets().div_ceil(64)
    }

    /// The bytes of the directory, before the entries (saturating: a
    /// table whose [`table_bytes`](Self::table_bytes) is its length has
    /// none too large).
    pub fn directory_bytes(self) -> u64 {
        match self.directory {
            Directory::Bounds => 4 * (self.buckets() + 1),
            Directory::Unary => (4 * self.samples())
                .saturating_add(self.entries.saturating_add(self.buckets()).div_ceil(8))
                .saturating_add(PAD as u64),
        }
    }

    /// The bytes of the table, `None` if they overflow.
    pub fn table_bytes(self) -> Option<u64> {
        let bits = self.entries.checked_mul(self.entry_bits())?;
        self.directory_bytes()
            .checked_add(bits.div_ceil(8))?
            .checked_add(PAD as u64)
    }

    /// Packs `pairs` (sorted, [`entries`](Self::entries) of them) into a
    /// table: the directory, then each entry's row and the key's low bits.
    pub fn pack(self, pairs: impl ExactSizeIterator<Item = (u64, u32)> + Clone) -> Vec<u8> {
        let n = pairs.len();
        let mut out = Vec::with_capacity(self.table_bytes().unwrap_or(0) as usize);
        let mut keys = pairs.clone().map(|p| p.0).peekable();
        match self.directory {
            Directory::Bounds => {
                let mut next = 0u32;
                for bucket in 0..=self.buckets() {
                    while keys.next_if(|&k| self.bucket(k) < bucket).is_some() {
                        next += 1;
                    }
                    out.extend_from_slice(&next.to_le_bytes());
                }
            }
            Directory::Unary => {
                // Entry `e`'s 1 is bit `e + bucket`; every other bit is 0.
                let stream = (n as u64 + self.buckets()).div_ceil(8) as usize;
                let mut unary = vec![0u8; stream + PAD];
                let mut samples: Vec<u32> = Vec::with_capacity(self.samples() as usize);
                for (e, key) in keys.enumerate() {
                    let bucket = self.bucket(key);
                    while (samples.len() as u64) * 64 <= bucket {
                        samples.push(e as u32);
                    }
                    let bit = e as u64 + bucket;
                    unary[(bit / 8) as usize] |= 1 << (bit % 8);
                }
                samples.resize(self.samples() as usize, n as u32);
                out.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
                out.extend_from_slice(&unary);
            }
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

/// The buckets of a unary directory's entries, in order, read from its
/// stream of 1s (entry `e`'s 1 is bit `e + bucket` of it: the 0s before
/// it end the buckets before its own), a word at a time: what a reader
/// walking every entry needs, with no step per bucket. Each sample is
/// checked as the entries pass it; `None` where the stream ends or a
/// sample disagrees, and [`finish`](Self::finish) checks what is left.
pub struct EntryBuckets<'a> {
    samples: &'a [u8],
    bits: &'a [u8],
    /// The bit `word` starts at, and the 1s of it not yet taken.
    at: u64,
    word: u64,
    /// The entries taken, and the next sample to check.
    entry: u64,
    group: u64,
    groups: u64,
}

impl<'a> EntryBuckets<'a> {
    /// The buckets of the entries of a table of `shape` whose directory is
    /// `directory`; `None` if it is not unary or is cut short.
    pub fn new(shape: Shape, directory: &'a [u8]) -> Option<EntryBuckets<'a>> {
        if shape.directory != Directory::Unary {
            return None;
        }
        let at = usize::try_from(4 * shape.samples()).ok()?;
        let (samples, bits) = directory.split_at_checked(at)?;
        Some(EntryBuckets {
            samples,
            bits,
            at: 0,
            word: field(bits, 0, 64)?,
            entry: 0,
            group: 0,
            groups: shape.samples(),
        })
    }

    /// Whether the samples after the last bucket taken hold the entries
    /// taken; `None` if one does not.
    fn check_samples_to(&mut self, bucket: u64) -> Option<()> {
        while self.group < self.groups && self.group * 64 <= bucket {
            let at = usize::try_from(4 * self.group).ok()?;
            let b = self.samples.get(at..at.checked_add(4)?)?;
            if u64::from(u32::from_le_bytes(b.try_into().ok()?)) != self.entry {
                return None;
            }
            self.group += 1;
        }
        Some(())
    }

    /// Whether the directory ends as it should after the entries taken:
    /// no 1 after them, and every sample left holding them all.
    pub fn finish(mut self) -> bool {
        loop {
            if self.word != 0 {
                return false;
            }
            self.at += 64;
            match field(self.bits, self.at, 64) {
                Some(word) => self.word = word,
                None => break,
            }
        }
        self.check_samples_to(u64::MAX).is_some()
    }
}

impl Iterator for EntryBuckets<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while self.word == 0 {
            self.at += 64;
            self.word = field(self.bits, self.at, 64)?;
        }
        let bit = self.at + u64::from(self.word.trailing_zeros());
        self.word &= self.word - 1;
        let bucket = bit - self.entry;
        self.check_samples_to(bucket)?;
        self.entry += 1;
        Some(bucket)
    }
}

/// A table's directory being read: the entries of each bucket asked for.
/// A unary directory is read from the nearest earlier place it knows —
/// where the bucket before the one last asked for ended, or the last
/// 64th bucket's first entry — so buckets asked for in order cost a word
/// or two each.
///
/// ```
/// use neardup::index::packed::{Buckets, Directory, Shape};
///
/// let pairs = [(7u64, 3u32), (0x4000_0000, 1), (0x8000_0001, 39), (0xc000_0000, 2), (0xc000_0001, 4)];
/// let shape = Shape::band_of(5, 40, Directory::Unary);
/// assert_eq!(shape.buckets(), 4);
/// let table = shape.pack(pairs.into_iter());
/// let mut buckets = Buckets::new(shape, &table[..shape.directory_bytes() as usize]);
/// assert_eq!(buckets.bounds(2), Some((2, 3)));
/// assert_eq!(buckets.bounds(3), Some((3, 5)));
/// assert_eq!(buckets.bounds(0), Some((0, 1)));
/// assert_eq!(buckets.bounds(4), None);
/// ```
pub struct Buckets<'a> {
    shape: Shape,
    directory: &'a [u8],
    /// Unary: bucket `next` starts at bit `at` of the unary stream,
    /// after `before` entries.
    next: u64,
    at: u64,
    before: u64,
}

impl<'a> Buckets<'a> {
    /// The directory `directory` (a table's first
    /// [`directory_bytes`](Shape::directory_bytes)) of a table of `shape`.
    pub fn new(shape: Shape, directory: &'a [u8]) -> Buckets<'a> {
        Buckets {
            shape,
            directory,
            next: 0,
            at: 0,
            before: 0,
        }
    }

    /// The entries `lo..hi` of `bucket`; `None` if the directory is
    /// damaged (out of order, past the entries, cut short) or there is no
    /// such bucket.
    pub fn bounds(&mut self, bucket: u64) -> Option<(u64, u64)> {
        if bucket >= self.shape.buckets() {
            return None;
        }
        let (lo, hi) = match self.shape.directory {
            Directory::Bounds => {
                let at = usize::try_from(4 * bucket).ok()?;
                let two = self.directory.get(at..at.checked_add(8)?)?;
                let bound = |b: &[u8]| Some(u64::from(u32::from_le_bytes(b.try_into().ok()?)));
                (bound(&two[..4])?, bound(&two[4..])?)
            }
            Directory::Unary => self.unary(bucket)?,
        };
        (lo <= hi && hi <= self.shape.entries).then_some((lo, hi))
    }

    /// [`bounds`](Self::bounds) in a unary directory.
    fn unary(&mut self, bucket: u64) -> Option<(u64, u64)> {
        let (samples, bits) = self
            .directory
            .split_at_checked(usize::try_from(4 * self.shape.samples()).ok()?)?;
        let sample = |group: u64| -> Option<u64> {
            let at = usize::try_from(4 * group).ok()?;
            let b = samples.get(at..at.checked_add(4)?)?;
            Some(u32::from_le_bytes(b.try_into().ok()?).into())
        };
        let start = bucket & !63;
        if bucket < self.next || self.next < start {
            self.before = sample(bucket / 64)?;
            self.next = start;
            self.at = start.checked_add(self.before)?;
        }
        // Past the ends (zeros) of the buckets before it, counting their
        // entries (ones).
        let mut skip = bucket - self.next;
        while skip > 0 {
            let word = field(bits, self.at, 64)?;
            let zeros = u64::from((!word).count_ones());
            if zeros < skip {
                skip -= zeros;
                self.before += 64 - zeros;
                self.at += 64;
            } else {
                let mut z = !word;
                for _ in 1..skip {
                    z &= z - 1;
                }
                let pos = u64::from(z.trailing_zeros());
                self.before += pos + 1 - skip;
                self.at += pos + 1;
                skip = 0;
            }
        }
        if bucket.is_multiple_of(64) && sample(bucket / 64)? != self.before {
            return None;
        }
        let lo = self.before;
        loop {
            let ones = u64::from(field(bits, self.at, 64)?.trailing_ones());
            self.before += ones;
            self.at += ones;
            if ones < 64 {
                break;
            }
        }
        self.at += 1;
        self.next = bucket + 1;
        Some((lo, self.before))
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
        let shape = Shape::band(40, Directory::Bounds);
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
        assert_eq!(table.len(), 12 + (2 * 37_usize).div_ceil(8) + PAD);
        // Unary (version 5): 3 entries in a segment of 40 rows, 1 bucket
        // bit, entries of 37 bits. One sample, u32 0 (bucket 0 starts at
        // entry 0), then the stream `1 0 | 1 1 0` (bucket 0 holds one
        // entry, bucket 1 two), the byte 0x0d, and 16 zero bytes.
        let shape = Shape::band_of(3, 40, Directory::Unary);
        assert_eq!(
            (shape.row_bits, shape.bucket_bits, shape.entry_bits()),
            (6, 1, 37)
        );
        let pairs = [(7u64, 3u32), (0x8000_0001, 5), (0x8000_0001, 39)];
        let table = shape.pack(pairs.into_iter());
        assert_eq!(table[..5], [0, 0, 0, 0, 0x0d]);
        assert_eq!(table[5..21], [0; PAD]);
        assert_eq!(shape.directory_bytes(), 21);
        // The entries 0x1c3, 0x45 (low key 1, row 5) and 0x67.
        let entries = &table[21..];
        assert_eq!(field(entries, 0, 37), Some(0x1c3));
        assert_eq!(field(entries, 37, 37), Some(0x45));
        assert_eq!(field(entries, 74, 37), Some(0x67));
        assert_eq!(table.len() as u64, shape.table_bytes().unwrap());
        let mut buckets = Buckets::new(shape, &table[..21]);
        assert_eq!(
            (buckets.bounds(0), buckets.bounds(1)),
            (Some((0, 1)), Some((1, 3)))
        );
    }

    /// Both directories give every bucket's entries, asked for in order,
    /// out of order, or one by one, and a damaged directory is `None`,
    /// never a panic.
    #[test]
    fn directories_find_every_bucket() {
        for n in [0u64, 1, 2, 3, 63, 64, 65, 1_000, 20_000] {
            for directory in [Directory::Bounds, Directory::Unary] {
                let mut state = n + 5;
                let mut pairs: Vec<(u64, u32)> = (0..n)
                    .map(|i| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        // A few runs of one key, longer than a word.
                        let key = if i % 10 == 0 { 77 } else { state >> 32 };
                        (key, i as u32)
                    })
                    .collect();
                pairs.sort_unstable();
                let shape = Shape::band(n, directory);
                let table = shape.pack(pairs.iter().copied());
                assert_eq!(table.len() as u64, shape.table_bytes().unwrap());
                let dir = shape.directory_bytes() as usize;
                let mut want = Vec::new();
                for bucket in 0..shape.buckets() {
                    let lo = pairs.partition_point(|p| shape.bucket(p.0) < bucket) as u64;
                    let hi = pairs.partition_point(|p| shape.bucket(p.0) <= bucket) as u64;
                    want.push((lo, hi));
                }
                let mut buckets = Buckets::new(shape, &table[..dir]);
                let got: Vec<_> = (0..shape.buckets())
                    .map(|b| buckets.bounds(b).unwrap())
                    .collect();
                assert_eq!(got, want, "{n} entries, {directory:?}");
                let mut back = Vec::new();
                for (bucket, &(lo, hi)) in got.iter().enumerate() {
                    for i in lo..hi {
                        let bit = i * shape.entry_bits();
                        back.push(shape.entry(&table[dir..], bit, bucket as u64).unwrap());
                    }
                }
                assert_eq!(back, pairs, "{n} entries, {directory:?}");
                if let Some(mut each) = EntryBuckets::new(shape, &table[..dir]) {
                    let of_entries: Vec<u64> = each.by_ref().take(n as usize).collect();
                    let want: Vec<u64> = pairs.iter().map(|p| shape.bucket(p.0)).collect();
                    assert_eq!(of_entries, want, "{n} entries");
                    assert!(each.finish(), "{n} entries");
                }
                // Backwards, and every 7th, each from a fresh reader too.
                for b in (0..shape.buckets())
                    .rev()
                    .chain((0..shape.buckets()).step_by(7))
                {
                    assert_eq!(buckets.bounds(b), Some(want[b as usize]));
                    let mut fresh = Buckets::new(shape, &table[..dir]);
                    assert_eq!(fresh.bounds(b), Some(want[b as usize]));
                }
                assert_eq!(buckets.bounds(shape.buckets()), None);
                // Any byte of the directory changed: an answer or None.
                for at in (0..dir).step_by(3) {
                    let mut bad = table[..dir].to_vec();
                    bad[at] ^= 0x5a;
                    let mut buckets = Buckets::new(shape, &bad);
                    for b in 0..shape.buckets() {
                        let _ = buckets.bounds(b);
                    }
                    let _ = Buckets::new(shape, &bad[..at]).bounds(shape.buckets() - 1);
                }
            }
        }
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
            for directory in [Directory::Bounds, Directory::Unary] {
                let shape = Shape::fingerprints(n as u64, 900, directory);
                let table = shape.pack(pairs.iter().copied());
                assert_eq!(table.len() as u64, shape.table_bytes().unwrap());
                let dir = shape.directory_bytes() as usize;
                let mut buckets = Buckets::new(shape, &table[..dir]);
                let mut back = Vec::new();
                for bucket in 0..shape.buckets() {
                    let (lo, hi) = buckets.bounds(bucket).unwrap();
                    for i in lo..hi {
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
    }

    /// Shapes for small and large tables: buckets of 16 to 32 entries.
    #[test]
    fn shapes() {
        for directory in [Directory::Bounds, Directory::Unary] {
            assert_eq!(
                Shape::band(0, directory),
                Shape {
                    key_bits: 32,
                    bucket_bits: 0,
                    row_bits: 0,
                    entries: 0,
                    directory
                }
            );
            assert_eq!(Shape::band(1, directory).entry_bits(), 32);
        }
        for rows in [100u64, 143_265, 1 << 20, u64::from(u32::MAX)] {
            let s = Shape::band(rows, Directory::Bounds);
            let per_bucket = rows as f64 / s.buckets() as f64;
            assert!((8.0..=32.0).contains(&per_bucket), "{rows}: {per_bucket}");
            assert!(s.entry_bits() <= 37);
            let u = Shape::band(rows, Directory::Unary);
            let per_bucket = rows as f64 / u.buckets() as f64;
            assert!((0.5..=2.0).contains(&per_bucket), "{rows}: {per_bucket}");
            assert_eq!(u.entry_bits(), s.entry_bits() - 4);
            // The unary table is the smaller by 1.5 to 4 bits an entry.
            let saved = (s.table_bytes().unwrap() - u.table_bytes().unwrap()) as f64 * 8.0;
            assert!(
                (1.5..=4.0).contains(&(saved / rows as f64)),
                "{rows}: {saved}"
            );
        }
    }
}
