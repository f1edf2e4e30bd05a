//! Clustering without chaining: verified candidate pairs in, a verdict per
//! paragraph out (kept, or a duplicate of one kept paragraph).
//!
//! Connected components glue unrelated texts together through chains of
//! similar ones (A~B and B~C put A and C in one cluster). neardup uses a
//! stricter rule instead. Paragraphs are offered in input order; a paragraph
//! whose exact Jaccard similarity with an earlier *kept* paragraph meets the
//! threshold is a duplicate of the earliest such paragraph; otherwise it is
//! kept. So every duplicate really resembles the paragraph it is reported
//! against, and no two kept paragraphs are near-duplicates (up to pairs LSH
//! never proposed).
//!
//! Candidates come in *groups*: the LSH buckets a paragraph shares with
//! others. A new paragraph is verified only against the kept members of its
//! groups, never against every member, so a bucket holding a million
//! near-identical lines costs one comparison per line, not a million. In a
//! group with many kept members, only those that an exact prefix filter
//! cannot rule out are compared (`cluster/kept.rs`), so a million lines of one
//! template, alike but not alike enough, do not cost a million squared.
//! Exact copies (equal content hashes) skip the groups altogether and take
//! the verdict of their first occurrence, after a check that their shingle
//! sets really are equal.
//!
//! Shingle sets are held only while a later paragraph may still need them:
//! the caller says, for each paragraph, the last one that can refer to it.
//!
//! On text with many near-misses the assigner, one thread, can be the
//! slowest part of a scan (1 GB of recombined prose: about 10 s of a 20 s
//! scan before the changes of 2026-12-07), and most of its time is memory: each candidate's held set is a
//! cache miss. So the cheap tests come first: the sizes of the held sets
//! sit in a vector of their own (most candidates there differ too much in
//! size to reach the threshold), and whether a candidate from a shared
//! prefix-filter index shares a group with the paragraph, a binary search
//! per group, is asked only of those that pass the sizes and the
//! sketch. The order of the tests changes no verdict: a candidate
//! counts if it passes all of them, and the earliest that does wins.

mod kept;
pub(crate) mod sketch;

use kept::{HOT, Kept, Order, OrderId};
use sketch::Sketch;

use crate::expiry::Expiry;
use crate::id::{FingerprintId, GroupId};
use crate::shingle::ShingleSet;
use crate::similarity::{Similarity, Threshold, sizes_allow};
use crate::slab::Slab;

/// What became of a paragraph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No earlier kept paragraph matches it; it is kept.
    Kept,
    /// It matches the earlier kept paragraph `of` with `similarity`.
    Duplicate {
        /// The kept paragraph it repeats.
        of: FingerprintId,
        /// Their exact Jaccard similarity.
        similarity: Similarity,
    },
}

/// Applies the no-chaining rule to paragraphs offered in increasing id
/// order.
///
/// # Example
///
/// ```
/// use neardup::cluster::{Assigner, Verdict};
/// use neardup::id::{FingerprintId, GroupId};
/// use neardup::shingle::ShingleSet;
///
/// let mut a = Assigner::new("0.5".parse()?, 1);
/// let set = |v: &[u64]| ShingleSet::from_hashes(v);
/// let (p, group) = (FingerprintId::new, [GroupId::new(0)]);
/// // Three paragraphs in one LSH group: A, then B ~ A, then C ~ B but not ~ A.
/// assert_eq!(a.offer(p(0), set(&[1, 2, 3, 4]), &group, p(2)), Verdict::Kept);
/// let b = a.offer(p(1), set(&[2, 3, 4, 5]), &group, p(2));
/// assert!(matches!(b, Verdict::Duplicate { of, .. } if of == p(0)));
/// // C is compared with kept paragraphs only, so it does not chain onto B.
/// assert_eq!(a.offer(p(2), set(&[4, 5, 6, 7]), &group, p(2)), Verdict::Kept);
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Debug)]
pub struct Assigner {
    threshold: Threshold,
    kept_in_group: Vec<Kept>,
    /// The prefix-filter indexes of the hot groups ([`kept`]).
    orders: Vec<Order>,
    /// The held paragraphs: each one's set, [`Sketch`] and verdict.
    held: Slab<FingerprintId, Held>,
    /// The size of each held paragraph's set by its number (stale once
    /// released; `u16::MAX` for that or more): most candidates are ruled
    /// out by size alone, and this tells without reaching the
    /// paragraph's [`Held`], a cache miss.
    sizes: Vec<u16>,
    expiry: Expiry,
    comparisons: u64,
    candidates: Vec<(FingerprintId, bool)>,
    scratch: Vec<(u32, u64)>,
    prefixes: Prefixes,
}

/// A paragraph held for later ones: its set, [`Sketch`] and verdict.
#[derive(Debug)]
struct Held {
    set: ShingleSet,
    sketch: Sketch,
    verdict: Verdict,
}

/// The verdict of an exact copy of `original`, whose verdict was
/// `verdict`: the copy repeats the original if that was kept, else what
/// the original repeats.
fn copy_of(original: FingerprintId, verdict: Verdict) -> Verdict {
    match verdict {
        Verdict::Kept => Verdict::Duplicate {
            of: original,
            similarity: Similarity::IDENTICAL,
        },
        dup => dup,
    }
}

/// The prefixes the paragraph being offered probed each index with, so
/// that indexing it under them, if it is kept, does not make them again.
#[derive(Debug, Default)]
struct Prefixes {
    hashes: Vec<u64>,
    /// Each probed index and where its prefix starts in `hashes`.
    spans: Vec<(OrderId, usize)>,
}

impl Prefixes {
    fn clear(&mut self) {
        self.hashes.clear();
        self.spans.clear();
    }

    fn of(&self, order: OrderId) -> Option<&[u64]> {
        let i = self.spans.iter().position(|&(o, _)| o == order)?;
        let end = self.spans.get(i + 1).map_or(self.hashes.len(), |&(_, e)| e);
        Some(&self.hashes[self.spans[i].1..end])
    }
}

impl Assigner {
    /// An assigner for `groups` candidate groups, numbered from 0.
    pub fn new(threshold: Threshold, groups: usize) -> Assigner {
        Assigner {
            threshold,
            kept_in_group: vec![Kept::default(); groups],
            orders: Vec::new(),
            held: Slab::default(),
            sizes: Vec::new(),
            expiry: Expiry::default(),
            comparisons: 0,
            candidates: Vec::new(),
            scratch: Vec::new(),
            prefixes: Prefixes::default(),
        }
    }

    /// Room for paragraphs numbered below `paragraphs` without growing:
    /// what is reserved is memory to be touched only as paragraphs are
    /// held.
    pub fn reserve(&mut self, paragraphs: usize) {
        self.held.reserve(paragraphs);
        self.sizes
            .reserve(paragraphs.saturating_sub(self.sizes.len()));
    }

    /// Offers paragraph `id`, whose shingle set is `set` and which belongs to
    /// the candidate `groups`. Its set is kept until paragraph `keep_until`
    /// has been offered.
    ///
    /// # Panics
    ///
    /// Panics if a group number is out of range.
    pub fn offer(
        &mut self,
        id: FingerprintId,
        set: ShingleSet,
        groups: &[GroupId],
        keep_until: FingerprintId,
    ) -> Verdict {
        self.release_before(id);
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        let mut orders: Vec<OrderId> = Vec::new();
        for &g in groups {
            let kept = &self.kept_in_group[g];
            match kept.index {
                // An empty set has no prefix: compared as in a small group.
                Some(order) if !set.is_empty() => orders.push(order),
                _ => candidates.extend(kept.ids.iter().map(|&m| (m, true))),
            }
        }
        orders.sort_unstable();
        orders.dedup();
        self.prefixes.clear();
        for &order in &orders {
            let start = self.prefixes.hashes.len();
            self.orders[order].prefix_of(
                set.as_slice(),
                self.threshold,
                &mut self.scratch,
                &mut self.prefixes.hashes,
            );
            self.prefixes.spans.push((order, start));
            // An index may serve several groups: a candidate from it must
            // be a kept member of one of this paragraph's, which is
            // checked only for those the cheap filters let through.
            self.orders[order].probe(&self.prefixes.hashes[start..], |m| {
                candidates.push((m, false));
            });
        }
        // In number order; a member named by a small group (`true`) comes
        // before the same member probed from an index, so that the dedup
        // keeps the one known to share a group.
        candidates.sort_unstable_by_key(|&(m, known)| (m, !known));
        candidates.dedup_by_key(|c| c.0);
        let mut verdict = Verdict::Kept;
        let sketch = Sketch::of(set.as_slice());
        for &(kept, shares) in &candidates {
            // (A set too large for 16 bits is left to the check below.)
            let size = self.sizes.get(kept.index()).copied().unwrap_or(0);
            if size != u16::MAX && !sizes_allow(size.into(), set.len(), self.threshold) {
                continue;
            }
            let Some(Held {
                set: kept_set,
                sketch: kept_sketch,
                ..
            }) = self.held.get(&kept)
            else {
                continue;
            };
            if !sizes_allow(kept_set.len(), set.len(), self.threshold)
                || !kept_sketch.may_reach(kept_set.len(), &sketch, set.len(), self.threshold)
            {
                continue;
            }
            let shares_a_group = shares
                || groups
                    .iter()
                    .any(|&g| self.kept_in_group[g].ids.binary_search(&kept).is_ok());
            if !shares_a_group {
                continue;
            }
            self.comparisons += 1;
            if let Some(similarity) = kept_set.jaccard_at_least(&set, self.threshold) {
                verdict = Verdict::Duplicate {
                    of: kept,
                    similarity,
                };
                break;
            }
        }
        self.candidates = candidates;
        if verdict == Verdict::Kept {
            self.add_kept(id, &set, groups);
        }
        self.prefixes.clear();
        self.remember(id, verdict, Some((set, sketch)), keep_until);
        verdict
    }

    /// Takes paragraph `id` as kept without comparing it with anything: a
    /// paragraph of a reference corpus that later paragraphs are checked
    /// against. Its set is kept until paragraph `keep_until` has been
    /// offered.
    ///
    /// # Panics
    ///
    /// Panics if a group number is out of range.
    pub fn keep(
        &mut self,
        id: FingerprintId,
        set: ShingleSet,
        groups: &[GroupId],
        keep_until: FingerprintId,
    ) -> Verdict {
        self.release_before(id);
        self.add_kept(id, &set, groups);
        let sketch = Sketch::of(set.as_slice());
        self.remember(id, Verdict::Kept, Some((set, sketch)), keep_until);
        Verdict::Kept
    }

    /// Adds kept paragraph `id` to its groups, indexing the groups that it
    /// makes hot.
    fn add_kept(&mut self, id: FingerprintId, set: &ShingleSet, groups: &[GroupId]) {
        let mut indexed_in: Vec<OrderId> = Vec::new();
        for &g in groups {
            let kept = &mut self.kept_in_group[g];
            kept.ids.push(id);
            match kept.index {
                Some(order) => indexed_in.push(order),
                None if kept.ids.len() >= HOT => {
                    let order = self.index_group(g, id, set);
                    indexed_in.push(order);
                }
                None => {}
            }
        }
        indexed_in.sort_unstable();
        indexed_in.dedup();
        for order in indexed_in {
            // Probed with this set just before: its prefix is made already.
            match self.prefixes.of(order) {
                Some(prefix) => self.orders[order].insert_prefix(id, prefix),
                None => {
                    self.orders[order].insert(id, set.as_slice(), self.threshold, &mut self.scratch)
                }
            }
        }
    }

    /// Gives hot group `g` an index: the newest one if its order suits the
    /// group's members about as well as their own would, else a new one
    /// with their own order; indexes the members there but `id`, the member
    /// just added (whose set, `set`, is not held yet), which the caller
    /// indexes with its other groups' indexes. Returns the index.
    fn index_group(&mut self, g: GroupId, id: FingerprintId, set: &ShingleSet) -> OrderId {
        let ids = std::mem::take(&mut self.kept_in_group[g].ids);
        let members: Vec<(FingerprintId, &[u64])> = ids
            .iter()
            .filter_map(|&m| {
                let s = if m == id {
                    set
                } else {
                    &self.held.get(&m)?.set
                };
                Some((m, s.as_slice()))
            })
            .collect();
        let sample: Vec<&[u64]> = members.iter().map(|&(_, s)| s).collect();
        let own = Order::from_sample(&sample);
        let own_cost = own.cost(&sample, &own, self.threshold, &mut self.scratch);
        let newest_suits = self.orders.last().is_some_and(|newest| {
            let cost = newest.cost(&sample, &own, self.threshold, &mut self.scratch);
            cost <= 2 * own_cost + sample.len() as u64
        });
        if !newest_suits {
            self.orders.push(own);
        }
        let order = OrderId::new(self.orders.len() as u32 - 1);
        let index = &mut self.orders[order];
        for (m, s) in members.into_iter().filter(|&(m, _)| m != id) {
            index.insert(m, s, self.threshold, &mut self.scratch);
        }
        let kept = &mut self.kept_in_group[g];
        kept.ids = ids;
        kept.index = Some(order);
        order
    }

    /// Offers paragraph `id` as an exact copy of the earlier paragraph
    /// `original`: it takes the original's verdict (a duplicate of the
    /// original if that was kept) once `set` is confirmed equal to the
    /// original's set. If the sets differ (a 64-bit content-hash collision)
    /// the paragraph is kept.
    pub fn offer_copy(
        &mut self,
        id: FingerprintId,
        set: &ShingleSet,
        original: FingerprintId,
    ) -> Verdict {
        self.release_before(id);
        let verdict = match self.held.get(&original) {
            Some(held) if &held.set == set => copy_of(original, held.verdict),
            _ => Verdict::Kept,
        };
        self.remember(id, verdict, None, id);
        verdict
    }

    /// [`offer_copy`](Self::offer_copy) for a copy whose text the caller
    /// found byte for byte equal to the original's (their content hashes
    /// being equal too): its set is not needed, since it is the
    /// original's.
    pub fn offer_identical(&mut self, id: FingerprintId, original: FingerprintId) -> Verdict {
        self.release_before(id);
        let verdict = match self.held.get(&original) {
            Some(held) => copy_of(original, held.verdict),
            None => Verdict::Kept,
        };
        self.remember(id, verdict, None, id);
        verdict
    }

    /// A copy of `original`, a paragraph kept before this scan (an
    /// indexed one): their content hashes are equal, so are their token
    /// sequences and shingle sets, and it is `original`'s duplicate with
    /// similarity 1, without either set.
    pub fn offer_copy_of_kept(&mut self, id: FingerprintId, original: FingerprintId) -> Verdict {
        self.release_before(id);
        copy_of(original, Verdict::Kept)
    }

    /// How many exact similarities have been computed.
    pub fn comparisons(&self) -> u64 {
        self.comparisons
    }

    fn remember(
        &mut self,
        id: FingerprintId,
        verdict: Verdict,
        set: Option<(ShingleSet, Sketch)>,
        keep_until: FingerprintId,
    ) {
        if let Some(set) = set
            && keep_until > id
        {
            let (set, sketch) = set;
            if id.index() >= self.sizes.len() {
                self.sizes.resize(id.index() + 1, 0);
            }
            self.sizes[id.index()] = u16::try_from(set.len()).unwrap_or(u16::MAX);
            self.held.insert(
                id,
                Held {
                    set,
                    sketch,
                    verdict,
                },
            );
            self.expiry.push(keep_until, id);
        }
    }

    /// Drops the sets no paragraph from `id` on can need.
    fn release_before(&mut self, id: FingerprintId) {
        let held = &mut self.held;
        self.expiry.pop_before(id, |old| {
            held.remove(&old);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u64]) -> ShingleSet {
        ShingleSet::from_hashes(v)
    }

    /// Paragraph `n`.
    fn p(n: u32) -> FingerprintId {
        FingerprintId::new(n)
    }

    /// Groups by number.
    fn groups<const N: usize>(numbers: [u32; N]) -> [GroupId; N] {
        numbers.map(GroupId::new)
    }

    #[test]
    fn earliest_matching_kept_paragraph_wins() {
        let mut a = Assigner::new("0.5".parse().unwrap(), 2);
        assert_eq!(
            a.offer(p(0), set(&[1, 2, 3]), &groups([0]), p(9)),
            Verdict::Kept
        );
        assert_eq!(
            a.offer(p(1), set(&[7, 8, 9]), &groups([0, 1]), p(9)),
            Verdict::Kept
        );
        // Matches both 0 and 1 at 3/6: the earlier kept one is chosen.
        assert_eq!(
            a.offer(p(2), set(&[1, 2, 3, 7, 8, 9]), &groups([0, 1]), p(9)),
            Verdict::Duplicate {
                of: p(0),
                similarity: Similarity::new(3, 6)
            }
        );
    }

    #[test]
    fn copies_follow_their_original() {
        let mut a = Assigner::new("0.8".parse().unwrap(), 1);
        assert_eq!(
            a.offer(p(0), set(&[1, 2, 3, 4, 5]), &groups([0]), p(9)),
            Verdict::Kept
        );
        let near = a.offer(p(1), set(&[1, 2, 3, 4, 5, 6]), &groups([0]), p(9));
        let expect = Verdict::Duplicate {
            of: p(0),
            similarity: Similarity::new(5, 6),
        };
        assert_eq!(near, expect);
        // A copy of the duplicate is a duplicate of the same kept paragraph.
        assert_eq!(a.offer_copy(p(2), &set(&[1, 2, 3, 4, 5, 6]), p(1)), expect);
        // A copy of the kept paragraph is its identical duplicate.
        assert_eq!(
            a.offer_copy(p(3), &set(&[1, 2, 3, 4, 5]), p(0)),
            Verdict::Duplicate {
                of: p(0),
                similarity: Similarity::IDENTICAL
            }
        );
        // A "copy" whose set differs (hash collision) is kept, not misfiled.
        assert_eq!(a.offer_copy(p(4), &set(&[42]), p(0)), Verdict::Kept);
        // Byte-identical copies take the same verdicts without a set.
        assert_eq!(a.offer_identical(p(5), p(1)), expect);
        assert_eq!(
            a.offer_identical(p(6), p(0)),
            Verdict::Duplicate {
                of: p(0),
                similarity: Similarity::IDENTICAL
            }
        );
        // Of an original no longer held (or never offered): kept.
        assert_eq!(a.offer_identical(p(10), p(0)), Verdict::Kept);
    }

    #[test]
    fn kept_reference_paragraphs_are_not_compared() {
        let mut a = Assigner::new("0.5".parse().unwrap(), 1);
        assert_eq!(
            a.keep(p(0), set(&[1, 2, 3]), &groups([0]), p(9)),
            Verdict::Kept
        );
        // A near-copy taken as reference is kept too, without a comparison.
        assert_eq!(
            a.keep(p(1), set(&[1, 2, 3, 4]), &groups([0]), p(9)),
            Verdict::Kept
        );
        assert_eq!(a.comparisons(), 0);
        // A checked paragraph is compared with both; the earlier one wins.
        assert_eq!(
            a.offer(p(2), set(&[1, 2, 3, 4]), &groups([0]), p(9)),
            Verdict::Duplicate {
                of: p(0),
                similarity: Similarity::new(3, 4)
            }
        );
    }

    #[test]
    fn sets_are_released_after_their_last_use() {
        let mut a = Assigner::new("0.5".parse().unwrap(), 1);
        a.offer(p(0), set(&[1, 2]), &groups([0]), p(1));
        a.offer(p(1), set(&[50, 51]), &groups([0]), p(2));
        assert_eq!(a.held.len(), 2);
        // Paragraph 0's set was needed up to paragraph 1 only, so when 2
        // arrives it is gone and 2 is kept although it equals 0: the caller
        // promised that nothing after 1 shares a group with 0.
        assert_eq!(
            a.offer(p(2), set(&[1, 2]), &groups([0]), p(2)),
            Verdict::Kept
        );
        // Nothing of a paragraph outlives its set (2, the last of its
        // group, holds nothing; 1 is held for 2).
        assert_eq!(a.held.len(), 1);
        assert!(a.held.get(&p(1)).is_some());
    }

    /// Lines of one template with a number changed: each pair shares 15 of
    /// 25 shingles (J = 0.6), so all are kept, and without the prefix
    /// filter each line would be compared with every earlier one.
    #[test]
    fn template_near_misses_are_not_compared_pairwise() {
        let mut a = Assigner::new("0.8".parse().unwrap(), 1);
        let n = 5_000u32;
        for id in 0..n {
            let mut hashes: Vec<u64> = (0..15).collect();
            hashes.extend((0..5).map(|k| 1_000 + u64::from(id) * 5 + k));
            assert_eq!(
                a.offer(p(id), set(&hashes), &groups([0]), p(n)),
                Verdict::Kept
            );
        }
        // Only the first `HOT` lines are compared with each other.
        let hot = HOT as u64;
        assert!(
            a.comparisons() <= hot * (hot - 1) / 2,
            "{}",
            a.comparisons()
        );
        // A line of the template with one of its numbers is still found.
        let mut again: Vec<u64> = (0..15).collect();
        again.extend((0..5).map(|k| 1_000 + 4_321 * 5 + k));
        again.push(99_999);
        assert!(matches!(
            a.offer(p(n), set(&again), &groups([0]), p(n)),
            Verdict::Duplicate { of, .. } if of == p(4_321)
        ));
    }

    /// The verdicts of an assigner that compares every paragraph with every
    /// earlier kept paragraph sharing one of its groups.
    fn brute_force(threshold: Threshold, offers: &[(Vec<u64>, Vec<GroupId>)]) -> Vec<Verdict> {
        let mut verdicts: Vec<Verdict> = Vec::new();
        for (id, (hashes, groups)) in offers.iter().enumerate() {
            let this = set(hashes);
            let verdict = (0..id)
                .filter(|&k| verdicts[k] == Verdict::Kept)
                .filter(|&k| offers[k].1.iter().any(|g| groups.contains(g)))
                .map(|k| (p(k as u32), set(&offers[k].0).jaccard(&this)))
                .find(|(_, s)| s.meets(threshold))
                .map_or(Verdict::Kept, |(of, similarity)| Verdict::Duplicate {
                    of,
                    similarity,
                });
            verdicts.push(verdict);
        }
        verdicts
    }

    proptest::proptest! {
        /// Hot groups are filtered, never approximated: the verdicts equal
        /// the brute force's on sets built around a template (many near
        /// misses, some matches), in overlapping groups.
        #[test]
        fn prefix_filter_keeps_every_verdict(
            threshold in proptest::sample::select(vec!["0.5", "0.6", "0.75", "0.8", "0.9", "1"]),
            offers in proptest::collection::vec(
                (
                    proptest::collection::vec(0u64..24, 0..20),
                    proptest::collection::vec(100u64..160, 0..6),
                    proptest::collection::btree_set(0u32..3, 1..3),
                ),
                100..220,
            ),
        ) {
            let threshold: Threshold = threshold.parse().unwrap();
            let offers: Vec<(Vec<u64>, Vec<GroupId>)> = offers
                .into_iter()
                .map(|(mut template, rare, groups)| {
                    template.extend(rare);
                    template.sort_unstable();
                    template.dedup();
                    (template, groups.into_iter().map(GroupId::new).collect())
                })
                .collect();
            let mut a = Assigner::new(threshold, 3);
            let n = offers.len() as u32;
            let got: Vec<Verdict> = offers
                .iter()
                .zip(p(0).span(n))
                .map(|((hashes, groups), id)| a.offer(id, set(hashes), groups, p(n)))
                .collect();
            proptest::prop_assert_eq!(got, brute_force(threshold, &offers));
        }
    }

    #[test]
    fn hot_group_costs_one_comparison_per_copy() {
        let mut a = Assigner::new("0.8".parse().unwrap(), 1);
        let line = set(&[10, 11, 12]);
        for id in 0..10_000 {
            a.offer(p(id), line.clone(), &groups([0]), p(10_000));
        }
        assert_eq!(a.comparisons(), 9_999);
    }
}
