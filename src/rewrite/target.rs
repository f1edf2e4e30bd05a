//! Where a clean writes each input: the output plan of `neardup clean -o`,
//! shared by the command line and the Python package so that a clean on
//! one machine, a clean spread over a Ray cluster and one run as shard
//! jobs lay out the same files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

use crate::corpus::compress::Compression;

/// Where an input came from, which decides where its cleaned copy goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Standard input.
    Stdin,
    /// A file named on the command line, or found under a directory that
    /// was: `path` is `root` joined with `relative`.
    File {
        /// The file.
        path: PathBuf,
        /// The directory given on the command line, if the file was found
        /// under one.
        root: Option<PathBuf>,
        /// The path below `root` (the file name for a file given directly).
        relative: PathBuf,
    },
}

/// Where one input's cleaned bytes go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Standard output, compressed as the input was.
    Stdout,
    /// A file; `None`: compressed as the input was.
    File {
        /// Where.
        path: PathBuf,
        /// Its compression.
        compression: Option<Compression>,
    },
}

/// Chooses each input's output, as `neardup clean -o OUTPUT` does:
/// one input to a file (compressed as its name says) or to standard
/// output (`-`); several, or a directory, into a directory that mirrors
/// them (a directory argument keeps its name under it when there are
/// several arguments, as `cp -r a b DIR` does).
///
/// # Errors
///
/// A plan that cannot work, saying why: an empty output path (which
/// would write into the working directory unasked), two inputs onto one
/// output, several inputs to `-` or to an existing file, a directory
/// output named like a corpus file, standard input among several inputs.
///
/// # Example
///
/// ```
/// use neardup::rewrite::target::{Origin, Target, plan};
/// let origins = [Origin::File {
///     path: "news/2026/a.jsonl".into(),
///     root: Some("news".into()),
///     relative: "2026/a.jsonl".into(),
/// }];
/// let targets = plan(std::path::Path::new("clean"), &origins).unwrap();
/// assert_eq!(targets, [Target::File { path: "clean/2026/a.jsonl".into(), compression: None }]);
/// ```
pub fn plan(output: &Path, origins: &[Origin]) -> Result<Vec<Target>, String> {
    if output.as_os_str().is_empty() {
        return Err(
            "the output is an empty path: name a file or a directory (`.` for the working \
             directory)"
                .to_owned(),
        );
    }
    let to_stdout = output.as_os_str() == "-";
    let looks_like_dir = output.is_dir() || output.to_string_lossy().ends_with('/');
    let single = matches!(origins, [Origin::Stdin] | [Origin::File { root: None, .. }]);
    if single && !looks_like_dir {
        return Ok(vec![if to_stdout {
            Target::Stdout
        } else {
            Target::File {
                path: output.to_path_buf(),
                compression: Some(compression_by_name(output)),
            }
        }]);
    }
    if to_stdout {
        return Err(
            "`-o -` writes one input to standard output; with several inputs or a directory, \
             give --output a directory"
                .to_owned(),
        );
    }
    if output.exists() && !output.is_dir() {
        return Err(format!(
            "{} is a file; with several inputs or a directory input, --output must be a directory",
            output.display()
        ));
    }
    // The arguments: each directory once, each file named on its own.
    let roots: BTreeSet<&Path> = origins
        .iter()
        .filter_map(|o| match o {
            Origin::File {
                root: Some(root), ..
            } => Some(root.as_path()),
            _ => None,
        })
        .collect();
    let files = origins
        .iter()
        .filter(|o| matches!(o, Origin::File { root: None, .. }))
        .count();
    let arguments = roots.len() + files;
    // Several arguments go into a directory, created if need be; but a
    // name that reads as a corpus file (`-o both.jsonl`) is a mistake to
    // report, not a directory to make. `DIR/` asks for one all the same.
    if arguments > 1 && !looks_like_dir && looks_like_a_file(output) {
        return Err(format!(
            "{} inputs go into a directory, and {} looks like a file name; \
             to create a directory of that name, write {}/",
            arguments,
            output.display(),
            output.display()
        ));
    }
    let mut targets = Vec::with_capacity(origins.len());
    let mut taken: BTreeMap<PathBuf, &Path> = BTreeMap::new();
    for origin in origins {
        let Origin::File {
            path,
            root,
            relative,
        } = origin
        else {
            return Err(
                "standard input can only be cleaned on its own (-o FILE or -o -)".to_owned(),
            );
        };
        // With several arguments a directory keeps its own name under
        // DIR, as `cp -r a b DIR` does (shards of the same name in two
        // directories must not meet); alone, its files go directly in DIR.
        let target = match root {
            Some(root) if arguments > 1 => output.join(dir_name(root)).join(relative),
            _ => output.join(relative),
        };
        if let Some(other) = taken.insert(target.clone(), path) {
            return Err(format!(
                "{} and {} would both be written to {}",
                other.display(),
                path.display(),
                target.display()
            ));
        }
        targets.push(Target::File {
            path: target,
            compression: None,
        });
    }
    Ok(targets)
}

/// Whether `path` ends with the extension of a corpus format or a
/// compression, as an output file would.
fn looks_like_a_file(path: &Path) -> bool {
    const EXTENSIONS: &[&str] = &[
        "txt", "text", "jsonl", "ndjson", "json", "wet", "warc", "parquet", "pq", "gz", "gzip",
        "zst", "zstd",
    ];
    path.extension()
        .is_some_and(|e| EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str()))
}

/// The name a directory argument keeps under the output directory: its
/// last component (`.` and `..` are resolved to the directory's real name).
fn dir_name(root: &Path) -> PathBuf {
    match root.file_name() {
        Some(name) => PathBuf::from(name),
        None => {
            let real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
            PathBuf::from(real.file_name().unwrap_or(real.as_os_str()))
        }
    }
}

/// gzip or zstd when the output's name says so, else none.
fn compression_by_name(path: &Path) -> Compression {
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".gz") || name.ends_with(".gzip") {
        Compression::Gzip
    } else if name.ends_with(".zst") || name.ends_with(".zstd") {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Refuses every output that is the index `index` (which the run reads)
/// or inside it: an index's files are neardup's own, and a report written
/// over one would damage the index.
///
/// # Errors
///
/// The message names the first such output.
pub fn refuse_index<'a>(
    outputs: impl IntoIterator<Item = &'a Path>,
    index: Option<&Path>,
) -> Result<(), String> {
    let Some(index) = index else {
        return Ok(());
    };
    let dir = real_path(index);
    for out in outputs {
        let real = real_path(out);
        if real.starts_with(&dir) {
            let where_ = if real == dir { "" } else { "inside " };
            return Err(format!(
                "refusing to write {}: it is {where_}the index {}, which this run reads",
                out.display(),
                index.display()
            ));
        }
    }
    Ok(())
}

/// The absolute path `path` names, symbolic links resolved as far as the
/// path exists (an output not written yet has a real path too): what
/// decides whether an output is an input or lies inside an input
/// directory.
pub fn real_path(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return normalise(&out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return normalise(&absolute),
        }
    }
}

/// Removes `.` and resolves `..` lexically (for the part of a path that
/// does not exist yet).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Refuses any output that is an input (the same file, by device and
/// inode) or lies inside a directory argument of `paths`; the message
/// says which. (The walk can leave neardup's outputs out, but an output written
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
    let files: HashSet<FileId> = if !outputs.iter().any(|out| out.exists()) {
        HashSet::new()
    } else {
        origins
            .iter()
            .filter_map(|o| match o {
                Origin::File { path, .. } => {
                    std::fs::metadata(path).ok().map(|m| file_id(path, &m))
                }
                Origin::Stdin => None,
            })
            .collect()
    };
    let dirs: Vec<(PathBuf, &PathBuf)> = paths
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| std::fs::canonicalize(p).ok().map(|c| (c, p)))
        .collect();
    let mut seen = HashSet::new();
    for out in outputs {
        let resolved = real_path(out);
        let same_file = std::fs::metadata(out).is_ok_and(|m| files.contains(&file_id(out, &m)));
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

/// What a file is, whatever path reached it: device and inode where there
/// are such, else the canonical path.
#[cfg(unix)]
pub type FileId = (u64, u64);
/// What a file is, whatever path reached it: its canonical path.
#[cfg(not(unix))]
pub type FileId = PathBuf;

/// The [`FileId`] of the file `path` with metadata `meta`.
#[cfg(unix)]
pub fn file_id(_: &Path, meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// The [`FileId`] of the file `path`.
#[cfg(not(unix))]
pub fn file_id(path: &Path, _: &std::fs::Metadata) -> FileId {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, root: Option<&str>) -> Origin {
        let path = PathBuf::from(path);
        Origin::File {
            relative: match root {
                Some(r) => path.strip_prefix(r).unwrap().to_path_buf(),
                None => PathBuf::from(path.file_name().unwrap()),
            },
            root: root.map(PathBuf::from),
            path,
        }
    }

    #[test]
    fn one_file_goes_to_a_file_named_for_its_compression() {
        let t = plan(Path::new("out.jsonl.zst"), &[file("in.jsonl.gz", None)]).unwrap();
        assert_eq!(
            t,
            [Target::File {
                path: "out.jsonl.zst".into(),
                compression: Some(Compression::Zstd)
            }]
        );
        assert_eq!(
            plan(Path::new("-"), &[Origin::Stdin]).unwrap(),
            [Target::Stdout]
        );
    }

    #[test]
    fn an_empty_output_is_refused() {
        for origins in [
            vec![file("in.txt", None)],
            vec![file("news/a.txt", Some("news"))],
        ] {
            let e = plan(Path::new(""), &origins).unwrap_err();
            assert!(e.contains("the output is an empty path"), "{e}");
        }
    }

    #[test]
    fn directories_are_mirrored() {
        let origins = [file("news/a/x.txt", Some("news")), file("y.txt.gz", None)];
        let t = plan(Path::new("clean/"), &origins).unwrap();
        assert_eq!(
            t,
            [
                Target::File {
                    path: "clean/news/a/x.txt".into(),
                    compression: None
                },
                Target::File {
                    path: "clean/y.txt.gz".into(),
                    compression: None
                }
            ]
        );
    }

    /// Issue 18, item 7: a lone directory's files go directly into the
    /// output directory, which may not exist yet.
    #[test]
    fn a_lone_directory_is_mirrored_without_its_name() {
        let t = plan(Path::new("clean"), &[file("news/a/x.txt", Some("news"))]).unwrap();
        assert_eq!(
            t,
            [Target::File {
                path: "clean/a/x.txt".into(),
                compression: None
            }]
        );
    }

    #[test]
    fn normalise_resolves_dots() {
        assert_eq!(normalise(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }

    #[test]
    fn unworkable_plans_say_why() {
        let two = [file("a/x.txt", None), file("b/x.txt", None)];
        assert!(
            plan(Path::new("out/"), &two)
                .unwrap_err()
                .contains("both be written")
        );
        // Several inputs and an output that does not exist: a mistyped
        // file name is not made a directory.
        let gz_zst = [file("a.jsonl.gz", None), file("a.jsonl.zst", None)];
        let err = plan(Path::new("both.jsonl"), &gz_zst).unwrap_err();
        assert!(err.contains("looks like a file name"), "{err}");
        assert!(err.contains("both.jsonl/"), "{err}");
        assert!(plan(Path::new("both.jsonl/"), &gz_zst).is_ok());
        assert!(plan(Path::new("cleaned"), &gz_zst).is_ok());
        let err = plan(Path::new("-"), &[file("d/x.txt", Some("d"))]).unwrap_err();
        assert!(err.contains("directory"), "{err}");
        let err = plan(Path::new("o"), &[Origin::Stdin, file("x", None)]).unwrap_err();
        assert!(err.contains("standard input"), "{err}");
    }
}
