//! Containment over a corpus: which kept paragraphs hold most of another
//! paragraph (a quote, a wire sentence) inside them.
//!
//! Run after a scan, on the same inputs ([`find`]): every paragraph of at
//! least `min_words` words that the scan kept is read once, its shingle
//! sequence winnowed with the window that guarantees `min_words` words
//! ([`super::window_for`]); paragraphs sharing a selected fingerprint are
//! candidates; each candidate pair is verified exactly: the containment
//! of the shorter's shingle set in the longer's, at or above the
//! threshold, and the longest shared run of words in both. Pairs the scan
//! already reported as near-duplicates are left out, and so are the
//! paragraphs it flagged as duplicates (their kept paragraph stands for
//! them).
//!
//! The guarantee: a kept paragraph of at least `min_words` words that
//! shares a run of `min_words` consecutive words with another kept
//! paragraph becomes a candidate with it, unless the fingerprint they
//! share is selected in more than `cap` paragraphs (boilerplate), whose
//! postings are dropped; whether it is reported then depends only on the
//! exact containment.
//!
//! This first form holds each such paragraph's shingle sequence (8 bytes
//! per word) while it works: for corpora of a few GB, not more.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::{containment, longest_shared_run, window_for, winnow};
use crate::corpus::record::documents;
use crate::corpus::{Format, Input};
use crate::id::{DocId, InputId};
use crate::paragraph::paragraphs;
use crate::pipeline::ScanOptions;
use crate::report::{Contained, Location, Report};
use crate::shingle::{self, ShingleSet, Shingler};
use crate::{Config, Error};

/// The settings of the containment path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Report a pair when at least `numerator / denominator` of the
    /// shorter paragraph's shingles are in the longer one.
    pub threshold: (u64, u64),
    /// The shorter paragraph's least words, and the shared run of words
    /// that is always found.
    pub min_words: usize,
    /// Fingerprints selected in more paragraphs than this are dropped.
    pub cap: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            threshold: (8, 10),
            min_words: 25,
            cap: 64,
        }
    }
}

/// One paragraph of the corpus that takes part.
struct Para {
    location: Location,
    /// Its shingle hashes in text order.
    shingles: Vec<u64>,
    tokens: usize,
}

/// What one block gives: its paragraphs that take part (numbered within
/// the block), and how many paragraphs (plain text) and documents it
/// holds, to number the next blocks' from.
struct FromBlock {
    paras: Vec<Para>,
    paragraphs: u32,
    docs: u32,
}

/// The paragraphs of one block of `input` (number `id`) with at least
/// `min_words` tokens, in order; text paragraphs and documents numbered
/// from 0 (the caller adds the earlier blocks' counts).
fn read_block(
    input: &Input,
    id: InputId,
    path: &Arc<str>,
    block: &crate::corpus::block::Block,
    config: &Config,
    options: &ScanOptions,
    min_words: usize,
) -> FromBlock {
    let shingler = Shingler::new(config.tokens(), config.shingle_size());
    let mut scratch = shingle::Scratch::default();
    let mut tokens = Vec::new();
    let least = min_words.max(config.min_words());
    let mut take = |location: Location, text: &[u8], out: &mut Vec<Para>| {
        let text = String::from_utf8_lossy(text);
        tokens.clear();
        let n = shingler.token_hashes(&text, &mut scratch, &mut tokens);
        if n < least {
            return;
        }
        let (shingles, _) = shingler.set_of_tokens(&tokens);
        out.push(Para {
            location,
            shingles,
            tokens: n,
        });
    };
    let mut out = FromBlock {
        paras: Vec::new(),
        paragraphs: 0,
        docs: 0,
    };
    if input.format == Format::Text {
        for p in paragraphs(&block.data, config.paragraphs()) {
            let location = Location {
                path: path.clone(),
                input: id,
                doc: path.clone(),
                url: None,
                doc_index: DocId::new(0),
                doc_line: 1,
                paragraph: out.paragraphs,
                line: block.first_line + p.line + 1,
                start: block.offset + p.start as u64,
                end: block.offset + p.end as u64,
                batch: None,
            };
            out.paragraphs += 1;
            take(location, p.text, &mut out.paras);
        }
        return out;
    }
    // The scan reported this block's bad records already.
    let mut problems = Vec::new();
    let (paras, docs) = (&mut out.paras, &mut out.docs);
    documents(
        input.format,
        block,
        &options.fields,
        path,
        |_| true,
        &mut problems,
        |doc| {
            let doc_name: Arc<str> = Arc::from(doc.name());
            let url: Option<Arc<str>> = doc.url.as_deref().map(Arc::from);
            for (i, p) in paragraphs(doc.text.as_bytes(), config.paragraphs()).enumerate() {
                let location = Location {
                    path: path.clone(),
                    input: id,
                    doc: doc_name.clone(),
                    url: url.clone(),
                    doc_index: DocId::new(*docs),
                    doc_line: doc.line,
                    paragraph: i as u32,
                    line: doc.line_of(p.line),
                    start: p.start as u64,
                    end: p.end as u64,
                    batch: None,
                };
                take(location, p.text, paras);
            }
            *docs += 1;
        },
    );
    out
}

/// The paragraphs of `input` (number `id`) with at least `min_words`
/// tokens, in order, each with its location and shingle sequence: blocks
/// are decoded in order and worked on a batch at a time in parallel.
fn read(
    input: &Input,
    id: InputId,
    config: &Config,
    options: &ScanOptions,
    min_words: usize,
) -> Result<Vec<Para>, Error> {
    let name = input.source.name();
    let path: Arc<str> = Arc::from(name);
    let mut blocks = input
        .blocks(
            config.paragraphs(),
            &options.fields,
            options.block_size,
            |_| {},
        )
        .map_err(|e| Error::io(name, e))?;
    let batch = rayon::current_num_threads().max(1) * 4;
    let (mut out, mut paragraphs_before, mut docs_before) = (Vec::new(), 0u32, 0u32);
    loop {
        let held: Vec<_> = blocks
            .by_ref()
            .take(batch)
            .collect::<Result<_, _>>()
            .map_err(|e| Error::io(name, e))?;
        if held.is_empty() {
            return Ok(out);
        }
        let done: Vec<FromBlock> = held
            .par_iter()
            .map(|b| read_block(input, id, &path, b, config, options, min_words))
            .collect();
        for block in done {
            for mut p in block.paras {
                if input.format == Format::Text {
                    p.location.paragraph += paragraphs_before;
                } else {
                    p.location.doc_index = DocId::new(p.location.doc_index.get() + docs_before);
                }
                out.push(p);
            }
            paragraphs_before += block.paragraphs;
            docs_before += block.docs;
        }
    }
}

/// Where a paragraph is, as a key that a scan's report and this pass
/// agree on.
fn key(l: &Location) -> (u32, u64, u32, u64) {
    (l.input.get(), l.doc_line, l.paragraph, l.start)
}

/// The kept paragraphs of `inputs` found inside another kept paragraph,
/// given the scan's `report` of the same inputs with the same `config`
/// and `options`; in input order of the shorter, then the longer.
///
/// # Errors
///
/// An input could not be read again.
pub fn find(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    settings: &Settings,
    report: &Report,
) -> Result<Vec<Contained>, Error> {
    let Some(window) = window_for(config.shingle_size(), settings.min_words) else {
        return Err(Error::config(format!(
            "containment needs at least {} words (one shingle), not {}",
            config.shingle_size(),
            settings.min_words
        )));
    };
    // The scan's verdicts: which paragraphs are duplicates (left out), and
    // which cluster each member is in (a near-duplicate pair is not
    // reported again).
    let mut cluster_of: HashMap<(u32, u64, u32, u64), usize> = HashMap::new();
    let mut duplicate = std::collections::HashSet::new();
    for (c, cluster) in report.clusters.iter().enumerate() {
        cluster_of.insert(key(&cluster.kept.location), c);
        for d in &cluster.duplicates {
            cluster_of.insert(key(&d.member.location), c);
            duplicate.insert(key(&d.member.location));
        }
    }
    let per_input: Vec<Vec<Para>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| {
            read(
                input,
                InputId::new(i as u32),
                config,
                options,
                settings.min_words,
            )
        })
        .collect::<Result<_, Error>>()?;
    let paras: Vec<Para> = per_input
        .into_iter()
        .flatten()
        .filter(|p| !duplicate.contains(&key(&p.location)))
        .collect();
    // Postings: (fingerprint, paragraph), sorted; runs are candidates.
    let mut postings: Vec<(u64, u32)> = paras
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, p)| {
            let mut fps: Vec<u64> = winnow(&p.shingles, window)
                .into_iter()
                .map(|(h, _)| h)
                .collect();
            fps.sort_unstable();
            fps.dedup();
            fps.into_iter().map(move |h| (h, i as u32))
        })
        .collect();
    postings.par_sort_unstable();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for run in postings.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 || run.len() > settings.cap {
            continue;
        }
        for (i, a) in run.iter().enumerate() {
            for b in &run[i + 1..] {
                pairs.push((a.1, b.1));
            }
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    let (num, den) = settings.threshold;
    let mut found: Vec<Contained> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let (pa, pb) = (&paras[a as usize], &paras[b as usize]);
            let (ka, kb) = (key(&pa.location), key(&pb.location));
            if let (Some(x), Some(y)) = (cluster_of.get(&ka), cluster_of.get(&kb))
                && x == y
            {
                return None;
            }
            let (sa, sb) = (
                ShingleSet::from_hashes(&pa.shingles),
                ShingleSet::from_hashes(&pb.shingles),
            );
            // The shorter (by distinct shingles; the earlier on a tie) is
            // the one contained.
            let (short, long, ss, ls) = if sb.len() < sa.len() {
                (pb, pa, &sb, &sa)
            } else {
                (pa, pb, &sa, &sb)
            };
            let c = containment(ss, ls);
            if !c.at_least(num, den) {
                return None;
            }
            let run = longest_shared_run(&short.shingles, &long.shingles)?;
            let k = config.shingle_size();
            Some(Contained {
                short: short.location.clone(),
                long: long.location.clone(),
                shared: c.shared,
                of: c.of,
                short_words: run.words_in_a(k),
                long_words: run.words_in_b(k),
                words: (short.tokens, long.tokens),
            })
        })
        .collect();
    let order = |l: &Location| (l.input.get(), l.doc_line, l.paragraph, l.start);
    found.sort_by_key(|c| (order(&c.short), order(&c.long)));
    Ok(found)
}
