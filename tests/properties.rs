//! Property tests of the whole detection pipeline against a brute-force
//! oracle: on small random corpora, the clusters `scan` reports must be
//! exactly what the no-chaining rule gives when every pair of paragraphs is
//! compared by exact Jaccard similarity.
//!
//! The corpus is written as plain text files, JSON Lines, a WET file and
//! (with the `parquet` feature) a Parquet file; all must give the same
//! clusters.
//!
//! The banding here (128 bands of 2 rows) makes a pair at similarity 0.5 a
//! candidate with probability 1 - 0.75^128 > 1 - 10^-15, so LSH misses
//! cannot make the comparison flaky; everything after LSH (exact classes,
//! grouping, the rule, the re-read pass) is what is under test.
//!
//! Beyond the oracle: the duplicates found do not depend on the thread
//! count or on how the documents are spread over files; cleaned inputs
//! plus the removal log are the input's paragraphs; and arbitrary bytes and
//! arbitrary JSON Lines (the fuzz target `pipeline`'s checks, run here on
//! proptest's inputs) never make the scan or the rewrite fail or panic; and
//! arbitrary JSON ids reach the report exactly as written (issue 19).

use std::collections::BTreeMap;

use neardup::corpus::{Format, Input, JsonlFields, MemorySource, jsonl};
use neardup::id::InputId;
use neardup::paragraph::{ParagraphMode, paragraphs};
use neardup::pipeline::{ScanOptions, Silent, scan};
use neardup::report::json::{Json, Jsonl};
use neardup::report::{Render, Report};
use neardup::rewrite::{CleanOptions, Event, Removals, rewrite};
use neardup::{Config, Fingerprinter, Scope, Threshold};
use proptest::prelude::*;

#[path = "../fuzz/checks/pipeline.rs"]
mod pipeline_check;

/// A paragraph from a tiny vocabulary, so that random paragraphs often
/// share shingles; sometimes a copy or a lightly edited copy of an earlier
/// one.
fn corpus() -> impl Strategy<Value = Vec<Vec<String>>> {
    let word = prop::sample::select(vec![
        "alpha", "beta", "gamma", "delta", "Alpha,", "BETA", "eps",
    ]);
    let paragraph = prop::collection::vec(word, 1..9).prop_map(|w| w.join(" "));
    let doc = prop::collection::vec(paragraph, 0..6);
    prop::collection::vec(doc, 1..5).prop_flat_map(|docs| {
        let n = docs.len();
        // Copy some paragraphs into later positions to plant exact repeats.
        prop::collection::vec((0..n, 0..6usize, 0..n), 0..4).prop_map(move |copies| {
            let mut docs = docs.clone();
            for (from, para, to) in copies {
                if let Some(p) = docs[from].get(para % docs[from].len().max(1)).cloned() {
                    docs[to].push(p);
                }
            }
            docs
        })
    })
}

/// (doc, paragraph) of each kept paragraph with duplicates, and of its
/// duplicates, in input order.
type Clusters = Vec<((usize, u32), Vec<(usize, u32)>)>;

/// The rule over every pair; the first `reference` documents are a
/// reference corpus: all kept, never duplicates. A paragraph is a duplicate
/// of the earliest kept paragraph with the same normalised text, else of the
/// earliest kept paragraph it matches. (Without a reference the first choice
/// is always the second too: a kept paragraph matched by an earlier kept
/// one cannot exist. With one, reference paragraphs are kept even so.)
fn oracle(docs: &[Vec<String>], config: &Config, reference: usize) -> Clusters {
    let fp = Fingerprinter::new(config);
    let mut scratch = neardup::fingerprint::Scratch::default();
    // (doc, paragraph), shingle set, content hash.
    let mut all = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        let text = doc.join("\n");
        for (i, p) in paragraphs(text.as_bytes(), ParagraphMode::Line).enumerate() {
            let p = String::from_utf8(p.text.to_vec()).unwrap();
            if let Some((set, content)) = fp.shingle_set_with(&p, &mut scratch) {
                all.push(((d, i as u32), set, content));
            }
        }
    }
    let mut kept: Vec<usize> = Vec::new();
    let mut clusters: std::collections::BTreeMap<usize, Vec<(usize, u32)>> = Default::default();
    for j in 0..all.len() {
        if all[j].0.0 < reference {
            kept.push(j);
            continue;
        }
        let in_scope = |k: usize| config.scope() == Scope::All || all[k].0.0 == all[j].0.0;
        let copy_of = kept
            .iter()
            .copied()
            .find(|&k| in_scope(k) && all[k].2 == all[j].2);
        let hit = copy_of.or_else(|| {
            kept.iter()
                .copied()
                .find(|&k| in_scope(k) && all[k].1.jaccard(&all[j].1).meets(config.threshold()))
        });
        match hit {
            Some(k) => clusters.entry(k).or_default().push(all[j].0),
            None => kept.push(j),
        }
    }
    clusters
        .into_iter()
        .map(|(k, dups)| (all[k].0, dups))
        .collect()
}

/// A WET file of `docs` as Common Crawl writes it: a gzip member per record,
/// a `warcinfo` record first.
fn wet(docs: &[Vec<String>]) -> Vec<u8> {
    use std::io::Write;
    let record = |kind: &str, body: &str| {
        let record = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(record.as_bytes()).unwrap();
        gz.finish().unwrap()
    };
    let mut out = record("warcinfo", "software: proptest\n");
    for d in docs {
        out.extend(record("conversion", &d.join("\n")));
    }
    out
}

/// A Parquet file of `docs`, one row each, two rows per row group.
#[cfg(feature = "parquet")]
fn parquet(docs: &[Vec<String>]) -> Vec<u8> {
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let schema =
        parquet::schema::parser::parse_message_type("message doc { required binary text (UTF8); }")
            .unwrap();
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), props).unwrap();
    for group in docs.chunks(2) {
        let mut rg = writer.next_row_group().unwrap();
        let mut column = rg.next_column().unwrap().unwrap();
        let texts: Vec<ByteArray> = group.iter().map(|d| d.join("\n").as_str().into()).collect();
        column
            .typed::<ByteArrayType>()
            .write_batch(&texts, None, None)
            .unwrap();
        column.close().unwrap();
        rg.close().unwrap();
    }
    writer.into_inner().unwrap()
}

/// The formats the corpus is written in.
fn formats() -> Vec<Format> {
    let mut formats = vec![Format::Text, Format::Jsonl, Format::Wet];
    if cfg!(feature = "parquet") {
        formats.push(Format::Parquet);
    }
    formats
}

/// The report of a scan of `docs` written in `format`, in which the first
/// `reference` documents (each its own input: plain text only) are a
/// reference corpus.
fn scanned(
    docs: &[Vec<String>],
    config: &Config,
    block_size: usize,
    format: Format,
    reference: usize,
) -> Clusters {
    let one = |name: &str, bytes: Vec<u8>| vec![Input::new(MemorySource::new(name, bytes), format)];
    let inputs: Vec<Input> = match format {
        Format::Jsonl => {
            let lines: String = docs
                .iter()
                .map(|d| serde_json::json!({ "text": d.join("\n") }).to_string() + "\n")
                .collect();
            one("c.jsonl", lines.into_bytes())
        }
        Format::Wet => one("c.warc.wet.gz", wet(docs)),
        #[cfg(feature = "parquet")]
        Format::Parquet => one("c.parquet", parquet(docs)),
        _ => docs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                Input::new(
                    MemorySource::new(format!("{i}.txt"), d.join("\n")),
                    Format::Text,
                )
            })
            .collect(),
    };
    let options = ScanOptions {
        block_size,
        reference,
        ..ScanOptions::default()
    };
    let report = scan(&inputs, config, &options, &Silent).unwrap();
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    report
        .clusters
        .iter()
        .map(|c| {
            let at = |l: &neardup::report::Location| (l.doc_index.index(), l.paragraph);
            (
                at(&c.kept.location),
                c.duplicates
                    .iter()
                    .map(|d| at(&d.member.location))
                    .collect(),
            )
        })
        .collect()
}

fn config(threshold: &str, shingle_size: usize) -> Config {
    scoped(threshold, shingle_size, Scope::All)
}

fn scoped(threshold: &str, shingle_size: usize, scope: Scope) -> Config {
    Config::builder()
        .scope(scope)
        .threshold(threshold.parse::<Threshold>().unwrap())
        .shingle_size(shingle_size)
        .min_words(1)
        .num_perm(256)
        .bands(128)
        .rows(2)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn clusters_equal_the_brute_force_rule(
        docs in corpus(),
        threshold in prop::sample::select(vec!["0.5", "0.6", "0.75", "0.8", "1"]),
        shingle_size in 1usize..4,
        block_size in prop::sample::select(vec![8usize, 64, 1 << 20]),
        format in prop::sample::select(formats()),
        scope in prop::sample::select(vec![Scope::All, Scope::Within]),
    ) {
        let config = scoped(threshold, shingle_size, scope);
        prop_assert_eq!(scanned(&docs, &config, block_size, format, 0), oracle(&docs, &config, 0));
    }

    #[test]
    fn reference_corpus_equals_the_brute_force_rule(
        docs in corpus(),
        threshold in prop::sample::select(vec!["0.5", "0.75", "1"]),
        shingle_size in 1usize..4,
        block_size in prop::sample::select(vec![8usize, 1 << 20]),
        scope in prop::sample::select(vec![Scope::All, Scope::Within]),
        reference in 0usize..5,
    ) {
        let config = scoped(threshold, shingle_size, scope);
        let reference = reference.min(docs.len());
        prop_assert_eq!(
            scanned(&docs, &config, block_size, Format::Text, reference),
            oracle(&docs, &config, reference)
        );
    }

    #[test]
    fn thread_count_does_not_change_the_report(docs in corpus(), block_size in prop::sample::select(vec![8usize, 64])) {
        let config = config("0.6", 2);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| scanned(&docs, &config, block_size, Format::Text, 0))
        };
        prop_assert_eq!(run(1), run(4));
    }
}

/// Lines of one or two templates with a number changed ("... paragraph 17
/// of the annual report ..."): alike enough to share band keys, mostly not
/// alike enough to match, in groups far larger than the size from which
/// the rule searches a group through its prefix-filter index
/// (src/cluster/kept.rs). Some lines reuse an earlier line's number (an
/// exact copy) or change one more word (a near copy that may or may not
/// match, depending on the threshold).
fn templated() -> impl Strategy<Value = Vec<Vec<String>>> {
    let line = (
        0usize..2,
        0u32..300,
        prop::option::weighted(0.3, 0usize..12),
    );
    prop::collection::vec(prop::collection::vec(line, 100..200), 2..5).prop_map(|docs| {
        let templates = [
            "the board agreed that paragraph {} of the annual report should stay as written",
            "photo {} of the gallery shows the harbour wall after the storm last winter",
        ];
        docs.into_iter()
            .map(|doc| {
                doc.into_iter()
                    .map(|(t, n, edit)| {
                        let mut words: Vec<String> = templates[t]
                            .replace("{}", &n.to_string())
                            .split(' ')
                            .map(str::to_owned)
                            .collect();
                        if let Some(at) = edit {
                            words[at] = "changed".to_owned();
                        }
                        words.join(" ")
                    })
                    .collect()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn templates_equal_the_brute_force_rule(
        docs in templated(),
        threshold in prop::sample::select(vec!["0.5", "0.6", "0.8", "0.9"]),
        shingle_size in 2usize..6,
    ) {
        let config = config(threshold, shingle_size);
        prop_assert_eq!(scanned(&docs, &config, 1 << 20, Format::Text, 0), oracle(&docs, &config, 0));
    }
}

/// `docs` as JSON Lines files, a new file starting before document `i`
/// wherever `cut[i]` is true.
fn spread(docs: &[Vec<String>], cut: &[bool]) -> Vec<Input> {
    let mut files: Vec<String> = vec![String::new()];
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 && cut.get(i).copied().unwrap_or(false) {
            files.push(String::new());
        }
        let record = serde_json::json!({ "text": doc.join("\n") }).to_string();
        let file = files.last_mut().expect("one file at least");
        file.push_str(&record);
        file.push('\n');
    }
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| Input::new(MemorySource::new(format!("{i}.jsonl"), f), Format::Jsonl))
        .collect()
}

/// Each document as a plain text file.
fn one_file_each(docs: &[Vec<String>]) -> Vec<Input> {
    docs.iter()
        .enumerate()
        .map(|(i, d)| {
            Input::new(
                MemorySource::new(format!("{i}.txt"), d.join("\n")),
                Format::Text,
            )
        })
        .collect()
}

/// The duplicates of a scan of `docs`, by their text, with the text they
/// repeat, sorted.
fn duplicate_texts(docs: &[Vec<String>], report: &Report) -> Vec<(String, String)> {
    let text = |l: &neardup::report::Location| docs[l.doc_index][l.paragraph as usize].clone();
    let mut out: Vec<(String, String)> = report
        .clusters
        .iter()
        .flat_map(|c| {
            c.duplicates
                .iter()
                .map(|d| (text(&d.member.location), text(&c.kept.location)))
        })
        .collect();
    out.sort();
    out
}

/// How many times each paragraph text occurs.
type Multiset = BTreeMap<String, usize>;

/// The paragraphs of a plain text or JSON Lines input, counted.
fn paragraph_multiset(format: Format, bytes: &[u8], into: &mut Multiset) {
    let mut add = |text: &[u8]| {
        for p in paragraphs(text, ParagraphMode::Line) {
            *into
                .entry(String::from_utf8_lossy(p.text).into_owned())
                .or_default() += 1;
        }
    };
    match format {
        Format::Jsonl => {
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                add(jsonl::parse(line, &JsonlFields::default())
                    .unwrap()
                    .text
                    .as_bytes());
            }
        }
        _ => add(bytes),
    }
}

/// A line of a JSON Lines file as found in the wild: mostly good records,
/// some malformed, some with invalid UTF-8 in a string.
fn wild_jsonl_line() -> impl Strategy<Value = Vec<u8>> {
    let text = "(alpha|beta|gamma|café|Ünï|\\PC| |\n|\"){0,12}";
    prop_oneof![
        4 => (text, any::<Option<u16>>()).prop_map(|(t, id)| {
            serde_json::json!({ "id": id, "text": t, "meta": {"k": [1, 2]} }).to_string().into_bytes()
        }),
        1 => text.prop_map(|t| format!("{{\"text\": {}", serde_json::json!(t)).into_bytes()),
        1 => any::<i64>().prop_map(|n| format!("{{\"text\": {n}}}").into_bytes()),
        1 => Just(b"{\"body\": \"no text field\"}".to_vec()),
        1 => (text, prop::collection::vec(0x80u8..=0xff, 1..3)).prop_map(|(t, bad)| {
            let mut line = format!("{{\"text\": \"{} ", t.replace(['"', '\n', '\\'], " ")).into_bytes();
            line.extend(bad);
            line.extend_from_slice(b" beta gamma\"}");
            line
        }),
        1 => prop::collection::vec(any::<u8>().prop_filter("one line", |b| *b != b'\n'), 0..30),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The same documents, spread over files differently and scanned with
    /// a different number of threads, give the same duplicates.
    #[test]
    fn duplicates_do_not_depend_on_threads_or_files(
        docs in corpus(),
        cut in prop::collection::vec(any::<bool>(), 0..6),
        threads in 1usize..4,
        scope in prop::sample::select(vec![Scope::All, Scope::Within]),
    ) {
        let config = scoped("0.6", 2, scope);
        let options = ScanOptions { block_size: 16, ..ScanOptions::default() };
        let in_pool = |threads: usize, inputs: Vec<Input>| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| scan(&inputs, &config, &options, &Silent).unwrap())
        };
        let reference = in_pool(1, one_file_each(&docs));
        let spread = in_pool(threads, spread(&docs, &cut));
        prop_assert!(spread.diagnostics.is_empty(), "{:?}", spread.diagnostics);
        prop_assert_eq!(duplicate_texts(&docs, &spread), duplicate_texts(&docs, &reference));
    }

    /// Cleaning removes exactly the duplicates: every input's cleaned
    /// paragraphs plus the paragraphs its log lists are its paragraphs.
    #[test]
    fn cleaned_output_and_removal_log_are_the_input(
        docs in corpus(),
        as_jsonl in any::<bool>(),
        drop_empty in any::<bool>(),
        threshold in prop::sample::select(vec!["0.5", "0.8", "1"]),
        scope in prop::sample::select(vec![Scope::All, Scope::Within]),
    ) {
        let config = scoped(threshold, 2, scope);
        let inputs = if as_jsonl { spread(&docs, &[]) } else { one_file_each(&docs) };
        let report = scan(&inputs, &config, &ScanOptions::default(), &Silent).unwrap();
        let removals = Removals::new(&report, &inputs);
        let options = CleanOptions { drop_empty, ..CleanOptions::default() };
        let mut removed = 0;
        for (i, input) in inputs.iter().enumerate() {
            let mut original = Vec::new();
            std::io::Read::read_to_end(&mut input.source.open().unwrap(), &mut original).unwrap();
            let mut expected = Multiset::new();
            paragraph_multiset(input.format, &original, &mut expected);
            let (mut out, mut after) = (Vec::new(), Multiset::new());
            let stats = rewrite(input, InputId::new(i as u32), &removals, &options, &mut out, |e| {
                if let Event::Removed { text, .. } = e {
                    *after.entry(text.to_owned()).or_default() += 1;
                }
                Ok(())
            })
            .unwrap();
            paragraph_multiset(input.format, &out, &mut after);
            prop_assert_eq!(after, expected, "{}", input.source.name());
            removed += stats.removed;
        }
        prop_assert_eq!(removed, report.summary.duplicate_paragraphs);
    }

    /// Arbitrary bytes, as any format, with blocks down to one byte.
    #[test]
    fn arbitrary_bytes_never_fail(
        settings in any::<[u8; 3]>(),
        data in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        pipeline_check::run(&[&settings[..], &data].concat());
    }

    /// Arbitrary JSON Lines, good and bad records mixed.
    #[test]
    fn arbitrary_jsonl_never_fails(
        [a, b] in any::<[u8; 2]>(),
        lines in prop::collection::vec(wild_jsonl_line(), 0..10),
    ) {
        // Every input JSON Lines (format bits 01).
        let mut data = vec![a, b, 0b0101_0101];
        for line in lines {
            data.extend(line);
            data.push(b'\n');
        }
        pipeline_check::run(&data);
    }
}

/// A JSON id as written in a record, and the `doc` a report must give it:
/// a number of any size and form (as its text), or a string of any
/// characters, each written as itself or as a `\u` escape (the decoded
/// string).
fn json_id() -> impl Strategy<Value = (String, String)> {
    let number = "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,6})?"
        .prop_map(|n| (n.clone(), n));
    let string = prop::collection::vec((any::<char>(), any::<bool>()), 0..12).prop_map(|chars| {
        let mut json = String::from("\"");
        for &(c, escaped) in &chars {
            if escaped {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    json.push_str(&format!("\\u{unit:04x}"));
                }
            } else {
                // serde_json escapes what must be escaped.
                let one = serde_json::to_string(&c.to_string()).unwrap();
                json.push_str(&one[1..one.len() - 1]);
            }
        }
        json.push('"');
        (json, chars.iter().map(|&(c, _)| c).collect())
    });
    prop_oneof![number, string]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Issue 19: every id reaches both JSON outputs as written (numbers)
    /// or decoded (strings), with no loss, in records that all repeat one
    /// another.
    #[test]
    fn json_ids_reach_the_report_unchanged(ids in prop::collection::vec(json_id(), 2..6)) {
        let lines: String = ids
            .iter()
            .map(|(json, _)| format!("{{\"text\": \"one two three\", \"id\": {json}}}\n"))
            .collect();
        let inputs = [Input::new(MemorySource::new("ids.jsonl", lines), Format::Jsonl)];
        let report = scan(&inputs, &config("0.8", 2), &ScanOptions::default(), &Silent).unwrap();
        prop_assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        let expected: Vec<&str> = ids.iter().map(|(_, doc)| doc.as_str()).collect();
        for render in [&Jsonl as &dyn Render, &Json] {
            let mut out = Vec::new();
            render.render(&report, &mut out).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let cluster = value.get("clusters").map_or(&value, |c| &c[0]);
            let docs: Vec<&str> = cluster["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["doc"].as_str().unwrap())
                .collect();
            prop_assert_eq!(&docs, &expected);
        }
    }
}

/// Every duplicate of a report, by place: (path, line) of the duplicate ->
/// (path, line) of the paragraph it repeats, and the similarity.
type Verdicts = BTreeMap<(String, u64), ((String, u64), (u32, u32))>;

fn verdicts(report: &Report) -> Verdicts {
    let at = |l: &neardup::report::Location| (l.path.to_string(), l.line);
    report
        .clusters
        .iter()
        .flat_map(|c| {
            c.duplicates.iter().map(move |d| {
                let s = (d.similarity.intersection, d.similarity.union);
                (at(&d.member.location), (at(&c.kept.location), s))
            })
        })
        .collect()
}

/// `docs` cut into batches before the documents where `cut` is true, each
/// document a plain text file.
fn batches(docs: &[Vec<String>], cut: &[bool]) -> Vec<Vec<Input>> {
    let mut out: Vec<Vec<Input>> = vec![Vec::new()];
    for (i, input) in one_file_each(docs).into_iter().enumerate() {
        if i > 0 && cut.get(i).copied().unwrap_or(false) {
            out.push(Vec::new());
        }
        out.last_mut().expect("one batch at least").push(input);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The equivalence that defines a scan against earlier batches (issue
    /// 15): scanning batch after batch, each against the kept paragraphs
    /// of those before it, gives every paragraph the verdict (kept, or a
    /// duplicate of which paragraph, with which similarity) that one scan
    /// of all the batches gives it; and what is kept is exactly what the
    /// one scan keeps.
    #[test]
    fn batches_against_a_prior_equal_one_scan(
        docs in prop_oneof![corpus(), templated()],
        cut in prop::collection::vec(any::<bool>(), 0..8),
        threshold in prop::sample::select(vec!["0.5", "0.7", "0.9"]),
        threads in 1usize..3,
    ) {
        use neardup::pipeline::prior::MemoryPrior;
        use neardup::pipeline::{Extras, scan_with};
        let config = config(threshold, 2);
        let options = ScanOptions::default();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let whole = scan(&one_file_each(&docs), &config, &options, &Silent).unwrap();
        let mut prior = MemoryPrior::default();
        let mut found = Verdicts::new();
        for batch in batches(&docs, &cut) {
            let before = prior.clone();
            let mut sink = prior.batch();
            let extras = Extras { prior: Some(&before), kept: Some(&mut sink), ..Extras::default() };
            let report = pool.install(|| scan_with(&batch, &config, &options, &Silent, extras)).unwrap();
            prop_assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
            found.extend(verdicts(&report));
        }
        prop_assert_eq!(found, verdicts(&whole));
        let kept = whole.summary.fingerprinted - whole.summary.duplicate_paragraphs;
        prop_assert_eq!(prior.len() as u64, kept);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A scan that stores its kept paragraphs and shows no snippets
    /// (`ScanOptions::snippets`, as `index create` and `index add` run)
    /// verifies with the tokens its first pass kept, instead of reading
    /// its candidates again: batch after batch, it stores the same
    /// paragraphs (tokens, band keys, places) and reports the same
    /// findings, but for the snippets, as one that reads them again.
    #[test]
    fn a_scan_that_stores_verifies_the_same_from_its_first_pass(
        docs in prop_oneof![corpus(), templated()],
        cut in prop::collection::vec(any::<bool>(), 0..8),
        block_size in prop::sample::select(vec![16usize, 64, 1 << 20]),
        threshold in prop::sample::select(vec!["0.5", "0.8"]),
        threads in 1usize..3,
    ) {
        use neardup::pipeline::prior::MemoryPrior;
        use neardup::pipeline::{Extras, scan_with};
        let config = config(threshold, 2);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let run = |snippets: bool| {
            let options = ScanOptions { block_size, snippets, ..ScanOptions::default() };
            let mut prior = MemoryPrior::default();
            let mut reports = Vec::new();
            for batch in batches(&docs, &cut) {
                let before = prior.clone();
                let mut sink = prior.batch();
                let extras =
                    Extras { prior: Some(&before), kept: Some(&mut sink), ..Extras::default() };
                let report = pool.install(|| scan_with(&batch, &config, &options, &Silent, extras));
                reports.push(report.unwrap());
            }
            (prior, reports)
        };
        let (read, read_reports) = run(true);
        let (spilled, spilled_reports) = run(false);
        prop_assert_eq!(format!("{spilled:?}"), format!("{read:?}"));
        for (without, mut with) in spilled_reports.into_iter().zip(read_reports) {
            prop_assert!(without.diagnostics.is_empty(), "{:?}", without.diagnostics);
            for cluster in &mut with.clusters {
                for d in &mut cluster.duplicates {
                    prop_assert!(!d.member.snippet.is_empty(), "a duplicate read again has its snippet");
                    d.member.snippet.clear();
                }
            }
            prop_assert_eq!(&without.clusters, &with.clusters);
            prop_assert_eq!(format!("{:?}", without.passages), format!("{:?}", with.passages));
            prop_assert_eq!(format!("{:?}", without.summary), format!("{:?}", with.summary));
        }
    }
}
