//! Writing neardup's own files (reports, cleaned inputs, logs) safely: an
//! output is never an input nor inside a directory being read, and it is
//! written under a temporary name in its final directory, synced, and
//! renamed when complete, so that a failed or interrupted run never leaves
//! a half-written file under its final name.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

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
