//! Integration tests of the `neardup` binary: each runs the real command in
//! a temporary directory and checks its output and exit code.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

mod common;

use common::{neardup, repo, write};

/// Runs `neardup ARGS PATHS` in the repository, checks the exit code and
/// returns standard output.
fn stdout_of(args: &[&str], paths: &[&Path], code: i32) -> Vec<u8> {
    let paths: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    stdout_in(&repo(), &[args, &paths].concat(), code)
}

/// Runs `neardup ARGS` in `dir`, checks the exit code and returns standard
/// output.
fn stdout_in(dir: &Path, args: &[&str], code: i32) -> Vec<u8> {
    neardup()
        .current_dir(dir)
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone()
}

/// One JSON object per line of `--output-format jsonl`.
fn clusters(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(file name, line)` of each member, kept paragraph first.
fn members(cluster: &Value) -> Vec<(String, u64)> {
    cluster["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let path = m["path"].as_str().unwrap();
            let name = Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, m["line"].as_u64().unwrap())
        })
        .collect()
}

/// The situation of the two seed articles, in our own words: a
/// one-paragraph-per-line article whose paragraphs 6-7 (a quote among them)
/// reappear as 8-9, and a blank-line article with a photo caption doubled.
const LINE_ARTICLE: &str = "\
Talks on the river treaty stall for a second day
| Delegates from both banks meet in Orvale on Tuesday. |
The two delegations failed on Tuesday to agree on how much water each side may draw from the Sarn during the dry months.
Negotiators met for six hours in the old customs house, according to officials from both sides.
The upstream delegation has proposed a shared gauge at the Orvale weir, which the downstream side rejected last year.
The downstream towns depend on the river for irrigation, and their farmers have held protests since the spring.
\"Unless the upstream side agrees to release water in August, it is hard to see how a deal can hold,\" the chief negotiator said.
The downstream towns depend on the river for irrigation, and their farmers have held protests since the spring.
\"Unless the upstream side agrees to release water in August, it is hard to see how a deal can hold,\" the chief negotiator said.
The talks resume on Thursday.
0 Comments
";

const BLANK_LINE_ARTICLE: &str = "\
Orvale river talks to resume Thursday

By Staff Reporter
May 6, 2025, 8:15 AM
Delegates walk along the Orvale weir during a break in the talks on Tuesday, May 5, 2025.
Delegates walk along the Orvale weir during a break in the talks on Tuesday, May 5, 2025.
Photo by A. Marrow

ORVALE -- Talks between the two river authorities
broke up without agreement on Tuesday, and officials
said they would meet again later in the week.

The mediator declined to say which issues remained
open, but one official said the gauge at the weir was
still the main point of dispute.

Related Topics
";

#[test]
fn seed_situation_in_our_own_words() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a-line.txt", LINE_ARTICLE);
    write(dir.path(), "b-blank.txt", BLANK_LINE_ARTICLE);
    let out = stdout_of(&["scan", "--output-format", "jsonl"], &[dir.path()], 1);
    let found: Vec<_> = clusters(&out).iter().map(members).collect();
    let at = |f: &str, l| (f.to_owned(), l);
    assert_eq!(
        found,
        [
            vec![at("a-line.txt", 6), at("a-line.txt", 8)],
            vec![at("a-line.txt", 7), at("a-line.txt", 9)],
            vec![at("b-blank.txt", 5), at("b-blank.txt", 6)],
        ]
    );
    // The doubled pair is reported as one passage.
    neardup()
        .args(["scan", "--color", "never"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "a-line.txt:8-9 repeats lines 6-7 (2 paragraphs, within-document, identical)",
        ))
        .stdout(predicate::str::contains(
            "b-blank.txt:6 repeats line 5 (within-document, identical)",
        ));
}

#[test]
fn blank_line_paragraphs_join_wrapped_lines() {
    let dir = TempDir::new().unwrap();
    let text = "First paragraph spans\ntwo lines here.\n\nSecond one\nis different.\n\nFirst paragraph spans\ntwo lines here.\n";
    write(dir.path(), "wrapped.txt", text);
    let out = stdout_of(
        &[
            "scan",
            "--paragraphs",
            "blank-line",
            "--output-format",
            "jsonl",
        ],
        &[&dir.path().join("wrapped.txt")],
        1,
    );
    let c = clusters(&out);
    assert_eq!(c.len(), 1);
    let m = &c[0]["members"];
    assert_eq!(
        (m[0]["line"].as_u64(), m[1]["line"].as_u64()),
        (Some(1), Some(7))
    );
    let start = text.rfind("First").unwrap();
    let end = text.len() - 1;
    assert_eq!(
        (m[1]["start"].as_u64(), m[1]["end"].as_u64()),
        (Some(start as u64), Some(end as u64))
    );
}

/// The acceptance check of the core issue, on the real seed articles when
/// `../shared/seeds` is present (it is in CI).
#[test]
fn seeds_report_exactly_the_doubled_caption_and_passage() {
    let Some(seeds) = common::seeds() else { return };
    let out = stdout_of(&["scan", "--output-format", "jsonl"], &[seeds.as_ref()], 1);
    let found: Vec<Vec<(String, u64)>> = clusters(&out).iter().map(members).collect();
    let at = |f: &str, l| (f.to_owned(), l);
    assert_eq!(
        found,
        [
            vec![
                at("000_e46d4447ccb66825.txt", 7),
                at("000_e46d4447ccb66825.txt", 8)
            ],
            vec![
                at("004_f6303868df1da65c.txt", 6),
                at("004_f6303868df1da65c.txt", 8)
            ],
            vec![
                at("004_f6303868df1da65c.txt", 7),
                at("004_f6303868df1da65c.txt", 9)
            ],
        ]
    );
    for c in clusters(&out) {
        assert_eq!(c["members"][1]["kind"], "within-document");
        assert_eq!(c["members"][1]["similarity"], 1.0);
    }
}

#[test]
fn sample_corpus_finds_the_planted_duplicates() {
    let out = stdout_of(&["scan", "--output-format", "json", "data/news"], &[], 1);
    let report: Value = serde_json::from_slice(&out).unwrap();
    let s = &report["summary"];
    assert_eq!(s["documents"], 8);
    assert_eq!(s["within_document"], 3, "01:7-8 and 02:16");
    // Boilerplate (6 + 2), the wire story reprints (04: 3+1+1, 05: 4+1) and
    // the doubled newsletter line; 04:6 is the planted heavy rewrite at
    // 0.591 and must not be reported.
    assert_eq!(s["cross_document"], 18);
    let pairs: Vec<Vec<(String, u64)>> = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(members)
        .collect();
    let reprint = ("05-coastline-post-lake-venn.txt".to_owned(), 2);
    let original = ("03-harwick-boil-water-notice.txt".to_owned(), 2);
    assert!(
        pairs
            .iter()
            .any(|c| c[0] == original && c.contains(&reprint)),
        "05:2 ~ 03:2 at 44/54"
    );
    assert!(
        !pairs
            .iter()
            .flatten()
            .any(|m| *m == ("04-valley-herald-harwick-water.txt".to_owned(), 6))
    );
    let passages = report["passages"].as_array().unwrap();
    assert!(passages.iter().any(|p| {
        p["paragraphs"] == 4
            && p["repeat"]["path"]
                .as_str()
                .unwrap()
                .ends_with("05-coastline-post-lake-venn.txt")
    }));
}

#[test]
fn scope_within_keeps_only_repeats_inside_a_document() {
    let out = stdout_of(
        &[
            "scan",
            "--scope",
            "within",
            "--output-format",
            "json",
            "data/news",
        ],
        &[],
        1,
    );
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["settings"]["scope"], "within");
    let s = &report["summary"];
    assert_eq!(
        (s["within_document"].as_u64(), s["cross_document"].as_u64()),
        (Some(3), Some(0))
    );
    for cluster in report["clusters"].as_array().unwrap() {
        let files: Vec<String> = members(cluster).into_iter().map(|m| m.0).collect();
        assert!(files.iter().all(|f| *f == files[0]), "{files:?}");
    }
}

#[test]
fn jsonl_records_are_documents() {
    let out = stdout_of(
        &["scan", "--output-format", "jsonl", "data/news.jsonl"],
        &[],
        1,
    );
    let c = clusters(&out);
    let first = &c[0]["members"];
    assert_eq!(first[0]["doc"], "callowcourier-0117");
    assert_eq!(
        (
            first[0]["paragraph"].as_u64(),
            first[1]["paragraph"].as_u64()
        ),
        (Some(3), Some(5))
    );
    assert_eq!(first[0]["line"], 1);
    assert_eq!(first[1]["kind"], "within-document");
}

#[test]
fn json_report_has_the_documented_fields() {
    let dir = TempDir::new().unwrap();
    let p = write(dir.path(), "a.txt", LINE_ARTICLE);
    let out = stdout_of(&["scan", "--output-format", "json"], &[&p], 1);
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["version"], 1);
    assert_eq!(r["tool"]["name"], "neardup");
    for key in [
        "inputs",
        "documents",
        "paragraphs",
        "fingerprinted_paragraphs",
        "duplicate_paragraphs",
        "duplicate_ratio",
        "within_document",
        "cross_document",
        "clusters",
        "passages",
        "bytes_read",
        "errors",
        "warnings",
    ] {
        assert!(r["summary"].get(key).is_some(), "summary.{key}");
    }
    assert_eq!(r["summary"]["paragraphs"], 11);
    assert_eq!(r["summary"]["duplicate_paragraphs"], 2);
    assert_eq!(r["summary"]["bytes_read"], LINE_ARTICLE.len());
    assert_eq!(r["settings"]["bands"], 25);
    let member = &r["clusters"][0]["members"][1];
    for key in [
        "path",
        "doc",
        "paragraph",
        "line",
        "start",
        "end",
        "similarity",
        "kind",
    ] {
        assert!(member.get(key).is_some(), "member.{key}");
    }
    let p = &r["passages"][0];
    assert_eq!(
        (
            p["repeat"]["first_line"].as_u64(),
            p["repeat"]["last_line"].as_u64()
        ),
        (Some(8), Some(9))
    );
    assert_eq!(
        (
            p["original"]["first_line"].as_u64(),
            p["original"]["last_line"].as_u64()
        ),
        (Some(6), Some(7))
    );
}

#[test]
fn no_duplicates_exits_zero() {
    let dir = TempDir::new().unwrap();
    let p = write(
        dir.path(),
        "unique.txt",
        "One line about boats.\nAnother about trains.\n",
    );
    neardup()
        .args(["scan", "--color", "never"])
        .arg(&p)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 duplicate paragraphs"));
}

#[test]
fn reads_standard_input() {
    for args in [
        &["scan", "--output-format", "jsonl"][..],
        &["scan", "--output-format", "jsonl", "-"],
    ] {
        let out = neardup()
            .args(args)
            .write_stdin(LINE_ARTICLE)
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let c = clusters(&out);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0]["members"][0]["path"], "<stdin>");
    }
    let jsonl = "{\"id\":\"x\",\"text\":\"same words in a line\\nsame words in a line\"}\n";
    neardup()
        .args([
            "scan",
            "--input-format",
            "jsonl",
            "--output-format",
            "jsonl",
        ])
        .write_stdin(jsonl)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"doc\":\"x\""));
}

#[test]
fn compressed_inputs_give_the_same_findings() {
    let dir = TempDir::new().unwrap();
    let plain = std::fs::read(repo().join("data/news.jsonl")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    // Names that hide the compression: detection is by magic bytes.
    let inputs = [
        write(dir.path(), "plain.jsonl", &plain),
        write(dir.path(), "gz.jsonl", &gz),
        write(dir.path(), "zst.jsonl", &zst),
    ];
    let run = |p: &Path| {
        let out = stdout_of(&["scan", "--output-format", "jsonl"], &[p], 1);
        String::from_utf8(out)
            .unwrap()
            .replace(&*p.to_string_lossy(), "INPUT")
    };
    let expected = run(&inputs[0]);
    assert!(!expected.is_empty());
    assert_eq!(run(&inputs[1]), expected);
    assert_eq!(run(&inputs[2]), expected);
}

#[test]
fn thread_count_does_not_change_the_output() {
    let run = |threads: &str| {
        stdout_of(
            &["scan", "--output-format", "json", "-j", threads, "data"],
            &[],
            1,
        )
    };
    assert_eq!(run("1"), run("4"));
}

#[test]
fn missing_path_is_an_error_but_other_inputs_are_scanned() {
    let dir = TempDir::new().unwrap();
    let p = write(dir.path(), "a.txt", LINE_ARTICLE);
    neardup()
        .args(["scan", "--output-format", "jsonl"])
        .arg(dir.path().join("nope.txt"))
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.txt").and(predicate::str::contains("error:")))
        .stdout(predicate::str::contains("a.txt"));
}

#[test]
fn malformed_record_names_file_and_line() {
    let dir = TempDir::new().unwrap();
    let body = "{\"text\":\"a paragraph that repeats\\na paragraph that repeats\"}\n{\"text\": oops}\n{\"id\":3}\n";
    let p = write(dir.path(), "bad.jsonl", body);
    neardup()
        .args(["scan", "--output-format", "jsonl"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.jsonl:2: invalid JSON"))
        .stderr(predicate::str::contains(
            r#"bad.jsonl:3: no "text" field; this record has "id""#,
        ))
        .stdout(predicate::str::contains("within-document"));
}

#[test]
fn bad_flags_exit_two_with_a_reason() {
    neardup()
        .args(["scan", "--threshold", "1.5", "data"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("threshold"));
    neardup().args(["scan", "--no-such-flag"]).assert().code(2);
    neardup()
        .args(["scan", "--bands", "100", "--rows", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("num-perm"));
}

/// A thread count no machine needs (a typo) is refused before any work,
/// not spent a minute starting threads.
#[test]
fn an_absurd_thread_count_is_refused() {
    neardup()
        .args(["scan", "-j", "5000", "data/news"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "-j/--threads: at most 1024 worker threads, not 5000",
        ));
    neardup()
        .args(["scan", "-q", "-j", "16", "data/news"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .code(1);
}

#[test]
fn params_shows_banding_and_curve() {
    neardup()
        .args(["params"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("bands 25 x rows 5"))
        .stdout(predicate::str::contains("J = 0.80  P = 1.0000"))
        .stdout(predicate::str::contains("J = 0.50  P = 0.5478"))
        .stderr("");
    neardup()
        .args(["params", "--threshold", "0.9"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("threshold 0.9"));
    // An index's banding: the same rows, the fewest bands that keep 0.999.
    neardup()
        .args(["params", "--index"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("bands 18 x rows 5"))
        .stdout(predicate::str::contains("J = 0.80  P = 0.9992"))
        .stderr("");
    neardup()
        .args(["params", "--index", "--bands", "16", "--rows", "5"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("--bands 18 --rows 5"));
}

/// Issue 18, items 9 and 10: the curve is drawn around the threshold, with
/// the threshold's own row; a banding that misses pairs at the threshold
/// is warned about; only options that change the result are accepted; and
/// `--output-format json` gives the same numbers to programs.
#[test]
fn params_draws_around_the_threshold_and_warns_of_a_weak_banding() {
    let text = |args: &[&str]| {
        let a = neardup().arg("params").args(args).assert().code(0);
        let o = a.get_output();
        (
            String::from_utf8(o.stdout.clone()).unwrap(),
            String::from_utf8(o.stderr.clone()).unwrap(),
        )
    };
    let (out, err) = text(&["--threshold", "0.82"]);
    assert!(out.contains("J = 0.82  P = 0.9995  |"), "{out}");
    assert!(out.contains("<- threshold"), "{out}");
    // From the curve's foot (below 1%), 0.05 apart around the threshold.
    assert!(
        out.contains("J = 0.27  P = 0.0081") && !out.contains("J = 0.22 "),
        "{out}"
    );
    assert!(err.is_empty(), "{err}");
    let (out, _) = text(&["--threshold", "0.825"]);
    assert!(
        out.contains("J = 0.825  P = 0.9996  |") && out.contains("J = 0.775 "),
        "{out}"
    );
    let (out, err) = text(&["--threshold", "0.3"]);
    assert!(
        out.contains("J = 0.05 ") && out.contains("J = 1.00 "),
        "{out}"
    );
    assert!(err.is_empty(), "{err}");

    let (_, err) = text(&["--threshold", "0.8", "--bands", "8", "--rows", "8"]);
    assert!(err.starts_with("warning: only 0.7699 of pairs"), "{err}");
    assert!(err.contains("--bands 25 --rows 5"), "{err}");

    for other in [["--min-words", "3"], ["--scope", "within"]] {
        neardup()
            .arg("params")
            .args(other)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("unexpected argument"));
    }

    let a = neardup()
        .args([
            "params",
            "--bands",
            "8",
            "--rows",
            "8",
            "--output-format",
            "json",
        ])
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(
        (v["bands"].as_u64(), v["rows"].as_u64()),
        (Some(8), Some(8))
    );
    assert_eq!(v["threshold"], "0.8");
    assert!(v["probability_at_threshold"].as_f64().unwrap() < 0.999);
    assert!(v["warning"].as_str().unwrap().starts_with("only 0.7699"));
    let curve = v["curve"].as_array().unwrap();
    assert!(curve.iter().any(|p| p["jaccard"] == 0.8));
    assert_eq!(curve.last().unwrap()["jaccard"], 1.0);
}

#[test]
fn closed_pipe_exits_quietly() {
    let dir = TempDir::new().unwrap();
    // Enough findings that the output outgrows the pipe buffer.
    let line = "This boilerplate line repeats in every document of the corpus.\n";
    for i in 0..400 {
        write(
            dir.path(),
            &format!("{i:03}.txt"),
            format!("{line}Unique line number {i} here.\n"),
        );
    }
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("neardup"))
        .args(["scan", "--output-format", "jsonl"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.is_empty(), "stderr: {stderr}");
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = TempDir::new().unwrap();
    let p = write(dir.path(), "a.txt", LINE_ARTICLE);
    neardup()
        .args(["scan", "--color", "always"])
        .arg(&p)
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    // Not a terminal: no colour in auto mode.
    neardup()
        .args(["scan"])
        .arg(&p)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

/// Issue 18.9: `-o/--output FILE` on every command that writes a report;
/// scan's report is written whole and never over an input.
#[test]
fn scan_writes_its_report_to_a_file_but_never_over_an_input() {
    let dir = TempDir::new().unwrap();
    let line = "The harbour board voted on Tuesday to rebuild the old north pier.\n";
    write(dir.path(), "corpus/a.txt", line.repeat(2));
    let run = |args: &[&str], code: i32| {
        neardup()
            .current_dir(dir.path())
            .args(["scan", "--output-format", "json"])
            .args(args)
            .assert()
            .code(code)
            .get_output()
            .clone()
    };
    let stdout = run(&["corpus"], 1).stdout;
    let out = run(&["corpus", "-o", "report.json"], 1);
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read(dir.path().join("report.json")).unwrap(),
        stdout
    );
    assert_eq!(
        common::files_under(dir.path()),
        ["corpus/a.txt", "report.json"]
    );
    for (args, what) in [
        (
            &["corpus/a.txt", "--output", "corpus/a.txt"][..],
            "it is an input",
        ),
        (
            &["corpus", "-o", "corpus/report.json"][..],
            "inside the input directory corpus",
        ),
    ] {
        let out = run(args, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(what), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("corpus/a.txt")).unwrap(),
        line.repeat(2)
    );
    assert_eq!(
        common::files_under(dir.path()),
        ["corpus/a.txt", "report.json"]
    );
    // A directory that cannot hold the report: an error, and nothing left
    // behind.
    let out = run(&["corpus", "-o", "missing/report.json"], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing/report.json"));
    assert_eq!(
        common::files_under(dir.path()),
        ["corpus/a.txt", "report.json"]
    );
}

/// Issue 18.8: `-q` does what `-h` says for every command: scan shows no
/// progress (its report is its output), clean no summary.
#[test]
fn quiet_hides_cleans_summary() {
    let dir = TempDir::new().unwrap();
    let line = "The harbour board voted on Tuesday to rebuild the old north pier.\n";
    write(dir.path(), "corpus/a.txt", line.repeat(2));
    let clean = |quiet: &[&str]| {
        let out = neardup()
            .current_dir(dir.path())
            .args(["clean", "corpus", "-o", "out"])
            .args(quiet)
            .assert()
            .code(0)
            .get_output()
            .clone();
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(clean(&[]).starts_with("cleaned 1 input"));
    assert_eq!(clean(&["-q"]), "");
}

/// Issue 18.4: every command selects its inputs the same way: `-g GLOB`
/// (`!` to leave out), `--exclude GLOB`, and `neardup.toml`, read by scan
/// and clean as by check, with flags over the file.
#[test]
fn scan_and_clean_select_inputs_with_globs_and_the_configuration_file() {
    let dir = TempDir::new().unwrap();
    let line = "The harbour board voted on Tuesday to rebuild the old north pier.\n";
    let boiler = "Copyright the harbour paper, all rights reserved.\n";
    write(dir.path(), "doc/a.txt", format!("{line}{line}"));
    write(dir.path(), "doc/b.ps", format!("{boiler}{boiler}"));
    write(dir.path(), "doc/c.txt", boiler);
    let json = |args: &[&str], code: i32| -> Value {
        let all = [&["scan", "--output-format", "json", "doc"], args].concat();
        serde_json::from_slice(&stdout_in(dir.path(), &all, code)).unwrap()
    };
    let inputs = |v: &Value| v["summary"]["inputs"].as_u64().unwrap();
    let dups = |v: &Value| v["summary"]["duplicate_paragraphs"].as_u64().unwrap();
    assert_eq!((inputs(&json(&[], 1)), dups(&json(&[], 1))), (3, 3));
    assert_eq!(inputs(&json(&["-g", "!*.ps"], 1)), 2);
    assert_eq!(inputs(&json(&["--exclude", "*.ps"], 1)), 2);
    assert_eq!(inputs(&json(&["-g", "*.ps"], 1)), 1);
    assert_eq!(inputs(&json(&["--glob", "doc/*.txt", "-g", "!a.*"], 0)), 1);

    // The configuration file: read by scan without being asked, shared
    // sections only (check's keys are ignored), flags add to its globs.
    write(
        dir.path(),
        "neardup.toml",
        "paths = [\"doc\"]\nmax-clusters = 3\nexclude = [\"*.ps\"]\n\
         [allow]\nparagraphs = [\"The harbour board voted on Tuesday to rebuild the old north pier.\"]\n",
    );
    let v = json(&[], 0);
    assert_eq!((inputs(&v), dups(&v)), (2, 0));
    assert_eq!(inputs(&json(&["--exclude", "c.txt"], 0)), 1);
    assert_eq!(inputs(&json(&["--no-config"], 1)), 3);
    write(dir.path(), "other.toml", "thresold = 0.9\n");
    neardup()
        .current_dir(dir.path())
        .args(["scan", "doc", "--config", "other.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("other.toml"));
    // -v names the file read.
    neardup()
        .current_dir(dir.path())
        .args(["scan", "-v", "doc"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("configuration: neardup.toml"));

    // clean reads the same: b.ps is neither read nor written.
    neardup()
        .current_dir(dir.path())
        .args(["clean", "-q", "doc", "-o", "out"])
        .assert()
        .code(0);
    assert_eq!(
        common::files_under(&dir.path().join("out")),
        ["a.txt", "c.txt"]
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/a.txt")).unwrap(),
        format!("{line}{line}"),
        "the allowlist of the file applies"
    );
}

/// Issue 18.5: `--top N` summarises a report too long to read: the most
/// repeated paragraphs with their counts, the files with most duplicates.
#[test]
fn top_summarises_the_most_repeated_paragraphs_and_files() {
    let news = repo().join("data/news");
    let text = String::from_utf8(stdout_of(&["scan", "--top", "2"], &[&news], 1)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("most repeated paragraphs (2 of 12 clusters)"),
        "{text}"
    );
    assert!(lines[1].trim_start().starts_with("4  "), "{text}");
    assert!(lines[1].ends_with("Related Topics"), "{text}");
    assert!(lines[2].trim_start().starts_with("4  "), "{text}");
    assert!(
        lines[4].starts_with("files with the most duplicate paragraphs (2 of 8)"),
        "{text}"
    );
    assert!(lines[5].trim_start().starts_with("6 / 8  "), "{text}");
    assert!(
        lines[5].ends_with("05-coastline-post-lake-venn.txt"),
        "{text}"
    );
    assert_eq!(lines.len(), 9, "{text}");
    assert!(lines[8].starts_with("21 duplicate paragraphs"), "{text}");

    let out = stdout_of(
        &["scan", "--top", "3", "--output-format", "json"],
        &[&news],
        1,
    );
    let v: Value = serde_json::from_slice(&out).unwrap();
    let top = v["top_paragraphs"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0]["occurrences"], 4);
    assert_eq!(top[0]["duplicates"], 3);
    assert_eq!(top[0]["text"], "Related Topics");
    let counts: Vec<u64> = top
        .iter()
        .map(|p| p["occurrences"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let files = v["top_files"].as_array().unwrap();
    assert_eq!(
        (
            files[0]["duplicates"].as_u64(),
            files[0]["paragraphs"].as_u64()
        ),
        (Some(6), Some(8))
    );
    assert_eq!(v["summary"]["duplicate_paragraphs"], 21);
    assert!(v.get("clusters").is_none());
    // jsonl is one cluster per line: no summary form.
    stdout_of(
        &["scan", "--top", "3", "--output-format", "jsonl"],
        &[&news],
        2,
    );
}

/// Issue 18, item 12: counts of one take the singular, in the scan's
/// summary, clean's summary and check's verdict, and check says nothing
/// about a baseline that hid nothing.
#[test]
fn counts_of_one_are_singular() {
    let dir = TempDir::new().unwrap();
    let line = "The ferry to Ebb Island will run twice a day from the first of May.";
    write(
        dir.path(),
        "one.txt",
        format!("{line}\nA second, different line of the article.\n{line}\n"),
    );
    let scan = neardup()
        .current_dir(dir.path())
        .args(["scan", "one.txt"])
        .assert()
        .code(1);
    let out = String::from_utf8(scan.get_output().stdout.clone()).unwrap();
    assert!(
        out.contains("1 duplicate paragraph (1 within documents, 0 across) in 1 passage; scanned 1 document, 3 paragraphs"),
        "{out}"
    );
    let clean = neardup()
        .current_dir(dir.path())
        .args(["clean", "one.txt", "-o", "out.txt"])
        .assert()
        .code(0);
    let err = String::from_utf8(clean.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("cleaned 1 input: 1 document, 3 paragraphs; removed 1 paragraph"),
        "{err}"
    );
    neardup()
        .current_dir(dir.path())
        .args([
            "check",
            "--no-config",
            "one.txt",
            "--write-baseline",
            "b.json",
        ])
        .assert()
        .code(0);
    std::fs::write(dir.path().join("one.txt"), format!("{line}\n")).unwrap();
    let check = neardup()
        .current_dir(dir.path())
        .args(["check", "--no-config", "one.txt", "--baseline", "b.json"])
        .assert()
        .code(0);
    let out = String::from_utf8(check.get_output().stdout.clone()).unwrap();
    assert!(!out.contains("known to the baseline"), "{out}");
    assert!(
        out.contains("2 baseline occurrences no longer repeated"),
        "{out}"
    );
}

/// `-o` naming an existing named pipe (or `/dev/null`, a terminal) writes
/// into it: staging the output and renaming it into place would replace
/// the pipe or the device itself with a regular file.
#[cfg(unix)]
#[test]
fn an_output_that_is_a_pipe_is_written_into_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(
        d,
        "corpus/a.txt",
        "a line that repeats in this file\na line that repeats in this file\n",
    );
    let pipe = d.join("report.pipe");
    let made = StdCommand::new("mkfifo").arg(&pipe).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read_to_string(&pipe).unwrap())
    };
    let out = neardup()
        .current_dir(d)
        .args(["scan", "corpus", "--output-format", "json", "-o"])
        .arg(&pipe)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Checked before waiting for the reader, which would wait forever on
    // a pipe nobody wrote into.
    assert!(std::fs::metadata(&pipe).unwrap().file_type().is_fifo());
    let report: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(report["summary"]["duplicate_paragraphs"], 1);
}
