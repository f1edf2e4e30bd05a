//! From a scan report to a verdict: which duplicates are findings (all of
//! them, or those a baseline does not know), grouped into passages, and
//! whether they exceed the limits.

use std::collections::BTreeSet;

use neardup::passage;
use neardup::report::text::count;
use neardup::report::{Cluster, Contained, Duplicate, Kind, Member, Passage, Report};
use neardup::{Error, Similarity};

use super::baseline::{Fixed, Known};
use super::settings::Limits;

/// A duplicate that counts: `at` repeats `of`.
#[derive(Clone, Debug)]
pub struct Pair {
    pub at: Member,
    pub of: Member,
    pub similarity: Similarity,
    pub kind: Kind,
}

/// Consecutive pairs forming one repeated passage: what an annotation or a
/// test failure is about.
#[derive(Clone, Debug)]
pub struct Finding {
    pub passage: Passage,
    /// The pairs, in the order of the repeated paragraphs.
    pub pairs: Vec<Pair>,
}

/// A problem with the input or the paths, as the renderers show it.
#[derive(Clone, Debug)]
pub struct Problem {
    pub warning: bool,
    pub path: Option<String>,
    pub line: Option<u64>,
    pub message: String,
}

impl Problem {
    pub fn from_error(e: &Error) -> Problem {
        Problem {
            warning: e.is_warning(),
            path: e.path().map(str::to_owned),
            line: e.line(),
            // A place given as a byte (a WARC record) has no line field in
            // the CI formats: the message says it.
            message: match (e.line(), e.offset()) {
                (None, Some(at)) => format!("byte {at}: {}", e.message()),
                _ => e.message().to_owned(),
            },
        }
    }
}

/// A file the check covers, for per-file formats (JUnit).
#[derive(Clone, Debug)]
pub struct File {
    pub path: String,
    pub paragraphs: u64,
}

/// Everything a renderer shows.
#[derive(Debug)]
pub struct Outcome<'r> {
    pub report: &'r Report,
    /// Findings in input order of their repeated paragraphs.
    pub findings: Vec<Finding>,
    /// The files checked: every input, or the changed ones.
    pub files: Vec<File>,
    /// Whether only changed files were checked.
    pub changed_only: bool,
    /// Paragraphs of the files checked.
    pub paragraphs: u64,
    /// Duplicate paragraphs found (not known to the baseline).
    pub duplicates: u64,
    pub within_document: u64,
    pub cross_document: u64,
    /// Report clusters holding at least one of them.
    pub clusters: u64,
    /// Whether a baseline was used.
    pub baseline: bool,
    /// Duplicates the baseline knows, not counted.
    pub baselined: u64,
    /// Baseline entries that no longer occur.
    pub fixed: Vec<Fixed>,
    /// Containment findings (with `--containment`), in input order of the
    /// shorter paragraph: a pair of two reference paragraphs is never
    /// one, so with `--changed` each involves a changed file.
    pub contained: Vec<&'r Contained>,
    pub limits: Limits,
    /// One sentence per exceeded limit.
    pub violations: Vec<String>,
    /// The baseline written by this run and the occurrences it holds: the
    /// duplicates found are accepted, so the check passes.
    pub written: Option<(String, u64)>,
    pub problems: Vec<Problem>,
}

impl Outcome<'_> {
    /// Duplicates per paragraph of the files checked.
    pub fn ratio(&self) -> f64 {
        if self.paragraphs == 0 {
            0.0
        } else {
            self.duplicates as f64 / self.paragraphs as f64
        }
    }

    pub fn passed(&self) -> bool {
        self.violations.is_empty() || self.written.is_some()
    }

    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| !p.warning).count()
    }
}

/// The outcome of a check. `files` are the checked files, `known` what a
/// baseline knows.
pub fn evaluate<'r>(
    report: &'r Report,
    files: Vec<File>,
    changed_only: bool,
    known: Option<Known>,
    limits: Limits,
    problems: Vec<Problem>,
) -> Outcome<'r> {
    let baseline = known.is_some();
    let (members, fixed) = match known {
        Some(k) => (Some(k.members), k.fixed),
        None => (None, Vec::new()),
    };
    let mut pairs: Vec<(usize, Pair)> = Vec::new();
    let mut duplicates_in_report = 0;
    for (ci, c) in report.clusters.iter().enumerate() {
        duplicates_in_report += c.duplicates.len() as u64;
        let known = members.as_ref().map(|m| &m[ci][..]);
        pairs.extend(new_pairs(c, known).into_iter().map(|p| (ci, p)));
    }
    pairs.sort_by_key(|(_, p)| (p.at.location.doc_index, p.at.location.paragraph));
    let clusters: BTreeSet<usize> = pairs.iter().map(|(ci, _)| *ci).collect();
    let pairs: Vec<Pair> = pairs.into_iter().map(|(_, p)| p).collect();
    let findings = findings(pairs);

    let paragraphs = files.iter().map(|f| f.paragraphs).sum();
    let count = |kind| {
        findings
            .iter()
            .flat_map(|f| &f.pairs)
            .filter(|p| p.kind == kind)
            .count() as u64
    };
    let mut outcome = Outcome {
        report,
        files,
        changed_only,
        paragraphs,
        duplicates: findings.iter().map(|f| f.pairs.len() as u64).sum(),
        within_document: count(Kind::WithinDocument),
        cross_document: count(Kind::CrossDocument),
        clusters: clusters.len() as u64,
        baseline,
        baselined: 0,
        fixed,
        contained: report.contained.iter().collect(),
        limits,
        violations: Vec::new(),
        written: None,
        problems,
        findings,
    };
    outcome.baselined = duplicates_in_report.saturating_sub(outcome.duplicates);
    outcome.violations = violations(&outcome);
    outcome
}

/// The pairs of one cluster that count, given which members are known
/// (kept paragraph first). Without a baseline every duplicate counts. With
/// one, every unknown member counts: a duplicate against the kept
/// paragraph, and an unknown kept paragraph (a new file sorting before the
/// known copies) against the first known duplicate, so that the finding
/// names the new text; unless nothing at all is known, when the cluster is
/// new and its duplicates count as usual.
fn new_pairs(c: &Cluster, known: Option<&[bool]>) -> Vec<Pair> {
    let pair = |d: &Duplicate| Pair {
        at: d.member.clone(),
        of: c.kept.clone(),
        similarity: d.similarity,
        kind: d.kind,
    };
    let Some(known) = known.filter(|k| k.iter().any(|&k| k)) else {
        return c.duplicates.iter().map(pair).collect();
    };
    let mut out = Vec::new();
    if !known[0] {
        let first = c
            .duplicates
            .iter()
            .zip(&known[1..])
            .find_map(|(d, &k)| k.then_some(d));
        if let Some(d) = first {
            let mut at = c.kept.clone();
            // Kept paragraphs carry no text; the copy it is reported
            // against has the same or nearly the same.
            at.snippet.clone_from(&d.member.snippet);
            at.text.clone_from(&d.member.text);
            out.push(Pair {
                at,
                of: d.member.clone(),
                similarity: d.similarity,
                kind: d.kind,
            });
        }
    }
    out.extend(
        c.duplicates
            .iter()
            .zip(&known[1..])
            .filter(|(_, k)| !**k)
            .map(|(d, _)| pair(d)),
    );
    out
}

/// Groups pairs sorted by their repeated paragraph into passages.
fn findings(pairs: Vec<Pair>) -> Vec<Finding> {
    let clusters: Vec<Cluster> = pairs
        .iter()
        .map(|p| Cluster {
            kept: p.of.clone(),
            duplicates: vec![Duplicate {
                member: p.at.clone(),
                similarity: p.similarity,
                kind: p.kind,
            }],
        })
        .collect();
    // `passages` orders pairs by their repeated paragraph, as they are, so
    // each passage takes the next `paragraphs` pairs.
    let mut pairs = pairs.into_iter();
    passage::passages(&clusters)
        .into_iter()
        .map(|passage| Finding {
            pairs: pairs.by_ref().take(passage.paragraphs as usize).collect(),
            passage,
        })
        .collect()
}

fn violations(o: &Outcome<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let new = if o.baseline { "new " } else { "" };
    if let Some(max) = o.limits.max_duplicate_ratio
        && o.ratio() > max
    {
        out.push(if max == 0.0 {
            format!(
                "{} (--max-duplicate-ratio 0 allows none)",
                count(o.duplicates, &format!("{new}duplicate paragraph"))
            )
        } else {
            format!(
                "{} of {}, a ratio of {:.4}, above --max-duplicate-ratio {max}",
                count(o.duplicates, &format!("{new}duplicate paragraph")),
                o.paragraphs,
                o.ratio()
            )
        });
    }
    if let Some(max) = o.limits.max_clusters
        && o.clusters > max
    {
        out.push(format!(
            "{} with {new}duplicates, above --max-clusters {max}",
            count(o.clusters, "paragraph")
        ));
    }
    if let Some(max) = o.limits.max_contained {
        let n = o.contained.len() as u64;
        let inside = format!("{} inside longer ones", count(n, "paragraph"));
        if n > max && max == 0 {
            out.push(format!("{inside} (--max-contained 0 allows none)"));
        } else if n > max {
            out.push(format!("{inside}, above --max-contained {max}"));
        }
    }
    out
}
