//! Integration tests of `neardup clean`: the real binary in a temporary
//! directory; every test checks the bytes it wrote against its input.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;

mod common;

use common::{files_under, jsonl_texts, neardup, read, repo};

use neardup::corpus::{JsonlFields, jsonl};
use serde_json::Value;
use tempfile::TempDir;

fn unzip(bytes: &[u8]) -> Vec<u8> {
    let (_, mut r) =
        neardup::corpus::compress::decode(Box::new(std::io::Cursor::new(bytes.to_vec()))).unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}

/// Runs `neardup clean ARGS` in the repository and returns the exit code.
fn clean(args: &[&str]) -> i32 {
    let out = neardup()
        .current_dir(repo())
        .arg("clean")
        .args(args)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap()
}

fn log_lines(path: &Path) -> Vec<Value> {
    String::from_utf8(read(path))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(path, line, paragraph)` of every duplicate `scan` reports.
fn scanned_duplicates(args: &[&str]) -> BTreeSet<(String, u64, u64)> {
    let out = neardup()
        .current_dir(repo())
        .args(["scan", "--output-format", "jsonl"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .flat_map(|l| {
            let c: Value = serde_json::from_str(l).unwrap();
            c["members"].as_array().unwrap()[1..]
                .iter()
                .map(|m| {
                    (
                        m["path"].as_str().unwrap().to_owned(),
                        m["line"].as_u64().unwrap(),
                        m["paragraph"].as_u64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Checks that `after` is `before` with whole lines deleted: exactly the
/// lines of the removed paragraphs (`removed`: 1-based first line and text),
/// plus blank lines.
fn only_removed_lines_are_gone(before: &[u8], after: &[u8], removed: &BTreeMap<u64, String>) {
    let before: Vec<&[u8]> = before.split_inclusive(|&b| b == b'\n').collect();
    let mut after = after.split_inclusive(|&b| b == b'\n').peekable();
    let mut cutting: Option<(u64, Vec<u8>)> = None;
    for (i, line) in before.iter().enumerate() {
        let no = i as u64 + 1;
        if let Some(text) = removed.get(&no) {
            cutting = Some((no, text.as_bytes().to_vec()));
        }
        if let Some((start, text)) = &mut cutting {
            let content = line.strip_suffix(b"\n").unwrap_or(line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            if !content.iter().all(u8::is_ascii_whitespace) {
                let rest = text.strip_prefix(content).unwrap_or_else(|| {
                    panic!("line {no} is not part of the paragraph logged at {start}")
                });
                let rest = rest.strip_prefix(b"\r").unwrap_or(rest);
                *text = rest.strip_prefix(b"\n").unwrap_or(rest).to_vec();
                if text.is_empty() {
                    cutting = None;
                }
                continue;
            }
        }
        if after.peek() == Some(line) {
            after.next();
        } else {
            assert!(
                line.iter().all(u8::is_ascii_whitespace),
                "line {no} {:?} is missing from the output",
                String::from_utf8_lossy(line)
            );
        }
    }
    assert!(cutting.is_none(), "a logged paragraph was not found");
    assert_eq!(
        after.next(),
        None,
        "the output has lines the input does not"
    );
}

/// Checks that every record of `after` is the record of `before` with only
/// the text value changed, and returns the changed texts by record line.
fn only_text_fields_changed(before: &[u8], after: &[u8]) -> usize {
    let fields = JsonlFields::default();
    let before: Vec<&[u8]> = before.split_inclusive(|&b| b == b'\n').collect();
    let after: Vec<&[u8]> = after.split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(before.len(), after.len(), "records stay, in order");
    let mut changed = 0;
    for (b, a) in before.iter().zip(&after) {
        if b == a {
            continue;
        }
        changed += 1;
        let (fb, fa) = (
            jsonl::locate(b, &fields).unwrap(),
            jsonl::locate(a, &fields).unwrap(),
        );
        assert_eq!(b[..fb.text_span.start], a[..fa.text_span.start]);
        assert_eq!(b[fb.text_span.end..], a[fa.text_span.end..]);
    }
    changed
}

#[test]
fn sample_text_corpus_in_both_scopes() {
    for scope in ["all", "within"] {
        let dir = TempDir::new().unwrap();
        let out = dir.path().join("out");
        let log = dir.path().join("removed.jsonl");
        let code = clean(&[
            "data/news",
            "--scope",
            scope,
            "-o",
            out.to_str().unwrap(),
            "--removed",
            log.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        let expected = scanned_duplicates(&["--scope", scope, "data/news"]);
        let logged = log_lines(&log);
        let found: BTreeSet<(String, u64, u64)> = logged
            .iter()
            .map(|l| {
                (
                    l["path"].as_str().unwrap().to_owned(),
                    l["line"].as_u64().unwrap(),
                    l["paragraph"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(found.len(), logged.len(), "each paragraph logged once");
        assert_eq!(found, expected, "the log accounts for every duplicate");
        assert!(logged.iter().all(|l| l["event"] == "removed-paragraph"
            && l["kept"]["line"].is_u64()
            && l["similarity"].as_f64().unwrap() >= 0.8));
        if scope == "within" {
            assert!(logged.iter().all(|l| l["path"] == l["kept"]["path"]));
        }

        for entry in std::fs::read_dir(repo().join("data/news")).unwrap() {
            let input = entry.unwrap().path();
            let name = input.file_name().unwrap().to_str().unwrap();
            let removed: BTreeMap<u64, String> = logged
                .iter()
                .filter(|l| l["path"].as_str().unwrap().ends_with(name))
                .map(|l| {
                    (
                        l["line"].as_u64().unwrap(),
                        l["text"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            only_removed_lines_are_gone(&read(&input), &read(&out.join(name)), &removed);
        }

        // Nothing is left to find in the scope, and a second clean is a
        // no-op.
        neardup()
            .args(["scan", "-q", "--scope", scope])
            .arg(&out)
            .assert()
            .code(0);
        let again = dir.path().join("again");
        neardup()
            .args(["clean", "-q", "--scope", scope, "-o"])
            .arg(&again)
            .arg(&out)
            .assert()
            .code(0);
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(read(&path), read(&again.join(path.file_name().unwrap())));
        }
    }
}

#[test]
fn sample_jsonl_in_both_scopes() {
    for scope in ["all", "within"] {
        let dir = TempDir::new().unwrap();
        let out = dir.path().join("clean.jsonl");
        let log = dir.path().join("removed.jsonl");
        let code = clean(&[
            "data/news.jsonl",
            "--scope",
            scope,
            "-o",
            out.to_str().unwrap(),
            "--removed",
            log.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        let input = read(&repo().join("data/news.jsonl"));
        let output = read(&out);
        let changed = only_text_fields_changed(&input, &output);
        let logged = log_lines(&log);
        let expected = scanned_duplicates(&["--scope", scope, "data/news.jsonl"]);
        assert_eq!(logged.len(), expected.len());
        let docs: BTreeSet<u64> = logged.iter().map(|l| l["line"].as_u64().unwrap()).collect();
        assert_eq!(changed, docs.len(), "only records with removals change");

        // The cleaned texts are the original texts minus the logged
        // paragraphs, line by line.
        let fields = JsonlFields::default();
        for (no, (b, a)) in input
            .split(|&b| b == b'\n')
            .zip(output.split(|&b| b == b'\n'))
            .enumerate()
            .filter(|(_, (b, _))| !b.is_empty())
        {
            let (tb, ta) = (
                jsonl::parse(b, &fields).unwrap().text,
                jsonl::parse(a, &fields).unwrap().text,
            );
            let removed: BTreeSet<u64> = logged
                .iter()
                .filter(|l| l["line"] == no as u64 + 1)
                .map(|l| l["paragraph"].as_u64().unwrap())
                .collect();
            let kept: Vec<&str> = tb
                .lines()
                .filter(|l| !l.trim().is_empty())
                .enumerate()
                .filter(|(i, _)| !removed.contains(&(*i as u64)))
                .map(|(_, l)| l)
                .collect();
            assert_eq!(ta.lines().collect::<Vec<_>>(), kept, "record {}", no + 1);
        }

        neardup()
            .args(["scan", "-q", "--scope", scope])
            .arg(&out)
            .assert()
            .code(0);
        let again = dir.path().join("again.jsonl");
        neardup()
            .args(["clean", "-q", "--scope", scope, "-o"])
            .arg(&again)
            .arg(&out)
            .assert()
            .code(0);
        assert_eq!(read(&again), output);
    }
}

#[test]
fn seeds_lose_exactly_the_doubled_lines() {
    let Some(seeds) = common::seeds() else { return };
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    neardup()
        .args(["clean", "-q", "-o"])
        .arg(&out)
        .arg(&seeds)
        .assert()
        .code(0);
    let mut names = 0;
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let input = entry.unwrap().path();
        let name = input.file_name().unwrap().to_str().unwrap().to_owned();
        let gone: &[usize] = if name.starts_with("000_") {
            &[8]
        } else if name.starts_with("004_") {
            &[8, 9]
        } else {
            &[]
        };
        let before = read(&input);
        let expected: Vec<u8> = before
            .split_inclusive(|&b| b == b'\n')
            .enumerate()
            .filter(|(i, _)| !gone.contains(&(i + 1)))
            .flat_map(|(_, l)| l.to_vec())
            .collect();
        assert_eq!(read(&out.join(&name)), expected, "{name}");
        names += 1;
    }
    assert!(names >= 2);
}

#[test]
fn compressed_inputs_stay_compressed() {
    let dir = TempDir::new().unwrap();
    let plain = read(&repo().join("data/news.jsonl"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::write(inputs.join("a.jsonl.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        inputs.join("b.jsonl.zst"),
        zstd::encode_all(&plain[..], 3).unwrap(),
    )
    .unwrap();
    let reference = dir.path().join("ref.jsonl");
    neardup()
        .current_dir(repo())
        .args(["clean", "-q", "data/news.jsonl", "-o"])
        .arg(&reference)
        .assert()
        .code(0);
    // Both copies of the corpus are cleaned together: every record of the
    // second copy repeats the first, so its texts empty out.
    let out = dir.path().join("out");
    neardup()
        .args(["clean", "-q", "--scope", "within", "-o"])
        .arg(&out)
        .arg(&inputs)
        .assert()
        .code(0);
    let reference = read(&reference);
    let within = dir.path().join("within.jsonl");
    neardup()
        .current_dir(repo())
        .args(["clean", "-q", "--scope", "within", "data/news.jsonl", "-o"])
        .arg(&within)
        .assert()
        .code(0);
    let within = read(&within);
    for (name, magic) in [
        ("a.jsonl.gz", &[0x1f, 0x8b][..]),
        ("b.jsonl.zst", &[0x28, 0xb5, 0x2f, 0xfd]),
    ] {
        let bytes = read(&out.join(name));
        assert!(bytes.starts_with(magic), "{name} keeps its compression");
        assert_eq!(unzip(&bytes), within, "{name}");
    }
    assert_ne!(reference, within);
    // The output name decides when it says otherwise.
    let named = dir.path().join("plain.jsonl");
    neardup()
        .args(["clean", "-q", "-o"])
        .arg(&named)
        .arg(inputs.join("a.jsonl.gz"))
        .assert()
        .code(0);
    assert_eq!(read(&named), reference);
}

#[test]
fn outputs_never_replace_inputs() {
    let dir = TempDir::new().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let text = "A paragraph that appears twice in this file.\nA paragraph that appears twice in this file.\n";
    let input = corpus.join("a.txt");
    std::fs::write(&input, text).unwrap();
    let refused = |args: &[&Path]| {
        let out = neardup().arg("clean").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("refusing to write"), "{stderr}");
        assert_eq!(read(&input), text.as_bytes(), "the input is untouched");
    };
    refused(&[&input, Path::new("-o"), &input]);
    refused(&[&input, Path::new("-o"), &corpus.join("../corpus/./a.txt")]);
    refused(&[&corpus, Path::new("-o"), &corpus]);
    refused(&[&corpus, Path::new("-o"), &corpus.join("cleaned")]);
    refused(&[&input, Path::new("-o"), &corpus.join("")]);
    refused(&[
        &input,
        Path::new("-o"),
        &dir.path().join("out.txt"),
        Path::new("--removed"),
        &input,
    ]);
    assert_eq!(
        std::fs::read_dir(&corpus).unwrap().count(),
        1,
        "nothing was written"
    );
}

/// Issue 18, item 6: a JSON Lines text is paragraphs joined by line
/// breaks, so removing the last (or the first) paragraph takes the line
/// break that joined it with it; only a text that ended with a line break
/// keeps one.
#[test]
fn removed_paragraphs_take_their_joining_line_break() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in.jsonl");
    const P: &str = "The council approved the harbour budget on Monday evening.";
    std::fs::write(
        &input,
        format!(
            concat!(
                "{{\"id\":\"a\",\"text\":\"{p}\"}}\n",
                "{{\"id\":\"last\",\"text\":\"Only this line stays in the record.\\n{p}\"}}\n",
                "{{\"id\":\"first\",\"text\":\"{p}\\nThis closing line stays in the record.\"}}\n",
                "{{\"id\":\"trailing\",\"text\":\"A line ending with a break stays so.\\n{p}\\n\"}}\n",
            ),
            p = P
        ),
    )
    .unwrap();
    let out = dir.path().join("out.jsonl");
    neardup()
        .args(["clean", "-q", "-o"])
        .arg(&out)
        .arg(&input)
        .assert()
        .code(0);
    assert_eq!(
        jsonl_texts(&out),
        [
            P,
            "Only this line stays in the record.",
            "This closing line stays in the record.",
            "A line ending with a break stays so.\n",
        ]
    );
}

#[test]
fn emptied_documents_stay_unless_dropped() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"id\":\"a\",\"text\":\"The mayor opened the new library on Saturday morning.\\nShe thanked the volunteers.\",\"n\":1}\n",
            "{\"id\":\"b\",\"text\":\"The mayor opened the new library on Saturday morning.\",\"n\":2}\n",
            "not json at all\n",
            "{\"id\":\"c\",\"text\":\"Nothing repeats here at all, not one word.\",\"n\":3}\n",
        ),
    )
    .unwrap();
    let out = dir.path().join("out.jsonl");
    let log = dir.path().join("log.jsonl");
    let run = |extra: &[&str]| {
        let assert = neardup()
            .args(["clean", "-o"])
            .arg(&out)
            .arg("--removed")
            .arg(&log)
            .args(extra)
            .arg(&input)
            .assert();
        // The malformed line is reported and copied through.
        assert
            .code(2)
            .stderr(predicates::str::contains("in.jsonl:3"));
        String::from_utf8(read(&out)).unwrap()
    };
    let kept = run(&[]);
    let lines: Vec<&str> = kept.lines().collect();
    assert_eq!(lines[1], "{\"id\":\"b\",\"text\":\"\",\"n\":2}");
    assert_eq!(lines[2], "not json at all");
    assert_eq!(lines.len(), 4);
    let dropped = run(&["--drop-empty"]);
    assert_eq!(dropped.lines().count(), 3);
    assert!(!dropped.contains("\"id\":\"b\""));
    let events: Vec<String> = log_lines(&log)
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["event"].as_str().unwrap(),
                l["doc"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(events, ["removed-paragraph b", "dropped-document b"]);
}

#[test]
fn standard_input_to_standard_output() {
    let text = "Line one of the story is here.\nA second line of the story.\nLine one of the story is here.\n";
    neardup()
        .args(["clean", "-q", "-o", "-"])
        .write_stdin(text)
        .assert()
        .code(0)
        .stdout("Line one of the story is here.\nA second line of the story.\n");
}

/// Where outputs go under `-o DIR`: one directory is mirrored into DIR;
/// several keep their own names (as `cp -r a b DIR`), so same-named shards
/// of two directories do not meet; two inputs that would still be written
/// to one path are refused before anything is written.
#[test]
fn output_paths_under_a_directory() {
    let dir = TempDir::new().unwrap();
    let a = "The harbour authority said the new ferry terminal would open in spring.";
    let b = "Residents have waited for a reliable crossing since the old pier closed.";
    for (path, text) in [
        ("2024-01/part-0.txt", format!("{a}\n{b}\n")),
        ("2024-02/part-0.txt", format!("{b}\n{a}\n{b}\n")),
        ("2024-02/deep/part-1.txt", format!("{a}\n")),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let run = |args: &[&str]| {
        let out = neardup()
            .current_dir(dir.path())
            .args(["clean", "-q"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let files = |root: &str| files_under(&dir.path().join(root));

    assert_eq!(run(&["2024-02", "-o", "one"]).0, Some(0));
    assert_eq!(files("one"), ["deep/part-1.txt", "part-0.txt"]);

    assert_eq!(run(&["2024-01", "2024-02/", "-o", "two"]).0, Some(0));
    assert_eq!(
        files("two"),
        [
            "2024-01/part-0.txt",
            "2024-02/deep/part-1.txt",
            "2024-02/part-0.txt"
        ]
    );
    assert_eq!(
        read(&dir.path().join("two/2024-01/part-0.txt")),
        format!("{a}\n{b}\n").as_bytes()
    );
    assert_eq!(read(&dir.path().join("two/2024-02/part-0.txt")), b"");

    let (code, err) = run(&["2024-01/part-0.txt", "2024-02/part-0.txt", "-o", "three"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "2024-01/part-0.txt and 2024-02/part-0.txt would both be written to three/part-0.txt"
        ),
        "{err}"
    );
    assert!(!dir.path().join("three").exists());

    // Issue 18, item 7: a directory and a file, as `cp -r news feed DIR`
    // puts them, each under its own name.
    assert_eq!(
        run(&["2024-02", "2024-01/part-0.txt", "-o", "mixed"]).0,
        Some(0)
    );
    assert_eq!(
        files("mixed"),
        [
            "2024-02/deep/part-1.txt",
            "2024-02/part-0.txt",
            "part-0.txt"
        ]
    );
    // Several inputs and an output named like a file: refused, nothing made.
    let (code, err) = run(&[
        "2024-01/part-0.txt",
        "2024-02/deep/part-1.txt",
        "-o",
        "both.txt",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("looks like a file name"), "{err}");
    assert!(!dir.path().join("both.txt").exists());
    assert_eq!(
        run(&[
            "2024-01/part-0.txt",
            "2024-02/deep/part-1.txt",
            "-o",
            "both.txt/"
        ])
        .0,
        Some(0)
    );
    assert_eq!(files("both.txt"), ["part-0.txt", "part-1.txt"]);
}
