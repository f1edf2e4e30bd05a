//! The command line: parse flags, build the configuration, run the library,
//! print, and choose the exit code.

mod args;
mod check;
mod clean;
mod command;
mod config;
mod explain;
mod generate;
mod inputs;
mod interrupt;
mod output;
mod params;
mod progress;
mod settings;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use neardup::pipeline::{self, ScanOptions};
use neardup::report::json::{Json, Jsonl, TopJson};
use neardup::report::text::{Text, TopText};
use neardup::report::{Render, Report};

use args::{ColorChoice, OutputFormat, ScanArgs};
use command::{Cli, Command};

/// The exit status, as documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// No duplicates.
    Clean,
    /// Duplicates found.
    Duplicates,
    /// A bad flag, an unreadable input, a malformed record.
    Error,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(match s {
            Status::Clean => 0,
            Status::Duplicates => 1,
            Status::Error => 2,
        })
    }
}

/// At most this many input problems are printed one by one; the rest are
/// counted.
const MAX_DIAGNOSTICS: usize = 50;

/// Keeps the panic hook from printing a panic in a foreign decoder that
/// [`neardup::guard`] catches and reports as an error about the file (one
/// message, not a crash report followed by an error). A panic in neardup's
/// own code (`src/...`) is printed as always, guarded or not.
fn quiet_guarded_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let ours = info
            .location()
            .is_some_and(|l| l.file().starts_with("src/"));
        if ours || !neardup::guard::is_guarded() {
            default(info);
        }
    }));
}

pub fn main() -> ExitCode {
    // The matches are kept: the commands ask them which flags were given,
    // to let them override the configuration file.
    let parsed = Cli::command().try_get_matches().and_then(|m| {
        Cli::from_arg_matches(&m)
            .map(|cli| (cli, m))
            .map_err(|e| e.format(&mut Cli::command()))
    });
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Status::Error.into()
            } else {
                Status::Clean.into()
            };
        }
    };
    // Without the handler an interrupt still stops the run, only leaving
    // temporary files behind: not a reason to refuse to start.
    let _ = interrupt::install();
    quiet_guarded_panics();
    let result = match (cli.generate, cli.command) {
        (Some(what), _) => generate::run(what),
        (None, Some(Command::Scan(args))) => scan(args, subcommand(&matches)),
        (None, Some(Command::Clean(args))) => clean::run(args, subcommand(&matches)),
        (None, Some(Command::Check(args))) => check::run(args, subcommand(&matches)),
        (None, Some(Command::Params(args))) => params::run(&args),
        (None, Some(Command::Explain(args))) => explain::run(&args),
        // Without either, clap has already printed the help and exited.
        (None, None) => Ok(Status::Error),
    };
    match result {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => Status::Clean.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            Status::Error.into()
        }
    }
}

/// The matches of the subcommand that was parsed.
fn subcommand(matches: &clap::ArgMatches) -> &clap::ArgMatches {
    matches
        .subcommand()
        .map(|(_, m)| m)
        .expect("a subcommand was parsed")
}

/// The flags of a command that reads a corpus with the shared settings.
trait CorpusArgs {
    /// Detection and input flags (updated from the configuration file),
    /// input selection, `--skip-bad-records`, `-v`.
    fn parts(
        &mut self,
    ) -> (
        &mut args::DetectArgs,
        &mut args::InputArgs,
        &args::SelectArgs,
        bool,
        bool,
    );
}

/// `scan` and `clean` have the same fields for it.
macro_rules! corpus_args {
    ($($command:ty),*) => {$(
        impl CorpusArgs for $command {
            fn parts(
                &mut self,
            ) -> (&mut args::DetectArgs, &mut args::InputArgs, &args::SelectArgs, bool, bool) {
                let verbose = self.run.verbose;
                (&mut self.detect, &mut self.input, &self.select, self.skip_bad_records, verbose)
            }
        }
    )*};
}
corpus_args!(ScanArgs, args::CleanArgs);

/// The shared settings of `scan` and `clean` (`check` adds its own):
/// flags, then the configuration file, validated; with `-v`, names the
/// file read. Also returns the file's path.
fn shared_settings(
    args: &mut impl CorpusArgs,
    matches: &clap::ArgMatches,
) -> anyhow::Result<(config::Shared, Option<std::path::PathBuf>)> {
    let (detect, input, select, skip_bad_records, verbose) = args.parts();
    let loaded = config::Loaded::read(select)?;
    if verbose && let Some(path) = &loaded.path {
        eprintln!("configuration: {}", path.display());
    }
    let shared =
        config::Shared::resolve(&loaded, detect, input, select, skip_bad_records, matches)?;
    Ok((shared, loaded.path))
}

/// A closed pipe (`neardup scan | head`) is how the reader says it has seen
/// enough: not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Sizes the global thread pool, if asked to.
fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    Ok(())
}

fn scan_options(input: &args::InputArgs) -> ScanOptions {
    ScanOptions {
        fields: neardup::corpus::JsonlFields {
            text: input.text_field.clone(),
            id: input.id_field.clone(),
        },
        ..ScanOptions::default()
    }
}

fn print_timings(report: &Report) {
    let stages: Vec<String> = report
        .timings
        .iter()
        .map(|(stage, t)| format!("{stage} {:.2} s", t.as_secs_f64()))
        .collect();
    eprintln!("timings: {}", stages.join(", "));
}

fn scan(mut args: ScanArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    if args.top.is_some() && args.output_format == OutputFormat::Jsonl {
        anyhow::bail!("--top summarises in text or json; jsonl is one cluster per line");
    }
    let (shared, config_file) = shared_settings(&mut args, matches)?;
    set_threads(args.run.threads)?;
    // The report is never an input; nor is the configuration file.
    let own: Vec<&std::path::Path> = args
        .output
        .iter()
        .chain(&config_file)
        .map(|p| p.as_path())
        .collect();
    let (found, path_problems) =
        inputs::collect(&args.paths, shared.input_format, &shared.select, &own);
    let (inputs, origins): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    if let Err(message) = output::refuse_inputs(args.output.as_deref(), &args.paths, &origins) {
        eprintln!("error: {message}");
        return Ok(Status::Error);
    }
    print_problems(&path_problems);
    let bar = progress::Bar::new(!args.run.quiet);
    let mut report = pipeline::scan(&inputs, &shared.config, &shared.options, &bar)?;
    if shared.skip_bad_records {
        skip_bad_records(&mut report);
    }
    print_diagnostics(&report);
    report.diagnostics.splice(0..0, path_problems);
    if args.run.verbose {
        print_timings(&report);
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
    Ok(if errors {
        Status::Error
    } else if report.summary.duplicate_paragraphs > 0 {
        Status::Duplicates
    } else {
        Status::Clean
    })
}

/// Whether to colour standard output.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Prints the problems found with the paths given, before the scan.
fn print_problems(problems: &[neardup::Error]) {
    for p in problems {
        let label = if p.is_warning() { "warning" } else { "error" };
        eprintln!("{label}: {p}");
    }
}

/// Makes malformed records warnings: with `--skip-bad-records` they are
/// skipped (copied unchanged by `clean`) as asked, and do not make the
/// exit status 2.
fn skip_bad_records(report: &mut Report) {
    report.diagnostics = std::mem::take(&mut report.diagnostics)
        .into_iter()
        .map(|d| match d.kind() {
            neardup::ErrorKind::Record => d.into_warning(),
            _ => d,
        })
        .collect();
}

fn print_diagnostics(report: &Report) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for d in report.diagnostics.iter().take(MAX_DIAGNOSTICS) {
        let label = if d.is_warning() { "warning" } else { "error" };
        let _ = writeln!(err, "{label}: {d}");
    }
    if report.diagnostics.len() > MAX_DIAGNOSTICS {
        let _ = writeln!(
            err,
            "... and {} more problems with the input (see --output-format json for all)",
            report.diagnostics.len() - MAX_DIAGNOSTICS
        );
    }
}
