//! The index at the edges a daily user reaches in time: more segments
//! than the open-files limit, a create that was interrupted or failed in
//! a directory made for it, a day with nothing scraped, rollbacks after
//! rollbacks, an output pointed into the index, a settings mismatch, an
//! odd batch name. Found by trying to break it; the real binary on real
//! files, each test failing without its fix.

use std::path::Path;
use std::process::Output;

mod common;

use common::{neardup, write};
use serde_json::Value;
use tempfile::TempDir;

/// Runs neardup with `args` in `dir`; it never panics.
fn run(dir: &Path, args: &[&str]) -> Output {
    let out = neardup().current_dir(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

/// Runs neardup with `args` in `dir`, expecting exit `code`; returns its
/// standard error.
fn expect(dir: &Path, code: i32, args: &[&str]) -> String {
    let out = run(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    stderr
}

fn info(dir: &Path, index: &str) -> Value {
    let out = run(dir, &["index", "info", index, "--output-format", "json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn batch_names(dir: &Path, index: &str) -> Vec<String> {
    info(dir, index)["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A line of its own for day `i`, and one every day repeats.
fn day(d: &Path, i: usize) -> String {
    let name = format!("day{i}.txt");
    write(
        d,
        &name,
        format!(
            "the council met on day {i} to talk about the harbour wall and the ferry\n\
             the weather office said the storm would pass the island by the weekend\n"
        ),
    );
    name
}

/// An index of more batches (each its own segment) than the soft limit
/// on open files lets a process hold: a reader raises the soft limit to
/// the hard one; if even the hard limit is too low, the error says which
/// limit to raise instead of `Too many open files` at some segment.
#[cfg(unix)]
#[test]
fn an_index_of_more_segments_than_the_open_files_limit_opens() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let first = day(d, 0);
    expect(d, 0, &["index", "create", "i.ndx", &first, "-q"]);
    for i in 1..70 {
        let name = day(d, i);
        expect(d, 0, &["index", "add", "i.ndx", &name, "-q"]);
    }
    let segments = info(d, "i.ndx")["segments"].as_u64().unwrap();
    assert!(segments >= 70, "{segments}");
    let bin = assert_cmd::cargo::cargo_bin("neardup");
    let limited = |ulimit: &str, args: &str| {
        std::process::Command::new("sh")
            .current_dir(d)
            .arg("-c")
            .arg(format!("ulimit {ulimit} 64 && exec \"$0\" {args}"))
            .arg(&bin)
            .output()
            .unwrap()
    };
    // The soft limit alone is low: raised, and everything works.
    let scan = limited("-S -n", "scan day3.txt --against i.ndx -q");
    let stderr = String::from_utf8_lossy(&scan.stderr);
    assert_eq!(scan.status.code(), Some(1), "a repeat of day 0: {stderr}");
    let compact = limited("-S -n", "index compact i.ndx");
    assert_eq!(compact.status.code(), Some(0));
    // Compacted, the index fits in any limit; so make more segments.
    for i in 70..140 {
        let name = day(d, i);
        expect(d, 0, &["index", "add", "i.ndx", &name, "-q"]);
    }
    // The hard limit is low too: a clear error.
    let scan = limited("-n", "scan day3.txt --against i.ndx -q");
    let stderr = String::from_utf8_lossy(&scan.stderr);
    assert_eq!(scan.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("segment files, and this process may open only 64 files")
            && stderr.contains("ulimit -n"),
        "{stderr}"
    );
}

/// A create that fails leaves the directory the user made for it, empty
/// (with its permissions), and removes one it made itself; a create that
/// was killed before its first batch left an index of no batch, and the
/// same command made again succeeds; anything more is refused.
#[test]
fn a_failed_or_interrupted_create_can_be_run_again() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(
        d,
        "bad.jsonl",
        "{\"text\": \"one two three four five six\"}\nnot json\n",
    );
    let good = day(d, 0);

    std::fs::create_dir(d.join("mine")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o750);
        std::fs::set_permissions(d.join("mine"), mode).unwrap();
    }
    expect(d, 2, &["index", "create", "mine", "bad.jsonl", "-q"]);
    assert!(d.join("mine").is_dir(), "the user's directory stays");
    assert_eq!(std::fs::read_dir(d.join("mine")).unwrap().count(), 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("mine"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
    }
    expect(d, 2, &["index", "create", "made", "bad.jsonl", "-q"]);
    assert!(!d.join("made").exists(), "a directory it made goes");

    // What a create killed after its first manifest leaves: the lock, the
    // empty generation 0 (kept by every index), a half-written file.
    expect(d, 0, &["index", "create", "full", &good, "-q"]);
    let left = d.join("left");
    std::fs::create_dir(&left).unwrap();
    for name in ["LOCK", "gen-00000000000000000000.ndm"] {
        std::fs::copy(d.join("full").join(name), left.join(name)).unwrap();
    }
    write(&left, ".tmp-1-0-seg", "half a segment");
    expect(d, 0, &["index", "create", "left", &good, "-q"]);
    assert_eq!(info(d, "left")["paragraphs"], info(d, "full")["paragraphs"]);
    expect(d, 0, &["index", "verify", "left"]);

    // An index with a batch, or a file of the user's, is never replaced.
    let refused = expect(d, 2, &["index", "create", "full", &good, "-q"]);
    assert!(refused.contains("exists and is not empty"), "{refused}");
    write(&d.join("mine"), "notes.txt", "mine");
    let refused = expect(d, 2, &["index", "create", "mine", &good, "-q"]);
    assert!(refused.contains("exists and is not empty"), "{refused}");
    assert_eq!(common::read(&d.join("mine/notes.txt")), b"mine");
}

/// A day with nothing scraped is added as an empty batch with a warning
/// (even with `-q`), however many such days come: empty inputs are not
/// "added before".
#[test]
fn empty_days_are_added_with_a_warning() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let first = day(d, 0);
    expect(d, 0, &["index", "create", "i.ndx", &first, "-q"]);
    std::fs::create_dir(d.join("mon")).unwrap();
    write(d, "tue/empty.txt", "");
    for (name, input) in [("mon", "mon"), ("tue", "tue"), ("wed", "mon")] {
        let stderr = expect(
            d,
            0,
            &["index", "add", "i.ndx", input, "--name", name, "-q"],
        );
        assert!(
            stderr.contains(&format!("warning: batch \"{name}\" holds no paragraphs")),
            "{stderr}"
        );
    }
    assert_eq!(batch_names(d, "i.ndx")[1..], ["mon", "tue", "wed"]);
    // Inputs with bytes are still refused the second time.
    let again = expect(d, 2, &["index", "add", "i.ndx", &first, "-q"]);
    assert!(again.contains("were added before"), "{again}");
}

/// Each rollback undoes one change more, whatever rollbacks came between:
/// an undone add and its rollback take no place in the history kept.
#[test]
fn rollbacks_after_rollbacks_still_reach_the_last_kept_add() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let (a, b, c) = (day(d, 0), day(d, 1), day(d, 2));
    expect(d, 0, &["index", "create", "i.ndx", &a, "--name", "a", "-q"]);
    expect(d, 0, &["index", "add", "i.ndx", &b, "--name", "b", "-q"]);
    for name in ["x1", "x2", "x3"] {
        expect(d, 0, &["index", "add", "i.ndx", &c, "--name", name, "-q"]);
        expect(d, 0, &["index", "rollback", "i.ndx"]);
        assert_eq!(batch_names(d, "i.ndx"), ["a", "b"]);
    }
    expect(d, 0, &["index", "rollback", "i.ndx"]);
    assert_eq!(batch_names(d, "i.ndx"), ["a"]);
    expect(d, 0, &["index", "verify", "i.ndx"]);
    // Then to the empty index create began with; then nothing is left.
    expect(d, 0, &["index", "rollback", "i.ndx"]);
    assert_eq!(batch_names(d, "i.ndx"), Vec::<String>::new());
    let first = expect(d, 2, &["index", "rollback", "i.ndx"]);
    assert!(first.contains("nothing to roll back"), "{first}");
}

/// A report, a cleaned corpus or a removal log is never written over the
/// index the run reads, nor into it.
#[test]
fn outputs_into_the_index_are_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let (a, b) = (day(d, 0), day(d, 1));
    expect(d, 0, &["index", "create", "i.ndx", &a, "-q"]);
    let manifest = format!(
        "i.ndx/gen-{:020}.ndm",
        info(d, "i.ndx")["generation"].as_u64().unwrap()
    );
    let before = common::read(&d.join(&manifest));
    let refusals = [
        vec!["scan", &b, "--against", "i.ndx", "-o", &manifest],
        vec!["clean", &b, "--against", "i.ndx", "-o", &manifest],
        vec!["clean", &b, "--against", "i.ndx", "-o", "i.ndx"],
        vec![
            "clean",
            &b,
            "--against",
            "i.ndx",
            "-o",
            "out",
            "--removed",
            "i.ndx/log",
        ],
        vec!["check", &b, "--against", "i.ndx", "-o", "i.ndx/report.txt"],
    ];
    for args in refusals {
        let stderr = expect(d, 2, &args);
        assert!(
            stderr.contains("the index i.ndx, which this run reads"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(common::read(&d.join(&manifest)), before);
    expect(d, 0, &["index", "verify", "i.ndx"]);
    assert!(!d.join("i.ndx/log").exists() && !d.join("i.ndx/report.txt").exists());
}

/// A run whose threshold differs from the index's is told of the
/// threshold, not of the band count the threshold chose.
#[test]
fn a_settings_mismatch_names_the_setting_given() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let a = day(d, 0);
    expect(d, 0, &["index", "create", "i.ndx", &a, "-q"]);
    let stderr = expect(
        d,
        2,
        &["scan", &a, "--against", "i.ndx", "--threshold", "0.9"],
    );
    assert!(
        stderr.contains("made with threshold=8/10, this run has threshold=9/10"),
        "{stderr}"
    );
}

/// Batch names are shown in reports and terminals and typed back to
/// `index drop`: empty ones and control characters are refused, and the
/// index is unchanged.
#[test]
fn odd_batch_names_are_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let (a, b) = (day(d, 0), day(d, 1));
    expect(d, 0, &["index", "create", "i.ndx", &a, "--name", "a", "-q"]);
    for name in ["", "  ", "two\nlines", "red\u{1b}[31m"] {
        let stderr = expect(d, 2, &["index", "add", "i.ndx", &b, "--name", name, "-q"]);
        assert!(stderr.contains("a batch name must not"), "{stderr}");
    }
    let long = "x".repeat(201);
    let stderr = expect(d, 2, &["index", "add", "i.ndx", &b, "--name", &long, "-q"]);
    assert!(stderr.contains("longer than 200 bytes"), "{stderr}");
    assert_eq!(batch_names(d, "i.ndx"), ["a"]);
    expect(
        d,
        0,
        &[
            "index",
            "add",
            "i.ndx",
            &b,
            "--name",
            "2026-12-07 (late)",
            "-q",
        ],
    );
}

/// `-q` quiets `compact` and `drop` as it does `create` and `add`, and
/// one paragraph, batch or segment is not "1 paragraphs".
#[test]
fn maintenance_is_quiet_with_q_and_counts_in_words() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let (a, b) = (day(d, 0), day(d, 1));
    expect(d, 0, &["index", "create", "i.ndx", &a, "--name", "a", "-q"]);
    expect(d, 0, &["index", "add", "i.ndx", &b, "--name", "b", "-q"]);
    assert_eq!(expect(d, 0, &["index", "compact", "i.ndx", "-q"]), "");
    assert_eq!(expect(d, 0, &["index", "drop", "i.ndx", "a", "-q"]), "");
    let text = run(d, &["index", "info", "i.ndx"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(", 1 paragraph (and 0 variants) in 1 batch, 1 segment,"),
        "{text}"
    );
    assert!(text.contains("  1 paragraph, 0 variants"), "{text}");
}
