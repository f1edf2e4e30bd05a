//! `sarif`: SARIF 2.1.0, the format GitHub code scanning and other
//! dashboards read.
//!
//! One result per finding, located at the repeated passage, with the copy
//! it repeats (the kept one) as a related location that the message links
//! to. Each result has a partial fingerprint computed from the content
//! fingerprints of both passages, not from line numbers, so that an alert
//! keeps its identity when text moves; an ordinal tells apart identical
//! findings in one file. Two rules: `within-document` and
//! `cross-document`, and with `--containment` a third, `contained`, whose
//! results sit at the shorter paragraph with the longer one related.
//! Results are errors when the check fails and warnings when they are
//! within the limits.

use std::fmt::Write as _;
use std::io::{self, Write as _};

use neardup::report::{Kind, Span};
use serde_json::{Value, json};

use super::{RenderOutcome, details, original};
use crate::cli::check::gate::{Finding, Outcome};
use crate::cli::check::settings::display_path;

#[derive(Clone, Copy, Debug)]
pub struct Sarif;

/// The partial fingerprint's name; the version changes if its
/// computation does.
pub const FINGERPRINT_KEY: &str = "neardupFinding/v1";

const RULES: [(Kind, &str, &str, &str); 2] = [
    (
        Kind::WithinDocument,
        "RepeatedWithinDocument",
        "A paragraph repeats a paragraph of the same document",
        "The paragraph is a near-duplicate of an earlier paragraph in the same document, \
         which usually means a scraper or an edit doubled it. Remove one copy, allow the \
         text in neardup.toml, or record it in the baseline.",
    ),
    (
        Kind::CrossDocument,
        "RepeatedAcrossDocuments",
        "A paragraph repeats a paragraph of another document",
        "The paragraph is a near-duplicate of a paragraph in another document: syndicated \
         copy or boilerplate. Remove it, allow the text in neardup.toml, or record it in \
         the baseline.",
    ),
];

/// The rule of containment findings (`--containment`).
const CONTAINED: (&str, &str, &str, &str) = (
    "contained",
    "InsideLongerParagraph",
    "A paragraph is inside a longer paragraph",
    "Most of the paragraph's words occur, in runs, inside a longer paragraph: a reused \
     quote or wire sentence. Remove it if the longer paragraph should be the only copy, or \
     raise --max-contained.",
);

/// A path as a URI reference: relative paths stay relative (GitHub
/// resolves them against the repository), absolute ones become `file://`
/// URIs; every byte other than unreserved characters and `/` is
/// percent-encoded.
pub fn uri(path: &str) -> String {
    let path = display_path(path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

/// Backslash-escapes the characters that SARIF message text reserves for
/// links.
fn plain(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

fn span_location(s: &Span) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(&s.first.path)},
            "region": {"startLine": s.first.line, "endLine": s.last.line}
        }
    })
}

/// The hash the partial fingerprint is built from: the rule and the content
/// fingerprints of both passages.
fn content_key(f: &Finding) -> u64 {
    let mut bytes = Vec::with_capacity(1 + 16 * f.pairs.len());
    bytes.push(u8::from(f.passage.kind == Kind::CrossDocument));
    for p in &f.pairs {
        bytes.extend_from_slice(&p.at.content.to_le_bytes());
        bytes.extend_from_slice(&p.of.content.to_le_bytes());
    }
    neardup::hash::xxh3(&bytes, 0)
}

impl RenderOutcome for Sarif {
    fn render(&self, o: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let level = if o.passed() { "warning" } else { "error" };
        let containment = o.limits.max_contained.is_some();
        let rules: Vec<Value> = RULES
            .iter()
            .map(|&(kind, name, short, full)| (kind.as_str(), name, short, full))
            .chain(containment.then_some(CONTAINED))
            .map(|(id, name, short, full)| {
                json!({
                    "id": id,
                    "name": name,
                    "shortDescription": {"text": short},
                    "fullDescription": {"text": full},
                    "help": {"text": full},
                    "defaultConfiguration": {"level": "error"}
                })
            })
            .collect();
        let mut seen = std::collections::HashMap::new();
        let mut results: Vec<Value> = o
            .findings
            .iter()
            .map(|f| {
                let key = content_key(f);
                let ordinal = seen
                    .entry((f.passage.repeat.first.path.clone(), key))
                    .and_modify(|n| *n += 1)
                    .or_insert(1u32);
                let rule = RULES.iter().position(|r| r.0 == f.passage.kind).unwrap_or(0);
                // The message says what the finding is; where it is, the
                // location says (viewers group results by message start,
                // and a path there made one heading of every result).
                let what = if f.passage.paragraphs == 1 {
                    "Paragraph repeats"
                } else {
                    "Paragraphs repeat"
                };
                let text = format!(
                    "{what} [{}](1) {}",
                    plain(&original(f)),
                    plain(&details(f))
                );
                let mut result = json!({
                    "ruleId": f.passage.kind.as_str(),
                    "ruleIndex": rule,
                    "level": level,
                    "message": {"text": text},
                    "locations": [span_location(&f.passage.repeat)],
                    "relatedLocations": [{
                        "id": 1,
                        "message": {"text": match &f.passage.original.first.batch {
                            Some(batch) => format!("the copy it repeats, in index batch {batch}"),
                            None => "the copy it repeats".to_owned(),
                        }},
                        "physicalLocation": span_location(&f.passage.original)["physicalLocation"].clone()
                    }],
                    "partialFingerprints": {FINGERPRINT_KEY: format!("{key:016x}:{ordinal}")},
                    "properties": {
                        "paragraphs": f.passage.paragraphs,
                        "similarity": f.passage.min_similarity.as_f64(),
                        "text": f.pairs[0].at.text.as_deref().unwrap_or(&f.pairs[0].at.snippet)
                    }
                });
                if o.baseline {
                    result["baselineState"] = json!("new");
                }
                result
            })
            .collect();
        for c in &o.contained {
            let key = neardup::hash::xxh3(
                &[
                    [2u8; 8],
                    c.content.0.to_le_bytes(),
                    c.content.1.to_le_bytes(),
                ]
                .concat(),
                0,
            );
            let (subject, other) = c.in_inputs();
            let ordinal = seen
                .entry((subject.path.clone(), key))
                .and_modify(|n| *n += 1)
                .or_insert(1u32);
            let at = |l: &neardup::report::Location| {
                json!({
                    "artifactLocation": {"uri": uri(&l.path)},
                    "region": {"startLine": l.line, "endLine": l.line}
                })
            };
            let holds = c.short.batch.is_some();
            let text = if holds {
                format!(
                    "Paragraph holds [a paragraph of index batch {}](1) {}",
                    c.short.batch.as_deref().unwrap_or_default(),
                    plain(&neardup::report::text::match_of(c))
                )
            } else {
                let of = match &c.long.batch {
                    Some(batch) => format!(" of index batch {batch}"),
                    None => String::new(),
                };
                format!(
                    "Paragraph is inside [a longer paragraph{of}](1) {}",
                    plain(&neardup::report::text::match_of(c))
                )
            };
            let related = match (holds, &c.long.batch) {
                (true, _) => "the indexed paragraph it holds".to_owned(),
                (false, Some(batch)) => {
                    format!("the longer paragraph that holds it, in index batch {batch}")
                }
                (false, None) => "the longer paragraph that holds it".to_owned(),
            };
            results.push(json!({
                "ruleId": CONTAINED.0,
                "ruleIndex": RULES.len(),
                "level": level,
                "message": {"text": text},
                "locations": [{"physicalLocation": at(subject)}],
                "relatedLocations": [{
                    "id": 1,
                    "message": {"text": related},
                    "physicalLocation": at(other)
                }],
                "partialFingerprints": {FINGERPRINT_KEY: format!("{key:016x}:{ordinal}")},
                "properties": {
                    "containment": c.containment(),
                    "shortWords": [c.short_words.start, c.short_words.end],
                    "longWords": [c.long_words.start, c.long_words.end]
                }
            }));
        }
        let notifications: Vec<Value> = o
            .problems
            .iter()
            .map(|p| {
                let mut n = json!({
                    "level": if p.warning { "warning" } else { "error" },
                    "message": {"text": p.message},
                });
                if let Some(path) = &p.path {
                    let mut loc =
                        json!({"physicalLocation": {"artifactLocation": {"uri": uri(path)}}});
                    if let Some(line) = p.line {
                        loc["physicalLocation"]["region"] = json!({"startLine": line});
                    }
                    n["locations"] = json!([loc]);
                }
                n
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": env!("CARGO_PKG_NAME"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules
                }},
                "invocations": [{
                    "executionSuccessful": o.errors() == 0,
                    "toolExecutionNotifications": notifications
                }],
                "results": results
            }]
        });
        let mut out = neardup::report::json::buffered(out);
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("corpus/a b.txt"), "corpus/a%20b.txt");
        assert_eq!(uri("./c/50%:x,y#z.txt"), "c/50%25%3Ax%2Cy%23z.txt");
        assert_eq!(uri("/srv/c/é.txt"), "file:///srv/c/%C3%A9.txt");
        assert_eq!(uri("../seeds/000.txt"), "../seeds/000.txt");
    }

    #[test]
    fn link_brackets_are_escaped() {
        assert_eq!(plain(r"a[1]\b"), r"a\[1\]\\b");
    }
}
