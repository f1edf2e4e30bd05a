//! `--changed` and `--changed-from`: which inputs a check covers, the rest
//! being the reference they are checked against.

use std::collections::HashSet;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::args::CheckArgs;

/// The files listed as changed, or `None` when the whole corpus is
/// checked. A list may name files that are not inputs (other files of a
/// pull request) or that no longer exist (deleted ones); they are ignored.
pub fn list(args: &CheckArgs) -> anyhow::Result<Option<Vec<PathBuf>>> {
    let Some(from) = &args.changed_from else {
        return Ok((!args.changed.is_empty()).then(|| args.changed.clone()));
    };
    let bytes = if from.as_os_str() == "-" {
        if args.paths.iter().any(|p| p.as_os_str() == "-") {
            bail!("--changed-from - and the input - cannot both read standard input");
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("standard input")?;
        bytes
    } else {
        fs::read(from).with_context(|| from.display().to_string())?
    };
    Ok(Some(parse(&bytes)))
}

/// Paths one per line, or NUL-separated when there is a NUL (`git diff
/// --name-only -z`, safe for any file name).
fn parse(bytes: &[u8]) -> Vec<PathBuf> {
    let sep = if bytes.contains(&0) { b'\0' } else { b'\n' };
    bytes
        .split(|&b| b == sep)
        .map(|p| p.strip_suffix(b"\r").unwrap_or(p))
        .filter(|p| !p.is_empty())
        .map(path_from_bytes)
        .collect()
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt as _;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// The listed files that exist, in canonical form, to compare with the
/// inputs however either was spelt.
pub fn canonical(list: &[PathBuf]) -> HashSet<PathBuf> {
    list.iter()
        .filter_map(|p| fs::canonicalize(p).ok())
        .collect()
}

/// Whether the input file `path` is one of `changed`.
pub fn contains(changed: &HashSet<PathBuf>, path: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|p| changed.contains(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lines_or_nul_separated() {
        let paths = |b: &[u8]| -> Vec<String> {
            parse(b).iter().map(|p| p.display().to_string()).collect()
        };
        assert_eq!(paths(b"a.txt\r\n\nb c.txt\n"), ["a.txt", "b c.txt"]);
        assert_eq!(paths(b"a\nb.txt\0c.txt\0"), ["a\nb.txt", "c.txt"]);
    }
}
