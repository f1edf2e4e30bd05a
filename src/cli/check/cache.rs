//! `--cache DIR`: the library's prints ([`neardup::print`]) kept in a
//! directory, one file per input, so that a later check fingerprints only
//! the files that changed.
//!
//! An entry is named by a hash of the input's path as shown (so a cache
//! restored on another machine, from the same working directory, still
//! matches) and starts with the file's size, modification time and a hash
//! of its raw bytes. A print is used when the size and modification time
//! are the same, or, when only the time differs, as after a fresh checkout
//! in CI, when the bytes hash the same: hashing a file costs a small part
//! of fingerprinting it. The library refuses prints made with other
//! settings, so one directory serves any settings (the last ones win).
//! Entries are written under a temporary name and renamed, so concurrent
//! runs and interruptions leave whole entries or none. The cache is only an
//! accelerator: a failure to read it means fingerprinting, a failure to
//! write it a warning.

use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use neardup::hash::xxh3;
use neardup::pipeline::print::PrintCache;

const MAGIC: &[u8; 8] = b"NDCACHE1";

/// A file's size and modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    /// Nanoseconds since the Unix epoch (0 when unknown).
    modified: u128,
}

impl Stamp {
    fn of(path: &Path) -> io::Result<Stamp> {
        let m = fs::metadata(path)?;
        let modified = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Stamp {
            len: m.len(),
            modified,
        })
    }
}

/// One input the cache may hold a print for.
#[derive(Debug)]
struct Entry {
    /// The file to read.
    path: PathBuf,
    /// Its name as shown, which names the entry.
    name: String,
    /// Its stamp before the scan, so that a file changing during the scan
    /// does not get a print of other contents.
    before: Option<Stamp>,
}

/// Prints in a directory.
#[derive(Debug)]
pub struct DirCache {
    dir: PathBuf,
    /// Per input of the scan; `None` for standard input.
    entries: Vec<Option<Entry>>,
    /// The first failure to store, reported once after the scan.
    failure: Mutex<Option<String>>,
    /// Prints handed out.
    hits: AtomicUsize,
}

impl DirCache {
    /// A cache in `dir` (created if missing) for inputs given as
    /// `(name, file)`.
    pub fn new(dir: &Path, inputs: Vec<(String, Option<PathBuf>)>) -> io::Result<DirCache> {
        fs::create_dir_all(dir)?;
        let entries = inputs
            .into_iter()
            .map(|(name, path)| {
                path.map(|path| Entry {
                    before: Stamp::of(&path).ok(),
                    path,
                    name,
                })
            })
            .collect();
        Ok(DirCache {
            dir: dir.to_path_buf(),
            entries,
            failure: Mutex::new(None),
            hits: AtomicUsize::new(0),
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir
            .join(format!("{:016x}.print", xxh3(name.as_bytes(), 0)))
    }

    /// How many prints the scan used.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// The first failure to store an entry, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok()?.clone()
    }

    fn write(&self, e: &Entry, print: &[u8]) -> io::Result<()> {
        let Some(before) = e.before else {
            return Ok(());
        };
        // A file that changed since the scan began may not be what was
        // fingerprinted: no entry.
        if Stamp::of(&e.path)? != before {
            return Ok(());
        }
        let mut head = Vec::with_capacity(64 + e.name.len());
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&before.len.to_le_bytes());
        head.extend_from_slice(&before.modified.to_le_bytes());
        head.extend_from_slice(&content_hash(&e.path)?.to_le_bytes());
        head.extend_from_slice(&(e.name.len() as u64).to_le_bytes());
        head.extend_from_slice(e.name.as_bytes());
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        let _tracked = crate::cli::interrupt::track(tmp.path().to_path_buf());
        tmp.write_all(&head)?;
        tmp.write_all(print)?;
        tmp.persist(self.file(&e.name)).map_err(|e| e.error)?;
        Ok(())
    }
}

/// XXH3 of a file's bytes, read in pieces (one-shot and streaming XXH3
/// agree by specification).
fn content_hash(path: &Path) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hasher.digest()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The header fields of an entry, and where its print starts.
fn parse(data: &[u8]) -> Option<(Stamp, u64, &str, usize)> {
    let field = |at: usize, n: usize| data.get(at..at + n);
    if field(0, 8)? != MAGIC {
        return None;
    }
    let len = u64::from_le_bytes(field(8, 8)?.try_into().ok()?);
    let modified = u128::from_le_bytes(field(16, 16)?.try_into().ok()?);
    let hash = u64::from_le_bytes(field(32, 8)?.try_into().ok()?);
    let name_len = usize::try_from(u64::from_le_bytes(field(40, 8)?.try_into().ok()?)).ok()?;
    let name = std::str::from_utf8(field(48, name_len)?).ok()?;
    Some((Stamp { len, modified }, hash, name, 48 + name_len))
}

impl PrintCache for DirCache {
    fn load(&self, input: usize) -> Option<Vec<u8>> {
        let e = self.entries.get(input)?.as_ref()?;
        let mut data = fs::read(self.file(&e.name)).ok()?;
        let (stamp, hash, name, start) = parse(&data)?;
        let now = e.before?;
        let same = name == e.name
            && stamp.len == now.len
            && (stamp.modified == now.modified || content_hash(&e.path).ok()? == hash);
        if !same {
            return None;
        }
        data.drain(..start);
        Some(data)
    }

    fn used(&self, _input: usize) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    fn store(&self, input: usize, print: &[u8]) {
        let Some(Some(e)) = self.entries.get(input) else {
            return;
        };
        if let Err(err) = self.write(e, print)
            && let Ok(mut failure) = self.failure.lock()
        {
            failure.get_or_insert_with(|| format!("{}: {err}", self.dir.display()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, DirCache, PathBuf) {
        let dir = tempfile::TempDir::new().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, "some text\n").unwrap();
        let cache = DirCache::new(
            &dir.path().join("cache"),
            vec![
                ("a.txt".into(), Some(file.clone())),
                ("<stdin>".into(), None),
            ],
        )
        .unwrap();
        (dir, cache, file)
    }

    #[test]
    fn entries_come_back_while_the_file_is_unchanged() {
        let (_dir, cache, file) = setup();
        assert_eq!(cache.load(0), None);
        cache.store(0, b"print");
        cache.store(1, b"stdin is never stored");
        assert_eq!(cache.load(0).as_deref(), Some(&b"print"[..]));
        assert_eq!(cache.load(1), None);
        assert_eq!(cache.failure(), None);
        // Same bytes, new time (a fresh checkout): the hash decides.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let cache = DirCache::new(&cache.dir, vec![("a.txt".into(), Some(file.clone()))]).unwrap();
        assert_eq!(cache.load(0).as_deref(), Some(&b"print"[..]));
        // Other bytes of the same size: no entry.
        fs::write(&file, "more text\n").unwrap();
        let cache = DirCache::new(&cache.dir, vec![("a.txt".into(), Some(file))]).unwrap();
        assert_eq!(cache.load(0), None);
    }

    #[test]
    fn a_file_changed_during_the_scan_gets_no_entry() {
        let (_dir, cache, file) = setup();
        fs::write(&file, "other text, longer\n").unwrap();
        cache.store(0, b"print of the old text");
        assert_eq!(
            fs::read_dir(&cache.dir).unwrap().count(),
            0,
            "nothing written"
        );
    }

    #[test]
    fn streamed_hash_is_the_one_shot_hash() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("big");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &bytes).unwrap();
        assert_eq!(content_hash(&path).unwrap(), xxh3(&bytes, 0));
    }

    #[test]
    fn damaged_entries_are_ignored() {
        let (_dir, cache, _file) = setup();
        cache.store(0, b"print");
        let path = cache.file("a.txt");
        let data = fs::read(&path).unwrap();
        for cut in [0, 7, 20, 47, 50] {
            fs::write(&path, &data[..cut]).unwrap();
            assert_eq!(cache.load(0), None, "cut at {cut}");
        }
    }
}
