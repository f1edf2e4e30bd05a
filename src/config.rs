//! The validated settings every stage reads.
//!
//! Settings arrive from flags, a config file or library callers; they are
//! checked once, here, and turned into a [`Config`] whose fields are known to
//! fit together (the banding fits the signature, the threshold is in range).
//! Nothing downstream re-validates.

use crate::Error;
use crate::lsh::LshParams;
use crate::minhash::{DEFAULT_NUM_PERM, DEFAULT_SEED};
use crate::normalize::TokenKind;
use crate::paragraph::ParagraphMode;
use crate::similarity::Threshold;

/// The default shingle size: word 5-grams, the usual choice for news text
/// (long enough that common phrases do not make unrelated paragraphs
/// similar, short enough that one edited word leaves most shingles intact).
pub const DEFAULT_SHINGLE_SIZE: usize = 5;

/// The default minimum number of words for a paragraph to be fingerprinted.
/// Two words keep the boilerplate lines people want found ("0 Comments",
/// "Related Topics") while single words ("Advertisement", "Share", a lone
/// heading) are too common in legitimate text to call duplicates.
pub const DEFAULT_MIN_WORDS: usize = 2;

/// The default similarity threshold.
pub const DEFAULT_THRESHOLD: &str = "0.8";

/// Which pairs of paragraphs may be duplicates of each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Any two paragraphs of the scan (the default): doubled paragraphs,
    /// syndicated copies and boilerplate shared between documents.
    #[default]
    All,
    /// Only paragraphs of the same document: the doubled-paragraph fix,
    /// which never touches text that another document merely shares.
    Within,
}

impl Scope {
    /// The name used in flags and machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Within => "within",
        }
    }
}

/// Validated detection settings.
///
/// # Example
///
/// ```
/// use neardup::Config;
///
/// let config = Config::builder().threshold("0.9".parse()?).build()?;
/// assert_eq!(config.shingle_size(), 5);
/// assert!(config.lsh().probability(0.9) >= 0.99);
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    paragraphs: ParagraphMode,
    tokens: TokenKind,
    shingle_size: usize,
    min_words: usize,
    num_perm: usize,
    seed: u64,
    threshold: Threshold,
    lsh: LshParams,
    scope: Scope,
}

/// Builds a [`Config`]; every setting has a default.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    paragraphs: ParagraphMode,
    tokens: TokenKind,
    shingle_size: Option<usize>,
    min_words: Option<usize>,
    num_perm: Option<usize>,
    seed: Option<u64>,
    threshold: Option<Threshold>,
    bands: Option<usize>,
    rows: Option<usize>,
    scope: Scope,
    for_index: bool,
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// A builder holding these settings, banding included, to change some
    /// of them: how a run against an index starts from the index's.
    ///
    /// ```
    /// use neardup::Config;
    ///
    /// let index = Config::builder().for_index().build()?;
    /// let run = index.to_builder().shingle_size(3).build()?;
    /// assert_eq!((run.lsh(), run.shingle_size()), (index.lsh(), 3));
    /// # Ok::<(), neardup::Error>(())
    /// ```
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            paragraphs: self.paragraphs,
            tokens: self.tokens,
            shingle_size: Some(self.shingle_size),
            min_words: Some(self.min_words),
            num_perm: Some(self.num_perm),
            seed: Some(self.seed),
            threshold: Some(self.threshold),
            bands: Some(self.lsh.bands()),
            rows: Some(self.lsh.rows()),
            scope: self.scope,
            for_index: false,
        }
    }

    /// How documents are cut into paragraphs.
    pub fn paragraphs(&self) -> ParagraphMode {
        self.paragraphs
    }

    /// Word or character tokens.
    pub fn tokens(&self) -> TokenKind {
        self.tokens
    }

    /// Tokens per shingle.
    pub fn shingle_size(&self) -> usize {
        self.shingle_size
    }

    /// Paragraphs with fewer tokens are not fingerprinted.
    pub fn min_words(&self) -> usize {
        self.min_words
    }

    /// MinHash signature length.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Seed of the MinHash coefficients.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The similarity a pair needs to count as duplicates.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    /// The LSH banding.
    pub fn lsh(&self) -> LshParams {
        self.lsh
    }

    /// Which pairs may be duplicates.
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::builder().build().expect("the defaults are valid")
    }
}

impl ConfigBuilder {
    /// How documents are cut into paragraphs (default: one per line).
    pub fn paragraphs(mut self, mode: ParagraphMode) -> Self {
        self.paragraphs = mode;
        self
    }

    /// Word or character tokens (default: words).
    pub fn tokens(mut self, kind: TokenKind) -> Self {
        self.tokens = kind;
        self
    }

    /// Tokens per shingle (default [`DEFAULT_SHINGLE_SIZE`]).
    pub fn shingle_size(mut self, n: usize) -> Self {
        self.shingle_size = Some(n);
        self
    }

    /// Minimum tokens for a paragraph to be fingerprinted (default
    /// [`DEFAULT_MIN_WORDS`]).
    pub fn min_words(mut self, n: usize) -> Self {
        self.min_words = Some(n);
        self
    }

    /// MinHash signature length (default [`DEFAULT_NUM_PERM`]).
    pub fn num_perm(mut self, n: usize) -> Self {
        self.num_perm = Some(n);
        self
    }

    /// Seed of the MinHash coefficients (default [`DEFAULT_SEED`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Similarity threshold (default [`DEFAULT_THRESHOLD`]).
    pub fn threshold(mut self, t: Threshold) -> Self {
        self.threshold = Some(t);
        self
    }

    /// Number of LSH bands (default: derived from the threshold).
    pub fn bands(mut self, n: usize) -> Self {
        self.bands = Some(n);
        self
    }

    /// Signature values per band (default: derived from the threshold).
    pub fn rows(mut self, n: usize) -> Self {
        self.rows = Some(n);
        self
    }

    /// Which pairs may be duplicates (default [`Scope::All`]).
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Settings for a new index: unless bands or rows are given, the
    /// banding is [`LshParams::for_index`]'s (the fewest bands that keep
    /// the guarantee at the threshold), not a scan's.
    ///
    /// ```
    /// use neardup::Config;
    ///
    /// let c = Config::builder().for_index().build()?;
    /// assert_eq!((c.lsh().bands(), c.lsh().rows()), (18, 5));
    /// let c = Config::builder().for_index().bands(25).rows(5).build()?;
    /// assert_eq!((c.lsh().bands(), c.lsh().rows()), (25, 5));
    /// # Ok::<(), neardup::Error>(())
    /// ```
    pub fn for_index(mut self) -> Self {
        self.for_index = true;
        self
    }

    /// Checks the settings and builds the [`Config`].
    ///
    /// # Errors
    ///
    /// Returns an error naming the setting when a value is out of range or
    /// the banding does not fit the signature.
    pub fn build(self) -> Result<Config, Error> {
        let shingle_size = self.shingle_size.unwrap_or(DEFAULT_SHINGLE_SIZE);
        let min_words = self.min_words.unwrap_or(DEFAULT_MIN_WORDS);
        let num_perm = self.num_perm.unwrap_or(DEFAULT_NUM_PERM);
        let threshold = match self.threshold {
            Some(t) => t,
            None => DEFAULT_THRESHOLD.parse()?,
        };
        if !(1..=64).contains(&shingle_size) {
            return Err(Error::config(format!(
                "--shingle-size must be between 1 and 64, got {shingle_size}"
            )));
        }
        if min_words == 0 {
            return Err(Error::config("--min-words must be at least 1, got 0"));
        }
        if !(1..=1024).contains(&num_perm) {
            return Err(Error::config(format!(
                "--num-perm must be between 1 and 1024, got {num_perm}"
            )));
        }
        let lsh = match (self.bands, self.rows) {
            (None, None) if self.for_index => LshParams::for_index(threshold, num_perm)?,
            (None, None) => LshParams::for_threshold(threshold, num_perm)?,
            (Some(b), Some(r)) => LshParams::new(b, r, num_perm)?,
            (Some(b), None) => LshParams::new(b, num_perm / b.max(1), num_perm)?,
            (None, Some(r)) => LshParams::new(num_perm / r.max(1), r, num_perm)?,
        };
        Ok(Config {
            paragraphs: self.paragraphs,
            tokens: self.tokens,
            shingle_size,
            min_words,
            num_perm,
            seed: self.seed.unwrap_or(DEFAULT_SEED),
            threshold,
            lsh,
            scope: self.scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!((c.shingle_size(), c.min_words(), c.num_perm()), (5, 2, 128));
        assert_eq!((c.lsh().bands(), c.lsh().rows()), (25, 5));
        assert_eq!(c.threshold(), "0.8".parse().unwrap());
    }

    #[test]
    fn explicit_banding_wins() {
        let c = Config::builder().bands(16).rows(8).build().unwrap();
        assert_eq!((c.lsh().bands(), c.lsh().rows()), (16, 8));
        let c = Config::builder().bands(32).build().unwrap();
        assert_eq!((c.lsh().bands(), c.lsh().rows()), (32, 4));
        let c = Config::builder().rows(4).build().unwrap();
        assert_eq!((c.lsh().bands(), c.lsh().rows()), (32, 4));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Config::builder().shingle_size(0).build().unwrap_err();
        assert!(err.to_string().contains("--shingle-size"));
        let err = Config::builder().bands(200).build().unwrap_err();
        assert!(err.to_string().contains("bands"));
        assert!(Config::builder().min_words(0).build().is_err());
    }
}
