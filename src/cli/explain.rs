//! `neardup explain A B`: find two paragraphs by the positions reports give,
//! and print why neardup does or does not call them near-duplicates. The
//! numbers come from [`neardup::explain`]; this file parses the addresses
//! and prints.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use neardup::explain::{Address, Change, Explanation, Located, explain, locate};
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

pub fn run(args: &ExplainArgs) -> anyhow::Result<Status> {
    let config = settings::config(&args.detect)?;
    let fields = neardup::corpus::JsonlFields {
        text: args.input.text_field.clone(),
        id: args.input.id_field.clone(),
    };
    let mut found = Vec::new();
    for arg in [&args.a, &args.b] {
        let named = parse(arg)?;
        let input = inputs::file_input(named.path.clone(), args.input.input_format);
        let located = locate(&input, config.paragraphs(), &fields, &named.address)?;
        found.push((input.source.name().to_owned(), located));
    }
    let (a, b) = (&found[0], &found[1]);
    let same_document = a.0 == b.0 && a.1.doc_line == b.1.doc_line;
    let explanation = explain(
        &Fingerprinter::new(&config),
        &a.1.text,
        &b.1.text,
        same_document,
    );
    let style = Style {
        on: super::shared::use_color(args.color),
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    render(&mut out, &style, &config, (a, b), &explanation)?;
    out.flush()?;
    Ok(if explanation.duplicate() {
        Status::Duplicates
    } else {
        Status::Clean
    })
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
    ((path_a, a), (path_b, b)): (&(String, Located), &(String, Located)),
    e: &Explanation,
) -> io::Result<()> {
    writeln!(out, "A  {}", style.paint("1;35", &place(path_a, a)))?;
    writeln!(out, "   {}", a.text)?;
    writeln!(out, "B  {}", style.paint("1;35", &place(path_b, b)))?;
    writeln!(out, "   {}", b.text)?;
    writeln!(out)?;
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
