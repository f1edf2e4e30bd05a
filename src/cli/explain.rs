//! `neardup explain A B`: find two paragraphs by the positions reports give,
//! and print why neardup does or does not call them near-duplicates. The
//! numbers come from [`neardup::explain`]; this file parses the addresses
//! and prints.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use neardup::explain::{Address, Change, Explanation, Located, explain, explain_tokens, locate};
use neardup::fingerprint::Scratch;
use neardup::index::{Index, Settings};
use neardup::pipeline::ScanOptions;
use neardup::report::text::escape;
use neardup::{Config, Fingerprinter};

use super::Status;
use super::args::ExplainArgs;
use super::{inputs, settings};

/// A paragraph named on the command line.
struct Named {
    path: PathBuf,
    address: Address,
}

/// Parses `PATH:LINE` or `PATH#DOC:PARAGRAPH`. Paths, document ids and
/// URLs may themselves hold `:` and `#`, so the path is the shortest prefix
/// that names a file.
fn parse(arg: &str) -> anyhow::Result<Named> {
    let number = |s: &str, what: &str| -> anyhow::Result<u64> {
        s.parse()
            .with_context(|| format!("{arg:?}: {what} {s:?} is not a number"))
    };
    for (at, _) in arg.match_indices('#') {
        let path = Path::new(&arg[..at]);
        if path.is_file() {
            let rest = &arg[at + 1..];
            let Some((doc, paragraph)) = rest.rsplit_once(':') else {
                bail!("{arg:?}: name a paragraph as PATH#DOC:PARAGRAPH");
            };
            let paragraph = u32::try_from(number(paragraph, "paragraph")?)?;
            return Ok(Named {
                path: path.to_owned(),
                address: Address::Paragraph {
                    doc: doc.to_owned(),
                    paragraph,
                },
            });
        }
    }
    match arg.rsplit_once(':') {
        Some((path, line)) if Path::new(path).is_file() => Ok(Named {
            path: PathBuf::from(path),
            address: Address::Line(number(line, "line")?),
        }),
        _ if Path::new(arg).is_file() => {
            bail!("{arg:?}: name a paragraph as PATH:LINE or PATH#DOC:PARAGRAPH")
        }
        _ => bail!("{arg:?}: no such file (name a paragraph as PATH:LINE or PATH#DOC:PARAGRAPH)"),
    }
}

pub fn run(mut args: ExplainArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    // Against an index, the settings not given are the index's, as for
    // `scan --against`.
    let index = match (&args.b, &args.against) {
        (None, Some(path)) => Some(settings::of_index(path)?),
        _ => None,
    };
    let given = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if let Some(index) = &index {
        settings::take_index_modes(&mut args.detect, index, given);
    }
    let base = settings::Base::or_defaults(index.as_ref());
    let config = settings::config(&args.detect, base)?;
    let args = &args;
    let fields = neardup::corpus::JsonlFields {
        text: args.input.text_field.clone(),
        id: args.input.id_field.clone(),
    };
    let find = |arg: &str| -> anyhow::Result<(String, Located)> {
        let named = parse(arg)?;
        let input = inputs::file_input(named.path.clone(), args.input.input_format);
        let located = locate(&input, config.paragraphs(), &fields, &named.address)?;
        Ok((input.source.name().to_owned(), located))
    };
    let a = find(&args.a)?;
    let fp = Fingerprinter::new(&config);
    let style = Style {
        on: super::shared::use_color(args.color),
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let explanation = match (&args.b, &args.against) {
        (Some(b), _) => {
            let b = find(b)?;
            let same_document = a.0 == b.0 && a.1.doc_line == b.1.doc_line;
            let e = explain(&fp, &a.1.text, &b.1.text, same_document);
            let shown = (place(&b.0, &b.1), Some(b.1.text.clone()));
            render(
                &mut out,
                &style,
                &config,
                (&place(&a.0, &a.1), &a.1.text),
                (&shown.0, shown.1.as_deref()),
                &e,
            )?;
            e
        }
        (None, Some(index)) => match against(&mut out, &style, &config, &fp, index, &a, args)? {
            Some(e) => e,
            None => {
                out.flush()?;
                return Ok(Status::Clean);
            }
        },
        (None, None) => bail!("name B, or an index with --against"),
    };
    out.flush()?;
    Ok(if explanation.duplicate() {
        Status::Duplicates
    } else {
        Status::Clean
    })
}

/// `explain A --against INDEX`: A against the indexed paragraph a scan
/// would report (or the most similar candidate); `None` when no indexed
/// paragraph shares a band with A.
fn against(
    out: &mut dyn Write,
    style: &Style,
    config: &Config,
    fp: &Fingerprinter,
    path: &Path,
    (a_path, a): &(String, Located),
    args: &ExplainArgs,
) -> anyhow::Result<Option<Explanation>> {
    let index = Index::open(path)?;
    // The allowlist decides which paragraphs take part in a scan, not how
    // similar two are: every other setting must be the index's.
    let ours = Settings::of(config, &ScanOptions::default())?;
    if let Some((key, theirs)) = index
        .settings()
        .pairs()
        .filter(|(k, _)| *k != "allowlist")
        .find(|(k, v)| ours.pairs().any(|(k2, v2)| k2 == *k && v2 != *v))
    {
        bail!(
            "{}: the index was made with {key}={theirs}: explain with the index's settings \
             (`neardup index info` shows them)",
            path.display()
        );
    }
    let a_place = place(a_path, a);
    let candidates = index.candidates(fp, &a.text)?;
    let threshold = config.threshold();
    let chosen = candidates
        .iter()
        .find(|c| c.similarity.meets(threshold))
        .or_else(|| {
            candidates.iter().min_by(|x, y| {
                y.similarity
                    .as_f64()
                    .total_cmp(&x.similarity.as_f64())
                    .then(x.row.cmp(&y.row))
            })
        });
    // No indexed paragraph near A: the one A is inside, or that is inside
    // A, if the index keeps containment fingerprints (what `scan
    // --containment` reports, at its default threshold).
    let inside = match chosen.filter(|c| c.similarity.meets(threshold)) {
        Some(_) => None,
        None => index
            .containment_candidates(fp, &a.text)?
            .into_iter()
            .filter(|(_, k)| k.at_least(8, 10))
            .max_by(|(x, kx), (y, ky)| kx.as_f64().total_cmp(&ky.as_f64()).then(y.row.cmp(&x.row))),
    };
    let chosen = match &inside {
        Some((c, _)) => Some(c),
        None => chosen,
    };
    let Some(c) = chosen else {
        writeln!(out, "A  {}", style.paint("1;35", &a_place))?;
        writeln!(out, "   {}", a.text)?;
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.paint(
                "1",
                &format!(
                    "no paragraph of {} ({} paragraphs) shares a band with A: a scan against it \
                     reports none",
                    path.display(),
                    index.paragraphs()
                )
            )
        )?;
        return Ok(None);
    };
    let meeting = candidates
        .iter()
        .filter(|c| c.similarity.meets(threshold))
        .count();
    let l = &c.location;
    let batch = l.batch.as_deref().unwrap_or("?");
    // The old text, if its file is still there and unchanged.
    let old = || -> Option<String> {
        let input = inputs::file_input(PathBuf::from(l.path.as_ref()), args.input.input_format);
        let fields = neardup::corpus::JsonlFields {
            text: args.input.text_field.clone(),
            id: args.input.id_field.clone(),
        };
        let address = if l.doc == l.path {
            Address::Line(l.line)
        } else {
            Address::Paragraph {
                doc: l.doc.to_string(),
                paragraph: l.paragraph,
            }
        };
        let found = locate(&input, config.paragraphs(), &fields, &address).ok()?;
        let mut tokens = Vec::new();
        fp.tokens_with(&found.text, &mut Scratch::default(), &mut tokens)?;
        (tokens == c.tokens).then_some(found.text)
    };
    let b_place = if l.doc == l.path {
        format!(
            "{}:{} [index batch {}, row {}]",
            escape(&l.path),
            l.line,
            escape(batch),
            c.row
        )
    } else {
        format!(
            "{}:{} (doc {}, paragraph {}) [index batch {}, row {}]",
            escape(&l.path),
            l.line,
            escape(l.url.as_deref().unwrap_or(&l.doc)),
            l.paragraph,
            escape(batch),
            c.row
        )
    };
    let text = old();
    let e = match &text {
        Some(t) => explain(fp, &a.text, t, false),
        None => explain_tokens(fp, &a.text, &c.tokens, false),
    };
    let b_is = match &inside {
        Some((_, k)) => format!(
            "the indexed paragraph with most of the shorter one's shingles in the other \
             (containment {:.2}, what `scan --containment` reports)",
            k.as_f64()
        ),
        None if meeting > 0 => "the earliest of those, the one a scan reports".to_owned(),
        None => "the most similar".to_owned(),
    };
    writeln!(
        out,
        "{}: {} indexed paragraph(s) share a band with A, {meeting} at or above the threshold; B is {b_is}",
        path.display(),
        candidates.len(),
    )?;
    writeln!(out)?;
    render(
        out,
        style,
        config,
        (&a_place, &a.text),
        (&b_place, text.as_deref()),
        &e,
    )?;
    Ok(Some(e))
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// `path:line`, with the document and paragraph for inputs of many
/// documents; control characters escaped, as in `scan`'s text output.
fn place(path: &str, at: &Located) -> String {
    let shown = escape(path);
    if at.doc == path {
        format!("{shown}:{}", at.line)
    } else {
        let doc = escape(at.url.as_deref().unwrap_or(&at.doc));
        format!(
            "{shown}:{} (doc {doc}, paragraph {})",
            at.line, at.paragraph
        )
    }
}

fn fraction(numerator: impl std::fmt::Display, denominator: impl std::fmt::Display) -> String {
    format!("{numerator}/{denominator}")
}

/// Writes the explanation for people. Stable enough for the snapshot tests,
/// but not an interface: scripts should use the exit code.
fn render(
    out: &mut dyn Write,
    style: &Style,
    config: &Config,
    (place_a, text_a): (&str, &str),
    (place_b, text_b): (&str, Option<&str>),
    e: &Explanation,
) -> io::Result<()> {
    writeln!(out, "A  {}", style.paint("1;35", place_a))?;
    writeln!(out, "   {text_a}")?;
    writeln!(out, "B  {}", style.paint("1;35", place_b))?;
    match text_b {
        Some(text) => writeln!(out, "   {text}")?,
        None => writeln!(
            out,
            "   (its text is not at hand: the file is gone, moved or changed since it was \
             indexed; the numbers below come from the {} token hashes the index keeps)",
            e.b.tokens
        )?,
    }
    writeln!(out)?;
    if text_b.is_some() {
        writeln!(
            out,
            "word diff, A to B ([-only in A-] {{+only in B+}}, words compared after normalisation):"
        )?;
        let diff: Vec<String> = e
            .diff
            .iter()
            .map(|s| match s.change {
                Change::Same => s.words.clone(),
                Change::Removed => style.paint("31", &format!("[-{}-]", s.words)),
                Change::Added => style.paint("32", &format!("{{+{}+}}", s.words)),
            })
            .collect();
        writeln!(out, "   {}", diff.join(" "))?;
        writeln!(out)?;
    }
    let shingles = |s: Option<usize>| s.map_or("-".to_owned(), |n| n.to_string());
    writeln!(out, "                      A       B")?;
    writeln!(out, "tokens          {:>7} {:>7}", e.a.tokens, e.b.tokens)?;
    writeln!(
        out,
        "shingles        {:>7} {:>7}   ({}-{} shingles, distinct)",
        shingles(e.a.shingles),
        shingles(e.b.shingles),
        config.shingle_size(),
        match config.tokens() {
            neardup::normalize::TokenKind::Words => "word",
            neardup::normalize::TokenKind::Chars => "character",
        }
    )?;
    writeln!(out)?;
    if !e.compared() {
        writeln!(
            out,
            "not compared: a paragraph with fewer than {} tokens (--min-words) is never fingerprinted",
            config.min_words()
        )?;
        return Ok(());
    }
    let s = e.similarity;
    writeln!(
        out,
        "exact Jaccard       {:.4} = {} shared / {} in either",
        s.as_f64(),
        s.intersection,
        s.union
    )?;
    writeln!(
        out,
        "estimated Jaccard   {:.4} = {} signature values agree",
        e.estimate(),
        fraction(e.agreeing, e.num_perm)
    )?;
    let bands: Vec<String> = e.bands.iter().map(ToString::to_string).collect();
    let agree = if bands.is_empty() {
        "no band agrees".to_owned()
    } else {
        format!(
            "{} agree: {}",
            fraction(bands.len(), e.lsh.bands()),
            bands.join(" ")
        )
    };
    writeln!(
        out,
        "LSH bands           {} x {} rows; {agree}",
        e.lsh.bands(),
        e.lsh.rows()
    )?;
    writeln!(
        out,
        "                    (a pair at J = {:.4} shares a band with probability {:.4})",
        s.as_f64(),
        e.lsh.probability(s.as_f64())
    )?;
    if let Some(inside) = &e.inside {
        let (short, long) = if inside.short_is_a {
            (("A", e.a.tokens), ("B", e.b.tokens))
        } else {
            (("B", e.b.tokens), ("A", e.a.tokens))
        };
        let c = inside.containment;
        writeln!(
            out,
            "containment         {:.4} = {} of {}'s shingles are in {} ({} is the shorter)",
            c.as_f64(),
            fraction(c.shared, c.of),
            short.0,
            long.0,
            short.0
        )?;
        let run = if inside.short_words.is_empty() {
            "no run of words shared".to_owned()
        } else {
            format!(
                "longest shared run: words {}-{} of {} in {}, {}-{} of {} in {}",
                inside.short_words.start + 1,
                inside.short_words.end,
                short.1,
                short.0,
                inside.long_words.start + 1,
                inside.long_words.end,
                long.1,
                long.0
            )
        };
        writeln!(out, "                    ({run})")?;
    }
    writeln!(out)?;
    let meets = e.identical || s.meets(e.threshold);
    let verdict = if e.out_of_scope {
        "not compared: A and B are in different documents, and --scope within compares only paragraphs of the same document".to_owned()
    } else if e.identical {
        "exact copies (the same normalised text): a scan reports B as a duplicate of A, or A of B, whichever comes later".to_owned()
    } else if e.candidate() && meets {
        format!(
            "near-duplicates: candidates, and J >= {} (the threshold); a scan reports the later one as a duplicate of the earlier if that is kept",
            e.threshold
        )
    } else if e.candidate() {
        format!(
            "not near-duplicates: candidates, but J < {} (the threshold); a scan verifies the pair and rejects it",
            e.threshold
        )
    } else if meets {
        format!(
            "missed: J >= {} (the threshold) but no band agrees, so a scan never compares them",
            e.threshold
        )
    } else {
        format!(
            "not near-duplicates: no band agrees, and J < {} (the threshold)",
            e.threshold
        )
    };
    writeln!(out, "{}", style.paint("1", &verdict))
}
