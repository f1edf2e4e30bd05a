//! Integration tests of `neardup check`: each runs the real binary in a
//! temporary directory of its own, with paths relative to it so that the
//! expected outputs are exact.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

mod common;

/// Six lines; 4-5 repeat 2-3.
const A: &str = "\
Harbour board approves new pier
The harbour board voted on Tuesday to rebuild the old north pier before the winter storms.
Work will start in March and should take eighteen months, the board said.
The harbour board voted on Tuesday to rebuild the old north pier before the winter storms.
Work will start in March and should take eighteen months, the board said.
0 Comments
";

/// Four lines; 3 is a near copy of a:3 (similarity 0.9), 4 repeats a:6.
const B: &str = "\
Ferry timetable changes
From Monday the first ferry leaves the island at six in the morning, an hour earlier than now.
Work will start in March and should take eighteen months, the board said today.
0 Comments
";

/// No line repeats anything in A or B.
const C: &str = "\
Library extends opening hours
The town library will stay open until nine on weekday evenings from next month.
Volunteers will run a reading club for children on Saturday mornings.
";

struct Corpus {
    dir: TempDir,
}

impl Corpus {
    fn new() -> Corpus {
        Corpus {
            dir: TempDir::new().unwrap(),
        }
    }

    /// The sample corpus: `corpus/a.txt`, `corpus/b.txt`.
    fn sample() -> Corpus {
        let c = Corpus::new();
        c.write("corpus/a.txt", A);
        c.write("corpus/b.txt", B);
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// `neardup check ARGS` run in the corpus directory.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("neardup").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("NO_COLOR")
            .env_remove("GITHUB_STEP_SUMMARY")
            .arg("check")
            .args(args);
        cmd
    }

    fn check(&self, args: &[&str]) -> Assert {
        self.cmd(args).assert()
    }

    /// Standard output of a run that must exit with `code`.
    fn stdout(&self, args: &[&str], code: i32) -> String {
        let out = self.check(args).code(code).get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    }

    fn json(&self, args: &[&str], code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output-format", "json"]);
        serde_json::from_str(&self.stdout(&all, code)).unwrap()
    }
}

/// `(path, first line, last line)` of each finding of a json output.
fn findings(v: &Value) -> Vec<(String, u64, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let r = &f["repeat"];
            (
                r["path"].as_str().unwrap().to_owned(),
                r["first_line"].as_u64().unwrap(),
                r["last_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn at(path: &str, first: u64, last: u64) -> (String, u64, u64) {
    (path.to_owned(), first, last)
}

// ---- limits and exit codes ------------------------------------------------

#[test]
fn any_duplicate_fails_by_default_and_a_clean_corpus_passes() {
    let c = Corpus::sample();
    let v = c.json(&["corpus"], 1);
    assert_eq!(v["passed"], false);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 4);
    assert_eq!(
        findings(&v),
        [
            at("corpus/a.txt", 4, 5),
            at("corpus/b.txt", 3, 3),
            at("corpus/b.txt", 4, 4)
        ]
    );
    c.write("clean/c.txt", C);
    let v = c.json(&["clean"], 0);
    assert_eq!(v["passed"], true);
    assert_eq!(v["findings"], serde_json::json!([]));
}

#[test]
fn max_duplicate_ratio_allows_up_to_the_limit() {
    let c = Corpus::sample();
    // 4 duplicates of 10 paragraphs: exactly 0.4 passes, a hair less fails.
    c.json(&["corpus", "--max-duplicate-ratio", "0.4"], 0);
    let v = c.json(&["corpus", "--max-duplicate-ratio", "0.39"], 1);
    assert_eq!(
        v["violations"][0],
        "4 duplicate paragraphs of 10, a ratio of 0.4000, above --max-duplicate-ratio 0.39"
    );
    c.check(&["corpus", "--max-duplicate-ratio", "1.5"])
        .code(2)
        .stderr(predicate::str::contains("between 0 and 1"));
}

#[test]
fn max_clusters_counts_kept_paragraphs_with_duplicates() {
    let c = Corpus::sample();
    // Three kept paragraphs have duplicates (a:2, a:3, a:6). A limit on
    // clusters alone lifts the default "no duplicates" ratio.
    c.json(&["corpus", "--max-clusters", "3"], 0);
    let v = c.json(&["corpus", "--max-clusters", "2"], 1);
    assert_eq!(
        v["violations"],
        serde_json::json!(["3 paragraphs with duplicates, above --max-clusters 2"])
    );
    // Both limits apply when both are given.
    c.json(
        &[
            "corpus",
            "--max-clusters",
            "3",
            "--max-duplicate-ratio",
            "0.1",
        ],
        1,
    );
}

#[test]
fn scope_within_ignores_repeats_across_documents() {
    let c = Corpus::sample();
    let v = c.json(&["corpus", "--scope", "within"], 1);
    assert_eq!(findings(&v), [at("corpus/a.txt", 4, 5)]);
    c.write("other/b.txt", B);
    c.json(&["other", "--scope", "within"], 0);
}

#[test]
fn exit_zero_turns_only_failures_into_success() {
    let c = Corpus::sample();
    c.check(&["corpus", "--exit-zero"])
        .code(0)
        .stdout(predicate::str::contains("neardup check failed"));
    c.check(&["corpus", "missing.txt", "--exit-zero"])
        .code(2)
        .stderr(predicate::str::contains("missing.txt"));
}

#[test]
fn errors_exit_2() {
    let c = Corpus::sample();
    // A missing input is an error even when everything else passes.
    c.write("clean/c.txt", C);
    c.check(&["clean", "missing.txt"]).code(2);
    // No paths at all.
    c.check(&[])
        .code(2)
        .stderr(predicate::str::contains("no paths to check"));
    // A malformed record.
    c.write("bad.jsonl", "{\"text\": \"fine\"}\nnot json\n");
    c.check(&["bad.jsonl"])
        .code(2)
        .stderr(predicate::str::contains("bad.jsonl:2"));
}

// ---- baseline ----------------------------------------------------------------

#[test]
fn baseline_records_the_present_and_fails_only_on_new_duplicates() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0)
        .stdout(predicate::str::contains(
            "baseline baseline.json written with 7 occurrences",
        ));
    let file: Value = serde_json::from_str(&c.read("baseline.json")).unwrap();
    assert_eq!(file["neardup_baseline"], 1);
    assert_eq!(file["fingerprint_version"], 1);
    let entries = file["entries"].as_array().unwrap();
    // Keyed by content fingerprint and path, never by line.
    assert!(entries.iter().all(|e| e.get("line").is_none()));
    let counts: Vec<(&str, u64)> = entries
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 7);

    let v = c.json(&["corpus", "--baseline", "baseline.json"], 0);
    assert_eq!(v["summary"]["baselined"], 4);
    assert_eq!(v["fixed"], serde_json::json!([]));

    // A new file repeating a known paragraph fails, naming only it.
    c.write(
        "corpus/c.txt",
        format!("{C}The harbour board voted on Tuesday to rebuild the old north pier before the winter storms.\n"),
    );
    let v = c.json(&["corpus", "--baseline", "baseline.json"], 1);
    assert_eq!(findings(&v), [at("corpus/c.txt", 4, 4)]);
    assert_eq!(v["summary"]["baselined"], 4);
}

#[test]
fn baseline_survives_moves_reorders_and_renames() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0);
    // Reorder the lines of a.txt (the doubled pair now further down) and
    // rename b.txt so that it sorts first: every line number and the
    // kept/duplicate roles change.
    let lines: Vec<&str> = A.lines().collect();
    let moved = [lines[5], lines[0], lines[1], lines[2], lines[4], lines[3]].join("\n");
    c.write("corpus/a.txt", moved + "\n");
    std::fs::rename(c.path("corpus/b.txt"), c.path("corpus/0-b.txt")).unwrap();
    let v = c.json(&["corpus", "--baseline", "baseline.json"], 0);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 0);
    // Given as ./corpus, paths still match.
    c.json(&["./corpus", "--baseline", "baseline.json"], 0);
}

#[test]
fn a_new_file_sorting_before_the_known_copies_is_the_one_named() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0);
    // `0-new.txt` comes first, so the scan keeps its copy and flags the
    // known ones; the finding must still be about the new file.
    c.write(
        "corpus/0-new.txt",
        "Work will start in March and should take eighteen months, the board said.\n",
    );
    let v = c.json(&["corpus", "--baseline", "baseline.json"], 1);
    assert_eq!(findings(&v), [at("corpus/0-new.txt", 1, 1)]);
    let pair = &v["findings"][0]["pairs"][0];
    assert_eq!(pair["original"]["path"], "corpus/a.txt");
    assert!(
        pair["repeat"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Work will start")
    );
}

#[test]
fn fixed_entries_are_reported_and_dropped_by_write_baseline() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0);
    // b.txt loses its "0 Comments" line.
    c.write("corpus/b.txt", B.replace("0 Comments\n", ""));
    let v = c.json(&["corpus", "--baseline", "baseline.json"], 0);
    let fixed: Vec<(&str, &str, u64)> = v["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["text"].as_str().unwrap(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fixed,
        [
            ("corpus/a.txt", "0 Comments", 1),
            ("corpus/b.txt", "0 Comments", 1)
        ]
    );
    c.check(&["corpus", "--baseline", "baseline.json", "--color", "never"])
        .code(0)
        .stdout(predicate::str::contains(
            "2 baseline occurrences no longer repeated (fixed; --write-baseline drops them):\n  corpus/a.txt: 0 Comments\n  corpus/b.txt: 0 Comments\n",
        ));
    c.check(&[
        "corpus",
        "--baseline",
        "baseline.json",
        "--write-baseline",
        "baseline.json",
    ])
    .code(0);
    let file: Value = serde_json::from_str(&c.read("baseline.json")).unwrap();
    let texts: Vec<&str> = file["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(!texts.contains(&"0 Comments"), "{texts:?}");
    let v = c.json(&["corpus", "--baseline", "baseline.json"], 0);
    assert_eq!(v["fixed"], serde_json::json!([]));
}

#[test]
fn a_third_copy_in_the_same_file_is_new() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0);
    c.write(
        "corpus/a.txt",
        format!("{A}{}\n", A.lines().nth(1).unwrap()),
    );
    let v = c.json(&["corpus", "--baseline", "baseline.json"], 1);
    assert_eq!(findings(&v), [at("corpus/a.txt", 7, 7)]);
}

#[test]
fn baseline_problems_are_errors() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0);
    c.check(&[
        "corpus",
        "--baseline",
        "baseline.json",
        "--shingle",
        "chars",
    ])
    .code(2)
    .stderr(predicate::str::contains(
        "written with --shingle words, this run uses --shingle chars",
    ));
    c.write("other.json", "{\"neardup_baseline\": 9}");
    c.check(&["corpus", "--baseline", "other.json"])
        .code(2)
        .stderr(predicate::str::contains("other.json"));
    c.check(&["corpus", "--baseline", "missing.json"])
        .code(2)
        .stderr(predicate::str::contains("missing.json"));
    // A run with input errors does not write a baseline that would forget
    // the unreadable file's duplicates.
    c.check(&["corpus", "missing.txt", "--write-baseline", "new.json"])
        .code(2)
        .stderr(predicate::str::contains("baseline not written"));
    assert!(!c.path("new.json").exists());
}

#[test]
fn outputs_never_replace_corpus_files() {
    let c = Corpus::sample();
    // Not a baseline: refused, and left as it was.
    c.check(&["corpus", "--write-baseline", "corpus/a.txt"])
        .code(2)
        .stderr(predicate::str::contains("not a neardup baseline"));
    assert_eq!(c.read("corpus/a.txt"), A);
    c.check(&["corpus", "-o", "corpus/b.txt", "--output-format", "sarif"])
        .code(2)
        .stderr(predicate::str::contains(
            "refusing to replace a file of the corpus",
        ));
    assert_eq!(c.read("corpus/b.txt"), B);
    // A baseline is replaced, wherever it is.
    c.check(&["corpus", "--write-baseline", "corpus/baseline.json"])
        .code(0);
    c.check(&["corpus", "--write-baseline", "corpus/baseline.json"])
        .code(0);
}

// ---- configuration file and allowlist ----------------------------------------

#[test]
fn allowlist_texts_and_patterns_are_neither_kept_nor_duplicates() {
    let c = Corpus::sample();
    c.write(
        "neardup.toml",
        "paths = [\"corpus\"]\n\n[allow]\nparagraphs = [\"0 comments\"]\npatterns = ['Work will start in \\w+ .*']\n",
    );
    let v = c.json(&[], 1);
    assert_eq!(findings(&v), [at("corpus/a.txt", 4, 4)]);
    assert_eq!(v["summary"]["allowed_paragraphs"], 5);
    // --no-config ignores the file (and so needs paths).
    let v = c.json(&["--no-config", "corpus"], 1);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 4);
}

#[test]
fn config_holds_scan_options_and_limits_and_flags_override_it() {
    let c = Corpus::sample();
    c.write(
        "ci/neardup.toml",
        "paths = [\"../corpus\"]\nthreshold = 0.95\nscope = \"all\"\nmax-clusters = 3\n",
    );
    // At 0.95 the 0.9 near copy is no duplicate. Paths in the file are
    // relative to it.
    let v = c.json(&["--config", "ci/neardup.toml"], 0);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 3);
    assert_eq!(v["limits"]["max_clusters"], 3);
    assert_eq!(v["findings"][0]["repeat"]["path"], "corpus/a.txt");
    // Flags win over the file.
    let v = c.json(&["--config", "ci/neardup.toml", "--threshold", "0.8"], 0);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 4);
    let v = c.json(&["--config", "ci/neardup.toml", "--scope", "within"], 0);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 2);
    let v = c.json(&["--config", "ci/neardup.toml", "--max-clusters", "2"], 1);
    assert_eq!(v["limits"]["max_clusters"], 2);
}

#[test]
fn unknown_or_bad_config_keys_are_named() {
    let c = Corpus::sample();
    c.write("neardup.toml", "paths = [\"corpus\"]\nmax-duplicates = 3\n");
    c.check(&[])
        .code(2)
        .stderr(predicate::str::contains("neardup.toml"))
        .stderr(predicate::str::contains("unknown field `max-duplicates`"));
    c.write("neardup.toml", "paths = [\"corpus\"]\nscope = \"both\"\n");
    c.check(&[]).code(2).stderr(predicate::str::contains(
        "`scope` must be one of all, within, not `both`",
    ));
    c.write(
        "neardup.toml",
        "paths = [\"corpus\"]\n[allow]\npatterns = [\"(\"]\n",
    );
    c.check(&[])
        .code(2)
        .stderr(predicate::str::contains("allowlist pattern `(`"));
}

/// The configuration shown in the README is accepted as it is.
#[test]
fn readme_configuration_example_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme
        .find("### Configuration file: `neardup.toml`")
        .unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let toml = &section[start..start + section[start..].find("```").unwrap()];
    let c = Corpus::sample();
    c.write("neardup.toml", toml);
    // The example names a baseline that does not exist yet.
    c.check(&[])
        .code(2)
        .stderr(predicate::str::contains("create it with --write-baseline"));
    c.check(&["--write-baseline", "neardup-baseline.json"])
        .code(0);
    let v = c.json(&[], 0);
    assert_eq!(v["limits"]["max_clusters"], 50);
}

#[test]
fn exclude_globs_leave_files_out() {
    let c = Corpus::sample();
    c.write("corpus/drafts/a-copy.txt", A);
    c.write("corpus/b.bak", B);
    c.write(
        "neardup.toml",
        "paths = [\"corpus\"]\nexclude = [\"corpus/drafts/**\", \"*.bak\", \"corpus/b.txt\"]\n",
    );
    let v = c.json(&[], 1);
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(findings(&v), [at("corpus/a.txt", 4, 5)]);
    // The flags scan and clean share (issue 18.4) add to the file's.
    c.json(&["--exclude", "a.txt"], 0);
    let v = c.json(
        &["--no-config", "corpus", "-g", "*.txt", "-g", "!a-copy.txt"],
        1,
    );
    assert_eq!(v["summary"]["files"], 2);
}

// ---- changed files ---------------------------------------------------------------

#[test]
fn changed_files_are_checked_against_the_rest() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", C);
    // The duplicates inside and between a.txt and b.txt are not c's.
    c.json(&["corpus", "--changed", "corpus/c.txt"], 0);
    // A changed file is compared with every unchanged one.
    let v = c.json(&["corpus", "--changed", "corpus/b.txt"], 1);
    assert_eq!(
        findings(&v),
        [at("corpus/b.txt", 3, 3), at("corpus/b.txt", 4, 4)]
    );
    assert_eq!(v["changed_only"], true);
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["summary"]["paragraphs"], 4);
}

#[test]
fn a_changed_file_repeating_an_unchanged_one_is_named_even_when_it_sorts_first() {
    let c = Corpus::sample();
    c.write(
        "corpus/0-new.txt",
        format!("{C}{}\n", B.lines().nth(1).unwrap()),
    );
    let v = c.json(&["corpus", "--changed", "corpus/0-new.txt"], 1);
    assert_eq!(findings(&v), [at("corpus/0-new.txt", 4, 4)]);
    assert_eq!(v["findings"][0]["original"]["path"], "corpus/b.txt");
    // Changed files are also compared with each other.
    c.write("corpus/1-new.txt", C);
    let v = c.json(
        &[
            "corpus",
            "--changed",
            "corpus/0-new.txt",
            "corpus/1-new.txt",
        ],
        1,
    );
    assert_eq!(
        findings(&v),
        [at("corpus/0-new.txt", 4, 4), at("corpus/1-new.txt", 1, 3)]
    );
}

#[test]
fn changed_list_from_standard_input_ignores_other_and_deleted_files() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", format!("{C}0 Comments\n"));
    c.write("README.md", "not part of the corpus\n");
    let list = "README.md\ncorpus/deleted.txt\n./corpus/c.txt\n";
    let out = c
        .cmd(&["corpus", "--changed-from", "-", "--output-format", "json"])
        .write_stdin(list)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(findings(&v), [at("corpus/c.txt", 4, 4)]);
    // NUL-separated, as `git diff --name-only -z` writes it.
    c.write("list", "README.md\0corpus/c.txt\0");
    c.json(&["corpus", "--changed-from", "list"], 1);
    // Only deleted files: nothing to check, and said so.
    c.cmd(&["corpus", "--changed-from", "-"])
        .write_stdin("corpus/deleted.txt\n")
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "note: corpus/deleted.txt: listed as changed but not on disk (deleted?); skipped",
        ));
}

/// Issue 18.3: `git diff --name-only` lists paths from the repository's
/// root, so run from a subdirectory none of them matched, and the check
/// passed having checked nothing.
#[test]
fn changed_paths_from_git_resolve_against_the_repository_root() {
    let c = Corpus::sample();
    c.write("README.md", "the corpus of the harbour paper\n");
    c.write("corpus/old.txt", "An article withdrawn since.\n");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(c.path(""))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", c.path(""))
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        out.stdout
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "corpus"]);
    // The change: a new file repeating b.txt, an edited README, a deleted
    // file.
    c.write(
        "corpus/c.txt",
        format!("{C}{}\n", B.lines().nth(1).unwrap()),
    );
    c.write(
        "README.md",
        "the corpus of the harbour paper, 2nd edition\n",
    );
    std::fs::remove_file(c.path("corpus/old.txt")).unwrap();
    git(&["add", "-A"]);
    let list = git(&["diff", "--name-only", "-z", "--cached", "HEAD"]);

    let in_corpus = |args: &[&str]| {
        let mut cmd = c.cmd(args);
        cmd.current_dir(c.path("corpus")).write_stdin(list.clone());
        cmd.assert()
    };
    let out = in_corpus(&[".", "--changed-from", "-", "--output-format", "json"])
        .code(1)
        .stderr(predicate::str::contains(
            "warning: README.md: listed as changed but not an input of the check; ignored",
        ))
        .stderr(predicate::str::contains(
            "note: corpus/old.txt: listed as changed but not on disk (deleted?); skipped",
        ));
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(findings(&v), [at("./c.txt", 4, 4)]);
    assert_eq!(v["summary"]["warnings"], 1);
    // --strict-changed makes the stray file an error.
    in_corpus(&[".", "--changed-from", "-", "--strict-changed"])
        .code(2)
        .stderr(predicate::str::contains(
            "error: README.md: listed as changed but not an input of the check",
        ));
    // A file the globs leave out is not an input on purpose: no warning,
    // and a list of such files alone checks nothing, successfully.
    c.write("corpus/notes.bak", B);
    c.cmd(&[
        "corpus",
        "--exclude",
        "*.bak",
        "--changed",
        "corpus/notes.bak",
    ])
    .assert()
    .code(0)
    .stderr("");
    // A list none of whose files is an input checks nothing: an error
    // saying what was listed and where the inputs are.
    c.cmd(&["corpus/a.txt", "--changed", "README.md"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "none of the files listed as changed is an input: listed README.md; \
             the inputs are under corpus/a.txt",
        ));
}

#[test]
fn changed_files_respect_the_baseline() {
    let c = Corpus::sample();
    c.check(&["corpus", "--write-baseline", "baseline.json"])
        .code(0);
    // b.txt is edited but keeps its known duplicates: nothing new.
    c.write("corpus/b.txt", B.replace("Ferry", "New ferry"));
    c.json(
        &[
            "corpus",
            "--changed",
            "corpus/b.txt",
            "--baseline",
            "baseline.json",
        ],
        0,
    );
    // A third copy of a known paragraph in a changed file is new.
    c.write("corpus/b.txt", format!("{B}0 Comments\n"));
    let v = c.json(
        &[
            "corpus",
            "--changed",
            "corpus/b.txt",
            "--baseline",
            "baseline.json",
        ],
        1,
    );
    assert_eq!(findings(&v), [at("corpus/b.txt", 5, 5)]);
    // A baseline needs the whole corpus.
    c.check(&[
        "corpus",
        "--changed",
        "corpus/b.txt",
        "--write-baseline",
        "x.json",
    ])
    .code(2);
}

/// The `cache: prints found for N of M inputs` line of `--verbose`.
fn cache_hits(c: &Corpus, args: &[&str], code: i32) -> (String, String) {
    let out = c.check(args).code(code).get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("cache: "))
        .unwrap_or_else(|| panic!("no cache line in {stderr}"))
        .to_owned();
    (line, String::from_utf8(out.stdout).unwrap())
}

/// `check` over the corpus with a print cache, telling how many prints
/// it found (`-v`).
const CACHED: [&str; 6] = [
    "corpus",
    "--cache",
    ".cache",
    "-v",
    "--output-format",
    "json",
];

#[test]
fn cache_skips_unchanged_files_and_never_changes_the_result() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", C);
    let args = CACHED;
    let plain = c.stdout(&["corpus", "--output-format", "json"], 1);
    let (hits, first) = cache_hits(&c, &args, 1);
    assert_eq!(hits, "cache: prints found for 0 of 3 inputs");
    let (hits, second) = cache_hits(&c, &args, 1);
    assert_eq!(hits, "cache: prints found for 3 of 3 inputs");
    assert_eq!(first, plain);
    assert_eq!(second, plain);

    // An edited file is fingerprinted again and its new duplicate found.
    c.write("corpus/c.txt", format!("{C}0 Comments\n"));
    let (hits, out) = cache_hits(&c, &args, 1);
    assert_eq!(hits, "cache: prints found for 2 of 3 inputs");
    assert_eq!(out, c.stdout(&["corpus", "--output-format", "json"], 1));
    assert!(out.contains("\"path\": \"corpus/c.txt\""));

    // Same bytes with a new modification time (a fresh checkout): the
    // contents decide.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
    for name in ["corpus/a.txt", "corpus/b.txt"] {
        std::fs::File::options()
            .write(true)
            .open(c.path(name))
            .unwrap()
            .set_modified(later)
            .unwrap();
    }
    let (hits, _) = cache_hits(&c, &args, 1);
    assert_eq!(hits, "cache: prints found for 3 of 3 inputs");

    // Other settings ignore the prints; damaged entries are ignored.
    let (hits, _) = cache_hits(&c, &[&args[..], &["--shingle-size", "3"]].concat(), 1);
    assert_eq!(hits, "cache: prints found for 0 of 3 inputs");
    for entry in std::fs::read_dir(c.path(".cache")).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    let (hits, out) = cache_hits(&c, &args, 1);
    assert_eq!(hits, "cache: prints found for 0 of 3 inputs");
    assert_eq!(out, c.stdout(&["corpus", "--output-format", "json"], 1));
}

/// Issue 19: an input whose ids cannot be used has warnings, so no print:
/// every run reports them again.
#[test]
fn cache_never_hides_unusable_id_warnings() {
    let c = Corpus::sample();
    c.write(
        "corpus/c.jsonl",
        "{\"id\": null, \"text\": \"Nothing here repeats anything else.\"}\n",
    );
    for hits in ["0 of 3", "2 of 3"] {
        let out = c.check(&CACHED).code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains(&format!("cache: prints found for {hits} inputs")),
            "{stderr}"
        );
        assert!(
            stderr.contains("warning: corpus/c.jsonl:1: the id field `id` is null"),
            "{stderr}"
        );
    }
}

#[test]
fn cache_with_changed_files() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", C);
    // A cache inside the corpus is not read as input.
    let v = c.json(&["corpus", "--cache", "corpus/cache"], 1);
    assert_eq!(v["summary"]["files"], 3);
    let v = c.json(&["corpus", "--cache", "corpus/cache"], 1);
    assert_eq!(v["summary"]["files"], 3);
    c.check(&["corpus", "--cache", ".cache"]).code(1);
    c.write("corpus/c.txt", format!("{C}0 Comments\n"));
    let (hits, out) = cache_hits(
        &c,
        &[&CACHED[..], &["--changed", "corpus/c.txt"]].concat(),
        1,
    );
    assert_eq!(hits, "cache: prints found for 2 of 3 inputs");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(findings(&v), [at("corpus/c.txt", 4, 4)]);
}

// ---- output formats: exact snapshots -----------------------------------------------

#[test]
fn text_snapshot() {
    let c = Corpus::sample();
    let out = c.stdout(&["corpus", "--color", "never"], 1);
    assert_eq!(
        out,
        "\
corpus/a.txt:4-5 repeats lines 2-3 (2 paragraphs, within-document, identical)
      4 │ The harbour board voted on Tuesday to rebuild the old north pier before…
      5 │ Work will start in March and should take eighteen months, the board said…
corpus/b.txt:3 repeats corpus/a.txt:3 (cross-document, similarity 0.90)
      3 │ Work will start in March and should take eighteen months, the board said…
corpus/b.txt:4 repeats corpus/a.txt:6 (cross-document, identical)
      4 │ 0 Comments

4 duplicate paragraphs (2 within documents, 2 across) in 3 passages; scanned 2 documents, 10 paragraphs, 583 B
neardup check failed: 4 duplicate paragraphs (--max-duplicate-ratio 0 allows none)
"
    );
}

#[test]
fn json_snapshot() {
    let c = Corpus::sample();
    c.write("corpus/b.txt", "");
    let out = c.stdout(&["corpus", "--output-format", "json"], 1);
    let expected = r#"{
  "version": 1,
  "tool": {
    "name": "neardup",
    "version": "VERSION"
  },
  "passed": false,
  "violations": [
    "2 duplicate paragraphs (--max-duplicate-ratio 0 allows none)"
  ],
  "limits": {
    "max_duplicate_ratio": 0.0,
    "max_clusters": null
  },
  "changed_only": false,
  "summary": {
    "files": 2,
    "paragraphs": 6,
    "scanned_paragraphs": 6,
    "allowed_paragraphs": 0,
    "duplicate_paragraphs": 2,
    "duplicate_ratio": 0.3333333333333333,
    "within_document": 2,
    "cross_document": 0,
    "clusters": 2,
    "findings": 1,
    "baselined": 0,
    "fixed": 0,
    "errors": 0,
    "warnings": 0
  },
  "findings": [
    {
      "kind": "within-document",
      "paragraphs": 2,
      "min_similarity": 1.0,
      "repeat": {
        "path": "corpus/a.txt",
        "doc": "corpus/a.txt",
        "first_paragraph": 3,
        "last_paragraph": 4,
        "first_line": 4,
        "last_line": 5,
        "start": 197,
        "end": 361
      },
      "original": {
        "path": "corpus/a.txt",
        "doc": "corpus/a.txt",
        "first_paragraph": 1,
        "last_paragraph": 2,
        "first_line": 2,
        "last_line": 3,
        "start": 32,
        "end": 196
      },
      "pairs": [
        {
          "repeat": {
            "path": "corpus/a.txt",
            "doc": "corpus/a.txt",
            "paragraph": 3,
            "line": 4,
            "start": 197,
            "end": 287,
            "fingerprint": "8089521832b98d69",
            "text": "The harbour board voted on Tuesday to rebuild the old north pier before the winter storms."
          },
          "original": {
            "path": "corpus/a.txt",
            "doc": "corpus/a.txt",
            "paragraph": 1,
            "line": 2,
            "start": 32,
            "end": 122,
            "fingerprint": "8089521832b98d69"
          },
          "similarity": 1.0
        },
        {
          "repeat": {
            "path": "corpus/a.txt",
            "doc": "corpus/a.txt",
            "paragraph": 4,
            "line": 5,
            "start": 288,
            "end": 361,
            "fingerprint": "a6a58320a9b687cc",
            "text": "Work will start in March and should take eighteen months, the board said."
          },
          "original": {
            "path": "corpus/a.txt",
            "doc": "corpus/a.txt",
            "paragraph": 2,
            "line": 3,
            "start": 123,
            "end": 196,
            "fingerprint": "a6a58320a9b687cc"
          },
          "similarity": 1.0
        }
      ]
    }
  ],
  "fixed": [],
  "diagnostics": []
}
"#
    .replace("VERSION", env!("CARGO_PKG_VERSION"));
    assert_eq!(out, expected);
}

#[test]
fn github_snapshot() {
    let c = Corpus::sample();
    let out = c.stdout(&["corpus", "--output-format", "github"], 1);
    assert_eq!(
        out,
        "\
::error file=corpus/a.txt,line=4,endLine=5,title=Repeated passage (2 paragraphs)::corpus/a.txt:4-5 repeats lines 2-3 (2 paragraphs, within-document, identical)%0A     4 │ The harbour board voted on Tuesday to rebuild the old north pier before…%0A     5 │ Work will start in March and should take eighteen months, the board said…
::error file=corpus/b.txt,line=3,endLine=3,title=Repeated paragraph::corpus/b.txt:3 repeats corpus/a.txt:3 (cross-document, similarity 0.90)%0A     3 │ Work will start in March and should take eighteen months, the board said…
::error file=corpus/b.txt,line=4,endLine=4,title=Repeated paragraph::corpus/b.txt:4 repeats corpus/a.txt:6 (cross-document, identical)%0A     4 │ 0 Comments
neardup check failed: 4 duplicate paragraphs (--max-duplicate-ratio 0 allows none)
"
    );
}

#[test]
fn junit_snapshot() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", C);
    let out = c.stdout(&["corpus", "--output-format", "junit"], 1);
    assert_eq!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="neardup check" tests="3" failures="2" errors="0">
  <testsuite name="neardup check" tests="3" failures="2" errors="0" skipped="0">
    <testcase name="corpus/a.txt" classname="neardup.check">
      <failure message="corpus/a.txt:4-5 repeats lines 2-3 (2 paragraphs, within-document, identical)" type="within-document">corpus/a.txt:4-5 repeats lines 2-3 (2 paragraphs, within-document, identical)
     4 │ The harbour board voted on Tuesday to rebuild the old north pier before the winter storms.
     5 │ Work will start in March and should take eighteen months, the board said.</failure>
    </testcase>
    <testcase name="corpus/b.txt" classname="neardup.check">
      <failure message="corpus/b.txt:3 repeats corpus/a.txt:3 (cross-document, similarity 0.90)" type="cross-document">corpus/b.txt:3 repeats corpus/a.txt:3 (cross-document, similarity 0.90)
     3 │ Work will start in March and should take eighteen months, the board said today.</failure>
      <failure message="corpus/b.txt:4 repeats corpus/a.txt:6 (cross-document, identical)" type="cross-document">corpus/b.txt:4 repeats corpus/a.txt:6 (cross-document, identical)
     4 │ 0 Comments</failure>
    </testcase>
    <testcase name="corpus/c.txt" classname="neardup.check"/>
  </testsuite>
</testsuites>
"#
    );
}

#[test]
fn junit_agrees_with_the_exit_code() {
    let c = Corpus::sample();
    // Within the limits: no failures; the findings are in system-out.
    let out = c.stdout(
        &["corpus", "--max-clusters", "5", "--output-format", "junit"],
        0,
    );
    assert!(out.contains(r#"failures="0""#), "{out}");
    assert!(!out.contains("<failure"), "{out}");
    assert!(out.contains("<system-out>corpus/b.txt:3 repeats"), "{out}");
    // An unreadable input is an error of its test case.
    c.write("bad.jsonl", "not json\n");
    let out = c.stdout(&["bad.jsonl", "--output-format", "junit"], 2);
    assert!(
        out.contains(r#"<testcase name="bad.jsonl" classname="neardup.check">"#)
            && out.contains(r#"<error message="line 1: "#),
        "{out}"
    );
}

#[test]
fn sarif_snapshot() {
    let c = Corpus::sample();
    c.write("corpus/b.txt", "");
    let out = c.stdout(&["corpus", "--output-format", "sarif"], 1);
    let expected = r#"{
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "runs": [
    {
      "invocations": [
        {
          "executionSuccessful": true,
          "toolExecutionNotifications": []
        }
      ],
      "results": [
        {
          "level": "error",
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "corpus/a.txt"
                },
                "region": {
                  "endLine": 5,
                  "startLine": 4
                }
              }
            }
          ],
          "message": {
            "text": "Paragraphs repeat [lines 2-3](1) (2 paragraphs, within-document, identical)"
          },
          "partialFingerprints": {
            "neardupFinding/v1": "674f72bc2209d705:1"
          },
          "properties": {
            "paragraphs": 2,
            "similarity": 1.0,
            "text": "The harbour board voted on Tuesday to rebuild the old north pier before the winter storms."
          },
          "relatedLocations": [
            {
              "id": 1,
              "message": {
                "text": "the copy it repeats"
              },
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "corpus/a.txt"
                },
                "region": {
                  "endLine": 3,
                  "startLine": 2
                }
              }
            }
          ],
          "ruleId": "within-document",
          "ruleIndex": 0
        }
      ],
      "tool": {
        "driver": {
          "name": "neardup",
          "rules": [
            {
              "defaultConfiguration": {
                "level": "error"
              },
              "fullDescription": {
                "text": "The paragraph is a near-duplicate of an earlier paragraph in the same document, which usually means a scraper or an edit doubled it. Remove one copy, allow the text in neardup.toml, or record it in the baseline."
              },
              "help": {
                "text": "The paragraph is a near-duplicate of an earlier paragraph in the same document, which usually means a scraper or an edit doubled it. Remove one copy, allow the text in neardup.toml, or record it in the baseline."
              },
              "id": "within-document",
              "name": "RepeatedWithinDocument",
              "shortDescription": {
                "text": "A paragraph repeats a paragraph of the same document"
              }
            },
            {
              "defaultConfiguration": {
                "level": "error"
              },
              "fullDescription": {
                "text": "The paragraph is a near-duplicate of a paragraph in another document: syndicated copy or boilerplate. Remove it, allow the text in neardup.toml, or record it in the baseline."
              },
              "help": {
                "text": "The paragraph is a near-duplicate of a paragraph in another document: syndicated copy or boilerplate. Remove it, allow the text in neardup.toml, or record it in the baseline."
              },
              "id": "cross-document",
              "name": "RepeatedAcrossDocuments",
              "shortDescription": {
                "text": "A paragraph repeats a paragraph of another document"
              }
            }
          ],
          "semanticVersion": "VERSION",
          "version": "VERSION"
        }
      }
    }
  ],
  "version": "2.1.0"
}
"#
    .replace("VERSION", env!("CARGO_PKG_VERSION"));
    assert_eq!(out, expected);
}

// ---- SARIF 2.1.0 structure ---------------------------------------------------------

/// The property names the SARIF 2.1.0 schema allows on each object we
/// write (the schema sets `additionalProperties: false` on them), and
/// those it requires.
const SARIF_LOG: (&[&str], &[&str]) = (
    &[
        "$schema",
        "version",
        "runs",
        "inlineExternalProperties",
        "properties",
    ],
    &["version", "runs"],
);
const RUN: (&[&str], &[&str]) = (
    &[
        "tool",
        "invocations",
        "conversion",
        "language",
        "versionControlProvenance",
        "originalUriBaseIds",
        "artifacts",
        "logicalLocations",
        "graphs",
        "results",
        "automationDetails",
        "runAggregates",
        "baselineGuid",
        "redactionTokens",
        "defaultEncoding",
        "defaultSourceLanguage",
        "newlineSequences",
        "columnKind",
        "externalPropertyFileReferences",
        "threadFlowLocations",
        "taxonomies",
        "addresses",
        "translations",
        "policies",
        "webRequests",
        "webResponses",
        "specialLocations",
        "properties",
    ],
    &["tool"],
);
const TOOL: (&[&str], &[&str]) = (&["driver", "extensions", "properties"], &["driver"]);
const TOOL_COMPONENT: (&[&str], &[&str]) = (
    &[
        "guid",
        "name",
        "organization",
        "product",
        "productSuite",
        "shortDescription",
        "fullDescription",
        "fullName",
        "version",
        "semanticVersion",
        "dottedQuadFileVersion",
        "releaseDateUtc",
        "downloadUri",
        "informationUri",
        "globalMessageStrings",
        "notifications",
        "rules",
        "taxa",
        "locations",
        "language",
        "contents",
        "isComprehensive",
        "localizedDataSemanticVersion",
        "minimumRequiredLocalizedDataSemanticVersion",
        "associatedComponent",
        "translationMetadata",
        "supportedTaxonomies",
        "properties",
    ],
    &["name"],
);
const REPORTING_DESCRIPTOR: (&[&str], &[&str]) = (
    &[
        "id",
        "deprecatedIds",
        "guid",
        "deprecatedGuids",
        "name",
        "deprecatedNames",
        "shortDescription",
        "fullDescription",
        "messageStrings",
        "defaultConfiguration",
        "helpUri",
        "help",
        "relationships",
        "properties",
    ],
    &["id"],
);
const MULTIFORMAT_MESSAGE: (&[&str], &[&str]) = (&["text", "markdown", "properties"], &["text"]);
const REPORTING_CONFIGURATION: (&[&str], &[&str]) = (
    &["enabled", "level", "rank", "parameters", "properties"],
    &[],
);
const RESULT: (&[&str], &[&str]) = (
    &[
        "ruleId",
        "ruleIndex",
        "rule",
        "kind",
        "level",
        "message",
        "analysisTarget",
        "locations",
        "guid",
        "correlationGuid",
        "occurrenceCount",
        "partialFingerprints",
        "fingerprints",
        "stacks",
        "codeFlows",
        "graphs",
        "graphTraversals",
        "relatedLocations",
        "suppressions",
        "baselineState",
        "rank",
        "attachments",
        "hostedViewerUri",
        "workItemUris",
        "provenance",
        "fixes",
        "taxa",
        "webRequest",
        "webResponse",
        "properties",
    ],
    &["message"],
);
const MESSAGE: (&[&str], &[&str]) = (&["text", "markdown", "id", "arguments", "properties"], &[]);
const LOCATION: (&[&str], &[&str]) = (
    &[
        "id",
        "physicalLocation",
        "logicalLocations",
        "message",
        "annotations",
        "relationships",
        "properties",
    ],
    &[],
);
const PHYSICAL_LOCATION: (&[&str], &[&str]) = (
    &[
        "address",
        "artifactLocation",
        "region",
        "contextRegion",
        "properties",
    ],
    &[],
);
const ARTIFACT_LOCATION: (&[&str], &[&str]) = (
    &["uri", "uriBaseId", "index", "description", "properties"],
    &[],
);
const REGION: (&[&str], &[&str]) = (
    &[
        "startLine",
        "startColumn",
        "endLine",
        "endColumn",
        "charOffset",
        "charLength",
        "byteOffset",
        "byteLength",
        "snippet",
        "message",
        "sourceLanguage",
        "properties",
    ],
    &[],
);
const INVOCATION: (&[&str], &[&str]) = (
    &[
        "commandLine",
        "arguments",
        "responseFiles",
        "startTimeUtc",
        "endTimeUtc",
        "exitCode",
        "ruleConfigurationOverrides",
        "notificationConfigurationOverrides",
        "toolExecutionNotifications",
        "toolConfigurationNotifications",
        "exitCodeDescription",
        "exitSignalName",
        "exitSignalNumber",
        "processStartFailureMessage",
        "executionSuccessful",
        "machine",
        "account",
        "processId",
        "executableLocation",
        "workingDirectory",
        "environmentVariables",
        "stdin",
        "stdout",
        "stderr",
        "stdoutStderr",
        "properties",
    ],
    &["executionSuccessful"],
);
const NOTIFICATION: (&[&str], &[&str]) = (
    &[
        "locations",
        "message",
        "level",
        "threadId",
        "timeUtc",
        "exception",
        "descriptor",
        "associatedRule",
        "properties",
    ],
    &["message"],
);

/// Checks `v` is an object with only `allowed` keys and every `required`
/// one; returns it.
fn object<'v>(
    v: &'v Value,
    (allowed, required): (&[&str], &[&str]),
    what: &str,
) -> &'v serde_json::Map<String, Value> {
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"));
    for k in o.keys() {
        assert!(
            allowed.contains(&k.as_str()),
            "{what} has unknown property `{k}`"
        );
    }
    for k in required {
        assert!(o.contains_key(*k), "{what} lacks required property `{k}`");
    }
    o
}

fn array<'v>(v: &'v Value, what: &str) -> &'v Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not an array: {v}"))
}

fn message(v: &Value, what: &str) {
    let m = object(v, MESSAGE, what);
    assert!(
        m.get("text").is_some_and(Value::is_string) || m.get("id").is_some_and(Value::is_string),
        "{what} needs `text` or `id`"
    );
}

fn level(v: &Value, what: &str) {
    assert!(
        ["none", "note", "warning", "error"].contains(&v.as_str().unwrap_or("")),
        "{what} level {v} is not a SARIF level"
    );
}

/// A URI reference as SARIF requires: no characters that must be escaped.
fn uri_reference(uri: &str, what: &str) {
    assert!(!uri.is_empty(), "{what}: empty uri");
    for c in uri.chars() {
        assert!(
            c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c),
            "{what}: `{c}` must be percent-encoded in uri `{uri}`"
        );
    }
    assert!(!uri.contains('\\'), "{what}: backslash in uri `{uri}`");
}

fn location(v: &Value, what: &str) {
    let l = object(v, LOCATION, what);
    if let Some(id) = l.get("id") {
        assert!(id.as_i64().is_some_and(|i| i >= -1), "{what}.id {id}");
    }
    if let Some(m) = l.get("message") {
        message(m, &format!("{what}.message"));
    }
    if let Some(p) = l.get("physicalLocation") {
        let p = object(p, PHYSICAL_LOCATION, &format!("{what}.physicalLocation"));
        assert!(
            p.contains_key("artifactLocation") || p.contains_key("address"),
            "{what}.physicalLocation needs artifactLocation or address"
        );
        if let Some(a) = p.get("artifactLocation") {
            let a = object(a, ARTIFACT_LOCATION, &format!("{what}.artifactLocation"));
            uri_reference(a["uri"].as_str().expect("uri is a string"), what);
        }
        if let Some(r) = p.get("region") {
            let r = object(r, REGION, &format!("{what}.region"));
            let start = r["startLine"].as_u64().expect("startLine is an integer");
            assert!(start >= 1, "{what}: startLine {start} < 1");
            if let Some(end) = r.get("endLine") {
                assert!(
                    end.as_u64().expect("endLine is an integer") >= start,
                    "{what}: endLine before startLine"
                );
            }
        }
    }
}

fn validate_sarif(v: &Value) {
    let log = object(v, SARIF_LOG, "sarifLog");
    assert_eq!(log["version"], "2.1.0");
    if let Some(s) = log.get("$schema") {
        uri_reference(s.as_str().expect("$schema is a string"), "$schema");
    }
    for (r, run) in array(&log["runs"], "runs").iter().enumerate() {
        let run = object(run, RUN, &format!("runs[{r}]"));
        let tool = object(&run["tool"], TOOL, "tool");
        let driver = object(&tool["driver"], TOOL_COMPONENT, "tool.driver");
        assert!(driver["name"].as_str().is_some_and(|n| !n.is_empty()));
        let rules = driver
            .get("rules")
            .map(|r| array(r, "rules"))
            .cloned()
            .unwrap_or_default();
        let mut ids = std::collections::HashSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let what = format!("rules[{i}]");
            let rule = object(rule, REPORTING_DESCRIPTOR, &what);
            assert!(
                ids.insert(rule["id"].as_str().expect("rule id is a string").to_owned()),
                "{what}: duplicate id"
            );
            for key in ["shortDescription", "fullDescription", "help"] {
                if let Some(d) = rule.get(key) {
                    object(d, MULTIFORMAT_MESSAGE, &format!("{what}.{key}"));
                }
            }
            if let Some(c) = rule.get("defaultConfiguration") {
                let c = object(
                    c,
                    REPORTING_CONFIGURATION,
                    &format!("{what}.defaultConfiguration"),
                );
                if let Some(l) = c.get("level") {
                    level(l, &what);
                }
            }
        }
        for inv in run
            .get("invocations")
            .map(|i| array(i, "invocations"))
            .into_iter()
            .flatten()
        {
            let inv = object(inv, INVOCATION, "invocation");
            assert!(inv["executionSuccessful"].is_boolean());
            for n in inv
                .get("toolExecutionNotifications")
                .map(|n| array(n, "notifications"))
                .into_iter()
                .flatten()
            {
                let n = object(n, NOTIFICATION, "notification");
                message(&n["message"], "notification.message");
                if let Some(l) = n.get("level") {
                    level(l, "notification");
                }
                for l in n
                    .get("locations")
                    .map(|l| array(l, "locations"))
                    .into_iter()
                    .flatten()
                {
                    location(l, "notification.location");
                }
            }
        }
        for (i, res) in run
            .get("results")
            .map(|r| array(r, "results"))
            .into_iter()
            .flatten()
            .enumerate()
        {
            let what = format!("results[{i}]");
            let res = object(res, RESULT, &what);
            message(&res["message"], &format!("{what}.message"));
            if let Some(l) = res.get("level") {
                level(l, &what);
            }
            if let Some(id) = res.get("ruleId") {
                let id = id.as_str().expect("ruleId is a string");
                if let Some(index) = res.get("ruleIndex") {
                    let index =
                        index.as_u64().expect("ruleIndex is a non-negative integer") as usize;
                    assert_eq!(
                        rules[index]["id"], id,
                        "{what}: ruleIndex does not point at ruleId"
                    );
                }
            }
            let locations = array(&res["locations"], "locations");
            assert!(!locations.is_empty(), "{what}: no location");
            for l in locations {
                location(l, &format!("{what}.location"));
            }
            let mut related = std::collections::HashSet::new();
            for l in res
                .get("relatedLocations")
                .map(|l| array(l, "relatedLocations"))
                .into_iter()
                .flatten()
            {
                location(l, &format!("{what}.relatedLocation"));
                assert!(
                    related.insert(l["id"].as_i64().expect("related locations have ids")),
                    "{what}: duplicate related id"
                );
            }
            // Every embedded link `[text](n)` points at a related location.
            let text = res["message"]["text"].as_str().unwrap();
            for link in text.split("](").skip(1) {
                let id: i64 = link
                    .split(')')
                    .next()
                    .unwrap()
                    .parse()
                    .expect("link target is an id");
                assert!(
                    related.contains(&id),
                    "{what}: link to missing related location {id}"
                );
            }
            if let Some(f) = res.get("partialFingerprints") {
                let f = f.as_object().expect("partialFingerprints is an object");
                assert!(
                    f.values().all(Value::is_string),
                    "{what}: fingerprints are strings"
                );
            }
            if let Some(s) = res.get("baselineState") {
                assert!(["new", "unchanged", "updated", "absent"].contains(&s.as_str().unwrap()));
            }
        }
    }
}

#[test]
fn sarif_has_the_required_2_1_0_structure() {
    let c = Corpus::sample();
    c.write(
        "corpus/odd name [1].txt",
        format!("{C}{}\n", C.lines().nth(1).unwrap()),
    );
    c.write("bad.jsonl", "not json\n");
    for args in [
        &["corpus", "bad.jsonl"][..],
        &["corpus", "--max-clusters", "100"][..],
        &["corpus/odd name [1].txt"][..],
    ] {
        let mut all = args.to_vec();
        all.extend(["--output-format", "sarif"]);
        let out = c.cmd(&all).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        validate_sarif(&v);
    }
    // The checker itself rejects what the schema rejects.
    let mut v: Value =
        serde_json::from_str(&c.stdout(&["corpus", "--output-format", "sarif"], 1)).unwrap();
    v["runs"][0]["results"][0]["message"] = serde_json::json!({});
    assert!(std::panic::catch_unwind(|| validate_sarif(&v)).is_err());
}

#[test]
fn sarif_fingerprints_follow_content_not_lines() {
    let c = Corpus::sample();
    let fingerprints = |c: &Corpus| -> Vec<String> {
        let v: Value =
            serde_json::from_str(&c.stdout(&["corpus", "--output-format", "sarif"], 1)).unwrap();
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["neardupFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let before = fingerprints(&c);
    assert_eq!(before.len(), 3);
    // Two new lines on top move every finding down.
    c.write(
        "corpus/a.txt",
        format!("Updated at noon\nBy a staff writer\n{A}"),
    );
    assert_eq!(fingerprints(&c), before);
}

#[test]
fn github_escapes_paths_and_messages() {
    let c = Corpus::new();
    let line = "Fares rise 5% on Monday: the council, again, blamed fuel costs.";
    c.write("in/50%, a:b.txt", format!("{line}\n{line}\n"));
    let out = c.stdout(&["in", "--output-format", "github"], 1);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "::error file=in/50%25%2C a%3Ab.txt,line=2,endLine=2,title=Repeated paragraph::\
         in/50%25, a:b.txt:2 repeats line 1 (within-document, identical)%0A     2 │ \
         Fares rise 5%25 on Monday: the council, again, blamed fuel costs."
    );
}

#[test]
fn github_caps_annotations_and_writes_everything_to_the_step_summary() {
    let c = Corpus::sample();
    c.write("summary.md", "earlier step output\n");
    let out = c
        .cmd(&[
            "corpus",
            "--output-format",
            "github",
            "--max-annotations",
            "1",
        ])
        .env("GITHUB_STEP_SUMMARY", c.path("summary.md"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let errors: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("::error file="))
        .collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(out.contains(
        "::error title=neardup::2 more findings not annotated (--max-annotations 1); the job summary lists every finding"
    ), "{out}");
    let summary = c.read("summary.md");
    assert!(
        summary.starts_with("earlier step output\n### neardup check failed"),
        "{summary}"
    );
    for row in [
        "| corpus/a.txt:4-5 | lines 2-3 | 2 paragraphs, within-document, identical | The harbour",
        "| corpus/b.txt:3 | corpus/a.txt:3 | cross-document, similarity 0.90 | Work will",
        "| corpus/b.txt:4 | corpus/a.txt:6 | cross-document, identical | 0 Comments |",
    ] {
        assert!(summary.contains(row), "{row} not in\n{summary}");
    }
    // Within the limits the annotations are warnings.
    c.cmd(&["corpus", "--output-format", "github", "--max-clusters", "9"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "::warning file=corpus/a.txt,line=4,endLine=5",
        ));
}

#[test]
fn output_file_is_written_whole() {
    let c = Corpus::sample();
    c.check(&[
        "corpus",
        "--output-format",
        "sarif",
        "-o",
        "out/report.sarif",
    ])
    .code(2)
    .stderr(predicate::str::contains("out/report.sarif"));
    std::fs::create_dir(c.path("out")).unwrap();
    c.check(&[
        "corpus",
        "--output-format",
        "sarif",
        "-o",
        "out/report.sarif",
    ])
    .code(1)
    .stdout("");
    let v: Value = serde_json::from_str(&c.read("out/report.sarif")).unwrap();
    validate_sarif(&v);
    // `--output-file`, the flag's older name, keeps existing CI configs
    // working (issue 18.9).
    c.check(&[
        "corpus",
        "--output-format",
        "json",
        "--output-file",
        "out/r.json",
    ])
    .code(1)
    .stdout("");
    let v: Value = serde_json::from_str(&c.read("out/r.json")).unwrap();
    assert_eq!(v["passed"], false);
}

#[test]
fn thread_count_does_not_change_the_output() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", C);
    let one = c.stdout(&["corpus", "-j1", "--output-format", "sarif"], 1);
    let four = c.stdout(&["corpus", "-j4", "--output-format", "sarif"], 1);
    assert_eq!(one, four);
}

// ---- the seed articles --------------------------------------------------------------

/// The acceptance check of issue 4 on the seed articles.
#[test]
fn seeds_fail_then_pass_with_a_baseline_then_fail_on_a_new_copy() {
    let Some(seeds) = common::seeds() else { return };
    let c = Corpus::new();
    let seeds = seeds.to_str().unwrap();
    // The doubled caption of 000 and the doubled passage of 004.
    let v = c.json(&[seeds], 1);
    let named: Vec<(String, u64, u64)> = findings(&v)
        .into_iter()
        .map(|(p, a, b)| {
            (
                Path::new(&p)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                a,
                b,
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            at("000_e46d4447ccb66825.txt", 8, 8),
            at("004_f6303868df1da65c.txt", 8, 9)
        ]
    );
    c.check(&[seeds, "--write-baseline", "b.json"]).code(0);
    c.json(&[seeds, "--baseline", "b.json"], 0);

    // A copy of the seeds with a new file repeating one seed paragraph.
    common::copy_dir(Path::new(seeds), &c.path("seeds"));
    c.check(&["seeds", "--write-baseline", "b.json"]).code(0);
    c.json(&["seeds", "--baseline", "b.json"], 0);
    let caption = std::fs::read_to_string(c.path("seeds/000_e46d4447ccb66825.txt"))
        .unwrap()
        .lines()
        .nth(6)
        .unwrap()
        .to_owned();
    for name in ["seeds/002_new.txt", "seeds/zz_new.txt"] {
        c.write(
            name,
            format!("A paragraph of our own about something else entirely.\n{caption}\n"),
        );
        let v = c.json(&["seeds", "--baseline", "b.json"], 1);
        assert_eq!(findings(&v), [at(name, 2, 2)], "{name}");
        std::fs::remove_file(c.path(name)).unwrap();
    }
}

/// Issue 18.8: `-q` hides check's summary, as `-h` says; issue 18.5: the
/// verdict goes to standard error when the output does not end with it.
#[test]
fn quiet_shows_only_findings_and_the_verdict_reaches_the_log() {
    let c = Corpus::sample();
    let loud = c.stdout(&["corpus"], 1);
    let quiet = c.stdout(&["corpus", "-q"], 1);
    assert!(loud.contains("neardup check failed"), "{loud}");
    assert!(loud.contains("duplicate paragraphs ("), "{loud}");
    assert!(
        quiet.starts_with("corpus/a.txt:4-5 repeats lines 2-3"),
        "{quiet}"
    );
    assert!(!quiet.contains("neardup check"), "{quiet}");
    assert!(!quiet.contains("duplicate paragraphs ("), "{quiet}");
    assert!(loud.starts_with(&quiet), "{loud}\n---\n{quiet}");
    // A passing quiet check says nothing at all.
    c.write("clean/c.txt", C);
    c.check(&["clean", "-q"]).code(0).stdout("").stderr("");

    // Written to a file, or in a format for tools: the verdict on standard
    // error, unless -q.
    c.check(&["corpus", "-o", "report.txt"])
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with("neardup check failed: "));
    assert!(c.read("report.txt").contains("neardup check failed"));
    c.check(&["corpus", "--output-format", "sarif"])
        .code(1)
        .stderr(predicate::str::contains("neardup check failed: "));
    c.check(&["corpus", "--output-format", "sarif", "-o", "r.sarif", "-q"])
        .code(1)
        .stdout("")
        .stderr("");
    // On standard output as text, the verdict is said once.
    c.check(&["corpus"]).code(1).stderr("");
}

/// Issue 18.5: `--top N` summarises a check with too many findings.
#[test]
fn top_counts_the_repeats_of_each_kept_paragraph() {
    let c = Corpus::sample();
    c.write("corpus/c.txt", format!("{C}0 Comments\n0 Comments\n"));
    let text = c.stdout(&["corpus", "--top", "1"], 1);
    let lines: Vec<&str> = text.lines().collect();
    // "0 Comments" is kept in a.txt and repeated once in b.txt, twice in
    // c.txt; a tie between files goes to the first in input order.
    assert_eq!(
        lines[..5],
        [
            "most repeated paragraphs (1 of 3 clusters), occurrences and first occurrence:",
            "        4  corpus/a.txt:6  0 Comments",
            "",
            "files with the most duplicate paragraphs (1 of 3), duplicates / paragraphs:",
            "          2 / 6  corpus/a.txt",
        ],
        "{text}"
    );
    assert!(
        text.ends_with("(--max-duplicate-ratio 0 allows none)\n"),
        "{text}"
    );
    assert_eq!(
        c.stdout(&["corpus", "--top", "1", "-q"], 1),
        lines[..5].join("\n") + "\n"
    );
    c.check(&["corpus", "--top", "1", "--output-format", "json"])
        .code(2)
        .stderr(predicate::str::contains("--top summarises the text output"));
}

// ---- containment ----------------------------------------------------------

/// A quote of 31 words, alone in `quote.txt` and inside a longer paragraph
/// of `article.txt`; `other.txt` has neither.
fn quoted() -> Corpus {
    let quote = "the council said on Friday that the water in the northern district was \
                 safe to drink again after six days of tests at twelve sampling points \
                 across the town and harbour";
    let c = Corpus::new();
    c.write(
        "corpus/article.txt",
        format!(
            "Boil notice lifted\nResidents were relieved when {quote}, a spokeswoman \
             confirmed in a statement that also thanked the volunteers who handed out \
             bottled water.\n"
        ),
    );
    c.write("corpus/quote.txt", format!("{quote}\n"));
    c.write("corpus/other.txt", C);
    c
}

/// `check --containment` gates on paragraphs inside longer ones with a
/// limit of its own, in every format, from the flags or the file, and with
/// `--changed` only on pairs involving a changed file.
#[test]
fn containment_is_gated_on_its_own_limit_in_every_format() {
    let c = quoted();
    // Off by default: nothing to find, and no containment in the output.
    let v = c.json(&["corpus"], 0);
    assert!(v.get("contained").is_none() && v["limits"].get("max_contained").is_none());
    let v = c.json(&["corpus", "--containment"], 1);
    assert_eq!(v["summary"]["contained"], 1);
    assert_eq!(v["summary"]["duplicate_paragraphs"], 0);
    assert_eq!(v["limits"]["max_contained"], 0);
    let found = &v["contained"][0];
    assert_eq!(found["short"]["path"], "corpus/quote.txt");
    assert_eq!(found["long"]["path"], "corpus/article.txt");
    assert_eq!(
        (
            found["short"]["line"].as_u64(),
            found["long"]["line"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(found["containment"], 1.0);
    assert_eq!(
        v["violations"][0],
        "1 paragraph inside longer ones (--max-contained 0 allows none)"
    );
    // Its own limit: the duplicates' limits do not lift it, and it passes
    // when the findings are within it.
    c.json(
        &["corpus", "--containment", "--max-duplicate-ratio", "0.5"],
        1,
    );
    let text = c.stdout(&["corpus", "--containment", "--max-contained", "1"], 0);
    assert!(
        text.contains("corpus/quote.txt:1 is inside corpus/article.txt:2 (containment 1.00"),
        "{text}"
    );
    assert!(
        text.contains(
            "neardup check passed: no duplicates; 1 paragraph inside longer ones within the limits"
        ),
        "{text}"
    );
    c.check(&["corpus", "--max-contained", "1"])
        .code(2)
        .stderr(predicate::str::contains("add --containment"));
    // The formats for tools.
    let github = c.stdout(&["corpus", "--containment", "--output-format", "github"], 1);
    assert!(github.starts_with(
        "::error file=corpus/quote.txt,line=1,endLine=1,title=Paragraph inside a longer one::corpus/quote.txt:1 is inside corpus/article.txt:2"
    ), "{github}");
    let sarif: Value = serde_json::from_str(
        &c.stdout(&["corpus", "--containment", "--output-format", "sarif"], 1),
    )
    .unwrap();
    validate_sarif(&sarif);
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "contained");
    let rule = results[0]["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][rule]["id"], "contained");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "corpus/quote.txt"
    );
    assert_eq!(
        results[0]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let junit = c.stdout(&["corpus", "--containment", "--output-format", "junit"], 1);
    assert!(junit.contains(r#"failures="1""#), "{junit}");
    assert!(
        junit.contains(
            r#"<testcase name="corpus/quote.txt" classname="neardup.check">
      <failure message="corpus/quote.txt:1 is inside corpus/article.txt:2"#
        ),
        "{junit}"
    );
    // From the configuration file.
    c.write("neardup.toml", "containment = 0.8\nmax-contained = 1\n");
    c.json(&["corpus"], 0);
    c.write(
        "neardup.toml",
        "containment = \"0.8\"\ncontainment-words = 40\n",
    );
    assert_eq!(
        c.json(&["corpus"], 0)["summary"]["contained"],
        0,
        "a 31-word quote is below 40 words"
    );
    std::fs::remove_file(c.path("neardup.toml")).unwrap();
    // Changed files: a pair with a changed file counts, a pair of two
    // unchanged ones is not looked at.
    let v = c.json(
        &["corpus", "--containment", "--changed", "corpus/article.txt"],
        1,
    );
    assert_eq!(v["summary"]["contained"], 1);
    let v = c.json(
        &["corpus", "--containment", "--changed", "corpus/other.txt"],
        0,
    );
    assert_eq!(v["summary"]["contained"], 0);
}
