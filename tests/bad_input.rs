//! Hostile and broken input, one test per kind (the table of issue 6 and
//! the README's "Errors and bad input"): the real binary in a temporary
//! directory per test. Every test checks three things: what is said (an
//! error or warning naming the file, and the line where there is one),
//! what is still done (the rest of the input is read; `clean` writes what
//! it can and never a partial file), and the exit status.

use std::io::Write;
use std::path::Path;
use std::process::Output;

mod common;

use common::{duplicates, files_under, neardup, read, write};

use serde_json::Value;
use tempfile::TempDir;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `neardup ARGS` in `dir`; panics on a panic, whatever the status.
fn run(dir: &Path, args: &[&str]) -> Output {
    let out = neardup().current_dir(dir).args(args).output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    out
}

/// `neardup scan --output-format json ARGS` in `dir`: the report and the
/// exit status.
fn report(dir: &Path, args: &[&str]) -> (Value, i32, String) {
    let out = run(
        dir,
        &[&["scan", "-q", "--output-format", "json"], args].concat(),
    );
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (json, out.status.code().unwrap(), stderr(&out))
}

/// The report's diagnostics as `(severity, path, line, message)`.
fn diagnostics(report: &Value) -> Vec<(String, String, Option<u64>, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_owned(),
                d["path"].as_str().unwrap_or("").to_owned(),
                d["line"].as_u64(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A warning at `path:line`, as [`diagnostics`] lists it.
fn warning(path: &str, line: u64, message: &str) -> (String, String, Option<u64>, String) {
    ("warning".into(), path.into(), Some(line), message.into())
}

fn summary(report: &Value, field: &str) -> u64 {
    report["summary"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("no summary field {field}"))
}

const REPEATED: &str = "The council voted to reopen the harbour road after the storm.";
const OTHER: &str = "Volunteers cleared fallen branches from the school playground.";
const THIRD: &str = "A new timetable for the island ferry starts on the first of May.";

// ---------------------------------------------------------------------
// Invalid UTF-8

#[test]
fn invalid_utf8_in_text_is_decoded_with_a_warning_and_counted() {
    let dir = TempDir::new().unwrap();
    let mut text = format!("{REPEATED}\n").into_bytes();
    text.extend_from_slice(b"caf\xe9 au lait on the quay every morning\n");
    text.extend_from_slice(format!("{OTHER}\n").as_bytes());
    text.extend_from_slice(b"\xff\xfe stray bytes before a sentence about ferries\n");
    text.extend_from_slice(format!("{REPEATED}\n").as_bytes());
    write(dir.path(), "latin.txt", &text);

    let (r, code, err) = report(dir.path(), &["latin.txt"]);
    assert_eq!(code, 1, "a warning is not an error: {err}");
    assert_eq!(
        diagnostics(&r),
        [warning(
            "latin.txt",
            2,
            "invalid UTF-8 on 2 lines, the first here; decoded with replacement characters (U+FFFD)"
        )]
    );
    assert!(err.contains("warning: latin.txt:2: invalid UTF-8"), "{err}");
    assert_eq!(summary(&r, "invalid_utf8"), 2);
    assert_eq!(summary(&r, "paragraphs"), 5, "every line is still read");
    assert_eq!(duplicates(&r), [("latin.txt".to_owned(), 5)]);

    let out = run(dir.path(), &["scan", "-q", "latin.txt"]);
    let summary_line = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary_line.contains("2 lines of invalid UTF-8; 1 warning"),
        "{summary_line}"
    );
}

#[test]
fn invalid_utf8_in_a_json_string_is_decoded_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let mut lines = Vec::new();
    lines.extend_from_slice(format!("{{\"text\":\"{REPEATED}\"}}\n").as_bytes());
    lines.extend_from_slice(b"{\"id\":\"x\",\"text\":\"na\xefve readers of the caf\xe9 menu\"}\n");
    lines.extend_from_slice(format!("{{\"text\":\"{REPEATED}\"}}\n").as_bytes());
    write(dir.path(), "c.jsonl", &lines);

    let (r, code, _) = report(dir.path(), &["c.jsonl"]);
    assert_eq!(code, 1);
    let d = diagnostics(&r);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].0.as_str(), d[0].1.as_str(), d[0].2),
        ("warning", "c.jsonl", Some(2))
    );
    assert!(d[0].3.starts_with("invalid UTF-8"), "{}", d[0].3);
    assert_eq!(summary(&r, "invalid_utf8"), 1);
    assert_eq!(summary(&r, "documents"), 3, "the record is still read");
}

#[test]
fn clean_keeps_the_original_bytes_around_invalid_utf8() {
    let dir = TempDir::new().unwrap();
    // Plain text: the invalid line stays byte for byte; the repeat goes.
    let mut text = b"caf\xe9 au lait on the quay every single morning\n".to_vec();
    text.extend_from_slice(format!("{REPEATED}\n{OTHER}\n{REPEATED}\n").as_bytes());
    write(dir.path(), "in/a-latin.txt", &text);
    // JSON Lines: an untouched record with invalid bytes is copied byte
    // for byte; in a record that loses a paragraph, only the text value
    // changes and the invalid bytes of its other fields stay.
    let mut lines = b"{\"text\":\"untouched \xff record\",\"x\":\"\xfe\"}\n".to_vec();
    lines.extend_from_slice(format!("{{\"text\":\"{OTHER}\\n{THIRD}\",\"meta\":\"").as_bytes());
    lines.extend_from_slice(b"\xe9t\xe9\"}\n");
    write(dir.path(), "in/c.jsonl", &lines);

    let out = run(dir.path(), &["clean", "-q", "in", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected = b"caf\xe9 au lait on the quay every single morning\n".to_vec();
    expected.extend_from_slice(format!("{REPEATED}\n{OTHER}\n").as_bytes());
    assert_eq!(read(&dir.path().join("out/a-latin.txt")), expected);
    let mut expected = b"{\"text\":\"untouched \xff record\",\"x\":\"\xfe\"}\n".to_vec();
    expected.extend_from_slice(format!("{{\"text\":\"{THIRD}\",\"meta\":\"").as_bytes());
    expected.extend_from_slice(b"\xe9t\xe9\"}\n");
    assert_eq!(
        String::from_utf8_lossy(&read(&dir.path().join("out/c.jsonl"))),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(read(&dir.path().join("out/c.jsonl")), expected);
}

/// A lone surrogate escape (a string cut inside an emoji by JavaScript or
/// Python) is not valid Unicode and serde_json refuses it; the record is
/// read with U+FFFD in its place, under the encoding warning, and `clean`
/// keeps the escape in a record it rewrites (only the text changes) and in
/// the records it does not touch.
#[test]
fn a_lone_surrogate_escape_in_json_is_read_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let lines = [
        format!(r#"{{"id":1,"text":"{REPEATED}\n{OTHER}","title":"cut \ud83d"}}"#),
        format!(r#"{{"id":2,"text":"{THIRD} \ud83d\ude00 \ude00"}}"#),
        format!(r#"{{"id":3,"text":"{OTHER} \ud83d","title":"cut \ud83d"}}"#),
    ];
    write(dir.path(), "s.jsonl", lines.join("\n") + "\n");
    let (r, code, err) = report(dir.path(), &["s.jsonl"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        diagnostics(&r),
        [warning(
            "s.jsonl",
            2,
            "invalid UTF-8 or lone surrogate escapes on 2 lines, the first here; decoded with \
             replacement characters (U+FFFD)"
        )]
    );
    assert_eq!(summary(&r, "documents"), 3);
    assert_eq!(summary(&r, "invalid_utf8"), 2);
    assert_eq!(duplicates(&r), [("s.jsonl".to_owned(), 3)]);

    let out = run(dir.path(), &["clean", "-q", "s.jsonl", "-o", "out.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = [
        lines[0].clone(),
        lines[1].clone(),
        r#"{"id":3,"text":"","title":"cut \ud83d"}"#.to_owned(),
    ];
    assert_eq!(
        String::from_utf8(read(&dir.path().join("out.jsonl"))).unwrap(),
        expected.join("\n") + "\n"
    );
}

/// A WET record with invalid UTF-8 before a repeated paragraph: the scan
/// measures the record's text decoded, the writer cuts its bytes, and the
/// two must agree (found by the `pipeline` fuzz target).
#[test]
fn clean_cuts_wet_records_with_invalid_utf8() {
    let dir = TempDir::new().unwrap();
    let record = |id: &str, body: &[u8]| {
        let mut r = format!(
            "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://example.test/{id}\r\n\
             WARC-Record-ID: <urn:uuid:{id}>\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r.extend_from_slice(b"\r\n\r\n");
        r
    };
    let mut body = b"caf\xe9 on the quay, every morning at six\n".to_vec();
    body.extend_from_slice(format!("{REPEATED}\n{OTHER}\n{REPEATED}\n").as_bytes());
    write(dir.path(), "crawl.warc.wet", record("a", &body));
    let out = run(
        dir.path(),
        &["clean", "-q", "crawl.warc.wet", "-o", "out.warc.wet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut kept = b"caf\xe9 on the quay, every morning at six\n".to_vec();
    kept.extend_from_slice(format!("{REPEATED}\n{OTHER}\n").as_bytes());
    let cleaned = read(&dir.path().join("out.warc.wet"));
    let at = cleaned
        .windows(kept.len())
        .position(|w| w == kept.as_slice());
    assert!(at.is_some(), "{}", String::from_utf8_lossy(&cleaned));
    assert!(
        String::from_utf8_lossy(&cleaned).contains(&format!("Content-Length: {}\r\n", kept.len())),
        "{}",
        String::from_utf8_lossy(&cleaned)
    );
}

// ---------------------------------------------------------------------
// Byte-order marks

/// A UTF-8 byte-order mark is not part of the text: a JSON Lines record
/// behind one is read (at the start of a file, or in the middle where
/// `cat` put it), a text line behind one repeats the same line without it,
/// and `clean` keeps the mark's bytes.
#[test]
fn a_utf8_byte_order_mark_is_read_past() {
    let dir = TempDir::new().unwrap();
    let mut lines = b"\xef\xbb\xbf".to_vec();
    lines.extend_from_slice(format!("{{\"id\":\"a\",\"text\":\"{REPEATED}\"}}\r\n").as_bytes());
    lines.extend_from_slice(b"\xef\xbb\xbf");
    lines.extend_from_slice(format!("{{\"id\":\"b\",\"text\":\"{OTHER}\"}}\r\n").as_bytes());
    let first_two = lines.clone();
    lines.extend_from_slice(format!("{{\"id\":\"c\",\"text\":\"{REPEATED}\"}}\r\n").as_bytes());
    write(dir.path(), "bom.jsonl", &lines);
    let (r, code, err) = report(dir.path(), &["bom.jsonl"]);
    assert_eq!(code, 1, "{err}");
    assert!(diagnostics(&r).is_empty(), "{err}");
    assert_eq!(summary(&r, "documents"), 3);
    assert_eq!(duplicates(&r), [("bom.jsonl".to_owned(), 3)]);

    let mut text = b"\xef\xbb\xbf".to_vec();
    text.extend_from_slice(format!("{REPEATED}\n{OTHER}\n{REPEATED}\n").as_bytes());
    write(dir.path(), "bom.txt", &text);
    let (r, code, err) = report(dir.path(), &["bom.txt"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(duplicates(&r), [("bom.txt".to_owned(), 3)]);

    let out = run(dir.path(), &["clean", "-q", "bom.jsonl", "-o", "out.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected = first_two;
    expected.extend_from_slice(b"{\"id\":\"c\",\"text\":\"\"}\r\n");
    assert_eq!(read(&dir.path().join("out.jsonl")), expected);
}

/// UTF-16 (and UTF-32) is not ASCII-compatible: read as UTF-8 it would be
/// nonsense, and found in a directory it has the NUL bytes of a binary
/// file. With a byte-order mark it is recognised and refused with an error
/// that says how to convert it; the other inputs are still read.
#[test]
fn utf16_text_is_an_error_that_says_how_to_convert_it() {
    let dir = TempDir::new().unwrap();
    let mut utf16 = vec![0xff, 0xfe];
    for unit in format!("{REPEATED}\n{REPEATED}\n").encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    write(dir.path(), "c/wide.txt", &utf16);
    write(
        dir.path(),
        "c/plain.txt",
        format!("{REPEATED}\n{OTHER}\n{REPEATED}\n"),
    );
    for args in [&["c"][..], &["c/wide.txt", "c/plain.txt"]] {
        let (r, code, err) = report(dir.path(), args);
        assert_eq!(code, 2, "{err}");
        let d = diagnostics(&r);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].0.as_str(), d[0].1.as_str()), ("error", "c/wide.txt"));
        assert!(
            d[0].3.starts_with("UTF-16LE text") && d[0].3.contains("iconv -f UTF-16 -t UTF-8"),
            "{}",
            d[0].3
        );
        assert_eq!(duplicates(&r), [("c/plain.txt".to_owned(), 3)]);
    }
    let out = run(dir.path(), &["clean", "c", "-o", "out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cleaned 1 of 2 inputs (1 not written)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(files_under(&dir.path().join("out")), ["plain.txt"]);
    assert_eq!(read(&dir.path().join("c/wide.txt")), utf16);
}

// ---------------------------------------------------------------------
// Malformed records

/// A JSON Lines file with one good repeat, three bad records (invalid
/// JSON, no text field, a text that is a number) and one with an id nested
/// a hundred thousand arrays deep (which must not overflow the stack, and
/// is only an id that cannot be used). The last record is good, with the
/// same nesting in a field neardup skips.
fn bad_records(dir: &Path) -> Vec<u8> {
    let deep = format!(
        "{{\"text\":\"deep\",\"id\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let lines = [
        format!("{{\"id\":\"a\",\"text\":\"{REPEATED}\"}}"),
        "{\"id\":\"b\",\"text\":\"unterminated".to_owned(),
        "{\"id\":\"c\",\"body\":\"no text field\"}".to_owned(),
        "{\"id\":\"d\",\"text\":42}".to_owned(),
        deep,
        format!("{{\"id\":\"e\",\"text\":\"{REPEATED}\"}}"),
        format!(
            "{{\"id\":\"f\",\"text\":\"{OTHER}\",\"x\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    ];
    let content = lines.join("\n") + "\n";
    write(dir, "bad.jsonl", &content);
    content.into_bytes()
}

#[test]
fn malformed_records_are_errors_naming_file_and_line() {
    let dir = TempDir::new().unwrap();
    bad_records(dir.path());
    let (r, code, err) = report(dir.path(), &["bad.jsonl"]);
    assert_eq!(code, 2, "{err}");
    let d = diagnostics(&r);
    let places: Vec<_> = d
        .iter()
        .map(|(sev, path, line, _)| (sev.as_str(), path.as_str(), *line))
        .collect();
    assert_eq!(
        places,
        [
            ("error", "bad.jsonl", Some(2)),
            ("error", "bad.jsonl", Some(3)),
            ("error", "bad.jsonl", Some(4)),
            ("warning", "bad.jsonl", Some(5)),
        ]
    );
    assert!(d[0].3.contains("invalid JSON"), "{}", d[0].3);
    assert_eq!(
        d[1].3,
        r#"no "text" field; this record has "body", "id" (use --text-field body?)"#
    );
    assert!(d[2].3.contains("to be a string"), "{}", d[2].3);
    assert!(
        d[3].3.contains("the id field `id` is an array"),
        "{}",
        d[3].3
    );
    assert!(err.contains("error: bad.jsonl:2: invalid JSON"), "{err}");
    assert_eq!(
        duplicates(&r),
        [("bad.jsonl".to_owned(), 6)],
        "the good records are still compared"
    );
    assert_eq!(summary(&r, "documents"), 4, "the deep id's record is read");
}

#[test]
fn skip_bad_records_makes_them_warnings() {
    let dir = TempDir::new().unwrap();
    bad_records(dir.path());
    let (r, code, err) = report(dir.path(), &["--skip-bad-records", "bad.jsonl"]);
    assert_eq!(code, 1, "duplicates, no error: {err}");
    let d = diagnostics(&r);
    assert_eq!(d.len(), 4);
    assert!(d.iter().all(|(sev, ..)| sev == "warning"), "{d:?}");
    assert!(
        err.contains(r#"warning: bad.jsonl:3: no "text" field"#),
        "{err}"
    );
    assert_eq!(summary(&r, "errors"), 0);
}

#[test]
fn clean_copies_malformed_records_unchanged() {
    let dir = TempDir::new().unwrap();
    let content = bad_records(dir.path());
    let out = run(dir.path(), &["clean", "bad.jsonl", "-o", "out.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error: bad.jsonl:4:"),
        "{}",
        stderr(&out)
    );
    let cleaned = read(&dir.path().join("out.jsonl"));
    let before: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    let after: Vec<&[u8]> = cleaned.split(|&b| b == b'\n').collect();
    assert_eq!(before.len(), after.len());
    assert_eq!(before[..5], after[..5], "bad records and the kept one stay");
    assert_eq!(after[5], b"{\"id\":\"e\",\"text\":\"\"}");
    assert_eq!(before[6], after[6]);

    let out = run(
        dir.path(),
        &[
            "clean",
            "--skip-bad-records",
            "bad.jsonl",
            "-o",
            "out2.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read(&dir.path().join("out2.jsonl")), cleaned);
}

// ---------------------------------------------------------------------
// Compression

/// Distinct numbered lines, with line 2 repeated at the very end.
fn numbered_lines(n: usize) -> String {
    let mut text: String = (0..n)
        .map(|i| format!("Report number {i} from the coastal weather station at Harwick.\n"))
        .collect();
    text.push_str("Report number 1 from the coastal weather station at Harwick.\n");
    text
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn truncated_compressed_input_is_an_error_after_what_could_be_read() {
    let dir = TempDir::new().unwrap();
    // The repeat is early, so it is found before the cut.
    let mut text = format!("{REPEATED}\n{REPEATED}\n");
    text.push_str(&numbered_lines(8_000));
    let gz = gzip(text.as_bytes());
    let zst = zstd::encode_all(text.as_bytes(), 3).unwrap();
    write(dir.path(), "cut.txt.gz", &gz[..gz.len() / 2]);
    write(dir.path(), "cut.txt.zst", &zst[..zst.len() / 2]);
    write(dir.path(), "whole.txt", format!("{OTHER}\n{OTHER}\n"));

    for (name, kind) in [("cut.txt.gz", "gzip"), ("cut.txt.zst", "zstd")] {
        let (r, code, err) = report(dir.path(), &[name, "whole.txt"]);
        assert_eq!(code, 2, "{err}");
        let d = diagnostics(&r);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].0.as_str(), d[0].1.as_str()), ("error", name));
        assert!(
            d[0].3
                .contains(&format!("{kind} data is truncated or corrupt")),
            "{}",
            d[0].3
        );
        assert!(
            err.contains(&format!("error: {name}: {kind} data is truncated")),
            "{err}"
        );
        let found = duplicates(&r);
        assert!(
            found.contains(&(name.to_owned(), 2)),
            "read up to the cut: {found:?}"
        );
        assert!(found.contains(&("whole.txt".to_owned(), 2)), "{found:?}");
        assert!(
            summary(&r, "paragraphs") > 1_000,
            "what could be read was read"
        );
    }

    // clean writes the intact input and not the truncated one.
    let out = run(
        dir.path(),
        &["clean", "-q", "cut.txt.gz", "whole.txt", "-o", "out"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cut.txt.gz"), "{}", stderr(&out));
    assert_eq!(files_under(&dir.path().join("out")), ["whole.txt"]);
}

#[test]
fn every_gzip_member_is_read() {
    let dir = TempDir::new().unwrap();
    let mut gz = gzip(format!("{REPEATED}\n{OTHER}\n").as_bytes());
    gz.extend(gzip(format!("{THIRD}\n").as_bytes()));
    gz.extend(gzip(format!("{REPEATED}\n").as_bytes()));
    write(dir.path(), "members.txt.gz", &gz);
    let (r, code, _) = report(dir.path(), &["members.txt.gz"]);
    assert_eq!(code, 1);
    assert_eq!(summary(&r, "paragraphs"), 4);
    assert_eq!(duplicates(&r), [("members.txt.gz".to_owned(), 4)]);
    assert!(diagnostics(&r).is_empty());
}

// ---------------------------------------------------------------------
// Damaged Parquet

/// data/news.parquet with a few bytes changed (found by a mutation run):
/// its metadata gives a column a negative start, on which the parquet
/// crate panics rather than returning an error. The panic is an error
/// about that file; the other input is still scanned and cleaned.
#[test]
fn a_damaged_parquet_file_is_an_error_not_a_crash() {
    let dir = TempDir::new().unwrap();
    let damaged = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/damaged-negative-column-start.parquet");
    std::fs::copy(damaged, dir.path().join("damaged.parquet")).unwrap();
    write(
        dir.path(),
        "ok.txt",
        format!("{REPEATED}\n{OTHER}\n{REPEATED}\n"),
    );
    let expected = "error: damaged.parquet: the Parquet reader failed on this file, which is \
                    probably damaged: column start and length should not be negative";
    for command in ["scan", "clean"] {
        let mut args = vec![command, "damaged.parquet", "ok.txt"];
        if command == "clean" {
            args.extend(["-o", "out"]);
        }
        let out = neardup()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{command}: {}",
            stderr(&out)
        );
    }
    let (r, _, _) = report(dir.path(), &["damaged.parquet", "ok.txt"]);
    assert_eq!(duplicates(&r), [("ok.txt".to_owned(), 3)]);
    assert_eq!(files_under(&dir.path().join("out")), ["ok.txt"]);
}

// ---------------------------------------------------------------------
// Binary files

#[test]
fn binary_files_in_a_directory_are_skipped_with_a_warning() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "d/a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(format!("{REPEATED}\n").as_bytes());
    write(dir.path(), "d/image.png", &png);
    // A NUL after decompression counts, one after the first 8 KiB not.
    write(dir.path(), "d/packed.txt.gz", gzip(b"\0\0binary\n"));
    let mut late = format!("{OTHER}\n").repeat(200).into_bytes();
    late.extend_from_slice(b"\0 late NUL\n");
    write(dir.path(), "d/late.txt", &late);

    let (r, code, err) = report(dir.path(), &["d"]);
    assert_eq!(code, 1, "warnings only: {err}");
    let d = diagnostics(&r);
    let skipped: Vec<_> = d
        .iter()
        .map(|(sev, path, _, msg)| (sev.as_str(), path.as_str(), msg.contains("binary file")))
        .collect();
    assert_eq!(
        skipped,
        [
            ("warning", "d/image.png", true),
            ("warning", "d/packed.txt.gz", true)
        ]
    );
    assert_eq!(summary(&r, "inputs"), 2, "a.txt and late.txt");
    assert!(duplicates(&r).iter().all(|(p, _)| p != "d/image.png"));

    // A file named on the command line is read, whatever it holds.
    let (r, _, _) = report(dir.path(), &["d/image.png"]);
    assert!(
        diagnostics(&r).iter().all(|d| !d.3.contains("binary")),
        "{:?}",
        diagnostics(&r)
    );
    assert_eq!(summary(&r, "inputs"), 1);
    assert_eq!(
        summary(&r, "paragraphs"),
        3,
        "its bytes are lines of text too"
    );

    // clean leaves skipped files out of the output, like hidden ones.
    let out = run(dir.path(), &["clean", "-q", "d", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(files_under(&dir.path().join("out")), ["a.txt", "late.txt"]);
}

// ---------------------------------------------------------------------
// Empty input

#[test]
fn empty_documents_are_counted_not_errors() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "d/empty.txt", "");
    write(dir.path(), "d/blank.txt", "\n   \n\t\n\u{a0}\n");
    write(dir.path(), "d/symbols.txt", "*** --- !!!\n§ ¶ †\n");
    write(
        dir.path(),
        "d/records.jsonl",
        format!("{{\"text\":\"\"}}\n\n{{\"text\":\" \\n \"}}\n{{\"text\":\"{OTHER}\"}}\n"),
    );
    let (r, code, err) = report(dir.path(), &["d"]);
    assert_eq!(code, 0, "{err}");
    assert!(diagnostics(&r).is_empty(), "{err}");
    assert_eq!(summary(&r, "documents"), 6);
    assert_eq!(summary(&r, "empty_documents"), 5);
    assert_eq!(
        summary(&r, "paragraphs"),
        3,
        "the symbol lines and the record"
    );

    let out = run(dir.path(), &["scan", "-q", "d"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("scanned 6 documents, 3 paragraphs")
            && text.contains("5 documents with nothing to compare"),
        "{text}"
    );

    let out = run(dir.path(), &["clean", "-q", "d", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0));
    for name in ["empty.txt", "blank.txt", "symbols.txt", "records.jsonl"] {
        assert_eq!(
            read(&dir.path().join("out").join(name)),
            read(&dir.path().join("d").join(name)),
            "{name} is copied as it was"
        );
    }
}

// ---------------------------------------------------------------------
// Size

/// One line of about `bytes` bytes of words drawn from 4,096 made-up
/// ones, so that two lines of a few words share no shingle.
fn long_line(bytes: usize, seed: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "pe", "du", "go", "ha", "ji", "bo", "fe",
        "wu",
    ];
    let mut state = seed.wrapping_add(1);
    let mut line = String::with_capacity(bytes + 16);
    while line.len() < bytes {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for shift in [52, 56, 60] {
            line.push_str(SYLLABLES[(state >> shift) as usize & 15]);
        }
        line.push(' ');
    }
    line
}

/// A line far longer than a block (the 100 MB case is measured by hand, see
/// the README): read whole, found as a repeat, cleaned.
#[test]
fn one_very_long_line_is_one_paragraph() {
    let dir = TempDir::new().unwrap();
    let line = long_line(1_200_000, 7);
    write(dir.path(), "long.txt", format!("{line}\n{OTHER}\n{line}\n"));
    // A short signature keeps the debug build quick; the reading is the same.
    let (r, code, _) = report(dir.path(), &["--num-perm", "16", "long.txt"]);
    assert_eq!(code, 1);
    assert_eq!(summary(&r, "paragraphs"), 3);
    assert_eq!(duplicates(&r), [("long.txt".to_owned(), 3)]);

    let out = run(
        dir.path(),
        &[
            "clean",
            "-q",
            "--num-perm",
            "16",
            "long.txt",
            "-o",
            "out.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        read(&dir.path().join("out.txt")),
        format!("{line}\n{OTHER}\n").into_bytes()
    );
}

/// One record holding many paragraphs (10^6 is measured by hand).
#[test]
fn a_document_of_many_paragraphs() {
    let dir = TempDir::new().unwrap();
    let n = 20_000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(long_line(60, i).trim_end());
        text.push('\n');
    }
    text.push_str(long_line(60, 5).trim_end());
    let record = serde_json::json!({ "id": "big", "text": text }).to_string();
    write(dir.path(), "big.jsonl", format!("{record}\n"));
    let (r, code, _) = report(dir.path(), &["--num-perm", "16", "big.jsonl"]);
    assert_eq!(code, 1);
    assert_eq!(summary(&r, "documents"), 1);
    assert_eq!(summary(&r, "paragraphs"), n + 1);
    assert_eq!(summary(&r, "duplicate_paragraphs"), 1);
    assert_eq!(
        r["clusters"][0]["members"][1]["paragraph"].as_u64(),
        Some(n)
    );
}

// ---------------------------------------------------------------------
// Paths that cannot be read

#[test]
fn a_missing_path_is_an_error_and_the_rest_is_read() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    let (r, code, err) = report(dir.path(), &["nope.txt", "a.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("error: nope.txt: No such file"), "{err}");
    let d = diagnostics(&r);
    assert_eq!((d[0].0.as_str(), d[0].1.as_str()), ("error", "nope.txt"));
    assert_eq!(duplicates(&r), [("a.txt".to_owned(), 2)]);
}

/// Issue 18.16: a dangling link in a tree is a warning, as in ripgrep, so
/// that the exit status still says whether duplicates were found; named
/// on the command line it is an error.
#[test]
fn a_broken_link_in_a_directory_is_a_warning_naming_it() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "d/a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    std::os::unix::fs::symlink("gone.txt", dir.path().join("d/link.txt")).unwrap();
    let (r, code, err) = report(dir.path(), &["d"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "warning: d/link.txt: broken symbolic link: its target does not exist; skipped"
        ),
        "{err}"
    );
    assert_eq!(diagnostics(&r)[0].0, "warning");
    assert_eq!(duplicates(&r), [("d/a.txt".to_owned(), 2)]);
    let (_, code, err) = report(dir.path(), &["d/link.txt"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("error: d/link.txt: broken symbolic link"),
        "{err}"
    );

    // clean writes the rest, and succeeds.
    let out = run(dir.path(), &["clean", "-q", "d", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(files_under(&dir.path().join("out")), ["a.txt"]);
}

/// Whether this process runs as root, which reads any file.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// As root, runs the command as `nobody` through `setpriv`, when there is
/// one, so that permissions apply.
fn as_unprivileged(dir: &Path, args: &[&str]) -> Option<Output> {
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let bin = assert_cmd::cargo::cargo_bin("neardup");
    let out = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    // setpriv itself failed: not allowed to change user, or to run the
    // binary as that user.
    (!stderr(&out).contains("setpriv:")).then_some(out)
}

#[test]
fn an_unreadable_file_is_an_error_and_the_rest_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    write(dir.path(), "d/a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    let secret = write(dir.path(), "d/secret.txt", format!("{OTHER}\n{OTHER}\n"));
    std::fs::set_permissions(dir.path().join("d"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let args = ["scan", "-q", "--output-format", "json", "d"];
    let out = if is_root() {
        match as_unprivileged(dir.path(), &args) {
            Some(out) => out,
            None => {
                // Root reads it regardless: then it is simply scanned.
                let (r, code, _) = report(dir.path(), &["d"]);
                assert_eq!(code, 1);
                assert_eq!(summary(&r, "inputs"), 2);
                assert!(duplicates(&r).contains(&("d/secret.txt".to_owned(), 2)));
                return;
            }
        }
    } else {
        run(dir.path(), &args)
    };
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: d/secret.txt: Permission denied"),
        "{}",
        stderr(&out)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(duplicates(&r), [("d/a.txt".to_owned(), 2)]);
}

#[test]
fn a_symlink_loop_is_an_error_naming_the_link() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "d/a.txt", format!("{REPEATED}\n"));
    write(dir.path(), "d/sub/b.txt", format!("{REPEATED}\n"));
    std::os::unix::fs::symlink("..", dir.path().join("d/sub/up")).unwrap();
    std::os::unix::fs::symlink("self", dir.path().join("d/self")).unwrap();
    // A link to a directory elsewhere is followed.
    write(dir.path(), "elsewhere/c.txt", format!("{REPEATED}\n"));
    std::os::unix::fs::symlink("../elsewhere", dir.path().join("d/linked")).unwrap();

    let (r, code, err) = report(dir.path(), &["d"]);
    assert_eq!(code, 2, "{err}");
    let d = diagnostics(&r);
    let problems: Vec<_> = d
        .iter()
        .map(|(sev, path, _, _)| (sev.as_str(), path.as_str()))
        .collect();
    assert_eq!(problems, [("error", "d/self"), ("error", "d/sub/up")]);
    assert!(d[1].3.starts_with("symbolic link loop"), "{}", d[1].3);
    assert!(d[0].3.contains("symbolic link"), "{}", d[0].3);
    assert_eq!(
        duplicates(&r),
        [
            ("d/linked/c.txt".to_owned(), 1),
            ("d/sub/b.txt".to_owned(), 1)
        ]
    );
}

// ---------------------------------------------------------------------
// Output that cannot be written

#[test]
fn an_output_directory_that_cannot_be_created_is_an_error() {
    let dir = TempDir::new().unwrap();
    let input = write(dir.path(), "in/a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    write(dir.path(), "blocker", "a file, not a directory\n");
    // Under a regular file: fails for root too.
    let out = run(dir.path(), &["clean", "-q", "in", "-o", "blocker/out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("blocker/out"), "{}", stderr(&out));
    assert_eq!(
        read(&input),
        format!("{REPEATED}\n{REPEATED}\n").into_bytes()
    );
    assert_eq!(files_under(dir.path()), ["blocker", "in/a.txt"]);
}

#[test]
fn a_read_only_output_directory_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let input = write(dir.path(), "a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let args = ["clean", "-q", "a.txt", "-o", "out/a.txt"];
    let out = if is_root() {
        match as_unprivileged(dir.path(), &args) {
            Some(out) => out,
            // Root writes anyway; the other test covers an impossible path.
            None => return,
        }
    } else {
        run(dir.path(), &args)
    };
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("error: out/a.txt: cannot create a temporary file in out: Permission denied"),
        "{}",
        stderr(&out)
    );
    assert!(files_under(&out_dir).is_empty());
    assert_eq!(
        read(&input),
        format!("{REPEATED}\n{REPEATED}\n").into_bytes()
    );
}

#[test]
fn a_full_disk_during_clean_leaves_no_partial_output() {
    let dir = TempDir::new().unwrap();
    let text = numbered_lines(4_000);
    let input = write(dir.path(), "in/a.txt", &text);
    write(dir.path(), "in/b.txt", format!("{OTHER}\n"));
    let disk = common::SmallDisk::new(dir.path().join("small"), 64);
    let out = disk.run(dir.path(), &["clean", "-q", "in", "-o", "small/out"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: writing small/out/a.txt: "), "{err}");
    assert!(
        err.contains("No space left on device") || err.contains("File too large"),
        "{err}"
    );
    // The large input is not written, and no temporary file is left. The
    // small one is cleaned at the same time: it is written whole, or (when
    // the large one filled the disk first) not at all and named in its own
    // error; never in part.
    let written = files_under(&dir.path().join("small/out"));
    match written.as_slice() {
        [] => assert!(err.contains("error: writing small/out/b.txt: "), "{err}"),
        [b] if b == "b.txt" => assert_eq!(
            read(&dir.path().join("small/out/b.txt")),
            format!("{OTHER}\n").into_bytes()
        ),
        _ => panic!("{written:?}"),
    }
    assert_eq!(read(&input), text.as_bytes());
    // One thread cleans the inputs in order: the large one fails and frees
    // its space, then the small one is written.
    std::fs::remove_dir_all(dir.path().join("small/out")).ok();
    let out = disk.run(dir.path(), &["clean", "-q", "-j1", "in", "-o", "small/out"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(files_under(&dir.path().join("small/out")), ["b.txt"]);
}

// ---------------------------------------------------------------------
// Interrupts

/// Interrupts `clean` while an output is being written: it reads from a
/// FIFO that is left empty at the moment the output's temporary file
/// exists, so the signal always arrives mid-write.
fn interrupt_clean(signal: libc::c_int) -> (Option<i32>, Vec<String>) {
    use std::os::unix::fs::OpenOptionsExt;
    use std::time::{Duration, Instant};
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("in.txt");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("neardup"))
        .args([
            "clean",
            "-q",
            "--input-format",
            "text",
            "in.txt",
            "-o",
            "out/in.txt",
        ])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait = |what: &str, child: &mut std::process::Child| {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        assert!(child.try_wait().unwrap().is_none(), "exited before {what}");
        std::thread::sleep(Duration::from_millis(5));
    };
    // The scan's one read (no repeats: no second pass).
    let mut writer = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
        {
            Ok(w) => break w,
            Err(_) => wait("the scan to open the input", &mut child),
        }
    };
    writer
        .write_all(format!("{REPEATED}\n{OTHER}\n").as_bytes())
        .unwrap();
    drop(writer);
    // The output's temporary file exists; the rewrite waits for the FIFO.
    while files_under(&dir.path().join("out")).is_empty() {
        wait("the temporary output file", &mut child);
    }
    // SAFETY: kill has no memory effects; the pid is our live child's.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let status = child.wait().unwrap();
    (status.code(), files_under(dir.path()))
}

#[test]
fn sigterm_during_clean_leaves_no_files() {
    let (code, files) = interrupt_clean(libc::SIGTERM);
    assert_eq!(code, Some(143));
    assert_eq!(files, ["in.txt"], "no output, no temporary file");
}

#[test]
fn sigint_during_clean_leaves_no_files() {
    let (code, files) = interrupt_clean(libc::SIGINT);
    assert_eq!(code, Some(130));
    assert_eq!(files, ["in.txt"], "no output, no temporary file");
}

// ---------------------------------------------------------------------
// The same file twice; outputs inside inputs

#[test]
fn a_file_given_twice_is_read_once_with_a_warning() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "d/a.txt", format!("{REPEATED}\n{OTHER}\n"));
    std::os::unix::fs::symlink("a.txt", dir.path().join("d/z-link.txt")).unwrap();
    let (r, code, err) = report(dir.path(), &["d/a.txt", "d", "./d/a.txt"]);
    assert_eq!(code, 0, "nothing repeats once the file is read once: {err}");
    assert_eq!(summary(&r, "inputs"), 1);
    let d = diagnostics(&r);
    let warned: Vec<_> = d
        .iter()
        .map(|(sev, path, _, msg)| (sev.as_str(), path.as_str(), msg.as_str()))
        .collect();
    assert_eq!(
        warned,
        [
            ("warning", "d/a.txt", "named more than once; read once"),
            ("warning", "d/z-link.txt", "the same as d/a.txt; read once"),
            ("warning", "./d/a.txt", "the same as d/a.txt; read once"),
        ]
    );
    // The same directory twice is one warning, not one per file.
    let (r, _, _) = report(dir.path(), &["d", "d/"]);
    assert_eq!(summary(&r, "inputs"), 1);
    assert_eq!(diagnostics(&r).len(), 2, "{:?}", diagnostics(&r));
}

/// An index named as an input, or a file of one, is an error naming it,
/// not a corpus of its lock file and segments; the other inputs are read,
/// and `index add` adds nothing (an index's files are never read as
/// input, also when it is not the command's own).
#[test]
fn an_index_named_as_an_input_is_an_error_naming_it() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", format!("{REPEATED}\n{OTHER}\n"));
    write(dir.path(), "b.txt", format!("{REPEATED}\n"));
    let out = run(dir.path(), &["index", "create", "SI", "a.txt", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let segment = files_under(&dir.path().join("SI"))
        .into_iter()
        .find(|f| f.starts_with("seg-"))
        .map(|f| format!("SI/{f}"))
        .unwrap();
    std::os::unix::fs::symlink("SI", dir.path().join("linked")).unwrap();
    let index = "is a neardup index, not a corpus (an index's files are never read as input)";
    let file = "is a file of a neardup index, not a corpus (an index's files are never read as \
                input)";

    let (r, code, err) = report(dir.path(), &["SI", "b.txt", &segment, "linked", "SI/LOCK"]);
    assert_eq!(code, 2, "{err}");
    let error = |path: &str, message: &str| {
        (
            "error".to_owned(),
            path.to_owned(),
            None,
            message.to_owned(),
        )
    };
    assert_eq!(
        diagnostics(&r),
        [
            error("SI", index),
            error(&segment, file),
            error("linked", index),
            error("SI/LOCK", file),
        ]
    );
    assert!(err.contains(&format!("error: SI: {index}")), "{err}");
    assert_eq!(summary(&r, "inputs"), 1, "b.txt alone is read");

    // With --against, the index it scans against is no corpus either.
    let (_, code, err) = report(dir.path(), &["--against", "SI", "SI", "b.txt"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("error: SI: {index}")), "{err}");

    // Found in a directory, another index is skipped with a warning.
    write(dir.path(), "corpus/b.txt", format!("{REPEATED}\n"));
    let copy = dir.path().join("corpus/old.ndx");
    common::copy_dir(&dir.path().join("SI"), &copy);
    let (r, code, err) = report(dir.path(), &["corpus", "a.txt"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        diagnostics(&r),
        [(
            "warning".to_owned(),
            "corpus/old.ndx".to_owned(),
            None,
            "a neardup index, not a corpus; skipped".to_owned()
        )]
    );
    assert_eq!(summary(&r, "inputs"), 2);

    for args in [&["SI", "SI"][..], &["SI", &segment], &["SI", "b.txt", "SI"]] {
        let out = run(dir.path(), &[&["index", "add"][..], args, &["-q"]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("the batch was not added"),
            "{}",
            stderr(&out)
        );
    }
    let out = run(
        dir.path(),
        &["index", "info", "SI", "--output-format", "json"],
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["batches"].as_array().map(Vec::len), Some(1), "{info}");
}

#[test]
fn an_output_directory_inside_the_input_is_refused() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "corpus/a.txt", format!("{REPEATED}\n{OTHER}\n"));
    write(dir.path(), "corpus/b.txt", format!("{REPEATED}\n{THIRD}\n"));
    for args in [
        &["clean", "corpus", "-o", "corpus/cleaned"][..],
        &[
            "clean",
            "corpus",
            "-o",
            "out",
            "--removed",
            "corpus/removed.jsonl",
        ],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("inside the input directory corpus"),
            "{}",
            stderr(&out)
        );
        // Refused before anything was read or written.
        assert_eq!(files_under(&dir.path().join("corpus")), ["a.txt", "b.txt"]);
        assert!(!dir.path().join("out").exists());
    }
    // Beside the corpus it works, and the output is what a second run
    // writes again.
    let args = [
        "clean",
        "corpus",
        "-o",
        "cleaned",
        "--removed",
        "removed.jsonl",
    ];
    let first = run(dir.path(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let b = read(&dir.path().join("cleaned/b.txt"));
    assert_eq!(b, format!("{THIRD}\n").into_bytes());
    let second = run(dir.path(), &args);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(read(&dir.path().join("cleaned/b.txt")), b);
}

// ---------------------------------------------------------------------
// check

/// `neardup check --no-config --output-format json ARGS` in `dir`.
fn check(dir: &Path, args: &[&str]) -> (Value, i32, String) {
    let out = run(
        dir,
        &[
            &["check", "-q", "--no-config", "--output-format", "json"],
            args,
        ]
        .concat(),
    );
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (json, out.status.code().unwrap(), stderr(&out))
}

#[test]
fn check_reports_bad_input_and_fails_with_status_2() {
    let dir = TempDir::new().unwrap();
    bad_records(dir.path());
    let mut latin = format!("{OTHER}\n").into_bytes();
    latin.extend_from_slice(b"caf\xe9 on the quay\n");
    write(dir.path(), "c/latin.txt", &latin);
    write(dir.path(), "c/image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    std::fs::rename(dir.path().join("bad.jsonl"), dir.path().join("c/bad.jsonl")).unwrap();

    let (r, code, err) = check(dir.path(), &["c", "gone"]);
    assert_eq!(code, 2, "{err}");
    for expected in [
        "error: gone: No such file",
        "warning: c/image.png: binary file",
        "error: c/bad.jsonl:2: invalid JSON",
        "warning: c/bad.jsonl:5: the id field `id` is an array",
        "warning: c/latin.txt:2: invalid UTF-8",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert_eq!(summary(&r, "errors"), 4);
    assert_eq!(summary(&r, "warnings"), 3);
    assert_eq!(summary(&r, "files"), 2, "the binary file is not checked");

    // Bad records skipped: the verdict is the duplicates' alone.
    let (r, code, err) = check(dir.path(), &["--skip-bad-records", "c"]);
    assert_eq!(code, 1, "a repeat fails the check, nothing else: {err}");
    assert_eq!(summary(&r, "errors"), 0);
    assert_eq!(summary(&r, "warnings"), 6);
}

#[test]
fn check_never_reads_its_own_files_in_the_corpus() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "c/a.txt", format!("{REPEATED}\n{REPEATED}\n"));
    let (_, code, err) = check(dir.path(), &["c", "--write-baseline", "c/baseline.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("c/baseline.json").exists());
    // The baseline is a .json file inside the corpus: it must not be read
    // as JSON Lines input.
    let (r, code, err) = check(dir.path(), &["c", "--baseline", "c/baseline.json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&r, "files"), 1);
    assert_eq!(summary(&r, "warnings") + summary(&r, "errors"), 0, "{err}");
}

// ---------------------------------------------------------------------
// Record ids (issue 19)

/// The ids of issue 19, as written in the file, and the `doc` a report
/// must give each (`None`: not an id, so the record's line).
const HOSTILE_IDS: [(&str, Option<&str>); 12] = [
    ("1.0", Some("1.0")),
    ("1e2", Some("1e2")),
    ("1.50", Some("1.50")),
    ("-0", Some("-0")),
    ("12345678901234567890123", Some("12345678901234567890123")),
    ("1E400", Some("1E400")),
    ("0.1", Some("0.1")),
    (r#""x\u0000y""#, Some("x\0y")),
    (r#""a\nb""#, Some("a\nb")),
    (r#""\u00e9""#, Some("é")),
    ("[]", None),
    (r#""""#, Some("")),
];

/// A JSON Lines file of one record per id in [`HOSTILE_IDS`], all with the
/// same text.
fn hostile_ids(dir: &Path, name: &str) {
    let lines: Vec<String> = HOSTILE_IDS
        .iter()
        .map(|(id, _)| format!("{{\"id\": {id}, \"text\": \"{REPEATED}\"}}\n"))
        .collect();
    write(dir, name, lines.concat());
}

#[test]
fn issue_19_ids_are_reported_exactly_as_written() {
    let dir = TempDir::new().unwrap();
    hostile_ids(dir.path(), "nums.jsonl");
    let (r, code, err) = report(dir.path(), &["nums.jsonl"]);
    assert_eq!(code, 1, "duplicates, and no error: {err}");
    let members = r["clusters"][0]["members"].as_array().unwrap();
    let docs: Vec<(u64, &str)> = members
        .iter()
        .map(|m| (m["line"].as_u64().unwrap(), m["doc"].as_str().unwrap()))
        .collect();
    let lines: Vec<String> = (1..=12).map(|l: u64| l.to_string()).collect();
    let expected: Vec<(u64, &str)> = HOSTILE_IDS
        .iter()
        .zip(1..)
        .map(|((_, doc), line)| (line, doc.unwrap_or(&lines[line as usize - 1])))
        .collect();
    assert_eq!(docs, expected, "every record scanned, every id exact");
    assert_eq!(
        diagnostics(&r),
        [warning(
            "nums.jsonl",
            11,
            "the id field `id` is an array, not a string or number; the record is named by \
             its line number"
        )]
    );
    // jsonl gives the same ids.
    let out = run(
        dir.path(),
        &["scan", "-q", "--output-format", "jsonl", "nums.jsonl"],
    );
    let cluster: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cluster["members"], r["clusters"][0]["members"]);

    // Text: one finding per line, control characters escaped.
    let out = run(dir.path(), &["scan", "-q", "nums.jsonl"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let findings: Vec<&str> = text.lines().filter(|l| l.contains(" repeats ")).collect();
    assert_eq!(findings.len(), 11, "{text}");
    assert!(findings[6].starts_with(r"nums.jsonl:8 (doc x\x00y, paragraph 0)"));
    assert!(findings[7].starts_with(r"nums.jsonl:9 (doc a\nb, paragraph 0)"));
    assert!(findings[10].starts_with(r#"nums.jsonl:12 (doc "", paragraph 0)"#));
    assert!(!text.contains('\0'), "{text:?}");
}

#[test]
fn issue_19_control_characters_in_paths_and_ids_stay_out_of_text_layouts() {
    let dir = TempDir::new().unwrap();
    let name = "new\nline\u{1b}[31m.jsonl";
    write(
        dir.path(),
        name,
        format!(
            "{{\"id\":\"a\\u001b[2J\\r\",\"text\":\"{REPEATED}\"}}\n\
             {{\"id\":\"b\\tc\",\"text\":\"{REPEATED}\"}}\n{{\"id\":[1],\"text\":\"{OTHER}\"}}\n"
        ),
    );
    let shown = r"new\nline\x1b[31m.jsonl";
    // scan's text and diagnostics
    let out = run(dir.path(), &["scan", "-q", name]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        text.starts_with(&format!(
            "{shown}:2 (doc b\\tc, paragraph 0) repeats {shown}:1 (doc a\\x1b[2J\\r, paragraph 0)"
        )),
        "{text:?}"
    );
    assert!(stderr(&out).starts_with(&format!("warning: {shown}:3: the id field")));
    for output in [text.as_str(), &stderr(&out)] {
        assert!(
            !output.chars().any(|c| c.is_control() && c != '\n'),
            "{output:?}"
        );
    }
    // check: text and github
    let out = run(dir.path(), &["check", "-q", "--no-config", name]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{shown}:2 (doc b\\tc,")),
        "{text:?}"
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    let out = run(
        dir.path(),
        &[
            "check",
            "-q",
            "--no-config",
            "--output-format",
            "github",
            name,
        ],
    );
    let github = String::from_utf8(out.stdout).unwrap();
    let commands: Vec<&str> = github.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 2, "a finding and a warning: {github:?}");
    assert!(
        commands[0].starts_with(r"::error file=new%0Aline\x1b[31m.jsonl,line=2,"),
        "{github:?}"
    );
    assert!(
        !github.chars().any(|c| c.is_control() && c != '\n'),
        "{github:?}"
    );
    // JSON keeps every value exactly.
    let (r, _, _) = report(dir.path(), &[name]);
    let kept = &r["clusters"][0]["members"][0];
    assert_eq!(kept["path"], name);
    assert_eq!(kept["doc"], "a\u{1b}[2J\r");
    assert_eq!(r["clusters"][0]["members"][1]["doc"], "b\tc");
}

#[test]
fn issue_19_same_ids_stay_apart_and_clean_removes_the_right_record() {
    let dir = TempDir::new().unwrap();
    // Id 7 twice in a.jsonl and once in b.jsonl; only a.jsonl's second
    // record 7 and b.jsonl's record 7 repeat the first.
    write(
        dir.path(),
        "a.jsonl",
        format!(
            "{{\"id\":7,\"text\":\"{REPEATED}\"}}\n{{\"id\":7,\"text\":\"{OTHER}\"}}\n\
             {{\"id\":7,\"text\":\"{REPEATED}\"}}\n"
        ),
    );
    write(
        dir.path(),
        "b.jsonl",
        format!("{{\"id\":7,\"text\":\"{THIRD}\\n{REPEATED}\"}}\n"),
    );
    let (r, code, err) = report(dir.path(), &["a.jsonl", "b.jsonl"]);
    assert_eq!(code, 1, "{err}");
    let members: Vec<(String, String, u64, u64)> = r["clusters"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_owned(),
                m["doc"].as_str().unwrap().to_owned(),
                m["line"].as_u64().unwrap(),
                m["paragraph"].as_u64().unwrap(),
            )
        })
        .collect();
    let at = |path: &str, line, paragraph| (path.to_owned(), "7".to_owned(), line, paragraph);
    assert_eq!(
        members,
        [
            at("a.jsonl", 1, 0),
            at("a.jsonl", 3, 0),
            at("b.jsonl", 1, 1)
        ]
    );
    assert_eq!(r["passages"][0]["repeat"]["first_line"], 3);
    assert_eq!(r["passages"][0]["original"]["first_line"], 1);

    let out = run(
        dir.path(),
        &[
            "clean",
            "-q",
            "a.jsonl",
            "b.jsonl",
            "-o",
            "out",
            "--removed",
            "log.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(read(&dir.path().join("out/a.jsonl"))).unwrap(),
        format!(
            "{{\"id\":7,\"text\":\"{REPEATED}\"}}\n{{\"id\":7,\"text\":\"{OTHER}\"}}\n\
             {{\"id\":7,\"text\":\"\"}}\n"
        ),
        "the third record loses its text, the first and second keep theirs"
    );
    assert_eq!(
        String::from_utf8(read(&dir.path().join("out/b.jsonl"))).unwrap(),
        format!("{{\"id\":7,\"text\":\"{THIRD}\"}}\n"),
        "the last paragraph goes with the line break before it"
    );
    let log: Vec<Value> = String::from_utf8(read(&dir.path().join("log.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let places: Vec<(&str, &str, u64, &str, u64)> = log
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap(),
                e["doc"].as_str().unwrap(),
                e["line"].as_u64().unwrap(),
                e["kept"]["path"].as_str().unwrap(),
                e["kept"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("a.jsonl", "7", 3, "a.jsonl", 1),
            ("b.jsonl", "7", 1, "a.jsonl", 1)
        ]
    );
}

#[test]
fn issue_19_number_ids_are_exact_in_the_removal_log_and_check_json() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "n.jsonl",
        format!(
            "{{\"id\":1.0,\"text\":\"{REPEATED}\"}}\n{{\"id\":12345678901234567890123,\"text\":\"{REPEATED}\"}}\n"
        ),
    );
    let out = run(
        dir.path(),
        &[
            "clean",
            "-q",
            "n.jsonl",
            "-o",
            "out.jsonl",
            "--removed",
            "log.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&read(&dir.path().join("log.jsonl"))).unwrap();
    assert_eq!(
        (&log["doc"], &log["kept"]["doc"]),
        (&Value::from("12345678901234567890123"), &Value::from("1.0"))
    );
    let (r, code, err) = check(dir.path(), &["n.jsonl"]);
    assert_eq!(code, 1, "{err}");
    let pair = &r["findings"][0]["pairs"][0];
    assert_eq!(pair["repeat"]["doc"], "12345678901234567890123");
    assert_eq!(pair["original"]["doc"], "1.0");
}

// ---------------------------------------------------------------------
// The text field under another name (issue 18, item 14)

#[test]
fn issue_18_a_text_field_under_another_name_is_one_error_with_a_hint() {
    let dir = TempDir::new().unwrap();
    let body: String = (0..50)
        .map(|i| format!("{{\"id\":{i},\"url\":\"https://x.test/{i}\",\"body\":\"{REPEATED}\"}}\n"))
        .collect();
    write(dir.path(), "a.jsonl", &body);
    write(
        dir.path(),
        "b.jsonl",
        format!("{{\"id\":1,\"text\":\"{OTHER}\"}}\n{{\"content\":\"x\"}}\n"),
    );
    let (r, code, err) = report(dir.path(), &["a.jsonl", "b.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        diagnostics(&r),
        [
            (
                "error".to_owned(),
                "a.jsonl".to_owned(),
                Some(1),
                r#"no "text" field; this record has "body", "id", "url" (use --text-field body?); 49 more records of this input without it, also skipped"#.to_owned()
            ),
            (
                "error".to_owned(),
                "b.jsonl".to_owned(),
                Some(2),
                r#"no "text" field; this record has "content" (use --text-field content?)"#.to_owned()
            ),
        ]
    );
    assert_eq!(err.lines().count(), 2, "one line per input: {err}");
    assert_eq!(summary(&r, "documents"), 1);
    // The hint works.
    let (r, code, err) = report(dir.path(), &["--text-field", "body", "a.jsonl"]);
    assert_eq!((code, summary(&r, "documents")), (1, 50), "{err}");
}

#[test]
fn issue_19_explain_finds_records_by_their_exact_ids() {
    let dir = TempDir::new().unwrap();
    hostile_ids(dir.path(), "nums.jsonl");
    let out = run(
        dir.path(),
        &[
            "explain",
            "nums.jsonl#12345678901234567890123:0",
            "nums.jsonl#a\nb:0",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("A  nums.jsonl:5 (doc 12345678901234567890123, paragraph 0)\n"),
        "{text}"
    );
    assert!(
        text.contains("\nB  nums.jsonl:9 (doc a\\nb, paragraph 0)\n"),
        "{text}"
    );
    // 1.0 is not 1: no record has that id.
    let out = run(
        dir.path(),
        &["explain", "nums.jsonl#1:0", "nums.jsonl#1.0:0"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(r#"no paragraph 0 in a document named "1""#),
        "{}",
        stderr(&out)
    );
}
