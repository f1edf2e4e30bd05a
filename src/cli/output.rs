//! Writing neardup's own files (reports, cleaned inputs, logs) safely: an
//! output is never an input nor inside a directory being read, and it is
//! written under a temporary name in its final directory, synced, and
//! renamed when complete, so that a failed or interrupted run never leaves
//! a half-written file under its final name.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use neardup::rewrite::target::real_path;

use super::inputs::{FileId, Origin, file_id};
use super::interrupt;

/// An output file being written under a temporary name in its final
/// directory; renamed to its final name by [`Staged::commit`], deleted if
/// dropped before. An output that already exists and is not a regular file
/// (`/dev/null`, a named pipe, a terminal) is written directly: renaming a
/// file over it would replace the device or the pipe itself.
pub struct Staged {
    to: To,
    path: PathBuf,
}

enum To {
    Temp {
        temp: tempfile::NamedTempFile,
        /// Deletes the temporary file on an interrupt; dropped after `temp`.
        _tracked: interrupt::Tracked,
    },
    Special(File),
}

impl Staged {
    /// Starts writing `path`, whose directory must exist.
    pub fn create(path: &Path) -> anyhow::Result<Staged> {
        if let Ok(meta) = fs::metadata(path)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let file = File::options()
                .write(true)
                .open(path)
                .with_context(|| format!("{}: cannot open it for writing", path.display()))?;
            return Ok(Staged {
                to: To::Special(file),
                path: path.to_path_buf(),
            });
        }
        let dir = parent(path);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".neardup-tmp");
        // Temporary files are created private (0600); an output should get
        // the permissions of any new file, 0666 less the umask.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(dir).with_context(|| {
            format!(
                "{}: cannot create a temporary file in {}",
                path.display(),
                dir.display()
            )
        })?;
        Ok(Staged {
            to: To::Temp {
                _tracked: interrupt::track(temp.path().to_path_buf()),
                temp,
            },
            path: path.to_path_buf(),
        })
    }

    pub fn writer(&mut self) -> &mut File {
        match &mut self.to {
            To::Temp { temp, .. } => temp.as_file_mut(),
            To::Special(file) => file,
        }
    }

    /// Flushes to disk and moves the file to its final name.
    pub fn commit(self) -> anyhow::Result<()> {
        let path = self.path;
        let To::Temp { temp, _tracked } = self.to else {
            return Ok(());
        };
        temp.as_file()
            .sync_all()
            .with_context(|| format!("writing {}", path.display()))?;
        temp.persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// The directory `path` is in (`.` for a bare file name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes the whole file `path` with `write`, staged (see [`Staged`]).
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let mut staged = Staged::create(path)?;
    let writing = || format!("writing {}", path.display());
    let mut out = io::BufWriter::with_capacity(1 << 16, staged.writer());
    write(&mut out).with_context(writing)?;
    out.flush().with_context(writing)?;
    drop(out);
    staged.commit()
}

/// Refuses any output that is an input or lies inside a directory being
/// read. (The walk can leave neardup's outputs out, but an output written
/// into the corpus it came from is a trap: the next run of any other tool
/// over that directory reads both.)
pub fn refuse_inputs<'a>(
    outputs: impl IntoIterator<Item = &'a Path>,
    paths: &[PathBuf],
    origins: &[Origin],
) -> Result<(), String> {
    let outputs: Vec<&Path> = outputs.into_iter().collect();
    if outputs.is_empty() {
        return Ok(());
    }
    // An output is an input when it is the same file: compared by what the
    // files are (device and inode) rather than by resolving every input's
    // path, which for a tree of many small files cost a path walk each.
    // An output that does not exist yet is no input.
    let existing: Vec<fs::Metadata> = outputs
        .iter()
        .filter_map(|out| fs::metadata(out).ok())
        .collect();
    let files: HashSet<FileId> = if existing.is_empty() {
        HashSet::new()
    } else {
        origins
            .iter()
            .filter_map(|o| match o {
                Origin::File { path, .. } => fs::metadata(path).ok().map(|m| file_id(path, &m)),
                Origin::Stdin => None,
            })
            .collect()
    };
    let dirs: Vec<(PathBuf, &PathBuf)> = paths
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| fs::canonicalize(p).ok().map(|c| (c, p)))
        .collect();
    let mut seen = HashSet::new();
    for out in outputs {
        let resolved = real_path(out);
        let same_file = fs::metadata(out).is_ok_and(|m| files.contains(&file_id(out, &m)));
        if same_file {
            return Err(format!(
                "refusing to write {}: it is an input",
                out.display()
            ));
        }
        if let Some((_, dir)) = dirs.iter().find(|(d, _)| resolved.starts_with(d)) {
            return Err(format!(
                "refusing to write {}: it is inside the input directory {}, which is being read",
                out.display(),
                dir.display()
            ));
        }
        if !seen.insert(resolved) {
            return Err(format!(
                "{} is named as two outputs (the removal log and a cleaned file?)",
                out.display()
            ));
        }
    }
    Ok(())
}
