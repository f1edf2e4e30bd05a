//! The configuration file, `neardup.toml`, and the input selection every
//! command shares: `--config`, `--no-config`, `-g/--glob`, `--exclude`.
//!
//! Keys are the flags' names without the leading dashes, so the README's
//! option table documents both. Unknown keys are an error naming the key,
//! so a misspelt setting cannot silently not apply. Paths in the file are
//! relative to the file's directory; globs are matched against the input
//! paths as neardup shows them. Flags given on the command line win over
//! the file, the file over the defaults; globs from both apply.
//!
//! Every command reads `./neardup.toml` when there is one (and no
//! `--config`/`--no-config`): a project's scan, clean and check must agree
//! on what a duplicate is and which files are its corpus, and a `scan`
//! that silently disagreed with the project's `check` would be the worse
//! surprise. `-v` names the file read.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, anyhow};
use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use neardup::Config;
use neardup::allow::Allowlist;
use neardup::pipeline::ScanOptions;
use serde::Deserialize;

use super::args::{DetectArgs, InputArgs, InputFormat, SelectArgs};
use super::settings;

/// The configuration file looked for in the working directory.
pub const DEFAULT_FILE: &str = "neardup.toml";

/// The contents of a configuration file: the keys every command reads
/// (scan options, input selection, the allowlist) and `check`'s own
/// (paths, limits, baseline, cache, against, output), which the other commands
/// ignore. Every key is known to every command, so a misspelt key is an
/// error wherever the file is read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct File {
    pub paths: Option<Vec<PathBuf>>,
    #[serde(default)]
    pub glob: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub paragraphs: Option<String>,
    pub shingle: Option<String>,
    pub shingle_size: Option<usize>,
    pub min_words: Option<usize>,
    pub threshold: Option<Decimal>,
    pub num_perm: Option<usize>,
    pub bands: Option<usize>,
    pub rows: Option<usize>,
    pub scope: Option<String>,
    pub input_format: Option<String>,
    pub text_field: Option<String>,
    pub id_field: Option<String>,
    pub skip_bad_records: Option<bool>,
    pub max_duplicate_ratio: Option<Decimal>,
    pub max_clusters: Option<u64>,
    pub containment: Option<Decimal>,
    pub containment_words: Option<usize>,
    pub containment_cap: Option<u32>,
    pub max_contained: Option<u64>,
    pub baseline: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    pub against: Option<PathBuf>,
    pub output_format: Option<String>,
    pub max_annotations: Option<usize>,
    #[serde(default)]
    pub allow: Allow,
}

/// The `[allow]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// Paragraph texts, compared after normalisation.
    #[serde(default)]
    pub paragraphs: Vec<String>,
    /// Regular expressions matching whole paragraphs.
    #[serde(default)]
    pub patterns: Vec<String>,
}

/// A decimal written as a TOML number or string (`0.8` or `"0.8"`); kept as
/// text so that the threshold is parsed exactly.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Decimal {
    Number(f64),
    Text(String),
}

impl Decimal {
    pub fn text(&self) -> String {
        match self {
            // Rust prints the shortest text that reads back as the same
            // float, which for a number written in decimal is that decimal.
            Decimal::Number(n) => n.to_string(),
            Decimal::Text(s) => s.clone(),
        }
    }
}

/// Which inputs are read, by path: `-g GLOB` (and `glob` in the file)
/// reads only matching files when there is any, `-g '!GLOB'`,
/// `--exclude GLOB` (and `exclude`) leave matching files out, as ripgrep's
/// `-g` does.
#[derive(Debug, Default)]
pub struct Select {
    include: Globs,
    exclude: Globs,
}

impl Select {
    /// The selection of `globs` (`!` in front: an exclude) and `exclude`.
    pub fn new(globs: &[String], exclude: &[String]) -> anyhow::Result<Select> {
        let (negated, plain): (Vec<&String>, Vec<&String>) =
            globs.iter().partition(|g| g.starts_with('!'));
        let negated = negated.into_iter().map(|g| &g[1..]);
        Ok(Select {
            include: Globs::new(plain.into_iter().map(String::as_str))?,
            exclude: Globs::new(negated.chain(exclude.iter().map(String::as_str)))?,
        })
    }

    /// Whether the input shown as `path` is read.
    pub fn selects(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.is_match(path)) && !self.exclude.is_match(path)
    }
}

/// Globs matched as the README says.
#[derive(Debug, Default)]
struct Globs {
    /// Globs with a `/`, matched against the whole path.
    paths: GlobSet,
    /// Globs without one, matched against the file name.
    names: GlobSet,
}

impl Globs {
    fn new<'a>(globs: impl Iterator<Item = &'a str>) -> anyhow::Result<Globs> {
        let (mut paths, mut names) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for g in globs {
            let glob = GlobBuilder::new(g.trim_start_matches("./"))
                .literal_separator(true)
                .build()
                .with_context(|| format!("glob `{g}`"))?;
            if g.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        Ok(Globs {
            paths: paths.build()?,
            names: names.build()?,
        })
    }

    fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.names.is_empty()
    }

    fn is_match(&self, path: &str) -> bool {
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

/// A configuration file read (or none), and where it is.
#[derive(Debug, Default)]
pub struct Loaded {
    pub file: File,
    /// The file, if one was read.
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// The file `--config` names, else `./neardup.toml` if there is one,
    /// unless `--no-config`.
    pub fn read(args: &SelectArgs) -> anyhow::Result<Loaded> {
        let path = match (&args.config, args.no_config) {
            (Some(p), _) => Some(p.clone()),
            (None, false) if Path::new(DEFAULT_FILE).is_file() => Some(PathBuf::from(DEFAULT_FILE)),
            _ => None,
        };
        let file = match &path {
            Some(p) => read(p)?,
            None => File::default(),
        };
        Ok(Loaded { file, path })
    }

    /// A path from the file, made relative to the working directory.
    pub fn path_of(&self, p: &Path) -> PathBuf {
        let dir = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new(""));
        join(dir, p)
    }

    /// An error about a value in the file, naming the file.
    pub fn in_file(&self, e: anyhow::Error) -> anyhow::Error {
        match &self.path {
            Some(p) => e.context(p.display().to_string()),
            None => e,
        }
    }
}

/// What every command takes from the flags and the file: detection and
/// input settings, the allowlist, and which inputs are read. Validated.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub options: ScanOptions,
    pub input_format: InputFormat,
    /// Malformed records are warnings (`--skip-bad-records`).
    pub skip_bad_records: bool,
    pub select: Select,
}

impl Shared {
    /// Merges the file's shared sections into the flags (`detect` and
    /// `input` are updated, for code that reads them) and validates the
    /// result. `matches` tells flags given on the command line from
    /// defaults; `base` gives what neither sets.
    pub fn resolve(
        loaded: &Loaded,
        detect: &mut DetectArgs,
        input: &mut InputArgs,
        select: &SelectArgs,
        skip_bad_records: bool,
        matches: &ArgMatches,
        base: settings::Base<'_>,
    ) -> anyhow::Result<Shared> {
        let file = &loaded.file;
        let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        let in_file = |e| loaded.in_file(e);
        // Flags with a default value tell "given" from "defaulted" only
        // through `matches`; the others are `None` when not given.
        if let (false, Some(v)) = (given("paragraphs"), &file.paragraphs) {
            detect.paragraphs = choice("paragraphs", v).map_err(in_file)?;
        }
        if let (false, Some(v)) = (given("shingle"), &file.shingle) {
            detect.shingle = choice("shingle", v).map_err(in_file)?;
        }
        if let (false, Some(v)) = (given("scope"), &file.scope) {
            detect.scope = choice("scope", v).map_err(in_file)?;
        }
        if let settings::Base::Index(index) = base {
            let keyed = |id: &str| match id {
                "paragraphs" => file.paragraphs.is_some(),
                _ => file.shingle.is_some(),
            };
            settings::take_index_modes(detect, index, |id| given(id) || keyed(id));
        }
        detect.shingle_size = detect.shingle_size.or(file.shingle_size);
        detect.min_words = detect.min_words.or(file.min_words);
        detect.threshold = detect
            .threshold
            .take()
            .or(file.threshold.as_ref().map(Decimal::text));
        detect.num_perm = detect.num_perm.or(file.num_perm);
        detect.bands = detect.bands.or(file.bands);
        detect.rows = detect.rows.or(file.rows);
        if let (false, Some(v)) = (given("input_format"), &file.input_format) {
            input.input_format = choice("input-format", v).map_err(in_file)?;
        }
        if let (false, Some(v)) = (given("text_field"), &file.text_field) {
            input.text_field = v.clone();
        }
        if let (false, Some(v)) = (given("id_field"), &file.id_field) {
            input.id_field = v.clone();
        }

        let config = settings::config(detect, base)?;
        let mut options = scan_options(input);
        options.allowlist = Allowlist::new(&file.allow.paragraphs, &file.allow.patterns)
            .map_err(|e| in_file(e.into()))?;
        let globs: Vec<String> = file.glob.iter().chain(&select.glob).cloned().collect();
        let exclude: Vec<String> = file
            .exclude
            .iter()
            .chain(&select.exclude)
            .cloned()
            .collect();
        Ok(Shared {
            config,
            options,
            input_format: input.input_format,
            skip_bad_records: skip_bad_records || file.skip_bad_records == Some(true),
            select: Select::new(&globs, &exclude)?,
        })
    }
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
pub fn choice<E: ValueEnum>(key: &str, value: &str) -> anyhow::Result<E> {
    E::from_str(value, false).map_err(|_| {
        let names: Vec<String> = E::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .map(|p| p.get_name().to_owned())
            .collect();
        anyhow!("`{key}` must be one of {}, not `{value}`", names.join(", "))
    })
}

/// The library options the input flags set.
fn scan_options(input: &InputArgs) -> ScanOptions {
    ScanOptions {
        fields: neardup::corpus::JsonlFields {
            text: input.text_field.clone(),
            id: input.id_field.clone(),
        },
        // Compressed inputs are decoded once, not once per pass.
        scratch_dir: Some(std::env::temp_dir()),
        ..ScanOptions::default()
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
    fn globs_match_paths_or_names() {
        let ex = Select::new(
            &["!drafts/**".into()],
            &["*.bak".into(), "./notes/*.txt".into()],
        )
        .unwrap();
        for (path, read) in [
            ("drafts/a.txt", false),
            ("./drafts/sub/a.txt", false),
            ("corpus/drafts/a.txt", true),
            ("corpus/old.bak", false),
            ("notes/a.txt", false),
            ("notes/sub/a.txt", true),
            ("corpus/a.txt", true),
        ] {
            assert_eq!(ex.selects(path), read, "{path}");
        }
        // With an include glob, only what it matches (less the excludes).
        let only = Select::new(&["*.txt".into(), "!b.*".into()], &[]).unwrap();
        for (path, read) in [("a/a.txt", true), ("a/b.txt", false), ("a/a.ps", false)] {
            assert_eq!(only.selects(path), read, "{path}");
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
