//! Text for people: the findings as `neardup scan` shows duplicates, then
//! what the baseline hid or saw fixed, then the verdict. May change between
//! releases; scripts should read `json`.

use std::collections::BTreeMap;
use std::io;

use neardup::report::text::{Text as ScanText, TopText, escape, inside};
use neardup::report::{Cluster, Duplicate, Render as _, Report, Summary};

use super::RenderOutcome;
use crate::cli::check::gate::Outcome;
use neardup::report::text::count;

/// Fixed baseline entries listed one by one; the rest are counted.
const MAX_FIXED_SHOWN: usize = 20;

#[derive(Clone, Copy, Debug)]
pub struct Text {
    pub color: bool,
    /// Only the findings (`-q`): no counts, no baseline lines, no verdict;
    /// the exit status says whether the check passed.
    pub quiet: bool,
    /// `--top N`: the most repeated paragraphs and the files with most
    /// duplicates instead of every finding.
    pub top: Option<usize>,
}

impl Text {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

impl RenderOutcome for Text {
    fn render(&self, o: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        // The findings as a report of their own, so that they read exactly
        // as `neardup scan` output.
        // One cluster per kept paragraph, as in a scan, so that `--top`
        // counts its repeats.
        let mut clusters: BTreeMap<(neardup::id::DocId, u32), Cluster> = BTreeMap::new();
        for p in o.findings.iter().flat_map(|f| &f.pairs) {
            let kept = &p.of.location;
            clusters
                .entry((kept.doc_index, kept.paragraph))
                .or_insert_with(|| Cluster {
                    kept: p.of.clone(),
                    duplicates: Vec::new(),
                })
                .duplicates
                .push(Duplicate {
                    member: p.at.clone(),
                    similarity: p.similarity,
                    kind: p.kind,
                });
        }
        let clusters = clusters.into_values().collect();
        let view = Report {
            summary: Summary {
                duplicate_paragraphs: o.duplicates,
                within_document: o.within_document,
                cross_document: o.cross_document,
                clusters: o.clusters,
                passages: o.findings.len() as u64,
                ..o.report.summary
            },
            config: o.report.config.clone(),
            clusters,
            passages: o.findings.iter().map(|f| f.passage.clone()).collect(),
            paragraphs_by_input: o.report.paragraphs_by_input.clone(),
            diagnostics: Vec::new(),
            timings: Vec::new(),
            contained: o.contained.iter().map(|&c| c.clone()).collect(),
        };
        let text = ScanText { color: self.color };
        match (self.top, self.quiet) {
            (None, true) => {
                text.render_findings(&view, out)?;
                for c in &view.contained {
                    writeln!(out, "{}", inside(c))?;
                }
                return Ok(());
            }
            (None, false) => text.render(&view, out)?,
            (Some(n), quiet) => {
                let top = TopText {
                    n,
                    color: self.color,
                };
                if quiet {
                    return top.render_lists(&view, out);
                }
                top.render(&view, out)?;
                // The top lists are of duplicates; containment findings
                // are few and each its own.
                if !view.contained.is_empty() {
                    text.render_contained(&view, out)?;
                }
            }
        }

        if o.changed_only {
            writeln!(
                out,
                "checked {} ({}) against the rest of the corpus",
                count(o.files.len() as u64, "changed file"),
                count(o.paragraphs, "paragraph")
            )?;
        }
        // Nothing to say when the baseline hid nothing.
        if o.baseline && o.baselined > 0 {
            writeln!(
                out,
                "{} known to the baseline not counted",
                count(o.baselined, "duplicate paragraph")
            )?;
        }
        if !o.fixed.is_empty() {
            let n: u64 = o.fixed.iter().map(|f| u64::from(f.count)).sum();
            writeln!(
                out,
                "{} no longer repeated (fixed; --write-baseline drops them):",
                count(n, "baseline occurrence")
            )?;
            for f in o.fixed.iter().take(MAX_FIXED_SHOWN) {
                let times = if f.count > 1 {
                    format!(" ({}x)", f.count)
                } else {
                    String::new()
                };
                writeln!(out, "  {}: {}{times}", escape(&f.path), escape(&f.text))?;
            }
            if o.fixed.len() > MAX_FIXED_SHOWN {
                writeln!(out, "  ... and {} more", o.fixed.len() - MAX_FIXED_SHOWN)?;
            }
        }
        let verdict = super::verdict(o);
        let code = if o.passed() { "1;32" } else { "1;31" };
        writeln!(out, "{}", self.paint(code, &verdict))
    }
}
