//! An accuracy checker for neardup: compares a JSON report of `neardup scan`
//! with the exact answer, computed without MinHash, LSH or hashing.
//!
//! ```text
//! cargo run --release --example accuracy -- CORPUS.jsonl REPORT.json \
//!     [--threshold 0.8] [--shingle-size 5] [--min-words 2] [--brute-force] [--json]
//! ```
//!
//! `CORPUS.jsonl` is the JSON Lines corpus that was scanned (one document per
//! line, text in `"text"`, id in `"id"`, as written by the `gen_corpus`
//! example; gzip and zstd are recognised by content, as neardup does), and
//! `REPORT.json` the output of
//! `neardup scan --output-format json CORPUS.jsonl` with the default
//! `--paragraphs line` and `--shingle words`. The three settings must match
//! the scan's; a mismatch with the report's `settings` is warned about.
//! `--json` prints the numbers as one JSON object instead of the table, for
//! scripts. `--brute-force` also compares every pair of paragraphs directly
//! (at most 5,000 compared paragraphs) and stops with an error unless that
//! finds exactly the pairs the prefix-filter join found; otherwise it prints
//! `prefix filter agrees with brute force on N pairs`.
//!
//! Exit status: 0 when every reported pair really meets the threshold and
//! the report is consistent with the corpus, 1 when not, 2 on an error (bad
//! arguments, unreadable input, brute force disagreeing with the join).
//!
//! # What is computed
//!
//! Paragraphs are cut exactly as neardup cuts them
//! ([`neardup::paragraph::paragraphs`], line mode) and tokenised by neardup's
//! own [`Normalizer`], so both sides see the same words. A paragraph with
//! fewer than `--min-words` tokens is not compared, as in neardup; the others
//! are the *compared paragraphs*. The shingle set of a compared paragraph is
//! the set of its runs of `--shingle-size` consecutive tokens (one shingle of
//! all its tokens if it has fewer), and `J` below is the exact Jaccard
//! similarity of two such sets, `|A ∩ B| / |A ∪ B|`, compared with the
//! threshold `t` in integers (`|A ∩ B| · den >= num · |A ∪ B|` for
//! `t = num / den`, via [`Similarity::meets`]).
//!
//! - **Ground truth**: every pair of compared paragraphs with `J >= t`.
//!   *Near* pairs are those with `J < 1` (the sets differ); pairs of
//!   identical sets are exact copies.
//! - **Oracle**: neardup's no-chaining rule applied to the ground truth.
//!   Taking compared paragraphs in input order, a paragraph with `J >= t` to
//!   some earlier *kept* paragraph is a duplicate of the earliest such one,
//!   otherwise it is kept. Its `(duplicate, kept)` pairs are what a perfect
//!   neardup reports; an oracle pair is *near* if its `J < 1`.
//! - **Reported pairs**: `(duplicate, kept)` for every duplicate member of
//!   every cluster of the report (the first member is the kept paragraph).
//!
//! The table (and the JSON object) then gives:
//!
//! - **precision**: reported pairs with `J >= t` / reported pairs. Must be 1:
//!   neardup verifies every pair it reports. Up to 5 violations are listed.
//! - **recall, pairs**: reported pairs equal to an oracle pair (same
//!   duplicate, same kept paragraph) / oracle pairs.
//! - **recall, flagged paragraphs**: paragraphs that are duplicates both in
//!   the report and for the oracle / oracle duplicates. Higher than pair
//!   recall when a paragraph is flagged against another kept paragraph than
//!   the oracle's (which happens when LSH missed an earlier pair, so that the
//!   two runs keep different paragraphs).
//! - the same two recalls over **near** oracle pairs only: the hard part,
//!   since exact copies are found by content hash and never depend on LSH.
//! - **all true pairs in one reported cluster**: ground-truth pairs whose
//!   two paragraphs are in the same reported cluster (which includes one
//!   being the other's kept paragraph) / ground-truth pairs. Under the
//!   no-chaining rule not every true pair can become a reported pair (if A
//!   is kept, B ~ A and C ~ B but C !~ A, then C is kept and B, C are in
//!   different clusters), so this is below 1 even for the oracle; the same
//!   measure is printed for the oracle's own clusters for comparison.
//! - counts: records, paragraphs, compared paragraphs, distinct shingle sets,
//!   ground-truth pairs (and near ones), oracle duplicates (and near ones),
//!   reported clusters and duplicates, *missed* oracle pairs (up to 5 listed
//!   with their exact `J` and the document and paragraph of both sides), the
//!   reported pairs that are not oracle pairs, and the true pairs left among
//!   paragraphs the report did not flag (the README promises none, up to LSH
//!   misses).
//!
//! Paragraphs are identified by *record index* (0-based number of the
//! non-blank line of the JSON Lines file, malformed records included) and
//! paragraph index (0-based, counting every paragraph of the record, as the
//! report does), and printed as `DOC pPARAGRAPH (record R)`, where `DOC` is
//! what neardup calls the record: its `id` field, or its 1-based line number
//! when it has none. The report's `doc` names are resolved to records through
//! the corpus, with the report's `line` settling duplicate ids.
//!
//! # Why no hashing
//!
//! neardup identifies a shingle by a 64-bit hash, so the checker must not,
//! or a fault in that hashing (or a collision) would be invisible: both
//! sides would make the same mistake. Here every token is interned to a
//! `u32` and every shingle, a sequence of token ids, to a `u32` through a
//! table that compares the token ids themselves, so two shingles share an id
//! exactly when they are the same words. Hash functions below only pick a
//! table slot; equality is always decided on the full key.
//!
//! # How
//!
//! Comparing all pairs is quadratic (4·10^10 pairs for 285,000 paragraphs),
//! so the ground truth comes from a prefix-filtering similarity join
//! (AllPairs, Bayardo et al. 2007). Exact copies are grouped first and the
//! join runs over distinct sets only; a group of `m` copies contributes
//! `m(m-1)/2` pairs and `m·m'` pairs with each similar group of `m'`, which
//! are counted, never listed, so a boilerplate line repeated 100,000 times
//! costs nothing. In each set, shingle ids are ordered by increasing
//! frequency among the distinct sets. If `J(x, y) >= t` then
//! `|x ∩ y| >= t·|x ∪ y|`, so the overlap is at least `ceil(t·|x|)` and at
//! least `ceil(t·|y|)`; two sets in one global order with an overlap of `α`
//! share a shingle among the first `|x| - α + 1` of `x` and the first
//! `|y| - α + 1` of `y`. So every pair is found by looking only at the
//! *prefix* of each set, its first `|s| - ceil(t·|s|) + 1` shingles. Sets are
//! processed by increasing size; each probes an inverted index over the
//! prefixes of the sets already processed, skipping sets smaller than
//! `t·|x|` (they cannot reach `t`), and every candidate is verified exactly.
//! Rare shingles come first, so the prefixes meet few other sets.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Write as _};
use std::process::ExitCode;
use std::time::Instant;

use ahash::AHashMap;
use neardup::corpus::{JsonlFields, compress, jsonl};
use neardup::normalize::{Normalizer, Scratch, TokenKind};
use neardup::paragraph::{ParagraphMode, is_blank, paragraphs};
use neardup::similarity::jaccard;
use neardup::{Similarity, Threshold};
use serde::Deserialize;
use serde_json::json;

/// "No paragraph": an excluded paragraph's slot, an unflagged label.
const NONE: u32 = u32::MAX;
/// `--brute-force` compares n²/2 pairs; 5,000 paragraphs take a few seconds.
const MAX_BRUTE_FORCE: usize = 5_000;
/// How many violations, misses and problems are listed.
const LIST: usize = 5;

const USAGE: &str = "\
usage: accuracy CORPUS.jsonl REPORT.json [--threshold T] [--shingle-size N]
                [--min-words N] [--brute-force] [--json]

  CORPUS.jsonl      the JSON Lines corpus that was scanned
  REPORT.json       its `neardup scan --output-format json` report
  --threshold T     Jaccard threshold, a decimal in (0, 1] [default: 0.8]
  --shingle-size N  tokens per shingle, 1-64 [default: 5]
  --min-words N     paragraphs with fewer tokens are not compared [default: 2]
  --brute-force     also compare all pairs directly (at most 5,000 paragraphs)
                    and check that the prefix-filter join found the same pairs
  --json            print the numbers as one JSON object instead of a table";

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("accuracy: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("accuracy: {msg}");
            ExitCode::from(2)
        }
    }
}

struct Args {
    corpus: String,
    report: String,
    threshold: Threshold,
    /// As typed, for display: the exact fraction prints as a float otherwise.
    threshold_text: String,
    shingle_size: usize,
    min_words: usize,
    brute_force: bool,
    json: bool,
}

/// `Ok(None)` asks for the usage message.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut positional = Vec::new();
    let mut threshold_text = "0.8".to_owned();
    let (mut shingle_size, mut min_words) = (5, 2);
    let (mut brute_force, mut json) = (false, false);
    while let Some(arg) = argv.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        if !arg.starts_with("--") {
            positional.push(arg);
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String, lo: usize, hi: usize| {
            v.parse::<usize>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| format!("{flag} must be an integer from {lo} to {hi}, got {v:?}"))
        };
        match flag.as_str() {
            "--threshold" => threshold_text = value()?,
            // The same bounds as neardup's `Config`.
            "--shingle-size" => shingle_size = number(value()?, 1, 64)?,
            "--min-words" => min_words = number(value()?, 1, usize::MAX)?,
            "--brute-force" | "--json" if inline.is_some() => {
                return Err(format!("{flag} takes no value"));
            }
            "--brute-force" => brute_force = true,
            "--json" => json = true,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    let threshold = threshold_text.parse().map_err(|e| format!("{e}"))?;
    let [corpus, report]: [String; 2] = positional
        .try_into()
        .map_err(|_| "expected two arguments, CORPUS.jsonl and REPORT.json".to_owned())?;
    Ok(Some(Args {
        corpus,
        report,
        threshold,
        threshold_text,
        shingle_size,
        min_words,
        brute_force,
        json,
    }))
}

// ---------------------------------------------------------------------------
// Shingle sets
// ---------------------------------------------------------------------------

/// Sorted sets of `u32`, stored back to back: one allocation for all of
/// them instead of one per paragraph.
#[derive(Default)]
struct Sets {
    offsets: Vec<usize>,
    elems: Vec<u32>,
}

impl Sets {
    fn new() -> Sets {
        Sets {
            offsets: vec![0],
            elems: Vec::new(),
        }
    }

    fn push(&mut self, set: &[u32]) {
        self.elems.extend_from_slice(set);
        self.offsets.push(self.elems.len());
    }

    fn get(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.elems[self.offsets[i]..self.offsets[i + 1]]
    }

    fn size(&self, i: u32) -> usize {
        let i = i as usize;
        self.offsets[i + 1] - self.offsets[i]
    }

    fn count(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// Interns shingles (runs of token ids) to dense `u32` ids, exactly.
///
/// A map keyed by `Vec<u32>` would hold one allocation per distinct shingle
/// (some 13 million on the 100 MB corpus, over a gigabyte). Instead the
/// token ids of each compared paragraph are appended to one stream (and
/// removed again if they bring no new shingle), a full-length shingle is
/// named by the stream position of its first occurrence, and an
/// open-addressing table of ids is probed with a hash of the token ids,
/// comparing the token ids in the stream on every hit. Short
/// paragraphs (fewer tokens than the shingle size) are one shingle of a
/// different length; they are rare and go to an ordinary map.
struct Interner {
    k: usize,
    /// Token ids of the compared paragraphs that introduced a new shingle.
    tokens: Vec<u32>,
    /// Shingle id → start of its first occurrence in `tokens` (`NONE` for a
    /// short shingle, which lives in `short`).
    first: Vec<u32>,
    /// Shingle id + 1, or 0 for an empty slot; length a power of two.
    slots: Vec<u32>,
    in_table: usize,
    short: AHashMap<Box<[u32]>, u32>,
}

impl Interner {
    fn new(k: usize) -> Interner {
        Interner {
            k,
            tokens: Vec::new(),
            first: Vec::new(),
            slots: vec![0; 1 << 16],
            in_table: 0,
            short: AHashMap::new(),
        }
    }

    /// Only picks a slot; equal hashes are never taken to mean equal keys.
    fn slot(key: &[u32], slots: usize) -> usize {
        let mut h: u64 = 0;
        for &t in key {
            h = (h.rotate_left(26) ^ u64::from(t)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        // Multiplicative hashing mixes upwards: take the high bits.
        (h >> (64 - slots.trailing_zeros())) as usize
    }

    fn next_id(&self) -> u32 {
        u32::try_from(self.first.len())
            .ok()
            .filter(|&id| id < NONE - 1)
            .expect("fewer than 2^32 - 2 distinct shingles")
    }

    /// The id of the full-length shingle starting at `tokens[start]`.
    fn window(&mut self, start: usize) -> u32 {
        // Keep the load at most 1/2: every probe costs cache misses (slot,
        // first occurrence, tokens), and linear probing slows sharply above.
        if (self.in_table + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let k = self.k;
        let mask = self.slots.len() - 1;
        let mut i = Self::slot(&self.tokens[start..start + k], self.slots.len());
        loop {
            match self.slots[i] {
                0 => {
                    let id = self.next_id();
                    let at = u32::try_from(start)
                        .ok()
                        .filter(|&at| at != NONE)
                        .expect("fewer than 2^32 - 1 tokens");
                    self.first.push(at);
                    self.slots[i] = id + 1;
                    self.in_table += 1;
                    return id;
                }
                s => {
                    let f = self.first[(s - 1) as usize] as usize;
                    // The first token settles most mismatches without a
                    // call to memcmp.
                    if self.tokens[f] == self.tokens[start]
                        && self.tokens[f..f + k] == self.tokens[start..start + k]
                    {
                        return s - 1;
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let len = self.slots.len() * 2;
        let mut slots = vec![0u32; len];
        for (id, &f) in self.first.iter().enumerate() {
            if f == NONE {
                continue;
            }
            let f = f as usize;
            let mut i = Self::slot(&self.tokens[f..f + self.k], len);
            while slots[i] != 0 {
                i = (i + 1) & (len - 1);
            }
            slots[i] = id as u32 + 1;
        }
        self.slots = slots;
    }

    /// The id of the short shingle made of all of `tokens[start..]`.
    fn short(&mut self, start: usize) -> u32 {
        if let Some(&id) = self.short.get(&self.tokens[start..]) {
            return id;
        }
        let id = self.next_id();
        self.first.push(NONE);
        self.short.insert(self.tokens[start..].into(), id);
        id
    }
}

/// One line of the JSON Lines corpus that is not blank.
struct Record {
    /// What neardup calls the document: the id, else the line number.
    name: String,
    /// 1-based line in the file.
    line: u64,
    /// Index of its first paragraph in [`Corpus::slots`].
    first_slot: usize,
    /// Paragraphs in the record (0 for a malformed one).
    paragraphs: u32,
}

/// The corpus, reduced to what the check needs.
struct Corpus {
    records: Vec<Record>,
    /// For every paragraph of every record in order: its compared-paragraph
    /// number, or `NONE` if it has fewer than `min_words` tokens.
    slots: Vec<u32>,
    /// Per compared paragraph, in input order: record index and paragraph
    /// index.
    place: Vec<(u32, u32)>,
    /// Per compared paragraph: its shingle set (interned ids, sorted).
    sets: Sets,
    distinct_tokens: usize,
    distinct_shingles: usize,
    malformed: Vec<String>,
    invalid_utf8: u64,
}

impl Corpus {
    /// `doc-0000042 p3 (record 41)`: how a compared paragraph is shown.
    fn name(&self, p: u32) -> String {
        let (record, paragraph) = self.place[p as usize];
        let name = &self.records[record as usize].name;
        format!("{name} p{paragraph} (record {record})")
    }
}

fn read_corpus(path: &str, k: usize, min_words: usize) -> Result<Corpus, String> {
    let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let (_, decoded) = compress::decode(Box::new(file)).map_err(|e| format!("{path}: {e}"))?;
    let mut reader = BufReader::with_capacity(1 << 20, decoded);
    let fields = JsonlFields::default();
    let normalizer = Normalizer::new(TokenKind::Words);
    let mut scratch = Scratch::default();
    let mut token_ids: AHashMap<String, u32> = AHashMap::new();
    let mut interner = Interner::new(k);
    let mut ids: Vec<u32> = Vec::new();
    let mut corpus = Corpus {
        records: Vec::new(),
        slots: Vec::new(),
        place: Vec::new(),
        sets: Sets::new(),
        distinct_tokens: 0,
        distinct_shingles: 0,
        malformed: Vec::new(),
        invalid_utf8: 0,
    };
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{path}: {e}"))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        // neardup skips blank lines and names records by line; do the same.
        if is_blank(line) {
            continue;
        }
        let record_index = u32::try_from(corpus.records.len()).expect("fewer than 2^32 records");
        let fixed;
        let parsed = match jsonl::parse(line, &fields) {
            Ok(r) => Some(r),
            // Like neardup: a record that is not UTF-8 is decoded lossily.
            Err(msg) if std::str::from_utf8(line).is_err() => {
                fixed = String::from_utf8_lossy(line).into_owned();
                match jsonl::parse(fixed.as_bytes(), &fields) {
                    Ok(r) => {
                        corpus.invalid_utf8 += 1;
                        Some(r)
                    }
                    Err(_) => {
                        corpus.malformed.push(format!("line {line_no}: {msg}"));
                        None
                    }
                }
            }
            Err(msg) => {
                corpus.malformed.push(format!("line {line_no}: {msg}"));
                None
            }
        };
        let first_slot = corpus.slots.len();
        let Some(record) = parsed else {
            corpus.records.push(Record {
                name: line_no.to_string(),
                line: line_no,
                first_slot,
                paragraphs: 0,
            });
            continue;
        };
        let text: &str = &record.text;
        let mut count = 0u32;
        for p in paragraphs(text.as_bytes(), ParagraphMode::Line) {
            // Paragraphs end at ASCII line breaks: a valid slice of `text`.
            let para = &text[p.start..p.end];
            let base = interner.tokens.len();
            let shingles_before = interner.first.len();
            let tokens = &mut interner.tokens;
            normalizer.tokens(para, &mut scratch, |t| {
                let id = match token_ids.get(t) {
                    Some(&id) => id,
                    None => {
                        let id = u32::try_from(token_ids.len()).expect("fewer than 2^32 tokens");
                        token_ids.insert(t.to_owned(), id);
                        id
                    }
                };
                tokens.push(id);
            });
            let n = interner.tokens.len() - base;
            count += 1;
            if n < min_words {
                interner.tokens.truncate(base);
                corpus.slots.push(NONE);
                continue;
            }
            ids.clear();
            if n < k {
                ids.push(interner.short(base));
            } else {
                ids.extend((base..=base + n - k).map(|start| interner.window(start)));
            }
            // Only first occurrences are looked at again: a paragraph that
            // brought no new full-length shingle need not stay in the stream.
            if n < k || interner.first.len() == shingles_before {
                interner.tokens.truncate(base);
            }
            ids.sort_unstable();
            ids.dedup();
            let p = u32::try_from(corpus.place.len())
                .ok()
                .filter(|&p| p != NONE)
                .expect("fewer than 2^32 - 1 paragraphs");
            corpus.slots.push(p);
            corpus.place.push((record_index, count - 1));
            corpus.sets.push(&ids);
        }
        corpus.records.push(Record {
            name: record
                .id
                .map_or_else(|| line_no.to_string(), Cow::into_owned),
            line: line_no,
            first_slot,
            paragraphs: count,
        });
    }
    corpus.distinct_tokens = token_ids.len();
    corpus.distinct_shingles = interner.first.len();
    Ok(corpus)
}

// ---------------------------------------------------------------------------
// Ground truth
// ---------------------------------------------------------------------------

/// Compared paragraphs grouped by identical shingle set. Groups are numbered
/// in the order of their first member, so group `a < b` means that `a`'s
/// first member comes first in the input.
struct Groups {
    /// Paragraph → group.
    of: Vec<u32>,
    /// Group → its first member.
    first: Vec<u32>,
    /// Group → number of members.
    size: Vec<u32>,
}

fn group(sets: &Sets) -> Groups {
    let n = sets.count();
    let mut order: Vec<u32> = (0..n as u32).collect();
    // Exact comparison of the sets themselves: no content hash to collide.
    order.sort_unstable_by(|&a, &b| {
        let (x, y) = (sets.get(a), sets.get(b));
        x.len().cmp(&y.len()).then_with(|| x.cmp(y)).then(a.cmp(&b))
    });
    // (first member, range in `order`) of each run of equal sets; the
    // tie-break on the paragraph puts the first member first.
    let mut runs: Vec<(u32, usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        if i == n || sets.get(order[i]) != sets.get(order[start]) {
            runs.push((order[start], start, i));
            start = i;
        }
    }
    runs.sort_unstable();
    let mut groups = Groups {
        of: vec![0; n],
        first: Vec::with_capacity(runs.len()),
        size: Vec::with_capacity(runs.len()),
    };
    for (g, &(first, start, end)) in runs.iter().enumerate() {
        for &p in &order[start..end] {
            groups.of[p as usize] = g as u32;
        }
        groups.first.push(first);
        groups.size.push((end - start) as u32);
    }
    groups
}

/// The distinct sets (one per group, in group order) with shingle ids
/// renumbered by increasing frequency among them, ties by id, so that the
/// start of each sorted set holds its rarest shingles: the prefix filter's
/// prefixes then meet few other sets.
fn distinct_sets(sets: &Sets, groups: &Groups, shingles: usize) -> Sets {
    let mut freq = vec![0u32; shingles];
    for &p in &groups.first {
        for &s in sets.get(p) {
            freq[s as usize] += 1;
        }
    }
    // Counting sort by frequency: linear, and stable, so ties go by id.
    let max = freq.iter().copied().max().unwrap_or(0) as usize;
    let mut next = vec![0u32; max + 2];
    for &f in &freq {
        next[f as usize + 1] += 1;
    }
    for f in 1..next.len() {
        next[f] += next[f - 1];
    }
    let mut rank = freq;
    for r in rank.iter_mut() {
        let f = *r as usize;
        *r = next[f];
        next[f] += 1;
    }
    let mut out = Sets::new();
    out.elems
        .reserve(groups.first.iter().map(|&p| sets.size(p)).sum());
    let mut buf = Vec::new();
    for &p in &groups.first {
        buf.clear();
        buf.extend(sets.get(p).iter().map(|&s| rank[s as usize]));
        buf.sort_unstable();
        out.push(&buf);
    }
    out
}

/// Two distinct sets (groups `a < b`) with `J >= t`.
#[derive(Clone, Copy)]
struct SetPair {
    a: u32,
    b: u32,
    sim: Similarity,
}

/// `ceil(t · size)`: the overlap any set of `size` needs to reach `t`.
fn min_overlap(t: Threshold, size: usize) -> usize {
    let num = u128::from(t.numerator()) * size as u128;
    num.div_ceil(u128::from(t.denominator())) as usize
}

/// All pairs of distinct sets with `J >= t`, by prefix filtering; returns
/// them sorted by `(b, a)` and the number of candidates verified.
fn join(sets: &Sets, t: Threshold, shingles: usize) -> (Vec<SetPair>, u64) {
    let d = sets.count();
    let (num, den) = (u128::from(t.numerator()), u128::from(t.denominator()));
    let prefix = |g: u32| {
        let size = sets.size(g);
        &sets.get(g)[..size - min_overlap(t, size) + 1]
    };
    // Processing order: by size, so that earlier sets are never larger and
    // a too-small set stays too small for every later one.
    let mut order: Vec<u32> = (0..d as u32).collect();
    order.sort_by_key(|&g| (sets.size(g), g));
    let mut pos_of = vec![0u32; d];
    for (pos, &g) in order.iter().enumerate() {
        pos_of[g as usize] = pos as u32;
    }
    // A static inverted index over all prefixes, each list in processing
    // order; a set only looks at entries before its own position, which is
    // the same as indexing prefixes as it goes, without a Vec per shingle.
    let mut start = vec![0u32; shingles + 1];
    for &g in &order {
        for &s in prefix(g) {
            start[s as usize + 1] += 1;
        }
    }
    for s in 1..start.len() {
        start[s] += start[s - 1];
    }
    let mut end = start[..shingles].to_vec();
    let mut entries = vec![0u32; start[shingles] as usize];
    for &g in &order {
        for &s in prefix(g) {
            entries[end[s as usize] as usize] = g;
            end[s as usize] += 1;
        }
    }
    // `start[s]` moves on past the sets too small for the current one.
    let mut head = start;

    let mut pairs = Vec::new();
    let mut candidates = 0u64;
    let mut seen = vec![NONE; d];
    let mut cands = Vec::new();
    for (pos, &x) in order.iter().enumerate() {
        let xs = sets.get(x);
        let too_small = |y: u32| (sets.size(y) as u128) * den < num * xs.len() as u128;
        cands.clear();
        for &s in prefix(x) {
            let s = s as usize;
            let (mut h, e) = (head[s] as usize, end[s] as usize);
            while h < e && too_small(entries[h]) {
                h += 1;
            }
            head[s] = h as u32;
            for &y in &entries[h..e] {
                if pos_of[y as usize] as usize >= pos {
                    break;
                }
                if seen[y as usize] != pos as u32 {
                    seen[y as usize] = pos as u32;
                    cands.push(y);
                }
            }
        }
        candidates += cands.len() as u64;
        for &y in &cands {
            let sim = jaccard(xs, sets.get(y));
            if sim.meets(t) {
                let (a, b) = (x.min(y), x.max(y));
                pairs.push(SetPair { a, b, sim });
            }
        }
    }
    pairs.sort_unstable_by_key(|p| (p.b, p.a));
    (pairs, candidates)
}

/// Every pair of compared paragraphs `(p, q, inter, union)`, `p < q`, with
/// `J >= t`, by comparing all of them. Independent of grouping, ordering and
/// filtering, so it checks all three.
fn brute_force(sets: &Sets, t: Threshold) -> Vec<(u32, u32, u32, u32)> {
    let n = sets.count() as u32;
    let mut out = Vec::new();
    for p in 0..n {
        for q in p + 1..n {
            let sim = jaccard(sets.get(p), sets.get(q));
            if sim.meets(t) {
                out.push((p, q, sim.intersection, sim.union));
            }
        }
    }
    out
}

/// The join's pairs expanded to paragraph pairs, as [`brute_force`] lists
/// them. Only for small corpora: this materialises every pair.
fn expand(groups: &Groups, dsets: &Sets, pairs: &[SetPair]) -> Vec<(u32, u32, u32, u32)> {
    let mut members = vec![Vec::new(); groups.first.len()];
    for (p, &g) in groups.of.iter().enumerate() {
        members[g as usize].push(p as u32);
    }
    let mut out = Vec::new();
    for (g, m) in members.iter().enumerate() {
        let size = dsets.size(g as u32) as u32;
        for (i, &p) in m.iter().enumerate() {
            out.extend(m[i + 1..].iter().map(|&q| (p, q, size, size)));
        }
    }
    for pair in pairs {
        let sim = pair.sim;
        for &p in &members[pair.a as usize] {
            for &q in &members[pair.b as usize] {
                out.push((p.min(q), p.max(q), sim.intersection, sim.union));
            }
        }
    }
    out.sort_unstable();
    out
}

/// The no-chaining rule on the exact graph. Within a group only the first
/// member can be kept: every other member has `J = 1` with it, or with the
/// kept paragraph it was flagged against. So the rule runs over groups in
/// first-member order, and `target[g]` is the group whose first member `g`
/// is a duplicate of, or `None` if `g`'s first member is kept.
fn oracle_groups(d: usize, pairs: &[SetPair]) -> Vec<Option<(u32, Similarity)>> {
    let mut target = vec![None; d];
    let mut kept = vec![false; d];
    let mut i = 0;
    for x in 0..d {
        // Pairs are sorted by (b, a): x's earlier neighbours, earliest first.
        let mut chosen = None;
        while i < pairs.len() && pairs[i].b as usize == x {
            let pair = pairs[i];
            if chosen.is_none() && kept[pair.a as usize] {
                chosen = Some((pair.a, pair.sim));
            }
            i += 1;
        }
        match chosen {
            None => kept[x] = true,
            Some(c) => target[x] = Some(c),
        }
    }
    target
}

/// The oracle's verdict on each compared paragraph: `(kept paragraph,
/// similarity)` for a duplicate, as `offer_copy` in `src/cluster.rs` treats
/// exact copies.
fn oracle(groups: &Groups, dsets: &Sets, pairs: &[SetPair]) -> Vec<Option<(u32, Similarity)>> {
    let target = oracle_groups(groups.first.len(), pairs);
    groups
        .of
        .iter()
        .enumerate()
        .map(|(p, &g)| match target[g as usize] {
            Some((a, sim)) => Some((groups.first[a as usize], sim)),
            None if groups.first[g as usize] == p as u32 => None,
            None => {
                let size = dsets.size(g) as u32;
                Some((groups.first[g as usize], Similarity::new(size, size)))
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct ReportFile {
    settings: Option<ReportSettings>,
    summary: Option<ReportSummary>,
    clusters: Vec<Cluster>,
    #[serde(default)]
    diagnostics: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ReportSettings {
    paragraphs: Option<String>,
    shingle: Option<String>,
    shingle_size: Option<u64>,
    min_words: Option<u64>,
    threshold: Option<f64>,
}

#[derive(Deserialize)]
struct ReportSummary {
    fingerprinted_paragraphs: Option<u64>,
}

#[derive(Deserialize)]
struct Cluster {
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct Member {
    doc: String,
    paragraph: u32,
    line: Option<u64>,
    similarity: Option<f64>,
}

/// What the report says, per compared paragraph.
struct Reported {
    /// The kept paragraph a duplicate is reported against, else `NONE`.
    kept_of: Vec<u32>,
    /// The cluster a paragraph is in, named by its kept paragraph (so a kept
    /// paragraph is its own label), else `NONE`.
    label: Vec<u32>,
    clusters: u64,
    pairs: u64,
    /// Members that could not be placed, or placed twice, and the like.
    problems: Vec<String>,
    /// Reported similarities that differ from the exact one.
    similarity_mismatches: u64,
}

fn read_report(path: &str) -> Result<ReportFile, String> {
    let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_reader(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| format!("{path}: not a neardup JSON report: {e}"))
}

/// Warns on stderr where the report was made with other settings: its
/// numbers would then be compared against the wrong truth.
fn check_settings(report: &ReportFile, args: &Args, corpus: &Corpus) {
    if let Some(s) = &report.settings {
        let mut differ = Vec::new();
        if s.paragraphs.as_deref().is_some_and(|m| m != "line") {
            differ.push("paragraphs (the checker uses line)".to_owned());
        }
        if s.shingle.as_deref().is_some_and(|m| m != "words") {
            differ.push("shingle (the checker uses words)".to_owned());
        }
        if s.shingle_size
            .is_some_and(|n| n != args.shingle_size as u64)
        {
            differ.push("shingle_size".to_owned());
        }
        if s.min_words.is_some_and(|n| n != args.min_words as u64) {
            differ.push("min_words".to_owned());
        }
        let t = s.threshold.map(Threshold::from_f64);
        if t.is_some_and(|t| t.ok() != Some(args.threshold)) {
            differ.push("threshold".to_owned());
        }
        if !differ.is_empty() {
            eprintln!(
                "accuracy: warning: the report was made with other settings: {}",
                differ.join(", ")
            );
        }
    }
    if let Some(n) = report
        .summary
        .as_ref()
        .and_then(|s| s.fingerprinted_paragraphs)
        && n != corpus.place.len() as u64
    {
        eprintln!(
            "accuracy: warning: the report fingerprinted {n} paragraphs, the checker compares {}",
            corpus.place.len()
        );
    }
    if !report.diagnostics.is_empty() {
        eprintln!(
            "accuracy: warning: the report has {} diagnostics (skipped records?)",
            report.diagnostics.len()
        );
    }
}

/// Finds report members in the corpus.
struct Locator<'c> {
    corpus: &'c Corpus,
    by_name: AHashMap<&'c str, Vec<u32>>,
}

impl<'c> Locator<'c> {
    fn new(corpus: &'c Corpus) -> Locator<'c> {
        let mut by_name: AHashMap<&str, Vec<u32>> = AHashMap::new();
        for (i, r) in corpus.records.iter().enumerate() {
            by_name.entry(&r.name).or_default().push(i as u32);
        }
        Locator { corpus, by_name }
    }

    /// The compared paragraph `m` names.
    fn find(&self, m: &Member) -> Result<u32, String> {
        let what = || format!("{} p{}", m.doc, m.paragraph);
        let records = self
            .by_name
            .get(m.doc.as_str())
            .ok_or_else(|| format!("{}: no record with this id", what()))?;
        let on_line = |&&r: &&u32| Some(self.corpus.records[r as usize].line) == m.line;
        let record = match records.as_slice() {
            [r] => *r,
            // Duplicate ids: the line tells which record.
            _ => *records
                .iter()
                .find(on_line)
                .ok_or_else(|| format!("{}: id is not unique and no line matches", what()))?,
        };
        let record = &self.corpus.records[record as usize];
        if m.line.is_some_and(|l| l != record.line) {
            return Err(format!(
                "{}: the report says line {}, the corpus has the record on line {}",
                what(),
                m.line.unwrap_or(0),
                record.line
            ));
        }
        if m.paragraph >= record.paragraphs {
            return Err(format!(
                "{}: the record has {} paragraphs",
                what(),
                record.paragraphs
            ));
        }
        match self.corpus.slots[record.first_slot + m.paragraph as usize] {
            NONE => Err(format!("{}: fewer tokens than --min-words", what())),
            p => Ok(p),
        }
    }
}

fn reported(report: &ReportFile, corpus: &Corpus, groups: &Groups, dsets: &Sets) -> Reported {
    let n = corpus.place.len();
    let locator = Locator::new(corpus);
    let mut out = Reported {
        kept_of: vec![NONE; n],
        label: vec![NONE; n],
        clusters: report.clusters.len() as u64,
        pairs: 0,
        problems: Vec::new(),
        similarity_mismatches: 0,
    };
    for cluster in &report.clusters {
        let Some((first, dups)) = cluster.members.split_first() else {
            out.problems.push("a cluster without members".to_owned());
            continue;
        };
        let kept = match locator.find(first) {
            Ok(p) => p,
            Err(e) => {
                out.problems.push(e);
                continue;
            }
        };
        if out.label[kept as usize] != NONE {
            out.problems
                .push(format!("{} is in two clusters", corpus.name(kept)));
            continue;
        }
        out.label[kept as usize] = kept;
        for m in dups {
            let dup = match locator.find(m) {
                Ok(p) => p,
                Err(e) => {
                    out.problems.push(e);
                    continue;
                }
            };
            if out.label[dup as usize] != NONE {
                out.problems
                    .push(format!("{} is in two clusters", corpus.name(dup)));
                continue;
            }
            if dup < kept {
                out.problems.push(format!(
                    "{} is reported as a duplicate of the later {}",
                    corpus.name(dup),
                    corpus.name(kept)
                ));
            }
            out.label[dup as usize] = kept;
            out.kept_of[dup as usize] = kept;
            out.pairs += 1;
            let exact = pair_similarity(groups, dsets, dup, kept).as_f64();
            if m.similarity.is_some_and(|s| (s - exact).abs() > 1e-9) {
                out.similarity_mismatches += 1;
            }
        }
    }
    out
}

/// The exact similarity of two compared paragraphs.
fn pair_similarity(groups: &Groups, dsets: &Sets, p: u32, q: u32) -> Similarity {
    let (a, b) = (groups.of[p as usize], groups.of[q as usize]);
    jaccard(dsets.get(a), dsets.get(b))
}

// ---------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------

/// `hits / total`; 1 when there is nothing to find (or nothing reported),
/// since then nothing was missed (or wrong).
#[derive(Clone, Copy, Default)]
struct Ratio {
    hits: u64,
    total: u64,
}

impl Ratio {
    fn add(&mut self, hit: bool) {
        self.total += 1;
        self.hits += u64::from(hit);
    }

    fn value(self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }

    fn json(self) -> serde_json::Value {
        json!({"hits": self.hits, "total": self.total, "value": self.value()})
    }
}

/// How many pairs of a clustering fall inside one cluster, over all
/// ground-truth pairs, counted per group: the members of a group have
/// `m(m-1)/2` pairs among themselves and `m·m'` with a similar group.
fn clustered_pairs(groups: &Groups, pairs: &[SetPair], label: &[u32]) -> Ratio {
    // Per group, how many members carry each label (sorted by label).
    let mut tagged: Vec<(u32, u32)> = groups
        .of
        .iter()
        .zip(label)
        .filter(|&(_, &l)| l != NONE)
        .map(|(&g, &l)| (g, l))
        .collect();
    tagged.sort_unstable();
    let mut start = vec![0usize; groups.first.len() + 1];
    let mut hist: Vec<(u32, u64)> = Vec::new();
    for run in tagged.chunk_by(|x, y| x == y) {
        let (g, l) = run[0];
        hist.push((l, run.len() as u64));
        start[g as usize + 1] = hist.len();
    }
    for g in 1..start.len() {
        start[g] = start[g].max(start[g - 1]);
    }
    let of = |g: u32| &hist[start[g as usize]..start[g as usize + 1]];
    let pairs_of = |m: u64| m * m.saturating_sub(1) / 2;
    let mut ratio = Ratio::default();
    for (g, &m) in groups.size.iter().enumerate() {
        ratio.total += pairs_of(u64::from(m));
        ratio.hits += of(g as u32).iter().map(|&(_, c)| pairs_of(c)).sum::<u64>();
    }
    for pair in pairs {
        let (ma, mb) = (groups.size[pair.a as usize], groups.size[pair.b as usize]);
        ratio.total += u64::from(ma) * u64::from(mb);
        let (x, y) = (of(pair.a), of(pair.b));
        let (mut i, mut j) = (0, 0);
        while i < x.len() && j < y.len() {
            match x[i].0.cmp(&y[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    ratio.hits += x[i].1 * y[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    ratio
}

/// Ground-truth pairs whose paragraphs were both left unflagged by the
/// report (kept, or in no cluster): the near-duplicates remaining after
/// deduplication.
fn unflagged_pairs(groups: &Groups, pairs: &[SetPair], kept_of: &[u32]) -> u64 {
    let mut free = vec![0u64; groups.first.len()];
    for (&g, &k) in groups.of.iter().zip(kept_of) {
        free[g as usize] += u64::from(k == NONE);
    }
    let within: u64 = free.iter().map(|&c| c * c.saturating_sub(1) / 2).sum();
    let across: u64 = pairs
        .iter()
        .map(|p| free[p.a as usize] * free[p.b as usize])
        .sum();
    within + across
}

/// Writes to stdout, ignoring errors: a closed pipe (`| head`) is not a
/// failure of the check, and `print!` would panic on it.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn show(sim: Similarity) -> String {
    format!("J={:.4} ({}/{})", sim.as_f64(), sim.intersection, sim.union)
}

fn run(args: &Args) -> Result<bool, String> {
    let t = args.threshold;
    let clock = Instant::now();
    let mut times: Vec<(&str, f64)> = Vec::new();
    let mut lap = {
        let mut last = Instant::now();
        move |times: &mut Vec<(&'static str, f64)>, name: &'static str| {
            times.push((name, last.elapsed().as_secs_f64()));
            last = Instant::now();
        }
    };

    let report = read_report(&args.report)?;
    let corpus = read_corpus(&args.corpus, args.shingle_size, args.min_words)?;
    check_settings(&report, args, &corpus);
    if !corpus.malformed.is_empty() {
        eprintln!(
            "accuracy: warning: {} malformed records skipped, first: {}",
            corpus.malformed.len(),
            corpus.malformed[0]
        );
    }
    lap(&mut times, "read");

    let n = corpus.place.len();
    if args.brute_force && n > MAX_BRUTE_FORCE {
        return Err(format!(
            "--brute-force needs at most {MAX_BRUTE_FORCE} compared paragraphs, the corpus has {n}"
        ));
    }
    let groups = group(&corpus.sets);
    let dsets = distinct_sets(&corpus.sets, &groups, corpus.distinct_shingles);
    lap(&mut times, "group");
    let brute = args.brute_force.then(|| brute_force(&corpus.sets, t));
    if brute.is_some() {
        lap(&mut times, "brute force");
    }
    // The per-paragraph sets are not needed again; the distinct ones remain.
    let corpus = Corpus {
        sets: Sets::default(),
        ..corpus
    };
    let (pairs, candidates) = join(&dsets, t, corpus.distinct_shingles);
    lap(&mut times, "join");

    let brute_pairs = match brute {
        Some(brute) => {
            let joined = expand(&groups, &dsets, &pairs);
            if joined != brute {
                let first = joined
                    .iter()
                    .zip(&brute)
                    .position(|(a, b)| a != b)
                    .unwrap_or(joined.len().min(brute.len()));
                let at = |v: &[(u32, u32, u32, u32)]| {
                    v.get(first).map_or("nothing".to_owned(), |&(p, q, i, u)| {
                        format!("{} ~ {} {i}/{u}", corpus.name(p), corpus.name(q))
                    })
                };
                return Err(format!(
                    "prefix filter disagrees with brute force: {} pairs against {}; \
                     first difference: join has {}, brute force has {}",
                    joined.len(),
                    brute.len(),
                    at(&joined),
                    at(&brute)
                ));
            }
            let msg = format!(
                "prefix filter agrees with brute force on {} pairs",
                brute.len()
            );
            if args.json {
                eprintln!("{msg}");
            } else {
                emit(&format!("{msg}\n"));
            }
            Some(brute.len())
        }
        None => None,
    };

    let verdicts = oracle(&groups, &dsets, &pairs);
    let rep = reported(&report, &corpus, &groups, &dsets);
    drop(report);

    // Precision: every reported pair against the exact similarity.
    let mut precision = Ratio::default();
    let mut violations = Vec::new();
    for (d, &k) in rep.kept_of.iter().enumerate() {
        if k == NONE {
            continue;
        }
        let sim = pair_similarity(&groups, &dsets, d as u32, k);
        precision.add(sim.meets(t));
        if !sim.meets(t) && violations.len() < LIST {
            violations.push(format!(
                "{} reported as a duplicate of {}: {}",
                corpus.name(d as u32),
                corpus.name(k),
                show(sim)
            ));
        }
    }

    // Recalls against the oracle, and the pairs where the two differ.
    let (mut pair_recall, mut flag_recall) = (Ratio::default(), Ratio::default());
    let (mut near_pair_recall, mut near_flag_recall) = (Ratio::default(), Ratio::default());
    let (mut misses, mut near_misses, mut unlike) = (Vec::new(), 0u64, Vec::new());
    let mut unlike_count = 0u64;
    for (p, verdict) in verdicts.iter().enumerate() {
        let said = rep.kept_of[p];
        if let Some((k, sim)) = *verdict {
            let near = groups.of[p] != groups.of[k as usize];
            pair_recall.add(said == k);
            flag_recall.add(said != NONE);
            if near {
                near_pair_recall.add(said == k);
                near_flag_recall.add(said != NONE);
            }
            if said != k {
                near_misses += u64::from(near);
                if misses.len() < LIST {
                    let report_says = if said != NONE {
                        format!("reported against {}", corpus.name(said))
                    } else if rep.label[p] == p as u32 {
                        "reported as kept".to_owned()
                    } else {
                        "not flagged".to_owned()
                    };
                    misses.push(format!(
                        "{} ~ kept {}: {}; {report_says}",
                        corpus.name(p as u32),
                        corpus.name(k),
                        show(sim)
                    ));
                }
            }
        }
        if said != NONE && verdict.is_none_or(|(k, _)| k != said) {
            unlike_count += 1;
            if unlike.len() < LIST {
                let oracle_says = match verdict {
                    Some((k, _)) => format!("the oracle says duplicate of {}", corpus.name(*k)),
                    None => "the oracle keeps it".to_owned(),
                };
                let sim = pair_similarity(&groups, &dsets, p as u32, said);
                unlike.push(format!(
                    "{} reported against {}: {}; {oracle_says}",
                    corpus.name(p as u32),
                    corpus.name(said),
                    show(sim)
                ));
            }
        }
    }

    let oracle_label: Vec<u32> = verdicts
        .iter()
        .enumerate()
        .map(|(p, v)| v.map_or(p as u32, |(k, _)| k))
        .collect();
    let all_pairs = clustered_pairs(&groups, &pairs, &rep.label);
    let oracle_all_pairs = clustered_pairs(&groups, &pairs, &oracle_label);
    let truth = oracle_all_pairs.total;
    let near_truth: u64 = pairs
        .iter()
        .map(|p| u64::from(groups.size[p.a as usize]) * u64::from(groups.size[p.b as usize]))
        .sum();
    let left_over = unflagged_pairs(&groups, &pairs, &rep.kept_of);
    let paragraphs: u64 = corpus.records.iter().map(|r| u64::from(r.paragraphs)).sum();
    lap(&mut times, "compare");
    let total_time = clock.elapsed().as_secs_f64();

    let ok = precision.hits == precision.total && rep.problems.is_empty();
    if args.json {
        let seconds: serde_json::Map<String, serde_json::Value> = times
            .iter()
            .map(|&(k, v)| (k.to_owned(), json!(v)))
            .chain([("total".to_owned(), json!(total_time))])
            .collect();
        let out = json!({
            "corpus": args.corpus,
            "report": args.report,
            "threshold": args.threshold_text,
            "shingle_size": args.shingle_size,
            "min_words": args.min_words,
            "precision": precision.json(),
            "recall_pairs": pair_recall.json(),
            "recall_flagged": flag_recall.json(),
            "recall_near_pairs": near_pair_recall.json(),
            "recall_near_flagged": near_flag_recall.json(),
            "all_true_pairs_in_one_cluster": all_pairs.json(),
            "oracle_all_true_pairs_in_one_cluster": oracle_all_pairs.json(),
            "records": corpus.records.len(),
            "malformed_records": corpus.malformed.len(),
            "paragraphs": paragraphs,
            "compared_paragraphs": n,
            "distinct_sets": dsets.count(),
            "distinct_shingles": corpus.distinct_shingles,
            "distinct_tokens": corpus.distinct_tokens,
            "ground_truth_pairs": truth,
            "ground_truth_near_pairs": near_truth,
            "similar_set_pairs": pairs.len(),
            "join_candidates": candidates,
            "oracle_duplicates": flag_recall.total,
            "oracle_near_duplicates": near_flag_recall.total,
            "reported_clusters": rep.clusters,
            "reported_duplicates": rep.pairs,
            "missed_oracle_pairs": pair_recall.total - pair_recall.hits,
            "missed_near_oracle_pairs": near_misses,
            "reported_pairs_not_in_oracle": unlike_count,
            "true_pairs_among_unflagged": left_over,
            "similarity_mismatches": rep.similarity_mismatches,
            "report_problems": rep.problems.len(),
            "brute_force_pairs": brute_pairs,
            "seconds": seconds,
        });
        emit(&format!("{out}\n"));
        return Ok(ok);
    }

    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "neardup accuracy: {} against {}",
        args.report, args.corpus
    );
    let _ = writeln!(
        w,
        "threshold {}, shingle size {}, min words {}; exact shingle sets, prefix-filter join\n",
        args.threshold_text, args.shingle_size, args.min_words
    );
    let _ = writeln!(
        w,
        "{:<52} {:>11} {:>11} {:>9}",
        "measure", "hits", "total", "value"
    );
    let rows: [(&str, Ratio); 7] = [
        ("precision: reported pairs with J >= t", precision),
        ("recall: oracle pairs reported", pair_recall),
        ("recall: oracle duplicates flagged", flag_recall),
        (
            "recall: near oracle pairs reported (J < 1)",
            near_pair_recall,
        ),
        (
            "recall: near oracle duplicates flagged (J < 1)",
            near_flag_recall,
        ),
        (
            "all true pairs (J >= t) in one reported cluster *",
            all_pairs,
        ),
        ("  the same for the oracle's clusters *", oracle_all_pairs),
    ];
    for (name, r) in rows {
        let _ = writeln!(
            w,
            "{name:<52} {:>11} {:>11} {:>9.6}",
            r.hits,
            r.total,
            r.value()
        );
    }
    let _ = writeln!(
        w,
        "* a true pair counts when both paragraphs are in the same cluster; without\n  \
         chaining, paragraphs similar to each other can be flagged against different\n  \
         kept paragraphs, so this stays below 1 even for the oracle.\n"
    );
    let counts: Vec<(&str, String)> = vec![
        (
            "records",
            format!(
                "{} ({} malformed)",
                corpus.records.len(),
                corpus.malformed.len()
            ),
        ),
        ("paragraphs", paragraphs.to_string()),
        ("compared paragraphs (>= min words)", n.to_string()),
        (
            "distinct shingle sets / shingles / tokens",
            format!(
                "{} / {} / {}",
                dsets.count(),
                corpus.distinct_shingles,
                corpus.distinct_tokens
            ),
        ),
        (
            "ground-truth pairs (J >= t) / near (J < 1)",
            format!("{truth} / {near_truth}"),
        ),
        (
            "similar distinct-set pairs / join candidates",
            format!("{} / {candidates}", pairs.len()),
        ),
        (
            "oracle duplicates / near",
            format!("{} / {}", flag_recall.total, near_flag_recall.total),
        ),
        (
            "reported clusters / duplicates",
            format!("{} / {}", rep.clusters, rep.pairs),
        ),
        (
            "missed oracle pairs / near",
            format!("{} / {near_misses}", pair_recall.total - pair_recall.hits),
        ),
        ("reported pairs not in the oracle", unlike_count.to_string()),
        ("true pairs left among unflagged", left_over.to_string()),
        (
            "reported similarities unlike exact",
            rep.similarity_mismatches.to_string(),
        ),
        ("report problems", rep.problems.len().to_string()),
    ];
    let _ = writeln!(w, "counts");
    for (name, value) in counts {
        let _ = writeln!(w, "  {name:<50} {value}");
    }
    let lists = [
        ("precision violations", &violations),
        ("missed oracle pairs", &misses),
        ("reported pairs not in the oracle", &unlike),
        ("report problems", &rep.problems),
    ];
    for (name, items) in lists {
        if !items.is_empty() {
            let _ = writeln!(w, "{name} (up to {LIST}):");
            for item in items.iter().take(LIST) {
                let _ = writeln!(w, "  {item}");
            }
        }
    }
    let times: Vec<String> = times
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.2}"))
        .collect();
    let _ = writeln!(w, "time (s): {}; total {total_time:.2}", times.join(", "));
    emit(&s);
    Ok(ok)
}
