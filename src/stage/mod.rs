//! Stage files: a scan's first pass, grouping and verification split
//! across machines.
//!
//! Fingerprinting is most of a scan's time and needs nothing but the input
//! itself, so it is the stage that spreads first: the inputs, in the
//! scan's order, are cut into shards ([`shard`]), and any machine — a Ray
//! task, a Slurm array job, a Kubernetes indexed job — fingerprints one
//! shard ([`fingerprint_shard`]), writing one stage file per input and the
//! shard's band keys in a key file ([`keys`]) into a shared directory.
//! Then, optionally, the group stage ([`group`]): each part of the band
//! keys, on any machine, finds the candidate groups in its part of every
//! key file. The last stage is an ordinary scan that takes the first
//! pass's results from the stage files ([`StageFiles`], a [`PrintCache`])
//! instead of reading the inputs, and the groups from the group files (or
//! the keys from the key files, band by band), then verifies (reading
//! again only the documents that hold candidates): its report is byte for
//! byte the report of a scan on one machine, for any number of shards,
//! parts and workers, because it is the same code on the same first-pass
//! results and the same groups.
//!
//! A stage file is an index container file (`index::file`: checksummed,
//! written under a temporary name, synced and renamed, so a worker killed
//! mid-write leaves no file under a final name, and a retried task just
//! writes it again) of kind `PRNT`: a `META` section (the print settings
//! key u64, the input's size u64, and 1 if a print follows, 0 if the input
//! had problems and the last stage must read it itself) and a `PRINT`
//! section ([`crate::pipeline::print`]'s encoding, without band keys: they
//! are in the key file). The last stage refuses a missing or damaged stage
//! file, one made with other settings, or one of an input whose size
//! changed since, naming the file; likewise key and group files.
//!
//! Without more, the last stage still holds, per paragraph of the whole
//! corpus, its place, content hash and plan (no band keys), and the
//! verification and report, in one process. The verification spreads
//! too: the components stage ([`components`]) deals the candidate groups'
//! components to parts, each shard reads its candidates again and each
//! part verifies its components ([`verdicts`]); the last stage then only
//! sums the shards' counts and merges the parts' verdicts, holding the
//! duplicates and the kept paragraphs they repeat. No process then holds
//! every paragraph: the components stage holds the candidates' slots, a
//! shard its own first pass, a part its components.

pub mod components;
pub mod group;
pub mod keys;
pub mod star;
pub mod verdicts;

use std::path::{Path, PathBuf};

use crate::corpus::Input;
use crate::index::file::{FileWriter, IndexFile};
use crate::pipeline::print::{PrintCache, settings_key};
use crate::pipeline::{BandKeys, Grouping, Progress, ScanOptions, fingerprint_only};
use crate::report::Report;
use crate::{Config, Error};

/// The file kind of a stage file.
pub const KIND: [u8; 4] = *b"PRNT";
const META: [u8; 8] = *b"META\0\0\0\0";
const PRINT: [u8; 8] = *b"PRINT\0\0\0";

/// Writes an index container of `kind` with `sections` to `dir/name`,
/// replacing a file of that name (one a killed attempt wrote). Returns
/// its length.
pub(crate) fn write_sections(
    dir: &Path,
    name: &str,
    kind: [u8; 4],
    sections: &[([u8; 8], &[u8])],
) -> Result<u64, Error> {
    let path = dir.join(name);
    let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
    let mut w = FileWriter::create(dir, name, kind).map_err(io)?.replacing();
    for &(tag, bytes) in sections {
        use std::io::Write;
        let mut s = w.section(tag);
        s.write_all(bytes).map_err(io)?;
        s.finish().map_err(io)?;
    }
    Ok(w.finish().map_err(io)?.len)
}

/// The files in `dir` whose names start with `prefix` and end with
/// `suffix`, sorted by name.
pub(crate) fn files_named(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<PathBuf>, Error> {
    let listing = std::fs::read_dir(dir)
        .map_err(|e| Error::index(format!("reading {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .map(|e| e.path())
        .collect();
    paths.sort();
    Ok(paths)
}

/// A stage file's `META` section, read by offset.
pub(crate) struct Meta(Vec<u8>);

impl Meta {
    pub(crate) fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("in bounds"))
    }

    pub(crate) fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.0[at..at + 8].try_into().expect("in bounds"))
    }
}

/// A section of `file`, whole.
pub(crate) fn whole(file: &IndexFile, tag: [u8; 8]) -> Result<Vec<u8>, Error> {
    let s = file.section(tag)?;
    s.read_range(0..s.len())
}

/// Opens the stage file `path` (a `what`, of `kind`), every checksum
/// checked when `verify`, and its `META` section: `len` bytes, starting
/// with `version` (u32). A missing file is an error saying `missing`
/// (what to run); a file of another version says to run `stage` again.
pub(crate) fn open_stage_file(
    path: &Path,
    (kind, what, version): ([u8; 4], &str, u32),
    (len, verify): (usize, bool),
    (missing, stage): (&str, &str),
) -> Result<(IndexFile, Meta), Error> {
    let bad = |why: &str| Error::index(format!("{what} {} {why}", path.display()));
    if !path.exists() {
        return Err(bad(&format!("is missing: {missing}")));
    }
    let file = IndexFile::open(path, kind)?;
    if verify {
        file.verify_all()?;
    }
    let meta = Meta(whole(&file, META_TAG)?);
    if meta.0.len() != len {
        return Err(bad("is damaged: its META section has the wrong size"));
    }
    if meta.u32(0) != version {
        return Err(bad(&format!(
            "is of version {}; this neardup reads version {version}: run the {stage} stage again",
            meta.u32(0)
        )));
    }
    Ok((file, meta))
}

/// Of stage files numbered part `.1` of `.0`, the complete set of parts
/// with the fewest parts (several complete sets give the same result),
/// each part once, in order; or, when no set is complete, the names
/// (`name(part, parts)`) of the parts missing from the one with the most
/// parts.
pub(crate) fn complete_set<T>(
    mut files: Vec<(usize, usize, T)>,
    name: impl Fn(usize, usize) -> String,
) -> Result<Vec<T>, String> {
    files.sort_by_key(|f| (f.0, f.1));
    let mut missing = String::new();
    let mut files = files.into_iter().peekable();
    while let Some(first) = files.next() {
        let parts = first.0;
        let mut set = vec![first];
        while let Some(f) = files.next_if(|f| f.0 == parts) {
            set.push(f);
        }
        set.dedup_by_key(|f| f.1);
        let have: Vec<usize> = set.iter().map(|f| f.1).collect();
        if have == (0..parts).collect::<Vec<_>>() {
            return Ok(set.into_iter().map(|f| f.2).collect());
        }
        missing = (0..parts)
            .filter(|p| !have.contains(p))
            .map(|p| name(p, parts))
            .collect::<Vec<_>>()
            .join(", ");
    }
    Err(missing)
}

/// The tag of every stage file's first section.
const META_TAG: [u8; 8] = *b"META\0\0\0\0";

/// The name of input `input`'s stage file.
pub fn file_name(input: usize) -> String {
    format!("input-{input:010}.ndp")
}

/// The inputs of shard `shard` of `shards`: a contiguous range of the
/// scan's inputs, cut so that shards hold about the same bytes (by the
/// inputs' sizes, when known; else the same count). Every input is in
/// exactly one shard; the ranges depend only on the sizes.
///
/// # Example
///
/// ```
/// assert_eq!(neardup::stage::shard(&[Some(10), Some(10), Some(10), Some(10)], 1, 2), 2..4);
/// ```
pub fn shard(sizes: &[Option<u64>], shard: usize, shards: usize) -> std::ops::Range<usize> {
    let shards = shards.max(1);
    let n = sizes.len();
    if sizes.iter().any(Option::is_none) {
        return n * shard / shards..n * (shard + 1) / shards;
    }
    let total: u64 = sizes.iter().map(|s| s.unwrap_or(0)).sum();
    // Input i goes to the shard its first byte falls in.
    let of = |i: usize, before: u64| -> usize {
        if total == 0 {
            i * shards / n.max(1)
        } else {
            ((u128::from(before) * shards as u128) / u128::from(total)) as usize
        }
    };
    let (mut start, mut end, mut before) = (n, n, 0u64);
    for (i, s) in sizes.iter().enumerate() {
        let k = of(i, before);
        if k >= shard && start == n {
            start = i;
        }
        if k > shard {
            end = i;
            break;
        }
        before += s.unwrap_or(0);
    }
    start.min(end)..end
}

/// What [`fingerprint_shard`] did.
#[derive(Debug)]
pub struct ShardDone {
    /// The inputs of the shard (their numbers in the whole scan).
    pub inputs: std::ops::Range<usize>,
    /// Of those, the inputs with a print; the others the last stage reads.
    pub printed: usize,
    /// Bytes of stage files written.
    pub bytes: u64,
    /// The inputs' problems (the last stage reports them again).
    pub problems: Vec<Error>,
}

/// Fingerprints `inputs` (numbered from `first` in the whole scan) and
/// writes each one's stage file into `dir`, replacing one a killed attempt
/// wrote before.
///
/// # Errors
///
/// Writing a stage file failed.
pub fn fingerprint_shard(
    inputs: &[Input],
    first: usize,
    config: &Config,
    options: &ScanOptions,
    progress: &dyn Progress,
    dir: &Path,
) -> Result<ShardDone, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::index(format!("{}: {e}", dir.display())))?;
    let prints: Vec<std::sync::Mutex<Option<Vec<u8>>>> =
        inputs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    struct Collect<'a>(&'a [std::sync::Mutex<Option<Vec<u8>>>]);
    impl PrintCache for Collect<'_> {
        fn load(&self, _input: usize) -> Option<Vec<u8>> {
            None
        }
        fn store(&self, input: usize, print: &[u8]) {
            if let Some(slot) = self.0.get(input) {
                *slot.lock().expect("not poisoned") = Some(print.to_vec());
            }
        }
    }
    let pass = fingerprint_only(inputs, config, options, progress, &Collect(&prints))?;
    let range = first..first + inputs.len();
    let mut done = ShardDone {
        inputs: range.clone(),
        printed: 0,
        bytes: 0,
        problems: pass.problems,
    };
    if !inputs.is_empty() {
        remove_other_key_files(dir, &range)?;
        let per_input: Vec<keys::InputKeys> = (inputs.iter().zip(&pass.slots))
            .map(|(input, &slots)| keys::InputKeys {
                settings: settings_key(config, options, input.format),
                size: input.source.size_hint().unwrap_or(u64::MAX),
                slots,
            })
            .collect();
        done.bytes += keys::write(dir, range, &per_input, pass.keys)?;
    }
    for (i, (input, print)) in inputs.iter().zip(prints).enumerate() {
        let print = print.into_inner().expect("not poisoned");
        let name = file_name(first + i);
        let path = dir.join(&name);
        let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
        let mut w = FileWriter::create(dir, &name, KIND)
            .map_err(io)?
            .replacing();
        let mut meta = Vec::with_capacity(17);
        meta.extend_from_slice(&settings_key(config, options, input.format).to_le_bytes());
        meta.extend_from_slice(&input.source.size_hint().unwrap_or(u64::MAX).to_le_bytes());
        meta.push(u8::from(print.is_some()));
        let mut put = |tag: [u8; 8], bytes: &[u8]| -> std::io::Result<()> {
            use std::io::Write;
            let mut s = w.section(tag);
            s.write_all(bytes)?;
            s.finish()
        };
        put(META, &meta).map_err(io)?;
        if let Some(print) = &print {
            put(PRINT, print).map_err(io)?;
            done.printed += 1;
        }
        done.bytes += w.finish().map_err(io)?.len;
    }
    Ok(done)
}

/// Removes the key files in `dir` of shards that overlap `range` other
/// than its own: a fingerprint stage of another cut into shards ran in
/// `dir` before. Shards of one run never overlap, so this removes only
/// stale files, never another shard's of the same run.
fn remove_other_key_files(dir: &Path, range: &std::ops::Range<usize>) -> Result<(), Error> {
    let listing = std::fs::read_dir(dir)
        .map_err(|e| Error::index(format!("reading {}: {e}", dir.display())))?;
    for entry in listing.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(other) = keys::parse_name(&name) else {
            continue;
        };
        if other != *range && other.start < range.end && range.start < other.end {
            std::fs::remove_file(entry.path())
                .map_err(|e| Error::index(format!("removing {}: {e}", entry.path().display())))?;
        }
    }
    Ok(())
}

/// The stage files of a scan's inputs, checked, as a [`PrintCache`] for
/// the last stage ([`crate::pipeline::scan_with_cache`]), and the
/// candidate groups the group stage left, if it ran ([`group`]), or the
/// verdicts of the verify stage, if it ran ([`verdicts`]).
pub struct StageFiles {
    prints: Prints,
    keys: group::KeyFiles,
    groups: Option<Grouping>,
    verdicts: Option<verdicts::VerdictFiles>,
    /// The inputs' names and formats, as given to this stage.
    names: Vec<(std::sync::Arc<str>, crate::corpus::Format)>,
}

/// Stage files of a run of inputs, as a [`PrintCache`] indexed from the
/// first of them.
#[derive(Default)]
pub(crate) struct Prints {
    files: Vec<Option<IndexFile>>,
    used: std::sync::atomic::AtomicUsize,
}

impl Prints {
    /// Opens the stage files of `inputs[range]` in `dir` and checks each:
    /// whole (every checksum), made with these settings, of an input of
    /// the same size.
    pub(crate) fn open(
        dir: &Path,
        inputs: &[Input],
        range: std::ops::Range<usize>,
        config: &Config,
        options: &ScanOptions,
    ) -> Result<Prints, Error> {
        let mut files = Vec::with_capacity(range.len());
        for i in range {
            let input = &inputs[i];
            let path: PathBuf = dir.join(file_name(i));
            let bad = |what: &str| {
                Error::index(format!(
                    "stage file {} (of input {}) {what}",
                    path.display(),
                    input.source.name()
                ))
            };
            if !path.exists() {
                return Err(bad(
                    "is missing: run the fingerprint stage of its shard again",
                ));
            }
            let file = IndexFile::open(&path, KIND)?;
            file.verify_all()?;
            let meta = file.section(META)?;
            let meta = meta.read_range(0..meta.len())?;
            if meta.len() != 17 {
                return Err(bad("is damaged: its META section has the wrong size"));
            }
            let key = u64::from_le_bytes(meta[..8].try_into().expect("8 bytes"));
            let size = u64::from_le_bytes(meta[8..16].try_into().expect("8 bytes"));
            if key != settings_key(config, options, input.format) {
                return Err(bad(
                    "was made with other settings (or another neardup version): run the \
                     fingerprint stage again with this scan's settings (containment, on or \
                     off, and its --containment-words too)",
                ));
            }
            if size != input.source.size_hint().unwrap_or(u64::MAX) {
                return Err(bad(
                    "was made from another version of the input (its size changed): run the \
                     fingerprint stage again",
                ));
            }
            files.push((meta[16] == 1).then_some(file));
        }
        Ok(Prints {
            files,
            used: Default::default(),
        })
    }
}

impl PrintCache for Prints {
    fn load(&self, input: usize) -> Option<Vec<u8>> {
        let file = self.files.get(input)?.as_ref()?;
        let s = file.section(PRINT).ok()?;
        s.read_range(0..s.len()).ok()
    }

    fn store(&self, _input: usize, _print: &[u8]) {}

    fn used(&self, _input: usize) {
        self.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl StageFiles {
    /// Opens the stage files in `dir` for the last stage of a scan of
    /// `inputs`, checking each (whole, made with these settings, of an
    /// input of the same size). If the verify stage left verdicts for these
    /// settings, only those ([`verdicts`]): the report comes from them, and
    /// no print is read. Else the stage file of every input, and the group
    /// stage's runs if it left any ([`group::load`]). `against_index`: the
    /// scan checks against an index, which it queries with the band keys
    /// themselves, so neither verdicts nor runs are of use.
    ///
    /// # Errors
    ///
    /// A stage file is missing, damaged, of other settings or of a changed
    /// input; the error names it. Likewise a group, key or verdict file.
    pub fn open(
        dir: &Path,
        inputs: &[Input],
        config: &Config,
        options: &ScanOptions,
        against_index: bool,
    ) -> Result<StageFiles, Error> {
        let keys = group::KeyFiles::open(dir, inputs, config, options)?;
        let verdicts = match against_index {
            true => None,
            false => verdicts::VerdictFiles::find(dir, &keys, config, options)?,
        };
        let prints = match verdicts {
            Some(_) => Prints::default(),
            None => Prints::open(dir, inputs, 0..inputs.len(), config, options)?,
        };
        let groups = match (&verdicts, against_index) {
            (None, false) => group::load(dir, &keys, config)?,
            _ => None,
        };
        Ok(StageFiles {
            prints,
            groups,
            keys,
            verdicts,
            names: (inputs.iter())
                .map(|i| (std::sync::Arc::from(i.source.name()), i.format))
                .collect(),
        })
    }

    /// The candidate groups of the group stage, if it ran (and the verify
    /// stage did not, and the scan does not check against an index): give
    /// them to the scan ([`crate::pipeline::Extras::groups`]).
    pub fn groups(&self) -> Option<&Grouping> {
        self.groups.as_ref()
    }

    /// The report, from the verdicts of the verify stage, if it ran for
    /// these settings (not for a scan against an index, which verifies
    /// itself): the report of one scan, made without reading the inputs
    /// or verifying anything. When there is one, [`StageFiles::extras`]
    /// holds no prints.
    ///
    /// # Errors
    ///
    /// A verdict or sets file is damaged or does not fit the others; the
    /// error names it.
    pub fn verified_report(&self, config: &Config) -> Option<Result<Report, Error>> {
        let v = self.verdicts.as_ref()?;
        Some(v.report(&self.keys, config, &self.names))
    }

    /// The parts of the verify stage's verdicts, if it ran.
    pub fn verdict_parts(&self) -> Option<usize> {
        self.verdicts.as_ref().map(verdicts::VerdictFiles::parts)
    }

    /// The band keys in the key files: give them to the scan
    /// ([`crate::pipeline::Extras::band_keys`]). The prints hold none.
    pub fn band_keys(&self) -> &dyn BandKeys {
        &self.keys
    }

    /// What a last stage gives its scan: these files as its prints, the
    /// group stage's groups and the key files as its band keys. Add the
    /// prior, if any.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # use neardup::{Config, pipeline::{scan_with, ScanOptions, Silent}, stage::StageFiles};
    /// # let inputs = [];
    /// # let (config, options) = (Config::default(), ScanOptions::default());
    /// let staged = StageFiles::open("stage".as_ref(), &inputs, &config, &options, false)?;
    /// let report = match staged.verified_report(&config) {
    ///     Some(report) => report?,
    ///     None => scan_with(&inputs, &config, &options, &Silent, staged.extras())?,
    /// };
    /// # Ok::<(), neardup::Error>(())
    /// ```
    pub fn extras(&self) -> crate::pipeline::Extras<'_> {
        crate::pipeline::Extras {
            cache: Some(&self.prints),
            groups: self.groups(),
            band_keys: Some(self.band_keys()),
            ..Default::default()
        }
    }

    /// The inputs whose print the scan used instead of reading them.
    pub fn used(&self) -> usize {
        self.prints.used.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl PrintCache for StageFiles {
    fn load(&self, input: usize) -> Option<Vec<u8>> {
        self.prints.load(input)
    }

    fn store(&self, _input: usize, _print: &[u8]) {}

    fn used(&self, input: usize) {
        self.prints.used(input);
    }
}

/// The file a last stage leaves its findings in, for the shard jobs of a
/// spread clean ([`write_findings`], [`read_findings`]). Its name carries
/// a key of every setting the findings depend on (the first pass's, the
/// threshold and the rest of [`Config`], containment, the index checked
/// against and its generation) and of this neardup version, so a clean
/// with other settings, or after the index changed, finds no file of its
/// own instead of using another run's.
///
/// # Errors
///
/// `against` is not an index.
pub fn findings_name(
    config: &Config,
    options: &ScanOptions,
    against: Option<&Path>,
) -> Result<String, Error> {
    let against = match against {
        Some(dir) => Some((dir, crate::index::newest_generation(dir)?)),
        None => None,
    };
    Ok(findings_key(config, options, against))
}

/// [`findings_name`] for the index `against` at a known generation (or
/// none): the hash of this neardup's version, the settings, and the index
/// (its path and newest generation).
fn findings_key(
    config: &Config,
    options: &ScanOptions,
    against: Option<(&Path, (u64, u64))>,
) -> String {
    let text = format!(
        "{} {:x} {config:?} {:?} {:?}",
        env!("CARGO_PKG_VERSION"),
        settings_key(config, options, crate::corpus::Format::Text),
        options.containment,
        against,
    );
    format!(
        "findings-{:016x}.ndf",
        crate::hash::xxh3(text.as_bytes(), 0)
    )
}

/// Writes `report`, the last stage's findings, into the stage directory
/// `dir` (crash-safe; a run again replaces it). Returns its bytes.
///
/// # Errors
///
/// Writing it failed.
pub fn write_findings(
    dir: &Path,
    config: &Config,
    options: &ScanOptions,
    against: Option<&Path>,
    report: &crate::report::Report,
) -> Result<u64, Error> {
    let name = findings_name(config, options, against)?;
    crate::report::wire::write(dir, &name, report)
}

/// The findings the last stage left in `dir` for a scan of `inputs` with
/// these settings, of the inputs `part` only (a shard: only its part of
/// the file is read), and the inputs it could not read (which a clean
/// must not write). A report with only `clusters`, `contained`, `summary`
/// and `paragraphs_by_input`: what a clean needs ([`crate::report::wire::read`]).
/// When the last stage has not run but the verify stage has (and there
/// is no index), the findings come from the verdicts instead: the shard's
/// own part of every verdict file, with the same clusters but no counts
/// (`summary` is empty). `part` must then be a shard of the fingerprint
/// stage's cut.
///
/// # Errors
///
/// There are no findings and no verdicts of these settings (the last
/// stage has not run, or ran with other settings), a file is damaged, or
/// is of another number of inputs; the error says which and what to
/// run.
pub fn read_findings(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    against: Option<&Path>,
    part: std::ops::Range<usize>,
) -> Result<(crate::report::Report, Vec<String>), Error> {
    let path = dir.join(findings_name(config, options, against)?);
    let verdicts_left = || files_named(dir, "verdicts-", ".ndv").is_ok_and(|f| !f.is_empty());
    if !path.exists() && against.is_none() && verdicts_left() {
        // Without the last stage: each job reads its own part of the
        // verify stage's verdicts.
        if let Some(found) = verdicts::shard_findings(dir, inputs, config, options, part.clone())? {
            return Ok(found);
        }
    }
    if !path.exists() {
        let others = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with("findings-"))
            })
            .unwrap_or(false);
        let why = if others {
            "the last stage in it ran with other settings, another neardup version, or \
             against another generation of the index (it changed since)"
        } else {
            "the last stage has not run"
        };
        return Err(Error::index(format!(
            "{} has no findings for these settings: {why}; run `neardup scan PATHS --stage-dir {}` \
             with this clean's settings (threshold, containment, --against) first",
            dir.display(),
            dir.display()
        )));
    }
    let (report, unreadable) = crate::report::wire::read(&path, part)?;
    if report.paragraphs_by_input.len() != inputs.len() {
        return Err(Error::index(format!(
            "{}: the findings are of a scan of {} inputs, and these paths hold {}: give the \
             last stage's paths, in the same order",
            path.display(),
            report.paragraphs_by_input.len(),
            inputs.len()
        )));
    }
    Ok((report, unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Format, MemorySource};
    use crate::pipeline::{Silent, scan};

    /// Shards fingerprinted apart, then one scan from their stage files:
    /// the report of one scan, for any number of shards; a missing or
    /// damaged stage file is an error naming it.
    #[test]
    fn a_scan_from_stage_files_is_the_scan() {
        let texts = [
            "the harbour board voted to rebuild the old north pier before winter\nferry services resumed on monday after the storm\n",
            "{\"text\": \"ferry services resumed on monday after the storm\\nsomething new\"}\nnot json\n",
            "the harbour board voted to rebuild the old north pier before spring\n",
            "",
            "ferry services resumed on monday after the storm\nthe harbour board voted to rebuild the old north pier before winter\n",
        ];
        let inputs: Vec<Input> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let format = if i == 1 { Format::Jsonl } else { Format::Text };
                Input::new(MemorySource::new(format!("in{i}"), t), format)
            })
            .collect();
        let (config, options) = (Config::default(), ScanOptions::default());
        let whole = scan(&inputs, &config, &options, &Silent).unwrap();
        assert!(!whole.clusters.is_empty());
        let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
        for shards in [1, 2, 3, 5] {
            let dir =
                std::env::temp_dir().join(format!("neardup-stage-{}-{shards}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let mut printed = 0;
            for k in 0..shards {
                let r = shard(&sizes, k, shards);
                printed += fingerprint_shard(
                    &inputs[r.clone()],
                    r.start,
                    &config,
                    &options,
                    &Silent,
                    &dir,
                )
                .unwrap()
                .printed;
            }
            let files = StageFiles::open(&dir, &inputs, &config, &options, false).unwrap();
            let extras = crate::pipeline::Extras {
                cache: Some(&files),
                band_keys: Some(files.band_keys()),
                ..Default::default()
            };
            let staged =
                crate::pipeline::scan_with(&inputs, &config, &options, &Silent, extras).unwrap();
            // Every input but the one with a malformed record came from its
            // stage file, not from reading it.
            assert_eq!(
                (files.used(), printed),
                (inputs.len() - 1, inputs.len() - 1)
            );
            assert_eq!(staged.clusters, whole.clusters, "{shards} shards");
            assert_eq!(staged.summary, whole.summary, "{shards} shards");
            assert_eq!(staged.passages, whole.passages, "{shards} shards");
            assert_eq!(
                staged
                    .diagnostics
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                whole
                    .diagnostics
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            );
            if shards == 3 {
                let victim = dir.join(file_name(2));
                let mut bytes = std::fs::read(&victim).unwrap();
                let at = bytes.len() / 2;
                bytes[at] ^= 1;
                std::fs::write(&victim, bytes).unwrap();
                let err = StageFiles::open(&dir, &inputs, &config, &options, false)
                    .err()
                    .unwrap();
                assert!(err.to_string().contains(&file_name(2)), "{err}");
                std::fs::remove_file(&victim).unwrap();
                let err = StageFiles::open(&dir, &inputs, &config, &options, false)
                    .err()
                    .unwrap();
                assert!(err.to_string().contains("is missing"), "{err}");
                let other = Config::builder().shingle_size(3).build().unwrap();
                fingerprint_shard(&inputs[2..3], 2, &config, &options, &Silent, &dir).unwrap();
                let err = StageFiles::open(&dir, &inputs, &other, &options, false)
                    .err()
                    .unwrap();
                assert!(err.to_string().contains("other settings"), "{err}");
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    /// Paragraphs for the group stage's test: near copies within and across
    /// inputs, exact copies, a template with one word changed, and lines
    /// alike in a few bands only.
    pub(super) fn grouping_corpus() -> Vec<Input> {
        let words = [
            "harbour", "board", "voted", "rebuild", "north", "pier", "winter", "ferry", "services",
            "resumed", "monday", "storm", "council", "budget", "school", "bridge", "river",
            "flood", "warning", "issued", "police", "station", "closed", "road",
        ];
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut texts: Vec<String> = vec![String::new(); 6];
        let mut pool: Vec<Vec<&str>> = Vec::new();
        for i in 0..400 {
            let line: Vec<&str> = match next() % 5 {
                0 if !pool.is_empty() => pool[next() as usize % pool.len()].clone(),
                1 if !pool.is_empty() => {
                    let mut l = pool[next() as usize % pool.len()].clone();
                    let at = next() as usize % l.len();
                    l[at] = words[next() as usize % words.len()];
                    l
                }
                2 => {
                    let n = format!("{}", next() % 50);
                    let n: &'static str = Box::leak(n.into_boxed_str());
                    vec![
                        "photo", n, "of", "the", "flood", "on", "the", "river", "road", "today",
                    ]
                }
                _ => (0..12)
                    .map(|_| words[next() as usize % words.len()])
                    .collect(),
            };
            texts[i % 6].push_str(&line.join(" "));
            texts[i % 6].push_str(if next() % 4 == 0 { "\n\n" } else { "\n" });
            pool.push(line);
        }
        texts
            .into_iter()
            .enumerate()
            .map(|(i, t)| Input::new(MemorySource::new(format!("g{i}"), t), Format::Text))
            .collect()
    }

    /// The group stage in any number of parts, after any number of shards:
    /// the last stage, grouping from its files, reports what one scan
    /// does, with every scope and with a reference corpus.
    #[test]
    fn a_scan_from_group_files_is_the_scan() {
        let inputs = grouping_corpus();
        let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
        let within = Config::builder()
            .scope(crate::Scope::Within)
            .build()
            .unwrap();
        let referenced = ScanOptions {
            reference: 2,
            ..ScanOptions::default()
        };
        let cases = [
            (Config::default(), ScanOptions::default()),
            (within, ScanOptions::default()),
            (Config::default(), referenced),
        ];
        for (case, (config, options)) in cases.iter().enumerate() {
            let whole = scan(&inputs, config, options, &Silent).unwrap();
            assert!(whole.summary.duplicate_paragraphs > 10, "case {case}");
            for (shards, parts) in [(1, 1), (2, 3), (4, 2), (3, 16)] {
                let dir = std::env::temp_dir().join(format!(
                    "neardup-group-{}-{case}-{shards}-{parts}",
                    std::process::id()
                ));
                let _ = std::fs::remove_dir_all(&dir);
                for k in 0..shards {
                    let r = shard(&sizes, k, shards);
                    fingerprint_shard(&inputs[r.clone()], r.start, config, options, &Silent, &dir)
                        .unwrap();
                }
                let what = format!("case {case}, {shards} shards, {parts} parts");
                let files = StageFiles::open(&dir, &inputs, config, options, false).unwrap();
                assert!(files.groups().is_none());
                // Without group files: the keys read band by band.
                let extras = crate::pipeline::Extras {
                    cache: Some(&files),
                    band_keys: Some(files.band_keys()),
                    ..Default::default()
                };
                let staged =
                    crate::pipeline::scan_with(&inputs, config, options, &Silent, extras).unwrap();
                assert_eq!(files.used(), inputs.len(), "{what}: every print used");
                assert_eq!(staged.clusters, whole.clusters, "{what}, no group files");
                assert_eq!(staged.summary, whole.summary, "{what}, no group files");
                let mut runs = 0;
                for p in 0..parts {
                    runs += group::group_part(&dir, &inputs, config, options, p, parts)
                        .unwrap()
                        .runs;
                }
                assert!(runs > 0);
                let files = StageFiles::open(&dir, &inputs, config, options, false).unwrap();
                let extras = crate::pipeline::Extras {
                    cache: Some(&files),
                    groups: files.groups(),
                    band_keys: Some(files.band_keys()),
                    ..Default::default()
                };
                assert!(extras.groups.is_some());
                let staged =
                    crate::pipeline::scan_with(&inputs, config, options, &Silent, extras).unwrap();
                assert_eq!(staged.clusters, whole.clusters, "{what}");
                assert_eq!(staged.summary, whole.summary, "{what}");
                assert_eq!(staged.passages, whole.passages, "{what}");
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
    }

    /// Every stage spread: fingerprint by shard, group by part, the
    /// components, reread by shard and verify by part (the parts of the
    /// group and verify stages need not agree); the last stage's report
    /// from the verdicts is one scan's, with every scope and with a
    /// reference corpus, and it reads no input.
    #[test]
    fn a_report_from_spread_verdicts_is_the_scan() {
        let inputs = grouping_corpus();
        let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
        let within = Config::builder()
            .scope(crate::Scope::Within)
            .build()
            .unwrap();
        let referenced = ScanOptions {
            reference: 2,
            full_text: true,
            ..ScanOptions::default()
        };
        let loose = Config::builder()
            .threshold("0.5".parse().unwrap())
            .build()
            .unwrap();
        let cases = [
            (Config::default(), ScanOptions::default()),
            (within, ScanOptions::default()),
            (Config::default(), referenced),
            (loose, ScanOptions::default()),
        ];
        for (case, (config, options)) in cases.iter().enumerate() {
            let whole = scan(&inputs, config, options, &Silent).unwrap();
            assert!(whole.summary.duplicate_paragraphs > 10, "case {case}");
            for (shards, groups, parts) in [(1, 1, 1), (2, 3, 2), (4, 2, 3), (3, 1, 7)] {
                let dir = std::env::temp_dir().join(format!(
                    "neardup-spread-{}-{case}-{shards}-{parts}",
                    std::process::id()
                ));
                let _ = std::fs::remove_dir_all(&dir);
                for k in 0..shards {
                    let r = shard(&sizes, k, shards);
                    fingerprint_shard(&inputs[r.clone()], r.start, config, options, &Silent, &dir)
                        .unwrap();
                }
                for p in 0..groups {
                    group::group_part(&dir, &inputs, config, options, p, groups).unwrap();
                }
                let what = format!("case {case}, {shards} shards, {groups} groups, {parts} parts");
                let done = components::components(&dir, &inputs, config, options, parts).unwrap();
                assert!(
                    done.components > 1 && done.candidates > done.components,
                    "{what}"
                );
                let mut read = 0;
                for k in 0..shards {
                    let done =
                        verdicts::reread(&dir, &inputs, config, options, &Silent, (k, shards))
                            .unwrap();
                    read += done.candidates;
                }
                assert_eq!(read, done.candidates, "{what}: every candidate read once");
                let litter: Vec<String> = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with('.'))
                    .collect();
                assert!(litter.is_empty(), "{what}: scratch files left: {litter:?}");
                let mut found = 0;
                for p in 0..parts {
                    found += verdicts::verify(&dir, &inputs, config, options, p, parts)
                        .unwrap()
                        .duplicates;
                }
                assert_eq!(found, whole.summary.duplicate_paragraphs, "{what}");
                // The report needs no print: the stage files may be gone.
                for print in files_named(&dir, "input-", ".ndp").unwrap() {
                    std::fs::remove_file(print).unwrap();
                }
                let files = StageFiles::open(&dir, &inputs, config, options, false).unwrap();
                assert_eq!(files.verdict_parts(), Some(parts), "{what}");
                assert!(files.groups().is_none(), "{what}: the runs are not read");
                let staged = files.verified_report(config).unwrap().unwrap();
                assert_eq!(files.used(), 0, "{what}: no print read");
                assert_eq!(staged.clusters, whole.clusters, "{what}");
                assert_eq!(staged.summary, whole.summary, "{what}");
                assert_eq!(staged.passages, whole.passages, "{what}");
                assert_eq!(
                    staged.paragraphs_by_input, whole.paragraphs_by_input,
                    "{what}"
                );
                // Other settings find no verdicts of their own: the last
                // stage verifies by itself.
                let other = ScanOptions {
                    full_text: !options.full_text,
                    ..options.clone()
                };
                let files = StageFiles::open(&dir, &inputs, config, &other, false);
                assert!(
                    files.is_err_and(|e| e.to_string().contains("is missing")),
                    "{what}"
                );
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
    }

    /// Against earlier batches, the last stage reads the key files band by
    /// band to query them: the findings of a scan holding every key.
    #[test]
    fn a_scan_from_key_files_against_a_prior_is_the_scan() {
        use crate::pipeline::prior::MemoryPrior;
        let inputs = grouping_corpus();
        let (config, options) = (Config::default(), ScanOptions::default());
        let (old, new) = inputs.split_at(2);
        let mut prior = MemoryPrior::default();
        let mut sink = prior.batch();
        let extras = crate::pipeline::Extras {
            kept: Some(&mut sink),
            ..Default::default()
        };
        crate::pipeline::scan_with(old, &config, &options, &Silent, extras).unwrap();
        assert!(!prior.is_empty());
        let extras = crate::pipeline::Extras {
            prior: Some(&prior),
            ..Default::default()
        };
        let whole = crate::pipeline::scan_with(new, &config, &options, &Silent, extras).unwrap();
        // Some of the batch's paragraphs repeat the earlier batches'.
        let from_prior =
            |c: &crate::report::Cluster| ["g0", "g1"].contains(&&*c.kept.location.path);
        assert!(whole.clusters.iter().any(from_prior));
        let dir = std::env::temp_dir().join(format!("neardup-group-prior-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sizes: Vec<Option<u64>> = new.iter().map(|i| i.source.size_hint()).collect();
        for k in 0..3 {
            let r = shard(&sizes, k, 3);
            fingerprint_shard(&new[r.clone()], r.start, &config, &options, &Silent, &dir).unwrap();
        }
        group::group_part(&dir, new, &config, &options, 0, 1).unwrap();
        let files = StageFiles::open(&dir, new, &config, &options, false).unwrap();
        assert!(files.groups().is_some());
        // The groups are not for a scan with a prior; the keys are.
        let extras = crate::pipeline::Extras {
            prior: Some(&prior),
            cache: Some(&files),
            groups: files.groups(),
            ..Default::default()
        };
        assert!(crate::pipeline::scan_with(new, &config, &options, &Silent, extras).is_err());
        let extras = crate::pipeline::Extras {
            prior: Some(&prior),
            cache: Some(&files),
            band_keys: Some(files.band_keys()),
            ..Default::default()
        };
        let staged = crate::pipeline::scan_with(new, &config, &options, &Silent, extras).unwrap();
        assert_eq!(files.used(), new.len());
        assert_eq!(staged.clusters, whole.clusters);
        assert_eq!(staged.summary, whole.summary);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_stale_and_damaged_group_files_are_named() {
        let inputs = grouping_corpus();
        let (config, options) = (Config::default(), ScanOptions::default());
        let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
        let dir = std::env::temp_dir().join(format!("neardup-group-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let fingerprint = |k: usize, shards: usize| {
            let r = shard(&sizes, k, shards);
            fingerprint_shard(
                &inputs[r.clone()],
                r.start,
                &config,
                &options,
                &Silent,
                &dir,
            )
            .unwrap();
        };
        let open = || {
            StageFiles::open(&dir, &inputs, &config, &options, false)
                .err()
                .unwrap()
        };
        let remove_first_key_file = || {
            let key = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(Result::ok)
                .find(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("keys-0000000000")
                })
                .unwrap();
            std::fs::remove_file(key.path()).unwrap();
        };
        (0..2).for_each(|k| fingerprint(k, 2));
        // Group part 1 of 3 only: parts 0 and 2 are missing.
        group::group_part(&dir, &inputs, &config, &options, 1, 3).unwrap();
        let err = open().to_string();
        assert!(
            err.contains("groups-000-of-003.ndg") && err.contains("groups-002-of-003.ndg"),
            "{err}"
        );
        // Out of range.
        let err = group::group_part(&dir, &inputs, &config, &options, 3, 3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--part 3 --of 3"), "{err}");
        // A shard fingerprinted again, cut another way: the key files of the
        // old cut that overlap it go, and the group file is stale.
        for k in 0..2 {
            group::group_part(&dir, &inputs, &config, &options, k, 2).unwrap();
        }
        (0..3).for_each(|k| fingerprint(k, 3));
        let err = open().to_string();
        assert!(err.contains("other key files"), "{err}");
        // A key file missing.
        let _ = std::fs::remove_file(dir.join(file_name(0)));
        remove_first_key_file();
        fingerprint(0, 3);
        for p in 0..2 {
            group::group_part(&dir, &inputs, &config, &options, p, 2).unwrap();
        }
        assert!(StageFiles::open(&dir, &inputs, &config, &options, false).is_ok());
        remove_first_key_file();
        let err = group::group_part(&dir, &inputs, &config, &options, 0, 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no key file for input 0"), "{err}");
        fingerprint(0, 3);
        // A damaged group file is named.
        let victim = dir.join(group::file_name(1, 2));
        let mut bytes = std::fs::read(&victim).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 1;
        std::fs::write(&victim, bytes).unwrap();
        let err = open().to_string();
        assert!(err.contains("groups-001-of-002.ndg"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shards_cover_every_input_once_in_order() {
        for sizes in [
            vec![
                Some(5u64),
                Some(100),
                Some(1),
                Some(1),
                Some(50),
                Some(0),
                Some(7),
            ],
            vec![Some(0); 5],
            vec![None, Some(3), Some(4)],
            vec![],
            vec![Some(1000)],
        ] {
            for shards in 1..=9 {
                let mut next = 0;
                for k in 0..shards {
                    let r = shard(&sizes, k, shards);
                    assert_eq!(r.start, next, "{sizes:?} {k}/{shards}");
                    next = r.end;
                }
                assert_eq!(next, sizes.len(), "{sizes:?} /{shards}");
            }
        }
        // Balanced by bytes: the big input alone, the small ones together.
        let sizes = [Some(10), Some(10), Some(100), Some(10), Some(10)];
        assert_eq!(shard(&sizes, 0, 2), 0..3);
        assert_eq!(shard(&sizes, 1, 2), 3..5);
    }
}
