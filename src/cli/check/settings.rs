//! `neardup.toml` and the flags, merged into one validated set of check
//! settings. Flags win over the file, the file over the defaults.
//!
//! Keys are the flags' names without the leading dashes, so the README's
//! option table documents both. Unknown keys are an error naming the key, so
//! a misspelt limit cannot silently not apply. Paths in the file (`paths`,
//! `baseline`, `cache`) are relative to the file's directory; `exclude`
//! globs are matched against the input paths as neardup shows them.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use neardup::Config;
use neardup::allow::Allowlist;
use neardup::pipeline::ScanOptions;
use serde::Deserialize;

use super::args::{CheckArgs, CheckFormat};
use crate::cli::args::InputFormat;
use crate::cli::{scan_options, settings};

/// The configuration file looked for in the working directory.
pub const DEFAULT_FILE: &str = "neardup.toml";

/// The contents of a configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    paths: Option<Vec<PathBuf>>,
    #[serde(default)]
    exclude: Vec<String>,
    paragraphs: Option<String>,
    shingle: Option<String>,
    shingle_size: Option<usize>,
    min_words: Option<usize>,
    threshold: Option<Decimal>,
    num_perm: Option<usize>,
    bands: Option<usize>,
    rows: Option<usize>,
    scope: Option<String>,
    input_format: Option<String>,
    text_field: Option<String>,
    id_field: Option<String>,
    skip_bad_records: Option<bool>,
    max_duplicate_ratio: Option<Decimal>,
    max_clusters: Option<u64>,
    baseline: Option<PathBuf>,
    cache: Option<PathBuf>,
    output_format: Option<String>,
    max_annotations: Option<usize>,
    #[serde(default)]
    allow: Allow,
}

/// The `[allow]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allow {
    /// Paragraph texts, compared after normalisation.
    #[serde(default)]
    paragraphs: Vec<String>,
    /// Regular expressions matching whole paragraphs.
    #[serde(default)]
    patterns: Vec<String>,
}

/// A decimal written as a TOML number or string (`0.8` or `"0.8"`); kept as
/// text so that the threshold is parsed exactly.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Decimal {
    Number(f64),
    Text(String),
}

impl Decimal {
    fn text(&self) -> String {
        match self {
            // Rust prints the shortest text that reads back as the same
            // float, which for a number written in decimal is that decimal.
            Decimal::Number(n) => n.to_string(),
            Decimal::Text(s) => s.clone(),
        }
    }
}

/// When a check fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Highest allowed duplicate paragraphs / paragraphs.
    pub max_duplicate_ratio: Option<f64>,
    /// Highest allowed number of clusters.
    pub max_clusters: Option<u64>,
}

/// Inputs left out by path.
#[derive(Debug, Default)]
pub struct Exclude {
    /// Globs with a `/`, matched against the whole path.
    paths: GlobSet,
    /// Globs without one, matched against the file name.
    names: GlobSet,
}

impl Exclude {
    fn new(globs: &[String]) -> anyhow::Result<Exclude> {
        let (mut paths, mut names) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for g in globs {
            let glob = GlobBuilder::new(g.trim_start_matches("./"))
                .literal_separator(true)
                .build()
                .with_context(|| format!("`exclude` glob `{g}`"))?;
            if g.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        Ok(Exclude {
            paths: paths.build()?,
            names: names.build()?,
        })
    }

    /// Whether the input shown as `path` is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let path = display_path(path);
        let name = path.rsplit('/').next().unwrap_or(&path);
        self.paths.is_match(path.as_str()) || self.names.is_match(name)
    }
}

/// `path` with `/` separators and without `./` components, the form in
/// which paths are matched and stored in baselines.
pub fn display_path(path: &str) -> String {
    let path = if cfg!(windows) {
        path.replace('\\', "/")
    } else {
        path.to_owned()
    };
    let parts: Vec<&str> = path.split('/').filter(|p| *p != ".").collect();
    let joined = parts.join("/");
    if joined.is_empty() && !path.is_empty() {
        ".".to_owned()
    } else if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
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
    pub exclude: Exclude,
    pub limits: Limits,
    pub baseline: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    pub format: CheckFormat,
    pub max_annotations: usize,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
}

/// Merges the configuration file (if any) into the flags and validates the
/// result. `matches` tells flags given on the command line from defaults.
pub fn resolve(mut args: CheckArgs, matches: &ArgMatches) -> anyhow::Result<(Settings, CheckArgs)> {
    let path = match (&args.config, args.no_config) {
        (Some(p), _) => Some(p.clone()),
        (None, false) if Path::new(DEFAULT_FILE).is_file() => Some(PathBuf::from(DEFAULT_FILE)),
        _ => None,
    };
    let file = match &path {
        Some(p) => read(p)?,
        None => File::default(),
    };
    let dir = path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let from_file = |p: &PathBuf| join(&dir, p);
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let name = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let in_file = |e: anyhow::Error| e.context(name.clone());

    // Flags with a default value tell "given" from "defaulted" only through
    // `matches`; the others are `None` when not given.
    let d = &mut args.detect;
    if let (false, Some(v)) = (given("paragraphs"), &file.paragraphs) {
        d.paragraphs = choice("paragraphs", v).map_err(in_file)?;
    }
    if let (false, Some(v)) = (given("shingle"), &file.shingle) {
        d.shingle = choice("shingle", v).map_err(in_file)?;
    }
    if let (false, Some(v)) = (given("scope"), &file.scope) {
        d.scope = choice("scope", v).map_err(in_file)?;
    }
    d.shingle_size = d.shingle_size.or(file.shingle_size);
    d.min_words = d.min_words.or(file.min_words);
    d.threshold = d
        .threshold
        .take()
        .or(file.threshold.as_ref().map(Decimal::text));
    d.num_perm = d.num_perm.or(file.num_perm);
    d.bands = d.bands.or(file.bands);
    d.rows = d.rows.or(file.rows);
    let i = &mut args.input;
    if let (false, Some(v)) = (given("input_format"), &file.input_format) {
        i.input_format = choice("input-format", v).map_err(in_file)?;
    }
    if let (false, Some(v)) = (given("text_field"), &file.text_field) {
        i.text_field = v.clone();
    }
    if let (false, Some(v)) = (given("id_field"), &file.id_field) {
        i.id_field = v.clone();
    }
    let format = match (given("output_format"), &file.output_format) {
        (false, Some(v)) => choice("output-format", v).map_err(in_file)?,
        _ => args.output_format,
    };
    let max_annotations = match (given("max_annotations"), file.max_annotations) {
        (false, Some(n)) => n,
        _ => args.max_annotations,
    };

    let config = settings::config(&args.detect)?;
    let mut options = scan_options(&args.input);
    options.allowlist = Allowlist::new(&file.allow.paragraphs, &file.allow.patterns)
        .map_err(|e| in_file(e.into()))?;

    let ratio = match (&args.max_duplicate_ratio, &file.max_duplicate_ratio) {
        (Some(r), _) => Some(ratio(r)?),
        (None, Some(r)) => Some(ratio(&r.text()).map_err(in_file)?),
        (None, None) => None,
    };
    let clusters = args.max_clusters.or(file.max_clusters);
    let limits = Limits {
        max_duplicate_ratio: match (ratio, clusters) {
            (None, None) => Some(0.0),
            _ => ratio,
        },
        max_clusters: clusters,
    };

    let paths = if args.paths.is_empty() {
        file.paths.iter().flatten().map(from_file).collect()
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
        config,
        options,
        input_format: args.input.input_format,
        skip_bad_records: args.skip_bad_records || file.skip_bad_records == Some(true),
        paths,
        exclude: Exclude::new(&file.exclude).map_err(in_file)?,
        limits,
        baseline: args
            .baseline
            .clone()
            .or(file.baseline.as_ref().map(from_file)),
        cache: args.cache.clone().or(file.cache.as_ref().map(from_file)),
        format,
        max_annotations,
        file: path,
    };
    Ok((settings, args))
}

/// `dir` joined with `path`, with `..` taken back lexically where `dir`
/// has a name to take back (`ci` + `../corpus` is `corpus`), so that paths
/// from the file read as the user would write them.
fn join(dir: &Path, path: &Path) -> PathBuf {
    let mut out = dir.to_path_buf();
    for c in path.components() {
        match c {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn read(path: &Path) -> anyhow::Result<File> {
    let text = fs::read_to_string(path).with_context(|| path.display().to_string())?;
    toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// `value` as one of the choices of a flag.
fn choice<E: ValueEnum>(key: &str, value: &str) -> anyhow::Result<E> {
    E::from_str(value, false).map_err(|_| {
        let names: Vec<String> = E::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .map(|p| p.get_name().to_owned())
            .collect();
        anyhow!("`{key}` must be one of {}, not `{value}`", names.join(", "))
    })
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

    fn parse(text: &str) -> Result<File, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("threshold = 0.9\nmax-duplicates = 3\n").unwrap_err();
        assert!(err.contains("max-duplicates"), "{err}");
        let err = parse("[allow]\nparagraph = [\"x\"]\n").unwrap_err();
        assert!(err.contains("paragraph"), "{err}");
    }

    #[test]
    fn decimals_may_be_numbers_or_text() {
        let f = parse("threshold = 0.85\nmax-duplicate-ratio = \"0.01\"\n").unwrap();
        assert_eq!(f.threshold.unwrap().text(), "0.85");
        assert_eq!(f.max_duplicate_ratio.unwrap().text(), "0.01");
        assert_eq!(
            parse("threshold = 1\n").unwrap().threshold.unwrap().text(),
            "1"
        );
    }

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

    #[test]
    fn excludes_match_paths_or_names() {
        let ex =
            Exclude::new(&["drafts/**".into(), "*.bak".into(), "./notes/*.txt".into()]).unwrap();
        for (path, excluded) in [
            ("drafts/a.txt", true),
            ("./drafts/sub/a.txt", true),
            ("corpus/drafts/a.txt", false),
            ("corpus/old.bak", true),
            ("notes/a.txt", true),
            ("notes/sub/a.txt", false),
            ("corpus/a.txt", false),
        ] {
            assert_eq!(ex.excludes(path), excluded, "{path}");
        }
    }

    #[test]
    fn file_paths_are_relative_to_the_file() {
        let j = |d: &str, p: &str| join(Path::new(d), Path::new(p)).display().to_string();
        assert_eq!(j("ci", "../corpus"), "corpus");
        assert_eq!(j("", "corpus"), "corpus");
        assert_eq!(j("", "../corpus"), "../corpus");
        assert_eq!(j("a/b", "../../../c"), "../c");
        assert_eq!(j("ci", "/abs/c"), "/abs/c");
    }

    #[test]
    fn display_paths_drop_dot_components() {
        assert_eq!(display_path("./a/./b.txt"), "a/b.txt");
        assert_eq!(display_path("../x/b.txt"), "../x/b.txt");
        assert_eq!(display_path("/abs/./b"), "/abs/b");
    }
}
