//! The components stage in rounds: components found by tasks, none of
//! which holds the candidate graph, for corpora whose candidates one
//! process cannot number.
//!
//! The components stage ([`super::components`]) is one process holding
//! every candidate (about 45 bytes each). Past that, the graph is cut by
//! paragraph: task `t` of `T` owns the paragraphs whose slot hashes to
//! `t`, and holds only their edges. The components are then found with
//! the large-star and small-star operations of Kiveris et al.,
//! "Connected Components in MapReduce and Beyond" (SoCC 2014), each a
//! round of `T` tasks:
//!
//! - **round 0** ([`round`]): task `t` reads its share of the group files
//!   and joins its runs by union-find (holding its share's paragraphs),
//!   then sends each of these local components as a star (its lowest
//!   paragraph linked to each other one): each edge, both ways, to the
//!   task of its first end. Starting from local stars rather than one star
//!   per run saves rounds (at 1.1 GB of news in 2 tasks, 4 rounds after
//!   round 0 instead of 6). It sends each run to the task of its first
//!   slot, where it waits for the finish.
//! - **rounds 1, 2, …**: odd rounds large-star (every paragraph links its
//!   larger neighbours to the least of itself and its neighbours), even
//!   rounds small-star (it links its smaller neighbours and itself to the
//!   least of them). Components stay the same; they only get flatter.
//! - A round's task also says whether its input was already *stars*:
//!   every paragraph either has no smaller neighbour (a centre) or exactly
//!   one neighbour, smaller (a leaf). When every task of a round says so,
//!   the graph is a star per component around its lowest slot, both
//!   operations leave it as it is, and the rounds are over (typically a
//!   handful: the rounds needed grow with the logarithm of a component's
//!   diameter). Each such task also lists its [`LISTED`] largest centres.
//! - **finish** ([`finish`]): task `t` labels its paragraphs with their
//!   centres and deals the components to the verify stage's parts: the
//!   listed ones largest first, each to the least loaded part (the
//!   components stage's own rule, so a corpus whose tasks list every
//!   component is dealt exactly as that stage deals it), the rest by a
//!   hash of their centre. It writes, for each shard, which of its own
//!   paragraphs are candidates and of which part, and for each part, the
//!   runs waiting with it, each with its place in the scan's order of runs
//!   (band, group file, position) so that a part takes them in that order.
//!
//! The reread and verify stages read a shard's assignment and a part's
//! runs from every finish file when the components stage's own files are
//! not there (`read_assignment`, `read_runs`); the report is the same
//! either way. Memory per task: its share of the edges, as 16-byte pairs,
//! about twice over (in and out); round 0 also its runs and their
//! paragraphs' union-find, the finish its runs and its paragraphs' parts.
//!
//! Encoding, numbers little-endian, LEB128 for the varints, each file an
//! index container (checksummed, written under a temporary name and
//! renamed, so a retried task writes it again):
//!
//! ```text
//! links (kind LNKS), links-rRRR-TTTT-of-NNNN.ndl, one per round and task
//!   META   version u32 (1) | round u32 | task u32 | tasks u32 |
//!          source u64 | stars u32 (1: its input was stars) | 0 u32 |
//!          paragraphs u64 | centres u64 | largest u64
//!   E<t>   for each task t (tag 'E', 0, 0, 0, t u32): the edges (a, b)
//!          whose a is task t's, ascending, each once: a's difference from
//!          the previous a, then b (or, for the same a, b's difference
//!          from the previous b), varints
//!   R<t>   round 0, for each task t: the runs whose first slot is task
//!          t's, in order: band, file, position, length, first slot, then
//!          each next slot's difference from the one before, varints
//!   SIZES  when stars: the task's largest components, at most LISTED:
//!          centre u64 | paragraphs u64, largest first, then by centre
//! dealt (kind DEAL), dealt-TTTT-of-NNNN.ndf, one per finish task
//!   META   version u32 (1) | task u32 | tasks u32 | parts u32 |
//!          source u64 | round u32 | 0 u32 | paragraphs u64 |
//!          components u64 | largest u64
//!   A<i>   for each shard, by its first input i: first slot u64 |
//!          slots u64 | candidates u64, then per candidate of this task,
//!          ascending: its difference from the previous (from the first
//!          slot for the first), then its part, varints
//!   P<k>   for each part k: runs, as in R<t>
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};

use ahash::AHashMap;

use super::components::{decode_assigned, encode_assigned};
use super::group::{GroupSet, KeyFiles, RunAt};
use super::keys::{put_leb128_u64, take_leb128_u64};
use super::{Meta, open_stage_file, whole, write_sections};
use crate::corpus::Input;
use crate::pipeline::ScanOptions;
use crate::pipeline::spread::Runs;
use crate::{Config, Error};

/// The file kind of a round's links.
pub const LINKS_KIND: [u8; 4] = *b"LNKS";
/// The file kind of a finish task's assignments and runs.
pub const DEALT_KIND: [u8; 4] = *b"DEAL";
const VERSION: u32 = 1;
const META: [u8; 8] = *b"META\0\0\0\0";
const SIZES: [u8; 8] = *b"SIZES\0\0\0";
/// The most tasks a round has.
pub const MAX_TASKS: usize = 4096;
/// The most rounds: far more than components of any size need (each pair
/// of rounds shortens the longest path of a component by a constant
/// fraction).
pub const MAX_ROUNDS: usize = 200;
/// The centres each task lists at convergence, largest first: the
/// finish deals these largest first to the least loaded part, the others
/// by a hash of their centre.
pub const LISTED: usize = 4096;

/// The name of round `round`'s links file of task `task` of `tasks`.
pub fn links_name(round: usize, task: usize, tasks: usize) -> String {
    format!("links-r{round:03}-{task:04}-of-{tasks:04}.ndl")
}

/// The name of finish task `task` of `tasks`'s file.
pub fn dealt_name(task: usize, tasks: usize) -> String {
    format!("dealt-{task:04}-of-{tasks:04}.ndf")
}

fn tag(kind: u8, n: usize) -> [u8; 8] {
    let mut t = [kind, 0, 0, 0, 0, 0, 0, 0];
    t[4..].copy_from_slice(&(n as u32).to_le_bytes());
    t
}

/// A 64-bit mix (SplitMix64's finaliser) of `x` with `salt`: spreads
/// slots, which come in runs, evenly over tasks and parts.
fn mix(x: u64, salt: u64) -> u64 {
    let mut z = x ^ salt;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The task that owns slot `slot`.
fn task_of(slot: u64, tasks: usize) -> usize {
    (mix(slot, 0x6e65_6172_6475_7030) % tasks as u64) as usize
}

/// The part of a component not listed at convergence, by its centre.
fn hashed_part(centre: u64, parts: usize) -> u32 {
    (mix(centre, 0x7061_7274_7321_2121) % parts as u64) as u32
}

/// What a round did.
#[derive(Debug, Default)]
pub struct RoundDone {
    /// Edges read (each way once).
    pub edges_in: u64,
    /// Edges written (each way once).
    pub edges_out: u64,
    /// Whether the round's input was stars already: when every task of a
    /// round says so, run [`finish`] on it.
    pub stars: bool,
    /// Bytes written.
    pub bytes: u64,
}

/// What a finish task did.
#[derive(Debug, Default)]
pub struct FinishDone {
    /// The task's candidates (paragraphs in some candidate group).
    pub candidates: u64,
    /// The components whose centre is the task's.
    pub components: u64,
    /// The candidates of the largest of them.
    pub largest: u64,
    /// Bytes written.
    pub bytes: u64,
}

fn check_tasks(task: usize, tasks: usize) -> Result<(), Error> {
    if !(1..=MAX_TASKS).contains(&tasks) || task >= tasks {
        return Err(Error::config(format!(
            "--task {task} --of {tasks}: the tasks are numbered 0 to N-1, and N is 1 to \
             {MAX_TASKS}"
        )));
    }
    Ok(())
}

/// Edges bound for each task, sorted down now and then (a run found in
/// many bands gives the same edges again).
struct Outbox {
    edges: Vec<Vec<(u64, u64)>>,
    sorted: Vec<usize>,
}

impl Outbox {
    fn new(tasks: usize) -> Outbox {
        Outbox {
            edges: vec![Vec::new(); tasks],
            sorted: vec![0; tasks],
        }
    }

    /// Adds the edge a–b, both ways.
    fn link(&mut self, a: u64, b: u64) {
        let tasks = self.edges.len();
        for (x, y) in [(a, b), (b, a)] {
            let t = task_of(x, tasks);
            let list = &mut self.edges[t];
            list.push((x, y));
            if list.len() > 2 * self.sorted[t] + (1 << 20) {
                list.sort_unstable();
                list.dedup();
                self.sorted[t] = list.len();
            }
        }
    }

    /// Each task's edges, sorted and each once, encoded.
    fn encode(self) -> (Vec<Vec<u8>>, u64) {
        let mut count = 0;
        let encoded = (self.edges.into_iter())
            .map(|mut list| {
                list.sort_unstable();
                list.dedup();
                count += list.len() as u64;
                encode_edges(&list)
            })
            .collect();
        (encoded, count)
    }
}

fn encode_edges(edges: &[(u64, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(edges.len() * 6);
    let (mut a0, mut b0) = (0u64, 0u64);
    for (i, &(a, b)) in edges.iter().enumerate() {
        put_leb128_u64(&mut out, a - a0);
        put_leb128_u64(&mut out, if i > 0 && a == a0 { b - b0 } else { b });
        (a0, b0) = (a, b);
    }
    out
}

/// Decodes edges into `into`, checking that they ascend and that each
/// one's first end is task `task`'s.
fn decode_edges(
    mut bytes: &[u8],
    (task, tasks): (usize, usize),
    into: &mut Vec<(u64, u64)>,
) -> Option<()> {
    let (mut a0, mut b0, mut first) = (0u64, 0u64, true);
    while !bytes.is_empty() {
        let (da, rest) = take_leb128_u64(bytes)?;
        let (db, rest) = take_leb128_u64(rest)?;
        let a = a0.checked_add(da)?;
        let b = match !first && da == 0 {
            true => b0.checked_add(db).filter(|_| db > 0)?,
            false => db,
        };
        if a == b || task_of(a, tasks) != task {
            return None;
        }
        into.push((a, b));
        (a0, b0, first, bytes) = (a, b, false, rest);
    }
    Some(())
}

fn put_run(out: &mut Vec<u8>, at: RunAt, run: &[u64]) {
    for n in [u64::from(at.band), u64::from(at.file), at.seq] {
        put_leb128_u64(out, n);
    }
    put_leb128_u64(out, run.len() as u64);
    put_leb128_u64(out, run[0]);
    for w in run.windows(2) {
        put_leb128_u64(out, w[1] - w[0]);
    }
}

/// The next run of `bytes` into `run`, with where it is, and the rest.
fn take_run<'b>(bytes: &'b [u8], run: &mut Vec<u64>) -> Option<(RunAt, &'b [u8])> {
    let (band, rest) = take_leb128_u64(bytes)?;
    let (file, rest) = take_leb128_u64(rest)?;
    let (seq, rest) = take_leb128_u64(rest)?;
    let (len, mut rest) = take_leb128_u64(rest)?;
    if len < 2 || len > rest.len() as u64 {
        return None;
    }
    run.clear();
    let mut slot = 0u64;
    for i in 0..len {
        let (d, r) = take_leb128_u64(rest)?;
        if i > 0 && d == 0 {
            return None;
        }
        slot = slot.checked_add(d)?;
        run.push(slot);
        rest = r;
    }
    let at = RunAt {
        band: u32::try_from(band).ok()?,
        file: u32::try_from(file).ok()?,
        seq,
    };
    Some((at, rest))
}

fn links_meta(
    fields: (usize, usize, usize),
    source: u64,
    stars: bool,
    counts: [u64; 3],
) -> Vec<u8> {
    let (round, task, tasks) = fields;
    let mut meta = Vec::with_capacity(56);
    for n in [VERSION, round as u32, task as u32, tasks as u32] {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    meta.extend_from_slice(&source.to_le_bytes());
    meta.extend_from_slice(&u32::from(stars).to_le_bytes());
    meta.extend_from_slice(&0u32.to_le_bytes());
    for n in counts {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    meta
}

/// An opened links file of round `round`, task `task` of `tasks`,
/// checked against the key files' `source`.
fn open_links(
    dir: &Path,
    (round, task, tasks): (usize, usize, usize),
    source: u64,
) -> Result<(crate::index::file::IndexFile, Meta), Error> {
    let path = dir.join(links_name(round, task, tasks));
    let missing =
        format!("run round {round} of `neardup stage star --of {tasks}` (task {task}) first");
    let (file, meta) = open_stage_file(
        &path,
        (LINKS_KIND, "links file", VERSION),
        (56, false),
        (&missing, "star"),
    )?;
    let fits =
        (meta.u32(4), meta.u32(8), meta.u32(12)) == (round as u32, task as u32, tasks as u32);
    if !fits {
        return Err(Error::index(format!(
            "links file {} is damaged: its META names another round or task",
            path.display()
        )));
    }
    if meta.u64(16) != source {
        return Err(Error::index(format!(
            "links file {} was made from other key files (a fingerprint or group stage ran \
             again since): run the rounds again from round 0",
            path.display()
        )));
    }
    Ok((file, meta))
}

/// Task `task`'s edges of round `round`: section `E<task>` of every
/// task's links file, sorted, each once.
fn read_edges(
    dir: &Path,
    (round, task, tasks): (usize, usize, usize),
    source: u64,
) -> Result<Vec<(u64, u64)>, Error> {
    let mut edges = Vec::new();
    for from in 0..tasks {
        let (file, _) = open_links(dir, (round, from, tasks), source)?;
        let bytes = whole(&file, tag(b'E', task))?;
        if decode_edges(&bytes, (task, tasks), &mut edges).is_none() {
            return Err(Error::index(format!(
                "links file {} is damaged: its edges for task {task} are cut short, out of \
                 order or of another task",
                file.path().display()
            )));
        }
    }
    edges.sort_unstable();
    edges.dedup();
    Ok(edges)
}

/// Each paragraph of sorted `edges` with its neighbours, ascending.
fn neighbourhoods(edges: &[(u64, u64)]) -> impl Iterator<Item = (u64, Vec<u64>)> + '_ {
    edges
        .chunk_by(|x, y| x.0 == y.0)
        .map(|c| (c[0].0, c.iter().map(|e| e.1).collect()))
}

/// Whether a paragraph with neighbours `ns` (ascending) is a centre (no
/// smaller neighbour) or a leaf (one neighbour, smaller): what every
/// paragraph is once the rounds are over.
fn settled(u: u64, ns: &[u64]) -> bool {
    ns[0] > u || ns.len() == 1
}

/// The components of the runs a round-0 task read (`runs`, as it
/// encoded them for each task), found by union-find: each as a star, its
/// lowest paragraph linked to each other one. Rounds then start from
/// these stars, not from one star per run: the task's share of the graph
/// is already flat, and fewer rounds follow. Holds 12 bytes per distinct
/// paragraph besides the runs.
fn local_stars(runs: &[Vec<u8>]) -> Result<Vec<(u64, u64)>, Error> {
    let each = |f: &mut dyn FnMut(&[u64])| {
        let mut run = Vec::new();
        for bytes in runs {
            let mut rest = &bytes[..];
            while let Some((_, r)) = take_run(rest, &mut run) {
                f(&run);
                rest = r;
            }
        }
    };
    let mut slots = Vec::new();
    let mut sorted = 0;
    each(&mut |run| {
        slots.extend_from_slice(run);
        if slots.len() > 2 * sorted + (1 << 20) {
            slots.sort_unstable();
            slots.dedup();
            sorted = slots.len();
        }
    });
    slots.sort_unstable();
    slots.dedup();
    if u32::try_from(slots.len()).is_err() {
        return Err(Error::limit(format!(
            "a task's runs hold {} paragraphs, more than it numbers ({}): use more tasks",
            slots.len(),
            u32::MAX
        )));
    }
    let at = |s: u64| slots.binary_search(&s).expect("a member") as u32;
    let mut parent: Vec<u32> = (0..slots.len() as u32).collect();
    fn find(parent: &mut [u32], mut i: u32) -> u32 {
        while parent[i as usize] != i {
            parent[i as usize] = parent[parent[i as usize] as usize];
            i = parent[i as usize];
        }
        i
    }
    each(&mut |run| {
        let head = at(run[0]);
        for &s in &run[1..] {
            let (a, b) = (find(&mut parent, head), find(&mut parent, at(s)));
            // The lower index is the root: a component's root is its
            // lowest paragraph.
            parent[a.max(b) as usize] = a.min(b);
        }
    });
    Ok((0..slots.len() as u32)
        .filter_map(|i| {
            let root = find(&mut parent, i);
            (root != i).then(|| (slots[root as usize], slots[i as usize]))
        })
        .collect())
}

/// One round on a task's `edges` (sorted, each once): large-star when
/// `large`, else small-star, each new edge to `out`. Returns whether the
/// edges were stars already, how many paragraphs they link, and, if
/// stars, each centre's component size.
fn step(
    edges: &[(u64, u64)],
    large: bool,
    out: &mut Outbox,
) -> (bool, u64, Vec<(std::cmp::Reverse<u64>, u64)>) {
    let (mut stars, mut paragraphs, mut sizes) = (true, 0, Vec::new());
    for (u, ns) in neighbourhoods(edges) {
        paragraphs += 1;
        if !settled(u, &ns) {
            stars = false;
        } else if ns[0] > u {
            sizes.push((std::cmp::Reverse(ns.len() as u64 + 1), u));
        }
        let below = ns.partition_point(|&v| v < u);
        let least = ns[0].min(u);
        if large {
            for &v in &ns[below..] {
                out.link(v, least);
            }
        } else {
            for &v in ns[..below].iter().filter(|&&v| v != least) {
                out.link(v, least);
            }
            if u != least {
                out.link(u, least);
            }
        }
    }
    (stars, paragraphs, sizes)
}

/// Runs round `round` of the components in rounds, task `task` of
/// `tasks`, for a scan of `inputs` whose group stage left its files in
/// `dir` (see the module doc): round 0 reads the task's share of the
/// group files, later rounds the links of the round before. Writes the
/// task's links file, replacing one a killed attempt wrote.
///
/// # Errors
///
/// `task`/`tasks` or `round` out of range; containment is asked for; a
/// key, group or links file is missing, damaged or stale (named); writing
/// failed.
pub fn round(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    round: usize,
    task: usize,
    tasks: usize,
) -> Result<RoundDone, Error> {
    check_tasks(task, tasks)?;
    if round > MAX_ROUNDS {
        return Err(Error::config(format!(
            "round {round}: the components converge long before round {MAX_ROUNDS}; a round \
             this late means the rounds were not checked (`neardup stage star --check R`)"
        )));
    }
    crate::pipeline::spread::refuse_containment(options)?;
    let key_files = KeyFiles::open(dir, inputs, config, options)?;
    let source = key_files.source();
    let mut out = Outbox::new(tasks);
    let mut done = RoundDone::default();
    let mut sections: Vec<([u8; 8], Vec<u8>)> = Vec::new();
    let mut counts = [0u64; 3];
    if round == 0 {
        let Some(set) = GroupSet::open(dir, &key_files, config)? else {
            return Err(Error::index(format!(
                "{} holds no group files: run `neardup stage group` for every part first",
                dir.display()
            )));
        };
        let files = set.len() * task / tasks..set.len() * (task + 1) / tasks;
        let mut runs = vec![Vec::new(); tasks];
        set.runs(files, &mut |at, run| {
            put_run(&mut runs[task_of(run[0], tasks)], at, run);
            Ok(())
        })?;
        for (low, high) in local_stars(&runs)? {
            out.link(low, high);
        }
        sections.extend((runs.into_iter().enumerate()).map(|(t, r)| (tag(b'R', t), r)));
    } else {
        let edges = read_edges(dir, (round - 1, task, tasks), source)?;
        done.edges_in = edges.len() as u64;
        let (stars, paragraphs, mut sizes) = step(&edges, round % 2 == 1, &mut out);
        (done.stars, counts[0]) = (stars, paragraphs);
        if done.stars {
            sizes.sort_unstable();
            counts[1] = sizes.len() as u64;
            counts[2] = sizes.first().map_or(0, |s| s.0.0);
            let mut listed = Vec::with_capacity(sizes.len().min(LISTED) * 16);
            for &(std::cmp::Reverse(n), centre) in sizes.iter().take(LISTED) {
                listed.extend_from_slice(&centre.to_le_bytes());
                listed.extend_from_slice(&n.to_le_bytes());
            }
            sections.push((SIZES, listed));
        }
    }
    let (encoded, count) = out.encode();
    done.edges_out = count;
    sections.extend((encoded.into_iter().enumerate()).map(|(t, e)| (tag(b'E', t), e)));
    let meta = links_meta((round, task, tasks), source, done.stars, counts);
    let mut all: Vec<([u8; 8], &[u8])> = vec![(META, &meta)];
    all.extend(sections.iter().map(|(t, b)| (*t, &b[..])));
    done.bytes = write_sections(dir, &links_name(round, task, tasks), LINKS_KIND, &all)?;
    Ok(done)
}

/// Whether round `round` (of `tasks` tasks) converged: every task's links
/// file is there and says its input was stars.
///
/// # Errors
///
/// A links file of the round is missing, damaged or stale (named).
pub fn converged(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    round: usize,
    tasks: usize,
) -> Result<bool, Error> {
    check_tasks(0, tasks)?;
    let source = KeyFiles::open(dir, inputs, config, options)?.source();
    let mut all = round > 0;
    for task in 0..tasks {
        let (_, meta) = open_links(dir, (round, task, tasks), source)?;
        all &= meta.u32(24) == 1;
    }
    Ok(all)
}

/// Finish task `task` of `tasks`, after round `round` converged (see
/// [`converged`]): labels the task's paragraphs with their components,
/// deals the components to `parts` parts and writes the task's dealt file
/// (each shard's candidates of this task, each part's runs waiting here),
/// replacing one a killed attempt wrote. It removes the components
/// stage's own files, which the dealt files replace, and dealt files of
/// another task count.
///
/// # Errors
///
/// The round did not converge; a key or links file is missing, damaged or
/// stale (named); `parts` is not 1 to [`super::group::MAX_PARTS`];
/// writing failed.
pub fn finish(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    round: usize,
    (task, tasks): (usize, usize),
    parts: usize,
) -> Result<FinishDone, Error> {
    check_tasks(task, tasks)?;
    super::components::check_parts(0, parts)?;
    crate::pipeline::spread::refuse_containment(options)?;
    let key_files = KeyFiles::open(dir, inputs, config, options)?;
    let source = key_files.source();
    // The listed components, the same in every task: dealt largest first,
    // each to the least loaded part.
    let mut listed = Vec::new();
    for t in 0..tasks {
        let (file, meta) = open_links(dir, (round, t, tasks), source)?;
        if round == 0 || meta.u32(24) != 1 {
            return Err(Error::index(format!(
                "round {round} of the components did not converge (task {t}'s input was not \
                 stars yet): run round {} and finish after the first round that does",
                round + 1
            )));
        }
        let bytes = whole(&file, SIZES)?;
        if bytes.len() % 16 != 0 {
            return Err(Error::index(format!(
                "links file {} is damaged: its SIZES section is cut short",
                file.path().display()
            )));
        }
        listed.extend(bytes.chunks_exact(16).map(|c| {
            let n = |at: usize| u64::from_le_bytes(c[at..at + 8].try_into().expect("8"));
            (std::cmp::Reverse(n(8)), n(0))
        }));
    }
    listed.sort_unstable();
    let mut load = vec![0u64; parts];
    let mut dealt = AHashMap::with_capacity(listed.len());
    for &(std::cmp::Reverse(n), centre) in &listed {
        let p = (0..parts)
            .min_by_key(|&p| (load[p], p))
            .expect("parts >= 1");
        load[p] += n;
        dealt.insert(centre, p as u32);
    }
    let part_of = |centre: u64| {
        dealt
            .get(&centre)
            .copied()
            .unwrap_or_else(|| hashed_part(centre, parts))
    };
    // This task's paragraphs, each with its centre's part.
    let edges = read_edges(dir, (round, task, tasks), source)?;
    let mut done = FinishDone::default();
    let mut labels: Vec<(u64, u32)> = Vec::new();
    for (u, ns) in neighbourhoods(&edges) {
        if !settled(u, &ns) {
            return Err(Error::index(format!(
                "the links of round {round} for task {task} are not stars, though their files \
                 say so: the links files are damaged; run the rounds again"
            )));
        }
        let centre = ns[0].min(u);
        if centre == u {
            done.components += 1;
            done.largest = done.largest.max(ns.len() as u64 + 1);
        }
        labels.push((u, part_of(centre)));
    }
    drop(edges);
    done.candidates = labels.len() as u64;
    let mut sections: Vec<([u8; 8], Vec<u8>)> = Vec::new();
    for (file, first) in key_files.shards() {
        let end = first + file.slots();
        let from = labels.partition_point(|l| l.0 < first);
        let to = labels.partition_point(|l| l.0 < end);
        let mut body = Vec::with_capacity(24 + (to - from) * 4);
        for n in [first, file.slots(), (to - from) as u64] {
            body.extend_from_slice(&n.to_le_bytes());
        }
        encode_assigned(&mut body, first, labels[from..to].iter().copied());
        sections.push((tag(b'A', file.inputs.start), body));
    }
    // The runs that waited here since round 0, to their parts.
    let mut runs = vec![Vec::new(); parts];
    let mut run = Vec::new();
    for t in 0..tasks {
        let (file, _) = open_links(dir, (0, t, tasks), source)?;
        let bytes = whole(&file, tag(b'R', task))?;
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let taken = take_run(rest, &mut run).and_then(|(at, r)| {
                let i = labels.binary_search_by_key(&run[0], |l| l.0).ok()?;
                Some((at, r, labels[i].1))
            });
            let Some((at, r, part)) = taken else {
                return Err(Error::index(format!(
                    "links file {} is damaged: a run for task {task} is cut short or starts at \
                     a paragraph with no links",
                    file.path().display()
                )));
            };
            put_run(&mut runs[part as usize], at, &run);
            rest = r;
        }
    }
    sections.extend((runs.into_iter().enumerate()).map(|(k, r)| (tag(b'P', k), r)));
    let mut meta = Vec::with_capacity(56);
    for n in [VERSION, task as u32, tasks as u32, parts as u32] {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    meta.extend_from_slice(&source.to_le_bytes());
    meta.extend_from_slice(&(round as u32).to_le_bytes());
    meta.extend_from_slice(&0u32.to_le_bytes());
    for n in [done.candidates, done.components, done.largest] {
        meta.extend_from_slice(&n.to_le_bytes());
    }
    remove_replaced(dir, tasks)?;
    let mut all: Vec<([u8; 8], &[u8])> = vec![(META, &meta)];
    all.extend(sections.iter().map(|(t, b)| (*t, &b[..])));
    done.bytes = write_sections(dir, &dealt_name(task, tasks), DEALT_KIND, &all)?;
    Ok(done)
}

/// Removes what the dealt files of `tasks` tasks replace: the components
/// stage's own assignment and runs files, and dealt files of another task
/// count.
fn remove_replaced(dir: &Path, tasks: usize) -> Result<(), Error> {
    let own = format!("-of-{tasks:04}.ndf");
    let mut stale = super::files_named(dir, "assign-", ".nda")?;
    stale.extend(super::files_named(dir, "runs-", ".ndr")?);
    stale.extend(
        (super::files_named(dir, "dealt-", ".ndf")?.into_iter())
            .filter(|p| !p.to_string_lossy().ends_with(&own)),
    );
    for path in stale {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::index(format!("removing {}: {e}", path.display())));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The dealt files in `dir`, all of one task count, parts and source
/// (their footers checked; each section's chunks are checked as they are
/// read); `None` when there are none.
fn dealt_files(dir: &Path) -> Result<Option<(Vec<crate::index::file::IndexFile>, Meta)>, Error> {
    let paths = super::files_named(dir, "dealt-", ".ndf")?;
    let Some(first) = paths.first() else {
        return Ok(None);
    };
    let open = |path: &PathBuf| {
        open_stage_file(
            path,
            (DEALT_KIND, "dealt file", VERSION),
            // Every reader reads its own sections only, each chunk checked
            // as it is read: not every chunk of every file.
            (56, false),
            ("run the finish of `neardup stage star` first", "star"),
        )
    };
    let (_, head) = open(first)?;
    let (tasks, parts, source) = (head.u32(8) as usize, head.u32(12), head.u64(16));
    let mut files = Vec::with_capacity(tasks);
    for task in 0..tasks {
        let path = dir.join(dealt_name(task, tasks));
        let (file, meta) = open(&path)?;
        let fits = (meta.u32(4), meta.u32(8), meta.u32(12), meta.u64(16))
            == (task as u32, tasks as u32, parts, source);
        if !fits {
            return Err(Error::index(format!(
                "dealt file {} does not fit {} (another finish, of other parts or key files): \
                 run the finish of every task again",
                path.display(),
                first.display()
            )));
        }
        files.push(file);
    }
    if paths.len() != tasks {
        return Err(Error::index(format!(
            "{} holds dealt files of another task count than {}: run the finish again",
            dir.display(),
            first.display()
        )));
    }
    Ok(Some((files, head)))
}

/// The assignment of the shard holding `inputs` from the dealt files in
/// `dir`, or `None` when there are none.
pub(crate) fn read_assignment(
    dir: &Path,
    inputs: &Range<usize>,
) -> Result<Option<super::components::Assignment>, Error> {
    let Some((files, head)) = dealt_files(dir)? else {
        return Ok(None);
    };
    let parts = head.u32(12);
    let mut wanted = Vec::new();
    let mut shard: Option<(u64, u64)> = None;
    for file in &files {
        let bad = |what: &str| {
            Error::index(format!(
                "dealt file {} {what} (shard of inputs {}..{})",
                file.path().display(),
                inputs.start,
                inputs.end
            ))
        };
        let body = whole(file, tag(b'A', inputs.start))?;
        if body.len() < 24 {
            return Err(bad("is damaged: a shard's head is cut short"));
        }
        let n = |at: usize| u64::from_le_bytes(body[at..at + 8].try_into().expect("8"));
        let (first, slots, count) = (n(0), n(8), n(16));
        if *shard.get_or_insert((first, slots)) != (first, slots) {
            return Err(bad(
                "does not fit the other dealt files: run the finish again",
            ));
        }
        decode_assigned(&body[24..], (first, slots, count), parts, &mut wanted).map_err(bad)?;
    }
    wanted.sort_unstable();
    if wanted.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(Error::index(format!(
            "the dealt files in {} name a paragraph twice: run the finish again",
            dir.display()
        )));
    }
    let (first_slot, slots) = shard.unwrap_or_default();
    Ok(Some(super::components::Assignment {
        parts: parts as usize,
        source: head.u64(16),
        first_slot,
        slots,
        wanted,
    }))
}

/// Part `part` of `parts`'s runs from the dealt files in `dir`, in the
/// scan's order of runs, or `None` when there are none.
pub(crate) fn read_runs(
    dir: &Path,
    part: usize,
    parts: usize,
    source: u64,
) -> Result<Option<Runs>, Error> {
    let Some((files, head)) = dealt_files(dir)? else {
        return Ok(None);
    };
    if head.u32(12) as usize != parts || head.u64(16) != source {
        return Err(Error::index(format!(
            "the dealt files in {} were made for {} parts or from other key files, and this \
             verify stage is of {parts} parts: run the finish again",
            dir.display(),
            head.u32(12)
        )));
    }
    let mut found: Vec<(RunAt, Vec<u64>)> = Vec::new();
    let mut run = Vec::new();
    for file in &files {
        let bytes = whole(file, tag(b'P', part))?;
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let Some((at, r)) = take_run(rest, &mut run) else {
                return Err(Error::index(format!(
                    "dealt file {} is damaged: a run of part {part} is cut short",
                    file.path().display()
                )));
            };
            found.push((at, run.clone()));
            rest = r;
        }
    }
    found.sort_unstable_by_key(|f| f.0);
    let mut runs = Runs::default();
    for (_, run) in &found {
        runs.push(run);
    }
    Ok(Some(runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Components of a random graph by union-find.
    fn union_find(n: u64, edges: &[(u64, u64)]) -> Vec<u64> {
        let mut parent: Vec<u64> = (0..n).collect();
        fn find(p: &mut [u64], mut i: u64) -> u64 {
            while p[i as usize] != i {
                p[i as usize] = p[p[i as usize] as usize];
                i = p[i as usize];
            }
            i
        }
        for &(a, b) in edges {
            let (x, y) = (find(&mut parent, a), find(&mut parent, b));
            parent[x.max(y) as usize] = x.min(y);
        }
        (0..n).map(|i| find(&mut parent, i)).collect()
    }

    /// The rounds in memory, as the tasks run them: every paragraph ends
    /// linked to the lowest of its component, whatever the task count.
    #[test]
    fn rounds_find_the_components_of_union_find() {
        let mut seed = 7u64;
        let mut next = || {
            seed = mix(seed, 1);
            seed
        };
        for trial in 0..40 {
            let n = 2 + next() % 300;
            let edges: Vec<(u64, u64)> = (0..next() % (2 * n))
                .map(|_| (next() % n, next() % n))
                .filter(|(a, b)| a != b)
                .collect();
            // A long path too: the worst case for rounds.
            let path: Vec<(u64, u64)> = match trial % 4 {
                0 => (1..n).map(|i| (i - 1, i)).collect(),
                _ => Vec::new(),
            };
            // Runs of 3 to 6 paragraphs too, as the group stage writes.
            let runs: Vec<Vec<u64>> = (0..next() % 20)
                .map(|_| {
                    let mut run: Vec<u64> = (0..3 + next() % 4).map(|_| next() % n).collect();
                    run.sort_unstable();
                    run.dedup();
                    run
                })
                .filter(|r| r.len() >= 2)
                .collect();
            let all: Vec<(u64, u64)> = (edges.iter().chain(&path))
                .copied()
                .chain(runs.iter().flat_map(|r| r[1..].iter().map(|&s| (r[0], s))))
                .collect();
            let truth = union_find(n, &all);
            let tasks = 1 + (trial % 5) as usize;
            // Round 0: each task's runs (an edge is a run of two) joined
            // locally, then sent as stars.
            let mut inbox = Outbox::new(tasks);
            let mut shares = vec![vec![Vec::new(); 2]; tasks];
            let pairs = all.iter().map(|&(a, b)| vec![a.min(b), a.max(b)]);
            let at = RunAt {
                band: 0,
                file: 0,
                seq: 0,
            };
            for (i, run) in pairs.chain(runs.iter().cloned()).enumerate() {
                put_run(&mut shares[i % tasks][i % 2], at, &run);
            }
            for share in &shares {
                for (low, high) in local_stars(share).unwrap() {
                    assert!(low < high);
                    inbox.link(low, high);
                }
            }
            let mut state: Vec<Vec<(u64, u64)>> = inbox.edges;
            let mut round = 1;
            loop {
                assert!(round < 60, "no convergence");
                let mut out = Outbox::new(tasks);
                let (mut stars, mut sizes) = (true, Vec::new());
                for (task, edges) in state.iter_mut().enumerate() {
                    edges.sort_unstable();
                    edges.dedup();
                    assert!(edges.iter().all(|e| task_of(e.0, tasks) == task));
                    let (done, _, found) = step(edges, round % 2 == 1, &mut out);
                    stars &= done;
                    sizes.extend(found);
                }
                if stars {
                    // Every component once, by its lowest paragraph, with
                    // its size.
                    for (std::cmp::Reverse(n), centre) in sizes {
                        let size = truth.iter().filter(|&&r| r == centre).count();
                        assert_eq!((n as usize, truth[centre as usize]), (size, centre));
                    }
                    break;
                }
                state = out.edges;
                round += 1;
            }
            let mut label: AHashMap<u64, u64> = AHashMap::new();
            for edges in &state {
                for (u, ns) in neighbourhoods(edges) {
                    label.insert(u, ns[0].min(u));
                }
            }
            for u in 0..n {
                let linked = all.iter().any(|e| e.0 == u || e.1 == u);
                assert_eq!(label.get(&u).copied(), linked.then_some(truth[u as usize]));
            }
        }
    }

    #[test]
    fn edges_and_runs_round_trip() {
        let tasks = 3;
        let mut edges: Vec<(u64, u64)> = (0..200u64)
            .flat_map(|a| [(a, a + 1), (a, (a + 1) << 40)])
            .filter(|e| task_of(e.0, tasks) == 1)
            .collect();
        edges.sort_unstable();
        let bytes = encode_edges(&edges);
        let mut back = Vec::new();
        decode_edges(&bytes, (1, tasks), &mut back).unwrap();
        assert_eq!(back, edges);
        assert!(decode_edges(&bytes, (0, tasks), &mut Vec::new()).is_none());
        assert!(decode_edges(&bytes[..bytes.len() - 1], (1, tasks), &mut Vec::new()).is_none());
        let at = RunAt {
            band: 3,
            file: 1,
            seq: 77,
        };
        let mut out = Vec::new();
        put_run(&mut out, at, &[5, 9, 1 << 35]);
        let mut run = Vec::new();
        let (back, rest) = take_run(&out, &mut run).unwrap();
        assert_eq!(
            (back, run.as_slice(), rest),
            (at, &[5, 9, 1 << 35][..], &[][..])
        );
        assert!(take_run(&out[..out.len() - 1], &mut run).is_none());
    }
}
