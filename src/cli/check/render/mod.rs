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

use neardup::report::text as phrase;
use neardup::report::text::count;

use super::gate::{Finding, Outcome};

/// An output format of check's outcome (the verdict with its findings);
/// not the library's `report::Render`, which writes a scan's report.
pub trait RenderOutcome {
    /// Writes `outcome` to `out`.
    fn render(&self, outcome: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()>;
}

/// `path:7-8`: where a finding is.
pub fn place(span: &neardup::report::Span) -> String {
    phrase::place(span)
}

/// What a finding repeats: briefly when it is in the same document.
pub fn original(f: &Finding) -> String {
    phrase::original(&f.passage)
}

/// `(2 paragraphs, within-document, identical)`.
pub fn details(f: &Finding) -> String {
    phrase::details(&f.passage)
}

/// One line saying what a finding is: `a.txt:8-9 repeats lines 6-7 (...)`.
pub fn headline(f: &Finding) -> String {
    format!(
        "{} repeats {} {}",
        place(&f.passage.repeat),
        original(f),
        details(f)
    )
}

pub use phrase::label;

/// The passage's first and last line: for a record, its line twice.
pub fn lines(f: &Finding) -> (u64, u64) {
    (f.passage.repeat.first.line, f.passage.repeat.last.line)
}

/// The verdict in one line.
pub fn verdict(o: &Outcome<'_>) -> String {
    if let Some((path, n)) = &o.written {
        format!(
            "neardup check passed: baseline {path} written with {} of repeated paragraphs",
            count(*n, "occurrence")
        )
    } else if o.passed() {
        let mut what = if o.duplicates == 0 {
            "no duplicates".to_owned()
        } else {
            format!(
                "{} within the limits",
                count(o.duplicates, "duplicate paragraph")
            )
        };
        if !o.contained.is_empty() {
            what.push_str(&format!(
                "; {} inside longer ones within the limits",
                count(o.contained.len() as u64, "paragraph")
            ));
        }
        format!("neardup check passed: {what}")
    } else {
        format!("neardup check failed: {}", o.violations.join("; "))
    }
}
