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

use super::warc::Records;
use crate::paragraph::is_blank;

/// The default block size. Large enough that per-block overhead vanishes,
/// small enough that two threads get work from a 2 MB file.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

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
        }
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
                Some(records.consumed()).filter(|&at| at > 0)
            }
        }
    }

    fn emit(&mut self, mut data: Vec<u8>, at: usize) -> Block {
        self.carry = data.split_off(at);
        let block = Block {
            offset: self.offset,
            first_line: self.line,
            data,
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
