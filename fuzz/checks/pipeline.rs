//! The whole pipeline on arbitrary bytes: scan, then clean.
//!
//! The first three bytes choose the settings (paragraph mode, tokens,
//! shingle size, threshold, scope, block size down to one byte, the format
//! of each input: plain text, JSON Lines or WET); the rest is cut at `0xff`
//! bytes into up to four inputs. Checked:
//!
//! - the scan never fails and never finds an input changed between its
//!   passes;
//! - cleaning with no removals gives back every input byte for byte;
//! - cleaning never fails except on an input the scan could not read, and
//!   the cleaned inputs plus the removed paragraphs are the input's
//!   paragraphs (as a multiset);
//! - scanning the cleaned inputs again finds no duplicates.
//!
//! Shared by the fuzz target `pipeline` and `tests/fuzz_regressions.rs`.

use std::collections::BTreeMap;
use std::io::Read;

use neardup::corpus::block::Block;
use neardup::corpus::compress::decode;
use neardup::corpus::jsonl::parse;
use neardup::corpus::record::documents;
use neardup::corpus::{Format, Input, JsonlFields, MemorySource};
use neardup::id::InputId;
use neardup::paragraph::{ParagraphMode, is_blank, paragraphs};
use neardup::pipeline::{ScanOptions, Silent, scan};
use neardup::report::Report;
use neardup::rewrite::{CleanOptions, Event, Removals, rewrite};
use neardup::{Config, ErrorKind, Scope, Threshold};

/// How many times each paragraph text occurs.
type Multiset = BTreeMap<String, usize>;

fn add(set: &mut Multiset, text: String) {
    *set.entry(text).or_default() += 1;
}

/// The paragraphs of one input's decoded bytes, as the scan reads them.
fn paragraphs_of(format: Format, bytes: &[u8], mode: ParagraphMode, into: &mut Multiset) {
    let mut add_doc = |text: &[u8]| {
        for p in paragraphs(text, mode) {
            add(into, String::from_utf8_lossy(p.text).into_owned());
        }
    };
    match format {
        Format::Text => add_doc(bytes),
        Format::Wet => {
            // WARC framing is the library's own; read it as a scan does.
            let block = Block {
                data: bytes.to_vec(),
                ..Block::default()
            };
            let fields = JsonlFields::default();
            let mut problems = Vec::new();
            documents(
                format,
                &block,
                &fields,
                "",
                |_| true,
                &mut problems,
                |d| add_doc(d.text.as_bytes()),
            );
        }
        _ => {
            for line in bytes.split(|&b| b == b'\n').filter(|l| !is_blank(l)) {
                let fields = JsonlFields::default();
                let fixed = String::from_utf8_lossy(line);
                if let Ok(r) = parse(line, &fields).or_else(|_| parse(fixed.as_bytes(), &fields)) {
                    add_doc(r.text.as_bytes());
                }
            }
        }
    }
}

fn decoded(bytes: &[u8]) -> Option<Vec<u8>> {
    let (_, mut reader) = decode(Box::new(bytes)).ok()?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).ok()?;
    Some(out)
}

fn inputs_of(parts: &[(String, Vec<u8>, Format)]) -> Vec<Input> {
    parts
        .iter()
        .map(|(name, bytes, format)| Input::new(MemorySource::new(name.clone(), bytes), *format))
        .collect()
}

fn unreadable(report: &Report, name: &str) -> bool {
    report
        .diagnostics
        .iter()
        .any(|d| d.kind() == ErrorKind::Io && d.path() == Some(name))
}

/// Runs the checks on one input; panics on a failure.
pub fn run(data: &[u8]) {
    static POOL: std::sync::Once = std::sync::Once::new();
    POOL.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build_global();
    });
    let [a, b, c, rest @ ..] = data else {
        return;
    };
    let mode = if a & 1 == 0 {
        ParagraphMode::Line
    } else {
        ParagraphMode::BlankLine
    };
    let threshold = ["0.5", "0.8", "0.9", "1"][usize::from(a >> 1 & 3)];
    let config = Config::builder()
        .paragraphs(mode)
        .tokens(if a & 8 == 0 {
            neardup::normalize::TokenKind::Words
        } else {
            neardup::normalize::TokenKind::Chars
        })
        .shingle_size(1 + usize::from(a >> 4 & 3))
        .min_words(1 + usize::from(a >> 6 & 1))
        .scope(if a & 0x80 == 0 {
            Scope::All
        } else {
            Scope::Within
        })
        .threshold(threshold.parse::<Threshold>().expect("a threshold"))
        .num_perm(32)
        .build()
        .expect("a valid configuration");
    let options = ScanOptions {
        block_size: [1, 5, 64, 1 << 20][usize::from(b & 3)],
        ..ScanOptions::default()
    };
    let parts: Vec<(String, Vec<u8>, Format)> = rest
        .split(|&c| c == 0xff)
        .take(4)
        .enumerate()
        .map(|(i, bytes)| {
            let format = match c >> (2 * i) & 3 {
                1 => Format::Jsonl,
                2 => Format::Wet,
                _ => Format::Text,
            };
            (format!("in{i}"), bytes.to_vec(), format)
        })
        .collect();
    let inputs = inputs_of(&parts);
    let mut report = scan(&inputs, &config, &options, &Silent).expect("scan");
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| d.kind() != ErrorKind::Changed),
        "{:?}",
        report.diagnostics
    );
    let dups: usize = report.clusters.iter().map(|c| c.duplicates.len()).sum();
    assert_eq!(dups as u64, report.summary.duplicate_paragraphs);

    let clean_options = CleanOptions {
        paragraphs: mode,
        fields: JsonlFields::default(),
        drop_empty: b & 4 != 0,
    };
    let mut cleaned = Vec::new();
    {
        let removals = Removals::new(&report, &inputs);
        for (i, (name, bytes, format)) in parts.iter().enumerate() {
            let mut out = Vec::new();
            let mut removed = Multiset::new();
            let result = rewrite(
                &inputs[i],
                InputId::new(i as u32),
                &removals,
                &clean_options,
                &mut out,
                |e| {
                    if let Event::Removed { text, .. } = e {
                        add(&mut removed, text.to_owned());
                    }
                    Ok(())
                },
            );
            if let Err(e) = result {
                assert!(unreadable(&report, name), "{name}: {e}");
                continue;
            }
            let before = decoded(bytes).expect("an input that cleaned is readable");
            let mut expected = Multiset::new();
            paragraphs_of(*format, &before, mode, &mut expected);
            paragraphs_of(*format, &out, mode, &mut removed);
            assert_eq!(removed, expected, "{name}: kept + removed != input");
            cleaned.push((name.clone(), out, *format));
        }
    }

    // Nothing to remove: every input comes back as it was.
    report.clusters.clear();
    let none = Removals::new(&report, &inputs);
    for (i, (name, bytes, _)) in parts.iter().enumerate() {
        let mut out = Vec::new();
        if rewrite(
            &inputs[i],
            InputId::new(i as u32),
            &none,
            &clean_options,
            &mut out,
            |_| Ok(()),
        )
        .is_ok()
        {
            assert_eq!(
                Some(out),
                decoded(bytes),
                "{name}: rewrite without removals"
            );
        }
    }

    // Cleaning leaves nothing to clean (when every input could be cleaned).
    if cleaned.len() == parts.len() {
        let again = scan(&inputs_of(&cleaned), &config, &options, &Silent).expect("scan");
        assert_eq!(
            again.summary.duplicate_paragraphs, 0,
            "cleaned inputs still repeat"
        );
    }
}
