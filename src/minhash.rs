//! MinHash: shingle hashes in, a fixed-length signature out.
//!
//! For each of `num_perm` hash functions `h_i`, the signature keeps the
//! minimum of `h_i` over the paragraph's shingles. Two paragraphs agree at
//! position `i` with probability equal to their Jaccard similarity, which is
//! what LSH banding ([`crate::lsh`]) builds on.
//!
//! `h_i` is Dietzfelbinger's multiply-add-shift hash, which is strongly
//! universal for 32-bit keys:
//!
//! ```text
//! x   = low32(s) xor high32(s)              (s: the 64-bit shingle hash)
//! h_i = ((a_i * x + b_i) mod 2^64) >> 32    (a 32-bit value)
//! ```
//!
//! The coefficients come from [`SplitMix64`] seeded with `seed`, drawn in
//! the order `a_0, b_0, a_1, b_1, …`, with the lowest bit of each `a_i` set.
//! Unlike the `(a·x + b) mod p` family computed with a wrapping 32-bit
//! multiply (a bug some libraries carry), every step here is exact 64-bit
//! arithmetic, and the loop is a straight run of multiplies, adds and minimums
//! that compilers vectorise.

use crate::hash::SplitMix64;

/// The default number of hash functions. 128 values let the default
/// threshold of 0.8 use 25 bands of 5 rows, which makes a pair at exactly
/// 0.8 a candidate with probability 0.99995. More values cost time for
/// every shingle of the corpus; fewer force shorter bands, which let through
/// more dissimilar candidates, or fewer bands, which miss pairs at the
/// threshold. 128 is also what the common peer tools use, so their
/// accuracy figures compare directly.
pub const DEFAULT_NUM_PERM: usize = 128;

/// The default seed of the coefficient generator.
pub const DEFAULT_SEED: u64 = 0;

/// Computes MinHash signatures.
///
/// # Example
///
/// ```
/// use neardup::minhash::MinHasher;
///
/// let hasher = MinHasher::new(64, 0);
/// let a = hasher.signature(&[1, 2, 3, 4]);
/// let b = hasher.signature(&[4, 3, 2, 1, 1]);
/// assert_eq!(a, b);
/// assert_eq!(a.estimate_jaccard(&hasher.signature(&[1, 2, 3, 5])) < 1.0, true);
/// ```
#[derive(Clone, Debug)]
pub struct MinHasher {
    a: Box<[u64]>,
    b: Box<[u64]>,
}

/// A MinHash signature: one 32-bit minimum per hash function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    values: Box<[u32]>,
}

impl MinHasher {
    /// A hasher with `num_perm` hash functions whose coefficients are drawn
    /// from `seed`.
    pub fn new(num_perm: usize, seed: u64) -> MinHasher {
        let mut rng = SplitMix64::new(seed);
        let (mut a, mut b) = (Vec::with_capacity(num_perm), Vec::with_capacity(num_perm));
        for _ in 0..num_perm {
            a.push(rng.next_u64() | 1);
            b.push(rng.next_u64());
        }
        MinHasher {
            a: a.into(),
            b: b.into(),
        }
    }

    /// The number of hash functions.
    pub fn num_perm(&self) -> usize {
        self.a.len()
    }

    /// The signature of a set of shingle hashes. Repeats do not matter; an
    /// empty input gives a signature of `u32::MAX` values.
    pub fn signature(&self, shingles: &[u64]) -> Signature {
        let mut values = vec![u32::MAX; self.a.len()];
        self.fill(shingles, &mut values);
        Signature {
            values: values.into(),
        }
    }

    /// Writes the signature of `shingles` into `out`, which must hold
    /// [`num_perm`](Self::num_perm) values; a buffer reused across
    /// paragraphs saves an allocation each.
    ///
    /// # Panics
    ///
    /// Panics if `out.len() != self.num_perm()`.
    pub fn fill(&self, shingles: &[u64], out: &mut [u32]) {
        assert_eq!(
            out.len(),
            self.a.len(),
            "signature buffer has the wrong length"
        );
        out.fill(u32::MAX);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { fill_avx2(&self.a, &self.b, shingles, out) };
                return;
            }
        }
        fill_portable(&self.a, &self.b, shingles, out);
    }
}

/// The same loop compiled with AVX2 enabled; integer arithmetic, so the
/// result is identical to [`fill_portable`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fill_avx2(a: &[u64], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    fill_portable(a, b, shingles, out);
}

#[inline(always)]
fn fill_portable(a: &[u64], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    for &s in shingles {
        let x = u64::from((s as u32) ^ ((s >> 32) as u32));
        for ((m, &a), &b) in out.iter_mut().zip(a).zip(b) {
            let h = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
            *m = (*m).min(h);
        }
    }
}

impl Signature {
    /// A signature from stored values.
    pub fn from_values(values: Vec<u32>) -> Signature {
        Signature {
            values: values.into(),
        }
    }

    /// The signature's values.
    pub fn values(&self) -> &[u32] {
        &self.values
    }

    /// The fraction of positions where two signatures agree: an unbiased
    /// estimate of the Jaccard similarity of the underlying sets.
    ///
    /// # Panics
    ///
    /// Panics if the signatures have different lengths.
    pub fn estimate_jaccard(&self, other: &Signature) -> f64 {
        assert_eq!(
            self.values.len(),
            other.values.len(),
            "signatures differ in length"
        );
        if self.values.is_empty() {
            return 0.0;
        }
        let equal = self
            .values
            .iter()
            .zip(other.values.iter())
            .filter(|(a, b)| a == b)
            .count();
        equal as f64 / self.values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn coefficients_follow_the_documented_generator() {
        let hasher = MinHasher::new(2, 7);
        let mut rng = SplitMix64::new(7);
        let expect = [
            rng.next_u64() | 1,
            rng.next_u64(),
            rng.next_u64() | 1,
            rng.next_u64(),
        ];
        assert_eq!([hasher.a[0], hasher.b[0], hasher.a[1], hasher.b[1]], expect);
    }

    #[test]
    fn value_matches_the_formula() {
        let hasher = MinHasher::new(4, 0);
        let s: u64 = 0x0123_4567_89ab_cdef;
        let x = u64::from(0x89ab_cdefu32 ^ 0x0123_4567u32);
        let sig = hasher.signature(&[s]);
        for i in 0..4 {
            let expect = (hasher.a[i].wrapping_mul(x).wrapping_add(hasher.b[i]) >> 32) as u32;
            assert_eq!(sig.values()[i], expect);
        }
    }

    #[test]
    fn dispatch_and_portable_agree() {
        let hasher = MinHasher::new(128, 3);
        let shingles: Vec<u64> = (0..100u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut portable = vec![u32::MAX; 128];
        fill_portable(&hasher.a, &hasher.b, &shingles, &mut portable);
        assert_eq!(hasher.signature(&shingles).values(), &portable[..]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// With 512 values the estimate has a standard deviation of at most
        /// 0.022; six of those is a bound no correct MinHash should cross.
        #[test]
        fn estimate_is_close_to_exact(
            shared in 0usize..200, only_a in 0usize..200, only_b in 0usize..200, offset in 0u64..1_000_000,
        ) {
            prop_assume!(shared + only_a + only_b > 0);
            let item = |i: u64| crate::hash::xxh3(&(i + offset).to_le_bytes(), 9);
            let a: Vec<u64> = (0..(shared + only_a) as u64).map(item).collect();
            let b: Vec<u64> = (0..shared as u64)
                .chain(1_000_000..1_000_000 + only_b as u64)
                .map(item)
                .collect();
            let exact = shared as f64 / (shared + only_a + only_b) as f64;
            let hasher = MinHasher::new(512, 1);
            let estimate = hasher.signature(&a).estimate_jaccard(&hasher.signature(&b));
            prop_assert!((estimate - exact).abs() < 0.133, "estimate {} exact {}", estimate, exact);
        }
    }
}
