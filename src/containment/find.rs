//! Containment over a corpus: which kept paragraphs hold most of another
//! paragraph (a quote, a wire sentence) inside them.
//!
//! The batch driver runs it when [`ScanOptions::containment`] is set
//! (`pipeline::contain` holds the passes); this module holds what the
//! driver does with data alone:
//!
//! - the first pass winnows every paragraph of at least `min_words` words
//!   with the window that guarantees `min_words` words
//!   ([`super::window_for`]) while it fingerprints it, keeping the
//!   selected fingerprints ([`super::Winnower`]);
//! - once the scan's verdicts are known, the fingerprints of kept
//!   paragraphs are sorted, and paragraphs sharing one are candidates
//!   ([`candidate_pairs`]); duplicates are left out, since their kept
//!   paragraph stands for them, except *variants* (a near-duplicate whose
//!   text differs from its kept paragraph's), which are candidates as the
//!   longer side with the kept paragraphs sharing one
//!   ([`variant_pairs`]): a quote of a republished version may differ
//!   from the kept paragraph inside the quote;
//! - only the candidates are read again, and each pair is verified exactly
//!   ([`verify`]): the containment of the shorter's shingle set in the
//!   longer's, at or above the threshold, and the longest shared run of
//!   words in both.
//!
//! The guarantee: a kept paragraph of at least `min_words` words that
//! shares a run of `min_words` consecutive words with another kept
//! paragraph, or a variant, becomes a candidate with it, unless the
//! fingerprint they share is selected in more than `cap` kept paragraphs
//! (boilerplate), or more than `cap` variants, whose postings are dropped;
//! whether it is reported then depends only on the exact containment.
//!
//! [`ScanOptions::containment`]: crate::pipeline::ScanOptions::containment
//!
//! # Example
//!
//! ```
//! use neardup::containment::find::{candidate_pairs, verify, Paragraph, Settings};
//! use neardup::containment::{window_for, winnow};
//! use neardup::shingle::{ShingleSet, Shingler};
//! use neardup::normalize::TokenKind;
//!
//! let shingler = Shingler::new(TokenKind::Words, 5);
//! let sequence = |text: &str| {
//!     let mut tokens = Vec::new();
//!     shingler.token_hashes(text, &mut Default::default(), &mut tokens);
//!     (shingler.set_of_tokens(&tokens).0, tokens.len())
//! };
//! let quote = "we would much rather ask people to boil their water for a few days than \
//!              take any risk with the health of the town today";
//! let article = format!(
//!     "The board's chairman defended the notice on Tuesday. \"{quote},\" she said, adding \
//!      that tests from twelve sampling points were expected by Thursday at the latest."
//! );
//! let texts = [quote.to_owned(), article, "An unrelated paragraph about the weather \
//!     on the coast, where the wind is expected to ease by the weekend after three \
//!     days of gales.".to_owned()];
//! let seqs: Vec<(Vec<u64>, usize)> = texts.iter().map(|t| sequence(t)).collect();
//! let sets: Vec<ShingleSet> = seqs.iter().map(|(s, _)| ShingleSet::from_hashes(s)).collect();
//! let settings = Settings::default();
//! let window = window_for(5, settings.min_words).unwrap();
//! let mut postings: Vec<(u64, u32)> = Vec::new();
//! for (i, (s, _)) in seqs.iter().enumerate() {
//!     let mut fps: Vec<u64> = winnow(s, window).into_iter().map(|(h, _)| h).collect();
//!     fps.sort_unstable();
//!     fps.dedup();
//!     postings.extend(fps.into_iter().map(|h| (h, i as u32)));
//! }
//! postings.sort_unstable();
//! assert_eq!(candidate_pairs(&postings, settings.cap), [(0, 1)]);
//! let para = |i: usize| Paragraph::new(&seqs[i].0, &sets[i], seqs[i].1);
//! let found = verify(para(0), para(1), &settings, 5).unwrap();
//! assert!(!found.swapped); // the first is the one inside the other
//! assert_eq!((found.containment.shared, found.containment.of), (21, 21));
//! assert_eq!(found.short_words, 0..25); // the whole quote ...
//! assert_eq!(found.long_words, 8..33); // ... from the article's ninth word
//! ```

use std::ops::Range;

use super::{Containment, containment_at_least, longest_shared_run};
use crate::shingle::ShingleSet;

/// The settings of the containment path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Report a pair when at least `numerator / denominator` of the
    /// shorter paragraph's shingles are in the longer one.
    pub threshold: (u64, u64),
    /// The shorter paragraph's least words, and the shared run of words
    /// that is always found.
    pub min_words: usize,
    /// Fingerprints selected in more paragraphs than this are dropped.
    pub cap: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            threshold: (8, 10),
            min_words: 25,
            cap: 64,
        }
    }
}

/// The pairs of paragraphs sharing a fingerprint, given `postings`, the
/// `(fingerprint, paragraph)` pairs of every paragraph's distinct selected
/// fingerprints sorted: each pair once, as `(a, b)` with `a < b`, sorted.
/// A fingerprint of more than `cap` paragraphs makes no pairs.
pub fn candidate_pairs<P: Copy + Ord + Send>(postings: &[(u64, P)], cap: usize) -> Vec<(P, P)> {
    let mut pairs: Vec<(P, P)> = Vec::new();
    for run in postings.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 || run.len() > cap {
            continue;
        }
        for (i, a) in run.iter().enumerate() {
            for b in &run[i + 1..] {
                pairs.push((a.1, b.1));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The pairs `(kept, variant)` of a kept paragraph and a variant (a
/// near-duplicate whose text differs from its kept paragraph's, which
/// serves only as the longer side) sharing a fingerprint, given both
/// sides' postings sorted as in [`candidate_pairs`]: each pair once,
/// sorted. A fingerprint of more than `cap` kept paragraphs makes no pairs
/// (as in [`candidate_pairs`]), nor one of more than `cap` variants: the
/// caps count each side apart, so variants never push a kept paragraph's
/// fingerprint over its cap.
pub fn variant_pairs<P: Copy + Ord + Send>(
    kept: &[(u64, P)],
    variants: &[(u64, P)],
    cap: usize,
) -> Vec<(P, P)> {
    let mut pairs: Vec<(P, P)> = Vec::new();
    let mut v = variants.chunk_by(|a, b| a.0 == b.0).peekable();
    for run in kept.chunk_by(|a, b| a.0 == b.0) {
        if run.len() > cap {
            continue;
        }
        let fp = run[0].0;
        while v.next_if(|r| r[0].0 < fp).is_some() {}
        let Some(vrun) = v.next_if(|r| r[0].0 == fp) else {
            continue;
        };
        if vrun.len() > cap {
            continue;
        }
        for k in run {
            pairs.extend(vrun.iter().map(|w| (k.1, w.1)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// A paragraph as containment sees it.
#[derive(Clone, Copy, Debug)]
pub struct Paragraph<'a> {
    /// Its shingle hashes in text order.
    pub shingles: &'a [u64],
    /// The same as a set (made once per paragraph, not per pair).
    pub set: &'a ShingleSet,
    /// Its number of tokens.
    pub words: usize,
}

impl<'a> Paragraph<'a> {
    /// The paragraph of shingles `shingles` (text order), `set` their set.
    pub fn new(shingles: &'a [u64], set: &'a ShingleSet, words: usize) -> Paragraph<'a> {
        Paragraph {
            shingles,
            set,
            words,
        }
    }
}

/// A verified containment between two paragraphs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Whether the second paragraph given to [`verify`] is the one inside
    /// the other (the shorter).
    pub swapped: bool,
    /// How much of the shorter is in the longer.
    pub containment: Containment,
    /// The longest shared run of words, as word positions in the shorter
    /// paragraph ...
    pub short_words: Range<usize>,
    /// ... and in the longer one.
    pub long_words: Range<usize>,
}

/// Whether the shorter of `a` and `b` (by distinct shingles; `a` on a
/// tie) is contained in the other at `settings.threshold` or more, with
/// the longest run of words they share. `None` below the threshold, or
/// when the shorter has fewer than `settings.min_words` words.
pub fn verify(
    a: Paragraph<'_>,
    b: Paragraph<'_>,
    settings: &Settings,
    shingle_size: usize,
) -> Option<Found> {
    let swapped = b.set.len() < a.set.len();
    let (short, long) = if swapped { (b, a) } else { (a, b) };
    if short.words < settings.min_words {
        return None;
    }
    let (num, den) = settings.threshold;
    let c = containment_at_least(short.set, long.set, num, den)?;
    let run = longest_shared_run(short.shingles, long.shingles)?;
    Some(Found {
        swapped,
        containment: c,
        short_words: run.words_in_a(shingle_size),
        long_words: run.words_in_b(shingle_size),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_fingerprints_make_no_pairs() {
        let postings = [(1, 0u32), (1, 1), (1, 2), (2, 0), (2, 3), (3, 4)];
        assert_eq!(
            candidate_pairs(&postings, 3),
            [(0, 1), (0, 2), (0, 3), (1, 2)]
        );
        assert_eq!(candidate_pairs(&postings, 2), [(0, 3)]);
    }

    #[test]
    fn variants_pair_with_kept_paragraphs_under_caps_of_their_own() {
        let kept = [(1, 0u32), (1, 1), (2, 0), (3, 2), (3, 3), (3, 4)];
        let variants = [(1, 10u32), (2, 11), (2, 12), (2, 13), (3, 14), (4, 15)];
        // Fingerprint 4 has no kept paragraph; variants never pair with
        // each other.
        assert_eq!(
            variant_pairs(&kept, &variants, 3),
            [
                (0, 10),
                (0, 11),
                (0, 12),
                (0, 13),
                (1, 10),
                (2, 14),
                (3, 14),
                (4, 14)
            ]
        );
        // Three variants of fingerprint 2 are over a cap of 2, three kept
        // paragraphs of fingerprint 3 too; fingerprint 1 counts each side
        // apart (two kept, one variant).
        assert_eq!(variant_pairs(&kept, &variants, 2), [(0, 10), (1, 10)]);
    }

    #[test]
    fn the_shorter_is_contained_and_short_ones_are_not_reported() {
        let long: Vec<u64> = (0..40).collect();
        let short: Vec<u64> = (10..30).collect();
        let (long_set, short_set) = (
            ShingleSet::from_hashes(&long),
            ShingleSet::from_hashes(&short),
        );
        let p = |s: &'static [u64], words| {
            let set = if s.len() == 40 { &long_set } else { &short_set };
            Paragraph::new(s, set, words)
        };
        let (long, short): (&'static [u64], &'static [u64]) = (long.leak(), short.leak());
        let settings = Settings {
            min_words: 24,
            ..Settings::default()
        };
        let found = verify(p(long, 44), p(short, 24), &settings, 5).unwrap();
        assert!(found.swapped);
        assert_eq!((found.containment.shared, found.containment.of), (20, 20));
        assert_eq!((found.short_words, found.long_words), (0..24, 10..34));
        let stricter = Settings {
            min_words: 25,
            ..settings
        };
        assert_eq!(verify(p(long, 44), p(short, 24), &stricter, 5), None);
    }
}
