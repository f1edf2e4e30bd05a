//! Snapshot tests of `neardup explain`: the whole output for pairs of the
//! sample corpus, compared byte for byte with `tests/snapshots/explain_*.txt`.
//! After a deliberate change of the output, rerun with `NEARDUP_BLESS=1` to
//! rewrite the snapshots, and review the diff.

use assert_cmd::Command;

mod common;

use common::repo;

/// Runs `neardup explain ARGS` in the repository, checks the exit code and
/// compares standard output with the snapshot `name`.
fn snapshot(name: &str, args: &[&str], code: i32) {
    let out = Command::cargo_bin("neardup")
        .unwrap()
        .current_dir(repo())
        .env_remove("NO_COLOR")
        .arg("explain")
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    let actual = String::from_utf8(out).unwrap();
    let path = repo().join(format!("tests/snapshots/explain_{name}.txt"));
    if std::env::var_os("NEARDUP_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with NEARDUP_BLESS=1 to create it)",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "output differs from {}:\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// The wire story's paragraph 5 and a reprint that changed "one minute" to
/// "three minutes" (data/README.md: J = 51/63).
#[test]
fn near_duplicate_lines_of_text_files() {
    snapshot(
        "near_duplicate",
        &[
            "data/news/03-harwick-boil-water-notice.txt:6",
            "data/news/05-coastline-post-lake-venn.txt:7",
        ],
        1,
    );
}

/// The passage doubled inside one JSON Lines record, named by document id
/// and paragraph as the report gives them.
#[test]
fn exact_copy_within_a_jsonl_record() {
    snapshot(
        "exact_copy",
        &[
            "data/news.jsonl#callowcourier-0117:3",
            "data/news.jsonl#callowcourier-0117:5",
        ],
        1,
    );
}

/// The heavier rewrite (J = 39/66) in the WET sample, with documents named
/// by page address: below the threshold.
#[test]
fn rewrite_below_the_threshold_in_a_wet_file() {
    snapshot(
        "below_threshold",
        &[
            "data/news.warc.wet.gz#https://example-meridianwire.test/wire/2024/10/14/harwick-boil-water-notice:4",
            "data/news.warc.wet.gz#https://example-valleyherald.test/news/harwick-households-boil-tap-water:5",
        ],
        0,
    );
}

/// Boilerplate lines shorter than `--min-words` are never fingerprinted.
#[test]
fn short_lines_are_not_compared() {
    snapshot(
        "not_compared",
        &[
            "--min-words",
            "3",
            "data/news/01-port-callow-flood-barrier.txt:11",
            "data/news/03-harwick-boil-water-notice.txt:8",
        ],
        0,
    );
}

/// With `--scope within` paragraphs of two documents are never compared.
#[test]
fn scope_within_leaves_other_documents_alone() {
    snapshot(
        "out_of_scope",
        &[
            "--scope",
            "within",
            "data/news/03-harwick-boil-water-notice.txt:6",
            "data/news/05-coastline-post-lake-venn.txt:7",
        ],
        0,
    );
}

/// The Parquet sample's rows, named by id.
#[cfg(feature = "parquet")]
#[test]
fn edited_paragraph_in_parquet_rows() {
    snapshot(
        "parquet",
        &[
            "data/news.parquet#meridianwire-5531:5",
            "data/news.parquet#valleyherald-2208:7",
        ],
        1,
    );
}

/// Addresses that name no paragraph are errors that say what to write.
#[test]
fn bad_addresses_say_what_is_expected() {
    for (a, message) in [
        (
            "data/news.jsonl:2",
            "error: data/news.jsonl: line 2 holds 8 paragraphs of document islandsdigest-0042; \
             name one as data/news.jsonl#islandsdigest-0042:PARAGRAPH",
        ),
        (
            "data/news.jsonl#nobody:1",
            "error: data/news.jsonl: no paragraph 1 in a document named \"nobody\"",
        ),
        (
            "data/news/missing.txt:3",
            "error: \"data/news/missing.txt:3\": no such file \
             (name a paragraph as PATH:LINE or PATH#DOC:PARAGRAPH)",
        ),
        (
            "data/news/01-port-callow-flood-barrier.txt",
            "error: \"data/news/01-port-callow-flood-barrier.txt\": \
             name a paragraph as PATH:LINE or PATH#DOC:PARAGRAPH",
        ),
        (
            "data/news/01-port-callow-flood-barrier.txt:99",
            "error: data/news/01-port-callow-flood-barrier.txt: no paragraph on line 99",
        ),
    ] {
        let out = Command::cargo_bin("neardup")
            .unwrap()
            .current_dir(repo())
            .args(["explain", a, "data/news/01-port-callow-flood-barrier.txt:1"])
            .assert()
            .code(2)
            .get_output()
            .clone();
        assert!(out.stdout.is_empty());
        assert_eq!(
            String::from_utf8(out.stderr).unwrap().trim(),
            message,
            "{a}"
        );
    }
}
