//! Blocks: a decoded stream in, runs of whole lines out.
//!
//! A block is the unit of parallel work. It always ends at a line boundary,
//! so no JSON record is split, and for blank-line paragraphs it ends just
//! after a blank line, so no paragraph is split either; a WARC block ends
//! after a whole record. Each block carries
//! its byte offset and first line in the stream, which is all a worker needs
//! to give every paragraph its true position. Cutting depends only on the
//! bytes, so reading the same input twice gives the same blocks.

use std::io::{self, Read};

use memchr::{memchr_iter, memrchr};

use super::compress::MemberStarts;
use super::warc::Records;
use crate::paragraph::is_blank;

/// The default block size. Large enough that per-block overhead vanishes,
/// small enough that two threads get work from a 2 MB file.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// The smallest block [`block_size_for`] makes of a small input.
pub const MIN_BLOCK_SIZE: usize = 1 << 18;

/// The block size for an input of `input_bytes` bytes (`None`: unknown)
/// when `size` is asked for: `size`, or for an input under 64 blocks of
/// it, a 64th of the input but at least [`MIN_BLOCK_SIZE`].
///
/// Why: the last block of a run is worked on while the other threads have
/// nothing left. With 1 MB blocks, a 10 MB file kept one of two threads
/// idle for the last block's time, a tenth of the run. With 256 KB blocks
/// the scan of 10 MB of news took 68 ms instead of 76 (median of 41
/// runs, 2 threads; 71 ms with 320 KB blocks), while a 100 MB or 1 GB
/// scan took the same time with either (and `index create`, whose scratch
/// file holds a dictionary per block, 4% longer with 256 KB blocks at
/// 1 GB). Depending only on `size` and the input's length, the cut is the
/// same every time an unchanged input is read.
///
/// ```
/// use neardup::corpus::block::{DEFAULT_BLOCK_SIZE, block_size_for};
///
/// assert_eq!(block_size_for(DEFAULT_BLOCK_SIZE, Some(1 << 30)), DEFAULT_BLOCK_SIZE);
/// assert_eq!(block_size_for(DEFAULT_BLOCK_SIZE, Some(40_000_000)), 625_000);
/// assert_eq!(block_size_for(DEFAULT_BLOCK_SIZE, Some(10_000_000)), 1 << 18);
/// assert_eq!(block_size_for(DEFAULT_BLOCK_SIZE, Some(1000)), 1 << 18);
/// assert_eq!(block_size_for(DEFAULT_BLOCK_SIZE, None), DEFAULT_BLOCK_SIZE);
/// assert_eq!(block_size_for(100, Some(1000)), 100);
/// ```
pub fn block_size_for(size: usize, input_bytes: Option<u64>) -> usize {
    match input_bytes {
        Some(n) => {
            let share = usize::try_from(n / 64).unwrap_or(usize::MAX);
            size.min(share.max(MIN_BLOCK_SIZE))
        }
        None => size,
    }
}

/// Where a block may end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// After any line.
    Line,
    /// After a blank line (or at the end of the stream).
    BlankLine,
    /// After a whole WARC record (see [`super::warc`]).
    Warc,
}

/// A run of whole lines from a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The bytes.
    pub data: Vec<u8>,
    /// Byte offset of `data[0]` in the decoded stream.
    pub offset: u64,
    /// 0-based line number of the first line of `data` in the stream.
    pub first_line: u64,
    /// Where in the raw file a gzip member starts exactly at `data[0]`,
    /// if one does: the block can then be decoded again alone, from there
    /// to where the next block's member starts (a WET file of Common
    /// Crawl, with a member per record, is cut between records).
    pub member: Option<u64>,
}

/// Cuts a stream into [`Block`]s.
///
/// # Example
///
/// ```
/// use neardup::corpus::block::{Blocks, Cut};
///
/// let blocks: Vec<_> = Blocks::new(&b"a\nb\nc"[..], Cut::Line, 4).map(Result::unwrap).collect();
/// assert_eq!(blocks[0].data, b"a\nb\n");
/// assert_eq!((blocks[1].data.as_slice(), blocks[1].first_line), (&b"c"[..], 2));
/// ```
pub struct Blocks<R> {
    reader: R,
    cut: Cut,
    size: usize,
    carry: Vec<u8>,
    offset: u64,
    line: u64,
    done: bool,
    pending_error: Option<io::Error>,
    members: Option<MemberStarts>,
    /// The most bytes a read may reserve room for at once.
    expect: usize,
}

impl<R: Read> Blocks<R> {
    /// Blocks of about `size` bytes (more when a single line or paragraph is
    /// longer) from `reader`.
    pub fn new(reader: R, cut: Cut, size: usize) -> Blocks<R> {
        Blocks {
            reader,
            cut,
            size: size.max(1),
            carry: Vec::new(),
            offset: 0,
            line: 0,
            done: false,
            pending_error: None,
            members: None,
            expect: usize::MAX,
        }
    }

    /// Reserves room for at most `bytes` more than read so far when a
    /// block is read (the input's length, where known: a guess, since a
    /// compressed input decodes to more).
    pub(crate) fn expecting(mut self, bytes: Option<u64>) -> Blocks<R> {
        if let Some(n) = bytes {
            self.expect = usize::try_from(n.saturating_add(1)).unwrap_or(usize::MAX);
        }
        self
    }

    /// Notes in each block where its gzip member starts, if one starts at
    /// its first byte, from `members` (which the decoder fills).
    pub(crate) fn with_members(mut self, members: Option<MemberStarts>) -> Blocks<R> {
        self.members = members;
        self
    }

    /// Where to end a block within `buf`, or `None` if there is no place yet.
    fn cut_point(&self, buf: &[u8]) -> Option<usize> {
        match self.cut {
            Cut::Line => memrchr(b'\n', buf).map(|i| i + 1),
            Cut::BlankLine => {
                let mut end = memrchr(b'\n', buf)?;
                loop {
                    let start = memrchr(b'\n', &buf[..end]).map_or(0, |i| i + 1);
                    if is_blank(&buf[start..end]) {
                        return Some(end + 1);
                    }
                    end = start.checked_sub(1)?;
                }
            }
            Cut::Warc => {
                let mut records = Records::new(buf, false);
                records.by_ref().for_each(drop);
                let whole = records.consumed();
                // With the separator after the last body, so that a block
                // ends where a file with a gzip member per record (Common
                // Crawl's) ends a member, and can be decoded again alone.
                let blank = buf[whole..]
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                Some(whole + blank).filter(|_| whole > 0)
            }
        }
    }

    fn emit(&mut self, mut data: Vec<u8>, at: usize) -> Block {
        self.carry = data.split_off(at);
        // The member starting at this block's first byte was reached before
        // that byte was decoded; earlier starts are of no more use.
        let member = self.members.as_ref().and_then(|m| {
            let mut starts = m.lock().expect("not poisoned");
            let at = starts.partition_point(|&(decoded, _)| decoded < self.offset);
            let found = starts.get(at).filter(|s| s.0 == self.offset).map(|s| s.1);
            starts.drain(..at);
            found
        });
        let block = Block {
            offset: self.offset,
            first_line: self.line,
            data,
            member,
        };
        self.offset += block.data.len() as u64;
        self.line += memchr_iter(b'\n', &block.data).count() as u64;
        block
    }
}

impl<R: Read> Iterator for Blocks<R> {
    type Item = io::Result<Block>;

    fn next(&mut self) -> Option<io::Result<Block>> {
        if let Some(e) = self.pending_error.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.size;
        loop {
            // Room for the whole block at once: reading into a buffer grown
            // by doubling copied each block about once more and faulted in
            // its pages twice. Not more than the input holds: a tree of
            // small files would take a block's room per file.
            let room = want.saturating_sub(buf.len()).min(self.expect);
            buf.reserve_exact(room);
            while buf.len() < want && !self.done {
                let need = (want - buf.len()) as u64;
                match (&mut self.reader).take(need).read_to_end(&mut buf) {
                    Ok(0) => self.done = true,
                    Ok(_) => {}
                    Err(e) => {
                        // What was read before the failure is handed over
                        // first; the error follows as the last item.
                        self.done = true;
                        self.pending_error = Some(e);
                    }
                }
            }
            if self.done {
                let len = buf.len();
                if len == 0 {
                    return self.pending_error.take().map(Err);
                }
                return Some(Ok(self.emit(buf, len)));
            }
            if let Some(at) = self.cut_point(&buf) {
                return Some(Ok(self.emit(buf, at)));
            }
            want = buf.len() * 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn blocks(data: &[u8], cut: Cut, size: usize) -> Vec<Block> {
        Blocks::new(data, cut, size).map(Result::unwrap).collect()
    }

    #[test]
    fn long_line_grows_the_block() {
        let data = b"abcdefgh\nx\ny\nz\nw\nv\nu\nt\ns\nr\nq\n";
        let b = blocks(data, Cut::Line, 2);
        assert!(
            b[0].data.starts_with(b"abcdefgh\n"),
            "the long line stays whole"
        );
        assert!(b.iter().all(|b| b.data.ends_with(b"\n")));
        assert!(b.len() > 1);
    }

    #[test]
    fn blank_line_cut_keeps_paragraphs_whole() {
        let b = blocks(b"a\nb\n\nc\nd\n \ne\n", Cut::BlankLine, 3);
        let parts: Vec<&[u8]> = b.iter().map(|b| b.data.as_slice()).collect();
        assert_eq!(parts, [&b"a\nb\n\n"[..], b"c\nd\n \n", b"e\n"]);
        assert_eq!(b[2].first_line, 6);
    }

    struct FailAfter(&'static [u8]);
    impl Read for FailAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn data_before_an_error_comes_first() {
        let mut it = Blocks::new(FailAfter(b"a\nb"), Cut::Line, 100);
        assert_eq!(it.next().unwrap().unwrap().data, b"a\nb");
        assert_eq!(
            it.next().unwrap().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert!(it.next().is_none());
    }

    #[test]
    fn warc_blocks_end_after_whole_records() {
        use crate::corpus::warc::Item;
        let record = |body: &str| {
            format!(
                "WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
                body.len()
            )
        };
        let data = (record("first\nbody\n") + &record("second body, longer\n")).repeat(5);
        for size in [1, 10, 100, 1000] {
            let b = blocks(data.as_bytes(), Cut::Warc, size);
            let joined: Vec<u8> = b.iter().flat_map(|b| b.data.clone()).collect();
            assert_eq!(joined, data.as_bytes());
            let mut records = 0;
            for block in &b {
                for item in Records::new(&block.data, true) {
                    assert!(matches!(item, Item::Record(_)), "size {size}: {item:?}");
                    records += 1;
                }
            }
            assert_eq!(records, 10, "size {size}");
            assert_eq!(b.len() > 1, size < data.len() / 2, "size {size}");
        }
    }

    /// A gzip file with a member per WARC record (as Common Crawl's): each
    /// block, cut between records, knows where its member starts, and the
    /// raw bytes from there to the next block's start decode to it alone.
    /// A single-member file's later blocks do not.
    #[test]
    fn blocks_of_a_member_per_record_decode_alone() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let record = |i: usize| {
            let body = format!("page {i}\n{}\n", "words of a page ".repeat(i % 7 + 1));
            format!(
                "WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
                body.len()
            )
        };
        let gzip = |text: &str| {
            let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let records: Vec<String> = (0..40).map(record).collect();
        let raw: Vec<u8> = records.iter().flat_map(|r| gzip(r)).collect();
        let open = |raw: &[u8]| {
            let (_, stream, members) = super::super::compress::decode_indexed(
                Box::new(io::Cursor::new(raw.to_vec())),
                1 << 16,
            )
            .unwrap();
            Blocks::new(stream, Cut::Warc, 300)
                .with_members(members)
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        };
        let blocks = open(&raw);
        assert!(blocks.len() > 5);
        for (i, b) in blocks.iter().enumerate() {
            let start = b.member.expect("every block starts a member") as usize;
            let end = blocks
                .get(i + 1)
                .map_or(raw.len(), |n| n.member.unwrap() as usize);
            let mut alone = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[start..end])
                .read_to_end(&mut alone)
                .unwrap();
            assert_eq!(alone, b.data, "block {i}");
        }
        let single = gzip(&records.concat());
        let blocks = open(&single);
        assert_eq!(blocks[0].member, Some(0));
        assert!(blocks[1..].iter().all(|b| b.member.is_none()));
        let joined: Vec<u8> = blocks.iter().flat_map(|b| b.data.clone()).collect();
        assert_eq!(joined, records.concat().as_bytes());
    }

    proptest! {
        /// Blocks tile the stream exactly, and each one's first line is the
        /// number of newlines before it.
        #[test]
        fn blocks_tile_the_stream(data in "[ab \n]{0,200}", size in 1usize..50, blank in any::<bool>()) {
            let cut = if blank { Cut::BlankLine } else { Cut::Line };
            let mut joined = Vec::new();
            for b in blocks(data.as_bytes(), cut, size) {
                prop_assert_eq!(b.offset as usize, joined.len());
                prop_assert_eq!(b.first_line as usize, joined.iter().filter(|&&c| c == b'\n').count());
                joined.extend_from_slice(&b.data);
            }
            prop_assert_eq!(joined, data.as_bytes());
        }
    }
}
