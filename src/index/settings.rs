//! The settings block of an index: every setting that decides which
//! paragraphs a scan keeps and which it calls duplicates, written once in
//! each manifest and compared with the run's settings on every open.
//!
//! A paragraph's verdict against the index is the verdict one scan of all
//! the batches would give only if every batch was fingerprinted and judged
//! alike, so an index opened with other settings is refused, naming the
//! setting that differs, rather than giving findings no one-shot scan
//! would. The block is plain text, one `name=value` line per setting, so
//! that `index info` can show it and a person reading the file can too.
//! A run takes the index's settings for every one it is not given
//! ([`Settings::config`]), so only a setting given that differs is refused.
//!
//! What is not here does not change verdicts: the input format and fields
//! are per batch, the block size and thread count change nothing.
//!
//! One line is not a verdict's: `containment_words=N`, present when the
//! index keeps containment fingerprints (winnowed for quotes of at least
//! `N` words, [`Settings::with_containment`]). It does not take part in
//! [`Settings::check`]; a scan that looks for containment against the
//! index asks for it ([`crate::pipeline::prior::containment_fits`]).

use crate::config::Config;
use crate::hash::{self, xxh3};
use crate::normalize::TokenKind;
use crate::paragraph::ParagraphMode;
use crate::pipeline::ScanOptions;
use crate::{Error, Scope};

/// The first line of every settings block; a later layout of the block
/// gets a new number.
const HEADER: &str = "neardup-index-settings 1";

/// The name of the setting that says an index keeps containment
/// fingerprints, and for how many words.
const CONTAINMENT: &str = "containment_words";

/// The settings of a run, as an index stores them.
///
/// # Example
///
/// ```
/// use neardup::index::Settings;
/// use neardup::pipeline::ScanOptions;
/// use neardup::Config;
///
/// let options = ScanOptions::default();
/// let stored = Settings::of(&Config::default(), &options)?;
/// let other = Config::builder().shingle_size(3).build()?;
/// let err = stored.check(&Settings::of(&other, &options)?).unwrap_err();
/// assert!(err.to_string().contains("shingle_size=5"), "{err}");
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    text: String,
}

impl Settings {
    /// The settings of `config` and `options`.
    ///
    /// # Errors
    ///
    /// `config` compares only within documents ([`Scope::Within`]): an
    /// index holds paragraphs of other documents, whose verdicts that
    /// scope never looks at.
    pub fn of(config: &Config, options: &ScanOptions) -> Result<Settings, Error> {
        if config.scope() == Scope::Within {
            return Err(Error::config(
                "an index compares across documents: --scope within does not apply to it",
            ));
        }
        let lsh = config.lsh();
        let threshold = config.threshold();
        let lines = [
            HEADER.to_owned(),
            format!("fingerprint={}", hash::FORMAT_VERSION),
            format!(
                "paragraphs={}",
                match config.paragraphs() {
                    ParagraphMode::Line => "line",
                    ParagraphMode::BlankLine => "blank-line",
                }
            ),
            format!(
                "tokens={}",
                match config.tokens() {
                    TokenKind::Words => "words",
                    TokenKind::Chars => "chars",
                }
            ),
            format!("shingle_size={}", config.shingle_size()),
            format!("min_words={}", config.min_words()),
            format!("num_perm={}", config.num_perm()),
            format!("seed={}", config.seed()),
            format!("bands={}", lsh.bands()),
            format!("rows={}", lsh.rows()),
            format!(
                "threshold={}/{}",
                threshold.numerator(),
                threshold.denominator()
            ),
            format!("allowlist={:016x}", allowlist_key(options)),
        ];
        Ok(Settings {
            text: lines.join("\n") + "\n",
        })
    }

    /// These settings with containment fingerprints for quotes of at
    /// least `words` words (`None`: without them).
    pub fn with_containment(&self, words: Option<usize>) -> Settings {
        let mut text: String = self
            .text
            .lines()
            .filter(|line| line.split_once('=').is_none_or(|(n, _)| n != CONTAINMENT))
            .flat_map(|line| [line, "\n"])
            .collect();
        if let Some(words) = words {
            text.push_str(&format!("{CONTAINMENT}={words}\n"));
        }
        Settings { text }
    }

    /// The detection settings stored, as a [`Config`]: what a run against
    /// the index takes for every setting it is not given. The allowlist is
    /// not in it (the block keeps only its key).
    ///
    /// ```
    /// use neardup::index::Settings;
    /// use neardup::pipeline::ScanOptions;
    /// use neardup::Config;
    ///
    /// let made = Config::builder().for_index().shingle_size(3).build()?;
    /// let stored = Settings::of(&made, &ScanOptions::default())?;
    /// assert_eq!(stored.config()?, made);
    /// # Ok::<(), neardup::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A setting is missing or not a value it can have (a damaged block).
    pub fn config(&self) -> Result<Config, Error> {
        let get = |name: &str| {
            self.value(name)
                .ok_or_else(|| Error::index(format!("the index's settings have no {name}")))
        };
        let bad = |name: &str| Error::index(format!("the index's settings have a bad {name}"));
        let number =
            |name: &str| -> Result<u64, Error> { get(name)?.parse().map_err(|_| bad(name)) };
        let size = |name: &str| -> Result<usize, Error> {
            usize::try_from(number(name)?).map_err(|_| bad(name))
        };
        let (numerator, denominator) = get("threshold")?
            .split_once('/')
            .and_then(|(n, d)| Some((n.parse().ok()?, d.parse().ok()?)))
            .ok_or_else(|| bad("threshold"))?;
        Config::builder()
            .paragraphs(match get("paragraphs")? {
                "line" => ParagraphMode::Line,
                "blank-line" => ParagraphMode::BlankLine,
                _ => return Err(bad("paragraphs")),
            })
            .tokens(match get("tokens")? {
                "words" => TokenKind::Words,
                "chars" => TokenKind::Chars,
                _ => return Err(bad("tokens")),
            })
            .shingle_size(size("shingle_size")?)
            .min_words(size("min_words")?)
            .num_perm(size("num_perm")?)
            .seed(number("seed")?)
            .threshold(
                crate::Threshold::from_fraction(numerator, denominator)
                    .map_err(|_| bad("threshold"))?,
            )
            .bands(size("bands")?)
            .rows(size("rows")?)
            .build()
            .map_err(|e| Error::index(format!("the index's settings are not valid: {e}")))
    }

    /// These settings with another banding (`bands` bands of `rows`
    /// values), for an index whose band keys are computed again.
    pub fn with_banding(&self, bands: usize, rows: usize) -> Settings {
        let text = self
            .text
            .lines()
            .map(|line| match line.split_once('=') {
                Some(("bands", _)) => format!("bands={bands}"),
                Some(("rows", _)) => format!("rows={rows}"),
                _ => line.to_owned(),
            })
            .flat_map(|line| [line, "\n".to_owned()])
            .collect();
        Settings { text }
    }

    /// The words the index's containment fingerprints were winnowed for,
    /// if it keeps them.
    pub fn containment_words(&self) -> Option<usize> {
        self.value(CONTAINMENT)?.parse().ok()
    }

    /// The value of setting `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.pairs().find(|&(n, _)| n == name).map(|(_, v)| v)
    }

    /// The block as stored.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// A block read from an index.
    ///
    /// # Errors
    ///
    /// The bytes are not a settings block of this version.
    pub fn decode(bytes: &[u8]) -> Result<Settings, Error> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::index("the index's settings block is not text"))?;
        match text.lines().next() {
            Some(HEADER) => Ok(Settings {
                text: text.to_owned(),
            }),
            Some(other) if other.starts_with("neardup-index-settings ") => Err(Error::index(
                format!("the index's settings are of an unsupported version ({other:?})"),
            )),
            _ => Err(Error::index("the index's settings block is not one")),
        }
    }

    /// `name=value` pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.text
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once('='))
    }

    /// Whether a run with settings `run` may use an index with these.
    ///
    /// # Errors
    ///
    /// A setting differs; the error names it with both values.
    pub fn check(&self, run: &Settings) -> Result<(), Error> {
        let (stored, run) = (self.with_containment(None), run.with_containment(None));
        if stored == run {
            return Ok(());
        }
        // The banding follows from the threshold unless given: a run with
        // another threshold is told of the threshold, not of the bands.
        let mut stored: Vec<_> = stored.pairs().collect();
        stored.sort_by_key(|&(name, _)| matches!(name, "bands" | "rows"));
        let wanted: Vec<_> = run.pairs().collect();
        for &(name, value) in &stored {
            let other = wanted.iter().find(|(n, _)| *n == name).map(|&(_, v)| v);
            if other != Some(value) {
                let hint = if name == "allowlist" {
                    "the allowlist decides which paragraphs are kept, so it is part of the index"
                } else {
                    "leave the setting out to take the index's (`neardup index info` shows them), \
                     or start a new index"
                };
                return Err(Error::index(format!(
                    "the index was made with {name}={value}, this run has {name}={}: {hint}",
                    other.unwrap_or("(none)")
                )));
            }
        }
        Err(Error::index(
            "the index's settings differ from this run's in a setting this neardup does not know",
        ))
    }
}

/// A key of the allowlist's entries (their text and kind), as prints use.
fn allowlist_key(options: &ScanOptions) -> u64 {
    let mut b = Vec::new();
    let list = &options.allowlist;
    for (kind, items) in [(0u8, list.texts()), (1, list.pattern_sources())] {
        for item in items {
            b.push(kind);
            b.extend_from_slice(&(item.len() as u64).to_le_bytes());
            b.extend_from_slice(item.as_bytes());
        }
    }
    xxh3(&b, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_that_changes_verdicts_is_named() {
        let options = ScanOptions::default();
        let base = Settings::of(&Config::default(), &options).unwrap();
        assert_eq!(Settings::decode(base.as_bytes()).unwrap(), base);
        let cases = [
            (Config::builder().shingle_size(3), "shingle_size"),
            (Config::builder().min_words(5), "min_words"),
            (Config::builder().num_perm(64), "num_perm"),
            (Config::builder().seed(7), "seed"),
            (Config::builder().tokens(TokenKind::Chars), "tokens"),
            (
                Config::builder().paragraphs(ParagraphMode::BlankLine),
                "paragraphs",
            ),
            // The banding the threshold chooses differs too; the
            // threshold is named, the setting given.
            (
                Config::builder().threshold("0.9".parse().unwrap()),
                "threshold",
            ),
            (
                Config::builder()
                    .threshold("0.8".parse().unwrap())
                    .bands(20)
                    .rows(5),
                "bands",
            ),
            (
                Config::builder()
                    .threshold("0.81".parse().unwrap())
                    .bands(25)
                    .rows(5),
                "threshold",
            ),
        ];
        for (builder, name) in cases {
            let other = Settings::of(&builder.build().unwrap(), &options).unwrap();
            let err = base.check(&other).unwrap_err().to_string();
            assert!(err.contains(&format!("with {name}=")), "{name}: {err}");
        }
        let allowing = ScanOptions {
            allowlist: crate::allow::Allowlist::new(&["Share this"], &[] as &[&str]).unwrap(),
            ..ScanOptions::default()
        };
        let err = base
            .check(&Settings::of(&Config::default(), &allowing).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("allowlist"), "{err}");
        assert!(Settings::decode(b"neardup-index-settings 2\n").is_err());
        // Containment fingerprints are not a verdict's setting.
        let containing = base.with_containment(Some(25));
        assert_eq!(containing.containment_words(), Some(25));
        assert_eq!(Settings::decode(containing.as_bytes()).unwrap(), containing);
        base.check(&containing).unwrap();
        containing.check(&base).unwrap();
        assert_eq!(containing.with_containment(None), base);
        let fits = crate::pipeline::prior::containment_fits;
        fits(containing.containment_words(), 25).unwrap();
        let err = fits(containing.containment_words(), 30)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("for 25 words") && err.contains("--containment-words 30"),
            "{err}"
        );
        let err = fits(base.containment_words(), 25).unwrap_err().to_string();
        assert!(err.contains("no containment fingerprints"), "{err}");
        assert!(Settings::decode(b"\xff").is_err());
    }

    #[test]
    fn within_document_scope_has_no_index() {
        let config = Config::builder().scope(Scope::Within).build().unwrap();
        assert!(Settings::of(&config, &ScanOptions::default()).is_err());
    }
}
