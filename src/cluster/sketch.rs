//! Occupancy sketches of shingle sets: exact, cheap tests that rule out
//! most candidate pairs before their sets are merged, or before they are
//! read at all.
//!
//! Bit `i` is set when some shingle hash of the set falls in bucket `i`
//! (its top bits). A bit set in `A`'s sketch but not in `B`'s stands for
//! at least one shingle of `A` that `B` lacks, so
//!
//! ```text
//! |A ∩ B| <= |A| - popcount(a & !b)   and   |A ∩ B| <= |B| - popcount(b & !a)
//! ```
//!
//! When that bound is below the intersection the threshold needs, the pair
//! cannot reach it; otherwise the sets are merged as before. The test never
//! turns a pair away that meets the threshold, so verdicts do not change.
//! On prose, where recurring sentences make many paragraphs share band keys
//! without being near-duplicates, it settles most comparisons.
//!
//! The rule holds a 256-bit [`Sketch`] of each set it holds. The first pass
//! keeps a 128-bit one of every paragraph with the number of its shingle
//! hashes ([`Outline`]), so that the grouping step can drop from each group
//! the members that can reach the threshold with none of the others, and
//! the second pass need not read them again.

use crate::similarity::Threshold;

/// The occupancy of a set's `64 × W` buckets by the top bits of its hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sketch<const W: usize = 4>([u64; W]);

impl<const W: usize> Default for Sketch<W> {
    fn default() -> Self {
        Sketch([0; W])
    }
}

impl<const W: usize> Sketch<W> {
    /// How far a hash is shifted to leave its bucket: `64 × W` buckets
    /// take `6 + log2(W)` bits.
    const SHIFT: u32 = 64 - 6 - W.ilog2();

    /// The sketch of sorted or unsorted shingle hashes.
    pub(crate) fn of(hashes: &[u64]) -> Self {
        let mut sketch = Self::default();
        sketch.add(hashes);
        sketch
    }

    /// Adds `hashes` to the sketch: the sketch of a sequence given in
    /// pieces is the sketch of the whole.
    pub(crate) fn add(&mut self, hashes: &[u64]) {
        if let [lo, hi] = self.0.as_mut_slice() {
            // Two words (the first pass's, for every shingle it makes): the
            // top bit picks the word, the next six the bit, and both words
            // stay in registers.
            let (mut l, mut h) = (*lo, *hi);
            for &x in hashes {
                let bit = 1u64 << ((x >> 57) & 63);
                let high = ((x as i64) >> 63) as u64;
                l |= bit & !high;
                h |= bit & high;
            }
            (*lo, *hi) = (l, h);
        } else {
            for &x in hashes {
                let top = (x >> Self::SHIFT) as usize;
                self.0[top >> 6] |= 1 << (top & 63);
            }
        }
    }

    /// The number of occupied buckets: at most the number of distinct
    /// hashes.
    fn occupied(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The number of buckets `self` occupies and `other` does not: at
    /// least the number of `self`'s hashes that `other` lacks.
    fn only(&self, other: &Self) -> usize {
        (0..W)
            .map(|i| (self.0[i] & !other.0[i]).count_ones() as usize)
            .sum()
    }

    /// Whether sets of sizes `a_len` and `b_len` with sketches `self` and
    /// `other` may still reach `threshold`: false only when the bound above
    /// proves they cannot.
    pub(crate) fn may_reach(
        &self,
        a_len: usize,
        other: &Self,
        b_len: usize,
        threshold: Threshold,
    ) -> bool {
        let shared_at_most =
            (a_len - self.only(other).min(a_len)).min(b_len - other.only(self).min(b_len));
        // shared / (a + b - shared) >= num / den  ⇔  shared · (num + den) >= num · (a + b).
        let (num, den) = (
            u128::from(threshold.numerator()),
            u128::from(threshold.denominator()),
        );
        shared_at_most as u128 * (num + den) >= num * (a_len + b_len) as u128
    }

    /// [`may_reach`](Self::may_reach) for sets known only by their sketch
    /// and an upper bound of their size (the number of hashes with
    /// repeats, as a streamed paragraph gives them): false only when no
    /// sets with these sketches and at most these sizes can reach
    /// `threshold`.
    ///
    /// With `x = |A \ B|`, `J = (|A| - x) / (|B| + x)`, which falls as `x`
    /// or `|B|` grows and rises with `|A|`; and `x >= only(a, b)`,
    /// `|A| <= a_most`, `|B| >= occupied(b)`. So
    /// `J <= (a_most - only(a, b)) / (occupied(b) + only(a, b))`, and the
    /// same with the roles swapped.
    pub(crate) fn may_reach_at_most(
        &self,
        a_most: u32,
        other: &Self,
        b_most: u32,
        threshold: Threshold,
    ) -> bool {
        let (num, den) = (
            u128::from(threshold.numerator()),
            u128::from(threshold.denominator()),
        );
        let side = |x: &Self, x_most: u32, y: &Self| {
            let only = x.only(y);
            let shared = (x_most as usize).saturating_sub(only) as u128;
            shared * den >= num * (y.occupied() + only) as u128
        };
        side(self, a_most, other) && side(other, b_most, self)
    }

    /// The sketch as 32-bit words, low word first.
    pub(crate) fn words(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|&w| [w as u32, (w >> 32) as u32])
    }

    /// The sketch of [`words`](Self::words): `2 × W` of them.
    pub(crate) fn from_words(words: &[u32]) -> Self {
        let mut sketch = Self::default();
        for (w, pair) in sketch.0.iter_mut().zip(words.chunks_exact(2)) {
            *w = u64::from(pair[0]) | u64::from(pair[1]) << 32;
        }
        sketch
    }
}

/// What the grouping step knows of a paragraph's shingle set without
/// holding it: a 128-bit [`Sketch`] and how many shingle hashes it has at
/// most (counted with repeats, as the first pass streams them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outline {
    pub(crate) sketch: Sketch<2>,
    pub(crate) most: u32,
}

impl Outline {
    /// 32-bit words per outline ([`Outline::words`]).
    pub(crate) const WORDS: usize = 5;

    /// Adds a piece of the paragraph's shingle hashes.
    pub(crate) fn add(&mut self, hashes: &[u64]) {
        self.sketch.add(hashes);
        self.most = self.most.saturating_add(hashes.len() as u32);
    }

    /// Whether the sets outlined may reach `threshold`: false only when
    /// no sets with these outlines can ([`Sketch::may_reach_at_most`]). A
    /// count that saturated is no bound.
    pub(crate) fn may_reach(&self, other: &Outline, threshold: Threshold) -> bool {
        self.most == u32::MAX
            || other.most == u32::MAX
            || (self.sketch).may_reach_at_most(self.most, &other.sketch, other.most, threshold)
    }

    /// The outline as [`Self::WORDS`] 32-bit words.
    pub(crate) fn words(&self) -> [u32; Self::WORDS] {
        let mut out = [self.most; Self::WORDS];
        for (o, w) in out.iter_mut().zip(self.sketch.words()) {
            *o = w;
        }
        out
    }

    /// The outline of [`words`](Self::words).
    pub(crate) fn from_words(words: &[u32]) -> Outline {
        Outline {
            sketch: Sketch::from_words(&words[..Self::WORDS - 1]),
            most: words[Self::WORDS - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::similarity::jaccard;
    use proptest::prelude::*;

    proptest! {
        /// The sketch never rules out a pair that meets the threshold.
        #[test]
        fn never_rules_out_a_pair_that_meets_the_threshold(
            a in proptest::collection::btree_set(any::<u64>(), 0..120),
            shared in 0usize..120,
            extra in proptest::collection::btree_set(any::<u64>(), 0..30),
            num in 1u64..=10,
        ) {
            let a: Vec<u64> = a.into_iter().collect();
            // B: a prefix of A's elements plus others, so pairs of every
            // similarity occur.
            let mut b: Vec<u64> = a.iter().copied().take(shared).chain(extra).collect();
            b.sort_unstable();
            b.dedup();
            let t = Threshold::from_fraction(num, 10).unwrap();
            let (sa, sb) = (Sketch::<4>::of(&a), Sketch::<4>::of(&b));
            if jaccard(&a, &b).meets(t) {
                prop_assert!(sa.may_reach(a.len(), &sb, b.len(), t));
                prop_assert!(sb.may_reach(b.len(), &sa, a.len(), t));
            }
        }

        /// Nor does the bound from sizes with repeats: a streamed
        /// paragraph's sketch is the sketch of its pieces, and its count
        /// of hashes counts a repeated shingle each time.
        #[test]
        fn sizes_with_repeats_never_rule_out_a_pair_that_meets_the_threshold(
            a in proptest::collection::vec(any::<u64>(), 1..120),
            shared in 0usize..120,
            extra in proptest::collection::vec(any::<u64>(), 0..30),
            repeats in 0usize..20,
            cut in 0usize..120,
            num in 1u64..=10,
        ) {
            // B: some of A's hashes (a few of them twice) and others.
            let mut b: Vec<u64> = a.iter().copied().take(shared).chain(extra).collect();
            b.extend(a.iter().copied().take(repeats));
            prop_assume!(!b.is_empty());
            let set = |v: &[u64]| {
                let mut v = v.to_vec();
                v.sort_unstable();
                v.dedup();
                v
            };
            let t = Threshold::from_fraction(num, 10).unwrap();
            // A's outline made from two pieces, as the first pass streams
            // them.
            let (mut oa, mut ob) = (Outline::default(), Outline::default());
            oa.add(&a[..cut.min(a.len())]);
            oa.add(&a[cut.min(a.len())..]);
            ob.add(&b);
            prop_assert_eq!(oa.most as usize, a.len());
            prop_assert_eq!(Outline::from_words(&oa.words()), oa);
            if jaccard(&set(&a), &set(&b)).meets(t) {
                prop_assert!(oa.may_reach(&ob, t));
                prop_assert!(ob.may_reach(&oa, t));
                let (na, nb) = (a.len() as u32, b.len() as u32);
                let (sa, sb) = (Sketch::<4>::of(&a), Sketch::<4>::of(&b));
                prop_assert!(sa.may_reach_at_most(na, &sb, nb, t));
            }
        }
    }

    /// Two sets of 60 hashes spread over the buckets, 30 shared: J = 1/3.
    fn a_third_alike() -> (Vec<u64>, Vec<u64>) {
        let spread = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (
            (0..60).map(spread).collect(),
            (30..90).map(spread).collect(),
        )
    }

    #[test]
    fn sizes_with_repeats_rule_out_pairs_far_below_the_threshold() {
        let t = Threshold::from_fraction(8, 10).unwrap();
        let (a, b) = a_third_alike();
        let (mut oa, mut ob) = (Outline::default(), Outline::default());
        oa.add(&a);
        ob.add(&b);
        assert!(!oa.may_reach(&ob, t));
        assert!(oa.may_reach(&oa, t));
        // Counted with repeats, the same set may still reach itself; a
        // count that saturated bounds nothing.
        let mut twice = oa;
        twice.add(&a);
        assert!(twice.may_reach(&oa, t) && oa.may_reach(&twice, t));
        let saturated = Outline {
            most: u32::MAX,
            ..oa
        };
        assert!(saturated.may_reach(&ob, t) && ob.may_reach(&saturated, t));
    }

    #[test]
    fn buckets_are_the_top_bits() {
        let top = |bucket: u64, bits: u32| bucket << (64 - bits);
        let s = Sketch::<4>::of(&[top(0, 8), top(255, 8), top(64, 8)]);
        assert_eq!(s.0, [1, 1, 0, 1 << 63]);
        let s = Sketch::<2>::of(&[top(0, 7), top(127, 7), top(64, 7)]);
        assert_eq!(s.0, [1, 1 | 1 << 63]);
    }

    #[test]
    fn rules_out_pairs_far_below_the_threshold() {
        let t = Threshold::from_fraction(8, 10).unwrap();
        let (a, b) = a_third_alike();
        let (sa, sb) = (Sketch::<4>::of(&a), Sketch::<4>::of(&b));
        assert!(!sa.may_reach(60, &sb, 60, t));
        // The same set always may.
        assert!(sa.may_reach(60, &sa, 60, t));
    }
}
