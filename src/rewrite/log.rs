//! The removal log of a clean (`neardup clean --removed LOG`): one JSON
//! line per removed paragraph or dropped document, in input order. The
//! command line and the Python package write the same lines.

use serde::Serialize;

use super::{Event, Removal};

/// Appends the log line of `event` in input `path` to `out`.
///
/// # Example
///
/// ```
/// let mut out = Vec::new();
/// let event = neardup::rewrite::Event::Dropped { doc: "7", line: 3 };
/// neardup::rewrite::log::write_line(&mut out, "a.jsonl", event);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "{\"event\":\"dropped-document\",\"path\":\"a.jsonl\",\"doc\":\"7\",\"line\":3}\n"
/// );
/// ```
pub fn write_line(out: &mut Vec<u8>, path: &str, event: Event<'_>) {
    serde_json::to_writer(&mut *out, &LogLine::new(path, event)).expect("log lines serialize");
    out.push(b'\n');
}

/// One line of the removal log.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum LogLine<'a> {
    /// A removed paragraph.
    RemovedParagraph {
        path: &'a str,
        doc: &'a str,
        line: u64,
        paragraph: u32,
        start: u64,
        end: u64,
        text: &'a str,
        /// `within-document`, `cross-document` or `contained`.
        kind: &'static str,
        /// A near-duplicate's similarity to the kept paragraph.
        #[serde(skip_serializing_if = "Option::is_none")]
        similarity: Option<f64>,
        /// A contained paragraph's containment in the kept one.
        #[serde(skip_serializing_if = "Option::is_none")]
        containment: Option<f64>,
        /// The paragraph that stays: the one it repeats, or the longer one
        /// it is inside.
        kept: KeptOut<'a>,
    },
    /// A document left out because every paragraph of it was removed.
    DroppedDocument {
        path: &'a str,
        doc: &'a str,
        line: u64,
    },
}

#[derive(Serialize)]
struct KeptOut<'a> {
    path: &'a str,
    doc: &'a str,
    line: u64,
    paragraph: u32,
    /// The index batch of a kept paragraph from an index (`--against`).
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

impl<'a> LogLine<'a> {
    fn new(path: &'a str, event: Event<'a>) -> LogLine<'a> {
        match event {
            Event::Removed { removal, text } => {
                let (at, kept) = (removal.location(), removal.kept());
                let (kind, similarity, containment) = match removal {
                    Removal::Duplicate { duplicate, .. } => (
                        duplicate.kind.as_str(),
                        Some(duplicate.similarity.as_f64()),
                        None,
                    ),
                    Removal::Contained(c) => ("contained", None, Some(c.containment())),
                };
                LogLine::RemovedParagraph {
                    path,
                    doc: &at.doc,
                    line: at.line,
                    paragraph: at.paragraph,
                    start: at.start,
                    end: at.end,
                    text,
                    kind,
                    similarity,
                    containment,
                    kept: KeptOut {
                        path: &kept.path,
                        doc: &kept.doc,
                        line: kept.line,
                        paragraph: kept.paragraph,
                        batch: kept.batch.as_deref(),
                    },
                }
            }
            Event::Dropped { doc, line } => LogLine::DroppedDocument { path, doc, line },
        }
    }
}
