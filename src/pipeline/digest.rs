//! Each input's raw bytes digested as the first pass reads them.
//!
//! An index stores a batch's digest (XXH3-64 of every input's bytes, see
//! `docs/index-format.md`) so that `index add` can refuse inputs it has
//! added before. Reading the batch once more only for that cost
//! `index create` 0.6 s per GB on one core before the scan began (the
//! other core idle): the first pass reads every byte anyway, so the reader
//! thread digests them on the way.

use super::prior::InputDigest;
use crate::hash::Xxh3Stream;
use crate::id::InputId;

/// The digests of a scan's inputs, filled by the reader thread one input
/// at a time: [`start`](Self::start), [`update`](Self::update) with every
/// raw byte in order, [`finish`](Self::finish).
pub(super) struct Digests {
    stream: Xxh3Stream,
    len: u64,
    done: Vec<Option<InputDigest>>,
}

impl Digests {
    pub(super) fn new(inputs: usize) -> Digests {
        Digests {
            stream: Xxh3Stream::new(0),
            len: 0,
            done: vec![None; inputs],
        }
    }

    /// Begins an input.
    pub(super) fn start(&mut self) {
        self.stream = Xxh3Stream::new(0);
        self.len = 0;
    }

    /// The input's next raw bytes.
    pub(super) fn update(&mut self, raw: &[u8]) {
        self.stream.update(raw);
        self.len += raw.len() as u64;
    }

    /// Ends `input`: its digest is kept if it was read `whole` (every
    /// block, without an error) and, when its `size` is known, the bytes
    /// digested number exactly that; otherwise it has none, and whoever
    /// needs it reads the input again.
    pub(super) fn finish(&mut self, input: InputId, whole: bool, size: Option<u64>) {
        if whole && size.is_none_or(|size| size == self.len) {
            self.done[input.index()] = Some(InputDigest {
                len: self.len,
                xxh3: self.stream.digest(),
            });
        }
    }

    /// Per input, its digest if the pass took one.
    pub(super) fn into_digests(self) -> Vec<Option<InputDigest>> {
        self.done
    }
}
