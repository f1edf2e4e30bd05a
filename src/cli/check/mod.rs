//! `neardup check`: a CI gate. Scan, hold the duplicates against the
//! limits (after the baseline, if any), render the verdict in a format CI
//! understands, and exit 0 (pass), 1 (fail) or 2 (error).
//!
//! - [`settings`]: `neardup.toml` merged with the flags;
//! - [`changed`]: `--changed`, which turns the unchanged inputs into a
//!   reference corpus ([`neardup::pipeline::ScanOptions::reference`]);
//! - [`baseline`]: the known duplicates, by content fingerprint;
//! - [`cache`]: `--cache`, the first pass's results of unchanged files
//!   ([`neardup::print`]) kept between runs;
//! - [`gate`]: findings and limits;
//! - [`render`]: one file per output format.

pub mod args;
mod baseline;
mod cache;
mod changed;
mod gate;
mod render;
mod settings;

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::ArgMatches;
use neardup::corpus::Input;
use neardup::pipeline;
use neardup::pipeline::prior::Prior;

pub use args::CheckArgs;
use args::CheckFormat;
use baseline::Baseline;
use cache::DirCache;
use gate::{File, Problem};
use render::RenderOutcome;
use settings::display_path;

use super::inputs::{self, Origin};
use super::shared::{
    print_diagnostics, print_problems, print_timings, set_threads, skip_bad_records, use_color,
};
use super::{Status, progress};

pub fn run(args: CheckArgs, matches: &ArgMatches) -> anyhow::Result<Status> {
    let changed = changed::list(&args)?;
    let (settings, args) = settings::resolve(args, matches)?;
    if args.run.verbose
        && let Some(file) = &settings.file
    {
        eprintln!("configuration: {}", file.display());
    }
    set_threads(args.run.threads)?;
    if args.top.is_some() && settings.format != CheckFormat::Text {
        bail!("--top summarises the text output; the other formats list every finding for tools");
    }
    if changed.is_some() && args.write_baseline.is_some() {
        bail!("--write-baseline records the whole corpus; it cannot be combined with --changed");
    }
    let baseline = settings
        .baseline
        .as_deref()
        // Writing a baseline for the first time: there is nothing to read
        // yet, even if the configuration names it.
        .filter(|p| args.write_baseline.is_none() || p.exists())
        .map(|p| Baseline::read(p, &settings.config))
        .transpose()?;

    refuse_to_replace(
        &settings.paths,
        args.write_baseline.as_deref(),
        args.output.as_deref(),
    )?;
    neardup::rewrite::target::refuse_index(
        [args.write_baseline.as_deref(), args.output.as_deref()]
            .into_iter()
            .flatten(),
        settings.against.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    // neardup's own files are never read as input, even inside the corpus
    // (the cache directory is created first, so that it can be recognised).
    if let Some(dir) = &settings.cache {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    let own: Vec<&Path> = [
        settings.file.as_deref(),
        settings.baseline.as_deref(),
        args.write_baseline.as_deref(),
        args.output.as_deref(),
        settings.cache.as_deref(),
        settings.against.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let (found, mut path_problems) = inputs::collect(
        &settings.paths,
        settings.input_format,
        &settings.select,
        &own,
    );
    print_problems(&path_problems);
    let found: Vec<(Input, Option<PathBuf>)> = found
        .into_iter()
        .map(|(input, origin)| match origin {
            Origin::File { path, .. } => (input, Some(path)),
            Origin::Stdin => (input, None),
        })
        .collect();
    let all_paths: HashSet<String> = found
        .iter()
        .map(|(i, _)| display_path(i.source.name()))
        .collect();
    let mut options = settings.options.clone();
    // Formats for tools carry each duplicate's whole paragraph.
    options.full_text = matches!(
        settings.format,
        CheckFormat::Json | CheckFormat::Sarif | CheckFormat::Junit
    );
    let found: Vec<(Input, Option<PathBuf>)> = match &changed {
        None => found,
        Some(list) => {
            let resolved = changed::resolve(list);
            let wanted: HashSet<PathBuf> = resolved
                .files
                .iter()
                .map(|(_, real)| real.clone())
                .collect();
            let (checked, reference): (Vec<_>, Vec<_>) =
                found.into_iter().partition(|(_, path)| {
                    path.as_deref()
                        .is_some_and(|p| changed::contains(&wanted, p))
                });
            let problems = changed_problems(&resolved, &checked, &settings, &args)?;
            print_problems(&problems);
            path_problems.extend(problems);
            if args.run.verbose {
                eprintln!(
                    "changed: {} of {} listed files are inputs",
                    checked.len(),
                    list.len()
                );
            }
            if checked.is_empty() {
                // Only deleted files were listed: nothing to read.
                Vec::new()
            } else {
                options.reference = reference.len();
                reference.into_iter().chain(checked).collect()
            }
        }
    };
    let cache = settings
        .cache
        .as_deref()
        .map(|dir| {
            let files = found
                .iter()
                .map(|(i, path)| (display_path(i.source.name()), path.clone()))
                .collect();
            DirCache::new(dir, files).with_context(|| dir.display().to_string())
        })
        .transpose()?;
    let inputs: Vec<Input> = found.into_iter().map(|(i, _)| i).collect();

    let index = match &settings.against {
        Some(path) => Some(super::index::open_with(
            path,
            &settings.config,
            &settings.options,
        )?),
        None => None,
    };
    let extras = pipeline::Extras {
        cache: cache
            .as_ref()
            .map(|c| c as &dyn pipeline::print::PrintCache),
        prior: index.as_ref().map(|i| i as &dyn Prior),
        kept: None,
        groups: None,
        band_keys: None,
    };
    let bar = progress::Bar::new(!args.run.quiet);
    let mut report = pipeline::scan_with(&inputs, &settings.config, &options, &bar, extras)?;
    if let Some(cache) = &cache {
        if let Some(failure) = cache.failure() {
            eprintln!("warning: cache not fully written: {failure}");
        }
        if args.run.verbose {
            eprintln!(
                "cache: prints found for {} of {} inputs",
                cache.hits(),
                inputs.len()
            );
        }
    }
    if settings.skip_bad_records {
        skip_bad_records(&mut report);
    }
    print_diagnostics(&report);
    if args.run.verbose {
        print_timings(&report);
    }

    let known = baseline
        .as_ref()
        .map(|b| b.known(&report, &all_paths, options.reference, changed.is_none()));
    let files = inputs
        .iter()
        .zip(&report.paragraphs_by_input)
        .skip(options.reference)
        .map(|(input, &paragraphs)| File {
            path: input.source.name().to_owned(),
            paragraphs,
        })
        .collect();
    let problems = path_problems
        .iter()
        .chain(&report.diagnostics)
        .map(Problem::from_error)
        .collect();
    let mut outcome = gate::evaluate(
        &report,
        files,
        changed.is_some(),
        known,
        settings.limits,
        problems,
    );
    let errors = outcome.errors() > 0;

    if let Some(path) = &args.write_baseline {
        if errors {
            eprintln!(
                "error: {}: baseline not written because of the errors above",
                path.display()
            );
        } else {
            let n = baseline::write(path, &report)?;
            outcome.written = Some((path.display().to_string(), n));
        }
    }

    let renderer: Box<dyn RenderOutcome> = match settings.format {
        CheckFormat::Text => Box::new(render::text::Text {
            color: args.output.is_none() && use_color(args.color),
            quiet: args.run.quiet,
            top: args.top,
        }),
        CheckFormat::Json => Box::new(render::json::Json),
        CheckFormat::Github => Box::new(render::github::Github {
            max_annotations: settings.max_annotations,
            summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }),
        CheckFormat::Sarif => Box::new(render::sarif::Sarif),
        CheckFormat::Junit => Box::new(render::junit::Junit),
    };
    let rendered = match &args.output {
        Some(path) => super::output::write_file(path, |out| renderer.render(&outcome, out)),
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            renderer
                .render(&outcome, &mut out)
                .and_then(|()| out.flush())
                .map_err(anyhow::Error::from)
        }
    };
    match rendered {
        // A reader that stopped reading does not change the verdict.
        Err(e) if super::is_broken_pipe(&e) => {}
        other => other?,
    }
    // The verdict for the person reading the log, when the output itself
    // does not end with it: written to a file, or in a format for tools.
    let verdict_shown = args.output.is_none() && settings.format == CheckFormat::Text;
    if !args.run.quiet && !verdict_shown {
        eprintln!("{}", render::verdict(&outcome));
    }

    Ok(if errors {
        Status::Error
    } else if outcome.passed() || args.exit_zero {
        Status::Clean
    } else {
        Status::Duplicates
    })
}

/// What is wrong with a changed-files list, given the inputs it selected
/// (`checked`). A listed file that exists but is not an input (and is not
/// left out by the globs, which is on purpose) is a warning
/// (an error with `--strict-changed`): a pull request changes other files
/// too, but a list that selects nothing while naming files on disk is
/// almost always a list of paths from another directory, and an error, so
/// that a check cannot pass by checking nothing. A listed path that is not
/// on disk is a file the change deleted: noted and skipped.
fn changed_problems(
    resolved: &changed::Resolved,
    checked: &[(Input, Option<PathBuf>)],
    settings: &settings::Settings,
    args: &CheckArgs,
) -> anyhow::Result<Vec<neardup::Error>> {
    let inputs: HashSet<PathBuf> = checked
        .iter()
        .filter_map(|(_, p)| p.as_deref().and_then(|p| std::fs::canonicalize(p).ok()))
        .collect();
    let strays: Vec<&PathBuf> = resolved
        .files
        .iter()
        .filter(|(_, real)| !inputs.contains(real))
        .map(|(listed, _)| listed)
        // A file the globs leave out is not an input on purpose.
        .filter(|listed| settings.select.selects(&listed.to_string_lossy()))
        .collect();
    if checked.is_empty() && !strays.is_empty() {
        let shown = |ps: &mut dyn Iterator<Item = &PathBuf>| {
            let all: Vec<String> = ps.map(|p| p.display().to_string()).collect();
            let more = all.len().saturating_sub(5);
            let mut text = all.into_iter().take(5).collect::<Vec<_>>().join(", ");
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            text
        };
        bail!(
            "none of the files listed as changed is an input: listed {}; the inputs are under {} \
             (paths are looked up from the working directory, then from the git repository's root; \
             to check nothing when a change does not touch the corpus, list only its files, \
             e.g. `git diff --name-only -- corpus/`)",
            shown(&mut strays.iter().copied()),
            shown(&mut settings.paths.iter()),
        );
    }
    if !args.run.quiet {
        for gone in &resolved.missing {
            eprintln!(
                "note: {}: listed as changed but not on disk (deleted?); skipped",
                gone.display()
            );
        }
    }
    Ok(strays
        .into_iter()
        .map(|p| {
            let name = p.display().to_string();
            if args.strict_changed {
                neardup::Error::not_found(&name, "listed as changed but not an input of the check")
            } else {
                neardup::Error::skipped(
                    &name,
                    "listed as changed but not an input of the check; ignored",
                )
            }
        })
        .collect())
}

/// Refuses outputs that would replace something that is not neardup's: a
/// `--write-baseline` file that is not a baseline, an `--output` file
/// inside the corpus. (Both are left out of the inputs, so a slip of the
/// keyboard would otherwise silently replace a corpus file.)
fn refuse_to_replace(
    paths: &[PathBuf],
    baseline: Option<&Path>,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(b) = baseline
        && b.exists()
        && !baseline::is_baseline(b)
    {
        bail!(
            "{}: refusing to replace a file that is not a neardup baseline",
            b.display()
        );
    }
    if let Some(o) = output
        && let Ok(real) = std::fs::canonicalize(o)
    {
        let inside = paths
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .any(|p| real.starts_with(p));
        if inside {
            bail!(
                "{}: refusing to replace a file of the corpus being checked",
                o.display()
            );
        }
    }
    Ok(())
}
