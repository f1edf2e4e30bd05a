//! Integration tests of the input formats beyond plain text and JSON Lines:
//! Common Crawl WET files and Parquet. Each runs the real binary in a
//! temporary directory (or on the checked-in samples in `data/`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

fn neardup() -> Command {
    let mut cmd = Command::cargo_bin("neardup").unwrap();
    cmd.current_dir(repo()).env_remove("NO_COLOR");
    cmd
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `neardup scan --output-format jsonl ARGS`: the clusters, after checking
/// the exit code.
fn clusters(args: &[&str], code: i32) -> Vec<Value> {
    let out = neardup()
        .args(["scan", "--output-format", "jsonl"])
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A WARC record, gzipped on its own as in Common Crawl's files.
fn wet_record(fields: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut record = String::from("WARC/1.0\r\n");
    for (name, value) in fields {
        record += &format!("{name}: {value}\r\n");
    }
    record += &format!("Content-Length: {}\r\n\r\n{body}\r\n\r\n", body.len());
    gzip(record.as_bytes())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn conversion(id: &str, url: &str, body: &str) -> Vec<u8> {
    wet_record(
        &[
            ("WARC-Type", "conversion"),
            ("WARC-Target-URI", url),
            ("WARC-Record-ID", id),
        ],
        body,
    )
}

const HARBOUR: &str = "The harbour authority said on Tuesday that the north pier would close for repairs until the end of the summer season.";
const FERRY: &str = "Ferry passengers were told to use the south landing, where extra staff will help with luggage and bicycles.";

/// The sample WET file holds the sample articles, so it has the same
/// duplicates as the JSON Lines sample: each page's text is its title line
/// and then the article's paragraphs, so paragraph numbers are one higher.
#[test]
fn wet_sample_has_the_planted_duplicates() {
    let url_of: BTreeMap<String, String> = std::fs::read_to_string(repo().join("data/news.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                v["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let members = |clusters: &[Value], wet: bool| -> Vec<Vec<(String, u64)>> {
        clusters
            .iter()
            .map(|c| {
                c["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| {
                        let p = m["paragraph"].as_u64().unwrap();
                        if wet {
                            assert!(m["doc"].as_str().unwrap().starts_with("<urn:uuid:"), "{m}");
                            (m["url"].as_str().unwrap().to_owned(), p - 1)
                        } else {
                            (url_of[m["doc"].as_str().unwrap()].clone(), p)
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let wet = clusters(&["data/news.warc.wet.gz"], 1);
    let jsonl = clusters(&["data/news.jsonl"], 1);
    assert_eq!(wet.len(), 12);
    assert_eq!(members(&wet, true), members(&jsonl, false));

    // Lines are lines of the decompressed file, where the paragraph is.
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(
        std::fs::File::open(repo().join("data/news.warc.wet.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for m in wet.iter().flat_map(|c| c["members"].as_array().unwrap()) {
        let line = lines[m["line"].as_u64().unwrap() as usize - 1];
        let (start, end) = (m["start"].as_u64().unwrap(), m["end"].as_u64().unwrap());
        assert_eq!(line.len() as u64, end - start, "{m}");
    }
}

/// A malformed record is an error naming the file and the byte where the
/// record starts; the records after it are still read.
#[test]
fn wet_malformed_record_is_reported_and_skipped() {
    let dir = TempDir::new().unwrap();
    let info = wet_record(&[("WARC-Type", "warcinfo")], "software: test\r\n");
    let first = conversion(
        "<urn:uuid:1>",
        "https://example.test/a",
        &format!("Pier news\n{HARBOUR}\n{FERRY}"),
    );
    let broken =
        gzip(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: lots\r\n\r\nbroken\r\n\r\n");
    let second = conversion(
        "<urn:uuid:2>",
        "https://example.test/b",
        &format!("Other outlet\n{HARBOUR}"),
    );
    let path = dir.path().join("crawl.warc.wet.gz");
    std::fs::write(&path, [info, first, broken, second].concat()).unwrap();

    let out = neardup()
        .args(["scan", "--output-format", "jsonl"])
        .arg(&path)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let plain = |fields: &[(&str, &str)], body: &str| {
        let mut r = String::from("WARC/1.0\r\n");
        for (n, v) in fields {
            r += &format!("{n}: {v}\r\n");
        }
        r + &format!("Content-Length: {}\r\n\r\n{body}\r\n\r\n", body.len())
    };
    let offset = plain(&[("WARC-Type", "warcinfo")], "software: test\r\n").len()
        + plain(
            &[
                ("WARC-Type", "conversion"),
                ("WARC-Target-URI", "https://example.test/a"),
                ("WARC-Record-ID", "<urn:uuid:1>"),
            ],
            &format!("Pier news\n{HARBOUR}\n{FERRY}"),
        )
        .len();
    assert_eq!(
        stderr.trim(),
        format!(
            "error: {}: byte {offset}: invalid Content-Length \"lots\"",
            path.display()
        )
    );
    let found: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1);
    let m = &found[0]["members"];
    assert_eq!(
        (m[0]["doc"].as_str(), m[0]["paragraph"].as_u64()),
        (Some("<urn:uuid:1>"), Some(1))
    );
    assert_eq!(
        (m[1]["url"].as_str(), m[1]["paragraph"].as_u64()),
        (Some("https://example.test/b"), Some(1))
    );
}

/// WARC is recognised by content whatever the name, and `--input-format`
/// overrides the guess.
#[test]
fn wet_detected_by_content_unless_told_otherwise() {
    let dir = TempDir::new().unwrap();
    let body = format!("{HARBOUR}\n{HARBOUR}");
    let path = dir.path().join("download.bin");
    std::fs::write(
        &path,
        conversion("<urn:uuid:9>", "https://example.test/x", &body),
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let found = clusters(&[path], 1);
    assert_eq!(found[0]["members"][1]["doc"], "<urn:uuid:9>");
    // As plain text the whole file is one document, headers and all.
    let found = clusters(&["--input-format", "text", path], 1);
    assert_eq!(found[0]["members"][1]["doc"], path);
}

#[cfg(feature = "parquet")]
mod parquet_input {
    use super::*;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::path::Path;
    use std::sync::Arc;

    /// The Parquet sample (written by pyarrow) has the rows of the JSON
    /// Lines sample, so the reports agree to the byte, apart from the path.
    #[test]
    fn parquet_sample_has_the_planted_duplicates() {
        let parquet = clusters(&["data/news.parquet"], 1);
        let jsonl = clusters(&["data/news.jsonl"], 1);
        assert_eq!(parquet.len(), 12);
        let text = |c: &[Value]| serde_json::to_string(c).unwrap();
        assert_eq!(
            text(&parquet),
            text(&jsonl).replace("data/news.jsonl", "data/news.parquet")
        );
    }

    /// A file with a `body` column and integer `doc_id`s, two row groups.
    fn custom_file(dir: &Path) -> PathBuf {
        let schema = parquet::schema::parser::parse_message_type(
            "message m { required int64 doc_id; optional binary body (UTF8); required int64 year; }",
        )
        .unwrap();
        let props = Arc::new(WriterProperties::builder().build());
        let mut out = Vec::new();
        let mut w = SerializedFileWriter::new(&mut out, Arc::new(schema), props).unwrap();
        let groups: [&[(i64, Option<&str>)]; 2] = [
            &[(101, Some(HARBOUR)), (102, None)],
            &[(103, Some(FERRY)), (104, Some(HARBOUR))],
        ];
        for rows in groups {
            let mut rg = w.next_row_group().unwrap();
            let mut c = rg.next_column().unwrap().unwrap();
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            c.typed::<Int64Type>()
                .write_batch(&ids, None, None)
                .unwrap();
            c.close().unwrap();
            let mut c = rg.next_column().unwrap().unwrap();
            let texts: Vec<ByteArray> = rows
                .iter()
                .filter_map(|r| r.1)
                .map(ByteArray::from)
                .collect();
            let def: Vec<i16> = rows.iter().map(|r| i16::from(r.1.is_some())).collect();
            c.typed::<ByteArrayType>()
                .write_batch(&texts, Some(&def), None)
                .unwrap();
            c.close().unwrap();
            let mut c = rg.next_column().unwrap().unwrap();
            c.typed::<Int64Type>()
                .write_batch(&[2024; 2], None, None)
                .unwrap();
            c.close().unwrap();
            rg.close().unwrap();
        }
        w.close().unwrap();
        let path = dir.join("export");
        std::fs::write(&path, out).unwrap();
        path
    }

    #[test]
    fn parquet_fields_are_named_by_flags_and_nulls_are_errors() {
        let dir = TempDir::new().unwrap();
        let path = custom_file(dir.path());
        let path = path.to_str().unwrap();
        let out = neardup()
            .args([
                "scan",
                "--output-format",
                "jsonl",
                "--text-field",
                "body",
                "--id-field",
                "doc_id",
                path,
            ])
            .assert()
            .code(2)
            .get_output()
            .clone();
        assert_eq!(
            String::from_utf8(out.stderr).unwrap().trim(),
            format!("error: {path}:2: field `body` is null")
        );
        let c: Value = serde_json::from_slice(&out.stdout).unwrap();
        let m = &c["members"];
        assert_eq!(
            (m[0]["doc"].as_str(), m[0]["line"].as_u64()),
            (Some("101"), Some(1))
        );
        assert_eq!(
            (m[1]["doc"].as_str(), m[1]["line"].as_u64()),
            (Some("104"), Some(4))
        );

        // Without the right field name the input fails, naming the columns.
        neardup()
            .args(["scan", path])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(
                "no column `text` (columns: doc_id, body, year)",
            ));
    }

    #[test]
    fn parquet_from_standard_input_needs_no_flag() {
        let dir = TempDir::new().unwrap();
        let path = custom_file(dir.path());
        let found = neardup()
            .args([
                "scan",
                "--output-format",
                "jsonl",
                "--text-field",
                "body",
                "-",
            ])
            .pipe_stdin(&path)
            .unwrap()
            .assert()
            .code(2)
            .get_output()
            .stdout
            .clone();
        let c: Value = serde_json::from_slice(&found).unwrap();
        // The id column is absent under its default name: rows name documents.
        assert_eq!(c["members"][1]["doc"], "4");
        assert_eq!(c["members"][1]["path"], "<stdin>");
    }
}
