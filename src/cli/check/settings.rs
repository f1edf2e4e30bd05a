//! `check`'s settings: the shared ones ([`crate::cli::config`]) and its
//! own keys of `neardup.toml` (paths, limits, baseline, cache, output)
//! merged with its flags into one validated set. Flags win over the file,
//! the file over the defaults. Paths in the file (`paths`, `baseline`,
//! `cache`) are relative to the file's directory.

use std::path::PathBuf;

use anyhow::bail;
use clap::ArgMatches;
use clap::parser::ValueSource;
use neardup::Config;
use neardup::pipeline::ScanOptions;

use super::args::{CheckArgs, CheckFormat};
use crate::cli::args::InputFormat;
pub use crate::cli::config::display_path;
use crate::cli::config::{DEFAULT_FILE, Loaded, Select, Shared, choice};
use crate::cli::settings::{self, Base};

/// When a check fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Highest allowed duplicate paragraphs / paragraphs.
    pub max_duplicate_ratio: Option<f64>,
    /// Highest allowed number of clusters.
    pub max_clusters: Option<u64>,
    /// Highest allowed number of containment findings (with containment
    /// on).
    pub max_contained: Option<u64>,
}

/// Everything a check run needs to know, validated.
#[derive(Debug)]
pub struct Settings {
    pub config: Config,
    pub options: ScanOptions,
    pub input_format: InputFormat,
    /// Malformed records are warnings (`--skip-bad-records`).
    pub skip_bad_records: bool,
    pub paths: Vec<PathBuf>,
    pub select: Select,
    pub limits: Limits,
    pub baseline: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    /// An index to check against (`--against`).
    pub against: Option<PathBuf>,
    pub format: CheckFormat,
    pub max_annotations: usize,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
}

/// Merges the configuration file (if any) into the flags and validates the
/// result. `matches` tells flags given on the command line from defaults.
pub fn resolve(mut args: CheckArgs, matches: &ArgMatches) -> anyhow::Result<(Settings, CheckArgs)> {
    let loaded = Loaded::read(&args.select)?;
    let against = args
        .against
        .clone()
        .or(loaded.file.against.as_ref().map(|p| loaded.path_of(p)));
    let index = settings::against(against.as_deref())?;
    let shared = Shared::resolve(
        &loaded,
        &mut args.detect,
        &mut args.input,
        &args.select,
        args.skip_bad_records,
        matches,
        Base::or_defaults(index.as_ref()),
    )?;
    let file = &loaded.file;
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let in_file = |e| loaded.in_file(e);
    let format = match (given("output_format"), &file.output_format) {
        (false, Some(v)) => choice("output-format", v).map_err(in_file)?,
        _ => args.output_format,
    };
    let max_annotations = match (given("max_annotations"), file.max_annotations) {
        (false, Some(n)) => n,
        _ => args.max_annotations,
    };

    let ratio = match (&args.max_duplicate_ratio, &file.max_duplicate_ratio) {
        (Some(r), _) => Some(ratio(r)?),
        (None, Some(r)) => Some(ratio(&r.text()).map_err(in_file)?),
        (None, None) => None,
    };
    let clusters = args.max_clusters.or(file.max_clusters);
    // Containment: the flags, else the file's keys.
    let threshold_from_file = args.containment.threshold.is_none() && file.containment.is_some();
    if let (true, Some(t)) = (threshold_from_file, &file.containment) {
        args.containment.threshold = Some(t.text());
    }
    if !given("containment_words")
        && let Some(n) = file.containment_words
    {
        args.containment.words = n;
    }
    if !given("containment_cap")
        && let Some(n) = file.containment_cap
    {
        args.containment.cap = n;
    }
    let max_contained = args.max_contained.or(file.max_contained);
    let mut options = shared.options;
    options.containment = crate::cli::shared::containment_settings(&args.containment, false)
        .map_err(|e| if threshold_from_file { in_file(e) } else { e })?;
    if max_contained.is_some() && options.containment.is_none() {
        bail!("--max-contained limits containment findings: add --containment");
    }
    let limits = Limits {
        max_duplicate_ratio: match (ratio, clusters) {
            (None, None) => Some(0.0),
            _ => ratio,
        },
        max_clusters: clusters,
        max_contained: options.containment.map(|_| max_contained.unwrap_or(0)),
    };

    let paths = if args.paths.is_empty() {
        file.paths
            .iter()
            .flatten()
            .map(|p| loaded.path_of(p))
            .collect()
    } else {
        args.paths.clone()
    };
    if paths.is_empty() {
        bail!(
            "no paths to check: give them on the command line (`-` for standard input) \
             or as `paths` in {DEFAULT_FILE}"
        );
    }
    let settings = Settings {
        config: shared.config,
        options,
        input_format: shared.input_format,
        skip_bad_records: shared.skip_bad_records,
        paths,
        select: shared.select,
        limits,
        baseline: args
            .baseline
            .clone()
            .or(file.baseline.as_ref().map(|p| loaded.path_of(p))),
        cache: args
            .cache
            .clone()
            .or(file.cache.as_ref().map(|p| loaded.path_of(p))),
        against,
        format,
        max_annotations,
        file: loaded.path,
    };
    Ok((settings, args))
}

fn ratio(text: &str) -> anyhow::Result<f64> {
    match text.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => bail!("`max-duplicate-ratio` must be a decimal between 0 and 1, not `{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_list_the_allowed_values() {
        let err = choice::<crate::cli::args::ScopeArg>("scope", "both").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`scope` must be one of all, within, not `both`"
        );
    }

    #[test]
    fn ratios_are_between_zero_and_one() {
        assert_eq!(ratio("0.05").unwrap(), 0.05);
        assert!(ratio("1.5").is_err());
        assert!(ratio("-0").is_ok());
        assert!(ratio("NaN").is_err());
        assert!(ratio("a lot").is_err());
    }
}
