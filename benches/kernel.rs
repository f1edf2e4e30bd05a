//! The signing kernel alone, on one core, over pre-shingled paragraphs: each
//! shingle string is hashed to 64 bits with neardup's hash (XXH3-64, seed 0,
//! over the string's UTF-8 bytes) and each paragraph's hashes go through
//! [`MinHasher::fill`], the same MinHash the scan computes (128 values by
//! default). This is the stage that peers' batch signing calls do (rensa's
//! `digest_matrix_from_token_sets` hashes each token string and takes the
//! minima), so the two can be timed on the very same strings:
//! `python3 benches/compare.py --kernel --corpus CORPUS` writes the shingle
//! strings its Python workers make, times rensa's calls on them and runs this
//! bench on the same file, round after round, on one CPU.
//!
//! Input, from the environment:
//!
//! - `NEARDUP_KERNEL_SHINGLES`: a UTF-8 file of one paragraph per line, its
//!   distinct shingles separated by tabs (what `compare.py --kernel` writes).
//!   Without it, the shingles are made here from `data/news` (neardup's word
//!   tokens joined by spaces into distinct 5-grams), so that a bare
//!   `cargo bench` still runs.
//! - `NEARDUP_KERNEL_NUM_PERM`: the signature width (default 128, the
//!   scan's).
//!
//! Reading the file and building the string list are not timed; hashing,
//! the signatures and a new row-major matrix holding them all (as rensa's
//! calls return) are. Throughput is in shingles per second.
//!
//! Run alone with `cargo bench --bench kernel`, or pinned to one CPU with
//! `taskset -c 1 cargo bench --bench kernel` (the code is single-threaded).

use std::hint::black_box;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use neardup::hash::xxh3;
use neardup::minhash::{DEFAULT_NUM_PERM, DEFAULT_SEED, MinHasher};
use neardup::normalize::{self, Normalizer, TokenKind};

/// The shingle file's text, or shingle lines made from `data/news`.
fn shingle_text() -> (String, String) {
    if let Some(path) = std::env::var_os("NEARDUP_KERNEL_SHINGLES") {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.to_string_lossy()));
        return (text, path.to_string_lossy().into_owned());
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/news");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let normalizer = Normalizer::new(TokenKind::Words);
    let mut scratch = normalize::Scratch::default();
    let mut out = String::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let mut words = Vec::new();
            normalizer.tokens(line, &mut scratch, |t| words.push(t.to_owned()));
            if words.len() < 2 {
                continue;
            }
            let mut seen = std::collections::HashSet::new();
            let grams: Vec<String> = if words.len() < 5 {
                vec![words.join(" ")]
            } else {
                words
                    .windows(5)
                    .map(|w| w.join(" "))
                    .filter(|g| seen.insert(g.clone()))
                    .collect()
            };
            out.push_str(&grams.join("\t"));
            out.push('\n');
        }
    }
    (
        out,
        format!("{dir} (set NEARDUP_KERNEL_SHINGLES for a file)"),
    )
}

fn kernel(c: &mut Criterion) {
    let (text, source) = shingle_text();
    let paragraphs: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let shingles: usize = paragraphs.iter().map(Vec::len).sum();
    let longest = paragraphs.iter().map(Vec::len).max().unwrap_or(0);
    let num_perm = std::env::var("NEARDUP_KERNEL_NUM_PERM")
        .ok()
        .map(|v| v.parse().expect("NEARDUP_KERNEL_NUM_PERM: a number"))
        .unwrap_or(DEFAULT_NUM_PERM);
    eprintln!(
        "kernel input: {} paragraphs, {shingles} shingles, from {source}; num_perm {num_perm}",
        paragraphs.len()
    );
    let minhasher = MinHasher::new(num_perm, DEFAULT_SEED);

    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(shingles as u64));
    // One pass takes tens of milliseconds: the same number of passes per
    // sample, and the median of the samples is what compare.py reads.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.bench_function("neardup_sign", |b| {
        let mut hashes: Vec<u64> = Vec::with_capacity(longest);
        b.iter(|| {
            // A new row-major matrix of all the signatures per pass, as
            // rensa's digest_matrix_* calls return one.
            let mut matrix = vec![0u32; paragraphs.len() * num_perm];
            for (p, sig) in paragraphs.iter().zip(matrix.chunks_exact_mut(num_perm)) {
                hashes.clear();
                hashes.extend(p.iter().map(|s| xxh3(s.as_bytes(), 0)));
                minhasher.fill(&hashes, sig);
            }
            black_box(matrix)
        })
    });
    // The hashing share of the above: XXH3-64 of every shingle string.
    g.bench_function("neardup_hash_only", |b| {
        b.iter(|| {
            let mut x = 0u64;
            for p in &paragraphs {
                for s in p {
                    x ^= xxh3(s.as_bytes(), 0);
                }
            }
            black_box(x)
        })
    });
    g.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
