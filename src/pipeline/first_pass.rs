//! The first pass: every block fingerprinted, and what is kept of it.
//!
//! Per fingerprinted paragraph only its number, content hash and 32-bit
//! band keys are kept (band keys in [`crate::column::Column`]s); documents
//! and blocks get a small table each, which is all the second pass needs to
//! find a paragraph again. A scan that stores its kept paragraphs (an
//! index add) also writes each paragraph's tokens, keys and place to a
//! scratch file ([`super::spill`]) instead of holding them.

use super::Context;
use super::Progress;
use super::flow::Everything;
use super::flow::Item;
use super::flow::Prints;
use super::flow::Unit;
use super::flow::ordered;
use super::print;
use super::print::Fingerprinted;
use super::print::PrintCache;
use super::spill::{Place, SpillWriter};
use crate::Error;
use crate::ErrorKind;
use crate::cluster::sketch::Outline;
use crate::column::Column;
use crate::containment::Winnower;
use crate::corpus::Format;
use crate::corpus::record;
use crate::fingerprint;
use crate::id::{BlockId, DocId, FingerprintId, InputId, ParagraphId};
use crate::paragraph::paragraphs;
use ahash::AHashMap;
use std::sync::Arc;

/// One document as the first pass saw it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Doc {
    pub(super) input: InputId,
    /// 1-based line of the input where the document starts (for Parquet,
    /// its row).
    pub(super) line: u64,
    pub(super) first_para: ParagraphId,
    pub(super) n_paras: u32,
}

/// Which paragraphs and documents a block holds.
#[derive(Clone, Copy, Debug)]
pub(super) struct BlockStart {
    pub(super) first_para: ParagraphId,
    pub(super) paragraphs: u32,
    /// The first document starting in the block (for plain text: the
    /// input's one document).
    pub(super) first_doc: DocId,
    /// Documents starting in the block.
    pub(super) docs: u32,
    /// Where it can be decoded again alone, if it can.
    pub(super) seek: Option<super::print::Seek>,
}

/// What the first pass keeps: the document table and, per fingerprinted
/// paragraph ("slot"), its paragraph number, content hash, band keys and
/// outline.
///
/// Everything per slot is stored in [`Column`]s of fixed-size chunks while
/// the pass runs, never in one growing vector: a vector that doubles its
/// capacity briefly needs three times its size, which for the band keys of
/// a large corpus is the largest allocation of the whole run.
#[derive(Default)]
pub(super) struct FirstPass {
    pub(super) docs: Vec<Doc>,
    pub(super) blocks: AHashMap<(InputId, BlockId), BlockStart>,
    /// The paragraph of each slot, ascending (filled from `chunks` at the
    /// end of the pass).
    pub(super) fp_para: Vec<ParagraphId>,
    /// Content hash of each slot (filled from `chunks` likewise).
    pub(super) fp_content: Vec<u64>,
    /// In a scan against a prior, the hash of each slot's text
    /// ([`Fingerprinted::text_hashes`]): `None` when a block came without
    /// them (from a print).
    pub(super) fp_text: Option<Vec<u64>>,
    /// The [`Outline`] of each slot's shingles ([`Fingerprinted::outlines`]),
    /// [`Outline::WORDS`] words each, appended block by block (no copy of
    /// them all at the end of the pass, which a column the size of the
    /// scan's would cost); `None` once a block came without them (from a
    /// print).
    pub(super) outlines: Option<Column>,
    /// One column of keys per band, indexed by slot, truncated to 32 bits
    /// (a collision only costs a verification). The grouping step consumes
    /// them band by band, freeing each as it goes.
    pub(super) keys: Vec<Column>,
    /// While the pass runs: each slot's paragraph, content hash (two
    /// words, low first) and text hash (two words; `None` without a prior
    /// or once a block came without them), in columns that are moved into
    /// `fp_para`, `fp_content` and `fp_text` at the end. Per-block vectors
    /// did this before, and the allocator kept their memory after the
    /// copy: a tenth of a scan's peak.
    pub(super) para_column: Column,
    pub(super) content_column: Column,
    pub(super) text_column: Option<Column>,
    pub(super) slots: u32,
    /// The first slot of an input after the reference corpus (`slots` until
    /// one is seen).
    pub(super) first_checked: Option<FingerprintId>,
    pub(super) paragraphs: u64,
    pub(super) allowed: u64,
    pub(super) bytes: u64,
    pub(super) diagnostics: Vec<(usize, Error)>,
    /// Invalid UTF-8 per input, while the pass runs.
    pub(super) invalid_utf8: Vec<InvalidUtf8>,
    pub(super) invalid_utf8_total: u64,
    /// Problems reported once per input, while the pass runs.
    pub(super) repeated: Vec<Repeated>,
    pub(super) overflow: bool,
    /// When the scan stores its kept paragraphs: every fingerprinted
    /// paragraph's tokens and place, in slot order, and each document's
    /// name and URL.
    pub(super) spill: Option<SpillWriter>,
    pub(super) doc_names: Vec<(Arc<str>, Option<Arc<str>>)>,
    pub(super) spill_error: Option<Error>,
    /// With containment on: the fingerprints winnowing selected from each
    /// fingerprinted paragraph of at least its `min_words` words, as
    /// `(fingerprint, slot)` in slot order (`super::contain`).
    pub(super) winnowed: Vec<(u64, FingerprintId)>,
    /// The fingerprinted paragraphs of each input.
    pub(super) slots_by_input: Vec<u32>,
}

/// A problem reported once per input ([`Error::is_per_input`]): where its
/// first occurrence is in `Index::diagnostics`, and how many more there
/// were.
#[derive(Debug)]
pub(super) struct Repeated {
    pub(super) input: InputId,
    pub(super) kind: ErrorKind,
    pub(super) at: usize,
    pub(super) more: u64,
}

/// Where an input first had invalid UTF-8, and how often.
#[derive(Debug)]
pub(super) struct InvalidUtf8 {
    /// The sequence number of the first block with it, which orders its
    /// warning among the other diagnostics.
    pub(super) seq: usize,
    pub(super) input: InputId,
    /// 1-based line of the first invalid line (record).
    pub(super) line: u64,
    pub(super) count: u64,
}

impl FirstPass {
    /// Documents without a fingerprinted paragraph.
    pub(super) fn empty_documents(&self) -> u64 {
        // Slots ascend with paragraphs and documents are runs of
        // paragraphs, so one cursor walks both.
        let mut slots = self.fp_para.iter().copied().peekable();
        let mut empty = 0;
        for doc in &self.docs {
            let end = doc.first_para + doc.n_paras;
            let mut any = false;
            while let Some(p) = slots.next_if(|&p| p < end) {
                any |= p >= doc.first_para;
            }
            empty += u64::from(!any);
        }
        empty
    }

    /// The document of each slot.
    pub(super) fn doc_of_slots(&self) -> Vec<DocId> {
        let mut doc = DocId::new(0);
        self.fp_para
            .iter()
            .map(|&p| {
                while self.docs[doc].first_para + self.docs[doc].n_paras <= p {
                    doc += 1;
                }
                doc
            })
            .collect()
    }
}

/// The 0-based lines of `text` that are not valid UTF-8, as the first of
/// them and their number. Lines end at `\n`, which never splits a UTF-8
/// sequence, so each line is valid or not on its own.
pub(super) fn invalid_lines(text: &[u8]) -> Option<(u64, u64)> {
    let mut bad = (0u64..)
        .zip(text.split(|&b| b == b'\n'))
        .filter(|(_, line)| std::str::from_utf8(line).is_err())
        .map(|(i, _)| i);
    let first = bad.next()?;
    Some((first, 1 + bad.count() as u64))
}

pub(super) fn fingerprint_block(
    ctx: &Context<'_>,
    scratch: &mut fingerprint::Scratch,
    unit: &Unit,
) -> Fingerprinted {
    let mut out = Fingerprinted {
        input: unit.input,
        index: unit.index,
        bytes: unit.block.data.len() as u64,
        seek: unit.block.member.map(|raw| super::print::Seek {
            raw,
            offset: unit.block.offset,
            first_line: unit.block.first_line,
            len: unit.block.data.len() as u64,
        }),
        ..Fingerprinted::default()
    };
    let mode = ctx.config.paragraphs();
    let bands = ctx.config.lsh().bands();
    out.keys = vec![Vec::new(); bands];
    if ctx.collect {
        out.stored = Some(Box::default());
    }
    // Containment's fingerprints of the paragraph being fingerprinted.
    let mut winnower = ctx.winnow.map(|w| Winnower::new(w.window));
    let mut selected: Vec<u64> = Vec::new();
    // The paragraph's band keys, made once for the block and `repeats`.
    let mut keys: Vec<u32> = Vec::with_capacity(bands);
    let mut repeats = Repeats::new(bands);
    let mut fingerprint = |out: &mut Fingerprinted, text: &str, place: Place| {
        selected.clear();
        // A short paragraph seen earlier in the block (a boilerplate line,
        // a caption, a line repeated a million times) has the same
        // fingerprint: its content hash and keys are taken from there.
        let plain = out.stored.is_none() && winnower.is_none();
        if plain && let Some(seen) = repeats.get(text) {
            if let Some((content, keys, outline)) = seen {
                let allowed = ctx.allow.allows(text, content);
                out.allowed += u32::from(allowed);
                if !allowed {
                    out.local.push(out.paragraphs);
                    out.content.push(content);
                    out.outlines.push(outline);
                    if ctx.prior.is_some() {
                        out.text_hashes.push(crate::hash::xxh3(text.as_bytes(), 0));
                    }
                    for (band, &key) in keys.iter().enumerate() {
                        out.keys[band].push(key);
                    }
                }
            }
            out.paragraphs += 1;
            return;
        }
        let mut outline = Outline::default();
        let fp = match (out.stored.as_deref_mut(), winnower.as_mut()) {
            // The tokens are kept for the index: it stores them.
            (Some(stored), _) => {
                let fp =
                    ctx.fingerprinter
                        .fingerprint_keeping_tokens(text, scratch, &mut stored.tokens);
                if let Some(fp) = &fp {
                    outline.add(fp.shingles);
                }
                if let (Some(fp), Some(w)) = (&fp, winnower.as_mut()) {
                    w.push(fp.shingles, |h, _| selected.push(h));
                    w.finish(|h, _| selected.push(h));
                }
                fp
            }
            (None, Some(w)) => {
                let fp = ctx
                    .fingerprinter
                    .fingerprint_observed(text, scratch, |piece| {
                        outline.add(piece);
                        w.push(piece, |h, _| selected.push(h));
                    });
                w.finish(|h, _| selected.push(h));
                fp
            }
            (None, None) => {
                (ctx.fingerprinter).fingerprint_observed(text, scratch, |piece| outline.add(piece))
            }
        };
        keys.clear();
        if let Some(fp) = &fp {
            keys.extend(ctx.fingerprinter.band_keys(fp.signature).map(|k| k as u32));
        }
        if plain {
            match &fp {
                Some(fp) => repeats.put(text, fp.content, &keys, outline),
                None => repeats.put_none(text),
            }
        }
        if let Some(fp) = fp.filter(|fp| {
            let allowed = ctx.allow.allows(text, fp.content);
            out.allowed += u32::from(allowed);
            !allowed
        }) {
            out.local.push(out.paragraphs);
            out.content.push(fp.content);
            out.outlines.push(outline);
            if ctx.prior.is_some() {
                out.text_hashes.push(crate::hash::xxh3(text.as_bytes(), 0));
            }
            for (column, &key) in out.keys.iter_mut().zip(&keys) {
                column.push(key);
            }
            if let Some(w) = ctx.winnow {
                if fp.words >= w.min_words {
                    selected.sort_unstable();
                    selected.dedup();
                    out.winnowed.extend_from_slice(&selected);
                }
                out.winnow_ends.push(out.winnowed.len() as u32);
            }
            if let Some(stored) = out.stored.as_deref_mut() {
                stored.ends.push(stored.tokens.len());
                stored.places.push(place);
            }
        } else if let Some(stored) = out.stored.as_deref_mut() {
            // Allowed: its tokens go.
            stored
                .tokens
                .truncate(stored.ends.last().copied().unwrap_or(0));
        }
        out.paragraphs += 1;
    };
    match ctx.format(unit.input) {
        Format::Text => {
            for p in paragraphs(&unit.block.data, mode) {
                let text = crate::paragraph::lossy(p.text);
                if let (std::borrow::Cow::Owned(_), Some((first, n))) =
                    (&text, invalid_lines(p.text))
                {
                    let (_, count) = out
                        .invalid_utf8
                        .get_or_insert((unit.block.first_line + p.line + first + 1, 0));
                    *count += n;
                }
                let place = Place {
                    doc: DocId::new(0),
                    paragraph: out.paragraphs,
                    line: unit.block.first_line + p.line + 1,
                    start: unit.block.offset + p.start as u64,
                    end: unit.block.offset + p.end as u64,
                };
                fingerprint(&mut out, &text, place);
            }
        }
        format => {
            let mut diagnostics = Vec::new();
            record::documents(
                format,
                &unit.block,
                &ctx.options.fields,
                &ctx.names[unit.input],
                |_| true,
                &mut diagnostics,
                |doc| {
                    let before = out.paragraphs;
                    let record = DocId::new(out.records.len() as u32);
                    for (p, i) in paragraphs(doc.text.as_bytes(), mode).zip(0..) {
                        let place = Place {
                            doc: record,
                            paragraph: i,
                            line: doc.line_of(p.line),
                            start: p.start as u64,
                            end: p.end as u64,
                        };
                        // Paragraphs end at ASCII line breaks, so the byte
                        // range is a valid slice of the decoded text.
                        fingerprint(&mut out, &doc.text[p.start..p.end], place);
                    }
                    out.records.push((doc.line, out.paragraphs - before));
                    if let Some(stored) = out.stored.as_deref_mut() {
                        let url = doc.url.as_deref().map(Arc::from);
                        stored.names.push((Arc::from(doc.name()), url));
                    }
                },
            );
            // One warning per input, not per record: see `fingerprint_pass`.
            diagnostics.retain(|d| {
                if d.kind() != ErrorKind::Encoding {
                    return true;
                }
                let (_, count) = out.invalid_utf8.get_or_insert((d.line().unwrap_or(0), 0));
                *count += 1;
                false
            });
            out.diagnostics = diagnostics;
        }
    }
    if let Some(stored) = out.stored.as_deref_mut() {
        stored.seal(&out.keys);
    }
    out
}

/// The fingerprints of a block's short paragraphs, so that one repeated in
/// the block is fingerprinted once: direct-mapped by a hash of the text,
/// and a hit is checked against the text itself, so a collision only costs
/// a fingerprint. Only paragraphs of at most [`Repeats::LONGEST`] bytes are
/// kept (boilerplate is short; a long paragraph is rarely repeated within
/// a block and would cost its copy).
struct Repeats {
    bands: usize,
    slots: Vec<RepeatSlot>,
    keys: Vec<u32>,
}

#[derive(Default)]
struct RepeatSlot {
    hash: u64,
    text: String,
    /// The content hash, or `None` for a paragraph too short to
    /// fingerprint; the keys are at `slot × bands` in `keys`.
    content: Option<u64>,
    outline: Outline,
    used: bool,
}

impl Repeats {
    const LONGEST: usize = 256;
    const SLOTS: usize = 64;

    fn new(bands: usize) -> Repeats {
        Repeats {
            bands,
            slots: (0..Self::SLOTS).map(|_| RepeatSlot::default()).collect(),
            keys: vec![0; bands * Self::SLOTS],
        }
    }

    fn slot(text: &str) -> Option<(u64, usize)> {
        (text.len() <= Self::LONGEST).then(|| {
            let hash = crate::hash::xxh3(text.as_bytes(), 0);
            (hash, (hash % Self::SLOTS as u64) as usize)
        })
    }

    /// What fingerprinting `text` gave before, if it was seen: its content
    /// hash and keys, or `None` when it was too short to fingerprint.
    #[allow(clippy::option_option)]
    fn get(&self, text: &str) -> Option<Option<(u64, &[u32], Outline)>> {
        let (hash, i) = Self::slot(text)?;
        let s = &self.slots[i];
        if !(s.used && s.hash == hash && s.text == text) {
            return None;
        }
        let keys = &self.keys[i * self.bands..(i + 1) * self.bands];
        Some(s.content.map(|content| (content, keys, s.outline)))
    }

    fn put(&mut self, text: &str, content: u64, keys: &[u32], outline: Outline) {
        if let Some(i) = self.fill(text, Some(content)) {
            self.keys[i * self.bands..(i + 1) * self.bands].copy_from_slice(keys);
            self.slots[i].outline = outline;
        }
    }

    fn put_none(&mut self, text: &str) {
        self.fill(text, None);
    }

    fn fill(&mut self, text: &str, content: Option<u64>) -> Option<usize> {
        let (hash, i) = Self::slot(text)?;
        let s = &mut self.slots[i];
        s.hash = hash;
        s.text.clear();
        s.text.push_str(text);
        s.content = content;
        s.used = true;
        Some(i)
    }
}

/// What the first pass's workers hand the consumer.
pub(super) enum Pass1 {
    Block(Box<Fingerprinted>),
    /// An input's blocks, from its print.
    Cached(Vec<Fingerprinted>),
    Failed(InputId, Error),
}

/// The print being recorded for the input the consumer is reading.
pub(super) struct Recording {
    pub(super) input: InputId,
    pub(super) blocks: u32,
    pub(super) encoded: Vec<u8>,
    /// No problem so far: an input with problems gets no print.
    pub(super) clean: bool,
}

pub(super) fn fingerprint_pass(
    ctx: &Context<'_>,
    progress: &dyn Progress,
    cache: Option<&dyn PrintCache>,
    spill: Option<SpillWriter>,
) -> Result<FirstPass, Error> {
    // A print holds no tokens: a scan that stores its kept paragraphs
    // fingerprints everything.
    let cache = cache.filter(|_| spill.is_none());
    let total = ctx
        .inputs
        .iter()
        .map(|i| i.source.size_hint())
        .sum::<Option<u64>>();
    progress.begin("fingerprinting", total);
    let prints = cache.map(|cache| Prints {
        cache,
        keys: ctx
            .inputs
            .iter()
            .map(|i| print::settings_key(ctx.config, ctx.options, i.format))
            .collect(),
    });
    let work = |scratch: &mut fingerprint::Scratch, item: Item| match item {
        Item::Unit(unit) => (
            unit.seq,
            Pass1::Block(Box::new(fingerprint_block(ctx, scratch, &unit))),
        ),
        Item::Failed { seq, input, error } => (
            seq,
            Pass1::Failed(input, Error::io(&ctx.names[input], error)),
        ),
        Item::Cached { seq, blocks } => (seq, Pass1::Cached(blocks)),
    };
    let store = |recording: Option<Recording>| {
        if let (Some(p), Some(r)) = (&prints, recording)
            && r.clean
        {
            let key = p.keys[r.input];
            p.cache
                .store(r.input.index(), &print::finish(key, r.blocks, &r.encoded));
        }
    };
    let consume = |(index, recording): &mut (FirstPass, Option<Recording>),
                   (seq, result): (usize, Pass1)| {
        match result {
            Pass1::Block(block) => {
                let block = *block;
                if prints.is_some() {
                    if recording.as_ref().is_none_or(|r| r.input != block.input) {
                        store(recording.replace(Recording {
                            input: block.input,
                            blocks: 0,
                            encoded: Vec::new(),
                            clean: true,
                        }));
                    }
                    if let Some(r) = recording.as_mut() {
                        r.clean &= block.diagnostics.is_empty() && block.invalid_utf8.is_none();
                        if r.clean {
                            print::encode_block(&mut r.encoded, &block, ctx.print_keys);
                            r.blocks += 1;
                        }
                    }
                }
                add_block(ctx, index, seq, block);
            }
            Pass1::Cached(blocks) => {
                store(recording.take());
                for block in blocks {
                    add_block(ctx, index, seq, block);
                }
            }
            Pass1::Failed(input, e) => {
                match recording.as_mut() {
                    Some(r) if r.input == input => r.clean = false,
                    _ => store(recording.take()),
                }
                index.diagnostics.push((seq, e));
            }
        }
    };
    let ((mut index, recording), _) = ordered(
        ctx,
        &Everything,
        prints.as_ref(),
        progress,
        work,
        (
            FirstPass {
                spill,
                slots_by_input: vec![0; ctx.inputs.len()],
                outlines: Some(Column::default()),
                text_column: ctx.prior.is_some().then(Column::default),
                ..FirstPass::default()
            },
            None,
        ),
        consume,
    );
    if let Some(e) = index.spill_error.take() {
        return Err(e);
    }
    store(recording);
    progress.end();
    // Invalid UTF-8 is one warning per input, naming the first place and
    // counting the rest: a corpus in another encoding would otherwise
    // bury every other message under one per line.
    for bad in std::mem::take(&mut index.invalid_utf8) {
        let unit = match ctx.format(bad.input) {
            Format::Text | Format::Jsonl => "lines",
            _ => "records",
        };
        let name = &ctx.names[bad.input];
        index.invalid_utf8_total += bad.count;
        let json = ctx.format(bad.input) == Format::Jsonl;
        let warning = Error::encoding_count(name, bad.line, bad.count, unit, json);
        index.diagnostics.push((bad.seq, warning));
    }
    for r in std::mem::take(&mut index.repeated) {
        index.diagnostics[r.at].1.and_more(r.more);
    }
    let slots = index.slots as usize;
    index.fp_para.reserve_exact(slots);
    std::mem::take(&mut index.para_column)
        .drain(|p| (index.fp_para).extend(p.iter().map(|&p| ParagraphId::new(p))));
    index.fp_content = join_halves(std::mem::take(&mut index.content_column), slots);
    index.fp_text = (index.text_column.take()).map(|column| join_halves(column, slots));
    if index.overflow {
        return Err(Error::limit(format!(
            "the corpus has more than {} paragraphs, the most one scan can index; split it",
            u32::MAX
        )));
    }
    Ok(index)
}

/// `values` as 32-bit words, low half first.
fn split_halves(values: &[u64]) -> Vec<u32> {
    values
        .iter()
        .flat_map(|&v| [v as u32, (v >> 32) as u32])
        .collect()
}

/// The `n` values of a column of [`split_halves`].
fn join_halves(column: Column, n: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(n);
    column.drain(|words| {
        (out).extend(
            words
                .chunks_exact(2)
                .map(|w| u64::from(w[0]) | u64::from(w[1]) << 32),
        );
    });
    out
}

/// Adds one block's first-pass results to the index.
pub(super) fn add_block(
    ctx: &Context<'_>,
    index: &mut FirstPass,
    seq: usize,
    block: Fingerprinted,
) {
    let Ok(first_para) = u32::try_from(index.paragraphs).map(ParagraphId::new) else {
        index.overflow = true;
        return;
    };
    if index.paragraphs + u64::from(block.paragraphs) > u64::from(u32::MAX) {
        index.overflow = true;
        return;
    }
    let docs_before = index.docs.len() as u32;
    let format = ctx.format(block.input);
    match format {
        Format::Text => {
            if block.index == BlockId::new(0) {
                index.docs.push(Doc {
                    input: block.input,
                    line: 1,
                    first_para,
                    n_paras: 0,
                });
            }
            if let Some(doc) = index.docs.last_mut() {
                doc.n_paras += block.paragraphs;
            }
        }
        _ => {
            let mut para = first_para;
            for &(line, n_paras) in &block.records {
                index.docs.push(Doc {
                    input: block.input,
                    line,
                    first_para: para,
                    n_paras,
                });
                para += n_paras;
            }
        }
    }
    let first_doc = DocId::new(match format {
        Format::Text => docs_before.saturating_sub(u32::from(block.index > BlockId::new(0))),
        _ => docs_before,
    });
    if let Some(stored) = block.stored.as_deref() {
        spill_block(ctx, index, stored, first_doc, first_para, format);
    }
    index.blocks.insert(
        (block.input, block.index),
        BlockStart {
            first_para,
            paragraphs: block.paragraphs,
            first_doc,
            docs: index.docs.len() as u32 - docs_before,
            seek: block.seek,
        },
    );
    let n = block.local.len() as u32;
    if block.input.index() >= ctx.options.reference && index.first_checked.is_none() {
        index.first_checked = Some(FingerprintId::new(index.slots));
    }
    if n > 0 {
        let mut from = 0;
        for (i, &end) in block.winnow_ends.iter().enumerate() {
            let slot = FingerprintId::new(index.slots + i as u32);
            let selected = &block.winnowed[from as usize..end as usize];
            index.winnowed.extend(selected.iter().map(|&h| (h, slot)));
            from = end;
        }
        let para: Vec<u32> = block
            .local
            .iter()
            .map(|&l| (first_para + l).get())
            .collect();
        index.para_column.extend_from_slice(&para);
        index
            .content_column
            .extend_from_slice(&split_halves(&block.content));
        if block.text_hashes.len() != block.local.len() {
            index.text_column = None;
        }
        if let Some(column) = index.text_column.as_mut() {
            column.extend_from_slice(&split_halves(&block.text_hashes));
        }
        if block.outlines.len() != block.local.len() {
            index.outlines = None;
        }
        if let Some(column) = index.outlines.as_mut() {
            let words: Vec<u32> = block.outlines.iter().flat_map(Outline::words).collect();
            column.extend_from_slice(&words);
        }
        if index.keys.is_empty() && ctx.keys {
            index.keys.resize_with(block.keys.len(), Column::default);
        }
        for (column, keys) in index.keys.iter_mut().zip(&block.keys) {
            column.extend_from_slice(keys);
        }
        if let Some(count) = index.slots_by_input.get_mut(block.input.index()) {
            *count += n;
        }
        index.slots += n;
    }
    index.paragraphs += u64::from(block.paragraphs);
    index.allowed += u64::from(block.allowed);
    index.bytes += block.bytes;
    if let Some((line, count)) = block.invalid_utf8 {
        match index.invalid_utf8.last_mut() {
            Some(last) if last.input == block.input => last.count += count,
            _ => index.invalid_utf8.push(InvalidUtf8 {
                seq,
                input: block.input,
                line,
                count,
            }),
        }
    }
    // A text field under another name, or an unusable id, is usually on
    // every record: one diagnostic per input, the first, with a count.
    for e in block.diagnostics {
        if e.is_per_input() {
            // This input's entries are the last ones: inputs come in order.
            let known = index
                .repeated
                .iter_mut()
                .rev()
                .take_while(|r| r.input == block.input)
                .find(|r| r.kind == e.kind());
            if let Some(r) = known {
                r.more += 1;
                continue;
            }
            index.repeated.push(Repeated {
                input: block.input,
                kind: e.kind(),
                at: index.diagnostics.len(),
                more: 0,
            });
        }
        index.diagnostics.push((seq, e));
    }
}

/// Writes a block's stored paragraphs (sealed with their band keys by the
/// worker) to the spill, with the scan's document numbers, and records its
/// documents' names.
fn spill_block(
    ctx: &Context<'_>,
    index: &mut FirstPass,
    stored: &super::spill::Stored,
    first_doc: DocId,
    first_para: ParagraphId,
    format: Format,
) {
    let docs = index.docs.len();
    match format {
        Format::Text => {
            if index.doc_names.len() < docs {
                let input = index.docs[first_doc].input;
                index.doc_names.push((ctx.names[input].clone(), None));
            }
        }
        _ => index.doc_names.extend(stored.names.iter().cloned()),
    }
    let Some(spill) = index.spill.as_mut() else {
        return;
    };
    if index.spill_error.is_some() {
        return;
    }
    let shift = match format {
        Format::Text => first_para - index.docs[first_doc].first_para,
        _ => 0,
    };
    if let Err(e) = spill.push_block(stored, first_doc, shift) {
        index.spill_error = Some(e);
    }
}

#[cfg(test)]
mod tests {
    use super::{Outline, Repeats};

    /// Texts sharing a slot replace each other, never answer for each
    /// other; a text longer than the cache keeps is never kept.
    #[test]
    fn repeats_answer_only_for_the_same_text() {
        let slot = |t: &str| Repeats::slot(t).unwrap().1;
        let a = "line 0".to_owned();
        let b = (1..)
            .map(|i| format!("line {i}"))
            .find(|t| slot(t) == slot(&a))
            .unwrap();
        let mut r = Repeats::new(2);
        let mut outline = Outline::default();
        outline.add(&[5, 6]);
        r.put(&a, 7, &[1, 2], outline);
        assert_eq!(r.get(&a), Some(Some((7, &[1, 2][..], outline))));
        assert_eq!(r.get(&b), None);
        r.put_none(&b);
        assert_eq!(r.get(&b), Some(None));
        assert_eq!(r.get(&a), None, "replaced");
        let long = "x".repeat(Repeats::LONGEST + 1);
        r.put(&long, 9, &[3, 4], outline);
        assert_eq!(r.get(&long), None);
    }
}
