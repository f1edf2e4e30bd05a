//! Integration tests of the persistent index (`neardup index ...` and
//! `scan --against`): the real binary on real files in a temporary
//! directory, real damage, a real second writer and real `kill -9`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{neardup, write};
use serde_json::Value;
use tempfile::TempDir;

/// Runs neardup with `args` in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    let out = neardup().current_dir(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A deterministic paragraph of `words` words from a small vocabulary, so
/// that distinct paragraphs rarely match but edited copies do.
fn paragraph(state: &mut u64, words: usize) -> String {
    const VOCAB: [&str; 24] = [
        "harbour", "council", "ferry", "storm", "minister", "island", "school", "budget", "road",
        "weather", "fishing", "court", "market", "river", "bridge", "police", "festival",
        "hospital", "train", "village", "election", "museum", "farmers", "coast",
    ];
    (0..words)
        .map(|_| {
            *state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            VOCAB[(*state >> 33) as usize % VOCAB.len()]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Days of news: each day's files hold new paragraphs, exact and edited
/// copies of earlier days' paragraphs and of the same day's.
fn days(dir: &Path, n_days: usize, files: usize, seed: u64) -> Vec<PathBuf> {
    let mut state = seed;
    let mut all: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for day in 0..n_days {
        let day_dir = dir.join(format!("day{day}"));
        for f in 0..files {
            let mut text = String::new();
            for _ in 0..8 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(7);
                let pick = (state >> 40) % 10;
                let line = if pick < 2 && !all.is_empty() {
                    all[(state >> 20) as usize % all.len()].clone()
                } else if pick < 4 && !all.is_empty() {
                    let old = &all[(state >> 20) as usize % all.len()];
                    let mut words: Vec<&str> = old.split(' ').collect();
                    let at = (state >> 10) as usize % words.len();
                    words[at] = "changed";
                    words.join(" ")
                } else {
                    let words = 12 + (state >> 50) as usize % 10;
                    paragraph(&mut state, words)
                };
                text.push_str(&line);
                text.push('\n');
                all.push(line);
            }
            write(&day_dir, &format!("{f:02}.txt"), text);
        }
        out.push(day_dir);
    }
    out
}

/// Every duplicate of a JSON report: its place -> the place it repeats,
/// with the similarity; a place is the path relative to `root` and line.
fn verdicts(report: &Value, root: &Path) -> BTreeMap<(String, u64), (String, u64, f64)> {
    let rel = |p: &str| {
        let p = Path::new(p);
        p.strip_prefix(root).unwrap_or(p).display().to_string()
    };
    let mut out = BTreeMap::new();
    for c in report["clusters"].as_array().unwrap() {
        let members = c["members"].as_array().unwrap();
        let kept = &members[0];
        for d in &members[1..] {
            out.insert(
                (
                    rel(d["path"].as_str().unwrap()),
                    d["line"].as_u64().unwrap(),
                ),
                (
                    rel(kept["path"].as_str().unwrap()),
                    kept["line"].as_u64().unwrap(),
                    d["similarity"].as_f64().unwrap(),
                ),
            );
        }
    }
    out
}

fn info(dir: &Path, index: &str) -> Value {
    let out = run(dir, &["index", "info", index, "--output-format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    json(&out)
}

/// Today's scrape repeats yesterday's paragraph with its last word changed: a
/// scan against the index reports it, naming yesterday's file, line and
/// batch.
#[test]
fn a_scan_against_the_index_names_the_earlier_paragraph() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let old = "The harbour board voted on Tuesday to rebuild the old north pier before winter.";
    write(d, "mon/a.txt", format!("Ferry services resumed.\n{old}\n"));
    // The last word changed: 10 of 12 shingles shared, J = 0.83.
    let new = old.replace("winter", "spring");
    write(
        d,
        "tue/b.txt",
        format!("A new paragraph of its own today.\n{new}\n"),
    );
    let out = run(
        d,
        &[
            "index", "create", "news.ndx", "mon", "--name", "monday", "-q",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(
        d,
        &[
            "scan",
            "tue",
            "--against",
            "news.ndx",
            "--output-format",
            "json",
        ],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report = json(&out);
    let members = &report["clusters"][0]["members"];
    assert_eq!(members[0]["path"], "mon/a.txt");
    assert_eq!(members[0]["line"], 2);
    assert_eq!(members[0]["batch"], "monday");
    assert_eq!(members[1]["path"], "tue/b.txt");
    assert_eq!(members[1]["line"], 2);
    assert!(members[1].get("batch").is_none());
    // The text report says where, and which batch.
    let out = run(
        d,
        &["scan", "tue", "--against", "news.ndx", "--color", "never"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mon/a.txt:2 [index batch monday]"), "{text}");
    // Without the index, today's batch has no duplicates.
    assert_eq!(code(&run(d, &["scan", "tue", "-q"])), 0);
    // Adding today keeps its two paragraphs but not the repeat.
    let out = run(
        d,
        &["index", "add", "news.ndx", "tue", "--name", "tuesday", "-q"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let info = info(d, "news.ndx");
    assert_eq!(info["paragraphs"], 3);
    let names: Vec<&str> = info["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["monday", "tuesday"]);
}

/// The equivalence that defines the index: `index create` of day 0, `index
/// add` of the days after, then `scan --against` of the last day gives the
/// last day's paragraphs the verdicts of one scan of every day; and the
/// segment files do not depend on the thread count.
#[test]
fn batches_against_the_index_equal_one_scan() {
    for seed in [1u64, 2, 3] {
        let tmp = TempDir::new().unwrap();
        let d = tmp.path();
        let days = days(d, 4, 3, seed);
        let names: Vec<String> = days
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let mut all = vec!["scan", "--output-format", "json"];
        all.extend(names.iter().map(String::as_str));
        let whole = verdicts(&json(&run(d, &all)), d);
        for threads in ["1", "2"] {
            let index = format!("j{threads}.ndx");
            let out = run(
                d,
                &["index", "create", &index, &names[0], "-q", "-j", threads],
            );
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            for name in &names[1..3] {
                let out = run(d, &["index", "add", &index, name, "-q", "-j", threads]);
                assert_eq!(code(&out), 0, "{}", stderr(&out));
            }
            let out = run(
                d,
                &[
                    "scan",
                    &names[3],
                    "--against",
                    &index,
                    "--output-format",
                    "json",
                    "-j",
                    threads,
                ],
            );
            let before = out.stdout.clone();
            let against = verdicts(&json(&out), d);
            let expect: BTreeMap<_, _> = whole
                .iter()
                .filter(|((path, _), _)| path.starts_with(&names[3]))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(
                !expect.is_empty(),
                "seed {seed}: the last day repeats nothing"
            );
            assert!(
                expect.values().any(|(p, _, _)| !p.starts_with(&names[3])),
                "seed {seed}: no repeat of an earlier day"
            );
            assert_eq!(against, expect, "seed {seed}, {threads} threads");
            // Compacting changes the files, not one byte of the report.
            let out = run(d, &["index", "compact", &index]);
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            let compacted = run(
                d,
                &[
                    "scan",
                    &names[3],
                    "--against",
                    &index,
                    "--output-format",
                    "json",
                    "-j",
                    threads,
                ],
            );
            assert_eq!(
                String::from_utf8_lossy(&compacted.stdout),
                String::from_utf8_lossy(&before),
                "seed {seed}: the report changed after compact"
            );
        }
        let segments = |index: &str| -> Vec<(String, Vec<u8>)> {
            let mut files: Vec<_> = std::fs::read_dir(d.join(index))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&p).unwrap())
                })
                .collect();
            files.sort();
            files
        };
        // Both indexes were compacted: still the same bytes (the old
        // segments are kept for rollback, so they are compared too).
        let (one, two) = (segments("j1.ndx"), segments("j2.ndx"));
        assert!(!one.is_empty());
        assert!(
            one == two,
            "seed {seed}: segment files differ between 1 and 2 threads"
        );
    }
}

/// Other detection settings than the index's are refused, naming the
/// setting; so are paths that are no index.
#[test]
fn other_settings_and_non_indexes_are_clear_errors() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(d, "a.txt", "one paragraph of several words here\n");
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "a.txt", "-q"])),
        0
    );
    let out = run(
        d,
        &["scan", "a.txt", "--against", "i.ndx", "--shingle-size", "3"],
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("shingle_size=5"), "{}", stderr(&out));
    let out = run(
        d,
        &[
            "index",
            "add",
            "i.ndx",
            "a.txt",
            "--threshold",
            "0.9",
            "--force",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("threshold=8/10"), "{}", stderr(&out));
    // A file, an empty directory, a missing path.
    for bad in ["a.txt", "empty", "missing"] {
        std::fs::create_dir_all(d.join("empty")).unwrap();
        let out = run(d, &["scan", "a.txt", "--against", bad]);
        assert_eq!(code(&out), 2, "{bad}");
        assert!(stderr(&out).contains(bad), "{bad}: {}", stderr(&out));
    }
    // An existing index is not created again.
    let out = run(d, &["index", "create", "i.ndx", "a.txt"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("i.ndx"), "{}", stderr(&out));
}

/// An index is made with the fewest bands that keep the guarantee at its
/// threshold, and every run against it (`index add`, `scan`, `check`,
/// `explain`, `clean --add`, the fingerprint stage) takes its settings for
/// those it is not given: an index made at 0.7 with 3-word shingles needs
/// no flag to be used, and a setting given that differs from it (a flag,
/// or a key of `neardup.toml`) is refused, naming it.
#[test]
fn runs_against_an_index_take_its_settings() {
    use neardup::lsh::LshParams;

    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let day = days(d, 3, 3, 11);
    let [d0, d1, d2] = [0, 1, 2].map(|i| day[i].to_str().unwrap().to_owned());
    let banding = |index: &str| {
        let s = info(d, index)["settings"].clone();
        let n = |k: &str| s[k].as_str().unwrap().parse::<usize>().unwrap();
        (n("bands"), n("rows"))
    };
    assert_eq!(code(&run(d, &["index", "create", "-q", "i8.ndx", &d0])), 0);
    assert_eq!(banding("i8.ndx"), (18, 5));
    let made = [
        "index",
        "create",
        "-q",
        "i7.ndx",
        "--threshold",
        "0.7",
        "--shingle-size",
        "3",
        &d0,
    ];
    assert_eq!(code(&run(d, &made)), 0);
    let want = LshParams::for_index("0.7".parse().unwrap(), 128).unwrap();
    assert_eq!(banding("i7.ndx"), (want.bands(), want.rows()));
    assert!(
        want.bands()
            < LshParams::for_threshold("0.7".parse().unwrap(), 128)
                .unwrap()
                .bands()
    );

    let out = run(d, &["index", "add", "-q", "i7.ndx", &d1]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let scan = |extra: &[&str]| {
        let args = [
            &[
                "scan",
                &d2,
                "--against",
                "i7.ndx",
                "--output-format",
                "json",
            ],
            extra,
        ];
        run(d, &args.concat())
    };
    let plain = scan(&[]);
    assert_eq!(code(&plain), 1, "{}", stderr(&plain));
    let report = json(&plain);
    let settings = &report["settings"];
    assert_eq!(settings["threshold"], 0.7);
    assert_eq!(settings["shingle_size"], 3);
    assert_eq!(settings["bands"], want.bands());
    assert!(!verdicts(&report, d).is_empty());
    let (bands, rows) = (want.bands().to_string(), want.rows().to_string());
    let explicit = [
        "--threshold",
        "0.7",
        "--shingle-size",
        "3",
        "--bands",
        &bands,
        "--rows",
        &rows,
    ];
    assert_eq!(json(&scan(&explicit)), report);

    let out = run(d, &["check", &d2, "--against", "i7.ndx", "-q"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let first = format!("{d2}/00.txt:1");
    let out = run(d, &["explain", &first, "--against", "i7.ndx"]);
    assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
    let fingerprint = [
        "stage",
        "fingerprint",
        &d2,
        "--shard",
        "0",
        "--of",
        "1",
        "--dir",
        "st",
        "--against",
        "i7.ndx",
        "-q",
    ];
    assert_eq!(code(&run(d, &fingerprint)), 0);
    let last = run(
        d,
        &[
            "scan",
            &d2,
            "--stage-dir",
            "st",
            "--against",
            "i7.ndx",
            "--output-format",
            "json",
        ],
    );
    assert_eq!(json(&last), report, "{}", stderr(&last));

    // A setting given that differs is refused, from a flag or the file.
    let out = scan(&["--threshold", "0.8"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("threshold=7/10"), "{}", stderr(&out));
    write(d, "neardup.toml", "shingle-size = 5\n");
    let out = scan(&[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("shingle_size=3"), "{}", stderr(&out));
    std::fs::remove_file(d.join("neardup.toml")).unwrap();

    let clean = [
        "clean",
        &d2,
        "--against",
        "i7.ndx",
        "--add",
        "--name",
        "day2",
        "-o",
        "out",
        "-q",
    ];
    let out = run(d, &clean);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(info(d, "i7.ndx")["batches"].as_array().unwrap().len(), 3);
}

/// `index compact --bands B --rows R` gives an index made with a scan's
/// banding an index's, from the tokens it holds: then it is smaller, and
/// (these days keep the same paragraphs with either banding) a scan
/// against it reports what one against an index made with that banding
/// reports.
#[test]
fn compact_gives_an_index_another_banding() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let day = days(d, 3, 3, 29);
    let [d0, d1, d2] = [0, 1, 2].map(|i| day[i].to_str().unwrap().to_owned());
    let ok = |args: &[&str]| {
        let out = run(d, args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    };
    // Named batches, so that the reports compare.
    let (day0, day1) = (["--name", "day0", &d0], ["--name", "day1", &d1]);
    let wide = [
        "index", "create", "-q", "--bands", "25", "--rows", "5", "wide.ndx",
    ];
    ok(&[&wide[..], &day0].concat());
    ok(&[&["index", "add", "-q", "wide.ndx"][..], &day1].concat());
    ok(&[&["index", "create", "-q", "fresh.ndx"][..], &day0].concat());
    ok(&[&["index", "add", "-q", "fresh.ndx"][..], &day1].concat());
    let bytes = |index: &str| info(d, index)["bytes"].as_u64().unwrap();
    let before = bytes("wide.ndx");
    ok(&[
        "index", "compact", "-q", "wide.ndx", "--bands", "18", "--rows", "5",
    ]);
    assert_eq!(info(d, "wide.ndx")["settings"]["bands"], "18");
    assert!(bytes("wide.ndx") < before);
    ok(&["index", "verify", "wide.ndx"]);
    let report = |index: &str| {
        let out = run(
            d,
            &["scan", &d2, "--against", index, "--output-format", "json"],
        );
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        json(&out)
    };
    let rebanded = report("wide.ndx");
    assert!(!verdicts(&rebanded, d).is_empty());
    assert_eq!(rebanded, report("fresh.ndx"));
    // Both or neither.
    let out = run(d, &["index", "compact", "wide.ndx", "--bands", "20"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--rows"), "{}", stderr(&out));
}

/// A batch with the inputs of an earlier one is refused; with `--force` it
/// is added and stores nothing twice.
#[test]
fn the_same_batch_twice_is_refused_unless_forced() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(
        d,
        "a/x.txt",
        "the first paragraph of the batch is here\nand a second one, also long\n",
    );
    write(
        d,
        "b/renamed.txt",
        "the first paragraph of the batch is here\nand a second one, also long\n",
    );
    assert_eq!(code(&run(d, &["index", "create", "i.ndx", "a", "-q"])), 0);
    let out = run(d, &["index", "add", "i.ndx", "b", "-q"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = run(d, &["index", "add", "i.ndx", "b", "-q", "--force"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let info = info(d, "i.ndx");
    assert_eq!(info["paragraphs"], 2);
    assert_eq!(info["batches"].as_array().unwrap().len(), 2);
}

/// Damage is found and named: `index verify` names the damaged file, and
/// a missing segment stops every open.
#[test]
fn damaged_and_missing_segments_are_named() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    days(d, 1, 4, 9);
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "day0", "-q"])),
        0
    );
    let out = run(d, &["index", "verify", "i.ndx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let segment = std::fs::read_dir(d.join("i.ndx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .expect("a segment");
    let name = segment.file_name().unwrap().to_string_lossy().into_owned();
    let good = std::fs::read(&segment).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x40;
    std::fs::write(&segment, &bad).unwrap();
    let out = run(d, &["index", "verify", "i.ndx"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains(&name), "{}", stderr(&out));
    std::fs::remove_file(&segment).unwrap();
    for args in [
        &["index", "verify", "i.ndx"][..],
        &["scan", "day0", "--against", "i.ndx"][..],
    ] {
        let out = run(d, args);
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains(&name), "{args:?}: {}", stderr(&out));
    }
}

/// One writer at a time: while another process holds the lock, `index
/// add` fails at once with an error saying so.
#[test]
fn a_second_writer_gets_an_error_not_a_wait() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(d, "a.txt", "one paragraph of several words here\n");
    write(d, "b.txt", "another paragraph with other words in it\n");
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "a.txt", "-q"])),
        0
    );
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(d.join("i.ndx/LOCK"))
        .unwrap();
    lock.try_lock().unwrap();
    let out = run(d, &["index", "add", "i.ndx", "b.txt"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("LOCK"), "{}", stderr(&out));
    // Readers are not writers: a scan against it still runs.
    assert_eq!(
        code(&run(d, &["scan", "b.txt", "--against", "i.ndx", "-q"])),
        0
    );
    drop(lock);
    assert_eq!(code(&run(d, &["index", "add", "i.ndx", "b.txt", "-q"])), 0);
}

/// `index rollback` returns to the batches before the last add.
#[test]
fn rollback_undoes_the_last_add() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    days(d, 2, 2, 5);
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "day0", "-q"])),
        0
    );
    let before = info(d, "i.ndx");
    assert_eq!(code(&run(d, &["index", "add", "i.ndx", "day1", "-q"])), 0);
    assert_ne!(info(d, "i.ndx")["paragraphs"], before["paragraphs"]);
    assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
    let after = info(d, "i.ndx");
    assert_eq!(after["paragraphs"], before["paragraphs"]);
    assert_eq!(after["batches"], before["batches"]);
    assert_eq!(code(&run(d, &["index", "verify", "i.ndx"])), 0);
    // The day can be added again after the rollback.
    assert_eq!(code(&run(d, &["index", "add", "i.ndx", "day1", "-q"])), 0);
}

/// `kill -9` at many points of an `index add`: the index opens afterwards
/// at the old generation or the new one, whole, and verifies.
#[test]
fn kill_9_during_an_add_leaves_the_old_or_the_new_index() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    days(d, 1, 2, 11);
    // A batch big enough that an add takes a while in a debug build.
    let mut state = 77u64;
    let mut big = String::new();
    for _ in 0..10_000 {
        big.push_str(&paragraph(&mut state, 15));
        big.push('\n');
    }
    write(d, "big/big.txt", big);
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "day0", "-q"])),
        0
    );
    let old = info(d, "i.ndx")["paragraphs"].as_u64().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("neardup");
    // Time a whole add first (then undo it), to spread the kills over it
    // and well past its end (other tests share the cores, so an add may
    // run slower than the timed one), where the files are synced and
    // renamed.
    let start = std::time::Instant::now();
    assert_eq!(code(&run(d, &["index", "add", "i.ndx", "big", "-q"])), 0);
    let whole = start.elapsed();
    let new = info(d, "i.ndx")["paragraphs"].as_u64().unwrap();
    assert!(new > old);
    assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
    let points = 20u32;
    let mut outcomes = [0, 0];
    for i in 0..points {
        let mut child = std::process::Command::new(&bin)
            .current_dir(d)
            .args(["index", "add", "i.ndx", "big", "-q"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole * 3 * i / points);
        // SIGKILL: no handler runs, nothing is cleaned up.
        let _ = child.kill();
        child.wait().unwrap();
        let now = info(d, "i.ndx")["paragraphs"].as_u64().unwrap();
        assert!(
            now == old || now == new,
            "after a kill at {i}/{points}: {now} paragraphs, neither {old} nor {new}"
        );
        let out = run(d, &["index", "verify", "i.ndx"]);
        assert_eq!(
            code(&out),
            0,
            "after a kill at {i}/{points}: {}",
            stderr(&out)
        );
        outcomes[usize::from(now == new)] += 1;
        if now == new {
            // Added: go back, so that the next kill meets the same start.
            assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
        }
    }
    eprintln!(
        "kills: {} left the old index, {} the new one",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    // A writer killed anywhere left no lock behind.
    let out = run(d, &["index", "add", "i.ndx", "big", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// `clean NEW --against INDEX --add`, day after day, writes what one
/// `clean` of every day writes for each new day, and the index grows by
/// each day's kept paragraphs.
#[test]
fn clean_against_the_index_with_add_equals_one_clean_of_every_day() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let days = days(d, 3, 2, 5);
    let names: Vec<String> = days
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut all = vec!["clean", "-o", "all", "-q"];
    all.extend(names.iter().map(String::as_str));
    assert_eq!(code(&run(d, &all)), 0);
    let out = run(
        d,
        &[
            "index", "create", "i.ndx", &names[0], "--name", &names[0], "-q",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut removed_against_index = 0;
    for (n, name) in names.iter().enumerate().skip(1) {
        let dest = format!("out{n}");
        let out = run(
            d,
            &[
                "clean",
                name,
                "--against",
                "i.ndx",
                "--add",
                "--name",
                name,
                "-o",
                &dest,
                "--removed",
                &format!("removed{n}.jsonl"),
            ],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(stderr(&out).contains(&format!("added batch {name:?}")));
        for f in std::fs::read_dir(d.join(name)).unwrap() {
            let file = f.unwrap().file_name();
            // One input directory: its files are written into `dest`.
            let got = std::fs::read(d.join(&dest).join(&file)).unwrap();
            let want = std::fs::read(d.join("all").join(name).join(&file)).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{name}/{file:?}"
            );
        }
        let log = std::fs::read_to_string(d.join(format!("removed{n}.jsonl"))).unwrap();
        removed_against_index += log.lines().filter(|l| l.contains("\"batch\"")).count();
    }
    assert!(
        removed_against_index > 0,
        "no paragraph was removed as a repeat of an earlier day"
    );
    let info = info(d, "i.ndx");
    let batches: Vec<&str> = info["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(batches, ["day0", "day1", "day2"]);
    // Without --add the index is only read.
    let before = info["generation"].clone();
    let out = run(
        d,
        &[
            "clean",
            &names[2],
            "--against",
            "i.ndx",
            "-o",
            "again",
            "-q",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(self::info(d, "i.ndx")["generation"], before);
}

/// A batch with a malformed record is cleaned (the record copied through)
/// but not added: the index is unchanged, and the exit status says so;
/// with `--skip-bad-records` it is added.
#[test]
fn clean_add_leaves_the_index_unchanged_when_the_batch_has_errors() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(
        d,
        "old.jsonl",
        "{\"text\": \"the council approved the new harbour budget on monday night\"}\n",
    );
    write(
        d,
        "new/b.jsonl",
        "{\"text\": \"the council approved the new harbour budget on monday night\"}\n\
         {\"text\": \"a paragraph of today that nobody has printed before now\"}\n\
         not json\n",
    );
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "old.jsonl", "-q"])),
        0
    );
    let before = info(d, "i.ndx");
    let out = run(
        d,
        &["clean", "new", "--against", "i.ndx", "--add", "-o", "out"],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the batch was not added"),
        "{}",
        stderr(&out)
    );
    assert_eq!(info(d, "i.ndx"), before);
    // The output was written all the same: the repeat removed, the bad
    // line copied through.
    let cleaned = std::fs::read_to_string(d.join("out/b.jsonl")).unwrap();
    assert!(!cleaned.contains("harbour"), "{cleaned}");
    assert!(cleaned.contains("not json"), "{cleaned}");
    let out = run(
        d,
        &[
            "clean",
            "new",
            "--against",
            "i.ndx",
            "--add",
            "-o",
            "out",
            "--skip-bad-records",
            "-q",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let after = info(d, "i.ndx");
    assert_eq!(after["paragraphs"], 2);
    // No leftover segment files of the refused attempt.
    let segments = std::fs::read_dir(d.join("i.ndx"))
        .unwrap()
        .filter(|e| {
            let e = e.as_ref().unwrap();
            e.file_name().to_string_lossy().starts_with("seg-")
        })
        .count();
    assert_eq!(segments as u64, after["segments"].as_u64().unwrap());
}

/// `check --against` fails on a repeat of the published corpus, and every
/// format names the old paragraph and its batch.
#[test]
fn check_against_the_index_names_the_old_paragraph_in_every_format() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let old = "The harbour board voted on Tuesday to rebuild the old north pier before winter.";
    write(
        d,
        "published/a.txt",
        format!("Ferry services resumed.\n{old}\n"),
    );
    write(
        d,
        "draft/b.txt",
        format!("Something new today, in full.\n{old}\n"),
    );
    let out = run(
        d,
        &[
            "index",
            "create",
            "pub.ndx",
            "published",
            "--name",
            "v1",
            "-q",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&run(d, &["check", "draft", "-q"])), 0);
    for format in ["text", "json", "github", "sarif", "junit"] {
        let out = run(
            d,
            &[
                "check",
                "draft",
                "--against",
                "pub.ndx",
                "--output-format",
                format,
                "--color",
                "never",
            ],
        );
        assert_eq!(code(&out), 1, "{format}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("published/a.txt"), "{format}: {text}");
        assert!(text.contains("v1"), "{format}: {text}");
    }
    // The same from neardup.toml.
    write(
        d,
        "neardup.toml",
        "paths = [\"draft\"]\nagainst = \"pub.ndx\"\n",
    );
    let out = run(d, &["check", "--output-format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"batch\": \"v1\""), "{text}");
}

/// `rollback` undoes a compaction too: the old segments are still there.
#[test]
fn rollback_undoes_a_compaction() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    days(d, 3, 2, 9);
    assert_eq!(
        code(&run(d, &["index", "create", "i.ndx", "day0", "-q"])),
        0
    );
    for day in ["day1", "day2"] {
        assert_eq!(code(&run(d, &["index", "add", "i.ndx", day, "-q"])), 0);
    }
    let before = info(d, "i.ndx");
    assert_eq!(before["segments"], 3);
    let out = run(d, &["index", "compact", "i.ndx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let after = info(d, "i.ndx");
    assert_eq!(after["segments"], 1);
    assert_eq!(after["paragraphs"], before["paragraphs"]);
    assert_eq!(after["batches"], before["batches"]);
    assert_eq!(code(&run(d, &["index", "verify", "i.ndx"])), 0);
    // One segment of the current version: nothing to rewrite, and no new
    // generation to roll back.
    let again = run(d, &["index", "compact", "i.ndx"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already compact"),
        "{}",
        stderr(&again)
    );
    assert_eq!(info(d, "i.ndx")["generation"], after["generation"]);
    assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
    let back = info(d, "i.ndx");
    assert_eq!(back["segments"], 3);
    assert_eq!(back["batches"], before["batches"]);
}

/// `kill -9` at many points of an `index compact`: the index opens
/// afterwards, before or after the compaction, whole, and a scan against
/// it reports exactly what it reported before.
#[test]
fn kill_9_during_a_compact_leaves_the_old_or_the_new_index() {
    kill_9_during(&["index", "compact", "i.ndx"]);
}

/// `kill -9` at many points of an `index drop`: the index opens
/// afterwards, with the batch or without it, whole, and a scan against it
/// reports what it reported before the drop or after a whole one.
#[test]
fn kill_9_during_a_drop_leaves_the_old_or_the_new_index() {
    kill_9_during(&["index", "drop", "i.ndx", "day1"]);
}

/// Kills `action` (a compact or a drop of an index of days 0 to 2) at
/// many points; after each the index is the old one or the new one,
/// whole, and a scan of day 3 against it gives that one's report.
fn kill_9_during(action: &[&str]) {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut state = 91u64;
    for day in 0..4 {
        let mut text = String::new();
        for i in 0..2_500 {
            // Day 3 repeats every day before it.
            if day == 3 && i % 3 == 0 {
                let old = std::fs::read_to_string(d.join(format!("day{}/news.txt", i % 9 / 3)));
                text.push_str(old.unwrap().lines().nth(i).unwrap());
            } else {
                text.push_str(&paragraph(&mut state, 15));
            }
            text.push('\n');
        }
        write(d, &format!("day{day}/news.txt"), text);
    }
    assert_eq!(
        code(&run(
            d,
            &["index", "create", "i.ndx", "day0", "-q", "--name", "day0"]
        )),
        0
    );
    for day in ["day1", "day2"] {
        assert_eq!(
            code(&run(
                d,
                &["index", "add", "i.ndx", day, "-q", "--name", day]
            )),
            0
        );
    }
    let query = || {
        let out = run(
            d,
            &[
                "scan",
                "day3",
                "--against",
                "i.ndx",
                "--output-format",
                "json",
            ],
        );
        assert_eq!(code(&out) & !1, 0, "{}", stderr(&out));
        out.stdout
    };
    let state = || {
        let info = info(d, "i.ndx");
        (
            info["segments"].as_u64().unwrap(),
            info["batches"].as_array().unwrap().len(),
        )
    };
    let old = (state(), query());
    let bin = assert_cmd::cargo::cargo_bin("neardup");
    let start = std::time::Instant::now();
    assert_eq!(code(&run(d, action)), 0);
    let whole = start.elapsed();
    let new = (state(), query());
    assert_ne!(old.0, new.0);
    // A compaction changes no report; a drop changes day 3's repeats of
    // day 1.
    assert_eq!(old.1 == new.1, action[1] == "compact");
    assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
    let points = 12u32;
    let mut outcomes = [0, 0];
    for i in 0..points {
        let mut child = std::process::Command::new(&bin)
            .current_dir(d)
            .args(action)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole * 3 * i / points);
        let _ = child.kill();
        child.wait().unwrap();
        let now = state();
        assert!(
            now == old.0 || now == new.0,
            "after a kill at {i}/{points}: {now:?} (segments, batches)"
        );
        let out = run(d, &["index", "verify", "i.ndx"]);
        assert_eq!(
            code(&out),
            0,
            "after a kill at {i}/{points}: {}",
            stderr(&out)
        );
        let expected = if now == old.0 { &old.1 } else { &new.1 };
        assert!(
            query() == *expected,
            "after a kill at {i}/{points}: the report is neither the old nor the new one"
        );
        outcomes[usize::from(now == new.0)] += 1;
        if now == new.0 {
            assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
        }
    }
    eprintln!(
        "kills: {} left the old index, {} the new one",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

/// A disk that fills up during an add: exit 2 with the reason, and the
/// index as it was; the next add clears what the failed one left.
#[cfg(unix)]
#[test]
fn a_full_disk_during_an_add_leaves_the_index_as_it_was() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let disk = common::SmallDisk::new(d.join("disk"), 256);
    write(
        d,
        "small/a.txt",
        "the first paragraph of the small batch is here\nand a second one, also long\n",
    );
    let mut state = 5u64;
    let mut big = String::new();
    for _ in 0..5_000 {
        big.push_str(&paragraph(&mut state, 15));
        big.push('\n');
    }
    write(d, "big/b.txt", big);
    let index = "disk/i.ndx";
    let out = disk.run(d, &["index", "create", index, "small", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let before = info(d, index);
    let out = disk.run(d, &["index", "add", index, "big", "-q"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    // The disk fills with the scan's scratch file or with a segment.
    assert!(
        err.contains("writing index segment seg-")
            || err.contains("writing the scan's scratch file in disk/i.ndx"),
        "{err}"
    );
    assert!(
        err.contains("No space left on device") || err.contains("File too large"),
        "{err}"
    );
    assert_eq!(info(d, index), before);
    assert_eq!(code(&run(d, &["index", "verify", index])), 0);
    write(
        d,
        "small2/c.txt",
        "another small paragraph of several words\n",
    );
    let out = disk.run(d, &["index", "add", index, "small2", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(info(d, index)["batches"].as_array().unwrap().len(), 2);
}

/// `explain A --against INDEX` shows the indexed paragraph a scan would
/// report: with its text and the word diff while its file is there, from
/// the stored token hashes (with the same numbers) once it is gone.
#[test]
fn explain_against_the_index_shows_the_old_paragraph_or_its_numbers() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let old = "The harbour board voted on Tuesday to rebuild the old north pier before winter.";
    write(d, "mon/a.txt", format!("Ferry services resumed.\n{old}\n"));
    let new = old.replace("winter", "spring");
    write(
        d,
        "tue/b.txt",
        format!("Nothing like it was printed.\n{new}\n"),
    );
    let out = run(
        d,
        &["index", "create", "i.ndx", "mon", "--name", "monday", "-q"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let explain = || {
        run(
            d,
            &[
                "explain",
                "tue/b.txt:2",
                "--against",
                "i.ndx",
                "--color",
                "never",
            ],
        )
    };
    let out = explain();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let with_text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        with_text.contains("B  mon/a.txt:2 [index batch monday, row 1]"),
        "{with_text}"
    );
    assert!(with_text.contains("[-spring.-] {+winter.+}"), "{with_text}");
    let numbers = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("exact Jaccard") || l.starts_with("estimated Jaccard"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(numbers(&with_text).len(), 2, "{with_text}");
    std::fs::remove_dir_all(d.join("mon")).unwrap();
    let out = explain();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let blind = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(blind.contains("its text is not at hand"), "{blind}");
    assert!(!blind.contains("word diff"), "{blind}");
    assert_eq!(numbers(&blind), numbers(&with_text));
    // A paragraph no indexed paragraph shares a band with.
    let out = run(
        d,
        &[
            "explain",
            "tue/b.txt:1",
            "--against",
            "i.ndx",
            "--color",
            "never",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shares a band with A"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// What the index stores of a kept paragraph comes from the first pass
/// (its tokens and place are written down as the batch is read), what a
/// one-shot scan reports comes from reading the paragraph again: the two
/// must name the same place. When a second day repeats every paragraph of
/// the first, each kept paragraph of the first day is named in a finding
/// either way: by a scan of both days, and by a scan of the second against
/// an index of the first. Every input format, and a text file of several
/// blocks.
#[test]
fn the_index_names_every_kept_paragraph_where_a_scan_does() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let data = common::repo().join("data");
    let mut state = 11u64;
    let mut long = String::new();
    while long.len() < 3 << 20 {
        long.push_str(&paragraph(&mut state, 12));
        long.push_str(if state.is_multiple_of(5) {
            "\n\n"
        } else {
            "\n"
        });
    }
    for day in ["mon", "tue"] {
        for name in ["news.jsonl", "news.warc.wet.gz", "news.parquet"] {
            let bytes = std::fs::read(data.join(name)).unwrap();
            write(d, &format!("{day}/{name}"), bytes);
        }
        for e in std::fs::read_dir(data.join("news")).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            write(d, &format!("{day}/news/{name}"), std::fs::read(&p).unwrap());
        }
        write(d, &format!("{day}/long.txt"), &long);
    }
    // The kept members of every cluster, as (path, doc, paragraph, line,
    // start, end).
    let kept = |out: &Output| -> Vec<String> {
        assert_eq!(code(out), 1, "{}", stderr(out));
        let report = json(out);
        let mut kept: Vec<String> = report["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let m = &c["members"][0];
                format!(
                    "{} {} {} {} {} {}",
                    m["path"], m["doc"], m["paragraph"], m["line"], m["start"], m["end"]
                )
            })
            .collect();
        kept.sort();
        kept
    };
    let one = kept(&run(d, &["scan", "mon", "tue", "--output-format", "json"]));
    let out = run(d, &["index", "create", "i.ndx", "mon", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let against = kept(&run(
        d,
        &[
            "scan",
            "tue",
            "--against",
            "i.ndx",
            "--output-format",
            "json",
        ],
    ));
    assert!(one.len() > 1000, "{} clusters", one.len());
    assert!(one.iter().all(|k| k.starts_with("\"mon/")), "{one:?}");
    assert_eq!(one, against);
    // The scratch file is gone.
    let left: Vec<String> = std::fs::read_dir(d.join("i.ndx"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Indexes earlier releases wrote (segment versions 1 and 2, whole
/// numbers, 3, packed without variants, 4, packed with a u32 per bucket,
/// and 5, whose variants name their kept paragraphs' rows; checked in
/// under `tests/fixtures`: `data/news/01..04` as batch
/// `day1`, `05..08` as `day2`, all but the first with containment
/// fingerprints for 25 words) still open, verify and answer exactly as an index this version
/// makes of the same inputs; `index compact` rewrites them in this
/// version's layout, smaller (two segments become one), with the same
/// answers; `index drop` of `day1` leaves the answers of this version's
/// index without `day1`.
#[test]
fn indexes_of_earlier_segment_versions_still_open() {
    let root = common::repo();
    let news: Vec<String> = (1..=8)
        .map(|i| {
            let prefix = format!("0{i}-");
            let name = std::fs::read_dir(root.join("data/news"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with(&prefix))
                .unwrap();
            format!("data/news/{name}")
        })
        .collect();
    for (fixture, words, version) in [
        ("index-v1.ndx", None, 1),
        ("index-v2.ndx", Some("25"), 2),
        ("index-v3.ndx", Some("25"), 3),
        ("index-v4.ndx", Some("25"), 4),
        ("index-v5.ndx", Some("25"), 5),
    ] {
        // The fixtures are of the version they stand for: `META` is each
        // segment's first section, its first field the segment version.
        let dir = root.join("tests/fixtures").join(fixture);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seg-")
            {
                assert_eq!(
                    common::read(&path)[32..36],
                    [version, 0, 0, 0],
                    "{}",
                    path.display()
                );
            }
        }
        let tmp = TempDir::new().unwrap();
        let old = tmp.path().join("old.ndx");
        common::copy_dir(&root.join("tests/fixtures").join(fixture), &old);
        let old = old.to_str().unwrap().to_owned();
        let fresh = tmp.path().join("fresh.ndx").to_str().unwrap().to_owned();
        // The banding the fixtures were made with (before an index took
        // the fewest bands by default), so that the reports compare.
        let mut create = vec![
            "index", "create", "-q", "--name", "day1", "--bands", "25", "--rows", "5", &fresh,
        ];
        if let Some(w) = words {
            create.extend(["--containment-words", w]);
        }
        create.extend(news[..4].iter().map(String::as_str));
        assert_eq!(code(&run(&root, &create)), 0);
        let mut add = vec!["index", "add", "-q", "--name", "day2", &fresh];
        add.extend(news[4..].iter().map(String::as_str));
        assert_eq!(code(&run(&root, &add)), 0);
        // A quote of 30 words of day1's longest paragraph, for containment.
        let longest = std::fs::read_to_string(root.join(&news[0]))
            .unwrap()
            .lines()
            .max_by_key(|l| l.split_whitespace().count())
            .unwrap()
            .to_owned();
        let words30: Vec<&str> = longest.split_whitespace().take(30).collect();
        assert_eq!(words30.len(), 30);
        let quote = write(tmp.path(), "quote.txt", words30.join(" ") + "\n");
        let scan = |index: &str| {
            let mut args = vec![
                "scan",
                "data/news.jsonl",
                quote.to_str().unwrap(),
                "--against",
                index,
                "--output-format",
                "json",
            ];
            if words.is_some() {
                args.push("--containment");
            }
            let out = run(&root, &args);
            assert_eq!(code(&out), 1, "{fixture}: {}", stderr(&out));
            let mut v = json(&out);
            v.as_object_mut().unwrap().remove("tool");
            v
        };
        let want = scan(&fresh);
        let batches: Vec<&str> = want["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["members"][0]["batch"].as_str())
            .collect();
        assert!(
            batches.contains(&"day1") && batches.contains(&"day2"),
            "{fixture}: {batches:?}"
        );
        if words.is_some() {
            assert!(
                !want["contained"].as_array().unwrap().is_empty(),
                "{fixture}"
            );
        }
        assert_eq!(scan(&old), want, "{fixture}");
        let verify = run(&root, &["index", "verify", &old]);
        assert_eq!(code(&verify), 0, "{fixture}: {}", stderr(&verify));
        let size = |index: &str| {
            let out = run(&root, &["index", "info", "--output-format", "json", index]);
            json(&out)["bytes"].as_u64().unwrap()
        };
        // `index info` lists each segment file with its version, its bytes
        // and rows adding up to the index's, and says when compact would
        // rewrite old ones.
        let files = |index: &str| -> Vec<(u64, u64, u64)> {
            let info = info(&root, index);
            let files: Vec<(u64, u64, u64)> = (info["segment_files"].as_array().unwrap().iter())
                .map(|f| {
                    let n = |k: &str| f[k].as_u64().unwrap();
                    (n("version"), n("bytes"), n("rows"))
                })
                .collect();
            assert_eq!(files.len() as u64, info["segments"].as_u64().unwrap());
            assert_eq!(
                files.iter().map(|f| f.1).sum::<u64>(),
                info["bytes"].as_u64().unwrap()
            );
            let rows = info["paragraphs"].as_u64().unwrap() + info["variants"].as_u64().unwrap();
            assert_eq!(files.iter().map(|f| f.2).sum::<u64>(), rows);
            files
        };
        assert!(
            files(&old).iter().all(|f| f.0 == u64::from(version)),
            "{fixture}"
        );
        assert!(files(&fresh).iter().all(|f| f.0 == 6), "{fixture}");
        let text = run(&root, &["index", "info", &old]);
        assert!(
            String::from_utf8_lossy(&text.stdout)
                .contains("of an earlier segment version (`neardup index compact` rewrites"),
            "{fixture}: {}",
            String::from_utf8_lossy(&text.stdout)
        );
        let before = size(&old);
        let compact = run(&root, &["index", "compact", &old]);
        assert_eq!(code(&compact), 0, "{fixture}: {}", stderr(&compact));
        assert!(size(&old) < before, "{fixture}: {} >= {before}", size(&old));
        assert!(files(&old).iter().all(|f| f.0 == 6), "{fixture}: compacted");
        let text = run(&root, &["index", "info", &old]);
        assert!(!String::from_utf8_lossy(&text.stdout).contains("compact` rewrites"));
        assert_eq!(scan(&old), want, "{fixture}: compacted");
        assert_eq!(code(&run(&root, &["index", "verify", &old])), 0);
        // An old index loses a batch as a new one does.
        let (dropped, fresh_dropped) = (
            run(&root, &["index", "drop", &old, "day1"]),
            run(&root, &["index", "drop", &fresh, "day1"]),
        );
        assert_eq!(code(&dropped), 0, "{fixture}: {}", stderr(&dropped));
        assert_eq!(
            code(&fresh_dropped),
            0,
            "{fixture}: {}",
            stderr(&fresh_dropped)
        );
        assert_eq!(code(&run(&root, &["index", "verify", &old])), 0);
        assert_eq!(scan(&old), scan(&fresh), "{fixture}: day1 dropped");
    }
}

/// A day of news from one vocabulary (each word with `suffix`): new
/// paragraphs, and exact and edited copies of `pool`'s (the earlier days
/// of that vocabulary and its own), in 3 files of 12 paragraphs.
fn vocabulary_day(d: &Path, day: &str, suffix: &str, pool: &mut Vec<String>, state: &mut u64) {
    for f in 0..3 {
        let mut text = String::new();
        for _ in 0..12 {
            *state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(11);
            let pick = (*state >> 40) % 10;
            let line = if pick < 2 && !pool.is_empty() {
                pool[(*state >> 20) as usize % pool.len()].clone()
            } else if pick < 5 && !pool.is_empty() {
                let old = &pool[(*state >> 20) as usize % pool.len()];
                let mut words: Vec<&str> = old.split(' ').collect();
                let at = (*state >> 10) as usize % words.len();
                words[at] = "edited";
                words.join(" ")
            } else {
                let words = 40 + (*state >> 50) as usize % 20;
                let p = paragraph(state, words);
                p.split(' ')
                    .map(|w| format!("{w}{suffix}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            text.push_str(&line);
            text.push('\n');
            pool.push(line);
        }
        write(&d.join(day), &format!("{f:02}.txt"), text);
    }
}

/// `index drop`: an index of days a, b, c with b dropped answers every
/// scan (containment too, so its variants count) exactly as an index of
/// a and c made without b, when nothing of a or c repeats b. Then:
/// `rollback` brings b back; another batch's variants of b's paragraphs
/// go with b; dropping by time, a dry run, an unknown name, and dropping
/// every batch.
#[test]
fn dropping_a_batch_is_as_if_it_had_never_been_added() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let (mut state, mut plain, mut other) = (17u64, Vec::new(), Vec::new());
    vocabulary_day(d, "a", "", &mut plain, &mut state);
    vocabulary_day(d, "b", "x", &mut other, &mut state);
    vocabulary_day(d, "c", "", &mut plain, &mut state);
    vocabulary_day(d, "e", "x", &mut other, &mut state);
    // Quotes of 9 words from every day, for containment.
    let quotes: String = ["a", "b", "c"]
        .iter()
        .flat_map(|day| {
            std::fs::read_to_string(d.join(day).join("01.txt"))
                .unwrap()
                .lines()
                .map(|l| l.split(' ').skip(2).take(9).collect::<Vec<_>>().join(" ") + "\n")
                .collect::<Vec<_>>()
        })
        .collect();
    write(d, "q/quotes.txt", quotes);
    for day in ["a", "b", "c"] {
        for f in ["00.txt", "01.txt"] {
            std::fs::copy(d.join(day).join(f), d.join("q").join(format!("{day}{f}"))).unwrap();
        }
    }
    let make = |index: &str, days: &[&str]| {
        let out = run(
            d,
            &[
                "index",
                "create",
                index,
                days[0],
                "--name",
                days[0],
                "--containment-words",
                "8",
                "-q",
            ],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        for day in &days[1..] {
            let out = run(d, &["index", "add", index, day, "--name", day, "-q"]);
            assert_eq!(code(&out), 0, "{}", stderr(&out));
        }
    };
    make("i.ndx", &["a", "b", "c"]);
    make("j.ndx", &["a", "c"]);
    let scan = |index: &str| {
        let out = run(
            d,
            &[
                "scan",
                "q",
                "--against",
                index,
                "--containment",
                "--containment-words",
                "8",
                "--output-format",
                "json",
            ],
        );
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        let v = json(&out);
        (v["clusters"].clone(), v["contained"].clone())
    };
    let batches = |index: &str| -> Vec<(String, u64, u64)> {
        info(d, index)["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["name"].as_str().unwrap().to_owned(),
                    b["paragraphs"].as_u64().unwrap(),
                    b["variants"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // The oldest batch dropped: the later batches' segments stay as they
    // are (c's variants name a's paragraphs by how far back they are), and
    // the answers are those of the index made without it.
    make("k.ndx", &["b", "a", "c"]);
    let segments = |index: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(d.join(index))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("seg-"))
            .collect();
        names.sort();
        names
    };
    let written = segments("k.ndx");
    assert_eq!(written.len(), 3, "{written:?}");
    let out = run(d, &["index", "drop", "k.ndx", "b", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "and 0 variants of their paragraphs in other batches): of 3 segments, 1 removed, 0 \
             rewritten (0 bytes) and 2 kept as they are"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(d, &["index", "drop", "k.ndx", "b"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 batches left in 2 segments")
            && stderr(&out).contains("2 segments kept as they were"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&run(d, &["index", "verify", "k.ndx"])), 0);
    assert_eq!(batches("k.ndx"), batches("j.ndx"));
    assert_eq!(scan("k.ndx"), scan("j.ndx"));
    // The old generation keeps b's file for `rollback`; the new one names
    // a's and c's files as they were.
    let manifest = info(d, "k.ndx");
    assert_eq!(manifest["segments"], 2, "{manifest}");
    assert_eq!(segments("k.ndx"), written);
    let with_b = batches("i.ndx");
    let before = scan("i.ndx");
    let out = run(d, &["index", "drop", "i.ndx", "b"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dropped 1 batch (b)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&run(d, &["index", "verify", "i.ndx"])), 0);
    assert_eq!(batches("i.ndx"), batches("j.ndx"));
    let (clusters, contained) = scan("i.ndx");
    assert_eq!(
        (&clusters, &contained),
        (&scan("j.ndx").0, &scan("j.ndx").1)
    );
    // The scan tests something: repeats of a and c, quotes inside their
    // paragraphs, and (before the drop) repeats of b.
    let kept_batches = |clusters: &Value| -> Vec<String> {
        clusters
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["members"][0]["batch"].as_str().map(str::to_owned))
            .collect()
    };
    let now = kept_batches(&clusters);
    assert!(
        now.contains(&"a".to_owned())
            && now.contains(&"c".to_owned())
            && !now.contains(&"b".to_owned()),
        "{now:?}"
    );
    assert!(kept_batches(&before.0).contains(&"b".to_owned()));
    assert!(!contained.as_array().unwrap().is_empty());
    // Rollback brings b back.
    assert_eq!(code(&run(d, &["index", "rollback", "i.ndx"])), 0);
    assert_eq!(batches("i.ndx"), with_b);
    assert_eq!(scan("i.ndx"), before);
    // e repeats b, edited: its variants of b's paragraphs go with b.
    let out = run(d, &["index", "add", "i.ndx", "e", "--name", "e", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let e = batches("i.ndx")[3].clone();
    assert!(e.2 > 0, "{e:?}");
    let out = run(d, &["index", "drop", "i.ndx", "b"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&run(d, &["index", "verify", "i.ndx"])), 0);
    let left = batches("i.ndx");
    assert_eq!(left[..2], batches("j.ndx")[..]);
    assert_eq!((&left[2].0, left[2].1), (&e.0, e.1));
    assert!(left[2].2 < e.2, "{left:?} against {e:?}");
    // Dropping by time: none is older than 2000 (nothing committed); a
    // dry run changes nothing; an unknown name is an error.
    let generation = info(d, "i.ndx")["generation"].clone();
    let out = run(d, &["index", "drop", "i.ndx", "--before", "2000-01-01"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing to drop"), "{}", stderr(&out));
    let out = run(
        d,
        &[
            "index",
            "drop",
            "i.ndx",
            "--before",
            "2100-01-01T00:00:00Z",
            "--dry-run",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would drop 3 of 3 batches"),
        "{}",
        stderr(&out)
    );
    let out = run(d, &["index", "drop", "i.ndx", "nosuch"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no batch is named \"nosuch\""),
        "{}",
        stderr(&out)
    );
    let out = run(d, &["index", "drop", "i.ndx", "--before", "2026-02-30"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not a UTC date"), "{}", stderr(&out));
    assert_eq!(info(d, "i.ndx")["generation"], generation);
    // Dropping every batch leaves an empty index, which takes new ones.
    let out = run(d, &["index", "drop", "i.ndx", "--before", "2100-01-01"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(info(d, "i.ndx")["paragraphs"], 0);
    assert_eq!(code(&run(d, &["index", "verify", "i.ndx"])), 0);
    assert!(kept_batches(&scan("i.ndx").0).is_empty());
    let out = run(d, &["index", "add", "i.ndx", "a", "--name", "a", "-q"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(batches("i.ndx")[..], batches("j.ndx")[..1]);
}

/// Rolling windows for cron: `--keep N` drops every batch but the newest
/// N, `--older-than AGE` every batch older than that; both add to the
/// batches named. A window that selects nothing commits nothing; a bad
/// age or count is a clear error and changes nothing.
#[test]
fn a_drop_keeps_the_newest_batches_or_drops_the_old_ones() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let day_dirs = days(d, 4, 2, 41);
    let names = ["mon", "tue", "wed", "thu"];
    for (day, name) in day_dirs.iter().zip(names) {
        let verb = if name == "mon" { "create" } else { "add" };
        let out = run(
            d,
            &[
                "index",
                verb,
                "i.ndx",
                day.to_str().unwrap(),
                "--name",
                name,
                "-q",
            ],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let batches = || -> Vec<String> {
        (info(d, "i.ndx")["batches"].as_array().unwrap().iter())
            .map(|b| b["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let generation = || info(d, "i.ndx")["generation"].as_u64().unwrap();
    let start = generation();
    // Selecting nothing, or asking wrongly, commits nothing.
    for (args, status, says) in [
        (
            &["--keep", "4"][..],
            0,
            "the index holds 4 batches, no more than the 4 to keep",
        ),
        (
            &["--older-than", "1000d"],
            0,
            "nothing to drop: no batch was added before",
        ),
        (&["--keep", "0"], 2, "0 would drop every batch"),
        (&["--keep", "two"], 2, "\"two\" is not a count of batches"),
        (&["--older-than", "90"], 2, "\"90\" is not an age"),
        (
            &["--older-than", "1d", "--before", "2026-01-01"],
            2,
            "cannot be used with",
        ),
    ] {
        let out = run(d, &[&["index", "drop", "i.ndx"], args].concat());
        assert_eq!(code(&out), status, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert_eq!(generation(), start, "{args:?}");
    }
    // A dry run lists the batches beyond the newest 2, oldest first.
    let out = run(d, &["index", "drop", "i.ndx", "--keep", "2", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let listed: Vec<&str> = (stdout.lines())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(listed, ["mon", "tue"]);
    assert_eq!(generation(), start);
    // `--keep 3 thu`: the oldest goes for the count, thu by its name.
    let paragraphs = info(d, "i.ndx")["batches"][1]["paragraphs"].clone();
    let out = run(d, &["index", "drop", "i.ndx", "--keep", "3", "thu"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dropped 2 batches (mon, thu)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(batches(), ["tue", "wed"]);
    assert_eq!(info(d, "i.ndx")["batches"][0]["paragraphs"], paragraphs);
    assert_eq!(code(&run(d, &["index", "verify", "i.ndx"])), 0);
    // Every batch is older than no time at all, once the clock has moved
    // on from the second they were added in.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let out = run(
        d,
        &["index", "drop", "i.ndx", "--older-than", "0s", "--dry-run"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would drop 2 of 2 batches"),
        "{}",
        stderr(&out)
    );
    assert_eq!(batches(), ["tue", "wed"]);
}
