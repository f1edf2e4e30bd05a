//! Paths in, [`Input`]s out: the walk over the files and directories a
//! user names, with where each input came from ([`Origin`], which decides
//! where `clean` writes it) and the problems met on the way.
//!
//! It is in the library, not in the command line, because the command line
//! and the Python package must read the same files from the same paths and
//! say the same things about the ones they leave out: two walkers drifted
//! apart once (the package read a file named twice twice, hung on a FIFO,
//! and worded its warnings otherwise, so its JSON report was not the
//! command's). What stays with each caller is its own: standard input
//! ([`WalkOptions::stdin`]), the user's globs ([`WalkOptions::select`]), its
//! own files ([`WalkOptions::exclude`]) and where relative paths are read
//! from ([`WalkOptions::base`]).
//!
//! The rules, like ripgrep's and fd's where they apply:
//!
//! - Directories are walked recursively in sorted order; hidden entries
//!   (names starting with `.`) are left out.
//! - Symbolic links are followed, to files and to directories. A link to a
//!   directory that contains it (a loop) is an error naming the link; the
//!   rest of the walk goes on.
//! - A file reached twice (named twice, or through a link) is read once,
//!   with a warning. A link whose target does not exist, found in a
//!   directory, is left out with a warning (named, it is an error).
//! - In a directory walk, a file that looks binary (a NUL byte in its first
//!   8 KiB, decompressed) and anything that is not a regular file (a FIFO,
//!   a socket) is left out with a warning. Files named are read whatever
//!   they hold.
//! - A neardup index (a directory holding a `gen-<20 digits>.ndm`
//!   manifest), or a file in one, named as an input is an error naming
//!   it: an index's files are never corpus. One met in a directory walk
//!   is left out, silently when it is the caller's own, else with a
//!   warning.
//! - A path that cannot be used is an error naming it; the other paths are
//!   still walked.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, mpsc};

use super::{FileSource, Format, Input, Probe, format_from_name, probe};
use crate::Error;
use crate::index::dir::is_index;
use crate::index::manifest::generation_of;
use crate::rewrite::target::{FileId, Origin, file_id};

/// What a walk reads and how: everything but the paths.
///
/// The default reads every file in the format its content or name
/// announces, relative paths from the working directory, `-` as a file
/// named `-`.
#[derive(Clone, Copy, Default)]
pub struct WalkOptions<'a> {
    /// The format of every input; `None`: each file's first bytes decide
    /// (Parquet's and WARC's magic bytes), else its name
    /// ([`format_from_name`]).
    pub format: Option<Format>,
    /// The caller's own files (its output, index, configuration): never
    /// read as input when met in a directory walk, so that an output
    /// inside an input directory is not read back by the next run.
    pub exclude: &'a [&'a Path],
    /// Whether the file shown as this path is read: files it refuses are
    /// left out silently, before they are opened (the command line's
    /// `--glob` and `--exclude`). `None` reads every file.
    pub select: Option<&'a dyn Fn(&str) -> bool>,
    /// Where relative paths are read from; `None`: the working directory.
    /// Inputs, origins and messages keep the paths as given (a worker whose
    /// working directory is not the driver's names files as the driver
    /// does).
    pub base: Option<&'a Path>,
    /// What the path `-` stands for (the command line's standard input);
    /// `None`: a file named `-`.
    pub stdin: Option<&'a dyn Fn() -> Result<Input, Error>>,
}

impl fmt::Debug for WalkOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalkOptions")
            .field("format", &self.format)
            .field("exclude", &self.exclude)
            .field("select", &self.select.map(|_| "<fn>"))
            .field("base", &self.base)
            .field("stdin", &self.stdin.map(|_| "<fn>"))
            .finish()
    }
}

/// The inputs at `paths`, in order, with where each came from, and the
/// problems with paths: errors for those that could not be used (the
/// others are still walked) and warnings for files left out on purpose,
/// by the rules of the [module](self).
///
/// Files whose format or binary test needs a look at their first bytes
/// are looked at by one thread per thread of the current rayon pool while
/// the walk goes on (a tree of twenty thousand small files spent a quarter
/// of a second walking, then looking); the library configures no pool.
///
/// # Example
///
/// ```
/// use neardup::corpus::walk::{WalkOptions, collect};
/// use neardup::rewrite::target::Origin;
///
/// let dir = std::env::temp_dir().join(format!("neardup-walk-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("news"))?;
/// std::fs::write(dir.join("news/a.txt"), "One paragraph.\n")?;
/// std::fs::write(dir.join("news/b.jsonl"), "{\"text\": \"Another.\"}\n")?;
/// let options = WalkOptions { base: Some(&dir), ..WalkOptions::default() };
/// let (inputs, problems) = collect(&["news".into(), "news/a.txt".into()], &options);
/// let names: Vec<&str> = inputs.iter().map(|(i, _)| i.source.name()).collect();
/// assert_eq!(names, ["news/a.txt", "news/b.jsonl"]);
/// assert!(matches!(&inputs[1].1, Origin::File { relative, .. } if relative.as_os_str() == "b.jsonl"));
/// assert_eq!(problems[0].to_string(), "news/a.txt: named more than once; read once");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn collect(paths: &[PathBuf], options: &WalkOptions<'_>) -> (Vec<(Input, Origin)>, Vec<Error>) {
    let exclude: Vec<PathBuf> = options
        .exclude
        .iter()
        .map(|p| resolve(options.base, p))
        .collect();
    let mut walk = Walk {
        options,
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
        walk.paths(paths);
        walk.looker = None;
    });
    let looked = looked.into_inner().unwrap_or_else(PoisonError::into_inner);
    walk.finish(looked)
}

/// A path as reports name it (`shown`, as given or joined below a path
/// as given) and where it is read (`real`, from the base).
struct At {
    shown: PathBuf,
    real: PathBuf,
}

impl At {
    /// `name` below this directory.
    fn join(&self, name: &std::ffi::OsStr) -> At {
        At {
            shown: self.shown.join(name),
            real: self.real.join(name),
        }
    }
}

/// The state of collecting inputs.
struct Walk<'o, 'a> {
    options: &'o WalkOptions<'a>,
    /// Canonical paths never read as input.
    exclude: Vec<PathBuf>,
    /// The same, as the files they are (no path resolution per file).
    excluded_files: HashSet<FileId>,
    /// Every file and directory reached so far, and the path it was first
    /// reached by (as shown).
    seen: HashMap<FileId, PathBuf>,
    /// Inputs and problems in the order they were met. Files to look at
    /// are looked at by other threads and put back in this order at the
    /// end (a tree of twenty thousand small files spent a fifth of a
    /// scan's time opening each one on this thread).
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
        at: At,
        /// Its size when the walk met it.
        size: u64,
        origin: Origin,
        walked: bool,
    },
}

impl Walk<'_, '_> {
    /// Walks `paths` in order.
    fn paths(&mut self, paths: &[PathBuf]) {
        for path in paths {
            if let (true, Some(stdin)) = (path.as_os_str() == "-", self.options.stdin) {
                match stdin() {
                    Ok(input) => self.entries.push(Met::Input(input, Origin::Stdin)),
                    Err(e) => self.problem(e),
                }
                continue;
            }
            let at = At {
                shown: path.clone(),
                real: resolve(self.options.base, path),
            };
            match fs::metadata(&at.real) {
                Ok(m) if m.is_dir() => {
                    if is_index(&at.real) {
                        self.problem(index_error(&at.shown, "is a neardup index"));
                    } else if self.first_visit(&at.shown, &at.real, &m) {
                        let ancestors = fs::canonicalize(&at.real).into_iter().collect();
                        self.dir(&at, &at, ancestors);
                    }
                }
                Ok(m) => {
                    let holder = fs::canonicalize(&at.real)
                        .ok()
                        .and_then(|real| real.parent().map(Path::to_path_buf));
                    if holder.is_some_and(|dir| is_index(&dir)) {
                        self.problem(index_error(&at.shown, "is a file of a neardup index"));
                        continue;
                    }
                    let origin = Origin::File {
                        path: path.clone(),
                        root: None,
                        relative: path.file_name().map(PathBuf::from).unwrap_or_default(),
                    };
                    self.file(at, &m, origin, false);
                }
                Err(e) => self.problem(path_error(&at, e)),
            }
        }
    }

    /// Whether the file `shown` (at `real`) is reached for the first time;
    /// if not, warns.
    fn first_visit(&mut self, shown: &Path, real: &Path, meta: &fs::Metadata) -> bool {
        match self.seen.entry(file_id(real, meta)) {
            Entry::Vacant(v) => {
                v.insert(shown.to_path_buf());
                true
            }
            Entry::Occupied(first) => {
                let message = if first.get() == shown {
                    "named more than once; read once".to_owned()
                } else {
                    format!("the same as {}; read once", first.get().display())
                };
                self.problem(Error::skipped(&name(shown), message));
                false
            }
        }
    }

    /// Adds the file `at` unless it was seen before or, found in a
    /// directory walk, is not a text file.
    fn file(&mut self, at: At, meta: &fs::Metadata, origin: Origin, walked: bool) {
        // Left out by the caller's selection: silently, before the file
        // is looked at (a binary file excluded draws no warning).
        if let Some(select) = self.options.select
            && !select(&name(&at.shown))
        {
            return;
        }
        if walked && !meta.is_file() {
            let message = "not a regular file (a FIFO, socket or device); skipped";
            return self.problem(Error::skipped(&name(&at.shown), message));
        }
        if !self.first_visit(&at.shown, &at.real, meta) {
            return;
        }
        match self.options.format {
            Some(format) if !walked => {
                let input = Input::new(source(&at), format);
                self.entries.push(Met::Input(input, origin));
            }
            _ => {
                if let Some(looker) = &self.looker {
                    // Should the lookers be gone, `finish` looks itself.
                    let _ = looker.send((self.entries.len(), at.real.clone()));
                }
                self.entries.push(Met::Unprobed {
                    at,
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
        let chosen = self.options.format;
        let mut heads: Vec<Option<Option<Probe>>> = vec![None; self.entries.len()];
        for (at, head) in looked {
            heads[at] = Some(head);
        }
        let (mut inputs, mut problems) = (Vec::new(), Vec::new());
        for (met, head) in self.entries.into_iter().zip(heads) {
            match met {
                Met::Input(input, origin) => inputs.push((input, origin)),
                Met::Problem(e) => problems.push(e),
                Met::Unprobed {
                    at,
                    size,
                    origin,
                    walked,
                } => {
                    let source = source(&at).sized(size);
                    let head = head.unwrap_or_else(|| probe(&source).ok());
                    let format = chosen
                        .or(head.and_then(|h| h.format))
                        .unwrap_or_else(|| format_from_name(&at.real));
                    // Only formats read as text can be mistaken for binary files.
                    let textual = matches!(format, Format::Text | Format::Jsonl);
                    if walked && textual && head.is_some_and(|h| h.binary) {
                        let message = "binary file (a NUL byte in its first 8 KiB); skipped";
                        problems.push(Error::skipped(&name(&at.shown), message));
                    } else {
                        inputs.push((Input::new(source, format), origin));
                    }
                }
            }
        }
        (inputs, problems)
    }

    /// Adds the files under `dir`, recursively, in sorted order.
    /// `ancestors` are the canonical paths of the directories being walked,
    /// `dir`'s included, to recognise a link back to one of them.
    fn dir(&mut self, root: &At, dir: &At, ancestors: Vec<PathBuf>) {
        let entries = match fs::read_dir(&dir.real) {
            Ok(entries) => entries,
            Err(e) => return self.problem(path_error(dir, e)),
        };
        let (mut found, mut index) = (Vec::new(), false);
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let file_name = entry.file_name();
                    let name = file_name.to_string_lossy();
                    index |= generation_of(&name).is_some();
                    if !name.starts_with('.') {
                        found.push((dir.join(&file_name), entry))
                    }
                }
                Err(e) => self.problem(path_error(dir, e)),
            }
        }
        if index {
            let message = "a neardup index, not a corpus; skipped";
            return self.problem(Error::skipped(&name(&dir.shown), message));
        }
        found.sort_by(|a, b| a.0.shown.cmp(&b.0.shown));
        for (at, entry) in found {
            // What a link leads to is looked up by its path; anything else
            // is looked up relative to the open directory, which spares
            // resolving the whole path again for every file.
            let link = entry.file_type().map_or(true, |t| t.is_symlink());
            let meta = if link {
                fs::metadata(&at.real)
            } else {
                entry.metadata()
            };
            let meta = match meta {
                Ok(meta) => meta,
                Err(e) => {
                    self.problem(walked_path_error(&at, e));
                    continue;
                }
            };
            if meta.is_dir() {
                let real = match fs::canonicalize(&at.real) {
                    Ok(real) => real,
                    Err(e) => {
                        self.problem(path_error(&at, e));
                        continue;
                    }
                };
                if let Some(target) = ancestors.iter().find(|a| **a == real) {
                    let message = format!(
                        "symbolic link loop: leads back to {}, which contains it; not followed",
                        target.display()
                    );
                    self.problem(Error::io(&name(&at.shown), io::Error::other(message)));
                } else if !self.exclude.contains(&real)
                    && self.first_visit(&at.shown, &at.real, &meta)
                {
                    let mut inner = ancestors.clone();
                    inner.push(real);
                    self.dir(root, &at, inner);
                }
                continue;
            }
            if self.excluded_files.contains(&file_id(&at.real, &meta)) {
                continue;
            }
            let origin = Origin::File {
                path: at.shown.clone(),
                root: Some(root.shown.clone()),
                relative: at
                    .shown
                    .strip_prefix(&root.shown)
                    .unwrap_or(&at.shown)
                    .to_path_buf(),
            };
            self.file(at, &meta, origin, true);
        }
    }
}

/// `path`, read from `base` when it is relative.
fn resolve(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

/// The file at `at`, named as shown.
fn source(at: &At) -> FileSource {
    FileSource::with_name(&at.real, name(&at.shown))
}

/// How reports name a path.
fn name(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The error of an index (or a file of one) named as an input: `what` it
/// is, and why it is not read.
fn index_error(path: &Path, what: &str) -> Error {
    let message = format!("{what}, not a corpus (an index's files are never read as input)");
    Error::io(
        &name(path),
        io::Error::new(io::ErrorKind::InvalidInput, message),
    )
}

/// The error of a path that cannot be used; for a symbolic link, says so
/// (a link whose target does not exist is not itself missing).
fn path_error(at: &At, e: io::Error) -> Error {
    let link = fs::symlink_metadata(&at.real).is_ok_and(|m| m.file_type().is_symlink());
    let message = match e.kind() {
        _ if !link => return Error::io(&name(&at.shown), e),
        io::ErrorKind::NotFound => "broken symbolic link: its target does not exist".to_owned(),
        _ => format!("cannot follow the symbolic link: {e}"),
    };
    Error::io(&name(&at.shown), io::Error::new(e.kind(), message))
}

/// The problem with a path found in a directory walk: as [`path_error`],
/// except that a dangling symbolic link is a warning, as in ripgrep. A
/// tree with a stale link is common (a copy of /usr/share/doc has
/// several) and nothing in it went unread, so it must not hide the exit
/// status that says whether duplicates were found.
fn walked_path_error(at: &At, e: io::Error) -> Error {
    let dangling = e.kind() == io::ErrorKind::NotFound
        && fs::symlink_metadata(&at.real).is_ok_and(|m| m.file_type().is_symlink());
    if dangling {
        let message = "broken symbolic link: its target does not exist; skipped";
        return Error::skipped(&name(&at.shown), message);
    }
    path_error(at, e)
}
