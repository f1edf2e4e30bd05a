//! Throughput of each stage and of a whole scan, in bytes of paragraph text
//! per second. Input: the sample corpus's paragraphs, repeated with a
//! varying number prefixed so that the copies are distinct paragraphs.
//!
//! Run with `cargo bench --bench stages`; criterion prints MB/s per stage.
//! Generated and sample text is friendlier than real prose (fewer
//! non-ASCII characters, shorter words): set `NEARDUP_BENCH_CORPUS` to a
//! JSON Lines file (such as `benches/prose_corpus.py` makes) to measure the
//! stages on the first megabyte of its records' paragraphs instead.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::Config;
use neardup::corpus::{Format, Input, MemorySource};
use neardup::fingerprint::{Fingerprinter, Scratch};
use neardup::minhash::MinHasher;
use neardup::normalize::TokenKind;
use neardup::pipeline::{ScanOptions, Silent, scan};
use neardup::shingle::{self, ShingleSet, Shingler};

/// About 1 MB of paragraphs: from `NEARDUP_BENCH_CORPUS` if set, else the
/// sample corpus's news.
fn paragraphs() -> Vec<String> {
    match std::env::var_os("NEARDUP_BENCH_CORPUS") {
        Some(path) => corpus_paragraphs(std::path::Path::new(&path)),
        None => sample_paragraphs(),
    }
}

/// The non-blank lines of the records' `text` fields, up to about 1 MB.
fn corpus_paragraphs(path: &std::path::Path) -> Vec<String> {
    let data = std::fs::read_to_string(path).expect("NEARDUP_BENCH_CORPUS is readable");
    let mut out = Vec::new();
    let mut bytes = 0;
    for line in data.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
        let text = record["text"].as_str().expect("a text field");
        for para in text.lines().filter(|l| !l.trim().is_empty()) {
            bytes += para.len() + 1;
            out.push(para.to_owned());
        }
        if bytes >= 1_000_000 {
            break;
        }
    }
    out
}

/// The sample corpus's news paragraphs, repeated with a varying number
/// prefixed so that the copies are distinct paragraphs.
fn sample_paragraphs() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/news");
    let mut base = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        base.extend(
            text.lines()
                .filter(|l| l.split_whitespace().count() >= 5)
                .map(str::to_owned),
        );
    }
    let mut out = Vec::new();
    let mut i = 0;
    while out.iter().map(|p: &String| p.len() + 1).sum::<usize>() < 1_000_000 {
        out.push(format!("{i} {}", base[i % base.len()]));
        i += 1;
    }
    out
}

fn stages(c: &mut Criterion) {
    let paras = paragraphs();
    let bytes: u64 = paras.iter().map(|p| p.len() as u64 + 1).sum();
    let config = Config::default();
    let shingler = Shingler::new(TokenKind::Words, config.shingle_size());
    let fp = Fingerprinter::new(&config);

    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Bytes(bytes));

    let normalizer = neardup::normalize::Normalizer::new(TokenKind::Words);
    g.bench_function("normalise", |b| {
        let mut scratch = neardup::normalize::Scratch::default();
        b.iter(|| {
            let mut n = 0;
            for p in &paras {
                n += normalizer.tokens(p, &mut scratch, |t| {
                    black_box(t);
                });
            }
            black_box(n)
        })
    });

    g.bench_function("normalise+shingle", |b| {
        let mut scratch = shingle::Scratch::default();
        b.iter(|| {
            let mut n = 0;
            for p in &paras {
                n += shingler.shingle(p, &mut scratch).hashes.len();
            }
            black_box(n)
        })
    });

    let shingled: Vec<Vec<u64>> = paras
        .iter()
        .map(|p| {
            shingler
                .shingle(p, &mut shingle::Scratch::default())
                .hashes
                .to_vec()
        })
        .collect();
    let minhasher = MinHasher::new(config.num_perm(), config.seed());
    g.bench_function("minhash", |b| {
        let mut sig = vec![0u32; config.num_perm()];
        b.iter(|| {
            for s in &shingled {
                minhasher.fill(s, &mut sig);
            }
            black_box(sig[0])
        })
    });

    let signatures: Vec<_> = shingled.iter().map(|s| minhasher.signature(s)).collect();
    g.bench_function("lsh band keys", |b| {
        b.iter(|| {
            let mut x = 0u64;
            for s in &signatures {
                x ^= fp.band_keys(s.values()).fold(0, |a, k| a ^ k);
            }
            black_box(x)
        })
    });

    let sets: Vec<ShingleSet> = shingled
        .iter()
        .map(|s| ShingleSet::from_hashes(s))
        .collect();
    g.bench_function("verify (exact jaccard, neighbours)", |b| {
        b.iter(|| {
            let mut shared = 0u64;
            for w in sets.windows(2) {
                shared += u64::from(w[0].jaccard(&w[1]).intersection);
            }
            black_box(shared)
        })
    });

    g.bench_function("fingerprint (all per-paragraph work)", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            let mut n = 0u64;
            for p in &paras {
                if let Some(f) = fp.fingerprint_with(p, &mut scratch) {
                    n ^= f.content;
                }
            }
            black_box(n)
        })
    });
    g.finish();

    // End to end: one JSON Lines input, 20 paragraphs per record.
    let jsonl: String = paras
        .chunks(20)
        .enumerate()
        .map(|(i, c)| serde_json::json!({"id": i, "text": c.join("\n")}).to_string() + "\n")
        .collect();
    let mut g = c.benchmark_group("end-to-end");
    g.throughput(Throughput::Bytes(jsonl.len() as u64));
    g.sample_size(20);
    g.bench_function("scan jsonl", |b| {
        b.iter(|| {
            let inputs = [Input::new(
                MemorySource::new("bench.jsonl", &jsonl),
                Format::Jsonl,
            )];
            let report = scan(&inputs, &config, &ScanOptions::default(), &Silent).unwrap();
            black_box(report.summary.duplicate_paragraphs)
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
