//! Input: where corpus bytes come from, how they are decompressed, cut into
//! blocks and parsed into documents.
//!
//! The library never opens a path. A [`Source`] is anything that can hand
//! out its bytes from the start, as often as asked: the command line wraps
//! files in it, tests wrap byte strings. Reading twice is the point: the
//! batch driver fingerprints everything in one pass and then re-reads only
//! the documents holding candidate paragraphs, instead of keeping the corpus
//! in memory.
//!
//! - [`compress`]: gzip (all members) and zstd, detected by magic bytes.
//! - [`block`]: the decoded stream cut into blocks at line boundaries, the
//!   unit of parallel work.
//! - [`jsonl`]: one JSON object per line, with the text and id fields named
//!   by [`JsonlFields`].

pub mod block;
pub mod compress;
pub mod jsonl;

use std::io::{self, Read};
use std::sync::Arc;

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
}

/// How an input's decoded bytes are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain text: the whole input is one document.
    #[default]
    Text,
    /// JSON Lines: one document per line.
    Jsonl,
}

/// The fields of a JSON Lines record that neardup reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JsonlFields {
    /// The field holding the document text (default `text`).
    pub text: String,
    /// The field holding the document id (default `id`); records without it
    /// are identified by their line number.
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

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.source.name())
            .field("format", &self.format)
            .finish()
    }
}
