//! A column of `u32` values in large anonymous memory chunks: the storage
//! of the band keys, the largest structure of a scan.
//!
//! Why not a `Vec`: a vector that doubles needs up to three times its size
//! while it copies; per-block vectors avoid that but leave the heap full of
//! small freed pieces that the allocator keeps resident after the grouping
//! step has consumed them. Here each chunk is its own anonymous mapping: only
//! the pages actually written count towards resident memory, and dropping a
//! column returns its memory to the system at once. Where anonymous mappings
//! are not available the chunks come from the heap instead.

use memmap2::MmapMut;

/// Bytes per chunk.
const CHUNK_BYTES: usize = 4 << 20;
const PER_CHUNK: usize = CHUNK_BYTES / 4;

enum Chunk {
    Mapped(MmapMut),
    Heap(Box<[u8]>),
}

impl Chunk {
    fn new() -> Chunk {
        match MmapMut::map_anon(CHUNK_BYTES) {
            Ok(map) => Chunk::Mapped(map),
            Err(_) => Chunk::Heap(vec![0; CHUNK_BYTES].into_boxed_slice()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Mapped(m) => m,
            Chunk::Heap(h) => h,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Chunk::Mapped(m) => m,
            Chunk::Heap(h) => h,
        }
    }
}

/// An append-only column of `u32`, stored little-endian.
#[derive(Default)]
pub(crate) struct Column {
    chunks: Vec<Chunk>,
    len: usize,
}

impl Column {
    /// Appends `values`.
    pub(crate) fn extend_from_slice(&mut self, mut values: &[u32]) {
        while !values.is_empty() {
            let at = self.len % PER_CHUNK;
            if at == 0 {
                self.chunks.push(Chunk::new());
            }
            let take = values.len().min(PER_CHUNK - at);
            let Some(chunk) = self.chunks.last_mut() else {
                unreachable!("a chunk was pushed above");
            };
            let dst = &mut chunk.bytes_mut()[at * 4..(at + take) * 4];
            for (d, v) in dst.chunks_exact_mut(4).zip(&values[..take]) {
                d.copy_from_slice(&v.to_le_bytes());
            }
            self.len += take;
            values = &values[take..];
        }
    }

    /// The number of values.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The values from position `at` on, into `out`.
    ///
    /// # Panics
    ///
    /// Panics if the column has fewer than `at + out.len()` values.
    pub(crate) fn read(&self, mut at: usize, out: &mut [u32]) {
        assert!(at + out.len() <= self.len, "read past the column's end");
        for o in out {
            let b = &self.chunks[at / PER_CHUNK].bytes()[at % PER_CHUNK * 4..][..4];
            *o = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            at += 1;
        }
    }

    /// Hands `each` the values in order, a chunk at a time, and frees each
    /// chunk once handed over: moving a column into a vector so costs one
    /// chunk more than the vector, not a second column.
    pub(crate) fn drain(self, mut each: impl FnMut(&[u32])) {
        let mut left = self.len;
        let mut values = Vec::with_capacity(PER_CHUNK.min(left));
        for chunk in self.chunks {
            let n = left.min(PER_CHUNK);
            values.clear();
            values.extend(
                chunk.bytes()[..n * 4]
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            drop(chunk);
            each(&values);
            left -= n;
        }
    }

    /// The values in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.bytes().chunks_exact(4))
            .take(self.len)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_chunk_boundaries() {
        let mut c = Column::default();
        let values: Vec<u32> = (0..(PER_CHUNK as u32 * 2 + 10))
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        for part in values.chunks(100_003) {
            c.extend_from_slice(part);
        }
        assert_eq!(c.len(), values.len());
        assert!(c.iter().eq(values.iter().copied()));
        assert_eq!(c.chunks.len(), 3);
        // Read back anywhere, across a chunk's end too.
        for at in [0, 7, PER_CHUNK - 2, 2 * PER_CHUNK + 5] {
            let mut out = [0u32; 5];
            c.read(at, &mut out);
            assert_eq!(out[..], values[at..at + 5]);
        }
    }

    #[test]
    fn drained_in_order() {
        let mut c = Column::default();
        let values: Vec<u32> = (0..(PER_CHUNK as u32 + 17)).collect();
        c.extend_from_slice(&values);
        let mut out = Vec::new();
        c.drain(|piece| out.extend_from_slice(piece));
        assert_eq!(out, values);
        let mut calls = 0;
        Column::default().drain(|_| calls += 1);
        assert_eq!(calls, 0);
    }

    #[test]
    fn empty_column() {
        let c = Column::default();
        assert_eq!((c.len(), c.iter().count()), (0, 0));
    }
}
