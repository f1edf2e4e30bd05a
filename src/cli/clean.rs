//! `neardup clean`: scan, then write every input back without its duplicate
//! paragraphs.
//!
//! The paths are checked before anything is read: an output may not be an
//! input, nor lie inside an input directory. Each output file is written to
//! a temporary file beside its final name, synced and renamed when
//! complete, so an interrupted or failed run never leaves a half-written
//! file under a final name, and an input is never opened for writing.

use std::cell::Cell;
use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context as _;
use neardup::corpus::{Format, Input};
use neardup::id::InputId;
use neardup::index;
use neardup::pipeline;
use neardup::pipeline::prior::Prior;
use neardup::report::Report;
use neardup::report::text::count;
use neardup::rewrite::target::{Target, plan};
use neardup::rewrite::{self, CleanOptions, Removals, Stats};
use neardup::{Error, ErrorKind};
use rayon::prelude::*;

use super::Status;
use super::args::{CleanArgs, RemoveKind};
use super::inputs::{self, Origin};
use super::output::{self, Staged};
use super::progress;
use super::settings::{self, Base};
use super::shared::{finish_report, print_problems, scan_corpus, set_threads, shared_settings};

pub fn run(mut args: CleanArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let index = settings::against(args.against.as_deref())?;
    let base = Base::or_defaults(index.as_ref());
    let (mut shared, config_file) = shared_settings(&mut args, matches, base)?;
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
        neardup::rewrite::target::refuse_inputs(
            files.chain(args.removed.as_deref()),
            &args.paths,
            &origins,
        )
        .and_then(|()| {
            let outputs = std::iter::once(args.output.as_path()).chain(args.removed.as_deref());
            neardup::rewrite::target::refuse_index(outputs, args.against.as_deref())
        })
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
            let add = index::AddOptions {
                name: args.name.clone(),
                created: super::index::now(),
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
    // A shard job takes the last stage's findings and writes its part.
    let shard = match (args.shard, args.of, &args.stage_dir) {
        (Some(k), Some(n), Some(dir)) => {
            if n == 0 || k >= n {
                anyhow::bail!("--shard {k} --of {n}: the shard must be below the number of shards");
            }
            let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
            let part = neardup::stage::shard(&sizes, k, n);
            let (report, unreadable) = neardup::stage::read_findings(
                dir,
                &inputs,
                &shared.config,
                &shared.options,
                args.against.as_deref(),
                part.clone(),
            )?;
            Some((part, report, unreadable))
        }
        _ => None,
    };
    let opened = match (&args.against, args.add, &shard) {
        (Some(dir), false, None) => Some(super::index::open_for(dir, &shared)?),
        _ => None,
    };
    let scanned;
    let report = match (&pending, &shard) {
        (Some(p), _) => &p.added().report,
        (None, Some((_, findings, _))) => findings,
        (None, None) => {
            let staged = match &args.stage_dir {
                Some(dir) => Some(neardup::stage::StageFiles::open(
                    dir,
                    &inputs,
                    &shared.config,
                    &shared.options,
                    opened.is_some(),
                )?),
                None => None,
            };
            let extras = pipeline::Extras {
                prior: opened.as_ref().map(|i| i as &dyn Prior),
                ..staged
                    .as_ref()
                    .map_or_else(pipeline::Extras::default, |s| s.extras())
            };
            let verified = (staged.as_ref()).and_then(|s| s.verified_report(&shared.config));
            scanned = match verified {
                Some(report) => {
                    let mut report = report?;
                    super::shared::finish_report(&mut report, &shared, &args.run, path_problems);
                    report
                }
                None => scan_corpus(&inputs, &shared, &args.run, path_problems, extras)?,
            };
            &scanned
        }
    };
    let mut unreadable: HashSet<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind() == ErrorKind::Io)
        .filter_map(Error::path)
        .collect();
    let mut range = 0..inputs.len();
    if let Some((part, _, names)) = &shard {
        unreadable.extend(names.iter().map(String::as_str));
        range = part.clone();
    }
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
    // One cause (an output directory that cannot be made) fails every
    // input the same way: said once, with how many it failed.
    let mut said: Vec<(String, usize)> = Vec::new();
    let mut said_at = std::collections::HashMap::<String, usize>::new();
    // Inputs are cleaned a few at a time in parallel and their log lines
    // written in input order, so the log is the same for any thread count.
    let order: Vec<usize> = range
        .clone()
        .filter(|&i| !unreadable.contains(inputs[i].source.name()))
        .collect();
    let window = rayon::current_num_threads().max(1) * 2;
    let logged = log.is_some();
    for chunk in order.chunks(window) {
        let results: Vec<anyhow::Result<(Stats, Vec<u8>)>> = chunk
            .par_iter()
            .map(|&i| {
                let id = InputId::new(i as u32);
                clean_one(&inputs[i], id, &targets[i], &removals, &options, logged)
            })
            .collect();
        for result in results {
            match result {
                Ok((stats, lines)) => {
                    totals += &stats;
                    if let Some(log) = &mut log {
                        log.writer()
                            .write_all(&lines)
                            .context("writing the removal log")?;
                    }
                }
                Err(e) if super::is_broken_pipe(&e) => return Err(e),
                Err(e) => {
                    let message = super::message(&e);
                    match said_at.get(&message) {
                        Some(&i) => said[i].1 += 1,
                        None => {
                            eprintln!("error: {message}");
                            said_at.insert(message.clone(), said.len());
                            said.push((message, 1));
                        }
                    }
                    failed += 1;
                }
            }
        }
    }
    for (message, times) in said.iter().filter(|(_, times)| *times > 1) {
        eprintln!("error: {times} inputs failed with: {message}");
    }
    if let Some(log) = log {
        log.commit()?;
    }
    if let (false, Some((part, _, _))) = (args.run.quiet, &shard) {
        eprintln!(
            "shard {} of {} (inputs {}..{} of {}): cleaned {}; removed {}; {} -> {} bytes",
            args.shard.unwrap_or_default(),
            args.of.unwrap_or_default(),
            part.start,
            part.end,
            inputs.len(),
            count((order.len() - failed) as u64, "input"),
            count(totals.removed, "paragraph"),
            totals.bytes_in,
            totals.bytes_out,
        );
    } else if !args.run.quiet {
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
                    super::index::warn_if_empty(&added);
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
    // The duplicates found; only those of the inputs written were removed.
    let found = if written as u64 == s.inputs {
        ""
    } else {
        " found"
    };
    eprintln!(
        "cleaned {inputs}: {}, {}; removed {} ({} within-document, {} cross-document{contained}{found}); {} -> {} bytes ({change:+.1}%)",
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

/// Cleans one input into its target; returns its counts and, when
/// `logged`, its log lines.
fn clean_one(
    input: &Input,
    index: InputId,
    target: &Target,
    removals: &Removals<'_>,
    options: &CleanOptions,
    logged: bool,
) -> anyhow::Result<(Stats, Vec<u8>)> {
    let mut lines = Vec::new();
    let (path, compression) = match target {
        Target::Stdout => {
            let stdout = io::stdout();
            let (stats, _) = rewrite::clean_input(
                input,
                index,
                removals,
                options,
                None,
                (stdout.lock(), "standard output"),
                logged.then_some(&mut lines),
            )?;
            return Ok((stats, lines));
        }
        Target::File { path, compression } => (path, *compression),
    };
    let mut staged = create(path)?;
    let write_failed = Cell::new(false);
    let watched = Watched {
        inner: staged.writer(),
        failed: &write_failed,
    };
    let writing = || format!("writing {}", path.display());
    let output = path.display().to_string();
    let stats = match rewrite::clean_input(
        input,
        index,
        removals,
        options,
        compression,
        (watched, &output),
        logged.then_some(&mut lines),
    ) {
        Ok((stats, _)) => stats,
        // The library names the input; a full disk is the output's problem.
        Err(e) if write_failed.get() => {
            return Err(anyhow::anyhow!("{}: {}", writing(), e.message()));
        }
        Err(e) => return Err(e.into()),
    };
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
