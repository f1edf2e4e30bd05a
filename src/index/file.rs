//! The container every index file uses: a header, named sections of
//! bytes, and a footer of checksums.
//!
//! Index files are written once and never changed, read by many threads
//! at once, and can be hundreds of megabytes, so the container is built
//! for that: a writer streams each section to disk while it checksums it
//! in 64 KiB chunks; a reader opens a file by reading its header and
//! footer only (fast whatever the size), then reads byte ranges with
//! positioned reads, checking each chunk it touches against its checksum
//! the first time (a damaged byte is an error naming the file and the
//! section, never a silently wrong finding). Nothing is memory-mapped and
//! nothing is held whole.
//!
//! Layout, every number little-endian:
//!
//! ```text
//! header   magic "NDXFILE\0" (8) | version u32 | kind [u8; 4] | 16 zero bytes
//! data     each section's bytes, starting at a multiple of 8 (zero padding)
//! footer   per section: tag [u8; 8] | offset u64 | length u64 |
//!                       XXH3-64 (seed 0) of each 64 KiB chunk, u64 each
//!          section count u64
//! trailer  footer length u64 | XXH3-64 of the footer u64 | "NDXEND\0\0" (8)
//! ```
//!
//! A file is written under a temporary name in its directory, synced and
//! renamed into place: a reader never sees half a file under a final
//! name. The footer's checksum covers every chunk's checksum, so it
//! identifies the whole content ([`FileInfo::checksum`]).

use crate::Error;
use crate::hash::xxh3;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The container's version. A reader refuses files of a later version.
pub const FILE_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"NDXFILE\0";
const END: &[u8; 8] = b"NDXEND\0\0";
const HEADER: u64 = 32;
const TRAILER: u64 = 24;
/// The checksummed unit of a section.
pub const CHUNK: u64 = 64 * 1024;

/// A finished file: its name in the index directory, its length and the
/// checksum of its footer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The file's name (no directory).
    pub name: String,
    /// Its length in bytes.
    pub len: u64,
    /// The XXH3-64 of its footer, which holds every chunk's checksum.
    pub checksum: u64,
}

#[derive(Clone, Debug)]
struct Entry {
    tag: [u8; 8],
    offset: u64,
    len: u64,
    sums: Vec<u64>,
}

/// Writes one index file under a temporary name; [`finish`](Self::finish)
/// syncs it and gives it its name. Dropped unfinished, it removes the
/// temporary file.
pub struct FileWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    name: String,
    pos: u64,
    entries: Vec<Entry>,
    done: bool,
    replace: bool,
}

impl FileWriter {
    /// A writer of `dir/name` of kind `kind`.
    ///
    /// # Errors
    ///
    /// The temporary file cannot be created.
    pub fn create(dir: &Path, name: &str, kind: [u8; 4]) -> io::Result<FileWriter> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}-{name}", std::process::id()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut header = [0u8; HEADER as usize];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&FILE_VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&kind);
        let written = out.write_all(&header);
        let writer = FileWriter {
            out,
            tmp,
            path: dir.join(name),
            name: name.to_owned(),
            pos: HEADER,
            entries: Vec::new(),
            done: false,
            replace: false,
        };
        written.map(|()| writer)
    }

    /// Lets [`finish`](Self::finish) replace a file of the same name (in
    /// one rename, so a reader sees the old file or the new one): for
    /// files a run writes again, such as a stage's, never for an index's
    /// segments.
    pub fn replacing(mut self) -> FileWriter {
        self.replace = true;
        self
    }

    /// The file's final name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts section `tag`; write its bytes, then
    /// [`SectionWriter::finish`].
    pub fn section(&mut self, tag: [u8; 8]) -> SectionWriter<'_> {
        SectionWriter {
            start: self.pos,
            file: self,
            tag,
            len: 0,
            sums: Vec::new(),
            chunk: Vec::with_capacity(CHUNK as usize),
        }
    }

    /// Writes the footer, syncs the file and renames it to its name.
    ///
    /// # Errors
    ///
    /// A write or sync failed, or a file of that name exists (names are
    /// unique by construction, so one would be a leftover no index
    /// names).
    pub fn finish(mut self) -> io::Result<FileInfo> {
        let mut footer = Vec::new();
        for e in &self.entries {
            footer.extend_from_slice(&e.tag);
            footer.extend_from_slice(&e.offset.to_le_bytes());
            footer.extend_from_slice(&e.len.to_le_bytes());
            for s in &e.sums {
                footer.extend_from_slice(&s.to_le_bytes());
            }
        }
        footer.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        let checksum = xxh3(&footer, 0);
        self.out.write_all(&footer)?;
        self.out.write_all(&(footer.len() as u64).to_le_bytes())?;
        self.out.write_all(&checksum.to_le_bytes())?;
        self.out.write_all(END)?;
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        let len = self.pos + footer.len() as u64 + TRAILER;
        if !self.replace && self.path.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists already", self.path.display()),
            ));
        }
        fs::rename(&self.tmp, &self.path)?;
        self.done = true;
        Ok(FileInfo {
            name: self.name.clone(),
            len,
            checksum,
        })
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Streams one section's bytes, checksumming each chunk.
pub struct SectionWriter<'a> {
    file: &'a mut FileWriter,
    tag: [u8; 8],
    start: u64,
    len: u64,
    sums: Vec<u64>,
    chunk: Vec<u8>,
}

impl SectionWriter<'_> {
    /// Ends the section (and pads the file to a multiple of 8).
    ///
    /// # Errors
    ///
    /// A write failed.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.chunk.is_empty() {
            self.sums.push(xxh3(&self.chunk, 0));
            self.file.out.write_all(&self.chunk)?;
        }
        let pad = (8 - self.len % 8) % 8;
        self.file.out.write_all(&[0u8; 8][..pad as usize])?;
        self.file.pos = self.start + self.len + pad;
        self.file.entries.push(Entry {
            tag: self.tag,
            offset: self.start,
            len: self.len,
            sums: std::mem::take(&mut self.sums),
        });
        Ok(())
    }
}

impl Write for SectionWriter<'_> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            let take = (CHUNK as usize - self.chunk.len()).min(buf.len());
            self.chunk.extend_from_slice(&buf[..take]);
            if self.chunk.len() == CHUNK as usize {
                self.sums.push(xxh3(&self.chunk, 0));
                self.file.out.write_all(&self.chunk)?;
                self.chunk.clear();
            }
            buf = &buf[take..];
        }
        self.len += n as u64;
        // The partial chunk is written with the next full one or at the
        // end; it is at most 64 KiB.
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An index file opened for reading.
#[derive(Debug)]
pub struct IndexFile {
    path: PathBuf,
    file: File,
    kind: [u8; 4],
    len: u64,
    checksum: u64,
    entries: Vec<Entry>,
    /// Per section, one bit per chunk: checked already.
    verified: Vec<Vec<AtomicU64>>,
}

const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<IndexFile>();
};

impl IndexFile {
    /// Opens `path`, which must be of kind `kind`, reading its header and
    /// footer only.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not an index file of this kind, is of
    /// a later version, is truncated or its footer is damaged.
    pub fn open(path: &Path, kind: [u8; 4]) -> Result<IndexFile, Error> {
        let shown = path.display().to_string();
        let bad = |what: &str| Error::index(format!("{shown}: {what}"));
        let file = File::open(path).map_err(|e| Error::index(format!("{shown}: {e}")))?;
        let len = file
            .metadata()
            .map_err(|e| Error::index(format!("{shown}: {e}")))?
            .len();
        let read = |at: u64, n: u64| -> Result<Vec<u8>, Error> {
            let mut buf = vec![0u8; n as usize];
            read_at(&file, &mut buf, at).map_err(|e| Error::index(format!("{shown}: {e}")))?;
            Ok(buf)
        };
        if len < HEADER + TRAILER + 8 {
            return Err(bad("not an index file, or truncated (too short)"));
        }
        let header = read(0, HEADER)?;
        if &header[..8] != MAGIC {
            return Err(bad("not a neardup index file"));
        }
        let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if version > FILE_VERSION {
            return Err(bad(&format!(
                "unsupported format version {version} (this neardup reads up to {FILE_VERSION}): \
                 written by a newer neardup"
            )));
        }
        if version == 0 {
            return Err(bad("format version 0 is no version: the file is damaged"));
        }
        if header[12..16] != kind {
            return Err(bad(&format!(
                "a file of kind {:?} where one of kind {:?} belongs",
                String::from_utf8_lossy(&header[12..16]),
                String::from_utf8_lossy(&kind)
            )));
        }
        let trailer = read(len - TRAILER, TRAILER)?;
        if &trailer[16..] != END {
            return Err(bad("truncated (no end mark)"));
        }
        let footer_len = u64::from_le_bytes(trailer[..8].try_into().expect("8 bytes"));
        let checksum = u64::from_le_bytes(trailer[8..16].try_into().expect("8 bytes"));
        if footer_len < 8 || footer_len > len - HEADER - TRAILER {
            return Err(bad("damaged (footer length out of range)"));
        }
        let footer_at = len - TRAILER - footer_len;
        let footer = read(footer_at, footer_len)?;
        if xxh3(&footer, 0) != checksum {
            return Err(bad("damaged (footer checksum mismatch)"));
        }
        let entries = parse_footer(&footer, footer_at).map_err(|what| bad(&what))?;
        let verified = entries
            .iter()
            .map(|e| {
                (0..e.sums.len().div_ceil(64))
                    .map(|_| AtomicU64::new(0))
                    .collect()
            })
            .collect();
        Ok(IndexFile {
            path: path.to_owned(),
            file,
            kind,
            len,
            checksum,
            entries,
            verified,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its kind.
    pub fn kind(&self) -> [u8; 4] {
        self.kind
    }

    /// Its length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty (never, for a file that opened).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The checksum of its footer ([`FileInfo::checksum`]).
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Section `tag`.
    ///
    /// # Errors
    ///
    /// The file has no such section.
    pub fn section(&self, tag: [u8; 8]) -> Result<Section<'_>, Error> {
        match self.entries.iter().position(|e| e.tag == tag) {
            Some(index) => Ok(Section { file: self, index }),
            None => Err(Error::index(format!(
                "{}: no section {} (the file is damaged or of another kind)",
                self.path.display(),
                tag_name(&tag)
            ))),
        }
    }

    /// Its sections' tags, in file order.
    #[cfg(test)]
    pub(crate) fn tags(&self) -> Vec<[u8; 8]> {
        self.entries.iter().map(|e| e.tag).collect()
    }

    /// Checks every chunk of every section.
    ///
    /// # Errors
    ///
    /// The first damaged chunk, named.
    pub fn verify_all(&self) -> Result<(), Error> {
        for index in 0..self.entries.len() {
            let s = Section { file: self, index };
            let mut at = 0;
            while at < s.len() {
                let end = (at + 16 * CHUNK).min(s.len());
                s.read_range(at..end)?;
                at = end;
            }
        }
        Ok(())
    }
}

fn tag_name(tag: &[u8; 8]) -> String {
    String::from_utf8_lossy(tag)
        .trim_end_matches('\0')
        .to_owned()
}

fn parse_footer(footer: &[u8], data_end: u64) -> Result<Vec<Entry>, String> {
    let count = u64::from_le_bytes(footer[footer.len() - 8..].try_into().expect("8 bytes"));
    let mut entries = Vec::new();
    let mut at = 0usize;
    let body = &footer[..footer.len() - 8];
    let mut next_free = HEADER;
    for _ in 0..count {
        let fixed = body.get(at..at + 24).ok_or("damaged (footer cut short)")?;
        let tag: [u8; 8] = fixed[..8].try_into().expect("8 bytes");
        let offset = u64::from_le_bytes(fixed[8..16].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(fixed[16..24].try_into().expect("8 bytes"));
        at += 24;
        if offset < next_free
            || offset % 8 != 0
            || offset.checked_add(len).is_none_or(|e| e > data_end)
        {
            return Err(format!(
                "damaged (section {} out of bounds or overlapping)",
                tag_name(&tag)
            ));
        }
        next_free = offset + len;
        let n = len.div_ceil(CHUNK) as usize;
        let sums_bytes = body
            .get(at..at + n * 8)
            .ok_or("damaged (footer cut short)")?;
        let sums = sums_bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        at += n * 8;
        if entries.iter().any(|e: &Entry| e.tag == tag) {
            return Err(format!("damaged (section {} twice)", tag_name(&tag)));
        }
        entries.push(Entry {
            tag,
            offset,
            len,
            sums,
        });
    }
    if at != body.len() {
        return Err("damaged (footer longer than its sections)".to_owned());
    }
    Ok(entries)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, at)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, at)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// One section of an [`IndexFile`].
#[derive(Clone, Copy)]
pub struct Section<'a> {
    file: &'a IndexFile,
    index: usize,
}

impl Section<'_> {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.file.entries[self.index].len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of `range`, every chunk they touch checked against its
    /// checksum the first time it is read.
    ///
    /// # Errors
    ///
    /// The range is outside the section, a read failed, or a chunk is
    /// damaged (the error names the file, section and bytes).
    pub fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::new();
        self.read_range_into(range, &mut buf)?;
        Ok(buf)
    }

    /// [`read_range`](Self::read_range) into `buf`, which is cleared
    /// first: a caller reading many ranges keeps one buffer, rather than
    /// having each read fault in fresh pages.
    ///
    /// # Errors
    ///
    /// As [`read_range`](Self::read_range).
    pub fn read_range_into(&self, range: Range<u64>, buf: &mut Vec<u8>) -> Result<(), Error> {
        buf.clear();
        let e = &self.file.entries[self.index];
        let shown = || self.file.path.display().to_string();
        if range.start > range.end || range.end > e.len {
            return Err(Error::index(format!(
                "{}: a read of bytes {}..{} of section {} ({} bytes): the file is damaged",
                shown(),
                range.start,
                range.end,
                tag_name(&e.tag),
                e.len
            )));
        }
        if range.is_empty() {
            return Ok(());
        }
        let io = |err: io::Error| Error::index(format!("{}: {err}", shown()));
        let (first, last) = (range.start / CHUNK, (range.end - 1) / CHUNK);
        let bits = &self.file.verified[self.index];
        let checked = |c: u64| bits[(c / 64) as usize].load(Ordering::Relaxed) >> (c % 64) & 1 == 1;
        if (first..=last).all(checked) {
            zeroed(buf, (range.end - range.start) as usize);
            read_at(&self.file.file, buf, e.offset + range.start).map_err(io)?;
            return Ok(());
        }
        let from = first * CHUNK;
        let to = ((last + 1) * CHUNK).min(e.len);
        zeroed(buf, (to - from) as usize);
        read_at(&self.file.file, buf, e.offset + from).map_err(io)?;
        for c in first..=last {
            if checked(c) {
                continue;
            }
            let a = ((c - first) * CHUNK) as usize;
            let b = (a + CHUNK as usize).min(buf.len());
            if xxh3(&buf[a..b], 0) != e.sums[c as usize] {
                return Err(Error::index(format!(
                    "{}: checksum mismatch in section {} at bytes {}..{}: the file is damaged",
                    shown(),
                    tag_name(&e.tag),
                    c * CHUNK,
                    c * CHUNK + (b - a) as u64
                )));
            }
            bits[(c / 64) as usize].fetch_or(1 << (c % 64), Ordering::Relaxed);
        }
        let skip = (range.start - from) as usize;
        buf.truncate(skip + (range.end - range.start) as usize);
        buf.drain(..skip);
        Ok(())
    }
}

/// Makes `buf` (empty) `n` zero bytes, written over in place. Not a
/// zeroed allocation (`vec![0; n]`): jemalloc zeroes a reused block of
/// 64 KiB or more by handing its pages back to the kernel (`madvise`),
/// so every such read faulted them in again and shot down the other
/// core's TLB entries (that zeroing alone was 7% of the samples of a
/// batch scanned against a 4 GB index). A memset writes over pages
/// already mapped.
fn zeroed(buf: &mut Vec<u8>, n: usize) {
    if buf.capacity() < n {
        // A new block, not a grown one: growing would copy the old bytes.
        *buf = Vec::with_capacity(n);
    }
    buf.resize(n, 0);
}

/// Syncs directory `path`, so that the names created or renamed in it are
/// on disk (a no-op where directories cannot be opened).
///
/// # Errors
///
/// The sync failed.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(path)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("neardup-file-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn sample(d: &Path, name: &str, big: usize) -> FileInfo {
        let mut w = FileWriter::create(d, name, *b"TEST").unwrap();
        let mut s = w.section(*b"ONE\0\0\0\0\0");
        s.write_all(b"hello").unwrap();
        s.finish().unwrap();
        let mut s = w.section(*b"BIG\0\0\0\0\0");
        let data: Vec<u8> = (0..big).map(|i| (i * 7 % 251) as u8).collect();
        for piece in data.chunks(1000) {
            s.write_all(piece).unwrap();
        }
        s.finish().unwrap();
        w.finish().unwrap()
    }

    /// The known answer of docs/index-format.md: a file with one section
    /// holding "hello".
    #[test]
    fn known_answer() {
        let d = dir("kat");
        let mut w = FileWriter::create(&d, "kat", *b"TEST").unwrap();
        let mut s = w.section(*b"ONE\0\0\0\0\0");
        s.write_all(b"hello").unwrap();
        s.finish().unwrap();
        let info = w.finish().unwrap();
        let bytes = fs::read(d.join("kat")).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            concat!(
                "4e445846494c45000100000054455354", // magic, version 1, kind TEST
                "00000000000000000000000000000000", // reserved
                "68656c6c6f000000",                 // "hello", padded to 8
                "4f4e450000000000",                 // tag ONE
                "2000000000000000",                 // offset 32
                "0500000000000000",                 // length 5
                "fddc625c55e85595",                 // XXH3-64 of "hello"
                "0100000000000000",                 // one section
                "2800000000000000",                 // footer length 40
                "3f1b3f919bbb691a",                 // XXH3-64 of the footer
                "4e4458454e440000",                 // end mark
            )
        );
        assert_eq!(info.len, bytes.len() as u64);
        // Both checksums as the Python `xxhash` package computes them.
        assert_eq!(xxh3(b"hello", 0), 0x9555_e855_5c62_dcfd);
        let f = IndexFile::open(&d.join("kat"), *b"TEST").unwrap();
        assert_eq!(f.checksum(), info.checksum);
        assert_eq!(
            f.section(*b"ONE\0\0\0\0\0")
                .unwrap()
                .read_range(0..5)
                .unwrap(),
            b"hello"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn ranges_read_back_across_chunks() {
        let d = dir("ranges");
        let big = 3 * CHUNK as usize + 123;
        sample(&d, "f", big);
        let f = IndexFile::open(&d.join("f"), *b"TEST").unwrap();
        let s = f.section(*b"BIG\0\0\0\0\0").unwrap();
        assert_eq!(s.len(), big as u64);
        let data: Vec<u8> = (0..big).map(|i| (i * 7 % 251) as u8).collect();
        for (a, b) in [
            (0, 10),
            (CHUNK - 3, CHUNK + 5),
            (0, big as u64),
            (big as u64 - 1, big as u64),
        ] {
            assert_eq!(s.read_range(a..b).unwrap(), &data[a as usize..b as usize]);
        }
        assert!(s.read_range(0..big as u64 + 1).is_err());
        f.verify_all().unwrap();
        assert!(f.section(*b"NONE\0\0\0\0").is_err());
        assert!(IndexFile::open(&d.join("f"), *b"OTHR").is_err());
        fs::remove_dir_all(&d).unwrap();
    }

    /// Every flipped byte and every truncation is an error, never a panic
    /// and never wrong data.
    #[test]
    fn damage_is_always_found() {
        let d = dir("damage");
        sample(&d, "f", 300);
        let good = fs::read(d.join("f")).unwrap();
        let check = |bytes: &[u8]| -> bool {
            fs::write(d.join("g"), bytes).unwrap();
            match IndexFile::open(&d.join("g"), *b"TEST") {
                Err(_) => true,
                Ok(f) => f.verify_all().is_err(),
            }
        };
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            // The reserved header bytes and the padding after each section
            // ("hello" at 32..37, 300 bytes at 40..340) are not read.
            let unread = (16..32).contains(&i) || (37..40).contains(&i) || (340..344).contains(&i);
            assert!(check(&bad) || unread, "flipped byte {i} went unnoticed");
        }
        for n in 0..good.len() {
            assert!(check(&good[..n]), "truncated to {n} bytes went unnoticed");
        }
        let mut newer = good.clone();
        newer[8] = 2;
        fs::write(d.join("g"), &newer).unwrap();
        let err = IndexFile::open(&d.join("g"), *b"TEST").unwrap_err();
        assert!(
            err.to_string().contains("unsupported format version 2"),
            "{err}"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_unfinished_writer_leaves_nothing() {
        let d = dir("unfinished");
        {
            let mut w = FileWriter::create(&d, "x", *b"TEST").unwrap();
            let mut s = w.section(*b"A\0\0\0\0\0\0\0");
            s.write_all(b"data").unwrap();
        }
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
        sample(&d, "x", 10);
        let again = FileWriter::create(&d, "x", *b"TEST").unwrap();
        assert!(again.finish().is_err(), "an existing file is not replaced");
        fs::remove_dir_all(&d).unwrap();
    }
}
