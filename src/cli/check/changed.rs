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
/// pull request) or that no longer exist (deleted ones): [`resolve`] tells
/// them apart, and `check` warns about the first and notes the second.
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

/// A changed-files list resolved against the disk.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Listed files found on disk: as listed, and canonical (to compare
    /// with the inputs however either was spelt).
    pub files: Vec<(PathBuf, PathBuf)>,
    /// Listed paths found neither from the working directory nor from the
    /// root of the git repository: files the change deleted.
    pub missing: Vec<PathBuf>,
}

/// Finds the listed files: relative to the working directory first, and
/// else relative to the root of the enclosing git repository, since `git
/// diff --name-only` lists paths from the root whatever the directory it
/// runs in. git is asked only when a path is not found from the working
/// directory.
pub fn resolve(list: &[PathBuf]) -> Resolved {
    let mut root: Option<Option<PathBuf>> = None;
    let mut out = Resolved::default();
    for listed in list {
        let found = fs::canonicalize(listed).ok().or_else(|| {
            if listed.is_absolute() {
                return None;
            }
            root.get_or_insert_with(git_root)
                .as_ref()
                .and_then(|r| fs::canonicalize(r.join(listed)).ok())
        });
        match found {
            Some(real) => out.files.push((listed.clone(), real)),
            None => out.missing.push(listed.clone()),
        }
    }
    out
}

/// The top directory of the git work tree around the working directory,
/// if there is one (and git is installed).
fn git_root() -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

/// Whether the input file `path` is one of `changed` (canonical paths).
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
