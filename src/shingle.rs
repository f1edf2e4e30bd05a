//! Shingles: normalised tokens in, the hashes of their n-grams out.
//!
//! A shingle is a run of `shingle_size` consecutive tokens (word 5-grams by
//! default). Each token is hashed once; a shingle's hash is the hash of its
//! tokens' hashes (see [`crate::hash`]), so a token boundary is part of what
//! is hashed and `"ab c"` never collides with `"a bc"`. A paragraph with
//! fewer tokens than `shingle_size` gives one shingle of all its tokens, so
//! short lines are matched as wholes rather than dropped.
//!
//! The output keeps the shingles in text order, repeats included; MinHash
//! does not care, and [`ShingleSet`] sorts and de-duplicates when an exact set
//! is needed.

use crate::hash::{self, CONTENT_SEED};
use crate::normalize::{Normalizer, Scratch as NormScratch, TokenKind};

/// Cuts paragraph text into hashed shingles.
///
/// # Example
///
/// ```
/// use neardup::normalize::TokenKind;
/// use neardup::shingle::{Shingler, Scratch};
///
/// let shingler = Shingler::new(TokenKind::Words, 2);
/// let mut scratch = Scratch::default();
/// let a = shingler.shingle("ab c", &mut scratch).hashes.to_vec();
/// let b = shingler.shingle("a bc", &mut scratch).hashes.to_vec();
/// assert_ne!(a, b);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Shingler {
    normalizer: Normalizer,
    size: usize,
}

/// Reusable buffers for [`Shingler::shingle`].
#[derive(Debug, Default)]
pub struct Scratch {
    normalize: NormScratch,
    /// The token hashes, as the little-endian bytes that get hashed.
    tokens: Vec<u8>,
    shingles: Vec<u64>,
}

/// The shingles of one paragraph, borrowed from a [`Scratch`].
#[derive(Clone, Copy, Debug)]
pub struct Shingles<'s> {
    /// How many tokens the paragraph has (character mode: characters, not
    /// counting the space separators). Compared against `min_words`.
    pub words: usize,
    /// The shingle hashes in text order, repeats included.
    pub hashes: &'s [u64],
    /// A hash of the whole normalised token sequence: equal content hashes
    /// mean equal shingle sets (up to a 64-bit collision, which verification
    /// catches).
    pub content: u64,
}

impl Shingler {
    /// A shingler producing `size`-token shingles of the given kind.
    ///
    /// # Panics
    ///
    /// Panics if `size` is zero; [`crate::Config`] rejects that earlier.
    pub fn new(kind: TokenKind, size: usize) -> Shingler {
        assert!(size > 0, "shingle size must be at least 1");
        Shingler {
            normalizer: Normalizer::new(kind),
            size,
        }
    }

    /// The shingles of `text`.
    pub fn shingle<'s>(&self, text: &str, scratch: &'s mut Scratch) -> Shingles<'s> {
        let Scratch {
            normalize,
            tokens,
            shingles,
        } = scratch;
        tokens.clear();
        shingles.clear();
        let words = self.normalizer.tokens(text, normalize, |token| {
            tokens.extend_from_slice(&hash::token_hash(token).to_le_bytes());
        });
        let n_tokens = tokens.len() / 8;
        if n_tokens > 0 {
            let window = self.size.min(n_tokens) * 8;
            shingles.extend(tokens.windows(window).step_by(8).map(|w| hash::xxh3(w, 0)));
        }
        Shingles {
            words,
            hashes: shingles,
            content: hash::xxh3(tokens, CONTENT_SEED),
        }
    }
}

/// A paragraph's shingles as an exact set: sorted, without repeats.
///
/// # Example
///
/// ```
/// use neardup::shingle::ShingleSet;
///
/// let a = ShingleSet::from_hashes(&[3, 1, 2, 1]);
/// let b = ShingleSet::from_hashes(&[2, 3, 4]);
/// assert_eq!(a.len(), 3);
/// let sim = a.jaccard(&b);
/// assert_eq!((sim.intersection, sim.union), (2, 4));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShingleSet {
    hashes: Box<[u64]>,
}

impl ShingleSet {
    /// The set of the given shingle hashes.
    pub fn from_hashes(hashes: &[u64]) -> ShingleSet {
        let mut v = hashes.to_vec();
        v.sort_unstable();
        v.dedup();
        ShingleSet {
            hashes: v.into_boxed_slice(),
        }
    }

    /// The number of distinct shingles.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The sorted shingle hashes.
    pub fn as_slice(&self) -> &[u64] {
        &self.hashes
    }

    /// The exact Jaccard similarity of two sets, as a fraction.
    pub fn jaccard(&self, other: &ShingleSet) -> crate::Similarity {
        crate::similarity::jaccard(&self.hashes, &other.hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(kind: TokenKind, size: usize, text: &str) -> (usize, Vec<u64>) {
        let mut scratch = Scratch::default();
        let s = Shingler::new(kind, size).shingle(text, &mut scratch);
        (s.words, s.hashes.to_vec())
    }

    #[test]
    fn counts_shingles_per_window() {
        let (words, h) = hashes(TokenKind::Words, 3, "one two three four five");
        assert_eq!(words, 5);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn short_paragraph_is_one_shingle_of_all_tokens() {
        let (words, h) = hashes(TokenKind::Words, 5, "Related Topics");
        assert_eq!((words, h.len()), (2, 1));
        let mut scratch = Scratch::default();
        let content = Shingler::new(TokenKind::Words, 5)
            .shingle("Related Topics", &mut scratch)
            .content;
        assert_ne!(
            h[0], content,
            "content hash is seeded apart from shingle hashes"
        );
    }

    #[test]
    fn empty_paragraph_has_no_shingles() {
        assert_eq!(hashes(TokenKind::Words, 5, " -- "), (0, vec![]));
    }

    #[test]
    fn token_boundaries_are_hashed() {
        assert_ne!(
            hashes(TokenKind::Words, 2, "ab c").1,
            hashes(TokenKind::Words, 2, "a bc").1
        );
        assert_ne!(
            hashes(TokenKind::Chars, 3, "ab c").1,
            hashes(TokenKind::Chars, 3, "a bc").1
        );
    }

    #[test]
    fn cosmetic_changes_do_not_change_shingles() {
        let a = hashes(
            TokenKind::Words,
            5,
            "The Mayor said: “we will rebuild the pier.”",
        );
        let b = hashes(
            TokenKind::Words,
            5,
            "the mayor said we will REBUILD the pier",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn content_hash_tracks_token_sequence() {
        let s = Shingler::new(TokenKind::Words, 2);
        let mut scratch = Scratch::default();
        let a = s.shingle("a b a b", &mut scratch).content;
        let b = s.shingle("A, b; a. B!", &mut scratch).content;
        let c = s.shingle("b a b a", &mut scratch).content;
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
