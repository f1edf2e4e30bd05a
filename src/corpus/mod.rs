//! Input: where corpus bytes come from, how they are decompressed, cut into
//! blocks and parsed into documents.
//!
//! A [`Source`] is anything that can hand out its bytes from the start, as
//! often as asked: [`FileSource`] a file on disk, [`MemorySource`] a byte
//! string. The library opens no path of its own accord: the caller decides
//! which files make the corpus, by naming them or by asking [`walk`] to
//! walk the paths a user gave (the command line and the Python package
//! both do, so that they read the same files). Reading twice is the point: the
//! batch driver fingerprints everything in one pass and then re-reads only
//! the documents holding candidate paragraphs, instead of keeping the corpus
//! in memory.
//!
//! - [`compress`]: gzip (all members) and zstd, detected by magic bytes.
//! - [`block`]: the decoded stream cut into blocks at line boundaries, the
//!   unit of parallel work.
//! - [`jsonl`]: one JSON object per line, with the text and id fields named
//!   by [`JsonlFields`].
//! - [`warc`]: WARC records, as in Common Crawl's WET files.
//! - `parquet` (with the `parquet` feature): rows of a Parquet file, read
//!   in blocks of whole rows.
//! - [`record`]: the documents of a block of any format that holds many
//!   documents per input (JSON Lines, WET, Parquet), all alike.
//! - [`walk`]: the files and directories a user names, walked into inputs
//!   by the rules the command line documents.

pub mod block;
pub mod compress;
mod document;
mod file;
pub mod jsonl;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod pieces;
pub mod record;
pub mod walk;
pub mod warc;

pub use file::{FileSource, format_from_name};

use std::io::{self, Read, Seek};
use std::sync::Arc;

use crate::paragraph::ParagraphMode;
use block::{Block, Blocks, Cut};
use compress::Compression;

/// A reader that can also seek: what [`Source::open_seekable`] returns.
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// Something that can produce an input's raw bytes, from the start, each
/// time it is opened.
pub trait Source: Send + Sync {
    /// The name shown in reports and errors (usually the path).
    fn name(&self) -> &str;

    /// A fresh reader over the raw (possibly compressed) bytes.
    ///
    /// # Errors
    ///
    /// Returns the I/O error that prevented opening the input.
    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>>;

    /// The raw size in bytes, if known, for progress reporting.
    fn size_hint(&self) -> Option<u64> {
        None
    }

    /// A fresh reader over the raw bytes that can also seek, for formats
    /// whose index is at the end (Parquet). It owns what it reads from, so
    /// that readers can share it between threads. The default reads the
    /// whole input into memory; sources backed by a file should hand out
    /// the file.
    ///
    /// # Errors
    ///
    /// Returns the I/O error that prevented opening or reading the input.
    fn open_seekable(&self) -> io::Result<Box<dyn ReadSeek>> {
        let mut bytes = Vec::new();
        self.open()?.read_to_end(&mut bytes)?;
        Ok(Box::new(io::Cursor::new(bytes)))
    }
}

/// A [`Source`] over bytes in memory.
///
/// # Example
///
/// ```
/// use neardup::corpus::{MemorySource, Source};
/// use std::io::Read;
///
/// let src = MemorySource::new("a.txt", "hello\n");
/// let mut s = String::new();
/// src.open()?.read_to_string(&mut s)?;
/// assert_eq!(s, "hello\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MemorySource {
    name: String,
    bytes: Arc<[u8]>,
}

impl MemorySource {
    /// A source named `name` holding `bytes`.
    pub fn new(name: impl Into<String>, bytes: impl AsRef<[u8]>) -> MemorySource {
        MemorySource {
            name: name.into(),
            bytes: bytes.as_ref().into(),
        }
    }
}

impl Source for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(&self.bytes[..]))
    }

    fn size_hint(&self) -> Option<u64> {
        Some(self.bytes.len() as u64)
    }

    fn open_seekable(&self) -> io::Result<Box<dyn ReadSeek>> {
        Ok(Box::new(io::Cursor::new(self.bytes.clone())))
    }
}

/// How an input's decoded bytes are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain text: the whole input is one document.
    #[default]
    Text,
    /// JSON Lines: one document per line.
    Jsonl,
    /// WARC, as in Common Crawl's WET files: one document per `conversion`
    /// record, its id the `WARC-Record-ID`.
    Wet,
    /// Apache Parquet: one document per row. Reading it needs the
    /// `parquet` cargo feature (on by default).
    Parquet,
}

impl Format {
    /// The format's name on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Jsonl => "jsonl",
            Format::Wet => "wet",
            Format::Parquet => "parquet",
        }
    }
}

/// The format an input's first bytes announce, if they announce one:
/// Parquet (`PAR1`), or WARC (a `WARC/` version line, after decompression).
/// Plain text and JSON Lines have no such mark.
///
/// # Errors
///
/// Returns the I/O error that prevented reading the first bytes.
///
/// # Example
///
/// ```
/// use neardup::corpus::{sniff, Format, MemorySource};
///
/// let wet = MemorySource::new("x", "WARC/1.0\r\nWARC-Type: warcinfo\r\n");
/// assert_eq!(sniff(&wet)?, Some(Format::Wet));
/// assert_eq!(sniff(&MemorySource::new("y", "WARC is a format"))?, None);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sniff(source: &dyn Source) -> io::Result<Option<Format>> {
    Ok(probe(source)?.format)
}

/// How many decoded bytes [`looks_binary`] examines.
pub const BINARY_PROBE: usize = 8 * 1024;

/// Whether an input looks like a binary file rather than text: a NUL byte
/// in its first [`BINARY_PROBE`] bytes after decompression. This is the
/// test ripgrep and git use; text in any ASCII-compatible encoding has no
/// NUL bytes, while images, archives and executables have them early.
/// What to do with such a file is the caller's choice (the command line
/// skips it when it was found in a directory).
///
/// # Errors
///
/// Returns the I/O error that prevented reading the first bytes.
///
/// # Example
///
/// ```
/// use neardup::corpus::{looks_binary, MemorySource};
///
/// assert!(looks_binary(&MemorySource::new("x.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"))?);
/// assert!(!looks_binary(&MemorySource::new("x.txt", "plain text\n"))?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn looks_binary(source: &dyn Source) -> io::Result<bool> {
    Ok(probe(source)?.binary)
}

/// What a look at an input's first bytes tells: [`sniff`]'s format and
/// [`looks_binary`]'s verdict, from one read of the source (a walk over a
/// tree of small files asks both of every file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The format the content announces, if it does.
    pub format: Option<Format>,
    /// Whether the input looks like a binary file (never for Parquet,
    /// which is binary by design).
    pub binary: bool,
}

/// [`sniff`] and [`looks_binary`] at once.
///
/// # Errors
///
/// Returns the I/O error that prevented reading the first bytes.
///
/// # Example
///
/// ```
/// use neardup::corpus::{probe, Format, MemorySource};
///
/// let wet = probe(&MemorySource::new("x", "WARC/1.0\r\nWARC-Type: warcinfo\r\n"))?;
/// assert_eq!((wet.format, wet.binary), (Some(Format::Wet), false));
/// let png = probe(&MemorySource::new("x.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"))?;
/// assert_eq!((png.format, png.binary), (None, true));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn probe(source: &dyn Source) -> io::Result<Probe> {
    const PARQUET_MAGIC: &[u8] = b"PAR1";
    let mut raw = source.open()?;
    let mut magic = Vec::new();
    raw.by_ref()
        .take(PARQUET_MAGIC.len() as u64)
        .read_to_end(&mut magic)?;
    if magic == PARQUET_MAGIC {
        return Ok(Probe {
            format: Some(Format::Parquet),
            binary: false,
        });
    }
    let raw = Box::new(io::Cursor::new(magic).chain(raw));
    let (_, decoded) = compress::decode_buffered(raw, BINARY_PROBE)?;
    let mut head = Vec::with_capacity(BINARY_PROBE);
    decoded.take(BINARY_PROBE as u64).read_to_end(&mut head)?;
    if head.starts_with(PARQUET_MAGIC) {
        // Compressed as a whole: Parquet still, which its reader refuses
        // saying why, rather than binary text.
        return Ok(Probe {
            format: Some(Format::Parquet),
            binary: false,
        });
    }
    Ok(Probe {
        format: warc::is_warc(&head).then_some(Format::Wet),
        // UTF-16 text has NUL bytes too, but is text: reading it fails
        // with an error that says how to convert it, rather than a skip.
        binary: utf16_bom(&head).is_none() && memchr::memchr(0, &head).is_some(),
    })
}

/// The encoding a UTF-16 or UTF-32 byte-order mark at the start of `head`
/// announces. Those encodings are not ASCII-compatible, so reading them as
/// UTF-8 would give nonsense words; inputs that start with one are refused
/// with an error instead. (`FF FE` and `FE FF` never occur in UTF-8.)
///
/// # Example
///
/// ```
/// use neardup::corpus::utf16_bom;
///
/// assert_eq!(utf16_bom(b"\xff\xfeh\0i\0"), Some("UTF-16LE"));
/// assert_eq!(utf16_bom(b"\xef\xbb\xbfhi"), None); // UTF-8's own mark
/// ```
pub fn utf16_bom(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xff, 0xfe, 0, 0, ..] => Some("UTF-32LE"),
        [0, 0, 0xfe, 0xff, ..] => Some("UTF-32BE"),
        [0xff, 0xfe, ..] => Some("UTF-16LE"),
        [0xfe, 0xff, ..] => Some("UTF-16BE"),
        _ => None,
    }
}

/// The first `n` bytes of `reader` (fewer if the stream is shorter or
/// fails early), and a reader that gives them again followed by the rest
/// (or by the error, so that what came before it is still read first).
fn peek<'a>(mut reader: impl Read + Send + 'a, n: usize) -> (Vec<u8>, impl Read + Send + 'a) {
    let mut head = Vec::with_capacity(n);
    let error = (&mut reader).take(n as u64).read_to_end(&mut head).err();
    let rest = io::Cursor::new(head.clone()).chain(Failed(error).chain(reader));
    (head, rest)
}

/// A reader that fails once with its error, if it has one, and then ends.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// The fields of a JSON Lines record (or the columns of a Parquet file)
/// that neardup reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JsonlFields {
    /// The field holding the document text (default `text`).
    pub text: String,
    /// The field holding the document id (default `id`); records without it
    /// are identified by their line (or row) number.
    pub id: String,
}

impl Default for JsonlFields {
    fn default() -> JsonlFields {
        JsonlFields {
            text: "text".to_owned(),
            id: "id".to_owned(),
        }
    }
}

/// The blocks of an input ([`Input::blocks`]).
pub(crate) type BoxedBlocks<'a> = Box<dyn Iterator<Item = io::Result<Block>> + 'a>;

/// One input of a scan: a source and the format of its decoded bytes.
pub struct Input {
    /// Where the bytes come from.
    pub source: Box<dyn Source>,
    /// How to read them.
    pub format: Format,
}

impl Input {
    /// An input of `format` reading from `source`.
    pub fn new(source: impl Source + 'static, format: Format) -> Input {
        Input {
            source: Box::new(source),
            format,
        }
    }
}

impl Input {
    /// The input cut into blocks of about `size` bytes (smaller for an
    /// input of fewer than 64 such blocks: [`block::block_size_for`]): its decoded bytes
    /// cut at line ends (after blank lines for plain text in `paragraphs`
    /// blank-line mode; after whole records for WET), or for Parquet its
    /// rows packed into blocks. `counted` is told the raw bytes each read
    /// takes, for progress displays (a Parquet input, read out of order,
    /// tells nothing).
    ///
    /// # Errors
    ///
    /// Returns an error if the input cannot be opened, its compression or
    /// Parquet footer cannot be read, or it is Parquet and this build lacks
    /// the `parquet` feature. Errors while reading come as items.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::corpus::{Format, Input, JsonlFields, MemorySource};
    /// use neardup::paragraph::ParagraphMode;
    ///
    /// let input = Input::new(MemorySource::new("a.txt", "one\ntwo\n"), Format::Text);
    /// let blocks = input.blocks(ParagraphMode::Line, &JsonlFields::default(), 4, |_| {})?;
    /// let lines: Vec<u64> = blocks.map(|b| b.map(|b| b.first_line)).collect::<Result<_, _>>()?;
    /// assert_eq!(lines, [0, 1]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocks<'a>(
        &'a self,
        paragraphs: ParagraphMode,
        fields: &JsonlFields,
        size: usize,
        mut counted: impl FnMut(u64) + Send + 'a,
    ) -> io::Result<Box<dyn Iterator<Item = io::Result<Block>> + 'a>> {
        let counted = move |raw: &[u8]| counted(raw.len() as u64);
        self.decoded_blocks(paragraphs, fields, size, counted)
            .map(|(_, blocks)| blocks)
    }

    /// [`Input::blocks`], and the compression they were decoded from
    /// (none for Parquet, whose pages are decoded apart). `seen` is given
    /// the raw bytes as they are read, in order (not for Parquet).
    pub(crate) fn decoded_blocks<'a>(
        &'a self,
        paragraphs: ParagraphMode,
        fields: &JsonlFields,
        size: usize,
        seen: impl FnMut(&[u8]) + Send + 'a,
    ) -> io::Result<(Compression, BoxedBlocks<'a>)> {
        let size = block::block_size_for(size, self.source.size_hint());
        let cut = match (self.format, paragraphs) {
            (Format::Parquet, _) => {
                return Ok((Compression::None, self.parquet_blocks(fields, size)?));
            }
            (Format::Text, ParagraphMode::BlankLine) => Cut::BlankLine,
            (Format::Wet, _) => Cut::Warc,
            (Format::Text | Format::Jsonl, _) => Cut::Line,
        };
        let raw = self.source.open()?;
        // A small file's buffer is its size (and one more byte, to see
        // its end in the same read).
        let buffer = match self.source.size_hint() {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX).saturating_add(1),
            None => usize::MAX,
        };
        let (compression, stream, members) =
            compress::decode_indexed(Box::new(Seen { inner: raw, seen }), buffer)?;
        let (head, stream) = peek(stream, 4);
        if let Some(encoding) = utf16_bom(&head) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{encoding} text (it starts with a byte-order mark); neardup reads UTF-8: \
                     convert it first, e.g. `iconv -f {} -t UTF-8`",
                    &encoding[..6]
                ),
            ));
        }
        let blocks = Blocks::new(stream, cut, size)
            .with_members(members)
            .expecting(self.source.size_hint());
        Ok((compression, Box::new(blocks)))
    }

    #[cfg(feature = "parquet")]
    fn parquet_blocks(
        &self,
        fields: &JsonlFields,
        size: usize,
    ) -> io::Result<Box<dyn Iterator<Item = io::Result<Block>> + '_>> {
        refuse_compressed_parquet(&mut self.source.open()?)?;
        let reader = self.source.open_seekable()?;
        Ok(Box::new(parquet::Blocks::new(reader, fields, size)?))
    }

    #[cfg(not(feature = "parquet"))]
    fn parquet_blocks(
        &self,
        _: &JsonlFields,
        _: usize,
    ) -> io::Result<Box<dyn Iterator<Item = io::Result<Block>> + '_>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this neardup was built without Parquet support (cargo feature `parquet`)",
        ))
    }
}

/// A Parquet file is read in place (its pages are compressed inside, its
/// footer is at its end): one compressed as a whole is refused, saying
/// what to do, rather than reported as a corrupt footer.
#[cfg(feature = "parquet")]
fn refuse_compressed_parquet(raw: &mut dyn Read) -> io::Result<()> {
    let mut head = Vec::with_capacity(4);
    raw.take(4).read_to_end(&mut head)?;
    let how = match compress::detect(&head) {
        compress::Compression::None => return Ok(()),
        compress::Compression::Gzip => "gzip: `gunzip` it",
        compress::Compression::Zstd => "zstd: `unzstd` it",
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "a Parquet file compressed as a whole ({how} first); Parquet compresses its \
             pages itself and is read in place"
        ),
    ))
}

/// Shows a callback the bytes each read took.
struct Seen<R, F> {
    inner: R,
    seen: F,
}

impl<R: Read, F: FnMut(&[u8])> Read for Seen<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.seen)(&buf[..n]);
        Ok(n)
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.source.name())
            .field("format", &self.format)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn blocks(input: &Input) -> io::Result<Vec<io::Result<Vec<u8>>>> {
        let fields = JsonlFields::default();
        let blocks = input.blocks(ParagraphMode::Line, &fields, 1, |_| {})?;
        Ok(blocks.map(|b| b.map(|b| b.data)).collect())
    }

    #[test]
    fn utf16_and_utf32_are_refused_by_name() {
        for (head, name) in [
            (&b"\xff\xfea\0\n\0"[..], "UTF-16LE"),
            (b"\xfe\xff\0a\0\n", "UTF-16BE"),
            (b"\xff\xfe\0\0a\0\0\0", "UTF-32LE"),
            (b"\0\0\xfe\xffa", "UTF-32BE"),
        ] {
            let input = Input::new(MemorySource::new("w.txt", head), Format::Text);
            let err = blocks(&input).expect_err(name);
            assert!(
                err.to_string().starts_with(&format!("{name} text")),
                "{err}"
            );
            let iconv = format!("iconv -f {} -t UTF-8", &name[..6]);
            assert!(err.to_string().contains(&iconv), "{err}");
            assert!(!looks_binary(&*input.source).unwrap(), "{name}");
        }
        // Two bytes that are not a mark, and UTF-8's own mark, are read.
        for text in [&b"a\n"[..], b"\xef\xbb\xbfa\n", b"\xff"] {
            let input = Input::new(MemorySource::new("t.txt", text), Format::Text);
            let read: Vec<u8> = blocks(&input)
                .unwrap()
                .into_iter()
                .flatten()
                .flatten()
                .collect();
            assert_eq!(read, text);
        }
    }

    #[test]
    fn a_small_input_is_cut_into_smaller_blocks() {
        // 1 MiB of 64-byte lines: under 64 blocks of 1 MiB, so it is cut
        // into blocks of the smallest size, four of them.
        let line = format!("{:63}\n", "a line of text");
        let text = line.repeat((1 << 20) / 64);
        assert_eq!(text.len(), 1 << 20);
        let input = Input::new(MemorySource::new("t.txt", text), Format::Text);
        let fields = JsonlFields::default();
        let sizes: Vec<usize> = input
            .blocks(
                ParagraphMode::Line,
                &fields,
                block::DEFAULT_BLOCK_SIZE,
                |_| {},
            )
            .unwrap()
            .map(|b| b.unwrap().data.len())
            .collect();
        assert_eq!(sizes, [block::MIN_BLOCK_SIZE; 4]);
    }

    #[test]
    fn a_stream_that_fails_in_its_first_bytes_gives_them_first() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"a\n").unwrap();
        let mut data = gz.finish().unwrap();
        data.truncate(data.len() - 4); // cut into the trailer
        let input = Input::new(MemorySource::new("t.txt.gz", data), Format::Text);
        let items = blocks(&input).unwrap();
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap(), b"a\n");
        assert!(
            items[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
    }
}
