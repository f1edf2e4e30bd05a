//! `neardup scan`: the report of a corpus, to standard output or a file.

use std::io::{self, Write};

use neardup::pipeline::Extras;
use neardup::pipeline::prior::Prior;
use neardup::report::Render;
use neardup::report::json::{Json, Jsonl, TopJson};
use neardup::report::text::{Text, TopText};
use neardup::stage::StageFiles;

use super::Status;
use super::args::{OutputFormat, ScanArgs};
use super::settings::{self, Base};
use super::shared::{
    finish_report, print_problems, scan_corpus, set_threads, shared_settings, use_color,
};
use super::{index, inputs, output};

pub fn run(mut args: ScanArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    if args.top.is_some() && args.output_format == OutputFormat::Jsonl {
        anyhow::bail!("--top summarises in text or json; jsonl is one cluster per line");
    }
    let index = settings::against(args.against.as_deref())?;
    let base = Base::or_defaults(index.as_ref());
    let (mut shared, config_file) = shared_settings(&mut args, matches, base)?;
    shared.options.containment = super::shared::containment_settings(&args.containment, false)?;
    set_threads(args.run.threads)?;
    // The report is never an input; nor is the configuration file.
    let own: Vec<&std::path::Path> = args
        .output
        .iter()
        .chain(&config_file)
        .chain(&args.against)
        .chain(&args.stage_dir)
        .map(|p| p.as_path())
        .collect();
    let (found, path_problems) =
        inputs::collect(&args.paths, shared.input_format, &shared.select, &own);
    let (inputs, origins): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let refused =
        neardup::rewrite::target::refuse_inputs(args.output.as_deref(), &args.paths, &origins)
            .and_then(|()| {
                neardup::rewrite::target::refuse_index(
                    args.output.as_deref(),
                    args.against.as_deref(),
                )
            });
    if let Err(message) = refused {
        eprintln!("error: {message}");
        return Ok(Status::Error);
    }
    print_problems(&path_problems);
    let index = match &args.against {
        Some(path) => Some(index::open_for(path, &shared)?),
        None => None,
    };
    let staged = match &args.stage_dir {
        Some(dir) => Some(StageFiles::open(
            dir,
            &inputs,
            &shared.config,
            &shared.options,
            index.is_some(),
        )?),
        None => None,
    };
    if let (Some(staged), true) = (&staged, args.run.verbose) {
        match (staged.verdict_parts(), staged.groups()) {
            (Some(parts), _) => {
                eprintln!("verdicts from the verify stage in {parts} parts: nothing verified here")
            }
            (_, Some(g)) => eprintln!(
                "candidate groups from the group stage: {} distinct runs of shared band keys",
                g.len()
            ),
            _ => eprintln!("no group files used: grouping here, from the key files band by band"),
        }
    }
    let extras = Extras {
        prior: index.as_ref().map(|i| i as &dyn Prior),
        ..staged
            .as_ref()
            .map_or_else(Extras::default, StageFiles::extras)
    };
    let verified = (staged.as_ref()).and_then(|s| s.verified_report(&shared.config));
    let report = match verified {
        Some(report) => {
            let mut report = report?;
            finish_report(&mut report, &shared, &args.run, path_problems);
            report
        }
        None => scan_corpus(&inputs, &shared, &args.run, path_problems, extras)?,
    };
    if let (Some(staged), true) = (&staged, args.run.verbose) {
        eprintln!(
            "stage files: {} of {} inputs from their prints (the others read again)",
            staged.used(),
            inputs.len()
        );
    }
    if let Some(dir) = &args.stage_dir {
        // The findings stay beside the stage files, for the shard jobs of
        // a spread clean (`clean --stage-dir DIR --shard K --of N`).
        neardup::stage::write_findings(
            dir,
            &shared.config,
            &shared.options,
            args.against.as_deref(),
            &report,
        )?;
    }
    let color = args.output.is_none() && use_color(args.color);
    let renderer: Box<dyn Render> = match (args.output_format, args.top) {
        (OutputFormat::Text, None) => Box::new(Text { color }),
        (OutputFormat::Text, Some(n)) => Box::new(TopText { n, color }),
        (OutputFormat::Json, None) => Box::new(Json),
        (OutputFormat::Json, Some(n)) => Box::new(TopJson { n }),
        (OutputFormat::Jsonl, _) => Box::new(Jsonl),
    };
    match &args.output {
        Some(path) => output::write_file(path, |out| renderer.render(&report, out))?,
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            renderer.render(&report, &mut out)?;
            out.flush()?;
        }
    }

    let errors = report.diagnostics.iter().any(|d| !d.is_warning());
    let status = if errors {
        Status::Error
    } else if report.summary.duplicate_paragraphs > 0 || !report.contained.is_empty() {
        Status::Duplicates
    } else {
        Status::Clean
    };
    // The process ends next: freeing a report of a million findings, one
    // allocation at a time, would only make it end later.
    std::mem::forget(report);
    Ok(status)
}
