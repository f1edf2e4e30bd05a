//! The library's one error type.
//!
//! An error says what went wrong and, when it concerns the input, where:
//! the input's name and, when known, the 1-based line (or, for WARC
//! records, the byte offset in the decompressed stream). The binary adds
//! nothing but the `error:` prefix, so library messages are written to be
//! read by the person who ran the command.

use std::fmt;
use std::io;

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An invalid setting (threshold out of range, impossible banding).
    Config,
    /// Reading an input failed.
    Io,
    /// One record of an input is malformed (bad JSON, missing text field).
    Record,
    /// An input changed while it was being read twice.
    Changed,
    /// The corpus is larger than the in-memory index can address.
    Limit,
    /// Text that is not valid UTF-8 was decoded with replacement
    /// characters. A warning: the text was still scanned.
    Encoding,
    /// An address (of `explain`) names no paragraph of the input.
    NotFound,
    /// An input was left out on purpose: a binary file found in a
    /// directory, a file named twice. A warning.
    Skipped,
    /// A record's id field holds a value that cannot be an id (null, a
    /// boolean, an array, an object). A warning: the record was still
    /// read, named by its line (row) number.
    UnusableId,
    /// A persistent index could not be used: not an index, damaged, of
    /// other settings or another format version, or locked by a writer.
    Index,
}

impl ErrorKind {
    /// Every kind, in a fixed order: a kind's place here is its number in
    /// stage files, so new kinds go at the end.
    const ALL: [ErrorKind; 10] = [
        ErrorKind::Config,
        ErrorKind::Io,
        ErrorKind::Record,
        ErrorKind::Changed,
        ErrorKind::Limit,
        ErrorKind::Encoding,
        ErrorKind::NotFound,
        ErrorKind::Skipped,
        ErrorKind::UnusableId,
        ErrorKind::Index,
    ];
}

/// An error, with the input and line it concerns when there is one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<String>,
    line: Option<u64>,
    offset: Option<u64>,
    source: Option<io::Error>,
    /// Set by [`Error::into_warning`].
    warning: bool,
    /// A problem that tends to recur on every record of an input (a text
    /// field under another name, an unusable id): the first pass reports
    /// it once per input, with a count ([`Error::and_more`]).
    per_input: bool,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            path: None,
            line: None,
            offset: None,
            source: None,
            warning: false,
            per_input: false,
        }
    }

    /// An invalid setting.
    pub fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    /// A failure reading the input `path`.
    pub fn io(path: &str, source: io::Error) -> Error {
        let mut e = Error::new(ErrorKind::Io, source.to_string());
        e.path = Some(path.to_owned());
        e.source = Some(source);
        e
    }

    /// A malformed record at `path:line`.
    pub fn record(path: &str, line: u64, message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Record, message);
        e.path = Some(path.to_owned());
        e.line = Some(line);
        e
    }

    /// A record at `path:line` without the text field; `message` says so
    /// (see [`crate::corpus::jsonl::missing_text`]). Reported once per
    /// input.
    pub fn missing_text(path: &str, line: u64, message: impl Into<String>) -> Error {
        let mut e = Error::record(path, line, message);
        e.per_input = true;
        e
    }

    /// A record at `path:line` whose id field `field` holds `what` (`"null"`,
    /// `"an array"`, ...), so that it is named by its line (`unit`: "line"
    /// or "row") instead. Reported once per input.
    pub fn unusable_id(path: &str, line: u64, field: &str, what: &str, unit: &str) -> Error {
        let mut e = Error::new(
            ErrorKind::UnusableId,
            format!(
                "the id field `{field}` is {what}, not a string or number; \
                 the record is named by its {unit} number"
            ),
        );
        e.path = Some(path.to_owned());
        e.line = Some(line);
        e.per_input = true;
        e
    }

    /// Whether the first pass reports this problem once per input, naming
    /// its first place and counting the others.
    pub(crate) fn is_per_input(&self) -> bool {
        self.per_input
    }

    /// The error as numbers and strings, for a file that carries it to
    /// another process ([`Error::from_wire`]); the source is not carried
    /// (no message shows it).
    pub(crate) fn to_wire(&self) -> (u8, &str, Option<&str>, Option<u64>, Option<u64>, u8) {
        let kind = ErrorKind::ALL
            .iter()
            .position(|&k| k == self.kind)
            .expect("every kind is listed") as u8;
        let flags = u8::from(self.warning) | u8::from(self.per_input) << 1;
        (
            kind,
            &self.message,
            self.path.as_deref(),
            self.line,
            self.offset,
            flags,
        )
    }

    /// The error [`Error::to_wire`] gave; `None` for an unknown kind.
    pub(crate) fn from_wire(
        (kind, message, path, line, offset, flags): (
            u8,
            String,
            Option<String>,
            Option<u64>,
            Option<u64>,
            u8,
        ),
    ) -> Option<Error> {
        Some(Error {
            kind: *ErrorKind::ALL.get(kind as usize)?,
            message,
            path,
            line,
            offset,
            source: None,
            warning: flags & 1 != 0,
            per_input: flags & 2 != 0,
        })
    }

    /// The same error about the input named `path` (an input a stage of a
    /// spread scan knew by another name).
    pub(crate) fn renamed(mut self, path: &str) -> Error {
        if self.path.is_some() {
            self.path = Some(path.to_owned());
        }
        self
    }

    /// Says that this problem was found `more` more times in the same
    /// input.
    pub(crate) fn and_more(&mut self, more: u64) {
        if more > 0 {
            let s = if more == 1 { "" } else { "s" };
            let what = match self.kind {
                ErrorKind::UnusableId => "like it",
                _ => "without it, also skipped",
            };
            self.message
                .push_str(&format!("; {more} more record{s} of this input {what}"));
        }
    }

    /// A malformed record starting at byte `offset` of the decompressed
    /// input `path`, for formats without meaningful lines (WARC).
    pub fn record_at_offset(path: &str, offset: u64, message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Record, message);
        e.path = Some(path.to_owned());
        e.offset = Some(offset);
        e
    }

    /// An input that did not read the same twice.
    pub fn changed(path: &str) -> Error {
        let mut e = Error::new(
            ErrorKind::Changed,
            "the input changed while neardup was reading it; results for it would be wrong",
        );
        e.path = Some(path.to_owned());
        e
    }

    /// Invalid UTF-8 at `path:line`, decoded with replacement characters.
    pub fn encoding(path: &str, line: u64) -> Error {
        let mut e = Error::new(
            ErrorKind::Encoding,
            "invalid UTF-8; decoded with replacement characters (U+FFFD)",
        );
        e.path = Some(path.to_owned());
        e.line = Some(line);
        e
    }

    /// The input `path` has no paragraph where asked.
    pub fn not_found(path: &str, message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::NotFound, message);
        e.path = Some(path.to_owned());
        e
    }

    /// Invalid UTF-8 in `count` places of `path` (`unit`: "lines" or
    /// "records"), the first of them at `first_line`, decoded with
    /// replacement characters: one warning for a whole input rather than
    /// one per line. In JSON Lines (`json`), a lone UTF-16 surrogate escape
    /// is counted too, and the message says so.
    pub fn encoding_count(
        path: &str,
        first_line: u64,
        count: u64,
        unit: &str,
        json: bool,
    ) -> Error {
        let mut e = Error::encoding(path, first_line);
        let what = match (json, count) {
            (false, _) => "invalid UTF-8",
            (true, 1) => "invalid UTF-8 or a lone surrogate escape",
            (true, _) => "invalid UTF-8 or lone surrogate escapes",
        };
        let place = if count > 1 {
            format!(" on {count} {unit}, the first here")
        } else {
            String::new()
        };
        e.message = format!("{what}{place}; decoded with replacement characters (U+FFFD)");
        e
    }

    /// An input left out on purpose, and why.
    pub fn skipped(path: &str, message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Skipped, message);
        e.path = Some(path.to_owned());
        e
    }

    /// Whether this is a warning (the input was still used in full, or
    /// left out on purpose) rather than an error (some input could not be
    /// used).
    pub fn is_warning(&self) -> bool {
        self.warning
            || matches!(
                self.kind,
                ErrorKind::Encoding | ErrorKind::Skipped | ErrorKind::UnusableId
            )
    }

    /// The same problem, reported as a warning: what `--skip-bad-records`
    /// makes of malformed records, which were skipped as asked.
    pub fn into_warning(mut self) -> Error {
        self.warning = true;
        self
    }

    /// A corpus beyond the index's limits.
    pub fn limit(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Limit, message)
    }

    /// A problem with a persistent index ([`ErrorKind::Index`]).
    pub fn index(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Index, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The input the error concerns, if any.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The 1-based line of the input the error concerns, if known.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The byte offset in the decompressed input the error concerns, if
    /// that is how its place is known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The message without the location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    /// `path:line: message`, the path with its control characters escaped
    /// ([`crate::report::text::escape`]): this is text for people, and
    /// [`path`](Self::path) gives the exact one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.as_deref().map(crate::report::text::escape);
        match (path, self.line, self.offset) {
            (Some(path), Some(line), _) => write!(f, "{path}:{line}: {}", self.message),
            (Some(path), None, Some(offset)) => {
                write!(f, "{path}: byte {offset}: {}", self.message)
            }
            (Some(path), None, None) => write!(f, "{path}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_place() {
        assert_eq!(
            Error::record("a.jsonl", 7, "missing field `text`").to_string(),
            "a.jsonl:7: missing field `text`"
        );
        let io = Error::io(
            "missing.txt",
            io::Error::new(io::ErrorKind::NotFound, "not found"),
        );
        assert_eq!(io.to_string(), "missing.txt: not found");
        assert_eq!(
            Error::record_at_offset("cc.warc.wet.gz", 1234, "record without Content-Length")
                .to_string(),
            "cc.warc.wet.gz: byte 1234: record without Content-Length"
        );
        assert_eq!(io.kind(), ErrorKind::Io);
    }

    #[test]
    fn display_escapes_control_characters_in_the_path() {
        let e = Error::record("a\nb.jsonl", 2, "bad");
        assert_eq!(e.to_string(), r"a\nb.jsonl:2: bad");
        assert_eq!(e.path(), Some("a\nb.jsonl"));
    }

    #[test]
    fn severity() {
        let record = Error::record("a.jsonl", 2, "missing field `text`");
        assert!(!record.is_warning());
        let skipped = record.into_warning();
        assert!(skipped.is_warning());
        assert_eq!(skipped.kind(), ErrorKind::Record);
        assert!(Error::skipped("a.bin", "binary").is_warning());
        assert_eq!(
            Error::encoding_count("a.txt", 4, 3, "lines", false).to_string(),
            "a.txt:4: invalid UTF-8 on 3 lines, the first here; decoded with replacement \
             characters (U+FFFD)"
        );
        assert_eq!(
            Error::encoding_count("a.txt", 4, 1, "lines", false).to_string(),
            Error::encoding("a.txt", 4).to_string()
        );
        assert_eq!(
            Error::encoding_count("a.jsonl", 4, 1, "lines", true).to_string(),
            "a.jsonl:4: invalid UTF-8 or a lone surrogate escape; decoded with replacement \
             characters (U+FFFD)"
        );
    }
}
