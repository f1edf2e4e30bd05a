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
//! One submodule per stage: `flow` (the reader thread, the pool and the
//! reordering consumer both passes share), `first_pass` (pass 1), `group`,
//! `verify` (pass 2) and `report`.
//!
//! Results depend only on the input and the [`Config`]: blocks are cut by
//! content, results are reassembled by sequence number, and every tie is
//! broken by input order, so any thread count gives the same report.

use crate::id::InputId;
use std::io;
use std::sync::{Arc, Mutex};

use crate::allow::{self, Allowlist};
use crate::containment;
use crate::corpus::block::DEFAULT_BLOCK_SIZE;
use crate::corpus::{Format, Input, JsonlFields};
use crate::fingerprint::Fingerprinter;
use crate::report::Report;
use crate::{Config, Error};
use print::PrintCache;
use prior::{KeptSink, Prefix, Prior};

mod band_keys;
mod contain;
mod decoded;
mod digest;
mod first_pass;
mod flow;
pub(crate) mod group;
pub mod print;
pub mod prior;
pub(crate) mod radix;
mod report;
mod spill;
pub mod spread;
mod verify;

pub use band_keys::BandKeys;
use decoded::Decoded;
use first_pass::fingerprint_pass;
pub use group::Grouping;
use group::{Keys, Plan};
pub use report::Counts;
use report::build_report;
use spill::SpillWriter;
use verify::verify_pass;

/// The most worker threads a run takes (`-j`, `threads=`): more than any
/// machine it runs on has cores, so that a typo (`-j 5000`) is an error
/// rather than a minute spent starting threads.
pub const MAX_THREADS: usize = 1024;

/// A worker thread count as asked for: 0 is taken as 1, more than
/// [`MAX_THREADS`] is refused.
///
/// ```
/// use neardup::pipeline::thread_count;
///
/// assert_eq!(thread_count(0)?, 1);
/// assert_eq!(thread_count(8)?, 8);
/// assert!(thread_count(5000).unwrap_err().to_string().contains("at most 1024 worker threads"));
/// # Ok::<(), neardup::Error>(())
/// ```
///
/// # Errors
///
/// `n` is over [`MAX_THREADS`].
pub fn thread_count(n: usize) -> Result<usize, Error> {
    if n > MAX_THREADS {
        return Err(Error::config(format!(
            "at most {MAX_THREADS} worker threads, not {n} (leave the count out for one per core)"
        )));
    }
    Ok(n.max(1))
}

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
    /// Keep each duplicate's whole text in its [`Member::text`] (reports
    /// for tools that show the paragraph), not only its snippet. Off by
    /// default: on a large corpus the duplicates' text is a good part of
    /// the corpus.
    ///
    /// [`Member::text`]: crate::report::Member::text
    pub full_text: bool,
    /// Also find kept paragraphs inside other kept paragraphs
    /// ([`Report::contained`]; [`crate::containment`]). Off
    /// (`None`) by default.
    pub containment: Option<containment::find::Settings>,
    /// A directory where the first pass may keep the decoded text of
    /// compressed inputs (gzip, zstd) in a scratch file, so that the
    /// second pass need not decode them again: at most half the space
    /// free there, unlinked as soon as it is open on Unix. `None`, the
    /// default, writes nothing: the second pass decodes again. Only a
    /// cache: the report is the same either way.
    pub scratch_dir: Option<std::path::PathBuf>,
    /// Give each duplicate its [`Member::snippet`] (the default). Without
    /// them, a scan that stores its kept paragraphs ([`Extras::kept`], an
    /// index's add) and keeps no [`full_text`](Self::full_text) reads its
    /// inputs once: the second pass verifies with the tokens the first
    /// pass kept for the index, not by reading the candidates again
    /// (`index create` of 1 GB of news: 8.83 -> 8.27 s, median of four
    /// interleaved runs on 2 threads), and an input that changes between
    /// the passes does not stop it. `neardup index create` and `index add`
    /// take none: they show no findings; nor does the Python
    /// `Index.add`, whose report is JSON (which has no snippets).
    ///
    /// [`Member::snippet`]: crate::report::Member::snippet
    pub snippets: bool,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            fields: JsonlFields::default(),
            block_size: DEFAULT_BLOCK_SIZE,
            allowlist: Allowlist::default(),
            reference: 0,
            full_text: false,
            containment: None,
            scratch_dir: None,
            snippets: true,
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
    scan_with(inputs, config, options, progress, Extras::default())
}

/// [`scan`], taking the first pass's results for unchanged inputs from
/// `cache` and storing them there for the others ([`print`](mod@print)). The
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
/// use neardup::pipeline::print::PrintCache;
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
    let extras = Extras {
        cache: Some(cache),
        ..Extras::default()
    };
    scan_with(inputs, config, options, progress, extras)
}

/// What [`fingerprint_only`] returns besides the prints: what the group
/// stage of a spread scan needs ([`crate::stage`]).
#[derive(Debug, Default)]
pub struct FirstPassKeys {
    /// The inputs' problems (the last stage reports them again).
    pub problems: Vec<Error>,
    /// The fingerprinted paragraphs of each input.
    pub slots: Vec<u32>,
    /// The 32-bit band keys of every fingerprinted paragraph, in input
    /// order: one column per band, indexed by slot.
    pub(crate) keys: Vec<crate::column::Column>,
}

/// Runs only the first pass over `inputs`, handing the print of every
/// input without problems to `cache` ([`PrintCache::store`]), and returns
/// the inputs' problems and every paragraph's band keys: what a worker of a
/// distributed scan does with its shard ([`crate::stage`]). A later scan
/// with those prints builds the same first-pass table without reading the
/// inputs.
///
/// # Errors
///
/// As [`scan`]'s first pass (the corpus is too large to address).
pub fn fingerprint_only(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    cache: &dyn PrintCache,
) -> Result<FirstPassKeys, Error> {
    contain::check(config, options, None)?;
    let mut ctx = Context::new(inputs, config, options, None, false);
    ctx.print_keys = false;
    let first = fingerprint_pass(&ctx, progress, Some(cache), None)?;
    Ok(FirstPassKeys {
        problems: first.diagnostics.into_iter().map(|(_, e)| e).collect(),
        slots: first.slots_by_input,
        keys: first.keys,
    })
}

/// What a scan can take besides its inputs: a cache of first-pass results,
/// earlier batches to check against, and a receiver of the paragraphs it
/// keeps. `Extras::default()` is a plain [`scan`].
#[derive(Default)]
pub struct Extras<'a> {
    /// First-pass results of unchanged inputs ([`scan_with_cache`]).
    pub cache: Option<&'a dyn PrintCache>,
    /// Earlier batches' kept paragraphs: the scan's verdicts are those of
    /// a scan of the earlier batches followed by these inputs
    /// ([`prior`](mod@prior)).
    pub prior: Option<&'a dyn Prior>,
    /// Receives every paragraph the scan keeps (of the inputs after the
    /// reference corpus), in input order, with what an index stores.
    pub kept: Option<&'a mut dyn KeptSink>,
    /// The runs of shared band keys, found elsewhere (the group stage of a
    /// spread scan): the scan groups from them and holds no band keys.
    /// Not with a prior or a sink, which need the keys.
    pub groups: Option<&'a Grouping>,
    /// The band keys, kept elsewhere (the key files of a spread scan) and
    /// read one band at a time: the scan then holds no band keys (and
    /// takes prints without them). Not with a sink.
    pub band_keys: Option<&'a dyn BandKeys>,
}

/// [`scan`] with a cache, a prior and a sink of kept paragraphs
/// ([`Extras`]).
///
/// # Errors
///
/// As [`scan`]; also when the prior cannot be read, when the sink fails,
/// when a prior is given with [`Scope::Within`](crate::Scope::Within)
/// (whose verdicts never look outside a document), and when the sink
/// could not be given every kept paragraph (an input changed or could not
/// be read again between the passes).
pub fn scan_with(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    extras: Extras<'_>,
) -> Result<Report, Error> {
    let Extras {
        cache,
        prior,
        mut kept,
        groups,
        band_keys,
    } = extras;
    if prior.is_some() && config.scope() == crate::Scope::Within {
        return Err(Error::config(
            "a scan against an index compares across documents: --scope within does not apply",
        ));
    }
    if groups.is_some() && (prior.is_some() || kept.is_some()) {
        return Err(Error::config(
            "a scan given its candidate groups cannot check against an index or add to one: \
             the index needs the band keys, which such a scan does not hold",
        ));
    }
    if band_keys.is_some() && kept.is_some() {
        return Err(Error::config(
            "a scan reading its band keys from elsewhere cannot add to an index",
        ));
    }
    contain::check(config, options, prior)?;
    let collect = kept.is_some();
    let mut ctx = Context::new(inputs, config, options, prior, collect);
    let keys = match (groups, band_keys) {
        (Some(g), _) => Keys::Given(g),
        (None, Some(k)) => Keys::Read(k),
        (None, None) => Keys::Held,
    };
    ctx.keys = matches!(keys, Keys::Held);
    // Nothing reads the inputs a second time when the second pass verifies
    // from the scratch file, unless containment does.
    let reads_again =
        !(kept.is_some() && verifies_from_spill(options)) || options.containment.is_some();
    ctx.decoded = (options.scratch_dir.clone())
        .filter(|_| reads_again)
        .map(|dir| Mutex::new(Decoded::new(dir)));
    let mut clock = Stopwatch::new();
    let spill = match &kept {
        Some(sink) => Some(SpillWriter::new(sink.spill_dir())?),
        None => None,
    };
    let mut index = fingerprint_pass(&ctx, progress, cache, spill)?;
    if let Some(decoded) = &ctx.decoded {
        decoded
            .lock()
            .expect("only the reader thread takes it")
            .seal();
    }
    let spill = match index.spill.take() {
        Some(writer) => Some(writer.finish()?),
        None => None,
    };
    clock.lap("fingerprint");
    if let (Some(sink), Some(digests)) = (kept.as_mut(), ctx.digests.take()) {
        let digests = digests.into_inner().expect("the reader thread has ended");
        sink.inputs_read(&digests.into_digests())?;
    }
    let counted = match keys {
        Keys::Held => None,
        Keys::Given(g) => Some(g.slots_by_input()),
        Keys::Read(k) => Some(k.slots_by_input()),
    };
    if let Some(counted) = counted {
        let differs = (counted.iter().zip(&index.slots_by_input))
            .position(|(a, b)| a != b)
            .or((counted.len() != inputs.len()).then_some(0));
        if let Some(i) = differs {
            return Err(Error::index(format!(
                "the band keys or candidate groups given do not fit {}: they count {} \
                 fingerprinted paragraphs in it and it has {} (an input changed since the \
                 fingerprint stage, or they are of other inputs)",
                ctx.names.get(i).map_or("the inputs", |n| n),
                counted.get(i).copied().unwrap_or(0),
                index.slots_by_input.get(i).copied().unwrap_or(0),
            )));
        }
    }
    let bands = config.lsh().bands();
    let prefix = match prior {
        Some(prior) => Prefix::new(prior, &index.keys, bands, band_keys)?,
        None => Prefix::default(),
    };
    let plan = Plan::new(
        &mut index,
        &prefix,
        bands,
        config.scope(),
        config.threshold(),
        keys,
    )?;
    clock.lap("group");
    let verified = verify_pass(
        &ctx,
        &index,
        &plan,
        &prefix,
        kept.as_mut().map(|sink| &mut **sink as &mut dyn KeptSink),
        spill,
        progress,
    )?;
    if collect {
        let checked = (plan.checked - plan.batch) as usize;
        let expected = (index.fp_content.len() - checked) as u64 - verified.duplicates.len() as u64;
        if verified.stored != expected {
            return Err(Error::index(format!(
                "{} kept paragraphs could not be read again (an input changed or became \
                 unreadable during the scan), so the batch cannot be stored whole",
                expected.abs_diff(verified.stored)
            )));
        }
    }
    if let Some(sink) = kept {
        sink.rows_done()?;
    }
    let (batch, checked) = (plan.batch, plan.checked);
    drop((plan, prefix));
    clock.lap("verify");
    let contained = match &options.containment {
        Some(settings) => {
            let found = contain::contain_pass(
                &ctx, &mut index, &verified, batch, checked, settings, progress,
            )?;
            clock.lap("containment");
            Some(found)
        }
        None => None,
    };
    let mut report = build_report(&ctx, index, verified);
    if let Some((contained, diagnostics)) = contained {
        report.contained = contained;
        // An input the second pass could not read, or saw changed, is
        // reported once.
        let said = |e: &Error| e.to_string();
        let known: std::collections::HashSet<String> =
            report.diagnostics.iter().map(said).collect();
        report.diagnostics.extend(
            diagnostics
                .into_iter()
                .filter(|e| !known.contains(&said(e))),
        );
    }
    clock.lap("report");
    report.timings = clock.laps;
    Ok(report)
}

/// Whether the second pass of a scan that stores its kept paragraphs
/// verifies them with the tokens the first pass spilled for the index
/// rather than by reading the inputs again: when the report needs no text
/// of them ([`ScanOptions::snippets`]).
fn verifies_from_spill(options: &ScanOptions) -> bool {
    !options.snippets && !options.full_text
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
    prior: Option<&'a dyn Prior>,
    /// Whether kept paragraphs go to a sink: the first pass then keeps
    /// every paragraph's tokens, for the scratch file the second pass
    /// hands the sink from (`spill`).
    collect: bool,
    /// With containment on: how the first pass winnows paragraphs.
    winnow: Option<contain::Winnowing>,
    /// Whether the first pass keeps band keys (not when the candidate
    /// groups are given, or the keys are read from elsewhere).
    keys: bool,
    /// Whether the prints the first pass makes hold band keys (not those
    /// of a spread scan's stage files, whose keys go to key files).
    print_keys: bool,
    /// The decoded text of compressed inputs, kept by the first pass for
    /// the next ones ([`ScanOptions::scratch_dir`]); only the reader
    /// thread takes the lock.
    decoded: Option<Mutex<Decoded>>,
    /// When kept paragraphs go to a sink: each input's raw bytes digested
    /// as the first pass reads them, for [`KeptSink::inputs_read`]; only
    /// the reader thread takes the lock.
    digests: Option<Mutex<digest::Digests>>,
}

impl<'a> Context<'a> {
    fn new(
        inputs: &'a [Input],
        config: &'a Config,
        options: &'a ScanOptions,
        prior: Option<&'a dyn Prior>,
        collect: bool,
    ) -> Context<'a> {
        let fingerprinter = Fingerprinter::for_band_keys(config);
        Context {
            inputs,
            names: inputs.iter().map(|i| Arc::from(i.source.name())).collect(),
            config,
            options,
            allow: options.allowlist.bind(&fingerprinter),
            fingerprinter,
            prior,
            collect,
            winnow: options
                .containment
                .and_then(|c| contain::Winnowing::new(config, &c)),
            keys: true,
            print_keys: true,
            decoded: None,
            digests: collect.then(|| Mutex::new(digest::Digests::new(inputs.len()))),
        }
    }

    fn format(&self, input: InputId) -> Format {
        self.inputs[input].format
    }

    /// The blocks of input `input`, with raw bytes read reported to
    /// `progress` (and digested, when the scan takes [`Self::digests`]:
    /// the caller then ends the input's digest), and whether they are
    /// decoded from gzip or zstd.
    fn blocks<'s>(
        &'s self,
        input: InputId,
        progress: &'s dyn Progress,
    ) -> io::Result<(bool, crate::corpus::BoxedBlocks<'s>)> {
        let digests = self.digests.as_ref();
        if let Some(d) = digests {
            d.lock().expect("only the reader thread takes it").start();
        }
        let (compression, blocks) = self.inputs[input].decoded_blocks(
            self.config.paragraphs(),
            &self.options.fields,
            self.options.block_size,
            move |raw: &[u8]| {
                progress.advance(raw.len() as u64);
                if let Some(d) = digests {
                    d.lock()
                        .expect("only the reader thread takes it")
                        .update(raw);
                }
            },
        )?;
        Ok((
            compression != crate::corpus::compress::Compression::None,
            blocks,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::radix::{KeySlot, radix_sort_by_key, radix_sort_from, sort_distinct};
    use super::*;
    use crate::corpus::MemorySource;
    use crate::id::FingerprintId;
    use crate::report::snippet;
    use std::collections::BTreeMap;

    /// A sink hears once, after the last row and before the scan
    /// returns, that the rows are done (an index starts writing its last
    /// segment then, while the report is made).
    #[test]
    fn a_sink_hears_once_that_the_rows_are_done() {
        #[derive(Default)]
        struct Calls(Vec<&'static str>);
        impl KeptSink for Calls {
            fn kept(&mut self, _: prior::KeptParagraph<'_>) -> Result<(), Error> {
                self.0.push("kept");
                Ok(())
            }
            fn rows_done(&mut self) -> Result<(), Error> {
                self.0.push("done");
                Ok(())
            }
        }
        let text = "The harbour opened a new pier on Monday morning for the ferries.\n\n\
                    The mayor said the pier had cost less than the council feared.\n\n\
                    The harbour opened a new pier on Monday morning for the ferries.\n";
        let inputs = [Input::new(MemorySource::new("a.txt", text), Format::Text)];
        let mut calls = Calls::default();
        let extras = Extras {
            kept: Some(&mut calls),
            ..Extras::default()
        };
        let report = scan_with(
            &inputs,
            &Config::default(),
            &ScanOptions::default(),
            &Silent,
            extras,
        )
        .unwrap();
        let kept = report.summary.fingerprinted - report.summary.duplicate_paragraphs;
        assert_eq!(kept, 2, "two paragraphs kept, one duplicate");
        let mut expected = vec!["kept"; kept as usize];
        expected.push("done");
        assert_eq!(calls.0, expected);
    }

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

    /// A gzip WET file with a member per record, as Common Crawl's: the
    /// second pass reads the needed blocks' raw members by offset and the
    /// workers decode them (the input is opened once to seek, not read
    /// front to back again), and the report is the uncompressed file's. If
    /// the file changed between the passes, that is an error, not a panic.
    #[test]
    fn a_member_per_record_is_read_again_by_offset() {
        use std::io::Write;
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Counted {
            name: &'static str,
            bytes: Vec<u8>,
            again: Option<Vec<u8>>,
            opened: Arc<AtomicUsize>,
            seeked: Arc<AtomicUsize>,
        }
        impl crate::corpus::Source for Counted {
            fn name(&self) -> &str {
                self.name
            }
            fn open(&self) -> io::Result<Box<dyn io::Read + Send + '_>> {
                self.opened.fetch_add(1, Ordering::Relaxed);
                Ok(Box::new(&self.bytes[..]))
            }
            fn size_hint(&self) -> Option<u64> {
                Some(self.bytes.len() as u64)
            }
            fn open_seekable(&self) -> io::Result<Box<dyn crate::corpus::ReadSeek>> {
                self.seeked.fetch_add(1, Ordering::Relaxed);
                let bytes = self.again.as_ref().unwrap_or(&self.bytes);
                Ok(Box::new(io::Cursor::new(bytes.clone())))
            }
        }
        let lines = [
            "The harbour board voted to rebuild the old north pier before winter.",
            "Ferry services resumed on Monday after the storm closed the crossing.",
        ];
        let mut plain = String::new();
        let mut gz = Vec::new();
        for i in 0..60 {
            let body = format!(
                "Page {i} has a line of its own, number {i} of sixty pages here.\n{}\n",
                lines[i % 2]
            );
            let record = format!(
                "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://x/{i}\r\n\
                 Content-Length: {}\r\n\r\n{body}\r\n\r\n",
                body.len()
            );
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(record.as_bytes()).unwrap();
            gz.extend(e.finish().unwrap());
            plain.push_str(&record);
        }
        let options = ScanOptions {
            block_size: 1000,
            ..ScanOptions::default()
        };
        let config = Config::default();
        let (opened, seeked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let source = |again| Counted {
            name: "cc.warc.wet.gz",
            bytes: gz.clone(),
            again,
            opened: opened.clone(),
            seeked: seeked.clone(),
        };
        let packed = [Input::new(source(None), Format::Wet)];
        let expected = scan(
            &[Input::new(
                MemorySource::new("cc.warc.wet.gz", plain),
                Format::Wet,
            )],
            &config,
            &options,
            &Silent,
        )
        .unwrap();
        // Two workers: with one, the reader thread decodes (a second core).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let got = pool.install(|| scan(&packed, &config, &options, &Silent).unwrap());
        assert_eq!(got.clusters, expected.clusters);
        assert_eq!(got.summary, expected.summary);
        assert_eq!(got.summary.duplicate_paragraphs, 58);
        assert_eq!(opened.load(Ordering::Relaxed), 1, "read front to back once");
        assert_eq!(seeked.load(Ordering::Relaxed), 1, "then by offset");
        // One worker: front to back again.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = one.install(|| scan(&packed, &config, &options, &Silent).unwrap());
        assert_eq!(again.clusters, expected.clusters);
        assert_eq!(opened.load(Ordering::Relaxed), 3);
        assert_eq!(seeked.load(Ordering::Relaxed), 1);
        // With a scratch directory the first pass keeps the decoded text
        // and the second reads it back: the input is read once, and
        // nothing is left in the directory.
        let dir = tempfile::tempdir().unwrap();
        let scratch = ScanOptions {
            scratch_dir: Some(dir.path().to_path_buf()),
            ..options.clone()
        };
        for pool in [&pool, &one] {
            let before = (
                opened.load(Ordering::Relaxed),
                seeked.load(Ordering::Relaxed),
            );
            let kept = pool.install(|| scan(&packed, &config, &scratch, &Silent).unwrap());
            assert_eq!(kept.clusters, expected.clusters);
            assert_eq!(kept.passages, expected.passages);
            assert_eq!(kept.summary, expected.summary);
            let after = (
                opened.load(Ordering::Relaxed),
                seeked.load(Ordering::Relaxed),
            );
            assert_eq!((after.0 - before.0, after.1 - before.1), (1, 0));
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Cut short before the second reading.
        let changed = [Input::new(
            source(Some(gz[..gz.len() / 2].to_vec())),
            Format::Wet,
        )];
        let report = scan(&changed, &config, &options, &Silent).unwrap();
        assert!(
            report
                .diagnostics
                .iter()
                .any(|d| d.to_string().contains("cc.warc.wet.gz")),
            "{:?}",
            report.diagnostics
        );
    }

    proptest::proptest! {
        /// The fast path for simple ASCII text gives what collapsing word
        /// by word gives, whatever follows its first 73 bytes.
        #[test]
        fn snippets_of_simple_text_are_those_of_any_text(
            text in "[a-c \t\n\u{e9}]{0,90}|[a-z ]{60,90}|[a-b ]{70,75}[a-b \t\n\u{a0}\u{e9}]{0,6}"
        ) {
            let slow = {
                let mut words = text
                    .split_whitespace()
                    .flat_map(|w| std::iter::once(' ').chain(w.chars()))
                    .skip(1);
                let mut out: String = words.by_ref().take(72).collect();
                if words.next().is_some() {
                    out.truncate(out.trim_end().len());
                    out.push('…');
                }
                out
            };
            proptest::prop_assert_eq!(snippet(&text), slow);
        }
    }

    /// Paragraphs repeated within a block are fingerprinted once
    /// (`first_pass::Repeats`): an allowed line still counts as allowed
    /// every time, a line too short to fingerprint stays unfingerprinted,
    /// lines longer than the cache keeps and lines sharing a cache slot
    /// are fingerprinted as they are; the verdicts are those of the same
    /// lines each in an input of its own (a block of its own).
    #[test]
    fn repeated_paragraphs_in_a_block_keep_their_verdicts() {
        let allowed = "Share this article with your friends and family on every network";
        let long = format!(
            "{} end",
            "a long paragraph of many words that repeats ".repeat(8)
        );
        assert!(long.len() > 256);
        let mut lines: Vec<String> = Vec::new();
        for i in 0..300 {
            lines.push(match i % 5 {
                0 => allowed.to_owned(),
                1 => "Too short.".to_owned(),
                2 => "The ferry to Inish Mor was cancelled again on Friday morning.".to_owned(),
                3 => long.clone(),
                _ => format!("Distinct line number {i} about the harbour and the weather today."),
            });
        }
        let options = ScanOptions {
            allowlist: crate::allow::Allowlist::new(&[allowed], &[] as &[&str]).unwrap(),
            ..ScanOptions::default()
        };
        let config = Config::builder().min_words(3).build().unwrap();
        let one = [Input::new(
            MemorySource::new("one.txt", lines.join("\n")),
            Format::Text,
        )];
        let apart: Vec<Input> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Input::new(
                    MemorySource::new(format!("{i:03}.txt"), l.clone()),
                    Format::Text,
                )
            })
            .collect();
        let a = scan(&one, &config, &options, &Silent).unwrap();
        let b = scan(&apart, &config, &options, &Silent).unwrap();
        assert_eq!(a.summary.allowed, 60);
        assert_eq!(a.summary.fingerprinted, 300 - 60 - 60);
        assert_eq!(a.summary.duplicate_paragraphs, 59 + 59);
        for s in [&a.summary, &b.summary] {
            assert_eq!(s.paragraphs, 300);
        }
        assert_eq!(
            (
                a.summary.allowed,
                a.summary.fingerprinted,
                a.summary.duplicate_paragraphs
            ),
            (
                b.summary.allowed,
                b.summary.fingerprinted,
                b.summary.duplicate_paragraphs
            )
        );
        let lines_of = |r: &Report| -> Vec<(u64, Vec<u64>)> {
            r.clusters
                .iter()
                .map(|c| {
                    // The line in the one file, the file's number among
                    // the others: the same count either way.
                    let line = |m: &crate::report::Member| {
                        m.location.line + m.location.input.index() as u64
                    };
                    (
                        line(&c.kept),
                        c.duplicates.iter().map(|d| line(&d.member)).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(lines_of(&a), lines_of(&b));
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
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            (state >> 32) as u32
        };
        // 3,000 keys random in all four bytes, each shared by many slots.
        let keys: Vec<u32> = (0..3000).map(|_| next()).collect();
        let mut pairs: Vec<KeySlot> = FingerprintId::new(0)
            .span(200_000)
            .map(|i| (keys[next() as usize % keys.len()], i))
            .collect();
        let mut expect = pairs.clone();
        expect.sort_by_key(|p| p.0);
        // Sorted as read from a source and in place, large (radix on the
        // pool), small (radix in cache) and tiny (compared).
        for n in [pairs.len(), 30_000, 1000, 100] {
            let mut small = pairs[..n].to_vec();
            small.sort_by_key(|p| p.0);
            let mut out = Vec::new();
            radix_sort_from(|| pairs[..n].iter().copied(), &mut out);
            assert_eq!(out, small, "{n}");
            let mut in_place = pairs[..n].to_vec();
            radix_sort_by_key(&mut in_place, &mut Vec::new());
            assert_eq!(in_place, small, "{n}");
        }
        radix_sort_by_key(&mut pairs, &mut Vec::new());
        assert_eq!(pairs, expect);
        // Keys alone, sorted and their repeats dropped.
        let many: Vec<u32> = (0..50_000)
            .map(|i| keys[i * 7 % keys.len()] ^ (next() % 4))
            .collect();
        for n in [many.len(), 1000, 100, 0] {
            let mut want = many[..n].to_vec();
            want.sort_unstable();
            want.dedup();
            let mut keys = many[..n].to_vec();
            sort_distinct(&mut keys);
            assert_eq!(keys, want, "{n}");
        }
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

    /// Containment's fingerprints live in the prints: a scan from prints
    /// finds what a scan from the text does, and prints made without
    /// containment are not taken for a scan with it.
    #[test]
    fn containment_from_prints_is_containment_from_text() {
        let words = |from: usize, n: usize| -> String {
            (from..from + n)
                .map(|i| format!("w{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let quote = words(1000, 30);
        let long = format!("{} {quote} {}", words(0, 20), words(2000, 20));
        let text = format!("{long}\n{}\n{quote}\n{}\n", words(3000, 40), words(4000, 8));
        let inputs = [Input::new(MemorySource::new("a.txt", text), Format::Text)];
        let config = Config::default();
        let plain = ScanOptions::default();
        let containing = ScanOptions {
            containment: Some(containment::find::Settings::default()),
            ..ScanOptions::default()
        };
        let expected = scan(&inputs, &config, &containing, &Silent).unwrap();
        assert_eq!(expected.contained.len(), 1);
        assert_eq!(
            (
                expected.contained[0].short.line,
                expected.contained[0].long.line
            ),
            (3, 1)
        );
        let cache = Prints::default();
        scan_with_cache(&inputs, &config, &plain, &Silent, &cache).unwrap();
        for _ in 0..2 {
            let r = scan_with_cache(&inputs, &config, &containing, &Silent, &cache).unwrap();
            assert_eq!(r.contained, expected.contained);
        }
        // Too few words for one shingle: refused, not silently empty.
        let short = ScanOptions {
            containment: Some(containment::find::Settings {
                min_words: 4,
                ..containment::find::Settings::default()
            }),
            ..ScanOptions::default()
        };
        let e = scan(&inputs, &config, &short, &Silent).unwrap_err();
        assert!(
            e.to_string()
                .contains("5 words (one shingle) to 10000, not 4"),
            "{e}"
        );
    }

    /// An input that changes after the first pass is reported once, also
    /// when containment reads it a third time, and the changed paragraph
    /// is in no containment finding.
    #[test]
    fn a_changed_input_is_reported_once_with_containment() {
        struct Changing(std::sync::atomic::AtomicUsize);
        impl crate::corpus::Source for Changing {
            fn name(&self) -> &str {
                "changing.txt"
            }
            fn open(&self) -> io::Result<Box<dyn io::Read + Send + '_>> {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let words = |from: usize, k: usize| -> String {
                    (from..from + k)
                        .map(|i| format!("w{i}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let quote = words(1000, 30);
                let tail = words(2000, 10);
                // Two copies of a long paragraph holding the quote: both
                // passes read the first again, which has changed.
                let first = if n == 0 { words(0, 10) } else { words(500, 10) };
                let copy = words(0, 10);
                let text = format!("{first} {quote} {tail}\n{copy} {quote} {tail}\n{quote}\n");
                Ok(Box::new(io::Cursor::new(text.into_bytes())))
            }
        }
        let input = Input::new(Changing(0.into()), Format::Text);
        let options = ScanOptions {
            containment: Some(containment::find::Settings::default()),
            ..ScanOptions::default()
        };
        let r = scan(&[input], &Config::default(), &options, &Silent).unwrap();
        let changed = r
            .diagnostics
            .iter()
            .filter(|d| d.kind() == crate::ErrorKind::Changed)
            .count();
        assert_eq!(changed, 1, "{:?}", r.diagnostics);
        assert!(
            r.contained
                .iter()
                .all(|c| c.short.line != 1 && c.long.line != 1),
            "{:?}",
            r.contained
        );
    }

    /// Exact copies take their original's verdict: byte for byte equal
    /// ones without their shingles being made again, ones that differ in
    /// case or spacing (the same content hash) after their sets are
    /// compared; a copy of a duplicate repeats the same kept paragraph.
    #[test]
    fn copies_take_their_originals_verdict_whatever_their_bytes() {
        let text = "The harbour board voted on Tuesday to rebuild the old north pier\n\
                    The harbour board voted on Tuesday to rebuild the old north pier\n\
                    THE HARBOUR BOARD  voted on Tuesday to rebuild the old north pier\n\
                    The harbour board voted on Tuesday to rebuild the old north pier today\n\
                    The harbour board voted on Tuesday to rebuild the old north pier today\n";
        let input = Input::new(MemorySource::new("a.txt", text), Format::Text);
        let r = run(&[input]);
        let dups: Vec<(u64, u64, bool)> = r
            .clusters
            .iter()
            .flat_map(|c| {
                c.duplicates.iter().map(move |d| {
                    (
                        d.member.location.line,
                        c.kept.location.line,
                        d.similarity == crate::Similarity::IDENTICAL,
                    )
                })
            })
            .collect();
        assert_eq!(
            dups,
            [(2, 1, true), (3, 1, true), (4, 1, false), (5, 1, false)],
            "{:?}",
            r.clusters
        );
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    }

    /// An input that reads `first` the first time it is opened and
    /// `second` after.
    struct Flaky {
        name: &'static str,
        texts: [String; 2],
        opened: std::sync::atomic::AtomicBool,
    }

    impl Flaky {
        fn new(name: &'static str, first: &str, second: &str) -> Flaky {
            Flaky {
                name,
                texts: [first.to_string(), second.to_string()],
                opened: false.into(),
            }
        }
    }

    impl crate::corpus::Source for Flaky {
        fn name(&self) -> &str {
            self.name
        }
        fn open(&self) -> io::Result<Box<dyn io::Read + Send + '_>> {
            let again = self.opened.swap(true, std::sync::atomic::Ordering::SeqCst);
            Ok(Box::new(self.texts[usize::from(again)].as_bytes()))
        }
    }

    /// A scan whose input read differently the second time: it says so,
    /// and takes nothing of it for a duplicate.
    fn changed_and_nothing_found(r: &Report) {
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.kind() == crate::ErrorKind::Changed),
            "{:?}",
            r.diagnostics
        );
        assert_eq!(r.summary.duplicate_paragraphs, 0);
    }

    /// An input that reads differently the second time is reported, not
    /// silently mis-attributed.
    #[test]
    fn changed_input_is_reported() {
        let flaky = Flaky::new(
            "flaky.txt",
            "a line that repeats itself here\na line that repeats itself here\n",
            "a line that repeats itself here\nanother line entirely, it seems\n",
        );
        let r = run(&[Input::new(flaky, Format::Text)]);
        changed_and_nothing_found(&r);
    }

    /// An exact copy of an indexed paragraph is read again without its
    /// shingles, yet an input whose copy reads differently the second time
    /// is reported, and nothing of it is taken for that paragraph's copy.
    #[test]
    fn changed_copy_of_an_indexed_paragraph_is_reported() {
        use super::prior::MemoryPrior;
        const OLD: &str = "The ferry to Inish Mor was cancelled again on Friday morning.";
        let (config, options) = (Config::default(), ScanOptions::default());
        let mut history = MemoryPrior::default();
        let monday = [Input::new(
            MemorySource::new("mon.txt", format!("{OLD}\n")),
            Format::Text,
        )];
        let mut sink = history.batch();
        let extras = Extras {
            kept: Some(&mut sink),
            ..Extras::default()
        };
        scan_with(&monday, &config, &options, &Silent, extras).unwrap();
        let against = |input: Input| {
            let extras = Extras {
                prior: Some(&history),
                ..Extras::default()
            };
            scan_with(&[input], &config, &options, &Silent, extras).unwrap()
        };
        // Read the same both times: a copy of Monday's paragraph.
        let same = against(Input::new(
            MemorySource::new("tue.txt", format!("{OLD}\n")),
            Format::Text,
        ));
        assert_eq!(same.summary.duplicate_paragraphs, 1);
        assert_eq!(same.clusters[0].kept.location.path.as_ref(), "mon.txt");
        assert!(same.diagnostics.is_empty(), "{:?}", same.diagnostics);
        let flaky = Flaky::new(
            "tue.txt",
            &format!("{OLD}\n"),
            "A different line stands where the copy was this time.\n",
        );
        let r = against(Input::new(flaky, Format::Text));
        changed_and_nothing_found(&r);
    }
}
