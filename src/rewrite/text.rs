//! Removing paragraphs from one document's text, line by line.
//!
//! The document is read as lines (each with its own line ending) and
//! written back with the removed paragraphs' lines left out; every other
//! byte is copied as it was. The blank lines that separate paragraphs follow
//! one rule, so that a cleaned document reads like the original and cleaning
//! it again changes nothing:
//!
//! - blank lines before the first paragraph and after the last one stay;
//! - between two kept paragraphs stand the blank lines that followed the
//!   first of them in the input;
//! - a document whose every paragraph is removed becomes empty;
//! - the document ends with a line break only if the input did: removing
//!   the last paragraph of `A ␤ B` gives `A`, not `A ␤` (a JSON Lines text
//!   field is joined by line breaks, not ended by one).
//!
//! So removing `B` from `A ␤␤ B ␤␤ C` gives `A ␤␤ C`, not `A ␤␤␤␤ C`.
//! Paragraphs are numbered exactly as [`crate::paragraph::paragraphs`]
//! numbers them.

use std::io::{self, BufRead, Write};

use crate::paragraph::{ParagraphMode, is_blank};

/// A removed paragraph, as found in the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut<'a> {
    /// Index of the paragraph in the document.
    pub paragraph: u32,
    /// Its text, line ending of its last line excluded.
    pub text: &'a [u8],
    /// 0-based line of the document where it starts.
    pub line: u64,
    /// Its byte range in the document.
    pub start: u64,
    pub end: u64,
}

/// What rewriting one document did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Paragraphs in the document.
    pub paragraphs: u32,
    /// The document had paragraphs and all were removed.
    pub emptied: bool,
}

/// The paragraph being read.
struct Current {
    removed: bool,
    paragraph: u32,
    line: u64,
    start: u64,
    end: u64,
    /// The lines of a removed paragraph, for the removal log.
    text: Vec<u8>,
}

/// Copies the document from `input` to `out` without the paragraphs whose
/// indices are in `remove` (ascending), calling `cut` for each removed
/// paragraph in order.
///
/// An index in `remove` beyond the document's last paragraph is not an
/// error here; the caller compares the cuts with what it asked for.
pub(crate) fn remove_paragraphs<E: From<io::Error>>(
    mut input: impl BufRead,
    mode: ParagraphMode,
    remove: &[u32],
    out: &mut dyn Write,
    mut cut: impl FnMut(Cut<'_>) -> Result<(), E>,
) -> Result<Outcome, E> {
    let mut outcome = Outcome::default();
    // The line ending of the last line written is held back until more
    // follows: if the input does not end with one, neither does the output,
    // even when the paragraph that came last is removed.
    let mut pending: Vec<u8> = Vec::new();
    let mut write = |bytes: &[u8], outcome: &mut Outcome| -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let body = match bytes.strip_suffix(b"\n") {
            Some(body) => body.strip_suffix(b"\r").unwrap_or(body),
            None => bytes,
        };
        outcome.bytes_out += (pending.len() + body.len()) as u64;
        out.write_all(&pending)?;
        out.write_all(body)?;
        pending.clear();
        pending.extend_from_slice(&bytes[body.len()..]);
        Ok(())
    };
    let mut ends_with_newline = true;
    let mut remove = remove.iter().copied().peekable();
    let mut line = Vec::new();
    let (mut pos, mut line_no) = (0u64, 0u64);
    let mut current: Option<Current> = None;
    // Blank lines waiting for the next kept paragraph: the lead, or those
    // after the last kept paragraph.
    let mut held = Vec::new();
    // Blank lines since the last paragraph, kept or not: the trail, if no
    // paragraph follows.
    let mut since_last = Vec::new();
    let mut any_kept = false;
    // Whether the last paragraph seen was removed (`None`: none seen yet).
    let mut last_removed: Option<bool> = None;
    let mut finish = |current: &mut Option<Current>| -> Result<(), E> {
        match current.take() {
            Some(c) if c.removed => cut(Cut {
                paragraph: c.paragraph,
                text: &c.text[..(c.end - c.start) as usize],
                line: c.line,
                start: c.start,
                end: c.end,
            }),
            _ => Ok(()),
        }
    };
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        outcome.bytes_in += line.len() as u64;
        ends_with_newline = line.ends_with(b"\n");
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if is_blank(content) {
            finish(&mut current)?;
            if last_removed != Some(true) {
                held.extend_from_slice(&line);
            }
            since_last.extend_from_slice(&line);
        } else {
            let continues = mode == ParagraphMode::BlankLine && current.is_some();
            if !continues {
                finish(&mut current)?;
                let paragraph = outcome.paragraphs;
                outcome.paragraphs += 1;
                let removed = remove.next_if_eq(&paragraph).is_some();
                last_removed = Some(removed);
                since_last.clear();
                if !removed {
                    write(&held, &mut outcome)?;
                    held.clear();
                    any_kept = true;
                }
                current = Some(Current {
                    removed,
                    paragraph,
                    line: line_no,
                    start: pos,
                    end: pos,
                    text: Vec::new(),
                });
            }
            let c = current.as_mut().expect("a paragraph is open");
            if c.removed {
                c.text.extend_from_slice(&line);
            } else {
                write(&line, &mut outcome)?;
            }
            c.end = pos + content.len() as u64;
        }
        pos += line.len() as u64;
        line_no += 1;
    }
    finish(&mut current)?;
    if outcome.paragraphs > 0 && !any_kept {
        outcome.emptied = true;
    } else if last_removed == Some(true) {
        write(&since_last, &mut outcome)?;
    } else {
        write(&held, &mut outcome)?;
    }
    if ends_with_newline {
        outcome.bytes_out += pending.len() as u64;
        out.write_all(&pending)?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paragraph::paragraphs;
    use proptest::prelude::*;

    /// The document without `remove`, and the cut paragraphs' texts.
    fn run(doc: &str, mode: ParagraphMode, remove: &[u32]) -> (String, Vec<String>, Outcome) {
        let mut out = Vec::new();
        let mut cuts = Vec::new();
        let outcome = remove_paragraphs(doc.as_bytes(), mode, remove, &mut out, |c| {
            assert_eq!(&doc.as_bytes()[c.start as usize..c.end as usize], c.text);
            cuts.push(String::from_utf8(c.text.to_vec()).unwrap());
            Ok::<(), io::Error>(())
        })
        .unwrap();
        (String::from_utf8(out).unwrap(), cuts, outcome)
    }

    #[test]
    fn blank_lines_follow_the_kept_paragraphs() {
        use ParagraphMode::{BlankLine, Line};
        let cases: &[(&str, ParagraphMode, &[u32], &str)] = &[
            ("A\nB\nA\n", Line, &[2], "A\nB\n"),
            ("A\nA\nB", Line, &[1], "A\nB"),
            // No line break after the last line: none after the new last.
            ("A\nB\nA", Line, &[2], "A\nB"),
            ("A\n\nB", Line, &[1], "A"),
            ("A\r\nB", Line, &[1], "A"),
            ("A\na\n\nB", BlankLine, &[1], "A\na"),
            ("A\nB \n ", Line, &[1], "A\n "),
            ("A\nB\r", Line, &[1], "A"),
            ("A\r", Line, &[], "A\r"),
            ("A\r\n\r\nB\r\n\r\nA\r\n", Line, &[2], "A\r\n\r\nB\r\n"),
            ("\nA\n\nB\n\nC\n\n", Line, &[1], "\nA\n\nC\n\n"),
            ("\nA\n\nB\n\nC\n\n", Line, &[2], "\nA\n\nB\n\n"),
            ("\nA\n\nB\n\nC\n\n", Line, &[0], "\nB\n\nC\n\n"),
            ("\nA\n\nB\n\nC\n\n", Line, &[0, 1, 2], ""),
            ("A\n\n\nB\nC\n", Line, &[1], "A\n\n\nC\n"),
            ("A\na\n\nB\nb\n\nA\na\n", BlankLine, &[2], "A\na\n\nB\nb\n"),
            ("A\na\n\nB\nb\n\nC\n", BlankLine, &[1], "A\na\n\nC\n"),
            ("A\n  \nB\n", BlankLine, &[], "A\n  \nB\n"),
            ("\n \n", Line, &[], "\n \n"),
            ("", Line, &[], ""),
        ];
        for &(doc, mode, remove, expected) in cases {
            let (out, cuts, _) = run(doc, mode, remove);
            assert_eq!(out, expected, "{doc:?} without {remove:?}");
            assert_eq!(cuts.len(), remove.len(), "{doc:?}");
        }
    }

    #[test]
    fn cut_text_excludes_the_line_ending() {
        let (_, cuts, outcome) = run("x\r\ny\nz\r\nw\r\n", ParagraphMode::BlankLine, &[0]);
        assert_eq!(cuts, ["x\r\ny\nz\r\nw"]);
        assert!(outcome.emptied);
        let (_, cuts, _) = run("a b\r\nc d\r\n", ParagraphMode::Line, &[1]);
        assert_eq!(cuts, ["c d"]);
    }

    fn document() -> impl Strategy<Value = String> {
        let line = prop::sample::select(vec!["", " ", "a", "b c", "\u{a0}", "d\r", "e f g"]);
        prop::collection::vec(line, 0..12)
            .prop_flat_map(|lines| {
                let text = lines.join("\n");
                (Just(text), any::<bool>())
            })
            .prop_map(|(text, newline)| if newline { text + "\n" } else { text })
    }

    proptest! {
        /// The output's paragraphs are the input's minus the removed ones,
        /// in order, and cleaning the output again changes nothing.
        #[test]
        fn keeps_every_other_paragraph(
            doc in document(),
            blank_line in any::<bool>(),
            mask in any::<u16>(),
        ) {
            let mode = if blank_line { ParagraphMode::BlankLine } else { ParagraphMode::Line };
            let all: Vec<&[u8]> = paragraphs(doc.as_bytes(), mode).map(|p| p.text).collect();
            let remove: Vec<u32> = (0..all.len() as u32).filter(|i| mask >> (i % 16) & 1 == 1).collect();
            let (out, cuts, outcome) = run(&doc, mode, &remove);
            let kept: Vec<&[u8]> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| !remove.contains(&(*i as u32)))
                .map(|(_, p)| *p)
                .collect();
            let after: Vec<&[u8]> = paragraphs(out.as_bytes(), mode).map(|p| p.text).collect();
            prop_assert_eq!(&after, &kept);
            prop_assert_eq!(cuts.len(), remove.len());
            prop_assert_eq!(outcome.emptied, !all.is_empty() && kept.is_empty());
            if remove.is_empty() {
                prop_assert_eq!(&out, &doc);
            }
            let (again, _, _) = run(&out, mode, &[]);
            prop_assert_eq!(again, out);
        }
    }
}
