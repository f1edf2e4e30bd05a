//! The second pass spread over machines: what the reread and verify
//! stages of a spread scan ([`crate::stage`]) run, and the report made
//! from their verdicts.
//!
//! The no-chaining rule decides a paragraph by the kept paragraphs of its
//! candidate groups, which it decided earlier by theirs: a verdict depends
//! on the paragraphs of its *component* (the candidate groups joined where
//! they share a paragraph) and on nothing else. So components can be
//! verified apart, each in slot order, and the verdicts are the verdicts
//! of one scan:
//!
//! 1. [`reread_shard`]: one shard reads its inputs again, as the second
//!    pass does, but only for the candidates the components stage listed,
//!    and hands each one's shingle set and place to a sink, by the part
//!    that owns its component; it returns the shard's [`Counts`].
//! 2. [`verify_part`]: one part plans its components as a scan would
//!    (exact classes, groups cut by document and by the reference corpus)
//!    and offers its candidates in slot order to the no-chaining rule,
//!    holding each set only while a later candidate may need it.
//! 3. [`report_from_parts`]: the counts of the shards, summed in order,
//!    and the verdicts of the parts, merged by slot, make the report.
//!
//! Slots are numbered over the whole scan in 64 bits; a shard's and a
//! part's own numbers are 32-bit. No step holds every paragraph of the
//! corpus: a shard holds its own first-pass tables, a part its
//! components' plan and live sets, and the report the duplicates and the
//! kept paragraphs they repeat.

use super::Context;
use super::Progress;
use super::first_pass::{Doc, FirstPass, fingerprint_pass};
use super::flow::ordered;
use super::group::{Grouping, Keys, Plan};
use super::prior::Prefix;
use super::report::{Counts, assemble};
use super::verify::{KeptMembers, Needed, Reread, decide};
use crate::cluster::{Assigner, Verdict};
use crate::corpus::Input;
use crate::fingerprint;
use crate::id::{DocId, FingerprintId, InputId, ParagraphId};
use crate::report::{Member, Report};
use crate::shingle::ShingleSet;
use crate::{Config, Error, Similarity};

use super::ScanOptions;
use super::print::PrintCache;

/// A candidate paragraph read again: its slot (numbered over the whole
/// scan), its shingle set and its member (place, snippet, content hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its slot.
    pub slot: u64,
    /// Its shingle set.
    pub set: ShingleSet,
    /// Its place and text. The input is numbered over the whole scan; the
    /// document, within the shard ([`reread_shard`]).
    pub member: Member,
}

/// Reads again the candidates `wanted` (slots numbered over the whole
/// scan, ascending, each with the part that verifies it, below `parts`)
/// of one shard: `inputs`, the scan's inputs from `first_input` on, whose
/// first slot is `first_slot`. The first pass is taken from `prints`
/// (indexed by input within the shard), as the last stage of a spread
/// scan takes it; inputs without a print are read. The candidates go to
/// `sink` as they are read, a block's of one part at a time, in slot
/// order within each part, so that the shard's sets need not fit in
/// memory. A candidate whose input changed since the first pass is left
/// out, with the problem in [`Counts::second`], as the second pass of a
/// scan leaves it out. Returns the shard's counts.
///
/// # Errors
///
/// The shard's fingerprinted paragraphs are not those the candidates were
/// numbered over (an input changed since), a slot is out of range, or the
/// sink failed.
#[allow(clippy::too_many_arguments)]
pub fn reread_shard(
    inputs: &[Input],
    first_input: usize,
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    prints: &dyn PrintCache,
    first_slot: u64,
    (wanted, parts): (&[(u64, u32)], usize),
    sink: &mut (dyn FnMut(u32, Vec<Candidate>) -> Result<(), Error> + Send),
) -> Result<Counts, Error> {
    refuse_containment(options)?;
    let mut ctx = Context::new(inputs, config, options, None, false);
    ctx.keys = false;
    ctx.print_keys = false;
    let mut index = fingerprint_pass(&ctx, progress, Some(prints), None)?;
    let slots = index.fp_content.len() as u64;
    let out_of_range = wanted
        .iter()
        .find(|&&(s, p)| s < first_slot || s >= first_slot + slots || p as usize >= parts);
    if let Some(&(slot, _)) = out_of_range {
        return Err(Error::index(format!(
            "candidate {slot} is not a paragraph of this shard, which numbers {slots} from \
             {first_slot}: an input changed since the fingerprint stage, or the candidates are \
             of another cut into shards"
        )));
    }
    if !wanted.is_sorted_by_key(|w| w.0) {
        return Err(Error::index("the candidates of a shard must ascend"));
    }
    // The shard's own slots, from 0.
    let slot_ids: Vec<FingerprintId> = (wanted.iter())
        .map(|&(s, _)| FingerprintId::new((s - first_slot) as u32))
        .collect();
    let batch = FingerprintId::new(0);
    let needed = Needed::of(&index, batch, &slot_ids);
    let part_of = |slot: FingerprintId| wanted[slot_ids.partition_point(|&s| s < slot)].1;
    let work = |scratch: &mut fingerprint::Scratch, item| needed.reread(&ctx, scratch, item);
    type Sink<'s> = &'s mut (dyn FnMut(u32, Vec<Candidate>) -> Result<(), Error> + Send);
    type State<'s> = (
        Sink<'s>,
        Result<(), Error>,
        Vec<Error>,
        ahash::AHashSet<InputId>,
    );
    let state: State<'_> = (sink, Ok(()), Vec::new(), Default::default());
    let consume = |(sink, failed, diagnostics, changed): &mut State<'_>, block: Reread| {
        diagnostics.extend(block.diagnostics);
        let mut by_part: Vec<Vec<Candidate>> = Vec::new();
        for found in block.found {
            let slot = found.slot;
            let mut member = found.member;
            if member.content != index.fp_content[(slot - batch) as usize] {
                let input = member.location.input;
                if changed.insert(input) {
                    diagnostics.push(Error::changed(&ctx.names[input]));
                }
                continue;
            }
            member.location.input =
                InputId::new((first_input + member.location.input.index()) as u32);
            let part = part_of(slot) as usize;
            if by_part.len() <= part {
                by_part.resize_with(part + 1, Vec::new);
            }
            by_part[part].push(Candidate {
                slot: first_slot + u64::from(slot.get()),
                set: found.set,
                member,
            });
        }
        for (part, candidates) in by_part.into_iter().enumerate() {
            if failed.is_ok() && !candidates.is_empty() {
                *failed = sink(part as u32, candidates);
            }
        }
    };
    progress.begin("reading candidates", needed.total_bytes(&ctx));
    let ((_, failed, second, _), _) = ordered(&ctx, &needed, None, progress, work, state, consume);
    progress.end();
    failed?;
    drop(needed);
    let mut counts = Counts::of(inputs.len(), &mut index);
    counts.second = second;
    Ok(counts)
}

/// Refuses containment, which the spread verification does not look for:
/// its third pass compares kept paragraphs across every component.
///
/// # Errors
///
/// `options` ask for containment.
pub fn refuse_containment(options: &ScanOptions) -> Result<(), Error> {
    match options.containment {
        Some(_) => Err(Error::config(
            "containment is not spread: leave out the components, reread and verify stages \
             (the last stage then verifies and looks for containment in one process)",
        )),
        None => Ok(()),
    }
}

/// The verdicts of one part ([`verify_part`]), slots numbered over the
/// whole scan.
#[derive(Debug, Default, PartialEq)]
pub struct PartVerdicts {
    /// Duplicates: (slot, kept slot, similarity, member), in slot order.
    pub duplicates: Vec<(u64, u64, Similarity, Member)>,
    /// The kept paragraphs that have a duplicate, in slot order, with
    /// their members (without snippets).
    pub kept: Vec<(u64, Member)>,
    /// Exact similarities computed.
    pub comparisons: u64,
}

/// Candidate groups: runs of slots (over the whole scan, ascending within
/// a run), in band and key order. A run may come more than once (found in
/// several bands): a part's plan takes each once.
#[derive(Debug, Default)]
pub struct Runs {
    lens: Vec<u32>,
    slots: Vec<u64>,
}

impl Runs {
    /// Adds a run.
    pub fn push(&mut self, run: &[u64]) {
        self.lens.push(run.len() as u32);
        self.slots.extend_from_slice(run);
    }

    /// The runs, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &[u64]> {
        self.lens.iter().scan(0usize, |at, &n| {
            let run = &self.slots[*at..*at + n as usize];
            *at += n as usize;
            Some(run)
        })
    }

    /// How many runs there are.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }
}

/// What planning a part needs of each of its candidates: the rest (its
/// set and member) is read once the plan is made, candidate by candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planned {
    /// Its slot, over the whole scan.
    pub slot: u64,
    /// Its content hash.
    pub content: u64,
    /// Its document, numbered over the whole scan.
    pub doc: DocId,
}

impl Planned {
    /// What the plan needs of `c`.
    pub fn of(c: &Candidate) -> Planned {
        Planned {
            slot: c.slot,
            content: c.member.content,
            doc: c.member.location.doc_index,
        }
    }
}

/// Verifies one part: its candidates (of whole components, ascending by
/// slot, documents numbered over the whole scan) against each other, in
/// the candidate groups `runs` (runs of shared band keys among them, in
/// band and key order, as [`Grouping::add`] takes them). Slots before
/// `checked` are of the reference corpus. `planned` lists the candidates
/// for the plan; `candidates` then gives them whole, in the same order, in
/// chunks, and each one's set is held only while a later candidate may
/// need it (as in a scan's second pass). The verdicts are those a scan
/// gives these paragraphs.
///
/// # Errors
///
/// A run names a paragraph that is not a candidate, the candidates do not
/// ascend or are not those planned (the stage files do not fit each
/// other), or reading them failed.
pub fn verify_part(
    config: &Config,
    planned: &[Planned],
    runs: &Runs,
    checked: u64,
    candidates: impl Iterator<Item = Result<Vec<Candidate>, Error>>,
) -> Result<PartVerdicts, Error> {
    let unfit = |what: &str| {
        Error::index(format!(
            "{what}: the stage files do not fit each other (run the components, reread and \
             verify stages again)"
        ))
    };
    let global: Vec<u64> = planned.iter().map(|c| c.slot).collect();
    if !global.windows(2).all(|w| w[0] < w[1]) {
        return Err(unfit("the candidates of a part do not ascend"));
    }
    if u32::try_from(global.len()).is_err() {
        return Err(Error::limit(format!(
            "a part has more than {} candidates: use more parts",
            u32::MAX
        )));
    }
    let local_of = |s: u64| global.binary_search(&s).ok().map(|i| i as u32);
    let mut local = Grouping::new(vec![global.len() as u32]);
    let mut mapped = Vec::new();
    for run in runs.iter() {
        mapped.clear();
        for &s in run {
            let at = local_of(s).ok_or_else(|| {
                unfit(&format!(
                    "candidate group member {s} is not among the part's candidates"
                ))
            })?;
            mapped.push(at);
        }
        local.add(&mapped);
    }
    // The plan sees the part as a scan of its candidates: their content
    // hashes, their documents (for `--scope within`), the first of them
    // after the reference corpus. (Documents are runs of slots, so a
    // document's candidates are consecutive.)
    let mut docs: Vec<Doc> = Vec::new();
    let mut last_doc = None;
    for (i, c) in planned.iter().enumerate() {
        match docs.last_mut() {
            Some(d) if last_doc == Some(c.doc) => d.n_paras += 1,
            _ => docs.push(Doc {
                input: InputId::new(0),
                line: 0,
                first_para: ParagraphId::new(i as u32),
                n_paras: 1,
            }),
        }
        last_doc = Some(c.doc);
    }
    let first_checked = global.partition_point(|&s| s < checked);
    let mut index = FirstPass {
        fp_para: ParagraphId::new(0).span(global.len() as u32).collect(),
        fp_content: planned.iter().map(|c| c.content).collect(),
        docs,
        first_checked: (first_checked < global.len())
            .then(|| FingerprintId::new(first_checked as u32)),
        ..FirstPass::default()
    };
    let plan = Plan::new(
        &mut index,
        &Prefix::default(),
        config.lsh().bands(),
        config.scope(),
        config.threshold(),
        Keys::Given(&local),
    )?;
    drop(index);
    let mut needed = vec![false; global.len()];
    for &s in &plan.needed {
        needed[s.index()] = true;
    }
    let mut assigner = Assigner::new(config.threshold(), plan.groups);
    assigner.reserve(plan.keep_until.len());
    let mut kept = KeptMembers::default();
    kept.reserve(plan.keep_until.len());
    let mut out = PartVerdicts::default();
    let mut next = 0usize;
    for chunk in candidates {
        for c in chunk? {
            let (at, fits) = (next, planned.get(next) == Some(&Planned::of(&c)));
            if !fits {
                return Err(unfit(&format!(
                    "candidate {} is not the one planned",
                    c.slot
                )));
            }
            next += 1;
            if !needed[at] {
                continue;
            }
            let slot = FingerprintId::new(at as u32);
            kept.expire_before(slot);
            match decide(&mut assigner, &plan, slot, Some(c.set)) {
                Verdict::Kept => {
                    let mut member = c.member;
                    member.snippet = String::new();
                    member.text = None;
                    kept.insert(slot, plan.keep_until[slot], member);
                }
                Verdict::Duplicate { of, similarity } => {
                    kept.repeated(of);
                    let of = global[of.index()];
                    out.duplicates.push((c.slot, of, similarity, c.member));
                }
            }
        }
    }
    if next != planned.len() {
        return Err(unfit("fewer candidates were read than planned"));
    }
    out.comparisons = assigner.comparisons();
    out.kept = kept
        .into_repeated()
        .map(|(s, m)| (global[s.index()], m))
        .collect();
    out.kept.sort_unstable_by_key(|(s, _)| *s);
    Ok(out)
}

/// The report of a spread scan: `counts`, the shards' counts summed in
/// order, and the verdicts of every part. It is the report of one scan of
/// the same inputs with the same settings.
pub fn report_from_parts(config: &Config, counts: Counts, parts: Vec<PartVerdicts>) -> Report {
    let mut duplicates = Vec::new();
    let mut kept = Vec::new();
    let mut comparisons = 0;
    for part in parts {
        comparisons += part.comparisons;
        duplicates.extend(part.duplicates);
        kept.extend(part.kept);
    }
    duplicates.sort_unstable_by_key(|d| d.0);
    // `assemble` asks for kept slots in ascending order: a cursor over
    // them, sorted, answers. Of a slot kept by two parts, the last part's
    // member is taken (as a map filled part by part would hold).
    kept.sort_by_key(|(s, _)| *s);
    let mut kept = kept.into_iter().peekable();
    let take = |slot: u64| {
        while kept.next_if(|(s, _)| *s < slot).is_some() {}
        let mut member = None;
        while let Some((_, m)) = kept.next_if(|(s, _)| *s == slot) {
            member = Some(m);
        }
        member
    };
    assemble(config, counts, duplicates, take, comparisons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Location;
    use std::sync::Arc;

    fn candidate(slot: u64, doc: u32, hashes: &[u64]) -> Candidate {
        let path: Arc<str> = Arc::from("a.txt");
        Candidate {
            slot,
            set: ShingleSet::from_hashes(hashes),
            member: Member {
                location: Location {
                    path: path.clone(),
                    input: InputId::new(0),
                    doc: path,
                    url: None,
                    doc_index: DocId::new(doc),
                    doc_line: 1,
                    paragraph: slot as u32,
                    line: slot,
                    start: 0,
                    end: 1,
                    batch: None,
                },
                snippet: format!("paragraph {slot}"),
                text: None,
                content: hashes.iter().fold(slot, |a, &h| a ^ h),
            },
        }
    }

    /// Slots past 32 bits (a spread scan numbers them over the whole
    /// corpus): a part verifies them as a scan would, the reference corpus
    /// and the report included.
    #[test]
    fn a_part_verifies_slots_past_32_bits() {
        let base = 1u64 << 33;
        let a: Vec<u64> = (0..20).collect();
        let mut b = a.clone();
        b[19] = 99;
        let c: Vec<u64> = (100..120).collect();
        let candidates = vec![
            candidate(base + 7, 0, &a),
            candidate(base + 9, 1, &b),
            candidate(base + (1 << 32), 2, &c),
            candidate(base + (1 << 32) + 1, 2, &a),
        ];
        let planned: Vec<Planned> = candidates.iter().map(Planned::of).collect();
        let mut runs = Runs::default();
        runs.push(&[base + 7, base + 9, base + (1 << 32) + 1]);
        runs.push(&[base + 9, base + (1 << 32)]);
        let config = Config::builder()
            .threshold("0.8".parse().unwrap())
            .build()
            .unwrap();
        let chunks = vec![Ok(candidates[..1].to_vec()), Ok(candidates[1..].to_vec())];
        let v = verify_part(&config, &planned, &runs, 0, chunks.into_iter()).unwrap();
        let dups: Vec<(u64, u64)> = v.duplicates.iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(
            dups,
            [(base + 9, base + 7), (base + (1 << 32) + 1, base + 7)]
        );
        assert_eq!(v.kept.iter().map(|k| k.0).collect::<Vec<_>>(), [base + 7]);
        // Before `checked`, a paragraph is of the reference corpus: kept.
        let chunks = vec![Ok(candidates.clone())];
        let v = verify_part(&config, &planned, &runs, base + 10, chunks.into_iter()).unwrap();
        let dups: Vec<(u64, u64)> = v.duplicates.iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(dups, [(base + (1 << 32) + 1, base + 7)]);
        let report = report_from_parts(&config, Counts::default(), vec![v]);
        assert_eq!(report.clusters.len(), 1);
        assert_eq!(report.clusters[0].kept.location.line, base + 7);
        // Candidates other than those planned are refused.
        let chunks = vec![Ok(candidates[1..].to_vec())];
        let e = verify_part(&config, &planned, &runs, 0, chunks.into_iter()).unwrap_err();
        assert!(e.to_string().contains("not the one planned"), "{e}");
    }
}
