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
use crate::normalize::{Emit, Normalizer, Scratch as NormScratch, TokenKind};

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
        let (words, content) = self.run(text, scratch, usize::MAX, |_| {});
        Shingles {
            words,
            hashes: &scratch.shingles,
            content,
        }
    }

    /// The shingles of `text` in pieces, in text order, with at most
    /// [`CHUNK_TOKENS`] tokens held at a time, so that a paragraph of any
    /// length takes bounded memory: every piece but the last is handed to
    /// `sink` as it is made (a paragraph shorter than a chunk gives none),
    /// and the last is returned, with the token count and the content
    /// hash, as [`shingle`](Self::shingle) gives them. The caller can look
    /// at the token count before using the last piece.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::normalize::TokenKind;
    /// use neardup::shingle::{Shingler, Scratch};
    ///
    /// let shingler = Shingler::new(TokenKind::Words, 3);
    /// let text = "one two three four five";
    /// let mut pieces = Vec::new();
    /// let mut scratch = Scratch::default();
    /// let last = shingler.shingle_chunks(text, &mut scratch, |c| pieces.extend_from_slice(c));
    /// pieces.extend_from_slice(last.hashes);
    /// let mut other = Scratch::default();
    /// let whole = shingler.shingle(text, &mut other);
    /// assert_eq!((last.words, last.content, &pieces[..]), (whole.words, whole.content, whole.hashes));
    /// ```
    pub fn shingle_chunks<'s>(
        &self,
        text: &str,
        scratch: &'s mut Scratch,
        sink: impl FnMut(&[u64]),
    ) -> Shingles<'s> {
        let (words, content) = self.run(text, scratch, CHUNK_TOKENS, sink);
        Shingles {
            words,
            hashes: &scratch.shingles,
            content,
        }
    }

    /// Tokens are hashed into `scratch.tokens`; once `limit` of them are
    /// held, the shingles over them go to `sink` and all but the last
    /// `size - 1` tokens (the start of the next shingles) are dropped,
    /// their bytes fed to the content hash. The shingles of what is held at
    /// the end are left in `scratch.shingles`.
    fn run(
        &self,
        text: &str,
        scratch: &mut Scratch,
        limit: usize,
        mut sink: impl FnMut(&[u64]),
    ) -> (usize, u64) {
        let Scratch {
            normalize,
            tokens,
            shingles,
        } = scratch;
        tokens.clear();
        shingles.clear();
        let size = self.size;
        // A token takes at least one byte: a text shorter than `limit`
        // bytes never fills the buffer, and skips the test per token.
        if text.len() < limit {
            let words = self.token_bytes(text, normalize, tokens);
            let n_tokens = tokens.len() / 8;
            if n_tokens > 0 {
                windows(tokens, size.min(n_tokens), shingles);
            }
            return (words, hash::xxh3(tokens, CONTENT_SEED));
        }
        let full = limit.saturating_add(size - 1).saturating_mul(8);
        let mut streamed: Option<hash::Xxh3Stream> = None;
        let words = self.normalizer.tokens(text, normalize, |token| {
            tokens.extend_from_slice(&hash::token_hash(token).to_le_bytes());
            if tokens.len() >= full {
                shingles.clear();
                windows(tokens, size, shingles);
                sink(shingles);
                let keep = tokens.len() - (size - 1) * 8;
                streamed
                    .get_or_insert_with(|| hash::Xxh3Stream::new(CONTENT_SEED))
                    .update(&tokens[..keep]);
                tokens.drain(..keep);
            }
        });
        shingles.clear();
        let n_tokens = tokens.len() / 8;
        let content = match &mut streamed {
            // The held tokens start with the last `size - 1` of a window
            // already passed on: only whole windows are new.
            Some(stream) => {
                if n_tokens >= size {
                    windows(tokens, size, shingles);
                }
                stream.update(tokens);
                stream.digest()
            }
            None => {
                if n_tokens > 0 {
                    windows(tokens, size.min(n_tokens), shingles);
                }
                hash::xxh3(tokens, CONTENT_SEED)
            }
        };
        (words, content)
    }
}

impl Shingler {
    /// The token hashes of `text` in text order, appended to `out`; returns
    /// the token count that [`Shingles::words`] gives. What an index stores
    /// per paragraph: from these, [`set_of_tokens`](Self::set_of_tokens)
    /// gives back the exact shingles and content hash.
    pub fn token_hashes(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u64>) -> usize {
        self.normalizer
            .tokens(text, &mut scratch.normalize, |token| {
                out.push(hash::token_hash(token))
            })
    }

    /// The token count and content hash of `text`, as
    /// [`shingle`](Self::shingle) gives them, without its shingles: what
    /// tells that an exact copy read again is unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::normalize::TokenKind;
    /// use neardup::shingle::{Shingler, Scratch};
    ///
    /// let shingler = Shingler::new(TokenKind::Words, 3);
    /// let mut scratch = Scratch::default();
    /// let text = "The tide came in over the harbour wall.";
    /// let (words, content) = shingler.content(text, &mut scratch);
    /// let whole = shingler.shingle(text, &mut scratch);
    /// assert_eq!((words, content), (whole.words, whole.content));
    /// ```
    pub fn content(&self, text: &str, scratch: &mut Scratch) -> (usize, u64) {
        let Scratch {
            normalize, tokens, ..
        } = scratch;
        tokens.clear();
        let words = self.token_bytes(text, normalize, tokens);
        (words, hash::xxh3(tokens, CONTENT_SEED))
    }

    /// Appends the token hashes of `text` to `out` as little-endian bytes
    /// (what the content hash and the shingles are made of); returns the
    /// token count.
    fn token_bytes(&self, text: &str, normalize: &mut NormScratch, out: &mut Vec<u8>) -> usize {
        self.normalizer
            .tokens_into(text, normalize, &mut HashBytes(out))
    }

    /// The shingle hashes (text order, repeats included, as
    /// [`shingle`](Self::shingle) gives them) and the content hash of a
    /// paragraph whose token hashes are `tokens`.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::normalize::TokenKind;
    /// use neardup::shingle::{Shingler, Scratch};
    ///
    /// let shingler = Shingler::new(TokenKind::Words, 3);
    /// let text = "The tide came in over the harbour wall.";
    /// let (mut scratch, mut tokens) = (Scratch::default(), Vec::new());
    /// shingler.token_hashes(text, &mut scratch, &mut tokens);
    /// let (shingles, content) = shingler.set_of_tokens(&tokens);
    /// let direct = shingler.shingle(text, &mut scratch);
    /// assert_eq!((&shingles[..], content), (direct.hashes, direct.content));
    /// ```
    pub fn set_of_tokens(&self, tokens: &[u64]) -> (Vec<u64>, u64) {
        let mut scratch = Scratch::default();
        let (_, content) = self.shingles_of_tokens(tokens, &mut scratch);
        (scratch.shingles, content)
    }

    /// [`set_of_tokens`](Self::set_of_tokens) into `scratch`: the shingle
    /// hashes in text order and the content hash.
    pub fn shingles_of_tokens<'s>(
        &self,
        tokens: &[u64],
        scratch: &'s mut Scratch,
    ) -> (&'s [u64], u64) {
        let Scratch {
            tokens: bytes,
            shingles,
            ..
        } = scratch;
        shingles.clear();
        let content = content_of_tokens(tokens.iter().copied(), bytes);
        if !tokens.is_empty() {
            windows(bytes, self.size.min(tokens.len()), shingles);
        }
        (shingles, content)
    }
}

/// The content hash of a paragraph of `tokens` (their hashes, in text
/// order): the XXH3 of their little-endian bytes, which it leaves in
/// `bytes`.
pub fn content_of_tokens(tokens: impl IntoIterator<Item = u64>, bytes: &mut Vec<u8>) -> u64 {
    bytes.clear();
    bytes.extend(tokens.into_iter().flat_map(u64::to_le_bytes));
    hash::xxh3(bytes, CONTENT_SEED)
}

/// Appends the hash of every run of `size` consecutive token hashes in
/// `tokens` (little-endian bytes, 8 per token) to `out`.
fn windows(tokens: &[u8], size: usize, out: &mut Vec<u64>) {
    out.extend(
        tokens
            .windows(size * 8)
            .step_by(8)
            .map(|w| hash::xxh3(w, 0)),
    );
}

/// The token sink of the common case: each token's hash appended to the
/// bytes, little-endian.
struct HashBytes<'a>(&'a mut Vec<u8>);

impl Emit for HashBytes<'_> {
    #[inline(always)]
    fn emit(&mut self, token: &str) {
        self.0
            .extend_from_slice(&hash::token_hash(token).to_le_bytes());
    }
}

/// The most tokens [`Shingler::shingle_chunks`] holds at a time (128 KiB of
/// token hashes and as much of shingle hashes).
pub const CHUNK_TOKENS: usize = 1 << 14;

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
        ShingleSet::from_vec(hashes.to_vec())
    }

    /// The set of the shingle hashes in `hashes`, sorted in place.
    pub fn from_vec(mut hashes: Vec<u64>) -> ShingleSet {
        hashes.sort_unstable();
        hashes.dedup();
        ShingleSet {
            hashes: hashes.into_boxed_slice(),
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

    /// [`jaccard`](Self::jaccard) if it meets `threshold`, else `None`,
    /// found sooner ([`crate::similarity::jaccard_at_least`]).
    pub fn jaccard_at_least(
        &self,
        other: &ShingleSet,
        threshold: crate::Threshold,
    ) -> Option<crate::Similarity> {
        crate::similarity::jaccard_at_least(&self.hashes, &other.hashes, threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of a long paragraph carry exactly the shingles, token count
    /// and content hash of the whole, at every length around the chunk
    /// boundaries and for every shingle size, short texts included.
    #[test]
    fn chunks_are_the_whole_in_pieces() {
        let c = CHUNK_TOKENS;
        let mut scratch = Scratch::default();
        let mut whole = Scratch::default();
        let mut content_only = Scratch::default();
        for size in [1, 2, 5] {
            let shingler = Shingler::new(TokenKind::Words, size);
            for n in [
                0,
                1,
                4,
                5,
                6,
                c - 1,
                c,
                c + 1,
                c + 3,
                c + 4,
                c + 5,
                3 * c + 2,
            ] {
                let text: String = (0..n).map(|i| format!("w{} ", i % 7919)).collect();
                let mut pieces = Vec::new();
                let mut calls = 0;
                let last = shingler.shingle_chunks(&text, &mut scratch, |p| {
                    calls += 1;
                    pieces.extend_from_slice(p)
                });
                let (words, content) = (last.words, last.content);
                pieces.extend_from_slice(last.hashes);
                let expect = shingler.shingle(&text, &mut whole);
                assert_eq!(words, expect.words, "size {size}, {n} tokens");
                assert_eq!(content, expect.content, "size {size}, {n} tokens");
                assert_eq!(pieces, expect.hashes, "size {size}, {n} tokens");
                // The content hash alone is the streamed one too.
                let alone = shingler.content(&text, &mut content_only);
                assert_eq!(alone, (words, content), "size {size}, {n} tokens");
                // Bounded: a long paragraph is handed over in several pieces.
                assert!(
                    calls + 1 >= n / (c + size),
                    "size {size}, {n} tokens: {calls} pieces"
                );
                assert!(scratch.tokens.capacity() <= 2 * (c + size) * 8);
            }
        }
    }

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
