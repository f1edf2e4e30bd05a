//! Cleaning: a scan's report and an input in, the input without its
//! duplicate paragraphs out.
//!
//! Every paragraph a [`Report`] lists as a duplicate is removed; the kept
//! paragraph of each cluster (its first occurrence) stays, and so does every
//! other byte of the input. One writer per format:
//!
//! - `text`: a plain text input is one document; the removed paragraphs'
//!   lines are left out and blank lines between paragraphs are kept by the
//!   rule that module (`rewrite/text.rs`) describes.
//! - `jsonl`: records without removals are copied byte for byte; in the
//!   others only the text field's value is replaced, so every other field,
//!   its formatting and the field order stay as they were.
//! - `wet`: WARC records without removals are copied byte for byte; in
//!   the others the body loses the removed paragraphs and the header gets
//!   the new `Content-Length` and block digest. Each record ends with
//!   [`Output::end_record`], so a gzip output gets a member per record, as
//!   Common Crawl's files have.
//! - `parquet` (feature `parquet`): the file is written with the same
//!   schema, row groups and metadata; every column but the text column is
//!   copied as encoded, the text column re-encoded with the input's codec.
//!
//! The input is read a third time (after the scan's two passes). Each
//! removed paragraph is checked against the report (its position and its
//! snippet), so an input that changed since the scan is reported instead of
//! being cut in the wrong places.

mod jsonl;
pub mod log;
#[cfg(feature = "parquet")]
mod parquet;
pub mod target;
pub(crate) mod text;
mod wet;

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read as _, Write};

use crate::Error;
use crate::corpus::compress::{self, Compression, Encoder};
use crate::corpus::{Format, Input, JsonlFields};
use crate::id::InputId;
use crate::paragraph::ParagraphMode;
use crate::report::{Contained, Duplicate, Location, Member, Report};

/// A paragraph to remove, and why.
#[derive(Clone, Copy, Debug)]
pub enum Removal<'r> {
    /// A near-duplicate of a kept paragraph.
    Duplicate {
        /// The duplicate paragraph.
        duplicate: &'r Duplicate,
        /// The first occurrence, which stays.
        kept: &'r Member,
    },
    /// A paragraph inside a longer kept paragraph, which stays
    /// ([`Removals::with_contained`]).
    Contained(&'r Contained),
}

impl<'r> Removal<'r> {
    /// Where the removed paragraph is.
    pub fn location(self) -> &'r Location {
        match self {
            Removal::Duplicate { duplicate, .. } => &duplicate.member.location,
            Removal::Contained(c) => &c.short,
        }
    }

    /// The paragraph that stays and holds its words.
    pub fn kept(self) -> &'r Location {
        match self {
            Removal::Duplicate { kept, .. } => &kept.location,
            Removal::Contained(c) => &c.long,
        }
    }

    /// The removed paragraph's snippet, when the report has it.
    fn snippet(self) -> Option<&'r str> {
        match self {
            Removal::Duplicate { duplicate, .. } => Some(&duplicate.member.snippet),
            Removal::Contained(_) => None,
        }
    }
}

/// The paragraphs to remove from one input: per document (keyed by the
/// line or row its record starts on; 0 for a plain text input, which is
/// one document), the paragraphs' indices, ascending.
type InputPlan<'r> = BTreeMap<u64, Vec<(u32, Removal<'r>)>>;

/// What to remove from each input of a scan.
///
/// # Example
///
/// ```
/// use neardup::corpus::{Format, Input, MemorySource};
/// use neardup::pipeline::{scan, ScanOptions, Silent};
/// use neardup::rewrite::{CleanOptions, Removals, rewrite};
/// use neardup::Config;
///
/// let text = "Storm closes the harbour road for a second day.\n\
///             \n\
///             Council crews cleared the debris by noon.\n\
///             Storm closes the harbour road for a second day.\n";
/// let inputs = [Input::new(MemorySource::new("a.txt", text), Format::Text)];
/// let report = scan(&inputs, &Config::default(), &ScanOptions::default(), &Silent)?;
/// let removals = Removals::new(&report, &inputs);
/// let mut out = Vec::new();
/// let first = neardup::id::InputId::new(0);
/// let stats = rewrite(&inputs[0], first, &removals, &CleanOptions::default(), &mut out, |_| Ok(()))?;
/// assert_eq!(stats.removed, 1);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "Storm closes the harbour road for a second day.\n\
///      \n\
///      Council crews cleared the debris by noon.\n"
/// );
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Debug)]
pub struct Removals<'r> {
    inputs: Vec<InputPlan<'r>>,
    formats: Vec<Format>,
}

impl<'r> Removals<'r> {
    /// Every duplicate of `report`, which is a scan of `inputs`.
    pub fn new(report: &'r Report, inputs: &[Input]) -> Removals<'r> {
        let mut plans: Vec<InputPlan<'r>> = vec![BTreeMap::new(); inputs.len()];
        for cluster in &report.clusters {
            for duplicate in &cluster.duplicates {
                let at = &duplicate.member.location;
                let Some(plan) = plans.get_mut(at.input.index()) else {
                    continue;
                };
                let doc = match inputs[at.input].format {
                    Format::Text => 0,
                    _ => at.doc_line,
                };
                let removal = Removal::Duplicate {
                    duplicate,
                    kept: &cluster.kept,
                };
                plan.entry(doc).or_default().push((at.paragraph, removal));
            }
        }
        for plan in &mut plans {
            for list in plan.values_mut() {
                list.sort_by_key(|&(paragraph, _)| paragraph);
            }
        }
        Removals {
            inputs: plans,
            formats: inputs.iter().map(|i| i.format).collect(),
        }
    }

    /// Also removes the shorter paragraph of each finding of `contained`
    /// (once, if it is inside several longer ones: the first finding
    /// names the one it is removed for). The longer paragraphs stay.
    pub fn with_contained(mut self, contained: &'r [Contained]) -> Removals<'r> {
        for c in contained {
            let at = &c.short;
            if at.batch.is_some() {
                // A paragraph of an index, not of the inputs.
                continue;
            }
            let (Some(plan), Some(&format)) = (
                self.inputs.get_mut(at.input.index()),
                self.formats.get(at.input.index()),
            ) else {
                continue;
            };
            let doc = match format {
                Format::Text => 0,
                _ => at.doc_line,
            };
            let list = plan.entry(doc).or_default();
            match list.binary_search_by_key(&at.paragraph, |&(p, _)| p) {
                Ok(_) => {}
                Err(i) => list.insert(i, (at.paragraph, Removal::Contained(c))),
            }
        }
        self
    }

    /// The number of contained paragraphs to remove, over every input.
    pub fn contained(&self) -> usize {
        self.inputs
            .iter()
            .flat_map(|plan| plan.values().flatten())
            .filter(|(_, r)| matches!(r, Removal::Contained(_)))
            .count()
    }

    /// What to remove from input `input`.
    fn of(&self, input: InputId) -> &InputPlan<'r> {
        static EMPTY: InputPlan<'static> = BTreeMap::new();
        self.inputs.get(input.index()).unwrap_or(&EMPTY)
    }

    /// The number of paragraphs to remove from input `input`.
    pub fn count(&self, input: InputId) -> usize {
        self.of(input).values().map(Vec::len).sum()
    }
}

/// How to clean.
#[derive(Clone, Debug, Default)]
pub struct CleanOptions {
    /// How documents were cut into paragraphs (as in the scan's
    /// [`crate::Config`]).
    pub paragraphs: ParagraphMode,
    /// Fields of JSON Lines records.
    pub fields: JsonlFields,
    /// Leave out documents whose every paragraph was removed, instead of
    /// keeping them with empty text.
    pub drop_empty: bool,
}

/// Where [`rewrite`] writes: the cleaned input's decoded bytes, and where
/// each record ends, so that an output compressing a member per record
/// can start a new member there.
pub trait Output: Write {
    /// The bytes written so far end a record (of WET; other formats do not
    /// call it). The default does nothing.
    ///
    /// # Errors
    ///
    /// Returns the error of writing out what the record's end completes.
    fn end_record(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output for Vec<u8> {}

impl<W: Write> Output for Encoder<W> {
    fn end_record(&mut self) -> io::Result<()> {
        Encoder::end_record(self)
    }
}

/// What happened to one paragraph or document, for the removal log.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A paragraph was removed.
    Removed {
        /// Which one, and what it repeats.
        removal: Removal<'a>,
        /// Its whole text (decoded lossily if it was not UTF-8).
        text: &'a str,
    },
    /// A document lost all its paragraphs and was left out
    /// ([`CleanOptions::drop_empty`]).
    Dropped {
        /// The document id, as in the report.
        doc: &'a str,
        /// The line of the input it started on.
        line: u64,
    },
}

/// Counts for one cleaned input. A plain text input that was dropped
/// (`dropped == 1`) should not be written at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Paragraphs removed.
    pub removed: u64,
    /// Documents left out because they became empty.
    pub dropped: u64,
    /// Documents whose every paragraph was removed (dropped or not).
    pub emptied: u64,
    /// Decoded bytes read.
    pub bytes_in: u64,
    /// Decoded bytes written.
    pub bytes_out: u64,
}

impl std::ops::AddAssign<&Stats> for Stats {
    /// Counts both: the totals over several inputs, or parts of one.
    fn add_assign(&mut self, other: &Stats) {
        self.removed += other.removed;
        self.dropped += other.dropped;
        self.emptied += other.emptied;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
    }
}

/// Cleans input number `index` of the scan into `out`, compressed with
/// `compression` (`None`: as the input is compressed; a WET output gets a
/// gzip member per record, as Common Crawl's files have), appending each
/// removal's line of the removal log ([`log`]) to `log` when given.
/// Returns the counts and `out`, flushed. What `neardup clean` does for
/// each input, and what the Python package and the shard jobs of a
/// spread clean do.
///
/// A JSON Lines input is cleaned on every thread of the pool (its
/// records in chunks, written in order); the others on the caller's.
///
/// # Errors
///
/// As [`rewrite`]; a failure to write is an I/O error naming `output`.
pub fn clean_input<W: Write>(
    input: &Input,
    index: InputId,
    removals: &Removals<'_>,
    options: &CleanOptions,
    compression: Option<Compression>,
    (out, output): (W, &str),
    mut log: Option<&mut Vec<u8>>,
) -> Result<(Stats, W), Error> {
    let name = input.source.name();
    let compression = match compression {
        Some(c) => c,
        None => {
            let mut head = Vec::with_capacity(4);
            input
                .source
                .open()
                .and_then(|r| r.take(4).read_to_end(&mut head))
                .map_err(|e| Error::io(name, e))?;
            compress::detect(&head)
        }
    };
    if input.format == Format::Parquet && compression != Compression::None {
        return Err(Error::config(format!(
            "{output}: a cleaned Parquet file is written as Parquet, whose pages are \
             compressed inside (with the input's codec): name it .parquet, without .gz or .zst"
        )));
    }
    let writing = |e: io::Error| Error::io(output, e);
    let buffered = io::BufWriter::with_capacity(64 * 1024, out);
    let mut out = match input.format {
        Format::Wet => Encoder::per_record(compression, buffered),
        _ => Encoder::new(compression, buffered),
    }
    .map_err(writing)?;
    let stats = if input.format == Format::Jsonl {
        let plan = removals.of(index);
        let reader = decoded(input)?;
        jsonl::rewrite_on_pool(name, reader, plan, options, &mut out, log, CHUNK)?
    } else {
        rewrite(input, index, removals, options, &mut out, |event| {
            if let Some(log) = log.as_deref_mut() {
                log::write_line(log, name, event);
            }
            Ok(())
        })?
    };
    let out = out
        .finish()
        .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
        .map_err(writing)?;
    Ok((stats, out))
}

/// Writes input number `index` of the scan to `out` (decoded: the caller
/// chooses the compression) without the
/// paragraphs in `removals`, calling `log` for each removed paragraph and
/// dropped document in input order.
///
/// Malformed JSON Lines and WARC records are copied unchanged: they were
/// not scanned, so nothing in them is known to be a duplicate. A Parquet
/// input cannot lose rows: with [`CleanOptions::drop_empty`] it is an
/// error.
///
/// # Errors
///
/// Returns an error naming the input when it cannot be read or written, when
/// it no longer holds the paragraphs the report lists (it changed since the
/// scan), or the error `log` returned.
pub fn rewrite(
    input: &Input,
    index: InputId,
    removals: &Removals<'_>,
    options: &CleanOptions,
    out: &mut dyn Output,
    mut log: impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    let name = input.source.name();
    let plan = removals.of(index);
    if input.format == Format::Parquet {
        return parquet_input(input, plan, options, out, &mut log);
    }
    let reader = decoded(input)?;
    match input.format {
        Format::Text => {
            let list = plan.get(&0).map_or(&[][..], Vec::as_slice);
            text_input(name, reader, list, options, out, &mut log)
        }
        Format::Jsonl => jsonl::rewrite(name, reader, plan, options, out, &mut log),
        Format::Wet => wet::rewrite(name, reader, plan, options, out, &mut log),
        Format::Parquet => unreachable!("read above as Parquet"),
    }
}

/// The bytes of a chunk of a JSON Lines input cleaned on the pool.
const CHUNK: usize = 1 << 20;

/// `input`'s bytes, decompressed.
fn decoded(input: &Input) -> Result<BufReader<Box<dyn io::Read + Send + '_>>, Error> {
    let io_error = |e: io::Error| Error::io(input.source.name(), e);
    let raw = input.source.open().map_err(io_error)?;
    let (_, decoded) = compress::decode(raw).map_err(io_error)?;
    Ok(BufReader::with_capacity(256 * 1024, decoded))
}

#[cfg(feature = "parquet")]
fn parquet_input(
    input: &Input,
    plan: &InputPlan<'_>,
    options: &CleanOptions,
    out: &mut dyn Output,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    parquet::rewrite(input, plan, options, out, log)
}

#[cfg(not(feature = "parquet"))]
fn parquet_input(
    input: &Input,
    _: &InputPlan<'_>,
    _: &CleanOptions,
    _: &mut dyn Output,
    _: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    Err(Error::io(
        input.source.name(),
        io::Error::new(
            io::ErrorKind::Unsupported,
            "this neardup was built without Parquet support (cargo feature `parquet`)",
        ),
    ))
}

fn text_input(
    name: &str,
    reader: impl io::BufRead,
    list: &[(u32, Removal<'_>)],
    options: &CleanOptions,
    out: &mut dyn Write,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    let offsets = Decoded::default();
    let outcome = cut_document(
        name,
        reader,
        &offsets,
        list,
        options,
        out,
        |cut| cut.line + 1,
        log,
    )?;
    let dropped = outcome.emptied && options.drop_empty;
    if dropped {
        log(Event::Dropped { doc: name, line: 1 })?;
    }
    Ok(Stats {
        removed: list.len() as u64,
        dropped: u64::from(dropped),
        emptied: u64::from(outcome.emptied),
        bytes_in: outcome.bytes_in,
        bytes_out: outcome.bytes_out,
    })
}

/// Copies one document from `text` to `out` without the paragraphs in
/// `list`, checking each cut against the report and logging it; `line_of`
/// gives the input line a cut is reported at, `offsets` how the report
/// measures its byte range.
#[allow(clippy::too_many_arguments)]
fn cut_document(
    name: &str,
    text: impl io::BufRead,
    offsets: &Decoded,
    list: &[(u32, Removal<'_>)],
    options: &CleanOptions,
    out: &mut dyn Write,
    line_of: impl Fn(&text::Cut<'_>) -> u64,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<text::Outcome, Error> {
    let indices: Vec<u32> = list.iter().map(|&(p, _)| p).collect();
    let mut checked = Checked::new(name, list, offsets);
    let outcome = text::remove_paragraphs(text, options.paragraphs, &indices, out, |cut| {
        let line = line_of(&cut);
        checked.next(cut, line, log)
    })
    .map_err(|e: Failure| e.into_error(name))?;
    checked.finish()?;
    Ok(outcome)
}

/// An error while rewriting: from I/O (named by the caller) or already
/// complete.
enum Failure {
    Io(io::Error),
    Done(Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Io(e)
    }
}

impl Failure {
    fn into_error(self, name: &str) -> Error {
        match self {
            Failure::Io(e) => Error::io(name, e),
            Failure::Done(e) => e,
        }
    }
}

/// Where the byte offsets of a document's bytes fall once it is decoded
/// as UTF-8 with U+FFFD for each invalid sequence: the scan of a record
/// format measures paragraphs in the decoded text, while the writers cut
/// the bytes as they are, to keep them. Empty (offsets unchanged) for
/// valid UTF-8 and for plain text, which the scan measures in bytes.
#[derive(Debug, Default)]
struct Decoded {
    /// After each invalid sequence: its end in the bytes, and how much
    /// longer the decoded text is up to there.
    growth: Vec<(u64, u64)>,
}

impl Decoded {
    fn of(bytes: &[u8]) -> Decoded {
        // Valid UTF-8 (nearly every line) is checked far faster whole
        // than chunk by chunk.
        if std::str::from_utf8(bytes).is_ok() {
            return Decoded::default();
        }
        let (mut at, mut longer) = (0u64, 0u64);
        let mut growth = Vec::new();
        for chunk in bytes.utf8_chunks() {
            at += (chunk.valid().len() + chunk.invalid().len()) as u64;
            if !chunk.invalid().is_empty() {
                // An invalid sequence is 1 to 3 bytes; U+FFFD is 3.
                longer += 3 - chunk.invalid().len() as u64;
                growth.push((at, longer));
            }
        }
        Decoded { growth }
    }

    /// The decoded offset of byte offset `at`, which is not inside an
    /// invalid sequence (paragraphs start and end at line breaks).
    fn offset(&self, at: u64) -> u64 {
        let before = self.growth.partition_point(|&(end, _)| end <= at);
        at + before.checked_sub(1).map_or(0, |i| self.growth[i].1)
    }

    /// The byte offset of decoded offset `at`, which is not inside a
    /// U+FFFD: the inverse of [`offset`](Self::offset).
    fn original(&self, at: u64) -> u64 {
        let before = self
            .growth
            .partition_point(|&(end, longer)| end + longer <= at);
        at - before.checked_sub(1).map_or(0, |i| self.growth[i].1)
    }
}

/// Matches the paragraphs a writer cuts with the removals asked for, and
/// logs them.
struct Checked<'a, 'r> {
    name: &'a str,
    list: std::slice::Iter<'a, (u32, Removal<'r>)>,
    offsets: &'a Decoded,
}

impl<'a, 'r> Checked<'a, 'r> {
    fn new(name: &'a str, list: &'a [(u32, Removal<'r>)], offsets: &'a Decoded) -> Checked<'a, 'r> {
        Checked {
            name,
            list: list.iter(),
            offsets,
        }
    }

    /// Checks `cut`, found on input line `line`, against the next removal.
    fn next(
        &mut self,
        cut: text::Cut<'_>,
        line: u64,
        log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
    ) -> Result<(), Failure> {
        let Some(&(paragraph, removal)) = self.list.next() else {
            return Err(Failure::Done(Error::changed(self.name)));
        };
        let at = removal.location();
        let text = String::from_utf8_lossy(cut.text);
        let same = paragraph == cut.paragraph
            && at.line == line
            && (at.start, at.end) == (self.offsets.offset(cut.start), self.offsets.offset(cut.end))
            && removal
                .snippet()
                .is_none_or(|s| crate::report::snippet(&text) == s);
        if !same {
            return Err(Failure::Done(Error::changed(self.name)));
        }
        log(Event::Removed {
            removal,
            text: &text,
        })
        .map_err(Failure::Done)
    }

    /// Fails if some removals were not found.
    fn finish(mut self) -> Result<(), Error> {
        match self.list.next() {
            Some(_) => Err(Error::changed(self.name)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_offsets_grow_after_each_invalid_sequence() {
        // "a\xff\n" decodes to "a\u{FFFD}\n": 2 bytes longer from the
        // newline on; "\xe2\x80" (a cut-off sequence) is 1 byte longer.
        let bytes = b"a\xff\nbc\xe2\x80\nd";
        let decoded = Decoded::of(bytes);
        let text = String::from_utf8_lossy(bytes);
        for (at, expected) in [(0, 0), (1, 1), (2, 4), (3, 5), (7, 10), (8, 11)] {
            assert_eq!(decoded.offset(at), expected, "at {at}");
            assert_eq!(decoded.original(expected), at, "back from {expected}");
        }
        assert_eq!(decoded.offset(bytes.len() as u64), text.len() as u64);
        assert_eq!(Decoded::of(b"valid\ntext").offset(6), 6);
    }
}
