//! Flags in, a validated [`Config`] out: the one place where command-line
//! values meet the library's rules.

use std::path::Path;

use neardup::normalize::TokenKind;
use neardup::paragraph::ParagraphMode;
use neardup::{Config, ConfigBuilder, Scope, Threshold};

use super::args::{DetectArgs, ParagraphArg, ScopeArg, ShingleArg};

/// The flag's value of a paragraph mode.
fn paragraph_arg(mode: ParagraphMode) -> ParagraphArg {
    match mode {
        ParagraphMode::Line => ParagraphArg::Line,
        ParagraphMode::BlankLine => ParagraphArg::BlankLine,
    }
}

/// The flag's value of a token kind.
fn shingle_arg(kind: TokenKind) -> ShingleArg {
    match kind {
        TokenKind::Words => ShingleArg::Words,
        TokenKind::Chars => ShingleArg::Chars,
    }
}

/// Where the settings that no flag (nor `neardup.toml`) gives come from.
#[derive(Clone, Copy, Debug)]
pub enum Base<'a> {
    /// The library's defaults: a scan's.
    Defaults,
    /// A new index's: a scan's, but the fewest bands that keep the
    /// guarantee at the threshold ([`neardup::lsh::LshParams::for_index`]).
    NewIndex,
    /// The settings of the index a run reads, so that `--against INDEX`
    /// and `index add` need no flag to agree with it; a flag that differs
    /// from it is still refused when the index is opened.
    Index(&'a Config),
}

impl<'a> Base<'a> {
    /// The settings of the index a run reads, if it reads one ([`against`]),
    /// else the defaults.
    pub fn or_defaults(index: Option<&'a Config>) -> Base<'a> {
        index.map_or(Base::Defaults, Base::Index)
    }
}

/// Against an index, `--paragraphs` and `--shingle` take the index's
/// modes unless `set` says they were set (on the command line or in
/// `neardup.toml`): they have defaults, so [`config`] cannot tell a given
/// value from a defaulted one.
pub fn take_index_modes(args: &mut DetectArgs, index: &Config, set: impl Fn(&str) -> bool) {
    if !set("paragraphs") {
        args.paragraphs = paragraph_arg(index.paragraphs());
    }
    if !set("shingle") {
        args.shingle = shingle_arg(index.tokens());
    }
}

/// The settings of the index named by `--against`, if one is.
pub fn against(index: Option<&Path>) -> anyhow::Result<Option<Config>> {
    index.map(of_index).transpose()
}

/// The detection settings an index was made with, for [`Base::Index`].
pub fn of_index(path: &Path) -> anyhow::Result<Config> {
    let index = neardup::index::Index::open(path)?;
    index
        .settings()
        .config()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The detection settings the flags ask for, the others from `base`.
/// The flags without a "not given" value (`--paragraphs`, `--shingle`)
/// must already hold the base's when they were not given
/// ([`crate::cli::config::Shared::resolve`] sees to it).
pub fn config(args: &DetectArgs, base: Base<'_>) -> Result<Config, neardup::Error> {
    let start = match base {
        Base::Defaults => Config::builder(),
        Base::NewIndex => Config::builder().for_index(),
        Base::Index(config) => config.to_builder(),
    };
    let mut b = start
        .paragraphs(match args.paragraphs {
            ParagraphArg::Line => ParagraphMode::Line,
            ParagraphArg::BlankLine => ParagraphMode::BlankLine,
        })
        .tokens(match args.shingle {
            ShingleArg::Words => TokenKind::Words,
            ShingleArg::Chars => TokenKind::Chars,
        })
        .scope(match args.scope {
            ScopeArg::All => Scope::All,
            ScopeArg::Within => Scope::Within,
        });
    if let Some(n) = args.shingle_size {
        b = b.shingle_size(n);
    }
    if let Some(n) = args.min_words {
        b = b.min_words(n);
    }
    let banding = (
        args.threshold.as_deref(),
        args.num_perm,
        args.bands,
        args.rows,
    );
    with_banding(b, banding)?.build()
}

/// `b` with the threshold and banding flags given: `--threshold`,
/// `--num-perm`, `--bands`, `--rows` (what `params` takes).
pub fn with_banding(
    mut b: ConfigBuilder,
    (threshold, num_perm, bands, rows): (Option<&str>, Option<usize>, Option<usize>, Option<usize>),
) -> Result<ConfigBuilder, neardup::Error> {
    if let Some(t) = threshold {
        b = b.threshold(t.parse::<Threshold>()?);
    }
    if let Some(n) = num_perm {
        b = b.num_perm(n);
    }
    if let Some(n) = bands {
        b = b.bands(n);
    }
    if let Some(n) = rows {
        b = b.rows(n);
    }
    Ok(b)
}
