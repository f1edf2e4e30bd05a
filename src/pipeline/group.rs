//! Grouping: exact classes by content hash, then candidate groups by band
//! key, with radix sorts ([`super::radix`]) and no list of pairs.
//!
//! The result, a [`Plan`], says for every fingerprinted paragraph which
//! groups it belongs to, which paragraph represents its exact class, how
//! long its shingle set must be kept, and whether the second pass needs it.

use super::band_keys::BandKeys;
use super::first_pass::FirstPass;
use super::prior::Prefix;
use super::radix::{KeySlot, radix_sort_by_key, radix_sort_from};
use crate::Scope;
use crate::cluster::sketch::Outline;
use crate::column::Column;
use crate::id::{FingerprintId, GroupId};
use crate::similarity::Threshold;
use ahash::AHashMap;
use ahash::AHashSet;
use rayon::prelude::*;
use std::marker::PhantomData;
use std::ops::{Add, Index};

/// Compressed sparse rows: the list of id `i` (a slot's groups, a group's
/// slots) is `items[offsets[i]..offsets[i + 1]]`. The offsets are
/// positions in `items`, not ids.
#[derive(Debug)]
pub(super) struct Csr<I, T> {
    pub(super) offsets: Vec<u32>,
    pub(super) items: Vec<T>,
    lists_of: PhantomData<I>,
}

impl<I, T> Csr<I, T> {
    pub(super) fn new(offsets: Vec<u32>, items: Vec<T>) -> Csr<I, T> {
        Csr {
            offsets,
            items,
            lists_of: PhantomData,
        }
    }
}

impl<I, T> Default for Csr<I, T> {
    fn default() -> Csr<I, T> {
        Csr::new(Vec::new(), Vec::new())
    }
}

impl<I, T> Csr<I, T>
where
    I: Copy + Add<u32, Output = I>,
    Vec<u32>: Index<I, Output = u32>,
{
    /// The list of `i`.
    pub(super) fn get(&self, i: I) -> &[T] {
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// Candidate groups, stored flat, each distinct member list once: a
/// near-duplicate pair usually shares most of the 25 bands, and keeping 25
/// copies of every group was the largest allocation of the grouping step.
#[derive(Debug, Default)]
pub(super) struct Groups {
    pub(super) lists: Csr<GroupId, FingerprintId>,
    /// Hash of a member list -> the first group with that hash. Group
    /// numbers never reach the output, so an in-memory hash is fine here.
    pub(super) seen: AHashMap<u64, GroupId>,
    pub(super) hasher: ahash::RandomState,
}

impl Groups {
    /// Adds a group of ascending slots, unless the same group is known.
    pub(super) fn add(&mut self, members: impl Iterator<Item = FingerprintId>) {
        let lists = &mut self.lists;
        if lists.offsets.is_empty() {
            lists.offsets.push(0);
        }
        let start = lists.items.len();
        lists.items.extend(members);
        let hash = self.hasher.hash_one(&lists.items[start..]);
        let id = GroupId::new(self.len() as u32);
        let lists = &mut self.lists;
        match self.seen.get(&hash) {
            Some(&g) if lists.get(g) == &lists.items[start..] => lists.items.truncate(start),
            Some(_) => lists.offsets.push(lists.items.len() as u32),
            None => {
                self.seen.insert(hash, id);
                lists.offsets.push(lists.items.len() as u32);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.lists.offsets.len().saturating_sub(1)
    }

    /// The groups without the members that can reach the threshold with
    /// no other member, as `may_reach` tells from what the first pass
    /// kept of their sets ([`Outline`]); a group left with fewer than two
    /// members, or without a slot from `checked` on, goes.
    ///
    /// Such a member changes no verdict where it is: it is compared only
    /// with the group's kept members, and a later member only with it
    /// when it is kept, and none of those comparisons can succeed. Yet
    /// every member of a group is read again by the second pass; on
    /// prose, whose recurring sentences put many unlike paragraphs in
    /// one group, most of them need not be. A group larger than
    /// [`Self::PRUNED_UP_TO`] stays as it is: the test is quadratic.
    fn pruned(
        self,
        checked: FingerprintId,
        threshold: Threshold,
        outline: impl Fn(FingerprintId) -> Option<Outline>,
    ) -> Groups {
        let mut out = Groups::default();
        let mut keep = Vec::new();
        let mut outlines = Vec::new();
        for (_, group) in self.iter() {
            if group.len() > Self::PRUNED_UP_TO {
                out.add(group.iter().copied());
                continue;
            }
            keep.clear();
            keep.resize(group.len(), false);
            outlines.clear();
            outlines.extend(group.iter().map(|&m| outline(m)));
            // A member without an outline (the prior's) may reach anything.
            let may_reach = |i: usize, j: usize| match (&outlines[i], &outlines[j]) {
                (Some(a), Some(b)) => a.may_reach(b, threshold),
                _ => true,
            };
            for i in 0..group.len() {
                for j in i + 1..group.len() {
                    if !(keep[i] && keep[j]) && may_reach(i, j) {
                        keep[i] = true;
                        keep[j] = true;
                    }
                }
            }
            let members = group
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(&m, _)| m);
            if members.clone().next_back().is_some_and(|l| l >= checked) {
                out.add(members);
            }
        }
        out
    }

    /// The largest group [`Self::pruned`] looks into.
    const PRUNED_UP_TO: usize = 64;

    /// Each group and its members.
    pub(super) fn iter(&self) -> impl Iterator<Item = (GroupId, &[FingerprintId])> {
        let groups = GroupId::new(0).span(self.len() as u32);
        groups.map(|g| (g, self.lists.get(g)))
    }
}

/// Candidate groups made outside the scan: the runs of slots that share a
/// band key, found by the group stage of a scan spread over machines
/// ([`crate::stage`]), each part of the band keys on its own. Given to a
/// scan ([`super::Extras::groups`]), they replace its own grouping, and
/// the scan then holds no band keys; the verdicts are the same because the
/// plan made from them is the same (see `Plan::new` in `pipeline/group.rs`).
///
/// # Example
///
/// ```
/// use neardup::pipeline::Grouping;
///
/// // Two inputs, with 6 and 4 fingerprinted paragraphs.
/// let mut g = Grouping::new(vec![6, 4]);
/// g.add(&[2, 5, 9]);
/// g.add(&[2, 5, 9]); // a run seen in another band: kept once
/// g.add(&[1, 3]);
/// assert_eq!((g.len(), g.slots()), (2, 10));
/// ```
#[derive(Debug)]
pub struct Grouping {
    slots_by_input: Vec<u32>,
    runs: Groups,
}

impl Grouping {
    /// No runs yet, for a scan whose inputs have `slots_by_input`
    /// fingerprinted paragraphs each.
    pub fn new(slots_by_input: Vec<u32>) -> Grouping {
        Grouping {
            slots_by_input,
            runs: Groups::default(),
        }
    }

    /// The fingerprinted paragraphs of each input.
    pub fn slots_by_input(&self) -> &[u32] {
        &self.slots_by_input
    }

    /// Adds a run: the ascending slots (numbered over the whole scan, in
    /// input order) that share one key in one band. Runs must come in the
    /// order of their band, then key, as a scan groups; a run equal to an
    /// earlier one is dropped. Exact copies need not be left out: the plan
    /// replaces each slot by the first of its exact class.
    pub fn add(&mut self, run: &[u32]) {
        self.runs.add(run.iter().map(|&s| FingerprintId::new(s)));
    }

    /// The fingerprinted paragraphs of the scan the runs are of.
    pub fn slots(&self) -> u64 {
        self.slots_by_input.iter().map(|&n| u64::from(n)).sum()
    }

    /// The distinct runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether there are no runs.
    pub fn is_empty(&self) -> bool {
        self.runs.len() == 0
    }
}

/// Where a scan's grouping takes the band keys from.
#[derive(Clone, Copy)]
pub(super) enum Keys<'a> {
    /// The first pass's columns.
    Held,
    /// Nowhere: the groups are given.
    Given(&'a Grouping),
    /// Read band by band.
    Read(&'a dyn BandKeys),
}

/// One band's runs of slots sharing a key, flat.
#[derive(Default)]
struct Runs {
    slots: Vec<FingerprintId>,
    ends: Vec<usize>,
}

/// A set of band keys, with a bitmap in front of the hash set: most keys
/// looked up are absent, and the bitmap (128 KiB, in cache) answers for
/// them without hashing.
pub(super) struct KeyFilter {
    pub(super) bits: Vec<u64>,
    pub(super) keys: AHashSet<u32>,
}

impl KeyFilter {
    const BITS: u32 = 1 << 20;

    pub(super) fn new(keys: impl Iterator<Item = u32>) -> KeyFilter {
        let mut bits = vec![0u64; (Self::BITS / 64) as usize];
        let keys: AHashSet<u32> = keys.collect();
        for &k in &keys {
            let b = k % Self::BITS;
            bits[(b / 64) as usize] |= 1 << (b % 64);
        }
        KeyFilter { bits, keys }
    }

    pub(super) fn contains(&self, k: u32) -> bool {
        let b = k % Self::BITS;
        self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0 && self.keys.contains(&k)
    }
}

/// The second pass's plan, in slot numbers (indices into the fingerprint
/// arrays).
#[derive(Debug)]
pub(super) struct Plan {
    /// The first slot with the same content hash.
    pub(super) rep_of: Vec<FingerprintId>,
    /// Candidate groups of each slot (empty for non-representatives).
    pub(super) groups_of: Csr<FingerprintId, GroupId>,
    pub(super) groups: usize,
    /// The last slot that may compare against each slot.
    pub(super) keep_until: Vec<FingerprintId>,
    /// Slots whose text the verification pass needs, ascending.
    pub(super) needed: Vec<FingerprintId>,
    /// Slots before this one belong to the prior or the reference corpus.
    pub(super) checked: FingerprintId,
    /// The first slot of the batch: those before it are the prior's.
    pub(super) batch: FingerprintId,
}

impl Plan {
    /// Whether `slot` takes part in no comparison: no candidate group, not
    /// a copy of another, and no copy after it. Such a paragraph is kept,
    /// and nothing compares with it.
    pub(super) fn lonely(&self, slot: FingerprintId) -> bool {
        self.rep_of[slot] == slot
            && self.keep_until[slot] == slot
            && self.groups_of.get(slot).is_empty()
    }

    /// The plan for `index`, whose band keys it consumes (or reads band by
    /// band, when they are kept outside), after the `prefix` of earlier
    /// batches' paragraphs; or, when `keys` gives the runs of shared band
    /// keys found elsewhere, the same plan from them (there is then no
    /// prefix).
    ///
    /// The two agree: a band's groups here are its runs of equal keys
    /// among class representatives. Copies have their representative's
    /// keys, so the representatives in a run of all slots are that run's
    /// slots each replaced by its representative; the runs of all slots,
    /// in band and key order and each distinct one once, thus give the
    /// same groups in the same order, and the same cuts by document and
    /// the same filters apply after the replacement. When the first pass
    /// left outlines ([`FirstPass::outlines`]), the groups then lose the
    /// members that cannot reach the threshold with any other
    /// ([`Groups::pruned`]): the plan is smaller, the verdicts the same.
    pub(super) fn new(
        index: &mut FirstPass,
        prefix: &Prefix,
        bands: usize,
        scope: Scope,
        threshold: Threshold,
        keys: Keys<'_>,
    ) -> Result<Plan, crate::Error> {
        let given = match keys {
            Keys::Given(g) => Some(g),
            _ => None,
        };
        let prior = prefix.len();
        let n = prior as usize + index.fp_content.len();
        let slots = || FingerprintId::new(0).span(n as u32);
        // Slots before `checked` belong to the prior or the reference
        // corpus: classes and groups of those slots alone are never
        // verified.
        let batch_end = FingerprintId::new(index.fp_content.len() as u32);
        let checked = index.first_checked.unwrap_or(batch_end) + prior;
        // Every slot's content hash: the batch's own, unless a prior comes
        // first (no copy of a column of the scan's largest size otherwise).
        let content: std::borrow::Cow<'_, [u64]> = if prefix.content.is_empty() {
            std::borrow::Cow::Borrowed(&index.fp_content)
        } else {
            let all = prefix.content.iter().chain(&index.fp_content);
            std::borrow::Cow::Owned(all.copied().collect())
        };
        let content = &*content;
        // With `Scope::Within`, runs of equal keys are cut where the
        // document changes: slots ascend within a run and documents are
        // runs of slots, so this keeps exactly the same-document pairs.
        // (A scan with a prior has the scope `All`.)
        let doc_of = match scope {
            Scope::All => Vec::new(),
            Scope::Within => index.doc_of_slots(),
        };
        let same_doc =
            |a: FingerprintId, b: FingerprintId| doc_of.is_empty() || doc_of[a] == doc_of[b];
        // Exact classes: sort by the top half of the content hash (a radix
        // sort, sequential in memory), then split each run of equal halves
        // by the full hash, which is rarely needed.
        let mut order: Vec<KeySlot> = Vec::new();
        radix_sort_from(
            || {
                content
                    .iter()
                    .zip(slots())
                    .map(|(&c, s)| ((c >> 32) as u32, s))
            },
            &mut order,
        );
        let mut rep_of: Vec<FingerprintId> = slots().collect();
        let mut keep_until: Vec<FingerprintId> = slots().collect();
        let mut needed: Vec<bool> = vec![false; n];
        let mut run_slots = Vec::new();
        for run in order
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
        {
            run_slots.clear();
            run_slots.extend(run.iter().map(|&(_, s)| s));
            // Slots ascend within the run; a stable sort by full hash keeps
            // them ascending within each class.
            run_slots.sort_by_key(|&s| content[s]);
            for class in run_slots.chunk_by(|&a, &b| content[a] == content[b] && same_doc(a, b)) {
                if let [rep, .., last] = *class
                    && last >= checked
                {
                    keep_until[rep] = last;
                    for &m in class {
                        rep_of[m] = rep;
                        needed[m] |= m == rep || m >= checked;
                    }
                }
            }
        }
        drop(order);
        let n_reps = slots().filter(|&s| rep_of[s] == s).count();
        // Which slots represent their class, as bits: keys read from
        // outside come by key, so their slots are in no order, and a
        // bitmap stays in cache where `rep_of` would not.
        let mut is_rep = vec![0u64; n.div_ceil(64)];
        for s in slots().filter(|&s| rep_of[s] == s) {
            let i = s.get() as usize;
            is_rep[i / 64] |= 1 << (i % 64);
        }
        let mut groups = Groups::default();
        let mut mapped = Vec::new();
        for (_, run) in given.iter().flat_map(|g| g.runs.iter()) {
            mapped.clear();
            mapped.extend(run.iter().map(|&s| rep_of[s + prior]));
            mapped.sort_unstable();
            mapped.dedup();
            let pieces = mapped
                .chunk_by(|&a, &b| same_doc(a, b))
                .filter(|piece| piece.len() > 1 && piece[piece.len() - 1] >= checked);
            for piece in pieces {
                groups.add(piece.iter().copied());
            }
        }
        // Band by band, so that each band's keys are freed once grouped;
        // held keys two bands at a time on two threads, their runs added
        // in band order.
        let first_checked = checked - FingerprintId::new(prior);
        let wanted = |filter: &Option<KeyFilter>, k: u32, s: FingerprintId| {
            let i = s.get() as usize;
            is_rep[i / 64] & (1 << (i % 64)) != 0 && filter.as_ref().is_none_or(|f| f.contains(k))
        };
        let band_runs = |(band, held): (usize, Option<Column>)| -> Result<Runs, crate::Error> {
            let mut pairs: Vec<KeySlot> = Vec::new();
            // The prior's pairs (whose keys some batch paragraph has, by
            // construction) come first: their slots are the lowest.
            let prior_pairs = || {
                (prefix.pairs.get(band).into_iter().flatten())
                    .copied()
                    .filter(|&(_, s)| rep_of[s] == s)
            };
            // With a reference corpus only groups holding a checked slot
            // are kept, so a reference key that no checked slot has can be
            // dropped before the sort: one pass over the reference instead
            // of sorting it.
            if let Keys::Read(source) = keys {
                let read = source.band(band)?;
                debug_assert_eq!(read.len() + prior as usize, n);
                let filter = (first_checked > 0).then(|| {
                    KeyFilter::new(
                        read.iter()
                            .filter(|p| p.1.get() >= first_checked)
                            .map(|p| p.0),
                    )
                });
                pairs.reserve(n_reps);
                pairs.extend(prior_pairs());
                pairs.extend(
                    read.iter()
                        .map(|&(k, s)| (k, s + prior))
                        .filter(|&(k, s)| wanted(&filter, k, s)),
                );
            } else if let Some(keys) = held {
                debug_assert_eq!(keys.len() + prior as usize, n);
                let filter = (first_checked > 0)
                    .then(|| KeyFilter::new(keys.iter().skip(first_checked as usize)));
                // Sorted as they are read from the column: two bands are
                // grouped at a time, and a second buffer of each band's
                // pairs would cost the memory that this saves in time.
                let all = || {
                    prior_pairs().chain(
                        keys.iter()
                            .zip(slots().skip(prior as usize))
                            .filter(|&(k, s)| wanted(&filter, k, s)),
                    )
                };
                radix_sort_from(all, &mut pairs);
            } else {
                pairs.extend(prior_pairs());
            }
            // Keys read from outside come sorted (and, without a prior,
            // stay so), as do held ones: checking is one pass, sorting four.
            if !pairs.is_sorted_by_key(|p| p.0) {
                radix_sort_by_key(&mut pairs, &mut Vec::new());
            }
            let mut runs = Runs::default();
            for run in pairs
                .chunk_by(|a, b| a.0 == b.0 && same_doc(a.1, b.1))
                .filter(|run| run.len() > 1 && run[run.len() - 1].1 >= checked)
            {
                runs.slots.extend(run.iter().map(|&(_, s)| s));
                runs.ends.push(runs.slots.len());
            }
            Ok(runs)
        };
        let per_band: Vec<Result<Runs, crate::Error>> = match keys {
            Keys::Given(_) => Vec::new(),
            Keys::Held => {
                let mut held: Vec<Option<Column>> = std::mem::take(&mut index.keys)
                    .into_iter()
                    .map(Some)
                    .collect();
                held.resize_with(bands, || None);
                let held: Vec<(usize, Option<Column>)> = held.into_iter().enumerate().collect();
                held.into_par_iter().map(band_runs).collect()
            }
            // Keys read from outside are read so that a spread scan's
            // last stage holds one band of them at a time: in turn.
            Keys::Read(_) => (0..bands).map(|b| band_runs((b, None))).collect(),
        };
        for runs in per_band {
            let runs = runs?;
            let mut start = 0;
            for &end in &runs.ends {
                groups.add(runs.slots[start..end].iter().copied());
                start = end;
            }
        }
        index.keys = Vec::new();
        if let Some(column) = &index.outlines {
            // The prior's slots have none.
            let outline = |s: FingerprintId| {
                let i = s.get().checked_sub(prior)? as usize;
                let mut words = [0u32; Outline::WORDS];
                column.read(i * Outline::WORDS, &mut words);
                Some(Outline::from_words(&words))
            };
            groups = groups.pruned(checked, threshold, outline);
        }
        index.outlines = None;

        // The groups of each slot, as compressed sparse rows: `counts`
        // becomes the offsets, `fill` each slot's next free position.
        let mut counts = vec![0u32; n + 1];
        for (_, group) in groups.iter() {
            let last = group[group.len() - 1];
            for &m in group {
                counts[m + 1] += 1;
                needed[m] = true;
                let k = &mut keep_until[m];
                *k = (*k).max(last);
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut items = vec![GroupId::new(0); counts[n] as usize];
        for (g, group) in groups.iter() {
            for &m in group {
                items[fill[m] as usize] = g;
                fill[m] += 1;
            }
        }
        Ok(Plan {
            rep_of,
            groups_of: Csr::new(counts, items),
            groups: groups.len(),
            keep_until,
            needed: slots().filter(|&s| needed[s]).collect(),
            checked,
            batch: FingerprintId::new(prior),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(hashes: &[u64]) -> Outline {
        let mut o = Outline::default();
        o.add(hashes);
        o
    }

    /// Sixty hashes spread over the buckets, from `i` on.
    fn set(from: u64) -> Vec<u64> {
        (from..from + 60)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect()
    }

    fn lists(groups: &Groups) -> Vec<Vec<u32>> {
        let members = |g: &[FingerprintId]| g.iter().map(|s| s.get()).collect();
        groups.iter().map(|(_, g)| members(g)).collect()
    }

    fn groups(lists: &[&[u32]]) -> Groups {
        let mut groups = Groups::default();
        for list in lists {
            groups.add(list.iter().map(|&s| FingerprintId::new(s)));
        }
        groups
    }

    #[test]
    fn pruning_drops_members_that_can_reach_no_other() {
        let t = Threshold::from_fraction(8, 10).unwrap();
        // 0 and 1 are alike (J = 59/61), 2 and 3 are one set unlike them;
        // slot 5 has no outline (a prior's).
        let outlines = [set(0), set(1), set(200), set(200)].map(|s| outline(&s));
        let of = |s: FingerprintId| outlines.get(s.index()).copied();
        let all = || groups(&[&[0, 1, 2], &[0, 2], &[2, 3], &[1, 5]]);
        let pruned = all().pruned(FingerprintId::new(0), t, of);
        assert_eq!(lists(&pruned), [vec![0, 1], vec![2, 3], vec![1, 5]]);
        // A group left with no slot from `checked` on goes too.
        let pruned = all().pruned(FingerprintId::new(2), t, of);
        assert_eq!(lists(&pruned), [vec![2, 3], vec![1, 5]]);
        // So does every member when nothing is alike.
        let pruned = all().pruned(FingerprintId::new(0), t, |s| {
            Some(outline(&set(1000 * u64::from(s.get()))))
        });
        assert!(lists(&pruned).is_empty());
    }

    #[test]
    fn groups_too_large_to_prune_stay_whole() {
        let t = Threshold::from_fraction(8, 10).unwrap();
        let big: Vec<u32> = (0..=Groups::PRUNED_UP_TO as u32).collect();
        let unlike = |s: FingerprintId| Some(outline(&set(1000 * u64::from(s.get()))));
        let pruned = groups(&[&big]).pruned(FingerprintId::new(0), t, unlike);
        assert_eq!(lists(&pruned), std::slice::from_ref(&big));
        let pruned = groups(&[&big[1..]]).pruned(FingerprintId::new(0), t, unlike);
        assert!(lists(&pruned).is_empty());
    }
}
