//! Helpers shared by the integration tests (each test file is its own
//! crate and includes this module with `mod common;`, using only some of
//! its helpers, hence the `allow`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `neardup` binary, with `NO_COLOR` unset so that colour tests do
/// not depend on the environment.
pub fn neardup() -> Command {
    let mut cmd = Command::cargo_bin("neardup").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// The repository's root (the sample corpus is `repo().join("data")`).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `content` to `dir/name`, creating the directories on the way.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// Copies the files of directory `from` (not its subdirectories) into
/// `to`, made if missing.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The bytes of `path`; a missing file fails the test naming it.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Files in `dir` (recursively), as paths relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The real scraped articles in `../shared/seeds`, which stand beside the
/// repository in this project's CI but not in a plain clone, whose tests
/// must pass on their own. `None` (the caller skips, with a note on stderr)
/// when they are absent, unless `NEARDUP_REQUIRE_SEEDS` is set, as `.ci/run`
/// sets it: there a missing directory fails instead of skipping silently.
pub fn seeds() -> Option<PathBuf> {
    let seeds = repo().join("../shared/seeds");
    if seeds.is_dir() {
        Some(seeds)
    } else if std::env::var_os("NEARDUP_REQUIRE_SEEDS").is_some() {
        panic!(
            "NEARDUP_REQUIRE_SEEDS is set but {} is not a directory",
            seeds.display()
        );
    } else {
        eprintln!("skipped: {} not found", seeds.display());
        None
    }
}

/// The text of each record of a cleaned JSON Lines file.
pub fn jsonl_texts(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// A file system of `kib` KiB (a tmpfs, where the tests run as root and
/// may mount one), or else a file size limit of the same size: writing more
/// fails part-way, with "No space left on device" or "File too large".
#[cfg(unix)]
#[allow(dead_code)]
pub struct SmallDisk {
    dir: PathBuf,
    kib: u64,
    mounted: bool,
}

#[cfg(unix)]
#[allow(dead_code)]
impl SmallDisk {
    pub fn new(dir: PathBuf, kib: u64) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() == 0 };
        let mounted = root
            && std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
                .arg(&dir)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        SmallDisk { dir, kib, mounted }
    }

    /// `neardup ARGS`, in `cwd`, under the size limit.
    pub fn run(&self, cwd: &Path, args: &[&str]) -> std::process::Output {
        let bin = assert_cmd::cargo::cargo_bin("neardup");
        let mut cmd = if self.mounted {
            std::process::Command::new(bin)
        } else {
            // Ignoring SIGXFSZ turns the limit into an EFBIG write error;
            // `ulimit -f` counts 512-byte blocks.
            let mut sh = std::process::Command::new("sh");
            sh.args([
                "-c",
                &format!(
                    "trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"",
                    self.kib * 2
                ),
            ])
            .arg(bin);
            sh
        };
        let out = cmd.args(args).current_dir(cwd).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        out
    }
}

#[cfg(unix)]
impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount").arg(&self.dir).status();
        }
    }
}

/// `(path, line)` of every duplicate in a report.
pub fn duplicates(report: &serde_json::Value) -> Vec<(String, u64)> {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["members"].as_array().unwrap()[1..].iter())
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_owned(),
                m["line"].as_u64().unwrap(),
            )
        })
        .collect()
}
