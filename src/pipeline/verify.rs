//! The second pass: only the blocks holding needed paragraphs are read
//! again; their shingle sets are computed in parallel and offered in input
//! order to the no-chaining rule ([`crate::cluster`]).
//!
//! A scan that stores its kept paragraphs and shows no snippets reads
//! no input again: its first pass kept every paragraph's tokens in the
//! scratch file ([`super::spill`]), and the sets are made from them
//! ([`Needed::spilled`]).

use super::Context;
use super::Progress;
use super::first_pass::FirstPass;
use super::flow::Item;
use super::flow::Packed;
use super::flow::Selection;
use super::flow::Unit;
use super::flow::ordered;
use super::group::Plan;
use super::prior::{
    KeptParagraph, KeptSink, Numbered, Prefix, PriorVariant, Tokens, VariantParagraph,
};
use super::spill::{Place, Records, SpillReader, SpilledBlock};
use crate::Error;
use crate::Similarity;
use crate::cluster::Assigner;
use crate::cluster::Verdict;
use crate::corpus::Format;
use crate::corpus::record;
use crate::corpus::record::Document;
use crate::fingerprint;
use crate::id::{BlockId, DocId, FingerprintId, InputId, ParagraphId};
use crate::paragraph::Paragraph;
use crate::paragraph::paragraphs;
use crate::report::Location;
use crate::report::Member;
use crate::report::snippet;
use crate::shingle::ShingleSet;
use crate::slab::Slab;
use ahash::AHashMap;
use ahash::AHashSet;
use rayon::prelude::*;
use std::sync::Arc;

/// One paragraph read again in the verification pass.
pub(super) struct Found {
    pub(super) slot: FingerprintId,
    pub(super) set: ShingleSet,
    /// When [`Needed::sequences`]: its shingles in text order, and its
    /// number of tokens.
    pub(super) sequence: Vec<u64>,
    pub(super) words: usize,
    pub(super) member: Member,
    /// For a copy and an original of copies ([`Needed::copies`]): the
    /// XXH3 of its raw bytes (a copy whose bytes are its original's needs
    /// no shingles); 0 for the rest.
    pub(super) raw: u64,
    /// For a copy read without its shingles: its text, should its bytes
    /// differ from the original's (its set is then made from it).
    pub(super) pending: Option<String>,
    /// Read without its shingles, its verdict its original's: an exact
    /// copy of an indexed paragraph ([`Needed::is_indexed_copy`]), or any
    /// exact copy when read from the scratch file ([`Needed::spilled`]).
    pub(super) identical: bool,
}

/// The verification pass's result for one block.
#[derive(Default)]
pub(super) struct Reread {
    pub(super) found: Vec<Found>,
    pub(super) diagnostics: Vec<Error>,
    /// A block of the scratch file, read by the pass, for the thread
    /// storing kept paragraphs ([`Needed::spilled`]) ...
    pub(super) spilled: Option<Arc<SpilledBlock>>,
    /// ... or why it could not be read.
    pub(super) failed: Option<Error>,
}

/// A block of the first pass's scratch file, its first record being slot
/// `first`, as the second pass's reader thread sends it.
pub(super) struct Spilled {
    first: FingerprintId,
    block: Result<Arc<SpilledBlock>, Error>,
}

/// Which blocks hold needed paragraphs.
pub(super) struct Needed<'a> {
    pub(super) index: &'a FirstPass,
    /// The first slot of the inputs.
    pub(super) batch: FingerprintId,
    /// Needed paragraphs, ascending.
    pub(super) paras: Vec<ParagraphId>,
    /// The slot of each of `paras`.
    pub(super) slots: &'a [FingerprintId],
    pub(super) blocks: AHashSet<(InputId, BlockId)>,
    pub(super) last_block: AHashMap<InputId, BlockId>,
    /// Whether each paragraph's shingles are wanted in text order
    /// ([`Found::sequence`]) rather than as a set.
    pub(super) sequences: bool,
    /// The verification pass's exact copies (a later slot whose content
    /// hash is an earlier slot's of the inputs, both checked): each slot's
    /// first slot of its content, and the first checked slot. A copy is
    /// read without its shingles, only the hash of its bytes: when they
    /// are its original's, so are its shingles, and its verdict is the
    /// original's.
    pub(super) copies: Option<(&'a [FingerprintId], FingerprintId)>,
    /// The originals of those copies: their bytes are hashed too.
    pub(super) originals: AHashSet<FingerprintId>,
}

impl<'a> Needed<'a> {
    pub(super) fn new(index: &'a FirstPass, plan: &'a Plan) -> Needed<'a> {
        // The prior's slots come first and are not read from the inputs.
        let slots = &plan.needed[plan.needed.partition_point(|&s| s < plan.batch)..];
        let mut needed = Needed::of(index, plan.batch, slots);
        needed.copies = Some((&plan.rep_of, plan.checked.max(plan.batch)));
        needed.originals = slots
            .iter()
            .filter(|&&s| needed.is_copy(s))
            .map(|&s| plan.rep_of[s])
            .collect();
        needed
    }

    /// Whether `slot` is a copy of an earlier paragraph of the inputs
    /// that is read in this pass too.
    pub(super) fn is_copy(&self, slot: FingerprintId) -> bool {
        self.copies.is_some_and(|(rep_of, first)| {
            slot >= first && rep_of[slot] != slot && rep_of[slot] >= first
        })
    }

    /// Whether `slot` is an exact copy of a paragraph of the prior (an
    /// indexed one, always kept) in the verification pass: its content
    /// hash is that paragraph's, so are its token sequence and shingle
    /// set (the content hash is the XXH3 of its token hashes), and its
    /// verdict is known without either set. It is read again only to
    /// check, by its content hash, that it is unchanged.
    pub(super) fn is_indexed_copy(&self, slot: FingerprintId) -> bool {
        self.copies
            .is_some_and(|(rep_of, first)| slot >= first && rep_of[slot] < self.batch)
    }

    /// The paragraphs of `slots` (ascending, none before `batch`, the
    /// first slot of the inputs).
    pub(super) fn of(
        index: &'a FirstPass,
        batch: FingerprintId,
        slots: &'a [FingerprintId],
    ) -> Needed<'a> {
        let paras: Vec<ParagraphId> = slots
            .iter()
            .map(|&s| index.fp_para[(s - batch) as usize])
            .collect();
        // Blocks holding paragraphs cover disjoint ranges; find each needed
        // paragraph's block by the range's start.
        let mut starts: Vec<(ParagraphId, (InputId, BlockId))> = index
            .blocks
            .iter()
            .filter(|(_, b)| b.paragraphs > 0)
            .map(|(&key, b)| (b.first_para, key))
            .collect();
        starts.sort_unstable();
        let mut blocks = AHashSet::new();
        let mut last_block: AHashMap<InputId, BlockId> = AHashMap::new();
        for &p in &paras {
            let (_, key) = starts[starts.partition_point(|&(first, _)| first <= p) - 1];
            blocks.insert(key);
            let last = last_block.entry(key.0).or_insert(key.1);
            *last = (*last).max(key.1);
        }
        Needed {
            index,
            batch,
            paras,
            slots,
            blocks,
            last_block,
            sequences: false,
            copies: None,
            originals: AHashSet::new(),
        }
    }

    /// The needed paragraphs in `first..end`, with their slots, ascending.
    pub(super) fn within(
        &self,
        first: ParagraphId,
        end: ParagraphId,
    ) -> impl Iterator<Item = (ParagraphId, FingerprintId)> + '_ {
        let from = self.paras.partition_point(|&p| p < first);
        let to = self.paras.partition_point(|&p| p < end);
        self.paras[from..to]
            .iter()
            .copied()
            .zip(self.slots[from..to].iter().copied())
    }
}

impl Needed<'_> {
    /// The raw bytes of the inputs that hold needed paragraphs, if known
    /// (for progress).
    pub(super) fn total_bytes(&self, ctx: &Context<'_>) -> Option<u64> {
        (0..ctx.inputs.len() as u32)
            .map(InputId::new)
            .filter(|&i| self.last_block(i).is_some())
            .map(|i| ctx.inputs[i].source.size_hint())
            .sum()
    }

    /// The needed paragraphs of one item of the reading: a block's, or
    /// the error of an input that could not be read (never a print: a
    /// second reading reads the inputs).
    pub(super) fn reread(
        &self,
        ctx: &Context<'_>,
        scratch: &mut fingerprint::Scratch,
        item: Item,
    ) -> Reread {
        match item {
            Item::Unit(unit) => reread_block(ctx, self, scratch, &unit),
            Item::Failed { input, error, .. } => Reread {
                diagnostics: vec![Error::io(&ctx.names[input], error)],
                ..Reread::default()
            },
            Item::Cached { .. } => Reread::default(),
        }
    }

    /// The needed paragraphs of a block of the first pass's scratch file,
    /// for a scan that stores its kept paragraphs and wants no text of
    /// them ([`super::verifies_from_spill`]): each one's shingle set made
    /// from the tokens the first pass kept for the index, its place from
    /// the file. Such a scan reads its inputs once. An exact copy's
    /// verdict is its original's without a set: their content hashes (an
    /// XXH3-64 of the token hashes) are equal, as a copy's of an indexed
    /// paragraph are, and as a scan reading its inputs again trusts the
    /// 64-bit hashes of a copy's bytes.
    pub(super) fn spilled(&self, ctx: &Context<'_>, name: &str, spilled: Spilled) -> Reread {
        let mut out = Reread::default();
        match spilled.block {
            Ok(block) => {
                if let Err(e) = self.read_spilled(ctx, spilled.first, &block, &mut out.found) {
                    out.failed = Some(Error::index(format!("reading {name} back: {e}")));
                }
                out.spilled = Some(block);
            }
            Err(e) => out.failed = Some(e),
        }
        out
    }

    fn read_spilled(
        &self,
        ctx: &Context<'_>,
        first: FingerprintId,
        block: &SpilledBlock,
        found: &mut Vec<Found>,
    ) -> std::io::Result<()> {
        let index = self.index;
        let end = first + block.records();
        let from = self.slots.partition_point(|&s| s < first);
        let to = self.slots.partition_point(|&s| s < end);
        let (mut at, mut next) = (0, first);
        let (mut numbers, mut hashes) = (Vec::new(), Vec::new());
        for &slot in &self.slots[from..to] {
            // The records before it are skipped.
            let record = loop {
                let (record, this) = (block.record(&mut at)?, next);
                next += 1;
                if this == slot {
                    break record;
                }
            };
            let content = index.fp_content[(slot - self.batch) as usize];
            let identical = self.is_copy(slot) || self.is_indexed_copy(slot);
            let set = if identical {
                ShingleSet::default()
            } else {
                record.hashes_into(&mut numbers, &mut hashes)?;
                let (set, read) = ctx.fingerprinter.set_of_tokens(&hashes);
                if read != content {
                    return Err(std::io::Error::other(
                        "a paragraph's tokens are not those the first pass read",
                    ));
                }
                set
            };
            let location = location_of(ctx, index, &record.place)
                .ok_or_else(|| std::io::Error::other("a document past the scan's"))?;
            found.push(Found {
                slot,
                set,
                sequence: Vec::new(),
                words: 0,
                member: Member {
                    location,
                    snippet: String::new(),
                    text: None,
                    content,
                },
                raw: 0,
                pending: None,
                identical,
            });
        }
        Ok(())
    }
}

/// Where the first pass found `place` (`None` if its document is not the
/// scan's: a damaged scratch file).
fn location_of(ctx: &Context<'_>, index: &FirstPass, place: &Place) -> Option<Location> {
    let doc = index.docs.get(place.doc.index())?;
    let (name, url) = index.doc_names.get(place.doc.index())?;
    Some(Location {
        path: ctx.names[doc.input].clone(),
        input: doc.input,
        doc: name.clone(),
        url: url.clone(),
        doc_index: place.doc,
        doc_line: doc.line,
        paragraph: place.paragraph,
        line: place.line,
        start: place.start,
        end: place.end,
        batch: None,
    })
}

/// Hands each block of the scratch file `spill` to `each` in order, the
/// first holding slot `first`; stops after a block that could not be
/// read.
fn each_spilled(
    mut spill: SpillReader,
    mut first: FingerprintId,
    progress: &dyn Progress,
    mut each: impl FnMut(Spilled),
) {
    loop {
        let block = match spill.next_block() {
            Ok(Some(block)) => block,
            Ok(None) => return,
            Err(e) => {
                each(Spilled {
                    first,
                    block: Err(e),
                });
                return;
            }
        };
        progress.advance(block.bytes());
        let records = block.records();
        each(Spilled {
            first,
            block: Ok(Arc::new(block)),
        });
        first += records;
    }
}

impl Selection for Needed<'_> {
    fn last_block(&self, input: InputId) -> Option<BlockId> {
        self.last_block.get(&input).copied()
    }
    fn wants(&self, input: InputId, index: BlockId) -> bool {
        self.blocks.contains(&(input, index))
    }
    fn packed(&self, input: InputId) -> Option<Vec<Packed>> {
        // Each needed block, and the block after it, must start a gzip
        // member: the needed block's raw bytes run from its member to the
        // next block's (or to the end of the input, after the last block).
        let seek = |b: BlockId| self.index.blocks.get(&(input, b)).map(|s| s.seek);
        let last = self.last_block(input)?;
        let mut packed = Vec::new();
        for index in BlockId::new(0).span(last.get() + 1) {
            if !self.wants(input, index) {
                continue;
            }
            let end = match seek(index + 1) {
                None => None,
                Some(next) => Some(next?.raw),
            };
            packed.push(Packed {
                index,
                seek: seek(index)??,
                end,
            });
        }
        Some(packed)
    }
}

fn reread_block(
    ctx: &Context<'_>,
    needed: &Needed<'_>,
    scratch: &mut fingerprint::Scratch,
    unit: &Unit,
) -> Reread {
    let index = needed.index;
    let mut out = Reread::default();
    let Some(start) = index.blocks.get(&(unit.input, unit.index)) else {
        return out;
    };
    let path = &ctx.names[unit.input];
    let mode = ctx.config.paragraphs();
    // Called for each needed paragraph, with its slot.
    let mut visit = |out: &mut Reread,
                     (para, slot): (ParagraphId, FingerprintId),
                     doc_index: DocId,
                     (doc, url): (&Arc<str>, Option<&Arc<str>>),
                     p: Paragraph<'_>,
                     line: u64,
                     offset: u64| {
        let text = crate::paragraph::lossy(p.text);
        let copy = needed.is_copy(slot);
        let raw = if copy || needed.originals.contains(&slot) {
            crate::hash::xxh3(p.text, 0)
        } else {
            0
        };
        let indexed = needed.is_indexed_copy(slot);
        let (set, sequence, words, content) = if copy {
            // Its content hash is its original's; checked by its bytes.
            let content = index.fp_content[(slot - needed.batch) as usize];
            (ShingleSet::default(), Vec::new(), 0, content)
        } else if indexed {
            // Unchanged since the first pass (the same bytes), its content
            // hash is the first pass's: no need to normalise it again.
            let at = (slot - needed.batch) as usize;
            let unchanged = (index.fp_text.as_ref())
                .is_some_and(|t| t[at] == crate::hash::xxh3(text.as_bytes(), 0));
            let content = if unchanged {
                index.fp_content[at]
            } else if let Some(content) = ctx.fingerprinter.content_with(&text, scratch) {
                content
            } else {
                return;
            };
            (ShingleSet::default(), Vec::new(), 0, content)
        } else if needed.sequences {
            let Some((sequence, content, words)) =
                ctx.fingerprinter.shingles_in_order(&text, scratch)
            else {
                return;
            };
            (ShingleSet::from_hashes(&sequence), sequence, words, content)
        } else {
            let Some((set, content)) = ctx.fingerprinter.shingle_set_with(&text, scratch) else {
                return;
            };
            (set, Vec::new(), 0, content)
        };
        let d = &index.docs[doc_index];
        out.found.push(Found {
            slot,
            set,
            sequence,
            words,
            member: Member {
                location: Location {
                    path: path.clone(),
                    input: unit.input,
                    doc: doc.clone(),
                    url: url.cloned(),
                    doc_index,
                    doc_line: d.line,
                    paragraph: para - d.first_para,
                    line,
                    start: offset + p.start as u64,
                    end: offset + p.end as u64,
                    batch: None,
                },
                // Containment's findings show places, not text.
                snippet: if needed.sequences || !ctx.options.snippets {
                    String::new()
                } else {
                    snippet(&text)
                },
                text: (ctx.options.full_text && !needed.sequences)
                    .then(|| text.clone().into_owned()),
                content,
            },
            raw,
            pending: copy.then(|| text.into_owned()),
            identical: indexed,
        });
    };
    match ctx.format(unit.input) {
        Format::Text => {
            let doc_index = start.first_doc;
            let mut want = needed
                .within(start.first_para, start.first_para + start.paragraphs)
                .peekable();
            let paras = start.first_para.span(start.paragraphs);
            for (p, para) in paragraphs(&unit.block.data, mode).zip(paras) {
                if let Some(hit) = want.next_if(|&(n, _)| n == para) {
                    let line = unit.block.first_line + p.line + 1;
                    let doc = (path, None);
                    visit(&mut out, hit, doc_index, doc, p, line, unit.block.offset);
                }
            }
        }
        format => {
            // The documents of this block, by line, that hold needed paragraphs.
            let wanted: AHashMap<u64, DocId> = (start.first_doc.span(start.docs))
                .filter(|&d| {
                    let doc = &index.docs[d];
                    needed
                        .within(doc.first_para, doc.first_para + doc.n_paras)
                        .next()
                        .is_some()
                })
                .map(|d| (index.docs[d].line, d))
                .collect();
            // The first pass reported this block's bad records already.
            let mut reported = Vec::new();
            record::documents(
                format,
                &unit.block,
                &ctx.options.fields,
                path,
                |line| wanted.contains_key(&line),
                &mut reported,
                |doc: Document<'_>| {
                    let doc_index = wanted[&doc.line];
                    let d = &index.docs[doc_index];
                    let name: Arc<str> = Arc::from(doc.name());
                    let url: Option<Arc<str>> = doc.url.as_deref().map(Arc::from);
                    let mut want = needed
                        .within(d.first_para, d.first_para + d.n_paras)
                        .peekable();
                    let paras = d.first_para.span(d.n_paras);
                    for (p, para) in paragraphs(doc.text.as_bytes(), mode).zip(paras) {
                        if let Some(hit) = want.next_if(|&(n, _)| n == para) {
                            let line = doc.line_of(p.line);
                            visit(&mut out, hit, doc_index, (&name, url.as_ref()), p, line, 0);
                        }
                    }
                },
            );
        }
    }
    out
}

/// What the verification pass produces.
pub(super) struct Verified {
    /// Duplicates: (slot, kept slot, similarity, member), in slot order.
    pub(super) duplicates: Vec<(FingerprintId, FingerprintId, Similarity, Member)>,
    /// Members of kept slots that were candidates (those repeated, and
    /// others still held at the end).
    pub(super) kept: KeptMembers,
    pub(super) comparisons: u64,
    pub(super) diagnostics: Vec<Error>,
    /// Kept paragraphs handed to the sink.
    pub(super) stored: u64,
    /// The variants, when the scan looks for containment or stores: each
    /// duplicate whose text is not its kept paragraph's, the first with
    /// that text (none of the prior's, [`Prior::variants`]), in slot
    /// order.
    ///
    /// [`Prior::variants`]: super::prior::Prior::variants
    pub(super) variants: Vec<Variant>,
    /// The prior's variants, read once for both the second pass and
    /// containment (empty when neither needs them).
    pub(super) prior_variants: Vec<PriorVariant>,
}

/// A variant of the scan ([`Verified::variants`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Variant {
    pub(super) slot: FingerprintId,
    /// Its kept paragraph's slot ...
    pub(super) kept: FingerprintId,
    /// ... and its row, when that is the prior's.
    pub(super) kept_row: Option<u64>,
}

/// The second pass: the prior's needed paragraphs (`prefix`) are taken as
/// kept first, then the batch's needed paragraphs are read again and
/// offered in input order; kept ones of the checked inputs go to `sink`.
///
/// # Errors
///
/// Reading the prior failed, or the sink did.
pub(super) fn verify_pass(
    ctx: &Context<'_>,
    index: &FirstPass,
    plan: &Plan,
    prefix: &Prefix,
    sink: Option<&mut dyn KeptSink>,
    spill: Option<SpillReader>,
    progress: &dyn Progress,
) -> Result<Verified, Error> {
    let needed = Needed::new(index, plan);
    let mut assigner = Assigner::new(ctx.config.threshold(), plan.groups);
    assigner.reserve(plan.keep_until.len());
    let mut kept = KeptMembers::default();
    kept.reserve(plan.keep_until.len());
    let prior_needed = &plan.needed[..plan.needed.partition_point(|&s| s < plan.batch)];
    if let Some(prior) = ctx.prior {
        let docs = u32::try_from(index.docs.len()).unwrap_or(u32::MAX);
        // An indexed paragraph in no group is needed only as the original
        // of exact copies of the checked inputs, which need not its set
        // ([`Needed::is_indexed_copy`]): its location will do. A batch
        // that repeats the index has hundreds of thousands.
        let compared = |slot: FingerprintId| !plan.groups_of.get(slot).is_empty();
        let sets: Vec<(ShingleSet, Location)> = prior_needed
            .par_iter()
            .filter(|&&slot| compared(slot))
            .map(|&slot| {
                let (row, content) = (prefix.rows[slot], prefix.content[slot]);
                let p = prior.paragraph(row)?;
                let (set, read) = ctx.fingerprinter.set_of_tokens(&p.tokens);
                if read != content {
                    return Err(Error::index(format!(
                        "indexed paragraph {row} ({}:{}) does not match its content hash: \
                         the index is damaged (run `neardup index verify`)",
                        p.location.path, p.location.line
                    )));
                }
                Ok((set, p.location))
            })
            .collect::<Result<_, Error>>()?;
        // The others' locations, read together where their rows are close.
        let alone: Vec<u64> = prior_needed
            .iter()
            .filter(|&&slot| !compared(slot))
            .map(|&slot| prefix.rows[slot])
            .collect();
        let alone = alone
            .par_chunks(super::prior::PIECE)
            .map(|piece| prior.locations(piece))
            .collect::<Result<Vec<_>, Error>>()?;
        let (mut sets, mut alone) = (sets.into_iter(), alone.into_iter().flatten());
        for &slot in prior_needed {
            let until = plan.keep_until[slot];
            let mut location = if compared(slot) {
                let (set, location) = sets.next().expect("a set per compared slot");
                assigner.keep(slot, set, plan.groups_of.get(slot), until);
                location
            } else {
                alone.next().expect("a location per slot alone")
            };
            location.doc_index = DocId::new(docs.saturating_add(location.doc_index.get()));
            let member = Member {
                location,
                snippet: String::new(),
                text: None,
                content: prefix.content[slot],
            };
            kept.insert(slot, until, member);
        }
    }
    // A scan that stores reads its scratch file back once: on the thread
    // storing kept paragraphs, or, when it verifies from it, on this
    // thread, which hands each block on to the storing one.
    let from_spill = spill.is_some() && super::verifies_from_spill(ctx.options);
    let (spill, reading) = match spill {
        Some(spill) if from_spill => (None, Some(spill)),
        spill => (spill, None),
    };
    let total = match &reading {
        Some(reading) => Some(reading.len()),
        None => needed.total_bytes(ctx),
    };
    progress.begin("verifying", total);
    let work = |scratch: &mut fingerprint::Scratch, item: Item| needed.reread(ctx, scratch, item);
    let mut verified = Verified {
        // Only needed paragraphs can be duplicates: reserved at once, the
        // list is never copied as it grows (a batch of repeats has
        // hundreds of thousands, 0.3-0.4 s of copying into fresh pages).
        duplicates: Vec::with_capacity(needed.paras.len()),
        kept: KeptMembers::default(),
        comparisons: 0,
        diagnostics: Vec::new(),
        stored: 0,
        variants: Vec::new(),
        prior_variants: Vec::new(),
    };
    // The texts of variants seen so far, the prior's first.
    let variant_texts: Option<AHashSet<u64>> =
        if sink.is_some() || ctx.options.containment.is_some() {
            verified.prior_variants = match ctx.prior {
                Some(prior) => prior.variants()?,
                None => Vec::new(),
            };
            Some(verified.prior_variants.iter().map(|v| v.content).collect())
        } else {
            None
        };
    let storing = match (sink, spill.is_some() || reading.is_some()) {
        (Some(sink), true) => Some(Storing {
            sink,
            name: (spill.as_ref().or(reading.as_ref()))
                .map_or_else(String::new, |r| r.name().to_owned()),
            spill,
            records: Records::default(),
            queue: std::collections::VecDeque::new(),
            next: plan.batch,
            numbers: Vec::new(),
            location: None,
            keys: Vec::new(),
            stored: 0,
            rows: ctx.prior.map_or(0, |p| p.rows()),
            rows_of: AHashMap::new(),
            failed: None,
        }),
        (None, false) => None,
        _ => {
            return Err(Error::index(
                "a scan that stores needs its first pass's scratch file",
            ));
        }
    };
    // Kept paragraphs of the checked inputs go to the sink in slot order:
    // those without a candidate (most of them) between the candidates. The
    // sink is fed on a thread of its own (reading the scratch file back
    // and copying every kept paragraph's tokens was a third of this pass
    // when the consumer did it: the consumer is the pass's critical path).
    let stored_alone = |slot: FingerprintId| {
        if plan.lonely(slot) && slot >= plan.checked {
            Store::Kept
        } else {
            Store::No
        }
    };
    // A block's steps carry its block of the scratch file when the pass
    // reads it (0.85 MB for a block of news): 64 of them in flight took
    // a 1 GB `index create` to 60 MB more peak memory than the storing
    // thread reading the file did, 16 to none more.
    let in_flight = if reading.is_some() { 16 } else { 64 };
    let (steps_tx, steps_rx) = crossbeam_channel::bounded::<Vec<Step>>(in_flight);
    let storing = storing.map(|mut storing| {
        move || {
            for steps in steps_rx {
                for step in steps {
                    match step {
                        Step::Block(block) => storing.queue.push_back(block),
                        Step::Failed(e) => {
                            storing.failed.get_or_insert(e);
                        }
                        Step::Alone(end) => storing.advance(ctx, index, plan, end, stored_alone),
                        Step::One(slot, store) => {
                            let store = if store { Store::Kept } else { Store::No };
                            storing.advance(ctx, index, plan, slot + 1, |_| store);
                        }
                        Step::Variant(v) => {
                            // A variant of a reference paragraph (which
                            // the index does not keep) is left out.
                            let kept = v.kept_row.or_else(|| storing.rows_of.get(&v.kept).copied());
                            let store = kept.map_or(Store::No, Store::Variant);
                            storing.advance(ctx, index, plan, v.slot + 1, |_| store);
                        }
                    }
                }
            }
            storing
        }
    });
    let steps = storing.is_some().then(|| Steps {
        tx: steps_tx,
        pending: Vec::new(),
    });
    let state = (
        assigner,
        verified,
        AHashSet::<InputId>::new(),
        kept,
        steps,
        (
            AHashMap::new(),
            fingerprint::Scratch::default(),
            variant_texts,
        ),
    );
    type State = (
        Assigner,
        Verified,
        AHashSet<InputId>,
        KeptMembers,
        Option<Steps>,
        (
            AHashMap<FingerprintId, u64>,
            fingerprint::Scratch,
            Option<AHashSet<u64>>,
        ),
    );
    let consume =
        |(assigner, verified, changed, kept, steps, (raws, scratch, texts)): &mut State,
         block: Reread| {
            let Reread {
                found,
                diagnostics,
                spilled,
                failed,
            } = block;
            verified.diagnostics.extend(diagnostics);
            if let Some(steps) = steps.as_mut() {
                steps.pending.extend(spilled.map(Step::Block));
                steps.pending.extend(failed.map(Step::Failed));
            }
            for mut found in found {
                let slot = found.slot;
                if let Some(steps) = steps.as_mut() {
                    steps.pending.push(Step::Alone(slot));
                }
                kept.expire_before(slot);
                let rep = plan.rep_of[slot];
                // A copy read without its shingles: its verdict is its
                // original's if its bytes are; else its set is made now (a
                // copy differing in case or spacing, or an input that changed).
                let identical = found.identical
                    || match found.pending.take() {
                        Some(_) if raws.get(&rep) == Some(&found.raw) => true,
                        Some(text) => {
                            match ctx.fingerprinter.shingle_set_with(&text, scratch) {
                                Some((set, content)) => {
                                    (found.set, found.member.content) = (set, content)
                                }
                                None => found.member.content = !found.member.content,
                            }
                            false
                        }
                        None => false,
                    };
                if found.member.content != index.fp_content[(slot - plan.batch) as usize] {
                    let input = index.docs[found.member.location.doc_index].input;
                    if changed.insert(input) {
                        verified.diagnostics.push(Error::changed(&ctx.names[input]));
                    }
                    continue;
                }
                if needed.originals.contains(&slot) {
                    raws.insert(slot, found.raw);
                }
                let set = (!identical).then_some(found.set);
                let verdict = decide(assigner, plan, slot, set);
                match verdict {
                    Verdict::Kept => {
                        if let Some(steps) = steps.as_mut() {
                            steps.pending.push(Step::One(slot, slot >= plan.checked));
                        }
                        // Only duplicates show their text; most kept candidates
                        // end up with none, and a large corpus has many.
                        let mut member = found.member;
                        member.snippet = String::new();
                        member.text = None;
                        kept.insert(slot, plan.keep_until[slot], member);
                    }
                    Verdict::Duplicate { of, similarity } => {
                        kept.repeated(of);
                        if let Some(texts) = texts.as_mut()
                            && kept
                                .content_of(of)
                                .is_some_and(|c| c != found.member.content)
                            && texts.insert(found.member.content)
                        {
                            let variant = Variant {
                                slot,
                                kept: of,
                                kept_row: (of < plan.batch).then(|| prefix.rows[of]),
                            };
                            verified.variants.push(variant);
                            if let Some(steps) = steps.as_mut()
                                && slot >= plan.checked
                            {
                                steps.pending.push(Step::Variant(variant));
                            }
                        }
                        verified
                            .duplicates
                            .push((slot, of, similarity, found.member));
                    }
                }
            }
            if let Some(steps) = steps.as_mut() {
                steps.flush();
            }
        };
    let (assigner, mut verified, kept, storing) = std::thread::scope(|scope| {
        let storing = storing.map(|feed| scope.spawn(feed));
        let ((assigner, verified, _, kept, steps, _), _) = match reading {
            // Reading the blocks and making the few sets a block needs is
            // little work: done here, in order, with no thread of its own
            // (handed to the pool, whose threads then mostly waited for
            // the next block, it cost `index create` of 1 GB 0.4 CPU-s).
            Some(reading) => {
                let name = reading.name().to_owned();
                let mut state = state;
                each_spilled(reading, plan.batch, progress, |spilled| {
                    consume(&mut state, needed.spilled(ctx, &name, spilled))
                });
                (state, 0)
            }
            None => ordered(ctx, &needed, None, progress, work, state, consume),
        };
        if let Some(mut steps) = steps {
            steps
                .pending
                .push(Step::Alone(plan.batch + index.fp_content.len() as u32));
            steps.flush();
        }
        let storing = storing.map(|s| s.join().expect("the thread storing kept paragraphs"));
        (assigner, verified, kept, storing)
    });
    progress.end();
    if let Some(storing) = storing {
        if let Some(e) = storing.failed {
            return Err(e);
        }
        verified.stored = storing.stored;
    }
    verified.comparisons = assigner.comparisons();
    // Freeing the held sets and indexes one by one is slow when there are
    // many (a million lines of one template are all held to the end) and
    // nothing waits for it: a pool thread does it while the report is made.
    rayon::spawn(move || drop(assigner));
    verified.kept = kept;
    Ok(verified)
}

/// The no-chaining rule's verdict on `slot`, offered in slot order with
/// its shingle set (`None` for a copy whose bytes are its original's): a
/// paragraph of the reference corpus (or the prior) is kept, a copy takes
/// its original's verdict, any other is compared with the kept members of
/// its groups.
pub(super) fn decide(
    assigner: &mut Assigner,
    plan: &Plan,
    slot: FingerprintId,
    set: Option<ShingleSet>,
) -> Verdict {
    let rep = plan.rep_of[slot];
    let groups = plan.groups_of.get(slot);
    match set {
        None if rep < plan.batch => assigner.offer_copy_of_kept(slot, rep),
        None => assigner.offer_identical(slot, rep),
        Some(set) if slot < plan.checked => assigner.keep(slot, set, groups, plan.keep_until[slot]),
        Some(set) if rep != slot => assigner.offer_copy(slot, &set, rep),
        Some(set) => assigner.offer(slot, set, groups, plan.keep_until[slot]),
    }
}

/// What the storing thread is told, in slot order.
enum Step {
    /// The next block of the scratch file, read by the pass
    /// ([`Needed::spilled`]).
    Block(Arc<SpilledBlock>),
    /// The scratch file could not be read.
    Failed(Error),
    /// Store the paragraphs before this slot that have no candidate.
    Alone(FingerprintId),
    /// This candidate is kept: store it (or not, if it is not of the
    /// checked inputs).
    One(FingerprintId, bool),
    /// This duplicate of the checked inputs is a variant: store it as
    /// one.
    Variant(Variant),
}

/// What the storing thread does with a paragraph.
#[derive(Clone, Copy, Debug)]
enum Store {
    No,
    Kept,
    /// A variant, with its kept paragraph's row.
    Variant(u64),
}

/// The consumer's side of the storing thread: the steps of one block are
/// sent together.
struct Steps {
    tx: crossbeam_channel::Sender<Vec<Step>>,
    pending: Vec<Step>,
}

impl Steps {
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            // The storing thread outlives every send (it stops only when
            // the sender is dropped); a failed send follows its panic,
            // which the join reports.
            let _ = self.tx.send(std::mem::take(&mut self.pending));
        }
    }
}

/// The kept paragraphs going to a [`KeptSink`]: the first pass's spilled
/// records, read in slot order alongside the second pass.
struct Storing<'s> {
    sink: &'s mut dyn KeptSink,
    /// The scratch file, when this thread reads it ...
    spill: Option<SpillReader>,
    /// ... else the blocks the pass read, handed on.
    queue: std::collections::VecDeque<Arc<SpilledBlock>>,
    records: Records,
    /// The scratch file's name, for errors.
    name: String,
    /// The slot of the next record.
    next: FingerprintId,
    numbers: Vec<u32>,
    keys: Vec<u32>,
    /// The location of the last record's document.
    location: Option<Location>,
    stored: u64,
    /// The rows of the index the sink writes so far (kept paragraphs and
    /// variants, the prior's first) ...
    rows: u64,
    /// ... and the row of each kept candidate stored, for its variants.
    rows_of: AHashMap<FingerprintId, u64>,
    failed: Option<Error>,
}

impl Storing<'_> {
    /// The next record of the scratch file, its band keys and token
    /// numbers in `keys` and `numbers`.
    fn next_record(&mut self) -> Result<Place, Error> {
        let Storing {
            spill,
            queue,
            records,
            name,
            keys,
            numbers,
            ..
        } = self;
        let next_block = || match spill {
            Some(spill) => Ok(spill.next_block()?.map(Arc::new)),
            None => Ok(queue.pop_front()),
        };
        records.next(next_block, name, keys, numbers)
    }

    /// Reads the records up to slot `end` and hands those `store` picks to
    /// the sink.
    fn advance(
        &mut self,
        ctx: &Context<'_>,
        index: &FirstPass,
        plan: &Plan,
        end: FingerprintId,
        store: impl Fn(FingerprintId) -> Store,
    ) {
        while self.next < end && self.failed.is_none() {
            let slot = self.next;
            self.next += 1;
            let place = match self.next_record() {
                Ok(place) => place,
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            };
            let what = store(slot);
            if let Store::No = what {
                continue;
            }
            let at = slot - plan.batch;
            // The document's part of the location is made once per
            // document: cloning its names for every paragraph cost a sixth
            // of this thread's time (their counts are shared with the
            // threads verifying).
            let location = match &mut self.location {
                Some(l) if l.doc_index == place.doc => l,
                location => match location_of(ctx, index, &place) {
                    Some(made) => location.insert(made),
                    None => {
                        self.failed = Some(Error::index(format!(
                            "reading the scan's scratch file back: a document past the scan's \
                             (record {slot})"
                        )));
                        return;
                    }
                },
            };
            location.paragraph = place.paragraph;
            location.line = place.line;
            location.start = place.start;
            location.end = place.end;
            let location = &*location;
            let content = index.fp_content[at as usize];
            let (block, dict) = self.records.block();
            let tokens = Tokens::Numbered(Numbered {
                block,
                dict,
                numbers: &self.numbers,
            });
            let stored = match what {
                Store::Variant(kept) => self
                    .sink
                    .variant(VariantParagraph {
                        content,
                        kept,
                        tokens,
                        location,
                    })
                    .map(|row| self.rows += u64::from(row)),
                _ => self
                    .sink
                    .kept(KeptParagraph {
                        content,
                        keys: &self.keys,
                        tokens,
                        location,
                    })
                    .map(|()| {
                        self.stored += 1;
                        if !plan.lonely(slot) {
                            self.rows_of.insert(slot, self.rows);
                        }
                        self.rows += 1;
                    }),
            };
            if let Err(e) = stored {
                self.failed = Some(e);
            }
        }
    }
}

/// The locations of kept candidates, each held only while a later
/// paragraph may still be found to repeat it (up to its `keep_until`), or
/// for good once one has. On a large corpus most candidates are kept and
/// never repeated; holding all of them was the largest structure at the
/// end of a run.
#[derive(Default)]
pub(super) struct KeptMembers {
    members: Slab<FingerprintId, Member>,
    expiry: crate::expiry::Expiry,
    repeated: AHashSet<FingerprintId>,
}

impl KeptMembers {
    /// Room for slots below `n` without growing.
    pub(super) fn reserve(&mut self, n: usize) {
        self.members.reserve(n);
    }

    /// Holds `slot`'s member until paragraph `until` has been offered.
    pub(super) fn insert(&mut self, slot: FingerprintId, until: FingerprintId, member: Member) {
        if until > slot {
            self.expiry.push(until, slot);
            self.members.insert(slot, member);
        }
    }

    /// The content hash of `slot`, a kept candidate still held.
    fn content_of(&self, slot: FingerprintId) -> Option<u64> {
        self.members.get(&slot).map(|m| m.content)
    }

    /// `slot` has a duplicate: its member stays.
    pub(super) fn repeated(&mut self, slot: FingerprintId) {
        self.repeated.insert(slot);
    }

    /// Removes and returns the member of `slot`, if held.
    pub(super) fn take(&mut self, slot: FingerprintId) -> Option<Member> {
        self.members.remove(&slot)
    }

    /// The members of kept paragraphs that have a duplicate, in no order
    /// (the iterator's upper bound is their number: collecting them sizes
    /// the collection once).
    pub(super) fn into_repeated(self) -> impl Iterator<Item = (FingerprintId, Member)> {
        let mut members = self.members;
        self.repeated
            .into_iter()
            .filter_map(move |slot| members.remove(&slot).map(|m| (slot, m)))
    }

    /// Drops the members that no paragraph from `slot` on can repeat.
    pub(super) fn expire_before(&mut self, slot: FingerprintId) {
        let (members, repeated) = (&mut self.members, &self.repeated);
        self.expiry.pop_before(slot, |kept| {
            if !repeated.contains(&kept) {
                members.remove(&kept);
            }
        });
    }
}
