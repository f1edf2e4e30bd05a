//! The group stage: candidate groups found part by part, so that no
//! process holds the band keys of the whole corpus.
//!
//! Grouping a scan means finding, in each band, the runs of paragraphs
//! with equal keys. A run lies within one key, so the keys can be cut by
//! value: part `p` of `q` ([`group_part`]) reads its ranges of every
//! shard's key file ([`super::keys`]), numbers the slots over the whole
//! scan (shards hold contiguous inputs, in order), sorts each band's keys
//! of its ranges and writes every run of two or more slots that reaches
//! past the reference corpus, each distinct run once, band by band and by
//! key. The last stage ([`load`]) reads the parts' runs band by band,
//! parts in order — which is the order of band, then key — and gives them
//! to the scan as its [`Grouping`]: the plan is the one a scan holding all
//! keys makes (see `pipeline::group::Plan::new`), so the report is too.
//!
//! A group file is an index container of kind `GRPS`, named
//! `groups-PPP-of-QQQ.ndg`, numbers little-endian:
//!
//! ```text
//! META   version u32 (2) | part u32 | parts u32 | bands u32 |
//!        source u64 (which key files it was made from) | runs u64
//! BANDS  (bands + 1) × u64: where each band's runs start in RUNS, in u64s
//! RUNS   per run: length u64, then its slots u64 (over the whole scan,
//!        which may be more than 32 bits number), ascending
//! ```
//!
//! The source is a hash of the key files' names and checksums: group files
//! made before a shard was fingerprinted again are refused, not misread.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::keys::{self, KeyFile, RANGES};
use crate::corpus::Input;
use crate::id::FingerprintId;
use crate::index::file::{FileWriter, IndexFile};
use crate::pipeline::print::settings_key;
use crate::pipeline::{BandKeys, Grouping, ScanOptions};
use crate::{Config, Error};

/// The file kind of a group file.
pub const KIND: [u8; 4] = *b"GRPS";
const VERSION: u32 = 2;
const META: [u8; 8] = *b"META\0\0\0\0";
const BANDS: [u8; 8] = *b"BANDS\0\0\0";
const RUNS: [u8; 8] = *b"RUNS\0\0\0\0";

/// The name of group file `part` of `parts`.
pub fn file_name(part: usize, parts: usize) -> String {
    format!("groups-{part:03}-of-{parts:03}.ndg")
}

/// The most parts the keys can be cut into.
pub const MAX_PARTS: usize = RANGES;

/// What [`group_part`] did.
#[derive(Debug)]
pub struct GroupDone {
    /// The band-key entries the part read.
    pub entries: u64,
    /// The distinct runs it wrote.
    pub runs: u64,
    /// The places in those runs (their lengths summed): a bound on the
    /// candidates, which the components stage holds (a paragraph is in
    /// the runs of several bands).
    pub members: u64,
    /// Bytes of its group file.
    pub bytes: u64,
}

/// The key files of a scan of `inputs`, checked: they cover the inputs in
/// order, once each, and were made with these settings from inputs of
/// these sizes. They are the scan's band keys ([`BandKeys`]), read one
/// band at a time.
pub struct KeyFiles {
    files: Vec<KeyFile>,
    /// The first slot of each file's shard.
    firsts: Vec<u64>,
    slots_by_input: Vec<u32>,
    /// Which key files these are: a hash of their names and checksums.
    source: u64,
}

impl BandKeys for KeyFiles {
    fn slots_by_input(&self) -> &[u32] {
        &self.slots_by_input
    }

    fn band(&self, band: usize) -> Result<Vec<(u32, FingerprintId)>, Error> {
        self.check_u32()?;
        let entries = self.entries::<u32>(band, 0..RANGES)?;
        Ok((entries.into_iter())
            .map(|(k, s)| (k, FingerprintId::new(s)))
            .collect())
    }
}

impl KeyFiles {
    /// Each shard's key file, with the shard's first slot.
    pub(crate) fn shards(&self) -> impl Iterator<Item = (&KeyFile, u64)> {
        self.files.iter().zip(self.firsts.iter().copied())
    }

    /// Which key files these are: a hash of their names and checksums.
    pub(crate) fn source(&self) -> u64 {
        self.source
    }

    /// Refuses a corpus of more fingerprinted paragraphs than one process
    /// numbers (32 bits): its last stage must not group or verify by
    /// itself, only merge the verify stage's verdicts.
    pub(crate) fn check_u32(&self) -> Result<(), Error> {
        let slots: u64 = self.slots_by_input.iter().map(|&n| u64::from(n)).sum();
        if slots > u64::from(u32::MAX) {
            return Err(Error::limit(format!(
                "the corpus has {slots} fingerprinted paragraphs, more than the {} one process \
                 numbers: spread the verification too (the components, reread and verify \
                 stages), whose slots are 64-bit",
                u32::MAX
            )));
        }
        Ok(())
    }

    /// Band `band`'s entries in key ranges `ranges` of every shard, slots
    /// numbered over the scan, sorted by key, then slot.
    fn entries<S: Slot>(&self, band: usize, ranges: Range<usize>) -> Result<Vec<(u32, S)>, Error> {
        let mut runs = Vec::with_capacity(self.files.len());
        for (f, &first) in self.files.iter().zip(&self.firsts) {
            let pairs = f.read(band, ranges.clone())?;
            runs.push(
                (pairs.iter())
                    .map(|&(k, s)| (k, S::from_u64(first + u64::from(s))))
                    .collect::<Vec<_>>(),
            );
        }
        // Each shard's entries are sorted: merge them, pairwise.
        while runs.len() > 1 {
            let mut next = Vec::with_capacity(runs.len().div_ceil(2));
            let mut it = runs.into_iter();
            while let Some(a) = it.next() {
                next.push(match it.next() {
                    Some(b) => merge(&a, &b),
                    None => a,
                });
            }
            runs = next;
        }
        let merged = runs.pop().unwrap_or_default();
        Ok(merged)
    }

    /// Opens and checks the key files in `dir` for a scan of `inputs`.
    ///
    /// # Errors
    ///
    /// A key file is missing, does not fit the others, is damaged, or is
    /// of other settings or inputs; the error names it.
    pub fn open(
        dir: &Path,
        inputs: &[Input],
        config: &Config,
        options: &ScanOptions,
    ) -> Result<KeyFiles, Error> {
        let listing = std::fs::read_dir(dir)
            .map_err(|e| Error::index(format!("reading {}: {e}", dir.display())))?;
        let mut found: Vec<(Range<usize>, PathBuf)> = listing
            .filter_map(Result::ok)
            .filter_map(|e| {
                let range = keys::parse_name(&e.file_name().to_string_lossy())?;
                Some((range, e.path()))
            })
            .collect();
        found.sort_by_key(|(r, _)| (r.start, r.end));
        let mut files = Vec::with_capacity(found.len());
        let mut next = 0;
        let mut source = Vec::new();
        for (range, path) in found {
            if range.start > next && next < inputs.len() {
                return Err(Error::index(format!(
                    "{} holds no key file for input {next} ({}): run the fingerprint stage of \
                     its shard",
                    dir.display(),
                    inputs[next].source.name()
                )));
            }
            if range.start != next || range.end > inputs.len() {
                return Err(Error::index(format!(
                    "key file {} does not fit: the key files in {} should cover inputs 0 to {} \
                     once each, in order, and this one covers {} to {} after input {next}; run \
                     the fingerprint stage of every shard again (with the same number of shards) \
                     with these paths",
                    path.display(),
                    dir.display(),
                    inputs.len(),
                    range.start,
                    range.end
                )));
            }
            let file = KeyFile::open(&path)?;
            if file.inputs != range || file.bands != config.lsh().bands() {
                return Err(Error::index(format!(
                    "key file {} was made with other settings, or is damaged: run the \
                     fingerprint stage again with this scan's settings",
                    path.display()
                )));
            }
            for (i, of) in range.clone().zip(&file.per_input) {
                let input = &inputs[i];
                let size = input.source.size_hint().unwrap_or(u64::MAX);
                if of.settings != settings_key(config, options, input.format) || of.size != size {
                    return Err(Error::index(format!(
                        "key file {} was made with other settings (containment, on or off, and \
                         its --containment-words too) or from another version of {} (its size \
                         changed): run the fingerprint stage again with this scan's settings",
                        path.display(),
                        input.source.name()
                    )));
                }
            }
            next = range.end;
            for n in [range.start as u64, range.end as u64, file.checksum()] {
                source.extend_from_slice(&n.to_le_bytes());
            }
            files.push(file);
        }
        if next != inputs.len() {
            return Err(Error::index(format!(
                "{} holds no key file for input {next} ({}) and after: run the fingerprint stage \
                 of its shard",
                dir.display(),
                inputs[next].source.name()
            )));
        }
        let slots_by_input: Vec<u32> = (files.iter())
            .flat_map(|f| f.per_input.iter().map(|i| i.slots))
            .collect();
        let firsts = (files.iter())
            .scan(0u64, |next, f| {
                let first = *next;
                *next += f.slots();
                Some(first)
            })
            .collect();
        Ok(KeyFiles {
            files,
            firsts,
            slots_by_input,
            source: crate::hash::xxh3(&source, 0),
        })
    }
}

/// A slot numbered over the whole scan: in 32 bits when the scan's slots
/// fit (half the memory to sort and merge), else in 64.
trait Slot: Copy + Ord + std::hash::Hash + Into<u64> {
    fn from_u64(n: u64) -> Self;
}

impl Slot for u32 {
    fn from_u64(n: u64) -> u32 {
        n as u32
    }
}

impl Slot for u64 {
    fn from_u64(n: u64) -> u64 {
        n
    }
}

/// The entries of two sorted lists, sorted.
fn merge<S: Copy + Ord>(a: &[(u32, S)], b: &[(u32, S)]) -> Vec<(u32, S)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Groups part `part` of `parts` of the band keys in the key files of
/// `dir`, for a scan of `inputs` with these settings, and writes its group
/// file there (replacing one a killed attempt wrote before).
///
/// # Errors
///
/// `part` is not below `parts`, or `parts` is not 1 to [`MAX_PARTS`]; a
/// key file is missing, damaged, or of other settings or inputs (named);
/// writing failed.
pub fn group_part(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    part: usize,
    parts: usize,
) -> Result<GroupDone, Error> {
    if !(1..=MAX_PARTS).contains(&parts) || part >= parts {
        return Err(Error::config(format!(
            "--part {part} --of {parts}: the parts are numbered 0 to N-1, and N is 1 to \
             {MAX_PARTS}"
        )));
    }
    let key_files = KeyFiles::open(dir, inputs, config, options)?;
    let bands = config.lsh().bands();
    let ranges = RANGES * part / parts..RANGES * (part + 1) / parts;
    let reference = options.reference.min(inputs.len());
    let checked: u64 = (key_files.slots_by_input[..reference].iter())
        .map(|&n| u64::from(n))
        .sum();
    let slots: u64 = key_files.slots_by_input.iter().map(|&n| u64::from(n)).sum();
    let (entries, runs, band_ends, out) = if slots <= u64::from(u32::MAX) {
        distinct_runs::<u32>(&key_files, bands, &ranges, checked)?
    } else {
        distinct_runs::<u64>(&key_files, bands, &ranges, checked)?
    };
    let name = file_name(part, parts);
    let path = dir.join(&name);
    let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
    let mut w = FileWriter::create(dir, &name, KIND)
        .map_err(io)?
        .replacing();
    let mut meta = Vec::with_capacity(32);
    for n in [VERSION, part as u32, parts as u32, bands as u32] {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    meta.extend_from_slice(&key_files.source.to_le_bytes());
    meta.extend_from_slice(&runs.to_le_bytes());
    let mut put = |tag: [u8; 8], bytes: Vec<u8>| -> std::io::Result<()> {
        use std::io::Write;
        let mut s = w.section(tag);
        s.write_all(&bytes)?;
        s.finish()
    };
    put(META, meta).map_err(io)?;
    put(
        BANDS,
        band_ends.iter().flat_map(|e| e.to_le_bytes()).collect(),
    )
    .map_err(io)?;
    put(
        RUNS,
        (out.iter())
            .flat_map(|&e| Into::<u64>::into(e).to_le_bytes())
            .collect(),
    )
    .map_err(io)?;
    let bytes = w.finish().map_err(io)?.len;
    Ok(GroupDone {
        entries,
        runs,
        members: out.len() as u64 - runs,
        bytes,
    })
}

/// The runs of two or more slots sharing a band key in key ranges
/// `ranges` that reach past the first `checked` slots (the reference
/// corpus), each distinct run once, band by band: the entries read, the
/// runs, where each band's start in the stream, and the stream (each run
/// its length, then its slots).
type Distinct = (u64, u64, Vec<u64>, Vec<u64>);

fn distinct_runs<S: Slot>(
    key_files: &KeyFiles,
    bands: usize,
    ranges: &Range<usize>,
    checked: u64,
) -> Result<Distinct, Error> {
    let (mut entries, mut runs) = (0u64, 0u64);
    // A hash of a run's slots -> where the first run with that hash starts
    // in `out`.
    let hasher = ahash::RandomState::new();
    let mut seen: ahash::AHashMap<u64, usize> = ahash::AHashMap::new();
    let mut band_ends = vec![0u64];
    let mut out: Vec<S> = Vec::new();
    let mut members: Vec<S> = Vec::new();
    for band in 0..bands {
        let merged = key_files.entries::<S>(band, ranges.clone())?;
        entries += merged.len() as u64;
        for run in merged.chunk_by(|a, b| a.0 == b.0) {
            let last: u64 = run[run.len() - 1].1.into();
            if run.len() > 1 && last >= checked {
                members.clear();
                members.extend(run.iter().map(|&(_, s)| s));
                let hash = hasher.hash_one(&members);
                let known = seen.get(&hash).is_some_and(|&at| {
                    let n = Into::<u64>::into(out[at]) as usize;
                    out[at + 1..at + 1 + n] == members[..]
                });
                if !known {
                    seen.entry(hash).or_insert(out.len());
                    out.push(S::from_u64(members.len() as u64));
                    out.extend_from_slice(&members);
                    runs += 1;
                }
            }
        }
        band_ends.push(out.len() as u64);
    }
    let out = out.into_iter().map(Into::into).collect();
    Ok((entries, runs, band_ends, out))
}

/// An opened group file's header.
struct GroupFile {
    file: IndexFile,
    part: usize,
    parts: usize,
    bands: usize,
    source: u64,
}

impl GroupFile {
    fn open(path: &Path) -> Result<GroupFile, Error> {
        let file = IndexFile::open(path, KIND)?;
        file.verify_all()?;
        let meta = file.section(META)?;
        let meta = meta.read_range(0..meta.len())?;
        let bad = |what: &str| Error::index(format!("group file {} {what}", path.display()));
        if meta.len() != 32 {
            return Err(bad("is damaged: its META section has the wrong size"));
        }
        let u32_at = |at: usize| u32::from_le_bytes(meta[at..at + 4].try_into().expect("4"));
        if u32_at(0) != VERSION {
            return Err(bad(&format!(
                "is of group file version {}; this neardup reads version {VERSION}: run the \
                 group stage again",
                u32_at(0)
            )));
        }
        Ok(GroupFile {
            file,
            part: u32_at(4) as usize,
            parts: u32_at(8) as usize,
            bands: u32_at(12) as usize,
            source: u64::from_le_bytes(meta[16..24].try_into().expect("8 bytes")),
        })
    }

    /// The runs of band `band`, as one stream of lengths and slots.
    fn band(&self, band: usize) -> Result<Vec<u64>, Error> {
        let ends = self.file.section(BANDS)?;
        let raw = ends.read_range(band as u64 * 8..band as u64 * 8 + 16)?;
        let at = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
        let runs = self.file.section(RUNS)?;
        let (start, end) = (at(0), at(8));
        if start > end || end.saturating_mul(8) > runs.len() {
            return Err(Error::index(format!(
                "group file {} is damaged: its band table is out of order or bounds",
                self.file.path().display()
            )));
        }
        let raw = runs.read_range(start * 8..end * 8)?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }
}

/// Gives `each` the runs the group stage left in `dir` for the scan whose
/// key files are `key_files`: band by band, parts in order (a scan's own
/// order of band, then key), slots numbered over the whole scan. Runs
/// found in several bands come once per band. Returns whether there were
/// group files.
///
/// # Errors
///
/// Group files are there but of other key files (the fingerprint stage ran
/// again since), or a part is missing, or one is damaged: the error names
/// the file or part and says what to run.
pub fn for_each_run(
    dir: &Path,
    key_files: &KeyFiles,
    config: &Config,
    each: &mut dyn FnMut(&[u64]) -> Result<(), Error>,
) -> Result<bool, Error> {
    let Some(set) = GroupSet::open(dir, key_files, config)? else {
        return Ok(false);
    };
    set.runs(0..set.len(), &mut |_, run| each(run))?;
    Ok(true)
}

/// Where a run is in a scan's order of runs: its band, its group file's
/// place in the set, and its place among that file's runs of the band.
/// Runs sorted by it come in [`for_each_run`]'s order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RunAt {
    pub(crate) band: u32,
    pub(crate) file: u32,
    pub(crate) seq: u64,
}

/// What takes each run, with where it is.
pub(crate) type EachRun<'a> = dyn FnMut(RunAt, &[u64]) -> Result<(), Error> + 'a;

/// The complete set of group files of a scan, checked.
pub(crate) struct GroupSet {
    files: Vec<GroupFile>,
    slots: u64,
    bands: usize,
}

impl GroupSet {
    /// The group files in `dir` of the scan whose key files are
    /// `key_files`, or `None` when there are none.
    ///
    /// # Errors
    ///
    /// As [`for_each_run`].
    pub(crate) fn open(
        dir: &Path,
        key_files: &KeyFiles,
        config: &Config,
    ) -> Result<Option<GroupSet>, Error> {
        let paths = super::files_named(dir, "groups-", ".ndg")?;
        if paths.is_empty() {
            return Ok(None);
        }
        let mut files = Vec::new();
        for path in &paths {
            let file = GroupFile::open(path)?;
            if file.source == key_files.source {
                files.push(file);
            }
        }
        if files.is_empty() {
            return Err(Error::index(format!(
                "the group files in {} were made from other key files (a fingerprint stage ran \
                 again since, or with other settings): run `neardup stage group` again for every \
                 part, or remove them",
                dir.display()
            )));
        }
        // Several complete sets of parts give the same runs: take the one
        // with the fewest parts that is complete.
        let files = files.into_iter().map(|f| (f.parts, f.part, f)).collect();
        let set = super::complete_set(files, file_name).map_err(|missing| {
            Error::index(format!(
                "{} lacks group files {missing}: run `neardup stage group` for those parts",
                dir.display()
            ))
        })?;
        let bands = config.lsh().bands();
        if let Some(f) = set.iter().find(|f| f.bands != bands) {
            return Err(Error::index(format!(
                "group file {} was made for {} bands and this scan has {bands}: run the group \
                 stage again with this scan's settings",
                f.file.path().display(),
                f.bands
            )));
        }
        let slots = key_files.slots_by_input.iter().map(|&n| u64::from(n)).sum();
        Ok(Some(GroupSet {
            files: set,
            slots,
            bands,
        }))
    }

    /// How many group files the set has.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Gives `each` the runs of the files `files` of the set, with where
    /// each is: band by band, files in order.
    pub(crate) fn runs(&self, files: Range<usize>, each: &mut EachRun<'_>) -> Result<(), Error> {
        let mut run = Vec::new();
        for band in 0..self.bands {
            for (file, f) in files.clone().zip(&self.files[files.clone()]) {
                let stream = f.band(band)?;
                let mut rest = &stream[..];
                let mut seq = 0;
                while let Some((&len, tail)) = rest.split_first() {
                    let taken = usize::try_from(len).ok().and_then(|n| tail.get(..n));
                    let fits = taken.is_some_and(|r| {
                        r.len() >= 2
                            && r.windows(2).all(|w| w[0] < w[1])
                            && r.last().is_some_and(|&s| s < self.slots)
                    });
                    let (Some(taken), true) = (taken, fits) else {
                        return Err(Error::index(format!(
                            "group file {} is damaged: a run is cut short, out of order or out \
                             of bounds",
                            f.file.path().display()
                        )));
                    };
                    run.clear();
                    run.extend_from_slice(taken);
                    let at = RunAt {
                        band: band as u32,
                        file: file as u32,
                        seq,
                    };
                    each(at, &run)?;
                    seq += 1;
                    rest = &tail[taken.len()..];
                }
            }
        }
        Ok(())
    }
}

/// The candidate groups the group stage left in `dir` for the scan whose
/// key files are `key_files`, or `None` when it left none (the last stage
/// then groups by itself, reading the key files band by band): the runs
/// of every part, band by band, parts in order — a scan's own order of
/// band, then key — each distinct run once.
///
/// # Errors
///
/// As [`for_each_run`]; also a corpus of more paragraphs than one process
/// numbers (32 bits), which only the verify stages can take.
pub fn load(dir: &Path, key_files: &KeyFiles, config: &Config) -> Result<Option<Grouping>, Error> {
    key_files.check_u32()?;
    let mut grouping = Grouping::new(key_files.slots_by_input.clone());
    let mut narrow = Vec::new();
    let any = for_each_run(dir, key_files, config, &mut |run| {
        narrow.clear();
        narrow.extend(run.iter().map(|&s| s as u32));
        grouping.add(&narrow);
        Ok(())
    })?;
    Ok(any.then_some(grouping))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Silent;

    /// The runs come the same in 32-bit slots (what a scan that fits
    /// takes) and in 64-bit ones (past 4.3 billion paragraphs).
    #[test]
    fn runs_in_32_and_64_bit_slots_agree() {
        let inputs = super::super::tests::grouping_corpus();
        let (config, options) = (Config::default(), ScanOptions::default());
        let dir = std::env::temp_dir().join(format!("neardup-wide-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
        for k in 0..3 {
            let r = super::super::shard(&sizes, k, 3);
            super::super::fingerprint_shard(
                &inputs[r.clone()],
                r.start,
                &config,
                &options,
                &Silent,
                &dir,
            )
            .unwrap();
        }
        let key_files = KeyFiles::open(&dir, &inputs, &config, &options).unwrap();
        let bands = config.lsh().bands();
        for (ranges, checked) in [(0..RANGES, 0), (0..100, 0), (100..RANGES, 50)] {
            let narrow = distinct_runs::<u32>(&key_files, bands, &ranges, checked).unwrap();
            let wide = distinct_runs::<u64>(&key_files, bands, &ranges, checked).unwrap();
            assert!(narrow.1 > 0);
            assert_eq!(narrow, wide, "{ranges:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
