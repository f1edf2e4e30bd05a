//! `neardup stage fingerprint` per shard, then `scan --stage-dir` and
//! `clean --stage-dir`: the report and the cleaned files of one machine,
//! for any number of shards (the binary on real files).

use std::path::Path;
use std::process::Output;

mod common;

use common::{neardup, write};
use tempfile::TempDir;

fn run(dir: &Path, args: &[&str]) -> Output {
    let out = neardup().current_dir(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

/// `clean --stage-dir DIR --shard K --of N` for every shard into `out`,
/// each job succeeding and naming its shard; returns their removal logs,
/// in shard order.
fn sharded_clean(d: &Path, dir: &str, shards: usize, out: &str) -> Vec<u8> {
    let mut log = Vec::new();
    for k in 0..shards {
        let part = format!("removed-{out}-{k}.log");
        let (k, n) = (k.to_string(), shards.to_string());
        let done = run(
            d,
            &[
                "clean",
                "corpus",
                "-o",
                out,
                "--stage-dir",
                dir,
                "--shard",
                &k,
                "--of",
                &n,
                "--removed",
                &part,
            ],
        );
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains(&format!("shard {k} of")), "{stderr}");
        log.extend(common::read(&d.join(&part)));
    }
    log
}

/// One machine's clean of the corpus into `clean-whole`; returns its
/// removal log.
fn clean_whole(d: &Path) -> Vec<u8> {
    let args = [
        "clean",
        "corpus",
        "-o",
        "clean-whole",
        "-q",
        "--removed",
        "whole.log",
    ];
    run(d, &args);
    common::read(&d.join("whole.log"))
}

/// The files under `a` are those under `b`, byte for byte.
fn assert_same_tree(d: &Path, a: &str, b: &str) {
    let files = common::files_under(&d.join(b));
    assert_eq!(common::files_under(&d.join(a)), files);
    for f in files {
        let (x, y) = (
            common::read(&d.join(a).join(&f)),
            common::read(&d.join(b).join(&f)),
        );
        assert!(x == y, "{a}/{f} differs from {b}/{f}");
    }
}

/// A corpus of several files repeating each other's lines.
fn corpus(d: &Path) {
    let lines = [
        "the harbour board voted to rebuild the old north pier before winter",
        "ferry services resumed on monday after the storm closed the crossing",
        "schools in the valley will open an hour late on tuesday because of fog",
        "the museum will lend its lighthouse lens to the national collection",
    ];
    for i in 0..7 {
        let mut text = String::new();
        for j in 0..6 {
            text.push_str(lines[(i * 3 + j) % lines.len()]);
            if (i + j) % 3 == 0 {
                text.push_str(" today");
            }
            text.push('\n');
        }
        write(d, &format!("corpus/{i:02}.txt"), text);
    }
    write(
        d,
        "corpus/feed.jsonl",
        format!("{{\"text\": \"{}\"}}\nnot json\n", lines[1]),
    );
}

#[test]
fn a_scan_and_a_clean_from_stage_files_are_those_of_one_machine() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    corpus(d);
    let whole = run(d, &["scan", "corpus", "--output-format", "json"]);
    assert_eq!(whole.status.code(), Some(2), "the malformed record");
    assert!(!whole.stdout.is_empty());
    let whole_log = clean_whole(d);
    assert!(!whole_log.is_empty());
    for shards in [1, 2, 3, 8] {
        let dir = format!("stage{shards}");
        for k in 0..shards {
            let out = run(
                d,
                &[
                    "stage",
                    "fingerprint",
                    "corpus",
                    "--shard",
                    &k.to_string(),
                    "--of",
                    &shards.to_string(),
                    "--dir",
                    &dir,
                    "-q",
                ],
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if shards == 3 {
            // Without the group stage: the key files, read band by band.
            let ungrouped = run(
                d,
                &[
                    "scan",
                    "corpus",
                    "--output-format",
                    "json",
                    "--stage-dir",
                    &dir,
                    "-v",
                ],
            );
            let stderr = String::from_utf8_lossy(&ungrouped.stderr);
            assert!(stderr.contains("no group files used"), "{stderr}");
            assert!(
                stderr.contains("7 of 8 inputs from their prints"),
                "{stderr}"
            );
            assert_eq!(ungrouped.stdout, whole.stdout);
        }
        // The group stage, in a number of parts that differs from the
        // shards', then the last stage from its files.
        let parts = [1, 3, 2, 5][shards % 4];
        for p in 0..parts {
            let out = run(
                d,
                &[
                    "stage",
                    "group",
                    "corpus",
                    "--part",
                    &p.to_string(),
                    "--of",
                    &parts.to_string(),
                    "--dir",
                    &dir,
                ],
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            assert!(stderr.contains(&format!("part {p} of {parts}")), "{stderr}");
        }
        let staged = run(
            d,
            &[
                "scan",
                "corpus",
                "--output-format",
                "json",
                "--stage-dir",
                &dir,
                "-v",
            ],
        );
        let stderr = String::from_utf8_lossy(&staged.stderr);
        assert!(
            stderr.contains("candidate groups from the group stage"),
            "{stderr}"
        );
        // Every input but the one with a malformed record.
        assert!(
            stderr.contains("7 of 8 inputs from their prints"),
            "{stderr}"
        );
        assert_eq!(staged.status.code(), whole.status.code());
        if shards == 2 {
            // Run again, it replaces the findings it left.
            let again = run(
                d,
                &[
                    "scan",
                    "corpus",
                    "--output-format",
                    "json",
                    "--stage-dir",
                    &dir,
                ],
            );
            assert_eq!(again.stdout, staged.stdout);
            assert_eq!(again.status.code(), staged.status.code());
        }
        assert_eq!(
            String::from_utf8_lossy(&staged.stdout),
            String::from_utf8_lossy(&whole.stdout),
            "{shards} shards"
        );
        let out = format!("clean{shards}");
        run(
            d,
            &["clean", "corpus", "-o", &out, "-q", "--stage-dir", &dir],
        );
        assert_same_tree(d, &out, "clean-whole");
        // The writing spread too: each shard job writes its part of the
        // output and of the removal log, from the findings the scan left.
        let out = format!("sharded{shards}");
        let log = sharded_clean(d, &dir, shards, &out);
        assert_eq!(log, whole_log, "{shards} shards");
        assert_same_tree(d, &out, "clean-whole");
    }
    // A shard clean needs the last stage's findings, of its settings.
    let out = run(
        d,
        &[
            "clean",
            "corpus",
            "-o",
            "o",
            "--stage-dir",
            "stage2",
            "--shard",
            "0",
            "--of",
            "2",
            "--threshold",
            "0.6",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ran with other settings"), "{stderr}");
    assert!(!d.join("o").exists());
    std::fs::create_dir(d.join("empty-stage")).unwrap();
    let out = run(
        d,
        &[
            "clean",
            "corpus",
            "-o",
            "o",
            "--stage-dir",
            "empty-stage",
            "--shard",
            "0",
            "--of",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the last stage has not run"), "{stderr}");
    // A shard number out of range, and a stage file of other settings.
    let out = run(
        d,
        &[
            "stage",
            "fingerprint",
            "corpus",
            "--shard",
            "3",
            "--of",
            "3",
            "--dir",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shard 3 --of 3"));
    let out = run(
        d,
        &[
            "scan",
            "corpus",
            "--stage-dir",
            "stage2",
            "--shingle-size",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("other settings"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stage files made for containment give a containment scan the findings
/// of one machine; a scan whose containment differs from its stage files'
/// is refused, naming the difference.
#[test]
fn containment_from_stage_files_is_that_of_one_machine() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let quote = (0..30)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    write(
        d,
        "corpus/a.txt",
        format!("an opening of ten words or so here then {quote} and a close\n"),
    );
    write(d, "corpus/b.txt", format!("{quote}\n"));
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "corpus", "--output-format", "json", "--containment"];
        args.extend_from_slice(extra);
        run(d, &args)
    };
    let whole = scan(&[]);
    assert_eq!(whole.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&whole.stdout).contains("\"contained\""));
    for k in 0..2 {
        let k = k.to_string();
        let out = run(
            d,
            &[
                "stage",
                "fingerprint",
                "corpus",
                "--shard",
                &k,
                "--of",
                "2",
                "--dir",
                "st",
                "--containment",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let staged = scan(&["--stage-dir", "st"]);
    assert_eq!(staged.stdout, whole.stdout);
    for other in [&["--containment-words", "30"][..], &[]] {
        let mut args = vec!["scan", "corpus", "--stage-dir", "st"];
        if !other.is_empty() {
            args.push("--containment");
            args.extend_from_slice(other);
        }
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("other settings") && stderr.contains("--containment-words"),
            "{stderr}"
        );
    }
}

/// Runs `neardup stage ACTION corpus ARGS... --dir DIR`, which must
/// succeed; returns its standard error.
fn stage(d: &Path, action: &str, args: &[&str], dir: &str) -> String {
    let mut all = vec!["stage", action, "corpus"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--dir", dir]);
    let out = run(d, &all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stage {action} {args:?}: {stderr}"
    );
    stderr
}

/// Verification spread too: the components stage, the reread stage per
/// shard and the verify stage per part (in numbers of parts that differ
/// from the group stage's); the last stage reports from the verdicts,
/// verifying nothing, and its report (the malformed record's error
/// included), its findings and the cleaned files are one machine's. A
/// missing or stale file of these stages is an error naming it.
#[test]
fn verification_spread_over_parts_is_that_of_one_machine() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    corpus(d);
    let whole = run(d, &["scan", "corpus", "--output-format", "json"]);
    let whole_text = run(d, &["scan", "corpus"]);
    let whole_log = clean_whole(d);
    for (shards, groups, parts) in [(1, 1, 1), (3, 2, 4), (8, 5, 3)] {
        let dir = format!("spread{shards}");
        let (n, k) = (shards.to_string(), parts.to_string());
        for s in 0..shards {
            let s = s.to_string();
            stage(d, "fingerprint", &["--shard", &s, "--of", &n, "-q"], &dir);
        }
        for p in 0..groups {
            let (p, g) = (p.to_string(), groups.to_string());
            stage(d, "group", &["--part", &p, "--of", &g], &dir);
        }
        let said = stage(d, "components", &["--parts", &k], &dir);
        assert!(said.contains(&format!("dealt to {parts} parts")), "{said}");
        for s in 0..shards {
            let s = s.to_string();
            let said = stage(d, "reread", &["--shard", &s, "--of", &n, "-q"], &dir);
            assert!(said.is_empty(), "{said}");
        }
        for p in 0..parts {
            let said = stage(d, "verify", &["--part", &p.to_string(), "--of", &k], &dir);
            assert!(said.contains(&format!("part {p} of {parts}")), "{said}");
        }
        // The shard jobs of a clean, before any last stage: each reads its
        // own part of the verdicts (no process holds every duplicate).
        let out = format!("sharded{shards}");
        let log = sharded_clean(d, &dir, shards, &out);
        assert!(
            !std::fs::read_dir(d.join(&dir)).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("findings-")),
            "no last stage ran"
        );
        assert_eq!(log, whole_log, "{shards} shards, {parts} parts");
        assert_same_tree(d, &out, "clean-whole");
        let staged = run(
            d,
            &[
                "scan",
                "corpus",
                "--output-format",
                "json",
                "--stage-dir",
                &dir,
                "-v",
            ],
        );
        let stderr = String::from_utf8_lossy(&staged.stderr);
        assert!(
            stderr.contains(&format!("verdicts from the verify stage in {parts} parts")),
            "{stderr}"
        );
        assert_eq!(staged.status.code(), whole.status.code());
        assert_eq!(
            String::from_utf8_lossy(&staged.stdout),
            String::from_utf8_lossy(&whole.stdout),
            "{shards} shards, {parts} parts"
        );
        let text = run(d, &["scan", "corpus", "--stage-dir", &dir]);
        assert_eq!(text.stdout, whole_text.stdout);
        let out = format!("clean{shards}");
        run(
            d,
            &["clean", "corpus", "-o", &out, "-q", "--stage-dir", &dir],
        );
        assert_same_tree(d, &out, "clean-whole");
    }
    // More shards than inputs (some empty), and the reread and verify
    // stages given the paths spelled otherwise (absolute): the last stage
    // names inputs, documents and problems as it was given them.
    let absolute = d.join("corpus").to_string_lossy().into_owned();
    let spelled = |action: &str, args: &[&str]| {
        let mut all = vec!["stage", action, &absolute];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--dir", "wide", "-q"]);
        let out = run(d, &all);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{action} {args:?}: {stderr}");
    };
    for s in 0..10 {
        let s = s.to_string();
        stage(
            d,
            "fingerprint",
            &["--shard", &s, "--of", "10", "-q"],
            "wide",
        );
    }
    stage(d, "group", &["--part", "0", "--of", "1"], "wide");
    stage(d, "components", &["--parts", "2"], "wide");
    for s in 0..10 {
        spelled("reread", &["--shard", &s.to_string(), "--of", "10"]);
    }
    for p in 0..2 {
        spelled("verify", &["--part", &p.to_string(), "--of", "2"]);
    }
    let wide = run(
        d,
        &[
            "scan",
            "corpus",
            "--output-format",
            "json",
            "--stage-dir",
            "wide",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&wide.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    assert!(String::from_utf8_lossy(&whole.stdout).contains("\"corpus/feed.jsonl\""));
    // A shard's sets file missing: the verify stage and the last stage
    // name it.
    let sets: Vec<_> = std::fs::read_dir(d.join("spread3"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nds"))
        .collect();
    assert_eq!(sets.len(), 3);
    std::fs::remove_file(&sets[1]).unwrap();
    let name = sets[1].file_name().unwrap().to_string_lossy().into_owned();
    for args in [
        &[
            "stage", "verify", "corpus", "--part", "0", "--of", "4", "--dir", "spread3",
        ][..],
        &["scan", "corpus", "--stage-dir", "spread3"],
    ] {
        let out = run(d, args);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&name) && stderr.contains("is missing"),
            "{stderr}"
        );
    }
    // A sets file damaged in its candidates: the verify stage names it.
    let sets: Vec<_> = std::fs::read_dir(d.join("spread8"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nds"))
        .collect();
    let mut bytes = std::fs::read(&sets[0]).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&sets[0], bytes).unwrap();
    let name = sets[0].file_name().unwrap().to_string_lossy().into_owned();
    let mut named = false;
    for p in 0..3 {
        let p = p.to_string();
        let args = [
            "stage", "verify", "corpus", "--part", &p, "--of", "3", "--dir", "spread8",
        ];
        let out = run(d, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(2) {
            assert!(stderr.contains(&name), "{stderr}");
            named = true;
        }
    }
    assert!(named, "some part reads the damaged bytes");
    // The fingerprint stage run again, in another number of shards: the
    // later stages' files are stale, and the last stage says so rather
    // than report from them.
    for s in ["0", "1"] {
        stage(
            d,
            "fingerprint",
            &["--shard", s, "--of", "2", "-q"],
            "spread1",
        );
    }
    let out = run(d, &["scan", "corpus", "--stage-dir", "spread1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("made from other key files"), "{stderr}");
    // The components stage needs the group stage's files; the reread
    // stage, the components stage's; containment is not spread.
    std::fs::create_dir(d.join("bare")).unwrap();
    stage(
        d,
        "fingerprint",
        &["--shard", "0", "--of", "1", "-q"],
        "bare",
    );
    for (args, says) in [
        (&["components", "--parts", "2"][..], "holds no group files"),
        (&["reread", "--shard", "0", "--of", "1"], "assign-"),
        (&["verify", "--part", "2", "--of", "2"], "--part 2 --of 2"),
    ] {
        let mut all = vec!["stage", args[0], "corpus"];
        all.extend_from_slice(&args[1..]);
        all.extend_from_slice(&["--dir", "bare"]);
        let out = run(d, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    for action in [
        &["components", "--parts", "1"][..],
        &["reread", "--shard", "0", "--of", "1"],
        &["verify", "--part", "0", "--of", "1"],
    ] {
        let mut all = vec!["stage", action[0], "corpus"];
        all.extend_from_slice(&action[1..]);
        all.extend_from_slice(&["--dir", "spread1", "--containment"]);
        let out = run(d, &all);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("containment is not spread"), "{stderr}");
    }
}

/// Rounds `--round 0, 1, …` of `neardup stage star` with `tasks` tasks,
/// until `--check` says a round converged (exit 0; 1 before); then every
/// task's finish into `parts` parts. Returns the rounds run after round 0.
fn star_rounds(d: &Path, dir: &str, tasks: usize, parts: usize) -> usize {
    let (n, k) = (tasks.to_string(), parts.to_string());
    for round in 0.. {
        let r = round.to_string();
        for t in 0..tasks {
            let said = stage(
                d,
                "star",
                &["--round", &r, "--task", &t.to_string(), "--of", &n],
                dir,
            );
            assert!(said.contains(&format!("round {round}, task {t}")), "{said}");
        }
        let out = run(
            d,
            &[
                "stage", "star", "corpus", "--check", &r, "--of", &n, "--dir", dir,
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(0) {
            assert!(round > 0 && stderr.contains("converged"), "{stderr}");
            for t in 0..tasks {
                let t = t.to_string();
                let args = ["--finish", &r, "--task", &t, "--of", &n, "--parts", &k];
                let said = stage(d, "star", &args, dir);
                assert!(said.contains(&format!("dealt to {parts} parts")), "{said}");
            }
            return round;
        }
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("did not converge"), "{stderr}");
    }
    unreachable!()
}

/// The components found in rounds of tasks (`stage star`) instead of by
/// one process: the reread and verify stages read the dealt files, and
/// the report is one machine's, for any number of tasks and parts. The
/// corpus being small, every task lists all its components, which are
/// then dealt as the components stage deals them: the verdict files are
/// the same, byte for byte. A finish before convergence, a links file
/// missing and the stages' files left by the other way are handled.
#[test]
fn components_in_rounds_give_the_report_of_one_machine() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    corpus(d);
    let whole = run(d, &["scan", "corpus", "--output-format", "json"]);
    let whole_log = clean_whole(d);
    let verdicts = |dir: &str| -> Vec<(String, Vec<u8>)> {
        let mut found: Vec<_> = std::fs::read_dir(d.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "ndv"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    common::read(&p),
                )
            })
            .collect();
        found.sort();
        found
    };
    for (shards, groups, tasks, parts) in [(3, 2, 1, 2), (4, 3, 3, 3), (2, 1, 5, 1)] {
        let (n, k) = (shards.to_string(), parts.to_string());
        for dir in ["one", "rounds"].map(|w| format!("{w}{tasks}")) {
            for s in 0..shards {
                let s = s.to_string();
                stage(d, "fingerprint", &["--shard", &s, "--of", &n, "-q"], &dir);
            }
            for p in 0..groups {
                let (p, g) = (p.to_string(), groups.to_string());
                stage(d, "group", &["--part", &p, "--of", &g], &dir);
            }
            if dir.starts_with("one") {
                stage(d, "components", &["--parts", &k], &dir);
            } else {
                // The components stage's files, left from a run before the
                // rounds, are replaced by the finish's dealt files.
                let own = |dir: &str| -> usize {
                    std::fs::read_dir(d.join(dir))
                        .unwrap()
                        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                        .filter(|n| n.starts_with("assign-") || n.starts_with("runs-"))
                        .count()
                };
                stage(d, "components", &["--parts", &k], &dir);
                assert!(own(&dir) > 0);
                let rounds = star_rounds(d, &dir, tasks, parts);
                assert!(rounds >= 1);
                assert_eq!(own(&dir), 0, "{dir}");
            }
            for s in 0..shards {
                stage(
                    d,
                    "reread",
                    &["--shard", &s.to_string(), "--of", &n, "-q"],
                    &dir,
                );
            }
            for p in 0..parts {
                stage(d, "verify", &["--part", &p.to_string(), "--of", &k], &dir);
            }
        }
        let (one, rounds) = (format!("one{tasks}"), format!("rounds{tasks}"));
        assert_eq!(verdicts(&one), verdicts(&rounds), "{tasks} tasks");
        let staged = run(
            d,
            &[
                "scan",
                "corpus",
                "--output-format",
                "json",
                "--stage-dir",
                &rounds,
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&staged.stdout),
            String::from_utf8_lossy(&whole.stdout),
            "{tasks} tasks, {parts} parts"
        );
        let out = format!("sharded{tasks}");
        assert_eq!(sharded_clean(d, &rounds, shards, &out), whole_log);
        assert_same_tree(d, &out, "clean-whole");
    }
    // A finish before the rounds converged, and a round whose links file
    // of the round before is missing, are errors that say what to run.
    let failing = |args: &[&str]| {
        let mut all = vec!["stage", "star", "corpus"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--dir", "rounds3"]);
        let out = run(d, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = failing(&["--finish", "0", "--task", "0", "--of", "3", "--parts", "3"]);
    assert!(said.contains("did not converge"), "{said}");
    std::fs::remove_file(d.join("rounds3/links-r000-0002-of-0003.ndl")).unwrap();
    let said = failing(&["--round", "1", "--task", "0", "--of", "3"]);
    assert!(
        said.contains("links-r000-0002-of-0003.ndl") && said.contains("is missing"),
        "{said}"
    );
    // The components stage run after the rounds replaces their dealt
    // files, and the report stays the same.
    stage(d, "components", &["--parts", "2"], "rounds3");
    assert!(!d.join("rounds3/dealt-0000-of-0003.ndf").exists());
    // A damaged dealt file is named by the stage that reads it.
    let dealt = d.join("rounds5/dealt-0001-of-0005.ndf");
    let mut bytes = common::read(&dealt);
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&dealt, bytes).unwrap();
    let out = run(
        d,
        &[
            "stage", "reread", "corpus", "--shard", "0", "--of", "2", "--dir", "rounds5",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dealt-0001-of-0005.ndf"), "{stderr}");
}

/// A spread clean against an index uses the findings of the index as it
/// is: after the index changes (here a drop of every batch), the shard
/// jobs are refused until the last stage runs again, and then remove
/// nothing the index no longer holds.
#[test]
fn a_spread_clean_against_an_index_that_changed_since_is_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let lines = [
        "the harbour board voted to rebuild the old north pier before winter",
        "ferry services resumed on monday after the storm closed the crossing",
    ];
    write(d, "old/a.txt", format!("{}\n{}\n", lines[0], lines[1]));
    write(d, "corpus/b.txt", format!("{}\nsomething new\n", lines[0]));
    write(d, "corpus/c.txt", format!("{}\n", lines[1]));
    let ok = |out: Output| {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        stderr
    };
    ok(run(d, &["index", "create", "idx", "old", "-q"]));
    // The stages take the index's settings, as the last stage does.
    for k in ["0", "1"] {
        let args = ["stage", "fingerprint", "corpus", "--shard", k, "--of", "2"];
        ok(run(
            d,
            &[&args[..], &["--dir", "st", "--against", "idx", "-q"]].concat(),
        ));
    }
    // The last stage, against the index as it is: exit 1 while it holds
    // repeats of the corpus, 0 once they are dropped.
    let last_stage = |code: i32| {
        let args = [
            "scan",
            "corpus",
            "--stage-dir",
            "st",
            "--against",
            "idx",
            "-q",
        ];
        let scan = run(d, &args);
        let stderr = String::from_utf8_lossy(&scan.stderr);
        assert_eq!(scan.status.code(), Some(code), "{stderr}");
    };
    let clean = |out: &str| {
        let args = [
            "clean",
            "corpus",
            "--stage-dir",
            "st",
            "--shard",
            "0",
            "--of",
            "2",
        ];
        run(d, &[&args[..], &["--against", "idx", "-o", out]].concat())
    };
    last_stage(1);
    let before = ok(clean("out1"));
    assert!(before.contains("removed 1 paragraph"), "{before}");

    ok(run(d, &["index", "drop", "idx", "--before", "2999-01-01"]));
    let refused = clean("out2");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no findings for these settings"),
        "{stderr}"
    );
    assert!(
        stderr.contains("another generation of the index"),
        "{stderr}"
    );
    assert!(!d.join("out2").exists());

    last_stage(0);
    let after = ok(clean("out3"));
    assert!(after.contains("removed 0 paragraphs"), "{after}");
}
