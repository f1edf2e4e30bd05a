//! Record formats: a block in, its documents out, whatever the format.
//!
//! JSON Lines, WET and Parquet inputs hold many documents each, and each of
//! their blocks holds whole documents: the block cutter ends JSON Lines
//! blocks at line ends, WET blocks after whole records, and the Parquet
//! reader after whole rows. [`documents`] turns such a block into
//! [`Document`]s with the same fields for every format, so that the batch
//! driver and `explain` need not know which one they read.

use std::borrow::Cow;

use super::block::Block;
use super::warc::{Item, Records};
use super::{Format, JsonlFields, jsonl};
use crate::Error;
use crate::paragraph::is_blank;

/// One document of a record format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document<'a> {
    /// Where the document is in its input, unique within it: the 1-based
    /// line of a JSON Lines record or of a WARC record's version line, or
    /// the 1-based row of a Parquet file.
    pub line: u64,
    /// The document's id (JSON Lines and Parquet: the id field; WET: the
    /// `WARC-Record-ID`), if it has one.
    pub id: Option<Cow<'a, str>>,
    /// The address of the page the text came from (WET:
    /// `WARC-Target-URI`), if known.
    pub url: Option<Cow<'a, str>>,
    /// The document text.
    pub text: Cow<'a, str>,
    /// The 1-based input line of the text's first line, for formats that
    /// store the text as input lines (WET). `None` when the whole document
    /// sits at [`line`](Self::line).
    pub text_line: Option<u64>,
}

impl Document<'_> {
    /// The 1-based input line of a paragraph that starts on the 0-based
    /// line `line` of the text.
    pub fn line_of(&self, line: u64) -> u64 {
        self.text_line.map_or(self.line, |first| first + line)
    }

    /// The name reports give the document: its id, or its line (row)
    /// number when it has none.
    pub fn name(&self) -> Cow<'_, str> {
        match &self.id {
            Some(id) => Cow::Borrowed(id),
            None => Cow::Owned(self.line.to_string()),
        }
    }
}

/// Calls `f` with each good document of `block`, a block of the input
/// `name` in `format`. Documents for whose [`line`](Document::line)
/// `wanted` is false are skipped, unparsed where the format allows.
/// Malformed records become errors and invalid UTF-8 becomes warnings in
/// `diagnostics`; the rest of the block is still read.
///
/// A plain-text block is part of one document, not a run of records, and
/// yields nothing here.
///
/// # Example
///
/// ```
/// use neardup::corpus::block::Block;
/// use neardup::corpus::record::documents;
/// use neardup::corpus::{Format, JsonlFields};
///
/// let block = Block {
///     data: b"{\"id\": \"a\", \"text\": \"One\\nTwo\"}\n[1, 2]\n".to_vec(),
///     ..Block::default()
/// };
/// let (mut docs, mut problems) = (Vec::new(), Vec::new());
/// documents(Format::Jsonl, &block, &JsonlFields::default(), "x.jsonl", |_| true, &mut problems, |d| {
///     docs.push((d.line, d.name().into_owned(), d.text.into_owned()))
/// });
/// assert_eq!(docs, [(1, "a".to_owned(), "One\nTwo".to_owned())]);
/// assert_eq!(problems[0].to_string(), "x.jsonl:2: the record is not a JSON object with a `text` field");
/// ```
pub fn documents(
    format: Format,
    block: &Block,
    fields: &JsonlFields,
    name: &str,
    wanted: impl Fn(u64) -> bool,
    diagnostics: &mut Vec<Error>,
    f: impl FnMut(Document<'_>),
) {
    match format {
        Format::Text => {}
        Format::Jsonl => jsonl_documents(block, fields, name, wanted, diagnostics, f),
        Format::Wet => wet_documents(block, name, wanted, diagnostics, f),
        #[cfg(feature = "parquet")]
        Format::Parquet => super::parquet::documents(block, fields, name, wanted, diagnostics, f),
        // Without the feature no Parquet block is ever read.
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => {}
    }
}

fn jsonl_documents(
    block: &Block,
    fields: &JsonlFields,
    name: &str,
    wanted: impl Fn(u64) -> bool,
    diagnostics: &mut Vec<Error>,
    mut f: impl FnMut(Document<'_>),
) {
    let mut line_no = block.first_line;
    for line in lines(&block.data) {
        line_no += 1;
        if is_blank(line) || !wanted(line_no) {
            continue;
        }
        fn document(line: u64, r: jsonl::Record<'_>) -> Document<'_> {
            Document {
                line,
                id: r.id,
                url: None,
                text: r.text,
                text_line: None,
            }
        }
        // Repaired, so that a record with invalid UTF-8 gets the hint too.
        let bad = |msg: String| match jsonl::missing_text(&jsonl::repair(line), fields) {
            Some(msg) => Error::missing_text(name, line_no, msg),
            None => Error::record(name, line_no, msg),
        };
        let mut read = |r: jsonl::Record<'_>, diagnostics: &mut Vec<Error>| {
            if let Some(what) = r.unusable_id {
                diagnostics.push(Error::unusable_id(name, line_no, &fields.id, what, "line"));
            }
            f(document(line_no, r));
        };
        match jsonl::parse(line, fields) {
            Ok(r) => read(r, diagnostics),
            Err(msg) => match jsonl::repair(line) {
                // Invalid UTF-8 or a lone surrogate: read with U+FFFD.
                Cow::Owned(fixed) => match jsonl::parse(&fixed, fields) {
                    Ok(r) => {
                        diagnostics.push(Error::encoding(name, line_no));
                        read(r, diagnostics);
                    }
                    Err(_) => diagnostics.push(bad(msg)),
                },
                Cow::Borrowed(_) => diagnostics.push(bad(msg)),
            },
        }
    }
}

/// The lines of `data` without their `\n`, as `split` would give them, but
/// found with `memchr` rather than by testing every byte.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    ends.map(move |end| {
        let line = &data[start..end];
        start = end + 1;
        line
    })
}

fn wet_documents(
    block: &Block,
    name: &str,
    wanted: impl Fn(u64) -> bool,
    diagnostics: &mut Vec<Error>,
    mut f: impl FnMut(Document<'_>),
) {
    let data = &block.data;
    // Lines are counted incrementally, from the last place counted.
    let (mut counted, mut line) = (0, block.first_line);
    let mut line_at = |pos: usize| {
        line += memchr::memchr_iter(b'\n', &data[counted..pos]).count() as u64;
        counted = pos;
        line + 1
    };
    for item in Records::new(data, true) {
        let record = match item {
            Item::Record(r) => r,
            Item::Malformed(m) => {
                let offset = block.offset + m.start as u64;
                diagnostics.push(Error::record_at_offset(name, offset, m.message));
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
    #[test]
    fn lines_split_like_split() {
        for data in [&b""[..], b"a", b"a\n", b"\n\nb\nc", b"x\ny\n\n"] {
            let expected: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            assert_eq!(super::lines(data).collect::<Vec<_>>(), expected);
        }
    }

    use super::*;

    fn wet_record(kind: &str, id: &str, body: &str) -> String {
        format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: https://example.test/{id}\r\n\
             WARC-Record-ID: <urn:uuid:{id}>\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
    }

    type Seen = Vec<(u64, String, Option<String>, String, Option<u64>)>;

    fn read(format: Format, block: &Block, wanted: impl Fn(u64) -> bool) -> (Seen, Vec<String>) {
        let (mut docs, mut problems) = (Vec::new(), Vec::new());
        documents(
            format,
            block,
            &JsonlFields::default(),
            "in",
            wanted,
            &mut problems,
            |d| {
                docs.push((
                    d.line,
                    d.name().into_owned(),
                    d.url.as_deref().map(str::to_owned),
                    d.text.into_owned(),
                    d.text_line,
                ))
            },
        );
        (docs, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn wet_conversion_records_are_documents() {
        let good = wet_record("warcinfo", "info", "software: test\n")
            + &wet_record("conversion", "p1", "Headline\nFirst paragraph.\n");
        let data = good.clone()
            + "WARC/1.0\r\nWARC-Type: conversion\r\n\r\nno length\n"
            + &wet_record("conversion", "p2", "Another page.");
        let block = Block {
            data: data.into_bytes(),
            offset: 1000,
            first_line: 10,
        };
        let (docs, problems) = read(Format::Wet, &block, |_| true);
        // A header takes 6 lines, the separator after a body 2.
        assert_eq!(
            docs,
            [
                (
                    20,
                    "<urn:uuid:p1>".into(),
                    Some("https://example.test/p1".into()),
                    "Headline\nFirst paragraph.\n".into(),
                    Some(26)
                ),
                (
                    34,
                    "<urn:uuid:p2>".into(),
                    Some("https://example.test/p2".into()),
                    "Another page.".into(),
                    Some(40)
                ),
            ]
        );
        let bad_at = 1000 + good.len();
        assert_eq!(
            problems,
            [format!("in: byte {bad_at}: record without Content-Length")]
        );
        let (only, _) = read(Format::Wet, &block, |line| line == 34);
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].0, 34);
    }

    #[test]
    fn wet_invalid_utf8_is_a_warning_and_decoded() {
        let mut data = wet_record("conversion", "x", "caf\u{e9} au lait").into_bytes();
        let at = data.windows(2).position(|w| w == "é".as_bytes()).unwrap();
        data.splice(at..at + 2, [0xff, b'!']);
        let block = Block {
            data,
            ..Block::default()
        };
        let (docs, problems) = read(Format::Wet, &block, |_| true);
        assert_eq!(docs[0].3, "caf\u{fffd}! au lait");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("in:1: invalid UTF-8"),
            "{problems:?}"
        );
    }

    #[test]
    fn jsonl_problems_with_ids_and_text_fields() {
        let block = Block {
            data: b"{\"id\":[1],\"text\":\"a\"}\n{\"body\":\"caf\xe9 au lait\",\"id\":1E400}\n"
                .to_vec(),
            ..Block::default()
        };
        let (docs, problems) = read(Format::Jsonl, &block, |_| true);
        assert_eq!(docs.iter().map(|d| &d.1).collect::<Vec<_>>(), ["1"]);
        assert_eq!(
            problems,
            [
                "in:1: the id field `id` is an array, not a string or number; the record is \
                 named by its line number",
                r#"in:2: no "text" field; this record has "body", "id" (use --text-field body?)"#
            ]
        );
    }

    #[test]
    fn document_lines_of_paragraphs() {
        let mut d = Document {
            line: 5,
            id: None,
            url: None,
            text: "a\nb".into(),
            text_line: None,
        };
        assert_eq!((d.line_of(1), d.name().as_ref()), (5, "5"));
        d.text_line = Some(12);
        assert_eq!(d.line_of(1), 13);
    }
}
