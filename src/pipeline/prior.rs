//! Paragraphs kept by earlier scans, checked against without reading their
//! text again: what a persistent index ([`crate::index`]) gives a scan, and
//! what a scan gives the index to keep.
//!
//! A scan against a [`Prior`] is the scan of the earlier batches followed
//! by this one, as far as this batch's verdicts go: the prior's paragraphs
//! were all kept (the no-chaining rule only ever compares with kept
//! paragraphs, so an index that stores only those loses nothing), they come
//! before every paragraph of the batch, and each is taken as kept without a
//! comparison, as a reference input is. Only the prior's paragraphs that
//! share a band key with a paragraph of the batch enter the scan, as the
//! first slots of its table (in the prior's own order), so the rest of the
//! pipeline runs unchanged and a one-shot scan is a scan against an empty
//! prior.
//!
//! A [`KeptSink`] receives, in input order, every paragraph of the batch
//! that the scan keeps, with what an index stores of it: its content hash,
//! 32-bit band keys, token hashes and location.

use super::band_keys::BandKeys;
use crate::Error;
use crate::column::Column;
use crate::id::FingerprintId;
use crate::report::Location;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many rows one task of a scan asks a prior for at once
/// ([`Prior::contents`], [`Prior::locations`]): enough to read close rows
/// together, few enough to share among the threads.
pub(super) const PIECE: usize = 4096;

/// Earlier batches' kept paragraphs, numbered by *rows* `0..` in their
/// order (earlier batches first).
pub trait Prior: Sync {
    /// How many rows it holds (its variants too, [`Prior::variants`]).
    fn rows(&self) -> u64;

    /// The rows whose 32-bit key in band `band` is one of `keys` (which
    /// are ascending and distinct), as `(key, row)` pairs: the pairs of
    /// one key in ascending rows, in any order otherwise.
    ///
    /// # Errors
    ///
    /// Reading the prior failed (a damaged or unreadable file): the scan
    /// stops, since its verdicts would silently miss matches.
    fn matches(&self, band: usize, keys: &[u32]) -> Result<Vec<(u32, u64)>, Error>;

    /// The content hash of `row`.
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn content(&self, row: u64) -> Result<u64, Error>;

    /// The content hashes of `rows`, in their order: [`content`] of each,
    /// which a prior on disk reads together where `rows` ascend close
    /// together (a batch that repeats the index asks for hundreds of
    /// thousands).
    ///
    /// [`content`]: Self::content
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn contents(&self, rows: &[u64]) -> Result<Vec<u64>, Error> {
        rows.iter().map(|&r| self.content(r)).collect()
    }

    /// The token hashes and location of `row`. The location's `doc_index`
    /// numbers the prior's documents (equal for two rows of one document);
    /// the scan moves it past its own documents.
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn paragraph(&self, row: u64) -> Result<PriorParagraph, Error>;

    /// The location of `row` alone, as [`paragraph`](Self::paragraph)
    /// gives it: what a finding names of an indexed paragraph that the
    /// scan compares with nothing (an exact copy of it is known by its
    /// content hash).
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn location(&self, row: u64) -> Result<Location, Error> {
        Ok(self.paragraph(row)?.location)
    }

    /// The locations of `rows`, in their order: [`location`] of each,
    /// read together as [`contents`](Self::contents) are.
    ///
    /// [`location`]: Self::location
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn locations(&self, rows: &[u64]) -> Result<Vec<Location>, Error> {
        rows.iter().map(|&r| self.location(r)).collect()
    }

    /// The shortest quote, in words, its containment fingerprints are
    /// selected for ([`crate::containment::window_for`]), or `None` if it
    /// keeps none: a scan with containment against it is then refused.
    fn containment_words(&self) -> Option<usize> {
        None
    }

    /// The rows that have one of `fps` (ascending, distinct) among their
    /// containment fingerprints, as `(fingerprint, row)` in any order; of
    /// a fingerprint in more than `limit` rows, at least `limit + 1` of
    /// them (so that the caller knows it is over the limit).
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn winnowed(&self, fps: &[u64], limit: usize) -> Result<Vec<(u64, u64)>, Error> {
        let _ = (fps, limit);
        Ok(Vec::new())
    }

    /// Its variants: rows that are near-duplicates of an earlier kept row
    /// with a text of their own, kept for containment only (a quote of a
    /// republished version is found in it). They have no band keys, so no
    /// scan takes them for kept paragraphs.
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn variants(&self) -> Result<Vec<PriorVariant>, Error> {
        Ok(Vec::new())
    }

    /// As [`winnowed`](Self::winnowed), among the variants' containment
    /// fingerprints.
    ///
    /// # Errors
    ///
    /// As [`matches`](Self::matches).
    fn variants_winnowed(&self, fps: &[u64], limit: usize) -> Result<Vec<(u64, u64)>, Error> {
        let _ = (fps, limit);
        Ok(Vec::new())
    }
}

/// A variant row of a [`Prior`] ([`Prior::variants`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriorVariant {
    /// Its row.
    pub row: u64,
    /// Its content hash.
    pub content: u64,
    /// Its kept paragraph's row.
    pub kept: u64,
}

/// Whether a prior whose containment fingerprints were selected for
/// quotes of `kept` words (`None`: it keeps none,
/// [`Prior::containment_words`]) serves a scan looking for quotes of
/// `words` words.
///
/// # Errors
///
/// It keeps none, or keeps them for another length; the error says how
/// to get ones that fit.
pub fn containment_fits(kept: Option<usize>, words: usize) -> Result<(), Error> {
    match kept {
        Some(w) if w == words => Ok(()),
        Some(w) => Err(Error::index(format!(
            "the index keeps containment fingerprints for {w} words, this run looks for \
             {words}: run with --containment-words {w}, or select the index's again with \
             `neardup index compact --containment-words {words}`"
        ))),
        None => Err(Error::index(format!(
            "the index keeps no containment fingerprints, so containment against it would miss \
             every quote of an indexed paragraph: add them with `neardup index compact \
             --containment-words {words}` (or make the index with `index create \
             --containment-words {words}`)"
        ))),
    }
}

/// One paragraph of a [`Prior`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorParagraph {
    /// Its token hashes, in text order
    /// ([`crate::Fingerprinter::set_of_tokens`] gives its shingle set).
    pub tokens: Vec<u64>,
    /// Where it was found.
    pub location: Location,
}

/// A paragraph of the batch that the scan kept, with what an index keeps
/// of it.
#[derive(Clone, Copy, Debug)]
pub struct KeptParagraph<'a> {
    /// Its content hash.
    pub content: u64,
    /// Its 32-bit band keys, band 0 first.
    pub keys: &'a [u32],
    /// Its tokens, in text order.
    pub tokens: Tokens<'a>,
    /// Where it is.
    pub location: &'a Location,
}

/// A paragraph's tokens, in text order, in the form the scan has them.
#[derive(Clone, Copy, Debug)]
pub enum Tokens<'a> {
    /// Their hashes.
    Hashes(&'a [u64]),
    /// As numbers into a dictionary that the paragraphs of one block of
    /// the scan share (the form the scan keeps them in between its
    /// passes). A sink numbering tokens for itself (an index segment,
    /// [`crate::index::tokens::Numbering`]) then looks each entry of the
    /// dictionary up once, not each token.
    Numbered(Numbered<'a>),
}

impl Tokens<'_> {
    /// Their hashes.
    ///
    /// # Panics
    ///
    /// A number past its dictionary.
    pub fn to_vec(&self) -> Vec<u64> {
        match self {
            Tokens::Hashes(h) => h.to_vec(),
            Tokens::Numbered(n) => n.numbers.iter().map(|&i| n.dict[i as usize]).collect(),
        }
    }
}

/// Tokens as numbers into a block's dictionary ([`Tokens::Numbered`]):
/// `dict[numbers[i]]` is the `i`th token's hash.
#[derive(Clone, Copy, Debug)]
pub struct Numbered<'a> {
    /// Names `dict`: paragraphs with the same `block` come with the same
    /// `dict`.
    pub block: u64,
    /// The block's distinct token hashes.
    pub dict: &'a [u64],
    /// The paragraph's tokens, as positions in `dict`.
    pub numbers: &'a [u32],
}

/// A near-duplicate of the batch whose text differs from its kept
/// paragraph's (the first with that text): containment takes it as the
/// longer side, so an index keeps it, without band keys.
#[derive(Clone, Copy, Debug)]
pub struct VariantParagraph<'a> {
    /// Its content hash.
    pub content: u64,
    /// Its kept paragraph's row in the index the sink writes (rows number
    /// the kept paragraphs and variants of every batch, in order).
    pub kept: u64,
    /// Its tokens, in text order.
    pub tokens: Tokens<'a>,
    /// Where it is.
    pub location: &'a Location,
}

/// Receives the kept paragraphs of a scan, and its variants, in input
/// order.
pub trait KeptSink: Send {
    /// One more kept paragraph.
    ///
    /// # Errors
    ///
    /// Storing it failed; the scan stops and returns the error.
    fn kept(&mut self, paragraph: KeptParagraph<'_>) -> Result<(), Error>;

    /// One more variant ([`VariantParagraph`]), between the kept
    /// paragraphs in input order; whether it keeps it, as a row after the
    /// ones before (a sink that does not serve containment leaves them out,
    /// as this default does).
    ///
    /// # Errors
    ///
    /// As [`kept`](Self::kept).
    fn variant(&mut self, paragraph: VariantParagraph<'_>) -> Result<bool, Error> {
        let _ = paragraph;
        Ok(false)
    }

    /// A directory for the scan's scratch file (every paragraph's tokens
    /// and band keys, about 0.9 times the text's size for news prose,
    /// written once and read once), on the disk the sink writes to; `None`
    /// keeps it in memory.
    fn spill_dir(&self) -> Option<&std::path::Path> {
        None
    }

    /// Called once, between the two passes, with each input's raw bytes
    /// as the first pass read them ([`InputDigest`]), or `None` for an
    /// input it did not read whole from its source (taken from a print,
    /// read in parts as Parquet is, or failed): a sink that needs those
    /// reads them itself. An error stops the scan before its second pass:
    /// this is how `index add` refuses inputs it added before, having
    /// read them once.
    ///
    /// # Errors
    ///
    /// The sink refuses the inputs; the scan returns the error.
    fn inputs_read(&mut self, digests: &[Option<InputDigest>]) -> Result<(), Error> {
        let _ = digests;
        Ok(())
    }

    /// Called once, when the second pass has handed over every row:
    /// neither [`kept`](Self::kept) nor [`variant`](Self::variant) comes
    /// again. A sink that writes in the background can start on what it
    /// holds while the scan makes its report (an index's last segment:
    /// a 1 GB `index create` waited 0.11–0.15 s for it after the report,
    /// 0.06–0.07 s since). By default, nothing.
    ///
    /// # Errors
    ///
    /// The sink failed; the scan returns the error.
    fn rows_done(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// One input's raw bytes (before any decompression): their number and
/// their XXH3-64 with seed 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputDigest {
    /// The number of bytes.
    pub len: u64,
    /// XXH3-64 of the bytes, seed 0.
    pub xxh3: u64,
}

/// The prior's paragraphs that take part in a scan: the first slots of its
/// table.
#[derive(Debug, Default)]
pub(super) struct Prefix {
    /// The prior row of each prefix slot, ascending.
    pub(super) rows: Vec<u64>,
    /// The content hash of each prefix slot.
    pub(super) content: Vec<u64>,
    /// Per band, the `(key, slot)` pairs of the prefix slots whose key in
    /// that band some paragraph of the batch has, the pairs of one key in
    /// ascending slots.
    pub(super) pairs: Vec<Vec<(u32, FingerprintId)>>,
}

impl Prefix {
    /// The prefix for a batch whose band keys are `batch_keys` (one
    /// column per band, or read band by band when the scan does not hold
    /// them), bands matched in parallel.
    pub(super) fn new(
        prior: &dyn Prior,
        batch_keys: &[Column],
        bands: usize,
        read: Option<&dyn BandKeys>,
    ) -> Result<Prefix, Error> {
        if prior.rows() == 0 {
            return Ok(Prefix::default());
        }
        let matched: Vec<Vec<(u32, u64)>> = (0..bands)
            .into_par_iter()
            .map(|band| {
                let mut keys: Vec<u32> = match read {
                    Some(source) => source.band(band)?.into_iter().map(|(k, _)| k).collect(),
                    None => batch_keys
                        .get(band)
                        .map(|c| c.iter().collect())
                        .unwrap_or_default(),
                };
                super::radix::sort_distinct(&mut keys);
                prior.matches(band, &keys)
            })
            .collect::<Result<_, Error>>()?;
        // Which rows matched, as bits, and each row's slot its rank among
        // them: a batch that repeats much of a large index matches
        // millions of (band, row) pairs (a 100 MB batch of repeats
        // against 1 GB of news, 7 million), and sorting them by row took
        // a quarter of its scan. Each band's pairs keep their order, so
        // pairs of one key stay in ascending slots ([`Prior::matches`]).
        let total = prior.rows();
        let words = usize::try_from(total.div_ceil(64))
            .map_err(|_| Error::limit("the index has more rows than this machine can number"))?;
        let bits: Vec<AtomicU64> = (0..words).map(|_| AtomicU64::new(0)).collect();
        matched.par_iter().try_for_each(|band| {
            for &(_, r) in band {
                if r >= total {
                    return Err(Error::index(format!(
                        "the index matched row {r} of {total}: it is damaged (run `neardup \
                         index verify`)"
                    )));
                }
                // Set once: two threads mostly read the same words.
                let (word, bit) = (&bits[(r / 64) as usize], 1u64 << (r % 64));
                if word.load(Ordering::Relaxed) & bit == 0 {
                    word.fetch_or(bit, Ordering::Relaxed);
                }
            }
            Ok(())
        })?;
        let bits: Vec<u64> = bits.into_iter().map(AtomicU64::into_inner).collect();
        let set: u64 = bits.iter().map(|w| u64::from(w.count_ones())).sum();
        if set >= u64::from(u32::MAX / 2) {
            return Err(Error::limit(
                "too many indexed paragraphs share band keys with this batch",
            ));
        }
        // The slots of the rows before each word's.
        let before: Vec<u32> = bits
            .iter()
            .scan(0u32, |n, w| {
                let at = *n;
                *n += w.count_ones();
                Some(at)
            })
            .collect();
        let mut rows: Vec<u64> = Vec::with_capacity(set as usize);
        for (i, &w) in bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                rows.push(i as u64 * 64 + u64::from(w.trailing_zeros()));
                w &= w - 1;
            }
        }
        let slot = |r: u64| {
            let (i, below) = ((r / 64) as usize, (1u64 << (r % 64)) - 1);
            FingerprintId::new(before[i] + (bits[i] & below).count_ones())
        };
        let pairs = matched
            .into_par_iter()
            .map(|band| band.into_iter().map(|(k, r)| (k, slot(r))).collect())
            .collect();
        let content = rows
            .par_chunks(PIECE)
            .map(|piece| prior.contents(piece))
            .collect::<Result<Vec<_>, _>>()?
            .concat();
        Ok(Prefix {
            rows,
            content,
            pairs,
        })
    }

    /// How many slots the prefix takes.
    pub(super) fn len(&self) -> u32 {
        self.rows.len() as u32
    }
}

/// A [`Prior`] held in memory: what a scan kept, checked against by later
/// scans. For tests and for callers with small histories; the persistent
/// form is [`crate::index`].
///
/// # Example
///
/// ```
/// use neardup::corpus::{Format, Input, MemorySource};
/// use neardup::pipeline::prior::MemoryPrior;
/// use neardup::pipeline::{scan_with, Extras, ScanOptions, Silent};
/// use neardup::Config;
///
/// let (config, options) = (Config::default(), ScanOptions::default());
/// let day = |name: &str, text: &str| [Input::new(MemorySource::new(name, text), Format::Text)];
/// let mut history = MemoryPrior::default();
/// let monday = day("mon.txt", "The ferry to Inish Mor was cancelled again on Friday morning.\n");
/// let mut sink = history.batch();
/// let extras = Extras { kept: Some(&mut sink), ..Extras::default() };
/// scan_with(&monday, &config, &options, &Silent, extras)?;
/// assert_eq!(history.len(), 1);
///
/// let tuesday = day("tue.txt", "The ferry to Inish Mor was cancelled again on Friday morning!\n");
/// let extras = Extras { prior: Some(&history), ..Extras::default() };
/// let report = scan_with(&tuesday, &config, &options, &Silent, extras)?;
/// assert_eq!(report.clusters[0].kept.location.path.as_ref(), "mon.txt");
/// assert_eq!(report.clusters[0].duplicates[0].member.location.path.as_ref(), "tue.txt");
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryPrior {
    rows: Vec<MemoryRow>,
    documents: u32,
}

#[derive(Clone, Debug)]
struct MemoryRow {
    content: u64,
    keys: Vec<u32>,
    paragraph: PriorParagraph,
}

impl MemoryPrior {
    /// A sink adding one batch's kept paragraphs after the rows held.
    pub fn batch(&mut self) -> MemoryBatch<'_> {
        MemoryBatch {
            prior: self,
            last_doc: None,
        }
    }

    /// How many paragraphs it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&self, row: u64) -> Result<&MemoryRow, Error> {
        usize::try_from(row)
            .ok()
            .and_then(|r| self.rows.get(r))
            .ok_or_else(|| Error::index(format!("no row {row} in the prior")))
    }
}

impl Prior for MemoryPrior {
    fn rows(&self) -> u64 {
        self.rows.len() as u64
    }

    fn matches(&self, band: usize, keys: &[u32]) -> Result<Vec<(u32, u64)>, Error> {
        Ok(self
            .rows
            .iter()
            .zip(0u64..)
            .filter_map(|(r, i)| {
                let k = *r.keys.get(band)?;
                keys.binary_search(&k).is_ok().then_some((k, i))
            })
            .collect())
    }

    fn content(&self, row: u64) -> Result<u64, Error> {
        Ok(self.row(row)?.content)
    }

    fn paragraph(&self, row: u64) -> Result<PriorParagraph, Error> {
        Ok(self.row(row)?.paragraph.clone())
    }
}

/// Adds one batch to a [`MemoryPrior`] ([`MemoryPrior::batch`]).
#[derive(Debug)]
pub struct MemoryBatch<'a> {
    prior: &'a mut MemoryPrior,
    /// The batch's number of the last document seen.
    last_doc: Option<crate::id::DocId>,
}

impl KeptSink for MemoryBatch<'_> {
    fn kept(&mut self, p: KeptParagraph<'_>) -> Result<(), Error> {
        // Documents are numbered across batches: a batch's documents follow
        // the earlier batches'.
        if self.last_doc != Some(p.location.doc_index) {
            self.last_doc = Some(p.location.doc_index);
            self.prior.documents += 1;
        }
        let mut location = p.location.clone();
        location.doc_index = crate::id::DocId::new(self.prior.documents - 1);
        self.prior.rows.push(MemoryRow {
            content: p.content,
            keys: p.keys.to_vec(),
            paragraph: PriorParagraph {
                tokens: p.tokens.to_vec(),
                location,
            },
        });
        Ok(())
    }
}
