//! Cleaning WET (WARC) files: records without removals, other record types
//! and malformed records are copied byte for byte; a `conversion` record
//! with removals gets its body without the removed paragraphs and a header
//! with the new `Content-Length` and block digest, every other header field
//! as it was. Each record, with the separator after it, is followed by
//! [`Output::end_record`], so a gzip output gets a member per record.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read};

use super::{CleanOptions, Decoded, Event, Output, Removal, Stats, cut_document};
use crate::Error;
use crate::corpus::block::{Blocks, Cut, DEFAULT_BLOCK_SIZE};
use crate::corpus::warc::{Header, Item, Records};

/// Header fields holding a digest of the body, which changes with it.
const DIGESTS: [&str; 2] = ["WARC-Block-Digest", "WARC-Payload-Digest"];

/// Counts what it writes, and remembers whether a record is open.
struct Writer<'o> {
    out: &'o mut dyn Output,
    written: u64,
    open: bool,
}

impl Writer<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    /// Ends the record written so far, if any, before the next one starts.
    fn next_record(&mut self) -> io::Result<()> {
        if std::mem::replace(&mut self.open, true) {
            self.out.end_record()?;
        }
        Ok(())
    }
}

pub(super) fn rewrite(
    name: &str,
    reader: impl Read,
    plan: &BTreeMap<u64, Vec<(u32, Removal<'_>)>>,
    options: &CleanOptions,
    out: &mut dyn Output,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    let io_error = |e: io::Error| Error::io(name, e);
    let mut stats = Stats::default();
    let mut out = Writer {
        out,
        written: 0,
        open: false,
    };
    let mut todo = plan.iter().peekable();
    // After a dropped record, the separator that followed it goes too.
    let mut drop_separator = false;
    for block in Blocks::new(reader, Cut::Warc, DEFAULT_BLOCK_SIZE) {
        let block = block.map_err(io_error)?;
        let data = &block.data;
        stats.bytes_in += data.len() as u64;
        let (mut counted, mut line) = (0, block.first_line);
        let mut line_at = |pos: usize| {
            line += memchr::memchr_iter(b'\n', &data[counted..pos]).count() as u64;
            counted = pos;
            line + 1
        };
        let mut pos = 0;
        for item in Records::new(data, true) {
            let (start, end) = match &item {
                Item::Record(r) => (r.start, r.body_start + r.body.len()),
                Item::Malformed(m) => (m.start, m.end),
            };
            if !std::mem::take(&mut drop_separator) {
                out.write(&data[pos..start]).map_err(io_error)?;
            }
            pos = end;
            let record = match item {
                Item::Record(r) => r,
                Item::Malformed(_) => {
                    out.next_record().map_err(io_error)?;
                    out.write(&data[start..end]).map_err(io_error)?;
                    continue;
                }
            };
            let record_line = line_at(start);
            let Some((_, list)) = todo.next_if(|&(&at, _)| at == record_line) else {
                out.next_record().map_err(io_error)?;
                out.write(&data[start..end]).map_err(io_error)?;
                continue;
            };
            let text_line = record_line + record.header.lines();
            let mut body = Vec::with_capacity(record.body.len());
            let outcome = cut_document(
                name,
                record.body,
                &Decoded::of(record.body),
                list,
                options,
                &mut body,
                |cut| text_line + cut.line,
                log,
            )?;
            stats.removed += list.len() as u64;
            if outcome.emptied {
                stats.emptied += 1;
                if options.drop_empty {
                    let doc = record
                        .id()
                        .unwrap_or_else(|| Cow::Owned(record_line.to_string()));
                    log(Event::Dropped {
                        doc: &doc,
                        line: record_line,
                    })?;
                    stats.dropped += 1;
                    drop_separator = true;
                    continue;
                }
            }
            out.next_record().map_err(io_error)?;
            out.write(&header(record.header, &body)).map_err(io_error)?;
            out.write(&body).map_err(io_error)?;
        }
        if !std::mem::take(&mut drop_separator) {
            out.write(&data[pos..]).map_err(io_error)?;
        }
    }
    if todo.next().is_some() {
        return Err(Error::changed(name));
    }
    stats.bytes_out = out.written;
    Ok(stats)
}

/// `header` for the new `body`: `Content-Length` set to its length, SHA-1
/// digests recomputed, other digests (which neardup cannot recompute)
/// left out rather than left wrong; every other byte as it was.
fn header(header: Header<'_>, body: &[u8]) -> Vec<u8> {
    let bytes = header.bytes();
    let mut out = Vec::with_capacity(bytes.len() + 8);
    let mut copied = 0;
    for (name, value) in header.field_ranges() {
        let field = &bytes[name.clone()];
        if field.eq_ignore_ascii_case(b"Content-Length") {
            out.extend_from_slice(&bytes[copied..value.start]);
            out.extend_from_slice(body.len().to_string().as_bytes());
            copied = value.end;
        } else if DIGESTS
            .iter()
            .any(|d| field.eq_ignore_ascii_case(d.as_bytes()))
        {
            let value_bytes = &bytes[value.clone()];
            if value_bytes.len() >= 5 && value_bytes[..5].eq_ignore_ascii_case(b"sha1:") {
                out.extend_from_slice(&bytes[copied..value.start]);
                out.extend_from_slice(b"sha1:");
                out.extend_from_slice(
                    base32(&sha1_smol::Sha1::from(body).digest().bytes()).as_bytes(),
                );
                copied = value.end;
            } else {
                // Drop the whole line, its line ending included.
                let line_end = memchr::memchr(b'\n', &bytes[value.end..])
                    .map_or(bytes.len(), |i| value.end + i + 1);
                out.extend_from_slice(&bytes[copied..name.start]);
                copied = line_end;
            }
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out
}

/// RFC 4648 base32, upper case, as WARC digests are written.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(ALPHABET[(bits >> (35 - 5 * i) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc_4648() {
        for (input, expect) in [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(base32(input.as_bytes()), expect, "{input:?}");
        }
    }

    #[test]
    fn header_gets_new_length_and_digests() {
        let h = b"WARC/1.0\r\nWARC-Type: conversion\r\ncontent-length: 11\r\n\
                  WARC-Block-Digest: sha1:XXXX\r\nWARC-Payload-Digest: md5:abc\r\nX-Kept: yes\r\n\r\n";
        let record = [&h[..], b"hello world\r\n\r\n"].concat();
        let Some(Item::Record(r)) = Records::new(&record, true).next() else {
            panic!("a record")
        };
        let new = header(r.header, b"hello");
        // Python: base64.b32encode(hashlib.sha1(b"hello").digest())
        let digest = "VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N";
        assert_eq!(
            String::from_utf8(new).unwrap(),
            format!(
                "WARC/1.0\r\nWARC-Type: conversion\r\ncontent-length: 5\r\n\
                 WARC-Block-Digest: sha1:{digest}\r\nX-Kept: yes\r\n\r\n"
            )
        );
    }
}
