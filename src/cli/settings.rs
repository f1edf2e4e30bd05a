//! Flags in, a validated [`Config`] out: the one place where command-line
//! values meet the library's rules.

use neardup::normalize::TokenKind;
use neardup::paragraph::ParagraphMode;
use neardup::{Config, ConfigBuilder, Scope, Threshold};

use super::args::{DetectArgs, ParagraphArg, ScopeArg, ShingleArg};

/// The detection settings the flags ask for.
pub fn config(args: &DetectArgs) -> Result<Config, neardup::Error> {
    let mut b = Config::builder()
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
