//! Machine-readable output: `json` (the whole report) and `jsonl` (one
//! cluster per line).
//!
//! These formats are a stable interface: fields are only ever added, and
//! consumers should ignore fields they do not know. The schema is in the
//! README.

use std::io::{self, Write as _};

use serde::Serialize;

use super::pretty;
use super::top::Top;
use super::{Cluster, End, Location, Passage, Render, Report};
use crate::Similarity;

/// Schema version of the `json` output.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report as one JSON object.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

/// One JSON object per cluster, one per line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Jsonl;

#[derive(Serialize)]
struct MemberOut<'a> {
    path: &'a str,
    doc: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    paragraph: u32,
    line: u64,
    start: u64,
    end: u64,
    similarity: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    /// The index batch of a paragraph from an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

impl<'a> MemberOut<'a> {
    fn new(l: &'a Location, similarity: Similarity, kind: Option<&'static str>) -> MemberOut<'a> {
        MemberOut {
            path: &l.path,
            doc: &l.doc,
            url: l.url.as_deref(),
            paragraph: l.paragraph,
            line: l.line,
            start: l.start,
            end: l.end,
            similarity: similarity.as_f64(),
            kind,
            batch: l.batch.as_deref(),
        }
    }
}

impl MemberOut<'_> {
    /// Its fields as the derive serialises them ([`pretty::Object`]).
    fn write(&self, o: &mut pretty::Object<'_>) {
        o.str("path", self.path);
        o.str("doc", self.doc);
        o.opt_str("url", self.url);
        o.u64("paragraph", u64::from(self.paragraph));
        o.u64("line", self.line);
        o.u64("start", self.start);
        o.u64("end", self.end);
        o.f64("similarity", self.similarity);
        o.opt_str("kind", self.kind);
        o.opt_str("batch", self.batch);
    }
}

#[derive(Serialize)]
struct ClusterOut<'a> {
    members: Vec<MemberOut<'a>>,
}

impl ClusterOut<'_> {
    /// Its fields as the derive serialises them ([`pretty::Object`]).
    fn write(&self, o: &mut pretty::Object<'_>) {
        o.objects("members", self.members.len(), |i, m| {
            self.members[i].write(m);
        });
    }
}

impl<'a> ClusterOut<'a> {
    fn new(c: &'a Cluster) -> ClusterOut<'a> {
        let mut members = vec![MemberOut::new(
            &c.kept.location,
            Similarity::IDENTICAL,
            None,
        )];
        members.extend(
            c.duplicates
                .iter()
                .map(|d| MemberOut::new(&d.member.location, d.similarity, Some(d.kind.as_str()))),
        );
        ClusterOut { members }
    }
}

#[derive(Serialize)]
struct SpanOut<'a> {
    path: &'a str,
    doc: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    first_paragraph: u32,
    last_paragraph: u32,
    first_line: u64,
    last_line: u64,
    start: u64,
    end: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

#[derive(Serialize)]
struct PassageOut<'a> {
    kind: &'static str,
    paragraphs: u32,
    min_similarity: f64,
    repeat: SpanOut<'a>,
    original: SpanOut<'a>,
}

impl<'a> SpanOut<'a> {
    fn new(first: &'a Location, last: &End) -> SpanOut<'a> {
        SpanOut {
            path: &first.path,
            doc: &first.doc,
            url: first.url.as_deref(),
            first_paragraph: first.paragraph,
            last_paragraph: last.paragraph,
            first_line: first.line,
            last_line: last.line,
            start: first.start,
            end: last.end,
            batch: first.batch.as_deref(),
        }
    }
}

impl SpanOut<'_> {
    /// Its fields as the derive serialises them ([`pretty::Object`]).
    fn write(&self, o: &mut pretty::Object<'_>) {
        o.str("path", self.path);
        o.str("doc", self.doc);
        o.opt_str("url", self.url);
        o.u64("first_paragraph", u64::from(self.first_paragraph));
        o.u64("last_paragraph", u64::from(self.last_paragraph));
        o.u64("first_line", self.first_line);
        o.u64("last_line", self.last_line);
        o.u64("start", self.start);
        o.u64("end", self.end);
        o.opt_str("batch", self.batch);
    }
}

impl PassageOut<'_> {
    /// Its fields as the derive serialises them ([`pretty::Object`]).
    fn write(&self, o: &mut pretty::Object<'_>) {
        o.str("kind", self.kind);
        o.u64("paragraphs", u64::from(self.paragraphs));
        o.f64("min_similarity", self.min_similarity);
        o.object("repeat", |r| self.repeat.write(r));
        o.object("original", |r| self.original.write(r));
    }
}

impl<'a> PassageOut<'a> {
    fn new(p: &'a Passage) -> PassageOut<'a> {
        PassageOut {
            kind: p.kind.as_str(),
            paragraphs: p.paragraphs,
            min_similarity: p.min_similarity.as_f64(),
            repeat: SpanOut::new(&p.repeat.first, &p.repeat.last),
            original: SpanOut::new(&p.original.first, &p.original.last),
        }
    }
}

#[derive(Serialize)]
struct SummaryOut {
    inputs: u64,
    documents: u64,
    paragraphs: u64,
    fingerprinted_paragraphs: u64,
    duplicate_paragraphs: u64,
    duplicate_ratio: f64,
    within_document: u64,
    cross_document: u64,
    clusters: u64,
    passages: u64,
    bytes_read: u64,
    empty_documents: u64,
    invalid_utf8: u64,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct SettingsOut {
    paragraphs: &'static str,
    shingle: &'static str,
    shingle_size: usize,
    min_words: usize,
    num_perm: usize,
    seed: u64,
    threshold: f64,
    bands: usize,
    rows: usize,
    scope: &'static str,
    fingerprint_version: u32,
}

#[derive(Serialize)]
struct DiagnosticOut<'a> {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    message: &'a str,
}

#[derive(Serialize)]
struct ReportOut<'a> {
    version: u32,
    tool: ToolOut,
    settings: SettingsOut,
    summary: SummaryOut,
    clusters: Clusters<'a>,
    passages: Passages<'a>,
    diagnostics: Vec<DiagnosticOut<'a>>,
    /// Only with containment on (`--containment`): absent otherwise, so
    /// the report of a scan without it is unchanged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contained: Vec<ContainedOut<'a>>,
}

#[derive(Serialize)]
struct PlaceOut<'a> {
    path: &'a str,
    doc: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    paragraph: u32,
    line: u64,
    start: u64,
    end: u64,
    /// The index batch of a paragraph from an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

impl<'a> PlaceOut<'a> {
    fn new(l: &'a Location) -> PlaceOut<'a> {
        PlaceOut {
            path: &l.path,
            doc: &l.doc,
            url: l.url.as_deref(),
            paragraph: l.paragraph,
            line: l.line,
            start: l.start,
            end: l.end,
            batch: l.batch.as_deref(),
        }
    }
}

impl<'a> ContainedOut<'a> {
    /// A containment finding as `scan --output-format json` writes it (an
    /// object of its `contained` list), for other outputs that list
    /// findings (`check --output-format json`).
    pub fn new(c: &'a crate::report::Contained) -> ContainedOut<'a> {
        ContainedOut {
            short: PlaceOut::new(&c.short),
            long: PlaceOut::new(&c.long),
            containment: c.containment(),
            shared_shingles: c.shared,
            shingles: c.of,
            short_words: [c.short_words.start, c.short_words.end],
            long_words: [c.long_words.start, c.long_words.end],
            short_length: c.words.0,
            long_length: c.words.1,
        }
    }
}

/// The JSON form of a [`Contained`](crate::report::Contained).
#[derive(Serialize)]
pub struct ContainedOut<'a> {
    short: PlaceOut<'a>,
    long: PlaceOut<'a>,
    containment: f64,
    shared_shingles: u32,
    shingles: u32,
    /// The longest shared run of words: word positions `[start, end)` in
    /// the short paragraph and in the long one.
    short_words: [usize; 2],
    long_words: [usize; 2],
    short_length: usize,
    long_length: usize,
}

/// The clusters, serialised one by one as they are converted: a report of
/// a large corpus is never held twice in memory.
struct Clusters<'a>(&'a [Cluster]);

impl Serialize for Clusters<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ClusterOut::new))
    }
}

/// The passages, serialised like [`Clusters`].
struct Passages<'a>(&'a [Passage]);

impl Serialize for Passages<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(PassageOut::new))
    }
}

#[derive(Serialize)]
struct ToolOut {
    name: &'static str,
    version: &'static str,
}

fn report_out(r: &Report) -> ReportOut<'_> {
    let s = &r.summary;
    let c = &r.config;
    let errors = r.diagnostics.iter().filter(|d| !d.is_warning()).count();
    ReportOut {
        version: SCHEMA_VERSION,
        tool: ToolOut {
            name: "neardup",
            version: env!("CARGO_PKG_VERSION"),
        },
        settings: SettingsOut {
            paragraphs: match c.paragraphs() {
                crate::paragraph::ParagraphMode::Line => "line",
                crate::paragraph::ParagraphMode::BlankLine => "blank-line",
            },
            shingle: match c.tokens() {
                crate::normalize::TokenKind::Words => "words",
                crate::normalize::TokenKind::Chars => "chars",
            },
            shingle_size: c.shingle_size(),
            min_words: c.min_words(),
            num_perm: c.num_perm(),
            seed: c.seed(),
            threshold: c.threshold().as_f64(),
            bands: c.lsh().bands(),
            rows: c.lsh().rows(),
            scope: c.scope().as_str(),
            fingerprint_version: crate::hash::FORMAT_VERSION,
        },
        summary: SummaryOut {
            inputs: s.inputs,
            documents: s.documents,
            paragraphs: s.paragraphs,
            fingerprinted_paragraphs: s.fingerprinted,
            duplicate_paragraphs: s.duplicate_paragraphs,
            duplicate_ratio: s.duplicate_ratio(),
            within_document: s.within_document,
            cross_document: s.cross_document,
            clusters: s.clusters,
            passages: s.passages,
            bytes_read: s.bytes_read,
            empty_documents: s.empty_documents,
            invalid_utf8: s.invalid_utf8,
            errors,
            warnings: r.diagnostics.len() - errors,
        },
        clusters: Clusters(&r.clusters),
        passages: Passages(&r.passages),
        diagnostics: r
            .diagnostics
            .iter()
            .map(|d| DiagnosticOut {
                severity: if d.is_warning() { "warning" } else { "error" },
                path: d.path(),
                line: d.line(),
                offset: d.offset(),
                message: d.message(),
            })
            .collect(),
        contained: r.contained.iter().map(ContainedOut::new).collect(),
    }
}

/// The summary view of a report ([`Top`]) as one JSON object: `version`,
/// `tool`, `settings`, `summary` and `diagnostics` as in [`Json`], and
/// `top_paragraphs` and `top_files` instead of the clusters and passages.
#[derive(Clone, Copy, Debug)]
pub struct TopJson {
    /// Entries of each list at most.
    pub n: usize,
}

#[derive(Serialize)]
struct TopOut<'a> {
    version: u32,
    tool: ToolOut,
    settings: SettingsOut,
    summary: SummaryOut,
    top_paragraphs: Vec<TopParagraphOut<'a>>,
    top_files: Vec<TopFileOut<'a>>,
    diagnostics: Vec<DiagnosticOut<'a>>,
}

#[derive(Serialize)]
struct TopParagraphOut<'a> {
    occurrences: usize,
    duplicates: usize,
    path: &'a str,
    doc: &'a str,
    paragraph: u32,
    line: u64,
    text: &'a str,
}

#[derive(Serialize)]
struct TopFileOut<'a> {
    path: &'a str,
    duplicates: u64,
    paragraphs: u64,
}

impl Render for TopJson {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let top = Top::new(report, self.n);
        let full = report_out(report);
        let view = TopOut {
            version: full.version,
            tool: full.tool,
            settings: full.settings,
            summary: full.summary,
            top_paragraphs: top
                .paragraphs
                .iter()
                .map(|p| {
                    let l = &p.kept.location;
                    TopParagraphOut {
                        occurrences: p.duplicates + 1,
                        duplicates: p.duplicates,
                        path: &l.path,
                        doc: &l.doc,
                        paragraph: l.paragraph,
                        line: l.line,
                        text: p.snippet,
                    }
                })
                .collect(),
            top_files: top
                .files
                .iter()
                .map(|f| TopFileOut {
                    path: f.path,
                    duplicates: f.duplicates,
                    paragraphs: f.paragraphs,
                })
                .collect(),
            diagnostics: full.diagnostics,
        };
        let mut out = buffered(out);
        serde_json::to_writer_pretty(&mut out, &view)?;
        writeln!(out)?;
        out.flush()
    }
}

/// A buffer of our own in front of `out`: the serializer writes a few
/// bytes at a time, and through `dyn Write` every one of those writes is a
/// call that cannot be inlined (on a report of a million duplicates they
/// were a tenth of the run).
pub fn buffered(out: &mut dyn io::Write) -> io::BufWriter<&mut dyn io::Write> {
    io::BufWriter::with_capacity(1 << 16, out)
}

/// What the `json` format writes before its long arrays.
#[derive(Serialize)]
struct Head {
    version: u32,
    tool: ToolOut,
    settings: SettingsOut,
    summary: SummaryOut,
}

/// What it writes after them.
#[derive(Serialize)]
struct Tail<'a> {
    diagnostics: Vec<DiagnosticOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contained: Vec<ContainedOut<'a>>,
}

/// A cluster of at most this many members is rendered whole, as one item
/// of the clusters array; a larger one gets its members rendered as items.
const WHOLE: usize = 1024;

impl Render for Json {
    /// The bytes of `serde_json::to_writer_pretty` over the whole report,
    /// with the clusters and passages rendered in parallel
    /// (`report/pretty.rs`).
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let ReportOut {
            version,
            tool,
            settings,
            summary,
            clusters: _,
            passages: _,
            diagnostics,
            contained,
        } = report_out(report);
        let mut out = buffered(out);
        let head = serde_json::to_vec_pretty(&Head {
            version,
            tool,
            settings,
            summary,
        })?;
        // "{ ... }" without its closing "\n}": the report goes on.
        out.write_all(&head[..head.len() - 2])?;
        out.write_all(b",\n  \"clusters\": ")?;
        write_clusters(&mut out, &report.clusters)?;
        out.write_all(b",\n  \"passages\": ")?;
        let passages = &report.passages;
        pretty::write_array(&mut out, passages.len(), 1, &|i, buf| {
            pretty::object(buf, 2, |o| PassageOut::new(&passages[i]).write(o));
        })?;
        let tail = serde_json::to_vec_pretty(&Tail {
            diagnostics,
            contained,
        })?;
        // "{\n  \"diagnostics\": ..." continues the report after a comma.
        out.write_all(b",")?;
        out.write_all(&tail[1..])?;
        writeln!(out)?;
        out.flush()
    }
}

/// The `clusters` array of the report (one level deep): runs of small
/// clusters rendered whole in parallel, a large cluster's members in
/// parallel.
fn write_clusters(out: &mut dyn io::Write, clusters: &[Cluster]) -> io::Result<()> {
    if clusters.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let whole = |i: usize, buf: &mut Vec<u8>| {
        pretty::object(buf, 2, |o| ClusterOut::new(&clusters[i]).write(o));
    };
    let mut at = 0;
    while at < clusters.len() {
        let large = |c: &Cluster| c.duplicates.len() >= WHOLE;
        if !large(&clusters[at]) {
            let end = clusters[at..]
                .iter()
                .position(large)
                .map_or(clusters.len(), |k| at + k);
            pretty::write_items(out, at..end, 1, &whole)?;
            at = end;
            continue;
        }
        let c = &clusters[at];
        let mut open = Vec::new();
        pretty::separate(&mut open, at == 0, 1);
        open.extend_from_slice(b"{\n");
        pretty::indent(&mut open, 3);
        open.extend_from_slice(b"\"members\": ");
        out.write_all(&open)?;
        pretty::write_array(out, c.duplicates.len() + 1, 3, &|i, buf| {
            let member = match i {
                0 => MemberOut::new(&c.kept.location, Similarity::IDENTICAL, None),
                _ => {
                    let d = &c.duplicates[i - 1];
                    MemberOut::new(&d.member.location, d.similarity, Some(d.kind.as_str()))
                }
            };
            pretty::object(buf, 4, |o| member.write(o));
        })?;
        let mut close = vec![b'\n'];
        pretty::indent(&mut close, 2);
        close.push(b'}');
        out.write_all(&close)?;
        at += 1;
    }
    pretty::close_array(out, 1)
}

impl Render for Jsonl {
    fn render(&self, report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
        let mut out = buffered(out);
        for cluster in &report.clusters {
            serde_json::to_writer(&mut out, &ClusterOut::new(cluster))?;
            writeln!(out)?;
        }
        // With containment on: one line per paragraph inside a longer one,
        // `{"contained": {...}}`, after the clusters.
        for c in &report.contained {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({ "contained": ContainedOut::new(c) }),
            )?;
            writeln!(out)?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Format, Input, MemorySource};
    use crate::pipeline::{ScanOptions, Silent, scan};

    /// Each item the report writes by hand ([`pretty::Object`]) is what
    /// its `Serialize` derive writes, with every optional field present
    /// and absent and with names that need escaping.
    #[test]
    fn hand_written_items_match_their_derives() {
        use crate::id::{DocId, InputId};
        use crate::report::{Duplicate, Kind, Member, Span};
        fn pretty(write: impl FnOnce(&mut pretty::Object<'_>)) -> String {
            let mut out = Vec::new();
            pretty::object(&mut out, 0, write);
            String::from_utf8(out).unwrap()
        }
        for full in [false, true] {
            let location = |paragraph: u32| Location {
                path: "dir/\"odd\"\tname\\.jsonl".into(),
                input: InputId::new(0),
                doc: "id \u{1}é".into(),
                url: full.then(|| "https://example.com/a?b=\"c\"".into()),
                doc_index: DocId::new(3),
                doc_line: 7,
                paragraph,
                line: 9 + u64::from(paragraph),
                start: 100,
                end: u64::MAX,
                batch: full.then(|| "2026-12-05\n".into()),
            };
            let member = |paragraph| Member {
                location: location(paragraph),
                snippet: String::new(),
                text: None,
                content: 0,
            };
            let cluster = Cluster {
                kept: member(0),
                duplicates: (1..=2)
                    .map(|p| Duplicate {
                        member: member(p),
                        similarity: Similarity::new(5, 7),
                        kind: Kind::CrossDocument,
                    })
                    .collect(),
            };
            let out = ClusterOut::new(&cluster);
            assert_eq!(
                pretty(|o| out.write(o)),
                serde_json::to_string_pretty(&out).unwrap()
            );
            let passage = Passage {
                repeat: Span {
                    first: location(4),
                    last: End::from(&location(6)),
                },
                original: Span {
                    first: location(0),
                    last: End::from(&location(2)),
                },
                paragraphs: 3,
                min_similarity: Similarity::new(2, 3),
                kind: Kind::WithinDocument,
            };
            let out = PassageOut::new(&passage);
            assert_eq!(
                pretty(|o| out.write(o)),
                serde_json::to_string_pretty(&out).unwrap()
            );
        }
    }

    /// The report rendered with its arrays in parallel is the pretty
    /// printer's bytes over the whole report: a cluster too large to
    /// render whole, runs of small ones, passages across windows,
    /// containment findings and diagnostics.
    #[test]
    fn json_is_the_pretty_printers_bytes() {
        let quote = (0..30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut text = String::new();
        for i in 0..20_000u32 {
            text.push_str("Share this article with your friends and family today\n");
            if i.is_multiple_of(7) {
                text.push_str(&format!(
                    "a line numbered {} that comes back once\n",
                    i / 14
                ));
            }
        }
        text.push_str(&format!(
            "an opening of some ten words or so then {quote} and a close\n"
        ));
        text.push_str(&format!("{quote}\n"));
        let inputs = [
            Input::new(MemorySource::new("a.txt", text), Format::Text),
            Input::new(MemorySource::new("b.jsonl", "not json\n"), Format::Jsonl),
        ];
        let options = ScanOptions {
            containment: Some(crate::containment::find::Settings {
                threshold: (4, 5),
                min_words: 25,
                cap: 64,
            }),
            ..ScanOptions::default()
        };
        let report = scan(&inputs, &crate::Config::default(), &options, &Silent).unwrap();
        assert!(report.clusters.iter().any(|c| c.duplicates.len() >= WHOLE));
        assert!(report.clusters.len() > 100);
        assert!(report.passages.len() > (1 << 14));
        assert!(!report.contained.is_empty() && !report.diagnostics.is_empty());
        let mut expected = serde_json::to_vec_pretty(&report_out(&report)).unwrap();
        expected.push(b'\n');
        let mut got = Vec::new();
        Json.render(&report, &mut got).unwrap();
        assert!(got == expected, "the parallel rendering differs");
        // And without containment or diagnostics (the tail's other shape),
        // and with no clusters at all.
        for inputs in [&inputs[..1], &inputs[1..]] {
            let report = scan(
                inputs,
                &crate::Config::default(),
                &ScanOptions::default(),
                &Silent,
            )
            .unwrap();
            let mut expected = serde_json::to_vec_pretty(&report_out(&report)).unwrap();
            expected.push(b'\n');
            let mut got = Vec::new();
            Json.render(&report, &mut got).unwrap();
            assert!(got == expected, "the parallel rendering differs");
        }
    }
}
