//! Paths in, library [`Input`]s out: directory walking, format detection
//! and standard input. This is the only code that opens files.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use neardup::corpus::{Format, Input, ReadSeek, Source, sniff};

use super::args::InputFormat;

/// A file on disk.
struct FileSource {
    path: PathBuf,
    name: String,
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(File::open(&self.path)?))
    }

    fn size_hint(&self) -> Option<u64> {
        fs::metadata(&self.path).ok().map(|m| m.len())
    }

    fn open_seekable(&self) -> io::Result<Box<dyn ReadSeek>> {
        Ok(Box::new(File::open(&self.path)?))
    }
}

/// Standard input, copied to a temporary file first so that the
/// verification pass can read it again.
struct StdinSource {
    spool: tempfile::NamedTempFile,
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

/// Where an input came from, for commands that write one output per input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Standard input.
    Stdin,
    /// A file named on the command line, or found under a directory that
    /// was: `path` is `root` joined with `relative`.
    File {
        path: PathBuf,
        /// The directory given on the command line, if the file was found
        /// under one.
        root: Option<PathBuf>,
        /// The path below `root` (the file name for a file given directly).
        relative: PathBuf,
    },
}

/// The inputs named by `paths`, and the errors of paths that could not be
/// used (reported, while the others are still scanned).
pub fn collect(paths: &[PathBuf], format: InputFormat) -> (Vec<Input>, Vec<String>) {
    let (inputs, errors) = collect_with_origins(paths, format);
    (inputs.into_iter().map(|(input, _)| input).collect(), errors)
}

/// As [`collect`], with where each input came from.
pub fn collect_with_origins(
    paths: &[PathBuf],
    format: InputFormat,
) -> (Vec<(Input, Origin)>, Vec<String>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let stdin_only = [PathBuf::from("-")];
    let paths = if paths.is_empty() {
        &stdin_only[..]
    } else {
        paths
    };
    for path in paths {
        if path.as_os_str() == "-" {
            match spool_stdin() {
                Ok(source) => {
                    let format = chosen(format)
                        .unwrap_or_else(|| sniff(&source).ok().flatten().unwrap_or(Format::Text));
                    inputs.push((Input::new(source, format), Origin::Stdin))
                }
                Err(e) => errors.push(format!("<stdin>: {e}")),
            }
            continue;
        }
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, path, format, &mut inputs, &mut errors),
            Ok(_) => {
                let origin = Origin::File {
                    path: path.clone(),
                    root: None,
                    relative: path.file_name().map(PathBuf::from).unwrap_or_default(),
                };
                inputs.push((file_input(path.clone(), format), origin))
            }
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (inputs, errors)
}

fn spool_stdin() -> io::Result<StdinSource> {
    let mut spool = tempfile::NamedTempFile::new()?;
    io::copy(&mut io::stdin().lock(), spool.as_file_mut())?;
    Ok(StdinSource { spool })
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
    let name = path.to_string_lossy().into_owned();
    let source = FileSource { path, name };
    // Magic bytes are certain where they exist; names decide the rest. A
    // file that cannot be read yet is named by its extension, and the scan
    // reports the error.
    let format = chosen(format).unwrap_or_else(|| {
        sniff(&source)
            .ok()
            .flatten()
            .unwrap_or_else(|| detect_format(&source.path))
    });
    Input::new(source, format)
}

/// The format a file name announces, looking through a compression suffix.
fn detect_format(path: &Path) -> Format {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = ["gz", "gzip", "zst", "zstd"]
        .iter()
        .find_map(|ext| name.strip_suffix(&format!(".{ext}")))
        .unwrap_or(&name);
    let has = |exts: &[&str]| exts.iter().any(|ext| stem.ends_with(ext));
    if has(&[".jsonl", ".ndjson", ".json"]) {
        Format::Jsonl
    } else if has(&[".warc", ".wet"]) {
        Format::Wet
    } else if has(&[".parquet", ".pq"]) {
        Format::Parquet
    } else {
        Format::Text
    }
}

/// Adds the files under `dir`, recursively, in sorted order. Hidden entries
/// (names starting with `.`) are skipped, as are symbolic links to
/// directories, which could loop.
fn walk(
    root: &Path,
    dir: &Path,
    format: InputFormat,
    inputs: &mut Vec<(Input, Origin)>,
    errors: &mut Vec<String>,
) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(format!("{}: {e}", dir.display())),
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) if !entry.file_name().to_string_lossy().starts_with('.') => {
                paths.push(entry.path())
            }
            Ok(_) => {}
            Err(e) => errors.push(format!("{}: {e}", dir.display())),
        }
    }
    paths.sort();
    for path in paths {
        let is_link = fs::symlink_metadata(&path)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() && !is_link => walk(root, &path, format, inputs, errors),
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                let origin = Origin::File {
                    path: path.clone(),
                    root: Some(root.to_path_buf()),
                    relative: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
                };
                inputs.push((file_input(path, format), origin))
            }
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        for (name, format) in [
            ("a.jsonl", Format::Jsonl),
            ("a.JSONL.GZ", Format::Jsonl),
            ("a.json.zst", Format::Jsonl),
            ("a.ndjson", Format::Jsonl),
            ("a.txt", Format::Text),
            ("a.txt.gz", Format::Text),
            ("jsonl", Format::Text),
            ("CC-MAIN-1.warc.wet.gz", Format::Wet),
            ("crawl.warc", Format::Wet),
            ("train-00000-of-00004.parquet", Format::Parquet),
        ] {
            assert_eq!(detect_format(Path::new(name)), format, "{name}");
        }
    }

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
