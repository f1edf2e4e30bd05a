//! Containment in a scan ([`ScanOptions::containment`]): kept paragraphs
//! found inside other kept paragraphs, found without a pass of its own
//! over the corpus.
//!
//! The first pass winnows each paragraph's shingles as it hashes them
//! ([`Winnowing`]; a fraction `2 / (window + 1)` of them is kept, as
//! `(fingerprint, slot)`). Once the verdicts are known, this stage drops
//! the duplicates' fingerprints, pairs the kept paragraphs that share one
//! ([`find::candidate_pairs`]), reads again only the blocks holding those
//! paragraphs, and verifies each pair exactly ([`find::verify`]). What it
//! holds besides the fingerprints is the candidates' shingle sequences (8
//! bytes per word of a candidate).
//!
//! [`ScanOptions::containment`]: super::ScanOptions::containment

use ahash::AHashMap;
use ahash::AHashSet;
use rayon::prelude::*;

use super::first_pass::FirstPass;
use super::flow::{Item, ordered};
use super::verify::{Found, Needed, Reread, Verified};
use super::{Context, Progress, ScanOptions};
use crate::containment::find::{self, Paragraph, Settings};
use crate::containment::window_for;
use crate::id::{FingerprintId, InputId};
use crate::report::Contained;
use crate::{Config, Error};

/// How the first pass winnows paragraphs for containment.
#[derive(Clone, Copy, Debug)]
pub(super) struct Winnowing {
    pub(super) window: usize,
    /// Paragraphs with fewer tokens are not winnowed.
    pub(super) min_words: usize,
}

impl Winnowing {
    pub(super) fn new(config: &Config, settings: &Settings) -> Option<Winnowing> {
        let window = window_for(config.shingle_size(), settings.min_words)?;
        Some(Winnowing {
            window,
            min_words: settings.min_words,
        })
    }
}

/// Refuses containment settings that cannot work.
pub(super) fn check(config: &Config, options: &ScanOptions) -> Result<(), Error> {
    match options.containment {
        Some(c) if Winnowing::new(config, &c).is_none() => Err(Error::config(format!(
            "containment needs at least {} words (one shingle), not {}",
            config.shingle_size(),
            c.min_words
        ))),
        _ => Ok(()),
    }
}

/// The containments among the kept paragraphs of the inputs, in input
/// order of the shorter, then the longer paragraph, and the problems met
/// reading them again (an input that cannot be read or changed since the
/// first pass: its paragraphs are left out). `batch` is the first slot of
/// the inputs in the verdicts' numbering (slots before it are an index's)
/// and `checked` the first slot after the reference corpus: a pair of two
/// reference paragraphs is not looked at.
pub(super) fn contain_pass(
    ctx: &Context<'_>,
    index: &mut FirstPass,
    verified: &Verified,
    batch: FingerprintId,
    checked: FingerprintId,
    settings: &Settings,
    progress: &dyn Progress,
) -> (Vec<Contained>, Vec<Error>) {
    let duplicate: AHashSet<FingerprintId> = verified
        .duplicates
        .iter()
        .map(|d| FingerprintId::new(d.0 - batch))
        .collect();
    let mut postings = std::mem::take(&mut index.winnowed);
    postings.retain(|(_, slot)| !duplicate.contains(slot));
    postings.par_sort_unstable();
    let first_checked = FingerprintId::new(checked - batch);
    let pairs: Vec<(FingerprintId, FingerprintId)> = find::candidate_pairs(&postings, settings.cap)
        .into_iter()
        .filter(|&(_, b)| b >= first_checked)
        .collect();
    drop(postings);
    let index: &FirstPass = index;
    let mut slots: Vec<FingerprintId> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    slots.par_sort_unstable();
    slots.dedup();

    let mut needed = Needed::of(index, FingerprintId::new(0), &slots);
    needed.sequences = true;
    progress.begin("containment", needed.total_bytes(ctx));
    let work =
        |scratch: &mut crate::fingerprint::Scratch, item: Item| needed.reread(ctx, scratch, item);
    type State = (
        AHashMap<FingerprintId, Found>,
        Vec<Error>,
        AHashSet<InputId>,
    );
    let consume = |(read, diagnostics, changed): &mut State, block: Reread| {
        diagnostics.extend(block.diagnostics);
        for found in block.found {
            if found.member.content != index.fp_content[found.slot.index()] {
                let input = found.member.location.input;
                if changed.insert(input) {
                    diagnostics.push(Error::changed(&ctx.names[input]));
                }
                continue;
            }
            read.insert(found.slot, found);
        }
    };
    let state = (AHashMap::new(), Vec::new(), AHashSet::new());
    let ((read, diagnostics, _), _) = ordered(ctx, &needed, None, progress, work, state, consume);
    progress.end();

    let k = ctx.config.shingle_size();
    let mut contained: Vec<(FingerprintId, FingerprintId, Contained)> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let (fa, fb) = (read.get(&a)?, read.get(&b)?);
            let pa = Paragraph::new(&fa.sequence, &fa.set, fa.words);
            let pb = Paragraph::new(&fb.sequence, &fb.set, fb.words);
            let found = find::verify(pa, pb, settings, k)?;
            let (short, long) = if found.swapped { (fb, fa) } else { (fa, fb) };
            let c = Contained {
                short: short.member.location.clone(),
                long: long.member.location.clone(),
                shared: found.containment.shared,
                of: found.containment.of,
                short_words: found.short_words,
                long_words: found.long_words,
                words: (short.words, long.words),
                content: (short.member.content, long.member.content),
            };
            Some((short.slot, long.slot, c))
        })
        .collect();
    // Slots are in input order.
    contained.sort_unstable_by_key(|&(short, long, _)| (short, long));
    let contained = contained.into_iter().map(|(_, _, c)| c).collect();
    (contained, diagnostics)
}
