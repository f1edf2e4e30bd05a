//! The baseline file: the duplicates a corpus is known to have, so that a
//! check fails only on new ones.
//!
//! A baseline does not store line numbers, which change with every edit
//! above a paragraph. It stores *occurrences*: every paragraph that takes
//! part in a cluster (the kept one and its duplicates), as its content
//! fingerprint (the paragraph's content hash, stable across machines and
//! releases with the same fingerprint version), the path it is in, and how
//! many times that fingerprint occurs in clusters in that file. The text is
//! stored only for people reading the file.
//!
//! Matching a new report against it, in input order:
//!
//! 1. an occurrence matches an unused entry count with its fingerprint and
//!    path;
//! 2. what is left matches an entry with its fingerprint whose path is not
//!    an input any more (the file was moved or renamed);
//! 3. entry counts still unused are *fixed*: those duplicates are gone.
//!
//! So reordering files, moving paragraphs inside a file and renaming a
//! file keep the baseline valid, while a new copy of a known paragraph in
//! another file, or a third copy in the same file, is new. Which member of
//! a cluster is kept depends on the input order, so occurrences, not
//! kept/duplicate pairs, are what is matched.
//!
//! The file is JSON, written sorted by path and fingerprint so that it
//! diffs well under version control (format in the README).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use neardup::Config;
use neardup::normalize::TokenKind;
use neardup::paragraph::ParagraphMode;
use neardup::report::{Member, Report};
use serde::{Deserialize, Serialize};

use super::settings::display_path;

/// Version of the baseline file format.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct File {
    /// The baseline format version; first, so that it is seen first.
    neardup_baseline: u32,
    /// The fingerprint definition the entries were computed with.
    fingerprint_version: u32,
    settings: FileSettings,
    entries: Vec<Entry>,
}

/// The settings a baseline was written with. `paragraphs` and `shingle`
/// change what the fingerprints are of; the rest only which paragraphs are
/// duplicates, and are recorded for people.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct FileSettings {
    paragraphs: String,
    shingle: String,
    shingle_size: usize,
    min_words: usize,
    threshold: String,
    scope: String,
}

impl FileSettings {
    fn new(config: &Config) -> FileSettings {
        FileSettings {
            paragraphs: match config.paragraphs() {
                ParagraphMode::Line => "line",
                ParagraphMode::BlankLine => "blank-line",
            }
            .to_owned(),
            shingle: match config.tokens() {
                TokenKind::Words => "words",
                TokenKind::Chars => "chars",
            }
            .to_owned(),
            shingle_size: config.shingle_size(),
            min_words: config.min_words(),
            threshold: config.threshold().to_string(),
            scope: config.scope().as_str().to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// The content hash, as 16 hexadecimal digits.
    fingerprint: String,
    path: String,
    count: u32,
    /// The start of the paragraph's text, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    text: String,
}

/// Occurrences of a baseline that matched nothing: duplicates that are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    pub fingerprint: u64,
    pub path: String,
    pub count: u32,
    pub text: String,
}

/// A baseline read from a file.
#[derive(Debug)]
pub struct Baseline {
    /// (fingerprint, path) -> (count, text).
    entries: BTreeMap<(u64, String), (u32, String)>,
}

/// Which cluster members a baseline already knows, and what it knows that
/// is gone.
#[derive(Debug, Default)]
pub struct Known {
    /// Per cluster of the report, per member (the kept paragraph first).
    pub members: Vec<Vec<bool>>,
    /// Empty when the run could not see every occurrence (changed files
    /// only).
    pub fixed: Vec<Fixed>,
}

impl Baseline {
    /// Reads a baseline written with settings compatible with `config`.
    pub fn read(path: &Path, config: &Config) -> anyhow::Result<Baseline> {
        let text = fs::read_to_string(path).with_context(|| {
            format!(
                "{}: cannot read the baseline (create it with --write-baseline)",
                path.display()
            )
        })?;
        let file: File = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a neardup baseline", path.display()))?;
        let name = path.display();
        if file.neardup_baseline != FORMAT_VERSION {
            bail!(
                "{name}: baseline format {} is not supported (this neardup reads format {FORMAT_VERSION})",
                file.neardup_baseline
            );
        }
        let rewrite = "write a new one with --write-baseline";
        if file.fingerprint_version != neardup::hash::FORMAT_VERSION {
            bail!(
                "{name}: the baseline's fingerprints are version {}, this neardup computes version {}; {rewrite}",
                file.fingerprint_version,
                neardup::hash::FORMAT_VERSION
            );
        }
        let now = FileSettings::new(config);
        for (key, then, now) in [
            ("paragraphs", &file.settings.paragraphs, &now.paragraphs),
            ("shingle", &file.settings.shingle, &now.shingle),
        ] {
            if then != now {
                bail!(
                    "{name}: the baseline was written with --{key} {then}, this run uses --{key} {now}; {rewrite}"
                );
            }
        }
        let mut entries = BTreeMap::new();
        for (i, e) in file.entries.into_iter().enumerate() {
            let Ok(fingerprint) = u64::from_str_radix(&e.fingerprint, 16) else {
                bail!(
                    "{name}: entry {}: fingerprint `{}` is not 16 hexadecimal digits",
                    i + 1,
                    e.fingerprint
                );
            };
            let slot = entries
                .entry((fingerprint, display_path(&e.path)))
                .or_insert((0, e.text));
            slot.0 += e.count;
        }
        Ok(Baseline { entries })
    }

    /// Matches the occurrences in `report` (see the module documentation).
    /// `inputs` are the paths of every input of the run; members of the
    /// first `reference` inputs are known without using an entry. Unless
    /// the report is `complete` (it saw every occurrence), nothing is
    /// reported as fixed.
    pub fn known(
        &self,
        report: &Report,
        inputs: &HashSet<String>,
        reference: usize,
        complete: bool,
    ) -> Known {
        let mut left: HashMap<(u64, &str), u32> = self
            .entries
            .iter()
            .map(|((f, p), (count, _))| ((*f, p.as_str()), *count))
            .collect();
        let mut known: Vec<Vec<bool>> = report
            .clusters
            .iter()
            .map(|c| vec![false; 1 + c.duplicates.len()])
            .collect();
        // Every occurrence, in input order.
        let mut order: Vec<(&Member, usize, usize)> = Vec::new();
        for (ci, c) in report.clusters.iter().enumerate() {
            order.push((&c.kept, ci, 0));
            for (di, d) in c.duplicates.iter().enumerate() {
                order.push((&d.member, ci, di + 1));
            }
        }
        order.sort_by_key(|(m, _, _)| (m.location.doc_index, m.location.paragraph));
        let paths: Vec<String> = order
            .iter()
            .map(|(m, _, _)| display_path(&m.location.path))
            .collect();
        let mut unmatched = Vec::new();
        for (&(m, ci, mi), path) in order.iter().zip(&paths) {
            // Reference members are not under test: known without an entry.
            if m.location.input.index() < reference || take(&mut left, (m.content, path)) {
                known[ci][mi] = true;
            } else {
                unmatched.push((m.content, ci, mi));
            }
        }
        // Entries of files that are no longer inputs, by fingerprint.
        let mut moved: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
        for (f, p) in self.entries.keys() {
            if !inputs.contains(p) {
                moved.entry(*f).or_default().push(p);
            }
        }
        for (content, ci, mi) in unmatched {
            if let Some(paths) = moved.get(&content)
                && let Some(p) = paths.iter().find(|p| left[&(content, **p)] > 0)
            {
                take(&mut left, (content, p));
                known[ci][mi] = true;
            }
        }
        let fixed = if !complete {
            Vec::new()
        } else {
            self.entries
                .iter()
                .filter_map(|((f, p), (_, text))| {
                    let count = left[&(*f, p.as_str())];
                    (count > 0).then(|| Fixed {
                        fingerprint: *f,
                        path: p.clone(),
                        count,
                        text: text.clone(),
                    })
                })
                .collect()
        };
        Known {
            members: known,
            fixed,
        }
    }
}

/// Whether `path` holds a neardup baseline (of any format version).
pub fn is_baseline(path: &Path) -> bool {
    fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| {
            v.get("neardup_baseline")
                .is_some_and(serde_json::Value::is_u64)
        })
}

/// Uses one count of `key`, if there is one left.
fn take<'a>(left: &mut HashMap<(u64, &'a str), u32>, key: (u64, &'a str)) -> bool {
    match left.get_mut(&key) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}

/// The baseline of `report`: every cluster member, counted by fingerprint
/// and path. Returns the number of occurrences recorded.
pub fn write(path: &Path, report: &Report) -> anyhow::Result<u64> {
    let mut counts: BTreeMap<(String, u64), (u32, String)> = BTreeMap::new();
    let mut texts: HashMap<u64, &str> = HashMap::new();
    let mut total = 0;
    for c in &report.clusters {
        let members = std::iter::once(&c.kept).chain(c.duplicates.iter().map(|d| &d.member));
        for m in members {
            let slot = counts
                .entry((display_path(&m.location.path), m.content))
                .or_default();
            slot.0 += 1;
            total += 1;
            if !m.snippet.is_empty() {
                texts.entry(m.content).or_insert(&m.snippet);
            }
        }
    }
    let entries = counts
        .into_iter()
        .map(|((path, f), (count, _))| Entry {
            fingerprint: format!("{f:016x}"),
            path,
            count,
            text: texts.get(&f).map(|t| t.to_string()).unwrap_or_default(),
        })
        .collect();
    let file = File {
        neardup_baseline: FORMAT_VERSION,
        fingerprint_version: neardup::hash::FORMAT_VERSION,
        settings: FileSettings::new(&report.config),
        entries,
    };
    let mut json = serde_json::to_string_pretty(&file)?;
    json.push('\n');
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot create a file beside it", path.display()))?;
    let _tracked = crate::cli::interrupt::track(tmp.path().to_path_buf());
    tmp.write_all(json.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| path.display().to_string())?;
    Ok(total)
}
