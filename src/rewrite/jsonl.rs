//! Cleaning JSON Lines: records without removals are copied byte for byte;
//! in the others only the text field's value is replaced.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use super::{CleanOptions, Decoded, Event, Removal, Stats, cut_document};
use crate::Error;
use crate::corpus::jsonl;

pub(super) fn rewrite(
    name: &str,
    mut reader: impl BufRead,
    plan: &BTreeMap<u64, Vec<(u32, Removal<'_>)>>,
    options: &CleanOptions,
    out: &mut dyn Write,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    let io_error = |e: io::Error| Error::io(name, e);
    let mut stats = Stats::default();
    let mut line = Vec::new();
    let mut kept_text = Vec::new();
    let mut line_no = 0u64;
    let mut todo = plan.iter().peekable();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_error)? == 0 {
            break;
        }
        line_no += 1;
        stats.bytes_in += line.len() as u64;
        let Some((_, list)) = todo.next_if(|&(&at, _)| at == line_no) else {
            out.write_all(&line).map_err(io_error)?;
            stats.bytes_out += line.len() as u64;
            continue;
        };
        // The scan read this record, repaired if it was not UTF-8 or had a
        // lone surrogate escape; read it the same way.
        let record = &*jsonl::repair(&line);
        let found = jsonl::locate(record, &options.fields).map_err(|_| Error::changed(name))?;
        kept_text.clear();
        let outcome = cut_document(
            name,
            found.record.text.as_bytes(),
            &Decoded::default(),
            list,
            options,
            &mut kept_text,
            |_| line_no,
            log,
        )?;
        stats.removed += list.len() as u64;
        if outcome.emptied {
            stats.emptied += 1;
            if options.drop_empty {
                let doc = list[0].1.location().doc.clone();
                log(Event::Dropped {
                    doc: &doc,
                    line: line_no,
                })?;
                stats.dropped += 1;
                continue;
            }
        }
        // Paragraphs end at line breaks, so the kept text is valid UTF-8.
        let kept = std::str::from_utf8(&kept_text).expect("cut at ASCII line breaks");
        let mut rewritten = Vec::with_capacity(record.len());
        // Around the text value the line keeps its bytes, invalid UTF-8
        // included: the span is found in the decoded line and mapped back.
        let decoded = Decoded::of(&line);
        let original = |at: usize| decoded.original(at as u64) as usize;
        let span = original(found.text_span.start)..original(found.text_span.end);
        rewritten.extend_from_slice(&line[..span.start]);
        serde_json::to_writer(&mut rewritten, kept).map_err(|e| io_error(e.into()))?;
        rewritten.extend_from_slice(&line[span.end..]);
        out.write_all(&rewritten).map_err(io_error)?;
        stats.bytes_out += rewritten.len() as u64;
    }
    if todo.next().is_some() {
        return Err(Error::changed(name));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where byte `at` of the lossily decoded `line` is in `line`.
    fn original(line: &[u8], at: usize) -> usize {
        Decoded::of(line).original(at as u64) as usize
    }

    #[test]
    fn offsets_map_back_through_replacement_characters() {
        let line = b"{\"a\":\"\xff\xfe\",\"text\":\"x\",\"b\":\"\xe9\"}";
        let fixed = String::from_utf8_lossy(line);
        for (i, _) in fixed.match_indices('"') {
            assert_eq!(line[original(line, i)], b'"', "quote at {i}");
        }
        assert_eq!(original(line, fixed.len()), line.len());
        assert_eq!(original(b"plain", 3), 3);
    }
}
