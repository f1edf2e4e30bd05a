//! Files on disk as inputs, for programs that embed the library and read
//! files as the `neardup` command does.
//!
//! A [`FileSource`] opens its file anew for each pass and the block reader
//! takes it in blocks of about a megabyte, so a scan of files holds their
//! fingerprints, never their text: the bounded memory of the command line.
//! The library opens a file only when a caller hands it one of these;
//! walking directories, choosing files and reading standard input stay
//! with the caller (the command line's are in `src/cli/inputs.rs`).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Format, Input, ReadSeek, Source, sniff};

/// A file on disk, read from the start each time a pass asks for it.
///
/// # Example
///
/// ```
/// use neardup::corpus::{FileSource, Input, Source};
///
/// let path = std::env::temp_dir().join(format!("neardup-doc-{}.txt", std::process::id()));
/// std::fs::write(&path, "One paragraph.\nAnother one.\n")?;
/// let source = FileSource::new(&path);
/// assert_eq!(source.size_hint(), Some(28));
/// assert_eq!(source.name(), path.to_string_lossy());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FileSource {
    path: PathBuf,
    name: String,
    /// The size when first asked: a hint, looked up once (a walk over many
    /// small files asks several times per file).
    size: std::sync::OnceLock<Option<u64>>,
}

impl FileSource {
    /// The file at `path`, named by its path in reports.
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        let path = path.into();
        let name = path.to_string_lossy().into_owned();
        FileSource::with_name(path, name)
    }

    /// The file at `path`, named `name` in reports.
    pub fn with_name(path: impl Into<PathBuf>, name: impl Into<String>) -> FileSource {
        FileSource {
            path: path.into(),
            name: name.into(),
            size: std::sync::OnceLock::new(),
        }
    }

    /// The same source with its size already known (a directory walk has
    /// it from the walk), so that [`Source::size_hint`] needs no lookup
    /// of its own: one per file of a tree of twenty thousand small files
    /// was 50 ms of the scan on one thread.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::corpus::{FileSource, Source};
    ///
    /// let source = FileSource::new("/no/such/file").sized(28);
    /// assert_eq!(source.size_hint(), Some(28));
    /// ```
    pub fn sized(self, size: u64) -> FileSource {
        let known = std::sync::OnceLock::new();
        let _ = known.set(Some(size));
        FileSource {
            size: known,
            ..self
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(File::open(&self.path)?))
    }

    fn size_hint(&self) -> Option<u64> {
        *self
            .size
            .get_or_init(|| fs::metadata(&self.path).ok().map(|m| m.len()))
    }

    fn open_seekable(&self) -> io::Result<Box<dyn ReadSeek>> {
        Ok(Box::new(File::open(&self.path)?))
    }
}

impl Input {
    /// The input for the file `source`: in `format`, or with `None` in the
    /// format its first bytes announce (Parquet's and WARC's magic bytes,
    /// through gzip or zstd), else the one its name does
    /// ([`format_from_name`]). A file that cannot be read yet is taken by
    /// its name; the scan then reports the error.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::corpus::{FileSource, Format, Input};
    /// use neardup::pipeline::{scan, ScanOptions, Silent};
    /// use neardup::Config;
    ///
    /// let path = std::env::temp_dir().join(format!("neardup-doc-{}.jsonl", std::process::id()));
    /// std::fs::write(&path, concat!(
    ///     r#"{"id": "a", "text": "Heavy rain closed the coastal road north of Port Callow again."}"#, "\n",
    ///     r#"{"id": "b", "text": "Heavy rain closed the coastal road north of Port Callow again."}"#, "\n",
    /// ))?;
    /// let input = Input::from_file(FileSource::new(&path), None);
    /// assert_eq!(input.format, Format::Jsonl);
    /// let report = scan(&[input], &Config::default(), &ScanOptions::default(), &Silent)?;
    /// assert_eq!(report.clusters.len(), 1);
    /// assert_eq!(&*report.clusters[0].duplicates[0].member.location.doc, "b");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(source: FileSource, format: Option<Format>) -> Input {
        // Magic bytes are certain where they exist; names decide the rest.
        let format = format.unwrap_or_else(|| {
            sniff(&source)
                .ok()
                .flatten()
                .unwrap_or_else(|| format_from_name(&source.path))
        });
        Input::new(source, format)
    }
}

/// The format a file name announces, looking through a compression suffix
/// (`.gz`, `.gzip`, `.zst`, `.zstd`): JSON Lines for `.jsonl`, `.ndjson`
/// and `.json`, WET for `.warc` and `.wet`, Parquet for `.parquet` and
/// `.pq`, plain text otherwise. Case does not matter.
///
/// # Example
///
/// ```
/// use neardup::corpus::{format_from_name, Format};
/// use std::path::Path;
///
/// assert_eq!(format_from_name(Path::new("news.JSONL.zst")), Format::Jsonl);
/// assert_eq!(format_from_name(Path::new("CC-MAIN.warc.wet.gz")), Format::Wet);
/// assert_eq!(format_from_name(Path::new("notes")), Format::Text);
/// ```
pub fn format_from_name(path: &Path) -> Format {
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
            assert_eq!(format_from_name(Path::new(name)), format, "{name}");
        }
    }
}
