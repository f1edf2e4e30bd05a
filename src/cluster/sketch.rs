//! A 256-bit occupancy sketch of a shingle set: an exact, cheap test that
//! rules out most candidate pairs before their sets are merged.
//!
//! Bit `i` is set when some shingle hash of the set has `i` as its top
//! byte. A bit set in `A`'s sketch but not in `B`'s stands for at least one
//! shingle of `A` that `B` lacks, so
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

use crate::similarity::Threshold;

/// The occupancy of a set's 256 top-byte buckets.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sketch([u64; 4]);

impl Sketch {
    /// The sketch of sorted or unsorted shingle hashes.
    pub(super) fn of(hashes: &[u64]) -> Sketch {
        let mut bits = [0u64; 4];
        for &h in hashes {
            let top = (h >> 56) as usize;
            bits[top >> 6] |= 1 << (top & 63);
        }
        Sketch(bits)
    }

    /// Whether sets of sizes `a_len` and `b_len` with sketches `self` and
    /// `other` may still reach `threshold`: false only when the bound above
    /// proves they cannot.
    pub(super) fn may_reach(
        &self,
        a_len: usize,
        other: &Sketch,
        b_len: usize,
        threshold: Threshold,
    ) -> bool {
        let only = |x: &Sketch, y: &Sketch| -> usize {
            (0..4)
                .map(|i| (x.0[i] & !y.0[i]).count_ones() as usize)
                .sum()
        };
        let shared_at_most =
            (a_len - only(self, other).min(a_len)).min(b_len - only(other, self).min(b_len));
        // shared / (a + b - shared) >= num / den  ⇔  shared · (num + den) >= num · (a + b).
        let (num, den) = (
            u128::from(threshold.numerator()),
            u128::from(threshold.denominator()),
        );
        shared_at_most as u128 * (num + den) >= num * (a_len + b_len) as u128
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
            let (sa, sb) = (Sketch::of(&a), Sketch::of(&b));
            if jaccard(&a, &b).meets(t) {
                prop_assert!(sa.may_reach(a.len(), &sb, b.len(), t));
                prop_assert!(sb.may_reach(b.len(), &sa, a.len(), t));
            }
        }
    }

    #[test]
    fn rules_out_pairs_far_below_the_threshold() {
        let t = Threshold::from_fraction(8, 10).unwrap();
        // Two sets of 60 hashes spread over the buckets, 30 shared: J = 1/3.
        let spread = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let a: Vec<u64> = (0..60).map(spread).collect();
        let b: Vec<u64> = (30..90).map(spread).collect();
        assert!(!Sketch::of(&a).may_reach(60, &Sketch::of(&b), 60, t));
        // The same set always may.
        assert!(Sketch::of(&a).may_reach(60, &Sketch::of(&a), 60, t));
    }
}
