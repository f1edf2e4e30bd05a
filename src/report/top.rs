//! A summary of a large report: the most repeated paragraphs and the files
//! with the most duplicates, for when the full list is too long to read
//! (a copy of /usr/share/doc has millions of duplicate lines).
//!
//! Input: a [`Report`]. Output: [`Top`], plain data borrowed from it; the
//! renderers are [`super::text::TopText`] and [`super::json::TopJson`].
//! Order is deterministic: by count, then input order.

use std::collections::HashMap;

use super::{Member, Report};
use crate::id::InputId;

/// The `n` most repeated paragraphs and the `n` files with most duplicates.
#[derive(Debug)]
pub struct Top<'r> {
    /// Kept paragraphs by number of duplicates, most first.
    pub paragraphs: Vec<TopParagraph<'r>>,
    /// Files by number of duplicate paragraphs, most first.
    pub files: Vec<TopFile<'r>>,
    /// Clusters in the report (of which `paragraphs` are the first).
    pub clusters: usize,
    /// Files with at least one duplicate (of which `files` are the first).
    pub files_with_duplicates: usize,
}

/// A kept paragraph and how often it is repeated.
#[derive(Debug)]
pub struct TopParagraph<'r> {
    /// The first occurrence.
    pub kept: &'r Member,
    /// Its duplicates (occurrences less one).
    pub duplicates: usize,
    /// The start of the text of its first duplicate (reports keep the
    /// text of duplicates only; a duplicate reads as its kept paragraph,
    /// word for word or nearly).
    pub snippet: &'r str,
}

/// A file and its duplicate paragraphs.
#[derive(Debug)]
pub struct TopFile<'r> {
    /// The input, as reports name it.
    pub path: &'r str,
    /// Paragraphs of the file flagged as duplicates.
    pub duplicates: u64,
    /// Paragraphs read from the file.
    pub paragraphs: u64,
}

impl<'r> Top<'r> {
    /// The summary of `report`, `n` entries of each list at most.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::corpus::{Format, Input, MemorySource};
    /// use neardup::pipeline::{scan, ScanOptions, Silent};
    /// use neardup::report::top::Top;
    /// use neardup::Config;
    ///
    /// let ferry = "The ferry to Inish Mor was cancelled again on Friday morning.\n";
    /// let storm = "Officials blamed the storm that closed the harbour.\n";
    /// let inputs = [
    ///     Input::new(MemorySource::new("a.txt", [ferry, storm, ferry].concat()), Format::Text),
    ///     Input::new(MemorySource::new("b.txt", [storm, ferry].concat()), Format::Text),
    /// ];
    /// let report = scan(&inputs, &Config::default(), &ScanOptions::default(), &Silent)?;
    /// let top = Top::new(&report, 1);
    /// assert_eq!((top.clusters, top.paragraphs.len()), (2, 1));
    /// assert_eq!(top.paragraphs[0].duplicates, 2);
    /// assert_eq!(top.paragraphs[0].snippet, ferry.trim_end());
    /// assert_eq!((top.files[0].path, top.files[0].duplicates), ("b.txt", 2));
    /// # Ok::<(), neardup::Error>(())
    /// ```
    pub fn new(report: &'r Report, n: usize) -> Top<'r> {
        let mut paragraphs: Vec<TopParagraph<'r>> = report
            .clusters
            .iter()
            .map(|c| TopParagraph {
                kept: &c.kept,
                duplicates: c.duplicates.len(),
                snippet: c.duplicates.first().map_or("", |d| &d.member.snippet),
            })
            .collect();
        // Stable: equal counts stay in input order.
        paragraphs.sort_by_key(|p| std::cmp::Reverse(p.duplicates));
        let clusters = paragraphs.len();
        paragraphs.truncate(n);

        let mut by_input: HashMap<InputId, (&'r str, u64)> = HashMap::new();
        for d in report.clusters.iter().flat_map(|c| &c.duplicates) {
            let l = &d.member.location;
            by_input.entry(l.input).or_insert((&l.path, 0)).1 += 1;
        }
        let mut files: Vec<(InputId, TopFile<'r>)> = by_input
            .into_iter()
            .map(|(input, (path, duplicates))| {
                let paragraphs = report
                    .paragraphs_by_input
                    .get(input.index())
                    .copied()
                    .unwrap_or(0);
                (
                    input,
                    TopFile {
                        path,
                        duplicates,
                        paragraphs,
                    },
                )
            })
            .collect();
        files.sort_by(|(ia, a), (ib, b)| b.duplicates.cmp(&a.duplicates).then(ia.cmp(ib)));
        let files_with_duplicates = files.len();
        files.truncate(n);
        Top {
            paragraphs,
            files: files.into_iter().map(|(_, f)| f).collect(),
            clusters,
            files_with_duplicates,
        }
    }
}
