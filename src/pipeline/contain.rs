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
//! Against a prior (an index that keeps containment fingerprints,
//! [`Prior::containment_words`]) the batch's fingerprints are looked up in
//! the prior's, and the prior's rows that share one are candidates too, as
//! if they were earlier paragraphs of the scan: the cap counts both sides,
//! pairs of two prior rows are not looked at (as pairs of two reference
//! paragraphs are not), and a prior row's shingles come from its stored
//! tokens. The findings are those of one scan of every batch, restricted
//! to pairs with a paragraph of this one.
//!
//! [`ScanOptions::containment`]: super::ScanOptions::containment

use ahash::AHashMap;
use ahash::AHashSet;
use rayon::prelude::*;

use super::first_pass::FirstPass;
use super::flow::{Item, ordered};
use super::prior::Prior;
use super::verify::{Found, Needed, Reread, Verified};
use super::{Context, Progress, ScanOptions};
use crate::containment::find::{self, Paragraph, Settings};
use crate::containment::window_for;
use crate::id::{DocId, FingerprintId, InputId};
use crate::report::{Contained, Location};
use crate::shingle::ShingleSet;
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

/// Refuses containment settings that cannot work, alone or against
/// `prior`.
pub(super) fn check(
    config: &Config,
    options: &ScanOptions,
    prior: Option<&dyn Prior>,
) -> Result<(), Error> {
    let Some(c) = options.containment else {
        return Ok(());
    };
    if Winnowing::new(config, &c).is_none() {
        return Err(Error::config(format!(
            "containment needs at least {} words (one shingle), not {}",
            config.shingle_size(),
            c.min_words
        )));
    }
    match prior {
        Some(prior) => super::prior::containment_fits(prior.containment_words(), c.min_words),
        None => Ok(()),
    }
}

/// A paragraph containment looks at: a row of the prior, or a slot of
/// the scan's own inputs (relative to the first of them). Prior rows come
/// first, as in one scan of every batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Side {
    Prior(u64),
    Batch(FingerprintId),
}

/// A candidate read: its shingles and where it is.
struct Read {
    sequence: Vec<u64>,
    set: ShingleSet,
    words: usize,
    location: Location,
    content: u64,
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
) -> Result<(Vec<Contained>, Vec<Error>), Error> {
    let duplicate: AHashSet<FingerprintId> = verified
        .duplicates
        .iter()
        .map(|d| FingerprintId::new(d.0 - batch))
        .collect();
    let mut postings: Vec<(u64, Side)> = std::mem::take(&mut index.winnowed)
        .into_iter()
        .filter(|(_, slot)| !duplicate.contains(slot))
        .map(|(fp, slot)| (fp, Side::Batch(slot)))
        .collect();
    if let Some(prior) = ctx.prior {
        let mut fps: Vec<u64> = postings.iter().map(|&(fp, _)| fp).collect();
        fps.par_sort_unstable();
        fps.dedup();
        let rows = prior.winnowed(&fps, settings.cap)?;
        postings.extend(rows.into_iter().map(|(fp, row)| (fp, Side::Prior(row))));
    }
    postings.par_sort_unstable();
    let first_checked = Side::Batch(FingerprintId::new(checked - batch));
    let pairs: Vec<(Side, Side)> = find::candidate_pairs(&postings, settings.cap)
        .into_iter()
        .filter(|&(_, b)| b >= first_checked)
        .collect();
    drop(postings);
    let index: &FirstPass = index;
    let mut sides: Vec<Side> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    sides.par_sort_unstable();
    sides.dedup();
    let from_batch = sides.partition_point(|s| matches!(s, Side::Prior(_)));
    let rows: Vec<u64> = sides[..from_batch]
        .iter()
        .filter_map(|s| match s {
            Side::Prior(row) => Some(*row),
            Side::Batch(_) => None,
        })
        .collect();
    let mut read: AHashMap<Side, Read> = match ctx.prior {
        Some(prior) => read_prior(ctx, prior, index, &rows)?,
        None => AHashMap::new(),
    };
    let slots: Vec<FingerprintId> = sides[from_batch..]
        .iter()
        .filter_map(|s| match s {
            Side::Batch(slot) => Some(*slot),
            Side::Prior(_) => None,
        })
        .collect();

    let mut needed = Needed::of(index, FingerprintId::new(0), &slots);
    needed.sequences = true;
    progress.begin("containment", needed.total_bytes(ctx));
    let work =
        |scratch: &mut crate::fingerprint::Scratch, item: Item| needed.reread(ctx, scratch, item);
    type State = (AHashMap<Side, Read>, Vec<Error>, AHashSet<InputId>);
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
            let Found {
                slot,
                set,
                sequence,
                words,
                member,
                ..
            } = found;
            let r = Read {
                sequence,
                set,
                words,
                location: member.location,
                content: member.content,
            };
            read.insert(Side::Batch(slot), r);
        }
    };
    let state = (std::mem::take(&mut read), Vec::new(), AHashSet::new());
    let ((read, diagnostics, _), _) = ordered(ctx, &needed, None, progress, work, state, consume);
    progress.end();

    let k = ctx.config.shingle_size();
    let mut contained: Vec<(Side, Side, Contained)> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let (fa, fb) = (read.get(&a)?, read.get(&b)?);
            let pa = Paragraph::new(&fa.sequence, &fa.set, fa.words);
            let pb = Paragraph::new(&fb.sequence, &fb.set, fb.words);
            let found = find::verify(pa, pb, settings, k)?;
            let ((short, s), (long, l)) = if found.swapped {
                ((fb, b), (fa, a))
            } else {
                ((fa, a), (fb, b))
            };
            let c = Contained {
                short: short.location.clone(),
                long: long.location.clone(),
                shared: found.containment.shared,
                of: found.containment.of,
                short_words: found.short_words,
                long_words: found.long_words,
                words: (short.words, long.words),
                content: (short.content, long.content),
            };
            Some((s, l, c))
        })
        .collect();
    // Prior rows, then slots, are in input order.
    contained.sort_unstable_by_key(|&(short, long, _)| (short, long));
    let contained = contained.into_iter().map(|(_, _, c)| c).collect();
    Ok((contained, diagnostics))
}

/// The prior's candidate rows, read from the tokens it stores. Their
/// documents are numbered after the scan's own, as the second pass
/// numbers them.
///
/// # Errors
///
/// Reading the prior failed, or a row's tokens do not give its content
/// hash (a damaged index: its findings would be wrong).
fn read_prior(
    ctx: &Context<'_>,
    prior: &dyn Prior,
    index: &FirstPass,
    rows: &[u64],
) -> Result<AHashMap<Side, Read>, Error> {
    let docs = u32::try_from(index.docs.len()).unwrap_or(u32::MAX);
    let shingler = ctx.fingerprinter.shingler();
    rows.par_iter()
        .map_init(crate::shingle::Scratch::default, |scratch, &row| {
            let p = prior.paragraph(row)?;
            let (sequence, content) = shingler.shingles_of_tokens(&p.tokens, scratch);
            if content != prior.content(row)? {
                return Err(Error::index(format!(
                    "indexed paragraph {row} ({}:{}) does not match its content hash: \
                     the index is damaged (run `neardup index verify`)",
                    p.location.path, p.location.line
                )));
            }
            let sequence = sequence.to_vec();
            let mut location = p.location;
            location.doc_index = DocId::new(docs.saturating_add(location.doc_index.get()));
            let read = Read {
                set: ShingleSet::from_hashes(&sequence),
                sequence,
                words: p.tokens.len(),
                location,
                content,
            };
            Ok((Side::Prior(row), read))
        })
        .collect::<Result<Vec<_>, Error>>()
        .map(|read| read.into_iter().collect())
}
