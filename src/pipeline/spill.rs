//! What the first pass keeps of every fingerprinted paragraph when a scan
//! stores its kept paragraphs in an index: its token hashes and location,
//! written in slot order to a scratch file and read back once, in the same
//! order, by the second pass.
//!
//! Why: an index stores every kept paragraph's token hashes, and most
//! kept paragraphs have no candidate, so the second pass would otherwise
//! read, decode and tokenise the whole batch a second time only to get
//! them back (that made `index create` twice as slow as a `scan`). The
//! first pass has the tokens in hand; writing them down sequentially and
//! reading them back sequentially costs far less than that.
//!
//! The file sits in the index's directory under a `.tmp-` name (a killed
//! writer's leftovers are removed by the next writer) and, on Unix, is
//! unlinked as soon as it is open, so it never outlives the process. A
//! sink without a directory gets the same records in memory.
//!
//! A record: token count u32, document u32, paragraph in its document
//! u32, band count u32, line u64, start u64, end u64, then the 32-bit band
//! keys and the token hashes u64, all little-endian. The band keys ride
//! along so that the grouping step can free its copy of them, as in a
//! scan.

use crate::Error;
use crate::id::DocId;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HEADER: usize = 40;

/// Where one fingerprinted paragraph was found, as the first pass saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) doc: DocId,
    /// Its index among its document's paragraphs.
    pub(crate) paragraph: u32,
    pub(crate) line: u64,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// A block's fingerprinted paragraphs as the first pass hands them over
/// to be spilled. Within a block, `Place::doc` is the record's number in
/// the block (plain text: 0) and, for plain text, `Place::paragraph` is
/// the block's paragraph number: the consumer makes both the scan's.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    /// Their token hashes, back to back.
    pub(crate) tokens: Vec<u64>,
    /// Where each one's tokens end in `tokens`.
    pub(crate) ends: Vec<usize>,
    pub(crate) places: Vec<Place>,
    /// Per record of the block (record formats): its name and URL.
    pub(crate) names: Vec<(Arc<str>, Option<Arc<str>>)>,
}

/// Records being written.
pub(super) struct SpillWriter {
    out: Out,
    /// The file's name, for errors.
    name: String,
}

enum Out {
    Memory(Vec<u8>),
    File {
        out: BufWriter<File>,
        /// Removed when dropped, where the open file could not be unlinked.
        path: Option<RemoveOnDrop>,
    },
}

impl SpillWriter {
    /// A writer into a scratch file in `dir`, or into memory.
    pub(super) fn new(dir: Option<&Path>) -> Result<SpillWriter, Error> {
        let Some(dir) = dir else {
            return Ok(SpillWriter {
                out: Out::Memory(Vec::new()),
                name: "the scan's scratch space in memory".into(),
            });
        };
        let path = dir.join(format!(".tmp-{}-spill", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| Error::io(&path.display().to_string(), e))?;
        // On Unix the open file outlives its name: nothing is left behind
        // whatever happens to the process.
        let path = if cfg!(unix) && std::fs::remove_file(&path).is_ok() {
            None
        } else {
            Some(RemoveOnDrop(path))
        };
        Ok(SpillWriter {
            out: Out::File {
                out: BufWriter::with_capacity(1 << 20, file),
                path,
            },
            name: format!("the scan's scratch file in {}", dir.display()),
        })
    }

    /// Appends one paragraph: its place, band keys and token hashes.
    ///
    /// # Errors
    ///
    /// Writing failed (a full disk): the error names the file.
    pub(super) fn push(
        &mut self,
        place: &Place,
        keys: impl ExactSizeIterator<Item = u32>,
        tokens: &[u64],
    ) -> Result<(), Error> {
        self.write(place, keys, tokens)
            .map_err(|e| Error::index(format!("writing {}: {e}", self.name)))
    }

    fn write(
        &mut self,
        place: &Place,
        keys: impl ExactSizeIterator<Item = u32>,
        tokens: &[u64],
    ) -> io::Result<()> {
        let mut header = [0u8; HEADER];
        let n = u32::try_from(tokens.len())
            .map_err(|_| io::Error::other("a paragraph of more than 2^32 tokens"))?;
        header[..4].copy_from_slice(&n.to_le_bytes());
        header[4..8].copy_from_slice(&place.doc.get().to_le_bytes());
        header[8..12].copy_from_slice(&place.paragraph.to_le_bytes());
        header[12..16].copy_from_slice(&(keys.len() as u32).to_le_bytes());
        header[16..24].copy_from_slice(&place.line.to_le_bytes());
        header[24..32].copy_from_slice(&place.start.to_le_bytes());
        header[32..40].copy_from_slice(&place.end.to_le_bytes());
        let out: &mut dyn Write = match &mut self.out {
            Out::Memory(v) => v,
            Out::File { out, .. } => out,
        };
        out.write_all(&header)?;
        for key in keys {
            out.write_all(&key.to_le_bytes())?;
        }
        // Written in pieces: a long paragraph's bytes are not copied whole.
        let mut buf = [0u8; 8 * 512];
        for piece in tokens.chunks(512) {
            for (b, t) in buf.chunks_exact_mut(8).zip(piece) {
                b.copy_from_slice(&t.to_le_bytes());
            }
            out.write_all(&buf[..piece.len() * 8])?;
        }
        Ok(())
    }

    /// The records, to be read back from the first.
    ///
    /// # Errors
    ///
    /// Writing the last records failed: the error names the file.
    pub(super) fn finish(self) -> Result<SpillReader, Error> {
        let name = self.name;
        let fail = |e: io::Error| Error::index(format!("writing {name}: {e}"));
        let (input, remove): (Box<dyn Read + Send>, _) = match self.out {
            Out::Memory(v) => (Box::new(io::Cursor::new(v)), None),
            Out::File { out, path } => {
                let mut file = out.into_inner().map_err(|e| fail(e.into_error()))?;
                file.rewind().map_err(fail)?;
                (Box::new(BufReader::with_capacity(1 << 20, file)), path)
            }
        };
        Ok(SpillReader {
            input,
            name,
            _remove: remove,
        })
    }
}

pub(super) struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Records read back in the order they were written.
pub(super) struct SpillReader {
    input: Box<dyn Read + Send>,
    name: String,
    _remove: Option<RemoveOnDrop>,
}

impl SpillReader {
    /// The next record: its place, and its band keys and token hashes in
    /// `keys` and `tokens`.
    ///
    /// # Errors
    ///
    /// Reading failed, or there is no next record.
    pub(super) fn next(
        &mut self,
        keys: &mut Vec<u32>,
        tokens: &mut Vec<u64>,
    ) -> Result<Place, Error> {
        self.read(keys, tokens)
            .map_err(|e| Error::index(format!("reading {} back: {e}", self.name)))
    }

    fn read(&mut self, keys: &mut Vec<u32>, tokens: &mut Vec<u64>) -> io::Result<Place> {
        let mut header = [0u8; HEADER];
        self.input.read_exact(&mut header)?;
        let u32_at = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().expect("8 bytes"));
        let n = u32_at(0) as usize;
        keys.clear();
        for _ in 0..u32_at(12) {
            let mut key = [0u8; 4];
            self.input.read_exact(&mut key)?;
            keys.push(u32::from_le_bytes(key));
        }
        tokens.clear();
        let mut buf = [0u8; 8 * 512];
        let mut left = n;
        while left > 0 {
            let take = left.min(512);
            self.input.read_exact(&mut buf[..take * 8])?;
            tokens.extend(
                buf[..take * 8]
                    .chunks_exact(8)
                    .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))),
            );
            left -= take;
        }
        Ok(Place {
            doc: DocId::new(u32_at(4)),
            paragraph: u32_at(8),
            line: u64_at(16),
            start: u64_at(24),
            end: u64_at(32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(mut w: SpillWriter) {
        let records: Vec<(Place, Vec<u64>)> = (0..200u32)
            .map(|i| {
                let place = Place {
                    doc: DocId::new(i / 3),
                    paragraph: i % 3,
                    line: u64::from(i) * 7 + 1,
                    start: u64::from(i) << 33,
                    end: u64::MAX - u64::from(i),
                };
                // Lengths across the 512-token pieces, and empty.
                let n = (i as usize * 37) % 1500;
                (
                    place,
                    (0..n as u64).map(|t| t ^ u64::from(i) << 40).collect(),
                )
            })
            .collect();
        let keys_of = |place: &Place| {
            let line = place.line as u32;
            (0..25).map(move |b| line ^ b)
        };
        for (place, tokens) in &records {
            w.push(place, keys_of(place), tokens).unwrap();
        }
        let mut r = w.finish().unwrap();
        let (mut keys, mut tokens) = (Vec::new(), Vec::new());
        for (place, expect) in &records {
            assert_eq!(r.next(&mut keys, &mut tokens).unwrap(), *place);
            assert!(keys.iter().copied().eq(keys_of(place)));
            assert_eq!(&tokens, expect);
        }
        assert!(
            r.next(&mut keys, &mut tokens).is_err(),
            "read past the last record"
        );
    }

    #[test]
    fn records_come_back_in_order_from_memory_and_from_a_file() {
        round_trip(SpillWriter::new(None).unwrap());
        let dir = std::env::temp_dir().join(format!("neardup-spill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        round_trip(SpillWriter::new(Some(&dir)).unwrap());
        // Nothing is left in the directory.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
