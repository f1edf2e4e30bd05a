//! The index directory: generations, the writer's lock, the commit
//! protocol and the cleanup of files no generation needs.
//!
//! The pattern is tantivy's and Lucene's: immutable segment files and one
//! manifest per generation. A commit (1) finishes every new segment file
//! (written under a temporary name, synced, renamed), (2) syncs the
//! directory, (3) writes the next manifest the same way, (4) syncs the
//! directory again. The newest manifest is the index, so a process killed
//! at any point leaves the old generation or the new one, whole: a
//! manifest appears under its name only complete, and it appears only
//! after the segments it names are on disk.
//!
//! One writer at a time: a writer holds an exclusive lock on `LOCK` (an
//! OS file lock, released when the process ends however it ends, so a
//! killed writer leaves no stale lock); a second writer gets an error at
//! once. Readers take no part in that lock: each holds a shared lock on
//! its generation's manifest for as long as it reads, and the writer's
//! cleanup deletes an old generation (its manifest, then the segments no
//! remaining manifest names) only if it can lock that manifest
//! exclusively, so files are never removed under a reader. The newest
//! generation and its ancestors ([`KEEP_GENERATIONS`] in all) are kept, so
//! that `index rollback` has history to return to.

use super::file::{FileInfo, FileWriter, IndexFile, sync_dir};
use super::manifest::{self, Manifest};
use super::segment;
use crate::Error;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The writer's lock file.
pub const LOCK: &str = "LOCK";

/// Generations kept after a commit (the newest included).
pub const KEEP_GENERATIONS: usize = 4;

/// Files a process opens besides an index's segments: its inputs, outputs,
/// scratch files, a writer's new segments.
const OTHER_FILES: u64 = 256;

/// Makes sure this process may hold `segments` segment files open (a
/// reader keeps every one open while it reads): on Unix, raises the soft
/// limit on open files up to the hard one when it is too low, as an index
/// of many batches needs under the usual soft limit of 1,024; if even the
/// hard limit is too low, says so, rather than failing at the file
/// that does not fit with `Too many open files`.
#[cfg(unix)]
fn room_for_files(dir: &Path, segments: usize) -> Result<(), Error> {
    let need = (segments as u64).saturating_add(OTHER_FILES);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Ok(());
    }
    let need = need as libc::rlim_t;
    if limit.rlim_cur >= need {
        return Ok(());
    }
    // The hard limit, or (macOS refuses a soft limit over OPEN_MAX when
    // the hard one is unlimited) what is needed.
    for soft in [limit.rlim_max, need] {
        let raised = libc::rlimit {
            rlim_cur: soft,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; only the soft limit changes.
        if soft >= need && unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(());
        }
    }
    Err(err(
        dir,
        format!(
            "has {segments} segment files, and this process may open only {} files \
             (`ulimit -n`; the hard limit is {}): raise the limit, then run \
             `neardup index compact` to merge the segments",
            limit.rlim_cur, limit.rlim_max
        ),
    ))
}

#[cfg(not(unix))]
fn room_for_files(_dir: &Path, _segments: usize) -> Result<(), Error> {
    Ok(())
}

fn err(dir: &Path, what: impl std::fmt::Display) -> Error {
    Error::index(format!("{}: {what}", dir.display()))
}

/// A generation opened for reading: its manifest and its segment files,
/// the manifest locked shared so that no writer's cleanup removes them.
#[derive(Debug)]
pub struct Snapshot {
    dir: PathBuf,
    manifest: Manifest,
    /// The segment files, opened, in order.
    files: Vec<IndexFile>,
    _lock: File,
}

impl Snapshot {
    /// Opens the newest generation of the index in `dir`.
    ///
    /// # Errors
    ///
    /// `dir` is missing, is a file or holds no manifest; a file the
    /// manifest names is missing, damaged or not the one it names.
    pub fn open(dir: &Path) -> Result<Snapshot, Error> {
        match fs::metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(err(
                    dir,
                    "no such index (make one with `neardup index create`)",
                ));
            }
            Err(e) => return Err(err(dir, e)),
            Ok(m) if !m.is_dir() => {
                return Err(err(
                    dir,
                    "is a file, not an index (an index is a directory)",
                ));
            }
            Ok(_) => {}
        }
        // A cleanup may remove an old generation between the listing and
        // the open; the newest is never removed, so a second look finds it.
        let mut last = None;
        for _ in 0..3 {
            match Snapshot::open_generation(dir, newest_generation(dir)?) {
                Err(e) if e.kind() == crate::ErrorKind::Io => last = Some(e),
                other => return other,
            }
        }
        Err(last.expect("three tries"))
    }

    fn open_generation(dir: &Path, g: u64) -> Result<Snapshot, Error> {
        let path = dir.join(manifest::file_name(g));
        let lock = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::io(&path.display().to_string(), e));
            }
            Err(e) => return Err(err(&path, e)),
        };
        lock.lock_shared().map_err(|e| err(&path, e))?;
        let file = IndexFile::open(&path, manifest::KIND)?;
        let manifest = Manifest::read(&file)?;
        if manifest.generation != g {
            return Err(err(&path, "damaged: it names another generation"));
        }
        let mut files = Vec::with_capacity(manifest.segments.len());
        room_for_files(dir, manifest.segments.len())?;
        for info in &manifest.segments {
            let f = IndexFile::open(&dir.join(&info.name), segment::KIND)?;
            if f.len() != info.len || f.checksum() != info.checksum {
                return Err(err(
                    f.path(),
                    "is not the file the manifest names (replaced or damaged)",
                ));
            }
            files.push(f);
        }
        Ok(Snapshot {
            dir: dir.to_owned(),
            manifest,
            files,
            _lock: lock,
        })
    }

    /// The generation's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes the segment files out of the snapshot (the
    /// manifest stays locked while the snapshot lives).
    pub fn take_files(&mut self) -> Vec<IndexFile> {
        std::mem::take(&mut self.files)
    }
}

/// The newest generation of the index in `dir`: its number and its
/// manifest's checksum (which tells apart two generations of one number,
/// of two indexes made in the directory one after the other).
///
/// # Errors
///
/// `dir` holds no manifest, or the newest does not open.
pub fn newest(dir: &Path) -> Result<(u64, u64), Error> {
    let g = newest_generation(dir)?;
    let file = IndexFile::open(&dir.join(manifest::file_name(g)), manifest::KIND)?;
    Ok((g, file.checksum()))
}

/// The newest generation whose manifest is in `dir`.
fn newest_generation(dir: &Path) -> Result<u64, Error> {
    generations(dir)?
        .last()
        .copied()
        .ok_or_else(|| err(dir, "is not a neardup index: it holds no gen-*.ndm file"))
}

/// Whether a file of an index directory's is one neardup writes there:
/// the lock, a manifest, a segment or a temporary file.
fn written_here(name: &str) -> bool {
    name == LOCK
        || name.starts_with("seg-")
        || name.starts_with(".tmp-")
        || manifest::generation_of(name).is_some()
}

/// The generations whose manifests are in `dir`, ascending.
fn generations(dir: &Path) -> Result<Vec<u64>, Error> {
    let mut out: Vec<u64> = fs::read_dir(dir)
        .map_err(|e| err(dir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| manifest::generation_of(&e.file_name().to_string_lossy()))
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// Whether `dir` is an index: it holds a manifest (`gen-<20
/// digits>.ndm`), as every index does from its creation on. The walk of
/// inputs asks, so that an index named as a corpus is refused rather than
/// read as text (its lock file, its segments).
pub fn is_index(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| manifest::generation_of(&e.file_name().to_string_lossy()).is_some())
    })
}

/// Makes a new, empty index (generation 0) in `dir`, which must not
/// exist, be an empty directory, or hold only what a create that did not
/// finish left (its lock, temporary and segment files, and manifests of
/// no batch), which is removed. Returns whether it made the directory.
///
/// # Errors
///
/// `dir` is a file or a directory with something else in it, another
/// process is writing there, or writing failed.
pub fn create(dir: &Path, settings: &[u8]) -> Result<bool, Error> {
    let made = match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(err(dir, "exists and is a file")),
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent).map_err(|e| err(parent, e))?;
            }
            true
        }
        Err(e) => return Err(err(dir, e)),
    };
    let leftovers = if made {
        Vec::new()
    } else {
        unfinished_create(dir)?.ok_or_else(|| {
            err(
                dir,
                "exists and is not empty: an index is made in a new directory \
                 (to add a batch to an index, use `neardup index add`)",
            )
        })?
    };
    let writer = Writer::lock(dir)?;
    for path in leftovers {
        fs::remove_file(&path).map_err(|e| err(&path, e))?;
    }
    let first = Manifest {
        generation: 0,
        parent: None,
        settings: settings.to_vec(),
        batches: Vec::new(),
        segments: Vec::new(),
    };
    writer.write_manifest(&first)?;
    Ok(made)
}

/// The files in `dir` if they are all what a create that did not finish
/// leaves (killed or interrupted before its first batch was committed):
/// `LOCK`, temporary files, segment files and manifests that hold no
/// batch; `None` if anything else is there. An empty directory gives an
/// empty list.
fn unfinished_create(dir: &Path) -> Result<Option<Vec<PathBuf>>, Error> {
    let mut files = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| err(dir, e))? {
        let e = e.map_err(|e| err(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let left = written_here(&name)
            && (manifest::generation_of(&name).is_none()
                || IndexFile::open(&path, manifest::KIND)
                    .and_then(|f| Manifest::read(&f))
                    .is_ok_and(|m| m.batches.is_empty() && m.segments.is_empty()));
        if !left || !e.file_type().is_ok_and(|t| t.is_file()) {
            return Ok(None);
        }
        files.push(path);
    }
    Ok(Some(files))
}

/// Removes what [`create`] made in `dir` (after a first batch failed),
/// and `dir` itself if [`create`] made it and nothing else is in it.
pub fn remove_new(dir: &Path, made_dir: bool) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if written_here(&e.file_name().to_string_lossy()) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    if made_dir {
        let _ = fs::remove_dir(dir);
    }
}

/// The one writer of an index: holds `LOCK` until dropped.
#[derive(Debug)]
pub struct Writer {
    dir: PathBuf,
    _lock: File,
    files: u32,
}

impl Writer {
    fn lock(dir: &Path) -> Result<Writer, Error> {
        let path = dir.join(LOCK);
        let lock = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| err(dir, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(err(
                    dir,
                    "is being written by another process (LOCK is held); try again when it \
                     finishes",
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(err(&path, e)),
        }
        Ok(Writer {
            dir: dir.to_owned(),
            _lock: lock,
            files: 0,
        })
    }

    /// Takes the writer's lock of the index in `dir` and opens its newest
    /// generation. Files a killed writer left behind (temporary files,
    /// segments no manifest names) are removed first.
    ///
    /// # Errors
    ///
    /// Another process holds the lock, or the index does not open.
    pub fn open(dir: &Path) -> Result<(Writer, Snapshot), Error> {
        // The snapshot's checks name a missing directory or a file better
        // than the lock's open would.
        drop(Snapshot::open(dir)?);
        let writer = Writer::lock(dir)?;
        writer.remove_unused();
        let snapshot = Snapshot::open(dir)?;
        Ok((writer, snapshot))
    }

    /// The index's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A writer of a new segment file for generation `generation`.
    ///
    /// # Errors
    ///
    /// The file cannot be created.
    pub fn new_file(&mut self, generation: u64) -> Result<FileWriter, Error> {
        let name = format!("seg-{generation:020}-{:04}.ndx", self.files);
        self.files += 1;
        FileWriter::create(&self.dir, &name, segment::KIND).map_err(|e| err(&self.dir, e))
    }

    /// Commits `manifest` (whose segment files are all finished) as the
    /// index's newest generation, then removes the generations no reader
    /// holds that are not in its history ([`KEEP_GENERATIONS`]).
    ///
    /// # Errors
    ///
    /// Writing or syncing failed; the previous generation is then still
    /// the index.
    pub fn commit(&self, manifest: &Manifest) -> Result<(), Error> {
        sync_dir(&self.dir).map_err(|e| err(&self.dir, e))?;
        self.write_manifest(manifest)?;
        self.cleanup();
        Ok(())
    }

    fn write_manifest(&self, manifest: &Manifest) -> Result<FileInfo, Error> {
        let info = manifest.write(&self.dir).map_err(|e| {
            err(
                &self.dir,
                format!(
                    "writing generation {}: {e} (the index is unchanged)",
                    manifest.generation
                ),
            )
        })?;
        sync_dir(&self.dir).map_err(|e| err(&self.dir, e))?;
        Ok(info)
    }

    /// Deletes the generations that are not among the newest one and its
    /// ancestors ([`KEEP_GENERATIONS`] in all) and that no reader holds,
    /// then the files no manifest names.
    fn cleanup(&self) {
        let Ok(gens) = generations(&self.dir) else {
            return;
        };
        let Some(kept) = history(&self.dir, &gens) else {
            return;
        };
        for &g in gens.iter().filter(|g| !kept.contains(g)) {
            let path = self.dir.join(manifest::file_name(g));
            if let Ok(f) = File::open(&path)
                && f.try_lock().is_ok()
            {
                let _ = fs::remove_file(&path);
            }
        }
        self.remove_unused();
    }

    /// Removes segment files no manifest in the directory names, and
    /// temporary files. Only a writer does this.
    fn remove_unused(&self) {
        let Ok(gens) = generations(&self.dir) else {
            return;
        };
        let mut named = BTreeSet::new();
        for g in gens {
            let path = self.dir.join(manifest::file_name(g));
            let Ok(file) = IndexFile::open(&path, manifest::KIND) else {
                // A manifest that cannot be read may still name files:
                // remove nothing.
                return;
            };
            let Ok(m) = Manifest::read(&file) else {
                return;
            };
            named.extend(m.segments.into_iter().map(|f| f.name));
        }
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name.starts_with(".tmp-") || name.starts_with("seg-");
            if ours && !named.contains(&name) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// The generations `rollback` can return to, the newest of `gens`
/// first: it and its ancestors by their manifests' parents, up to
/// [`KEEP_GENERATIONS`] in all. A rollback's parent is the parent of the
/// generation it restored, so an undone change (and the rollback that
/// undid it) is in no one's history and takes no place in it. `None` if
/// a manifest of the history does not read (then nothing is deleted).
fn history(dir: &Path, gens: &[u64]) -> Option<Vec<u64>> {
    let mut kept = Vec::new();
    let mut next = gens.last().copied();
    while let Some(g) = next.filter(|_| kept.len() < KEEP_GENERATIONS) {
        let file = IndexFile::open(&dir.join(manifest::file_name(g)), manifest::KIND).ok()?;
        next = Manifest::read(&file).ok()?.parent;
        kept.push(g);
    }
    Some(kept)
}

/// The batches of generation `g` of the index in `dir`.
pub(super) fn batches_of(dir: &Path, g: u64) -> Result<Manifest, Error> {
    let path = dir.join(manifest::file_name(g));
    let file = IndexFile::open(&path, manifest::KIND).map_err(|e| {
        Error::index(format!(
            "{e} (generation {g} is no longer kept: an index keeps the generations of its last \
             {} changes, for rollback)",
            KEEP_GENERATIONS - 1
        ))
    })?;
    Manifest::read(&file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A writer killed after writing a segment but before its manifest
    /// (here: dropped without committing, its files left as a killed
    /// process leaves them) leaves the old generation; the next writer
    /// removes the leftovers and reuses their names.
    #[test]
    fn leftovers_of_a_killed_writer_are_ignored_then_removed() {
        let d = std::env::temp_dir().join(format!("neardup-dir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        create(&d, b"settings").unwrap();
        let (mut writer, snapshot) = Writer::open(&d).unwrap();
        assert_eq!(snapshot.manifest().generation, 0);
        let mut f = writer.new_file(1).unwrap();
        let mut s = f.section(*b"X\0\0\0\0\0\0\0");
        s.write_all(b"data").unwrap();
        s.finish().unwrap();
        f.finish().unwrap();
        fs::write(d.join(".tmp-1-2-seg"), b"half a file").unwrap();
        drop((writer, snapshot));
        let names = || -> BTreeSet<String> {
            fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        assert!(names().contains("seg-00000000000000000001-0000.ndx"));
        assert_eq!(Snapshot::open(&d).unwrap().manifest().generation, 0);
        let (mut writer, snapshot) = Writer::open(&d).unwrap();
        assert_eq!(
            names(),
            ["LOCK", "gen-00000000000000000000.ndm"]
                .map(String::from)
                .into()
        );
        let f = writer.new_file(1).unwrap();
        let info = f.finish().unwrap();
        let mut next = snapshot.manifest().clone();
        next.generation = 1;
        next.parent = Some(0);
        next.batches.push(manifest::Batch {
            name: "b".into(),
            created: 0,
            digest: 0,
            paragraphs: 0,
        });
        next.segments.push(info);
        writer.commit(&next).unwrap();
        drop((writer, snapshot));
        assert_eq!(Snapshot::open(&d).unwrap().manifest(), &next);
        // A second writer is refused while one holds the lock.
        let held = Writer::open(&d).unwrap();
        let err = Writer::open(&d).unwrap_err();
        assert!(err.to_string().contains("LOCK is held"), "{err}");
        drop(held);
        fs::remove_dir_all(&d).unwrap();
    }

    /// Old generations go once no reader holds them; a reader's files
    /// stay while it reads.
    #[test]
    fn cleanup_keeps_what_readers_hold() {
        let d = std::env::temp_dir().join(format!("neardup-clean-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        create(&d, b"settings").unwrap();
        let reader = Snapshot::open(&d).unwrap();
        for g in 1..=(KEEP_GENERATIONS as u64 + 3) {
            let (writer, snapshot) = Writer::open(&d).unwrap();
            let mut next = snapshot.manifest().clone();
            next.generation = g;
            next.parent = Some(g - 1);
            writer.commit(&next).unwrap();
        }
        let gens = generations(&d).unwrap();
        assert!(gens.contains(&0), "the reader's generation stays: {gens:?}");
        assert_eq!(gens.len(), KEEP_GENERATIONS + 1, "{gens:?}");
        drop(reader);
        let (writer, snapshot) = Writer::open(&d).unwrap();
        let mut next = snapshot.manifest().clone();
        next.parent = Some(next.generation);
        next.generation += 1;
        writer.commit(&next).unwrap();
        assert_eq!(generations(&d).unwrap().len(), KEEP_GENERATIONS);
        fs::remove_dir_all(&d).unwrap();
    }
}
