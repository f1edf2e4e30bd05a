//! The grammar of `neardup check`. Values are checked in
//! [`super::settings`], where they meet the configuration file. As in
//! `cli/args.rs`, every doc comment has a one-line first paragraph for `-h`
//! and more for `--help`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::args::{ColorChoice, ContainmentArgs, DetectArgs, InputArgs, RunArgs, SelectArgs};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check [default: `paths` in neardup.toml].
    ///
    /// Directories are read recursively, in sorted order, skipping hidden
    /// entries; `-` reads standard input. Without any, the `paths` of the
    /// configuration file are checked.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Fail when duplicate paragraphs / paragraphs is above R.
    ///
    /// R is a decimal in [0, 1]; a ratio equal to R passes. When no limit
    /// is given at all, any duplicate fails (R = 0); giving only
    /// --max-clusters lifts that default. With --changed the ratio is over
    /// the changed files' paragraphs.
    #[arg(long, value_name = "R", help_heading = "Limits")]
    pub max_duplicate_ratio: Option<String>,

    /// Fail when more than N paragraphs have duplicates.
    ///
    /// N counts clusters: kept paragraphs with at least one duplicate that
    /// counts (after the baseline).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_clusters: Option<u64>,

    /// Fail when more than N paragraphs are inside longer ones (with
    /// --containment) [default: 0].
    ///
    /// Counts the containment findings (`--containment`) whose shorter or
    /// longer paragraph is in a checked file. Near-duplicates have their
    /// own limits; giving those does not lift this one.
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_contained: Option<u64>,

    /// Exit 0 even when a limit is exceeded.
    ///
    /// Errors (an unreadable input, a bad configuration) still exit 2.
    #[arg(long, help_heading = "Limits")]
    pub exit_zero: bool,

    /// Fail only on duplicates that this baseline file does not know.
    ///
    /// The baseline records duplicated paragraphs by content fingerprint
    /// and file, not by line, so edits, moves and renames keep it valid.
    /// Entries that no longer occur are reported as fixed.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,

    /// Record the duplicates found now in FILE and exit 0.
    ///
    /// FILE is replaced, once complete; entries that no longer occur are
    /// dropped. It may be the file given to --baseline. A run with input
    /// errors writes nothing.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Check only these files against the whole corpus; give it last.
    ///
    /// The other inputs become the reference: their paragraphs are all
    /// kept, and only paragraphs of the changed files can be duplicates (of
    /// the reference or of each other). Paths are looked up from the
    /// working directory, then from the git repository's root (as `git
    /// diff` writes them). Listed files that are not inputs are warnings;
    /// deleted ones are noted and skipped. Every argument after it is taken
    /// as a changed file.
    #[arg(long, value_name = "FILE", num_args = 1.., help_heading = "Changed files")]
    pub changed: Vec<PathBuf>,

    /// Make a listed file that is not an input an error, not a warning.
    ///
    /// By default a listed file that exists but is not an input (another
    /// file of the pull request) is a warning, and a list none of whose
    /// files is an input is an error; files the globs leave out are
    /// skipped. With this flag every other listed file must be an input or
    /// deleted.
    #[arg(long, help_heading = "Changed files")]
    pub strict_changed: bool,

    /// Read the changed files from LIST (`-`: standard input).
    ///
    /// One path per line, or NUL-separated as `git diff --name-only -z`
    /// writes them (safe for any file name).
    #[arg(
        long,
        value_name = "LIST",
        conflicts_with = "changed",
        help_heading = "Changed files"
    )]
    pub changed_from: Option<PathBuf>,

    /// Also fail on repeats of the paragraphs kept in INDEX.
    ///
    /// INDEX is a directory made by `neardup index create` (the published
    /// corpus, say): a paragraph of the inputs that repeats one of its
    /// paragraphs is a finding, naming the old paragraph's file, line and
    /// batch. The index is only read.
    #[arg(long, value_name = "INDEX", help_heading = "Index")]
    pub against: Option<PathBuf>,

    /// Keep the fingerprints of unchanged files in DIR between runs.
    ///
    /// A file whose size and modification time, or failing those whose
    /// bytes, are those of its entry is not fingerprinted again; prints
    /// made with other settings are ignored. In CI, restore DIR with the
    /// platform's cache step. Delete it at any time.
    #[arg(long, value_name = "DIR", help_heading = "Changed files")]
    pub cache: Option<PathBuf>,

    #[command(flatten)]
    pub containment: ContainmentArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Skip malformed records without failing.
    ///
    /// Records that are not JSON, lack the text field or hold a text that
    /// is not a string are always skipped and reported; with this flag
    /// they are warnings and do not make the exit status 2.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// Output format: text, json, github, sarif or junit.
    ///
    /// `text` is for people; `json` for programs (stable); `github` writes
    /// workflow commands that annotate the files, and the whole list to
    /// the job summary; `sarif` is SARIF 2.1.0 for code scanning; `junit`
    /// is JUnit XML with one test case per checked file.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text, value_name = "FORMAT", help_heading = "Output")]
    pub output_format: CheckFormat,

    /// Write the output to FILE instead of standard output.
    ///
    /// FILE is written under a temporary name beside it and renamed once
    /// complete; it may not be a file of the corpus. `--output-file` is
    /// an older name of this flag.
    #[arg(
        short,
        long,
        alias = "output-file",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,

    /// Show the N most repeated paragraphs and the N files with most
    /// duplicates instead of every finding (text output).
    ///
    /// For a check with too many findings to read: each paragraph with its
    /// occurrences (the kept one and its counted duplicates), where it
    /// first occurs and its first words; each file with its counted
    /// duplicates and its paragraphs; then the usual summary and verdict.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub top: Option<usize>,

    /// At most N annotations in `github` output.
    ///
    /// GitHub shows 10 error annotations per step. The rest are counted in
    /// one more annotation and listed in the job summary
    /// ($GITHUB_STEP_SUMMARY) when it is set.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Output")]
    pub max_annotations: usize,

    /// When to colour text output.
    ///
    /// `auto` colours on a terminal unless NO_COLOR is set or TERM is
    /// `dumb`; `always` and `never` decide regardless.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Github,
    Sarif,
    Junit,
}
