//! Helpers shared by the integration tests (each test file is its own
//! crate and includes this module with `mod common;`, using only some of
//! its helpers, hence the `allow`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

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
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
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
