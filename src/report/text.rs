//! Human-readable output: one finding per repeated passage, with
//! `path:line`, the similarity, and the start of each repeated paragraph.
//!
//! This format is for people and may change between releases; scripts
//! should read `json` or `jsonl`.
//!
//! Paths, document ids, page addresses and snippets come from the input
//! and may hold control characters; they are written through [`escape`],
//! so that a line break in an id cannot break the one-finding-per-line
//! layout and an escape sequence cannot reach the terminal.

use std::borrow::Cow;
use std::io;
use std::sync::Arc;

use super::top::Top;
use super::{Kind, Location, Passage, Render, Report, Span};

/// The human-readable renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Text {
    /// Use ANSI colours.
    pub color: bool,
}

struct Style {
    on: bool,
}

impl Style {
    /// `text` in the colour `code`, written where it is formatted (a
    /// million findings are two million lines: no string of its own).
    fn paint<'t>(&self, code: &'static str, text: &'t str) -> Painted<'t> {
        Painted {
            code: self.on.then_some(code),
            text,
        }
    }
    fn place<'t>(&self, text: &'t str) -> Painted<'t> {
        self.paint("1;35", text)
    }
    fn number<'t>(&self, text: &'t str) -> Painted<'t> {
        self.paint("32", text)
    }
    fn measure<'t>(&self, text: &'t str) -> Painted<'t> {
        self.paint("33", text)
    }
    fn dim<'t>(&self, text: &'t str) -> Painted<'t> {
        self.paint("2", text)
    }
}

/// Text with an ANSI colour, or none ([`Style::paint`]).
struct Painted<'t> {
    code: Option<&'static str>,
    text: &'t str,
}

impl std::fmt::Display for Painted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Padded as a string is (`{:>9}`), colour codes included.
        match self.code {
            Some(code) => f.pad(&format!("\x1b[{code}m{}\x1b[0m", self.text)),
            None => f.pad(self.text),
        }
    }
}

/// `s` with its control characters (Unicode category Cc) escaped: `\t`,
/// `\n`, `\r` as `ls -b` writes them, the rest of C0 and DEL in hex as
/// ripgrep writes bytes (`\x00`, `\x1b`; `ls -b` uses octal), C1 as Rust
/// writes characters (`\u{85}`). Other characters, the backslash
/// included, stay as they are: this is text for people, and the JSON
/// formats keep every value exact.
///
/// # Example
///
/// ```
/// use neardup::report::text::escape;
///
/// assert_eq!(escape("a\nb\u{0}\u{1b}[31m\u{85}é"), r"a\nb\x00\x1b[31m\u{85}é");
/// assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed("plain")));
/// ```
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str(r"\t"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!(r"\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!(r"\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether the location is a record of a JSON Lines input (its document id
/// is not simply the path).
fn is_record(l: &Location) -> bool {
    !Arc::ptr_eq(&l.path, &l.doc)
}

fn range(first: u64, last: u64) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    }
}

/// Where a span is: `path:7-8`, or for a record `path:4 (doc X,
/// paragraphs 2-3)` (with the page address instead of `doc X` when there
/// is one).
pub fn place(span: &Span) -> String {
    let at = place_in_input(span);
    match &span.first.batch {
        Some(batch) => format!("{at} [index batch {}]", escape(batch)),
        None => at,
    }
}

fn place_in_input(span: &Span) -> String {
    let (first, last) = (&span.first, &span.last);
    if is_record(first) {
        let paras = range(u64::from(first.paragraph), u64::from(last.paragraph));
        let noun = if first.paragraph == last.paragraph {
            "paragraph"
        } else {
            "paragraphs"
        };
        // A page address (WET) says more to a reader than a record id.
        let doc = match &first.url {
            Some(url) => escape(url).into_owned(),
            // An empty id would read as a missing word.
            None if first.doc.is_empty() => "doc \"\"".to_owned(),
            None => format!("doc {}", escape(&first.doc)),
        };
        format!(
            "{}:{} ({doc}, {noun} {paras})",
            escape(&first.path),
            first.line
        )
    } else {
        format!("{}:{}", escape(&first.path), range(first.line, last.line))
    }
}

/// How the original is named after "repeats": briefly (`lines 6-7`) when
/// it is in the same document, else by [`place`].
pub fn original(p: &Passage) -> String {
    let (first, last) = (&p.original.first, &p.original.last);
    match (p.kind, is_record(first)) {
        (Kind::WithinDocument, false) => {
            let noun = if first.line == last.line {
                "line"
            } else {
                "lines"
            };
            format!("{noun} {}", range(first.line, last.line))
        }
        (Kind::WithinDocument, true) => {
            let noun = if first.paragraph == last.paragraph {
                "paragraph"
            } else {
                "paragraphs"
            };
            format!(
                "{noun} {}",
                range(u64::from(first.paragraph), u64::from(last.paragraph))
            )
        }
        (Kind::CrossDocument, _) => place(&p.original),
    }
}

/// `identical`, or `similarity 0.85` (the lowest of the passage).
pub fn similarity(p: &Passage) -> String {
    let s = p.min_similarity;
    if s.intersection == s.union {
        "identical".to_owned()
    } else {
        format!("similarity {:.2}", s.as_f64())
    }
}

/// `(2 paragraphs, within-document, identical)`.
pub fn details(p: &Passage) -> String {
    let count = if p.paragraphs == 1 {
        String::new()
    } else {
        format!("{} paragraphs, ", p.paragraphs)
    };
    format!("({count}{}, {})", p.kind.as_str(), similarity(p))
}

/// The label of a repeated paragraph: its line, or `¶3` in a record.
pub fn label(l: &Location) -> String {
    if is_record(l) {
        format!("¶{}", l.paragraph)
    } else {
        l.line.to_string()
    }
}

impl Text {
    /// Writes the findings alone, without the summary line that
    /// [`Render::render`] adds (for a caller with a summary of its own).
    ///
    /// # Errors
    ///
    /// Returns the error of the underlying writer.
    pub fn render_findings(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let style = Style { on: self.color };
        // Snippets live on cluster members; index them by location (a
        // million of them for a line repeated a million times).
        let mut snippets = ahash::AHashMap::new();
        for c in &report.clusters {
            for d in &c.duplicates {
                snippets.insert(
                    (d.member.location.doc_index, d.member.location.paragraph),
                    &d.member,
                );
            }
        }
        for p in &report.passages {
            writeln!(
                out,
                "{} repeats {} {}",
                style.place(&place(&p.repeat)),
                original(p),
                style.dim(&details(p)),
            )?;
            let (doc, first, last) = (
                p.repeat.first.doc_index,
                p.repeat.first.paragraph,
                p.repeat.last.paragraph,
            );
            for para in first..=last {
                if let Some(m) = snippets.get(&(doc, para)) {
                    writeln!(
                        out,
                        "  {} │ {}",
                        style.number(&format!("{:>5}", label(&m.location))),
                        escape(&m.snippet)
                    )?;
                }
            }
        }
        Ok(())
    }
}

impl Render for Text {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        self.render_findings(report, out)?;
        if !report.passages.is_empty() {
            writeln!(out)?;
        }
        if !report.contained.is_empty() {
            self.render_contained(report, out)?;
            writeln!(out)?;
        }
        self.render_summary(report, out)
    }
}

/// Where one paragraph is, as [`place`] says it of a span.
fn place_of(l: &crate::report::Location) -> String {
    place(&crate::report::Span {
        first: l.clone(),
        last: l.into(),
    })
}

/// A containment finding in one line, as the text output writes it
/// without colour: `a.txt:3 is inside b.txt:7 (containment 1.00: words
/// 1-31 of 31 match words 18-48 of 142)`.
pub fn inside(c: &crate::report::Contained) -> String {
    format!(
        "{} is inside {} {}",
        place_of(&c.short),
        place_of(&c.long),
        match_of(c)
    )
}

/// Where a containment finding's words match, as every output says it:
/// `(containment 1.00: words 1-31 of 31 match words 18-48 of 142)`.
pub fn match_of(c: &crate::report::Contained) -> String {
    format!(
        "(containment {:.2}: words {}-{} of {} match words {}-{} of {})",
        c.containment(),
        c.short_words.start + 1,
        c.short_words.end,
        c.words.0,
        c.long_words.start + 1,
        c.long_words.end,
        c.words.1
    )
}

impl Text {
    /// Writes the paragraphs found inside longer ones (containment), one
    /// line each, then their count.
    ///
    /// # Errors
    ///
    /// Returns the error of the underlying writer.
    pub fn render_contained(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let style = Style { on: self.color };
        for c in &report.contained {
            writeln!(
                out,
                "{} is inside {} {}",
                style.place(&place_of(&c.short)),
                place_of(&c.long),
                style.dim(&match_of(c)),
            )?;
        }
        writeln!(
            out,
            "{} inside longer ones",
            style.measure(&count(report.contained.len() as u64, "paragraph"))
        )
    }
}

impl Text {
    /// Writes the one-line summary of counts that ends the text output.
    ///
    /// # Errors
    ///
    /// Returns the error of the underlying writer.
    pub fn render_summary(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let style = Style { on: self.color };
        let s = &report.summary;
        writeln!(
            out,
            "{} ({} within documents, {} across) in {}; scanned {}, {}, {}{}",
            style.measure(&count(s.duplicate_paragraphs, "duplicate paragraph")),
            s.within_document,
            s.cross_document,
            count(s.passages, "passage"),
            count(s.documents, "document"),
            count(s.paragraphs, "paragraph"),
            human_bytes(s.bytes_read),
            input_problems(report),
        )
    }
}

/// The summary view of a report ([`Top`]): the `n` most repeated
/// paragraphs with their counts and first lines, the `n` files with the
/// most duplicates, then the summary line.
#[derive(Clone, Copy, Debug)]
pub struct TopText {
    /// Entries of each list at most.
    pub n: usize,
    /// Use ANSI colours.
    pub color: bool,
}

impl Render for TopText {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        self.render_lists(report, out)?;
        writeln!(out)?;
        Text { color: self.color }.render_summary(report, out)
    }
}

impl TopText {
    /// Writes the two lists without the summary line that
    /// [`Render::render`] adds (for a caller with a summary of its own).
    ///
    /// # Errors
    ///
    /// Returns the error of the underlying writer.
    pub fn render_lists(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let style = Style { on: self.color };
        let top = Top::new(report, self.n);
        writeln!(
            out,
            "most repeated paragraphs ({} of {}), occurrences and first occurrence:",
            top.paragraphs.len(),
            count(top.clusters as u64, "cluster")
        )?;
        for p in &top.paragraphs {
            let l = &p.kept.location;
            let span = Span {
                first: l.clone(),
                last: l.into(),
            };
            writeln!(
                out,
                "{:>9}  {}  {}",
                style.measure(&(p.duplicates + 1).to_string()),
                style.place(&place(&span)),
                escape(p.snippet)
            )?;
        }
        writeln!(
            out,
            "\nfiles with the most duplicate paragraphs ({} of {}), duplicates / paragraphs:",
            top.files.len(),
            top.files_with_duplicates
        )?;
        for f in &top.files {
            let counts = format!("{} / {}", f.duplicates, f.paragraphs);
            writeln!(out, "{:>15}  {}", counts, style.place(&escape(f.path)))?;
        }
        Ok(())
    }
}

/// What the summary line says about the input beyond the counts: documents
/// with nothing to compare, invalid UTF-8, errors and warnings, each only
/// when there are some. Empty, or starting with `"; "`.
pub fn input_problems(report: &Report) -> String {
    let s = &report.summary;
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| !d.is_warning())
        .count() as u64;
    let warnings = report.diagnostics.len() as u64 - errors;
    let mut out = String::new();
    for (n, one, many) in [
        (
            s.empty_documents,
            "document with nothing to compare",
            "documents with nothing to compare",
        ),
        (
            s.invalid_utf8,
            "line of invalid UTF-8",
            "lines of invalid UTF-8",
        ),
        (errors, "error", "errors"),
        (warnings, "warning", "warnings"),
    ] {
        if n > 0 {
            let noun = if n == 1 { one } else { many };
            out.push_str(&format!("; {n} {noun}"));
        }
    }
    out
}

/// `n` and the noun, made plural unless `n` is 1: `1 paragraph`,
/// `2 paragraphs`, `0 passages`. The one place counts meet nouns in what
/// neardup prints (every noun it counts takes an `s`).
///
/// # Example
///
/// ```
/// use neardup::report::text::count;
///
/// assert_eq!(count(1, "duplicate paragraph"), "1 duplicate paragraph");
/// assert_eq!(count(0, "passage"), "0 passages");
/// ```
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `1.5 MB` style sizes (decimal units).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let cases = [
            ("plain/path.txt", "plain/path.txt"),
            ("a\nb", r"a\nb"),
            ("tab\there\r", r"tab\there\r"),
            ("x\u{0}y\u{7f}", r"x\x00y\x7f"),
            ("\u{1b}[2J", r"\x1b[2J"),
            ("next\u{85}line\u{9f}", r"next\u{85}line\u{9f}"),
            ("back\\slash é \u{2028}", "back\\slash é \u{2028}"),
        ];
        for (raw, shown) in cases {
            assert_eq!(escape(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(104_857_600), "104.9 MB");
    }
}
