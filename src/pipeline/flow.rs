//! Moving blocks through the thread pool in input order.
//!
//! A reader thread decodes each input and cuts it into blocks; the rayon
//! pool processes blocks as they come; a consumer puts the results back in
//! input order (by sequence number) before folding them into the pass's
//! state. Both passes run through [`ordered`]; a [`Selection`] says which
//! blocks a pass wants, so the second pass skips the rest.

use super::Context;
use super::Progress;
use super::print;
use super::print::Fingerprinted;
use super::print::PrintCache;
use super::print::Seek;
use crate::corpus::Format;
use crate::corpus::block::{self, Block};
use crate::fingerprint;
use crate::id::{BlockId, InputId};
use crossbeam_channel::Sender;
use crossbeam_channel::bounded;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{self, Read};

/// A block of one input, numbered in the order it was sent.
pub(super) struct Unit {
    pub(super) seq: usize,
    pub(super) input: InputId,
    /// The block's number within its input.
    pub(super) index: BlockId,
    pub(super) block: Block,
    /// Whether `block.data` is still gzip: the raw members of the block,
    /// which the worker decodes ([`Seek`]).
    pub(super) packed: bool,
    /// The decoded length of a packed block.
    pub(super) len: u64,
}

/// A needed block of an input read by [`Seek`]s: its number, place, and
/// raw bytes `raw..end` (`None`: to the end of the input).
pub(super) struct Packed {
    pub(super) index: BlockId,
    pub(super) seek: Seek,
    pub(super) end: Option<u64>,
}

/// What the reader thread sends: a block, the failure of an input, or
/// (first pass only) an input's blocks from its print.
pub(super) enum Item {
    Unit(Unit),
    Failed {
        seq: usize,
        input: InputId,
        error: io::Error,
    },
    Cached {
        seq: usize,
        blocks: Vec<Fingerprinted>,
    },
}

/// Where the first pass may find prints: the cache and each input's
/// settings key.
pub(super) struct Prints<'c> {
    pub(super) cache: &'c dyn PrintCache,
    pub(super) keys: Vec<u64>,
}

/// Which blocks of which inputs a pass reads.
pub(super) trait Selection: Sync {
    /// The last block of `input` the pass needs, or `None` to skip it.
    fn last_block(&self, input: InputId) -> Option<BlockId>;
    /// Whether block `index` of `input` is needed.
    fn wants(&self, input: InputId, index: BlockId) -> bool;
    /// The needed blocks of `input`, if each can be read alone
    /// ([`Seek`]); `None` reads the input front to back.
    fn packed(&self, _input: InputId) -> Option<Vec<Packed>> {
        None
    }
}

/// Every block of every input.
pub(super) struct Everything;

impl Selection for Everything {
    fn last_block(&self, _input: InputId) -> Option<BlockId> {
        Some(BlockId::new(u32::MAX))
    }
    fn wants(&self, _input: InputId, _index: BlockId) -> bool {
        true
    }
}

/// Numbers the items the reader sends, and sends them in batches: the
/// blocks of a large input one by one, the small inputs of a tree of files
/// many to a batch, so that what moving an item between threads costs is
/// paid once per block's worth of text, not once per file.
pub(super) struct Outbox<'t> {
    tx: &'t Sender<(usize, Vec<Item>)>,
    seq: usize,
    batches: usize,
    pending: Vec<Item>,
    pending_bytes: usize,
    batch_bytes: usize,
}

/// The most items in one batch, however small.
const MAX_BATCH: usize = 256;

impl<'t> Outbox<'t> {
    pub(super) fn new(tx: &'t Sender<(usize, Vec<Item>)>, batch_bytes: usize) -> Outbox<'t> {
        Outbox {
            tx,
            seq: 0,
            batches: 0,
            pending: Vec::new(),
            pending_bytes: 0,
            batch_bytes: batch_bytes.max(1),
        }
    }

    /// Sends a block; false when the receiving side has gone.
    pub(super) fn unit(&mut self, input: InputId, index: BlockId, block: Block) -> bool {
        let seq = self.next();
        let bytes = block.data.len();
        let unit = Unit {
            seq,
            input,
            index,
            block,
            packed: false,
            len: 0,
        };
        self.push(Item::Unit(unit), bytes)
    }

    /// Sends a block's raw gzip members; false when the receiving side has
    /// gone.
    fn packed(&mut self, input: InputId, p: &Packed, raw: Vec<u8>) -> bool {
        let seq = self.next();
        let bytes = raw.len();
        let block = Block {
            data: raw,
            offset: p.seek.offset,
            first_line: p.seek.first_line,
            member: Some(p.seek.raw),
        };
        let unit = Unit {
            seq,
            input,
            index: p.index,
            block,
            packed: true,
            len: p.seek.len,
        };
        self.push(Item::Unit(unit), bytes)
    }

    /// Sends the failure of an input; false when the receiving side has gone.
    pub(super) fn failed(&mut self, input: InputId, error: io::Error) -> bool {
        let seq = self.next();
        self.push(Item::Failed { seq, input, error }, 0)
    }

    /// Sends an input's blocks from its print; false when the receiving
    /// side has gone.
    pub(super) fn cached(&mut self, blocks: Vec<Fingerprinted>) -> bool {
        let seq = self.next();
        self.push(Item::Cached { seq, blocks }, 0)
    }

    pub(super) fn next(&mut self) -> usize {
        self.seq += 1;
        self.seq - 1
    }

    fn push(&mut self, item: Item, bytes: usize) -> bool {
        self.pending.push(item);
        self.pending_bytes += bytes;
        if self.pending_bytes >= self.batch_bytes || self.pending.len() >= MAX_BATCH {
            self.flush()
        } else {
            true
        }
    }

    /// Sends what is pending; false when the receiving side has gone.
    pub(super) fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        self.batches += 1;
        self.tx.send((self.batches - 1, batch)).is_ok()
    }
}

/// Reads the selected blocks of every input, in order, and sends them.
/// Every input sends at least one block (empty for an empty input), so each
/// text input is seen as a document. Returns the decoded bytes read.
pub(super) fn produce(
    ctx: &Context<'_>,
    selection: &dyn Selection,
    prints: Option<&Prints<'_>>,
    tx: &Sender<(usize, Vec<Item>)>,
    progress: &dyn Progress,
    packing: bool,
) -> u64 {
    let mut decoded = 0u64;
    // Items are sent in batches of at least the smallest block a small
    // input is cut into: a batch is one worker's, and batching a small
    // input's blocks as a whole block of a large one would undo the cut.
    let batch = ctx.options.block_size.min(block::MIN_BLOCK_SIZE);
    let mut out = Outbox::new(tx, batch);
    // A scan that holds no band keys takes prints without them.
    let bands = if ctx.keys {
        ctx.config.lsh().bands()
    } else {
        0
    };
    for i in (0..ctx.inputs.len() as u32).map(InputId::new) {
        let Some(last) = selection.last_block(i) else {
            continue;
        };
        let cached = prints.and_then(|p| {
            let data = p.cache.load(i.index())?;
            print::decode(&data, p.keys[i], bands, i)
        });
        if let (Some(blocks), Some(p)) = (cached, prints) {
            p.cache.used(i.index());
            progress.advance(ctx.inputs[i].source.size_hint().unwrap_or(0));
            if !out.cached(blocks) {
                return decoded;
            }
            continue;
        }
        if let Some(read) = read_decoded(ctx, i, selection, last, &mut out, progress) {
            match read {
                Some(n) => {
                    decoded += n;
                    continue;
                }
                None => return decoded,
            }
        }
        if let Some(packed) = selection.packed(i).filter(|_| packing) {
            match read_packed(ctx, i, &packed, &mut out, progress) {
                Some(n) => {
                    decoded += n;
                    continue;
                }
                None => return decoded,
            }
        }
        let (compressed, blocks) = match ctx.blocks(i, progress) {
            Ok(blocks) => blocks,
            Err(error) => {
                if !out.failed(i, error) {
                    return decoded;
                }
                continue;
            }
        };
        // A compressed input's decoded blocks are kept for the next passes.
        let mut keep = match &ctx.decoded {
            Some(d) if compressed => Some(d.lock().expect("only the reader thread takes it")),
            _ => None,
        };
        let mut index = BlockId::new(0);
        let mut empty = true;
        let mut whole = true;
        for block in blocks {
            empty = false;
            let sent = match block {
                Ok(block) => {
                    decoded += block.data.len() as u64;
                    if let Some(keep) = keep.as_mut() {
                        keep.add(i, index, &block);
                    }
                    !selection.wants(i, index) || out.unit(i, index, block)
                }
                Err(error) => {
                    whole = false;
                    out.failed(i, error)
                }
            };
            if !sent {
                return decoded;
            }
            index += 1;
            if index > last {
                whole = false;
                break;
            }
        }
        if let Some(keep) = keep.as_mut() {
            if whole {
                keep.finish(i);
            } else {
                keep.abandon();
            }
        }
        if let Some(digests) = &ctx.digests {
            let parquet = ctx.format(i) == Format::Parquet;
            let size = ctx.inputs[i].source.size_hint();
            let mut digests = digests.lock().expect("only the reader thread takes it");
            digests.finish(i, whole && !parquet, size);
        }
        // Parquet is not read front to back: its progress is the whole
        // file, once read.
        if ctx.format(i) == Format::Parquet {
            let size = ctx.inputs[i].source.size_hint();
            progress.advance(size.unwrap_or(0));
        }
        let first = BlockId::new(0);
        if empty && selection.wants(i, first) && !out.unit(i, first, Block::default()) {
            return decoded;
        }
    }
    out.flush();
    decoded
}

/// Sends the selected blocks of input `input` (up to block `last`) from
/// the first pass's decoded copy of it ([`super::decoded`]), if that holds
/// all of them: `None` if it does not, `Some(None)` when the receiving
/// side has gone, else the decoded bytes sent.
fn read_decoded(
    ctx: &Context<'_>,
    input: InputId,
    selection: &dyn Selection,
    last: BlockId,
    out: &mut Outbox<'_>,
    progress: &dyn Progress,
) -> Option<Option<u64>> {
    let decoded = ctx
        .decoded
        .as_ref()?
        .lock()
        .expect("only the reader thread takes it");
    let blocks = decoded.blocks(input)?;
    let mut read = 0;
    for index in BlockId::new(0).span(blocks as u32) {
        if index > last {
            break;
        }
        if !selection.wants(input, index) {
            continue;
        }
        let sent = match decoded.read(input, index) {
            Ok(block) => {
                read += block.data.len() as u64;
                out.unit(input, index, block)
            }
            Err(e) => out.failed(
                input,
                io::Error::new(
                    e.kind(),
                    format!("reading its decoded text back from the scratch file: {e}"),
                ),
            ),
        };
        if !sent {
            return Some(None);
        }
    }
    progress.advance(ctx.inputs[input].source.size_hint().unwrap_or(0));
    Some(Some(read))
}

/// Reads the raw bytes of `packed` blocks of input `input` and sends them
/// for the workers to decode (or the input's failure). Returns the raw
/// bytes read, or `None` when the receiving side has gone.
fn read_packed(
    ctx: &Context<'_>,
    input: InputId,
    packed: &[Packed],
    out: &mut Outbox<'_>,
    progress: &dyn Progress,
) -> Option<u64> {
    use std::io::{Read, Seek as _, SeekFrom};
    let mut file = match ctx.inputs[input].source.open_seekable() {
        Ok(file) => file,
        Err(error) => return out.failed(input, error).then_some(0),
    };
    let mut read = 0;
    for p in packed {
        let mut raw = Vec::new();
        let got = file
            .seek(SeekFrom::Start(p.seek.raw))
            .and_then(|_| match p.end {
                Some(end) => {
                    let len = end.saturating_sub(p.seek.raw);
                    (&mut file).take(len).read_to_end(&mut raw)?;
                    if (raw.len() as u64) < len {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the input is shorter than when it was first read (it changed)",
                        ));
                    }
                    Ok(())
                }
                None => file.read_to_end(&mut raw).map(drop),
            });
        if let Err(error) = got {
            return out.failed(input, error).then_some(read);
        }
        read += raw.len() as u64;
        progress.advance(raw.len() as u64);
        if !out.packed(input, p, raw) {
            return None;
        }
    }
    Some(read)
}

/// Decodes a packed unit's raw gzip members into its block, in place; the
/// error is the input's, as reading it front to back would give.
fn unpack(item: Item) -> Item {
    match item {
        Item::Unit(mut unit) if unit.packed => {
            let len = unit.len;
            let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            let decoded = flate2::bufread::MultiGzDecoder::new(&unit.block.data[..])
                .take(len)
                .read_to_end(&mut data)
                .and_then(|n| {
                    if n as u64 == len {
                        Ok(())
                    } else {
                        Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the input is shorter than when it was first read (it changed)",
                        ))
                    }
                });
            match decoded {
                Ok(()) => {
                    unit.block.data = data;
                    unit.packed = false;
                    Item::Unit(unit)
                }
                Err(e) => Item::Failed {
                    seq: unit.seq,
                    input: unit.input,
                    error: io::Error::new(
                        e.kind(),
                        format!("gzip data is truncated or corrupt ({e})"),
                    ),
                },
            }
        }
        item => item,
    }
}

/// Runs `work` over the selected blocks in parallel on the current rayon
/// pool and hands the results to `consume` in input order. Returns the
/// consumer's final state and the decoded bytes read.
pub(super) fn ordered<T, S, W, C>(
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
    let (tx, rx) = bounded::<(usize, Vec<Item>)>(threads * 2);
    let (rtx, rrx) = bounded::<(usize, Vec<T>)>(threads * 4);
    std::thread::scope(|s| {
        // With one worker, the reader thread decoding a gzip input is a
        // second core at work: blocks are sent decoded, not packed.
        let packing = threads > 1;
        let reader = s.spawn(move || produce(ctx, selection, prints, &tx, progress, packing));
        let consumer = s.spawn(move || {
            let mut state = state;
            let mut pending = BTreeMap::new();
            let mut next = 0;
            for (seq, results) in rrx {
                pending.insert(seq, results);
                while let Some(results) = pending.remove(&next) {
                    for result in results {
                        consume(&mut state, result);
                    }
                    next += 1;
                }
            }
            state
        });
        rx.into_iter().par_bridge().for_each_init(
            fingerprint::Scratch::default,
            |scratch, (seq, batch)| {
                let results = batch
                    .into_iter()
                    .map(|item| work(scratch, unpack(item)))
                    .collect();
                // The consumer outlives every sender; a failed send can only
                // follow a panic there, which the join below reports.
                let _ = rtx.send((seq, results));
            },
        );
        drop(rtx);
        let decoded = reader.join().expect("the reader thread does not panic");
        let state = consumer.join().expect("the consumer thread does not panic");
        (state, decoded)
    })
}
