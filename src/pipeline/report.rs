//! Verdicts in, a [`Report`] out: clusters in input order, passages and
//! the summary counts.
//!
//! The counts of the first pass ([`Counts`]) and the verdicts are apart,
//! so that a spread scan ([`super::spread`]) can sum the counts of its
//! shards and merge the verdicts of its parts into the same report.

use super::Context;
use super::first_pass::FirstPass;
use super::verify::Verified;
use crate::Error;
use crate::passage;
use crate::report::Cluster;
use crate::report::Duplicate;
use crate::report::Kind;
use crate::report::Member;
use crate::report::Report;
use crate::report::Summary;
use crate::{Config, Similarity};
use rayon::slice::ParallelSliceMut;

/// What a report says of the inputs besides its findings: the first
/// pass's counts, the paragraphs of each input, and the problems met, in
/// report order.
#[derive(Debug, Default)]
pub struct Counts {
    /// The counts; `duplicate_paragraphs` and the others that verdicts
    /// decide are left at 0.
    pub summary: Summary,
    /// Paragraphs read from each input.
    pub paragraphs_by_input: Vec<u64>,
    /// The first pass's problems, in input order.
    pub diagnostics: Vec<Error>,
    /// The second pass's problems (inputs that could not be read again, or
    /// changed), in input order: reported after all of the first pass's.
    pub second: Vec<Error>,
}

impl Counts {
    /// The counts of `index`, whose diagnostics it takes.
    pub(super) fn of(inputs: usize, index: &mut FirstPass) -> Counts {
        let summary = Summary {
            inputs: inputs as u64,
            documents: index.docs.len() as u64,
            paragraphs: index.paragraphs,
            fingerprinted: index.fp_para.len() as u64,
            allowed: index.allowed,
            bytes_read: index.bytes,
            empty_documents: index.empty_documents(),
            invalid_utf8: index.invalid_utf8_total,
            ..Summary::default()
        };
        let mut paragraphs_by_input = vec![0u64; inputs];
        for doc in &index.docs {
            paragraphs_by_input[doc.input] += u64::from(doc.n_paras);
        }
        let mut diagnostics = std::mem::take(&mut index.diagnostics);
        diagnostics.sort_by_key(|(seq, _)| *seq);
        Counts {
            summary,
            paragraphs_by_input,
            diagnostics: diagnostics.into_iter().map(|(_, e)| e).collect(),
            second: Vec::new(),
        }
    }

    /// Adds the counts of the inputs that follow these (the next shard of
    /// a spread scan).
    pub fn extend(&mut self, next: Counts) {
        let (s, n) = (&mut self.summary, next.summary);
        s.inputs += n.inputs;
        s.documents += n.documents;
        s.paragraphs += n.paragraphs;
        s.fingerprinted += n.fingerprinted;
        s.allowed += n.allowed;
        s.bytes_read += n.bytes_read;
        s.empty_documents += n.empty_documents;
        s.invalid_utf8 += n.invalid_utf8;
        self.paragraphs_by_input.extend(next.paragraphs_by_input);
        self.diagnostics.extend(next.diagnostics);
        self.second.extend(next.second);
    }
}

pub(super) fn build_report(ctx: &Context<'_>, mut index: FirstPass, verified: Verified) -> Report {
    let Verified {
        duplicates,
        mut kept,
        comparisons,
        diagnostics,
        stored: _,
        variants: _,
        prior_variants: _,
    } = verified;
    let mut counts = Counts::of(ctx.inputs.len(), &mut index);
    counts.second = diagnostics;
    // The paragraph tables are not needed from here on; the report is
    // built without them.
    drop(index);
    let report = assemble(
        ctx.config,
        counts,
        duplicates,
        |slot| kept.take(slot),
        comparisons,
    );
    // The members never repeated, still held, are freed on a pool thread
    // while the report is written.
    rayon::spawn(move || drop(kept));
    report
}

/// The report of `counts` and the verdicts: `duplicates` (slot, kept
/// slot, similarity, member) in slot order, and `take`, which hands over
/// the member of a kept slot: it is asked once for each kept slot that
/// has duplicates, in ascending order (`None` leaves the slot's cluster
/// out). Slots are a scan's own (`FingerprintId`) or a spread scan's
/// (`u64`).
///
/// Each member is moved once, into its cluster: a batch that repeats an
/// index has as many clusters as duplicates, hundreds of thousands, and
/// this step runs on one thread while the other waits (the kept members
/// went through a hash map first, and each duplicate found its list by
/// another).
pub(super) fn assemble<S: Copy + Ord + Send>(
    config: &Config,
    counts: Counts,
    duplicates: Vec<(S, S, Similarity, Member)>,
    mut take: impl FnMut(S) -> Option<Member>,
    comparisons: u64,
) -> Report {
    let Counts {
        mut summary,
        paragraphs_by_input,
        mut diagnostics,
        second,
    } = counts;
    summary.comparisons = comparisons;
    diagnostics.extend(second);
    // The duplicates by kept slot (ties in slot order), so that each
    // cluster's list is sized once (a line repeated a million times is one
    // list of a million) and each duplicate knows its cluster.
    let mut by_kept: Vec<(S, usize)> = (duplicates.iter().enumerate())
        .map(|(i, d)| (d.1, i))
        .collect();
    by_kept.par_sort_unstable();
    let runs = by_kept.chunk_by(|a, b| a.0 == b.0);
    let mut clusters = Vec::with_capacity(runs.clone().count());
    let mut cluster_of = vec![usize::MAX; duplicates.len()];
    for run in runs {
        let Some(kept) = take(run[0].0) else {
            continue;
        };
        let c = clusters.len();
        for &(_, i) in run {
            cluster_of[i] = c;
        }
        clusters.push(Cluster {
            kept,
            duplicates: Vec::with_capacity(run.len()),
        });
    }
    drop(by_kept);
    for ((_, _, similarity, member), c) in duplicates.into_iter().zip(cluster_of) {
        let Some(cluster) = clusters.get_mut(c) else {
            continue;
        };
        let kind = if cluster.kept.location.doc_index == member.location.doc_index {
            summary.within_document += 1;
            Kind::WithinDocument
        } else {
            summary.cross_document += 1;
            Kind::CrossDocument
        };
        summary.duplicate_paragraphs += 1;
        cluster.duplicates.push(Duplicate {
            member,
            similarity,
            kind,
        });
    }
    let passages = passage::passages(&clusters);
    summary.clusters = clusters.len() as u64;
    summary.passages = passages.len() as u64;
    Report {
        summary,
        config: config.clone(),
        clusters,
        passages,
        paragraphs_by_input,
        diagnostics,
        timings: Vec::new(),
        contained: Vec::new(),
    }
}
