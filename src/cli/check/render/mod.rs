//! The output formats of `neardup check`, one file each behind one small
//! trait, as ruff does.
//!
//! They live in the binary rather than in the library's `report/` because
//! what they show is a verdict: findings after the baseline, limits,
//! fixed entries, exit semantics. The library reports facts (a
//! [`neardup::report::Report`]); policy and CI conventions (GitHub workflow
//! commands, SARIF rules, JUnit test cases) are the command line's
//! business, and keeping them here keeps the library's stable surface
//! small.

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::io;
use std::sync::Arc;

use neardup::report::{Kind, Location};

use super::gate::{Finding, Outcome};

/// An output format.
pub trait Render {
    /// Writes `outcome` to `out`.
    fn render(&self, outcome: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()>;
}

/// Whether the location is a record of a JSON Lines input.
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

/// `path:7-8`, or for a JSON Lines record `path:4 (doc X, paragraphs 2-3)`.
pub fn place(first: &Location, last: &Location) -> String {
    if is_record(first) {
        let noun = if first.paragraph == last.paragraph {
            "paragraph"
        } else {
            "paragraphs"
        };
        format!(
            "{}:{} (doc {}, {noun} {})",
            first.path,
            first.line,
            first.doc,
            range(first.paragraph.into(), last.paragraph.into())
        )
    } else {
        format!("{}:{}", first.path, range(first.line, last.line))
    }
}

/// What a finding repeats: briefly when it is in the same document.
pub fn original(f: &Finding) -> String {
    let (first, last) = (&f.passage.original.first, &f.passage.original.last);
    match (f.passage.kind, is_record(first)) {
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
                range(first.paragraph.into(), last.paragraph.into())
            )
        }
        (Kind::CrossDocument, _) => place(first, last),
    }
}

/// `identical` or `similarity 0.85` (the lowest of the passage).
pub fn similarity(f: &Finding) -> String {
    let s = f.passage.min_similarity;
    if s.intersection == s.union {
        "identical".to_owned()
    } else {
        format!("similarity {:.2}", s.as_f64())
    }
}

/// `(2 paragraphs, within-document, identical)`.
pub fn details(f: &Finding) -> String {
    let n = f.passage.paragraphs;
    let count = if n == 1 {
        String::new()
    } else {
        format!("{n} paragraphs, ")
    };
    format!("({count}{}, {})", f.passage.kind.as_str(), similarity(f))
}

/// One line saying what a finding is: `a.txt:8-9 repeats lines 6-7 (...)`.
pub fn headline(f: &Finding) -> String {
    format!(
        "{} repeats {} {}",
        place(&f.passage.repeat.first, &f.passage.repeat.last),
        original(f),
        details(f)
    )
}

/// The label of a repeated paragraph: its line, or `¶3` in a record.
pub fn label(l: &Location) -> String {
    if is_record(l) {
        format!("¶{}", l.paragraph)
    } else {
        l.line.to_string()
    }
}

/// The passage's first and last line: for a record, its line twice.
pub fn lines(f: &Finding) -> (u64, u64) {
    (f.passage.repeat.first.line, f.passage.repeat.last.line)
}

/// The verdict in one line.
pub fn verdict(o: &Outcome<'_>) -> String {
    if let Some((path, n)) = &o.written {
        format!(
            "neardup check passed: baseline {path} written with {n} occurrence{} of repeated paragraphs",
            super::gate::plural(*n)
        )
    } else if o.passed() {
        let what = if o.duplicates == 0 {
            "no duplicates".to_owned()
        } else {
            format!(
                "{} duplicate paragraph{} within the limits",
                o.duplicates,
                super::gate::plural(o.duplicates)
            )
        };
        format!("neardup check passed: {what}")
    } else {
        format!("neardup check failed: {}", o.violations.join("; "))
    }
}
