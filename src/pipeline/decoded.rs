//! The decoded text of compressed inputs, kept by the first pass for the
//! second.
//!
//! Why: the second pass reads again every block holding a candidate, and
//! in a gzip or zstd input that means decoding it again. A WET file of
//! prose with a gzip member per record has a candidate in nearly every
//! block, so the second pass decoded nearly all of it a second time (100
//! MB: 0.4 s of CPU in a run of 2.2 on two cores). The first pass has
//! every decoded block in hand; appending it to a scratch file costs a
//! copy into the page cache, and reading it back one copy out.
//!
//! It is only a cache, never needed for a correct result:
//! - an input is read back from it only if every one of its blocks went
//!   in; any other is decoded again, as without it;
//! - it takes at most half the space free in its directory when it is
//!   created (a `/tmp` on tmpfs is memory), and an input that would go
//!   past that is left out, with every input after it;
//! - a write that fails (a full disk) drops the whole file.
//!
//! The file is opened in [`ScanOptions::scratch_dir`] and, on Unix,
//! unlinked at once, so it never outlives the process.
//!
//! [`ScanOptions::scratch_dir`]: super::ScanOptions::scratch_dir

use super::spill::{RemoveOnDrop, scratch_file};
use crate::corpus::block::Block;
use crate::id::{BlockId, InputId};
use ahash::AHashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Where a kept block is in the file, and what its [`Block`] says besides
/// its bytes.
#[derive(Clone, Copy, Debug)]
struct Kept {
    at: u64,
    len: usize,
    offset: u64,
    first_line: u64,
    member: Option<u64>,
}

/// The scratch file and what it holds.
pub(super) struct Decoded {
    dir: PathBuf,
    /// `None` until the first block comes (most scans read no compressed
    /// input and create no file).
    file: Option<(File, Option<RemoveOnDrop>)>,
    /// Bytes written.
    len: u64,
    /// The most bytes it may hold.
    budget: u64,
    /// Whether blocks may still be added: not once the first pass is over,
    /// nor after one did not fit.
    open: bool,
    /// The blocks of the input being added, while all of them went in.
    adding: Option<(InputId, Vec<Kept>)>,
    /// The inputs all of whose blocks went in.
    inputs: AHashMap<InputId, Vec<Kept>>,
}

impl Decoded {
    /// A cache whose file, if one is needed, goes in `dir`.
    pub(super) fn new(dir: PathBuf) -> Decoded {
        Decoded {
            dir,
            file: None,
            len: 0,
            budget: 0,
            open: true,
            adding: None,
            inputs: AHashMap::new(),
        }
    }

    /// Adds block `index` of `input` (blocks come in order, input by
    /// input, from block 0). A block that does not fit leaves its input,
    /// and every later one, out.
    pub(super) fn add(&mut self, input: InputId, index: BlockId, block: &Block) {
        if !self.open {
            return;
        }
        let continues = matches!(&self.adding,
            Some((i, blocks)) if *i == input && blocks.len() == index.index());
        if !continues {
            self.adding = (index.index() == 0).then(|| (input, Vec::new()));
            if self.adding.is_none() {
                return;
            }
        }
        if self.file.is_none() {
            match scratch_file(&self.dir, "decoded") {
                Ok(file) => {
                    self.budget = free_space(&self.dir) / 2;
                    self.file = Some(file);
                }
                Err(_) => return self.close(),
            }
        }
        let len = block.data.len();
        if self.len + len as u64 > self.budget {
            self.open = false;
            self.adding = None;
            return;
        }
        let Some((file, _)) = &mut self.file else {
            return;
        };
        if file.write_all(&block.data).is_err() {
            // Whatever went in is dropped: nothing half-written is read.
            self.inputs.clear();
            return self.close();
        }
        if let Some((_, blocks)) = &mut self.adding {
            blocks.push(Kept {
                at: self.len,
                len,
                offset: block.offset,
                first_line: block.first_line,
                member: block.member,
            });
        }
        self.len += len as u64;
    }

    /// Every block of `input` has been added (its last block was added and
    /// none failed to read): it can be read back.
    pub(super) fn finish(&mut self, input: InputId) {
        if let Some((i, blocks)) = self.adding.take()
            && i == input
        {
            self.inputs.insert(input, blocks);
        }
    }

    /// An input's blocks stop short (an error while reading it): it is
    /// left out.
    pub(super) fn abandon(&mut self) {
        self.adding = None;
    }

    /// The first pass is over: no block is added from now on.
    pub(super) fn seal(&mut self) {
        self.open = false;
        self.adding = None;
        if self.inputs.is_empty() {
            self.file = None;
        }
    }

    fn close(&mut self) {
        self.open = false;
        self.adding = None;
        self.file = None;
    }

    /// The number of blocks of `input` kept, if all of them were.
    pub(super) fn blocks(&self, input: InputId) -> Option<usize> {
        if self.open {
            return None;
        }
        self.inputs.get(&input).map(Vec::len)
    }

    /// Block `index` of `input`, read back.
    ///
    /// # Errors
    ///
    /// Reading the scratch file failed.
    pub(super) fn read(&self, input: InputId, index: BlockId) -> io::Result<Block> {
        let (Some(kept), Some((file, _))) = (
            self.inputs.get(&input).and_then(|b| b.get(index.index())),
            &self.file,
        ) else {
            return Err(io::Error::other("a block the scratch file does not hold"));
        };
        // Read into fresh capacity, not a zeroed block: jemalloc zeroes a
        // reused block of a megabyte by handing its pages back to the
        // kernel, and the read would fault each of them in again.
        let mut data = Vec::with_capacity(kept.len);
        let mut file = file;
        file.seek(SeekFrom::Start(kept.at))?;
        file.take(kept.len as u64).read_to_end(&mut data)?;
        if data.len() != kept.len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(Block {
            data,
            offset: kept.offset,
            first_line: kept.first_line,
            member: kept.member,
        })
    }
}

/// The bytes free to an unprivileged user in the file system of `dir`.
#[cfg(unix)]
fn free_space(dir: &std::path::Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return 0;
    };
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string and `stat` is written by
    // the call before it is read, only when the call succeeds.
    if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return 0;
    }
    // SAFETY: the call succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    // Their widths differ between platforms.
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    blocks.saturating_mul(size)
}

/// Elsewhere the free space is not asked: only a failed write stops the
/// cache.
#[cfg(not(unix))]
fn free_space(_dir: &std::path::Path) -> u64 {
    u64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str, offset: u64) -> Block {
        Block {
            data: text.as_bytes().to_vec(),
            offset,
            first_line: offset / 2,
            member: Some(offset * 3),
        }
    }

    fn input(i: u32) -> InputId {
        InputId::new(i)
    }

    #[test]
    fn complete_inputs_read_back_as_added() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Decoded::new(dir.path().to_path_buf());
        let texts = ["one\ntwo\n", "three\n", ""];
        for (k, t) in texts.iter().enumerate() {
            d.add(input(0), BlockId::new(k as u32), &block(t, k as u64 * 10));
        }
        d.finish(input(0));
        // Input 1 stops short (a read error after its first block).
        d.add(input(1), BlockId::new(0), &block("four\n", 0));
        d.abandon();
        // Input 2 is complete, but its blocks come out of order once.
        d.add(input(2), BlockId::new(0), &block("five\n", 0));
        d.add(input(2), BlockId::new(2), &block("six\n", 5));
        d.finish(input(2));
        assert_eq!(d.blocks(input(0)), None, "nothing is read before the seal");
        d.seal();
        // The file is unlinked on Unix: nothing is left in the directory.
        #[cfg(unix)]
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(d.blocks(input(0)), Some(3));
        for (k, t) in texts.iter().enumerate() {
            let b = d.read(input(0), BlockId::new(k as u32)).unwrap();
            assert_eq!(b.data, t.as_bytes());
            assert_eq!((b.offset, b.first_line, b.member), {
                let o = k as u64 * 10;
                (o, o / 2, Some(o * 3))
            });
        }
        assert_eq!(d.blocks(input(1)), None);
        assert_eq!(d.blocks(input(2)), None);
        assert!(d.read(input(0), BlockId::new(3)).is_err());
        // Added after the seal: left out.
        d.add(input(3), BlockId::new(0), &block("seven\n", 0));
        d.finish(input(3));
        assert_eq!(d.blocks(input(3)), None);
    }

    #[test]
    fn an_input_past_the_budget_and_those_after_it_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Decoded::new(dir.path().to_path_buf());
        d.add(input(0), BlockId::new(0), &block("0123456789", 0));
        d.finish(input(0));
        d.budget = 15;
        d.add(input(1), BlockId::new(0), &block("01234", 0));
        d.add(input(1), BlockId::new(1), &block("5", 5));
        d.finish(input(1));
        d.add(input(2), BlockId::new(0), &block("", 0));
        d.finish(input(2));
        d.seal();
        assert_eq!(d.blocks(input(0)), Some(1));
        assert_eq!(d.blocks(input(1)), None);
        assert_eq!(d.blocks(input(2)), None);
        assert_eq!(
            d.read(input(0), BlockId::new(0)).unwrap().data,
            b"0123456789"
        );
    }

    #[test]
    fn a_directory_that_cannot_take_the_file_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Decoded::new(dir.path().join("missing"));
        d.add(input(0), BlockId::new(0), &block("text\n", 0));
        d.finish(input(0));
        d.seal();
        assert_eq!(d.blocks(input(0)), None);
    }
}
