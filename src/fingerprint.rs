//! The per-paragraph API: text in, fingerprint (content hash, signature,
//! band keys) and exact shingle set out.
//!
//! Everything a driver needs to run detection its own way lives here, with
//! no I/O and no shared state: the batch driver in [`crate::pipeline`] uses
//! it, and so can a distributed engine that shuffles band keys between
//! machines. Fingerprints depend only on the text and the [`Config`]; they
//! are stable across machines, thread counts and releases with the same
//! [`crate::hash::FORMAT_VERSION`].

use crate::config::Config;
use crate::minhash::{MinHasher, Signature};
use crate::shingle::{self, ShingleSet, Shingler};
use crate::similarity::Similarity;

/// Computes fingerprints and shingle sets of paragraphs under one
/// [`Config`].
///
/// # Example
///
/// ```
/// use neardup::{Config, Fingerprinter};
///
/// let fp = Fingerprinter::new(&Config::default());
/// let a = "The harbour board voted on Tuesday to rebuild the old north pier.";
/// let b = "The harbour board voted on Tuesday to rebuild the old north pier!";
/// let (fa, fb) = (fp.fingerprint(a).unwrap(), fp.fingerprint(b).unwrap());
/// assert_eq!(fa.band_keys, fb.band_keys);
/// assert_eq!(fp.similarity(a, b).as_f64(), 1.0);
/// assert!(fp.fingerprint("Share").is_none(), "one word is below min_words");
/// ```
#[derive(Clone, Debug)]
pub struct Fingerprinter {
    config: Config,
    shingler: Shingler,
    minhasher: MinHasher,
}

/// The fingerprint of one paragraph.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// Hash of the whole normalised token sequence; equal for paragraphs
    /// that differ only cosmetically.
    pub content: u64,
    /// The MinHash signature.
    pub signature: Signature,
    /// One key per LSH band, band 0 first.
    pub band_keys: Vec<u64>,
}

/// Reusable buffers for [`Fingerprinter::fingerprint_with`].
#[derive(Debug, Default)]
pub struct Scratch {
    shingle: shingle::Scratch,
    signature: Vec<u32>,
}

/// A fingerprint borrowed from a [`Scratch`]: the hot-path form, which
/// allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct FingerprintRef<'s> {
    /// Number of tokens in the paragraph.
    pub words: usize,
    /// See [`Fingerprint::content`].
    pub content: u64,
    /// The signature values.
    pub signature: &'s [u32],
    /// The shingle hashes in text order, repeats included.
    pub shingles: &'s [u64],
}

impl Fingerprinter {
    /// A fingerprinter for `config`.
    pub fn new(config: &Config) -> Fingerprinter {
        Fingerprinter {
            config: config.clone(),
            shingler: Shingler::new(config.tokens(), config.shingle_size()),
            minhasher: MinHasher::new(config.num_perm(), config.seed()),
        }
    }

    /// [`new`](Self::new), with signatures of only the values the bands
    /// read (`bands × rows`, rounded up to a multiple of 16, the values a
    /// vector register holds; at most `num_perm`): for the batch driver,
    /// which keeps only band keys. The band keys are the same; an index's
    /// 18 bands of 5 rows take 96 values of the 128, a scan's 25 × 5 all
    /// 128.
    pub(crate) fn for_band_keys(config: &Config) -> Fingerprinter {
        let lsh = config.lsh();
        let used = (lsh.bands() * lsh.rows()).div_ceil(16) * 16;
        let mut fingerprinter = Fingerprinter::new(config);
        fingerprinter.minhasher = fingerprinter.minhasher.first(used);
        fingerprinter
    }

    /// The shingler it hashes shingles with.
    pub fn shingler(&self) -> &Shingler {
        &self.shingler
    }

    /// The settings it fingerprints with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The fingerprint of `text`, or `None` if it has fewer than
    /// `min_words` tokens.
    pub fn fingerprint(&self, text: &str) -> Option<Fingerprint> {
        let mut scratch = Scratch::default();
        let f = self.fingerprint_with(text, &mut scratch)?;
        Some(Fingerprint {
            content: f.content,
            signature: Signature::from_values(f.signature.to_vec()),
            band_keys: self.band_keys(f.signature).collect(),
        })
    }

    /// [`fingerprint`](Self::fingerprint) into reusable buffers.
    pub fn fingerprint_with<'s>(
        &self,
        text: &str,
        scratch: &'s mut Scratch,
    ) -> Option<FingerprintRef<'s>> {
        let Scratch { shingle, signature } = scratch;
        let shingles = self.shingler.shingle(text, shingle);
        if shingles.words < self.config.min_words() {
            return None;
        }
        signature.resize(self.minhasher.num_perm(), 0);
        self.minhasher.fill(shingles.hashes, signature);
        Some(FingerprintRef {
            words: shingles.words,
            content: shingles.content,
            signature,
            shingles: shingles.hashes,
        })
    }

    /// The content hash and signature of `text`, as
    /// [`fingerprint_with`](Self::fingerprint_with) gives them, in memory
    /// bounded whatever the paragraph's length: its shingles are passed to
    /// MinHash in pieces ([`Shingler::shingle_chunks`]) instead of being
    /// held whole. The returned [`FingerprintRef::shingles`] is empty.
    /// This is what the batch driver's first pass uses.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::{Config, Fingerprinter};
    /// use neardup::fingerprint::Scratch;
    ///
    /// let fp = Fingerprinter::new(&Config::default());
    /// let text = "The harbour board voted on Tuesday to rebuild the old north pier.";
    /// let (mut a, mut b) = (Scratch::default(), Scratch::default());
    /// let whole = fp.fingerprint_with(text, &mut a).unwrap();
    /// let streamed = fp.fingerprint_streamed(text, &mut b).unwrap();
    /// assert_eq!((whole.content, whole.signature), (streamed.content, streamed.signature));
    /// ```
    pub fn fingerprint_streamed<'s>(
        &self,
        text: &str,
        scratch: &'s mut Scratch,
    ) -> Option<FingerprintRef<'s>> {
        self.fingerprint_observed(text, scratch, |_| {})
    }

    /// [`fingerprint_streamed`](Self::fingerprint_streamed), handing
    /// `observe` every piece of the paragraph's shingle hashes as they are
    /// made, in text order (the pieces together are the whole sequence;
    /// also for a paragraph below `min_words`): how the batch driver
    /// winnows paragraphs for containment in the same pass.
    pub fn fingerprint_observed<'s>(
        &self,
        text: &str,
        scratch: &'s mut Scratch,
        mut observe: impl FnMut(&[u64]),
    ) -> Option<FingerprintRef<'s>> {
        let Scratch { shingle, signature } = scratch;
        signature.clear();
        signature.resize(self.minhasher.num_perm(), u32::MAX);
        let last = self.shingler.shingle_chunks(text, shingle, |piece| {
            observe(piece);
            self.minhasher.update(piece, signature)
        });
        observe(last.hashes);
        if last.words < self.config.min_words() {
            return None;
        }
        self.minhasher.update(last.hashes, signature);
        Some(FingerprintRef {
            words: last.words,
            content: last.content,
            signature,
            shingles: &[],
        })
    }

    /// [`fingerprint_streamed`](Self::fingerprint_streamed)'s content hash
    /// and signature, with the token hashes of `text` appended to `tokens`
    /// (what an index stores; left as they were when the paragraph is
    /// below `min_words`). Holds the whole paragraph's shingles.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::{Config, Fingerprinter};
    /// use neardup::fingerprint::Scratch;
    ///
    /// let fp = Fingerprinter::new(&Config::default());
    /// let text = "The harbour board voted on Tuesday to rebuild the old north pier.";
    /// let (mut a, mut b, mut tokens) = (Scratch::default(), Scratch::default(), Vec::new());
    /// let streamed = fp.fingerprint_streamed(text, &mut a).unwrap();
    /// let kept = fp.fingerprint_keeping_tokens(text, &mut b, &mut tokens).unwrap();
    /// assert_eq!((kept.content, kept.signature), (streamed.content, streamed.signature));
    /// assert_eq!(fp.set_of_tokens(&tokens).1, streamed.content);
    /// ```
    pub fn fingerprint_keeping_tokens<'s>(
        &self,
        text: &str,
        scratch: &'s mut Scratch,
        tokens: &mut Vec<u64>,
    ) -> Option<FingerprintRef<'s>> {
        let Scratch { shingle, signature } = scratch;
        let start = tokens.len();
        let words = self.shingler.token_hashes(text, shingle, tokens);
        if words < self.config.min_words() {
            tokens.truncate(start);
            return None;
        }
        let (shingles, content) = self.shingler.shingles_of_tokens(&tokens[start..], shingle);
        signature.clear();
        signature.resize(self.minhasher.num_perm(), u32::MAX);
        self.minhasher.update(shingles, signature);
        Some(FingerprintRef {
            words,
            content,
            signature,
            shingles,
        })
    }

    /// The LSH band keys of a signature.
    pub fn band_keys<'a>(&self, signature: &'a [u32]) -> impl Iterator<Item = u64> + use<'a> {
        self.config.lsh().band_keys(signature)
    }

    /// The exact shingle set of `text` and its content hash, or `None` if it
    /// has fewer than `min_words` tokens.
    pub fn shingle_set_with(&self, text: &str, scratch: &mut Scratch) -> Option<(ShingleSet, u64)> {
        // Built from pieces, so that a long paragraph holds its shingles
        // once, not also its token hashes.
        let (all, content, _) = self.shingles_in_order(text, scratch)?;
        Some((ShingleSet::from_vec(all), content))
    }

    /// The content hash of `text`, as [`shingle_set_with`](Self::shingle_set_with)
    /// gives it, without its shingles; `None` if it has fewer than
    /// `min_words` tokens.
    pub fn content_with(&self, text: &str, scratch: &mut Scratch) -> Option<u64> {
        let (words, content) = self.shingler.content(text, &mut scratch.shingle);
        (words >= self.config.min_words()).then_some(content)
    }

    /// The shingle hashes of `text` in text order (repeats included), its
    /// content hash and its number of tokens, or `None` if it has fewer
    /// than `min_words` tokens: what containment verifies and locates a
    /// match with.
    pub fn shingles_in_order(
        &self,
        text: &str,
        scratch: &mut Scratch,
    ) -> Option<(Vec<u64>, u64, usize)> {
        let mut all = Vec::new();
        let last = self
            .shingler
            .shingle_chunks(text, &mut scratch.shingle, |piece| {
                all.extend_from_slice(piece)
            });
        if last.words < self.config.min_words() {
            return None;
        }
        all.extend_from_slice(last.hashes);
        Some((all, last.content, last.words))
    }

    /// The token hashes of `text` (appended to `tokens`), its exact
    /// shingle set and content hash, or `None` if it has fewer than
    /// `min_words` tokens: [`shingle_set_with`](Self::shingle_set_with)
    /// plus what an index stores to give the set back later
    /// ([`set_of_tokens`](Self::set_of_tokens)).
    pub fn tokens_with(
        &self,
        text: &str,
        scratch: &mut Scratch,
        tokens: &mut Vec<u64>,
    ) -> Option<(ShingleSet, u64)> {
        let start = tokens.len();
        let words = self
            .shingler
            .token_hashes(text, &mut scratch.shingle, tokens);
        if words < self.config.min_words() {
            tokens.truncate(start);
            return None;
        }
        Some(self.set_of_tokens(&tokens[start..]))
    }

    /// The exact shingle set and content hash of a paragraph whose token
    /// hashes are `tokens`, as [`shingle_set_with`](Self::shingle_set_with)
    /// gives them for its text.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::{Config, Fingerprinter};
    /// use neardup::fingerprint::Scratch;
    ///
    /// let fp = Fingerprinter::new(&Config::default());
    /// let text = "The harbour board voted on Tuesday to rebuild the old north pier.";
    /// let (mut scratch, mut tokens) = (Scratch::default(), Vec::new());
    /// let from_text = fp.tokens_with(text, &mut scratch, &mut tokens).unwrap();
    /// assert_eq!(fp.set_of_tokens(&tokens), from_text);
    /// assert_eq!(Some(from_text), fp.shingle_set_with(text, &mut scratch));
    /// ```
    pub fn set_of_tokens(&self, tokens: &[u64]) -> (ShingleSet, u64) {
        let (shingles, content) = self.shingler.set_of_tokens(tokens);
        (ShingleSet::from_vec(shingles), content)
    }

    /// The 32-bit band keys the batch driver keeps (the low half of each
    /// of [`band_keys`](Self::band_keys)) for a paragraph's shingle set: a
    /// MinHash depends only on the set, not on order or repeats.
    pub fn band_keys_of_set(&self, set: &ShingleSet, scratch: &mut Scratch) -> Vec<u32> {
        let signature = &mut scratch.signature;
        signature.clear();
        signature.resize(self.minhasher.num_perm(), u32::MAX);
        self.minhasher.update(set.as_slice(), signature);
        self.band_keys(signature).map(|k| k as u32).collect()
    }

    /// The MinHash signature of a shingle set (what
    /// [`fingerprint`](Self::fingerprint) gives for a text with that set).
    pub fn signature_of_set(&self, set: &ShingleSet) -> Vec<u32> {
        let mut signature = vec![u32::MAX; self.minhasher.num_perm()];
        self.minhasher.update(set.as_slice(), &mut signature);
        signature
    }

    /// The exact Jaccard similarity of two paragraphs' shingle sets (zero
    /// when either is below `min_words`).
    pub fn similarity(&self, a: &str, b: &str) -> Similarity {
        let mut scratch = Scratch::default();
        match (
            self.shingle_set_with(a, &mut scratch),
            self.shingle_set_with(b, &mut scratch),
        ) {
            (Some((a, _)), Some((b, _))) => a.jaccard(&b),
            _ => Similarity::new(0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::TokenKind;

    /// The batch driver's fingerprinter, whose signatures hold only the
    /// values its bands read, gives the band keys of the whole signature:
    /// for a scan's banding, an index's, one of fewer values than a
    /// register, and a signature shorter than the rounding.
    #[test]
    fn band_keys_need_only_the_values_the_bands_read() {
        let configs = [
            (Config::builder().build(), 128),
            (Config::builder().for_index().build(), 96),
            (Config::builder().bands(3).rows(2).build(), 16),
            (Config::builder().num_perm(90).bands(18).rows(5).build(), 90),
        ];
        let text = "The harbour board voted on Tuesday to rebuild the old north pier, \
                    and the fishermen who moor there cheered from the quay.";
        for (config, values) in configs {
            let config = config.unwrap();
            let (whole, banded) = (
                Fingerprinter::new(&config),
                Fingerprinter::for_band_keys(&config),
            );
            let (mut a, mut b) = (Scratch::default(), Scratch::default());
            let (fa, fb) = (
                whole.fingerprint_streamed(text, &mut a).unwrap(),
                banded.fingerprint_streamed(text, &mut b).unwrap(),
            );
            assert_eq!(fb.signature.len(), values);
            assert_eq!(fb.signature, &fa.signature[..values]);
            assert!(
                whole
                    .band_keys(fa.signature)
                    .eq(banded.band_keys(fb.signature)),
                "{:?}",
                config.lsh()
            );
        }
    }

    /// The first pass's streamed fingerprint is the fingerprint, for a
    /// paragraph far longer than one piece and for one below `min_words`.
    #[test]
    fn streamed_fingerprints_equal_whole_ones() {
        let fp = Fingerprinter::new(&Config::default());
        let long: String = (0..3 * crate::shingle::CHUNK_TOKENS + 7)
            .map(|i| format!("Word{} ", i % 1009))
            .collect();
        let (mut a, mut b, mut c) = (Scratch::default(), Scratch::default(), Scratch::default());
        for text in [
            long.as_str(),
            "The harbour board voted on Tuesday.",
            "Share",
        ] {
            let whole = fp.fingerprint_with(text, &mut a);
            let streamed = fp.fingerprint_streamed(text, &mut b);
            assert_eq!(
                whole.map(|f| (f.words, f.content, f.signature.to_vec())),
                streamed.map(|f| (f.words, f.content, f.signature.to_vec())),
            );
            // The index's first pass: the same, and the tokens give the
            // same content hash back; none are kept below `min_words`.
            let mut tokens = vec![7];
            let kept = fp.fingerprint_keeping_tokens(text, &mut c, &mut tokens);
            assert_eq!(
                whole.map(|f| (f.words, f.content, f.signature.to_vec())),
                kept.map(|f| (f.words, f.content, f.signature.to_vec())),
            );
            match whole {
                Some(f) => assert_eq!(fp.set_of_tokens(&tokens[1..]).1, f.content),
                None => assert_eq!(tokens, [7]),
            }
        }
    }

    /// Golden fingerprints. These values are a promise: a stored
    /// fingerprint must match the one computed by any later release. If this
    /// test fails, the change breaks every stored fingerprint; it needs a new
    /// `FORMAT_VERSION`, not new numbers here. The values were computed by
    /// `tests/fingerprint_reference.py`, an independent implementation of
    /// the definition in `hash.rs` on top of Python's `xxhash` package.
    #[test]
    fn golden_signatures() {
        let fp = Fingerprinter::new(&Config::default());
        let cases: &[(&str, u64, [u32; 4], u64)] = &[
            (
                "The harbour board voted on Tuesday to rebuild the old north pier.",
                0x4efd_c4da_5fe3_dc34,
                [0x214b_8c37, 0x6f8c_50db, 0x01a6_ce85, 0x1041_1222],
                0x0025_bc7e_1ff1_daf5,
            ),
            (
                "Related Topics",
                0x8f09_03c5_fc64_e827,
                [0xc572_6611, 0xd2e1_394c, 0xabf0_5000, 0x5fb0_e692],
                0x1b14_910a_7ba8_7cf1,
            ),
            (
                "“Élan” — ﬁnal ΟΔΟΣ test, naïve café.",
                0xd8f1_912c_67b9_2a72,
                [0xa86b_d013, 0xd063_b293, 0x3f3a_0866, 0x2978_28c5],
                0x5022_71da_e67f_8a15,
            ),
        ];
        for (text, content, first_values, first_band) in cases {
            let f = fp.fingerprint(text).unwrap();
            assert_eq!(f.content, *content, "content of {text:?}");
            assert_eq!(
                f.signature.values()[..4],
                first_values[..],
                "signature of {text:?}"
            );
            assert_eq!(f.band_keys[0], *first_band, "band 0 of {text:?}");
        }
    }

    #[test]
    fn char_shingles_for_unspaced_text() {
        let config = Config::builder()
            .tokens(TokenKind::Chars)
            .shingle_size(3)
            .build()
            .unwrap();
        let fp = Fingerprinter::new(&config);
        let sim = fp.similarity("北京时间今天上午举行会议", "北京时间今天下午举行会议");
        assert!(sim.as_f64() > 0.4 && sim.as_f64() < 1.0, "{sim:?}");
    }

    #[test]
    fn min_words_gates_fingerprints() {
        let config = Config::builder().min_words(3).build().unwrap();
        let fp = Fingerprinter::new(&config);
        assert!(fp.fingerprint("two words").is_none());
        assert!(fp.fingerprint("now three words").is_some());
    }
}
