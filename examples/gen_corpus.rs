//! A deterministic generator of news-like JSON Lines corpora with planted
//! duplicates, for benchmarks and accuracy checks.
//!
//! ```text
//! cargo run --release --example gen_corpus -- --size 100MB --seed 1 --out corpus.jsonl [--plan plan.jsonl]
//! ```
//!
//! `--size` is a byte count with an optional decimal suffix (`B`, `kB`,
//! `MB`, `GB`, in any case; `1.5GB` works). The last document is cut at a
//! word boundary so that the file is at most that size and short of it by
//! less than one word. `--seed` (default 1) picks the corpus; `--out -`
//! writes to standard output.
//!
//! # The text
//!
//! Nothing is copied from real text. About 50,000 pseudo-words are built from
//! syllables and ranked behind some 200 common English words, and words are
//! drawn from that ranking with a Zipf law (s = 1), so that, as in news
//! copy, about half of all words are function words and the frequent
//! pseudo-words are the short ones. Sentences have 8–28 words, paragraphs
//! 25–100 (a few 6–15), documents 4–20 paragraphs before planting. Numbers
//! (`42`, `3.5`, `1,200`, `2019`), commas, quotations with attributions and
//! a few capitalised names per document give the texture of news. About 30%
//! of paragraphs use typographic quotes, apostrophes and an em dash, so that
//! neardup's Unicode normalisation runs as well as its ASCII fast path.
//!
//! Each output line is one record,
//! `{"id":"doc-0000001","url":"https://news-<n>.example.test/<slug>","text":"…"}`,
//! whose text holds one paragraph per line and never a blank line: paragraph
//! `i` is line `i` of the text.
//!
//! # Planted duplicates
//!
//! Each document independently receives each kind with the share given by
//! the `*_PER_MILLE` constants below:
//!
//! - `within` (3%): a paragraph, or a run of 2–3 consecutive paragraphs, is
//!   repeated byte for byte later in the same document.
//! - `wire` (10%): the document republishes a recent one under another
//!   outlet. Each paragraph is edited word by word (substitutions, insertions,
//!   deletions) at a rate fixed per copy, between 0 and 8% of words, which puts
//!   the paragraphs' word 5-gram Jaccard similarity roughly between 0.4 and 1;
//!   15% of copies are unedited. Sometimes a paragraph is dropped or a new one
//!   added.
//! - `copy` (5%): one paragraph of an unrelated document is inserted verbatim.
//! - `cosmetic` (2%): one paragraph of an unrelated document is inserted with
//!   only its case, punctuation and white space changed, so its normalised
//!   tokens are identical (the generator checks this with neardup's own
//!   normaliser).
//! - `boilerplate` (40%): 1–3 lines from a fixed list of 16 are appended.
//!
//! `--plan FILE` writes one JSON line per planted copy, in output order:
//!
//! ```text
//! {"kind":"wire","source":{"doc":"doc-0000012","paragraph":3},"target":{"doc":"doc-0000020","paragraph":2},"edit_rate":0.035,"edits":2}
//! ```
//!
//! `edit_rate` is the copy's per-word edit probability (0 except for `wire`)
//! and `edits` the number of edits the paragraph actually received. A
//! boilerplate line's source is its first occurrence in the corpus. Only
//! direct copies are listed, each against the paragraph it was made from;
//! duplicates that follow by transitivity (two copies of one paragraph, a wire
//! copy of a document that itself holds a copied paragraph) are not, so an
//! accuracy check should group the plan into connected components. Heavily
//! edited wire copies fall below neardup's default threshold by design:
//! compute a listed pair's exact similarity before counting it as missed.
//! Nor does neardup chain: when a wire copy's source is itself an edited
//! copy, the target is rightly left unflagged if it is close to its source
//! but not to the paragraph that source was flagged against.
//!
//! # Determinism
//!
//! The same arguments give byte-identical output on every platform: all
//! randomness comes from [`neardup::hash::SplitMix64`] seeded from `--seed`
//! (the vocabulary from a fixed seed, so all corpora share one "language"),
//! every decision uses integer arithmetic (the Zipf law is an integer
//! cumulative table), and nothing is ever emitted in hash-map order.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use neardup::hash::SplitMix64;
use neardup::normalize::{Normalizer, Scratch, TokenKind};
use serde::Serialize;

/// Share of documents with a paragraph run repeated within the document.
const WITHIN_PER_MILLE: u64 = 30;
/// Share of documents that are edited republications of an earlier one.
const WIRE_PER_MILLE: u64 = 100;
/// Share of documents receiving one verbatim paragraph from another.
const COPY_PER_MILLE: u64 = 50;
/// Share of documents receiving one cosmetically changed paragraph.
const COSMETIC_PER_MILLE: u64 = 20;
/// Share of documents ending in boilerplate lines.
const BOILERPLATE_PER_MILLE: u64 = 400;

/// Wire copies edit each word with a probability drawn uniformly from
/// 1..=this per mille. At 80‰ a 60-word paragraph takes about five edits,
/// each destroying up to five shingles on each side, which brings the
/// Jaccard similarity down to about 0.4.
const WIRE_MAX_EDIT_PER_MILLE: u64 = 80;
/// Share of wire copies left unedited, as agencies' clients often do.
const WIRE_UNEDITED_PER_MILLE: u64 = 150;
/// Chance that a wire copy drops one paragraph, and that it adds one.
const WIRE_DROP_PER_MILLE: u64 = 150;
const WIRE_ADD_PER_MILLE: u64 = 150;

/// Share of paragraphs written with typographic punctuation.
const FANCY_PER_MILLE: u64 = 300;
/// Share of paragraphs that are short (a caption, a one-line update).
const SHORT_PER_MILLE: u64 = 80;

/// Pseudo-words in the vocabulary, besides the function words.
const VOCABULARY_SIZE: usize = 50_000;
/// The vocabulary is the same for every `--seed`.
const VOCABULARY_SEED: u64 = 0x766f_6361_6275_6c61; // "vocabula"
/// Zipf weights are `ZIPF_SCALE / (rank + ZIPF_OFFSET)`; the offset flattens
/// the head a little, as in real word counts.
const ZIPF_SCALE: u64 = 1 << 32;
const ZIPF_OFFSET: u64 = 2;
/// Names are drawn from these ranks: below the most frequent pseudo-words,
/// so that they look distinctive, and among the short ones (the vocabulary
/// is sorted by syllable count), so that they look like names.
const NAME_RANKS: (usize, usize) = (2_000, 20_000);

/// Recent documents that wire stories and copied paragraphs can come from.
/// Once full, a new document replaces a random entry, so most sources are
/// recent but some are far back in the corpus.
const POOL_CAPACITY: usize = 2_048;
/// Outlets, the `<n>` of `news-<n>.example.test`.
const OUTLETS: u64 = 40;

/// Common English words, roughly by frequency. Generated text would look
/// nothing like news without its function words, and they make unrelated
/// paragraphs share the frequent short shingles real ones share.
const FUNCTION_WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "is",
    "for",
    "on",
    "said",
    "it",
    "was",
    "with",
    "as",
    "by",
    "at",
    "he",
    "from",
    "his",
    "be",
    "are",
    "has",
    "have",
    "but",
    "not",
    "an",
    "they",
    "this",
    "were",
    "which",
    "had",
    "who",
    "will",
    "been",
    "their",
    "or",
    "its",
    "more",
    "would",
    "after",
    "also",
    "one",
    "two",
    "about",
    "she",
    "her",
    "we",
    "up",
    "than",
    "other",
    "new",
    "last",
    "first",
    "when",
    "there",
    "into",
    "over",
    "out",
    "year",
    "can",
    "what",
    "all",
    "some",
    "could",
    "people",
    "them",
    "years",
    "him",
    "time",
    "if",
    "no",
    "just",
    "only",
    "so",
    "most",
    "because",
    "before",
    "three",
    "now",
    "while",
    "where",
    "during",
    "such",
    "like",
    "many",
    "may",
    "our",
    "against",
    "says",
    "told",
    "those",
    "percent",
    "these",
    "between",
    "week",
    "since",
    "under",
    "then",
    "government",
    "officials",
    "any",
    "being",
    "still",
    "both",
    "through",
    "including",
    "according",
    "city",
    "state",
    "police",
    "million",
    "billion",
    "should",
    "did",
    "four",
    "five",
    "much",
    "very",
    "well",
    "even",
    "back",
    "down",
    "off",
    "made",
    "make",
    "take",
    "get",
    "us",
    "you",
    "do",
    "does",
    "how",
    "why",
    "here",
    "per",
    "each",
    "every",
    "another",
    "own",
    "same",
    "few",
    "next",
    "former",
    "later",
    "early",
    "today",
    "month",
    "months",
    "day",
    "days",
    "second",
    "public",
    "local",
    "national",
    "group",
    "country",
    "world",
    "company",
    "report",
    "found",
    "added",
    "expected",
    "around",
    "least",
    "without",
    "within",
    "across",
    "toward",
    "among",
    "however",
    "although",
    "though",
    "until",
    "whether",
    "already",
    "again",
    "never",
    "always",
    "often",
    "part",
    "called",
    "official",
    "leader",
    "minister",
    "president",
    "spokesman",
    "spokeswoman",
    "statement",
    "meeting",
    "plan",
    "plans",
    "support",
    "service",
    "court",
    "law",
    "members",
    "family",
    "school",
    "health",
    "market",
    "price",
    "prices",
    "water",
    "home",
    "office",
    "work",
    "workers",
    "business",
    "region",
    "area",
    "near",
    "held",
    "asked",
];

/// Boilerplate lines, written for this generator. Sites append such lines to
/// every article, which makes them the commonest exact duplicates in scraped
/// news.
const BOILERPLATE: &[&str] = &[
    "Share this article",
    "Sign up for our newsletter to get the day’s top stories in your inbox every morning.",
    "Related Topics",
    "All rights reserved.",
    "© 2024 Example News Group. All rights reserved.",
    "By the Example News Staff",
    "Reporting by the Metro Desk; editing by the Night Team",
    "Follow us on social media for the latest updates.",
    "This article has been updated with additional information.",
    "Click here to read more stories like this one.",
    "Advertisement — story continues below",
    "Copyright Example Wire Service. Reuse of this story requires written permission.",
    "Have a news tip? Contact our newsroom at tips@example.test.",
    "We welcome your comments below; please keep the conversation civil.",
    "Photos courtesy of the Example News Archive.",
    "Subscribe now for unlimited digital access",
];

const ONSETS: &[&str] = &[
    "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y",
    "z", "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sk",
    "sl", "sm", "sn", "sp", "st", "str", "sw", "th", "tr", "wh",
];
const NUCLEI: &[&str] = &[
    "a", "e", "i", "o", "u", "ai", "au", "ea", "ee", "ei", "ie", "io", "oa", "oo", "ou",
];
/// The empty coda appears three times so that open syllables are common.
const CODAS: &[&str] = &[
    "", "", "", "b", "ck", "d", "ft", "g", "l", "ld", "lt", "m", "n", "nd", "ng", "nk", "nt", "p",
    "r", "rd", "rn", "rs", "rt", "s", "sh", "st", "t", "th", "x",
];

const USAGE: &str = "\
usage: gen_corpus --size SIZE --out FILE [--seed N] [--plan FILE]

  --size SIZE   output size: bytes, or with a decimal suffix B, kB, MB, GB
                (e.g. 100MB, 1.5GB)
  --out FILE    the JSON Lines corpus to write (- for standard output)
  --seed N      an unsigned 64-bit integer choosing the corpus [default: 1]
  --plan FILE   also write one JSON line per planted duplicate";

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("gen_corpus: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_corpus: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Args {
    size: u64,
    seed: u64,
    out: String,
    plan: Option<String>,
}

/// `Ok(None)` asks for the usage message.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut size, mut seed, mut out, mut plan) = (None, 1, None, None);
    while let Some(arg) = argv.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--size" => size = Some(parse_size(&value()?)?),
            "--seed" => {
                let v = value()?;
                seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "--out" => out = Some(value()?),
            "--plan" => plan = Some(value()?),
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(Some(Args {
        size: size.ok_or("--size is required")?,
        seed,
        out: out.ok_or("--out is required")?,
        plan,
    }))
}

/// Parses `100MB`, `1.5GB`, `2500`. Integer arithmetic throughout, so that a
/// size means the same byte count everywhere.
fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("bad size {text:?} (expected e.g. 500kB, 100MB, 1.5GB)");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_bytes: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(bad()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let mut bytes = whole.checked_mul(unit_bytes).ok_or_else(bad)?;
    let mut scale = unit_bytes;
    for digit in fraction.bytes() {
        // Digits finer than one byte are ignored.
        scale /= 10;
        bytes += u64::from(digit - b'0') * scale;
    }
    if bytes == 0 {
        return Err(bad());
    }
    Ok(bytes)
}

fn run(args: &Args) -> io::Result<()> {
    let mut out: BufWriter<Box<dyn Write>> = BufWriter::with_capacity(
        1 << 20,
        if args.out == "-" {
            Box::new(io::stdout().lock())
        } else {
            Box::new(File::create(&args.out)?)
        },
    );
    let mut plan = match &args.plan {
        Some(path) => Some(BufWriter::with_capacity(1 << 16, File::create(path)?)),
        None => None,
    };

    let mut generator = Generator::new(args.seed);
    let mut written = 0u64;
    let mut documents = 0u64;
    let mut planted = [0u64; Kind::ALL.len()];
    loop {
        let mut doc = generator.document();
        let mut line = doc.to_json();
        let last = written + line.len() as u64 > args.size;
        if last {
            match doc.fit(args.size - written) {
                Some(fitted) => line = fitted,
                None => break,
            }
        }
        out.write_all(&line)?;
        written += line.len() as u64;
        documents += 1;
        for entry in generator.finish(&doc) {
            planted[entry.kind as usize] += 1;
            if let Some(plan) = &mut plan {
                serde_json::to_writer(&mut *plan, &entry.to_record())?;
                plan.write_all(b"\n")?;
            }
        }
        if last {
            break;
        }
        generator.publish(doc);
    }
    out.flush()?;
    if let Some(plan) = &mut plan {
        plan.flush()?;
    }

    let counts: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{} {}", k.as_str(), planted[*k as usize]))
        .collect();
    eprintln!(
        "gen_corpus: {documents} documents, {written} bytes; planted copies: {}",
        counts.join(", ")
    );
    Ok(())
}

/// SplitMix64 with the draws this generator needs.
struct Rng(SplitMix64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    /// Uniform in `0..n` (for `n > 0`), by the multiply-shift method: the
    /// bias is below 2^-40 for every `n` used here, and it needs no division.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.0.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        (self.below(1000) as u64) < per_mille
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The vocabulary with its Zipf law, and everything that writes words.
struct Lexicon {
    words: Vec<String>,
    /// `cumulative[r]` is the total weight of ranks `0..=r`.
    cumulative: Vec<u64>,
}

impl Lexicon {
    fn new() -> Lexicon {
        let mut rng = Rng::new(VOCABULARY_SEED);
        let mut seen: HashSet<String> = HashSet::new();
        for w in FUNCTION_WORDS {
            assert!(seen.insert((*w).to_owned()), "{w:?} listed twice");
        }
        let mut pseudo: Vec<(usize, String)> = Vec::with_capacity(VOCABULARY_SIZE);
        while pseudo.len() < VOCABULARY_SIZE {
            let syllables = match rng.below(100) {
                0..25 => 1,
                25..75 => 2,
                75..95 => 3,
                _ => 4,
            };
            let mut word = String::new();
            for _ in 0..syllables {
                word.push_str(rng.pick(ONSETS));
                word.push_str(rng.pick(NUCLEI));
                word.push_str(rng.pick(CODAS));
            }
            if word.len() >= 2 && seen.insert(word.clone()) {
                pseudo.push((syllables, word));
            }
        }
        // Short words are the frequent ones in every language; the sort is
        // stable, so within a syllable count the generation order decides.
        pseudo.sort_by_key(|(syllables, _)| *syllables);
        let words: Vec<String> = FUNCTION_WORDS
            .iter()
            .map(|w| (*w).to_owned())
            .chain(pseudo.into_iter().map(|(_, w)| w))
            .collect();
        let mut total = 0;
        let cumulative = (0..words.len() as u64)
            .map(|rank| {
                total += ZIPF_SCALE / (rank + ZIPF_OFFSET);
                total
            })
            .collect();
        Lexicon { words, cumulative }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let total = *self.cumulative.last().expect("the vocabulary is not empty");
        let u = ((u128::from(rng.0.next_u64()) * u128::from(total)) >> 64) as u64;
        &self.words[self.cumulative.partition_point(|&c| c <= u)]
    }

    /// A capitalised mid-frequency pseudo-word.
    fn name(&self, rng: &mut Rng) -> String {
        capitalised(&self.words[rng.range(NAME_RANKS.0, NAME_RANKS.1)])
    }

    /// A paragraph of `words` words.
    fn paragraph(&self, rng: &mut Rng, names: &[String], words: usize) -> String {
        let fancy = rng.chance(FANCY_PER_MILLE);
        let mut out = String::with_capacity(words * 8);
        let mut remaining = words;
        let mut first = true;
        while remaining > 0 {
            let len = if remaining <= 28 {
                remaining
            } else {
                // Never leave fewer than 8 words for the last sentence.
                rng.range(8, 28).min(remaining - 8)
            };
            remaining -= len;
            if !first {
                out.push(' ');
            }
            // One em dash per fancy paragraph guarantees a non-ASCII
            // character even when no quotation comes up.
            let dash = (fancy && first).then(|| rng.range(1, len - 1));
            self.sentence(rng, &mut out, names, len, fancy, dash);
            first = false;
        }
        out
    }

    /// Appends a sentence of `len >= 2` words; `dash` puts an em dash after
    /// that many words.
    fn sentence(
        &self,
        rng: &mut Rng,
        out: &mut String,
        names: &[String],
        len: usize,
        fancy: bool,
        dash: Option<usize>,
    ) {
        let (open, close) = if fancy { ("“", "”") } else { ("\"", "\"") };
        if len >= 8 && rng.chance(120) {
            // A quotation: `“Words words,” said Name.`
            out.push_str(open);
            self.words_into(rng, out, names, len - 2, fancy, dash);
            out.push(',');
            out.push_str(close);
            out.push_str(" said ");
            out.push_str(&names[rng.below(names.len())]);
            out.push('.');
        } else {
            self.words_into(rng, out, names, len, fancy, dash);
            out.push(if rng.chance(30) { '?' } else { '.' });
        }
    }

    /// Appends `len` words, the first capitalised, with inner punctuation.
    fn words_into(
        &self,
        rng: &mut Rng,
        out: &mut String,
        names: &[String],
        len: usize,
        fancy: bool,
        dash: Option<usize>,
    ) {
        for i in 0..len {
            if i > 0 {
                out.push(' ');
            }
            match rng.below(1000) {
                0..25 => push_number(rng, out),
                25..55 => {
                    out.push_str(&names[rng.below(names.len())]);
                    if i + 1 < len && rng.chance(150) {
                        out.push_str(if fancy { "’s" } else { "'s" });
                    }
                }
                _ if i == 0 => out.push_str(&capitalised(self.word(rng))),
                _ => out.push_str(self.word(rng)),
            }
            if i + 1 < len {
                if dash == Some(i + 1) {
                    out.push_str(" —");
                } else if rng.chance(70) {
                    out.push(',');
                }
            }
        }
    }

    /// The same paragraph with each word edited with probability
    /// `per_mille`; returns it with the number of edits.
    fn edit(&self, rng: &mut Rng, text: &str, per_mille: u64) -> (String, u64) {
        let mut out: Vec<String> = Vec::new();
        let mut edits = 0;
        for chunk in text.split(' ') {
            let (lead, core, trail) = split_chunk(chunk);
            if core.is_empty() || !rng.chance(per_mille) {
                out.push(chunk.to_owned());
                continue;
            }
            edits += 1;
            let capital = core.starts_with(|c: char| c.is_uppercase());
            match rng.below(4) {
                // Deleting a word that carries punctuation or a capital would
                // garble the sentence; those get substituted instead.
                0 if lead.is_empty() && trail.is_empty() && !capital => {}
                1 => {
                    let new = self.word(rng).to_owned();
                    if trail.contains(['.', '?']) {
                        out.push(new);
                        out.push(chunk.to_owned());
                    } else {
                        out.push(chunk.to_owned());
                        out.push(new);
                    }
                }
                _ => {
                    let mut new = self.word(rng);
                    if new == core {
                        new = self.word(rng);
                    }
                    let new = if capital {
                        capitalised(new)
                    } else {
                        new.to_owned()
                    };
                    out.push(format!("{lead}{new}{trail}"));
                }
            }
        }
        (out.join(" "), edits)
    }
}

fn push_number(rng: &mut Rng, out: &mut String) {
    let written = match rng.below(5) {
        0 => write!(out, "{}", rng.range(2, 99)),
        1 => write!(out, "{}.{}", rng.range(1, 20), rng.range(1, 9)),
        2 => write!(out, "{},{:03}", rng.range(1, 99), rng.below(1000)),
        3 => write!(out, "{}", rng.range(1990, 2025)),
        _ => write!(out, "{}", rng.range(100, 999)),
    };
    written.expect("writing to a String cannot fail");
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Splits a space-separated chunk into leading punctuation, the word, and
/// trailing punctuation (`“Hello,” → “ Hello ,”`). A chunk without a letter
/// or digit is all lead.
fn split_chunk(chunk: &str) -> (&str, &str, &str) {
    let Some(start) = chunk.find(char::is_alphanumeric) else {
        return (chunk, "", "");
    };
    let (i, c) = chunk
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphanumeric())
        .expect("the chunk has an alphanumeric character");
    let end = i + c.len_utf8();
    (&chunk[..start], &chunk[start..end], &chunk[end..])
}

/// Changes case, punctuation and white space only: every change is at a
/// chunk boundary, where it cannot join or split words.
fn cosmetic(rng: &mut Rng, text: &str) -> String {
    let case = rng.below(4);
    let mut out = String::with_capacity(text.len() + 16);
    if rng.chance(100) {
        out.push(' ');
    }
    let chunks: Vec<&str> = text.split(' ').collect();
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            out.push_str(match rng.below(12) {
                0 => "  ",
                1 => "\t",
                2 => "\u{a0}",
                _ => " ",
            });
        }
        let (lead, core, trail) = split_chunk(chunk);
        for c in lead.chars() {
            match c {
                '—' => out.push_str("--"),
                '“' => out.push('"'),
                '"' => out.push('“'),
                c => out.push(c),
            }
        }
        for (j, c) in core.chars().enumerate() {
            match (case, c) {
                (_, '’') => out.push('\''),
                (_, '\'') => out.push('’'),
                (0, c) => out.push(c.to_ascii_uppercase()),
                (1, c) => out.push(c.to_ascii_lowercase()),
                (2, c) if j == 0 => out.push(c.to_ascii_uppercase()),
                (_, c) => out.push(c),
            }
        }
        for c in trail.chars() {
            match c {
                ',' if rng.chance(330) => {}
                '.' if rng.chance(250) => out.push('!'),
                '.' if rng.chance(250) => {}
                '”' => out.push('"'),
                '"' => out.push('”'),
                c => out.push(c),
            }
        }
        if trail.is_empty() && !core.is_empty() && i + 1 < chunks.len() && rng.chance(60) {
            out.push(if rng.chance(500) { ',' } else { ';' });
        }
    }
    if out == text {
        // Unlucky draws changed nothing; a copy must differ in bytes.
        out = text.to_ascii_uppercase();
        if out == text {
            out.push(' ');
        }
    }
    out
}

fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    Normalizer::new(TokenKind::Words)
        .tokens(text, &mut Scratch::default(), |t| tokens.push(t.to_owned()));
    tokens
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Within,
    Wire,
    Copy,
    Cosmetic,
    Boilerplate,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Within,
        Kind::Wire,
        Kind::Copy,
        Kind::Cosmetic,
        Kind::Boilerplate,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Within => "within",
            Kind::Wire => "wire",
            Kind::Copy => "copy",
            Kind::Cosmetic => "cosmetic",
            Kind::Boilerplate => "boilerplate",
        }
    }
}

/// Where a paragraph came from.
#[derive(Clone, Copy, Debug)]
enum Origin {
    Fresh,
    /// Made from paragraph `paragraph` of earlier document `doc`.
    Earlier {
        kind: Kind,
        doc: u64,
        paragraph: usize,
        per_mille: u64,
        edits: u64,
    },
    /// Repeats the paragraph of the same document with this local id; ids,
    /// unlike indices, survive later insertions.
    Within(usize),
    /// Line `i` of [`BOILERPLATE`].
    Boilerplate(usize),
}

struct Para {
    text: String,
    local: usize,
    origin: Origin,
}

struct Doc {
    number: u64,
    outlet: u64,
    slug: String,
    /// The number of the fresh document this one descends from through wire
    /// copies, so that "unrelated" can be checked.
    family: u64,
    paras: Vec<Para>,
    next_local: usize,
}

impl Doc {
    fn insert(&mut self, at: usize, text: String, origin: Origin) {
        let local = self.next_local;
        self.next_local += 1;
        self.paras.insert(
            at,
            Para {
                text,
                local,
                origin,
            },
        );
    }

    fn push(&mut self, text: String, origin: Origin) {
        self.insert(self.paras.len(), text, origin);
    }

    fn index_of(&self, local: usize) -> usize {
        self.paras
            .iter()
            .position(|p| p.local == local)
            .expect("a within copy follows its source")
    }

    /// The record as one JSON line, newline included.
    fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Record<'a> {
            id: &'a str,
            url: &'a str,
            text: &'a str,
        }
        let text: Vec<&str> = self.paras.iter().map(|p| p.text.as_str()).collect();
        let record = Record {
            id: &doc_id(self.number),
            url: &format!("https://news-{}.example.test/{}", self.outlet, self.slug),
            text: &text.join("\n"),
        };
        let mut line = serde_json::to_vec(&record).expect("a record always serialises");
        line.push(b'\n');
        line
    }

    /// Shortens the document from the end until its line fits in `budget`
    /// bytes, cutting the last paragraph at a word boundary. A shortened
    /// paragraph no longer counts as a copy. `None` if nothing fits.
    fn fit(&mut self, budget: u64) -> Option<Vec<u8>> {
        loop {
            let line = self.to_json();
            let len = line.len() as u64;
            if len <= budget {
                return Some(line);
            }
            let over = usize::try_from(len - budget).unwrap_or(usize::MAX);
            let last = self.paras.last_mut()?;
            let keep = last.text.len().saturating_sub(over);
            let cut = last.text.as_bytes()[..keep]
                .iter()
                .rposition(|&b| b == b' ')
                .map(|i| last.text[..i].trim_end().len())
                .filter(|&i| last.text[..i].contains(char::is_alphanumeric));
            match cut {
                Some(i) => {
                    last.text.truncate(i);
                    last.origin = Origin::Fresh;
                }
                None => {
                    self.paras.pop();
                }
            }
        }
    }
}

fn doc_id(number: u64) -> String {
    format!("doc-{number:07}")
}

/// An earlier document that copies can be made from. Only the body is kept:
/// boilerplate comes last, so body indices are record indices.
struct Published {
    number: u64,
    outlet: u64,
    slug: String,
    family: u64,
    paras: Vec<String>,
}

struct PlanEntry {
    kind: Kind,
    source: (u64, usize),
    target: (u64, usize),
    per_mille: u64,
    edits: u64,
}

#[derive(Serialize)]
struct PlanRecord {
    kind: &'static str,
    source: Location,
    target: Location,
    edit_rate: f64,
    edits: u64,
}

#[derive(Serialize)]
struct Location {
    doc: String,
    paragraph: usize,
}

impl PlanEntry {
    fn to_record(&self) -> PlanRecord {
        let location = |(doc, paragraph): (u64, usize)| Location {
            doc: doc_id(doc),
            paragraph,
        };
        PlanRecord {
            kind: self.kind.as_str(),
            source: location(self.source),
            target: location(self.target),
            // Exact: a per-mille count divided once, printed shortest-form.
            edit_rate: self.per_mille as f64 / 1000.0,
            edits: self.edits,
        }
    }
}

struct Generator {
    rng: Rng,
    lexicon: Lexicon,
    pool: Vec<Published>,
    /// Where each boilerplate line first appeared, the source of its copies.
    boilerplate_first: [Option<(u64, usize)>; BOILERPLATE.len()],
    last_number: u64,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            lexicon: Lexicon::new(),
            pool: Vec::with_capacity(POOL_CAPACITY),
            boilerplate_first: [None; BOILERPLATE.len()],
            last_number: 0,
        }
    }

    fn document(&mut self) -> Doc {
        self.last_number += 1;
        let number = self.last_number;
        let rng = &mut self.rng;
        let names: Vec<String> = (0..rng.range(3, 6))
            .map(|_| self.lexicon.name(rng))
            .collect();
        let mut doc = Doc {
            number,
            outlet: rng.range(1, OUTLETS as usize) as u64,
            slug: String::new(),
            family: number,
            paras: Vec::new(),
            next_local: 0,
        };
        if !self.pool.is_empty() && self.rng.chance(WIRE_PER_MILLE) {
            self.wire(&mut doc, &names);
        } else {
            doc.slug = self.slug(number);
            for _ in 0..self.rng.range(4, 20) {
                let text = self.fresh_paragraph(&names);
                doc.push(text, Origin::Fresh);
            }
        }
        if self.rng.chance(COPY_PER_MILLE) {
            self.plant_foreign(&mut doc, Kind::Copy);
        }
        if self.rng.chance(COSMETIC_PER_MILLE) {
            self.plant_foreign(&mut doc, Kind::Cosmetic);
        }
        if self.rng.chance(WITHIN_PER_MILLE) {
            self.plant_within(&mut doc);
        }
        if self.rng.chance(BOILERPLATE_PER_MILLE) {
            let mut lines: Vec<usize> = Vec::new();
            let count = self.rng.range(1, 3);
            while lines.len() < count {
                let line = self.rng.below(BOILERPLATE.len());
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            // A site's footer lines come in a fixed order.
            lines.sort_unstable();
            for line in lines {
                doc.push(BOILERPLATE[line].to_owned(), Origin::Boilerplate(line));
            }
        }
        doc
    }

    fn fresh_paragraph(&mut self, names: &[String]) -> String {
        let words = if self.rng.chance(SHORT_PER_MILLE) {
            self.rng.range(6, 15)
        } else {
            self.rng.range(25, 100)
        };
        self.lexicon.paragraph(&mut self.rng, names, words)
    }

    /// A headline-like slug; the number keeps fresh stories' URLs distinct.
    fn slug(&mut self, number: u64) -> String {
        let mut slug = String::new();
        for _ in 0..self.rng.range(3, 6) {
            slug.push_str(self.lexicon.word(&mut self.rng));
            slug.push('-');
        }
        write!(slug, "{number}").expect("writing to a String cannot fail");
        slug
    }

    /// Makes `doc` a republication of a pooled document.
    fn wire(&mut self, doc: &mut Doc, names: &[String]) {
        let source = &self.pool[self.rng.below(self.pool.len())];
        // Syndicated copies keep the headline but appear under another outlet.
        doc.slug.clone_from(&source.slug);
        doc.family = source.family;
        if doc.outlet == source.outlet {
            doc.outlet = doc.outlet % OUTLETS + 1;
        }
        let per_mille = if self.rng.chance(WIRE_UNEDITED_PER_MILLE) {
            0
        } else {
            self.rng.range(1, WIRE_MAX_EDIT_PER_MILLE as usize) as u64
        };
        let dropped = (source.paras.len() > 2 && self.rng.chance(WIRE_DROP_PER_MILLE))
            .then(|| self.rng.below(source.paras.len()));
        for (paragraph, text) in source.paras.iter().enumerate() {
            if dropped == Some(paragraph) {
                continue;
            }
            let (text, edits) = self.lexicon.edit(&mut self.rng, text, per_mille);
            let origin = Origin::Earlier {
                kind: Kind::Wire,
                doc: source.number,
                paragraph,
                per_mille,
                edits,
            };
            doc.push(text, origin);
        }
        if self.rng.chance(WIRE_ADD_PER_MILLE) {
            let at = self.rng.below(doc.paras.len() + 1);
            let text = self.fresh_paragraph(names);
            doc.insert(at, text, Origin::Fresh);
        }
    }

    /// Inserts a paragraph of an unrelated pooled document, verbatim or
    /// cosmetically changed.
    fn plant_foreign(&mut self, doc: &mut Doc, kind: Kind) {
        if self.pool.is_empty() {
            return;
        }
        // A few tries: nearly every pooled document is unrelated.
        let Some(source) = (0..4)
            .map(|_| &self.pool[self.rng.below(self.pool.len())])
            .find(|p| p.family != doc.family)
        else {
            return;
        };
        let paragraph = self.rng.below(source.paras.len());
        let original = &source.paras[paragraph];
        let text = if kind == Kind::Cosmetic {
            let text = cosmetic(&mut self.rng, original);
            assert_eq!(
                tokens(&text),
                tokens(original),
                "a cosmetic copy changed the tokens of {original:?}"
            );
            text
        } else {
            original.clone()
        };
        let origin = Origin::Earlier {
            kind,
            doc: source.number,
            paragraph,
            per_mille: 0,
            edits: 0,
        };
        let at = self.rng.below(doc.paras.len() + 1);
        doc.insert(at, text, origin);
    }

    /// Repeats a run of 1–3 paragraphs somewhere after it.
    fn plant_within(&mut self, doc: &mut Doc) {
        let len = doc.paras.len();
        let run = self.rng.range(1, 3).min(len);
        let start = self.rng.below(len - run + 1);
        let at = self.rng.range(start + run, len);
        let copies: Vec<(String, usize)> = doc.paras[start..start + run]
            .iter()
            .map(|p| (p.text.clone(), p.local))
            .collect();
        for (k, (text, local)) in copies.into_iter().enumerate() {
            doc.insert(at + k, text, Origin::Within(local));
        }
    }

    /// The plan entries of a document about to be written; also records the
    /// first occurrences of boilerplate lines.
    fn finish(&mut self, doc: &Doc) -> Vec<PlanEntry> {
        let mut entries = Vec::new();
        for (index, para) in doc.paras.iter().enumerate() {
            let target = (doc.number, index);
            let (kind, source, per_mille, edits) = match para.origin {
                Origin::Fresh => continue,
                Origin::Earlier {
                    kind,
                    doc,
                    paragraph,
                    per_mille,
                    edits,
                } => (kind, (doc, paragraph), per_mille, edits),
                Origin::Within(local) => (Kind::Within, (doc.number, doc.index_of(local)), 0, 0),
                Origin::Boilerplate(line) => match self.boilerplate_first[line] {
                    Some(first) => (Kind::Boilerplate, first, 0, 0),
                    None => {
                        self.boilerplate_first[line] = Some(target);
                        continue;
                    }
                },
            };
            entries.push(PlanEntry {
                kind,
                source,
                target,
                per_mille,
                edits,
            });
        }
        entries
    }

    /// Makes a written document available as a source of later copies.
    fn publish(&mut self, doc: Doc) {
        let published = Published {
            number: doc.number,
            outlet: doc.outlet,
            slug: doc.slug,
            family: doc.family,
            paras: doc
                .paras
                .into_iter()
                .filter(|p| !matches!(p.origin, Origin::Boilerplate(_)))
                .map(|p| p.text)
                .collect(),
        };
        if self.pool.len() < POOL_CAPACITY {
            self.pool.push(published);
        } else {
            let slot = self.rng.below(POOL_CAPACITY);
            self.pool[slot] = published;
        }
    }
}
