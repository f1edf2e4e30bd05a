//! Verdicts in, a [`Report`] out: clusters in input order, passages and
//! the summary counts.

use super::Context;
use super::first_pass::FirstPass;
use super::verify::Verified;
use crate::Error;
use crate::id::FingerprintId;
use crate::passage;
use crate::report::Cluster;
use crate::report::Duplicate;
use crate::report::Kind;
use crate::report::Report;
use crate::report::Summary;
use std::collections::BTreeMap;

pub(super) fn build_report(ctx: &Context<'_>, index: FirstPass, verified: Verified) -> Report {
    let Verified {
        duplicates,
        mut kept,
        comparisons,
        diagnostics,
        stored: _,
        variants: _,
        prior_variants: _,
    } = verified;
    let mut by_kept: BTreeMap<FingerprintId, Vec<Duplicate>> = BTreeMap::new();
    let mut summary = Summary {
        inputs: ctx.inputs.len() as u64,
        documents: index.docs.len() as u64,
        paragraphs: index.paragraphs,
        fingerprinted: index.fp_para.len() as u64,
        allowed: index.allowed,
        bytes_read: index.bytes,
        comparisons,
        empty_documents: index.empty_documents(),
        invalid_utf8: index.invalid_utf8_total,
        ..Summary::default()
    };
    let mut paragraphs_by_input = vec![0u64; ctx.inputs.len()];
    for doc in &index.docs {
        paragraphs_by_input[doc.input] += u64::from(doc.n_paras);
    }
    let mut all_diagnostics = index.diagnostics;
    all_diagnostics.sort_by_key(|(seq, _)| *seq);
    let mut diagnostics_out: Vec<Error> = all_diagnostics.into_iter().map(|(_, e)| e).collect();
    diagnostics_out.extend(diagnostics);
    // The paragraph tables are not needed from here on; the report is
    // built without them.
    drop((index.docs, index.fp_para, index.fp_content));
    // Each cluster's list sized once (a line repeated a million times is
    // one list of a million).
    let mut sizes: BTreeMap<FingerprintId, usize> = BTreeMap::new();
    for (_, of, _, _) in &duplicates {
        *sizes.entry(*of).or_default() += 1;
    }
    for (of, n) in sizes {
        by_kept.insert(of, Vec::with_capacity(n));
    }
    for (_, of, similarity, member) in duplicates {
        let Some(original) = kept.get(&of) else {
            continue;
        };
        let kind = if original.location.doc_index == member.location.doc_index {
            summary.within_document += 1;
            Kind::WithinDocument
        } else {
            summary.cross_document += 1;
            Kind::CrossDocument
        };
        summary.duplicate_paragraphs += 1;
        by_kept.entry(of).or_default().push(Duplicate {
            member,
            similarity,
            kind,
        });
    }
    let clusters: Vec<Cluster> = by_kept
        .into_iter()
        .filter_map(|(of, duplicates)| kept.remove(&of).map(|kept| Cluster { kept, duplicates }))
        .collect();
    let passages = passage::passages(&clusters);
    summary.clusters = clusters.len() as u64;
    summary.passages = passages.len() as u64;
    Report {
        summary,
        config: ctx.config.clone(),
        clusters,
        passages,
        paragraphs_by_input,
        diagnostics: diagnostics_out,
        timings: Vec::new(),
        contained: Vec::new(),
    }
}
