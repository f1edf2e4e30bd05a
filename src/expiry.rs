//! When held paragraphs may be let go: a queue of paragraph numbers by
//! the paragraph after which no later one can refer to them.
//!
//! The no-chaining rule holds a kept candidate's set (and, for the report,
//! its location) until the last paragraph that shares a group with it has
//! been offered; paragraphs are offered in number order, and before each
//! one the holders drop what has expired. A binary heap of every held
//! paragraph did that at a cost of its depth in cache misses per drop: on
//! 1 GB of recombined prose (`benches/prose_corpus.py --size 1000MB`) the
//! two heaps' `pop` was 4.5% of a scan's samples, all of it on the one
//! thread that decides verdicts.
//!
//! Here the paragraphs expiring in the current window of paragraph
//! numbers (1,024 of them) wait in a small heap, and the later ones in a
//! list per window, appended to in any order: a window's list becomes the
//! heap when the offers reach it. So a paragraph is pushed once onto a
//! list, once into a heap of about a window's entries, and popped from
//! it. What is let go, and when, is exactly what the one heap gave. On
//! that corpus (2 threads, four interleaved rounds of `scan -v`) the
//! verify stage took 7.81–8.48 s against 8.57–9.54 s with the heaps
//! (with the later windows in a vector; in this map, two rounds gave
//! 8.22 and 8.47 s against the vector's 8.11 and 8.17 s).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::id::FingerprintId;

/// A window holds `2^SHIFT` paragraph numbers.
const SHIFT: u32 = 10;

/// Held paragraphs by the last paragraph that may refer to them.
#[derive(Debug, Default)]
pub(crate) struct Expiry {
    /// The entries `(until, held)` of windows up to `window`, soonest on
    /// top.
    near: BinaryHeap<Reverse<(FingerprintId, FingerprintId)>>,
    /// The window `near` is for.
    window: u32,
    /// The entries of later windows, by window (a map, not a vector by
    /// window: a paragraph held until a distant one costs one entry).
    later: BTreeMap<u32, Vec<(FingerprintId, FingerprintId)>>,
}

impl Expiry {
    /// Holds `held` until paragraph `until` has been offered.
    pub(crate) fn push(&mut self, until: FingerprintId, held: FingerprintId) {
        let w = until.get() >> SHIFT;
        if w <= self.window {
            self.near.push(Reverse((until, held)));
        } else {
            self.later.entry(w).or_default().push((until, held));
        }
    }

    /// Calls `release` with every held paragraph that no paragraph from
    /// `id` on may refer to (those held until before `id`), in no
    /// particular order.
    pub(crate) fn pop_before(&mut self, id: FingerprintId, mut release: impl FnMut(FingerprintId)) {
        let w = id.get() >> SHIFT;
        if self.window < w {
            // Every entry of the windows before `id`'s has expired.
            for Reverse((_, held)) in self.near.drain() {
                release(held);
            }
            while let Some(entry) = self.later.first_entry()
                && *entry.key() < w
            {
                for (_, held) in entry.remove() {
                    release(held);
                }
            }
            self.window = w;
            if let Some(entries) = self.later.remove(&w) {
                self.near = entries.into_iter().map(Reverse).collect();
            }
        }
        while let Some(&Reverse((until, held))) = self.near.peek() {
            if until >= id {
                break;
            }
            self.near.pop();
            release(held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTH: u32 = 1 << SHIFT;

    fn p(n: u32) -> FingerprintId {
        FingerprintId::new(n)
    }

    /// Against one binary heap of everything: the same paragraphs let go
    /// at each offer, for pushes near and far, in and across windows, and
    /// held until a paragraph far past the last.
    #[test]
    fn lets_go_exactly_what_one_heap_does() {
        let mut rng = crate::hash::SplitMix64::new(7);
        let mut next = move || rng.next_u64();
        let mut expiry = Expiry::default();
        let mut heap: BinaryHeap<Reverse<(FingerprintId, FingerprintId)>> = BinaryHeap::new();
        let mut id = 0u32;
        for _ in 0..20_000 {
            // Offers advance by 0 to 3 numbers, now and then by thousands.
            id += match next() % 100 {
                0 => 3 * WIDTH + (next() % 1000) as u32,
                r => (r % 4) as u32,
            };
            let (mut got, mut want) = (Vec::new(), Vec::new());
            expiry.pop_before(p(id), |h| got.push(h));
            while heap.peek().is_some_and(|e| e.0.0 < p(id)) {
                want.push(heap.pop().unwrap().0.1);
            }
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "let go before paragraph {id}");
            // Held until the next paragraph, within the window, or windows
            // ahead.
            let until = id
                + 1
                + match next() % 5 {
                    0 => 0,
                    1 => (next() % 50) as u32,
                    2 => (next() % u64::from(WIDTH)) as u32,
                    3 => (next() % u64::from(8 * WIDTH)) as u32,
                    // Far past every offer but the last.
                    _ if next() % 50 == 0 => u32::MAX / 2,
                    _ => 1,
                };
            expiry.push(p(until), p(id));
            heap.push(Reverse((p(until), p(id))));
        }
        let (mut got, mut want) = (Vec::new(), Vec::new());
        expiry.pop_before(p(u32::MAX), |h| got.push(h));
        want.extend(heap.into_iter().map(|e| e.0.1));
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "everything at the end");
    }
}
