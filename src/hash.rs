//! The one hash function behind every fingerprint, and the generator of the
//! MinHash coefficients.
//!
//! A fingerprint written today must still match next year, on another
//! machine. So every value that can leave the process (token and shingle
//! hashes, signatures, band keys, content hashes) is built from XXH3-64, whose
//! output is fixed by a published specification, applied to an explicit
//! little-endian byte encoding. Nothing here goes through `std::hash::Hash`,
//! whose byte feed is not portable, or through `ahash`, whose output changes
//! with the version and the CPU. The MinHash coefficients come from
//! SplitMix64, a generator short enough to state in full below.
//!
//! The encodings, which together define fingerprint format version
//! [`FORMAT_VERSION`]:
//!
//! - token hash: `XXH3_64(utf8(token), seed 0)`;
//! - shingle hash: `XXH3_64(le64(t_1) ‖ … ‖ le64(t_n), seed 0)` over the token
//!   hashes of the shingle's tokens, so token boundaries are part of the
//!   hashed bytes (`"ab c"` and `"a bc"` differ);
//! - content hash: the same encoding over all the paragraph's token hashes,
//!   with seed [`CONTENT_SEED`];
//! - band key `j`: `XXH3_64(le32(v_jr) ‖ … ‖ le32(v_jr+r-1), seed j)` over the
//!   band's signature values.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Version of the fingerprint definition. It changes whenever any hashed
/// value would change, so that stored fingerprints are never compared with
/// incompatible ones.
pub const FORMAT_VERSION: u32 = 1;

/// The seed of the content hash, so that it differs from the hash of a
/// shingle holding the same tokens.
pub const CONTENT_SEED: u64 = 0x6e65_6172_6475_7031; // "neardup1"

/// XXH3-64 of `bytes` with `seed`.
///
/// # Example
///
/// ```
/// // The XXH3 specification's value for the empty input.
/// assert_eq!(neardup::hash::xxh3(b"", 0), 0x2d06_8005_38d3_94c2);
/// ```
#[inline]
pub fn xxh3(bytes: &[u8], seed: u64) -> u64 {
    xxh3_64_with_seed(bytes, seed)
}

/// [`xxh3`] over bytes that arrive in pieces: the same value as one call
/// over their concatenation (the specification defines the streaming form
/// to agree), for a paragraph too long to hold whole.
pub(crate) struct Xxh3Stream(Box<xxhash_rust::xxh3::Xxh3>);

impl Xxh3Stream {
    pub(crate) fn new(seed: u64) -> Xxh3Stream {
        Xxh3Stream(Box::new(xxhash_rust::xxh3::Xxh3::with_seed(seed)))
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(crate) fn digest(&self) -> u64 {
        self.0.digest()
    }
}

/// The hash of one normalised token.
#[inline]
pub fn token_hash(token: &str) -> u64 {
    xxh3(token.as_bytes(), 0)
}

/// SplitMix64 (Steele, Lea and Flood 2014), the generator of the MinHash
/// coefficients. Its whole definition:
///
/// ```text
/// state += 0x9e3779b97f4a7c15
/// z = state
/// z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
/// z = (z ^ (z >> 27)) * 0x94d049bb133111eb
/// return z ^ (z >> 31)
/// ```
///
/// with wrapping 64-bit arithmetic.
///
/// # Example
///
/// ```
/// let mut rng = neardup::hash::SplitMix64::new(0);
/// assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
/// ```
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known vectors from the XXH3 reference implementation; if one of these
    /// fails, every stored fingerprint is invalid.
    #[test]
    fn xxh3_known_vectors() {
        assert_eq!(xxh3(b"", 0), 0x2d06_8005_38d3_94c2);
        assert_eq!(xxh3(b"hello world", 42), 0x972a_5725_e93d_338e);
    }

    /// The first outputs of SplitMix64 from seed 0, as published with the
    /// reference C implementation.
    #[test]
    fn splitmix64_known_vectors() {
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }
}
