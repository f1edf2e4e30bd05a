//! The batch driver: inputs in, a [`Report`] out, in two passes over the
//! corpus and without holding its text in memory.
//!
//! 1. **Fingerprint.** Every input is decoded and cut into blocks
//!    ([`crate::corpus::block`]); blocks are fingerprinted in parallel and
//!    their results put back in input order. What is kept per paragraph is
//!    small: a content hash and the low 32 bits of each band key.
//! 2. **Group.** Paragraphs with equal content hashes form exact classes,
//!    represented by their first member. The representatives are grouped per
//!    band by sorting `(key, paragraph)` pairs; every run of equal keys is a
//!    candidate group. Sorting costs `O(n log n)` whatever the bucket sizes,
//!    and no pair list is ever built, so a line repeated a million times
//!    costs no more than a million distinct lines.
//! 3. **Verify.** Only the documents holding candidate paragraphs are read
//!    again. Their shingle sets are computed in parallel, then offered in
//!    input order to the no-chaining rule ([`crate::cluster`]), which
//!    verifies each candidate by exact Jaccard similarity.
//! 4. **Report.** Verdicts become clusters and passages.
//!
//! Results depend only on the input and the [`Config`]: blocks are cut by
//! content, results are reassembled by sequence number, and every tie is
//! broken by input order, so any thread count gives the same report.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use crossbeam_channel::{Sender, bounded};
use rayon::prelude::*;

use crate::allow::{self, Allowlist};
use crate::cluster::{Assigner, Verdict};
use crate::column::Column;
use crate::corpus::block::{Block, DEFAULT_BLOCK_SIZE};
use crate::corpus::record::{self, Document};
use crate::corpus::{Format, Input, JsonlFields};
use crate::fingerprint::{self, Fingerprinter};
use crate::paragraph::{Paragraph, paragraphs};
use crate::passage;
use crate::print::{self, Fingerprinted, PrintCache};
use crate::report::{Cluster, Duplicate, Kind, Location, Member, Report, Summary};
use crate::shingle::ShingleSet;
use crate::{Config, Error, ErrorKind, Scope, Similarity};

/// How inputs are read (as opposed to how duplicates are detected, which
/// is [`Config`]).
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Fields of JSON Lines records and columns of Parquet files.
    pub fields: JsonlFields,
    /// Target size of a block of work, in bytes.
    pub block_size: usize,
    /// Paragraphs allowed to repeat, dropped before fingerprinting.
    pub allowlist: Allowlist,
    /// How many of the first inputs are a *reference corpus* that the rest
    /// is checked against: every reference paragraph is kept, without being
    /// compared with the other reference paragraphs, and only paragraphs of
    /// the later inputs can be duplicates (of a reference paragraph, or of
    /// an earlier kept paragraph of the later inputs). An exact copy is a
    /// duplicate of the first kept paragraph with its normalised text, even
    /// if an earlier reference paragraph also matches it (without a
    /// reference that case cannot arise). Only candidate groups holding a
    /// later paragraph are verified, so the second pass reads little of the
    /// reference. 0, the default, checks everything against everything.
    pub reference: usize,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            fields: JsonlFields::default(),
            block_size: DEFAULT_BLOCK_SIZE,
            allowlist: Allowlist::default(),
            reference: 0,
        }
    }
}

/// Receives progress from a scan; every method has an empty default.
pub trait Progress: Sync {
    /// A pass over the inputs begins; `total` raw bytes will be read, if
    /// known.
    fn begin(&self, _pass: &'static str, _total: Option<u64>) {}
    /// `bytes` more raw bytes were read.
    fn advance(&self, _bytes: u64) {}
    /// The current pass is over.
    fn end(&self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {}

/// Runs detection over `inputs`, in order.
///
/// Problems with single inputs or records (unreadable files, malformed JSON)
/// do not stop the scan; they are listed in [`Report::diagnostics`].
///
/// # Errors
///
/// Returns an error only when the scan as a whole cannot go on: more than
/// `u32::MAX` paragraphs.
///
/// # Example
///
/// ```
/// use neardup::corpus::{Format, Input, MemorySource};
/// use neardup::pipeline::{scan, ScanOptions, Silent};
/// use neardup::Config;
///
/// let text = "The ferry to Inish Mor was cancelled again on Friday morning.\n\
///             Officials blamed the storm.\n\
///             The ferry to Inish Mor was cancelled again on Friday morning.\n";
/// let inputs = [Input::new(MemorySource::new("a.txt", text), Format::Text)];
/// let report = scan(&inputs, &Config::default(), &ScanOptions::default(), &Silent)?;
/// assert_eq!(report.summary.duplicate_paragraphs, 1);
/// assert_eq!(report.clusters[0].kept.location.line, 1);
/// assert_eq!(report.clusters[0].duplicates[0].member.location.line, 3);
/// # Ok::<(), neardup::Error>(())
/// ```
pub fn scan(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
) -> Result<Report, Error> {
    run(inputs, config, options, progress, None)
}

/// [`scan`], taking the first pass's results for unchanged inputs from
/// `cache` and storing them there for the others ([`crate::print`]). The
/// report is the same as without the cache.
///
/// # Errors
///
/// As [`scan`].
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use neardup::corpus::{Format, Input, MemorySource};
/// use neardup::pipeline::{scan, scan_with_cache, ScanOptions, Silent};
/// use neardup::print::PrintCache;
/// use neardup::Config;
///
/// /// Keeps prints in memory, by input number.
/// #[derive(Default)]
/// struct Memory(Mutex<HashMap<usize, Vec<u8>>>);
///
/// impl PrintCache for Memory {
///     fn load(&self, input: usize) -> Option<Vec<u8>> {
///         self.0.lock().unwrap().get(&input).cloned()
///     }
///     fn store(&self, input: usize, print: &[u8]) {
///         self.0.lock().unwrap().insert(input, print.to_vec());
///     }
/// }
///
/// let text = "The ferry to Inish Mor was cancelled again on Friday morning.\n\
///             The ferry to Inish Mor was cancelled again on Friday morning.\n";
/// let inputs = [Input::new(MemorySource::new("a.txt", text), Format::Text)];
/// let (config, options) = (Config::default(), ScanOptions::default());
/// let cache = Memory::default();
/// let first = scan_with_cache(&inputs, &config, &options, &Silent, &cache)?;
/// assert!(cache.load(0).is_some());
/// let second = scan_with_cache(&inputs, &config, &options, &Silent, &cache)?;
/// assert_eq!(second.clusters, first.clusters);
/// assert_eq!(second.summary, scan(&inputs, &config, &options, &Silent)?.summary);
/// # Ok::<(), neardup::Error>(())
/// ```
pub fn scan_with_cache(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    cache: &dyn PrintCache,
) -> Result<Report, Error> {
    run(inputs, config, options, progress, Some(cache))
}

fn run(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    cache: Option<&dyn PrintCache>,
) -> Result<Report, Error> {
    let ctx = Context::new(inputs, config, options);
    let mut clock = Stopwatch::new();
    let mut index = fingerprint_pass(&ctx, progress, cache)?;
    clock.lap("fingerprint");
    let plan = Plan::new(&mut index, config.lsh().bands(), config.scope());
    clock.lap("group");
    let verified = verify_pass(&ctx, &index, &plan, progress);
    clock.lap("verify");
    let mut report = build_report(&ctx, index, verified);
    clock.lap("report");
    report.timings = clock.laps;
    Ok(report)
}

/// Wall time per stage, for `--verbose`.
struct Stopwatch {
    last: std::time::Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl Stopwatch {
    fn new() -> Stopwatch {
        Stopwatch {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((stage, now - self.last));
        self.last = now;
    }
}

/// What every worker needs to know.
struct Context<'a> {
    inputs: &'a [Input],
    names: Vec<Arc<str>>,
    config: &'a Config,
    options: &'a ScanOptions,
    fingerprinter: Fingerprinter,
    allow: allow::Matcher<'a>,
}

impl<'a> Context<'a> {
    fn new(inputs: &'a [Input], config: &'a Config, options: &'a ScanOptions) -> Context<'a> {
        let fingerprinter = Fingerprinter::new(config);
        Context {
            inputs,
            names: inputs.iter().map(|i| Arc::from(i.source.name())).collect(),
            config,
            options,
            allow: options.allowlist.bind(&fingerprinter),
            fingerprinter,
        }
    }

    fn format(&self, input: u32) -> Format {
        self.inputs[input as usize].format
    }

    /// The blocks of input `input`, with raw bytes read reported to
    /// `progress`.
    fn blocks(
        &self,
        input: u32,
        progress: &'a dyn Progress,
    ) -> io::Result<Box<dyn Iterator<Item = io::Result<Block>> + 'a>> {
        self.inputs[input as usize].blocks(
            self.config.paragraphs(),
            &self.options.fields,
            self.options.block_size,
            move |n| progress.advance(n),
        )
    }
}

/// A block of one input, numbered in the order it was sent.
struct Unit {
    seq: usize,
    input: u32,
    /// The block's number within its input.
    index: u32,
    block: Block,
}

/// What the reader thread sends: a block, the failure of an input, or
/// (first pass only) an input's blocks from its print.
enum Item {
    Unit(Unit),
    Failed {
        seq: usize,
        input: u32,
        error: io::Error,
    },
    Cached {
        seq: usize,
        blocks: Vec<Fingerprinted>,
    },
}

impl Item {
    fn seq(&self) -> usize {
        match self {
            Item::Unit(u) => u.seq,
            Item::Failed { seq, .. } | Item::Cached { seq, .. } => *seq,
        }
    }
}

/// Where the first pass may find prints: the cache and each input's
/// settings key.
struct Prints<'c> {
    cache: &'c dyn PrintCache,
    keys: Vec<u64>,
}

/// Which blocks of which inputs a pass reads.
trait Selection: Sync {
    /// The last block of `input` the pass needs, or `None` to skip it.
    fn last_block(&self, input: u32) -> Option<u32>;
    /// Whether block `index` of `input` is needed.
    fn wants(&self, input: u32, index: u32) -> bool;
}

/// Every block of every input.
struct Everything;

impl Selection for Everything {
    fn last_block(&self, _input: u32) -> Option<u32> {
        Some(u32::MAX)
    }
    fn wants(&self, _input: u32, _index: u32) -> bool {
        true
    }
}

/// Numbers the items the reader sends.
struct Outbox<'t> {
    tx: &'t Sender<Item>,
    seq: usize,
}

impl Outbox<'_> {
    /// Sends a block; false when the receiving side has gone.
    fn unit(&mut self, input: u32, index: u32, block: Block) -> bool {
        let seq = self.next();
        self.tx
            .send(Item::Unit(Unit {
                seq,
                input,
                index,
                block,
            }))
            .is_ok()
    }

    /// Sends the failure of an input; false when the receiving side has gone.
    fn failed(&mut self, input: u32, error: io::Error) -> bool {
        let seq = self.next();
        self.tx.send(Item::Failed { seq, input, error }).is_ok()
    }

    /// Sends an input's blocks from its print; false when the receiving
    /// side has gone.
    fn cached(&mut self, blocks: Vec<Fingerprinted>) -> bool {
        let seq = self.next();
        self.tx.send(Item::Cached { seq, blocks }).is_ok()
    }

    fn next(&mut self) -> usize {
        self.seq += 1;
        self.seq - 1
    }
}

/// Reads the selected blocks of every input, in order, and sends them.
/// Every input sends at least one block (empty for an empty input), so each
/// text input is seen as a document. Returns the decoded bytes read.
fn produce(
    ctx: &Context<'_>,
    selection: &dyn Selection,
    prints: Option<&Prints<'_>>,
    tx: &Sender<Item>,
    progress: &dyn Progress,
) -> u64 {
    let mut decoded = 0u64;
    let mut out = Outbox { tx, seq: 0 };
    let bands = ctx.config.lsh().bands();
    for i in 0..ctx.inputs.len() as u32 {
        let Some(last) = selection.last_block(i) else {
            continue;
        };
        let cached = prints.and_then(|p| {
            let data = p.cache.load(i as usize)?;
            print::decode(&data, p.keys[i as usize], bands, i)
        });
        if let (Some(blocks), Some(p)) = (cached, prints) {
            p.cache.used(i as usize);
            progress.advance(ctx.inputs[i as usize].source.size_hint().unwrap_or(0));
            if !out.cached(blocks) {
                return decoded;
            }
            continue;
        }
        let blocks = match ctx.blocks(i, progress) {
            Ok(blocks) => blocks,
            Err(error) => {
                if !out.failed(i, error) {
                    return decoded;
                }
                continue;
            }
        };
        let mut index = 0u32;
        let mut empty = true;
        for block in blocks {
            empty = false;
            let sent = match block {
                Ok(block) => {
                    decoded += block.data.len() as u64;
                    !selection.wants(i, index) || out.unit(i, index, block)
                }
                Err(error) => out.failed(i, error),
            };
            if !sent {
                return decoded;
            }
            index += 1;
            if index > last {
                break;
            }
        }
        // Parquet is not read front to back: its progress is the whole
        // file, once read.
        if ctx.format(i) == Format::Parquet {
            let size = ctx.inputs[i as usize].source.size_hint();
            progress.advance(size.unwrap_or(0));
        }
        if empty && selection.wants(i, 0) && !out.unit(i, 0, Block::default()) {
            return decoded;
        }
    }
    decoded
}

/// Runs `work` over the selected blocks in parallel on the current rayon
/// pool and hands the results to `consume` in input order. Returns the
/// consumer's final state and the decoded bytes read.
fn ordered<T, S, W, C>(
    ctx: &Context<'_>,
    selection: &dyn Selection,
    prints: Option<&Prints<'_>>,
    progress: &dyn Progress,
    work: W,
    state: S,
    consume: C,
) -> (S, u64)
where
    T: Send,
    S: Send,
    W: Fn(&mut fingerprint::Scratch, Item) -> T + Sync,
    C: Fn(&mut S, T) + Send,
{
    let threads = rayon::current_num_threads().max(1);
    let (tx, rx) = bounded::<Item>(threads * 2);
    let (rtx, rrx) = bounded::<(usize, T)>(threads * 4);
    std::thread::scope(|s| {
        let reader = s.spawn(move || produce(ctx, selection, prints, &tx, progress));
        let consumer = s.spawn(move || {
            let mut state = state;
            let mut pending = BTreeMap::new();
            let mut next = 0;
            for (seq, result) in rrx {
                pending.insert(seq, result);
                while let Some(result) = pending.remove(&next) {
                    consume(&mut state, result);
                    next += 1;
                }
            }
            state
        });
        rx.into_iter().par_bridge().for_each_init(
            fingerprint::Scratch::default,
            |scratch, item| {
                let seq = item.seq();
                let result = work(scratch, item);
                // The consumer outlives every sender; a failed send can only
                // follow a panic there, which the join below reports.
                let _ = rtx.send((seq, result));
            },
        );
        drop(rtx);
        let decoded = reader.join().expect("the reader thread does not panic");
        let state = consumer.join().expect("the consumer thread does not panic");
        (state, decoded)
    })
}

/// One document as the first pass saw it.
#[derive(Clone, Copy, Debug)]
struct Doc {
    input: u32,
    /// 1-based line of the input where the document starts (for Parquet,
    /// its row).
    line: u64,
    first_para: u32,
    n_paras: u32,
}

/// Which paragraphs and documents a block holds.
#[derive(Clone, Copy, Debug)]
struct BlockStart {
    first_para: u32,
    paragraphs: u32,
    /// The first document starting in the block (for plain text: the
    /// input's one document).
    first_doc: u32,
    /// Documents starting in the block.
    docs: u32,
}

/// What the first pass keeps: the document table and, per fingerprinted
/// paragraph ("slot"), its paragraph number, content hash and band keys.
///
/// Everything is stored in per-block chunks of exact size while the pass
/// runs, never in one growing vector: a vector that doubles its capacity
/// briefly needs three times its size, which for the band keys of a large
/// corpus is the largest allocation of the whole run.
#[derive(Debug, Default)]
struct Index {
    docs: Vec<Doc>,
    blocks: AHashMap<(u32, u32), BlockStart>,
    /// Global paragraph number of each slot, ascending (filled from
    /// `chunks` at the end of the pass).
    fp_para: Vec<u32>,
    /// Content hash of each slot (filled from `chunks` likewise).
    fp_content: Vec<u64>,
    /// One column of keys per band, indexed by slot, truncated to 32 bits
    /// (a collision only costs a verification). The grouping step consumes
    /// them band by band, freeing each as it goes.
    keys: Vec<Column>,
    chunks: Vec<(Vec<u32>, Vec<u64>)>,
    slots: u32,
    /// The first slot of an input after the reference corpus (`slots` until
    /// one is seen).
    first_checked: Option<u32>,
    paragraphs: u64,
    allowed: u64,
    bytes: u64,
    diagnostics: Vec<(usize, Error)>,
    /// Invalid UTF-8 per input, while the pass runs.
    invalid_utf8: Vec<InvalidUtf8>,
    invalid_utf8_total: u64,
    overflow: bool,
}

/// Where an input first had invalid UTF-8, and how often.
#[derive(Debug)]
struct InvalidUtf8 {
    /// The sequence number of the first block with it, which orders its
    /// warning among the other diagnostics.
    seq: usize,
    input: u32,
    /// 1-based line of the first invalid line (record).
    line: u64,
    count: u64,
}

impl Index {
    /// The document of each slot.
    /// Documents without a fingerprinted paragraph.
    fn empty_documents(&self) -> u64 {
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

    fn doc_of_slots(&self) -> Vec<u32> {
        let mut doc = 0;
        self.fp_para
            .iter()
            .map(|&p| {
                while self.docs[doc].first_para + self.docs[doc].n_paras <= p {
                    doc += 1;
                }
                doc as u32
            })
            .collect()
    }
}

/// The 0-based lines of `text` that are not valid UTF-8, as the first of
/// them and their number. Lines end at `\n`, which never splits a UTF-8
/// sequence, so each line is valid or not on its own.
fn invalid_lines(text: &[u8]) -> Option<(u64, u64)> {
    let mut bad = (0u64..)
        .zip(text.split(|&b| b == b'\n'))
        .filter(|(_, line)| std::str::from_utf8(line).is_err())
        .map(|(i, _)| i);
    let first = bad.next()?;
    Some((first, 1 + bad.count() as u64))
}

fn fingerprint_block(
    ctx: &Context<'_>,
    scratch: &mut fingerprint::Scratch,
    unit: &Unit,
) -> Fingerprinted {
    let mut out = Fingerprinted {
        input: unit.input,
        index: unit.index,
        bytes: unit.block.data.len() as u64,
        ..Fingerprinted::default()
    };
    let mode = ctx.config.paragraphs();
    let bands = ctx.config.lsh().bands();
    out.keys = vec![Vec::new(); bands];
    let mut fingerprint = |out: &mut Fingerprinted, text: &str| {
        let fp = ctx.fingerprinter.fingerprint_with(text, scratch);
        if let Some(fp) = fp.filter(|fp| {
            let allowed = ctx.allow.allows(text, fp.content);
            out.allowed += u32::from(allowed);
            !allowed
        }) {
            out.local.push(out.paragraphs);
            out.content.push(fp.content);
            for (band, key) in ctx.fingerprinter.band_keys(fp.signature).enumerate() {
                out.keys[band].push(key as u32);
            }
        }
        out.paragraphs += 1;
    };
    match ctx.format(unit.input) {
        Format::Text => {
            for p in paragraphs(&unit.block.data, mode) {
                let text = String::from_utf8_lossy(p.text);
                if let (std::borrow::Cow::Owned(_), Some((first, n))) =
                    (&text, invalid_lines(p.text))
                {
                    let (_, count) = out
                        .invalid_utf8
                        .get_or_insert((unit.block.first_line + p.line + first + 1, 0));
                    *count += n;
                }
                fingerprint(&mut out, &text);
            }
        }
        format => {
            let mut diagnostics = Vec::new();
            record::documents(
                format,
                &unit.block,
                &ctx.options.fields,
                &ctx.names[unit.input as usize],
                |_| true,
                &mut diagnostics,
                |doc| {
                    let before = out.paragraphs;
                    for p in paragraphs(doc.text.as_bytes(), mode) {
                        // Paragraphs end at ASCII line breaks, so the byte
                        // range is a valid slice of the decoded text.
                        fingerprint(&mut out, &doc.text[p.start..p.end]);
                    }
                    out.records.push((doc.line, out.paragraphs - before));
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
    out
}

/// What the first pass's workers hand the consumer.
enum Pass1 {
    Block(Fingerprinted),
    /// An input's blocks, from its print.
    Cached(Vec<Fingerprinted>),
    Failed(u32, Error),
}

/// The print being recorded for the input the consumer is reading.
struct Recording {
    input: u32,
    blocks: u32,
    encoded: Vec<u8>,
    /// No problem so far: an input with problems gets no print.
    clean: bool,
}

fn fingerprint_pass(
    ctx: &Context<'_>,
    progress: &dyn Progress,
    cache: Option<&dyn PrintCache>,
) -> Result<Index, Error> {
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
            Pass1::Block(fingerprint_block(ctx, scratch, &unit)),
        ),
        Item::Failed { seq, input, error } => (
            seq,
            Pass1::Failed(input, Error::io(&ctx.names[input as usize], error)),
        ),
        Item::Cached { seq, blocks } => (seq, Pass1::Cached(blocks)),
    };
    let store = |recording: Option<Recording>| {
        if let (Some(p), Some(r)) = (&prints, recording)
            && r.clean
        {
            let key = p.keys[r.input as usize];
            p.cache
                .store(r.input as usize, &print::finish(key, r.blocks, &r.encoded));
        }
    };
    let consume = |(index, recording): &mut (Index, Option<Recording>),
                   (seq, result): (usize, Pass1)| {
        match result {
            Pass1::Block(block) => {
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
                            print::encode_block(&mut r.encoded, &block);
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
        (Index::default(), None),
        consume,
    );
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
        let name = &ctx.names[bad.input as usize];
        index.invalid_utf8_total += bad.count;
        let warning = Error::encoding_count(name, bad.line, bad.count, unit);
        index.diagnostics.push((bad.seq, warning));
    }
    let slots = index.slots as usize;
    index.fp_para.reserve_exact(slots);
    index.fp_content.reserve_exact(slots);
    for (para, content) in std::mem::take(&mut index.chunks) {
        index.fp_para.extend_from_slice(&para);
        index.fp_content.extend_from_slice(&content);
    }
    if index.overflow {
        return Err(Error::limit(format!(
            "the corpus has more than {} paragraphs, the most one scan can index; split it",
            u32::MAX
        )));
    }
    Ok(index)
}

/// Adds one block's first-pass results to the index.
fn add_block(ctx: &Context<'_>, index: &mut Index, seq: usize, block: Fingerprinted) {
    let Ok(first_para) = u32::try_from(index.paragraphs) else {
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
            if block.index == 0 {
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
    let first_doc = match format {
        Format::Text => docs_before.saturating_sub(u32::from(block.index > 0)),
        _ => docs_before,
    };
    index.blocks.insert(
        (block.input, block.index),
        BlockStart {
            first_para,
            paragraphs: block.paragraphs,
            first_doc,
            docs: index.docs.len() as u32 - docs_before,
        },
    );
    let n = block.local.len() as u32;
    if block.input as usize >= ctx.options.reference && index.first_checked.is_none() {
        index.first_checked = Some(index.slots);
    }
    if n > 0 {
        let para: Vec<u32> = block.local.iter().map(|&l| first_para + l).collect();
        index.chunks.push((para, block.content));
        if index.keys.is_empty() {
            index.keys.resize_with(block.keys.len(), Column::default);
        }
        for (column, keys) in index.keys.iter_mut().zip(&block.keys) {
            column.extend_from_slice(keys);
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
    index
        .diagnostics
        .extend(block.diagnostics.into_iter().map(|e| (seq, e)));
}

/// Compressed sparse rows: `lists[i]` is `items[offsets[i]..offsets[i+1]]`.
#[derive(Debug, Default)]
struct Csr {
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl Csr {
    fn get(&self, i: usize) -> &[u32] {
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// A 32-bit key and the slot it belongs to.
type KeySlot = (u32, u32);

/// Sorts `(key, slot)` pairs by key, keeping pairs with equal keys in their
/// order (ascending slots, as they are built). A radix sort: one pass
/// scatters the pairs into 256 buckets by the key's top byte, then each
/// bucket, small enough to stay in cache, is sorted by the remaining three
/// bytes (least significant first) on the rayon pool. Linear in the number
/// of pairs whatever the keys, unlike a comparison sort.
fn radix_sort_by_key(pairs: &mut [KeySlot], scratch: &mut Vec<KeySlot>) {
    // Below this a comparison sort in cache beats four passes and a fan-out
    // to the thread pool. Sorting whole pairs keeps equal keys in slot order.
    const SMALL: usize = 1 << 16;
    if pairs.len() < SMALL {
        pairs.sort_unstable();
        return;
    }
    scratch.clear();
    scratch.resize(pairs.len(), (0, 0));
    let digit = |k: u32, shift: u32| (k >> shift) as usize & 0xff;
    let mut starts = [0usize; 257];
    for &(k, _) in pairs.iter() {
        starts[digit(k, 24) + 1] += 1;
    }
    for i in 0..256 {
        starts[i + 1] += starts[i];
    }
    let mut next = starts;
    for &pair in pairs.iter() {
        let d = digit(pair.0, 24);
        scratch[next[d]] = pair;
        next[d] += 1;
    }
    // Split both buffers at the bucket boundaries; each bucket sorts from
    // `scratch` into `pairs` in three passes (an odd number, so the result
    // lands in `pairs`).
    let mut buckets = Vec::with_capacity(256);
    let (mut src, mut dst) = (&mut scratch[..], pairs);
    for i in 0..256 {
        let len = starts[i + 1] - starts[i];
        let (s, s_rest) = src.split_at_mut(len);
        let (d, d_rest) = dst.split_at_mut(len);
        buckets.push((s, d));
        (src, dst) = (s_rest, d_rest);
    }
    buckets.into_par_iter().for_each(|(src, dst)| {
        for (shift, from_src) in [(0, true), (8, false), (16, true)] {
            let (from, to): (&[KeySlot], &mut [KeySlot]) = if from_src {
                (&*src, &mut *dst)
            } else {
                (&*dst, &mut *src)
            };
            let mut at = [0usize; 256];
            for &(k, _) in from {
                at[digit(k, shift)] += 1;
            }
            let mut total = 0;
            for count in &mut at {
                (*count, total) = (total, total + *count);
            }
            for &pair in from {
                let d = digit(pair.0, shift);
                to[at[d]] = pair;
                at[d] += 1;
            }
        }
    });
}

/// Candidate groups, stored flat, each distinct member list once: a
/// near-duplicate pair usually shares most of the 25 bands, and keeping 25
/// copies of every group was the largest allocation of the grouping step.
#[derive(Debug, Default)]
struct Groups {
    lists: Csr,
    /// Hash of a member list -> the first group with that hash. Group
    /// numbers never reach the output, so an in-memory hash is fine here.
    seen: AHashMap<u64, u32>,
    hasher: ahash::RandomState,
}

impl Groups {
    /// Adds a group of ascending slots, unless the same group is known.
    fn add(&mut self, members: impl Iterator<Item = u32>) {
        let lists = &mut self.lists;
        if lists.offsets.is_empty() {
            lists.offsets.push(0);
        }
        let start = lists.items.len();
        lists.items.extend(members);
        let hash = self.hasher.hash_one(&lists.items[start..]);
        let id = self.len() as u32;
        let lists = &mut self.lists;
        match self.seen.get(&hash) {
            Some(&g) if lists.get(g as usize) == &lists.items[start..] => {
                lists.items.truncate(start)
            }
            Some(_) => lists.offsets.push(lists.items.len() as u32),
            None => {
                self.seen.insert(hash, id);
                lists.offsets.push(lists.items.len() as u32);
            }
        }
    }

    fn len(&self) -> usize {
        self.lists.offsets.len().saturating_sub(1)
    }

    fn iter(&self) -> impl Iterator<Item = &[u32]> {
        (0..self.len()).map(|g| self.lists.get(g))
    }
}

/// A set of band keys, with a bitmap in front of the hash set: most keys
/// looked up are absent, and the bitmap (128 KiB, in cache) answers for
/// them without hashing.
struct KeyFilter {
    bits: Vec<u64>,
    keys: AHashSet<u32>,
}

impl KeyFilter {
    const BITS: u32 = 1 << 20;

    fn new(keys: impl Iterator<Item = u32>) -> KeyFilter {
        let mut bits = vec![0u64; (Self::BITS / 64) as usize];
        let keys: AHashSet<u32> = keys.collect();
        for &k in &keys {
            let b = k % Self::BITS;
            bits[(b / 64) as usize] |= 1 << (b % 64);
        }
        KeyFilter { bits, keys }
    }

    fn contains(&self, k: u32) -> bool {
        let b = k % Self::BITS;
        self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0 && self.keys.contains(&k)
    }
}

/// The second pass's plan, in slot numbers (indices into the fingerprint
/// arrays).
#[derive(Debug)]
struct Plan {
    /// The first slot with the same content hash.
    rep_of: Vec<u32>,
    /// Candidate groups of each slot (empty for non-representatives).
    groups_of: Csr,
    groups: usize,
    /// The last slot that may compare against each slot.
    keep_until: Vec<u32>,
    /// Slots whose text the verification pass needs, ascending.
    needed: Vec<u32>,
    /// Slots before this one belong to the reference corpus.
    checked: u32,
}

impl Plan {
    /// The plan for `index`, whose band keys it consumes.
    fn new(index: &mut Index, bands: usize, scope: Scope) -> Plan {
        let n = index.fp_content.len();
        // Slots before `checked` belong to the reference corpus: classes and
        // groups of reference slots alone are never verified.
        let checked = index.first_checked.unwrap_or(n as u32);
        let content = &index.fp_content;
        // With `Scope::Within`, runs of equal keys are cut where the
        // document changes: slots ascend within a run and documents are
        // runs of slots, so this keeps exactly the same-document pairs.
        let doc_of = match scope {
            Scope::All => Vec::new(),
            Scope::Within => index.doc_of_slots(),
        };
        let same_doc =
            |a: u32, b: u32| doc_of.is_empty() || doc_of[a as usize] == doc_of[b as usize];
        // Exact classes: sort by the top half of the content hash (a radix
        // sort, sequential in memory), then split each run of equal halves
        // by the full hash, which is rarely needed.
        let mut order: Vec<(u32, u32)> = content
            .iter()
            .zip(0u32..)
            .map(|(&c, s)| ((c >> 32) as u32, s))
            .collect();
        radix_sort_by_key(&mut order, &mut Vec::new());
        let mut rep_of: Vec<u32> = (0..n as u32).collect();
        let mut keep_until: Vec<u32> = (0..n as u32).collect();
        let mut needed = vec![false; n];
        let mut run_slots = Vec::new();
        for run in order
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
        {
            run_slots.clear();
            run_slots.extend(run.iter().map(|&(_, s)| s));
            // Slots ascend within the run; a stable sort by full hash keeps
            // them ascending within each class.
            run_slots.sort_by_key(|&s| content[s as usize]);
            for class in run_slots
                .chunk_by(|&a, &b| content[a as usize] == content[b as usize] && same_doc(a, b))
            {
                if let [rep, .., last] = *class
                    && last >= checked
                {
                    keep_until[rep as usize] = last;
                    for &m in class {
                        rep_of[m as usize] = rep;
                        needed[m as usize] = m == rep || m >= checked;
                    }
                }
            }
        }
        drop(order);
        let n_reps = (0..n).filter(|&s| rep_of[s] == s as u32).count();
        // Band by band, so that each band's keys are freed once grouped.
        let mut groups = Groups::default();
        let mut scratch = Vec::new();
        for band in 0..bands {
            let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(n_reps);
            if let Some(keys) = index.keys.get_mut(band).map(std::mem::take) {
                debug_assert_eq!(keys.len(), n);
                // With a reference corpus only groups holding a checked
                // slot are kept, so a reference key that no checked slot
                // has can be dropped before the sort: one pass over the
                // reference instead of sorting it.
                let filter =
                    (checked > 0).then(|| KeyFilter::new(keys.iter().skip(checked as usize)));
                pairs.extend(keys.iter().zip(0u32..).filter(|&(k, s)| {
                    rep_of[s as usize] == s && filter.as_ref().is_none_or(|f| f.contains(k))
                }));
            }
            radix_sort_by_key(&mut pairs, &mut scratch);
            let runs = pairs
                .chunk_by(|a, b| a.0 == b.0 && same_doc(a.1, b.1))
                .filter(|run| run.len() > 1 && run[run.len() - 1].1 >= checked);
            for run in runs {
                groups.add(run.iter().map(|&(_, s)| s));
            }
        }
        index.keys = Vec::new();

        let mut counts = vec![0u32; n + 1];
        for group in groups.iter() {
            let last = group[group.len() - 1];
            for &m in group {
                counts[m as usize + 1] += 1;
                needed[m as usize] = true;
                let k = &mut keep_until[m as usize];
                *k = (*k).max(last);
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut items = vec![0u32; counts[n] as usize];
        for (g, group) in groups.iter().enumerate() {
            for &m in group {
                items[fill[m as usize] as usize] = g as u32;
                fill[m as usize] += 1;
            }
        }
        Plan {
            rep_of,
            groups_of: Csr {
                offsets: counts,
                items,
            },
            groups: groups.len(),
            keep_until,
            needed: (0..n as u32).filter(|&s| needed[s as usize]).collect(),
            checked,
        }
    }
}

/// One paragraph read again in the verification pass.
struct Found {
    slot: u32,
    set: ShingleSet,
    member: Member,
}

/// The verification pass's result for one block.
#[derive(Default)]
struct Reread {
    found: Vec<Found>,
    diagnostics: Vec<Error>,
}

/// Which blocks hold needed paragraphs.
struct Needed<'a> {
    index: &'a Index,
    /// Needed global paragraph numbers, ascending.
    paras: Vec<u32>,
    /// The slot of each of `paras`.
    slots: &'a [u32],
    blocks: AHashSet<(u32, u32)>,
    last_block: AHashMap<u32, u32>,
}

impl<'a> Needed<'a> {
    fn new(index: &'a Index, plan: &'a Plan) -> Needed<'a> {
        let paras: Vec<u32> = plan
            .needed
            .iter()
            .map(|&s| index.fp_para[s as usize])
            .collect();
        // Blocks holding paragraphs cover disjoint ranges; find each needed
        // paragraph's block by the range's start.
        let mut starts: Vec<(u32, (u32, u32))> = index
            .blocks
            .iter()
            .filter(|(_, b)| b.paragraphs > 0)
            .map(|(&key, b)| (b.first_para, key))
            .collect();
        starts.sort_unstable();
        let mut blocks = AHashSet::new();
        let mut last_block: AHashMap<u32, u32> = AHashMap::new();
        for &p in &paras {
            let (_, key) = starts[starts.partition_point(|&(first, _)| first <= p) - 1];
            blocks.insert(key);
            let last = last_block.entry(key.0).or_insert(key.1);
            *last = (*last).max(key.1);
        }
        Needed {
            index,
            paras,
            slots: &plan.needed,
            blocks,
            last_block,
        }
    }

    /// The needed paragraphs in `first..end`, with their slots, ascending.
    fn within(&self, first: u32, end: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let from = self.paras.partition_point(|&p| p < first);
        let to = self.paras.partition_point(|&p| p < end);
        self.paras[from..to]
            .iter()
            .copied()
            .zip(self.slots[from..to].iter().copied())
    }
}

impl Selection for Needed<'_> {
    fn last_block(&self, input: u32) -> Option<u32> {
        self.last_block.get(&input).copied()
    }
    fn wants(&self, input: u32, index: u32) -> bool {
        self.blocks.contains(&(input, index))
    }
}

/// The start of a paragraph's text, white space collapsed, for display.
pub(crate) fn snippet(text: &str) -> String {
    const MAX_CHARS: usize = 72;
    let mut words = text
        .split_whitespace()
        .flat_map(|w| std::iter::once(' ').chain(w.chars()))
        .skip(1);
    let mut out: String = words.by_ref().take(MAX_CHARS).collect();
    if words.next().is_some() {
        out.truncate(out.trim_end().len());
        out.push('…');
    }
    out
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
    let path = &ctx.names[unit.input as usize];
    let mode = ctx.config.paragraphs();
    // Called for each needed paragraph, with its global number and slot.
    let mut visit = |out: &mut Reread,
                     (para, slot): (u32, u32),
                     doc_index: u32,
                     (doc, url): (&Arc<str>, Option<&Arc<str>>),
                     p: Paragraph<'_>,
                     line: u64,
                     offset: u64| {
        let text = String::from_utf8_lossy(p.text);
        let Some((set, content)) = ctx.fingerprinter.shingle_set_with(&text, scratch) else {
            return;
        };
        let d = &index.docs[doc_index as usize];
        out.found.push(Found {
            slot,
            set,
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
                },
                snippet: snippet(&text),
                content,
            },
        });
    };
    match ctx.format(unit.input) {
        Format::Text => {
            let doc_index = start.first_doc;
            let mut want = needed
                .within(start.first_para, start.first_para + start.paragraphs)
                .peekable();
            for (p, para) in paragraphs(&unit.block.data, mode).zip(start.first_para..) {
                if let Some(hit) = want.next_if(|&(n, _)| n == para) {
                    let line = unit.block.first_line + p.line + 1;
                    let doc = (path, None);
                    visit(&mut out, hit, doc_index, doc, p, line, unit.block.offset);
                }
            }
        }
        format => {
            // The documents of this block, by line, that hold needed paragraphs.
            let wanted: AHashMap<u64, u32> = (start.first_doc..start.first_doc + start.docs)
                .filter(|&d| {
                    let doc = &index.docs[d as usize];
                    needed
                        .within(doc.first_para, doc.first_para + doc.n_paras)
                        .next()
                        .is_some()
                })
                .map(|d| (index.docs[d as usize].line, d))
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
                    let d = &index.docs[doc_index as usize];
                    let name: Arc<str> = Arc::from(doc.name());
                    let url: Option<Arc<str>> = doc.url.as_deref().map(Arc::from);
                    let mut want = needed
                        .within(d.first_para, d.first_para + d.n_paras)
                        .peekable();
                    for (p, para) in paragraphs(doc.text.as_bytes(), mode).zip(d.first_para..) {
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
struct Verified {
    /// Duplicates: (slot, kept slot, similarity, member), in slot order.
    duplicates: Vec<(u32, u32, Similarity, Member)>,
    /// Members of kept slots that were candidates.
    kept: AHashMap<u32, Member>,
    comparisons: u64,
    diagnostics: Vec<Error>,
}

fn verify_pass(ctx: &Context<'_>, index: &Index, plan: &Plan, progress: &dyn Progress) -> Verified {
    let needed = Needed::new(index, plan);
    let total = (0..ctx.inputs.len() as u32)
        .filter(|&i| needed.last_block(i).is_some())
        .map(|i| ctx.inputs[i as usize].source.size_hint())
        .sum::<Option<u64>>();
    progress.begin("verifying", total);
    let work = |scratch: &mut fingerprint::Scratch, item: Item| match item {
        Item::Unit(unit) => reread_block(ctx, &needed, scratch, &unit),
        Item::Failed { input, error, .. } => Reread {
            found: Vec::new(),
            diagnostics: vec![Error::io(&ctx.names[input as usize], error)],
        },
        // The second pass reads inputs, never prints.
        Item::Cached { .. } => Reread::default(),
    };
    let state = (
        Assigner::new(ctx.config.threshold(), plan.groups),
        Verified {
            duplicates: Vec::new(),
            kept: AHashMap::new(),
            comparisons: 0,
            diagnostics: Vec::new(),
        },
        AHashSet::<u32>::new(),
    );
    let consume = |(assigner, verified, changed): &mut (Assigner, Verified, AHashSet<u32>),
                   block: Reread| {
        verified.diagnostics.extend(block.diagnostics);
        for found in block.found {
            let slot = found.slot as usize;
            if found.member.content != index.fp_content[slot] {
                let input = index.docs[found.member.location.doc_index as usize].input;
                if changed.insert(input) {
                    verified
                        .diagnostics
                        .push(Error::changed(&ctx.names[input as usize]));
                }
                continue;
            }
            let rep = plan.rep_of[slot];
            let verdict = if found.slot < plan.checked {
                assigner.keep(
                    found.slot,
                    found.set,
                    plan.groups_of.get(slot),
                    plan.keep_until[slot],
                )
            } else if rep as usize != slot {
                assigner.offer_copy(found.slot, &found.set, rep)
            } else {
                assigner.offer(
                    found.slot,
                    found.set,
                    plan.groups_of.get(slot),
                    plan.keep_until[slot],
                )
            };
            match verdict {
                Verdict::Kept => {
                    // Only duplicates show their text; most kept candidates
                    // end up with none, and a large corpus has many.
                    let mut member = found.member;
                    member.snippet = String::new();
                    verified.kept.insert(found.slot, member);
                }
                Verdict::Duplicate { of, similarity } => {
                    verified
                        .duplicates
                        .push((found.slot, of, similarity, found.member));
                }
            }
        }
    };
    let ((assigner, mut verified, _), _) =
        ordered(ctx, &needed, None, progress, work, state, consume);
    progress.end();
    verified.comparisons = assigner.comparisons();
    verified
}

fn build_report(ctx: &Context<'_>, index: Index, verified: Verified) -> Report {
    let Verified {
        duplicates,
        mut kept,
        comparisons,
        diagnostics,
    } = verified;
    let mut by_kept: BTreeMap<u32, Vec<Duplicate>> = BTreeMap::new();
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
    let mut paragraphs_by_input = vec![0u64; ctx.inputs.len()];
    for doc in &index.docs {
        paragraphs_by_input[doc.input as usize] += u64::from(doc.n_paras);
    }
    let mut all_diagnostics = index.diagnostics;
    all_diagnostics.sort_by_key(|(seq, _)| *seq);
    let mut diagnostics_out: Vec<Error> = all_diagnostics.into_iter().map(|(_, e)| e).collect();
    diagnostics_out.extend(diagnostics);
    Report {
        summary,
        config: ctx.config.clone(),
        clusters,
        passages,
        paragraphs_by_input,
        diagnostics: diagnostics_out,
        timings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::MemorySource;

    fn run(inputs: &[Input]) -> Report {
        scan(inputs, &Config::default(), &ScanOptions::default(), &Silent).unwrap()
    }

    /// A boilerplate line repeated many times is one exact class: its copies
    /// are settled without a similarity computation. (The few comparisons
    /// allowed come from 32-bit band keys of distinct lines colliding: about
    /// one expected for 20,000 lines and 25 bands.)
    #[test]
    fn hot_line_costs_no_comparisons() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str("Share this article with your friends and family\n");
            text.push_str(&format!(
                "Distinct paragraph number {i} about nothing much.\n"
            ));
        }
        let r = run(&[Input::new(MemorySource::new("hot.txt", text), Format::Text)]);
        assert_eq!(r.summary.duplicate_paragraphs, 19_999);
        assert_eq!(r.clusters.len(), 1);
        assert!(
            r.summary.comparisons < 10,
            "{} comparisons",
            r.summary.comparisons
        );
    }

    #[test]
    fn snippets_collapse_space_and_cut_long_text() {
        assert_eq!(snippet("  a\tb \n c "), "a b c");
        let long = "word ".repeat(40);
        let cut = snippet(&long);
        // 72 characters of text, then the ellipsis.
        assert_eq!(cut.chars().count(), 73, "{cut}");
        assert!(cut.ends_with(" wo…"), "{cut}");
        assert_eq!(snippet(&"x".repeat(72)), "x".repeat(72));
    }

    #[test]
    fn radix_sort_is_a_stable_sort_by_key() {
        let mut state = 7u64;
        let mut pairs: Vec<(u32, u32)> = (0..200_000)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                (((state >> 40) as u32 % 3000).wrapping_mul(0x0101_0101), i)
            })
            .collect();
        let mut expect = pairs.clone();
        expect.sort_by_key(|p| p.0);
        radix_sort_by_key(&mut pairs, &mut Vec::new());
        assert_eq!(pairs, expect);
    }

    #[test]
    fn empty_inputs_are_documents_without_paragraphs() {
        let r = run(&[
            Input::new(MemorySource::new("empty.txt", ""), Format::Text),
            Input::new(MemorySource::new("blank.txt", "\n \n\t\n"), Format::Text),
            Input::new(MemorySource::new("empty.jsonl", "\n"), Format::Jsonl),
        ]);
        assert_eq!((r.summary.documents, r.summary.paragraphs), (2, 0));
        assert!(r.diagnostics.is_empty());
    }

    /// With a reference corpus, only the later inputs can hold duplicates,
    /// and a repeat inside the reference is not even verified.
    #[test]
    fn reference_inputs_are_kept_and_checked_against() {
        let a = "The lighthouse keeper retired after forty years on the rock.\n";
        let b = "Fishing boats stayed in port because of the gale warning.\n";
        let c = "A new ferry timetable starts on the first of the month.\n";
        let inputs = [
            Input::new(
                MemorySource::new("old1.txt", format!("{a}{b}{a}")),
                Format::Text,
            ),
            Input::new(MemorySource::new("old2.txt", b), Format::Text),
            Input::new(
                MemorySource::new("new.txt", format!("{c}{b}{c}")),
                Format::Text,
            ),
        ];
        let options = ScanOptions {
            reference: 2,
            ..ScanOptions::default()
        };
        let r = scan(&inputs, &Config::default(), &options, &Silent).unwrap();
        let found: Vec<_> = r
            .clusters
            .iter()
            .flat_map(|c| {
                c.duplicates.iter().map(|d| {
                    (
                        (c.kept.location.path.to_string(), c.kept.location.line),
                        (d.member.location.path.to_string(), d.member.location.line),
                    )
                })
            })
            .collect();
        let at = |p: &str, l: u64| (p.to_owned(), l);
        assert_eq!(
            found,
            [
                (at("old1.txt", 2), at("new.txt", 2)),
                (at("new.txt", 1), at("new.txt", 3)),
            ]
        );
        assert_eq!(r.paragraphs_by_input, [3, 1, 3]);
        // Without a reference the repeats inside old1 and old2 count too.
        assert_eq!(run(&inputs).summary.duplicate_paragraphs, 4);
    }

    /// Counts how often a source is opened.
    struct Counted {
        name: &'static str,
        text: String,
        opened: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl crate::corpus::Source for Counted {
        fn name(&self) -> &str {
            self.name
        }
        fn open(&self) -> io::Result<Box<dyn io::Read + Send + '_>> {
            self.opened
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Box::new(self.text.as_bytes()))
        }
    }

    /// Prints in memory.
    #[derive(Default)]
    struct Prints(std::sync::Mutex<BTreeMap<usize, Vec<u8>>>);

    impl PrintCache for Prints {
        fn load(&self, input: usize) -> Option<Vec<u8>> {
            self.0.lock().unwrap().get(&input).cloned()
        }
        fn store(&self, input: usize, print: &[u8]) {
            self.0.lock().unwrap().insert(input, print.to_vec());
        }
    }

    /// A cached scan reports what an uncached one does, and opens an input
    /// it has a print of only to verify candidates.
    #[test]
    fn prints_replace_the_first_pass() {
        let dup = "The lighthouse keeper retired after forty years on the rock.\n";
        let sources = [
            (
                "a.txt",
                format!("{dup}Fishing boats stayed in port because of the gale.\n{dup}"),
            ),
            (
                "b.txt",
                "A new ferry timetable starts on the first of the month.\n".to_owned(),
            ),
            (
                "c.jsonl",
                "{\"text\": \"A record of its own\\nwith two paragraphs\"}\nnot json\n".to_owned(),
            ),
        ];
        let counters: Vec<Arc<std::sync::atomic::AtomicUsize>> =
            sources.iter().map(|_| Arc::default()).collect();
        let inputs: Vec<Input> = sources
            .iter()
            .zip(&counters)
            .map(|((name, text), opened)| {
                let format = if name.ends_with(".jsonl") {
                    Format::Jsonl
                } else {
                    Format::Text
                };
                let source = Counted {
                    name,
                    text: text.clone(),
                    opened: opened.clone(),
                };
                Input::new(source, format)
            })
            .collect();
        let opened = || -> Vec<usize> {
            counters
                .iter()
                .map(|c| c.swap(0, std::sync::atomic::Ordering::SeqCst))
                .collect()
        };
        let (config, options) = (Config::default(), ScanOptions::default());
        let plain = scan(&inputs, &config, &options, &Silent).unwrap();
        opened();
        let cache = Prints::default();
        let first = scan_with_cache(&inputs, &config, &options, &Silent, &cache).unwrap();
        assert_eq!(opened(), [2, 1, 1], "a.txt twice: both passes");
        // The input with a malformed record gets no print.
        let stored: Vec<usize> = cache.0.lock().unwrap().keys().copied().collect();
        assert_eq!(stored, [0, 1]);
        let second = scan_with_cache(&inputs, &config, &options, &Silent, &cache).unwrap();
        assert_eq!(opened(), [1, 0, 1], "a.txt for verification only");
        for r in [&first, &second] {
            assert_eq!(r.summary, plain.summary);
            assert_eq!(r.clusters, plain.clusters);
            assert_eq!(r.paragraphs_by_input, plain.paragraphs_by_input);
            assert_eq!(r.diagnostics.len(), plain.diagnostics.len());
        }
        // Other settings ignore the prints and read the inputs again.
        let other = Config::builder().shingle_size(3).build().unwrap();
        let third = scan_with_cache(&inputs, &other, &options, &Silent, &cache).unwrap();
        assert_eq!(opened(), [2, 1, 1]);
        let expected = scan(&inputs, &other, &options, &Silent).unwrap();
        assert_eq!(third.summary, expected.summary);
    }

    /// An input that reads differently the second time is reported, not
    /// silently mis-attributed.
    #[test]
    fn changed_input_is_reported() {
        struct Flaky(std::sync::atomic::AtomicBool);
        impl crate::corpus::Source for Flaky {
            fn name(&self) -> &str {
                "flaky.txt"
            }
            fn open(&self) -> io::Result<Box<dyn io::Read + Send + '_>> {
                let second = self.0.swap(true, std::sync::atomic::Ordering::SeqCst);
                let text: &[u8] = if second {
                    b"a line that repeats itself here\nanother line entirely, it seems\n"
                } else {
                    b"a line that repeats itself here\na line that repeats itself here\n"
                };
                Ok(Box::new(text))
            }
        }
        let r = run(&[Input::new(Flaky(false.into()), Format::Text)]);
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.kind() == crate::ErrorKind::Changed),
            "{:?}",
            r.diagnostics
        );
        assert_eq!(r.summary.duplicate_paragraphs, 0);
    }
}
