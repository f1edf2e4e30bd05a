//! `json`: the whole verdict as one object for programs. A stable
//! interface: fields are only ever added (schema in the README).

use std::io::{self, Write as _};

use neardup::report::json::ContainedOut;
use neardup::report::{Location, Member, Span};
use serde::Serialize;

use super::RenderOutcome;
use crate::cli::check::gate::{Finding, Outcome, Pair};

/// Schema version of the check `json` output.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug)]
pub struct Json;

#[derive(Serialize)]
struct Out<'a> {
    version: u32,
    tool: Tool,
    passed: bool,
    violations: &'a [String],
    limits: Limits,
    changed_only: bool,
    summary: Summary,
    findings: Vec<FindingOut<'a>>,
    /// With `--containment`: paragraphs inside longer ones, each as in
    /// `scan --output-format json`'s `contained`.
    #[serde(skip_serializing_if = "Option::is_none")]
    contained: Option<Vec<ContainedOut<'a>>>,
    fixed: Vec<FixedOut<'a>>,
    diagnostics: Vec<DiagnosticOut<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Limits {
    max_duplicate_ratio: Option<f64>,
    max_clusters: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_contained: Option<u64>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    paragraphs: u64,
    scanned_paragraphs: u64,
    allowed_paragraphs: u64,
    duplicate_paragraphs: u64,
    duplicate_ratio: f64,
    within_document: u64,
    cross_document: u64,
    clusters: u64,
    findings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    contained: Option<usize>,
    baselined: u64,
    fixed: usize,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    kind: &'static str,
    paragraphs: u32,
    min_similarity: f64,
    repeat: SpanOut<'a>,
    original: SpanOut<'a>,
    pairs: Vec<PairOut<'a>>,
}

#[derive(Serialize)]
struct SpanOut<'a> {
    path: &'a str,
    doc: &'a str,
    first_paragraph: u32,
    last_paragraph: u32,
    first_line: u64,
    last_line: u64,
    start: u64,
    end: u64,
    /// The index batch, for a passage of an index (`check --against`).
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

impl<'a> SpanOut<'a> {
    fn new(s: &'a Span) -> SpanOut<'a> {
        SpanOut {
            path: &s.first.path,
            doc: &s.first.doc,
            first_paragraph: s.first.paragraph,
            last_paragraph: s.last.paragraph,
            first_line: s.first.line,
            last_line: s.last.line,
            start: s.first.start,
            end: s.last.end,
            batch: s.first.batch.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct PairOut<'a> {
    repeat: MemberOut<'a>,
    original: MemberOut<'a>,
    similarity: f64,
}

#[derive(Serialize)]
struct MemberOut<'a> {
    path: &'a str,
    doc: &'a str,
    paragraph: u32,
    line: u64,
    start: u64,
    end: u64,
    fingerprint: String,
    /// The index batch, for a paragraph of an index (`check --against`).
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    text: &'a str,
}

impl<'a> MemberOut<'a> {
    fn new(m: &'a Member, text: bool) -> MemberOut<'a> {
        let Location {
            path,
            doc,
            paragraph,
            line,
            start,
            end,
            batch,
            ..
        } = &m.location;
        MemberOut {
            path,
            doc,
            paragraph: *paragraph,
            line: *line,
            start: *start,
            end: *end,
            fingerprint: format!("{:016x}", m.content),
            batch: batch.as_deref(),
            text: if text {
                m.text.as_deref().unwrap_or(&m.snippet)
            } else {
                ""
            },
        }
    }
}

impl<'a> PairOut<'a> {
    fn new(p: &'a Pair) -> PairOut<'a> {
        PairOut {
            repeat: MemberOut::new(&p.at, true),
            original: MemberOut::new(&p.of, false),
            similarity: p.similarity.as_f64(),
        }
    }
}

impl<'a> FindingOut<'a> {
    fn new(f: &'a Finding) -> FindingOut<'a> {
        FindingOut {
            kind: f.passage.kind.as_str(),
            paragraphs: f.passage.paragraphs,
            min_similarity: f.passage.min_similarity.as_f64(),
            repeat: SpanOut::new(&f.passage.repeat),
            original: SpanOut::new(&f.passage.original),
            pairs: f.pairs.iter().map(PairOut::new).collect(),
        }
    }
}

#[derive(Serialize)]
struct FixedOut<'a> {
    fingerprint: String,
    path: &'a str,
    count: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct DiagnosticOut<'a> {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    message: &'a str,
}

impl RenderOutcome for Json {
    fn render(&self, o: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let errors = o.errors();
        let containment = o.limits.max_contained.is_some();
        let doc = Out {
            version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            passed: o.passed(),
            violations: &o.violations,
            limits: Limits {
                max_duplicate_ratio: o.limits.max_duplicate_ratio,
                max_clusters: o.limits.max_clusters,
                max_contained: o.limits.max_contained,
            },
            changed_only: o.changed_only,
            summary: Summary {
                files: o.files.len(),
                paragraphs: o.paragraphs,
                scanned_paragraphs: o.report.summary.paragraphs,
                allowed_paragraphs: o.report.summary.allowed,
                duplicate_paragraphs: o.duplicates,
                duplicate_ratio: o.ratio(),
                within_document: o.within_document,
                cross_document: o.cross_document,
                clusters: o.clusters,
                findings: o.findings.len(),
                contained: containment.then_some(o.contained.len()),
                baselined: o.baselined,
                fixed: o.fixed.len(),
                errors,
                warnings: o.problems.len() - errors,
            },
            findings: o.findings.iter().map(FindingOut::new).collect(),
            contained: containment
                .then(|| o.contained.iter().map(|c| ContainedOut::new(c)).collect()),
            fixed: o
                .fixed
                .iter()
                .map(|f| FixedOut {
                    fingerprint: format!("{:016x}", f.fingerprint),
                    path: &f.path,
                    count: f.count,
                    text: &f.text,
                })
                .collect(),
            diagnostics: o
                .problems
                .iter()
                .map(|p| DiagnosticOut {
                    severity: if p.warning { "warning" } else { "error" },
                    path: p.path.as_deref(),
                    line: p.line,
                    message: &p.message,
                })
                .collect(),
        };
        let mut out = neardup::report::json::buffered(out);
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        out.flush()
    }
}
