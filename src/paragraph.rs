//! Paragraphs: document text in, paragraphs with their byte range and line
//! out.
//!
//! Scraped news usually arrives one paragraph per line, so by default every
//! line that is not blank is a paragraph ([`ParagraphMode::Line`]).
//! Hard-wrapped text puts blank lines between paragraphs instead
//! ([`ParagraphMode::BlankLine`]): there a paragraph is a run of non-blank
//! lines. A line is blank when it holds only white space. Lines end at `\n`;
//! a `\r` before it belongs to the line ending, not to the paragraph.
//!
//! A paragraph's byte range covers its text from the first character of its
//! first line to the last character of its last line, line ending excluded,
//! so removing that range (and one line ending) removes exactly the
//! paragraph.

use memchr::memchr;
use std::borrow::Cow;

/// `bytes` as text: borrowed when they are UTF-8, else with every invalid
/// sequence replaced by U+FFFD, as [`String::from_utf8_lossy`] gives it —
/// which checks byte by byte, where [`std::str::from_utf8`] checks ASCII a
/// word at a time: on a million short paragraphs read twice, that check
/// was 4% of a scan.
///
/// # Example
///
/// ```
/// use neardup::paragraph::lossy;
///
/// assert!(matches!(lossy(b"plain text"), std::borrow::Cow::Borrowed("plain text")));
/// assert_eq!(lossy(b"cut \xff here"), "cut \u{fffd} here");
/// ```
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// How document text is cut into paragraphs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ParagraphMode {
    /// Every non-blank line is a paragraph (the default).
    #[default]
    Line,
    /// Runs of non-blank lines separated by blank lines form one paragraph.
    BlankLine,
}

/// One paragraph of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paragraph<'a> {
    /// The paragraph's bytes. Splitting works on bytes so that offsets stay
    /// true to the input even where it is not valid UTF-8.
    pub text: &'a [u8],
    /// Byte offset of the paragraph's start in the text that was split.
    pub start: usize,
    /// Byte offset just past the paragraph's end.
    pub end: usize,
    /// 0-based number of the line the paragraph starts on, counted from the
    /// start of the text that was split.
    pub line: u64,
}

/// Splits `text` into paragraphs.
///
/// # Example
///
/// ```
/// use neardup::paragraph::{paragraphs, ParagraphMode};
///
/// let text = b"First line\n\nSecond\r\nstill second\n";
/// let lines: Vec<_> = paragraphs(text, ParagraphMode::Line).map(|p| (p.line, p.text)).collect();
/// assert_eq!(lines, [(0, &b"First line"[..]), (2, b"Second"), (3, b"still second")]);
///
/// let blocks: Vec<_> = paragraphs(text, ParagraphMode::BlankLine).map(|p| p.text).collect();
/// assert_eq!(blocks, [&b"First line"[..], b"Second\r\nstill second"]);
/// ```
pub fn paragraphs(text: &[u8], mode: ParagraphMode) -> Paragraphs<'_> {
    Paragraphs {
        text,
        mode,
        pos: 0,
        line: 0,
    }
}

/// The iterator returned by [`paragraphs`].
#[derive(Clone, Debug)]
pub struct Paragraphs<'a> {
    text: &'a [u8],
    mode: ParagraphMode,
    pos: usize,
    line: u64,
}

impl<'a> Paragraphs<'a> {
    /// The next line as `(start, end of content, start of next line)`.
    fn next_line(&mut self) -> Option<(usize, usize)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let bytes = self.text;
        let start = self.pos;
        let (mut end, next) = match memchr(b'\n', &bytes[start..]) {
            Some(i) => (start + i, start + i + 1),
            None => (bytes.len(), bytes.len()),
        };
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        self.pos = next;
        self.line += 1;
        Some((start, end))
    }

    fn is_blank(&self, start: usize, end: usize) -> bool {
        is_blank(&self.text[start..end])
    }
}

/// Whether a line holds only white space (Unicode white space included, so a
/// line of no-break spaces from an `&nbsp;` paragraph is blank).
pub fn is_blank(line: &[u8]) -> bool {
    // Decide on the first byte that is not ASCII white space: a JSON record
    // or a line of prose is settled at its first character.
    match line
        .iter()
        .position(|&b| !(b.is_ascii_whitespace() || b == 0x0b))
    {
        None => true,
        Some(i) if line[i].is_ascii() => false,
        Some(i) => String::from_utf8_lossy(&line[i..])
            .chars()
            .all(char::is_whitespace),
    }
}

impl<'a> Iterator for Paragraphs<'a> {
    type Item = Paragraph<'a>;

    fn next(&mut self) -> Option<Paragraph<'a>> {
        let (start, mut end, line) = loop {
            let line = self.line;
            let (start, end) = self.next_line()?;
            if !self.is_blank(start, end) {
                break (start, end, line);
            }
        };
        if self.mode == ParagraphMode::BlankLine {
            loop {
                let saved = (self.pos, self.line);
                match self.next_line() {
                    Some((s, e)) if !self.is_blank(s, e) => end = e,
                    Some(_) => break,
                    None => {
                        (self.pos, self.line) = saved;
                        break;
                    }
                }
            }
        }
        Some(Paragraph {
            text: &self.text[start..end],
            start,
            end,
            line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `(line, start, end)` of each paragraph.
    type Spans = Vec<(u64, usize, usize)>;

    fn split(text: &str, mode: ParagraphMode) -> Spans {
        paragraphs(text.as_bytes(), mode)
            .map(|p| (p.line, p.start, p.end))
            .collect()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn line_mode_table() {
        let cases: &[(&str, &[(u64, usize, usize)])] = &[
            ("", &[]),
            ("\n\n  \n", &[]),
            ("a", &[(0, 0, 1)]),
            ("a\nb\n", &[(0, 0, 1), (1, 2, 3)]),
            ("a\r\n\r\nb", &[(0, 0, 1), (2, 5, 6)]),
            ("  a  \n", &[(0, 0, 5)]),
        ];
        for (text, expected) in cases {
            assert_eq!(split(text, ParagraphMode::Line), *expected, "{text:?}");
        }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn blank_line_mode_table() {
        let cases: &[(&str, &[(u64, usize, usize)])] = &[
            ("a\nb\n\nc\n", &[(0, 0, 3), (3, 5, 6)]),
            ("\n\na\n \t\nb", &[(2, 2, 3), (4, 7, 8)]),
            ("a\r\nb\r\n", &[(0, 0, 4)]),
            ("a\n\u{a0}\u{3000}\nb", &[(0, 0, 1), (2, 8, 9)]),
        ];
        for (text, expected) in cases {
            assert_eq!(split(text, ParagraphMode::BlankLine), *expected, "{text:?}");
        }
    }

    proptest! {
        /// Paragraphs are non-blank, in order, disjoint, and their ranges
        /// slice the text to exactly their `text`.
        #[test]
        fn ranges_are_faithful(text in "[ab \r\n\t]{0,40}", blank in any::<bool>()) {
            let mode = if blank { ParagraphMode::BlankLine } else { ParagraphMode::Line };
            let mut last_end = 0;
            let mut last_line = None;
            for p in paragraphs(text.as_bytes(), mode) {
                prop_assert_eq!(&text.as_bytes()[p.start..p.end], p.text);
                prop_assert!(!is_blank(p.text));
                prop_assert!(p.start >= last_end);
                prop_assert_eq!(p.line as usize, text[..p.start].matches('\n').count());
                prop_assert!(last_line.is_none_or(|l| p.line > l));
                last_end = p.end;
                last_line = Some(p.line);
            }
        }
    }
}
