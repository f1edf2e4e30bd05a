//! What the commands that read a corpus share: their settings (flags,
//! then the configuration file), the thread pool, the colour choice, and
//! how problems with the input are printed.

use std::io::{self, IsTerminal, Write};

use neardup::corpus::Input;
use neardup::pipeline;
use neardup::report::Report;

use super::args::{self, ColorChoice};
use super::{config, progress};

/// At most this many input problems are printed one by one; the rest are
/// counted.
const MAX_DIAGNOSTICS: usize = 50;

/// The flags of a command that reads a corpus with the shared settings.
pub trait CorpusArgs {
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
        impl $crate::cli::shared::CorpusArgs for $command {
            fn parts(
                &mut self,
            ) -> (
                &mut $crate::cli::args::DetectArgs,
                &mut $crate::cli::args::InputArgs,
                &$crate::cli::args::SelectArgs,
                bool,
                bool,
            ) {
                let verbose = self.run.verbose;
                (&mut self.detect, &mut self.input, &self.select, self.skip_bad_records, verbose)
            }
        }
    )*};
}
corpus_args!(args::ScanArgs, args::CleanArgs);
pub(crate) use corpus_args;

/// The shared settings of `scan` and `clean` (`check` adds its own):
/// flags, then the configuration file, validated; with `-v`, names the
/// file read. Also returns the file's path. `base` gives the settings
/// neither sets (an index's, for a run against it).
pub fn shared_settings(
    args: &mut impl CorpusArgs,
    matches: &clap::ArgMatches,
    base: super::settings::Base<'_>,
) -> anyhow::Result<(config::Shared, Option<std::path::PathBuf>)> {
    let (detect, input, select, skip_bad_records, verbose) = args.parts();
    let loaded = config::Loaded::read(select)?;
    if verbose && let Some(path) = &loaded.path {
        eprintln!("configuration: {}", path.display());
    }
    let shared = config::Shared::resolve(
        &loaded,
        detect,
        input,
        select,
        skip_bad_records,
        matches,
        base,
    )?;
    Ok((shared, loaded.path))
}

/// Sizes the global thread pool, if asked to.
pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(
                neardup::pipeline::thread_count(n)
                    .map_err(|e| anyhow::anyhow!("-j/--threads: {}", e.message()))?,
            )
            .build_global()?;
    }
    Ok(())
}

pub fn print_timings(report: &Report) {
    let stages: Vec<String> = report
        .timings
        .iter()
        .map(|(stage, t)| format!("{stage} {:.2} s", t.as_secs_f64()))
        .collect();
    eprintln!(
        "timings: {}; {} exact similarities computed",
        stages.join(", "),
        report.summary.comparisons
    );
}

/// Whether to colour standard output.
pub fn use_color(choice: ColorChoice) -> bool {
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
pub fn print_problems(problems: &[neardup::Error]) {
    for p in problems {
        let label = if p.is_warning() { "warning" } else { "error" };
        eprintln!("{label}: {p}");
    }
}

/// Makes malformed records warnings: with `--skip-bad-records` they are
/// skipped (copied unchanged by `clean`) as asked, and do not make the
/// exit status 2.
pub fn skip_bad_records(report: &mut Report) {
    report.diagnostics = std::mem::take(&mut report.diagnostics)
        .into_iter()
        .map(|d| match d.kind() {
            neardup::ErrorKind::Record => d.into_warning(),
            _ => d,
        })
        .collect();
}

pub fn print_diagnostics(report: &Report) {
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

/// Scans `inputs` with the shared settings, as `scan` and `clean` do: the
/// progress bar unless `-q`, malformed records made warnings with
/// `--skip-bad-records`, the input's problems printed, the path problems
/// (already printed) put first in the report's diagnostics, the timings
/// with `-v`.
pub fn scan_corpus(
    inputs: &[Input],
    shared: &config::Shared,
    run: &args::RunArgs,
    path_problems: Vec<neardup::Error>,
    extras: pipeline::Extras<'_>,
) -> anyhow::Result<Report> {
    let bar = progress::Bar::new(!run.quiet);
    let mut report = pipeline::scan_with(inputs, &shared.config, &shared.options, &bar, extras)?;
    finish_report(&mut report, shared, run, path_problems);
    Ok(report)
}

/// What [`scan_corpus`] does after the scan, for a report made another
/// way (an index add): malformed records made warnings with
/// `--skip-bad-records`, the input's problems printed, the path problems
/// put first, the timings with `-v`.
pub fn finish_report(
    report: &mut Report,
    shared: &config::Shared,
    run: &args::RunArgs,
    path_problems: Vec<neardup::Error>,
) {
    if shared.skip_bad_records {
        skip_bad_records(report);
    }
    print_diagnostics(report);
    report.diagnostics.splice(0..0, path_problems);
    if run.verbose {
        print_timings(report);
    }
}

/// The containment search `args` ask for (`--containment[=T]`), or, with
/// `force` (clean's `--remove contained`), at the default threshold when
/// none is given; `None` when it is off.
pub fn containment_settings(
    args: &super::args::ContainmentArgs,
    force: bool,
) -> anyhow::Result<Option<neardup::containment::find::Settings>> {
    let threshold = match (&args.threshold, force) {
        (Some(t), _) => t.as_str(),
        (None, true) => "0.8",
        (None, false) => return Ok(None),
    };
    let threshold: neardup::Threshold = threshold.parse()?;
    if args.cap < 2 {
        anyhow::bail!(
            "the containment cap is at least 2 (paragraphs sharing a fingerprint), not {}",
            args.cap
        );
    }
    Ok(Some(neardup::containment::find::Settings {
        threshold: (threshold.numerator(), threshold.denominator()),
        min_words: args.words,
        cap: args.cap as usize,
    }))
}
