//! MinHash: shingle hashes in, a fixed-length signature out.
//!
//! For each of `num_perm` hash functions `h_i`, the signature keeps the
//! minimum of `h_i` over the paragraph's shingles. Two paragraphs agree at
//! position `i` with probability equal to their Jaccard similarity, which is
//! what LSH banding ([`crate::lsh`]) builds on.
//!
//! `h_i` is Dietzfelbinger's multiply-add-shift hash for 32-bit keys, with
//! the added constant a multiple of 2^32:
//!
//! ```text
//! x   = low32(s) xor high32(s)                   (s: the 64-bit shingle hash)
//! h_i = ((a_i * x + b_i * 2^32) mod 2^64) >> 32  (a 32-bit value)
//! ```
//!
//! The coefficients come from [`SplitMix64`] seeded with `seed`, drawn in
//! the order `a_0, b_0, a_1, b_1, …`: `a_i` is a draw with its lowest bit
//! set, `b_i` the high 32 bits of a draw. Unlike the `(a·x + b) mod p`
//! family computed with a wrapping 32-bit multiply (a bug some libraries
//! carry), the arithmetic is exact. Because `b_i` has no low half, no carry
//! crosses from the low 32 bits, so the same value is
//! `high32(low32(a_i) · x) + high32(a_i) · x + b_i (mod 2^32)`: all in 32-bit
//! lanes, eight to a vector register, which is how the loop below computes
//! it.

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
    /// Low halves of the `a_i`.
    a_lo: Box<[u32]>,
    /// High halves of the `a_i`.
    a_hi: Box<[u32]>,
    b: Box<[u32]>,
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
        let (mut a_lo, mut a_hi, mut b) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..num_perm {
            let a = rng.next_u64() | 1;
            a_lo.push(a as u32);
            a_hi.push((a >> 32) as u32);
            b.push((rng.next_u64() >> 32) as u32);
        }
        MinHasher {
            a_lo: a_lo.into(),
            a_hi: a_hi.into(),
            b: b.into(),
        }
    }

    /// The number of hash functions.
    pub fn num_perm(&self) -> usize {
        self.b.len()
    }

    /// Its first `n` hash functions (all of them, if it has fewer): the
    /// signature it gives is the first `n` values of this one's, at the
    /// cost of `n` values.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::minhash::MinHasher;
    ///
    /// let (all, first) = (MinHasher::new(128, 7), MinHasher::new(128, 7).first(96));
    /// let shingles = [3, 1, 4, 1, 5, 9, 2, 6];
    /// assert_eq!(first.num_perm(), 96);
    /// assert_eq!(first.signature(&shingles).values(), &all.signature(&shingles).values()[..96]);
    /// ```
    pub fn first(&self, n: usize) -> MinHasher {
        let n = n.min(self.b.len());
        MinHasher {
            a_lo: self.a_lo[..n].into(),
            a_hi: self.a_hi[..n].into(),
            b: self.b[..n].into(),
        }
    }

    /// The signature of a set of shingle hashes. Repeats do not matter; an
    /// empty input gives a signature of `u32::MAX` values.
    pub fn signature(&self, shingles: &[u64]) -> Signature {
        let mut values = vec![u32::MAX; self.b.len()];
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
        out.fill(u32::MAX);
        self.update(shingles, out);
    }

    /// Lowers the running minima in `out` by `shingles`: after
    /// `out.fill(u32::MAX)` and one call per piece, `out` is the signature
    /// of all the pieces, as [`fill`](Self::fill) gives it.
    ///
    /// # Panics
    ///
    /// Panics if `out.len() != self.num_perm()`.
    pub fn update(&self, shingles: &[u64], out: &mut [u32]) {
        assert_eq!(
            out.len(),
            self.b.len(),
            "signature buffer has the wrong length"
        );
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F, checked just above.
                unsafe { fill_avx512(self, shingles, out) };
                return;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { fill_avx2(self, shingles, out) };
                return;
            }
        }
        fill_portable(self, shingles, out);
    }
}

/// [`fill_portable`] in AVX2 instructions: the same integer arithmetic,
/// so the same result, eight hash functions to a register.
///
/// Why by hand: compiled from the portable loop, each 32 x 32 -> 64-bit
/// product of `a_lo` and `x` came back to eight 32-bit lanes through two
/// shuffles on the one port that does them, and the first of every four
/// shingles was multiplied as a full 64-bit number (the compiler lost
/// that its high half is zero). Here the even lanes' products are shifted
/// into place and the odd lanes' are already there: one blend joins them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fill_avx2(h: &MinHasher, shingles: &[u64], out: &mut [u32]) {
    by_groups!(shingles, |xs| update_avx2(h, xs, out, 0));
}

/// Calls `$update` with the keys of `$shingles` eight at a time, then
/// four, then one by one: each load of the coefficients and of the running
/// minima serves that many shingles. A macro, so that each vector kernel
/// expands it in its own body, with its own target features.
#[cfg(target_arch = "x86_64")]
macro_rules! by_groups {
    ($shingles:expr, $update:expr) => {{
        let mut eights = $shingles.chunks_exact(8);
        for e in &mut eights {
            ($update)(keys([e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]]));
        }
        let mut quads = eights.remainder().chunks_exact(4);
        for quad in &mut quads {
            ($update)(keys([quad[0], quad[1], quad[2], quad[3]]));
        }
        for &s in quads.remainder() {
            ($update)(keys([s]));
        }
    }};
}
#[cfg(target_arch = "x86_64")]
use by_groups;

/// The 32-bit keys `x` of the shingle hashes `s` (see the module docs).
#[inline(always)]
fn keys<const N: usize>(shingles: [u64; N]) -> [u32; N] {
    shingles.map(|s| (s as u32) ^ ((s >> 32) as u32))
}

/// Lowers the minima of the hash functions from `start` on by the keys `xs`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn update_avx2<const N: usize>(h: &MinHasher, xs: [u32; N], out: &mut [u32], start: usize) {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_blend_epi32, _mm256_loadu_si256, _mm256_min_epu32,
        _mm256_mul_epu32, _mm256_mullo_epi32, _mm256_set1_epi32, _mm256_srli_epi64,
        _mm256_storeu_si256,
    };
    let broadcast = xs.map(|x| _mm256_set1_epi32(x as i32));
    let n = out.len();
    let (a_lo, a_hi, b) = (&h.a_lo[..n], &h.a_hi[..n], &h.b[..n]);
    let mut i = start;
    while i + 8 <= n {
        // SAFETY: `i + 8 <= n`, and each slice holds `n` values: every
        // load and store is of eight u32 inside its slice (unaligned
        // access is allowed).
        let load = |v: &[u32]| unsafe { _mm256_loadu_si256(v.as_ptr().add(i).cast::<__m256i>()) };
        let (lo, hi, add) = (load(a_lo), load(a_hi), load(b));
        // The odd lanes' a_lo in the even lanes, where `mul_epu32` reads.
        let lo_odd = _mm256_srli_epi64::<32>(lo);
        let mut m = load(out);
        for x in broadcast {
            let even = _mm256_srli_epi64::<32>(_mm256_mul_epu32(lo, x));
            let odd = _mm256_mul_epu32(lo_odd, x);
            let carry = _mm256_blend_epi32::<0b1010_1010>(even, odd);
            let v = _mm256_add_epi32(_mm256_add_epi32(carry, _mm256_mullo_epi32(hi, x)), add);
            m = _mm256_min_epu32(m, v);
        }
        // SAFETY: as for the loads.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i).cast::<__m256i>(), m) };
        i += 8;
    }
    // The last `n mod 8` hash functions, one at a time.
    for j in i..n {
        for x in xs {
            let carry_in = ((u64::from(a_lo[j]) * u64::from(x)) >> 32) as u32;
            let v = carry_in
                .wrapping_add(a_hi[j].wrapping_mul(x))
                .wrapping_add(b[j]);
            out[j] = out[j].min(v);
        }
    }
}

/// [`fill_avx2`] sixteen hash functions to a register: the same integer
/// arithmetic, so the same result. On the CPUs that have it, it signs in
/// about four fifths of the AVX2 loop's time (`benches/kernel.rs`: 31.0–32.3
/// against 38.5–39.8 µs); the 512-bit multiplies, which the loop waits
/// on, share one port.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fill_avx512(h: &MinHasher, shingles: &[u64], out: &mut [u32]) {
    by_groups!(shingles, |xs| update_avx512(h, xs, out));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn update_avx512<const N: usize>(h: &MinHasher, xs: [u32; N], out: &mut [u32]) {
    use std::arch::x86_64::{
        __m512i, _mm512_add_epi32, _mm512_loadu_si512, _mm512_mask_blend_epi32, _mm512_min_epu32,
        _mm512_mul_epu32, _mm512_mullo_epi32, _mm512_set1_epi32, _mm512_srli_epi64,
        _mm512_storeu_si512,
    };
    let broadcast = xs.map(|x| _mm512_set1_epi32(x as i32));
    let n = out.len();
    let (a_lo, a_hi, b) = (&h.a_lo[..n], &h.a_hi[..n], &h.b[..n]);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: `i + 16 <= n`, and each slice holds `n` values: every
        // load and store is of sixteen u32 inside its slice (unaligned
        // access is allowed).
        let load = |v: &[u32]| unsafe { _mm512_loadu_si512(v.as_ptr().add(i).cast::<__m512i>()) };
        let (lo, hi, add) = (load(a_lo), load(a_hi), load(b));
        // The odd lanes' a_lo in the even lanes, where `mul_epu32` reads.
        let lo_odd = _mm512_srli_epi64::<32>(lo);
        let mut m = load(out);
        for x in broadcast {
            let even = _mm512_srli_epi64::<32>(_mm512_mul_epu32(lo, x));
            let odd = _mm512_mul_epu32(lo_odd, x);
            let carry = _mm512_mask_blend_epi32(0b1010_1010_1010_1010, even, odd);
            let v = _mm512_add_epi32(_mm512_add_epi32(carry, _mm512_mullo_epi32(hi, x)), add);
            m = _mm512_min_epu32(m, v);
        }
        // SAFETY: as for the loads.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(i).cast::<__m512i>(), m) };
        i += 16;
    }
    // The last `n mod 16` hash functions: eight at a time where they can
    // be, then one at a time.
    if i < n {
        // AVX-512F implies AVX2, so this needs no check.
        update_avx2(h, xs, out, i);
    }
}

#[inline(always)]
fn fill_portable(h: &MinHasher, shingles: &[u64], out: &mut [u32]) {
    // Four shingles per pass over the signature: each load of the
    // coefficients and of the running minima serves four hash evaluations.
    let mut quads = shingles.chunks_exact(4);
    for quad in &mut quads {
        update::<4>(h, [quad[0], quad[1], quad[2], quad[3]], out);
    }
    for &s in quads.remainder() {
        update::<1>(h, [s], out);
    }
}

#[inline(always)]
fn update<const N: usize>(h: &MinHasher, shingles: [u64; N], out: &mut [u32]) {
    let xs = keys(shingles);
    let lanes = out.iter_mut().zip(&*h.a_lo).zip(&*h.a_hi).zip(&*h.b);
    for (((m, &a_lo), &a_hi), &b) in lanes {
        for x in xs {
            let carry_in = ((u64::from(a_lo) * u64::from(x)) >> 32) as u32;
            let v = carry_in.wrapping_add(a_hi.wrapping_mul(x)).wrapping_add(b);
            *m = (*m).min(v);
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

    /// The definition in the module docs, in 64-bit arithmetic.
    fn by_definition(num_perm: usize, seed: u64, shingles: &[u64]) -> Vec<u32> {
        let mut rng = SplitMix64::new(seed);
        (0..num_perm)
            .map(|_| {
                let a = rng.next_u64() | 1;
                let b = rng.next_u64() >> 32;
                shingles
                    .iter()
                    .map(|&s| {
                        let x = u64::from((s as u32) ^ ((s >> 32) as u32));
                        (a.wrapping_mul(x).wrapping_add(b << 32) >> 32) as u32
                    })
                    .fold(u32::MAX, u32::min)
            })
            .collect()
    }

    #[test]
    fn values_match_the_definition() {
        let shingles: Vec<u64> = (0..60u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 7))
            .collect();
        for (num_perm, seed) in [(1, 0), (7, 3), (128, 0), (130, 9)] {
            let hasher = MinHasher::new(num_perm, seed);
            assert_eq!(
                hasher.signature(&shingles).values(),
                &by_definition(num_perm, seed, &shingles)[..]
            );
        }
    }

    #[test]
    fn vector_and_portable_agree() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let shingles: Vec<u64> = (1..40u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 61))
                .chain([0, u64::MAX, 1 << 32, u64::from(u32::MAX)])
                .collect();
            // Whole registers and a remainder; eights, quads and single
            // shingles.
            for num_perm in [1, 7, 8, 9, 16, 17, 24, 25, 125, 128, 200] {
                let hasher = MinHasher::new(num_perm, 11);
                for len in [0, 1, 3, 4, 5, 8, 9, 12, 13, shingles.len()] {
                    let mut portable = vec![u32::MAX; num_perm];
                    fill_portable(&hasher, &shingles[..len], &mut portable);
                    let mut avx2 = vec![u32::MAX; num_perm];
                    // SAFETY: the CPU supports AVX2, checked above.
                    unsafe { fill_avx2(&hasher, &shingles[..len], &mut avx2) };
                    assert_eq!(avx2, portable, "num_perm {num_perm}, {len} shingles");
                    if std::arch::is_x86_feature_detected!("avx512f") {
                        let mut avx512 = vec![u32::MAX; num_perm];
                        // SAFETY: the CPU supports AVX-512F, checked just above.
                        unsafe { fill_avx512(&hasher, &shingles[..len], &mut avx512) };
                        assert_eq!(avx512, portable, "num_perm {num_perm}, {len} shingles");
                    }
                }
            }
        }
    }

    #[test]
    fn dispatch_and_portable_agree() {
        let hasher = MinHasher::new(128, 3);
        let shingles: Vec<u64> = (0..100u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut portable = vec![u32::MAX; 128];
        fill_portable(&hasher, &shingles, &mut portable);
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
