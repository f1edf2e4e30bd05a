//! The command-line grammar (clap derive). Nothing here is validated beyond
//! its type; [`super::settings`] turns these values into a library
//! [`neardup::Config`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find near-duplicate paragraphs in text corpora.
///
/// neardup splits documents into paragraphs, fingerprints them with MinHash,
/// finds candidate pairs with LSH and verifies every pair by exact Jaccard
/// similarity of word 5-gram shingles.
#[derive(Debug, Parser)]
#[command(name = "neardup", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report near-duplicate paragraphs (exit 0: none, 1: found, 2: error).
    Scan(ScanArgs),
    /// Write the corpus back without its duplicate paragraphs (exit 0: done,
    /// 2: error).
    Clean(CleanArgs),
    /// Show the LSH banding chosen for a threshold and its S-curve.
    Params(ParamsArgs),
    /// Show why two paragraphs are, or are not, near-duplicates (exit 0:
    /// they are not, 1: they are, 2: error).
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The first paragraph: `PATH:LINE`, or `PATH#DOC:PARAGRAPH` with the
    /// document id (or page address) and 0-based paragraph a report gives.
    #[arg(value_name = "A")]
    pub a: String,

    /// The second paragraph, named the same way.
    #[arg(value_name = "B")]
    pub b: String,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// When to colour the output (`auto`: on a terminal unless NO_COLOR is
    /// set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Files or directories to clean (directories recursively, in sorted
    /// order); `-` or nothing reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Where to write: a directory (mirroring the inputs' relative paths),
    /// or, for one input file or standard input, a file or `-` for standard
    /// output. Never an input, nor inside an input directory.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,

    /// Also write a JSON Lines log of every removed paragraph: where it was,
    /// its text, and the kept paragraph it repeats.
    #[arg(long, value_name = "FILE")]
    pub removed: Option<PathBuf>,

    /// Leave out documents whose every paragraph was removed (they are
    /// listed in the log) instead of keeping them with empty text.
    #[arg(long)]
    pub drop_empty: bool,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Worker threads (default: one per core). The output does not depend on
    /// it.
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Do not show the progress bar or the summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also print the time each stage took, on standard error.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan (directories recursively, in sorted
    /// order); `-` or nothing reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format: `text` for people, `jsonl` (one cluster per line) or
    /// `json` (the whole report with summary counts) for programs.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output_format: OutputFormat,

    /// When to colour text output (`auto`: on a terminal unless NO_COLOR is
    /// set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Worker threads (default: one per core). The output does not depend on
    /// it.
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Do not show the progress bar.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also print the time each stage took, on standard error.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Settings that change what counts as a duplicate.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// How documents are cut into paragraphs: every non-blank `line`, or
    /// runs of lines separated by blank lines (`blank-line`, for
    /// hard-wrapped text).
    #[arg(long, value_enum, default_value_t = ParagraphArg::Line, value_name = "MODE", help_heading = "Detection")]
    pub paragraphs: ParagraphArg,

    /// Shingle tokens: `words`, or single `chars` for text written without
    /// spaces (Chinese, Japanese, Thai).
    #[arg(long, value_enum, default_value_t = ShingleArg::Words, value_name = "KIND", help_heading = "Detection")]
    pub shingle: ShingleArg,

    /// Tokens per shingle [default: 5].
    #[arg(long, value_name = "N", help_heading = "Detection")]
    pub shingle_size: Option<usize>,

    /// Paragraphs with fewer tokens are not compared [default: 2].
    #[arg(long, value_name = "N", help_heading = "Detection")]
    pub min_words: Option<usize>,

    /// Exact Jaccard similarity at which two paragraphs are duplicates, in
    /// (0, 1] [default: 0.8].
    #[arg(long, value_name = "T", help_heading = "Detection")]
    pub threshold: Option<String>,

    /// MinHash signature length [default: 128].
    #[arg(long, value_name = "N", help_heading = "Detection")]
    pub num_perm: Option<usize>,

    /// LSH bands (default: derived from the threshold; see `neardup params`).
    #[arg(long, value_name = "B", help_heading = "Detection")]
    pub bands: Option<usize>,

    /// Signature values per LSH band (default: derived from the threshold).
    #[arg(long, value_name = "R", help_heading = "Detection")]
    pub rows: Option<usize>,

    /// Which repeats count: `all` (within and across documents) or only
    /// repeats `within` the same document (a paragraph doubled by a
    /// scraper).
    #[arg(long, value_enum, default_value_t = ScopeArg::All, value_name = "SCOPE", help_heading = "Detection")]
    pub scope: ScopeArg,
}

/// Settings for reading the input.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input format; `auto` recognises Parquet and WARC (WET) by content,
    /// JSON Lines by name (`.jsonl`, `.ndjson`, `.json`), and reads
    /// everything else as plain text.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto, value_name = "FORMAT", help_heading = "Input")]
    pub input_format: InputFormat,

    /// JSON Lines field (Parquet column) holding the document text.
    #[arg(
        long,
        default_value = "text",
        value_name = "FIELD",
        help_heading = "Input"
    )]
    pub text_field: String,

    /// JSON Lines field (Parquet column) holding the document id (records
    /// without it are named by their line or row number).
    #[arg(
        long,
        default_value = "id",
        value_name = "FIELD",
        help_heading = "Input"
    )]
    pub id_field: String,
}

#[derive(Debug, Args)]
pub struct ParamsArgs {
    #[command(flatten)]
    pub detect: DetectArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ParagraphArg {
    Line,
    BlankLine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    All,
    Within,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShingleArg {
    Words,
    Chars,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Auto,
    Text,
    Jsonl,
    Wet,
    Parquet,
}
