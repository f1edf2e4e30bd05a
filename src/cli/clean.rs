//! `neardup clean`: scan, then write every input back without its duplicate
//! paragraphs.
//!
//! The paths are checked before anything is read: an output may not be an
//! input, nor lie inside an input directory. Each output file is written to
//! a temporary file beside its final name, synced and renamed when
//! complete, so an interrupted or failed run never leaves a half-written
//! file under a final name, and an input is never opened for writing.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use neardup::corpus::compress::{self, Compression, Encoder};
use neardup::corpus::{Format, Input};
use neardup::id::InputId;
use neardup::index;
use neardup::pipeline;
use neardup::pipeline::prior::Prior;
use neardup::report::Report;
use neardup::report::text::count;
use neardup::rewrite::{self, CleanOptions, Event, Removal, Removals, Stats};
use neardup::{Error, ErrorKind};
use rayon::prelude::*;
use serde::Serialize;

use super::Status;
use super::args::{CleanArgs, RemoveKind};
use super::inputs::{self, Origin};
use super::output::{self, Staged};
use super::progress;
use super::shared::{finish_report, print_problems, scan_corpus, set_threads, shared_settings};

/// Where one input's cleaned bytes go.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// Standard output, compressed as the input was.
    Stdout,
    /// A file; `None`: compressed as the input was.
    File {
        path: PathBuf,
        compression: Option<Compression>,
    },
}

pub fn run(mut args: CleanArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let (mut shared, config_file) = shared_settings(&mut args, matches)?;
    set_threads(args.run.threads)?;
    let remove_contained = args.remove.contains(&RemoveKind::Contained);
    if args.containment.threshold.is_some() && !remove_contained {
        anyhow::bail!(
            "--containment on clean only says how to find what `--remove contained` removes; \
             add --remove contained (or use `neardup scan --containment` to see the findings)"
        );
    }
    shared.options.containment =
        super::shared::containment_settings(&args.containment, remove_contained)?;
    // The outputs are never read as input (and an output inside an input
    // directory is refused below); nor is the configuration file.
    let outputs: Vec<&Path> = std::iter::once(args.output.as_path())
        .chain(args.removed.as_deref())
        .chain(config_file.as_deref())
        .chain(args.against.as_deref())
        .chain(args.stage_dir.as_deref())
        .collect();
    let (found, mut path_problems) =
        inputs::collect(&args.paths, shared.input_format, &shared.select, &outputs);
    let (inputs, origins): (Vec<Input>, Vec<Origin>) = found.into_iter().unzip();
    let targets = match plan(&args.output, &origins).and_then(|targets| {
        let files = targets.iter().filter_map(|t| match t {
            Target::File { path, .. } => Some(path.as_path()),
            Target::Stdout => None,
        });
        output::refuse_inputs(files.chain(args.removed.as_deref()), &args.paths, &origins)
            .map(|()| targets)
    }) {
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Status::Error);
        }
    };
    print_problems(&path_problems);
    // With --add the batch is scanned and written now, and committed at
    // the end, only if every output was written.
    let unreadable_paths = path_problems.iter().any(|p| !p.is_warning());
    let mut pending = match (&args.against, args.add) {
        (Some(dir), true) => {
            let created = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let add = index::AddOptions {
                name: args.name.clone(),
                created,
                force: args.force,
                skip_bad_records: shared.skip_bad_records,
            };
            let bar = progress::Bar::new(!args.run.quiet);
            let mut pending =
                index::prepare(dir, &inputs, &shared.config, &shared.options, &bar, &add)?;
            finish_report(
                pending.report_mut(),
                &shared,
                &args.run,
                std::mem::take(&mut path_problems),
            );
            Some(pending)
        }
        _ => None,
    };
    let opened = match (&args.against, args.add) {
        (Some(dir), false) => Some(super::index::open_for(dir, &shared)?),
        _ => None,
    };
    let scanned;
    let report = match &pending {
        Some(p) => &p.added().report,
        None => {
            let staged = match &args.stage_dir {
                Some(dir) => Some(neardup::stage::StageFiles::open(
                    dir,
                    &inputs,
                    &shared.config,
                    &shared.options,
                )?),
                None => None,
            };
            let extras = pipeline::Extras {
                prior: opened.as_ref().map(|i| i as &dyn Prior),
                cache: staged
                    .as_ref()
                    .map(|s| s as &dyn neardup::pipeline::print::PrintCache),
                ..pipeline::Extras::default()
            };
            scanned = scan_corpus(&inputs, &shared, &args.run, path_problems, extras)?;
            &scanned
        }
    };
    let unreadable: HashSet<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind() == ErrorKind::Io)
        .filter_map(Error::path)
        .collect();
    let removals = Removals::new(report, &inputs).with_contained(&report.contained);
    let options = CleanOptions {
        paragraphs: shared.config.paragraphs(),
        fields: shared.options.fields.clone(),
        drop_empty: args.drop_empty,
    };

    let mut log = match &args.removed {
        Some(path) => Some(create(path)?),
        None => None,
    };
    let mut totals = Stats::default();
    let mut failed = 0usize;
    // Inputs are cleaned a few at a time in parallel and their log lines
    // written in input order, so the log is the same for any thread count.
    let order: Vec<usize> = (0..inputs.len())
        .filter(|&i| !unreadable.contains(inputs[i].source.name()))
        .collect();
    let window = rayon::current_num_threads().max(1) * 2;
    for chunk in order.chunks(window) {
        let results: Vec<anyhow::Result<(Stats, Vec<u8>)>> = chunk
            .par_iter()
            .map(|&i| {
                let id = InputId::new(i as u32);
                clean_one(&inputs[i], id, &targets[i], &removals, &options)
            })
            .collect();
        for result in results {
            match result {
                Ok((stats, lines)) => {
                    add(&mut totals, &stats);
                    if let Some(log) = &mut log {
                        log.writer()
                            .write_all(&lines)
                            .context("writing the removal log")?;
                    }
                }
                Err(e) if super::is_broken_pipe(&e) => return Err(e),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    failed += 1;
                }
            }
        }
    }
    if let Some(log) = log {
        log.commit()?;
    }
    if !args.run.quiet {
        print_summary(
            report,
            &totals,
            order.len() - failed,
            args.drop_empty,
            removals.contained(),
        );
    }
    let mut errors = failed > 0 || report.diagnostics.iter().any(|d| !d.is_warning());
    if let Some(p) = pending.take() {
        let dir = args.against.as_deref().expect("--add requires --against");
        if failed > 0 || unreadable_paths {
            eprintln!(
                "error: {}: the batch was not added, because of the errors above (the index is \
                 unchanged)",
                dir.display()
            );
            errors = true;
        } else {
            match p.commit() {
                Ok(added) => {
                    if !args.run.quiet {
                        eprintln!("{}", super::index::added_line(dir, &added));
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    errors = true;
                }
            }
        }
    }
    Ok(if errors { Status::Error } else { Status::Clean })
}

fn add(totals: &mut Stats, s: &Stats) {
    totals.removed += s.removed;
    totals.dropped += s.dropped;
    totals.emptied += s.emptied;
    totals.bytes_in += s.bytes_in;
    totals.bytes_out += s.bytes_out;
}

/// The summary on standard error. `written` is how many inputs got their
/// output: the others had an error, reported above.
fn print_summary(
    report: &Report,
    totals: &Stats,
    written: usize,
    drop_empty: bool,
    contained: usize,
) {
    let s = &report.summary;
    let inputs = if written as u64 == s.inputs {
        count(s.inputs, "input")
    } else {
        format!(
            "{written} of {} ({} not written)",
            count(s.inputs, "input"),
            s.inputs - written as u64
        )
    };
    let change = if totals.bytes_in == 0 {
        0.0
    } else {
        100.0 * (totals.bytes_out as f64 - totals.bytes_in as f64) / totals.bytes_in as f64
    };
    let contained = if contained > 0 {
        format!(", {contained} contained")
    } else {
        String::new()
    };
    eprintln!(
        "cleaned {inputs}: {}, {}; removed {} ({} within-document, {} cross-document{contained}); {} -> {} bytes ({change:+.1}%)",
        count(s.documents, "document"),
        count(s.paragraphs, "paragraph"),
        count(totals.removed, "paragraph"),
        s.within_document,
        s.cross_document,
        totals.bytes_in,
        totals.bytes_out,
    );
    let problems = neardup::report::text::input_problems(report);
    if let Some(problems) = problems.strip_prefix("; ") {
        eprintln!("input: {}", problems.replace("; ", ", "));
    }
    if totals.emptied > 0 {
        let fate = if drop_empty {
            "dropped"
        } else {
            "kept with empty text; --drop-empty leaves them out"
        };
        eprintln!(
            "{} lost every paragraph ({fate})",
            count(totals.emptied, "document")
        );
    }
}

/// Cleans one input into its target; returns its counts and its log
/// lines.
fn clean_one(
    input: &Input,
    index: InputId,
    target: &Target,
    removals: &Removals<'_>,
    options: &CleanOptions,
) -> anyhow::Result<(Stats, Vec<u8>)> {
    let name = input.source.name();
    let mut lines = Vec::new();
    let mut log = |event: Event<'_>| -> Result<(), Error> {
        serde_json::to_writer(&mut lines, &LogLine::new(name, event)).expect("log lines serialize");
        lines.push(b'\n');
        Ok(())
    };
    let (path, compression) = match target {
        Target::Stdout => {
            let compression = input_compression(input)?;
            let stdout = io::stdout();
            let mut out = encoder(input.format, compression, BufWriter::new(stdout.lock()))?;
            let stats = rewrite::rewrite(input, index, removals, options, &mut out, &mut log)?;
            out.finish()?.flush()?;
            return Ok((stats, lines));
        }
        Target::File { path, compression } => (path, *compression),
    };
    let compression = match compression {
        Some(c) => c,
        None => input_compression(input)?,
    };
    let mut staged = create(path)?;
    let write_failed = Cell::new(false);
    let watched = Watched {
        inner: staged.writer(),
        failed: &write_failed,
    };
    let writing = || format!("writing {}", path.display());
    let mut out =
        encoder(input.format, compression, BufWriter::new(watched)).with_context(writing)?;
    let stats = match rewrite::rewrite(input, index, removals, options, &mut out, &mut log) {
        Ok(stats) => stats,
        // The library names the input; a full disk is the output's problem.
        Err(e) if write_failed.get() => {
            return Err(anyhow::anyhow!("{}: {}", writing(), e.message()));
        }
        Err(e) => return Err(e.into()),
    };
    out.finish()
        .and_then(|mut w| w.flush())
        .with_context(writing)?;
    if input.format == Format::Text && stats.dropped > 0 {
        // The whole file repeated others: with --drop-empty it is not
        // written (the log says so); the temporary file goes away.
        return Ok((stats, lines));
    }
    staged.commit()?;
    Ok((stats, lines))
}

/// Starts writing `path`, creating its directory (`-o DIR` mirrors the
/// inputs' directories).
fn create(path: &Path) -> anyhow::Result<Staged> {
    let dir = output::parent(path);
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Staged::create(path)
}

/// The encoder for an output of `format`: WET gets a gzip member per
/// record, as Common Crawl's files have.
fn encoder<W: Write>(format: Format, compression: Compression, out: W) -> io::Result<Encoder<W>> {
    match format {
        Format::Wet => Encoder::per_record(compression, out),
        _ => Encoder::new(compression, out),
    }
}

/// A writer that notes whether a write failed, so that a failure is blamed
/// on the output and not on the input being read.
struct Watched<'a, W> {
    inner: W,
    failed: &'a Cell<bool>,
}

impl<W: Write> Write for Watched<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.failed.set(true))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed.set(true))
    }
}

/// The compression of an input, from its first bytes.
fn input_compression(input: &Input) -> anyhow::Result<Compression> {
    let mut head = Vec::with_capacity(4);
    input
        .source
        .open()
        .and_then(|r| r.take(4).read_to_end(&mut head))
        .with_context(|| input.source.name().to_owned())?;
    Ok(compress::detect(&head))
}

/// Chooses each input's output.
fn plan(output: &Path, origins: &[Origin]) -> Result<Vec<Target>, String> {
    let to_stdout = output.as_os_str() == "-";
    let looks_like_dir = output.is_dir() || output.to_string_lossy().ends_with('/');
    let single = matches!(origins, [Origin::Stdin] | [Origin::File { root: None, .. }]);
    if single && !looks_like_dir {
        return Ok(vec![if to_stdout {
            Target::Stdout
        } else {
            Target::File {
                path: output.to_path_buf(),
                compression: Some(compression_by_name(output)),
            }
        }]);
    }
    if to_stdout {
        return Err(
            "`-o -` writes one input to standard output; with several inputs or a directory, \
             give --output a directory"
                .to_owned(),
        );
    }
    if output.exists() && !output.is_dir() {
        return Err(format!(
            "{} is a file; with several inputs or a directory input, --output must be a directory",
            output.display()
        ));
    }
    // The arguments: each directory once, each file named on its own.
    let roots: BTreeSet<&Path> = origins
        .iter()
        .filter_map(|o| match o {
            Origin::File {
                root: Some(root), ..
            } => Some(root.as_path()),
            _ => None,
        })
        .collect();
    let files = origins
        .iter()
        .filter(|o| matches!(o, Origin::File { root: None, .. }))
        .count();
    let arguments = roots.len() + files;
    // Several arguments go into a directory, created if need be; but a
    // name that reads as a corpus file (`-o both.jsonl`) is a mistake to
    // report, not a directory to make. `DIR/` asks for one all the same.
    if arguments > 1 && !looks_like_dir && looks_like_a_file(output) {
        return Err(format!(
            "{} inputs go into a directory, and {} looks like a file name; \
             to create a directory of that name, write {}/",
            arguments,
            output.display(),
            output.display()
        ));
    }
    let mut targets = Vec::with_capacity(origins.len());
    let mut taken: BTreeMap<PathBuf, &Path> = BTreeMap::new();
    for origin in origins {
        let Origin::File {
            path,
            root,
            relative,
        } = origin
        else {
            return Err(
                "standard input can only be cleaned on its own (-o FILE or -o -)".to_owned(),
            );
        };
        // With several arguments a directory keeps its own name under
        // DIR, as `cp -r a b DIR` does (shards of the same name in two
        // directories must not meet); alone, its files go directly in DIR.
        let target = match root {
            Some(root) if arguments > 1 => output.join(dir_name(root)).join(relative),
            _ => output.join(relative),
        };
        if let Some(other) = taken.insert(target.clone(), path) {
            return Err(format!(
                "{} and {} would both be written to {}",
                other.display(),
                path.display(),
                target.display()
            ));
        }
        targets.push(Target::File {
            path: target,
            compression: None,
        });
    }
    Ok(targets)
}

/// Whether `path` ends with the extension of a corpus format or a
/// compression, as an output file would.
fn looks_like_a_file(path: &Path) -> bool {
    const EXTENSIONS: &[&str] = &[
        "txt", "text", "jsonl", "ndjson", "json", "wet", "warc", "parquet", "pq", "gz", "gzip",
        "zst", "zstd",
    ];
    path.extension()
        .is_some_and(|e| EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str()))
}

/// The name a directory argument keeps under the output directory: its
/// last component (`.` and `..` are resolved to the directory's real name).
fn dir_name(root: &Path) -> PathBuf {
    match root.file_name() {
        Some(name) => PathBuf::from(name),
        None => {
            let real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
            PathBuf::from(real.file_name().unwrap_or(real.as_os_str()))
        }
    }
}

/// gzip or zstd when the output's name says so, else none.
fn compression_by_name(path: &Path) -> Compression {
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".gz") || name.ends_with(".gzip") {
        Compression::Gzip
    } else if name.ends_with(".zst") || name.ends_with(".zstd") {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// One line of the removal log.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum LogLine<'a> {
    /// A removed paragraph.
    RemovedParagraph {
        path: &'a str,
        doc: &'a str,
        line: u64,
        paragraph: u32,
        start: u64,
        end: u64,
        text: &'a str,
        /// `within-document`, `cross-document` or `contained`.
        kind: &'static str,
        /// A near-duplicate's similarity to the kept paragraph.
        #[serde(skip_serializing_if = "Option::is_none")]
        similarity: Option<f64>,
        /// A contained paragraph's containment in the kept one.
        #[serde(skip_serializing_if = "Option::is_none")]
        containment: Option<f64>,
        /// The paragraph that stays: the one it repeats, or the longer one
        /// it is inside.
        kept: KeptOut<'a>,
    },
    /// A document left out because every paragraph of it was removed.
    DroppedDocument {
        path: &'a str,
        doc: &'a str,
        line: u64,
    },
}

#[derive(Serialize)]
struct KeptOut<'a> {
    path: &'a str,
    doc: &'a str,
    line: u64,
    paragraph: u32,
    /// The index batch of a kept paragraph from an index (`--against`).
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

impl<'a> LogLine<'a> {
    fn new(path: &'a str, event: Event<'a>) -> LogLine<'a> {
        match event {
            Event::Removed { removal, text } => {
                let (at, kept) = (removal.location(), removal.kept());
                let (kind, similarity, containment) = match removal {
                    Removal::Duplicate { duplicate, .. } => (
                        duplicate.kind.as_str(),
                        Some(duplicate.similarity.as_f64()),
                        None,
                    ),
                    Removal::Contained(c) => ("contained", None, Some(c.containment())),
                };
                LogLine::RemovedParagraph {
                    path,
                    doc: &at.doc,
                    line: at.line,
                    paragraph: at.paragraph,
                    start: at.start,
                    end: at.end,
                    text,
                    kind,
                    similarity,
                    containment,
                    kept: KeptOut {
                        path: &kept.path,
                        doc: &kept.doc,
                        line: kept.line,
                        paragraph: kept.paragraph,
                        batch: kept.batch.as_deref(),
                    },
                }
            }
            Event::Dropped { doc, line } => LogLine::DroppedDocument { path, doc, line },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, root: Option<&str>) -> Origin {
        let path = PathBuf::from(path);
        Origin::File {
            relative: match root {
                Some(r) => path.strip_prefix(r).unwrap().to_path_buf(),
                None => PathBuf::from(path.file_name().unwrap()),
            },
            root: root.map(PathBuf::from),
            path,
        }
    }

    #[test]
    fn one_file_goes_to_a_file_named_for_its_compression() {
        let t = plan(Path::new("out.jsonl.zst"), &[file("in.jsonl.gz", None)]).unwrap();
        assert_eq!(
            t,
            [Target::File {
                path: "out.jsonl.zst".into(),
                compression: Some(Compression::Zstd)
            }]
        );
        assert_eq!(
            plan(Path::new("-"), &[Origin::Stdin]).unwrap(),
            [Target::Stdout]
        );
    }

    #[test]
    fn directories_are_mirrored() {
        let origins = [file("news/a/x.txt", Some("news")), file("y.txt.gz", None)];
        let t = plan(Path::new("clean/"), &origins).unwrap();
        assert_eq!(
            t,
            [
                Target::File {
                    path: "clean/news/a/x.txt".into(),
                    compression: None
                },
                Target::File {
                    path: "clean/y.txt.gz".into(),
                    compression: None
                }
            ]
        );
    }

    /// Issue 18, item 7: a lone directory's files go directly into the
    /// output directory, which may not exist yet.
    #[test]
    fn a_lone_directory_is_mirrored_without_its_name() {
        let t = plan(Path::new("clean"), &[file("news/a/x.txt", Some("news"))]).unwrap();
        assert_eq!(
            t,
            [Target::File {
                path: "clean/a/x.txt".into(),
                compression: None
            }]
        );
    }

    #[test]
    fn unworkable_plans_say_why() {
        let two = [file("a/x.txt", None), file("b/x.txt", None)];
        assert!(
            plan(Path::new("out/"), &two)
                .unwrap_err()
                .contains("both be written")
        );
        // Several inputs and an output that does not exist: a mistyped
        // file name is not made a directory.
        let gz_zst = [file("a.jsonl.gz", None), file("a.jsonl.zst", None)];
        let err = plan(Path::new("both.jsonl"), &gz_zst).unwrap_err();
        assert!(err.contains("looks like a file name"), "{err}");
        assert!(err.contains("both.jsonl/"), "{err}");
        assert!(plan(Path::new("both.jsonl/"), &gz_zst).is_ok());
        assert!(plan(Path::new("cleaned"), &gz_zst).is_ok());
        let err = plan(Path::new("-"), &[file("d/x.txt", Some("d"))]).unwrap_err();
        assert!(err.contains("directory"), "{err}");
        let err = plan(Path::new("o"), &[Origin::Stdin, file("x", None)]).unwrap_err();
        assert!(err.contains("standard input"), "{err}");
    }
}
