//! Paths in, library [`Input`]s out: directory walking, format detection
//! and standard input. This is the only code that opens files.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, mpsc};

use neardup::Error;
use neardup::corpus::{
    FileSource, Format, Input, Probe, ReadSeek, Source, format_from_name, probe, sniff,
};

use super::args::InputFormat;
use super::config::Select;
use super::interrupt;

/// Standard input, copied to a temporary file first so that the
/// verification pass can read it again.
struct StdinSource {
    spool: tempfile::NamedTempFile,
    /// Deletes the spool on an interrupt; dropped after it.
    _tracked: interrupt::Tracked,
}

impl Source for StdinSource {
    fn name(&self) -> &str {
        "<stdin>"
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(self.spool.reopen()?))
    }

    fn size_hint(&self) -> Option<u64> {
        self.spool.as_file().metadata().ok().map(|m| m.len())
    }

    fn open_seekable(&self) -> io::Result<Box<dyn ReadSeek>> {
        Ok(Box::new(self.spool.reopen()?))
    }
}

pub use neardup::rewrite::target::Origin;
use neardup::rewrite::target::{FileId, file_id};

/// The inputs named by `paths`, with where each came from, and the
/// problems with paths: errors for those that could not be used
/// (reported, while the others are still scanned), warnings for files left
/// out on purpose. Files `select` does not select are left out silently;
/// directory walks also leave out `exclude` (neardup's own files: an
/// output inside an input directory is never read as input).
///
/// The rules, like ripgrep's and fd's where they apply:
///
/// - Directories are walked recursively in sorted order; hidden entries
///   (names starting with `.`) are left out.
/// - Symbolic links are followed, to files and to directories. A link to a
///   directory that contains it (a loop) is an error naming the link; the
///   rest of the walk goes on.
/// - A file reached twice (named twice, or through a link) is read once,
///   with a warning. A link whose target does not exist, found in a
///   directory, is left out with a warning (named on the command line, it
///   is an error).
/// - In a directory walk, a file that looks binary (a NUL byte in its first
///   8 KiB, decompressed) and anything that is not a regular file (a FIFO,
///   a socket) is left out with a warning. Files named on the command line
///   are read whatever they hold.
pub fn collect(
    paths: &[PathBuf],
    format: InputFormat,
    select: &Select,
    exclude: &[&Path],
) -> (Vec<(Input, Origin)>, Vec<Error>) {
    let mut walk = Walk {
        format,
        select,
        exclude: exclude
            .iter()
            .filter_map(|p| fs::canonicalize(p).ok())
            .collect(),
        excluded_files: exclude
            .iter()
            .filter_map(|p| fs::metadata(p).ok().map(|meta| file_id(p, &meta)))
            .collect(),
        seen: HashMap::new(),
        entries: Vec::new(),
        looker: None,
    };
    let stdin_only = [PathBuf::from("-")];
    let paths = if paths.is_empty() {
        &stdin_only[..]
    } else {
        paths
    };
    // The files to look at are looked at by other threads while the walk
    // goes on (a tree of twenty thousand small files spent a quarter of a
    // second walking, then looking, before the first pass began).
    let looked = Mutex::new(Vec::new());
    let (tx, rx) = mpsc::channel::<(usize, PathBuf)>();
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        for _ in 0..rayon::current_num_threads() {
            scope.spawn(|| {
                loop {
                    let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok((at, path)) = next else { break };
                    let head = probe(&FileSource::new(&path)).ok();
                    (looked.lock().unwrap_or_else(PoisonError::into_inner)).push((at, head));
                }
            });
        }
        walk.looker = Some(tx);
        walk.paths(paths, format);
        walk.looker = None;
    });
    let looked = looked.into_inner().unwrap_or_else(PoisonError::into_inner);
    walk.finish(looked)
}

impl Walk<'_> {
    /// Walks `paths` in order.
    fn paths(&mut self, paths: &[PathBuf], format: InputFormat) {
        let walk = self;
        for path in paths {
            if path.as_os_str() == "-" {
                match spool_stdin() {
                    Ok(source) => {
                        let format = chosen(format).unwrap_or_else(|| {
                            sniff(&source).ok().flatten().unwrap_or(Format::Text)
                        });
                        walk.entries
                            .push(Met::Input(Input::new(source, format), Origin::Stdin))
                    }
                    Err(e) => walk.problem(Error::io("<stdin>", e)),
                }
                continue;
            }
            match fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    if walk.first_visit(path, &m) {
                        let ancestors = fs::canonicalize(path).into_iter().collect();
                        walk.dir(path, path, ancestors);
                    }
                }
                Ok(m) => {
                    let origin = Origin::File {
                        path: path.clone(),
                        root: None,
                        relative: path.file_name().map(PathBuf::from).unwrap_or_default(),
                    };
                    walk.file(path, &m, origin, false);
                }
                Err(e) => walk.problem(path_error(path, e)),
            }
        }
    }
}

/// The state of collecting inputs.
struct Walk<'s> {
    format: InputFormat,
    /// The globs a file must pass.
    select: &'s Select,
    /// Canonical paths never read as input.
    exclude: Vec<PathBuf>,
    /// The same, as the files they are (no path resolution per file).
    excluded_files: HashSet<FileId>,
    /// Every file and directory reached so far, and the path it was first
    /// reached by.
    seen: HashMap<FileId, PathBuf>,
    /// Inputs and problems in the order they were met. Files to look at
    /// are looked at together at the end, in parallel (a tree of twenty
    /// thousand small files spent a fifth of a scan's time opening each
    /// one on this thread).
    entries: Vec<Met>,
    /// Where to send each file to look at, with its place in `entries`.
    looker: Option<mpsc::Sender<(usize, PathBuf)>>,
}

/// What the walk met, in order.
enum Met {
    Input(Input, Origin),
    Problem(Error),
    /// A file whose first bytes decide its format or whether it is left
    /// out as binary ([`Walk::finish`]).
    Unprobed {
        path: PathBuf,
        /// Its size when the walk met it.
        size: u64,
        origin: Origin,
        walked: bool,
    },
}

impl Walk<'_> {
    /// Whether `path` is reached for the first time; if not, warns.
    fn first_visit(&mut self, path: &Path, meta: &fs::Metadata) -> bool {
        match self.seen.entry(file_id(path, meta)) {
            Entry::Vacant(v) => {
                v.insert(path.to_path_buf());
                true
            }
            Entry::Occupied(first) => {
                let message = if first.get() == path {
                    "named more than once; read once".to_owned()
                } else {
                    format!("the same as {}; read once", first.get().display())
                };
                self.problem(Error::skipped(&name(path), message));
                false
            }
        }
    }

    /// Adds the file `path` unless it was seen before or, found in a
    /// directory walk, is not a text file.
    fn file(&mut self, path: &Path, meta: &fs::Metadata, origin: Origin, walked: bool) {
        // Left out by the user's globs: silently, before the file is
        // looked at (a binary file excluded draws no warning).
        if !self.select.selects(&name(path)) {
            return;
        }
        if walked && !meta.is_file() {
            let message = "not a regular file (a FIFO, socket or device); skipped";
            return self.problem(Error::skipped(&name(path), message));
        }
        if !self.first_visit(path, meta) {
            return;
        }
        match chosen(self.format) {
            Some(format) if !walked => {
                let input = Input::new(FileSource::new(path), format);
                self.entries.push(Met::Input(input, origin));
            }
            _ => {
                if let Some(looker) = &self.looker {
                    // Should the lookers be gone, `finish` looks itself.
                    let _ = looker.send((self.entries.len(), path.to_path_buf()));
                }
                self.entries.push(Met::Unprobed {
                    path: path.to_path_buf(),
                    size: meta.len(),
                    origin,
                    walked,
                })
            }
        }
    }

    fn problem(&mut self, e: Error) {
        self.entries.push(Met::Problem(e));
    }

    /// The inputs and the problems, in the order met, once every file
    /// that needs it has had one look at its first bytes (`looked`, by
    /// place in `entries`), for both its format (unless chosen) and, in a
    /// walk, the binary test.
    fn finish(self, looked: Vec<(usize, Option<Probe>)>) -> (Vec<(Input, Origin)>, Vec<Error>) {
        let chosen = chosen(self.format);
        let mut heads: Vec<Option<Option<Probe>>> = vec![None; self.entries.len()];
        for (at, head) in looked {
            heads[at] = Some(head);
        }
        let looked: Vec<Result<(Input, Origin), Error>> = (self.entries.into_iter())
            .zip(heads)
            .map(|(met, head)| match met {
                Met::Input(input, origin) => Ok((input, origin)),
                Met::Problem(e) => Err(e),
                Met::Unprobed {
                    path,
                    size,
                    origin,
                    walked,
                } => {
                    let source = FileSource::new(&path).sized(size);
                    let head = head.unwrap_or_else(|| probe(&source).ok());
                    let format = chosen
                        .or(head.and_then(|h| h.format))
                        .unwrap_or_else(|| format_from_name(&path));
                    // Only formats read as text can be mistaken for binary files.
                    let textual = matches!(format, Format::Text | Format::Jsonl);
                    if walked && textual && head.is_some_and(|h| h.binary) {
                        let message = "binary file (a NUL byte in its first 8 KiB); skipped";
                        return Err(Error::skipped(&name(&path), message));
                    }
                    Ok((Input::new(source, format), origin))
                }
            })
            .collect();
        let (mut inputs, mut problems) = (Vec::new(), Vec::new());
        for met in looked {
            match met {
                Ok(input) => inputs.push(input),
                Err(e) => problems.push(e),
            }
        }
        (inputs, problems)
    }

    /// Adds the files under `dir`, recursively, in sorted order.
    /// `ancestors` are the canonical paths of the directories being walked,
    /// `dir`'s included, to recognise a link back to one of them.
    fn dir(&mut self, root: &Path, dir: &Path, ancestors: Vec<PathBuf>) {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.problem(path_error(dir, e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) if !entry.file_name().to_string_lossy().starts_with('.') => {
                    paths.push((entry.path(), entry))
                }
                Ok(_) => {}
                Err(e) => self.problem(path_error(dir, e)),
            }
        }
        paths.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, entry) in paths {
            // What a link leads to is looked up by its path; anything else
            // is looked up relative to the open directory, which spares
            // resolving the whole path again for every file.
            let link = entry.file_type().map_or(true, |t| t.is_symlink());
            let meta = if link {
                fs::metadata(&path)
            } else {
                entry.metadata()
            };
            let meta = match meta {
                Ok(meta) => meta,
                Err(e) => {
                    self.problem(walked_path_error(&path, e));
                    continue;
                }
            };
            if meta.is_dir() {
                let real = match fs::canonicalize(&path) {
                    Ok(real) => real,
                    Err(e) => {
                        self.problem(path_error(&path, e));
                        continue;
                    }
                };
                if let Some(target) = ancestors.iter().find(|a| **a == real) {
                    let message = format!(
                        "symbolic link loop: leads back to {}, which contains it; not followed",
                        target.display()
                    );
                    self.problem(Error::io(&name(&path), io::Error::other(message)));
                } else if !self.exclude.contains(&real) && self.first_visit(&path, &meta) {
                    let mut inner = ancestors.clone();
                    inner.push(real);
                    self.dir(root, &path, inner);
                }
                continue;
            }
            if self.excluded_files.contains(&file_id(&path, &meta)) {
                continue;
            }
            let origin = Origin::File {
                path: path.clone(),
                root: Some(root.to_path_buf()),
                relative: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
            };
            self.file(&path, &meta, origin, true);
        }
    }
}

/// How reports name a path.
fn name(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The error of a path that cannot be used; for a symbolic link, says so
/// (a link whose target does not exist is not itself missing).
fn path_error(path: &Path, e: io::Error) -> Error {
    let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let message = match e.kind() {
        _ if !link => return Error::io(&name(path), e),
        io::ErrorKind::NotFound => "broken symbolic link: its target does not exist".to_owned(),
        _ => format!("cannot follow the symbolic link: {e}"),
    };
    Error::io(&name(path), io::Error::new(e.kind(), message))
}

/// The problem with a path found in a directory walk: as [`path_error`],
/// except that a dangling symbolic link is a warning, as in ripgrep. A
/// tree with a stale link is common (a copy of /usr/share/doc has
/// several) and nothing in it went unread, so it must not hide the exit
/// status that says whether duplicates were found.
fn walked_path_error(path: &Path, e: io::Error) -> Error {
    let dangling = e.kind() == io::ErrorKind::NotFound
        && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if dangling {
        let message = "broken symbolic link: its target does not exist; skipped";
        return Error::skipped(&name(path), message);
    }
    path_error(path, e)
}

fn spool_stdin() -> io::Result<StdinSource> {
    let mut spool = tempfile::NamedTempFile::new()?;
    let tracked = interrupt::track(spool.path().to_path_buf());
    io::copy(&mut io::stdin().lock(), spool.as_file_mut())?;
    Ok(StdinSource {
        spool,
        _tracked: tracked,
    })
}

/// The format `--input-format` names, or `None` for `auto`.
fn chosen(format: InputFormat) -> Option<Format> {
    match format {
        InputFormat::Auto => None,
        InputFormat::Text => Some(Format::Text),
        InputFormat::Jsonl => Some(Format::Jsonl),
        InputFormat::Wet => Some(Format::Wet),
        InputFormat::Parquet => Some(Format::Parquet),
    }
}

/// The input for file `path`, in the format `format` names or, for
/// `auto`, the one its content or name announces.
pub fn file_input(path: PathBuf, format: InputFormat) -> Input {
    Input::from_file(FileSource::new(path), chosen(format))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Content beats the name: a WARC file called `.txt` is read as WET.
    #[test]
    fn magic_bytes_beat_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crawl.txt");
        fs::write(&path, "WARC/1.0\r\nContent-Length: 0\r\n\r\n\r\n\r\n").unwrap();
        assert_eq!(
            file_input(path.clone(), InputFormat::Auto).format,
            Format::Wet
        );
        assert_eq!(file_input(path, InputFormat::Text).format, Format::Text);
    }
}
