//! Explaining one verdict: two paragraphs in, the numbers behind whether
//! neardup calls them near-duplicates out.
//!
//! [`explain`] recomputes, for one pair, everything the batch driver works
//! from: the tokens and shingles of each paragraph, their exact Jaccard
//! similarity, the MinHash estimate of it, and which LSH bands agree (so
//! whether the pair would become a candidate at all). A word-level diff
//! shows where the two differ. [`locate`] finds a paragraph in an input by
//! the positions reports give, so that a pair from a report can be
//! explained. Nothing is printed here; the command line renders the
//! [`Explanation`].

use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::config::Scope;
use crate::containment::{self, Containment};
use crate::corpus::block::DEFAULT_BLOCK_SIZE;
use crate::corpus::record::documents;
use crate::corpus::{Format, Input, JsonlFields};
use crate::fingerprint::{Fingerprinter, Scratch};
use crate::lsh::LshParams;
use crate::minhash::Signature;
use crate::normalize::{self, Normalizer};
use crate::paragraph::{ParagraphMode, paragraphs};
use crate::shingle::{ShingleSet, Shingler};
use crate::{Error, Similarity, Threshold};

/// What one paragraph contributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// Normalised tokens (words, or characters with `--shingle chars`).
    pub tokens: usize,
    /// Distinct shingles, or `None` when the paragraph has fewer than
    /// `min_words` tokens and is never compared.
    pub shingles: Option<usize>,
}

/// How a run of words differs between the two paragraphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// In both (equal after normalisation).
    Same,
    /// Only in the first paragraph.
    Removed,
    /// Only in the second paragraph.
    Added,
}

/// A run of words of a word-level diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where the words are.
    pub change: Change,
    /// The words as written (for [`Change::Same`], as in the first
    /// paragraph), separated by single spaces.
    pub words: String,
}

/// Why two paragraphs are or are not near-duplicates.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The first paragraph.
    pub a: Side,
    /// The second paragraph.
    pub b: Side,
    /// The word-level diff from the first paragraph to the second. Words
    /// are cut at white space and compared by their normalised tokens, so
    /// `Monday,` equals `monday`.
    pub diff: Vec<Segment>,
    /// The exact Jaccard similarity of the shingle sets (`0/0` when either
    /// paragraph is not compared).
    pub similarity: Similarity,
    /// Whether the normalised texts are identical (equal content hashes),
    /// which makes the pair an exact copy whatever the bands say.
    pub identical: bool,
    /// Signature values that agree, out of [`num_perm`](Self::num_perm).
    pub agreeing: usize,
    /// The signature length.
    pub num_perm: usize,
    /// The LSH bands whose keys agree, in order (0-based).
    pub bands: Vec<usize>,
    /// The banding in use.
    pub lsh: LshParams,
    /// The threshold in use.
    pub threshold: Threshold,
    /// Whether the scope keeps the pair from being compared (`--scope
    /// within` and paragraphs of different documents).
    pub out_of_scope: bool,
    /// How much of the shorter paragraph is inside the longer one (what
    /// `scan --containment` measures), when both were fingerprinted.
    pub inside: Option<Inside>,
}

/// The shorter paragraph of a pair inside the longer one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inside {
    /// Whether A is the shorter one (fewer distinct shingles; A when
    /// equal).
    pub short_is_a: bool,
    /// Its shingles that the longer one has, of its shingles.
    pub containment: Containment,
    /// The longest run of words they share, as 0-based word positions
    /// (normalised tokens) in the shorter paragraph ...
    pub short_words: std::ops::Range<usize>,
    /// ... and in the longer one (both empty when they share no shingle).
    pub long_words: std::ops::Range<usize>,
}

impl Explanation {
    /// The MinHash estimate of the Jaccard similarity: the fraction of
    /// signature values that agree.
    pub fn estimate(&self) -> f64 {
        if self.num_perm == 0 {
            0.0
        } else {
            self.agreeing as f64 / self.num_perm as f64
        }
    }

    /// Whether both paragraphs are fingerprinted.
    pub fn compared(&self) -> bool {
        self.a.shingles.is_some() && self.b.shingles.is_some()
    }

    /// Whether a scan would verify the pair: both fingerprinted, in scope,
    /// and either identical or sharing a band.
    pub fn candidate(&self) -> bool {
        self.compared() && !self.out_of_scope && (self.identical || !self.bands.is_empty())
    }

    /// Whether a scan would call the second paragraph a duplicate of the
    /// first, if the first is kept: a candidate at or above the threshold.
    pub fn duplicate(&self) -> bool {
        self.candidate() && (self.identical || self.similarity.meets(self.threshold))
    }
}

/// One paragraph's tokens, shingle set, content hash and signature, and
/// its shingles in text order (for the longest shared run).
struct Measured {
    tokens: usize,
    fingerprint: Option<(ShingleSet, u64, Signature)>,
    shingles: Vec<u64>,
}

fn measure(fp: &Fingerprinter, text: &str) -> Measured {
    let mut scratch = Scratch::default();
    let normalizer = Normalizer::new(fp.config().tokens());
    let tokens = normalizer.tokens(text, &mut normalize::Scratch::default(), |_| {});
    let mut shingles = Vec::new();
    let fingerprint = fp.fingerprint_with(text, &mut scratch).map(|f| {
        shingles = f.shingles.to_vec();
        (
            ShingleSet::from_hashes(f.shingles),
            f.content,
            Signature::from_values(f.signature.to_vec()),
        )
    });
    Measured {
        tokens,
        fingerprint,
        shingles,
    }
}

/// Explains the pair `a`, `b` under `fp`'s settings. `same_document` says
/// whether they are paragraphs of one document, which matters with
/// `--scope within`.
///
/// # Example
///
/// ```
/// use neardup::explain::explain;
/// use neardup::{Config, Fingerprinter};
///
/// let fp = Fingerprinter::new(&Config::default());
/// let a = "Residents were told to boil tap water for at least one minute before drinking it.";
/// let b = "Residents were told to boil tap water for at least three minutes before drinking it.";
/// let e = explain(&fp, a, b, false);
/// // 15 words give 11 shingles each; the 6 before "one minute" are shared.
/// assert_eq!((e.similarity.intersection, e.similarity.union), (6, 16));
/// assert!(!e.duplicate());
/// ```
pub fn explain(fp: &Fingerprinter, a: &str, b: &str, same_document: bool) -> Explanation {
    let (ma, mb) = (measure(fp, a), measure(fp, b));
    compare(
        fp,
        &ma,
        &mb,
        word_diff(fp.config().tokens(), a, b),
        same_document,
    )
}

/// Explains the pair of `a` and a paragraph known only by its token
/// hashes (`b_tokens`, as an index keeps them): everything [`explain`]
/// gives but the word diff, which needs the text.
///
/// # Example
///
/// ```
/// use neardup::explain::{explain, explain_tokens};
/// use neardup::fingerprint::Scratch;
/// use neardup::{Config, Fingerprinter};
///
/// let fp = Fingerprinter::new(&Config::default());
/// let a = "Residents were told to boil tap water for at least one minute before drinking it.";
/// let b = "Residents were told to boil tap water for at least three minutes before drinking it.";
/// let mut tokens = Vec::new();
/// fp.tokens_with(b, &mut Scratch::default(), &mut tokens);
/// let (full, blind) = (explain(&fp, a, b, false), explain_tokens(&fp, a, &tokens, false));
/// assert_eq!(blind.similarity, full.similarity);
/// assert_eq!((blind.agreeing, &blind.bands), (full.agreeing, &full.bands));
/// assert!(blind.diff.is_empty());
/// ```
pub fn explain_tokens(
    fp: &Fingerprinter,
    a: &str,
    b_tokens: &[u64],
    same_document: bool,
) -> Explanation {
    let ma = measure(fp, a);
    let fingerprint = (b_tokens.len() >= fp.config().min_words()).then(|| {
        let (set, content) = fp.set_of_tokens(b_tokens);
        let signature = Signature::from_values(fp.signature_of_set(&set));
        (set, content, signature)
    });
    let shingles = match fingerprint {
        Some(_) => {
            Shingler::new(fp.config().tokens(), fp.config().shingle_size())
                .set_of_tokens(b_tokens)
                .0
        }
        None => Vec::new(),
    };
    let mb = Measured {
        tokens: b_tokens.len(),
        fingerprint,
        shingles,
    };
    compare(fp, &ma, &mb, Vec::new(), same_document)
}

fn compare(
    fp: &Fingerprinter,
    ma: &Measured,
    mb: &Measured,
    diff: Vec<Segment>,
    same_document: bool,
) -> Explanation {
    let config = fp.config();
    let lsh = config.lsh();
    let side = |m: &Measured| Side {
        tokens: m.tokens,
        shingles: m.fingerprint.as_ref().map(|(set, _, _)| set.len()),
    };
    let (mut similarity, mut identical, mut agreeing, mut bands) =
        (Similarity::new(0, 0), false, 0, Vec::new());
    let mut inside = None;
    if let (Some((sa, ca, ga)), Some((sb, cb, gb))) = (&ma.fingerprint, &mb.fingerprint) {
        similarity = sa.jaccard(sb);
        // The shorter one (by distinct shingles; A when equal) in the other.
        let short_is_a = sa.len() <= sb.len();
        let ((q, q_seq), (p, p_seq)) = if short_is_a {
            ((sa, &ma.shingles), (sb, &mb.shingles))
        } else {
            ((sb, &mb.shingles), (sa, &ma.shingles))
        };
        let k = config.shingle_size();
        let run = containment::longest_shared_run(q_seq, p_seq);
        inside = Some(Inside {
            short_is_a,
            containment: containment::containment(q, p),
            short_words: run.map_or(0..0, |r| r.words_in_a(k)),
            long_words: run.map_or(0..0, |r| r.words_in_b(k)),
        });
        identical = ca == cb;
        agreeing = ga
            .values()
            .iter()
            .zip(gb.values())
            .filter(|(x, y)| x == y)
            .count();
        let keys_b: Vec<u64> = lsh.band_keys(gb.values()).collect();
        bands = lsh
            .band_keys(ga.values())
            .zip(keys_b)
            .enumerate()
            .filter(|(_, (x, y))| x == y)
            .map(|(band, _)| band)
            .collect();
    }
    Explanation {
        a: side(ma),
        b: side(mb),
        diff,
        similarity,
        identical,
        agreeing,
        num_perm: config.num_perm(),
        bands,
        lsh,
        threshold: config.threshold(),
        out_of_scope: config.scope() == Scope::Within && !same_document,
        inside,
    }
}

/// The word-level diff of `a` to `b`, words compared by their normalised
/// tokens.
fn word_diff(kind: normalize::TokenKind, a: &str, b: &str) -> Vec<Segment> {
    let normalizer = Normalizer::new(kind);
    let mut scratch = normalize::Scratch::default();
    let mut key = |word: &str| {
        let mut key = String::new();
        normalizer.tokens(word, &mut scratch, |t| {
            key.push_str(t);
            key.push(' ');
        });
        key
    };
    let (wa, wb): (Vec<&str>, Vec<&str>) = (
        a.split_whitespace().collect(),
        b.split_whitespace().collect(),
    );
    let ka: Vec<String> = wa.iter().map(|w| key(w)).collect();
    let kb: Vec<String> = wb.iter().map(|w| key(w)).collect();
    let mut out: Vec<Segment> = Vec::new();
    let mut push = |change: Change, words: &[&str]| {
        if !words.is_empty() {
            out.push(Segment {
                change,
                words: words.join(" "),
            });
        }
    };
    for op in capture_diff_slices(Algorithm::Myers, &ka, &kb) {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push(Change::Same, &wa[old]),
            DiffTag::Delete => push(Change::Removed, &wa[old]),
            DiffTag::Insert => push(Change::Added, &wb[new]),
            DiffTag::Replace => {
                push(Change::Removed, &wa[old]);
                push(Change::Added, &wb[new]);
            }
        }
    }
    out
}

/// Where a paragraph is, as reports give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// The paragraph on this 1-based line of the input (for plain text in
    /// blank-line mode, the paragraph the line belongs to; for JSON Lines
    /// and Parquet, the one paragraph of the record on that line or row).
    Line(u64),
    /// Paragraph `paragraph` (0-based) of the document named `doc`: its id
    /// as reports show it, its page address (WET), or for plain text the
    /// input's name.
    Paragraph {
        /// The document.
        doc: String,
        /// The paragraph's 0-based index in the document.
        paragraph: u32,
    },
}

/// A paragraph found by [`locate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Its text.
    pub text: String,
    /// The document's name, as reports give it.
    pub doc: String,
    /// The document's page address, if the input records one.
    pub url: Option<String>,
    /// The document's place in its input: 1 for plain text, the line (or
    /// row) of its record.
    pub doc_line: u64,
    /// The paragraph's 0-based index in its document.
    pub paragraph: u32,
    /// The 1-based line where the paragraph starts.
    pub line: u64,
}

/// Finds the paragraph at `address` in `input`, reading it from the start
/// with the same paragraph rules as a scan.
///
/// # Errors
///
/// Returns an error if the input cannot be read, or it has no paragraph at
/// `address` (for a line of a record with several paragraphs, the error
/// says how to name one of them).
///
/// # Example
///
/// ```
/// use neardup::corpus::{Format, Input, JsonlFields, MemorySource};
/// use neardup::explain::{locate, Address};
/// use neardup::paragraph::ParagraphMode;
///
/// let input = Input::new(MemorySource::new("a.txt", "Title\n\nFirst.\nSecond.\n"), Format::Text);
/// let found = locate(&input, ParagraphMode::Line, &JsonlFields::default(), &Address::Line(4))?;
/// assert_eq!((found.text.as_str(), found.paragraph), ("Second.", 2));
/// # Ok::<(), neardup::Error>(())
/// ```
pub fn locate(
    input: &Input,
    mode: ParagraphMode,
    fields: &JsonlFields,
    address: &Address,
) -> Result<Located, Error> {
    let name = input.source.name();
    let blocks = input
        .blocks(mode, fields, DEFAULT_BLOCK_SIZE, |_| {})
        .map_err(|e| Error::io(name, e))?;
    let mut found: Vec<Located> = Vec::new();
    let mut index = 0u32;
    for block in blocks {
        let block = block.map_err(|e| Error::io(name, e))?;
        if input.format == Format::Text {
            for p in paragraphs(&block.data, mode) {
                let line = block.first_line + p.line + 1;
                let last = line + memchr::memchr_iter(b'\n', p.text).count() as u64;
                let hit = match address {
                    Address::Line(l) => (line..=last).contains(l),
                    Address::Paragraph { doc, paragraph } => doc == name && *paragraph == index,
                };
                if hit {
                    found.push(Located {
                        text: String::from_utf8_lossy(p.text).into_owned(),
                        doc: name.to_owned(),
                        url: None,
                        doc_line: 1,
                        paragraph: index,
                        line,
                    });
                }
                index += 1;
            }
        } else {
            documents(
                input.format,
                &block,
                fields,
                name,
                |_| true,
                &mut Vec::new(),
                |d| {
                    let named = |doc: &str| d.name() == doc || d.url.as_deref() == Some(doc);
                    for (p, i) in paragraphs(d.text.as_bytes(), mode).zip(0u32..) {
                        let line = d.line_of(p.line);
                        let hit = match address {
                            Address::Line(l) => line == *l,
                            Address::Paragraph { doc, paragraph } => named(doc) && *paragraph == i,
                        };
                        if hit {
                            found.push(Located {
                                text: d.text[p.start..p.end].to_owned(),
                                doc: d.name().into_owned(),
                                url: d.url.as_deref().map(str::to_owned),
                                doc_line: d.line,
                                paragraph: i,
                                line,
                            });
                        }
                    }
                },
            );
        }
        if !found.is_empty() && matches!(address, Address::Paragraph { .. }) {
            break;
        }
    }
    match (found.len(), address) {
        (1, _) => Ok(found.remove(0)),
        (0, Address::Line(line)) => Err(Error::not_found(
            name,
            format!("no paragraph on line {line}"),
        )),
        (0, Address::Paragraph { doc, paragraph }) => Err(Error::not_found(
            name,
            format!("no paragraph {paragraph} in a document named {doc:?}"),
        )),
        (n, Address::Line(line)) => Err(Error::not_found(
            name,
            format!(
                "line {line} holds {n} paragraphs of document {}; name one as {name}#{}:PARAGRAPH",
                found[0].doc, found[0].doc
            ),
        )),
        // Paragraph addresses stop at the first document that matches.
        (_, Address::Paragraph { .. }) => Ok(found.remove(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::corpus::MemorySource;

    fn fp() -> Fingerprinter {
        Fingerprinter::new(&Config::default())
    }

    #[test]
    fn diff_compares_normalised_words() {
        let e = explain(
            &fp(),
            "The ferry left on Monday, late.",
            "the ferry left Monday late!",
            true,
        );
        let diff: Vec<(Change, &str)> = e
            .diff
            .iter()
            .map(|s| (s.change, s.words.as_str()))
            .collect();
        assert_eq!(
            diff,
            [
                (Change::Same, "The ferry left"),
                (Change::Removed, "on"),
                (Change::Same, "Monday, late."),
            ]
        );
    }

    /// Identical normalised texts are an exact copy, candidates whatever the
    /// bands (which agree anyway).
    #[test]
    fn cosmetic_copies_are_identical() {
        let e = explain(
            &fp(),
            "Residents were told to boil tap water for one minute.",
            "RESIDENTS were told to boil tap-water for one minute",
            false,
        );
        assert!(e.identical && e.candidate() && e.duplicate());
        assert_eq!(e.agreeing, 128);
        assert_eq!(e.bands, (0..25).collect::<Vec<_>>());
        assert_eq!(e.similarity, Similarity::new(6, 6));
    }

    #[test]
    fn short_paragraphs_are_not_compared() {
        let e = explain(&fp(), "Share", "Share", true);
        assert_eq!(
            e.a,
            Side {
                tokens: 1,
                shingles: None
            }
        );
        assert!(!e.compared() && !e.candidate());
    }

    #[test]
    fn scope_within_excludes_other_documents() {
        let config = Config::builder().scope(Scope::Within).build().unwrap();
        let fp = Fingerprinter::new(&config);
        let text = "The harbour board voted on Tuesday to rebuild the old north pier.";
        assert!(explain(&fp, text, text, true).duplicate());
        let e = explain(&fp, text, text, false);
        assert!(e.out_of_scope && !e.candidate() && !e.duplicate());
    }

    #[test]
    fn locate_by_line_and_by_paragraph() {
        let jsonl = Input::new(
            MemorySource::new(
                "n.jsonl",
                "{\"id\": \"a\", \"text\": \"One line.\"}\n{\"id\": \"b\", \"text\": \"First.\\nSecond.\"}\n",
            ),
            Format::Jsonl,
        );
        let at = |address: Address| {
            locate(
                &jsonl,
                ParagraphMode::Line,
                &JsonlFields::default(),
                &address,
            )
        };
        let one = at(Address::Line(1)).unwrap();
        assert_eq!(
            (one.text.as_str(), one.doc.as_str(), one.doc_line),
            ("One line.", "a", 1)
        );
        let second = at(Address::Paragraph {
            doc: "b".into(),
            paragraph: 1,
        })
        .unwrap();
        assert_eq!((second.text.as_str(), second.line), ("Second.", 2));
        assert_eq!(
            at(Address::Line(2)).unwrap_err().to_string(),
            "n.jsonl: line 2 holds 2 paragraphs of document b; name one as n.jsonl#b:PARAGRAPH"
        );
        assert_eq!(
            at(Address::Line(3)).unwrap_err().to_string(),
            "n.jsonl: no paragraph on line 3"
        );
    }

    #[test]
    fn locate_in_blank_line_paragraphs() {
        let text = Input::new(
            MemorySource::new("t.txt", "Head\n\nwrapped\nparagraph\n\nlast\n"),
            Format::Text,
        );
        let found = locate(
            &text,
            ParagraphMode::BlankLine,
            &JsonlFields::default(),
            &Address::Line(4),
        )
        .unwrap();
        assert_eq!(
            (found.text.as_str(), found.line, found.paragraph),
            ("wrapped\nparagraph", 3, 1)
        );
    }
}
