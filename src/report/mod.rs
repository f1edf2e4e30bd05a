//! Output: the findings of a scan as data, and one renderer per output
//! format.
//!
//! [`Report`] is plain data; the renderers ([`text`], [`json`]) turn it
//! into bytes on any `io::Write`. Printing to a terminal, choosing colour and
//! exit codes are the binary's business.

pub mod json;
mod pretty;
pub mod text;
pub mod top;
pub mod wire;

use std::io;
use std::sync::Arc;

use crate::id::{DocId, InputId};
use crate::{Config, Error, Similarity};

/// Everything a scan found.
#[derive(Debug)]
pub struct Report {
    /// Counts over the whole scan.
    pub summary: Summary,
    /// The settings the scan ran with.
    pub config: Config,
    /// One cluster per kept paragraph that has duplicates, in input order.
    pub clusters: Vec<Cluster>,
    /// Runs of consecutive duplicate paragraphs repeating consecutive
    /// paragraphs elsewhere, in input order. Every duplicate belongs to
    /// exactly one passage (possibly of length one).
    pub passages: Vec<Passage>,
    /// Paragraphs read from each input, in input order.
    pub paragraphs_by_input: Vec<u64>,
    /// Problems with the input (unreadable files, malformed records). The
    /// rest of the input was still scanned.
    pub diagnostics: Vec<Error>,
    /// Wall time of each stage (fingerprint, group, verify, report). Not
    /// part of any output format, which must not vary between runs.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Paragraphs found inside longer ones (`crate::containment`), when
    /// asked for; empty otherwise.
    pub contained: Vec<Contained>,
}

/// A paragraph found inside a longer one (a quote), verified exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contained {
    /// The shorter paragraph.
    pub short: Location,
    /// The longer paragraph that holds it.
    pub long: Location,
    /// Shingles of the shorter paragraph that the longer one has ...
    pub shared: u32,
    /// ... of its shingles.
    pub of: u32,
    /// The longest shared run of words: its word positions (0-based,
    /// normalised tokens) in the shorter paragraph ...
    pub short_words: std::ops::Range<usize>,
    /// ... and in the longer one.
    pub long_words: std::ops::Range<usize>,
    /// The words of the shorter and the longer paragraph.
    pub words: (usize, usize),
    /// The content hashes of the shorter and the longer paragraph (as
    /// [`Member::content`]): what identifies the finding when lines move.
    pub content: (u64, u64),
}

impl Contained {
    /// The paragraph of the scan's inputs the finding is about — the
    /// shorter, unless it is an index's (a scan against an index: an
    /// input's paragraph then holds an indexed one) — and the other one.
    pub fn in_inputs(&self) -> (&Location, &Location) {
        if self.short.batch.is_some() {
            (&self.long, &self.short)
        } else {
            (&self.short, &self.long)
        }
    }

    /// `shared / of`.
    pub fn containment(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            f64::from(self.shared) / f64::from(self.of)
        }
    }
}

/// Counts over a scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Inputs given (files, stdin).
    pub inputs: u64,
    /// Documents read.
    pub documents: u64,
    /// Paragraphs read.
    pub paragraphs: u64,
    /// Paragraphs with at least `min_words` tokens, which were fingerprinted.
    pub fingerprinted: u64,
    /// Paragraphs with at least `min_words` tokens that the allowlist
    /// dropped ([`crate::allow`]); not counted in `fingerprinted`.
    pub allowed: u64,
    /// Paragraphs flagged as duplicates of an earlier kept paragraph.
    pub duplicate_paragraphs: u64,
    /// Duplicates whose kept paragraph is in the same document.
    pub within_document: u64,
    /// Duplicates whose kept paragraph is in another document.
    pub cross_document: u64,
    /// Kept paragraphs with at least one duplicate.
    pub clusters: u64,
    /// Repeated passages.
    pub passages: u64,
    /// Bytes of input read in the first pass (after decompression).
    pub bytes_read: u64,
    /// Candidate pairs whose exact similarity was computed.
    pub comparisons: u64,
    /// Documents with nothing to compare: empty, blank, or without a
    /// paragraph of `min_words` tokens (or with only allowlisted ones).
    pub empty_documents: u64,
    /// Lines (in WET and Parquet inputs: records) that were not valid
    /// UTF-8 and were decoded with replacement characters.
    pub invalid_utf8: u64,
}

impl Summary {
    /// Duplicate paragraphs as a fraction of all paragraphs.
    pub fn duplicate_ratio(&self) -> f64 {
        if self.paragraphs == 0 {
            0.0
        } else {
            self.duplicate_paragraphs as f64 / self.paragraphs as f64
        }
    }
}

/// Where a paragraph is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The input's name (its path as given).
    pub path: Arc<str>,
    /// The input's number in the scan's list of inputs.
    pub input: InputId,
    /// The document id: the JSONL id field (a number as its exact JSON text), the
    /// record's line number when it has none, the path for plain text.
    pub doc: Arc<str>,
    /// The address of the page the document was taken from, when the input
    /// records one (WET: `WARC-Target-URI`).
    pub url: Option<Arc<str>>,
    /// The document's number in the whole scan, in input order.
    pub doc_index: DocId,
    /// Where the document starts in its input: 1 for plain text, the
    /// 1-based line of a JSON Lines record or of a WARC record's version
    /// line, the 1-based row of a Parquet file. Unique within the input.
    pub doc_line: u64,
    /// 0-based index of the paragraph in its document.
    pub paragraph: u32,
    /// 1-based line of the input where the paragraph starts.
    pub line: u64,
    /// Byte offset of the paragraph's start in the document text.
    pub start: u64,
    /// Byte offset just past its end.
    pub end: u64,
    /// For a paragraph of an index (a scan against one): the index batch
    /// it was added with. `input` is then its input's number within that
    /// batch and `doc_index` comes after the scan's own documents. `None`
    /// for the scan's own inputs.
    pub batch: Option<Arc<str>>,
}

/// A paragraph in a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Where it is.
    pub location: Location,
    /// The start of its text, for people to recognise it.
    pub snippet: String,
    /// Its whole text, when the scan was asked to keep it
    /// ([`crate::pipeline::ScanOptions::full_text`]) and it is a duplicate.
    pub text: Option<String>,
    /// Its content hash ([`crate::Fingerprint::content`]): equal for
    /// paragraphs whose normalised text is equal, and stable across
    /// machines and releases with the same [`crate::hash::FORMAT_VERSION`],
    /// so it can identify the paragraph in files kept between runs (a CI
    /// baseline) where a line number would go stale.
    pub content: u64,
}

/// Whether a duplicate repeats a paragraph of its own document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The kept paragraph is in the same document (a doubled paragraph).
    WithinDocument,
    /// The kept paragraph is in another document (syndication,
    /// boilerplate).
    CrossDocument,
}

impl Kind {
    /// The name used in machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WithinDocument => "within-document",
            Kind::CrossDocument => "cross-document",
        }
    }
}

/// A duplicate paragraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The duplicate.
    pub member: Member,
    /// Its exact Jaccard similarity to the kept paragraph.
    pub similarity: Similarity,
    /// Within or across documents.
    pub kind: Kind,
}

/// A kept paragraph and the paragraphs flagged as its duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// The first occurrence, which cleaning keeps.
    pub kept: Member,
    /// Its duplicates, in input order.
    pub duplicates: Vec<Duplicate>,
}

/// A run of consecutive paragraphs of one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The first paragraph of the run.
    pub first: Location,
    /// Where the last paragraph of the run is (the first, for one
    /// paragraph). Only what differs from `first` is kept: a report of a
    /// million one-paragraph passages should not hold two million more
    /// locations.
    pub last: End,
}

/// The last paragraph of a [`Span`]: same input and document as the
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    /// 0-based index of the paragraph in its document.
    pub paragraph: u32,
    /// 1-based line of the input where the paragraph starts.
    pub line: u64,
    /// Byte offset just past the paragraph's end in the document text.
    pub end: u64,
}

impl From<&Location> for End {
    fn from(l: &Location) -> End {
        End {
            paragraph: l.paragraph,
            line: l.line,
            end: l.end,
        }
    }
}

/// Consecutive duplicate paragraphs that repeat consecutive paragraphs of
/// one document: "lines 8–9 repeat lines 6–7".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    /// The repeated run.
    pub repeat: Span,
    /// The run it repeats.
    pub original: Span,
    /// Number of paragraphs in each run.
    pub paragraphs: u32,
    /// The lowest similarity of the paragraph pairs in the passage.
    pub min_similarity: Similarity,
    /// Within or across documents.
    pub kind: Kind,
}

/// The start of a paragraph's text, white space collapsed, for display.
pub(crate) fn snippet(text: &str) -> String {
    const MAX_CHARS: usize = 72;
    // Most lines are ASCII with single spaces between words: then the
    // collapsed text's first 72 characters are the text's first 72 bytes
    // (a line repeated a million times makes a million snippets). Only the
    // first 73 bytes need to be simple for that: each space among the first
    // 72 is then followed by a word within them or at byte 72, so none is
    // collapsed away, and the rest of the text only decides the ellipsis.
    let b = text.as_bytes();
    let head = &b[..b.len().min(MAX_CHARS + 1)];
    let simple = head.first().is_none_or(|&c| c != b' ')
        && head
            .iter()
            .all(|&c| c.is_ascii() && (c == b' ' || !c.is_ascii_whitespace()))
        && !head.windows(2).any(|w| w == b"  ");
    if simple && b.len() <= MAX_CHARS {
        if b.last().is_none_or(|&c| c != b' ') {
            return text.to_owned();
        }
    } else if simple {
        let mut out = String::with_capacity(MAX_CHARS + 3);
        if text[MAX_CHARS..].split_whitespace().next().is_some() {
            out.push_str(text[..MAX_CHARS].trim_end());
            out.push('…');
        } else {
            out.push_str(&text[..MAX_CHARS]);
        }
        return out;
    }
    let mut words = text
        .split_whitespace()
        .flat_map(|w| std::iter::once(' ').chain(w.chars()))
        .skip(1);
    let mut out: String = words.by_ref().take(MAX_CHARS).collect();
    if words.next().is_some() {
        out.truncate(out.trim_end().len());
        out.push('…');
    }
    out
}

/// An output format.
pub trait Render {
    /// Writes `report` to `out`.
    ///
    /// # Errors
    ///
    /// Returns the error of the underlying writer.
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()>;
}
