use super::*;
use crate::index::file::FileWriter;
use crate::index::segment::{KIND, SegmentBuilder, Winnowing};
use crate::pipeline::prior::{KeptParagraph, KeptSink, VariantParagraph};
use std::io::Write;

/// The content hash of a row of `tokens`.
fn content(tokens: &[u64]) -> u64 {
    content_of_tokens(tokens.iter().copied(), &mut Vec::new())
}

/// Paragraph `paragraph` of document `doc` in `path`, on line
/// `doc + paragraph + 1`.
fn line_of(path: &Arc<str>, doc: u32, paragraph: u32) -> Location {
    Location {
        path: path.clone(),
        input: InputId::new(0),
        doc: path.clone(),
        url: None,
        doc_index: DocId::new(doc),
        doc_line: 1,
        paragraph,
        line: u64::from(doc + paragraph) + 1,
        start: 0,
        end: 1,
        batch: None,
    }
}

/// A segment's containment fingerprints are those `winnow` selects
/// from each row's shingles, and reading their buckets one by one and
/// reading the table a megabyte at a time find the same rows of them,
/// cut at the limit.
/// Variant rows sit between kept rows with their tokens and place,
/// are in no band table, have their fingerprints in `VWFP` only (the
/// kept rows' in `WFP` only), name their kept row, and pass `verify`.
#[test]
fn variants_are_rows_without_band_keys() {
    let d = std::env::temp_dir().join(format!("neardup-segv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let mut builder = SegmentBuilder::new(2, 10, || {
        FileWriter::create(&d, "s", KIND).map_err(|e| Error::index(e.to_string()))
    })
    .winnowing(Winnowing::new(5, 25));
    let path: Arc<str> = Arc::from("a.txt");
    let tokens = |row: u64| -> Vec<u64> { (0..40).map(|t| row * 1000 + t).collect() };
    // Rows 0, 2, 3 kept (keys 7 and 100 + row), rows 1 and 4 variants
    // of rows 0 and 3; the segment's first row is row 10 of the index.
    for row in 0..5u64 {
        let location = line_of(&path, row as u32, 0);
        let t = tokens(row);
        if row == 1 || row == 4 {
            let kept = 10 + row - 1;
            // Not of itself, nor of a later row.
            for later in [10 + row, 10 + row + 1] {
                let p = VariantParagraph {
                    content: content(&t),
                    kept: later,
                    tokens: Tokens::Hashes(&t),
                    location: &location,
                };
                assert!(builder.variant(p).is_err());
            }
            let p = VariantParagraph {
                content: content(&t),
                kept,
                tokens: Tokens::Hashes(&t),
                location: &location,
            };
            assert!(builder.variant(p).unwrap());
        } else {
            let keys = [7, 100 + row as u32];
            let p = KeptParagraph {
                content: content(&t),
                keys: &keys,
                tokens: Tokens::Hashes(&t),
                location: &location,
            };
            builder.kept(p).unwrap();
        }
    }
    assert_eq!(builder.variants(), 2);
    let files = builder.finish().unwrap();
    assert_eq!(files[0].1, 5);
    let segment = Segment::open(IndexFile::open(&d.join("s"), KIND).unwrap(), 0).unwrap();
    segment.verify(10).unwrap();
    assert_eq!((segment.rows, segment.variants), (5, 2));
    assert_eq!(
        segment.variant_rows(10).unwrap(),
        [(1, content(&tokens(1)), 10), (4, content(&tokens(4)), 13)]
    );
    // The variants name their kept rows by how far back they are: the
    // same file as the index's first segment names rows 0 and 3.
    assert_eq!(
        segment.variant_rows(0).unwrap(),
        [(1, content(&tokens(1)), 0), (4, content(&tokens(4)), 3)]
    );
    assert_eq!(
        segment.variant_entries().unwrap(),
        [(1, content(&tokens(1)), 1), (4, content(&tokens(4)), 1)]
    );
    let mut rows = segment.matches(0, &Wanted::new(vec![7])).unwrap();
    rows.sort_unstable();
    assert_eq!(rows, [(7, 0), (7, 2), (7, 3)]);
    assert_eq!(
        segment.matches(1, &Wanted::new(vec![101, 104])).unwrap(),
        []
    );
    assert_eq!(segment.paragraph(4).unwrap().tokens, tokens(4));
    assert_eq!(segment.content(1).unwrap(), content(&tokens(1)));
    // Each row's fingerprints: its own tokens are distinct from every
    // other row's, so they name it alone.
    let kept: Vec<u32> = segment
        .winnowed_entries()
        .unwrap()
        .iter()
        .map(|e| e.1)
        .collect();
    let variant_table = segment.variant_table().unwrap().unwrap();
    let variants: Vec<u32> = variant_table.all().unwrap().iter().map(|e| e.1).collect();
    assert!(kept.iter().all(|r| [0, 2, 3].contains(r)), "{kept:?}");
    assert!(variants.iter().all(|r| [1, 4].contains(r)), "{variants:?}");
    let fps: Vec<u64> = variant_table.all().unwrap().iter().map(|e| e.0).collect();
    let mut sorted = fps.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let found = segment.variants_winnowed(&sorted, 10).unwrap();
    assert_eq!(found.len(), variants.len());
    assert_eq!(segment.winnowed(&sorted, 10).unwrap(), []);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn containment_fingerprints_are_found_bucket_by_bucket_and_at_once() {
    let d = std::env::temp_dir().join(format!("neardup-segw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let winnowing = Winnowing::new(5, 25).unwrap();
    let mut builder = SegmentBuilder::new(1, 0, || {
        FileWriter::create(&d, "s", KIND).map_err(|e| Error::index(e.to_string()))
    })
    .winnowing(Some(winnowing));
    let path: Arc<str> = Arc::from("a.txt");
    let mut state = 11u64;
    let mut rows: Vec<Vec<u64>> = Vec::new();
    for row in 0..3_000u32 {
        // Rows of 10 to 90 random tokens, some too short to have
        // fingerprints.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let n = 10 + (state >> 40) as usize % 80;
        let mut tokens: Vec<u64> = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                state >> 20
            })
            .collect();
        // Every third row quotes 30 tokens of the first rows.
        let quoted = &rows[..rows.len().min(5)];
        if row % 3 == 0
            && let Some(q) = quoted.get((state >> 60) as usize % 5)
            && q.len() >= 30
        {
            tokens.splice(n / 2..n / 2, q[..30].iter().copied());
        }
        let location = line_of(&path, row, 0);
        builder
            .kept(KeptParagraph {
                content: content(&tokens),
                keys: &[0],
                tokens: Tokens::Hashes(&tokens),
                location: &location,
            })
            .unwrap();
        rows.push(tokens);
    }
    builder.finish().unwrap();
    let segment = Segment::open(IndexFile::open(&d.join("s"), KIND).unwrap(), 0).unwrap();
    segment.verify(0).unwrap();
    assert_eq!(segment.window(), Some(21));
    let shingler = crate::shingle::Shingler::new(crate::normalize::TokenKind::Words, 5);
    let mut expected: Vec<(u64, u32)> = Vec::new();
    for (r, tokens) in rows.iter().enumerate() {
        if tokens.len() >= 25 {
            let mut scratch = crate::shingle::Scratch::default();
            let (seq, _) = shingler.shingles_of_tokens(tokens, &mut scratch);
            let mut fps: Vec<u64> = crate::containment::winnow(seq, 21)
                .into_iter()
                .map(|p| p.0)
                .collect();
            fps.sort_unstable();
            fps.dedup();
            expected.extend(fps.into_iter().map(|fp| (fp, r as u32)));
        }
    }
    expected.sort_unstable();
    let mut wanted: Vec<u64> = expected.iter().step_by(7).map(|p| p.0).collect();
    wanted.extend([0, u64::MAX]);
    wanted.sort_unstable();
    wanted.dedup();
    for most in [1, 3, u64::MAX] {
        let searched = segment.winnowed_by(&wanted, most, true).unwrap();
        assert_eq!(
            searched,
            segment.winnowed_by(&wanted, most, false).unwrap(),
            "limit {most}"
        );
        let want: Vec<(u64, u32)> = expected
            .iter()
            .filter(|p| wanted.binary_search(&p.0).is_ok())
            .filter(|p| {
                // The first `most` rows of each fingerprint.
                let before = expected.iter().filter(|q| q.0 == p.0 && q.1 < p.1).count();
                (before as u64) < most
            })
            .copied()
            .collect();
        assert_eq!(searched, want, "limit {most}");
    }
    assert_eq!(segment.winnowed_entries().unwrap(), expected);
    let all = segment.winnowed(&wanted, usize::MAX - 1).unwrap();
    let want: Vec<(u64, u32)> = expected
        .iter()
        .filter(|p| wanted.binary_search(&p.0).is_ok())
        .copied()
        .collect();
    assert!(
        want.iter()
            .any(|w| want.iter().filter(|x| x.0 == w.0).count() > 3)
    );
    assert_eq!(all, want);
    std::fs::remove_dir_all(&d).unwrap();
}

/// Dense runs hold every number once, in order; each run ascends, its
/// numbers on average at most `DENSE` apart, within `RUN_SPAN`.
#[test]
fn dense_runs_cut_where_numbers_fall_back_or_spread() {
    let mut state = 3u64;
    let mut numbers = Vec::new();
    for _ in 0..20_000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let last = numbers.last().copied().unwrap_or(0u32);
        // One in 64 falls back, one in 64 jumps far.
        numbers.push(match state >> 58 {
            0 => last.wrapping_sub((state >> 40) as u32 % 100),
            1 => last.wrapping_add((state >> 20) as u32),
            2..8 => last,
            _ => last.wrapping_add((state >> 40) as u32 % 20),
        });
    }
    let runs: Vec<&[u32]> = dense_runs(&numbers).collect();
    assert_eq!(runs.concat(), numbers);
    assert!(runs.len() > 100 && runs.iter().any(|r| r.len() > 50));
    for run in runs {
        assert!(run.windows(2).all(|w| w[0] <= w[1]), "{run:?}");
        let span = u64::from(run[run.len() - 1] - run[0]);
        assert!(span < RUN_SPAN && span <= DENSE * (run.len() as u64 - 1).max(1));
    }
    assert_eq!(dense_runs(&[]).count(), 0);
    let far = [5, u32::MAX, 0, 1, 2];
    let runs: Vec<&[u32]> = dense_runs(&far).collect();
    assert_eq!(runs, [&[5][..], &[u32::MAX], &[0, 1, 2]]);
}

/// Binary search and streaming find the same rows, for keys that are
/// in the table (once or many times) and keys that are not.
#[test]
fn searched_and_streamed_matches_agree() {
    let d = std::env::temp_dir().join(format!("neardup-seg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let bands = 2;
    let mut n = 0;
    let mut builder = SegmentBuilder::new(bands, 0, || {
        n += 1;
        FileWriter::create(&d, &format!("s{n}"), KIND).map_err(|e| Error::index(e.to_string()))
    });
    let path: Arc<str> = Arc::from("a.txt");
    let mut state = 7u64;
    let mut all: Vec<[u32; 2]> = Vec::new();
    for row in 0..5_000u32 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        // Band 0: few distinct keys (long runs); band 1: many.
        let keys = [(state >> 60) as u32, (state >> 40) as u32];
        all.push(keys);
        let location = line_of(&path, 0, row);
        builder
            .kept(KeptParagraph {
                content: content(&[1, 2, 3]),
                keys: &keys,
                tokens: Tokens::Hashes(&[1, 2, 3]),
                location: &location,
            })
            .unwrap();
    }
    let files = builder.finish().unwrap();
    assert_eq!(files.len(), 1);
    let file = IndexFile::open(&d.join("s1"), KIND).unwrap();
    let segment = Segment::open(file, 0).unwrap();
    segment.verify(0).unwrap();
    // Every 97th and every 3rd row's keys want fewer keys than the
    // tables have buckets (found bucket by bucket); band 1's keys of
    // every row more (the table walked through the keys' bitmap).
    let Layout::Packed { bands: shape, .. } = segment.layout else {
        panic!("a packed segment")
    };
    for (band, step) in (0..bands).flat_map(|b| [(b, 97), (b, 3), (b, 1)]) {
        // Keys in the table and keys not in it.
        let mut keys: Vec<u64> = all.iter().step_by(step).map(|k| k[band].into()).collect();
        keys.extend([0, 1, u64::from(u32::MAX - 1), u64::from(u32::MAX)]);
        keys.sort_unstable();
        keys.dedup();
        let mut want: Vec<(u32, u32)> = (0..all.len() as u32)
            .map(|row| (all[row as usize][band], row))
            .filter(|&(k, _)| keys.binary_search(&k.into()).is_ok())
            .collect();
        want.sort_unstable();
        if (band, step) == (1, 1) {
            // Read by walking the whole table.
            assert!(keys.len() as u64 >= shape.buckets(), "{}", keys.len());
        }
        let keys = Wanted::new(keys);
        let by = |searched| {
            let mut out = Vec::new();
            segment
                .matches_by(band, &keys, searched, &mut Vec::new(), |k, r| {
                    out.push((k, r))
                })
                .unwrap();
            out
        };
        let mut searched = by(true);
        searched.sort_unstable();
        let streamed = by(false);
        assert!(!streamed.is_empty(), "band {band}: no key found");
        assert_eq!(searched, want, "band {band}, every {step}th row");
        assert_eq!(streamed, want, "band {band}, every {step}th row");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A segment with every kind of table (3 bands, containment
/// fingerprints, variants, several files and documents, a skewed
/// vocabulary), written into `d` as `s`; with the band keys of each
/// band and the fingerprints to look up.
fn every_table(d: &std::path::Path) -> (Vec<Vec<u64>>, Vec<u64>) {
    let mut builder = SegmentBuilder::new(3, 0, || {
        FileWriter::create(d, "s", KIND).map_err(|e| Error::index(e.to_string()))
    })
    .winnowing(Winnowing::new(5, 25));
    let paths: Vec<Arc<str>> = ["a.txt", "b.jsonl", "c/d.txt"].map(Arc::from).into();
    let mut state = 3u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % n
    };
    let mut keys: Vec<Vec<u64>> = vec![Vec::new(); 3];
    for row in 0..300u64 {
        // Tokens of a vocabulary of 400, the low numbers far more
        // often (a product of two uniform draws), 8 to 70 of them.
        let len = 8 + next(63) as usize;
        let tokens: Vec<u64> = (0..len).map(|_| next(20) * next(20) + 1).collect();
        let mut location = line_of(&paths[(row / 40) as usize % 3], (row / 7) as u32, 0);
        location.url = (row % 2 == 0).then(|| Arc::from(format!("https://x.test/{row}")));
        if row % 9 == 4 {
            let kept = row - 1 - next(3);
            let p = VariantParagraph {
                content: content(&tokens),
                kept: if kept % 9 == 4 { kept - 1 } else { kept },
                tokens: Tokens::Hashes(&tokens),
                location: &location,
            };
            builder.variant(p).unwrap();
        } else {
            // Keys from 50 values: buckets and runs of many entries.
            let k: Vec<u32> = (0..3).map(|_| next(50) as u32 * 85_899_345).collect();
            for (band, &key) in k.iter().enumerate() {
                keys[band].push(key.into());
            }
            let p = KeptParagraph {
                content: content(&tokens),
                keys: &k,
                tokens: Tokens::Hashes(&tokens),
                location: &location,
            };
            builder.kept(p).unwrap();
        }
    }
    builder.finish().unwrap();
    // Band 0's wanted keys outnumber its buckets: its table is walked.
    keys[0].extend((0..300).map(|i| i * 14_316_557));
    for k in &mut keys {
        k.extend([0, u64::from(u32::MAX)]);
        k.sort_unstable();
        k.dedup();
    }
    let segment = Segment::open(IndexFile::open(&d.join("s"), KIND).unwrap(), 0).unwrap();
    let mut fps: Vec<u64> = segment
        .winnowed_entries()
        .unwrap()
        .iter()
        .map(|e| e.0)
        .collect();
    fps.extend(
        segment
            .variant_table()
            .unwrap()
            .unwrap()
            .all()
            .unwrap()
            .iter()
            .map(|e| e.0),
    );
    fps.extend([0, u64::MAX]);
    fps.sort_unstable();
    fps.dedup();
    (keys, fps)
}

/// Every read a scan, an explanation, a compaction or a drop makes of a
/// segment.
fn read_everything(s: &Segment, keys: &[Vec<u64>], fps: &[u64]) -> Result<(), Error> {
    for (band, keys) in keys.iter().enumerate().take(s.bands()) {
        let wanted = Wanted::new(keys.clone());
        for searched in [true, false] {
            s.matches_by(band, &wanted, searched, &mut Vec::new(), |_, _| ())?;
        }
        s.band_entries(band)?;
    }
    let rows: Vec<u32> = (0..s.rows as u32).collect();
    s.locations(&rows)?;
    s.contents(&rows)?;
    for &row in &rows {
        // As a scan does before it uses an indexed row's tokens.
        if content(&s.paragraph(row)?.tokens) != s.content(row)? {
            return Err(Error::index(format!(
                "row {row} does not match its content hash"
            )));
        }
        s.location(row)?;
    }
    s.for_each_row(0, |_, _, tokens, _| {
        tokens.to_vec();
        Ok(())
    })?;
    s.keys_by_row()?;
    s.variant_rows(0)?;
    s.winnowed(fps, 3)?;
    s.variants_winnowed(fps, 3)?;
    Ok(())
}

/// A segment whose tables were changed after it was written — a bit
/// flipped (anywhere, or in a table's first bytes), a number replaced by 0, 1, a large or an off-by-one value,
/// a table cut short or lengthened — and checksummed again, as a
/// faulty writer would leave it, never makes a reader panic or
/// allocate without bound: every read is an answer or an error. And
/// `verify` is complete: when it passes, every read answers.
#[test]
fn rewritten_tables_give_errors_never_panics() {
    let d = std::env::temp_dir().join(format!("neardup-segf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let (keys, fps) = every_table(&d);
    let good = IndexFile::open(&d.join("s"), KIND).unwrap();
    let sections: Vec<([u8; 8], Vec<u8>)> = good
        .tags()
        .into_iter()
        .map(|tag| {
            let s = good.section(tag).unwrap();
            (tag, s.read_range(0..s.len()).unwrap())
        })
        .collect();
    let segment = Segment::open(good, 0).unwrap();
    segment.verify(0).unwrap();
    read_everything(&segment, &keys, &fps).unwrap();
    let mut state = 5u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 20) % n.max(1)
    };
    let (mut opened, mut verified) = (0, 0);
    for round in 0..4_000 {
        let mut sections = sections.clone();
        let which = next(sections.len() as u64) as usize;
        let bytes = &mut sections[which].1;
        let len = bytes.len() as u64;
        match next(5) {
            // A bit of the section's head: counts, a directory's first
            // entries or samples.
            4 if len > 0 => {
                let bit = next(len.min(48) * 8);
                bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
            }
            0 if len > 0 => {
                let bit = next(len * 8);
                bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
            }
            1 if len >= 4 => {
                let width = if len >= 8 && next(2) == 0 { 8 } else { 4 };
                let at = (next(len / width) * width) as usize;
                let old = bytes[at..at + width as usize]
                    .iter()
                    .rev()
                    .fold(0u64, |v, &b| v << 8 | u64::from(b));
                let new = match next(6) {
                    0 => 0,
                    1 => 1,
                    2 => u64::MAX,
                    3 => old.wrapping_add(1),
                    4 => old.wrapping_sub(1),
                    _ => 1 << next(64),
                };
                bytes[at..at + width as usize]
                    .copy_from_slice(&new.to_le_bytes()[..width as usize]);
            }
            2 => bytes.truncate(next(len) as usize),
            _ => bytes.extend((0..1 + next(24)).map(|_| next(256) as u8)),
        }
        let name = format!("m{round}");
        let mut w = FileWriter::create(&d, &name, KIND).unwrap();
        for (tag, bytes) in &sections {
            let mut s = w.section(*tag);
            s.write_all(bytes).unwrap();
            s.finish().unwrap();
        }
        w.finish().unwrap();
        let path = d.join(&name);
        let opened_segment = Segment::open(IndexFile::open(&path, KIND).unwrap(), 0);
        if let Ok(s) = opened_segment {
            opened += 1;
            let verdict = s.verify(0);
            let read = read_everything(&s, &keys, &fps);
            if verdict.is_ok() {
                verified += 1;
                assert!(
                    read.is_ok(),
                    "round {round}: section {} changed, verify passed but a read failed: {}",
                    String::from_utf8_lossy(&sections[which].0),
                    read.unwrap_err()
                );
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
    // The changes reached the readers: many segments still opened,
    // and some changes (a location, a token) are not damage at all.
    assert!(
        opened > 1_000 && verified > 100,
        "{opened} opened, {verified} verified"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
