//! Containment: a short paragraph (a quote, a wire sentence) found inside a
//! longer one, which Jaccard similarity misses by construction — a 30-word
//! quote inside a 150-word paragraph has J ≈ 0.2.
//!
//! Two parts, both exact where it matters:
//!
//! - **Candidates by winnowing** (Schleimer, Wilkerson and Aiken, 2003).
//!   From a paragraph's sequence of shingle hashes, every window of `w`
//!   consecutive hashes contributes its minimum ([`winnow`]). Two
//!   paragraphs that share a run of at least `w` consecutive shingles —
//!   `w + k − 1` words for shingles of `k` words ([`guarantee`]) — share
//!   that run's windows, and so a selected fingerprint: sharing a selected
//!   fingerprint is the candidate test, and no shared run of the
//!   guaranteed length is ever missed. On average a fraction `2 / (w + 1)`
//!   of the shingles is selected.
//! - **Verification**: the containment of the shorter paragraph's shingle
//!   set in the longer's, `|Q ∩ P| / |Q|`, computed exactly
//!   ([`containment`]), and where the match is: the longest run of
//!   consecutive shingles of one that occurs consecutively in the other
//!   ([`longest_shared_run`]), as word positions in both.
//!
//! # Example
//!
//! ```
//! use neardup::containment::{containment, guarantee, longest_shared_run, winnow};
//! use neardup::shingle::{ShingleSet, Shingler};
//! use neardup::normalize::TokenKind;
//!
//! let shingler = Shingler::new(TokenKind::Words, 5);
//! let shingles = |text: &str| {
//!     let mut tokens = Vec::new();
//!     shingler.token_hashes(text, &mut Default::default(), &mut tokens);
//!     shingler.set_of_tokens(&tokens).0
//! };
//! let quote = "we would much rather ask people to boil their water for a few days than take any risk";
//! let article = format!(
//!     "The board's chairman defended the notice on Tuesday. \"{quote},\" she said, adding that \
//!      tests from twelve sampling points were expected by Thursday at the latest."
//! );
//! let (q, p) = (shingles(quote), shingles(&article));
//! // Any shared run of 5 + 8 - 1 = 12 words shares a selected fingerprint.
//! assert_eq!(guarantee(5, 8), 12);
//! let selected_q: Vec<u64> = winnow(&q, 8).into_iter().map(|(h, _)| h).collect();
//! assert!(winnow(&p, 8).iter().any(|(h, _)| selected_q.contains(h)));
//! let c = containment(&ShingleSet::from_hashes(&q), &ShingleSet::from_hashes(&p));
//! assert_eq!((c.shared, c.of), (14, 14)); // the whole quote
//! let run = longest_shared_run(&q, &p).unwrap();
//! assert_eq!((run.a, run.len), (0, 14));
//! assert_eq!(run.words(5), 18); // the quote's 18 words
//! ```

pub mod find;

use ahash::AHashMap;

use crate::shingle::ShingleSet;

/// The shortest shared run of words that winnowing with `window` over
/// shingles of `shingle_size` words always finds: `window + shingle_size −
/// 1`.
pub fn guarantee(shingle_size: usize, window: usize) -> usize {
    window.max(1) + shingle_size.max(1) - 1
}

/// The longest quotes containment is asked to find, in words: longer
/// ones are whole articles, and the winnowing window grows with it (a
/// window of four billion words asked for 32 GB at once).
pub const MAX_WORDS: usize = 10_000;

/// The window that guarantees finding every shared run of `words` words
/// with shingles of `shingle_size` words (the largest such window: fewest
/// fingerprints), or `None` if `words` is shorter than one shingle or
/// longer than [`MAX_WORDS`].
pub fn window_for(shingle_size: usize, words: usize) -> Option<usize> {
    (shingle_size.max(1)..=MAX_WORDS)
        .contains(&words)
        .then(|| words + 1 - shingle_size.max(1))
}

/// The fingerprints winnowing selects from `hashes` (a paragraph's
/// shingle hashes, in text order) with `window`: for every run of
/// `window` consecutive hashes, its minimum — the rightmost one when the
/// minimum occurs more than once in the window (robust winnowing, which
/// selects fewer positions in repetitive text) — each selected position
/// once, as `(hash, position)` in position order. A sequence shorter than
/// the window is one window.
pub fn winnow(hashes: &[u64], window: usize) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    let mut w = Winnower::new(window);
    w.push(hashes, |h, p| out.push((h, p)));
    w.finish(|h, p| out.push((h, p)));
    out
}

/// [`winnow`] over a sequence that arrives in pieces: the batch driver
/// winnows a paragraph's shingles as they are hashed, without holding
/// them all. Feeding the pieces of a sequence and then calling
/// [`finish`](Self::finish) selects exactly what [`winnow`] selects from
/// the whole.
///
/// # Example
///
/// ```
/// use neardup::containment::{winnow, Winnower};
///
/// let hashes = [9, 4, 7, 4, 8, 1, 6, 5, 3, 2];
/// let mut w = Winnower::new(3);
/// let mut picked = Vec::new();
/// for piece in hashes.chunks(4) {
///     w.push(piece, |h, p| picked.push((h, p)));
/// }
/// w.finish(|h, p| picked.push((h, p)));
/// assert_eq!(picked, winnow(&hashes, 3));
/// ```
#[derive(Clone, Debug)]
pub struct Winnower {
    window: usize,
    /// The monotone queue, as a ring of `(position, hash)` whose size is
    /// a power of two above the window (it never holds more than
    /// `window + 1`): from `head` to `tail` (counters, taken modulo the
    /// size), hashes ascend strictly, so the front is the current
    /// window's rightmost minimum. A ring of masked counters, not a
    /// `VecDeque`: this runs once per shingle of every paragraph while a
    /// scan with containment fingerprints it.
    ring: Vec<(u32, u64)>,
    mask: u32,
    head: u32,
    tail: u32,
    /// Hashes seen.
    seen: u32,
    /// The position selected last (`u32::MAX`: none yet).
    last: u32,
}

impl Winnower {
    /// A winnower selecting every window of `window` hashes' minimum (a
    /// window of 0 counts as 1).
    pub fn new(window: usize) -> Winnower {
        let window = window.clamp(1, 1 << 30);
        let size = (window + 1).next_power_of_two();
        Winnower {
            window,
            ring: vec![(0, 0); size],
            mask: size as u32 - 1,
            head: 0,
            tail: 0,
            seen: 0,
            last: u32::MAX,
        }
    }

    /// Starts a new sequence.
    pub fn reset(&mut self) {
        (self.head, self.tail, self.seen, self.last) = (0, 0, 0, u32::MAX);
    }

    /// Takes the next hashes of the sequence, handing each newly selected
    /// `(hash, position)` to `select`.
    pub fn push(&mut self, hashes: &[u64], mut select: impl FnMut(u64, u32)) {
        let (w, mask) = (self.window as u32, self.mask);
        let (mut head, mut tail) = (self.head, self.tail);
        for &h in hashes {
            let i = self.seen;
            self.seen += 1;
            while tail != head && self.ring[(tail.wrapping_sub(1) & mask) as usize].1 >= h {
                tail = tail.wrapping_sub(1);
            }
            self.ring[(tail & mask) as usize] = (i, h);
            tail = tail.wrapping_add(1);
            if self.seen >= w {
                let start = self.seen - w;
                // Ends at position `i` at the latest, which is in the window.
                while self.ring[(head & mask) as usize].0 < start {
                    head = head.wrapping_add(1);
                }
                let (p, m) = self.ring[(head & mask) as usize];
                if self.last != p {
                    self.last = p;
                    select(m, p);
                }
            }
        }
        (self.head, self.tail) = (head, tail);
    }

    /// Ends the sequence: one shorter than the window is one window, whose
    /// minimum is selected now. Ready for a new sequence afterwards.
    pub fn finish(&mut self, mut select: impl FnMut(u64, u32)) {
        if self.seen > 0 && self.seen < self.window as u32 && self.tail != self.head {
            let (p, m) = self.ring[(self.head & self.mask) as usize];
            select(m, p);
        }
        self.reset();
    }
}

/// How much of one shingle set is in another: `shared` of its `of`
/// shingles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Containment {
    /// Shingles of the contained set that the containing set has.
    pub shared: u32,
    /// Shingles of the contained set.
    pub of: u32,
}

impl Containment {
    /// `shared / of` (0 for an empty set).
    pub fn as_f64(self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            f64::from(self.shared) / f64::from(self.of)
        }
    }

    /// Whether it is at least `numerator / denominator`, compared exactly.
    pub fn at_least(self, numerator: u64, denominator: u64) -> bool {
        self.of > 0 && u64::from(self.shared) * denominator >= numerator * u64::from(self.of)
    }
}

/// The exact containment of `q` in `p`: `|Q ∩ P| / |Q|`.
pub fn containment(q: &ShingleSet, p: &ShingleSet) -> Containment {
    Containment {
        shared: q.jaccard(p).intersection,
        of: q.len() as u32,
    }
}

/// [`containment`], or `None` as soon as more of `q`'s shingles are
/// missing from `p` than a containment of `numerator / denominator`
/// allows: most candidate pairs share a sentence or two and fail after a
/// fraction of the merge.
///
/// # Example
///
/// ```
/// use neardup::containment::{containment, containment_at_least};
/// use neardup::shingle::ShingleSet;
///
/// let q = ShingleSet::from_hashes(&[1, 2, 3, 4, 5]);
/// let p = ShingleSet::from_hashes(&[2, 3, 4, 5, 6, 7]);
/// assert_eq!(containment_at_least(&q, &p, 8, 10), Some(containment(&q, &p))); // 4 of 5
/// assert_eq!(containment_at_least(&q, &p, 9, 10), None);
/// ```
pub fn containment_at_least(
    q: &ShingleSet,
    p: &ShingleSet,
    numerator: u64,
    denominator: u64,
) -> Option<Containment> {
    let (q, p) = (q.as_slice(), p.as_slice());
    let of = q.len() as u64;
    if of == 0 || numerator > denominator {
        return None;
    }
    // The most shingles that may be missing: of - ceil(of * t).
    let allowed = of - (of * numerator).div_ceil(denominator);
    let (mut missing, mut j) = (0u64, 0usize);
    for &h in q {
        while j < p.len() && p[j] < h {
            j += 1;
        }
        if j < p.len() && p[j] == h {
            j += 1;
        } else {
            missing += 1;
            if missing > allowed {
                return None;
            }
        }
    }
    Some(Containment {
        shared: (of - missing) as u32,
        of: of as u32,
    })
}

/// A run of consecutive shingles found in two sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Its first shingle's position in the first sequence.
    pub a: u32,
    /// Its first shingle's position in the second sequence.
    pub b: u32,
    /// Its length in shingles.
    pub len: u32,
}

impl Run {
    /// The words it covers, for shingles of `shingle_size` words.
    pub fn words(self, shingle_size: usize) -> usize {
        self.len as usize + shingle_size.max(1) - 1
    }

    /// The word positions it covers in the first sequence's paragraph.
    pub fn words_in_a(self, shingle_size: usize) -> std::ops::Range<usize> {
        self.a as usize..self.a as usize + self.words(shingle_size)
    }

    /// The word positions it covers in the second sequence's paragraph.
    pub fn words_in_b(self, shingle_size: usize) -> std::ops::Range<usize> {
        self.b as usize..self.b as usize + self.words(shingle_size)
    }
}

/// The longest run of consecutive shingles of `a` (in text order) that
/// occurs as consecutive shingles of `b`; the earliest in `a`, then in
/// `b`, among runs of equal length. `None` when they share no shingle.
/// Linear in their lengths when few shingles repeat within `b`.
pub fn longest_shared_run(a: &[u64], b: &[u64]) -> Option<Run> {
    let mut at: AHashMap<u64, Vec<u32>> = AHashMap::with_capacity(b.len());
    for (j, &h) in b.iter().enumerate() {
        at.entry(h).or_default().push(j as u32);
    }
    // The length of the run ending at (i - 1, j) for each j, by diagonal.
    let mut prev: AHashMap<u32, u32> = AHashMap::new();
    let mut best: Option<Run> = None;
    for (i, h) in a.iter().enumerate() {
        let mut cur: AHashMap<u32, u32> = AHashMap::new();
        for &j in at.get(h).map_or(&[][..], Vec::as_slice) {
            let len = if j > 0 {
                prev.get(&(j - 1)).copied().unwrap_or(0) + 1
            } else {
                1
            };
            cur.insert(j, len);
            let run = Run {
                a: i as u32 + 1 - len,
                b: j + 1 - len,
                len,
            };
            let better = match best {
                None => true,
                Some(b) => len > b.len || (len == b.len && (run.a, run.b) < (b.a, b.b)),
            };
            if better {
                best = Some(run);
            }
        }
        prev = cur;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::SplitMix64;

    /// The textbook definition: every window's rightmost minimum.
    fn winnow_naive(hashes: &[u64], w: usize) -> Vec<(u64, u32)> {
        let mut out: Vec<(u64, u32)> = Vec::new();
        let windows: Vec<std::ops::Range<usize>> = if hashes.len() <= w {
            std::iter::once(0..hashes.len()).collect()
        } else {
            (0..=hashes.len() - w).map(|s| s..s + w).collect()
        };
        for r in windows {
            if r.is_empty() {
                continue;
            }
            let min = hashes[r.clone()].iter().min().copied().unwrap();
            let pos = r.clone().rev().find(|&i| hashes[i] == min).unwrap();
            if out.last().is_none_or(|&(_, p)| p as usize != pos) {
                out.push((min, pos as u32));
            }
        }
        out.sort_by_key(|&(_, p)| p);
        out.dedup();
        out
    }

    #[test]
    fn winnowing_selects_each_windows_rightmost_minimum() {
        let mut rng = SplitMix64::new(7);
        for len in [0usize, 1, 2, 5, 9, 40, 300] {
            for w in [1usize, 2, 4, 8, 20] {
                for alphabet in [3u64, 1 << 40] {
                    let hashes: Vec<u64> = (0..len).map(|_| rng.next_u64() % alphabet).collect();
                    assert_eq!(
                        winnow(&hashes, w),
                        winnow_naive(&hashes, w),
                        "len {len}, w {w}, alphabet {alphabet}"
                    );
                }
            }
        }
    }

    /// The guarantee: two sequences sharing a run of `w` shingles (anywhere,
    /// amid unrelated text) share a selected fingerprint.
    #[test]
    fn a_shared_run_of_the_guaranteed_length_shares_a_fingerprint() {
        let mut rng = SplitMix64::new(11);
        for trial in 0..500 {
            let w = 1 + (rng.next_u64() % 12) as usize;
            let run: Vec<u64> = (0..w).map(|_| rng.next_u64()).collect();
            let mut a: Vec<u64> = (0..rng.next_u64() % 30).map(|_| rng.next_u64()).collect();
            let mut b: Vec<u64> = (0..rng.next_u64() % 60).map(|_| rng.next_u64()).collect();
            let (ia, ib) = (
                (rng.next_u64() % (a.len() as u64 + 1)) as usize,
                (rng.next_u64() % (b.len() as u64 + 1)) as usize,
            );
            a.splice(ia..ia, run.iter().copied());
            b.splice(ib..ib, run.iter().copied());
            let fa: ahash::AHashSet<u64> = winnow(&a, w).into_iter().map(|(h, _)| h).collect();
            assert!(
                winnow(&b, w).iter().any(|(h, _)| fa.contains(h)),
                "trial {trial}: w {w}"
            );
            let r = longest_shared_run(&a, &b).unwrap();
            assert!(r.len as usize >= w, "trial {trial}");
        }
    }

    /// Pieces of any size select what the whole sequence does.
    #[test]
    fn winnowing_in_pieces_selects_what_the_whole_does() {
        let mut rng = SplitMix64::new(5);
        // One winnower per window, reused across sequences (a new one
        // every third trial).
        let mut winnowers: AHashMap<usize, Winnower> = AHashMap::new();
        for trial in 0..400 {
            let len = (rng.next_u64() % 80) as usize;
            let window = 1 + (rng.next_u64() % 24) as usize;
            let alphabet = if trial % 2 == 0 { 4 } else { u64::MAX };
            let hashes: Vec<u64> = (0..len).map(|_| rng.next_u64() % alphabet).collect();
            if trial % 3 == 0 {
                winnowers.remove(&window);
            }
            let w = winnowers
                .entry(window)
                .or_insert_with(|| Winnower::new(window));
            let mut picked = Vec::new();
            let mut rest = &hashes[..];
            while !rest.is_empty() {
                let n = 1 + (rng.next_u64() % 9) as usize;
                let (piece, more) = rest.split_at(n.min(rest.len()));
                w.push(piece, |h, p| picked.push((h, p)));
                rest = more;
            }
            w.finish(|h, p| picked.push((h, p)));
            assert_eq!(picked, winnow_naive(&hashes, window), "trial {trial}");
        }
    }

    /// The early exit decides as the full count does.
    #[test]
    fn containment_at_least_agrees_with_the_count() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..2000 {
            let q: Vec<u64> = (0..rng.next_u64() % 30)
                .map(|_| rng.next_u64() % 40)
                .collect();
            let p: Vec<u64> = (0..rng.next_u64() % 60)
                .map(|_| rng.next_u64() % 40)
                .collect();
            let (q, p) = (ShingleSet::from_hashes(&q), ShingleSet::from_hashes(&p));
            let den = 1 + rng.next_u64() % 10;
            let num = rng.next_u64() % (den + 1);
            let full = containment(&q, &p);
            let expected = full.at_least(num, den).then_some(full);
            assert_eq!(
                containment_at_least(&q, &p, num, den),
                expected,
                "{num}/{den}"
            );
        }
    }

    #[test]
    fn containment_counts_the_shorter_sets_shingles_found() {
        let q = ShingleSet::from_hashes(&[1, 2, 3, 4]);
        let p = ShingleSet::from_hashes(&[0, 2, 3, 4, 9, 10]);
        let c = containment(&q, &p);
        assert_eq!((c.shared, c.of), (3, 4));
        assert!(c.at_least(3, 4) && !c.at_least(4, 5));
        assert_eq!(containment(&ShingleSet::from_hashes(&[]), &p).as_f64(), 0.0);
    }

    #[test]
    fn the_longest_run_is_found_in_both() {
        let a = [9, 1, 2, 3, 4, 8, 1, 2];
        let b = [5, 1, 2, 7, 1, 2, 3, 4, 6];
        let r = longest_shared_run(&a, &b).unwrap();
        assert_eq!((r.a, r.b, r.len), (1, 4, 4));
        assert_eq!(r.words_in_a(5), 1..9);
        assert_eq!(longest_shared_run(&[1, 2], &[3, 4]), None);
        assert_eq!(window_for(5, 12), Some(8));
        assert_eq!(guarantee(5, 8), 12);
        assert_eq!(window_for(5, 4), None);
    }
}
