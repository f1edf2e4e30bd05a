//! The kept members of the candidate groups, and which of them a new
//! paragraph must be compared with.
//!
//! A small group is a list, and a new paragraph is compared with every kept
//! member. That is quadratic in a group whose members are alike but not
//! alike enough: lines of one template with a number changed ("Photo 17 of
//! 25 ...") share band keys, but each pair stays below the threshold, so
//! every line is kept and every later line is compared with all of them.
//!
//! A group that reaches [`HOT`] kept members is therefore searched through
//! a prefix-filter index, the exact filter of set-similarity joins (Bayardo
//! et al. 2007, "All-Pairs"; Xiao et al. 2008, "PPJoin"). Order the
//! shingles of every set by one fixed total order; if `J(x, y) >= t` then
//! the first `|x| - ceil(t |x|) + 1` shingles of `x` and the first
//! `|y| - ceil(t |y|) + 1` of `y` share a shingle (`|x ∩ y| >= t |x|` and
//! `>= t |y|`, so each prefix holds the set's first `|x| - |x ∩ y| + 1`
//! shingles, and those two share one). So only kept members sharing a
//! prefix shingle can match: the filter never loses a pair, and verdicts
//! are exactly those of the full comparison.
//!
//! The order decides the speed, not the result: rare shingles first. An
//! [`Order`] is fixed from the members of the group that needed it: shingles
//! by how many of those members hold each (fewest first, unseen ones first
//! of all), ties by hash. In a template group the changed words' shingles
//! are unseen, so they form the prefixes and rarely meet, while the
//! template's shingles, held by every member, come last. One template puts
//! its lines into many groups (one per band whose rows its shingles
//! decide), so an index is shared by every group its order suits: a line is
//! indexed and probed once per index, not once per group, and a candidate
//! from a shared index counts only if it shares a group with the paragraph.

use ahash::AHashMap;

use crate::id::FingerprintId;
use crate::similarity::Threshold;

/// Kept members from which a group is searched through an index.
pub(super) const HOT: usize = 48;

crate::id::id!(
    /// The number of an [`Order`] (with its index) in the assigner's list
    /// of them; several hot groups may share one.
    pub(super) OrderId
);

crate::id::id!(
    /// The number of an entry of an [`Order`]'s postings.
    PostingId
);

/// The kept members of one candidate group, in increasing id order, and
/// the index that holds them once the group is hot.
#[derive(Debug, Clone, Default)]
pub(super) struct Kept {
    pub(super) ids: Vec<FingerprintId>,
    pub(super) index: Option<OrderId>,
}

/// A fixed order of shingles and the prefix-filter index built with it.
#[derive(Debug)]
pub(super) struct Order {
    /// How many of the members the order was fixed from hold each shingle;
    /// absent means none.
    counts: AHashMap<u64, u32>,
    /// Prefix shingle -> the last entry of `postings` for it. Most prefix
    /// shingles of a template belong to one member, so a vector per shingle
    /// would be an allocation per shingle.
    ///
    /// Keyed by the shingle hash's low 32 bits, which halves the map (its
    /// largest structure: a template's lines add a prefix of unseen
    /// shingles each). Shingles that share them share a list, so a probe
    /// may return members whose prefix shares no shingle; those are
    /// compared like any other candidate, so no verdict changes.
    heads: AHashMap<u32, PostingId>,
    /// Linked lists of members: (member, the previous entry for the same
    /// shingle or `NONE`).
    postings: Vec<(FingerprintId, PostingId)>,
}

const NONE: PostingId = PostingId::new(u32::MAX);

impl Order {
    /// The order that `sample`'s sets fix.
    pub(super) fn from_sample(sample: &[&[u64]]) -> Order {
        let mut counts: AHashMap<u64, u32> = AHashMap::new();
        for set in sample {
            for &h in *set {
                *counts.entry(h).or_default() += 1;
            }
        }
        Order {
            counts,
            heads: AHashMap::new(),
            postings: Vec::new(),
        }
    }

    /// How many pairs of `sample`'s sets this order's prefixes would put
    /// together, counted as the prefix shingles' holders among `sample`
    /// (`own` is `sample`'s own order). Only the speed depends on it.
    pub(super) fn cost(
        &self,
        sample: &[&[u64]],
        own: &Order,
        threshold: Threshold,
        scratch: &mut Vec<(u32, u64)>,
    ) -> u64 {
        sample
            .iter()
            .map(|set| {
                prefix(&self.counts, set, threshold, scratch)
                    .iter()
                    .map(|(_, h)| u64::from(own.counts.get(h).copied().unwrap_or(0)))
                    .sum::<u64>()
            })
            .sum()
    }

    /// Indexes member `id`. A member that another group already put in
    /// this index is found twice, which the caller's deduplication absorbs;
    /// that happens only for the members a group has when it turns hot.
    pub(super) fn insert(
        &mut self,
        id: FingerprintId,
        set: &[u64],
        threshold: Threshold,
        scratch: &mut Vec<(u32, u64)>,
    ) {
        for &(_, h) in prefix(&self.counts, set, threshold, scratch) {
            self.insert_one(id, h);
        }
    }

    /// [`insert`](Self::insert) with the prefix that
    /// [`prefix_of`](Self::prefix_of) gave for the member's set.
    pub(super) fn insert_prefix(&mut self, id: FingerprintId, prefix: &[u64]) {
        for &h in prefix {
            self.insert_one(id, h);
        }
    }

    fn insert_one(&mut self, id: FingerprintId, h: u64) {
        let at = PostingId::new(self.postings.len() as u32);
        let previous = self.heads.insert(h as u32, at).unwrap_or(NONE);
        self.postings.push((id, previous));
    }

    /// Appends to `out` the prefix of `set` in this order: what a paragraph
    /// probes the index with, and is indexed under if it is kept (made once
    /// for both).
    pub(super) fn prefix_of(
        &self,
        set: &[u64],
        threshold: Threshold,
        scratch: &mut Vec<(u32, u64)>,
        out: &mut Vec<u64>,
    ) {
        out.extend(
            prefix(&self.counts, set, threshold, scratch)
                .iter()
                .map(|&(_, h)| h),
        );
    }

    /// Calls `each` with the indexed members whose prefix shares a
    /// shingle with `prefix`, a set's prefix in this order ([`prefix_of`];
    /// some members more than once).
    ///
    /// [`prefix_of`]: Self::prefix_of
    pub(super) fn probe(&self, prefix: &[u64], mut each: impl FnMut(FingerprintId)) {
        for &h in prefix {
            let mut at = self.heads.get(&(h as u32)).copied().unwrap_or(NONE);
            while at != NONE {
                let (member, previous) = self.postings[at];
                each(member);
                at = previous;
            }
        }
    }
}

/// The first `|set| - ceil(t |set|) + 1` shingles of `set` in the order
/// that `counts` fixes, with their counts, in no particular order among
/// themselves.
fn prefix<'s>(
    counts: &AHashMap<u64, u32>,
    set: &[u64],
    threshold: Threshold,
    scratch: &'s mut Vec<(u32, u64)>,
) -> &'s [(u32, u64)] {
    let len = prefix_len(set.len(), threshold);
    scratch.clear();
    scratch.extend(
        set.iter()
            .map(|&h| (counts.get(&h).copied().unwrap_or(0), h)),
    );
    if len > 0 && len < scratch.len() {
        scratch.select_nth_unstable(len - 1);
    }
    &scratch[..len]
}

/// `|x| - ceil(t |x|) + 1`, the prefix length that keeps every set `y` with
/// `J(x, y) >= t`; 0 for an empty set.
fn prefix_len(len: usize, threshold: Threshold) -> usize {
    if len == 0 {
        return 0;
    }
    let (num, den) = (
        u128::from(threshold.numerator()),
        u128::from(threshold.denominator()),
    );
    let overlap = (num * len as u128).div_ceil(den) as usize;
    len - overlap + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_follow_the_threshold_exactly() {
        let t = |s: &str| s.parse::<Threshold>().unwrap();
        // ceil(0.8 * 20) = 16 shingles must be shared: 5 in the prefix.
        assert_eq!(prefix_len(20, t("0.8")), 5);
        // ceil(0.8 * 21) = 17: 5 again; ceil(0.8 * 24) = 20: 5.
        assert_eq!(prefix_len(21, t("0.8")), 5);
        assert_eq!(prefix_len(24, t("0.8")), 5);
        assert_eq!(prefix_len(25, t("0.8")), 6);
        // A threshold of 1 needs every shingle shared: one in the prefix.
        assert_eq!(prefix_len(7, t("1")), 1);
        assert_eq!(prefix_len(1, t("0.5")), 1);
        assert_eq!(prefix_len(0, t("0.5")), 0);
    }

    #[test]
    fn an_order_puts_shingles_held_by_few_members_first() {
        let template: Vec<u64> = (0..15).collect();
        let with = |extra: &[u64]| {
            let mut v = template.clone();
            v.extend_from_slice(extra);
            v
        };
        let (a, b) = (
            with(&[100, 101, 102, 103, 104]),
            with(&[200, 201, 202, 203, 204]),
        );
        let order = Order::from_sample(&[&a, &b]);
        let mut scratch = Vec::new();
        let mut p: Vec<u64> = prefix(
            &order.counts,
            &with(&[300, 301, 302, 303, 304]),
            "0.8".parse().unwrap(),
            &mut scratch,
        )
        .iter()
        .map(|&(_, h)| h)
        .collect();
        p.sort_unstable();
        assert_eq!(p, [300, 301, 302, 303, 304]);
    }
}
