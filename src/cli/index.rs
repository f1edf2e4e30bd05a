//! `neardup index`: make a persistent index of kept paragraphs, add each
//! new batch to it, and look after it (info, verify, rollback, compact,
//! drop). The library's [`neardup::index`] does the work; this file reads
//! flags, walks the inputs and prints.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use neardup::index::{self as library, AddOptions, Index, Settings};
use neardup::pipeline::ScanOptions;
use serde_json::json;

use super::Status;
use super::args::{DetectArgs, InputArgs, RunArgs, SelectArgs};
use super::settings::Base;
use super::shared::{print_diagnostics, print_problems, set_threads, shared_settings};
use super::{config, inputs, progress};

#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(subcommand)]
    pub action: IndexAction,
}

#[derive(Debug, Subcommand)]
pub enum IndexAction {
    /// Make a new index from a corpus, its first batch (exit 0: done, 2:
    /// error).
    Create(AddArgs),
    /// Scan a batch against the index and itself, then add its kept
    /// paragraphs as a new batch (exit 0: done, 2: error).
    Add(AddArgs),
    /// Show the index's batches, sizes and settings.
    Info(InfoArgs),
    /// Check every checksum and table of the index (exit 0: intact, 2:
    /// damaged).
    Verify(PathArgs),
    /// Undo the last change (an add, compact or drop): return to the
    /// generation before it; again, to the one before that, up to 3
    /// changes back (exit 0: done, 2: error).
    Rollback(PathArgs),
    /// Merge the segments into as few, full ones; batches and verdicts
    /// stay as they were (exit 0: done, 2: error).
    Compact(CompactArgs),
    /// Remove old batches: their paragraphs are no longer found; every
    /// other batch's verdicts stay (exit 0: done or nothing to drop, 2:
    /// error).
    Drop(DropArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The index directory.
    ///
    /// `create` makes it (it must not exist, or be an empty directory);
    /// `add` changes it. One process writes an index at a time: a second
    /// writer gets an error, never a wait.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,

    /// Files or directories of the batch; `-` or nothing reads standard
    /// input.
    ///
    /// Read as `scan` reads them (recursively, sorted, binary files
    /// skipped).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The batch's name (default: the date and time, UTC).
    ///
    /// Shown by `index info` and in every finding against the batch's
    /// paragraphs, e.g. `2026-12-03` for a daily scrape. Names are unique
    /// within an index.
    #[arg(long, value_name = "NAME", help_heading = "Index")]
    pub name: Option<String>,

    /// Add a batch whose inputs were added before.
    ///
    /// Without it, a batch whose inputs hold the same bytes as an earlier
    /// batch's (a content hash of the inputs, whatever their names) is
    /// refused. Adding one stores nothing twice: its paragraphs are all
    /// duplicates of the earlier batch's.
    #[arg(long, help_heading = "Index")]
    pub force: bool,

    /// `create` only: keep containment fingerprints for quotes of N words.
    ///
    /// Then `scan --against INDEX --containment` (and `clean`, `check`)
    /// also find paragraphs of the batch inside indexed paragraphs and
    /// indexed paragraphs inside the batch's, as one scan of every batch
    /// would, with `--containment-words N`. About 60 bytes more per indexed
    /// paragraph of news prose at N = 25. An index made without them gets
    /// them with `neardup index compact --containment-words N`.
    #[arg(long, value_name = "N", help_heading = "Index")]
    pub containment_words: Option<usize>,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// Skip malformed records without failing.
    ///
    /// Malformed records are always skipped and reported; with this flag
    /// they are warnings and do not stop the batch from being added.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The index directory.
    ///
    /// Read only; a writer may be adding to it meanwhile.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,

    /// Output format: `text` or `json`.
    ///
    /// `json` has the generation, the paragraphs and variants, the
    /// number of segment files and their bytes, the settings, one object
    /// per batch (name, created, paragraphs, variants) and one per segment
    /// file (`segment_files`: name, bytes, rows, variants, segment
    /// version).
    #[arg(long, value_enum, default_value_t = InfoFormat::Text, value_name = "FORMAT")]
    pub output_format: InfoFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// The index directory.
    ///
    /// `compact` takes the writer's lock: a second writer gets an error.
    /// Readers keep reading the generation they opened.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,

    /// Also select containment fingerprints for quotes of N words (or
    /// select them again for N, if the index keeps them for another
    /// length), from the tokens the index holds.
    ///
    /// Needed before `scan --against INDEX --containment` on an index
    /// made without `index create --containment-words`.
    #[arg(long, value_name = "N", conflicts_with = "no_containment")]
    pub containment_words: Option<usize>,

    /// Drop the index's containment fingerprints.
    ///
    /// The index is then as if made without `--containment-words`:
    /// smaller, and refused by `scan --against INDEX --containment`.
    #[arg(long)]
    pub no_containment: bool,

    /// Give the index B bands (with `--rows`), computed again from the
    /// tokens it holds.
    ///
    /// Every kept paragraph gets the keys of that banding, without the
    /// batches' text: an index made with a scan's 25 x 5 at 0.8 takes an
    /// index's 18 x 5 (`neardup params --index`), a sixth smaller. Which
    /// paragraphs it keeps stays what each batch's scan decided. Every
    /// segment is rewritten.
    #[arg(long, value_name = "B", requires = "rows")]
    pub bands: Option<usize>,

    /// Signature values per band, with `--bands`.
    ///
    /// More rows make the S-curve steeper (`neardup params --bands B
    /// --rows R` draws it).
    #[arg(long, value_name = "R", requires = "bands")]
    pub rows: Option<usize>,

    /// Print nothing but errors.
    ///
    /// Without it, `compact` says how many segments and bytes it rewrote
    /// into how many, on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DropArgs {
    /// The index directory.
    ///
    /// `drop` takes the writer's lock: a second writer gets an error.
    /// Readers keep reading the generation they opened, and `index
    /// rollback` undoes the drop.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,

    /// The batches to drop, by name (`index info` lists them).
    ///
    /// A name that is no batch of the index is an error, and nothing is
    /// dropped.
    #[arg(
        value_name = "BATCH",
        required_unless_present_any = ["before", "older_than", "keep"]
    )]
    pub batches: Vec<String>,

    /// Also drop every batch added before this time (UTC): `2026-09-01`
    /// or `2026-09-01T06:00:00Z`.
    ///
    /// When no batch is that old, nothing is committed.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub before: Option<i64>,

    /// Also drop every batch added more than this long ago: `90d`, `36h`,
    /// `2w`, `1w3d` (units s, m, h, d, w).
    ///
    /// A rolling window, e.g. from cron: `--older-than 90d` is `--before`
    /// the time 90 days before the drop starts. When no batch is that
    /// old, nothing is committed.
    #[arg(
        long,
        value_name = "AGE",
        value_parser = parse_age,
        conflicts_with = "before"
    )]
    pub older_than: Option<i64>,

    /// Also drop every batch but the newest N (by the order they were
    /// added): a window of the last N daily batches.
    ///
    /// When there are no more than N, nothing is committed (unless a
    /// name or a time selects some).
    #[arg(long, value_name = "N", value_parser = parse_keep)]
    pub keep: Option<usize>,

    /// Only say which batches would be dropped; change nothing.
    ///
    /// Lists them on standard output (name, time added, paragraphs,
    /// variants) and on standard error their count and what the drop
    /// would cost (the segments it would remove, rewrite, with their
    /// bytes, and keep as they are); the index is only read.
    #[arg(long)]
    pub dry_run: bool,

    /// Print nothing but errors (a dry run still lists the batches).
    ///
    /// Without it, `drop` says on standard error what it dropped, what is
    /// left and what it wrote, or why there was nothing to drop.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_keep(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err(
            "0 would drop every batch: name them, or give --before, to empty the index".to_owned(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a count of batches")),
    }
}

fn parse_age(text: &str) -> Result<i64, String> {
    library::parse_age(text).ok_or_else(|| {
        format!("{text:?} is not an age: a count and its unit, such as 90d, 36h or 1w3d (units s, m, h, d, w)")
    })
}

/// The time now, in seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn parse_time(text: &str) -> Result<i64, String> {
    library::parse_utc_time(text).ok_or_else(|| {
        format!("{text:?} is not a UTC date (2026-09-01) or time (2026-09-01T06:00:00Z)")
    })
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// The index directory.
    ///
    /// `verify` only reads it; `rollback` takes the writer's lock.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
}

super::shared::corpus_args!(AddArgs);

pub fn run(args: IndexArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let sub = matches
        .subcommand()
        .map(|(_, m)| m)
        .expect("an index action was parsed");
    match args.action {
        IndexAction::Create(args) => add(args, sub, true),
        IndexAction::Add(args) => add(args, sub, false),
        IndexAction::Info(args) => info(&args),
        IndexAction::Verify(args) => verify(&args.index),
        IndexAction::Rollback(args) => {
            let generation = library::rollback(&args.index)?;
            eprintln!(
                "{}: back to the batches before the last change (generation {generation})",
                args.index.display()
            );
            Ok(Status::Clean)
        }
        IndexAction::Drop(args) => drop_batches(&args),
        IndexAction::Compact(args) => {
            let containment = match (args.containment_words, args.no_containment) {
                (Some(n), _) => Some(Some(n)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let changes = library::Changes {
                containment_words: containment,
                banding: args.bands.zip(args.rows),
            };
            let done = library::compact(&args.index, changes)?;
            if args.quiet {
                return Ok(Status::Clean);
            }
            if done.unchanged() {
                eprintln!(
                    "{}: already compact: {} ({} bytes), generation {} (nothing \
                     rewritten, no new generation)",
                    args.index.display(),
                    count(done.segments.0, "segment", "segments"),
                    done.bytes.0,
                    done.generation
                );
            } else {
                eprintln!(
                    "{}: compacted: {} ({} bytes) into {} ({} bytes; {} kept as they \
                     were), generation {}",
                    args.index.display(),
                    count(done.segments.0, "segment", "segments"),
                    done.bytes.0,
                    done.segments.1,
                    done.bytes.1,
                    done.kept,
                    done.generation
                );
            }
            Ok(Status::Clean)
        }
    }
}

/// Opens the index at `path` for a scan with `shared`'s settings.
pub fn open_for(path: &Path, shared: &config::Shared) -> anyhow::Result<Index> {
    open_with(path, &shared.config, &shared.options)
}

/// Opens the index at `path` for a scan with `config` and `options`.
pub fn open_with(
    path: &Path,
    config: &neardup::Config,
    options: &neardup::pipeline::ScanOptions,
) -> anyhow::Result<Index> {
    let index = Index::open(path)?;
    index
        .settings()
        .check(&Settings::of(config, options)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(index)
}

fn add(mut args: AddArgs, matches: &clap::ArgMatches, create: bool) -> anyhow::Result<Status> {
    // A new index takes the fewest bands that keep the guarantee; an add
    // takes the index's settings for every one it is not given.
    let existing = if create {
        None
    } else {
        Some(super::settings::of_index(&args.index)?)
    };
    let base = existing.as_ref().map_or(Base::NewIndex, Base::Index);
    let (shared, config_file) = shared_settings(&mut args, matches, base)?;
    set_threads(args.run.threads)?;
    // The index is never read as input, even inside the corpus.
    let own: Vec<&Path> = config_file
        .iter()
        .map(|p| p.as_path())
        .chain([args.index.as_path()])
        .collect();
    let (found, path_problems) =
        inputs::collect(&args.paths, shared.input_format, &shared.select, &own);
    let (inputs, _origins): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    print_problems(&path_problems);
    if path_problems.iter().any(|p| !p.is_warning()) {
        anyhow::bail!("the batch was not added: some of its inputs could not be read");
    }
    let options = AddOptions {
        name: args.name.clone(),
        created: now(),
        force: args.force,
        skip_bad_records: shared.skip_bad_records,
    };
    let made_dir = if create {
        library::create(
            &args.index,
            &shared.config,
            &shared.options,
            args.containment_words,
        )?
    } else if args.containment_words.is_some() {
        anyhow::bail!(
            "--containment-words is the index's, set by `index create`; \
             `neardup index compact --containment-words N` changes it"
        );
    } else {
        false
    };
    let bar = progress::Bar::new(!args.run.quiet);
    // An add shows no findings: without their snippets it reads its
    // inputs once (`ScanOptions::snippets`).
    let scan_options = ScanOptions {
        snippets: false,
        ..shared.options.clone()
    };
    let mut added = match library::add(
        &args.index,
        &inputs,
        &shared.config,
        &scan_options,
        &bar,
        &options,
    ) {
        Ok(added) => added,
        Err(e) if create => {
            // Nothing of the batch is in it: leave no empty index behind.
            library::remove_new(&args.index, made_dir);
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    if shared.skip_bad_records {
        super::shared::skip_bad_records(&mut added.report);
    }
    print_diagnostics(&added.report);
    if args.run.verbose {
        super::shared::print_timings(&added.report);
    }
    if !args.run.quiet {
        eprintln!("{}", added_line(&args.index, &added));
    }
    warn_if_empty(&added);
    let errors = added.report.diagnostics.iter().any(|d| !d.is_warning());
    Ok(if errors { Status::Error } else { Status::Clean })
}

/// Warns (even with `-q`) when a batch held no paragraph: in a daily job
/// that is most often a scraper that found nothing, which the index's
/// empty batch alone would not tell anyone.
pub fn warn_if_empty(added: &library::Added) {
    if added.report.summary.fingerprinted == 0 {
        eprintln!(
            "warning: batch {:?} holds no paragraphs: its inputs are empty (or every \
             paragraph is shorter than min_words); it was added empty",
            added.batch
        );
    }
}

/// The line saying what an add did.
pub fn added_line(dir: &Path, added: &library::Added) -> String {
    let s = &added.report.summary;
    format!(
        "{}: added batch {:?}: {} of {} paragraphs kept ({} duplicates: {} of earlier batches); \
         the index holds {} paragraphs in {}",
        dir.display(),
        added.batch,
        added.stored,
        s.fingerprinted,
        s.duplicate_paragraphs,
        added.against_index,
        added.total_paragraphs,
        count(added.batches, "batch", "batches"),
    )
}

fn info(args: &InfoArgs) -> anyhow::Result<Status> {
    let index = Index::open(&args.index)?;
    let batches = index.batches()?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.output_format {
        InfoFormat::Json => {
            let settings: serde_json::Map<String, serde_json::Value> = index
                .settings()
                .pairs()
                .map(|(k, v)| (k.to_owned(), json!(v)))
                .collect();
            let batches: Vec<_> = batches
                .iter()
                .map(|b| {
                    json!({
                        "name": b.name,
                        "created": b.created,
                        "paragraphs": b.paragraphs,
                        "variants": b.variants,
                    })
                })
                .collect();
            let files: Vec<_> = (index.segment_files().iter())
                .map(|f| {
                    json!({
                        "name": f.name,
                        "bytes": f.bytes,
                        "rows": f.rows,
                        "variants": f.variants,
                        "version": f.version,
                    })
                })
                .collect();
            let doc = json!({
                "index": args.index.display().to_string(),
                "generation": index.generation(),
                "paragraphs": index.paragraphs(),
                "variants": index.variant_count(),
                "segments": index.segments(),
                "bytes": index.bytes(),
                "settings": settings,
                "batches": batches,
                "segment_files": files,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        InfoFormat::Text => {
            writeln!(
                out,
                "{}: generation {}, {} (and {}) in {}, {}, {} bytes",
                args.index.display(),
                index.generation(),
                count(index.paragraphs(), "paragraph", "paragraphs"),
                count(index.variant_count(), "variant", "variants"),
                count(batches.len(), "batch", "batches"),
                count(index.segments(), "segment", "segments"),
                index.bytes()
            )?;
            let current = library::segment::SEGMENT_VERSION;
            let old = (index.segment_files().iter())
                .filter(|f| f.version < current)
                .count();
            if old > 0 {
                writeln!(
                    out,
                    "  {} of an earlier segment version (`neardup index compact` rewrites {} in \
                     version {current})",
                    count(old, "segment", "segments"),
                    if old == 1 { "it" } else { "them" },
                )?;
            }
            for b in &batches {
                writeln!(
                    out,
                    "  {}  created {}  {}, {}",
                    b.name.escape_debug(),
                    library::utc_time(b.created),
                    count(b.paragraphs, "paragraph", "paragraphs"),
                    count(b.variants, "variant", "variants"),
                )?;
            }
            writeln!(out, "settings:")?;
            for (k, v) in index.settings().pairs() {
                writeln!(out, "  {k}={v}")?;
            }
        }
    }
    out.flush()?;
    Ok(Status::Clean)
}

fn drop_batches(args: &DropArgs) -> anyhow::Result<Status> {
    let which = library::BatchSelection {
        names: args.batches.clone(),
        before: args
            .before
            .or(args.older_than.map(|age| now().saturating_sub(age))),
        keep: args.keep,
    };
    let dir = args.index.display();
    if args.dry_run {
        let index = Index::open(&args.index)?;
        let chosen = index.selected(&which)?;
        for b in &chosen {
            println!(
                "{}  created {}  {}, {}",
                b.name.escape_debug(),
                library::utc_time(b.created),
                count(b.paragraphs, "paragraph", "paragraphs"),
                count(b.variants, "variant", "variants"),
            );
        }
        // What the drop would write: the segments it keeps as they are
        // cost nothing, those it rewrites are read and written again.
        let plan = index.drop_plan(&which)?;
        let (rewritten, bytes) = plan.segments(library::SegmentFate::Rewritten);
        let (removed, _) = plan.segments(library::SegmentFate::Removed);
        let (kept, _) = plan.segments(library::SegmentFate::Stays);
        if args.quiet {
            return Ok(Status::Clean);
        }
        eprintln!(
            "{dir}: would drop {} of {} batches ({} paragraphs, {} variants, and {} variants of \
             their paragraphs in other batches): of {}, {removed} removed, {rewritten} rewritten \
             ({} bytes) and {kept} kept as they are; nothing changed (--dry-run)",
            chosen.len(),
            index.batches()?.len(),
            chosen.iter().map(|b| b.paragraphs).sum::<u64>(),
            chosen.iter().map(|b| b.variants).sum::<u64>(),
            plan.orphans.iter().sum::<u64>(),
            count(plan.fates.len(), "segment", "segments"),
            bytes,
        );
        return Ok(Status::Clean);
    }
    let done = library::drop_batches(&args.index, &which)?;
    if args.quiet {
        return Ok(Status::Clean);
    }
    if done.batches.is_empty() {
        // Only a time or a count can select nothing: a name is a batch.
        let mut why = Vec::new();
        if let Some(before) = which.before {
            why.push(format!(
                "no batch was added before {}",
                library::utc_time(before)
            ));
        }
        if let Some(keep) = which.keep {
            why.push(format!(
                "the index holds {}, no more than the {keep} to keep",
                count(done.left, "batch", "batches")
            ));
        }
        eprintln!(
            "{dir}: nothing to drop: {} (no new generation)",
            why.join(", and ")
        );
    } else {
        eprintln!(
            "{dir}: dropped {} ({}): {} and {} (theirs, and other batches' variants of \
             their paragraphs); {} left in {} ({} bytes; {} bytes before, {} kept as {}), \
             generation {}",
            count(done.batches.len(), "batch", "batches"),
            done.batches.join(", "),
            count(done.paragraphs, "paragraph", "paragraphs"),
            count(done.variants, "variant", "variants"),
            count(done.left, "batch", "batches"),
            count(done.segments.1, "segment", "segments"),
            done.bytes.1,
            done.bytes.0,
            count(done.kept, "segment", "segments"),
            if done.kept == 1 {
                "it was"
            } else {
                "they were"
            },
            done.generation
        );
    }
    Ok(Status::Clean)
}

/// `n` and the noun, singular or plural.
fn count<N: TryInto<u64> + Copy + std::fmt::Display>(n: N, one: &str, many: &str) -> String {
    let single = n.try_into().is_ok_and(|n| n == 1);
    format!("{n} {}", if single { one } else { many })
}

fn verify(path: &Path) -> anyhow::Result<Status> {
    let index = Index::open(path)?;
    match index.verify() {
        Ok(()) => {
            println!(
                "{}: intact: generation {}, {} in {}, every checksum and table checked",
                path.display(),
                index.generation(),
                count(index.paragraphs(), "paragraph", "paragraphs"),
                count(index.batches()?.len(), "batch", "batches")
            );
            Ok(Status::Clean)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(Status::Error)
        }
    }
}
