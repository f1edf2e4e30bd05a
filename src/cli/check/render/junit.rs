//! `junit`: JUnit XML, which most CI systems show as a test report.
//!
//! One test suite, one test case per checked file (named by its path), and
//! in it one `<failure>` per finding (a containment finding belongs to the
//! file of its shorter paragraph), or an `<error>` per problem reading
//! it. JUnit has no official schema; this is the common subset of the Ant
//! and Jenkins ones. When the findings are within the limits the check
//! passes, so they are listed in the test case's `<system-out>` instead of
//! as failures: the report agrees with the exit code.

use std::collections::BTreeMap;
use std::io;

use super::{RenderOutcome, headline, label};
use crate::cli::check::gate::{Finding, Outcome, Problem};
use neardup::report::Contained;
use neardup::report::text::inside;

#[derive(Clone, Copy, Debug)]
pub struct Junit;

/// `s` escaped for XML text and attribute values. Characters XML 1.0 does
/// not allow at all (most C0 controls) become U+FFFD.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn body(f: &Finding) -> String {
    let mut s = headline(f);
    for p in &f.pairs {
        s.push_str(&format!(
            "\n{:>6} │ {}",
            label(&p.at.location),
            p.at.text.as_deref().unwrap_or(&p.at.snippet)
        ));
    }
    s
}

/// A test case's findings and problems.
#[derive(Default)]
struct Case<'a> {
    findings: Vec<&'a Finding>,
    /// Containment findings whose shorter paragraph is in the file.
    contained: Vec<&'a Contained>,
    problems: Vec<&'a Problem>,
}

impl Case<'_> {
    fn has_findings(&self) -> bool {
        !self.findings.is_empty() || !self.contained.is_empty()
    }
}

impl RenderOutcome for Junit {
    fn render(&self, o: &Outcome<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let mut cases: BTreeMap<&str, Case<'_>> = BTreeMap::new();
        let mut order: Vec<&str> = o.files.iter().map(|f| f.path.as_str()).collect();
        for f in &o.findings {
            let path: &str = &f.passage.repeat.first.path;
            if !o.files.iter().any(|file| file.path == path) {
                order.push(path);
            }
            cases.entry(path).or_default().findings.push(f);
        }
        for &c in &o.contained {
            let path: &str = &c.in_inputs().0.path;
            if !order.contains(&path) {
                order.push(path);
            }
            cases.entry(path).or_default().contained.push(c);
        }
        // Problems without a path go to a test case of their own.
        const GENERAL: &str = "neardup";
        for p in o.problems.iter().filter(|p| !p.warning) {
            let path = p.path.as_deref().unwrap_or(GENERAL);
            if !order.contains(&path) {
                order.push(path);
            }
            cases.entry(path).or_default().problems.push(p);
        }
        let failing = !o.passed();
        let failures = cases
            .values()
            .filter(|c| failing && c.has_findings() && c.problems.is_empty())
            .count();
        let errors = cases.values().filter(|c| !c.problems.is_empty()).count();
        let tests = order.len();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="neardup check" tests="{tests}" failures="{failures}" errors="{errors}">"#
        )?;
        writeln!(
            out,
            r#"  <testsuite name="neardup check" tests="{tests}" failures="{failures}" errors="{errors}" skipped="0">"#
        )?;
        let empty = Case::default();
        for path in order {
            let case = cases.get(path).unwrap_or(&empty);
            let open = format!(
                r#"    <testcase name="{}" classname="neardup.check""#,
                xml(path)
            );
            if !case.has_findings() && case.problems.is_empty() {
                writeln!(out, "{open}/>")?;
                continue;
            }
            writeln!(out, "{open}>")?;
            for p in &case.problems {
                let at = p.line.map(|l| format!("line {l}: ")).unwrap_or_default();
                writeln!(
                    out,
                    r#"      <error message="{}" type="input">{}</error>"#,
                    xml(&format!("{at}{}", p.message)),
                    xml(&format!("{at}{}", p.message))
                )?;
            }
            if failing {
                for f in &case.findings {
                    writeln!(
                        out,
                        r#"      <failure message="{}" type="{}">{}</failure>"#,
                        xml(&headline(f)),
                        f.passage.kind.as_str(),
                        xml(&body(f))
                    )?;
                }
                for c in &case.contained {
                    let line = inside(c);
                    writeln!(
                        out,
                        r#"      <failure message="{}" type="contained">{}</failure>"#,
                        xml(&line),
                        xml(&line)
                    )?;
                }
            } else if case.has_findings() {
                let text: Vec<String> = case
                    .findings
                    .iter()
                    .map(|f| body(f))
                    .chain(case.contained.iter().map(|c| inside(c)))
                    .collect();
                writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    xml(&text.join("\n"))
                )?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(xml(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml("x\u{1}y\tz"), "x\u{fffd}y\tz");
    }
}
