//! The persistent index: every batch's kept paragraphs, so that each new
//! batch (today's scrape) is checked against everything kept before
//! without reading it again.
//!
//! An index is a directory of immutable segment files and one manifest per
//! generation ([`dir`], the tantivy/Lucene pattern): adding a batch scans
//! it against the index and itself ([`crate::pipeline::scan_with`] with
//! the index as its [`Prior`]), writes the batch's kept paragraphs as new
//! segments ([`segment`]) and commits a new generation. The verdicts are
//! those of one scan of every batch in order: an index stores only kept
//! paragraphs, and the no-chaining rule only ever compares with kept
//! paragraphs, so nothing is lost; every comparison is the exact Jaccard
//! similarity of shingle sets computed again from the stored token hashes,
//! never an estimate.
//!
//! Every file is versioned and checksummed ([`file`](mod@file)); an index made with
//! other settings ([`Settings`]) is refused, naming the setting.
//!
//! # Example
//!
//! ```
//! use neardup::corpus::{Format, Input, MemorySource};
//! use neardup::index::{self, AddOptions, Index};
//! use neardup::pipeline::prior::Prior;
//! use neardup::pipeline::{scan_with, Extras, ScanOptions, Silent};
//! use neardup::Config;
//!
//! let dir = std::env::temp_dir().join(format!("neardup-doc-{}", std::process::id()));
//! let (config, options) = (Config::default(), ScanOptions::default());
//! let day = |name: &str, text: &str| vec![Input::new(MemorySource::new(name, text), Format::Text)];
//! index::create(&dir, &config, &options, None)?;
//! let monday = day("mon.txt", "The ferry to Inish Mor was cancelled again on Friday morning.\n");
//! let add = AddOptions { name: Some("monday".into()), created: 0, force: false, skip_bad_records: false };
//! index::add(&dir, &monday, &config, &options, &Silent, &add)?;
//!
//! let index = Index::open(&dir)?;
//! let tuesday = day("tue.txt", "The ferry to Inish Mor was cancelled again on Friday morning!\n");
//! let extras = Extras { prior: Some(&index as &dyn Prior), ..Extras::default() };
//! let report = scan_with(&tuesday, &config, &options, &Silent, extras)?;
//! let kept = &report.clusters[0].kept.location;
//! assert_eq!((kept.path.as_ref(), kept.batch.as_deref()), ("mon.txt", Some("monday")));
//! # drop(index);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), neardup::Error>(())
//! ```

pub mod dir;
pub mod file;
mod maintain;
pub mod manifest;
pub mod packed;
pub mod segment;
mod settings;
mod time;
pub mod tokens;
pub mod wanted;

pub use maintain::{
    BatchSelection, Changes, Compacted, DropPlan, Dropped, SegmentFate, compact, compact_with,
    drop_batches, drop_batches_with, rollback,
};
pub use settings::Settings;
pub use time::{parse_age, parse_utc_time, utc_time};

use crate::corpus::Input;
use crate::hash::Xxh3Stream;
use crate::pipeline::prior::{
    InputDigest, KeptParagraph, KeptSink, Prior, PriorParagraph, PriorVariant, VariantParagraph,
};
use crate::pipeline::{Extras, Progress, ScanOptions, scan_with};
use crate::report::{Location, Report};
use crate::{Config, Error, ErrorKind, Fingerprinter, Similarity};
use dir::{Snapshot, Writer};
use manifest::{Batch, Manifest};
use rayon::prelude::*;
use segment::{Segment, SegmentBuilder};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use wanted::Wanted;

/// An index opened for reading: its newest generation when opened, which
/// it keeps reading while a writer adds the next.
pub struct Index {
    snapshot: Snapshot,
    settings: Settings,
    segments: Vec<Segment>,
    /// The first row of each segment.
    bases: Vec<u64>,
    rows: u64,
    /// The row after each batch's last, and the batch's name.
    batch_ends: Vec<(u64, Arc<str>)>,
    bands: usize,
}

/// An indexed paragraph that shares a band key with a text
/// ([`Index::candidates`]).
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Its row: rows are numbered in the order the paragraphs were kept.
    pub row: u64,
    /// The bands whose key it shares with the text.
    pub bands: Vec<usize>,
    /// Its exact similarity to the text.
    pub similarity: Similarity,
    /// Its token hashes ([`crate::explain::explain_tokens`] takes them).
    pub tokens: Vec<u64>,
    /// Where it was found, with its batch.
    pub location: Location,
}

/// One batch of an index, as [`Index::batches`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    /// Its name.
    pub name: String,
    /// When it was added (seconds since the Unix epoch).
    pub created: i64,
    /// Its kept paragraphs.
    pub paragraphs: u64,
    /// Its variants: near-duplicates kept for containment only
    /// ([`crate::pipeline::prior::Prior::variants`]).
    pub variants: u64,
}

/// One segment file of an index, as [`Index::segment_files`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Its file name in the index's directory.
    pub name: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// Its rows: kept paragraphs and variants.
    pub rows: u64,
    /// Its variants.
    pub variants: u64,
    /// Its segment version: `index compact` rewrites one older than
    /// [`segment::SEGMENT_VERSION`].
    pub version: u32,
}

impl Index {
    /// Opens the index in `dir`.
    ///
    /// # Errors
    ///
    /// `dir` is not an index, or a file of it is missing, damaged or of a
    /// later version.
    pub fn open(dir: &Path) -> Result<Index, Error> {
        Index::from_snapshot(Snapshot::open(dir)?)
    }

    fn from_snapshot(mut snapshot: Snapshot) -> Result<Index, Error> {
        let settings = Settings::decode(&snapshot.manifest().settings)
            .map_err(|e| Error::index(format!("{}: {}", snapshot.dir().display(), e.message())))?;
        let bands: usize = settings
            .pairs()
            .find(|(k, _)| *k == "bands")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| Error::index("the index's settings name no band count"))?;
        let window = winnowing_of(&settings)?.map(|w| w.window as u64);
        let files = snapshot.take_files();
        let (mut segments, mut bases, mut rows, mut docs) = (Vec::new(), Vec::new(), 0u64, 0u32);
        for file in files {
            let segment = Segment::open(file, docs)?;
            if segment.bands() != bands {
                return Err(Error::index(format!(
                    "index segment {} has {} bands, the index {bands}: it is damaged",
                    segment.path().display(),
                    segment.bands()
                )));
            }
            if segment.window() != window {
                let says = |w: Option<u64>| match w {
                    Some(w) => format!("containment fingerprints of window {w}"),
                    None => "no containment fingerprints".to_owned(),
                };
                return Err(Error::index(format!(
                    "index segment {} has {}, the index's settings say {}: it is damaged",
                    segment.path().display(),
                    says(segment.window()),
                    says(window)
                )));
            }
            bases.push(rows);
            rows += segment.rows;
            docs = u32::try_from(u64::from(docs) + segment.docs)
                .map_err(|_| Error::limit("more than 4,294,967,295 documents in an index"))?;
            segments.push(segment);
        }
        let mut batch_ends = Vec::new();
        let mut end = 0u64;
        for batch in &snapshot.manifest().batches {
            end = end.saturating_add(batch.paragraphs);
            batch_ends.push((end, Arc::from(batch.name.as_str())));
        }
        if end != rows {
            return Err(Error::index(format!(
                "{}: the batches should hold {end} paragraphs, the segments hold {rows}: \
                 the index is damaged",
                snapshot.dir().display(),
            )));
        }
        Ok(Index {
            snapshot,
            settings,
            segments,
            bases,
            rows,
            batch_ends,
            bands,
        })
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The generation opened.
    pub fn generation(&self) -> u64 {
        self.snapshot.manifest().generation
    }

    /// The kept paragraphs it holds (its variants, kept for containment
    /// only, are [`variant_count`](Self::variant_count)).
    pub fn paragraphs(&self) -> u64 {
        self.rows - self.variant_count()
    }

    /// The variants it holds: near-duplicates whose text differs from
    /// their kept paragraph's, kept without band keys so that a quote of
    /// one is found ([`Prior::variants`]).
    pub fn variant_count(&self) -> u64 {
        self.segments.iter().map(|s| s.variants).sum()
    }

    /// The bytes of its segment files.
    pub fn bytes(&self) -> u64 {
        self.manifest().segments.iter().map(|f| f.len).sum()
    }

    /// Its segment files.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Its segment files in row order: name, bytes, rows and version.
    pub fn segment_files(&self) -> Vec<SegmentInfo> {
        (self.segments.iter())
            .zip(&self.manifest().segments)
            .map(|(s, f)| SegmentInfo {
                name: f.name.clone(),
                bytes: f.len,
                rows: s.rows,
                variants: s.variants,
                version: s.version(),
            })
            .collect()
    }

    fn manifest(&self) -> &Manifest {
        self.snapshot.manifest()
    }

    /// Its batches, oldest first.
    ///
    /// # Errors
    ///
    /// Reading a segment's variants failed.
    pub fn batches(&self) -> Result<Vec<BatchInfo>, Error> {
        let variants = self.variants()?;
        let mut at = 0;
        Ok(self
            .manifest()
            .batches
            .iter()
            .zip(&self.batch_ends)
            .map(|(b, (end, _))| {
                let from = at;
                at += variants[at..].partition_point(|v| v.row < *end);
                let variants = (at - from) as u64;
                BatchInfo {
                    name: b.name.clone(),
                    created: b.created,
                    paragraphs: b.paragraphs - variants,
                    variants,
                }
            })
            .collect())
    }

    /// Checks every checksum of every file, and that every table is in
    /// order and in bounds (each band table sorted and naming each row
    /// once, every token and string number in range). A scan also checks
    /// each indexed paragraph it uses: its tokens must give its content
    /// hash.
    ///
    /// # Errors
    ///
    /// The first problem, naming its file.
    pub fn verify(&self) -> Result<(), Error> {
        (self.segments.par_iter())
            .zip(&self.bases)
            .try_for_each(|(s, &base)| s.verify(base))?;
        // A variant names an earlier row that is not a variant.
        let variants = self.variants()?;
        let rows: ahash::AHashSet<u64> = variants.iter().map(|v| v.row).collect();
        match variants
            .iter()
            .find(|v| v.kept >= v.row || rows.contains(&v.kept))
        {
            Some(v) => Err(Error::index(format!(
                "{}: variant row {} names row {} as its kept paragraph, which is not an earlier \
                 kept row: the index is damaged",
                self.snapshot.dir().display(),
                v.row,
                v.kept
            ))),
            None => Ok(()),
        }
    }

    /// The indexed paragraphs that share a band key with `text`, earliest
    /// first, each with the bands it shares and its exact similarity to
    /// `text`: what a scan of `text` against the index compares it with
    /// (the earliest of them at or above the threshold is the one a scan
    /// reports, unless an earlier paragraph of the scan's own inputs
    /// matches first). Empty when `text` is too short to be fingerprinted.
    /// `fp` must have the index's settings ([`Settings::check`]).
    ///
    /// # Errors
    ///
    /// Reading the index failed (a damaged segment is named).
    pub fn candidates(&self, fp: &Fingerprinter, text: &str) -> Result<Vec<Candidate>, Error> {
        let mut scratch = crate::fingerprint::Scratch::default();
        let mut tokens = Vec::new();
        let Some((set, _)) = fp.tokens_with(text, &mut scratch, &mut tokens) else {
            return Ok(Vec::new());
        };
        let keys = fp.band_keys_of_set(&set, &mut scratch);
        let mut bands_of: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
        for (band, &key) in keys.iter().enumerate() {
            for (_, row) in self.matches(band, &[key])? {
                bands_of.entry(row).or_default().push(band);
            }
        }
        bands_of
            .into_iter()
            .map(|(row, bands)| {
                let p = self.paragraph(row)?;
                let (other, _) = fp.set_of_tokens(&p.tokens);
                Ok(Candidate {
                    row,
                    bands,
                    similarity: set.jaccard(&other),
                    tokens: p.tokens,
                    location: p.location,
                })
            })
            .collect()
    }

    /// `find` run on every segment in parallel, each `(key, row)` it
    /// hands over numbered across the index as it is found (a batch that
    /// repeats a large index finds millions).
    fn in_every_segment<K: Send + Copy>(
        &self,
        find: impl Fn(&Segment, &mut dyn FnMut(K, u32)) -> Result<(), Error> + Sync,
    ) -> Result<Vec<(K, u64)>, Error> {
        let per_segment: Vec<Vec<(K, u64)>> = self
            .segments
            .par_iter()
            .zip(&self.bases)
            .map(|(s, &base)| {
                let mut out = Vec::new();
                find(s, &mut |k, r| out.push((k, base + u64::from(r))))?;
                Ok(out)
            })
            .collect::<Result<_, Error>>()?;
        Ok(per_segment.concat())
    }

    /// The name of the batch that added `row`.
    fn batch_of(&self, row: u64) -> Option<Arc<str>> {
        let batch = self.batch_ends.partition_point(|(end, _)| *end <= row);
        self.batch_ends.get(batch).map(|(_, name)| name.clone())
    }

    /// How its segments select containment fingerprints, if they do.
    fn winnowing(&self) -> Result<Option<segment::Winnowing>, Error> {
        winnowing_of(&self.settings)
    }

    /// The indexed paragraphs that share a containment fingerprint with
    /// `text` (an index made with them, [`create`]'s `containment_words`),
    /// earliest first, each with the containment of the shorter of the
    /// two (by distinct shingles) in the other: what `scan --against
    /// --containment` verifies `text` with. Empty when the index keeps no
    /// containment fingerprints or `text` has fewer words than they are
    /// selected for. `fp` must have the index's settings.
    ///
    /// # Errors
    ///
    /// Reading the index failed (a damaged segment is named).
    pub fn containment_candidates(
        &self,
        fp: &Fingerprinter,
        text: &str,
    ) -> Result<Vec<(Candidate, crate::containment::Containment)>, Error> {
        let Some(w) = self.winnowing()? else {
            return Ok(Vec::new());
        };
        let mut scratch = crate::fingerprint::Scratch::default();
        let Some((sequence, _, words)) = fp.shingles_in_order(text, &mut scratch) else {
            return Ok(Vec::new());
        };
        if words < w.min_words {
            return Ok(Vec::new());
        }
        let mut fps: Vec<u64> = crate::containment::winnow(&sequence, w.window)
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        fps.sort_unstable();
        fps.dedup();
        let mut rows: Vec<u64> = self
            .winnowed(&fps, usize::MAX - 1)?
            .into_iter()
            .map(|(_, row)| row)
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let set = crate::shingle::ShingleSet::from_vec(sequence);
        rows.into_iter()
            .map(|row| {
                let p = self.paragraph(row)?;
                let (other, _) = fp.set_of_tokens(&p.tokens);
                let (short, long) = if other.len() < set.len() {
                    (&other, &set)
                } else {
                    (&set, &other)
                };
                let candidate = Candidate {
                    row,
                    bands: Vec::new(),
                    similarity: set.jaccard(&other),
                    tokens: p.tokens,
                    location: p.location,
                };
                Ok((candidate, crate::containment::containment(short, long)))
            })
            .collect()
    }

    /// Hands `each` the runs of `rows` that fall in one segment, in
    /// order: the segment, the run's rows within it and across the index.
    fn by_segment(
        &self,
        rows: &[u64],
        mut each: impl FnMut(&Segment, &[u32], &[u64]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut local = Vec::new();
        let mut rest = rows;
        while let Some(&row) = rest.first() {
            let (s, at) = self.locate(row)?;
            let base = row - u64::from(at);
            let end = rest
                .iter()
                .position(|&r| r < base || r - base >= s.rows)
                .unwrap_or(rest.len());
            local.clear();
            local.extend(rest[..end].iter().map(|&r| (r - base) as u32));
            each(s, &local, &rest[..end])?;
            rest = &rest[end..];
        }
        Ok(())
    }

    fn locate(&self, row: u64) -> Result<(&Segment, u32), Error> {
        let i = self.bases.partition_point(|&b| b <= row);
        match i
            .checked_sub(1)
            .map(|i| (&self.segments[i], row - self.bases[i]))
        {
            Some((s, local)) if local < s.rows => Ok((s, local as u32)),
            _ => Err(Error::index(format!("no row {row} in the index"))),
        }
    }
}

/// Refuses containment fingerprints for quotes shorter than a shingle,
/// which winnowing cannot guarantee to find.
fn check_containment_words(shingle_size: usize, words: Option<usize>) -> Result<(), Error> {
    match words {
        Some(w) if segment::Winnowing::new(shingle_size, w).is_none() => {
            Err(Error::config(format!(
                "containment fingerprints are for quotes of {shingle_size} words (one shingle) \
                 to {}, not {w}",
                crate::containment::MAX_WORDS
            )))
        }
        _ => Ok(()),
    }
}

/// The containment fingerprints an index of `settings` keeps.
fn winnowing_of(settings: &Settings) -> Result<Option<segment::Winnowing>, Error> {
    let Some(words) = settings.containment_words() else {
        return Ok(None);
    };
    let shingle_size: usize = settings
        .value("shingle_size")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::index("the index's settings name no shingle size"))?;
    segment::Winnowing::new(shingle_size, words)
        .map(Some)
        .ok_or_else(|| {
            Error::index(format!(
                "the index's containment_words={words} is shorter than one shingle: it is damaged"
            ))
        })
}

impl Prior for Index {
    fn rows(&self) -> u64 {
        self.rows
    }

    fn matches(&self, band: usize, keys: &[u32]) -> Result<Vec<(u32, u64)>, Error> {
        // One bitmap of the keys for all the segments, and the segments in
        // turn: the scan asks for every band at once, in parallel, so the
        // threads have work enough; one thread's table reads reuse one
        // buffer (a fresh one faulted in hundreds of megabytes of pages
        // for a large batch against a large index) and the pairs go into
        // one list, not one per segment then joined.
        let wanted = Wanted::new(keys.iter().map(|&k| u64::from(k)).collect());
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        for (s, &base) in self.segments.iter().zip(&self.bases) {
            s.matches_with(band, &wanted, &mut buf, |k, r| {
                out.push((k, base + u64::from(r)));
            })?;
        }
        Ok(out)
    }

    fn content(&self, row: u64) -> Result<u64, Error> {
        let (s, r) = self.locate(row)?;
        s.content(r)
    }

    fn contents(&self, rows: &[u64]) -> Result<Vec<u64>, Error> {
        let mut out = Vec::with_capacity(rows.len());
        self.by_segment(rows, |s, local, _| {
            out.extend(s.contents(local)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn paragraph(&self, row: u64) -> Result<PriorParagraph, Error> {
        let (s, r) = self.locate(row)?;
        let mut p = s.paragraph(r)?;
        p.location.batch = self.batch_of(row);
        Ok(p)
    }

    fn location(&self, row: u64) -> Result<Location, Error> {
        let (s, r) = self.locate(row)?;
        let mut location = s.location(r)?;
        location.batch = self.batch_of(row);
        Ok(location)
    }

    fn locations(&self, rows: &[u64]) -> Result<Vec<Location>, Error> {
        let mut out = Vec::with_capacity(rows.len());
        self.by_segment(rows, |s, local, rows| {
            let found = s.locations(local)?.into_iter().zip(rows);
            out.extend(found.map(|(mut location, &row)| {
                location.batch = self.batch_of(row);
                location
            }));
            Ok(())
        })?;
        Ok(out)
    }

    fn containment_words(&self) -> Option<usize> {
        self.settings.containment_words()
    }

    fn winnowed(&self, fps: &[u64], limit: usize) -> Result<Vec<(u64, u64)>, Error> {
        self.in_every_segment(|s, found| {
            for (fp, row) in s.winnowed(fps, limit)? {
                found(fp, row);
            }
            Ok(())
        })
    }

    fn variants(&self) -> Result<Vec<PriorVariant>, Error> {
        let mut out = Vec::new();
        for (s, &base) in self.segments.iter().zip(&self.bases) {
            out.extend(
                s.variant_rows(base)?
                    .into_iter()
                    .map(|(row, content, kept)| PriorVariant {
                        row: base + u64::from(row),
                        content,
                        kept,
                    }),
            );
        }
        Ok(out)
    }

    fn variants_winnowed(&self, fps: &[u64], limit: usize) -> Result<Vec<(u64, u64)>, Error> {
        self.in_every_segment(|s, found| {
            for (fp, row) in s.variants_winnowed(fps, limit)? {
                found(fp, row);
            }
            Ok(())
        })
    }
}

/// Makes a new, empty index in `dir` for `config` and `options`; with
/// `containment_words`, one that keeps containment fingerprints, so that
/// scans with [`ScanOptions::containment`] of that many words find quotes
/// of its paragraphs (about 60 bytes more per paragraph of news prose at
/// 25 words). `dir` may hold what a create that did not finish left (an
/// index of no batch): it is made again. Returns whether it made the
/// directory, for [`remove_new`].
///
/// # Errors
///
/// `dir` exists and holds anything else, the settings cannot have an
/// index ([`Settings::of`]), `containment_words` is shorter than one
/// shingle, or writing failed.
pub fn create(
    dir: &Path,
    config: &Config,
    options: &ScanOptions,
    containment_words: Option<usize>,
) -> Result<bool, Error> {
    check_containment_words(config.shingle_size(), containment_words)?;
    let settings = Settings::of(config, options)?.with_containment(containment_words);
    dir::create(dir, settings.as_bytes())
}

/// The newest generation of the index in `dir`, as its number and its
/// manifest's checksum: what a result computed against the index is
/// valid for (a stage directory's findings name it, so that a clean after
/// the index changed does not use them).
///
/// # Errors
///
/// `dir` is not an index, or its newest manifest does not open.
pub fn newest_generation(dir: &Path) -> Result<(u64, u64), Error> {
    dir::newest(dir)
}

/// Removes what [`create`] made in `dir`, after its first batch failed:
/// the index's files, and the directory too if `made_dir` ([`create`]
/// made it) and nothing else is in it.
pub fn remove_new(dir: &Path, made_dir: bool) {
    dir::remove_new(dir, made_dir);
}

/// How [`add`] adds a batch.
#[derive(Clone, Debug)]
pub struct AddOptions {
    /// The batch's name, unique in the index; `None` names it by its
    /// creation time (`2026-12-03T06:00:00Z`, with `-2`, `-3` ... after
    /// it if a batch of that second exists).
    pub name: Option<String>,
    /// When it is added (seconds since the Unix epoch), as recorded.
    pub created: i64,
    /// Add inputs whose bytes were added before.
    pub force: bool,
    /// Add the batch although some of its records are malformed (they
    /// are skipped, as a scan skips them).
    pub skip_bad_records: bool,
}

/// What [`add`] did.
#[derive(Debug)]
pub struct Added {
    /// The scan of the batch against the index and itself.
    pub report: Report,
    /// The batch's name.
    pub batch: String,
    /// Its paragraphs stored: those the scan kept.
    pub stored: u64,
    /// Its duplicates of paragraphs of earlier batches.
    pub against_index: u64,
    /// The paragraphs the index holds now.
    pub total_paragraphs: u64,
    /// Its batches now.
    pub batches: usize,
    /// The generation committed.
    pub generation: u64,
}

/// Scans `inputs` against the index in `dir` and themselves, then adds
/// their kept paragraphs as a new batch, in one crash-safe commit:
/// [`prepare`] then [`Pending::commit`].
///
/// # Errors
///
/// As [`prepare`] and [`Pending::commit`]; the index is then unchanged.
pub fn add(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    add: &AddOptions,
) -> Result<Added, Error> {
    prepare(dir, inputs, config, options, progress, add)?.commit()
}

/// A batch scanned and written, not yet committed: what `clean --add`
/// holds while it writes the cleaned corpus, so that the batch goes into
/// the index only if the cleaning succeeded. Dropped without
/// [`commit`](Pending::commit), it leaves the index as it was (its
/// segment files are removed by the next writer) and releases the lock.
pub struct Pending {
    writer: Writer,
    /// The index as it was, still held: its files stay while the batch is
    /// pending.
    _index: Index,
    manifest: Manifest,
    added: Added,
    /// Why the batch may not be committed, if it may not.
    refusal: Option<Error>,
}

impl Pending {
    /// What the add found and will store.
    pub fn added(&self) -> &Added {
        &self.added
    }

    /// The scan's report, to change before it is shown (e.g. malformed
    /// records made warnings).
    pub fn report_mut(&mut self) -> &mut Report {
        &mut self.added.report
    }

    /// Commits the batch as the index's next generation.
    ///
    /// # Errors
    ///
    /// The batch's inputs had problems (an unreadable input, or malformed
    /// records without [`AddOptions::skip_bad_records`]): nothing is
    /// added; or writing the manifest failed: the index is unchanged.
    pub fn commit(self) -> Result<Added, Error> {
        if let Some(refusal) = self.refusal {
            return Err(refusal);
        }
        self.writer.commit(&self.manifest)?;
        Ok(self.added)
    }
}

/// Scans `inputs` against the index in `dir` and themselves and writes
/// their kept paragraphs as new segment files, holding the index's writer
/// lock; [`Pending::commit`] makes them the index's next generation.
///
/// # Errors
///
/// The index is locked by another writer, does not open, has other
/// settings, already has a batch of that name or (without `force`) of the
/// same inputs; or writing a segment failed.
pub fn prepare(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    add: &AddOptions,
) -> Result<Pending, Error> {
    let run_settings = Settings::of(config, options)?;
    let (mut writer, snapshot) = Writer::open(dir)?;
    let index = Index::from_snapshot(snapshot)?;
    index
        .settings
        .check(&run_settings)
        .map_err(|e| Error::index(format!("{}: {}", dir.display(), e.message())))?;
    let batches = &index.manifest().batches;
    let taken = |name: &str| batches.iter().any(|b| b.name == name);
    if let Some(name) = &add.name {
        check_batch_name(name).map_err(|e| Error::index(format!("{}: {e}", dir.display())))?;
    }
    let name = match &add.name {
        Some(name) if taken(name) => {
            return Err(Error::index(format!(
                "{}: a batch named {name:?} exists: give the new one another name (--name)",
                dir.display(),
            )));
        }
        Some(name) => name.clone(),
        None => {
            let base = utc_time(add.created);
            let mut name = base.clone();
            for n in 2.. {
                if !taken(&name) {
                    break;
                }
                name = format!("{base}-{n}");
            }
            name
        }
    };
    let generation = index.generation() + 1;
    let bands = config.lsh().bands();
    let dir = writer.dir().to_owned();
    let mut builder = SegmentBuilder::new(bands, index.rows(), || writer.new_file(generation))
        .winnowing(index.winnowing()?)
        .spilling_in(&dir);
    let mut adding = Adding {
        builder: &mut builder,
        inputs,
        batches,
        force: add.force,
        dir: &dir,
        digest: None,
    };
    let extras = Extras {
        prior: Some(&index),
        kept: Some(&mut adding),
        cache: None,
        groups: None,
        band_keys: None,
    };
    let report = scan_with(inputs, config, options, progress, extras)?;
    let digest = match adding.digest {
        Some(digest) => digest,
        None => batch_digest(inputs, &[])?.0,
    };
    let variants = builder.variants();
    let files = builder.finish()?;
    let problems: Vec<&Error> = report
        .diagnostics
        .iter()
        .filter(|d| {
            let skipped = add.skip_bad_records && d.kind() == ErrorKind::Record;
            !(d.is_warning() || skipped)
        })
        .collect();
    let refusal = problems.first().map(|first| {
        Error::index(format!(
            "{}: the batch was not added: {} problem(s) with its inputs, the first: {first}{}",
            dir.display(),
            problems.len(),
            if first.kind() == ErrorKind::Record {
                " (--skip-bad-records adds the batch without the malformed records)"
            } else {
                ""
            }
        ))
    });
    let rows: u64 = files.iter().map(|(_, rows)| rows).sum();
    let stored = rows - variants;
    let mut manifest = index.manifest().clone();
    manifest.generation = generation;
    manifest.parent = Some(index.generation());
    manifest.batches.push(Batch {
        name: name.clone(),
        created: add.created,
        digest,
        paragraphs: rows,
    });
    manifest
        .segments
        .extend(files.into_iter().map(|(info, _)| info));
    let against_index = report
        .clusters
        .iter()
        .filter(|c| c.kept.location.batch.is_some())
        .map(|c| c.duplicates.len() as u64)
        .sum();
    let added = Added {
        report,
        batch: name,
        stored,
        against_index,
        total_paragraphs: index.paragraphs() + stored,
        batches: manifest.batches.len(),
        generation,
    };
    Ok(Pending {
        writer,
        _index: index,
        manifest,
        added,
        refusal,
    })
}

/// Whether `name` may name a batch: it is shown in reports, `index info`
/// and terminals, and typed back to `index drop`, so it is not empty, has
/// no control characters (a newline, a terminal escape) and is at most
/// 200 bytes.
fn check_batch_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        Err("a batch name must not be empty or blank (--name)".to_owned())
    } else if name.chars().any(char::is_control) {
        Err(format!(
            "a batch name must not hold control characters (newlines, escapes): {name:?}"
        ))
    } else if name.len() > 200 {
        Err(format!(
            "a batch name must not be longer than 200 bytes: this one has {}",
            name.len()
        ))
    } else {
        Ok(())
    }
}

/// The segment builder as an add's sink: between the scan's passes it
/// takes the batch's digest and refuses inputs added before (unless
/// forced), so that a refused batch is read once, not scanned whole.
struct Adding<'b> {
    builder: &'b mut dyn KeptSink,
    inputs: &'b [Input],
    batches: &'b [Batch],
    force: bool,
    dir: &'b Path,
    digest: Option<u64>,
}

impl KeptSink for Adding<'_> {
    fn kept(&mut self, paragraph: KeptParagraph<'_>) -> Result<(), Error> {
        self.builder.kept(paragraph)
    }

    fn variant(&mut self, paragraph: VariantParagraph<'_>) -> Result<bool, Error> {
        self.builder.variant(paragraph)
    }

    fn spill_dir(&self) -> Option<&Path> {
        self.builder.spill_dir()
    }

    fn rows_done(&mut self) -> Result<(), Error> {
        self.builder.rows_done()
    }

    fn inputs_read(&mut self, digests: &[Option<InputDigest>]) -> Result<(), Error> {
        let (digest, bytes) = batch_digest(self.inputs, digests)?;
        // Inputs of no bytes (a day with nothing scraped) store nothing,
        // however often they come: they are no batch added before.
        if !self.force
            && bytes > 0
            && let Some(b) = self.batches.iter().find(|b| b.digest == digest)
        {
            return Err(Error::index(format!(
                "{}: these inputs were added before, as batch {:?}; give --force to add them \
                 again (nothing is stored twice: their paragraphs are duplicates of that \
                 batch's)",
                self.dir.display(),
                b.name
            )));
        }
        self.digest = Some(digest);
        Ok(())
    }
}

/// The digest a batch is known by (`docs/index-format.md`), of its
/// inputs' bytes, not their names: per input in order, its byte count and
/// the XXH3-64 of its bytes, streamed through XXH3-64; and the bytes.
/// `read` gives the inputs the first pass digested; the others are read
/// here.
fn batch_digest(inputs: &[Input], read: &[Option<InputDigest>]) -> Result<(u64, u64), Error> {
    let mut all = Xxh3Stream::new(0);
    let mut bytes = 0u64;
    for (i, input) in inputs.iter().enumerate() {
        let one = match read.get(i).copied().flatten() {
            Some(one) => one,
            None => input_digest(input)?,
        };
        all.update(&one.len.to_le_bytes());
        all.update(&one.xxh3.to_le_bytes());
        bytes = bytes.saturating_add(one.len);
    }
    Ok((all.digest(), bytes))
}

/// One input's bytes read from its source and digested.
fn input_digest(input: &Input) -> Result<InputDigest, Error> {
    let name = input.source.name();
    let mut r = input.source.open().map_err(|e| Error::io(name, e))?;
    let mut one = Xxh3Stream::new(0);
    let mut len = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(name, e)),
        };
        one.update(&buf[..n]);
        len += n as u64;
    }
    Ok(InputDigest {
        len,
        xxh3: one.digest(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Format, MemorySource};
    use crate::pipeline::Silent;
    use std::io::Write;

    /// Records what the scan hands [`KeptSink::inputs_read`].
    #[derive(Default)]
    struct Digested(Option<Vec<Option<InputDigest>>>);

    impl KeptSink for Digested {
        fn kept(&mut self, _: KeptParagraph<'_>) -> Result<(), Error> {
            Ok(())
        }

        fn inputs_read(&mut self, digests: &[Option<InputDigest>]) -> Result<(), Error> {
            self.0 = Some(digests.to_vec());
            Ok(())
        }
    }

    /// The digests the first pass takes on the way are those of reading
    /// each input alone: plain, gzip, zstd, empty, and a file larger than
    /// one read; so a batch's digest does not depend on who took it.
    #[test]
    fn the_first_pass_digests_each_input_as_read_alone() {
        let text: String = (0..40_000)
            .map(|i| {
                format!(
                    "Paragraph {i} of the harbour report, with the {} pier.\n",
                    i % 7
                )
            })
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(text.as_bytes(), 1).unwrap();
        let jsonl = "{\"text\": \"one two three four five six seven\"}\n";
        let inputs = [
            Input::new(MemorySource::new("a.txt", text.as_bytes()), Format::Text),
            Input::new(MemorySource::new("b.txt.gz", gz), Format::Text),
            Input::new(MemorySource::new("c.txt.zst", zst), Format::Text),
            Input::new(MemorySource::new("d.txt", ""), Format::Text),
            Input::new(MemorySource::new("e.jsonl", jsonl), Format::Jsonl),
        ];
        let mut sink = Digested::default();
        let extras = Extras {
            kept: Some(&mut sink),
            ..Extras::default()
        };
        let options = ScanOptions::default();
        scan_with(&inputs, &Config::default(), &options, &Silent, extras).unwrap();
        let taken = sink.0.expect("the scan gave the sink its inputs' digests");
        let alone: Vec<_> = inputs.iter().map(|i| input_digest(i).unwrap()).collect();
        assert_eq!(taken, alone.iter().copied().map(Some).collect::<Vec<_>>());
        assert_eq!(alone[0].len, text.len() as u64);
        assert_eq!(
            batch_digest(&inputs, &taken).unwrap(),
            batch_digest(&inputs, &[]).unwrap()
        );
    }

    /// Day `n`: 60 records of one 24-word paragraph each; every tenth
    /// repeats one of the day before's with its last word changed (a
    /// duplicate of an indexed paragraph at similarity 19/21).
    fn day(n: u64) -> Vec<Input> {
        let words_of = |day: u64, record: u64| -> Vec<String> {
            let mut state = (day * 1_000 + record + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            (0..24)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    format!("w{}", state % 500)
                })
                .collect()
        };
        let mut text = String::new();
        for record in 0..60 {
            let words = if record % 10 == 3 && n > 0 {
                // The day before's next record, which is its own.
                let mut words = words_of(n - 1, record + 1);
                words[23] = format!("changed{n}");
                words
            } else {
                words_of(n, record)
            };
            text.push_str(&format!("{{\"text\": \"{}\"}}\n", words.join(" ")));
        }
        let name = format!("day{n}.jsonl");
        vec![Input::new(MemorySource::new(&name, text), Format::Jsonl)]
    }

    /// Adds [`day`] `n` to the index in `dir` as batch `day<n>`, with the
    /// default settings.
    fn add_day(dir: &Path, n: u64) {
        let add_options = AddOptions {
            name: Some(format!("day{n}")),
            created: 0,
            force: false,
            skip_bad_records: false,
        };
        let (config, options) = (Config::default(), ScanOptions::default());
        add(dir, &day(n), &config, &options, &Silent, &add_options).unwrap();
    }

    /// An index of days `0..days` ([`add_day`]) compacted into segments
    /// of 2,500 tokens, each batch about 1,300: batches share segments
    /// and segments batches.
    fn compacted_days(days: u64) -> (tempfile::TempDir, std::path::PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("i.ndx");
        let (config, options) = (Config::default(), ScanOptions::default());
        create(&dir, &config, &options, None).unwrap();
        for n in 0..days {
            add_day(&dir, n);
        }
        compact_with(&dir, Changes::default(), 2_500).unwrap();
        (tmp, dir)
    }

    /// Rows read together (`contents`, `locations`) are the rows read one
    /// at a time, in the order asked, whatever the order: ascending runs
    /// close together, far apart, across segments, within a compacted
    /// segment holding several batches, descending, repeated; a row past
    /// the end is an error.
    #[test]
    fn rows_read_together_are_rows_read_alone() {
        let (_tmp, dir) = compacted_days(4);
        let index = Index::open(&dir).unwrap();
        assert!(index.segments() > 1);
        let rows = index.rows();
        let every = |step: usize| (0..rows).step_by(step).collect::<Vec<u64>>();
        let lists = [
            every(1),
            every(3),
            every(40),
            (0..rows).rev().collect(),
            vec![rows - 1, 0, 0, 1, rows / 2, rows / 2 + 1, 5],
            vec![],
        ];
        for list in lists {
            let contents: Vec<u64> = list.iter().map(|&r| index.content(r).unwrap()).collect();
            assert_eq!(index.contents(&list).unwrap(), contents, "{list:?}");
            let places: Vec<Location> = list.iter().map(|&r| index.location(r).unwrap()).collect();
            assert_eq!(index.locations(&list).unwrap(), places, "{list:?}");
        }
        let batches: std::collections::BTreeSet<_> = index
            .locations(&every(1))
            .unwrap()
            .into_iter()
            .map(|l| l.batch)
            .collect();
        assert_eq!(batches.len(), 4, "{batches:?}");
        assert!(index.contents(&[0, rows]).is_err());
        assert!(index.locations(&[rows - 1, rows]).is_err());
    }

    /// Drops batch `name` from the index in `dir` and checks what is
    /// left: the other rows in order, with their contents and places;
    /// each variant with its row's and its kept paragraph's new numbers,
    /// or gone with its kept paragraph; every segment the drop says it
    /// kept is a file of the old generation. Returns what the drop did
    /// and the variants that went with their kept paragraphs.
    fn drop_and_check(dir: &Path, name: &str) -> (Dropped, usize) {
        let place = |l: &Location| {
            let Location {
                path,
                doc,
                line,
                start,
                end,
                batch,
                ..
            } = l.clone();
            (path, doc, line, start, end, batch)
        };
        let rows_of = |index: &Index| {
            let all: Vec<u64> = (0..index.rows()).collect();
            let contents = index.contents(&all).unwrap();
            let places = index.locations(&all).unwrap();
            contents
                .into_iter()
                .zip(places.iter().map(place))
                .collect::<Vec<_>>()
        };
        let old = Index::open(dir).unwrap();
        let (old_rows, old_variants) = (rows_of(&old), old.variants().unwrap());
        let old_segments = old.manifest().segments.clone();
        let dropped = |r: u64| old_rows[r as usize].1.5.as_deref() == Some(name);
        let variant_of: std::collections::HashMap<u64, u64> =
            old_variants.iter().map(|v| (v.row, v.kept)).collect();
        // The rows left: not the batch's, and no variant of the batch's.
        let left: Vec<u64> = (0..old.rows())
            .filter(|&r| !dropped(r) && !variant_of.get(&r).is_some_and(|&k| dropped(k)))
            .collect();
        let new_row = |r: u64| left.binary_search(&r).unwrap() as u64;
        let batches = old.manifest().batches.len();
        let which = BatchSelection {
            names: vec![name.into()],
            ..BatchSelection::default()
        };
        let plan = old.drop_plan(&which).unwrap();
        drop(old);
        let done = drop_batches_with(dir, &which, 2_500).unwrap();
        // The plan says what the drop did.
        assert_eq!(plan.segments(SegmentFate::Stays).0, done.kept);
        let removed = plan.segments(SegmentFate::Removed).0;
        let rewritten = plan.segments(SegmentFate::Rewritten).0;
        assert_eq!(done.kept + removed + rewritten, done.segments.0);
        let index = Index::open(dir).unwrap();
        index.verify().unwrap();
        assert_eq!(done.left, batches - 1);
        assert_eq!(
            done.paragraphs + done.variants,
            old_rows.len() as u64 - left.len() as u64
        );
        let orphans = old_variants
            .iter()
            .filter(|v| !dropped(v.row) && dropped(v.kept))
            .count();
        assert_eq!(plan.orphans.iter().sum::<u64>(), orphans as u64);
        let expected: Vec<_> = left.iter().map(|&r| old_rows[r as usize].clone()).collect();
        assert_eq!(rows_of(&index), expected);
        let expected: Vec<PriorVariant> = old_variants
            .iter()
            .filter(|v| left.binary_search(&v.row).is_ok())
            .map(|v| PriorVariant {
                row: new_row(v.row),
                content: v.content,
                kept: new_row(v.kept),
            })
            .collect();
        assert!(expected.iter().all(|v| v.kept < v.row));
        assert_eq!(index.variants().unwrap(), expected);
        let new_segments = &index.manifest().segments;
        let kept = new_segments
            .iter()
            .filter(|s| old_segments.contains(s))
            .count();
        assert_eq!(kept, done.kept);
        (done, orphans)
    }

    /// Dropping a batch from segments that hold several batches: the
    /// segments before the first row dropped stay as they are, the rest
    /// are rewritten.
    #[test]
    fn dropping_a_batch_keeps_the_other_rows_and_renumbers_the_variants() {
        // Day 2 shares its segment with days 1 and 3.
        let (_tmp, dir) = compacted_days(5);
        let old_segments = Index::open(&dir).unwrap().manifest().segments.clone();
        let (done, orphans) = drop_and_check(&dir, "day2");
        // Day 3's 6 variants of day 2's paragraphs go with it.
        assert_eq!(orphans, 6);
        // Days 1 and 4 have variants of kept paragraphs, day 4's
        // renumbered.
        assert_eq!(Index::open(&dir).unwrap().variants().unwrap().len(), 12);
        // The first segment holds days 0 and 1: it stays.
        assert_eq!(done.kept, 1);
        let index = Index::open(&dir).unwrap();
        assert_eq!(index.manifest().segments[0], old_segments[0]);
    }

    /// Dropping a batch keeps as they are the segments after it that lose
    /// no row and whose variants' kept paragraphs stay as far back, their
    /// rows renumbered by their place. Each day here holds variants of the
    /// day before's paragraphs, but for day 100, which repeats no day.
    #[test]
    fn dropping_the_oldest_batch_rewrites_only_what_names_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("i.ndx");
        let (config, options) = (Config::default(), ScanOptions::default());
        create(&dir, &config, &options, None).unwrap();
        for n in [0, 1, 2, 3, 4, 5, 100, 101] {
            add_day(&dir, n);
        }
        let segments = || Index::open(&dir).unwrap().manifest().segments.clone();
        let before = segments();
        assert_eq!(before.len(), 8);
        let (done, orphans) = drop_and_check(&dir, "day0");
        // Day 1 loses its variants of day 0's paragraphs, which are
        // between day 2's variants and the day 1 paragraphs they name:
        // days 1 and 2 are rewritten (into two segments of 2,500 tokens),
        // the rest stay.
        assert_eq!(orphans, 6);
        assert_eq!((done.segments, done.kept), ((8, 7), 5));
        let after = segments();
        assert_eq!(after[2..], before[3..]);
        assert!(!before.contains(&after[0]) && !before.contains(&after[1]));
        // Day 5 goes: the segments before it stay, and so do days 100
        // and 101 after it (day 101's variants name day 100's rows, with
        // nothing dropped between).
        let before = after;
        let (done, orphans) = drop_and_check(&dir, "day5");
        assert_eq!(orphans, 0);
        assert_eq!((done.segments, done.kept), ((7, 6), 6));
        let after = segments();
        assert_eq!(after[..4], before[..4]);
        assert_eq!(after[4..], before[5..]);
        // Scans against it still find repeats of the newest day.
        let index = Index::open(&dir).unwrap();
        let extras = Extras {
            prior: Some(&index as &dyn Prior),
            ..Extras::default()
        };
        let report = scan_with(&day(102), &config, &options, &Silent, extras).unwrap();
        assert!(report.summary.duplicate_paragraphs > 0);
    }

    /// A compaction keeps the full segments at the front as they are (the
    /// same files, named again by the new generation) and rewrites the
    /// rest; the verdicts against the index stay the same; compacting
    /// again has nothing to do and commits nothing; other containment
    /// settings rewrite every segment.
    #[test]
    fn compaction_keeps_the_full_segments_at_the_front() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("i.ndx");
        let (config, options) = (Config::default(), ScanOptions::default());
        create(&dir, &config, &options, None).unwrap();
        let add_day = |n: u64| add_day(&dir, n);
        // Day n repeats day n - 1, the last one indexed.
        let query = |n: u64| {
            let index = Index::open(&dir).unwrap();
            let extras = Extras {
                prior: Some(&index as &dyn Prior),
                ..Extras::default()
            };
            let report = scan_with(&day(n), &config, &options, &Silent, extras).unwrap();
            assert!(report.summary.duplicate_paragraphs > 0);
            format!("{:?}", report.clusters)
        };
        let segments = || Index::open(&dir).unwrap().manifest().segments.clone();
        for n in 0..3 {
            add_day(n);
        }
        assert_eq!(segments().len(), 3);
        let before = query(3);
        // About 3 x 1,300 tokens into segments of 2,500: a full one and a
        // partial one.
        let limit = 2_500;
        let done = compact_with(&dir, Changes::default(), limit).unwrap();
        assert_eq!((done.segments, done.kept), ((3, 2), 0));
        assert_eq!(query(3), before);
        add_day(3);
        let three = segments();
        assert_eq!(three.len(), 3);
        let before = query(4);
        let done = compact_with(&dir, Changes::default(), limit).unwrap();
        // The full segment stays; the partial one and the new day's are
        // rewritten.
        assert_eq!(done.kept, 1);
        let after = segments();
        assert_eq!(after[0], three[0]);
        assert!(after.len() > 1 && after[1..].iter().all(|s| !three.contains(s)));
        assert_eq!(query(4), before);
        assert_eq!(Index::open(&dir).unwrap().generation(), done.generation);
        // Only a partial last segment is left after full ones: nothing to
        // do, and no generation committed.
        let again = compact_with(&dir, Changes::default(), limit).unwrap();
        assert!(again.unchanged(), "{again:?}");
        assert_eq!(again.generation, done.generation);
        assert_eq!(segments(), after);
        // Containment fingerprints change every segment.
        let containment = Changes {
            containment_words: Some(Some(25)),
            ..Changes::default()
        };
        let all = compact_with(&dir, containment, limit).unwrap();
        assert_eq!(all.kept, 0);
        assert!(segments().iter().all(|s| !after.contains(s)));
        assert_eq!(query(4), before);
    }

    /// A new banding computes every kept row's band keys again from its
    /// tokens: where both bandings keep the same paragraphs (these days),
    /// the index is then the one adding the same days with that banding
    /// makes (the same keys row by row, the same settings and verdicts),
    /// whatever its segments; the same banding again has nothing to do,
    /// and one the signature cannot hold is refused.
    #[test]
    fn a_new_banding_gives_the_keys_an_index_made_with_it_has() {
        let options = ScanOptions::default();
        let made = |config: &Config| {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("i.ndx");
            create(&dir, config, &options, None).unwrap();
            for n in 0..4 {
                let add_options = AddOptions {
                    name: Some(format!("day{n}")),
                    created: 0,
                    force: false,
                    skip_bad_records: false,
                };
                add(&dir, &day(n), config, &options, &Silent, &add_options).unwrap();
            }
            (tmp, dir)
        };
        let wide = Config::default();
        let narrow = Config::builder().for_index().build().unwrap();
        assert_ne!(wide.lsh(), narrow.lsh());
        let (_wide_tmp, rebanded) = made(&wide);
        let (_narrow_tmp, fresh) = made(&narrow);
        let keys = |dir: &Path| {
            let index = Index::open(dir).unwrap();
            let all: Vec<u32> = (index.segments.iter())
                .flat_map(|s| s.keys_by_row().unwrap())
                .collect();
            (index.settings().clone(), all)
        };
        let before = keys(&rebanded);
        let to_narrow = Changes {
            banding: Some((narrow.lsh().bands(), narrow.lsh().rows())),
            ..Changes::default()
        };
        let done = compact_with(&rebanded, to_narrow, 2_500).unwrap();
        assert_eq!(done.kept, 0);
        assert!(done.bytes.1 < done.bytes.0, "{done:?}");
        assert_ne!(keys(&rebanded), before);
        assert_eq!(keys(&rebanded), keys(&fresh));
        let query = |dir: &Path| {
            let index = Index::open(dir).unwrap();
            let extras = Extras {
                prior: Some(&index as &dyn Prior),
                ..Extras::default()
            };
            let report = scan_with(&day(4), &narrow, &options, &Silent, extras).unwrap();
            assert!(report.summary.duplicate_paragraphs > 0);
            format!("{:?}", report.clusters)
        };
        assert_eq!(query(&rebanded), query(&fresh));
        let again = compact_with(&rebanded, to_narrow, 2_500).unwrap();
        assert!(again.unchanged(), "{again:?}");
        let too_many = Changes {
            banding: Some((100, 5)),
            ..Changes::default()
        };
        let err = compact_with(&rebanded, too_many, 2_500).unwrap_err();
        assert!(err.to_string().contains("signature values"), "{err}");
    }
}
