//! The coding of a segment's tokens (`DICT`, `TOKCODE`, `TOKSEQ`): each
//! row's token hashes as numbers into a dictionary of the segment's
//! distinct token hashes, most frequent first, each number written in as
//! few bits as its frequency warrants, so that a token of news prose takes
//! under 12 bits instead of 64.
//!
//! Segment version 3 codes a number `n` by its class `c = bits(n + 1) −
//! 1` (0 for the most frequent token, 1 for the next two, 2 for the four
//! after, ...): the class in a Huffman code of the segment's classes
//! ([`ClassCode`], at most 33 of them), then the `c` bits of `n + 1` below
//! its top bit. Word frequencies fall about as `1 / rank`, so the
//! numbers within a class are close to equally likely and this is within
//! a twentieth of a bit of the numbers' entropy (11.85 against 11.80 bits
//! per token on generated news, where LEB128 took 13.71) while the code
//! table is 33 lengths. Versions 1 and 2 wrote each number as LEB128
//! ([`decode_leb128`]).
//!
//! Numbering the tokens is most of the cost of writing a segment
//! ([`Numbering`]). A scan hands them over as numbers into its blocks'
//! own dictionaries, so a segment looks up each block's distinct tokens,
//! not each token: all of a block's entries at once, when its first row
//! comes, in the order of their hashes' top bits, in a table whose first
//! slot for a hash is its top bits (`HashOrder`; the hashes mixed first
//! with a key drawn at random for the process, `Mix`, so that crafted
//! text cannot pile them into one run of slots). The slots are then
//! visited in ascending order, and the one 8 entries ahead is prefetched.
//! (Looked up one at a time as the tokens came, in random order, a table
//! of our own, open addressing keyed by the token hash itself, was slower
//! than `AHashMap`: 290 against 190 ms for 8.3 million tokens; on
//! 2026-12-05 one with 16-byte slots made the second pass 2–6% faster but
//! the whole run no faster beyond its noise, and prefetching its slots
//! ahead made it slower.)
//!
//! Those lookups cost about 80 ns each in `index create` (26.7 million
//! for 1 GB of news, 8.5% of its CPU time by `perf record`), against
//! 6–16 ns when a benchmark does nothing else (55 blocks of 170,000
//! tokens drawn from Zipf vocabularies of 50,000 and 400,000 words): the
//! thread that does them shares two cores with the second pass and the
//! segment writer, which evict the table from the cache. On 2026-12-06,
//! giving each block's tokens entries of their own and merging the
//! entries by a radix sort of their hashes when the segment is written
//! took 0.6–1.6 s of user time off (medians of four sets of 3
//! interleaved runs) but added about 0.4 s of system time, 110 MB of
//! peak memory and no wall time: it was not kept. Nor was a table whose
//! slots hold only the 4-byte number, the hash compared in the
//! dictionary (a quarter of the memory): the compare's extra read of
//! the dictionary made the lookups slower (`perf record -F 999` of a
//! 1 GB `index create`: 1,502 samples in the lookups against 1,094), and
//! in the first pass's blocks ([`crate::pipeline`]'s scratch file) it
//! was no faster (1,800 samples either way).
//!
//! What did pay, on 2026-12-06: counting each token in its block's small
//! table, added to the segment's counts when the block ends, instead of
//! in the segment's (`push_numbered`'s own samples 905 → 652); coding
//! each distinct number once and each token by looking its code up, into
//! the memory of the segment written before (`Coded::of` 982 samples and
//! 231 of page faults → 747). `index create` of 100 MB, 15 interleaved
//! runs: 1.51 → 1.38 s median, 2.23 → 2.10 s of user time.
//!
//! And on 2026-12-07, the whole block in hash order (above): the lookups
//! and the block's table (`Numbering::number` and `push_numbered`, 1,982
//! samples of a 1 GB `index create` by `perf record -F 999`) took 1,392
//! samples (`push_numbered` and `HashOrder::get_or_insert`), though the
//! block's entries no stored row uses are looked up too (they are given
//! no count, and [`Coded`] leaves them out). `index create` of 100 MB,
//! 10 interleaved runs: 1.24 → 1.19 s median, 2.17 → 2.09 s of CPU
//! time. The segments written are the same to the byte.
//!
//! # Example
//!
//! ```
//! use neardup::index::tokens::Coded;
//!
//! let rows: Vec<u64> = vec![7, 9, 7, 7, 3];
//! let coded = Coded::new(&rows, &[2, 5]);
//! assert_eq!(coded.dict, vec![7, 3, 9]);
//! let (from, to) = (coded.offsets[1], coded.bits);
//! assert_eq!(coded.code.decode(&coded.seq, from, to, &coded.dict), Some(vec![7, 7, 3]));
//! ```

use super::packed::{Bits, bits_for};

/// The classes of token numbers: `bits(n + 1)` for `n` below `2^32`.
pub const CLASSES: usize = 33;

/// The coded tokens of a segment's rows.
#[derive(Debug, PartialEq, Eq)]
pub struct Coded {
    /// The distinct token hashes, most frequent first (ties by hash).
    pub dict: Vec<u64>,
    /// The code of the classes.
    pub code: ClassCode,
    /// Every row's token numbers, back to back, as a bit stream (ending
    /// in [`super::packed::PAD`] zero bytes).
    pub seq: Vec<u8>,
    /// The bit at which each row's numbers start in `seq`.
    pub offsets: Vec<u64>,
    /// The bits of `seq` before its padding.
    pub bits: u64,
}

impl Coded {
    /// Codes `tokens`, the rows' token hashes back to back, row `i`
    /// ending at `ends[i]`.
    ///
    /// # Panics
    ///
    /// `ends` is not ascending or goes past `tokens`.
    pub fn new(tokens: &[u64], ends: &[usize]) -> Coded {
        let mut numbering = Numbering::default();
        numbering.push_hashes(tokens);
        Coded::of(&numbering, ends)
    }

    /// Codes the tokens of `numbering`, row `i` ending at its `ends[i]`th
    /// token.
    ///
    /// # Panics
    ///
    /// `ends` is not ascending or goes past the tokens.
    pub fn of(numbering: &Numbering, ends: &[usize]) -> Coded {
        Coded::reusing(numbering, ends, Vec::new())
    }

    /// [`of`](Self::of), writing the stream into `buffer`'s memory (a
    /// segment's stream is megabytes: fresh memory is a page fault per 4
    /// KiB).
    pub fn reusing(numbering: &Numbering, ends: &[usize], buffer: Vec<u8>) -> Coded {
        let counts = numbering.counts();
        let Numbering {
            dict: seen,
            seq: numbered,
            ..
        } = numbering;
        // The dictionary's order (by count, then hash) renumbers the
        // numbers they were given as they came.
        let mut entries: Vec<(u32, u64, u32)> = seen
            .iter()
            .zip(&counts)
            .zip(0u32..)
            .map(|((&t, &count), n)| (count, t, n))
            .collect();
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        // Entries no stored row uses (a block's dictionary is numbered
        // whole) are left out.
        entries.truncate(entries.partition_point(|e| e.0 > 0));
        let mut rank = vec![0u32; seen.len()];
        let mut counts = [0u64; CLASSES];
        for (r, &(count, _, n)) in entries.iter().enumerate() {
            rank[n as usize] = r as u32;
            counts[class_of(r as u32)] += u64::from(count);
        }
        let dict = entries.iter().map(|&(_, t, _)| t).collect();
        let code = ClassCode::from_counts(&counts);
        // Each number's code (class code and low bits) and its width, by
        // the number it was given: computed once per distinct
        // token, not per token.
        let (values, widths): (Vec<u64>, Vec<u8>) = rank.iter().map(|&r| code.code_of(r)).unzip();
        let mut seq = Bits::reusing(buffer, tokens_bits(&code, &counts));
        let mut offsets = Vec::with_capacity(ends.len());
        let mut from = 0;
        for &end in ends {
            offsets.push(seq.len());
            for &n in &numbered[from..end] {
                seq.push(values[n as usize], u32::from(widths[n as usize]));
            }
            from = end;
        }
        let bits = seq.len();
        Coded {
            dict,
            code,
            seq: seq.finish(),
            offsets,
            bits,
        }
    }
}

/// The bits of every token of classes counted `counts` in `code`.
fn tokens_bits(code: &ClassCode, counts: &[u64; CLASSES]) -> usize {
    let bits: u64 = (0..CLASSES)
        .map(|c| counts[c] * (u64::from(code.lengths[c]) + c as u64))
        .sum();
    usize::try_from(bits).unwrap_or(usize::MAX)
}

/// A segment's tokens as they are added: each distinct token hash
/// numbered as it comes (a block's dictionary all at once), and counted,
/// for [`Coded::of`].
///
/// Numbering is most of the cost of coding: a hash-table lookup per token
/// given by its hash ([`push_hashes`](Self::push_hashes)). Tokens that
/// come as numbers into a dictionary of their own (the first pass's
/// blocks, [`push_numbered`](Self::push_numbered)) cost a lookup per
/// distinct token of that dictionary instead, and an array index per
/// token.
///
/// # Example
///
/// ```
/// use neardup::index::tokens::{Coded, Numbering};
///
/// let mut numbering = Numbering::default();
/// numbering.push_hashes(&[7, 9]);
/// numbering.push_numbered(1, &[3, 7], &[1, 1, 0])?;
/// let coded = Coded::of(&numbering, &[2, 5]);
/// assert_eq!(coded, Coded::new(&[7, 9, 7, 7, 3], &[2, 5]));
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Numbering {
    numbers: HashOrder,
    /// The distinct token hashes, in the order they were numbered.
    dict: Vec<u64>,
    /// How many times each occurs.
    counts: Vec<u32>,
    /// Every token's number.
    seq: Vec<u32>,
    /// The dictionary [`push_numbered`](Self::push_numbered) was last
    /// given, and for each of its entries the number it was given and
    /// how many of its tokens came since,
    /// not yet in `counts` (a count in this small table costs a cache hit
    /// per token, where `counts`, the size of the segment's dictionary,
    /// cost a miss).
    block: Option<u64>,
    block_numbers: Vec<(u32, u32)>,
    /// Scratch memory for [`hash_order`].
    order: Vec<u32>,
}

/// The indexes of `dict` ordered by the top bits of their hashes, mixed
/// by `mix` (a counting sort, not a full one: what [`HashOrder`] needs to
/// visit its slots in ascending order), in `scratch`'s memory.
fn hash_order(dict: &[u64], mix: Mix, scratch: &mut Vec<u32>) -> Vec<u32> {
    const BITS: u32 = 12;
    let mut order = std::mem::take(scratch);
    order.clear();
    order.resize(dict.len(), 0);
    let top = |t: u64| (mix.of(t) >> (64 - BITS)) as usize;
    let mut starts = [0u32; (1 << BITS) + 1];
    for &t in dict {
        starts[top(t) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    for (i, &t) in dict.iter().enumerate() {
        let b = &mut starts[top(t)];
        order[*b as usize] = i as u32;
        *b += 1;
    }
    order
}

/// A keyed mix of token hashes, the same for the whole process. Token
/// hashes are a public function of the text: a table placing them by
/// their own bits could be made, by a file of crafted words, to pile
/// them into one run of slots that every lookup then walks. Keyed at
/// random, their places cannot be known ahead.
#[derive(Clone, Copy, Debug)]
struct Mix {
    xor: u64,
    /// Odd.
    times: u64,
}

impl Mix {
    /// The process's keys.
    fn process() -> Mix {
        static KEYS: std::sync::OnceLock<Mix> = std::sync::OnceLock::new();
        *KEYS.get_or_init(|| {
            use std::hash::BuildHasher;
            let random = std::collections::hash_map::RandomState::new();
            Mix {
                xor: random.hash_one(1u64),
                times: random.hash_one(2u64) | 1,
            }
        })
    }

    /// Hash `t` mixed: the two halves of a 128-bit product folded.
    #[inline]
    fn of(self, t: u64) -> u64 {
        let m = u128::from(t ^ self.xor) * u128::from(self.times);
        (m as u64) ^ (m >> 64) as u64
    }
}

/// A table of token hashes and their numbers: open addressing with
/// linear probing, a hash's first slot given by the top bits of its
/// [`Mix`], at most half full. Looked up in ascending order of those
/// bits ([`hash_order`]), the slots visited ascend too
/// ([`Numbering::number_block`]).
#[derive(Debug)]
struct HashOrder {
    slots: Vec<Slot>,
    shift: u32,
    len: usize,
    mix: Mix,
    /// Slots looked at, for the tests.
    #[cfg(test)]
    probes: u64,
}

impl Default for HashOrder {
    fn default() -> HashOrder {
        HashOrder {
            slots: Vec::new(),
            shift: 0,
            len: 0,
            mix: Mix::process(),
            #[cfg(test)]
            probes: 0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    hash: u64,
    /// [`FREE`] for a free slot.
    number: u32,
}

const FREE: u32 = u32::MAX;
const FREE_SLOT: Slot = Slot {
    hash: 0,
    number: FREE,
};

impl HashOrder {
    /// The number of hash `t`, or `next` (then stored) if it has none.
    fn get_or_insert(&mut self, t: u64, next: u32) -> u32 {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (self.mix.of(t) >> self.shift) as usize;
        loop {
            #[cfg(test)]
            {
                self.probes += 1;
            }
            let slot = &mut self.slots[i];
            if slot.number == FREE {
                *slot = Slot {
                    hash: t,
                    number: next,
                };
                self.len += 1;
                return next;
            }
            if slot.hash == t {
                return slot.number;
            }
            i = (i + 1) & mask;
        }
    }

    /// Asks the processor to fetch the first slot of hash `t`.
    #[inline]
    fn prefetch(&self, t: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self.slots.get((self.mix.of(t) >> self.shift) as usize) {
            // SAFETY: a prefetch is a hint: it reads nothing the program
            // sees and cannot fault; the pointer is into the slots.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    std::ptr::from_ref(slot).cast(),
                );
            }
        }
    }

    /// Twice the slots (at least 4,096), the entries placed again.
    fn grow(&mut self) {
        self.resize((self.slots.len() * 2).max(1 << 12));
    }

    /// Room for `more` entries without growing: entries put in in the
    /// order of their slots into a table that grows on the way would pile
    /// up (all of the first ones have the first slots of a small table:
    /// thousands of probes each for a segment's 90,000 entries, where a
    /// table of its final size takes 1.3).
    fn reserve(&mut self, more: usize) {
        let mut size = self.slots.len().max(1 << 12);
        while (self.len + more) * 2 > size {
            size *= 2;
        }
        if size > self.slots.len() {
            self.resize(size);
        }
    }

    /// `size` slots (a power of two), the entries placed again.
    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, vec![FREE_SLOT; size]);
        self.shift = 64 - size.trailing_zeros();
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.number != FREE) {
            self.get_or_insert(slot.hash, slot.number);
        }
    }

    /// Empties it, keeping its memory.
    fn clear(&mut self) {
        self.slots.fill(FREE_SLOT);
        self.len = 0;
    }
}

/// Adds the counts of a block's entries (`(number, count)`) to `counts`.
fn add_block_counts(block: &[(u32, u32)], counts: &mut [u32]) {
    for &(n, count) in block {
        if count > 0 {
            counts[n as usize] += count;
        }
    }
}

impl Numbering {
    /// Appends tokens given by their hashes.
    pub fn push_hashes(&mut self, tokens: &[u64]) {
        self.seq.reserve(tokens.len());
        for &t in tokens {
            let n = self.number(t);
            self.counts[n as usize] += 1;
            self.seq.push(n);
        }
    }

    /// Appends the tokens `dict[numbers[0]]`, `dict[numbers[1]]`, ...,
    /// where `block` names `dict`: the numbers given to `dict`'s entries
    /// are remembered while the calls name the same block.
    ///
    /// # Errors
    ///
    /// A number is past `dict` (nothing is appended).
    pub fn push_numbered(
        &mut self,
        block: u64,
        dict: &[u64],
        numbers: &[u32],
    ) -> Result<(), crate::Error> {
        if numbers.iter().any(|&n| n as usize >= dict.len()) {
            return Err(crate::Error::index(format!(
                "a token number past its dictionary of {} tokens",
                dict.len()
            )));
        }
        if self.block != Some(block) || self.block_numbers.len() != dict.len() {
            self.settle();
            self.block = Some(block);
            self.number_block(dict);
        }
        self.seq.reserve(numbers.len());
        for &local in numbers {
            let entry = &mut self.block_numbers[local as usize];
            entry.1 += 1;
            self.seq.push(entry.0);
        }
        Ok(())
    }

    /// Numbers every entry of a block's dictionary, in the order of their
    /// hashes' top bits: the table's slots are visited in ascending order,
    /// so that the next slot is most often in a cache line just read or
    /// being fetched ahead, where looking them up as they come, in random
    /// order, missed the cache for most of them. Entries no row stored
    /// uses get numbers too, with no count ([`Coded`] leaves them out).
    fn number_block(&mut self, dict: &[u64]) {
        self.numbers.reserve(dict.len());
        let order = hash_order(dict, self.numbers.mix, &mut self.order);
        self.block_numbers.clear();
        self.block_numbers.resize(dict.len(), (0, 0));
        const AHEAD: usize = 8;
        for (k, &i) in order.iter().enumerate() {
            if let Some(&ahead) = order.get(k + AHEAD) {
                self.numbers.prefetch(dict[ahead as usize]);
            }
            let n = self.number(dict[i as usize]);
            self.block_numbers[i as usize].0 = n;
        }
        self.order = order;
    }

    /// Adds the counts of the block last given to `counts`, and forgets
    /// the block.
    fn settle(&mut self) {
        add_block_counts(&self.block_numbers, &mut self.counts);
        self.block_numbers.clear();
        self.block = None;
    }

    /// How many times each distinct token occurs, in the order they were
    /// numbered.
    fn counts(&self) -> Vec<u32> {
        let mut counts = self.counts.clone();
        add_block_counts(&self.block_numbers, &mut counts);
        counts
    }

    /// The number of token hash `t` (a new one if it is new).
    fn number(&mut self, t: u64) -> u32 {
        let next = self.dict.len() as u32;
        let n = self.numbers.get_or_insert(t, next);
        if n == next {
            self.dict.push(t);
            self.counts.push(0);
        }
        n
    }

    /// How many tokens it holds.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// The hashes of tokens `range`.
    ///
    /// # Panics
    ///
    /// `range` goes past the tokens.
    pub fn hashes(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = u64> + '_ {
        self.seq[range].iter().map(|&n| self.dict[n as usize])
    }

    /// Empties it, keeping its memory.
    pub fn clear(&mut self) {
        self.numbers.clear();
        self.dict.clear();
        self.counts.clear();
        self.seq.clear();
        self.block_numbers.clear();
        self.block = None;
    }
}

/// The class of number `n`: the bits of `n + 1`, minus one (0 to 32).
fn class_of(n: u32) -> usize {
    bits_for(u64::from(n) + 1) as usize - 1
}

/// A canonical Huffman code of the [`CLASSES`] classes of token numbers,
/// known by its code lengths (0: a class no number of the segment has).
/// Codes are assigned in order of (length, class), as DEFLATE's are, and
/// written into the stream first bit first, so they are read one bit at a
/// time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassCode {
    lengths: [u8; CLASSES],
    /// Each class's code, its bits reversed (the stream is least
    /// significant bit first).
    written: [u32; CLASSES],
    /// How many codes have each length (index 0 unused).
    per_length: [u16; 33],
    /// The classes in code order.
    sorted: Vec<u8>,
    /// The codes of at most [`FAST_BITS`] bits, by the next `FAST_BITS`
    /// bits of the stream: `class << 8 | length`, or 0 for a longer code
    /// (read a bit at a time) or none.
    fast: Box<[u16]>,
}

/// The bits [`ClassCode::decode`] looks up at once: a Huffman code gives
/// the common classes the short codes, so most codes are found there
/// (1,024 entries of 2 bytes).
const FAST_BITS: u32 = 10;

impl ClassCode {
    /// The optimal code for classes counted `counts` (a class that occurs
    /// alone gets a 1-bit code).
    pub fn from_counts(counts: &[u64; CLASSES]) -> ClassCode {
        // Huffman's construction over at most 33 leaves: join the two
        // lightest nodes (the lowest index on a tie) until one is left.
        let mut weight: Vec<u64> = Vec::with_capacity(2 * CLASSES);
        let mut parent: Vec<usize> = Vec::with_capacity(2 * CLASSES);
        let mut open: Vec<usize> = Vec::new();
        for (c, &n) in counts.iter().enumerate() {
            weight.push(n);
            parent.push(usize::MAX);
            if n > 0 {
                open.push(c);
            }
        }
        let mut lengths = [0u8; CLASSES];
        if open.len() == 1 {
            lengths[open[0]] = 1;
        }
        while open.len() > 1 {
            open.sort_by_key(|&i| (weight[i], i));
            let (a, b) = (open[0], open[1]);
            let node = weight.len();
            weight.push(weight[a] + weight[b]);
            parent.push(usize::MAX);
            parent[a] = node;
            parent[b] = node;
            open.drain(..2);
            open.push(node);
        }
        for (c, length) in lengths.iter_mut().enumerate() {
            if counts[c] > 0 && parent[c] != usize::MAX {
                let (mut depth, mut at) = (0, c);
                while parent[at] != usize::MAX {
                    depth += 1;
                    at = parent[at];
                }
                *length = depth;
            }
        }
        ClassCode::from_lengths(&lengths).expect("a Huffman code is complete")
    }

    /// The code with these lengths; `None` if they are longer than 32
    /// bits or more than a prefix code can have (a damaged segment).
    pub fn from_lengths(lengths: &[u8; CLASSES]) -> Option<ClassCode> {
        let mut per_length = [0u16; 33];
        for &l in lengths {
            if l > 32 {
                return None;
            }
            per_length[l as usize] += 1;
        }
        per_length[0] = 0;
        // Kraft: the codes fit in the code space.
        let used: u128 = (1..=32)
            .map(|l| u128::from(per_length[l]) << (32 - l))
            .sum();
        if used > 1u128 << 32 {
            return None;
        }
        let mut sorted: Vec<u8> = (0..CLASSES as u8)
            .filter(|&c| lengths[c as usize] > 0)
            .collect();
        sorted.sort_by_key(|&c| (lengths[c as usize], c));
        let mut written = [0u32; CLASSES];
        let (mut code, mut last) = (0u64, 0u8);
        for &c in &sorted {
            let l = lengths[c as usize];
            code <<= l - last;
            last = l;
            written[c as usize] = ((code as u32).reverse_bits()) >> (32 - u32::from(l));
            code += 1;
        }
        let mut fast = vec![0u16; 1 << FAST_BITS].into_boxed_slice();
        for &c in &sorted {
            let l = u32::from(lengths[c as usize]);
            if l <= FAST_BITS {
                // Every stream whose next `l` bits are the code.
                for rest in 0..1u32 << (FAST_BITS - l) {
                    fast[(written[c as usize] | rest << l) as usize] = u16::from(c) << 8 | l as u16;
                }
            }
        }
        Some(ClassCode {
            lengths: *lengths,
            written,
            per_length,
            sorted,
            fast,
        })
    }

    /// The code lengths, one byte per class (what `TOKCODE` holds).
    pub fn lengths(&self) -> &[u8; CLASSES] {
        &self.lengths
    }

    /// Appends number `n`'s class code and low bits.
    #[cfg(test)]
    fn write(&self, bits: &mut Bits, n: u32) {
        let (value, width) = self.code_of(n);
        bits.push(value, u32::from(width));
    }

    /// Number `n`'s class code and low bits, as one field (a code is at
    /// most 32 bits, the low bits 31), and its width.
    fn code_of(&self, n: u32) -> (u64, u8) {
        let c = class_of(n);
        let length = u32::from(self.lengths[c]);
        let low = (u64::from(n) + 1) & ((1u64 << c) - 1);
        let width = length + c as u32;
        (u64::from(self.written[c]) | low << length, width as u8)
    }

    /// The token hashes of the numbers in bits `from..to` of `seq`;
    /// `None` if a code or number is not one of the segment's, or the
    /// last one runs past `to`.
    pub fn decode(&self, seq: &[u8], from: u64, to: u64, dict: &[u64]) -> Option<Vec<u64>> {
        let mut tokens = Vec::new();
        self.numbers(seq, from, to, |n| {
            tokens.push(*dict.get(usize::try_from(n).ok()?)?);
            Some(())
        })?;
        Some(tokens)
    }

    /// How many numbers bits `from..to` of `seq` hold; `None` if a code
    /// is not one of the segment's or the last one runs past `to`.
    pub fn count(&self, seq: &[u8], from: u64, to: u64) -> Option<u64> {
        let mut count = 0;
        self.numbers(seq, from, to, |_| {
            count += 1;
            Some(())
        })?;
        Some(count)
    }

    /// Hands `each` the numbers in bits `from..to` of `seq`, in order,
    /// stopping at the first `None` it returns; `None` then, or if a code
    /// is not one of the segment's or the last one runs past `to`.
    #[inline(always)]
    pub fn numbers(
        &self,
        seq: &[u8],
        from: u64,
        to: u64,
        mut each: impl FnMut(u64) -> Option<()>,
    ) -> Option<()> {
        let mut at = from;
        while at < to {
            // A short code and its low bits from one load (a code of at
            // most 10 bits and 32 low bits fit in 64), looked up in
            // `fast`; reading a code a bit at a time was a quarter of
            // the time a query spent reading indexed paragraphs.
            if let Some(next) = super::packed::field(seq, at, 64) {
                let e = self.fast[(next & ((1 << FAST_BITS) - 1)) as usize];
                if e != 0 {
                    let (c, l) = (u32::from(e >> 8), u32::from(e & 0xff));
                    let low = (next >> l) & ((1u64 << c) - 1);
                    at += u64::from(l + c);
                    each(((1u64 << c) | low) - 1)?;
                    continue;
                }
            }
            let c = self.read_class(seq, &mut at)?;
            let low = super::packed::field(seq, at, c as u32)?;
            at += c as u64;
            each(((1u64 << c) | low) - 1)?;
        }
        (at == to).then_some(())
    }

    /// Reads one class code at bit `*at` (the classic canonical decoder:
    /// one bit at a time, against the first code of each length).
    fn read_class(&self, seq: &[u8], at: &mut u64) -> Option<usize> {
        let (mut code, mut first, mut index) = (0u32, 0u32, 0usize);
        for length in 1..=32 {
            let byte = *seq.get(usize::try_from(*at / 8).ok()?)?;
            code |= u32::from(byte >> (*at % 8) & 1);
            *at += 1;
            let count = u32::from(self.per_length[length]);
            if code.wrapping_sub(first) < count {
                return Some(self.sorted[index + (code - first) as usize] as usize);
            }
            index += count as usize;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

/// The token hashes of one row's LEB128 numbers `bytes` (segment versions
/// 1 and 2); `None` if a number is cut short, longer than 32 bits or past
/// `dict`.
pub fn decode_leb128(bytes: &[u8], dict: &[u64]) -> Option<Vec<u64>> {
    let mut tokens = Vec::with_capacity(bytes.len());
    let (mut n, mut shift) = (0u32, 0);
    for &b in bytes {
        if shift > 28 {
            return None;
        }
        n |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            tokens.push(*dict.get(n as usize)?);
            (n, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
    (shift == 0).then_some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Coding then decoding gives every row's tokens back; the
    /// dictionary is by count, then hash; a skewed vocabulary takes fewer
    /// bits than LEB128 would.
    #[test]
    fn round_trip_and_order() {
        let mut state = 5u64;
        let mut tokens = Vec::new();
        let mut ends = Vec::new();
        for _ in 0..3_000 {
            for _ in 0..(state >> 59) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                // A skewed vocabulary of about 20,000 hashes, 0 among them.
                let rank = (state >> 40) % 141;
                tokens.push((rank * rank).wrapping_mul(0x2545_f491_4f6c_dd1d) >> 3);
            }
            ends.push(tokens.len());
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(3);
        }
        assert!(tokens.contains(&0));
        let coded = Coded::new(&tokens, &ends);
        let mut from = 0;
        for (i, &end) in ends.iter().enumerate() {
            let to = coded.offsets.get(i + 1).copied().unwrap_or(coded.bits);
            let row = coded
                .code
                .decode(&coded.seq, coded.offsets[i], to, &coded.dict);
            assert_eq!(row.unwrap(), tokens[from..end]);
            let count = coded.code.count(&coded.seq, coded.offsets[i], to);
            assert_eq!(count, Some((end - from) as u64));
            from = end;
        }
        let all = coded.code.count(&coded.seq, 0, coded.bits);
        assert_eq!(all, Some(tokens.len() as u64));
        // A stream cut short does not count them all.
        let cut = coded.code.count(&coded.seq, 0, coded.bits - 1);
        assert_ne!(cut, Some(tokens.len() as u64));
        let mut counts: HashMap<u64, u32> = HashMap::new();
        for &t in &tokens {
            *counts.entry(t).or_default() += 1;
        }
        let mut want: Vec<(u32, u64)> = counts.into_iter().map(|(t, c)| (c, t)).collect();
        want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        assert_eq!(coded.dict, want.iter().map(|w| w.1).collect::<Vec<_>>());
        let leb128: u64 = tokens
            .iter()
            .map(|t| {
                let r = coded.dict.iter().position(|d| d == t).unwrap() as u64;
                8 * (bits_for(r).max(1).div_ceil(7) as u64)
            })
            .sum();
        assert!(coded.bits < leb128 * 9 / 10, "{} >= {leb128}", coded.bits);
    }

    /// Tokens given as numbers into blocks' dictionaries, blocks met
    /// again, and hashes, mixed, code as the same hashes given alone; a
    /// number past its dictionary is refused and nothing is added.
    #[test]
    fn numbered_blocks_code_as_their_hashes() {
        let blocks: [&[u64]; 3] = [&[40, 7, 0, 9], &[9, 40, 12], &[5]];
        let rows: Vec<Option<(u64, &[u32])>> = vec![
            Some((0, &[1, 1, 0, 3])),
            None,
            Some((0, &[2, 1])),
            Some((1, &[0, 1, 2, 2])),
            Some((0, &[3])),
            Some((2, &[0, 0])),
            Some((1, &[])),
        ];
        let mut numbering = Numbering::default();
        let (mut hashes, mut ends) = (Vec::new(), Vec::new());
        for row in &rows {
            match *row {
                Some((b, numbers)) => {
                    // Block 0 comes back after block 1 under a new name,
                    // as a scratch file's next block would.
                    let name = if b == 0 && hashes.len() > 8 { 9 } else { b };
                    let dict = blocks[b as usize];
                    numbering.push_numbered(name, dict, numbers).unwrap();
                    hashes.extend(numbers.iter().map(|&n| dict[n as usize]));
                }
                None => {
                    numbering.push_hashes(&[7, 33]);
                    hashes.extend([7, 33]);
                }
            }
            ends.push(hashes.len());
        }
        assert_eq!(Coded::of(&numbering, &ends), Coded::new(&hashes, &ends));
        // A buffer's old bytes are not part of the stream.
        let reused = Coded::reusing(&numbering, &ends, vec![0xff; 100]);
        assert_eq!(reused, Coded::new(&hashes, &ends));
        assert_eq!(
            numbering.hashes(0..numbering.len()).collect::<Vec<_>>(),
            hashes
        );
        assert!(numbering.push_numbered(2, blocks[2], &[0, 1]).is_err());
        assert_eq!(numbering.len(), hashes.len());
        numbering.clear();
        assert!(numbering.is_empty());
        numbering.push_numbered(2, blocks[2], &[0]).unwrap();
        assert_eq!(Coded::of(&numbering, &[1]), Coded::new(&[5], &[1]));
    }

    /// A block's dictionary is numbered whole, but its entries no row
    /// uses stay out of the segment's dictionary; many hashes, hundreds
    /// of them sharing their top bits (which the table's keyed mix
    /// spreads), number as a map numbers them, through the table's
    /// growth.
    #[test]
    fn whole_blocks_and_many_hashes() {
        let mut numbering = Numbering::default();
        numbering
            .push_numbered(1, &[3, 7, 11, 0], &[1, 1, 0])
            .unwrap();
        assert_eq!(Coded::of(&numbering, &[3]), Coded::new(&[7, 7, 3], &[3]));
        assert_eq!(Coded::of(&numbering, &[3]).dict, vec![7, 3]);

        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let pool: Vec<u64> = (0..40_000).map(|_| next()).collect();
        let mut numbering = Numbering::default();
        let (mut hashes, mut ends) = (Vec::new(), Vec::new());
        for block in 0..6u64 {
            // Small hashes share their top bits; the random ones repeat
            // from block to block.
            let dict: Vec<u64> = (0..12_000u64)
                .map(|i| {
                    if i % 24 == 0 {
                        i + 1
                    } else {
                        pool[(next() % 40_000) as usize]
                    }
                })
                .collect();
            for _ in 0..300 {
                let numbers: Vec<u32> = (0..40).map(|_| (next() % 12_000) as u32).collect();
                numbering.push_numbered(block, &dict, &numbers).unwrap();
                hashes.extend(numbers.iter().map(|&n| dict[n as usize]));
                ends.push(hashes.len());
            }
        }
        assert_eq!(Coded::of(&numbering, &ends), Coded::new(&hashes, &ends));
        assert_eq!(
            numbering.hashes(0..numbering.len()).collect::<Vec<_>>(),
            hashes
        );
    }

    /// Xorshift64 from `state`: made-up token hashes, the same every run.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// A segment's whole dictionary, 90,000 entries, numbered into a
    /// new table as a compaction numbers it: in the order of their slots,
    /// which piled them up in a table growing on the way (thousands of
    /// probes each) until the table was made its final size first.
    #[test]
    fn a_large_block_into_a_new_table_does_not_pile_up() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let dict: Vec<u64> = (0..90_000).map(|_| next()).collect();
        let numbers: Vec<u32> = (0..90_000).collect();
        let mut numbering = Numbering::default();
        numbering.push_numbered(0, &dict, &numbers).unwrap();
        let probes = numbering.numbers.probes as f64 / dict.len() as f64;
        assert!(probes < 3.0, "{probes} slots looked at per entry");
        assert_eq!(numbering.hashes(0..dict.len()).collect::<Vec<_>>(), dict);
    }

    /// A known answer: the counts 5, 3, 1 of classes 0, 1, 2 give codes
    /// 0, 10, 11; numbers 0, 1, 2, 3 are written `0`, `10 0`, `10 1`,
    /// `11 00` (code, then the low bits, first bit first).
    #[test]
    fn known_answer() {
        let mut counts = [0u64; CLASSES];
        counts[..3].copy_from_slice(&[5, 3, 1]);
        let code = ClassCode::from_counts(&counts);
        assert_eq!(code.lengths()[..4], [1, 2, 2, 0]);
        let mut bits = Bits::default();
        for n in 0..4 {
            code.write(&mut bits, n);
        }
        assert_eq!(bits.len(), 1 + 3 + 3 + 4);
        // Bits in stream order: 0 | 1 0 0 | 1 0 1 | 1 1 0 0.
        let bytes = bits.finish();
        assert_eq!(bytes[..2], [0b1101_0010, 0b0000_0001]);
        let dict = [10, 11, 12, 13];
        assert_eq!(
            code.decode(&bytes, 0, 11, &dict),
            Some(vec![10, 11, 12, 13])
        );
    }

    /// The table of short codes reads exactly what reading a bit at a
    /// time does, for codes of 1 to 23 bits (the counts below give each
    /// class a code one bit longer than the class before), at every bit
    /// offset.
    #[test]
    fn short_codes_read_as_bit_by_bit() {
        let mut counts = [0u64; CLASSES];
        for (c, n) in counts.iter_mut().enumerate() {
            *n = 1 << (32 - c.min(31));
        }
        let code = ClassCode::from_counts(&counts);
        // The numbers of classes 0 to 22 (the first of each), and a few.
        let numbers: Vec<u32> = (0..=22)
            .map(|c| (1u32 << c) - 1)
            .chain([5, 0, 77, 3])
            .collect();
        assert!(
            u32::from(code.lengths()[22]) > FAST_BITS + 10,
            "{:?}",
            code.lengths()
        );
        let dict: Vec<u64> = (0..1u64 << 22).map(|n| n * 3 + 1).collect();
        for offset in 0..9 {
            let mut bits = Bits::default();
            bits.push(0, offset);
            for &n in &numbers {
                code.write(&mut bits, n);
            }
            let end = bits.len();
            let bytes = bits.finish();
            let mut bitwise = Vec::new();
            let mut at = u64::from(offset);
            while at < end {
                let c = code.read_class(&bytes, &mut at).unwrap();
                let low = super::super::packed::field(&bytes, at, c as u32).unwrap();
                at += c as u64;
                bitwise.push(dict[(((1u64 << c) | low) - 1) as usize]);
            }
            let want: Vec<u64> = numbers.iter().map(|&n| dict[n as usize]).collect();
            assert_eq!(bitwise, want);
            assert_eq!(
                code.decode(&bytes, u64::from(offset), end, &dict),
                Some(want)
            );
        }
    }

    /// Damaged streams and tables are refused, not misread.
    #[test]
    fn damage_is_refused() {
        let mut counts = [0u64; CLASSES];
        counts[..3].copy_from_slice(&[5, 3, 1]);
        let code = ClassCode::from_counts(&counts);
        let mut bits = Bits::default();
        for n in 0..4 {
            code.write(&mut bits, n);
        }
        let bytes = bits.finish();
        assert_eq!(
            code.decode(&bytes, 0, 11, &[10, 11, 12]),
            None,
            "past the dictionary"
        );
        assert_eq!(
            code.decode(&bytes, 0, 10, &[10, 11, 12, 13]),
            None,
            "past the row"
        );
        let mut lengths = [0u8; CLASSES];
        lengths[..3].copy_from_slice(&[1, 1, 1]);
        assert_eq!(ClassCode::from_lengths(&lengths), None, "not a prefix code");
        lengths[..3].copy_from_slice(&[1, 40, 0]);
        assert_eq!(ClassCode::from_lengths(&lengths), None, "too long");
        let one = ClassCode::from_counts(&{
            let mut c = [0u64; CLASSES];
            c[0] = 9;
            c
        });
        assert_eq!(one.lengths()[0], 1);
        assert_eq!(decode_leb128(&[1, 0], &[10, 20]), Some(vec![20, 10]));
        assert_eq!(decode_leb128(&[2], &[10, 20]), None, "past the dictionary");
        assert_eq!(decode_leb128(&[0x81], &[10, 20]), None, "cut short");
        assert_eq!(
            decode_leb128(&[0x80, 0x80, 0x80, 0x80, 0x80, 0], &[10]),
            None,
            "too long"
        );
    }
}
