//! `scan --containment`: planted quotes are found at every length from the
//! guarantee up, with and without a changed word outside the guaranteed
//! run; every report is verified exactly; nothing below the threshold is
//! reported; without the flag the output is unchanged.

use std::path::Path;

mod common;

use common::{neardup, write};
use neardup::containment::containment;
use neardup::normalize::TokenKind;
use neardup::shingle::{ShingleSet, Shingler};
use serde_json::Value;
use tempfile::TempDir;

struct Words(u64);

impl Words {
    /// `n` words from a vocabulary of 20,000: random paragraphs share no
    /// 5-word run.
    fn take(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                format!("w{}", (self.0 >> 33) % 20_000)
            })
            .collect()
    }
}

fn scan(d: &Path, args: &[&str]) -> Value {
    let out = neardup()
        .current_dir(d)
        .args(["scan", "--output-format", "json", "corpus"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The exact containment of the short paragraph's text in the long one's.
fn recompute(short: &str, long: &str) -> f64 {
    let s = Shingler::new(TokenKind::Words, 5);
    let set = |t: &str| {
        let mut tokens = Vec::new();
        s.token_hashes(t, &mut Default::default(), &mut tokens);
        ShingleSet::from_vec(s.set_of_tokens(&tokens).0)
    };
    containment(&set(short), &set(long)).as_f64()
}

#[test]
fn planted_quotes_are_found_from_the_guarantee_up() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(3);
    let mut files: Vec<(String, String)> = Vec::new();
    // Quotes of t = 25..=40 words, each alone in one file and inside a
    // longer paragraph in another.
    for t in 25..=40usize {
        let quote = words.take(t).join(" ");
        let before = words.take(30).join(" ");
        let after = words.take(40).join(" ");
        files.push((format!("q{t}.txt"), format!("{quote}\n")));
        files.push((format!("p{t}.txt"), format!("{before} {quote} {after}\n")));
    }
    // A 40-word quote with its 31st word changed: the first 30 words are
    // an intact run, 31 of its 36 shingles are found (0.86).
    let mut q = words.take(40);
    files.push(("qchanged.txt".into(), format!("{}\n", q.join(" "))));
    q[30] = "changed".into();
    files.push((
        "pchanged.txt".into(),
        format!(
            "{} {} {}\n",
            words.take(20).join(" "),
            q.join(" "),
            words.take(20).join(" ")
        ),
    ));
    // Noise: 20 shared words of a 40-word paragraph (16 of 36 shingles,
    // 0.44): below the threshold, never reported.
    let n = words.take(40);
    files.push(("qnoise.txt".into(), format!("{}\n", n.join(" "))));
    files.push((
        "pnoise.txt".into(),
        format!(
            "{} {} {}\n",
            words.take(30).join(" "),
            n[..20].join(" "),
            words.take(30).join(" ")
        ),
    ));
    for (name, text) in &files {
        write(d, &format!("corpus/{name}"), text);
    }
    let off = scan(d, &[]);
    assert!(off.get("contained").is_none());
    let on = scan(d, &["--containment"]);
    let found: Vec<&Value> = on["contained"].as_array().unwrap().iter().collect();
    let text_of = |v: &Value| -> String {
        let path = v["path"].as_str().unwrap();
        std::fs::read_to_string(d.join(path))
            .unwrap()
            .trim_end()
            .to_owned()
    };
    let pair = |v: &Value| -> (String, String) {
        let name = |p: &Value| {
            Path::new(p["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        (name(&v["short"]), name(&v["long"]))
    };
    let pairs: Vec<(String, String)> = found.iter().map(|v| pair(v)).collect();
    for t in 25..=40 {
        let want = (format!("q{t}.txt"), format!("p{t}.txt"));
        let v = found
            .iter()
            .find(|v| pair(v) == want)
            .unwrap_or_else(|| panic!("the {t}-word quote was missed: {pairs:?}"));
        assert_eq!(v["containment"], 1.0);
        assert_eq!(v["short_words"], serde_json::json!([0, t]));
        assert_eq!(v["long_words"], serde_json::json!([30, 30 + t]));
    }
    let changed = found
        .iter()
        .find(|v| pair(v) == ("qchanged.txt".into(), "pchanged.txt".into()))
        .expect("the quote with a changed word was missed");
    assert_eq!(changed["short_words"], serde_json::json!([0, 30]));
    assert!(!pairs.iter().any(|(s, _)| s == "qnoise.txt"), "{pairs:?}");
    // Every report is exact: the containment recomputed from the texts.
    for v in &found {
        let c = recompute(&text_of(&v["short"]), &text_of(&v["long"]));
        assert!(c >= 0.8, "{v}");
        assert!(
            (c - v["containment"].as_f64().unwrap()).abs() < 1e-12,
            "{v}"
        );
    }
    assert_eq!(found.len(), 17, "{pairs:?}");
    // The near-duplicate findings do not change.
    assert_eq!(on["clusters"], off["clusters"]);
    // The text output says where.
    let out = neardup()
        .current_dir(d)
        .args(["scan", "corpus", "--containment", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("corpus/q30.txt:1 is inside corpus/p30.txt:1 (containment 1.00: words 1-30 of 30 match words 31-60 of 100)"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
    // JSON Lines: the clusters, then one line per contained paragraph.
    let out = neardup()
        .current_dir(d)
        .args([
            "scan",
            "corpus",
            "--containment",
            "--output-format",
            "jsonl",
        ])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let contained: Vec<&Value> = lines.iter().filter_map(|l| l.get("contained")).collect();
    assert_eq!(contained.len(), found.len());
    assert_eq!(*contained[0], *found[0]);
}

/// The guarantee holds for other lengths: with `--containment-words 12`,
/// a 12-word quote is found.
#[test]
fn the_guaranteed_length_is_a_setting() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(9);
    let quote = words.take(12).join(" ");
    write(d, "corpus/a.txt", format!("{quote}\n"));
    write(
        d,
        "corpus/b.txt",
        format!(
            "{} {quote} {}\n",
            words.take(50).join(" "),
            words.take(50).join(" ")
        ),
    );
    assert!(scan(d, &["--containment"]).get("contained").is_none());
    let on = scan(d, &["--containment", "--containment-words", "12"]);
    assert_eq!(on["contained"].as_array().unwrap().len(), 1);
}

/// `--containment-cap` drops the fingerprints of more kept paragraphs than
/// it allows, and `params` states the guarantee with it.
#[test]
fn the_cap_drops_frequent_fingerprints_and_params_says_so() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(21);
    let quote = words.take(30).join(" ");
    write(d, "corpus/a.txt", format!("{quote}\n"));
    for name in ["b", "c"] {
        let long = format!(
            "{} {quote} {}",
            words.take(40).join(" "),
            words.take(40).join(" ")
        );
        write(d, &format!("corpus/{name}.txt"), format!("{long}\n"));
    }
    let found = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["--containment"];
        all.extend_from_slice(args);
        scan(d, &all)
            .get("contained")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let path = |side: &str| c[side]["path"].as_str().unwrap().to_owned();
                        (path("short"), path("long"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let pair = |s: &str, l: &str| (format!("corpus/{s}.txt"), format!("corpus/{l}.txt"));
    assert_eq!(found(&[]), [pair("a", "b"), pair("a", "c")]);
    // The quote's fingerprints are in three kept paragraphs.
    assert_eq!(found(&["--containment-cap", "3"]).len(), 2);
    assert!(found(&["--containment-cap", "2"]).is_empty());
    let out = neardup()
        .args([
            "params",
            "--containment-words",
            "25",
            "--containment-cap",
            "2",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["containment"]["cap"], 2);
    assert_eq!(v["containment"]["window"], 21);
    assert_eq!(v["containment"]["guaranteed_words"], 25);
}

/// In a plain-text input of several blocks (paragraph numbers continue
/// across them), a quote is reported inside its kept paragraph only: the
/// later exact copy of that paragraph is a duplicate, left out.
#[test]
fn duplicates_are_left_out_across_blocks() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(17);
    let quote = words.take(30).join(" ");
    let long = format!(
        "{} {quote} {}",
        words.take(40).join(" "),
        words.take(40).join(" ")
    );
    let mut text = format!("{long}\n");
    // About 3 MB of unrelated paragraphs: three blocks or more.
    while text.len() < 3_000_000 {
        text.push_str(&words.take(60).join(" "));
        text.push('\n');
    }
    text.push_str(&format!("{long}\n{quote}\n"));
    write(d, "corpus/big.txt", text);
    let on = scan(d, &["--containment"]);
    let found = on["contained"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["long"]["line"], 1);
    assert_eq!(on["summary"]["duplicate_paragraphs"], 1);
}

/// A quote cut from a republished version of a paragraph (a near-duplicate
/// with words changed inside the quote) is found in that version, which
/// its kept paragraph does not hold; a quote its kept paragraph holds is
/// reported there alone; a version is never reported as holding its own
/// kept paragraph; and copies of the version add nothing.
#[test]
fn a_quote_of_a_republished_version_is_found_in_that_version() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(23);
    let kept = words.take(120);
    // The version: two words changed, 25 words apart, J(kept, version) =
    // 106/126 = 0.84.
    let mut version = kept.clone();
    version[50] = "changed".into();
    version[75] = "altered".into();
    // Quoted across both changes: 10 of its 36 shingles are not in the
    // kept paragraph (containment 0.72).
    let of_version = version[45..85].join(" ");
    // Quoted where both agree.
    let of_both = kept[0..40].join(" ");
    let lines = [
        kept.join(" "),
        words.take(60).join(" "),
        version.join(" "),
        version.join(" "),
        of_version.clone(),
        of_both,
    ];
    write(d, "corpus/news.txt", lines.join("\n") + "\n");
    let report = scan(d, &["--containment"]);
    assert_eq!(report["summary"]["duplicate_paragraphs"], 2, "{report}");
    let found: Vec<(u64, u64)> = report["contained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["short"]["line"].as_u64().unwrap(),
                c["long"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [(5, 3), (6, 1)], "{report}");
    let c = &report["contained"][0];
    let exact = recompute(&of_version, &version.join(" "));
    assert_eq!(exact, 1.0);
    assert_eq!(c["shared_shingles"], c["shingles"]);
    assert!(recompute(&of_version, &kept.join(" ")) < 0.8);
    // Without the version, the quote is in nothing.
    write(
        d,
        "corpus/news.txt",
        [&lines[0], &lines[1], &lines[4]]
            .map(|l| l.as_str())
            .join("\n")
            + "\n",
    );
    let report = scan(d, &["--containment"]);
    assert!(
        report["contained"].as_array().is_none_or(|c| c.is_empty()),
        "{report}"
    );
}

/// `clean` removes contained paragraphs only when asked, and then exactly
/// the shorter paragraph of each `scan --containment` finding (in JSON
/// Lines, next to the near-duplicates it always removes); the longer one
/// stays, and the log says what it was inside and how much of it.
#[test]
fn clean_removes_contained_paragraphs_only_when_asked() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(9);
    let mut records = Vec::new();
    let mut quotes = Vec::new();
    for i in 0..6 {
        let quote = words.take(30).join(" ");
        let long = format!(
            "{} {quote} {}",
            words.take(25).join(" "),
            words.take(25).join(" ")
        );
        let other = words.take(20).join(" ");
        // The long paragraph first in one record, the quote alone later in
        // another, next to a paragraph of its own and a copy of that one.
        records
            .push(serde_json::json!({"id": format!("a{i}"), "text": format!("{long}\n{other}")}));
        records.push(
            serde_json::json!({"id": format!("b{i}"), "text": format!("{other}\n{quote}\nmore words of b{i} here")}),
        );
        quotes.push(quote);
    }
    let jsonl: String = records.iter().map(|r| format!("{r}\n")).collect();
    write(d, "corpus/news.jsonl", &jsonl);
    let clean = |args: &[&str]| {
        let out = neardup()
            .current_dir(d)
            .args([
                "clean",
                "corpus/news.jsonl",
                "-o",
                "out.jsonl",
                "--removed",
                "log.jsonl",
            ])
            .args(args)
            .output()
            .unwrap();
        let texts = common::jsonl_texts(&d.join("out.jsonl"));
        let log: Vec<Value> = std::fs::read_to_string(d.join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (out, texts, log)
    };
    // Without --remove contained: only the copies go; every quote stays.
    let (out, texts, log) = clean(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|l| l["kind"] != "contained"));
    for q in &quotes {
        assert_eq!(texts.iter().filter(|t| t.contains(q.as_str())).count(), 2);
    }
    // --containment alone is a mistake on clean, said plainly.
    let (out, _, _) = clean(&["--containment=0.9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--remove contained"));
    // With it: each quote is left only inside its long paragraph.
    let (out, texts, log) = clean(&["--remove", "contained"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary
            .contains("removed 12 paragraphs (0 within-document, 6 cross-document, 6 contained)"),
        "{summary}"
    );
    for (i, q) in quotes.iter().enumerate() {
        let holders: Vec<usize> = (0..texts.len())
            .filter(|&t| texts[t].contains(q.as_str()))
            .collect();
        assert_eq!(holders, [2 * i], "quote {i}");
    }
    let contained: Vec<&Value> = log.iter().filter(|l| l["kind"] == "contained").collect();
    assert_eq!(contained.len(), 6);
    // Exactly the short sides of the scan's findings.
    let report = scan(d, &["--containment"]);
    let mut expect: Vec<(String, u64)> = report["contained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["short"]["doc"].as_str().unwrap().to_owned(),
                c["short"]["paragraph"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut removed: Vec<(String, u64)> = contained
        .iter()
        .map(|l| {
            (
                l["doc"].as_str().unwrap().to_owned(),
                l["paragraph"].as_u64().unwrap(),
            )
        })
        .collect();
    expect.sort();
    removed.sort();
    assert_eq!(removed, expect);
    for l in contained {
        assert!(l["containment"].as_f64().unwrap() >= 0.8, "{l}");
        assert!(l.get("similarity").is_none());
        assert!(l["kept"]["doc"].as_str().unwrap().starts_with('a'), "{l}");
        assert!(quotes.iter().any(|q| l["text"] == q.as_str()), "{l}");
    }
    // The daily run, which also stores the batch's kept paragraphs in an
    // index (its first pass keeps the tokens), removes the same.
    write(
        d,
        "old.txt",
        "An unrelated paragraph that an earlier day kept.\n",
    );
    let created = neardup()
        .current_dir(d)
        .args(["index", "create", "idx.ndx", "old.txt", "-q"])
        .args(["--containment-words", "25"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let plain = (texts.clone(), std::fs::read(d.join("log.jsonl")).unwrap());
    let (out, texts, _) = clean(&["--remove", "contained", "--against", "idx.ndx", "--add"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!((texts, std::fs::read(d.join("log.jsonl")).unwrap()), plain);
}

/// `explain` on a pair of the scan's containment findings gives the same
/// containment and the same shared run of words, with either paragraph
/// first.
#[test]
fn explain_shows_the_containment_and_span_that_scan_reports() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut words = Words(21);
    let mut q = words.take(36);
    let before = words.take(17).join(" ");
    let after = words.take(60).join(" ");
    write(
        d,
        "corpus/long.txt",
        format!("{before} {} {after}\n", q.join(" ")),
    );
    q[33] = "changed".into();
    write(d, "corpus/short.txt", format!("{}\n", q.join(" ")));
    let report = scan(d, &["--containment"]);
    let c = &report["contained"][0];
    assert_eq!(c["short"]["path"], "corpus/short.txt");
    let span = |v: &Value| (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
    let ((s0, s1), (l0, l1)) = (span(&c["short_words"]), span(&c["long_words"]));
    let expect_c = format!(
        "containment         {:.4} = {}/{} of",
        c["containment"].as_f64().unwrap(),
        c["shared_shingles"],
        c["shingles"]
    );
    for (a, b, short, long) in [
        ("corpus/long.txt:1", "corpus/short.txt:1", "B", "A"),
        ("corpus/short.txt:1", "corpus/long.txt:1", "A", "B"),
    ] {
        let out = neardup()
            .current_dir(d)
            .args(["explain", a, b, "--color", "never"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("{expect_c} {short}'s shingles are in {long}")),
            "{text}"
        );
        let run = format!(
            "longest shared run: words {}-{s1} of {} in {short}, {}-{l1} of {} in {long}",
            s0 + 1,
            c["short_length"],
            l0 + 1,
            c["long_length"]
        );
        assert!(text.contains(&run), "{run}\n{text}");
    }
}

/// Runs neardup with `args` in `d`, expecting exit 0 or 1.
fn ok(d: &Path, args: &[&str]) -> std::process::Output {
    let out = neardup().current_dir(d).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

/// `neardup scan PATH --against INDEX --containment --output-format json
/// EXTRA...` in `d`: its report.
fn against(d: &Path, path: &str, index: &str, extra: &[&str]) -> Value {
    let mut args = vec!["scan", path, "--against", index, "--containment"];
    args.extend(["--output-format", "json"]);
    args.extend(extra);
    serde_json::from_slice(&ok(d, &args).stdout).unwrap()
}

/// Every containment finding of a JSON report as (short place, long
/// place, shared, of, short words, long words); a place is (path, line).
type Finding = ((String, u64), (String, u64), u64, u64, String, String);

fn findings(report: &Value) -> Vec<Finding> {
    let place = |p: &Value| {
        (
            p["path"].as_str().unwrap().to_owned(),
            p["line"].as_u64().unwrap(),
        )
    };
    report["contained"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|c| {
                    (
                        place(&c["short"]),
                        place(&c["long"]),
                        c["shared_shingles"].as_u64().unwrap(),
                        c["shingles"].as_u64().unwrap(),
                        c["short_words"].to_string(),
                        c["long_words"].to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Days of news that quote each other: each day has new paragraphs,
/// quotes (25 to 40 words) of earlier days' long paragraphs, long
/// paragraphs around earlier days' quotes, some with a changed word, one
/// wire sentence quoted every day (for the cap), and republished versions
/// of earlier paragraphs (variants) that later and earlier days quote.
fn quoting_days(d: &Path, days: usize, seed: u64) -> Vec<String> {
    let mut w = Words(seed);
    let wire = w.take(30).join(" ");
    let (mut longs, mut shorts): (Vec<Vec<String>>, Vec<Vec<String>>) = (Vec::new(), Vec::new());
    let mut sources: Vec<Vec<String>> = Vec::new();
    let mut names = Vec::new();
    for day in 0..days {
        let mut lines: Vec<String> = Vec::new();
        for i in 0..12 {
            let pick = w.take(1)[0][1..].parse::<usize>().unwrap();
            let line: Vec<String> = match i % 4 {
                0 if !longs.is_empty() => {
                    // A quote of an earlier long paragraph.
                    let long = &longs[pick % longs.len()];
                    let n = 25 + pick % 16;
                    let at = pick % (long.len() - n);
                    let mut q = long[at..at + n].to_vec();
                    if pick % 3 == 0 {
                        q[n / 2] = "changed".into();
                    }
                    q
                }
                1 if !shorts.is_empty() => {
                    // An earlier quote inside a long paragraph.
                    let mut p = w.take(20);
                    p.extend(shorts[pick % shorts.len()].iter().cloned());
                    p.extend(w.take(40));
                    p
                }
                2 => {
                    let mut p = w.take(10);
                    p.extend(wire.split(' ').map(str::to_owned));
                    p.extend(w.take(35));
                    p
                }
                _ if pick % 2 == 0 => w.take(26 + pick % 10),
                _ => w.take(70),
            };
            if line.len() < 45 {
                shorts.push(line.clone());
            } else {
                longs.push(line.clone());
            }
            lines.push(line.join(" "));
        }
        // A paragraph republished the next day with four words changed
        // (a variant, J = 0.81), quoted across two of the changes a day
        // later, and across the other two the day before it appears; and
        // quoted the same day where both agree (reported inside the kept
        // paragraph only, also when both are indexed and the variant is
        // not).
        sources.push(w.take(200));
        let version = |src: &[String]| {
            let mut v = src.to_vec();
            for (at, word) in [
                (50, "changed"),
                (62, "altered"),
                (100, "amended"),
                (112, "edited"),
            ] {
                v[at] = word.to_owned();
            }
            v
        };
        lines.push(sources[day].join(" "));
        lines.push(version(&sources[day])[95..125].join(" "));
        lines.push(sources[day][150..180].join(" "));
        if day >= 1 {
            lines.push(version(&sources[day - 1]).join(" "));
        }
        if day >= 2 {
            lines.push(version(&sources[day - 2])[45..75].join(" "));
        }
        let name = format!("day{day}.txt");
        write(d, &name, lines.join("\n") + "\n");
        names.push(name);
    }
    names
}

/// An index with containment fingerprints gives `scan --against INDEX
/// --containment` the findings one scan of every day gives for pairs
/// with a paragraph of the last day, with the cap counting both sides,
/// for 1 and 2 threads, after a compaction, and when the fingerprints
/// were added to an index made without them.
#[test]
fn containment_against_the_index_equals_one_scan() {
    for seed in [3u64, 11] {
        let tmp = TempDir::new().unwrap();
        let d = tmp.path();
        let names = quoting_days(d, 4, seed);
        let last = names[3].as_str();
        for cap in ["64", "3"] {
            let mut all = vec!["scan", "--output-format", "json", "--containment"];
            all.extend(["--containment-cap", cap]);
            all.extend(names.iter().map(String::as_str));
            let report: Value = serde_json::from_slice(&ok(d, &all).stdout).unwrap();
            let whole = findings(&report);
            let expect: Vec<Finding> = whole
                .into_iter()
                .filter(|f| f.0.0 == last || f.1.0 == last)
                .collect();
            assert!(
                expect.iter().any(|f| f.0.0 != last) && expect.iter().any(|f| f.1.0 != last),
                "seed {seed}: the last day should quote and be quoted by earlier days: {expect:?}"
            );
            // Variants (duplicates) hold quotes both ways: an indexed one
            // holds a quote of the last day, one of the last day holds an
            // indexed quote.
            let duplicates = common::duplicates(&report);
            let in_variant = |f: &&Finding| duplicates.contains(&f.1);
            assert!(
                expect.iter().filter(in_variant).any(|f| f.1.0 != last)
                    && expect.iter().filter(in_variant).any(|f| f.1.0 == last),
                "seed {seed}: {expect:?}"
            );
            for threads in ["1", "2"] {
                let index = format!("c{cap}-{threads}.ndx");
                let words = ["--containment-words", "25", "-q", "-j", threads];
                let mut create = vec!["index", "create", &index, &names[0]];
                create.extend(words);
                ok(d, &create);
                for name in &names[1..3] {
                    ok(d, &["index", "add", &index, name, "-q", "-j", threads]);
                }
                let extra = ["--containment-cap", cap, "-j", threads];
                let found = || findings(&against(d, last, &index, &extra));
                assert_eq!(found(), expect, "seed {seed}, cap {cap}, {threads} threads");
                ok(d, &["index", "verify", &index]);
                ok(d, &["index", "compact", &index]);
                assert_eq!(found(), expect, "seed {seed}, cap {cap}: after compact");
            }
        }
        // Every format names the indexed paragraph's batch, and puts the
        // finding at the paragraph of the checked input.
        let check = |format: &str| {
            let args = [
                "check",
                last,
                "--against",
                "c64-1.ndx",
                "--containment",
                "--output-format",
                format,
            ];
            let out = neardup().current_dir(d).args(args).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(1),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let scanned = against(d, last, "c64-1.ndx", &[]);
        let contained = scanned["contained"].as_array().unwrap();
        let holds = contained
            .iter()
            .find(|c| c["short"]["batch"].is_string())
            .expect("a paragraph of the last day holds an indexed one");
        let inside = contained
            .iter()
            .find(|c| c["long"]["batch"].is_string())
            .expect("a paragraph of the last day is inside an indexed one");
        let (holder, indexed) = (holds["long"]["line"].as_u64().unwrap(), &holds["short"]);
        let json: Value = serde_json::from_str(&check("json")).unwrap();
        assert_eq!(json["contained"], scanned["contained"]);
        let text = check("text");
        assert!(text.contains("[index batch "), "{text}");
        let github = check("github");
        assert!(
            github.contains(&format!(
                "file={last},line={holder},endLine={holder},title=Paragraph holds an indexed one"
            )),
            "{github}"
        );
        let line = inside["short"]["line"].as_u64().unwrap();
        assert!(
            github.contains(&format!(
                "file={last},line={line},endLine={line},title=Paragraph inside a longer one"
            )),
            "{github}"
        );
        let sarif: Value = serde_json::from_str(&check("sarif")).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let batch = indexed["batch"].as_str().unwrap();
        let r = results
            .iter()
            .find(|r| {
                r["ruleId"] == "contained"
                    && r["message"]["text"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("index batch {batch}"))
            })
            .expect("a SARIF result for the indexed paragraph");
        let uri = |l: &Value| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(uri(&r["locations"][0]).ends_with(last), "{r}");
        assert!(
            uri(&r["relatedLocations"][0]).ends_with(indexed["path"].as_str().unwrap()),
            "{r}"
        );
        // The other way round too: inside a longer indexed paragraph.
        let long_batch = inside["long"]["batch"].as_str().unwrap();
        assert!(
            results.iter().any(|r| {
                r["ruleId"] == "contained"
                    && r["message"]["text"].as_str().unwrap().contains(&format!(
                        "inside [a longer paragraph of index batch {long_batch}](1)"
                    ))
            }),
            "{results:?}"
        );
        let junit = check("junit");
        assert!(
            !junit.contains(&format!("name=\"{}\"", indexed["path"].as_str().unwrap())),
            "{junit}"
        );
        // `clean --remove contained` removes the last day's paragraphs
        // inside indexed ones, naming the batch, and none that hold one.
        let out = format!("clean-{seed}");
        let args = [
            "clean",
            last,
            "--against",
            "c64-1.ndx",
            "--remove",
            "contained",
            "-o",
            &out,
            "--removed",
            "removed.jsonl",
            "-q",
        ];
        ok(d, &args);
        let removed: Vec<Value> = std::fs::read_to_string(d.join("removed.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|l: &Value| l["kind"] == "contained")
            .collect();
        let line = |v: &Value| v["line"].as_u64().unwrap();
        let from_index = removed
            .iter()
            .find(|l| line(l) == line(&inside["short"]))
            .unwrap();
        assert_eq!(from_index["kept"]["batch"], inside["long"]["batch"]);
        assert!(removed.iter().all(|l| line(l) != holder), "{removed:?}");

        // The cap counts the index's paragraphs too: the wire sentence is
        // in a paragraph of every day, over a cap of 3.
        let wire_pairs =
            |cap: &str| findings(&against(d, last, "c64-1.ndx", &["--containment-cap", cap])).len();
        assert!(wire_pairs("3") < wire_pairs("64"), "seed {seed}");

        // An index made without containment fingerprints is refused, and
        // gets them from `index compact`.
        ok(d, &["index", "create", "plain.ndx", &names[0], "-q"]);
        for name in &names[1..3] {
            ok(d, &["index", "add", "plain.ndx", name, "-q"]);
        }
        let args = ["scan", last, "--against", "plain.ndx", "--containment"];
        let out = neardup().current_dir(d).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no containment fingerprints")
                && err.contains("index compact --containment-words 25"),
            "{err}"
        );
        ok(
            d,
            &["index", "compact", "plain.ndx", "--containment-words", "25"],
        );
        assert_eq!(
            findings(&against(d, last, "plain.ndx", &[])),
            findings(&against(d, last, "c64-1.ndx", &[]))
        );
        // Another length than the index's is refused, naming both.
        let args = [
            "scan",
            last,
            "--against",
            "plain.ndx",
            "--containment",
            "--containment-words",
            "30",
        ];
        let out = neardup().current_dir(d).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("for 25 words") && err.contains("looks for 30"),
            "{err}"
        );
        // Dropping them makes the index as it was made: a scan without
        // containment gives the same report as before.
        ok(d, &["index", "compact", "plain.ndx", "--no-containment"]);
        let info = ok(d, &["index", "info", "plain.ndx"]);
        assert!(!String::from_utf8_lossy(&info.stdout).contains("containment_words"));
    }
}

/// `explain A --against INDEX`: when no indexed paragraph is near A but
/// one holds it (an index with containment fingerprints), B is that one,
/// with the containment and span a scan reports — from the old text, or
/// from the stored tokens once the old file is gone.
#[test]
fn explain_against_an_index_shows_the_indexed_paragraph_a_quote_is_in() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let mut w = Words(5);
    let long = w.take(90);
    write(d, "mon.txt", long.join(" ") + "\n");
    write(d, "tue.txt", long[10..40].join(" ") + "\n");
    ok(
        d,
        &[
            "index",
            "create",
            "i.ndx",
            "mon.txt",
            "--containment-words",
            "25",
            "-q",
            "--name",
            "monday",
        ],
    );
    let scanned = against(d, "tue.txt", "i.ndx", &[]);
    let c = &scanned["contained"][0];
    assert_eq!(
        (c["short_words"].to_string(), c["long_words"].to_string()),
        ("[0,30]".into(), "[10,40]".into())
    );
    let explain = || {
        let args = [
            "explain",
            "tue.txt:1",
            "--against",
            "i.ndx",
            "--color",
            "never",
        ];
        String::from_utf8_lossy(&ok(d, &args).stdout).into_owned()
    };
    for gone in [false, true] {
        if gone {
            std::fs::remove_file(d.join("mon.txt")).unwrap();
        }
        let text = explain();
        assert!(
            text.contains("B  mon.txt:1 [index batch monday, row 0]"),
            "{text}"
        );
        assert!(
            text.contains("containment 1.00, what `scan --containment` reports"),
            "{text}"
        );
        assert!(
            text.contains("1.0000 = 26/26 of A's shingles are in B (A is the shorter)"),
            "{text}"
        );
        assert!(
            text.contains("words 1-30 of 30 in A, 11-40 of 90 in B"),
            "{text}"
        );
        assert_eq!(text.contains("its text is not at hand"), gone, "{text}");
    }
    // Without containment fingerprints, no such B.
    write(d, "mon.txt", long.join(" ") + "\n");
    ok(d, &["index", "compact", "i.ndx", "--no-containment"]);
    let text = explain();
    assert!(text.contains("no paragraph of i.ndx"), "{text}");
}

/// Containment fingerprints for quotes shorter than a shingle, or longer
/// than containment looks for (a window of 4 billion words once asked for
/// 32 GB at once, and the process aborted), are refused by `index create`
/// (which leaves no index behind), `index compact` (which leaves the index
/// as it was) and a scan, with a message that names the lengths.
#[test]
fn containment_words_shorter_than_a_shingle_are_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    write(d, "a.txt", Words(9).take(40).join(" ") + "\n");
    let refused = |args: &[&str]| {
        let out = neardup().current_dir(d).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains("5 words (one shingle) to 10000, not"), "{err}");
    };
    for huge in ["10001", "4294967296"] {
        refused(&[
            "scan",
            "a.txt",
            "--containment",
            "--containment-words",
            huge,
        ]);
        refused(&[
            "index",
            "create",
            "h.ndx",
            "a.txt",
            "--containment-words",
            huge,
        ]);
        assert!(!d.join("h.ndx").exists());
    }
    refused(&[
        "index",
        "create",
        "i.ndx",
        "a.txt",
        "--containment-words",
        "3",
    ]);
    assert!(!d.join("i.ndx").exists());
    ok(d, &["index", "create", "i.ndx", "a.txt", "-q"]);
    refused(&["index", "compact", "i.ndx", "--containment-words", "4"]);
    refused(&["index", "compact", "i.ndx", "--containment-words", "10001"]);
    let info = ok(d, &["index", "info", "i.ndx"]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("generation 1,") && !info.contains("containment_words"),
        "{info}"
    );
}
