//! The reread and verify stages: verification spread over machines, so
//! that no process holds every paragraph of the corpus.
//!
//! After the components stage ([`super::components`]) has dealt the
//! candidates to parts:
//!
//! 1. [`reread`], per shard: reads the shard's inputs again, only for its
//!    candidates ([`crate::pipeline::spread::reread_shard`]), and writes
//!    their shingle sets and places, cut by part, with the shard's counts
//!    and problems (`sets-FIRST-END.nds`).
//! 2. [`verify`], per part: reads its part of every shard's sets file and
//!    its runs, verifies its components
//!    ([`crate::pipeline::spread::verify_part`]) and writes the verdicts
//!    (`verdicts-PPP-of-QQQ.ndv`).
//! 3. The last stage ([`super::StageFiles::verified_report`]) sums the
//!    shards' counts and merges the parts' verdicts into the report of one
//!    scan ([`crate::pipeline::spread::report_from_parts`]).
//!
//! Every file records the key files it descends from (their source
//! hash), the number of parts and a key of the settings the verdicts
//! depend on, so a file of an earlier run, another cut or other settings
//! is refused by name, never misread.
//!
//! Encoding, numbers little-endian, each file an index container;
//! members, counts and problems as in the findings file
//! ([`crate::report::wire`], strings by number from a table before each
//! body):
//!
//! ```text
//! sets (kind SETS)
//!   META     version u32 (1) | parts u32 | source u64 | settings u64 |
//!            first input u64 | inputs u64 | first slot u64
//!   COUNTS   the 14 summary counts u64 | paragraphs per input (u64
//!            count, u64 each) | the first pass's problems and the second
//!            reading's (each a u32 count, then kind u8, flags u8,
//!            message, path flag u8 and path, line and offset as flag u8
//!            and u64)
//!   NAMES    the shard's inputs as this stage named them (strings, then
//!            a u32 count and each a u32 length and UTF-8 bytes)
//!   OFFSETS  (parts + 1) × u64: where each part's candidates start
//!   PARTS    per part, chunks in slot order, each its length u64, then
//!            strings and a u32 count of candidates, each its slot u64,
//!            its set (u32 count, u64 hashes ascending) and its member
//!            (documents numbered within the shard)
//! verdicts (kind VRDS)
//!   META     version u32 (1) | part u32 | parts u32 | source u64 |
//!            settings u64 | comparisons u64
//!   OFFSETS  (shards + 1) × u64: where each shard's verdicts start
//!   PARTS    per shard (of the key files, in order): strings, then the
//!            kept paragraphs its duplicates repeat (u32 count; each slot
//!            u64, member) and its duplicates in slot order (u32 count;
//!            each slot u64, kept slot u64, similarity as intersection
//!            and union u32, member)
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::components::{
    Assignment, assign_name, check_parts, read_assignment, read_runs, runs_name,
};
use super::group::KeyFiles;
use super::{Prints, open_stage_file, whole, write_sections};
use crate::corpus::{Format, Input};
use crate::id::DocId;
use crate::index::file::IndexFile;
use crate::pipeline::spread::{
    Candidate, PartVerdicts, Planned, refuse_containment, report_from_parts, reread_shard,
    verify_part,
};
use crate::pipeline::{Counts, Progress, ScanOptions};
use crate::report::wire::{Decoder, Encoder};
use crate::report::{Member, Report};
use crate::shingle::ShingleSet;
use crate::{Config, Error, Similarity};

/// The file kind of a sets file.
pub const SETS_KIND: [u8; 4] = *b"SETS";
/// The file kind of a verdict file.
pub const VERDICTS_KIND: [u8; 4] = *b"VRDS";
const VERSION: u32 = 1;
const META: [u8; 8] = *b"META\0\0\0\0";
const COUNTS: [u8; 8] = *b"COUNTS\0\0";
const OFFSETS: [u8; 8] = *b"OFFSETS\0";
const PARTS: [u8; 8] = *b"PARTS\0\0\0";
const NAMES: [u8; 8] = *b"NAMES\0\0\0";

/// The name of the sets file of the shard holding `inputs`.
pub fn sets_name(inputs: &Range<usize>) -> String {
    format!("sets-{:010}-{:010}.nds", inputs.start, inputs.end)
}

/// The name of part `part` of `parts`'s verdict file.
pub fn verdicts_name(part: usize, parts: usize) -> String {
    format!("verdicts-{part:03}-of-{parts:03}.ndv")
}

/// A key of every setting the sets and verdicts depend on: the first
/// pass's, the threshold and the rest of [`Config`], the reference
/// corpus, whole texts, and this neardup version.
fn settings(config: &Config, options: &ScanOptions) -> u64 {
    let text = format!(
        "{} {} reference={} full_text={}",
        super::findings_key(config, options, None),
        config.threshold(),
        options.reference,
        options.full_text,
    );
    crate::hash::xxh3(text.as_bytes(), 0)
}

/// What [`reread`] did.
#[derive(Debug)]
pub struct RereadDone {
    /// The shard's inputs.
    pub inputs: Range<usize>,
    /// Its candidates read again.
    pub candidates: u64,
    /// Bytes of its sets file.
    pub bytes: u64,
}

/// The reread stage of shard `shard` of `shards` (the same cut as the
/// fingerprint stage's) of a scan of `inputs`: reads the shard's
/// candidates again and writes its sets file into `dir`, replacing one a
/// killed attempt wrote.
///
/// # Errors
///
/// The shard's stage files or assignment are missing, damaged or stale
/// (named); containment is asked for (it is not spread); writing failed.
pub fn reread(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    (shard, shards): (usize, usize),
) -> Result<RereadDone, Error> {
    refuse_containment(options)?;
    let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
    let range = super::shard(&sizes, shard, shards);
    if range.is_empty() {
        // More shards than inputs: the fingerprint stage wrote nothing
        // for this one either.
        return Ok(RereadDone {
            inputs: range,
            candidates: 0,
            bytes: 0,
        });
    }
    let assignment = assignment(dir, &range)?;
    let prints = Prints::open(dir, inputs, range.clone(), config, options)?;
    let name = sets_name(&range);
    let path = dir.join(&name);
    let too_long = || {
        Error::limit(format!(
            "{}: a text or list is longer than 32-bit lengths allow",
            path.display()
        ))
    };
    // Each part's candidates go to a scratch file of their own as they
    // are read (in chunks, each with its table of strings), and are copied
    // into the sets file at the end: a shard's sets need not fit in memory.
    let mut spills = Spills::create(dir, &name, assignment.parts)?;
    let mut candidates = 0u64;
    let mut sink = |part: u32, chunk: Vec<Candidate>| -> Result<(), Error> {
        let mut e = Encoder::default();
        e.len(chunk.len());
        for c in &chunk {
            e.u64(c.slot);
            e.len(c.set.len());
            for &h in c.set.as_slice() {
                e.u64(h);
            }
            e.member(&c.member);
        }
        let bytes = e.finish().ok_or_else(too_long)?;
        candidates += chunk.len() as u64;
        spills.append(part as usize, &bytes)
    };
    let counts = reread_shard(
        &inputs[range.clone()],
        range.start,
        config,
        options,
        progress,
        &prints,
        assignment.first_slot,
        (&assignment.wanted, assignment.parts),
        &mut sink,
    )?;
    if counts.summary.fingerprinted != assignment.slots {
        return Err(Error::index(format!(
            "the inputs of {} now have {} fingerprinted paragraphs and had {} in the \
             fingerprint stage: an input changed since; run the stages again",
            path.display(),
            counts.summary.fingerprinted,
            assignment.slots
        )));
    }
    let counts = encode_counts(&counts).ok_or_else(too_long)?;
    let mut meta = Vec::with_capacity(48);
    meta.extend_from_slice(&VERSION.to_le_bytes());
    meta.extend_from_slice(&(assignment.parts as u32).to_le_bytes());
    for n in [
        assignment.source,
        settings(config, options),
        range.start as u64,
        range.len() as u64,
        assignment.first_slot,
    ] {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    let mut names = Encoder::default();
    names.len(range.len());
    for input in &inputs[range.clone()] {
        names.text(input.source.name());
    }
    let names = names.finish().ok_or_else(too_long)?;
    let bytes = spills.finish(
        dir,
        &name,
        [
            (META, &meta[..]),
            (COUNTS, &counts[..]),
            (NAMES, &names[..]),
        ],
    )?;
    Ok(RereadDone {
        inputs: range,
        candidates,
        bytes,
    })
}

/// The scratch files of a shard's parts, removed when dropped.
struct Spills {
    files: Vec<(PathBuf, std::io::BufWriter<std::fs::File>, u64)>,
}

impl Spills {
    /// One scratch file per part, beside the sets file `name` (named for
    /// this process, so a retried task alongside a dying one does not
    /// share them).
    fn create(dir: &Path, name: &str, parts: usize) -> Result<Spills, Error> {
        let mut spills = Spills { files: Vec::new() };
        for part in 0..parts {
            let path = dir.join(format!(".{name}.{}.{part:03}.tmp", std::process::id()));
            let file = std::fs::File::create(&path)
                .map_err(|e| Error::index(format!("writing {}: {e}", path.display())))?;
            spills.files.push((path, std::io::BufWriter::new(file), 0));
        }
        Ok(spills)
    }

    /// Appends a chunk to part `part`'s file: its length u64, then it.
    fn append(&mut self, part: usize, chunk: &[u8]) -> Result<(), Error> {
        use std::io::Write;
        let (path, file, len) = &mut self.files[part];
        let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
        file.write_all(&(chunk.len() as u64).to_le_bytes())
            .map_err(io)?;
        file.write_all(chunk).map_err(io)?;
        *len += 8 + chunk.len() as u64;
        Ok(())
    }

    /// Writes the sets file `name`: `head`'s sections, the offsets of the
    /// parts and the parts, copied from the scratch files. Returns its
    /// length.
    fn finish(mut self, dir: &Path, name: &str, head: [([u8; 8], &[u8]); 3]) -> Result<u64, Error> {
        use std::io::Write;
        let path = dir.join(name);
        let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
        let mut offsets = Vec::with_capacity(8 * (self.files.len() + 1));
        let mut at = 0u64;
        for (_, file, len) in &mut self.files {
            file.flush().map_err(io)?;
            offsets.extend_from_slice(&at.to_le_bytes());
            at += *len;
        }
        offsets.extend_from_slice(&at.to_le_bytes());
        let mut w = crate::index::file::FileWriter::create(dir, name, SETS_KIND)
            .map_err(io)?
            .replacing();
        for (tag, bytes) in head.into_iter().chain([(OFFSETS, &offsets[..])]) {
            let mut s = w.section(tag);
            s.write_all(bytes).map_err(io)?;
            s.finish().map_err(io)?;
        }
        let mut s = w.section(PARTS);
        for (spill, _, _) in &self.files {
            let mut f = std::fs::File::open(spill).map_err(io)?;
            std::io::copy(&mut f, &mut s).map_err(io)?;
        }
        s.finish().map_err(io)?;
        let len = w.finish().map_err(io)?.len;
        self.remove();
        Ok(len)
    }

    fn remove(&mut self) {
        for (path, _, _) in self.files.drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for Spills {
    fn drop(&mut self) {
        self.remove();
    }
}

fn encode_counts(c: &Counts) -> Option<Vec<u8>> {
    let mut e = Encoder::default();
    e.summary(&c.summary);
    e.u64(c.paragraphs_by_input.len() as u64);
    for &n in &c.paragraphs_by_input {
        e.u64(n);
    }
    for list in [&c.diagnostics, &c.second] {
        e.len(list.len());
        for d in list {
            e.error(d);
        }
    }
    e.finish()
}

fn decode_counts(bytes: &[u8]) -> Option<Counts> {
    let mut d = Decoder::with_table(bytes)?;
    let summary = d.summary()?;
    let n = d.count(8)?;
    let paragraphs_by_input = (0..n).map(|_| d.u64()).collect::<Option<Vec<_>>>()?;
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let n = d.count32(4)?;
        *list = (0..n).map(|_| d.error()).collect::<Option<Vec<_>>>()?;
    }
    let [diagnostics, second] = lists;
    (d.left() == 0).then_some(Counts {
        summary,
        paragraphs_by_input,
        diagnostics,
        second,
    })
}

/// An opened sets file's header and counts.
struct SetsFile {
    file: IndexFile,
    parts: usize,
    counts: Counts,
    /// The shard's inputs as the reread stage named them.
    names: Vec<String>,
}

impl SetsFile {
    /// Opens the sets file of the shard of `inputs` (whose first slot is
    /// `first_slot`), checking that it is of these key files, parts and
    /// settings.
    fn open(
        dir: &Path,
        inputs: &Range<usize>,
        first_slot: u64,
        (source, parts, settings): (u64, usize, u64),
    ) -> Result<SetsFile, Error> {
        let path: PathBuf = dir.join(sets_name(inputs));
        let bad = |what: &str| Error::index(format!("sets file {} {what}", path.display()));
        // Not every checksum up front: a part reads its own candidates
        // only, each chunk checked as it is read.
        let (file, meta) = open_stage_file(
            &path,
            (SETS_KIND, "sets file", VERSION),
            (48, false),
            (
                &format!(
                    "run `neardup stage reread` for the shard of inputs {} to {}",
                    inputs.start, inputs.end
                ),
                "reread",
            ),
        )?;
        let (u32_at, u64_at) = (|at| meta.u32(at), |at| meta.u64(at));
        let whole = |tag| whole(&file, tag);
        let fits = u32_at(4) as usize == parts
            && u64_at(8) == source
            && u64_at(24) == inputs.start as u64
            && u64_at(32) == inputs.len() as u64
            && u64_at(40) == first_slot;
        if !fits {
            return Err(bad(&format!(
                "was made from other key files or for another number of parts (not {parts}): \
                 run the components stage and then the reread stage again"
            )));
        }
        if u64_at(16) != settings {
            return Err(bad(
                "was made with other settings: run the reread stage again with this scan's \
                 settings",
            ));
        }
        let counts = decode_counts(&whole(COUNTS)?)
            .filter(|c| c.paragraphs_by_input.len() == inputs.len())
            .ok_or_else(|| bad("is damaged: its counts do not decode"))?;
        let names = whole(NAMES)?;
        let names = (|| {
            let mut d = Decoder::with_table(&names)?;
            let n = d.count32(4)?;
            let out = (0..n).map(|_| d.text()).collect::<Option<Vec<_>>>()?;
            (d.left() == 0 && n == inputs.len()).then_some(out)
        })()
        .ok_or_else(|| bad("is damaged: its names do not decode"))?;
        Ok(SetsFile {
            file,
            parts,
            counts,
            names,
        })
    }

    /// Part `part`'s candidates, their documents numbered from
    /// `first_doc`, chunk by chunk to `each` (chunks are small: a block's
    /// candidates of one part).
    fn candidates(
        &self,
        part: usize,
        first_doc: u64,
        each: &mut dyn FnMut(Vec<Candidate>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let damaged = || {
            Error::index(format!(
                "sets file {} is damaged: its candidates do not decode",
                self.file.path().display()
            ))
        };
        let offsets = self.file.section(OFFSETS)?;
        if offsets.len() != 8 * (self.parts as u64 + 1) {
            return Err(damaged());
        }
        let raw = offsets.read_range(8 * part as u64..8 * part as u64 + 16)?;
        let at = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
        let body = self.file.section(PARTS)?;
        let (start, end) = (at(0), at(8));
        if start > end || end > body.len() {
            return Err(damaged());
        }
        let decode = |chunk: &[u8]| -> Option<Vec<Candidate>> {
            let mut d = Decoder::with_table(chunk)?;
            let n = d.count32(8)?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let slot = d.u64()?;
                let k = d.count32(8)?;
                let hashes = (0..k).map(|_| d.u64()).collect::<Option<Vec<_>>>()?;
                let mut member = d.member()?;
                let doc = first_doc + member.location.doc_index.get() as u64;
                member.location.doc_index = DocId::new(u32::try_from(doc).ok()?);
                out.push(Candidate {
                    slot,
                    set: ShingleSet::from_vec(hashes),
                    member,
                });
            }
            (d.left() == 0).then_some(out)
        };
        // Chunk by chunk, so that only one is in memory at a time.
        let mut at = start;
        while at < end {
            if end - at < 8 {
                return Err(damaged());
            }
            let len = body.read_range(at..at + 8)?;
            let len = u64::from_le_bytes(len[..].try_into().expect("8 bytes"));
            if len > end - at - 8 {
                return Err(damaged());
            }
            let chunk = body.read_range(at + 8..at + 8 + len)?;
            each(decode(&chunk).ok_or_else(damaged)?)?;
            at += 8 + len;
        }
        Ok(())
    }
}

/// What [`verify`] did.
#[derive(Debug)]
pub struct VerifyDone {
    /// Candidates verified.
    pub candidates: u64,
    /// Duplicates found.
    pub duplicates: u64,
    /// Bytes of the verdict file.
    pub bytes: u64,
}

/// The assignment of the shard holding `inputs`: the components stage's
/// file, or, without one, the dealt files of the components found in
/// rounds ([`super::star`]), if there are any.
fn assignment(dir: &Path, inputs: &Range<usize>) -> Result<Assignment, Error> {
    if !dir.join(assign_name(inputs)).exists()
        && let Some(found) = super::star::read_assignment(dir, inputs)?
    {
        return Ok(found);
    }
    read_assignment(dir, inputs)
}

/// Part `part` of `parts`'s runs: the components stage's file, or,
/// without one, from the dealt files of the components found in rounds.
fn part_runs(
    dir: &Path,
    (part, parts): (usize, usize),
    source: u64,
    config: &Config,
) -> Result<crate::pipeline::spread::Runs, Error> {
    if !dir.join(runs_name(part, parts)).exists()
        && let Some(found) = super::star::read_runs(dir, part, parts, source)?
    {
        return Ok(found);
    }
    read_runs(dir, part, parts, source, config)
}

/// The verify stage of part `part` of `parts` of a scan of `inputs`:
/// verifies the part's components from every shard's sets file and its
/// runs, and writes its verdict file into `dir`, replacing one a killed
/// attempt wrote.
///
/// # Errors
///
/// A key, runs or sets file is missing, damaged, stale or of another part
/// count or other settings (named); writing failed.
pub fn verify(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    part: usize,
    parts: usize,
) -> Result<VerifyDone, Error> {
    check_parts(part, parts)?;
    refuse_containment(options)?;
    let key_files = KeyFiles::open(dir, inputs, config, options)?;
    let source = key_files.source();
    let runs = part_runs(dir, (part, parts), source, config)?;
    let reference = options.reference.min(inputs.len());
    let checked: u64 = (crate::pipeline::BandKeys::slots_by_input(&key_files)[..reference].iter())
        .map(|&n| u64::from(n))
        .sum();
    let key = settings(config, options);
    // Twice through the part's candidates: what the plan needs, then, with
    // the plan made, each whole in turn.
    let mut shards = Vec::new();
    let mut planned = Vec::new();
    let mut first_doc = 0;
    for (file, first) in key_files.shards() {
        let sets = SetsFile::open(dir, &file.inputs, first, (source, parts, key))?;
        let documents = first_doc + sets.counts.summary.documents;
        if documents > u64::from(u32::MAX) {
            return Err(Error::limit(format!(
                "the corpus has more than {} documents, the most a report numbers",
                u32::MAX
            )));
        }
        sets.candidates(part, first_doc, &mut |chunk| {
            planned.extend(chunk.iter().map(Planned::of));
            Ok(())
        })?;
        shards.push((sets, first_doc));
        first_doc = documents;
    }
    let n = planned.len() as u64;
    // The candidates come from a thread reading the sets files, a few
    // chunks ahead.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Candidate>, Error>>(16);
    let verdicts = std::thread::scope(|scope| {
        scope.spawn(move || {
            for (sets, first_doc) in &shards {
                let sent = sets.candidates(part, *first_doc, &mut |chunk| {
                    tx.send(Ok(chunk))
                        .map_err(|_| Error::index("the verification stopped"))
                });
                if let Err(e) = sent {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        });
        verify_part(config, &planned, &runs, checked, rx.into_iter())
    })?;
    let name = verdicts_name(part, parts);
    let too_long = || {
        Error::limit(format!(
            "{}: a text or list is longer than 32-bit lengths allow",
            dir.join(&name).display()
        ))
    };
    // Cut by shard: a shard's clean job reads its own duplicates (with
    // the kept paragraphs they repeat) from every part, and nothing else.
    let (mut offsets, mut body) = (Vec::new(), Vec::new());
    let kept: ahash::AHashMap<u64, &crate::report::Member> =
        verdicts.kept.iter().map(|(s, m)| (*s, m)).collect();
    let mut rest = &verdicts.duplicates[..];
    for (file, first) in key_files.shards() {
        let end = first + file.slots();
        let here = rest.partition_point(|d| d.0 < end);
        let (mine, later) = rest.split_at(here);
        rest = later;
        offsets.extend_from_slice(&(body.len() as u64).to_le_bytes());
        let mut slots: Vec<u64> = mine.iter().map(|d| d.1).collect();
        slots.sort_unstable();
        slots.dedup();
        let mut e = Encoder::default();
        e.len(slots.len());
        for s in &slots {
            e.u64(*s);
            e.member(kept[s]);
        }
        e.len(mine.len());
        for (slot, of, similarity, member) in mine {
            e.u64(*slot);
            e.u64(*of);
            e.u32(similarity.intersection);
            e.u32(similarity.union);
            e.member(member);
        }
        body.extend_from_slice(&e.finish().ok_or_else(too_long)?);
    }
    offsets.extend_from_slice(&(body.len() as u64).to_le_bytes());
    let mut meta = Vec::with_capacity(36);
    for n in [VERSION, part as u32, parts as u32] {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    meta.extend_from_slice(&source.to_le_bytes());
    meta.extend_from_slice(&key.to_le_bytes());
    meta.extend_from_slice(&verdicts.comparisons.to_le_bytes());
    let bytes = write_sections(
        dir,
        &name,
        VERDICTS_KIND,
        &[(META, &meta), (OFFSETS, &offsets), (PARTS, &body)],
    )?;
    Ok(VerifyDone {
        candidates: n,
        duplicates: verdicts.duplicates.len() as u64,
        bytes,
    })
}

/// A complete set of verdict files of one scan, opened.
pub(crate) struct VerdictFiles {
    dir: PathBuf,
    files: Vec<IndexFile>,
    settings: u64,
}

impl VerdictFiles {
    /// The verdict files in `dir` of the scan whose key files are
    /// `key_files`, with these settings: a complete set of parts (the one
    /// with the fewest parts, if several are), or `None` when there are
    /// no verdict files of these settings.
    ///
    /// # Errors
    ///
    /// Verdict files of these settings are there, but of other key files
    /// (a stage ran again since) or without every part; one is damaged.
    pub(crate) fn find(
        dir: &Path,
        key_files: &KeyFiles,
        config: &Config,
        options: &ScanOptions,
    ) -> Result<Option<VerdictFiles>, Error> {
        let paths = super::files_named(dir, "verdicts-", ".ndv")?;
        let key = settings(config, options);
        let mut files: Vec<(usize, usize, IndexFile)> = Vec::new();
        let mut stale = false;
        for path in &paths {
            let file = IndexFile::open(path, VERDICTS_KIND)?;
            let meta = file.section(META)?;
            let meta = meta.read_range(0..meta.len())?;
            if meta.len() != 36 {
                return Err(Error::index(format!(
                    "verdict file {} is damaged: its META section has the wrong size",
                    path.display()
                )));
            }
            let u32_at = |at: usize| u32::from_le_bytes(meta[at..at + 4].try_into().expect("4"));
            let u64_at = |at: usize| u64::from_le_bytes(meta[at..at + 8].try_into().expect("8"));
            if u32_at(0) != VERSION || u64_at(20) != key {
                continue;
            }
            if u64_at(12) != key_files.source() {
                stale = true;
                continue;
            }
            files.push((u32_at(8) as usize, u32_at(4) as usize, file));
        }
        if files.is_empty() {
            return match stale {
                false => Ok(None),
                true => Err(Error::index(format!(
                    "the verdict files in {} were made from other key files (a fingerprint \
                     stage ran again since): run the components, reread and verify stages \
                     again, or remove them",
                    dir.display()
                ))),
            };
        }
        match super::complete_set(files, verdicts_name) {
            Ok(files) => Ok(Some(VerdictFiles {
                dir: dir.to_path_buf(),
                files,
                settings: key,
            })),
            Err(missing) => Err(Error::index(format!(
                "{} lacks verdict files {missing}: run `neardup stage verify` for those parts",
                dir.display()
            ))),
        }
    }

    /// How many parts the verdicts are in.
    pub(crate) fn parts(&self) -> usize {
        self.files.len()
    }

    /// The report: the shards' counts and the parts' verdicts, naming
    /// the inputs by `inputs` (as this stage was given them; the reread
    /// stage may have been given other spellings of the same paths).
    pub(crate) fn report(
        &self,
        key_files: &KeyFiles,
        config: &Config,
        inputs: &[(Arc<str>, Format)],
    ) -> Result<Report, Error> {
        let parts = self.parts();
        let mut counts = Counts::default();
        let mut renamed: Vec<Option<Arc<str>>> = Vec::with_capacity(inputs.len());
        for (file, first) in key_files.shards() {
            let sets = SetsFile::open(
                &self.dir,
                &file.inputs,
                first,
                (key_files.source(), parts, self.settings),
            )?;
            let mut shard = sets.counts;
            for (old, (name, _)) in sets.names.iter().zip(&inputs[file.inputs.clone()]) {
                let differs = **old != **name;
                if differs {
                    for list in [&mut shard.diagnostics, &mut shard.second] {
                        for e in list.iter_mut().filter(|e| e.path() == Some(old)) {
                            *e = std::mem::replace(e, Error::index("")).renamed(name);
                        }
                    }
                }
                renamed.push(differs.then(|| name.clone()));
            }
            counts.extend(shard);
        }
        // Members name their input by its number: give each the name of
        // this stage, and a plain-text document (named by its path) too.
        let rename = |m: &mut crate::report::Member| {
            let i = m.location.input.index();
            if let (Some(Some(name)), Some((_, format))) = (renamed.get(i), inputs.get(i)) {
                if *format == Format::Text && m.location.doc == m.location.path {
                    m.location.doc = name.clone();
                }
                m.location.path = name.clone();
            }
        };
        let mut verdicts = Vec::with_capacity(parts);
        let shards = key_files.shards().count();
        for file in &self.files {
            file.verify_all()?;
            let mut v = PartVerdicts {
                comparisons: comparisons_of(file)?,
                ..PartVerdicts::default()
            };
            for shard in 0..shards {
                let (kept, duplicates) = shard_verdicts(file, shard, shards)?;
                v.kept.extend(kept);
                v.duplicates.extend(duplicates);
            }
            for (_, _, _, m) in &mut v.duplicates {
                rename(m);
            }
            for (_, m) in &mut v.kept {
                rename(m);
            }
            verdicts.push(v);
        }
        Ok(report_from_parts(config, counts, verdicts))
    }
}

/// The comparisons a verdict file's part made.
fn comparisons_of(file: &IndexFile) -> Result<u64, Error> {
    let meta = file.section(META)?;
    let meta = meta.read_range(28..36)?;
    Ok(u64::from_le_bytes(meta[..].try_into().expect("8 bytes")))
}

/// The verdicts of shard `shard` (of `shards`) in one verdict file: the
/// kept paragraphs its duplicates repeat (by slot) and its duplicates.
type ShardVerdicts = (Vec<(u64, Member)>, Vec<(u64, u64, Similarity, Member)>);

fn shard_verdicts(file: &IndexFile, shard: usize, shards: usize) -> Result<ShardVerdicts, Error> {
    let damaged = || {
        Error::index(format!(
            "verdict file {} is damaged: its verdicts do not decode",
            file.path().display()
        ))
    };
    let offsets = file.section(OFFSETS)?;
    if offsets.len() != 8 * (shards as u64 + 1) {
        return Err(damaged());
    }
    let raw = offsets.read_range(8 * shard as u64..8 * shard as u64 + 16)?;
    let at = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
    let body = file.section(PARTS)?;
    if at(0) > at(8) || at(8) > body.len() {
        return Err(damaged());
    }
    let bytes = body.read_range(at(0)..at(8))?;
    let decode = || -> Option<ShardVerdicts> {
        let mut d = Decoder::with_table(&bytes)?;
        let n = d.count32(8)?;
        let kept = (0..n)
            .map(|_| Some((d.u64()?, d.member()?)))
            .collect::<Option<Vec<_>>>()?;
        let n = d.count32(24)?;
        let mut duplicates = Vec::with_capacity(n);
        for _ in 0..n {
            let (slot, of) = (d.u64()?, d.u64()?);
            let similarity = Similarity {
                intersection: d.u32()?,
                union: d.u32()?,
            };
            duplicates.push((slot, of, similarity, d.member()?));
        }
        (d.left() == 0).then_some((kept, duplicates))
    };
    decode().ok_or_else(damaged)
}

/// What a shard job of a spread clean needs, from the verify stage's
/// verdicts when the last stage has not run: the findings in the inputs
/// of `part` (the shard's inputs, as the fingerprint stage cut them), as
/// [`crate::report::wire::read`] gives them from a findings file, and the
/// shard's inputs that could not be read. `None` when there are no
/// verdicts of these settings. No process then holds every duplicate.
///
/// # Errors
///
/// The key, sets or verdict files are damaged or do not fit each other,
/// or `part` is not a shard of the fingerprint stage's cut; the error
/// names the file.
pub(crate) fn shard_findings(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    part: Range<usize>,
) -> Result<Option<(Report, Vec<String>)>, Error> {
    let key_files = KeyFiles::open(dir, inputs, config, options)?;
    let Some(found) = VerdictFiles::find(dir, &key_files, config, options)? else {
        return Ok(None);
    };
    let shards = key_files.shards().count();
    let Some((shard, (file, first))) = key_files
        .shards()
        .enumerate()
        .find(|(_, (f, _))| f.inputs == part)
    else {
        return Err(Error::index(format!(
            "inputs {} to {} are not a shard of the fingerprint stage in {}: give the clean the \
             fingerprint stage's number of shards",
            part.start,
            part.end,
            dir.display()
        )));
    };
    let sets = SetsFile::open(
        dir,
        &file.inputs,
        first,
        (key_files.source(), found.parts(), found.settings),
    )?;
    let mut unreadable: Vec<String> = Vec::new();
    for e in sets.counts.diagnostics.iter().chain(&sets.counts.second) {
        if let (crate::ErrorKind::Io, Some(path)) = (e.kind(), e.path()) {
            // The inputs as this job names them.
            let at = sets.names.iter().position(|n| n == path);
            let name = at.map_or(path, |i| inputs[part.start + i].source.name());
            if !unreadable.iter().any(|u| u == name) {
                unreadable.push(name.to_owned());
            }
        }
    }
    let mut kept = ahash::AHashMap::new();
    let mut duplicates = Vec::new();
    for file in &found.files {
        let (k, d) = shard_verdicts(file, shard, shards)?;
        kept.extend(k);
        duplicates.extend(d);
    }
    // Members name their input by its number: this job's names.
    let rename = |m: &mut Member| {
        let Some(input) = inputs.get(m.location.input.index()) else {
            return;
        };
        let name: Arc<str> = Arc::from(input.source.name());
        if input.format == Format::Text && m.location.doc == m.location.path {
            m.location.doc = name.clone();
        }
        m.location.path = name;
    };
    // Report order: by kept paragraph, then by duplicate.
    duplicates.sort_unstable_by_key(|d| (d.1, d.0));
    let mut clusters: Vec<crate::report::Cluster> = Vec::new();
    let mut last = None;
    for (_, of, similarity, mut member) in duplicates {
        rename(&mut member);
        let Some(original) = kept.get(&of) else {
            return Err(Error::index(format!(
                "a verdict file in {} names kept paragraph {of} without it: run the verify \
                 stage again",
                dir.display()
            )));
        };
        let kind = if original.location.doc_index == member.location.doc_index {
            crate::report::Kind::WithinDocument
        } else {
            crate::report::Kind::CrossDocument
        };
        let duplicate = crate::report::Duplicate {
            member,
            similarity,
            kind,
        };
        match clusters.last_mut() {
            Some(c) if last == Some(of) => c.duplicates.push(duplicate),
            _ => {
                let mut original = original.clone();
                rename(&mut original);
                clusters.push(crate::report::Cluster {
                    kept: original,
                    duplicates: vec![duplicate],
                });
            }
        }
        last = Some(of);
    }
    let report = Report {
        summary: crate::report::Summary::default(),
        config: Config::default(),
        clusters,
        passages: Vec::new(),
        paragraphs_by_input: vec![0; inputs.len()],
        diagnostics: Vec::new(),
        timings: Vec::new(),
        contained: Vec::new(),
    };
    Ok(Some((report, unreadable)))
}
