//! Integration tests of the input formats beyond plain text and JSON Lines:
//! Common Crawl WET files and Parquet. Each runs the real binary in a
//! temporary directory (or on the checked-in samples in `data/`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

mod common;

use common::{jsonl_texts, repo};

fn neardup() -> Command {
    let mut cmd = Command::cargo_bin("neardup").unwrap();
    cmd.current_dir(repo()).env_remove("NO_COLOR");
    cmd
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

/// A compressed input's decoded text is kept in `$TMPDIR` between the
/// passes: the report is the one made without it (a `$TMPDIR` that does
/// not exist), and nothing is left there after the run.
#[test]
fn scratch_copy_of_compressed_input_changes_nothing_and_leaves_nothing() {
    let dir = TempDir::new().unwrap();
    let jsonl = std::fs::read(repo().join("data/news.jsonl")).unwrap();
    let gz = dir.path().join("news.jsonl.gz");
    std::fs::write(&gz, gzip(&jsonl)).unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |tmpdir: &std::path::Path| {
        let out = neardup()
            .env("TMPDIR", tmpdir)
            .args(["scan", "--output-format", "json", "data/news.warc.wet.gz"])
            .arg(&gz)
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let kept = run(&tmp);
    assert!(kept.contains("\"clusters\": ["), "{kept}");
    assert_eq!(kept, run(&dir.path().join("missing")));
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
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

/// A record whose Content-Length runs past the end of the file, in the
/// middle of it (a damaged header): an error at its byte, and the records
/// after it are still read, plain and gzipped per record.
#[test]
fn a_wet_length_past_the_end_loses_only_its_record() {
    let dir = TempDir::new().unwrap();
    let record = |id: &str, body: &str, length: usize| {
        format!(
            "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: {id}\r\n\
             Content-Length: {length}\r\n\r\n{body}\r\n\r\n"
        )
        .into_bytes()
    };
    let records = [
        record("<urn:uuid:1>", HARBOUR, HARBOUR.len()),
        record("<urn:uuid:2>", FERRY, 1_000_000),
        record("<urn:uuid:3>", HARBOUR, HARBOUR.len()),
    ];
    let plain = dir.path().join("mid.warc.wet");
    std::fs::write(&plain, records.concat()).unwrap();
    let gzipped = dir.path().join("mid.warc.wet.gz");
    let members: Vec<Vec<u8>> = records.iter().map(|r| gzip(r)).collect();
    std::fs::write(&gzipped, members.concat()).unwrap();
    for path in [&plain, &gzipped] {
        let found = clusters(&[path.to_str().unwrap()], 2);
        assert_eq!(found.len(), 1, "{found:?}");
        let docs: Vec<&str> = (found[0]["members"].as_array().unwrap().iter())
            .map(|m| m["doc"].as_str().unwrap())
            .collect();
        assert_eq!(docs, ["<urn:uuid:1>", "<urn:uuid:3>"]);
        let at = records[0].len();
        neardup()
            .args(["scan", "-q"])
            .arg(path)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "byte {at}: truncated record: Content-Length is 1000000"
            )));
        // The CI formats, which have no field for a byte, say it too.
        for format in ["github", "junit", "sarif"] {
            neardup()
                .args(["check", "--output-format", format])
                .arg(path)
                .assert()
                .code(2)
                .stdout(predicates::str::contains(format!(
                    "byte {at}: truncated record: Content-Length is 1000000"
                )));
        }
    }
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

    /// Every row's fields but `text`, as the parquet crate's row API shows
    /// them.
    fn other_fields(path: &Path) -> Vec<String> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let file = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        file.get_row_iter(None)
            .unwrap()
            .map(|row| {
                let row = row.unwrap();
                row.get_column_iter()
                    .filter(|(name, _)| name.as_str() != "text")
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// Cleaning the Parquet sample keeps its schema, metadata, row groups
    /// and every other column; the texts are what cleaning the same rows as
    /// JSON Lines leaves; and the output reads as Parquet again, without
    /// duplicates, and cleans to the same bytes.
    #[test]
    fn clean_parquet_round_trip() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::RowAccessor;
        let dir = TempDir::new().unwrap();
        let sample = repo().join("data/news.parquet");
        clean(dir.path(), &[sample.to_str().unwrap(), "-o", "out.parquet"]);
        clean(
            dir.path(),
            &[
                repo().join("data/news.jsonl").to_str().unwrap(),
                "-o",
                "out.jsonl",
            ],
        );
        let out = dir.path().join("out.parquet");

        let open = |p: &Path| SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
        let (before, after) = (open(&sample), open(&out));
        let (mb, ma) = (
            before.metadata().file_metadata(),
            after.metadata().file_metadata(),
        );
        assert_eq!(ma.schema(), mb.schema());
        assert_eq!(ma.key_value_metadata(), mb.key_value_metadata());
        assert_eq!(after.num_row_groups(), before.num_row_groups());
        assert_eq!(other_fields(&out), other_fields(&sample));

        let texts: Vec<String> = after
            .get_row_iter(None)
            .unwrap()
            .map(|row| row.unwrap().get_string(3).unwrap().clone())
            .collect();
        assert_eq!(texts, jsonl_texts(&dir.path().join("out.jsonl")));

        neardup().args(["scan"]).arg(&out).assert().code(0);
        clean(dir.path(), &["out.parquet", "-o", "again.parquet"]);
        assert_eq!(
            std::fs::read(dir.path().join("again.parquet")).unwrap(),
            std::fs::read(&out).unwrap()
        );
    }

    /// A row cannot be left out of a Parquet file: --drop-empty fails on a
    /// row that lost every paragraph, naming it; without it the row stays
    /// with empty text.
    #[test]
    fn clean_parquet_keeps_emptied_rows() {
        let dir = TempDir::new().unwrap();
        custom_file(dir.path());
        neardup()
            .current_dir(dir.path())
            .args([
                "clean",
                "-q",
                "--text-field",
                "body",
                "--drop-empty",
                "export",
                "-o",
                "out.parquet",
            ])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(
                "export:4: every paragraph of this row repeats others",
            ));
        assert!(!dir.path().join("out.parquet").exists());
        neardup()
            .current_dir(dir.path())
            .args([
                "clean",
                "-q",
                "--text-field",
                "body",
                "export",
                "-o",
                "out.parquet",
            ])
            .assert()
            // The null text of row 2 is an error of the scan.
            .code(2);
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let file =
            SerializedFileReader::new(std::fs::File::open(dir.path().join("out.parquet")).unwrap())
                .unwrap();
        let bodies: Vec<String> = file
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().get_column_iter().nth(1).unwrap().1.to_string())
            .collect();
        assert_eq!(
            bodies,
            [
                format!("{HARBOUR:?}"),
                "null".into(),
                format!("{FERRY:?}"),
                "\"\"".into()
            ]
        );
    }

    /// A text column declared `required` (no nulls: what Spark and DuckDB
    /// often write) is cleaned like an optional one; it once panicked.
    #[test]
    fn clean_parquet_with_a_required_text_column() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = TempDir::new().unwrap();
        let schema = parquet::schema::parser::parse_message_type(
            "message m { required binary id (UTF8); required binary text (UTF8); }",
        )
        .unwrap();
        let props = Arc::new(WriterProperties::builder().build());
        let mut out = Vec::new();
        let mut w = SerializedFileWriter::new(&mut out, Arc::new(schema), props).unwrap();
        let mut rg = w.next_row_group().unwrap();
        for column in [["x", "y", "z"], [HARBOUR, FERRY, HARBOUR]] {
            let mut c = rg.next_column().unwrap().unwrap();
            let values: Vec<ByteArray> = column.iter().map(|v| ByteArray::from(*v)).collect();
            c.typed::<ByteArrayType>()
                .write_batch(&values, None, None)
                .unwrap();
            c.close().unwrap();
        }
        rg.close().unwrap();
        w.close().unwrap();
        std::fs::write(dir.path().join("req.parquet"), out).unwrap();
        neardup()
            .current_dir(dir.path())
            .args(["clean", "-q", "req.parquet", "-o", "out.parquet"])
            .assert()
            .code(0);
        let file =
            SerializedFileReader::new(std::fs::File::open(dir.path().join("out.parquet")).unwrap())
                .unwrap();
        let texts: Vec<String> = file
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().get_column_iter().nth(1).unwrap().1.to_string())
            .collect();
        assert_eq!(
            texts,
            [format!("{HARBOUR:?}"), format!("{FERRY:?}"), "\"\"".into()]
        );
    }

    /// Ids of a `DECIMAL`, `DATE` or `TIMESTAMP` column are named by their
    /// values (`1.23`, `2020-01-01`, `2020-01-01T00:00:00.5Z`), not by the
    /// numbers or bytes that store them, so a report can be joined back to
    /// the rows.
    #[test]
    fn parquet_decimal_date_and_timestamp_ids_read_as_values() {
        use parquet::data_type::{FixedLenByteArray, FixedLenByteArrayType, Int32Type};
        let dir = TempDir::new().unwrap();
        let schema = parquet::schema::parser::parse_message_type(
            "message m { required int32 day (DATE); required int64 price (DECIMAL(10,2)); \
             required fixed_len_byte_array(16) big (DECIMAL(38,3)); \
             required int64 at (TIMESTAMP(MILLIS,true)); required int64 local (TIMESTAMP(MICROS,false)); \
             required binary text (UTF8); }",
        )
        .unwrap();
        let props = Arc::new(WriterProperties::builder().build());
        let mut out = Vec::new();
        let mut w = SerializedFileWriter::new(&mut out, Arc::new(schema), props).unwrap();
        let mut rg = w.next_row_group().unwrap();
        let mut c = rg.next_column().unwrap().unwrap();
        c.typed::<Int32Type>()
            .write_batch(&[18_262, 18_263], None, None)
            .unwrap();
        c.close().unwrap();
        let mut c = rg.next_column().unwrap().unwrap();
        c.typed::<Int64Type>()
            .write_batch(&[123, -5], None, None)
            .unwrap();
        c.close().unwrap();
        let mut c = rg.next_column().unwrap().unwrap();
        let big: Vec<FixedLenByteArray> = [1_234_567i128, -1]
            .iter()
            .map(|v| FixedLenByteArray::from(v.to_be_bytes().to_vec()))
            .collect();
        c.typed::<FixedLenByteArrayType>()
            .write_batch(&big, None, None)
            .unwrap();
        c.close().unwrap();
        for stamps in [[1_577_836_800_500, 1_577_836_801_000], [1, -1_000_000]] {
            let mut c = rg.next_column().unwrap().unwrap();
            c.typed::<Int64Type>()
                .write_batch(&stamps, None, None)
                .unwrap();
            c.close().unwrap();
        }
        let mut c = rg.next_column().unwrap().unwrap();
        let texts = [ByteArray::from(HARBOUR), ByteArray::from(HARBOUR)];
        c.typed::<ByteArrayType>()
            .write_batch(&texts, None, None)
            .unwrap();
        c.close().unwrap();
        rg.close().unwrap();
        w.close().unwrap();
        let path = dir.path().join("typed.parquet");
        std::fs::write(&path, out).unwrap();
        let path = path.to_str().unwrap();
        for (field, ids) in [
            ("day", ["2020-01-01", "2020-01-02"]),
            ("price", ["1.23", "-0.05"]),
            ("big", ["1234.567", "-0.001"]),
            ("at", ["2020-01-01T00:00:00.5Z", "2020-01-01T00:00:01Z"]),
            (
                "local",
                ["1970-01-01T00:00:00.000001", "1969-12-31T23:59:59"],
            ),
        ] {
            let found = clusters(&["--id-field", field, path], 1);
            let docs: Vec<&str> = (found[0]["members"].as_array().unwrap().iter())
                .map(|m| m["doc"].as_str().unwrap())
                .collect();
            assert_eq!(docs, ids, "{field}");
        }
    }

    /// Parquet compresses its pages itself and is read in place: a file
    /// compressed as a whole is refused, by name or by content, saying
    /// what to do, and a clean is not written as `.parquet.gz`.
    #[test]
    fn parquet_compressed_as_a_whole_is_refused_saying_why() {
        let dir = TempDir::new().unwrap();
        let sample = std::fs::read(repo().join("data/news.parquet")).unwrap();
        std::fs::write(dir.path().join("news.parquet.gz"), gzip(&sample)).unwrap();
        std::fs::write(dir.path().join("download.gz"), gzip(&sample)).unwrap();
        for name in ["news.parquet.gz", "download.gz"] {
            neardup()
                .current_dir(dir.path())
                .args(["scan", "-q", name])
                .assert()
                .code(2)
                .stderr(predicates::str::contains(
                    "a Parquet file compressed as a whole (gzip: `gunzip` it first)",
                ));
        }
        std::fs::write(dir.path().join("news.parquet"), &sample).unwrap();
        neardup()
            .current_dir(dir.path())
            .args(["clean", "-q", "news.parquet", "-o", "out.parquet.gz"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(
                "name it .parquet, without .gz or .zst",
            ));
        assert!(!dir.path().join("out.parquet.gz").exists());
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

/// The gzip members of `data`, decompressed one by one.
fn gzip_members(data: &[u8]) -> Vec<Vec<u8>> {
    let mut rest = data;
    let mut members = Vec::new();
    while !rest.is_empty() {
        let mut d = flate2::bufread::GzDecoder::new(rest);
        let mut member = Vec::new();
        d.read_to_end(&mut member).unwrap();
        rest = d.into_inner();
        members.push(member);
    }
    members
}

/// `(header, body)` of each WARC record in decompressed `data`, read by a
/// framing independent of neardup's: header up to the blank line, then
/// Content-Length bytes, then CRLF CRLF.
fn warc_records(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let header = String::from_utf8(rest[..end].to_vec()).unwrap();
        let length: usize = header
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        records.push((header, rest[end..end + length].to_vec()));
        assert_eq!(&rest[end + length..end + length + 4], b"\r\n\r\n");
        rest = &rest[end + length + 4..];
    }
    records
}

/// Runs `neardup clean ARGS` in `dir`, expecting success.
fn clean(dir: &std::path::Path, args: &[&str]) {
    neardup()
        .current_dir(dir)
        .args(["clean", "-q"])
        .args(args)
        .assert()
        .success();
}

/// Cleaning the WET sample gives a valid WET file, a gzip member per
/// record, with the new Content-Length and digest; only the duplicate
/// paragraphs are gone (the bodies are the title plus what cleaning the
/// same articles as JSON Lines leaves), every other header field is as it
/// was, and cleaning again changes nothing.
#[test]
fn clean_wet_round_trip() {
    let dir = TempDir::new().unwrap();
    let sample = repo().join("data/news.warc.wet.gz");
    clean(
        dir.path(),
        &[sample.to_str().unwrap(), "-o", "out.warc.wet.gz"],
    );
    clean(
        dir.path(),
        &[
            repo().join("data/news.jsonl").to_str().unwrap(),
            "-o",
            "out.jsonl",
        ],
    );

    let raw = std::fs::read(dir.path().join("out.warc.wet.gz")).unwrap();
    let members = gzip_members(&raw);
    let records: Vec<(String, Vec<u8>)> = members.iter().flat_map(|m| warc_records(m)).collect();
    assert_eq!(members.len(), 9);
    assert_eq!(records.len(), 9, "one record per member");

    let mut original = Vec::new();
    flate2::read::MultiGzDecoder::new(&std::fs::read(&sample).unwrap()[..])
        .read_to_end(&mut original)
        .unwrap();
    let before = warc_records(&original);
    let titles: Vec<String> = std::fs::read_to_string(repo().join("data/news.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["title"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let cleaned_texts = jsonl_texts(&dir.path().join("out.jsonl"));
    let unchanged = |h: &str| -> Vec<String> {
        h.lines()
            .filter(|l| !l.starts_with("Content-Length") && !l.starts_with("WARC-Block-Digest"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(records[0], before[0], "warcinfo copied");
    for (i, ((header, body), (old_header, _))) in records.iter().zip(&before).enumerate().skip(1) {
        let expect = format!("{}\n{}", titles[i - 1], cleaned_texts[i - 1]);
        assert_eq!(String::from_utf8_lossy(body), expect, "record {i}");
        assert_eq!(unchanged(header), unchanged(old_header), "record {i}");
        let digest = header
            .lines()
            .find_map(|l| l.strip_prefix("WARC-Block-Digest: sha1:"))
            .unwrap();
        let sha1 = sha1_smol::Sha1::from(body).digest().bytes();
        assert_eq!(digest, base32(&sha1), "record {i}");
    }

    // The cleaned file reads as WET again, without duplicates, and
    // cleaning it again changes nothing.
    let out = dir.path().join("out.warc.wet.gz");
    neardup().args(["scan"]).arg(&out).assert().code(0);
    clean(dir.path(), &["out.warc.wet.gz", "-o", "again.warc.wet.gz"]);
    let again = gzip_members(&std::fs::read(dir.path().join("again.warc.wet.gz")).unwrap());
    assert_eq!(again, members);
}

/// RFC 4648 base32 (upper case, no padding needed for 20 bytes).
fn base32(bytes: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    bits.as_bytes()
        .chunks(5)
        .map(|c| {
            alphabet[usize::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap()] as char
        })
        .collect()
}

/// With --drop-empty a record whose every paragraph repeats others goes,
/// with the separator after it; a malformed record is copied unchanged.
#[test]
fn clean_wet_drops_emptied_records_and_keeps_malformed_ones() {
    let dir = TempDir::new().unwrap();
    let broken = "WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: lots\r\n\r\nbroken\r\n\r\n";
    let data = [
        conversion(
            "<urn:uuid:1>",
            "https://example.test/a",
            &format!("{HARBOUR}\n{FERRY}"),
        ),
        gzip(broken.as_bytes()),
        conversion(
            "<urn:uuid:2>",
            "https://example.test/b",
            &format!("{FERRY}\n{HARBOUR}"),
        ),
        conversion(
            "<urn:uuid:3>",
            "https://example.test/c",
            "A line of its own here.",
        ),
    ]
    .concat();
    std::fs::write(dir.path().join("in.warc.gz"), data).unwrap();
    neardup()
        .current_dir(dir.path())
        .args([
            "clean",
            "-q",
            "--drop-empty",
            "in.warc.gz",
            "-o",
            "out.warc.gz",
            "--removed",
            "log.jsonl",
        ])
        .assert()
        .code(2);
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(&std::fs::read(dir.path().join("out.warc.gz")).unwrap()[..])
        .read_to_end(&mut text)
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains(broken), "{text}");
    assert!(!text.contains("<urn:uuid:2>"), "{text}");
    assert!(text.ends_with("A line of its own here.\r\n\r\n"), "{text}");
    let members = gzip_members(&std::fs::read(dir.path().join("out.warc.gz")).unwrap());
    assert_eq!(members.len(), 3);
    let log = std::fs::read_to_string(dir.path().join("log.jsonl")).unwrap();
    assert!(
        log.contains(r#""event":"dropped-document","path":"in.warc.gz","doc":"<urn:uuid:2>""#),
        "{log}"
    );
}
