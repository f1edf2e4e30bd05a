//! Paths in, library [`Input`]s out: the library's walk
//! ([`neardup::corpus::walk`]) with what only the command line has: the
//! `--input-format` flag, the glob selection and standard input, spooled
//! to a temporary file that an interrupt deletes.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use neardup::Error;
use neardup::corpus::walk::{self, WalkOptions};
use neardup::corpus::{FileSource, Format, Input, ReadSeek, Source, sniff};

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

/// The inputs named by `paths` (standard input when there are none, and
/// for `-`), with where each came from, and the problems with paths, by
/// the walk's rules ([`neardup::corpus::walk`]): errors for paths that
/// could not be used (reported, while the others are still scanned),
/// warnings for files left out on purpose. Files `select` does not select
/// are left out silently; directory walks also leave out `exclude`
/// (neardup's own files: an output inside an input directory is never
/// read as input).
pub fn collect(
    paths: &[PathBuf],
    format: InputFormat,
    select: &Select,
    exclude: &[&Path],
) -> (Vec<(Input, Origin)>, Vec<Error>) {
    let stdin_only = [PathBuf::from("-")];
    let paths = if paths.is_empty() {
        &stdin_only[..]
    } else {
        paths
    };
    let chosen = chosen(format);
    let stdin = || match spool_stdin() {
        Ok(source) => {
            let format =
                chosen.unwrap_or_else(|| sniff(&source).ok().flatten().unwrap_or(Format::Text));
            Ok(Input::new(source, format))
        }
        Err(e) => Err(Error::io("<stdin>", e)),
    };
    let selects = |path: &str| select.selects(path);
    let options = WalkOptions {
        format: chosen,
        exclude,
        select: Some(&selects),
        base: None,
        stdin: Some(&stdin),
    };
    walk::collect(paths, &options)
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
        std::fs::write(&path, "WARC/1.0\r\nContent-Length: 0\r\n\r\n\r\n\r\n").unwrap();
        assert_eq!(
            file_input(path.clone(), InputFormat::Auto).format,
            Format::Wet
        );
        assert_eq!(file_input(path, InputFormat::Text).format, Format::Text);
    }
}
