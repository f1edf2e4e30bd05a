//! Decompression: raw input bytes in, decoded bytes out.
//!
//! The format is recognised by its magic bytes, whatever the file is called,
//! because corpora are often renamed or served without extensions: gzip
//! (`1f 8b`) and zstd (`28 b5 2f fd`). Every gzip member is read, not just
//! the first (Common Crawl files and `cat a.gz b.gz` are multi-member), and
//! zstd accepts windows up to 2 GiB so files made with `zstd --long=31`
//! open. A stream cut short or corrupted is a read error after the bytes
//! that could be decoded, never a silently shorter text; the error says
//! which compression failed, since the decoders' own words ("incomplete
//! frame") do not.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

use flate2::bufread::GzDecoder;

use super::pieces::{Codec, Pieces};

/// The compression of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip, possibly several members.
    Gzip,
    /// Zstandard, possibly several frames.
    Zstd,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const READ_BUFFER: usize = 256 * 1024;

/// The compression announced by the first bytes of an input.
///
/// # Example
///
/// ```
/// use neardup::corpus::compress::{detect, Compression};
///
/// assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
/// assert_eq!(detect(b"{\"text\": 1}"), Compression::None);
/// ```
pub fn detect(head: &[u8]) -> Compression {
    if head.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Wraps `raw` in the decoder its magic bytes call for.
///
/// # Errors
///
/// Returns an error if the first bytes cannot be read or the zstd decoder
/// cannot be set up.
pub fn decode<'a>(
    raw: Box<dyn Read + Send + 'a>,
) -> io::Result<(Compression, Box<dyn Read + Send + 'a>)> {
    decode_buffered(raw, READ_BUFFER)
}

/// Where each gzip member of a stream starts, as (offset in the decoded
/// stream, offset in the raw file), in order: filled by the decoder as it
/// reaches each member, read by the block cutter ([`super::block`]) so
/// that a block starting where a member starts can be decoded again alone.
pub(crate) type MemberStarts = Arc<Mutex<Vec<(u64, u64)>>>;

/// [`decode`] reading `raw` through a buffer of `capacity` bytes: less
/// than the default for a look at a file's first bytes, or for a file
/// smaller than the default buffer (a tree of many small files would
/// otherwise allocate, and read ahead, a quarter of a megabyte per look).
pub(crate) fn decode_buffered<'a>(
    raw: Box<dyn Read + Send + 'a>,
    capacity: usize,
) -> io::Result<(Compression, Box<dyn Read + Send + 'a>)> {
    decode_indexed(raw, capacity).map(|(c, d, _)| (c, d))
}

/// [`decode_buffered`], also giving, for gzip, where its members start.
pub(crate) fn decode_indexed<'a>(
    raw: Box<dyn Read + Send + 'a>,
    capacity: usize,
) -> io::Result<(Compression, Box<dyn Read + Send + 'a>, Option<MemberStarts>)> {
    let capacity = capacity.clamp(ZSTD_MAGIC.len(), READ_BUFFER);
    let mut reader = BufReader::with_capacity(capacity, raw);
    let mut head = reader.fill_buf()?;
    // A short first read must not hide the magic; ask until 4 bytes or EOF.
    let mut peeked = Vec::new();
    if head.len() < ZSTD_MAGIC.len() && !head.is_empty() {
        peeked.extend_from_slice(head);
        let n = head.len();
        reader.consume(n);
        while peeked.len() < ZSTD_MAGIC.len() {
            let more = reader.fill_buf()?;
            if more.is_empty() {
                break;
            }
            let take = more.len().min(ZSTD_MAGIC.len() - peeked.len());
            peeked.extend_from_slice(&more[..take]);
            reader.consume(take);
        }
        head = &peeked;
    }
    let compression = detect(head);
    let stream: Box<dyn BufRead + Send + 'a> = if peeked.is_empty() {
        Box::new(reader)
    } else {
        Box::new(BufReader::with_capacity(
            capacity,
            io::Cursor::new(peeked).chain(reader),
        ))
    };
    let mut starts = None;
    let decoded: Box<dyn Read + Send + 'a> = match compression {
        Compression::None => Box::new(stream),
        Compression::Gzip => {
            let members = Members::new(stream);
            starts = Some(members.starts.clone());
            Box::new(Explained {
                inner: members,
                name: "gzip",
            })
        }
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(stream)?;
            d.window_log_max(31)?;
            Box::new(Explained {
                inner: d,
                name: "zstd",
            })
        }
    };
    Ok((compression, decoded, starts))
}

/// A reader that counts the bytes consumed from the one below.
struct Consumed<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Consumed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Consumed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.consumed += n as u64;
    }
}

/// gzip, every member in turn (as `flate2`'s `MultiGzDecoder`), noting
/// where each starts.
struct Members<R: BufRead> {
    state: Option<Member<R>>,
    decoded: u64,
    starts: MemberStarts,
}

enum Member<R: BufRead> {
    /// Between members.
    Between(Consumed<R>),
    /// Inside one.
    In(Box<GzDecoder<Consumed<R>>>),
}

impl<R: BufRead> Members<R> {
    fn new(inner: R) -> Members<R> {
        Members {
            state: Some(Member::Between(Consumed { inner, consumed: 0 })),
            decoded: 0,
            starts: Arc::default(),
        }
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state.take() {
                None => return Ok(0),
                Some(Member::In(mut decoder)) => {
                    let n = decoder.read(buf);
                    match n {
                        Ok(0) if !buf.is_empty() => {
                            self.state = Some(Member::Between(decoder.into_inner()));
                        }
                        Ok(n) => {
                            self.decoded += n as u64;
                            self.state = Some(Member::In(decoder));
                            return Ok(n);
                        }
                        Err(e) => {
                            self.state = Some(Member::In(decoder));
                            return Err(e);
                        }
                    }
                }
                Some(Member::Between(mut reader)) => {
                    let more = match reader.fill_buf() {
                        Ok(more) => !more.is_empty(),
                        Err(e) => {
                            self.state = Some(Member::Between(reader));
                            return Err(e);
                        }
                    };
                    if !more {
                        return Ok(0);
                    }
                    let at = (self.decoded, reader.consumed);
                    self.starts.lock().expect("not poisoned").push(at);
                    self.state = Some(Member::In(Box::new(GzDecoder::new(reader))));
                }
            }
        }
    }
}

/// A decoder whose own errors (not those of the file system below it) say
/// that the compressed data is cut short or damaged.
struct Explained<R> {
    inner: R,
    name: &'static str,
}

impl<R: Read> Read for Explained<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.raw_os_error().is_some() || e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::new(
                    e.kind(),
                    format!("{} data is truncated or corrupt ({e})", self.name),
                )
            }
        })
    }
}

/// A writer compressing into `W` the way an input was compressed, so
/// cleaned output keeps its input's shape. A compressed output is written
/// in pieces compressed side by side on the thread pool, each a gzip
/// member or zstd frame of its own ([`super::pieces`]): one stream to
/// every reader, the same bytes for any thread count.
pub enum Encoder<W: Write> {
    /// Bytes pass through.
    Plain(W),
    /// gzip or zstd, in pieces.
    Pieces(Pieces<W>),
}

impl<W: Write> Encoder<W> {
    /// Starts writing `compression` into `out`.
    ///
    /// # Errors
    ///
    /// None at present; the signature leaves room for an encoder that
    /// cannot be set up.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::corpus::compress::{decode, Compression, Encoder};
    /// use std::io::{Read, Write};
    ///
    /// let mut e = Encoder::new(Compression::Zstd, Vec::new())?;
    /// e.write_all(b"kept\n")?;
    /// let bytes = e.finish()?;
    /// let (c, mut r) = decode(Box::new(&bytes[..]))?;
    /// let mut text = String::new();
    /// r.read_to_string(&mut text)?;
    /// assert_eq!((c, text.as_str()), (Compression::Zstd, "kept\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(compression: Compression, out: W) -> io::Result<Encoder<W>> {
        Ok(Encoder::of(compression, false, out))
    }

    /// Like [`Encoder::new`], but for a format of records: a gzip output
    /// gets a member per record, ended by [`Encoder::end_record`], the
    /// way Common Crawl writes WARC files so that a record can be read
    /// from its offset alone.
    ///
    /// # Errors
    ///
    /// As [`Encoder::new`].
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::corpus::compress::{Compression, Encoder};
    /// use std::io::Write;
    ///
    /// let mut e = Encoder::per_record(Compression::Gzip, Vec::new())?;
    /// e.write_all(b"first record\n")?;
    /// e.end_record()?;
    /// e.write_all(b"second record\n")?;
    /// let bytes = e.finish()?;
    /// let members = bytes.windows(3).filter(|w| w == &[0x1f, 0x8b, 8]).count();
    /// assert_eq!(members, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn per_record(compression: Compression, out: W) -> io::Result<Encoder<W>> {
        Ok(Encoder::of(compression, true, out))
    }

    /// [`new`](Self::new) or, `per_record`, [`per_record`](Self::per_record).
    fn of(compression: Compression, per_record: bool, out: W) -> Encoder<W> {
        let codec = match compression {
            Compression::None => return Encoder::Plain(out),
            Compression::Gzip => Codec::Gzip,
            Compression::Zstd => Codec::Zstd,
        };
        Encoder::Pieces(Pieces::new(codec, per_record, out))
    }

    /// Ends a record: a per-record gzip output finishes its member there;
    /// other outputs carry on unchanged.
    ///
    /// # Errors
    ///
    /// Returns the error from writing finished pieces.
    pub fn end_record(&mut self) -> io::Result<()> {
        match self {
            Encoder::Pieces(p) => p.end_record(),
            Encoder::Plain(_) => Ok(()),
        }
    }

    /// Writes the compressed stream's end and returns the inner writer.
    ///
    /// # Errors
    ///
    /// Returns the error from compressing or writing the last pieces.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Pieces(p) => p.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Pieces(p) => p.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Pieces(p) => p.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(raw: Vec<u8>) -> (Compression, Vec<u8>) {
        let (c, mut r) = decode(Box::new(io::Cursor::new(raw))).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (c, out)
    }

    #[test]
    fn plain_passes_through() {
        assert_eq!(
            read_all(b"hello".to_vec()),
            (Compression::None, b"hello".to_vec())
        );
        assert_eq!(
            read_all(b"hi".to_vec()),
            (Compression::None, b"hi".to_vec())
        );
        assert_eq!(read_all(Vec::new()), (Compression::None, Vec::new()));
    }

    #[test]
    fn gzip_reads_every_member() {
        let mut raw = gzip(b"first\n");
        raw.extend(gzip(b"second\n"));
        assert_eq!(
            read_all(raw),
            (Compression::Gzip, b"first\nsecond\n".to_vec())
        );
    }

    #[test]
    fn zstd_reads_every_frame() {
        let mut raw = zstd::encode_all(&b"one\n"[..], 3).unwrap();
        raw.extend(zstd::encode_all(&b"two\n"[..], 3).unwrap());
        assert_eq!(read_all(raw), (Compression::Zstd, b"one\ntwo\n".to_vec()));
    }

    /// A stream cut anywhere after its magic number is an error naming the
    /// compression, after the text that could be decoded.
    #[test]
    fn truncation_is_an_error() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {} of {}\n", i * 7919 % 10007, i).into_bytes())
            .collect();
        let gz = gzip(&text);
        let zst = zstd::encode_all(&text[..], 3).unwrap();
        for (raw, name) in [(gz, "gzip"), (zst, "zstd")] {
            for cut in [raw.len() / 3, raw.len() - 1] {
                let (_, mut r) = decode(Box::new(io::Cursor::new(raw[..cut].to_vec()))).unwrap();
                let mut out = Vec::new();
                let err = r.read_to_end(&mut out).unwrap_err();
                assert!(
                    err.to_string()
                        .contains(&format!("{name} data is truncated or corrupt")),
                    "{err}"
                );
                assert!(text.starts_with(&out), "only decoded text comes first");
            }
        }
    }

    /// A reader that hands out one byte per call, as a pipe may.
    struct Trickle(io::Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn magic_split_across_reads_is_still_seen() {
        let raw = zstd::encode_all(&b"trickled\n"[..], 3).unwrap();
        let (c, mut r) = decode(Box::new(Trickle(io::Cursor::new(raw)))).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((c, out), (Compression::Zstd, b"trickled\n".to_vec()));
    }
}
