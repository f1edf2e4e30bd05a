//! A map from paragraph numbers to values that live in chunks of a
//! vector: the map holds only each value's place.
//!
//! The no-chaining rule holds a value (a shingle set, a kept paragraph's
//! location) per kept candidate until no later paragraph can refer to it.
//! Usually few are held at once; but a million lines of one template are
//! all kept and all held to the end. A hash map of whole values, resized
//! by doubling, then holds up to twice their size, and both tables during
//! a resize. Here the values sit in chunks of [`CHUNK`] places whose freed
//! places are reused. Chunks are never moved: a vector of a million kept
//! paragraphs' locations, grown by doubling, copied them again at every
//! doubling into pages faulted in anew (10^6 template lines: 2.49 s with
//! it, 2.33 s with the chunks).
//!
//! The keys are dense numbers (paragraphs are numbered from 0 in a scan),
//! so a value's place is found at its key's number in a vector of 4-byte
//! places, up to the largest key held: 4 bytes per paragraph at most, and
//! one memory access where a hash map took two. The assigner looks up
//! about ten held paragraphs for each paragraph it offers on corpora with
//! many near-misses; on 1 GB of recombined prose (`benches/prose_corpus.py
//! --size 1000MB`), 2 threads, four interleaved rounds of `scan -v`, the
//! verify stage took 9.2–11.0 s with this vector against 10.3–12.0 s with
//! an `AHashMap` of places.

/// Places per chunk of values.
const CHUNK: usize = 1024;

/// No place: the key holds no value.
const NONE: u32 = u32::MAX;

/// A key that is a small dense number (an id of [`crate::id`]): the
/// place of its value is found at that number in a vector, not by hashing.
pub(crate) trait Dense: Copy {
    /// The key's number.
    fn index(self) -> usize;
}

impl Dense for crate::id::FingerprintId {
    fn index(self) -> usize {
        crate::id::FingerprintId::index(self)
    }
}

#[cfg(test)]
impl Dense for u32 {
    fn index(self) -> usize {
        self as usize
    }
}

/// Values by key, stored apart from the key map.
#[derive(Debug)]
pub(crate) struct Slab<K, V> {
    /// The place of key `k`'s value at `places[k.index()]` ([`NONE`] for
    /// none, and past the end too).
    places: Vec<u32>,
    key: std::marker::PhantomData<K>,
    /// Place `p` is `chunks[p / CHUNK][p % CHUNK]`; every chunk but the
    /// last is full.
    chunks: Vec<Vec<Option<V>>>,
    /// Places whose value was removed, for the next insert.
    free: Vec<u32>,
}

impl<K, V> Default for Slab<K, V> {
    fn default() -> Slab<K, V> {
        Slab {
            places: Vec::new(),
            key: std::marker::PhantomData,
            chunks: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K, V> Slab<K, V> {
    fn value(&mut self, place: u32) -> &mut Option<V> {
        let place = place as usize;
        &mut self.chunks[place / CHUNK][place % CHUNK]
    }

    /// A new place holding `value`.
    fn push(&mut self, value: V) -> u32 {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let n = self.chunks.len() - 1;
        let last = &mut self.chunks[n];
        last.push(Some(value));
        u32::try_from(n * CHUNK + last.len() - 1).expect("fewer than 2^32 held values")
    }
}

impl<K: Dense, V> Slab<K, V> {
    /// Holds `value` under `key`, replacing the value held before.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        let place = match self.free.pop() {
            Some(place) => {
                *self.value(place) = Some(value);
                place
            }
            None => self.push(value),
        };
        let k = key.index();
        if k >= self.places.len() {
            self.places.resize(k + 1, NONE);
        }
        let old = std::mem::replace(&mut self.places[k], place);
        if old != NONE {
            self.free_place(old);
        }
    }

    /// Room for keys below `n` without moving the places: the memory is
    /// reserved, not touched, until keys are held. (Grown as keys came,
    /// the vector's earlier copies stayed resident in the allocator's
    /// pages: `index create` of 1 GB of news peaked 45 MB higher.)
    pub(crate) fn reserve(&mut self, n: usize) {
        self.places.reserve(n.saturating_sub(self.places.len()));
    }

    /// The value held under `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        let place = *self.places.get(key.index())?;
        if place == NONE {
            return None;
        }
        let place = place as usize;
        self.chunks[place / CHUNK][place % CHUNK].as_ref()
    }

    /// How many values are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.places.iter().filter(|&&p| p != NONE).count()
    }

    /// Removes and returns the value held under `key`.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let slot = self.places.get_mut(key.index())?;
        let place = std::mem::replace(slot, NONE);
        if place == NONE {
            return None;
        }
        let value = self.value(place).take();
        self.free.push(place);
        value
    }

    fn free_place(&mut self, place: u32) {
        *self.value(place) = None;
        self.free.push(place);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map_and_reuses_places() {
        let mut slab: Slab<u32, String> = Slab::default();
        slab.insert(1, "one".into());
        slab.insert(2, "two".into());
        slab.insert(1, "uno".into());
        assert_eq!(slab.get(&1).map(String::as_str), Some("uno"));
        assert_eq!(slab.remove(&2).as_deref(), Some("two"));
        assert_eq!(slab.get(&2), None);
        assert_eq!(slab.len(), 1);
        assert_eq!(slab.remove(&2), None);
        assert_eq!(slab.get(&1000), None, "a key past every held one");
        assert_eq!(slab.remove(&1000), None);
        // Two places were freed (the replaced "one" and "two"): no growth.
        slab.insert(3, "three".into());
        slab.insert(4, "four".into());
        assert_eq!(slab.chunks.iter().map(Vec::len).sum::<usize>(), 3);
        for (k, v) in [(1, "uno"), (3, "three"), (4, "four")] {
            assert_eq!(slab.remove(&k).as_deref(), Some(v));
        }
        assert_eq!(slab.len(), 0);
    }

    /// Values across several chunks keep their places as chunks are added,
    /// and freed places anywhere are reused before a new one is made.
    #[test]
    fn values_across_chunks_stay_in_place() {
        let mut slab: Slab<u32, u64> = Slab::default();
        let n = 3 * CHUNK as u32 + 5;
        for k in 0..n {
            slab.insert(k, u64::from(k) * 7);
        }
        assert_eq!(slab.chunks.len(), 4);
        for k in (0..n).step_by(3) {
            assert_eq!(slab.remove(&k), Some(u64::from(k) * 7));
        }
        for k in (0..n).filter(|k| k % 3 != 0) {
            assert_eq!(slab.get(&k), Some(&(u64::from(k) * 7)));
        }
        let freed = (0..n).step_by(3).count() as u32;
        for k in n..n + freed {
            slab.insert(k, u64::from(k));
        }
        assert_eq!(slab.chunks.len(), 4, "freed places reused");
        assert_eq!(slab.get(&(n + freed - 1)), Some(&u64::from(n + freed - 1)));
        assert_eq!(slab.len(), n as usize);
    }
}
