//! WARC records (Common Crawl WET files): decoded bytes in, records with
//! their header fields and body out.
//!
//! A WARC file is a sequence of records, each a header (a `WARC/1.x`
//! version line, `Name: value` lines, a blank line) followed by exactly
//! `Content-Length` bytes of body and a `\r\n\r\n` separator. Common Crawl's
//! WET files hold one `warcinfo` record and then one `conversion` record per
//! crawled page, whose body is the page's extracted plain text; those
//! `conversion` records are the documents neardup reads.
//!
//! Framing depends only on the bytes from a record's start, so the block
//! cutter ([`crate::corpus::block`]) and the workers that parse a block find
//! the same records. A record that cannot be framed (no version line, no
//! usable `Content-Length`, a header that never ends) is reported as
//! [`Item::Malformed`] and reading resumes at the next line starting with
//! `WARC/`, so one bad record costs only itself.
//!
//! The format is simple enough that a reader of our own (a hundred lines)
//! beats a crate: it borrows bodies from the block instead of copying them,
//! it can report a malformed record and carry on, and it keeps the byte
//! positions that `clean` needs to rewrite `Content-Length`.

use std::borrow::Cow;
use std::ops::Range;

use memchr::memmem;

use super::document::Document;
use crate::Error;

/// A header longer than this is treated as malformed, so that a file which
/// only looks like WARC cannot make the reader buffer it whole.
pub const MAX_HEADER: usize = 64 * 1024;

const VERSION_PREFIX: &[u8] = b"WARC/";
/// A line starting a record, searched for after a malformed one.
const MARKER: &[u8] = b"\nWARC/";

/// Whether decoded bytes start like a WARC file.
///
/// # Example
///
/// ```
/// use neardup::corpus::warc::is_warc;
///
/// assert!(is_warc(b"WARC/1.0\r\nWARC-Type: warcinfo\r\n"));
/// assert!(!is_warc(b"{\"text\": \"WARC/1.0\"}"));
/// ```
pub fn is_warc(head: &[u8]) -> bool {
    head.starts_with(VERSION_PREFIX)
}

/// The header of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    bytes: &'a [u8],
}

impl<'a> Header<'a> {
    /// The header's bytes, from the version line to the blank line that
    /// ends it, inclusive.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The fields as `(name, value)` byte strings, in order, values without
    /// surrounding white space.
    pub fn fields(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + use<'a> {
        self.field_ranges()
            .map(|(name, value)| (&self.bytes[name], &self.bytes[value]))
    }

    /// Like [`fields`](Self::fields), as byte ranges of [`bytes`](Self::bytes).
    pub fn field_ranges(&self) -> impl Iterator<Item = (Range<usize>, Range<usize>)> + use<'a> {
        let bytes = self.bytes;
        let mut pos = 0;
        std::iter::from_fn(move || {
            loop {
                // The first line is the version line; fields follow it.
                let end = pos + memchr::memchr(b'\n', &bytes[pos..])?;
                let next = end + 1;
                let line_start = std::mem::replace(&mut pos, next);
                if line_start == 0 {
                    continue;
                }
                let line = &bytes[line_start..end];
                let Some(colon) = memchr::memchr(b':', line) else {
                    // The blank line, or a continuation line (which the
                    // fields neardup reads never use).
                    continue;
                };
                let name = line_start..line_start + colon;
                let value = trim(bytes, line_start + colon + 1..end);
                return Some((name, value));
            }
        })
    }

    /// The value of the field `name` (compared without regard to ASCII
    /// case), decoded lossily.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.get_range(name)
            .map(|r| String::from_utf8_lossy(&self.bytes[r]))
    }

    /// The byte range of the value of field `name` within
    /// [`bytes`](Self::bytes).
    pub fn get_range(&self, name: &str) -> Option<Range<usize>> {
        self.field_ranges()
            .find(|(n, _)| self.bytes[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Number of line breaks in the header, so that the body starts that
    /// many lines after the version line.
    pub fn lines(&self) -> u64 {
        memchr::memchr_iter(b'\n', self.bytes).count() as u64
    }
}

/// `range` of `bytes` without leading and trailing ASCII white space.
fn trim(bytes: &[u8], mut range: Range<usize>) -> Range<usize> {
    while range.start < range.end && bytes[range.start].is_ascii_whitespace() {
        range.start += 1;
    }
    while range.end > range.start && bytes[range.end - 1].is_ascii_whitespace() {
        range.end -= 1;
    }
    range
}

/// One well-framed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Offset of the version line in the buffer given to [`Records`].
    pub start: usize,
    /// The header.
    pub header: Header<'a>,
    /// The body: exactly `Content-Length` bytes.
    pub body: &'a [u8],
    /// Offset of the body in the buffer given to [`Records`].
    pub body_start: usize,
}

impl<'a> Record<'a> {
    /// The `WARC-Type` field (`warcinfo`, `conversion`, `response`, ...).
    pub fn kind(&self) -> Option<Cow<'a, str>> {
        self.header.get("WARC-Type")
    }

    /// Whether the record holds a document's extracted text, the only kind
    /// neardup reads as a document.
    pub fn is_conversion(&self) -> bool {
        self.kind()
            .is_some_and(|k| k.eq_ignore_ascii_case("conversion"))
    }

    /// The `WARC-Record-ID` field, e.g. `<urn:uuid:...>`.
    pub fn id(&self) -> Option<Cow<'a, str>> {
        self.header.get("WARC-Record-ID")
    }

    /// The `WARC-Target-URI` field: the page the text came from.
    pub fn target_uri(&self) -> Option<Cow<'a, str>> {
        self.header.get("WARC-Target-URI")
    }
}

/// Bytes that could not be framed as a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Where the bad bytes start in the buffer given to [`Records`].
    pub start: usize,
    /// Where reading resumes: the next line starting with `WARC/`, or the
    /// end of the buffer.
    pub end: usize,
    /// What is wrong, for a person.
    pub message: String,
}

/// What [`Records`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A record.
    Record(Record<'a>),
    /// Bytes that are not a record.
    Malformed(Malformed),
}

/// The records of a buffer that starts at a record boundary (or in the
/// blank lines before one).
///
/// When `complete` is false the buffer may end inside a record: iteration
/// stops before it, and [`consumed`](Records::consumed) says how far the
/// whole items reach. When it is true the buffer is all there is, and a
/// record cut short is [`Item::Malformed`].
///
/// # Example
///
/// ```
/// use neardup::corpus::warc::{Item, Records};
///
/// let wet = b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 5\r\n\r\nHello\r\n\r\n";
/// let items: Vec<Item> = Records::new(wet, true).collect();
/// let Item::Record(r) = &items[0] else { panic!() };
/// assert_eq!((r.body, r.is_conversion()), (&b"Hello"[..], true));
/// ```
#[derive(Clone, Debug)]
pub struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    complete: bool,
    stalled: bool,
}

impl<'a> Records<'a> {
    /// Records of `buf`; `complete` says whether more bytes may follow.
    pub fn new(buf: &'a [u8], complete: bool) -> Records<'a> {
        Records {
            buf,
            pos: 0,
            complete,
            stalled: false,
        }
    }

    /// The end of the last item yielded: where the next block may start.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// The next line starting with `WARC/` after `from`, where reading
    /// resumes after a malformed record.
    fn resync(&self, from: usize) -> Option<usize> {
        memmem::find(&self.buf[from..], MARKER).map(|i| from + i + 1)
    }

    fn malformed(&mut self, start: usize, message: String) -> Option<Item<'a>> {
        let end = match self.resync(start + 1) {
            Some(end) => end,
            None if self.complete => self.buf.len(),
            // No record in sight: rather than buffer a long stretch of bad
            // bytes, give it up, keeping a tail that may begin a marker.
            None if self.buf.len() - start >= MAX_HEADER => self.buf.len() - (MARKER.len() - 1),
            None => return self.stall(),
        };
        self.pos = end;
        Some(Item::Malformed(Malformed {
            start,
            end,
            message,
        }))
    }

    fn stall(&mut self) -> Option<Item<'a>> {
        self.stalled = true;
        None
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        if self.stalled {
            return None;
        }
        let buf = self.buf;
        // The separator after a body (`\r\n\r\n`) is skipped here, before
        // the next record, so a block may end right after a body.
        let start = self.pos
            + buf[self.pos..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        if start == buf.len() {
            if self.complete {
                self.pos = start;
            }
            return None;
        }
        let rest = &buf[start..];
        if rest.len() < VERSION_PREFIX.len() && !self.complete {
            return self.stall();
        }
        if !rest.starts_with(VERSION_PREFIX) {
            return self.malformed(start, "expected a WARC record (`WARC/1.0` line)".into());
        }
        let window = &rest[..rest.len().min(MAX_HEADER)];
        // Header lines end in CRLF, but some writers use bare LF.
        let crlf = memmem::find(window, b"\n\r\n").map(|i| i + 3);
        let lf = memmem::find(window, b"\n\n").map(|i| i + 2);
        let header_len = match crlf.into_iter().chain(lf).min() {
            Some(len) => len,
            None if window.len() == MAX_HEADER => {
                return self.malformed(
                    start,
                    format!("record header longer than {MAX_HEADER} bytes"),
                );
            }
            None if self.complete => {
                return self.malformed(start, "truncated record header".into());
            }
            None => return self.stall(),
        };
        let header = Header {
            bytes: &rest[..header_len],
        };
        let length = match header.get("Content-Length") {
            None => return self.malformed(start, "record without Content-Length".into()),
            Some(v) => match v.parse::<usize>() {
                Ok(n) => n,
                Err(_) => {
                    return self.malformed(start, format!("invalid Content-Length {v:?}"));
                }
            },
        };
        let body_start = start + header_len;
        let Some(end) = body_start
            .checked_add(length)
            .filter(|&end| end <= buf.len())
        else {
            if self.complete {
                // Cut short, or a wrong length in the middle of the file:
                // the records after it are still read.
                let have = buf.len() - body_start;
                return self.malformed(
                    start,
                    format!(
                        "truncated record: Content-Length is {length} but only {have} bytes \
                         follow"
                    ),
                );
            }
            return self.stall();
        };
        self.pos = end;
        Some(Item::Record(Record {
            start,
            header,
            body: &buf[body_start..end],
            body_start,
        }))
    }
}

/// Calls `f` with each good conversion record of a WET block as a
/// [`Document`]: see [`super::record::documents`]. The block comes as its
/// bytes, byte offset and first line rather than a `Block`, because the
/// block cutter uses this module's record parser.
#[allow(clippy::too_many_arguments)]
pub(super) fn documents(
    data: &[u8],
    offset: u64,
    first_line: u64,
    name: &str,
    wanted: impl Fn(u64) -> bool,
    diagnostics: &mut Vec<Error>,
    mut f: impl FnMut(Document<'_>),
) {
    // Lines are counted incrementally, from the last place counted.
    let (mut counted, mut line) = (0, first_line);
    let mut line_at = |pos: usize| {
        line += memchr::memchr_iter(b'\n', &data[counted..pos]).count() as u64;
        counted = pos;
        line + 1
    };
    for item in Records::new(data, true) {
        let record = match item {
            Item::Record(r) => r,
            Item::Malformed(m) => {
                let at = offset + m.start as u64;
                diagnostics.push(Error::record_at_offset(name, at, m.message));
                continue;
            }
        };
        let record_line = line_at(record.start);
        if !record.is_conversion() || !wanted(record_line) {
            continue;
        }
        let text = match std::str::from_utf8(record.body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                diagnostics.push(Error::encoding(name, record_line));
                String::from_utf8_lossy(record.body)
            }
        };
        f(Document {
            line: record_line,
            id: record.id(),
            url: record.target_uri(),
            text,
            text_line: Some(record_line + record.header.lines()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, id: &str, body: &str) -> String {
        format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: {id}\r\n\
             WARC-Target-URI: https://example.test/{id}\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
    }

    fn bodies(items: &[Item<'_>]) -> Vec<Result<String, String>> {
        items
            .iter()
            .map(|i| match i {
                Item::Record(r) => Ok(String::from_utf8_lossy(r.body).into_owned()),
                Item::Malformed(m) => Err(m.message.clone()),
            })
            .collect()
    }

    #[test]
    fn reads_fields_and_bodies() {
        let data = record("warcinfo", "a", "isPartOf: test")
            + &record("conversion", "b", "Line one\nLine two\n");
        let items: Vec<Item> = Records::new(data.as_bytes(), true).collect();
        assert_eq!(
            bodies(&items),
            [
                Ok("isPartOf: test".into()),
                Ok("Line one\nLine two\n".into())
            ]
        );
        let Item::Record(r) = &items[1] else {
            unreachable!()
        };
        assert!(r.is_conversion());
        assert_eq!(r.id().as_deref(), Some("b"));
        assert_eq!(r.target_uri().as_deref(), Some("https://example.test/b"));
        assert_eq!(r.header.lines(), 6);
        assert_eq!(&data.as_bytes()[r.body_start..][..8], b"Line one");
    }

    #[test]
    fn field_names_ignore_case_and_values_are_trimmed() {
        let h = Header {
            bytes: b"WARC/1.1\r\ncontent-length:  12 \r\nX: a:b\r\n\r\n",
        };
        assert_eq!(h.get("Content-Length").as_deref(), Some("12"));
        assert_eq!(h.get("x").as_deref(), Some("a:b"));
        assert_eq!(h.get("WARC-Type"), None);
    }

    /// Table of broken records: each is reported with its start and a
    /// reason, and the good record after it is still read.
    #[test]
    fn malformed_records_are_skipped_to_the_next_record() {
        let good = record("conversion", "ok", "Fine text");
        for (bad, reason) in [
            ("garbage before any record\n", "expected a WARC record"),
            (
                "WARC/1.0\r\nWARC-Type: conversion\r\n\r\nno length\n",
                "without Content-Length",
            ),
            (
                "WARC/1.0\r\nContent-Length: ten\r\n\r\n0123456789\r\n\r\n",
                "invalid Content-Length",
            ),
        ] {
            let data = format!("{bad}{good}");
            let items: Vec<Item> = Records::new(data.as_bytes(), true).collect();
            let got = bodies(&items);
            assert_eq!(got.len(), 2, "{bad:?}: {got:?}");
            assert!(got[0].as_ref().unwrap_err().contains(reason), "{got:?}");
            assert_eq!(got[1], Ok("Fine text".into()));
            let Item::Malformed(m) = &items[0] else {
                unreachable!()
            };
            assert_eq!((m.start, m.end), (0, bad.len()));
        }
    }

    #[test]
    fn truncated_record_at_the_end_is_malformed() {
        let data = record("conversion", "a", "Some text here");
        let cut = &data.as_bytes()[..data.len() - 8];
        let items: Vec<Item> = Records::new(cut, true).collect();
        assert!(
            bodies(&items)[0]
                .as_ref()
                .unwrap_err()
                .contains("truncated record: Content-Length is 14 but only 10 bytes follow")
        );
        // Not yet complete: no item, nothing consumed.
        let mut r = Records::new(cut, false);
        assert!(r.next().is_none());
        assert_eq!(r.consumed(), 0);
    }

    /// A Content-Length past the end of the file in the middle of it (a
    /// damaged header, not a cut): the records after it are still read.
    #[test]
    fn a_length_past_the_end_loses_only_its_record() {
        let bad = record("conversion", "bad", "Damaged")
            .replace("Content-Length: 7", "Content-Length: 1000000");
        let data = record("conversion", "a", "First") + &bad + &record("conversion", "b", "Second");
        let items: Vec<Item> = Records::new(data.as_bytes(), true).collect();
        let got = bodies(&items);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], Ok("First".into()));
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .contains("Content-Length is 1000000")
        );
        assert_eq!(got[2], Ok("Second".into()));
    }

    #[test]
    fn incomplete_buffer_stops_after_the_last_whole_record() {
        let one = record("conversion", "a", "First");
        let two = record("conversion", "b", "Second");
        let data = format!("{one}{two}");
        for cut in 0..data.len() {
            let mut r = Records::new(&data.as_bytes()[..cut], false);
            let n = r.by_ref().count();
            let body_end = |s: &str| s.len() - 4;
            let expect = if cut >= one.len() + body_end(&two) {
                (2, one.len() + body_end(&two))
            } else if cut >= body_end(&one) {
                (1, body_end(&one))
            } else {
                (0, 0)
            };
            assert_eq!((n, r.consumed()), expect, "cut at {cut}");
        }
    }

    #[test]
    fn endless_header_is_malformed() {
        let data = format!("WARC/1.0\r\n{}", "X: y\r\n".repeat(MAX_HEADER / 6 + 1));
        let items: Vec<Item> = Records::new(data.as_bytes(), false).collect();
        assert!(
            bodies(&items)[0]
                .as_ref()
                .unwrap_err()
                .contains("longer than")
        );
    }
}
