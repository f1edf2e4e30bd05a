//! Stage files: a scan's first pass split across machines.
//!
//! Fingerprinting is most of a scan's time and needs nothing but the input
//! itself, so it is the stage that spreads: the inputs, in the scan's
//! order, are cut into shards ([`shard`]), and any machine — a Ray task, a
//! Slurm array job, a Kubernetes indexed job — fingerprints one shard
//! ([`fingerprint_shard`]), writing one stage file per input into a shared
//! directory. The last stage is an ordinary scan that takes the first
//! pass's results from those files ([`StageFiles`], a
//! [`PrintCache`]) instead of reading the inputs, then groups and verifies
//! (reading again only the documents that hold candidates): its report is
//! byte for byte the report of a scan on one machine, for any number of
//! shards and workers, because it is the same code on the same first-pass
//! results.
//!
//! A stage file is an index container file (`index::file`: checksummed,
//! written under a temporary name, synced and renamed, so a worker killed
//! mid-write leaves no file under a final name, and a retried task just
//! writes it again) of kind `PRNT`: a `META` section (the print settings
//! key u64, the input's size u64, and 1 if a print follows, 0 if the input
//! had problems and the last stage must read it itself) and a `PRINT`
//! section ([`crate::pipeline::print`]'s encoding). The last stage refuses
//! a missing or damaged stage file, one made with other settings, or one
//! of an input whose size changed since, naming the file.
//!
//! What this does not spread: the last stage holds the first-pass table of
//! the whole corpus (about 150 bytes per paragraph) in one process, as a
//! scan on one machine does, so one machine's memory still bounds the
//! corpus; see the README ("Scale-out").

use std::path::{Path, PathBuf};

use crate::corpus::Input;
use crate::index::file::{FileWriter, IndexFile};
use crate::pipeline::print::{PrintCache, settings_key};
use crate::pipeline::{Progress, ScanOptions, fingerprint_only};
use crate::{Config, Error};

/// The file kind of a stage file.
pub const KIND: [u8; 4] = *b"PRNT";
const META: [u8; 8] = *b"META\0\0\0\0";
const PRINT: [u8; 8] = *b"PRINT\0\0\0";

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
    let problems = fingerprint_only(inputs, config, options, progress, &Collect(&prints))?;
    let mut done = ShardDone {
        inputs: first..first + inputs.len(),
        printed: 0,
        bytes: 0,
        problems,
    };
    for (i, (input, print)) in inputs.iter().zip(prints).enumerate() {
        let print = print.into_inner().expect("not poisoned");
        let name = file_name(first + i);
        let path = dir.join(&name);
        let io = |e: std::io::Error| Error::index(format!("writing {}: {e}", path.display()));
        let _ = std::fs::remove_file(&path);
        let mut w = FileWriter::create(dir, &name, KIND).map_err(io)?;
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

/// The stage files of a scan's inputs, checked, as a [`PrintCache`] for
/// the last stage ([`crate::pipeline::scan_with_cache`]).
pub struct StageFiles {
    files: Vec<Option<IndexFile>>,
    used: std::sync::atomic::AtomicUsize,
}

impl StageFiles {
    /// Opens the stage file of every input in `dir` and checks it: whole
    /// (every checksum), made with these settings, of an input of the same
    /// size.
    ///
    /// # Errors
    ///
    /// A stage file is missing, damaged, of other settings or of a changed
    /// input; the error names it.
    pub fn open(
        dir: &Path,
        inputs: &[Input],
        config: &Config,
        options: &ScanOptions,
    ) -> Result<StageFiles, Error> {
        let mut files = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
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
        Ok(StageFiles {
            files,
            used: Default::default(),
        })
    }

    /// The inputs whose print the scan used instead of reading them.
    pub fn used(&self) -> usize {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl PrintCache for StageFiles {
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

/// The file a last stage leaves its findings in, for the shard jobs of a
/// spread clean ([`write_findings`], [`read_findings`]). Its name carries
/// a key of every setting the findings depend on (the first pass's, the
/// threshold and the rest of [`Config`], containment, the index checked
/// against) and of this neardup version, so a clean with other settings
/// finds no file of its own instead of using another run's.
pub fn findings_name(config: &Config, options: &ScanOptions, against: Option<&Path>) -> String {
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
    let name = findings_name(config, options, against);
    crate::report::wire::write(dir, &name, report)
}

/// The findings the last stage left in `dir` for a scan of `inputs` with
/// these settings, of the inputs `part` only (a shard: only its part of
/// the file is read), and the inputs it could not read (which a clean
/// must not write). A report with only `clusters`, `contained`, `summary`
/// and `paragraphs_by_input`: what a clean needs ([`crate::report::wire::read`]).
///
/// # Errors
///
/// There is no findings file of these settings (the last stage has not
/// run, or ran with other settings), it is damaged, or it is of another
/// number of inputs; the error says which and what to run.
pub fn read_findings(
    dir: &Path,
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    against: Option<&Path>,
    part: std::ops::Range<usize>,
) -> Result<(crate::report::Report, Vec<String>), Error> {
    let path = dir.join(findings_name(config, options, against));
    if !path.exists() {
        let others = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with("findings-"))
            })
            .unwrap_or(false);
        let why = if others {
            "the last stage in it ran with other settings (or another neardup version)"
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
    use crate::pipeline::{Silent, scan, scan_with_cache};

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
            let files = StageFiles::open(&dir, &inputs, &config, &options).unwrap();
            let staged = scan_with_cache(&inputs, &config, &options, &Silent, &files).unwrap();
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
                let err = StageFiles::open(&dir, &inputs, &config, &options)
                    .err()
                    .unwrap();
                assert!(err.to_string().contains(&file_name(2)), "{err}");
                std::fs::remove_file(&victim).unwrap();
                let err = StageFiles::open(&dir, &inputs, &config, &options)
                    .err()
                    .unwrap();
                assert!(err.to_string().contains("is missing"), "{err}");
                let other = Config::builder().shingle_size(3).build().unwrap();
                fingerprint_shard(&inputs[2..3], 2, &config, &options, &Silent, &dir).unwrap();
                let err = StageFiles::open(&dir, &inputs, &other, &options)
                    .err()
                    .unwrap();
                assert!(err.to_string().contains("other settings"), "{err}");
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
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
