//! Compressing an output in independent pieces, on the thread pool.
//!
//! Why: `neardup clean` writes a cleaned input compressed as the input
//! was. One gzip stream is compressed by one thread, at about 48 MB/s on
//! the machine of `docs/benchmarks.md`: a 100 MB batch of JSON Lines
//! took 3.7 s to clean from gzip to gzip where its scan took 0.9 s, and
//! the other cores waited. Here the output is cut into pieces, each
//! compressed on its own as a whole gzip member or zstd frame, and the
//! pieces are written in order as they are done. A file of several gzip
//! members or zstd frames is one stream to every reader (`gzip -d`,
//! `zstd -d`, Python's `gzip` module, neardup).
//!
//! Where the pieces are cut depends only on the bytes written, never on
//! the threads: the output is the same for any thread count. Pieces are
//! [`GZIP_PIECE`] or [`ZSTD_PIECE`] bytes of decoded output (a zstd frame
//! of 1 MiB compressed news 1.7% worse than one frame, one of 4 MiB 0.3%;
//! gzip members of 1 MiB 0.3% worse). In per-record mode (WET) a gzip
//! member is still one record, as Common Crawl writes them, and a piece
//! is whole records.
//!
//! A piece is handed to the pool ([`rayon::spawn`]) and kept in a queue.
//! The writer takes the oldest piece when the queue is full, or at the
//! end: if no pool thread has started on it yet, the writer compresses it
//! itself. So the writer never waits for work that is only queued (the
//! pool's threads may all be busy, for example cleaning other inputs),
//! only for work under way. The queues of all writers together hold at
//! most two pieces per thread of the pool: `clean` writes as many inputs
//! at once as it has threads, and a queue of its own per writer would
//! hold pieces by the threads squared (8 GiB of zstd pieces on 32
//! threads). A writer with nothing queued and no room left compresses
//! its piece itself.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// The bytes of decoded output in one gzip member (outside per-record
/// mode).
pub const GZIP_PIECE: usize = 1 << 20;
/// The bytes of decoded output in one zstd frame.
pub const ZSTD_PIECE: usize = 4 << 20;
/// The zstd level of every frame (the `zstd` tool's default).
const ZSTD_LEVEL: i32 = 3;

/// How the pieces are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// Each piece a gzip member (level 6, gzip's default).
    Gzip,
    /// Each piece a zstd frame (level 3, zstd's default).
    Zstd,
}

/// A writer compressing into `W` in pieces (see the module's doc).
///
/// # Example
///
/// ```
/// use neardup::corpus::pieces::{Codec, Pieces, GZIP_PIECE};
/// use std::io::{Read, Write};
///
/// let text = "a line of text\n".repeat(GZIP_PIECE / 10);
/// let mut w = Pieces::new(Codec::Gzip, false, Vec::new());
/// w.write_all(text.as_bytes())?;
/// let bytes = w.finish()?;
/// let members = bytes.windows(4).filter(|w| w == &[0x1f, 0x8b, 8, 0]).count();
/// assert_eq!(members, 2);
/// let mut r = flate2::read::MultiGzDecoder::new(&bytes[..]);
/// let mut back = String::new();
/// r.read_to_string(&mut back)?;
/// assert_eq!(back, text);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Pieces<W: Write> {
    out: W,
    codec: Codec,
    /// A gzip member per record: pieces end at record ends.
    per_record: bool,
    /// The piece being filled.
    buffer: Vec<u8>,
    /// Where records end in `buffer` (per-record mode).
    ends: Vec<usize>,
    /// Pieces handed out, oldest first.
    queue: Queue,
    /// Pieces written to `out`.
    written: u64,
}

/// Pieces queued by every writer of the process.
static QUEUED: AtomicUsize = AtomicUsize::new(0);

/// A writer's queue of pieces, counted in [`QUEUED`] while they are in it
/// (a writer dropped after an error gives its count back).
struct Queue(VecDeque<Arc<Piece>>);

impl Queue {
    /// Counts one more piece in [`QUEUED`] if fewer than `most` are.
    fn room(most: usize) -> bool {
        QUEUED
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < most).then_some(n + 1)
            })
            .is_ok()
    }

    fn pop(&mut self) -> Option<Arc<Piece>> {
        let piece = self.0.pop_front()?;
        QUEUED.fetch_sub(1, Ordering::AcqRel);
        Some(piece)
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        QUEUED.fetch_sub(self.0.len(), Ordering::AcqRel);
    }
}

/// A piece on its way: its bytes, then its compressed bytes.
struct Piece {
    state: Mutex<State>,
    done: Condvar,
}

enum State {
    /// Not started: the bytes, and where records end in them.
    Waiting(Vec<u8>, Vec<usize>),
    /// A pool thread is compressing it.
    Working,
    /// Compressed (or failed).
    Done(io::Result<Vec<u8>>),
    /// Given to the writer.
    Taken,
}

impl<W: Write> Pieces<W> {
    /// Starts compressing into `out`. With `per_record`, a gzip output
    /// gets a member per record, ended by [`end_record`](Self::end_record)
    /// (a zstd output ignores record ends).
    pub fn new(codec: Codec, per_record: bool, out: W) -> Pieces<W> {
        Pieces {
            out,
            codec,
            per_record: per_record && codec == Codec::Gzip,
            buffer: Vec::new(),
            ends: Vec::new(),
            queue: Queue(VecDeque::new()),
            written: 0,
        }
    }

    fn piece(&self) -> usize {
        match self.codec {
            Codec::Zstd => ZSTD_PIECE,
            Codec::Gzip => GZIP_PIECE,
        }
    }

    /// Ends a record: in per-record mode, the next bytes start a new gzip
    /// member (and, once the piece is full, a new piece).
    ///
    /// # Errors
    ///
    /// Returns the error of writing out finished pieces.
    pub fn end_record(&mut self) -> io::Result<()> {
        if !self.per_record {
            return Ok(());
        }
        if self.ends.last() != Some(&self.buffer.len()) {
            self.ends.push(self.buffer.len());
        }
        if self.buffer.len() >= self.piece() {
            let (bytes, ends) = (
                std::mem::take(&mut self.buffer),
                std::mem::take(&mut self.ends),
            );
            self.hand_out(bytes, ends)?;
        }
        Ok(())
    }

    /// Compresses what is left, writes every piece out and returns `out`.
    ///
    /// # Errors
    ///
    /// Returns the error of compressing or writing a piece.
    pub fn finish(mut self) -> io::Result<W> {
        let (bytes, mut ends) = (
            std::mem::take(&mut self.buffer),
            std::mem::take(&mut self.ends),
        );
        // An empty output is still one (empty) member or frame, as one
        // stream's encoder writes, except in per-record mode, where no
        // record is no member.
        let empty = self.written == 0 && self.queue.0.is_empty();
        if !bytes.is_empty() || (empty && !self.per_record) {
            if self.per_record && ends.last() != Some(&bytes.len()) {
                ends.push(bytes.len());
            }
            self.hand_out(bytes, ends)?;
        }
        while self.write_oldest()? {}
        self.out.flush()?;
        Ok(self.out)
    }

    /// Queues a piece for the pool, writing the oldest first when the
    /// queue is full; compresses and writes it here when nothing of this
    /// writer's is queued and every writer's queues are full.
    fn hand_out(&mut self, bytes: Vec<u8>, ends: Vec<usize>) -> io::Result<()> {
        let most = 2 * rayon::current_num_threads().max(1);
        loop {
            if self.queue.0.len() < most && Queue::room(most) {
                let piece = Arc::new(Piece {
                    state: Mutex::new(State::Waiting(bytes, ends)),
                    done: Condvar::new(),
                });
                self.queue.0.push_back(Arc::clone(&piece));
                let codec = self.codec;
                rayon::spawn(move || piece.work(codec));
                return Ok(());
            }
            if !self.write_oldest()? {
                self.out.write_all(&compress(self.codec, &bytes, &ends)?)?;
                self.written += 1;
                return Ok(());
            }
        }
    }

    /// Writes the oldest piece out; false when there is none.
    fn write_oldest(&mut self) -> io::Result<bool> {
        let Some(piece) = self.queue.pop() else {
            return Ok(false);
        };
        let compressed = piece.take(self.codec)?;
        self.out.write_all(&compressed)?;
        self.written += 1;
        Ok(true)
    }
}

impl<W: Write> Write for Pieces<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.buffer.capacity() == 0 {
            self.buffer.reserve(self.piece() + self.piece() / 8);
        }
        if self.per_record {
            // Pieces end where records do (`end_record`).
            self.buffer.extend_from_slice(buf);
            return Ok(buf.len());
        }
        // A write fills the piece at most: a full one is handed out whole.
        let room = (self.piece() - self.buffer.len()).min(buf.len());
        self.buffer.extend_from_slice(&buf[..room]);
        if self.buffer.len() == self.piece() {
            let bytes = std::mem::take(&mut self.buffer);
            self.hand_out(bytes, Vec::new())?;
        }
        Ok(room)
    }

    /// Writes out the pieces handed out so far. The piece being filled
    /// stays: where pieces end does not depend on when it is flushed.
    fn flush(&mut self) -> io::Result<()> {
        while self.write_oldest()? {}
        self.out.flush()
    }
}

impl Piece {
    /// A pool thread's turn: compresses the piece unless the writer
    /// already took it.
    fn work(&self, codec: Codec) {
        let (bytes, ends) = {
            let mut state = self.state.lock().expect("a piece's lock is not poisoned");
            match std::mem::replace(&mut *state, State::Working) {
                State::Waiting(bytes, ends) => (bytes, ends),
                other => {
                    *state = other;
                    return;
                }
            }
        };
        let result = compress(codec, &bytes, &ends);
        *self.state.lock().expect("a piece's lock is not poisoned") = State::Done(result);
        self.done.notify_all();
    }

    /// The writer's turn: the compressed piece, compressed here if no
    /// pool thread started on it, waited for if one did.
    fn take(&self, codec: Codec) -> io::Result<Vec<u8>> {
        let mut state = self.state.lock().expect("a piece's lock is not poisoned");
        loop {
            match std::mem::replace(&mut *state, State::Taken) {
                State::Waiting(bytes, ends) => {
                    drop(state);
                    return compress(codec, &bytes, &ends);
                }
                State::Working => {
                    *state = State::Working;
                    state = self
                        .done
                        .wait(state)
                        .expect("a piece's lock is not poisoned");
                }
                State::Done(result) => return result,
                State::Taken => unreachable!("a piece is taken once"),
            }
        }
    }
}

/// `bytes` compressed as one gzip member or zstd frame, or, with record
/// `ends`, a gzip member per record.
fn compress(codec: Codec, bytes: &[u8], ends: &[usize]) -> io::Result<Vec<u8>> {
    let member = |from: usize, to: usize, out: Vec<u8>| {
        let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        e.write_all(&bytes[from..to])?;
        e.finish()
    };
    match codec {
        Codec::Zstd => zstd::bulk::compress(bytes, ZSTD_LEVEL),
        Codec::Gzip if ends.is_empty() => member(0, bytes.len(), Vec::new()),
        Codec::Gzip => {
            let mut out = Vec::with_capacity(bytes.len() / 3);
            let mut from = 0;
            for &end in ends {
                if end > from {
                    out = member(from, end, out)?;
                }
                from = end;
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decoded(bytes: &[u8]) -> Vec<u8> {
        // As a reader of files of several members or frames reads them.
        let mut out = Vec::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        } else {
            out = zstd::stream::decode_all(bytes).unwrap();
        }
        out
    }

    /// Pseudo-random lines, so that pieces do not compress to nothing.
    fn text(bytes: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes + 64);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        while out.len() < bytes {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(format!("line {} of {:x}\n", out.len(), x % 99_991).as_bytes());
        }
        out
    }

    fn starts(bytes: &[u8], magic: &[u8]) -> usize {
        bytes.windows(magic.len()).filter(|w| *w == magic).count()
    }

    /// Writes `data` in writes of `step` bytes on a pool of `threads`.
    fn write(codec: Codec, data: &[u8], step: usize, threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut w = Pieces::new(codec, false, Vec::new());
            for chunk in data.chunks(step) {
                w.write_all(chunk).unwrap();
            }
            w.finish().unwrap()
        })
    }

    #[test]
    fn gives_the_bytes_back_the_same_for_any_threads_and_writes() {
        let data = text(5 * GZIP_PIECE + 12_345);
        for codec in [Codec::Gzip, Codec::Zstd] {
            let one = write(codec, &data, 1 << 16, 1);
            assert_eq!(decoded(&one), data, "{codec:?}");
            for (step, threads) in [(7_777, 2), (3 << 20, 4), (data.len(), 3)] {
                assert_eq!(
                    write(codec, &data, step, threads),
                    one,
                    "{codec:?}, writes of {step} on {threads} threads"
                );
            }
        }
    }

    #[test]
    fn cuts_a_member_or_frame_per_piece() {
        let data = text(5 * GZIP_PIECE + 1);
        let gzip = write(Codec::Gzip, &data, 1 << 16, 2);
        assert_eq!(starts(&gzip, &[0x1f, 0x8b, 8, 0]), 6);
        let data = text(2 * ZSTD_PIECE + 1);
        let zstd = write(Codec::Zstd, &data, 1 << 16, 2);
        assert_eq!(starts(&zstd, &[0x28, 0xb5, 0x2f, 0xfd]), 3);
    }

    #[test]
    fn an_empty_output_is_one_empty_stream() {
        for codec in [Codec::Gzip, Codec::Zstd] {
            let bytes = Pieces::new(codec, false, Vec::new()).finish().unwrap();
            assert!(!bytes.is_empty(), "{codec:?}");
            assert!(decoded(&bytes).is_empty(), "{codec:?}");
        }
        let records = Pieces::new(Codec::Gzip, true, Vec::new());
        assert!(records.finish().unwrap().is_empty());
    }

    #[test]
    fn a_member_per_record_whatever_the_pieces() {
        // Records of 100 KB: about 10 to a piece, each its own member.
        let data = text(3 * GZIP_PIECE);
        let records: Vec<&[u8]> = data.chunks(100_000).collect();
        let mut w = Pieces::new(Codec::Gzip, true, Vec::new());
        for r in &records {
            w.write_all(r).unwrap();
            w.end_record().unwrap();
            // A second end adds no empty member.
            w.end_record().unwrap();
        }
        w.write_all(b"an unfinished record\n").unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(starts(&bytes, &[0x1f, 0x8b, 8, 0]), records.len() + 1);
        let mut all = data.clone();
        all.extend_from_slice(b"an unfinished record\n");
        assert_eq!(decoded(&bytes), all);
    }

    #[test]
    fn the_writer_compresses_what_no_thread_started() {
        // The writer runs on the pool's only thread, which takes no other
        // work until the writer returns: every piece is compressed by the
        // writer, which must not wait for the pool (it would wait forever:
        // the test gives up after two minutes instead of hanging).
        let data = text(9 * GZIP_PIECE);
        let (tx, rx) = std::sync::mpsc::channel();
        let input = data.clone();
        std::thread::spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let bytes = pool.install(|| {
                let mut w = Pieces::new(Codec::Gzip, false, Vec::new());
                w.write_all(&input).unwrap();
                w.finish().unwrap()
            });
            let _ = tx.send(bytes);
        });
        let bytes = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the writer waited for pieces no thread had started");
        assert_eq!(decoded(&bytes), data);
    }

    #[test]
    fn many_writers_at_once_write_what_each_writes_alone() {
        // Eight writers on two threads: the queues fill, and writers
        // with none queued compress their pieces themselves.
        use rayon::prelude::*;
        let data: Vec<Vec<u8>> = (0..8).map(|i| text(3 * GZIP_PIECE + i * 1_001)).collect();
        let alone: Vec<Vec<u8>> = data
            .iter()
            .map(|d| write(Codec::Gzip, d, 1 << 16, 1))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let together: Vec<Vec<u8>> = pool.install(|| {
            data.par_iter()
                .with_max_len(1)
                .map(|d| {
                    let mut w = Pieces::new(Codec::Gzip, false, Vec::new());
                    for chunk in d.chunks(50_000) {
                        w.write_all(chunk).unwrap();
                    }
                    w.finish().unwrap()
                })
                .collect()
        });
        assert!(together == alone);
    }

    #[test]
    fn a_failed_write_is_an_error_and_later_writers_go_on() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let data = text(8 * GZIP_PIECE);
        let mut w = Pieces::new(Codec::Gzip, false, Full(GZIP_PIECE / 2));
        let failed = w.write_all(&data).and_then(|()| w.finish().map(drop));
        assert_eq!(failed.unwrap_err().kind(), io::ErrorKind::StorageFull);
        // Writers after it still write everything.
        assert_eq!(decoded(&write(Codec::Gzip, &data, 1 << 16, 2)), data);
    }
}
