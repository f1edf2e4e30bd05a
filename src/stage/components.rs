//! The components stage: which part verifies which candidates.
//!
//! A verdict depends only on the paragraphs of its component: the
//! candidate groups joined where they share a paragraph
//! ([`crate::pipeline::spread`]). So this stage joins the group stage's
//! runs into components (union-find over the candidates, the paragraphs
//! in some run) and deals the components to `parts` parts, largest first,
//! each to the part with the fewest candidates so far (ties to the lower
//! part): every part then gets about the same work, and a line repeated a
//! million times is one part's whole work rather than a bottleneck in
//! every part. It writes, for the reread stage of each shard, which of
//! its slots are candidates and of which part (`assign-FIRST-END.nda`),
//! and for the verify stage of each part, its runs (`runs-PPP-of-QQQ.ndr`).
//!
//! This stage is one process holding each candidate's slot, parent and
//! part (about 20 bytes per candidate; it reads the group files' runs
//! three times rather than hold them): the candidates only, not every
//! paragraph of the corpus. Slots are 64-bit; one job numbers up to 2^32
//! candidates.
//!
//! Encoding, numbers little-endian, each file an index container
//! (checksummed, written under a temporary name and renamed):
//!
//! ```text
//! assign (kind ASGN)
//!   META   version u32 (1) | parts u32 | source u64 (of the key files) |
//!          first slot u64 | slots u64 | candidates u64
//!   SLOTS  per candidate, ascending: the slot's difference from the
//!          previous one (from the first slot for the first), then its
//!          part, both LEB128 (up to 64 bits)
//! runs (kind RUNP)
//!   META   version u32 (1) | part u32 | parts u32 | bands u32 |
//!          source u64 | runs u64
//!   RUNS   per run, in band and key order (a run found in several bands
//!          once per band): length u32, then its slots u64, ascending
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::group::{self, KeyFiles, MAX_PARTS};
use super::keys::{put_leb128_u64, take_leb128_u64};
use super::{open_stage_file, whole, write_sections};
use crate::corpus::Input;
use crate::pipeline::ScanOptions;
use crate::pipeline::spread::Runs;
use crate::{Config, Error};

/// The file kind of an assignment file.
pub const ASSIGN_KIND: [u8; 4] = *b"ASGN";
/// The file kind of a part's runs.
pub const RUNS_KIND: [u8; 4] = *b"RUNP";
const VERSION: u32 = 1;
const META: [u8; 8] = *b"META\0\0\0\0";
const SLOTS: [u8; 8] = *b"SLOTS\0\0\0";
const RUNS: [u8; 8] = *b"RUNS\0\0\0\0";

/// The name of the assignment file of the shard holding `inputs`.
pub fn assign_name(inputs: &Range<usize>) -> String {
    format!("assign-{:010}-{:010}.nda", inputs.start, inputs.end)
}

/// The name of part `part` of `parts`'s runs.
pub fn runs_name(part: usize, parts: usize) -> String {
    format!("runs-{part:03}-of-{parts:03}.ndr")
}

/// What [`components`] did.
#[derive(Debug)]
pub struct ComponentsDone {
    /// Paragraphs in some candidate group.
    pub candidates: u64,
    /// Their components.
    pub components: u64,
    /// The candidates of the largest component.
    pub largest: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Checks a part count: 1 to [`MAX_PARTS`].
pub(crate) fn check_parts(part: usize, parts: usize) -> Result<(), Error> {
    if !(1..=MAX_PARTS).contains(&parts) || part >= parts {
        return Err(Error::config(format!(
            "--part {part} --of {parts}: the parts are numbered 0 to N-1, and N is 1 to \
             {MAX_PARTS}"
        )));
    }
    Ok(())
}

/// Finds the components of the candidate groups the group stage left in
/// `dir` (for a scan of `inputs`), deals them to `parts` parts and writes
/// the assignment of every shard and the runs of every part there,
/// replacing those a killed attempt wrote.
///
/// # Errors
///
/// `parts` is not 1 to [`MAX_PARTS`]; the key or group files are missing,
/// damaged or stale (named); writing failed.
pub fn components(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    parts: usize,
) -> Result<ComponentsDone, Error> {
    check_parts(0, parts)?;
    crate::pipeline::spread::refuse_containment(options)?;
    let key_files = KeyFiles::open(dir, inputs, config, options)?;
    // Three times through the group files' runs: the candidates, their
    // components, each run to its part.
    let runs = |each: &mut dyn FnMut(&[u64]) -> Result<(), Error>| {
        group::for_each_run(dir, &key_files, config, each)
    };
    // The candidates, ascending (sorted down now and then: a candidate is
    // in a run of most bands), and a parent for each (union-find with path
    // halving; the root of a component is its lowest candidate's index,
    // which keeps the result independent of the runs' order).
    let mut slots: Vec<u64> = Vec::new();
    let mut sorted = 0;
    let any = runs(&mut |run| {
        slots.extend_from_slice(run);
        if slots.len() > 2 * sorted + (1 << 20) {
            slots.sort_unstable();
            slots.dedup();
            sorted = slots.len();
        }
        Ok(())
    })?;
    if !any {
        return Err(Error::index(format!(
            "{} holds no group files: run `neardup stage group` for every part first",
            dir.display()
        )));
    }
    slots.sort_unstable();
    slots.dedup();
    if u32::try_from(slots.len()).is_err() {
        return Err(Error::limit(format!(
            "{} paragraphs are in candidate groups, more than one components job numbers ({})",
            slots.len(),
            u32::MAX
        )));
    }
    let at = |s: u64| slots.binary_search(&s).expect("a slot of a run") as u32;
    let mut parent: Vec<u32> = (0..slots.len() as u32).collect();
    let find = |parent: &mut Vec<u32>, mut i: u32| {
        while parent[i as usize] != i {
            let up = parent[parent[i as usize] as usize];
            parent[i as usize] = up;
            i = up;
        }
        i
    };
    runs(&mut |run| {
        let head = at(run[0]);
        for &s in &run[1..] {
            let (a, b) = (find(&mut parent, head), find(&mut parent, at(s)));
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
        Ok(())
    })?;
    let roots: Vec<u32> = (0..slots.len() as u32)
        .map(|i| find(&mut parent, i))
        .collect();
    drop(parent);
    let mut sizes: Vec<(u64, u32)> = Vec::new();
    {
        let mut count = ahash::AHashMap::<u32, u64>::new();
        for &r in &roots {
            *count.entry(r).or_default() += 1;
        }
        sizes.extend(count.into_iter().map(|(r, n)| (n, r)));
    }
    // Largest first, then by the lowest slot; each to the least loaded
    // part.
    sizes.sort_unstable_by_key(|&(n, r)| (std::cmp::Reverse(n), r));
    let mut load = vec![0u64; parts];
    let mut part_of_root = ahash::AHashMap::<u32, u32>::with_capacity(sizes.len());
    for &(n, root) in &sizes {
        let p = (0..parts)
            .min_by_key(|&p| (load[p], p))
            .expect("parts >= 1");
        load[p] += n;
        part_of_root.insert(root, p as u32);
    }
    let part_of: Vec<u32> = roots.iter().map(|r| part_of_root[r]).collect();
    drop((roots, part_of_root));
    // The dealt files of the components in rounds, if they ran before,
    // are replaced by these.
    for path in super::files_named(dir, "dealt-", ".ndf")? {
        std::fs::remove_file(&path)
            .map_err(|e| Error::index(format!("removing {}: {e}", path.display())))?;
    }
    let mut bytes = 0;
    // Each shard's assignment.
    for (file, first) in key_files.shards() {
        let end = first + file.slots();
        let from = slots.partition_point(|&s| s < first);
        let to = slots.partition_point(|&s| s < end);
        let mut body = Vec::new();
        let assigned = (from..to).map(|i| (slots[i], part_of[i]));
        encode_assigned(&mut body, first, assigned);
        let mut meta = Vec::with_capacity(40);
        meta.extend_from_slice(&VERSION.to_le_bytes());
        meta.extend_from_slice(&(parts as u32).to_le_bytes());
        for n in [key_files.source(), first, file.slots(), (to - from) as u64] {
            meta.extend_from_slice(&n.to_le_bytes());
        }
        let name = assign_name(&file.inputs);
        bytes += write_sections(dir, &name, ASSIGN_KIND, &[(META, &meta), (SLOTS, &body)])?;
    }
    // Each part's runs, in the order read.
    let mut streams: Vec<Vec<u8>> = vec![Vec::new(); parts];
    let mut counts = vec![0u64; parts];
    runs(&mut |run| {
        let p = part_of[at(run[0]) as usize] as usize;
        let out = &mut streams[p];
        out.extend_from_slice(&(run.len() as u32).to_le_bytes());
        for s in run {
            out.extend_from_slice(&s.to_le_bytes());
        }
        counts[p] += 1;
        Ok(())
    })?;
    for (part, stream) in streams.iter().enumerate() {
        let mut meta = Vec::with_capacity(32);
        let bands = config.lsh().bands() as u32;
        for n in [VERSION, part as u32, parts as u32, bands] {
            meta.extend_from_slice(&n.to_le_bytes());
        }
        meta.extend_from_slice(&key_files.source().to_le_bytes());
        meta.extend_from_slice(&counts[part].to_le_bytes());
        let name = runs_name(part, parts);
        bytes += write_sections(dir, &name, RUNS_KIND, &[(META, &meta), (RUNS, stream)])?;
    }
    Ok(ComponentsDone {
        candidates: slots.len() as u64,
        components: sizes.len() as u64,
        largest: sizes.first().map_or(0, |s| s.0),
        bytes,
    })
}

/// A shard's assignment: its candidates and their parts.
#[derive(Debug)]
pub(crate) struct Assignment {
    pub(crate) parts: usize,
    pub(crate) source: u64,
    pub(crate) first_slot: u64,
    pub(crate) slots: u64,
    /// (slot over the whole scan, part), ascending.
    pub(crate) wanted: Vec<(u64, u32)>,
}

/// Appends `assigned`, (slot, part) ascending from `first`, to `body`:
/// each slot's difference from the one before (from `first` for the
/// first), then its part, LEB128.
pub(crate) fn encode_assigned(
    body: &mut Vec<u8>,
    first: u64,
    assigned: impl Iterator<Item = (u64, u32)>,
) {
    let mut previous = first;
    for (slot, part) in assigned {
        put_leb128_u64(body, slot - previous);
        put_leb128_u64(body, u64::from(part));
        previous = slot;
    }
}

/// Decodes `n` (slot, part) pairs of [`encode_assigned`] from `body` into
/// `wanted`, checking that the slots ascend within the `slots` from
/// `first` and the parts are below `parts`, and that nothing follows;
/// else what is wrong.
pub(crate) fn decode_assigned(
    body: &[u8],
    (first, slots, n): (u64, u64, u64),
    parts: u32,
    wanted: &mut Vec<(u64, u32)>,
) -> Result<(), &'static str> {
    let mut rest = body;
    let mut slot = first;
    for i in 0..n {
        let decoded = take_leb128_u64(rest).and_then(|(d, r)| Some((d, take_leb128_u64(r)?)));
        let Some((delta, (part, r))) = decoded else {
            return Err("is damaged: its slots are cut short");
        };
        slot = slot.saturating_add(delta);
        let fits = slot < first.saturating_add(slots) && part < u64::from(parts);
        if !fits || (i > 0 && delta == 0) {
            return Err("is damaged: a slot or part is out of bounds");
        }
        wanted.push((slot, part as u32));
        rest = r;
    }
    match rest.is_empty() {
        true => Ok(()),
        false => Err("is damaged: it has bytes after its slots"),
    }
}

/// Reads the assignment of the shard holding `inputs` from `dir`.
pub(crate) fn read_assignment(dir: &Path, inputs: &Range<usize>) -> Result<Assignment, Error> {
    let path: PathBuf = dir.join(assign_name(inputs));
    let bad = |what: &str| Error::index(format!("assignment file {} {what}", path.display()));
    let (file, meta) = open_stage_file(
        &path,
        (ASSIGN_KIND, "assignment file", VERSION),
        (40, true),
        (
            "run `neardup stage components` (after the group stage) first",
            "components",
        ),
    )?;
    let (parts, source, first, slots, n) = (
        meta.u32(4),
        meta.u64(8),
        meta.u64(16),
        meta.u64(24),
        meta.u64(32),
    );
    let body = whole(&file, SLOTS)?;
    let mut wanted = Vec::with_capacity(n.min(body.len() as u64) as usize);
    decode_assigned(&body, (first, slots, n), parts, &mut wanted).map_err(bad)?;
    Ok(Assignment {
        parts: parts as usize,
        source,
        first_slot: first,
        slots,
        wanted,
    })
}

/// Reads part `part` of `parts`'s runs from `dir`, checking that they were
/// made from the key files whose source is `source`.
pub(crate) fn read_runs(
    dir: &Path,
    part: usize,
    parts: usize,
    source: u64,
    config: &Config,
) -> Result<Runs, Error> {
    let path = dir.join(runs_name(part, parts));
    let bad = |what: &str| Error::index(format!("runs file {} {what}", path.display()));
    let (file, meta) = open_stage_file(
        &path,
        (RUNS_KIND, "runs file", VERSION),
        (32, true),
        (
            &format!("run `neardup stage components --parts {parts}` first"),
            "components",
        ),
    )?;
    if meta.u32(12) as usize != config.lsh().bands() || meta.u64(16) != source {
        return Err(bad(
            "was made from other key files or settings (a fingerprint or group stage ran \
             again since): run the components stage again",
        ));
    }
    let bytes = whole(&file, RUNS)?;
    let mut runs = Runs::default();
    let mut rest = &bytes[..];
    let mut run = Vec::new();
    while !rest.is_empty() {
        let len = rest
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize);
        let body = len.and_then(|n| rest.get(4..4 + n.checked_mul(8)?));
        let Some(body) = body else {
            return Err(bad("is damaged: a run is cut short"));
        };
        run.clear();
        run.extend(
            body.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8"))),
        );
        if run.len() < 2 || !run.windows(2).all(|w| w[0] < w[1]) {
            return Err(bad("is damaged: a run is out of order"));
        }
        runs.push(&run);
        rest = &rest[4 + body.len()..];
    }
    if runs.len() as u64 != meta.u64(24) {
        return Err(bad("is damaged: it does not hold the runs it counts"));
    }
    Ok(runs)
}
