//! The commands' arguments (clap derive): the groups several commands
//! share (detection, input, selection, running) and the arguments of
//! `scan`, `clean`, `explain` and `params`; `check`'s own are in
//! `check/args.rs`, and the top level that names every command in
//! `command.rs`, so that no two of these files import each other. Nothing
//! here is validated beyond its type; [`super::settings`] turns these
//! values into a library [`neardup::Config`].
//!
//! Every flag's doc comment has two parts: a first paragraph of one line,
//! which `-h` shows, and the rest, which `--help` and the man page add (a
//! test in `command.rs` checks that both are there).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The first paragraph: `PATH:LINE` or `PATH#DOC:PARAGRAPH`.
    ///
    /// `PATH:LINE` names the paragraph on that line (plain text, WET, or a
    /// JSON Lines or Parquet record of one paragraph). `PATH#DOC:PARAGRAPH`
    /// names a paragraph of a document by the document id (or, for WET,
    /// the page address) and the 0-based paragraph index a report gives.
    #[arg(value_name = "A")]
    pub a: String,

    /// The second paragraph, named the same way.
    ///
    /// The verdict is about B as a possible duplicate of A.
    #[arg(value_name = "B", required_unless_present = "against")]
    pub b: Option<String>,

    /// Explain A against the paragraphs kept in INDEX, instead of B.
    ///
    /// The indexed paragraph a scan of A against INDEX would report (the
    /// earliest at or above the threshold, else the most similar that
    /// shares a band). Its text is shown, with the word diff, when its
    /// file is still readable and unchanged; otherwise the numbers come
    /// from the token hashes the index keeps.
    #[arg(long, value_name = "INDEX", conflicts_with = "b")]
    pub against: Option<PathBuf>,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// When to colour the output.
    ///
    /// `auto` colours on a terminal unless NO_COLOR is set or TERM is
    /// `dumb`; `always` and `never` decide regardless.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Files or directories to clean; `-` or nothing reads standard input.
    ///
    /// Directories are read recursively, in sorted order, skipping hidden
    /// entries and binary files, following symbolic links. Standard input
    /// is copied to a temporary file first, since it is read more than
    /// once.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Where to write the cleaned corpus.
    ///
    /// A directory mirrors the inputs' relative paths. For one input file
    /// or standard input it may be a file, or `-` for standard output. It
    /// is never an input; inside an input directory, it is not read as
    /// input.
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,

    /// Also write a JSON Lines log of every removed paragraph.
    ///
    /// Each line says where the paragraph was, its text, and the kept
    /// paragraph it repeats, with the similarity.
    #[arg(long, value_name = "FILE")]
    pub removed: Option<PathBuf>,

    /// Leave out documents whose every paragraph was removed.
    ///
    /// Without it such documents are kept with empty text. Dropped
    /// documents are listed in the log.
    #[arg(long)]
    pub drop_empty: bool,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// Also remove paragraphs of this kind: `contained`, a paragraph
    /// inside a longer kept one.
    ///
    /// Near-duplicates are always removed. A quote inside a longer
    /// paragraph is a finding, not always a duplicate, so it stays unless
    /// asked: then the shorter paragraph goes and the longer one, which
    /// holds its words, stays (the log names it, with the containment).
    /// Turns the search on (`--containment`, whose threshold and length
    /// apply; with `--against`, the index must keep containment
    /// fingerprints, and only the inputs' paragraphs are removed).
    #[arg(long, value_name = "KIND", value_enum, value_delimiter = ',')]
    pub remove: Vec<RemoveKind>,

    #[command(flatten)]
    pub containment: ContainmentArgs,

    /// Copy malformed records through unchanged without failing.
    ///
    /// Records that are not JSON, lack the text field or hold a text that
    /// is not a string are always copied through unchanged and reported;
    /// with this flag they are warnings and do not make the exit status 2.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// Also remove repeats of the paragraphs kept in INDEX.
    ///
    /// INDEX is a directory made by `neardup index create`: paragraphs of
    /// the inputs that repeat a paragraph of an earlier batch are removed
    /// too (the log names the old paragraph and its batch). Only the
    /// inputs are written; the index is only read, unless `--add`.
    #[arg(long, value_name = "INDEX", help_heading = "Index")]
    pub against: Option<PathBuf>,

    /// Then add the inputs' kept paragraphs to INDEX as a new batch.
    ///
    /// The daily one-liner: clean today's scrape against every earlier
    /// day and remember what was kept. The batch is committed only after
    /// every output was written; if anything failed, the index is
    /// unchanged. Takes the index's writer lock for the whole run.
    #[arg(long, requires = "against", help_heading = "Index")]
    pub add: bool,

    /// With `--add`: the batch's name (default: the date and time, UTC).
    ///
    /// Shown by `index info` and in every later finding against the
    /// batch's paragraphs, e.g. `2026-12-03` for a daily scrape. Names are
    /// unique within an index.
    #[arg(long, value_name = "NAME", requires = "add", help_heading = "Index")]
    pub name: Option<String>,

    /// With `--add`: add inputs whose bytes were added before.
    ///
    /// Without it, a batch whose inputs hold the same bytes as an earlier
    /// batch's is refused before anything is cleaned. Adding one stores
    /// nothing twice: its paragraphs are all duplicates of the earlier
    /// batch's.
    #[arg(long, requires = "add", help_heading = "Index")]
    pub force: bool,

    /// Take the first pass from the stage files in DIR (see `scan
    /// --stage-dir`).
    ///
    /// The last stage of a clean spread over machines: the inputs'
    /// fingerprints come from the shards' stage files; the cleaned files
    /// are those a clean on one machine writes.
    #[arg(long, value_name = "DIR", conflicts_with = "add")]
    pub stage_dir: Option<PathBuf>,

    /// Write only shard K's inputs, with the findings `scan --stage-dir`
    /// left in the stage directory (no scan).
    ///
    /// The last step of a clean spread over machines: each shard job (a
    /// Slurm array task, a Kubernetes indexed job) writes its part of the
    /// output, cut as `stage fingerprint` cuts the inputs; together they
    /// write the files one clean writes. Give every job the same paths,
    /// settings and --output; with --removed, each job writes its own log.
    #[arg(long, value_name = "K", requires_all = ["stage_dir", "of"])]
    pub shard: Option<usize>,

    /// The number of shards, with --shard.
    ///
    /// The same for every job of the clean; it need not be the number
    /// of shards of the fingerprint stage.
    #[arg(long, value_name = "N", requires = "shard")]
    pub of: Option<usize>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` or nothing reads standard input.
    ///
    /// Directories are read recursively, in sorted order, skipping hidden
    /// entries and binary files, following symbolic links. Standard input
    /// is copied to a temporary file first, since it is read twice.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// Skip malformed records without failing.
    ///
    /// Records that are not JSON, lack the text field or hold a text that
    /// is not a string are always skipped and reported; with this flag
    /// they are warnings and do not make the exit status 2.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// Output format: `text`, `jsonl` or `json`.
    ///
    /// `text` is for people and may change between releases. `jsonl` (one
    /// cluster per line) and `json` (the whole report with settings,
    /// summary counts, passages and diagnostics) are for programs; their
    /// fields are only ever added to.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output_format: OutputFormat,

    /// Show a summary instead: the N most repeated paragraphs and the N
    /// files with most duplicates.
    ///
    /// For a report too long to read. Each paragraph is shown with its
    /// number of occurrences, where it first occurs and its first words;
    /// each file with its duplicate paragraphs and its paragraphs; then
    /// the usual summary line. With `--output-format json`, one object with
    /// `top_paragraphs` and `top_files` in place of `clusters` and
    /// `passages`; not with `jsonl`.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Write the report to FILE instead of standard output.
    ///
    /// FILE is written under a temporary name beside it, synced and
    /// renamed once complete, so a failed run never leaves half a report
    /// under its name. It may not be an input, nor lie inside an input
    /// directory.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// When to colour text output.
    ///
    /// `auto` colours on a terminal unless NO_COLOR is set or TERM is
    /// `dumb`; `always` and `never` decide regardless.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Also report repeats of the paragraphs kept in INDEX.
    ///
    /// INDEX is a directory made by `neardup index create`. Every
    /// paragraph of the inputs that repeats a paragraph of an earlier
    /// batch is reported as its duplicate, naming the old paragraph's
    /// file, line, record and batch, with the exact similarity: the
    /// verdicts one scan of every batch and these inputs would give. The
    /// detection settings must be the index's (`neardup index info` shows
    /// them). The index is only read.
    #[arg(long, value_name = "INDEX", help_heading = "Index")]
    pub against: Option<PathBuf>,

    #[command(flatten)]
    pub containment: ContainmentArgs,

    /// Take the first pass from the stage files in DIR (the last stage of
    /// a scan spread over machines).
    ///
    /// DIR holds one file per input and a key file per shard, written by
    /// `neardup stage fingerprint` for every shard (or by `neardup.ray`),
    /// and, if `neardup stage group` ran for every part, the candidate
    /// groups (without them, this groups from the key files, one band at a
    /// time). The inputs must be given as they were to the shards; the
    /// report is the one a scan on one machine gives. A missing or damaged
    /// file, or one made with other settings, is an error naming it. The
    /// findings are also left in DIR, for `clean --stage-dir DIR --shard K
    /// --of N`.
    #[arg(long, value_name = "DIR")]
    pub stage_dir: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunArgs,
}

/// How a run shows itself: threads, progress, timings.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Worker threads (default: one per core).
    ///
    /// The output does not depend on it.
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Do not show the progress bar, nor clean's and check's summary.
    ///
    /// The bar is also hidden when standard error is not a terminal.
    /// Findings still go to standard output, errors and warnings to
    /// standard error. `check -q` prints only the findings in text output
    /// (no counts, no verdict, nothing on standard error but problems):
    /// the exit status tells whether it passed.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also print the time each stage took, on standard error.
    ///
    /// Stages: fingerprint, group, verify, report.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Settings that change what counts as a duplicate.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// How documents are cut into paragraphs: `line` or `blank-line`.
    ///
    /// `line`: every non-blank line is a paragraph (scraped news).
    /// `blank-line`: runs of non-blank lines separated by blank lines are
    /// one paragraph (hard-wrapped text). A line is blank if it holds only
    /// white space.
    #[arg(long, value_enum, default_value_t = ParagraphArg::Line, value_name = "MODE", help_heading = "Detection")]
    pub paragraphs: ParagraphArg,

    /// Shingle tokens: `words` or `chars`.
    ///
    /// `chars` makes every character a token, for text written without
    /// spaces (Chinese, Japanese, Thai).
    #[arg(long, value_enum, default_value_t = ShingleArg::Words, value_name = "KIND", help_heading = "Detection")]
    pub shingle: ShingleArg,

    /// Tokens per shingle [default: 5].
    ///
    /// A paragraph with fewer tokens is one shingle of all of them, so
    /// short lines match only as a whole.
    #[arg(long, value_name = "N", help_heading = "Detection")]
    pub shingle_size: Option<usize>,

    /// Paragraphs with fewer tokens are not compared [default: 2].
    ///
    /// Two keeps boilerplate lines such as "Related Topics"; single words
    /// ("Advertisement", a heading) are too common to call duplicates. With
    /// `--shingle chars` this counts characters.
    #[arg(long, value_name = "N", help_heading = "Detection")]
    pub min_words: Option<usize>,

    /// Jaccard similarity at which paragraphs are duplicates [default: 0.8].
    ///
    /// A decimal in (0, 1], compared exactly as a fraction, so a pair at
    /// exactly the threshold counts.
    #[arg(long, value_name = "T", help_heading = "Detection")]
    pub threshold: Option<String>,

    /// MinHash signature length [default: 128].
    ///
    /// Longer signatures miss fewer pairs near the threshold and cost more
    /// time.
    #[arg(long, value_name = "N", help_heading = "Detection")]
    pub num_perm: Option<usize>,

    /// LSH bands (default: derived from the threshold).
    ///
    /// Two paragraphs become candidates when all values of one band agree.
    /// `neardup params` shows the banding chosen for a threshold and its
    /// S-curve; `index create` takes fewer bands (`params --index`), and a
    /// run against an index takes the index's.
    #[arg(long, value_name = "B", help_heading = "Detection")]
    pub bands: Option<usize>,

    /// Signature values per LSH band (default: derived from the threshold).
    ///
    /// More rows make the S-curve steeper: fewer dissimilar candidates,
    /// more misses near the threshold. `bands x rows` must not exceed
    /// `--num-perm`.
    #[arg(long, value_name = "R", help_heading = "Detection")]
    pub rows: Option<usize>,

    /// Which repeats count: `all` or `within`.
    ///
    /// `all` counts repeats within and across documents; `within` only
    /// repeats inside the same document (a paragraph doubled by a scraper),
    /// never text a document shares with others.
    #[arg(long, value_enum, default_value_t = ScopeArg::All, value_name = "SCOPE", help_heading = "Detection")]
    pub scope: ScopeArg,
}

/// Which inputs are read, and the configuration file; the same for every
/// command that reads a corpus.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Read only files matching GLOB; `!GLOB` leaves them out (repeatable).
    ///
    /// As ripgrep's `-g`: when any GLOB without `!` is given, only files
    /// matching one of them are read; `!GLOB` (quote it from the shell)
    /// leaves matching files out. A glob with a `/` is matched against the
    /// whole path as neardup shows it, one without against the file name;
    /// `*` does not cross `/`, `**` does. They apply to files named on the
    /// command line too, and add to `glob` in the configuration file.
    #[arg(
        short = 'g',
        long = "glob",
        value_name = "GLOB",
        help_heading = "Input selection"
    )]
    pub glob: Vec<String>,

    /// Leave out files matching GLOB (repeatable); as `-g '!GLOB'`.
    ///
    /// Matched like `--glob`; adds to `exclude` in the configuration file.
    #[arg(long, value_name = "GLOB", help_heading = "Input selection")]
    pub exclude: Vec<String>,

    /// Configuration file [default: ./neardup.toml, if there is one].
    ///
    /// Every command reads its detection and input options, `glob` and
    /// `exclude`, and the allowlist; `check` also its paths, limits,
    /// baseline, cache and output format. Flags given on the command line
    /// win over it; unknown keys are errors. `-v` names the file read.
    #[arg(long, value_name = "FILE", help_heading = "Configuration")]
    pub config: Option<PathBuf>,

    /// Ignore ./neardup.toml.
    ///
    /// Every setting then comes from the flags and the defaults.
    #[arg(long, conflicts_with = "config", help_heading = "Configuration")]
    pub no_config: bool,
}

/// Settings for reading the input.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input format: `auto`, `text`, `jsonl`, `wet` or `parquet`.
    ///
    /// `auto` decides per file: Parquet (`PAR1`) and WARC (`WARC/`, after
    /// decompression) by content, then JSON Lines by name (`.jsonl`,
    /// `.ndjson`, `.json`), WARC (`.warc`, `.wet`) and Parquet (`.parquet`,
    /// `.pq`) by name, and plain text otherwise. gzip and zstd are always
    /// recognised by content.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto, value_name = "FORMAT", help_heading = "Input")]
    pub input_format: InputFormat,

    /// JSON Lines field (Parquet column) holding the document text.
    ///
    /// For Parquet, a field inside a struct is named by its dotted path
    /// (`meta.text`); the column must hold strings.
    #[arg(
        long,
        default_value = "text",
        value_name = "FIELD",
        help_heading = "Input"
    )]
    pub text_field: String,

    /// JSON Lines field (Parquet column) holding the document id.
    ///
    /// Records without it are named by their line (Parquet: row) number.
    /// Parquet ids may be strings, integers or fixed-size binary (shown in
    /// hex). WET documents are always named by their WARC-Record-ID.
    #[arg(
        long,
        default_value = "id",
        value_name = "FIELD",
        help_heading = "Input"
    )]
    pub id_field: String,
}

/// `params` takes only the settings that change the banding and its curve.
/// What `clean --remove` removes besides near-duplicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RemoveKind {
    /// Paragraphs inside a longer kept paragraph.
    Contained,
}

/// Containment: paragraphs inside longer ones (`scan`, `clean`).
#[derive(Clone, Debug, Args)]
pub struct ContainmentArgs {
    /// Also find paragraphs inside longer ones (quotes), at containment T
    /// [default: 0.8; give another as `--containment=0.9`].
    ///
    /// A kept paragraph of at least `--containment-words` words is
    /// reported as inside a longer kept paragraph when at least T of its
    /// shingles are in it (exact, not estimated), with the longest shared
    /// run of words in both. Any shared run of `--containment-words` words
    /// is found unless it is boilerplate (see `--containment-cap`;
    /// `neardup params --containment-words N` shows the guarantee). Off by
    /// default: it costs about a fifth more time on news (it reads the
    /// candidates once more), and a quote inside an article is a finding,
    /// not always a duplicate. Pairs already reported as near-duplicates
    /// are not reported again. With `--against INDEX`, also against the
    /// indexed paragraphs, if the index keeps containment fingerprints
    /// (`neardup index create --containment-words N`).
    #[arg(
        long = "containment",
        id = "containment",
        value_name = "T",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0.8",
        help_heading = "Containment"
    )]
    pub threshold: Option<String>,

    /// The shortest paragraph, in words, that containment looks for.
    ///
    /// Also the shared run of words that is always found: shorter shared
    /// runs may be found too, but are not guaranteed.
    #[arg(
        long = "containment-words",
        id = "containment_words",
        value_name = "N",
        default_value_t = 25,
        help_heading = "Containment"
    )]
    pub words: usize,

    /// Treat a run of words found in more than N kept paragraphs as
    /// boilerplate: containment does not look for it.
    ///
    /// Paragraphs sharing a fingerprint are compared pairwise, so a
    /// fingerprint in N paragraphs costs N² / 2 comparisons; fingerprints
    /// of more than N paragraphs (a sentence every page repeats) are
    /// dropped, and a quote found only through them is missed. Raise it
    /// on text whose sentences recur in many paragraphs, at that cost.
    #[arg(
        long = "containment-cap",
        id = "containment_cap",
        value_name = "N",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(2..),
        help_heading = "Containment"
    )]
    pub cap: u32,
}

#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// Jaccard similarity at which paragraphs are duplicates [default: 0.8].
    ///
    /// A decimal in (0, 1]; the banding is chosen for it and the curve is
    /// drawn around it.
    #[arg(long, value_name = "T")]
    pub threshold: Option<String>,

    /// MinHash signature length [default: 128].
    ///
    /// The banding uses at most this many signature values.
    #[arg(long, value_name = "N")]
    pub num_perm: Option<usize>,

    /// LSH bands (default: derived from the threshold).
    ///
    /// Give both `--bands` and `--rows` to see the curve of a banding of
    /// your own; a warning says when it misses pairs at the threshold.
    #[arg(long, value_name = "B")]
    pub bands: Option<usize>,

    /// Signature values per LSH band (default: derived from the threshold).
    ///
    /// More rows make the curve steeper: fewer candidates below the
    /// threshold, more misses near it.
    #[arg(long, value_name = "R")]
    pub rows: Option<usize>,

    /// Show the banding a new index takes, not a scan's.
    ///
    /// `index create` keeps a scan's rows and takes the fewest bands that
    /// still make a pair at the threshold a candidate with probability
    /// 0.999 (each band costs the index about 4.4 bytes per kept
    /// paragraph): 18 x 5 at 0.8, where a scan takes 25 x 5.
    #[arg(long)]
    pub index: bool,

    /// Also show the guarantee of `scan --containment` for N words.
    ///
    /// The winnowing window for N words with 5-word shingles, the share of
    /// shingles it selects, and the run of words it always finds.
    #[arg(long, value_name = "N")]
    pub containment_words: Option<usize>,

    /// With --containment-words: the cap the guarantee excepts.
    ///
    /// As `scan --containment-cap`: fingerprints shared by more than N
    /// kept paragraphs are dropped, and a run found only through them is
    /// not guaranteed.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(2..),
        requires = "containment_words"
    )]
    pub containment_cap: u32,

    /// Output format: `text` or `json`.
    ///
    /// `json` is one object with the banding, the probability at the
    /// threshold, the curve's points and any warning, for programs.
    #[arg(long, value_enum, default_value_t = ParamsFormat::Text, value_name = "FORMAT")]
    pub output_format: ParamsFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ParamsFormat {
    Text,
    Json,
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
