//! `github`: GitHub Actions workflow commands, which the runner turns into
//! annotations on the files, and a Markdown job summary with every finding.
//!
//! `::error file=F,line=L,endLine=E,title=T::MESSAGE`, escaped as the
//! Actions toolkit does: in the message `%` → `%25`, CR → `%0D`, LF →
//! `%0A`; in property values also `:` → `%3A` and `,` → `%2C`; other
//! control characters, which the runner has no encoding for, are shown as
//! in the text output (`\x1b`) rather than written raw. GitHub
//! shows at most 10 error annotations per step, so at most
//! `--max-annotations` are written (the most useful first: input order)
//! and the full list goes to the job summary (`$GITHUB_STEP_SUMMARY`),
//! which GitHub caps at 1 MiB per step. Findings are errors when the check
//! fails and warnings when they are within the limits.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::PathBuf;

use super::{RenderOutcome, details, headline, label, lines, original, place, verdict};
use crate::cli::check::gate::{Finding, Outcome};
use crate::cli::check::settings::display_path;
use neardup::report::text::{count, inside};

/// GitHub's limit on a step's job summary.
const SUMMARY_LIMIT: u64 = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Github {
    pub max_annotations: usize,
    /// The job summary file to append to (`$GITHUB_STEP_SUMMARY`).
    pub summary: Option<PathBuf>,
}

/// Escapes a workflow command's message. Line breaks are what the runner
/// decodes; other control characters (an escape sequence in a file name)
/// have no such encoding and are shown as `\x1b` rather than written raw
/// into the log.
pub fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    neardup::report::text::escape(&s).into_owned()
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The finding's message: its headline and the start of each repeated
/// paragraph.
fn message(f: &Finding) -> String {
    let mut m = headline(f);
    for p in &f.pairs {
        m.push_str(&format!(
            "\n{:>6} │ {}",
            label(&p.at.location),
            neardup::report::text::escape(&p.at.snippet)
        ));
    }
    m
}

impl RenderOutcome for Github {
    fn render(&self, o: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let level = if o.passed() { "warning" } else { "error" };
        for f in o.findings.iter().take(self.max_annotations) {
            let (line, end) = lines(f);
            let title = if f.passage.paragraphs == 1 {
                "Repeated paragraph".to_owned()
            } else {
                format!("Repeated passage ({} paragraphs)", f.passage.paragraphs)
            };
            writeln!(
                out,
                "::{level} file={},line={line},endLine={end},title={}::{}",
                escape_property(&display_path(&f.passage.repeat.first.path)),
                escape_property(&title),
                escape_data(&message(f))
            )?;
        }
        let room = self.max_annotations.saturating_sub(o.findings.len());
        for c in o.contained.iter().take(room) {
            let (at, _) = c.in_inputs();
            let title = if c.short.batch.is_some() {
                "Paragraph holds an indexed one"
            } else {
                "Paragraph inside a longer one"
            };
            writeln!(
                out,
                "::{level} file={},line={},endLine={},title={}::{}",
                escape_property(&display_path(&at.path)),
                at.line,
                at.line,
                escape_property(title),
                escape_data(&inside(c))
            )?;
        }
        let hidden = (o.findings.len() + o.contained.len()).saturating_sub(self.max_annotations);
        if hidden > 0 {
            let rest = if self.summary.is_some() {
                "the job summary lists every finding"
            } else {
                "run with --output-format text to see every finding"
            };
            writeln!(
                out,
                "::{level} title=neardup::{}",
                escape_data(&format!(
                    "{} not annotated (--max-annotations {}); {rest}",
                    count(hidden as u64, "more finding"),
                    self.max_annotations
                ))
            )?;
        }
        for p in o.problems.iter().take(self.max_annotations) {
            let mut props = Vec::new();
            if let Some(path) = &p.path {
                props.push(format!("file={}", escape_property(&display_path(path))));
            }
            if let Some(line) = p.line {
                props.push(format!("line={line}"));
            }
            props.push("title=neardup input".to_owned());
            writeln!(
                out,
                "::{} {}::{}",
                if p.warning { "warning" } else { "error" },
                props.join(","),
                escape_data(&p.message)
            )?;
        }
        if !o.fixed.is_empty() {
            writeln!(
                out,
                "{} baseline entr{} no longer occur; --write-baseline drops them",
                o.fixed.len(),
                if o.fixed.len() == 1 { "y" } else { "ies" }
            )?;
        }
        writeln!(out, "{}", verdict(o))?;
        if let Some(path) = &self.summary {
            // The annotations are the result; a summary that cannot be
            // written is worth a warning, not a failed check.
            if let Err(e) = append_summary(path, o) {
                eprintln!("warning: {}: job summary not written: {e}", path.display());
            }
        }
        Ok(())
    }
}

/// Escapes text for a Markdown table cell: the characters that start
/// inline markup or end a cell are backslash-escaped, line breaks become
/// spaces. (Block markup such as `#` or `-` only counts at the start of a
/// line, which a cell never is.)
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The Markdown job summary: the verdict, counts and one row per finding,
/// cut short to stay within GitHub's limit (counting what earlier commands
/// of the step wrote).
pub fn summary(o: &Outcome<'_>, budget: u64) -> String {
    let mut s = format!("### {}\n\n", markdown(&verdict(o)));
    s.push_str("| | |\n|---|---|\n");
    let mut rows = vec![
        ("files checked", o.files.len().to_string()),
        ("paragraphs", o.paragraphs.to_string()),
        (
            "duplicate paragraphs",
            format!("{} (ratio {:.4})", o.duplicates, o.ratio()),
        ),
        ("findings", o.findings.len().to_string()),
    ];
    if o.limits.max_contained.is_some() {
        rows.push((
            "paragraphs inside longer ones",
            o.contained.len().to_string(),
        ));
    }
    if o.baseline {
        rows.push(("known to the baseline", o.baselined.to_string()));
        rows.push(("fixed since the baseline", o.fixed.len().to_string()));
    }
    for (k, v) in rows {
        s.push_str(&format!("| {k} | {} |\n", markdown(&v)));
    }
    if o.findings.is_empty() && o.contained.is_empty() {
        return s;
    }
    // Room for the note about a cut list.
    let reserve = 200;
    let mut rows: Vec<String> = Vec::new();
    if !o.findings.is_empty() {
        rows.push("\n| where | repeats | | text |\n|---|---|---|---|\n".to_owned());
    }
    rows.extend(o.findings.iter().map(|f| {
        format!(
            "| {} | {} | {} | {} |\n",
            markdown(&place(&f.passage.repeat)),
            markdown(&original(f)),
            markdown(details(f).trim_matches(['(', ')'])),
            markdown(&f.pairs[0].at.snippet)
        )
    }));
    if !o.contained.is_empty() {
        rows.push("\n| paragraph inside a longer one |\n|---|\n".to_owned());
    }
    rows.extend(
        o.contained
            .iter()
            .map(|c| format!("| {} |\n", markdown(&inside(c)))),
    );
    let total = rows.iter().filter(|r| r.starts_with("| ")).count();
    let mut shown = 0;
    for row in rows {
        if (s.len() + row.len()) as u64 + reserve > budget {
            s.push_str(&format!(
                "\n{} more findings not shown: a job summary holds at most 1 MiB.\n",
                total - shown
            ));
            break;
        }
        shown += usize::from(row.starts_with("| "));
        s.push_str(&row);
    }
    s
}

fn append_summary(path: &PathBuf, o: &Outcome<'_>) -> io::Result<()> {
    let used = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let text = summary(o, SUMMARY_LIMIT.saturating_sub(used));
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("50% a:b,c\r\nd"), "50%25 a%3Ab%2Cc%0D%0Ad");
        // `%` first, so that the escapes themselves are not escaped again.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn markdown_cells_are_literal() {
        assert_eq!(markdown("a|b *c* <x>\nd"), "a\\|b \\*c\\* \\<x\\> d");
        assert_eq!(markdown("corpus/a.txt:4-5 (x)"), "corpus/a.txt:4-5 (x)");
    }
}
