//! A map whose values live in a vector: the map holds only each value's
//! place.
//!
//! The no-chaining rule holds a value (a shingle set, a kept paragraph's
//! location) per kept candidate until no later paragraph can refer to it.
//! Usually few are held at once; but a million lines of one template are
//! all kept and all held to the end. A hash map of whole values, resized
//! by doubling, then holds up to twice their size, and both tables during
//! a resize. Here the map's entries are 8 bytes, and the values sit in a
//! vector whose freed places are reused.

use std::hash::Hash;

use ahash::AHashMap;

/// Values by key, stored apart from the key map.
#[derive(Debug)]
pub(crate) struct Slab<K, V> {
    places: AHashMap<K, u32>,
    values: Vec<Option<V>>,
    /// Places whose value was removed, for the next insert.
    free: Vec<u32>,
}

impl<K, V> Default for Slab<K, V> {
    fn default() -> Slab<K, V> {
        Slab {
            places: AHashMap::new(),
            values: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Copy, V> Slab<K, V> {
    /// Holds `value` under `key`, replacing the value held before.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        let place = match self.free.pop() {
            Some(place) => {
                self.values[place as usize] = Some(value);
                place
            }
            None => {
                let place = u32::try_from(self.values.len()).expect("fewer than 2^32 held values");
                self.values.push(Some(value));
                place
            }
        };
        if let Some(old) = self.places.insert(key, place) {
            self.free_place(old);
        }
    }

    /// The value held under `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        let place = *self.places.get(key)?;
        self.values[place as usize].as_ref()
    }

    /// How many values are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.places.len()
    }

    /// Removes and returns the value held under `key`.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let place = self.places.remove(key)?;
        let value = self.values[place as usize].take();
        self.free.push(place);
        value
    }

    fn free_place(&mut self, place: u32) {
        self.values[place as usize] = None;
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
        // Two places were freed (the replaced "one" and "two"): no growth.
        slab.insert(3, "three".into());
        slab.insert(4, "four".into());
        assert_eq!(slab.values.len(), 3);
        for (k, v) in [(1, "uno"), (3, "three"), (4, "four")] {
            assert_eq!(slab.remove(&k).as_deref(), Some(v));
        }
        assert_eq!(slab.len(), 0);
    }
}
