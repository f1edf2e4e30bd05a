//! Containment in a scan ([`ScanOptions::containment`]): kept paragraphs
//! found inside other kept paragraphs, or inside variants, found without a
//! pass of its own over the corpus.
//!
//! The first pass winnows each paragraph's shingles as it hashes them
//! ([`Winnowing`]; a fraction `2 / (window + 1)` of them is kept, as
//! `(fingerprint, slot)`). Once the verdicts are known, this stage keeps
//! the fingerprints of the kept paragraphs and of the *variants* (a
//! near-duplicate whose text is not its kept paragraph's, the first with
//! that text: [`Verified::variants`]), drops the other duplicates', pairs
//! the kept paragraphs that share one ([`find::candidate_pairs`]) and each
//! kept paragraph with the variants that share one
//! ([`find::variant_pairs`]; never with its own variants), reads again
//! only the blocks holding those paragraphs, and verifies each pair
//! exactly ([`find::verify`]). A variant is only ever the longer side: a
//! quote cut from a republished version, with a word changed inside it, is
//! in that version and not in its kept paragraph. It is reported inside a
//! variant only when it is not reported with the kept paragraph, and then
//! inside the first of its variants that holds it, so a story republished
//! a hundred times adds one finding, not a hundred. What this stage holds
//! besides the fingerprints is the candidates' shingle sequences (8 bytes
//! per word of a candidate).
//!
//! Against a prior (an index that keeps containment fingerprints,
//! [`Prior::containment_words`]) the batch's fingerprints are looked up in
//! the prior's, and the prior's rows that share one are candidates too, as
//! if they were earlier paragraphs of the scan (its variants as
//! variants, [`Prior::variants`]): the cap counts both sides,
//! pairs of two prior rows are not looked at (as pairs of two reference
//! paragraphs are not), and a prior row's shingles come from its stored
//! tokens. The findings are those of one scan of every batch, restricted
//! to pairs with a paragraph of this one.
//!
//! [`ScanOptions::containment`]: super::ScanOptions::containment
//! [`Verified::variants`]: super::verify::Verified::variants

use ahash::AHashMap;
use ahash::AHashSet;
use rayon::prelude::*;

use super::first_pass::FirstPass;
use super::flow::{Item, ordered};
use super::prior::Prior;
use super::verify::{Found, Needed, Reread, Verified};
use super::{Context, Progress, ScanOptions};
use crate::containment::find::{self, Paragraph, Settings};
use crate::containment::{window_for, winnow};
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
            "containment looks for quotes of {} words (one shingle) to {}, not {}",
            config.shingle_size(),
            crate::containment::MAX_WORDS,
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
/// first, as in one scan of every batch. One number (a slot is
/// [`Side::BATCH`] + the slot), so that a million postings sort fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Side(u64);

impl Side {
    const BATCH: u64 = 1 << 63;

    fn prior(row: u64) -> Side {
        Side(row.min(Side::BATCH - 1))
    }

    fn batch(slot: FingerprintId) -> Side {
        Side(Side::BATCH | u64::from(slot.get()))
    }

    /// The slot, if it is a paragraph of the inputs.
    fn slot(self) -> Option<FingerprintId> {
        (self.0 >= Side::BATCH).then(|| FingerprintId::new((self.0 - Side::BATCH) as u32))
    }

    /// The prior's row, if it is one.
    fn row(self) -> Option<u64> {
        (self.0 < Side::BATCH).then_some(self.0)
    }
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
    let variants = Variants::new(verified, batch, index.fp_content.len());
    let mut postings: Vec<(u64, Side)> = Vec::new();
    let mut variant_postings: Vec<(u64, Side)> = Vec::new();
    for (fp, slot) in std::mem::take(&mut index.winnowed) {
        match variants.role[slot.index()] {
            Role::Kept => postings.push((fp, Side::batch(slot))),
            Role::Variant => variant_postings.push((fp, Side::batch(slot))),
            Role::Duplicate => {}
        }
    }
    if let Some(prior) = ctx.prior {
        // The prior's kept rows that share a fingerprint with a kept
        // paragraph or a variant of the batch, and its variants that share
        // one with a kept paragraph (two of the prior's are never paired).
        let distinct = |postings: &[(u64, Side)]| {
            let mut fps: Vec<u64> = postings.iter().map(|&(fp, _)| fp).collect();
            fps.par_sort_unstable();
            fps.dedup();
            fps
        };
        let (of_kept, of_variants) = (distinct(&postings), distinct(&variant_postings));
        let mut fps: Vec<u64> = of_kept.iter().chain(&of_variants).copied().collect();
        fps.par_sort_unstable();
        fps.dedup();
        let rows = prior.winnowed(&fps, settings.cap)?;
        postings.extend(rows.into_iter().map(|(fp, row)| (fp, Side::prior(row))));
        let rows = prior.variants_winnowed(&of_kept, settings.cap)?;
        variant_postings.extend(rows.into_iter().map(|(fp, row)| (fp, Side::prior(row))));
    }
    postings.par_sort_unstable();
    variant_postings.par_sort_unstable();
    let first_checked = Side::batch(FingerprintId::new(checked - batch));
    let mut pairs: Vec<(Side, Side)> = find::candidate_pairs(&postings, settings.cap)
        .into_iter()
        .filter(|&(_, b)| b >= first_checked)
        .collect();
    let base_pairs = pairs.len();
    // A variant holds much of its own kept paragraph: not a finding.
    pairs.extend(
        find::variant_pairs(&postings, &variant_postings, settings.cap)
            .into_iter()
            .filter(|&(q, v)| q.max(v) >= first_checked && Some(q) != variants.kept_of(v)),
    );
    drop(variant_postings);
    let index: &FirstPass = index;
    // The variants' kept paragraphs are read too: a quote they hold is not
    // reported inside a variant.
    let mut sides: Vec<Side> = pairs[..base_pairs]
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .chain(
            pairs[base_pairs..]
                .iter()
                .flat_map(|&(q, v)| [Some(q), Some(v), variants.kept_of(v)])
                .flatten(),
        )
        .collect();
    sides.par_sort_unstable();
    sides.dedup();
    let from_batch = sides.partition_point(|s| s.row().is_some());
    let rows: Vec<u64> = sides[..from_batch].iter().filter_map(|s| s.row()).collect();
    let mut read: AHashMap<Side, Read> = match ctx.prior {
        Some(prior) => read_prior(ctx, prior, index, &rows)?,
        None => AHashMap::new(),
    };
    let slots: Vec<FingerprintId> = sides[from_batch..]
        .iter()
        .filter_map(|s| s.slot())
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
            read.insert(Side::batch(slot), r);
        }
    };
    let state = (std::mem::take(&mut read), Vec::new(), AHashSet::new());
    let ((read, diagnostics, _), _) = ordered(ctx, &needed, None, progress, work, state, consume);
    progress.end();

    let k = ctx.config.shingle_size();
    let found = |&(a, b): &(Side, Side)| {
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
    };
    let mut contained: Vec<(Side, Side, Contained)> =
        pairs[..base_pairs].par_iter().filter_map(found).collect();
    // Only the kept side can be the shorter.
    let mut in_variants: Vec<(Side, Side, Contained)> = pairs[base_pairs..]
        .par_iter()
        .filter_map(found)
        .filter(|(_, long, _)| variants.is_variant(*long))
        .collect();
    // A quote reported with its variant's kept paragraph is not reported
    // inside the variant; one the kept paragraph lacks (a word changed
    // inside it) is reported inside the first of its variants that holds
    // it.
    let with_kept = reported_with_kept(
        ctx,
        &in_variants,
        &variants,
        &read,
        &postings,
        first_checked,
        settings,
    )?;
    in_variants.retain(|(s, l, _)| !with_kept.contains(&(*s, *l)));
    in_variants.sort_unstable_by_key(|&(short, long, _)| (short, long));
    let mut first = AHashSet::new();
    contained.extend(
        in_variants
            .into_iter()
            .filter(|(s, l, _)| first.insert((*s, variants.kept_of(*l)))),
    );
    // Prior rows, then slots, are in input order.
    contained.sort_unstable_by_key(|&(short, long, _)| (short, long));
    let contained = contained.into_iter().map(|(_, _, c)| c).collect();
    Ok((contained, diagnostics))
}

/// Which of the findings `(quote, variant)` are pairs `(quote, kept
/// paragraph of the variant)` one scan of every batch reports, in either
/// direction: the two share a containment fingerprint of at most `cap`
/// kept paragraphs (`postings` holds the inputs', the prior is asked for
/// its own), one of them is past the reference corpus (from
/// `first_checked` on), and the shorter is inside the longer. Against a
/// prior this is decided even when both are the prior's, a pair the scan
/// never forms.
///
/// # Errors
///
/// Looking up the prior's fingerprints failed.
fn reported_with_kept(
    ctx: &Context<'_>,
    found: &[(Side, Side, Contained)],
    variants: &Variants,
    read: &AHashMap<Side, Read>,
    postings: &[(u64, Side)],
    first_checked: Side,
    settings: &Settings,
) -> Result<AHashSet<(Side, Side)>, Error> {
    let Some(w) = Winnowing::new(ctx.config, settings) else {
        return Ok(AHashSet::new());
    };
    let fingerprints = |r: &Read| -> Vec<u64> {
        if r.words < w.min_words {
            return Vec::new();
        }
        let mut fps: Vec<u64> = winnow(&r.sequence, w.window)
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        fps.sort_unstable();
        fps.dedup();
        fps
    };
    // The fingerprints each pair shares, of pairs that verify.
    let k = ctx.config.shingle_size();
    let mut shared: Vec<((Side, Side), Vec<u64>)> = Vec::new();
    for &(q, v, _) in found {
        let Some(kept) = variants.kept_of(v) else {
            continue;
        };
        let (Some(rq), Some(rk)) = (read.get(&q), read.get(&kept)) else {
            continue;
        };
        let (pq, pk) = (
            Paragraph::new(&rq.sequence, &rq.set, rq.words),
            Paragraph::new(&rk.sequence, &rk.set, rk.words),
        );
        if find::verify(pq, pk, settings, k).is_none() {
            continue;
        }
        let fk = fingerprints(rk);
        let both: Vec<u64> = fingerprints(rq)
            .into_iter()
            .filter(|f| fk.binary_search(f).is_ok())
            .collect();
        shared.push(((q, v), both));
    }
    let mut fps: Vec<u64> = shared.iter().flat_map(|(_, f)| f.iter().copied()).collect();
    fps.sort_unstable();
    fps.dedup();
    // Kept paragraphs per fingerprint: the inputs' and the prior's.
    let mut count: AHashMap<u64, usize> = AHashMap::new();
    for &f in &fps {
        let from = postings.partition_point(|p| p.0 < f);
        let to = postings.partition_point(|p| p.0 <= f);
        let inputs = postings[from..to]
            .iter()
            .filter(|p| p.1.slot().is_some())
            .count();
        count.insert(f, inputs);
    }
    if let Some(prior) = ctx.prior {
        for (f, _) in prior.winnowed(&fps, settings.cap)? {
            *count.entry(f).or_default() += 1;
        }
    }
    let reference = |side: Side| side.slot().is_some() && side < first_checked;
    Ok(shared
        .into_iter()
        .filter(|((q, v), both)| {
            let pairable = !(reference(*q) && variants.kept_of(*v).is_some_and(reference));
            pairable
                && both
                    .iter()
                    .any(|f| count.get(f).is_some_and(|&n| n <= settings.cap))
        })
        .map(|(pair, _)| pair)
        .collect())
}

/// What containment takes a slot of the inputs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Kept: either side of a pair.
    Kept,
    /// A *variant*: a near-duplicate whose text differs from its kept
    /// paragraph's (the first with that text), which containment takes as
    /// the longer side only. A quote cut from a republished version with
    /// a word changed inside it is in that version, not in the kept
    /// paragraph.
    Variant,
    /// Another duplicate: its kept paragraph, or the first variant with
    /// its text, stands for it.
    Duplicate,
}

/// The role of every slot of the inputs, and each variant's kept
/// paragraph, the prior's variants' too.
struct Variants {
    role: Vec<Role>,
    kept: AHashMap<Side, Side>,
}

impl Variants {
    /// The roles of the `slots` slots of the inputs (`batch` the first
    /// in the verdicts' numbering), and the prior's variants.
    fn new(verified: &Verified, batch: FingerprintId, slots: usize) -> Variants {
        let mut role = vec![Role::Kept; slots];
        for (slot, ..) in &verified.duplicates {
            role[(*slot - batch) as usize] = Role::Duplicate;
        }
        let mut kept = AHashMap::new();
        for v in &verified.variants {
            let slot = FingerprintId::new(v.slot - batch);
            role[slot.index()] = Role::Variant;
            let of = match v.kept_row {
                Some(row) => Side::prior(row),
                None => Side::batch(FingerprintId::new(v.kept - batch)),
            };
            kept.insert(Side::batch(slot), of);
        }
        kept.extend(
            (verified.prior_variants.iter()).map(|v| (Side::prior(v.row), Side::prior(v.kept))),
        );
        Variants { role, kept }
    }

    fn is_variant(&self, side: Side) -> bool {
        self.kept.contains_key(&side)
    }

    /// The kept paragraph of `side`, if it is a variant.
    fn kept_of(&self, side: Side) -> Option<Side> {
        self.kept.get(&side).copied()
    }
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
            Ok((Side::prior(row), read))
        })
        .collect::<Result<Vec<_>, Error>>()
        .map(|read| read.into_iter().collect())
}
