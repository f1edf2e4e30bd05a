//! The keys a query looks up in packed tables ([`super::packed`]), with a
//! bitmap made once for all the segments it reads.
//!
//! A batch of news against a large index wants a key in nearly every
//! bucket of every band table. Merging the wanted keys with each bucket's
//! entries then walks both lists, in every segment, with a branch at each
//! step that no predictor learns: it was a fifth of the CPU time of a
//! batch scanned against a 1 GB index. Walking only the table's entries
//! and turning most of them away with one bit of a small bitmap, then
//! finding the rare hit among the wanted keys from where the last one
//! was, does the same with one load and one well-predicted branch per
//! entry.
//!
//! # Example
//!
//! ```
//! use neardup::index::wanted::Wanted;
//!
//! let wanted = Wanted::new(vec![3, 70, 9_000]);
//! assert!(wanted.probe().may_hold(70));
//! assert_eq!(wanted.first_at_least(0, 71), 2);
//! ```

use std::sync::OnceLock;

/// Keys looked up in packed tables: ascending and distinct.
#[derive(Debug)]
pub struct Wanted {
    keys: Vec<u64>,
    /// Made on first use: a query that searches bucket by bucket needs none.
    filter: OnceLock<Filter>,
}

/// A bitmap with a bit for each run of `2^shift` keys that holds a
/// wanted one: a table walked in key order reads it in order too, from
/// the cache, where a bit per hash of the key would be a cache miss at
/// random for each entry (that stall was a third of the walk).
#[derive(Debug)]
struct Filter {
    words: Vec<u64>,
    shift: u32,
}

impl Filter {
    /// 16 to 32 bits a key: keys are hashes, so a key not wanted passes
    /// for one about 1 time in 16 to 32.
    fn of(keys: &[u64]) -> Filter {
        let top = keys.last().map_or(0, |&k| 64 - k.leading_zeros());
        let bits = (keys.len().max(1) * 16)
            .next_power_of_two()
            .clamp(64, 1 << 30);
        let shift = top.saturating_sub(bits.trailing_zeros());
        let len = keys.last().map_or(1, |&k| (k >> shift) as usize + 1);
        let mut words = vec![0u64; len.div_ceil(64)];
        for &k in keys {
            let b = (k >> shift) as usize;
            words[b / 64] |= 1 << (b % 64);
        }
        Filter { words, shift }
    }
}

/// A [`Wanted`]'s bitmap, read in a table's inner loop.
#[derive(Clone, Copy, Debug)]
pub struct Probe<'a> {
    words: &'a [u64],
    shift: u32,
}

impl Probe<'_> {
    /// False only if `key` is not wanted (true for a few others too:
    /// [`Wanted::first_at_least`] tells).
    #[inline]
    pub fn may_hold(self, key: u64) -> bool {
        let b = key >> self.shift;
        self.words
            .get((b / 64) as usize)
            .is_some_and(|w| w & (1 << (b % 64)) != 0)
    }
}

impl Wanted {
    /// The wanted `keys`, ascending and distinct.
    pub fn new(keys: Vec<u64>) -> Wanted {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        Wanted {
            keys,
            filter: OnceLock::new(),
        }
    }

    /// The keys, ascending.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// How many keys are wanted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is wanted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Its bitmap, made on the first call: [`Probe::may_hold`].
    pub fn probe(&self) -> Probe<'_> {
        let f = self.filter.get_or_init(|| Filter::of(&self.keys));
        Probe {
            words: &f.words,
            shift: f.shift,
        }
    }

    /// The position of the first key `>= key`, searching from `from`
    /// onwards (no key before `from` may be `>= key`) by steps that double:
    /// a table's hits come in key order, so each is found near the last.
    pub fn first_at_least(&self, from: usize, key: u64) -> usize {
        let rest = &self.keys[from.min(self.keys.len())..];
        let mut bound = 1;
        while bound < rest.len() && rest[bound] < key {
            bound *= 2;
        }
        let lo = bound / 2;
        let hi = bound.min(rest.len());
        from + lo + rest[lo.min(hi)..hi].partition_point(|&k| k < key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every wanted key passes the filter, and the search from any start
    /// at or before the answer finds the first key at least as large.
    #[test]
    fn finds_every_key_from_any_earlier_start() {
        let mut state = 11u64;
        let mut keys: Vec<u64> = (0..3_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                state >> 40
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let wanted = Wanted::new(keys.clone());
        let probe = wanted.probe();
        assert!(keys.iter().all(|&k| probe.may_hold(k)));
        let probes = keys.iter().flat_map(|&k| [k.saturating_sub(1), k, k + 1]);
        for key in probes.chain([0, u64::MAX]) {
            let want = keys.partition_point(|&k| k < key);
            for from in [0, want / 2, want.saturating_sub(1), want] {
                assert_eq!(
                    wanted.first_at_least(from, key),
                    want,
                    "key {key} from {from}"
                );
            }
        }
        // Most keys that are not wanted are turned away.
        let passed = (0..100_000u64)
            .map(|i| i.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40)
            .filter(|k| keys.binary_search(k).is_err() && probe.may_hold(*k))
            .count();
        assert!(passed < 100_000 / 8, "{passed} of 100000 passed");
    }

    #[test]
    fn no_keys_hold_nothing() {
        let wanted = Wanted::new(Vec::new());
        assert!(!wanted.probe().may_hold(0));
        assert_eq!(wanted.first_at_least(0, 5), 0);
    }
}
