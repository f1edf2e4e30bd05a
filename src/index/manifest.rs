//! Manifests: one file per generation of an index, naming its settings,
//! its batches and its segment files.
//!
//! A generation is what one commit made; the newest complete manifest is
//! the index. A manifest is an index file (`super::file`) of kind `MANI`
//! with four sections, every number little-endian:
//!
//! ```text
//! GEN       generation u64 | parent u64 (u64::MAX: none)
//! SETTINGS  the settings block (super::settings), as text
//! BATCHES   count u64, then per batch:
//!             name (u32 length + UTF-8) | created i64 (Unix seconds) |
//!             input digest u64 | paragraphs u64
//! SEGMENTS  count u64, then per segment file:
//!             name (u32 length + UTF-8) | length u64 | footer checksum u64
//! ```
//!
//! Batches and segments are separate lists: the rows of the segments, in
//! order, are the batches' paragraphs, in order (batch `i` holds the
//! `paragraphs` rows after those of the batches before it). A batch's
//! paragraphs may span segments and a segment may hold several batches
//! (after `compact`), so a row's batch comes from the counts, not from the
//! file it is in.

use super::file::{FileInfo, FileWriter, IndexFile};
use crate::Error;
use std::io::Write;
use std::path::Path;

/// The file kind of a manifest.
pub const KIND: [u8; 4] = *b"MANI";

const GEN: [u8; 8] = *b"GEN\0\0\0\0\0";
const SETTINGS: [u8; 8] = *b"SETTINGS";
const BATCHES: [u8; 8] = *b"BATCHES\0";
const SEGMENTS: [u8; 8] = *b"SEGMENTS";

/// One batch of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Its name, unique in the index.
    pub name: String,
    /// When it was added, in seconds since the Unix epoch.
    pub created: i64,
    /// A hash of its inputs' bytes, to recognise the same batch again.
    pub digest: u64,
    /// Its kept paragraphs.
    pub paragraphs: u64,
}

/// One generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Its number: the first is 0, each commit adds 1.
    pub generation: u64,
    /// The generation it was made from, if any.
    pub parent: Option<u64>,
    /// The settings block.
    pub settings: Vec<u8>,
    /// The batches, oldest first.
    pub batches: Vec<Batch>,
    /// The segment files, whose rows in order are the batches'
    /// paragraphs in order.
    pub segments: Vec<FileInfo>,
}

/// The file name of generation `g`.
pub fn file_name(g: u64) -> String {
    format!("gen-{g:020}.ndm")
}

/// The generation a manifest's file name names.
pub fn generation_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("gen-")?.strip_suffix(".ndm")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

impl Manifest {
    /// Writes the manifest into `dir` (under a temporary name, synced,
    /// renamed), returning its file.
    ///
    /// # Errors
    ///
    /// Writing failed.
    pub fn write(&self, dir: &Path) -> std::io::Result<FileInfo> {
        let mut w = FileWriter::create(dir, &file_name(self.generation), KIND)?;
        let mut s = w.section(GEN);
        s.write_all(&self.generation.to_le_bytes())?;
        s.write_all(&self.parent.unwrap_or(u64::MAX).to_le_bytes())?;
        s.finish()?;
        let mut s = w.section(SETTINGS);
        s.write_all(&self.settings)?;
        s.finish()?;
        let mut b = Vec::new();
        b.extend_from_slice(&(self.batches.len() as u64).to_le_bytes());
        let string = |b: &mut Vec<u8>, s: &str| {
            b.extend_from_slice(&(s.len() as u32).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        };
        for batch in &self.batches {
            string(&mut b, &batch.name);
            b.extend_from_slice(&batch.created.to_le_bytes());
            b.extend_from_slice(&batch.digest.to_le_bytes());
            b.extend_from_slice(&batch.paragraphs.to_le_bytes());
        }
        let mut s = w.section(BATCHES);
        s.write_all(&b)?;
        s.finish()?;
        b.clear();
        b.extend_from_slice(&(self.segments.len() as u64).to_le_bytes());
        for f in &self.segments {
            string(&mut b, &f.name);
            b.extend_from_slice(&f.len.to_le_bytes());
            b.extend_from_slice(&f.checksum.to_le_bytes());
        }
        let mut s = w.section(SEGMENTS);
        s.write_all(&b)?;
        s.finish()?;
        w.finish()
    }

    /// Reads the manifest in `file`.
    ///
    /// # Errors
    ///
    /// A section is missing or damaged, or does not decode completely.
    pub fn read(file: &IndexFile) -> Result<Manifest, Error> {
        let bad = |what: &str| Error::index(format!("{}: damaged: {what}", file.path().display()));
        let all = |tag| -> Result<Vec<u8>, Error> {
            let s = file.section(tag)?;
            s.read_range(0..s.len())
        };
        let g = all(GEN)?;
        if g.len() != 16 {
            return Err(bad("generation section"));
        }
        let generation = u64::from_le_bytes(g[..8].try_into().expect("8 bytes"));
        let parent = match u64::from_le_bytes(g[8..].try_into().expect("8 bytes")) {
            u64::MAX => None,
            p => Some(p),
        };
        let settings = all(SETTINGS)?;
        let b = all(BATCHES)?;
        let mut r = Reader { bytes: &b, at: 0 };
        let mut decode = || -> Option<Vec<Batch>> {
            let count = r.u64()?;
            // Each batch takes at least 28 bytes: a bad count cannot
            // allocate more than the section could hold.
            let mut batches = Vec::with_capacity(count.min(b.len() as u64 / 28) as usize);
            for _ in 0..count {
                batches.push(Batch {
                    name: r.string()?,
                    created: r.u64()? as i64,
                    digest: r.u64()?,
                    paragraphs: r.u64()?,
                });
            }
            (r.at == b.len()).then_some(batches)
        };
        let batches = decode().ok_or_else(|| bad("batch list"))?;
        let f = all(SEGMENTS)?;
        let mut r = Reader { bytes: &f, at: 0 };
        let mut decode = || -> Option<Vec<FileInfo>> {
            let count = r.u64()?;
            let mut files = Vec::with_capacity(count.min(f.len() as u64 / 20) as usize);
            for _ in 0..count {
                let name = r.string()?;
                // A segment is a file of the index directory, nothing else.
                if name.contains(['/', '\\']) || name.starts_with('.') {
                    return None;
                }
                files.push(FileInfo {
                    name,
                    len: r.u64()?,
                    checksum: r.u64()?,
                });
            }
            (r.at == f.len()).then_some(files)
        };
        let segments = decode().ok_or_else(|| bad("segment list"))?;
        Ok(Manifest {
            generation,
            parent,
            settings,
            batches,
            segments,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_read_back_and_names_parse() {
        let d = std::env::temp_dir().join(format!("neardup-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let m = Manifest {
            generation: 7,
            parent: Some(6),
            settings: b"neardup-index-settings 1\nbands=25\n".to_vec(),
            batches: vec![Batch {
                name: "2026-12-03".into(),
                created: 1_796_256_000,
                digest: 42,
                paragraphs: 3,
            }],
            segments: vec![FileInfo {
                name: "seg-x.ndx".into(),
                len: 100,
                checksum: 9,
            }],
        };
        let info = m.write(&d).unwrap();
        assert_eq!(info.name, "gen-00000000000000000007.ndm");
        assert_eq!(generation_of(&info.name), Some(7));
        assert_eq!(generation_of("gen-7.ndm"), None);
        let f = IndexFile::open(&d.join(&info.name), KIND).unwrap();
        assert_eq!(Manifest::read(&f).unwrap(), m);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
