//! Record formats: a block in, its documents out, whatever the format.
//!
//! JSON Lines, WET and Parquet inputs hold many documents each, and each of
//! their blocks holds whole documents: the block cutter ends JSON Lines
//! blocks at line ends, WET blocks after whole records, and the Parquet
//! reader after whole rows. [`documents`] turns such a block into
//! [`Document`]s with the same fields for every format, so that the batch
//! driver and `explain` need not know which one they read. Each format's
//! reader lives with its format (`jsonl.rs`, `warc.rs`, `parquet.rs`); this
//! module only dispatches.

use super::block::Block;
pub use super::document::Document;
use super::{Format, JsonlFields, jsonl, warc};
use crate::Error;

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
        Format::Jsonl => jsonl::documents(block, fields, name, wanted, diagnostics, f),
        Format::Wet => {
            let (data, offset, line) = (&block.data, block.offset, block.first_line);
            warc::documents(data, offset, line, name, wanted, diagnostics, f)
        }
        #[cfg(feature = "parquet")]
        Format::Parquet => super::parquet::documents(block, fields, name, wanted, diagnostics, f),
        // Without the feature no Parquet block is ever read.
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => {}
    }
}

#[cfg(test)]
mod tests {
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
            member: None,
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
