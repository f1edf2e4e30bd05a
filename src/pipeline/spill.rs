//! What the first pass keeps of every fingerprinted paragraph when a scan
//! stores its kept paragraphs in an index: its token hashes and location,
//! written in slot order to a scratch file and read back once, in the same
//! order, by the second pass (the thread storing kept paragraphs reads it
//! record by record, or the pass reads it block by block, when it
//! verifies its candidates with these tokens, and hands the blocks on).
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
//! unlinked as soon as it is open, so it never outlives the process.
//! Reading it back frees what was read, as the reading goes on
//! (`Consumed`). A sink without a directory gets the same records in
//! memory.
//!
//! The records come in blocks, one per block of the first pass, each
//! with a dictionary of the block's distinct token hashes: a record holds
//! each token's number in that dictionary (16 bits when the block has at
//! most 65,536 distinct tokens, else 32) instead of its 64-bit hash. A
//! 1 MB block of generated news has about 16% as many distinct tokens as
//! tokens (the prose corpus 8%), and for 1 GB of news the file is 0.93 GB
//! where the hashes took 1.66 GB; it is the first pass's workers, not the
//! one thread writing the file, that code it ([`Stored::seal`]). Their
//! lookups, one per token, are about 1.8 CPU-seconds of a 1 GB `index
//! create`; neither a direct-mapped table of the 1,024 last tokens in
//! front of the map (`index create` of 100 MB: 1.32 against 1.30 s
//! median, 12 interleaved runs) nor a map of 4-byte slots
//! ([`crate::index::tokens`] has the numbers) made them faster, nor (on
//! 2026-12-07) a table of 8-byte slots holding only the hash, a token's
//! number its slot (with or without the slots of tokens ahead
//! prefetched), nor keeping each thread's map and numbers from block
//! to block (`docs/benchmarks.md`). All numbers are little-endian.
//!
//! A block: record count u32, dictionary length u32 (which sets the width
//! of the numbers, [`width_for`]), first document u32, paragraph shift
//! u32, the records' length in bytes u64; the dictionary (u64 each); the
//! records (read back whole, then parsed in memory). A record in the body: token count
//! u32, document u32 (in the block: the first document is added),
//! paragraph u32 (the shift is added), band count u32, line u64, start
//! u64, end u64, then the 32-bit band keys and the token numbers. The band
//! keys ride along so that the grouping step can free its copy of them, as
//! in a scan.

use crate::Error;
use crate::id::DocId;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HEADER: usize = 40;
const BLOCK_HEADER: usize = 24;

/// The bytes of a token number in a block of `distinct` distinct tokens.
fn width_for(distinct: usize) -> usize {
    if distinct <= 1 << 16 { 2 } else { 4 }
}

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
    /// After [`seal`](Self::seal): the records, coded.
    sealed: Option<Sealed>,
}

/// A block's records coded for the scratch file: the body of the block
/// and its dictionary.
#[derive(Debug)]
struct Sealed {
    /// A paragraph of more than 2^32 tokens, or a block of more than 2^32
    /// distinct ones, cannot be written.
    too_long: bool,
    records: u32,
    dict: Vec<u64>,
    body: Vec<u8>,
}

impl Stored {
    /// Codes the paragraphs for the scratch file with their band keys
    /// (`keys`, band-major, one entry per paragraph), numbering the tokens
    /// in a dictionary of the block's own, and frees the token hashes.
    ///
    /// # Panics
    ///
    /// A band of `keys` holds fewer entries than there are paragraphs.
    pub(crate) fn seal(&mut self, keys: &[Vec<u32>]) {
        let mut numbers: ahash::AHashMap<u64, u32> =
            ahash::AHashMap::with_capacity(self.tokens.len() / 4 + 16);
        let mut dict = Vec::new();
        let coded: Vec<u32> = self
            .tokens
            .iter()
            .map(|&t| {
                *numbers.entry(t).or_insert_with(|| {
                    dict.push(t);
                    dict.len() as u32 - 1
                })
            })
            .collect();
        let mut too_long = u32::try_from(dict.len()).is_err();
        let width = width_for(dict.len());
        let mut body =
            Vec::with_capacity(self.places.len() * (HEADER + 4 * keys.len()) + coded.len() * width);
        let mut from = 0;
        for (i, (place, &end)) in self.places.iter().zip(&self.ends).enumerate() {
            let n = u32::try_from(end - from).unwrap_or_else(|_| {
                too_long = true;
                0
            });
            body.extend_from_slice(&n.to_le_bytes());
            body.extend_from_slice(&place.doc.get().to_le_bytes());
            body.extend_from_slice(&place.paragraph.to_le_bytes());
            body.extend_from_slice(&(keys.len() as u32).to_le_bytes());
            body.extend_from_slice(&place.line.to_le_bytes());
            body.extend_from_slice(&place.start.to_le_bytes());
            body.extend_from_slice(&place.end.to_le_bytes());
            for band in keys {
                body.extend_from_slice(&band[i].to_le_bytes());
            }
            let numbers = &coded[from..end];
            if width == 2 {
                body.extend(numbers.iter().flat_map(|&c| (c as u16).to_le_bytes()));
            } else {
                body.extend(numbers.iter().flat_map(|&c| c.to_le_bytes()));
            }
            from = end;
        }
        self.sealed = Some(Sealed {
            too_long,
            records: self.places.len() as u32,
            dict,
            body,
        });
        self.tokens = Vec::new();
        self.ends = Vec::new();
        self.places = Vec::new();
    }
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
        let (file, path) = scratch_file(dir, "spill").map_err(|e| {
            let name = format!("a scratch file in {}", dir.display());
            Error::io(&name, e)
        })?;
        Ok(SpillWriter {
            out: Out::File {
                out: BufWriter::with_capacity(1 << 20, file),
                path,
            },
            name: format!("the scan's scratch file in {}", dir.display()),
        })
    }

    /// Appends a block's paragraphs, [sealed](Stored::seal), the first
    /// of its documents being the scan's `first_doc` and `paragraph_shift`
    /// added to each paragraph's number (plain text numbers a block's
    /// paragraphs from the block's start, the scan from the document's).
    ///
    /// # Errors
    ///
    /// Writing failed (a full disk): the error names the file.
    ///
    /// # Panics
    ///
    /// The block was not sealed.
    pub(super) fn push_block(
        &mut self,
        stored: &Stored,
        first_doc: DocId,
        paragraph_shift: u32,
    ) -> Result<(), Error> {
        let sealed = stored
            .sealed
            .as_ref()
            .expect("a block is sealed before it is spilled");
        self.write(sealed, first_doc, paragraph_shift)
            .map_err(|e| Error::index(format!("writing {}: {e}", self.name)))
    }

    fn write(&mut self, sealed: &Sealed, first_doc: DocId, shift: u32) -> io::Result<()> {
        if sealed.too_long {
            return Err(io::Error::other(
                "a paragraph of more than 2^32 tokens (or a block of more than 2^32 distinct ones)",
            ));
        }
        let mut header = [0u8; BLOCK_HEADER];
        let dict_len = sealed.dict.len() as u32;
        header[..4].copy_from_slice(&sealed.records.to_le_bytes());
        header[4..8].copy_from_slice(&dict_len.to_le_bytes());
        header[8..12].copy_from_slice(&first_doc.get().to_le_bytes());
        header[12..16].copy_from_slice(&shift.to_le_bytes());
        header[16..24].copy_from_slice(&(sealed.body.len() as u64).to_le_bytes());
        let out: &mut dyn Write = match &mut self.out {
            Out::Memory(v) => v,
            Out::File { out, .. } => out,
        };
        out.write_all(&header)?;
        let mut buf = [0u8; 8 * 512];
        for piece in sealed.dict.chunks(512) {
            for (b, t) in buf.chunks_exact_mut(8).zip(piece) {
                b.copy_from_slice(&t.to_le_bytes());
            }
            out.write_all(&buf[..piece.len() * 8])?;
        }
        out.write_all(&sealed.body)
    }

    /// The records, to be read back from the first.
    ///
    /// # Errors
    ///
    /// Writing the last records failed: the error names the file.
    pub(super) fn finish(self) -> Result<SpillReader, Error> {
        let name = self.name;
        let fail = |e: io::Error| Error::index(format!("writing {name}: {e}"));
        let (input, remove, len): (Box<dyn Read + Send>, _, _) = match self.out {
            Out::Memory(v) => {
                let len = v.len() as u64;
                (Box::new(io::Cursor::new(v)), None, len)
            }
            Out::File { out, path } => {
                let mut file = out.into_inner().map_err(|e| fail(e.into_error()))?;
                let len = file.stream_position().map_err(fail)?;
                file.rewind().map_err(fail)?;
                (Box::new(Consumed::new(file)), path, len)
            }
        };
        Ok(SpillReader {
            input,
            name,
            _remove: remove,
            blocks: 0,
            len,
        })
    }
}

/// A new scratch file `.tmp-PID-N-NAME` in `dir` (`N` numbers them
/// within the process: two scans may share a directory), open to read and
/// write. On Unix the open file outlives its name, which is removed at
/// once: nothing is left behind whatever happens to the process.
/// Elsewhere the name goes with the [`RemoveOnDrop`].
pub(super) fn scratch_file(dir: &Path, name: &str) -> io::Result<(File, Option<RemoveOnDrop>)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let (file, path) = loop {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!(".tmp-{}-{n}-{name}", std::process::id()));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => break (file, path),
            // A leftover of an earlier process with this number (where a
            // name outlives its process): the next number.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1 << 20 => {}
            Err(e) => return Err(e),
        }
    };
    let path = if cfg!(unix) && std::fs::remove_file(&path).is_ok() {
        None
    } else {
        Some(RemoveOnDrop(path))
    };
    Ok((file, path))
}

/// The scratch file read back from its start, its pages given back to
/// the system behind the reader, 16 MiB at a time (Linux: a hole punched
/// in the file).
///
/// Why: the file is read once, in order, and most of it is still in the
/// page cache when the second pass reads it, while the segments the
/// second pass writes take page cache of their own. Pages freed as the
/// scratch file is read are the next ones the system hands out, so the
/// segments' writes reuse them instead of taking fresh memory. On a VM
/// that hands freed memory back to its host, fresh memory costs a host
/// fault per page: there a 1 GB `index create` went from 9.04 to 8.28 s
/// (`docs/benchmarks.md`, The machine). Where the file system cannot
/// punch holes, nothing is freed before the end.
struct Consumed {
    file: BufReader<File>,
    /// Bytes handed to the reader so far ...
    read: u64,
    /// ... and the first of them not yet given back.
    kept_from: u64,
}

impl Consumed {
    /// How much is read before it is given back (in the tests, a little
    /// more than [`ALIGN`](Self::ALIGN), so that small files are given
    /// back piecemeal too).
    const STEP: u64 = if cfg!(test) {
        Self::ALIGN + 100
    } else {
        16 << 20
    };
    /// What is given back starts and ends at a multiple of this: a page
    /// only partly in the range punched is zeroed but keeps its memory,
    /// and 64 KiB is a multiple of every page size.
    const ALIGN: u64 = 1 << 16;

    fn new(file: File) -> Consumed {
        Consumed {
            file: BufReader::with_capacity(1 << 20, file),
            read: 0,
            kept_from: 0,
        }
    }
}

impl Read for Consumed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if self.read - self.kept_from >= Self::STEP {
            // Only bytes already copied out (the reader's buffer may hold
            // more of the file, not yet handed over), in whole pages.
            let end = self.read / Self::ALIGN * Self::ALIGN;
            punch_hole(self.file.get_ref(), self.kept_from, end - self.kept_from);
            self.kept_from = end;
        }
        Ok(n)
    }
}

/// Frees bytes `offset..offset + len` of `file` (reading them gives
/// zeros after), where the system can; else does nothing.
#[cfg(target_os = "linux")]
fn punch_hole(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return;
    };
    // SAFETY: fallocate takes a file descriptor, open for as long as
    // `file` is borrowed, and plain integers; it touches no memory of
    // ours. A file system without hole punching returns an error, which
    // only means the pages stay until the file is closed.
    unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset,
            len,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(_: &File, _: u64, _: u64) {}

/// Removes a file when dropped.
pub(super) struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Records read back in the order they were written, a block at a time
/// ([`next_block`](Self::next_block); [`Records`] reads them one by one).
pub(super) struct SpillReader {
    input: Box<dyn Read + Send>,
    name: String,
    _remove: Option<RemoveOnDrop>,
    /// The blocks read so far.
    blocks: u64,
    /// The bytes written.
    len: u64,
}

/// A block read back whole: its records are read one after another with
/// [`record`](Self::record).
#[derive(Debug, Default)]
pub(super) struct SpilledBlock {
    /// Its number in the file, from 1.
    serial: u64,
    records: u32,
    dict: Vec<u64>,
    width: usize,
    first_doc: u32,
    shift: u32,
    body: Vec<u8>,
}

/// One record of a [`SpilledBlock`], as it was written.
pub(super) struct Record<'b> {
    pub(super) place: Place,
    keys: &'b [u8],
    numbers: &'b [u8],
    width: usize,
    dict: &'b [u64],
}

impl SpillReader {
    /// The bytes written to it: what reading it all back reads.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Its name, for errors.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// The next block, or `None` after the last.
    ///
    /// # Errors
    ///
    /// Reading failed, or the file ends inside a block.
    pub(super) fn next_block(&mut self) -> Result<Option<SpilledBlock>, Error> {
        self.read_block()
            .map_err(|e| Error::index(format!("reading {} back: {e}", self.name)))
    }

    fn read_block(&mut self) -> io::Result<Option<SpilledBlock>> {
        let mut header = [0u8; BLOCK_HEADER];
        let mut got = 0;
        while got < BLOCK_HEADER {
            match self.input.read(&mut header[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let u32_at = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        self.blocks += 1;
        let mut left = u32_at(4) as usize;
        let mut block = SpilledBlock {
            serial: self.blocks,
            records: u32_at(0),
            dict: Vec::with_capacity(left),
            width: width_for(left),
            first_doc: u32_at(8),
            shift: u32_at(12),
            body: Vec::new(),
        };
        let body = u64::from_le_bytes(header[16..24].try_into().expect("8 bytes"));
        let body = usize::try_from(body).map_err(io::Error::other)?;
        let mut buf = [0u8; 8 * 512];
        while left > 0 {
            let take = left.min(512);
            self.input.read_exact(&mut buf[..take * 8])?;
            block.dict.extend(
                buf[..take * 8]
                    .chunks_exact(8)
                    .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))),
            );
            left -= take;
        }
        // Read in pieces, so that a damaged length cannot make it take
        // more memory than the file holds.
        let mut piece = (&mut self.input).take(body as u64);
        block.body.reserve(body.min(64 << 20));
        piece.read_to_end(&mut block.body)?;
        if block.body.len() != body {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(Some(block))
    }
}

impl SpilledBlock {
    /// How many records it holds.
    pub(super) fn records(&self) -> u32 {
        self.records
    }

    /// Its length in the file.
    pub(super) fn bytes(&self) -> u64 {
        (BLOCK_HEADER + self.dict.len() * 8 + self.body.len()) as u64
    }

    /// The record starting at byte `at` of the block's records, `at`
    /// moved past it.
    ///
    /// # Errors
    ///
    /// The record runs past the block.
    pub(super) fn record(&self, at: &mut usize) -> io::Result<Record<'_>> {
        let body = &self.body;
        let cut = || io::Error::other("a record cut short");
        let mut take = |n: usize| -> io::Result<&[u8]> {
            let bytes = body.get(*at..at.checked_add(n).ok_or_else(cut)?);
            *at += n;
            bytes.ok_or_else(cut)
        };
        let header: [u8; HEADER] = take(HEADER)?.try_into().expect("a header");
        let u32_at = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().expect("8 bytes"));
        let keys = take((u32_at(12) as usize).checked_mul(4).ok_or_else(cut)?)?;
        let numbers = take(
            (u32_at(0) as usize)
                .checked_mul(self.width)
                .ok_or_else(cut)?,
        )?;
        Ok(Record {
            place: Place {
                doc: DocId::new(self.first_doc.wrapping_add(u32_at(4))),
                paragraph: u32_at(8).wrapping_add(self.shift),
                line: u64_at(16),
                start: u64_at(24),
                end: u64_at(32),
            },
            keys,
            numbers,
            width: self.width,
            dict: &self.dict,
        })
    }
}

impl Record<'_> {
    /// Its band keys, into `keys`.
    pub(super) fn keys_into(&self, keys: &mut Vec<u32>) {
        keys.clear();
        keys.extend(
            self.keys
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
        );
    }

    /// Its tokens' numbers in its block's dictionary, into `numbers`.
    ///
    /// # Errors
    ///
    /// A number is past the dictionary.
    pub(super) fn numbers_into(&self, numbers: &mut Vec<u32>) -> io::Result<()> {
        numbers.clear();
        if self.width == 2 {
            numbers.extend(
                self.numbers
                    .chunks_exact(2)
                    .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]]))),
            );
        } else {
            numbers.extend(
                self.numbers
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
            );
        }
        if numbers.iter().any(|&n| n as usize >= self.dict.len()) {
            return Err(io::Error::other(
                "a token number past the block's dictionary",
            ));
        }
        Ok(())
    }

    /// Its token hashes, into `hashes` (its numbers, into `numbers` on
    /// the way).
    ///
    /// # Errors
    ///
    /// A number is past the dictionary.
    pub(super) fn hashes_into(
        &self,
        numbers: &mut Vec<u32>,
        hashes: &mut Vec<u64>,
    ) -> io::Result<()> {
        self.numbers_into(numbers)?;
        hashes.clear();
        hashes.extend(numbers.iter().map(|&n| self.dict[n as usize]));
        Ok(())
    }
}

/// Reads the records of blocks, one block after another.
#[derive(Default)]
pub(super) struct Records {
    block: Arc<SpilledBlock>,
    at: usize,
    left: u32,
}

impl Records {
    /// The next record: its place, and its band keys and token numbers
    /// in `keys` and `numbers` (its `i`th token's hash is
    /// `dict[numbers[i]]` for the [`block`](Self::block)'s `dict`).
    /// When a block's records are all read, the next comes from
    /// `next_block`; `name` names the file in errors.
    ///
    /// # Errors
    ///
    /// `next_block` failed, a record is damaged, or there is no next
    /// record.
    pub(super) fn next(
        &mut self,
        mut next_block: impl FnMut() -> Result<Option<Arc<SpilledBlock>>, Error>,
        name: &str,
        keys: &mut Vec<u32>,
        numbers: &mut Vec<u32>,
    ) -> Result<Place, Error> {
        let fail = |e: &dyn std::fmt::Display| Error::index(format!("reading {name} back: {e}"));
        while self.left == 0 {
            let block = next_block()?.ok_or_else(|| fail(&"no record is left"))?;
            self.left = block.records;
            self.at = 0;
            self.block = block;
        }
        self.left -= 1;
        let record = self.block.record(&mut self.at).map_err(|e| fail(&e))?;
        record.keys_into(keys);
        record.numbers_into(numbers).map_err(|e| fail(&e))?;
        Ok(record.place)
    }

    /// The block of the last record read: its number in the file (from
    /// 1) and its dictionary.
    pub(super) fn block(&self) -> (u64, &[u64]) {
        (self.block.serial, &self.block.dict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader of records one at a time, as the thread storing kept
    /// paragraphs reads them.
    struct ByRecord {
        reader: SpillReader,
        records: Records,
        name: String,
    }

    impl ByRecord {
        fn new(reader: SpillReader) -> ByRecord {
            let name = reader.name().to_owned();
            ByRecord {
                reader,
                records: Records::default(),
                name,
            }
        }

        fn next(&mut self, keys: &mut Vec<u32>, numbers: &mut Vec<u32>) -> Result<Place, Error> {
            let ByRecord {
                reader,
                records,
                name,
            } = self;
            let next_block = || Ok(reader.next_block()?.map(Arc::new));
            records.next(next_block, name, keys, numbers)
        }

        fn block(&self) -> (u64, &[u64]) {
            self.records.block()
        }
    }

    /// Writes 200 paragraphs in blocks of 1, 7, 50 and the rest (one
    /// with more than 2^16 distinct tokens, so 32-bit numbers) and reads
    /// them back.
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
                // Lengths across the read buffer's pieces, and empty;
                // tokens repeated within and across paragraphs.
                let n = if i == 100 {
                    70_000
                } else {
                    (i as usize * 37) % 1500
                };
                let tokens = (0..n as u64)
                    .map(|t| {
                        if i == 100 {
                            t * 0x9E37
                        } else {
                            (t % 97) ^ u64::from(i % 5) << 40
                        }
                    })
                    .collect();
                (place, tokens)
            })
            .collect();
        let keys_of = |place: &Place| {
            let line = place.line as u32;
            (0..25).map(move |b| line ^ b)
        };
        let (mut from, mut expected) = (0, Vec::new());
        for len in [1, 7, 50, 142] {
            let block = &records[from..from + len];
            from += len;
            // Within the block, documents count from 0 and plain text's
            // paragraphs from the block's start.
            let first_doc = block[0].0.doc;
            let shift = 3;
            let mut stored = Stored::default();
            let mut keys = vec![Vec::new(); 25];
            for (place, tokens) in block {
                stored.tokens.extend_from_slice(tokens);
                stored.ends.push(stored.tokens.len());
                let mut local = *place;
                local.doc = DocId::new(place.doc.get() - first_doc.get());
                local.paragraph = place.paragraph.wrapping_sub(shift);
                stored.places.push(local);
                for (band, key) in keys.iter_mut().zip(keys_of(place)) {
                    band.push(key);
                }
            }
            stored.seal(&keys);
            assert!(stored.tokens.is_empty(), "the hashes are freed");
            w.push_block(&stored, first_doc, shift).unwrap();
            expected.extend(block.iter().cloned());
        }
        let mut r = ByRecord::new(w.finish().unwrap());
        let (mut keys, mut numbers) = (Vec::new(), Vec::new());
        let mut blocks = Vec::new();
        for (place, expect) in &expected {
            assert_eq!(r.next(&mut keys, &mut numbers).unwrap(), *place);
            assert!(keys.iter().copied().eq(keys_of(place)));
            let (block, dict) = r.block();
            assert!(
                numbers
                    .iter()
                    .map(|&n| dict[n as usize])
                    .eq(expect.iter().copied())
            );
            if blocks.last() != Some(&block) {
                blocks.push(block);
            }
        }
        assert_eq!(blocks, [1, 2, 3, 4], "each block is named once, in order");
        assert!(
            r.next(&mut keys, &mut numbers).is_err(),
            "read past the last record"
        );
    }

    /// The scratch file read back through [`Consumed`] gives every byte
    /// as written, though what was read is given back as the reading goes
    /// on (and, where the file system punches holes, the file's blocks
    /// are freed: checked against a probe file, so that a file system
    /// without holes does not fail the test).
    #[cfg(unix)]
    #[test]
    fn reading_gives_the_pages_back() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i * 7 + i / 4099) as u8)
            .collect();
        let (mut file, _) = scratch_file(dir.path(), "test").unwrap();
        file.write_all(&bytes).unwrap();
        file.sync_all().unwrap();
        let before = file.metadata().unwrap().blocks();
        let probe = {
            let (mut probe, _) = scratch_file(dir.path(), "probe").unwrap();
            probe.write_all(&[1; 1 << 16]).unwrap();
            probe.sync_all().unwrap();
            let full = probe.metadata().unwrap().blocks();
            punch_hole(&probe, 0, 1 << 16);
            probe.metadata().unwrap().blocks() < full
        };
        file.rewind().unwrap();
        let mut consumed = Consumed::new(file);
        let mut back = Vec::new();
        let mut piece = vec![0u8; 10_007];
        loop {
            let n = consumed.read(&mut piece).unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&piece[..n]);
        }
        assert!(back == bytes, "every byte read back as written");
        let after = consumed.file.get_ref().metadata().unwrap().blocks();
        if probe {
            // What the last step read, not yet given back, and a page.
            let most = (Consumed::STEP + Consumed::ALIGN + 4096) / 512;
            assert!(
                after <= most,
                "{after} blocks of 512 bytes of {before} left after reading it all"
            );
        } else {
            eprintln!("this file system punches no holes: only the bytes were checked");
        }
    }

    /// A reader of `bytes`, named "the test's scratch".
    fn reader_of(bytes: Vec<u8>) -> SpillReader {
        SpillReader {
            input: Box::new(io::Cursor::new(bytes)),
            name: "the test's scratch".into(),
            _remove: None,
            blocks: 0,
            len: 0,
        }
    }

    /// A block of one paragraph, tokens 5, 6, 5 and band key 9, sealed.
    fn one_record() -> Stored {
        let mut one = Stored {
            tokens: vec![5, 6, 5],
            ends: vec![3],
            places: vec![Place::default()],
            ..Stored::default()
        };
        one.seal(&[vec![9]]);
        one
    }

    /// A damaged scratch file is an error naming it, never a panic or a
    /// wrong token: a number past its block's dictionary, a block whose
    /// records run past its stated length, a file cut short.
    #[test]
    fn damage_is_an_error() {
        let mut w = SpillWriter::new(None).unwrap();
        w.push_block(&one_record(), DocId::new(0), 0).unwrap();
        let Out::Memory(good) = w.out else {
            unreachable!("a writer without a directory writes to memory")
        };
        let read = |bytes: Vec<u8>| {
            ByRecord::new(reader_of(bytes))
                .next(&mut Vec::new(), &mut Vec::new())
                .map_err(|e| e.to_string())
        };
        assert!(read(good.clone()).is_ok());
        // The block: header, 2 dictionary entries, then one record (its
        // header, 1 band key, 3 numbers of 2 bytes).
        let numbers = BLOCK_HEADER + 2 * 8 + HEADER + 4;
        let mut past = good.clone();
        past[numbers + 2] = 2;
        let e = read(past).unwrap_err();
        assert!(e.contains("the test's scratch") && e.contains("past the block's dictionary"));
        let mut longer = good.clone();
        longer[..4].copy_from_slice(&2u32.to_le_bytes());
        assert!(read(longer).is_ok(), "the first of two records is whole");
        let mut short = good.clone();
        short[BLOCK_HEADER + 2 * 8] = 200;
        assert!(read(short).unwrap_err().contains("cut short"));
        let cut = good[..good.len() - 1].to_vec();
        assert!(read(cut).is_err());
    }

    /// A block of no paragraphs is written and skipped.
    #[test]
    fn empty_blocks_are_skipped() {
        let mut w = SpillWriter::new(None).unwrap();
        let mut empty = Stored::default();
        empty.seal(&[]);
        w.push_block(&empty, DocId::new(0), 0).unwrap();
        w.push_block(&one_record(), DocId::new(4), 0).unwrap();
        w.push_block(&empty, DocId::new(5), 0).unwrap();
        let mut r = ByRecord::new(w.finish().unwrap());
        let (mut keys, mut numbers) = (Vec::new(), Vec::new());
        let place = r.next(&mut keys, &mut numbers).unwrap();
        assert_eq!(
            (place.doc, keys, numbers),
            (DocId::new(4), vec![9], vec![0, 1, 0])
        );
        assert_eq!(r.block(), (2, &[5, 6][..]));
        assert!(r.next(&mut Vec::new(), &mut Vec::new()).is_err());
    }

    /// Read a block at a time, as the second pass reads it when it
    /// verifies from the file: every block whole and in order, its
    /// records' tokens as hashes, then the end; a file cut inside a block
    /// is an error, not its end.
    #[test]
    fn blocks_come_back_whole_then_the_end() {
        let mut w = SpillWriter::new(None).unwrap();
        let mut empty = Stored::default();
        empty.seal(&[]);
        w.push_block(&one_record(), DocId::new(2), 0).unwrap();
        w.push_block(&empty, DocId::new(3), 0).unwrap();
        w.push_block(&one_record(), DocId::new(7), 5).unwrap();
        let mut r = w.finish().unwrap();
        let len = r.len();
        let mut blocks = Vec::new();
        while let Some(block) = r.next_block().unwrap() {
            blocks.push(block);
        }
        let records: Vec<u32> = blocks.iter().map(SpilledBlock::records).collect();
        assert_eq!(records, [1, 0, 1]);
        assert_eq!(blocks.iter().map(SpilledBlock::bytes).sum::<u64>(), len);
        let (mut at, mut hashes, mut keys) = (0, Vec::new(), Vec::new());
        let record = blocks[2].record(&mut at).unwrap();
        record.hashes_into(&mut Vec::new(), &mut hashes).unwrap();
        record.keys_into(&mut keys);
        assert_eq!((hashes, keys), (vec![5, 6, 5], vec![9]));
        assert_eq!(
            (record.place.doc, record.place.paragraph),
            (DocId::new(7), 5)
        );
        assert!(blocks[2].record(&mut at).is_err(), "no second record");
        assert!(r.next_block().unwrap().is_none(), "the end stays the end");

        let mut w = SpillWriter::new(None).unwrap();
        w.push_block(&one_record(), DocId::new(0), 0).unwrap();
        let Out::Memory(mut bytes) = w.out else {
            unreachable!("a writer without a directory writes to memory")
        };
        bytes.pop();
        let e = reader_of(bytes).next_block().unwrap_err().to_string();
        assert!(e.contains("the test's scratch"), "{e}");
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
