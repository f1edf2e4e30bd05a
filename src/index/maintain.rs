//! Looking after an index's generations: [`compact`] rewrites its
//! segments as few full ones, [`drop_batches`] removes old batches (a
//! daily index otherwise only grows), [`rollback`] returns to the
//! generation before. Each is one crash-safe commit of a new generation
//! ([`super::dir::Writer`]), so each can be rolled back, and none changes
//! a verdict it does not mean to: compacting changes no verdict; dropping
//! a batch changes only those against its paragraphs.
//!
//! Rows are numbered across the index in the order their paragraphs were
//! kept, and a variant (a near-duplicate kept for containment) names its
//! kept paragraph's row. Rewriting keeps the rows' order, so compacting
//! renumbers nothing; dropping renumbers the rows after the first one
//! dropped, and a variant whose kept paragraph is dropped goes with it
//! (it was a duplicate of a paragraph the index no longer holds, removed
//! from its own batch's cleaned text, so it is no longer published
//! either).
//!
//! # Example
//!
//! ```
//! use neardup::corpus::{Format, Input, MemorySource};
//! use neardup::index::{self, AddOptions, BatchSelection, Index};
//! use neardup::pipeline::{ScanOptions, Silent};
//! use neardup::Config;
//!
//! let dir = std::env::temp_dir().join(format!("neardup-drop-doc-{}", std::process::id()));
//! let (config, options) = (Config::default(), ScanOptions::default());
//! index::create(&dir, &config, &options, None)?;
//! for (day, text) in [("monday", "The ferry to Inish Mor was cancelled again.\n"),
//!                     ("tuesday", "The council will vote on the harbour budget on Friday.\n")] {
//!     let input = vec![Input::new(MemorySource::new(day, text), Format::Text)];
//!     let add = AddOptions { name: Some(day.into()), created: 0, force: false, skip_bad_records: false };
//!     index::add(&dir, &input, &config, &options, &Silent, &add)?;
//! }
//! let which = BatchSelection { names: vec!["monday".into()], ..BatchSelection::default() };
//! let dropped = index::drop_batches(&dir, &which)?;
//! assert_eq!((dropped.batches, dropped.paragraphs), (vec!["monday".to_owned()], 1));
//! let index = Index::open(&dir)?;
//! let names: Vec<String> = index.batches()?.into_iter().map(|b| b.name).collect();
//! assert_eq!(names, ["tuesday"]);
//! # drop(index);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), neardup::Error>(())
//! ```

use super::dir::Writer;
use super::file::FileInfo;
use super::manifest::Manifest;
use super::segment::{self, Segment, SegmentBuilder};
use super::{BatchInfo, Index, check_containment_words, winnowing_of};
use crate::Error;
use crate::pipeline::prior::{KeptParagraph, KeptSink, VariantParagraph};
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;

/// What a compaction changes besides how the rows are cut into segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Which containment fingerprints the index keeps: `Some(Some(n))`
    /// selects them for quotes of `n` words (adding them to an index
    /// without), `Some(None)` drops them, `None` keeps what it has.
    pub containment_words: Option<Option<usize>>,
    /// A new banding, `(bands, rows)`: every kept paragraph's band keys are
    /// computed again from its tokens, as a scan with that banding
    /// computes them from its text. `None` keeps the index's.
    pub banding: Option<(usize, usize)>,
}

/// What [`compact`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// Segment files before and after.
    pub segments: (usize, usize),
    /// Their bytes before and after.
    pub bytes: (u64, u64),
    /// How many of the segments before are still there as they were
    /// (the full ones at the front).
    pub kept: usize,
    /// The generation committed, or the index's own when there was
    /// nothing to do.
    pub generation: u64,
}

impl Compacted {
    /// Whether nothing was rewritten (and no generation committed).
    pub fn unchanged(&self) -> bool {
        self.kept == self.segments.0 && self.segments.0 == self.segments.1
    }
}

/// Rewrites the index's segments as few, full ones (each up to
/// [`segment::SEGMENT_TOKENS`] tokens), as a new generation: the batches,
/// their paragraphs in order and every verdict against the index stay as
/// they were; a query reads fewer files. The old segments stay until no
/// kept generation names them, so `rollback` can undo a compaction too.
///
/// Only what would change is rewritten: the full segments of the current
/// version at the front (an add or a compaction leaves every segment it
/// writes full but its last) stay as they are, named again by the new
/// generation, and the rest is rewritten from the first other one on
/// (rows keep their order, so a partial segment can only be merged with
/// what follows it). When that rest is a single segment of
/// the current version, or nothing, there is nothing to do: no
/// generation is committed. With other containment settings or another
/// banding ([`Changes`]) every segment is rewritten.
///
/// A new banding gives every kept paragraph the band keys that banding
/// gives it, computed from its tokens (band keys depend only on a
/// paragraph's shingles), so that an index made with 25 bands takes 18
/// at 0.8, a sixth smaller, without its batches' text. Which paragraphs
/// it keeps stays what each batch's scan decided with the banding of its
/// day (a fresh index with fewer bands may keep a few more: pairs near
/// the threshold that more bands found). A banding too weak for the
/// guarantee at the threshold is the caller's choice, as it is for
/// `index create`.
///
/// # Errors
///
/// The index is locked or does not open, a segment is damaged,
/// `containment_words` is shorter than one shingle, the banding needs more
/// signature values than the index has, or writing failed (the index is
/// then unchanged).
pub fn compact(dir: &Path, changes: Changes) -> Result<Compacted, Error> {
    compact_with(dir, changes, segment::SEGMENT_TOKENS)
}

/// [`compact`] into segments of `segment_tokens` tokens (a segment is
/// cut at the first document boundary past them), and keeping as they are
/// the segments at the front that hold at least that many.
///
/// # Errors
///
/// As [`compact`].
pub fn compact_with(
    dir: &Path,
    changes: Changes,
    segment_tokens: usize,
) -> Result<Compacted, Error> {
    let (mut writer, snapshot) = Writer::open(dir)?;
    let index = Index::from_snapshot(snapshot)?;
    let generation = index.generation() + 1;
    let settings = match changes.containment_words {
        Some(words) => {
            let shingle_size = index
                .settings
                .value("shingle_size")
                .and_then(|v| v.parse().ok());
            check_containment_words(shingle_size.unwrap_or(1), words)?;
            index.settings.with_containment(words)
        }
        None => index.settings.clone(),
    };
    // Another banding: the keys of every kept row again, from its tokens.
    let made = index.settings.config()?;
    let (settings, rekey) = match changes.banding {
        Some((bands, rows)) if (bands, rows) != (made.lsh().bands(), made.lsh().rows()) => {
            crate::lsh::LshParams::new(bands, rows, made.num_perm())?;
            let settings = settings.with_banding(bands, rows);
            let fingerprinter = crate::Fingerprinter::for_band_keys(&settings.config()?);
            (settings, Some(fingerprinter))
        }
        _ => (settings, None),
    };
    let bands = rekey
        .as_ref()
        .map_or(index.bands, |f| f.config().lsh().bands());
    // The full segments of the current version at the front are kept as
    // they are (their rows stay first, in order); a damaged one is not
    // full, and is then read (and named) below.
    let same = settings.as_bytes() == index.settings.as_bytes();
    let keep = if same {
        (index.segments.par_iter())
            .position_first(|s| !s.is_full_and_current(segment_tokens).unwrap_or(false))
            .unwrap_or(index.segments.len())
    } else {
        0
    };
    let rest = &index.segments[keep..];
    if same && rest.len() <= 1 && rest.iter().all(Segment::is_current) {
        return Ok(Compacted {
            segments: (index.segments.len(), index.segments.len()),
            bytes: (index.bytes(), index.bytes()),
            kept: index.segments.len(),
            generation: index.generation(),
        });
    }
    let first_row = index.bases.get(keep).copied().unwrap_or(index.rows);
    let mut builder = SegmentBuilder::with_limit(bands, segment_tokens, first_row, || {
        writer.new_file(generation)
    })
    .winnowing(winnowing_of(&settings)?);
    for ((block, segment), &base) in (0u64..).zip(rest).zip(&index.bases[keep..]) {
        let keys = match &rekey {
            Some(fingerprinter) => keys_from_tokens(segment, base, fingerprinter)?,
            None => segment.keys_by_row()?,
        };
        let mut variants = segment.variant_rows(base)?.into_iter().peekable();
        segment.for_each_row(block, |row, content, tokens, location| {
            match variants.next_if(|v| v.0 == row) {
                Some((_, content, kept)) => {
                    builder.variant(VariantParagraph {
                        content,
                        kept,
                        tokens,
                        location,
                    })?;
                }
                None => {
                    let at = row as usize * bands;
                    builder.kept(KeptParagraph {
                        content,
                        keys: &keys[at..at + bands],
                        tokens,
                        location,
                    })?
                }
            }
            Ok(())
        })?;
    }
    let files = builder.finish()?;
    let mut manifest = index.manifest().clone();
    manifest.generation = generation;
    manifest.parent = Some(index.generation());
    manifest.settings = settings.as_bytes().to_vec();
    manifest.segments.truncate(keep);
    manifest
        .segments
        .extend(files.into_iter().map(|(info, _)| info));
    let done = Compacted {
        segments: (index.segments.len(), manifest.segments.len()),
        bytes: (index.bytes(), manifest.segments.iter().map(|f| f.len).sum()),
        kept: keep,
        generation,
    };
    drop(index);
    writer.commit(&manifest)?;
    Ok(done)
}

/// The band keys of `segment`'s rows under `fingerprinter`'s banding, row
/// by row (a variant's are zeros: it has none), from their tokens.
fn keys_from_tokens(
    segment: &Segment,
    base: u64,
    fingerprinter: &crate::Fingerprinter,
) -> Result<Vec<u32>, Error> {
    let bands = fingerprinter.config().lsh().bands();
    let variants: std::collections::BTreeSet<u32> = segment
        .variant_rows(base)?
        .into_iter()
        .map(|v| v.0)
        .collect();
    // The tokens first (a segment reads its rows in order), then the keys
    // on every core.
    let mut rows: Vec<Option<Vec<u64>>> = Vec::new();
    segment.for_each_row(0, |row, _, tokens, _| {
        rows.push((!variants.contains(&row)).then(|| tokens.to_vec()));
        Ok(())
    })?;
    let mut keys = vec![0u32; rows.len() * bands];
    keys.par_chunks_mut(bands)
        .zip(rows.par_iter())
        .for_each_init(
            crate::fingerprint::Scratch::default,
            |scratch, (out, tokens)| {
                if let Some(tokens) = tokens {
                    let (set, _) = fingerprinter.set_of_tokens(tokens);
                    out.copy_from_slice(&fingerprinter.band_keys_of_set(&set, scratch));
                }
            },
        );
    Ok(keys)
}

/// Returns the index in `dir` to the batches of the generation before its
/// newest (undoing the last add), as a new generation.
///
/// # Errors
///
/// The index is locked or does not open, the newest generation is the
/// first, or its parent is no longer kept.
pub fn rollback(dir: &Path) -> Result<u64, Error> {
    let (writer, snapshot) = Writer::open(dir)?;
    let current = snapshot.manifest();
    let parent = current.parent.ok_or_else(|| {
        Error::index(format!(
            "{}: nothing to roll back: generation {} is the first",
            dir.display(),
            current.generation
        ))
    })?;
    let restored = super::dir::batches_of(dir, parent)?;
    let manifest = Manifest {
        generation: current.generation + 1,
        parent: restored.parent,
        settings: restored.settings,
        batches: restored.batches,
        segments: restored.segments,
    };
    // The restored generation's files are still there: a manifest kept
    // names them, and cleanup removes only what no manifest names.
    drop(Index::from_snapshot(snapshot)?);
    writer.commit(&manifest)?;
    Ok(manifest.generation)
}

/// Which batches [`drop_batches`] drops: those named, those added before
/// a time, and all but the newest few.
///
/// # Example
///
/// ```
/// use neardup::index::BatchSelection;
///
/// let batches = [("mon", 100), ("tue", 200), ("wed", 300), ("thu", 400)];
/// let which = BatchSelection { names: vec!["wed".into()], before: Some(150), keep: None };
/// assert_eq!(which.choose(batches), [true, false, true, false]);
/// // Keep the newest two: the older ones go, whatever their names.
/// let which = BatchSelection { keep: Some(2), ..BatchSelection::default() };
/// assert_eq!(which.choose(batches), [true, true, false, false]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchSelection {
    /// Batch names: each must name a batch of the index.
    pub names: Vec<String>,
    /// Also every batch added before this time (seconds since the Unix
    /// epoch): `--before 2026-09-01` keeps the last three months.
    pub before: Option<i64>,
    /// Also every batch but the newest `keep`, newest by the order they
    /// were added (a rolling window of `keep` daily batches). `Some(0)`
    /// selects every batch (the command line and Python refuse 0, a
    /// likelier slip than a wish).
    pub keep: Option<usize>,
}

impl BatchSelection {
    /// Whether it asks for nothing at all: no name, no time, no count.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.before.is_none() && self.keep.is_none()
    }

    /// Which of `batches` (name and time added, oldest first, as the
    /// index lists them) it selects.
    pub fn choose<'a>(&self, batches: impl IntoIterator<Item = (&'a str, i64)>) -> Vec<bool> {
        let batches: Vec<(&str, i64)> = batches.into_iter().collect();
        let older = self
            .keep
            .map_or(0, |keep| batches.len().saturating_sub(keep));
        (batches.iter().enumerate())
            .map(|(i, &(name, created))| {
                i < older
                    || self.names.iter().any(|n| n == name)
                    || self.before.is_some_and(|t| created < t)
            })
            .collect()
    }
}

impl Index {
    /// The batches `which` selects, oldest first: what
    /// [`drop_batches`] would drop.
    ///
    /// # Errors
    ///
    /// A name is no batch of the index, or a segment's variants cannot
    /// be read.
    pub fn selected(&self, which: &BatchSelection) -> Result<Vec<BatchInfo>, Error> {
        let dropping = self.dropping(which)?;
        Ok((self.batches()?.into_iter())
            .zip(dropping)
            .filter_map(|(b, dropped)| dropped.then_some(b))
            .collect())
    }

    /// Per batch, oldest first, whether `which` selects it, from the
    /// manifest alone.
    ///
    /// # Errors
    ///
    /// A name is no batch of the index.
    fn dropping(&self, which: &BatchSelection) -> Result<Vec<bool>, Error> {
        let batches = &self.manifest().batches;
        if let Some(name) = (which.names.iter()).find(|n| !batches.iter().any(|b| &b.name == *n)) {
            return Err(Error::index(format!(
                "{}: no batch is named {name:?} (`neardup index info` lists them)",
                self.snapshot.dir().display()
            )));
        }
        Ok(which.choose(batches.iter().map(|b| (b.name.as_str(), b.created))))
    }
}

/// What [`drop_batches`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The batches dropped, oldest first (none: nothing was committed).
    pub batches: Vec<String>,
    /// Their kept paragraphs.
    pub paragraphs: u64,
    /// The variants dropped: the dropped batches' own, and those of other
    /// batches whose kept paragraph was dropped.
    pub variants: u64,
    /// The batches left.
    pub left: usize,
    /// Segment files before and after.
    pub segments: (usize, usize),
    /// Their bytes before and after.
    pub bytes: (u64, u64),
    /// How many of the segments before are still there as they were: the
    /// ones before the first row dropped, and those after it with no row
    /// dropped whose variants' kept paragraphs stay as far back as they
    /// were (every one, when the oldest batches go and no later batch
    /// holds variants of their paragraphs).
    pub kept: usize,
    /// The generation committed, or the index's own when nothing was
    /// dropped.
    pub generation: u64,
}

/// Removes the batches `which` selects from the index in `dir`, as a new
/// generation: their paragraphs are no longer found by any scan against
/// the index, and every other batch's are, with the same verdicts (a
/// scan against the index is then as against one made of the other
/// batches, when none of those repeats a dropped one: what repeated a
/// dropped paragraph was never stored). `rollback` undoes it.
///
/// Segments wholly dropped are not read; the segments with no row
/// dropped stay as they are (their rows are renumbered by their place in
/// the new generation) unless a variant of theirs names a paragraph
/// dropped, or one that moves closer to it; the rest are rewritten (as
/// [`compact`] rewrites them). So dropping the oldest batch rewrites at
/// most the segment it shares with the next batch and those holding
/// variants of its paragraphs, not the index (segments before version 6
/// that hold variants are rewritten too: they name kept paragraphs by
/// row). When `which` selects no batch (no name is given, none was added
/// before `which.before`, and there are no more than `which.keep`),
/// nothing is committed.
///
/// # Errors
///
/// `which` names no batch and gives no time and no count, a name is not a
/// batch of the index, the index is locked or does not open, a segment
/// is damaged, or writing failed (the index is then unchanged).
pub fn drop_batches(dir: &Path, which: &BatchSelection) -> Result<Dropped, Error> {
    drop_batches_with(dir, which, segment::SEGMENT_TOKENS)
}

/// [`drop_batches`], writing segments of `segment_tokens` tokens.
///
/// # Errors
///
/// As [`drop_batches`].
pub fn drop_batches_with(
    dir: &Path,
    which: &BatchSelection,
    segment_tokens: usize,
) -> Result<Dropped, Error> {
    if which.is_empty() {
        return Err(Error::index(format!(
            "{}: name the batches to drop, give a time to drop those added before it, or a \
             count of the newest to keep (`neardup index info` lists them)",
            dir.display()
        )));
    }
    let (mut writer, snapshot) = Writer::open(dir)?;
    let index = Index::from_snapshot(snapshot)?;
    let mut manifest = index.manifest().clone();
    let infos = index.batches()?;
    let plan = index.drop_plan(which)?;
    let mut done = Dropped {
        batches: Vec::new(),
        paragraphs: 0,
        variants: 0,
        left: manifest.batches.len(),
        segments: (index.segments.len(), index.segments.len()),
        bytes: (index.bytes(), index.bytes()),
        kept: index.segments.len(),
        generation: index.generation(),
    };
    if plan.gone.is_empty() {
        return Ok(done);
    }
    let generation = index.generation() + 1;
    let (renumber, within) = (&plan.renumber, |row| plan.within(row));
    // Its first row is the index's first; each segment that stays moves
    // it past itself (`cut`).
    let mut builder = SegmentBuilder::with_limit(index.bands, segment_tokens, 0, || {
        writer.new_file(generation)
    })
    .winnowing(winnowing_of(&index.settings)?);
    // The segments of the new generation, in row order, and their rows.
    let mut files: Vec<(FileInfo, u64)> = Vec::new();
    let segments = (index.segments.iter().zip(&index.bases))
        .zip(&manifest.segments)
        .zip(&plan.fates);
    for (block, (((segment, &base), file), fate)) in (0u64..).zip(segments) {
        let rows = base..base + segment.rows;
        match fate {
            SegmentFate::Removed => continue,
            SegmentFate::Stays => {
                files.extend(builder.cut(renumber.row(rows.end))?);
                files.push((file.clone(), segment.rows));
                continue;
            }
            SegmentFate::Rewritten => {}
        }
        let keys = segment.keys_by_row()?;
        let mut variants = segment.variant_rows(base)?.into_iter().peekable();
        segment.for_each_row(block, |row, content, tokens, location| {
            let at = base + u64::from(row);
            match variants.next_if(|v| v.0 == row) {
                // A dropped row, or a variant of a dropped paragraph.
                _ if within(at) => {}
                Some((_, _, kept)) if within(kept) => {}
                Some((_, content, kept)) => {
                    builder.variant(VariantParagraph {
                        content,
                        kept: renumber.row(kept),
                        tokens,
                        location,
                    })?;
                }
                None => {
                    let at = row as usize * index.bands;
                    builder.kept(KeptParagraph {
                        content,
                        keys: &keys[at..at + index.bands],
                        tokens,
                        location,
                    })?;
                }
            }
            Ok(())
        })?;
    }
    files.extend(builder.finish()?);
    let mut batches = Vec::new();
    for (((batch, info), dropped), orphans) in (manifest.batches.iter())
        .zip(&infos)
        .zip(&plan.dropping)
        .zip(&plan.orphans)
    {
        if *dropped {
            done.batches.push(batch.name.clone());
            done.paragraphs += info.paragraphs;
            done.variants += info.variants;
        } else {
            done.variants += orphans;
            let mut batch = batch.clone();
            batch.paragraphs -= orphans;
            batches.push(batch);
        }
    }
    let held: u64 = files.iter().map(|(_, rows)| rows).sum();
    let counted: u64 = batches.iter().map(|b| b.paragraphs).sum();
    if held != counted {
        // A bug, not damage: the index is left as it was.
        return Err(Error::index(format!(
            "{}: dropping left {held} rows for batches of {counted} paragraphs; nothing was \
             dropped",
            dir.display()
        )));
    }
    manifest.generation = generation;
    manifest.parent = Some(index.generation());
    manifest.batches = batches;
    let kept = (files.iter())
        .filter(|(f, _)| manifest.segments.contains(f))
        .count();
    manifest.segments = files.into_iter().map(|(info, _)| info).collect();
    done.left = manifest.batches.len();
    done.segments.1 = manifest.segments.len();
    done.bytes.1 = manifest.segments.iter().map(|f| f.len).sum();
    done.kept = kept;
    done.generation = generation;
    drop(index);
    writer.commit(&manifest)?;
    Ok(done)
}

/// What dropping batches does to a segment ([`DropPlan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentFate {
    /// Named again by the new generation as it is.
    Stays,
    /// All its rows are dropped: it is not read.
    Removed,
    /// Rewritten without its dropped rows.
    Rewritten,
}

/// What [`drop_batches`] would do, found from the batches' row counts and
/// the segments' variant tables alone (nothing else is read):
/// `neardup index drop --dry-run` shows it.
#[derive(Clone, Debug)]
pub struct DropPlan {
    /// Per batch, whether it is dropped.
    pub dropping: Vec<bool>,
    /// Per batch, its variants dropped with their kept paragraphs, in
    /// batches not dropped.
    pub orphans: Vec<u64>,
    /// Per segment, in order, what the drop does to it.
    pub fates: Vec<SegmentFate>,
    /// Per segment, its bytes.
    bytes: Vec<u64>,
    /// The rows of the dropped batches, ascending, adjacent ones merged.
    gone: Vec<Range<u64>>,
    /// Every row dropped (the orphans too), for the new numbers.
    renumber: Renumber,
}

impl DropPlan {
    /// How many segments the drop does `fate` to, and their bytes.
    pub fn segments(&self, fate: SegmentFate) -> (usize, u64) {
        (self.fates.iter().zip(&self.bytes))
            .filter(|(f, _)| **f == fate)
            .fold((0, 0), |(n, bytes), (_, b)| (n + 1, bytes + b))
    }

    /// Whether `row` belongs to a dropped batch.
    fn within(&self, row: u64) -> bool {
        let i = self.gone.partition_point(|g| g.end <= row);
        self.gone.get(i).is_some_and(|g| g.start <= row)
    }
}

impl Index {
    /// What [`drop_batches`] would do to this index with `which`.
    ///
    /// # Errors
    ///
    /// A name is no batch of the index, or a variant table cannot be
    /// read.
    pub fn drop_plan(&self, which: &BatchSelection) -> Result<DropPlan, Error> {
        let dropping = self.dropping(which)?;
        let batches = &self.manifest().batches;
        let mut plan = DropPlan {
            orphans: vec![0; batches.len()],
            fates: Vec::with_capacity(self.segments.len()),
            bytes: self.manifest().segments.iter().map(|s| s.len).collect(),
            gone: Vec::new(),
            renumber: Renumber::default(),
            dropping,
        };
        let mut start = 0;
        for (batch, &dropped) in batches.iter().zip(&plan.dropping) {
            let rows = start..start + batch.paragraphs;
            start = rows.end;
            match plan.gone.last_mut() {
                Some(last) if dropped && last.end == rows.start => last.end = rows.end,
                _ if dropped => plan.gone.push(rows),
                _ => {}
            }
        }
        for (segment, &base) in self.segments.iter().zip(&self.bases) {
            let rows = base..base + segment.rows;
            let overlaps = |g: &&Range<u64>| g.start < rows.end && rows.start < g.end;
            let dropped: Vec<Range<u64>> = (plan.gone.iter())
                .filter(overlaps)
                .map(|g| g.start.max(rows.start)..g.end.min(rows.end))
                .collect();
            if dropped.first() == Some(&rows) {
                plan.renumber.skip(rows);
                plan.fates.push(SegmentFate::Removed);
                continue;
            }
            // Segments before the first row dropped, and those after it
            // that lose no row and whose variants' kept paragraphs stay as
            // far back as they were (none dropped, nor any row between
            // them and the segment: from version 6 a variant names its
            // kept paragraph by that distance; before, by its row, which
            // dropping renumbers), stay as they are.
            let variants = if plan.gone.first().is_some_and(|g| g.start < rows.end) {
                segment.variant_rows(base)?
            } else {
                Vec::new()
            };
            let shift = |row: u64| row - plan.renumber.row(row);
            let stays = dropped.is_empty()
                && (variants.is_empty()
                    || segment.names_kept_rows_back()
                        && (variants.iter())
                            .all(|v| !plan.within(v.2) && shift(v.2) == shift(base)));
            if stays {
                plan.fates.push(SegmentFate::Stays);
                continue;
            }
            // Its rows dropped, in order: the dropped batches', and its
            // variants of their paragraphs (orphans).
            let mut pieces = dropped;
            for &(row, _, kept) in &variants {
                let at = base + u64::from(row);
                if !plan.within(at) && plan.within(kept) {
                    pieces.push(at..at + 1);
                    plan.orphans[self.batch_ends.partition_point(|(end, _)| *end <= at)] += 1;
                }
            }
            pieces.sort_unstable_by_key(|p| p.start);
            for piece in pieces {
                plan.renumber.skip(piece);
            }
            plan.fates.push(SegmentFate::Rewritten);
        }
        Ok(plan)
    }
}

/// The new numbers of the rows kept when some are dropped: a row's
/// number less the rows dropped before it.
#[derive(Clone, Debug, Default)]
struct Renumber {
    /// The dropped rows, ascending, adjacent ones merged, each with the
    /// number dropped up to its end.
    dropped: Vec<(Range<u64>, u64)>,
}

impl Renumber {
    /// Drops `rows`, which come after every row dropped before.
    fn skip(&mut self, rows: Range<u64>) {
        let total = self.dropped.last().map_or(0, |d| d.1) + (rows.end - rows.start);
        match self.dropped.last_mut() {
            Some(last) if last.0.end == rows.start => *last = (last.0.start..rows.end, total),
            _ => self.dropped.push((rows, total)),
        }
    }

    /// The new number of `row`, a row not dropped.
    fn row(&self, row: u64) -> u64 {
        let i = self.dropped.partition_point(|d| d.0.end <= row);
        row - i.checked_sub(1).map_or(0, |i| self.dropped[i].1)
    }
}
