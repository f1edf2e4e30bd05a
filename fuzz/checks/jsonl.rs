//! The JSON Lines reader on arbitrary lines.
//!
//! `parse` (the scan) and `locate` (the rewrite) must agree on every line:
//! both accept it or both reject it, with the same record, and the span
//! `locate` returns must hold exactly the JSON string of the text, which is
//! what `clean` replaces. Replacing the span with the text re-encoded must
//! give a line that reads back as the same record. `repair` (what the
//! reader falls back to) gives valid UTF-8 without lone surrogate escapes,
//! keeps the length of a valid UTF-8 line, and changes no record that
//! already parsed.
//!
//! Shared by the fuzz target `jsonl` and `tests/fuzz_regressions.rs`.

use neardup::corpus::JsonlFields;
use neardup::corpus::jsonl::{locate, parse, repair};

/// Runs the checks on one input; panics on a failure.
pub fn run(data: &[u8]) {
    // The reader sees lines: the scan splits at newlines first.
    let Some(line) = data.split(|&b| b == b'\n').next() else {
        return;
    };
    let fields = JsonlFields::default();
    let parsed = parse(line, &fields);
    let located = locate(line, &fields);
    match (&parsed, &located) {
        (Ok(record), Ok(found)) => {
            assert_eq!(*record, found.record);
            let span = &line[found.text_span.clone()];
            let text: String = serde_json::from_slice(span).expect("the span is a JSON string");
            assert_eq!(text, record.text);

            let mut rewritten = line[..found.text_span.start].to_vec();
            serde_json::to_writer(&mut rewritten, &*record.text).expect("a string encodes");
            rewritten.extend_from_slice(&line[found.text_span.end..]);
            let again = parse(&rewritten, &fields).expect("the rewritten line parses");
            assert_eq!(again, *record);
        }
        (Err(_), Err(_)) => {}
        _ => panic!("parse and locate disagree: {parsed:?} vs {located:?}"),
    }

    let repaired = repair(line);
    let text = std::str::from_utf8(&repaired).expect("repair gives UTF-8");
    if std::str::from_utf8(line).is_ok() {
        assert_eq!(text.len(), line.len(), "escapes are replaced in place");
    }
    match (parse(&repaired, &fields), &parsed) {
        (Ok(again), Ok(record)) => assert_eq!(again, *record),
        (Err(e), _) => assert!(!e.contains("surrogate"), "{e}"),
        (Ok(_), Err(_)) => {}
    }
}
