//! Paragraphs allowed to repeat: the boilerplate a corpus is expected to
//! carry ("0 Comments", "Related Topics", a byline), listed by the user so
//! that detection passes over it.
//!
//! An allowed paragraph is dropped before it is fingerprinted, like a
//! paragraph below `min_words`: it still counts as a paragraph, but it is
//! neither kept nor a duplicate. Dropping it only from the report would not
//! do: a kept boilerplate line would still be the paragraph that its
//! near-variants are reported against, and with the no-chaining rule it
//! would decide which of them count.
//!
//! An entry allows a paragraph in one of two ways:
//!
//! - **text**: the paragraph's normalised text equals the entry's (the same
//!   normalisation as detection: case, punctuation, Unicode forms and
//!   spacing do not matter, so `0 comments` allows `0 Comments.`). It is
//!   compared by content hash.
//! - **pattern**: a regular expression (the `regex` crate's syntax) that
//!   matches the *whole* paragraph text, after white space at both ends is
//!   trimmed and every inner run of white space (line breaks of a
//!   blank-line paragraph included) is turned into one space. Patterns are
//!   case-sensitive unless they start with `(?i)`.

use std::borrow::Cow;

use ahash::AHashSet;
use regex::RegexSet;

use crate::Error;
use crate::fingerprint::{self, Fingerprinter};

/// Paragraphs allowed to repeat, by text or by pattern.
///
/// # Example
///
/// ```
/// use neardup::allow::Allowlist;
/// use neardup::corpus::{Format, Input, MemorySource};
/// use neardup::pipeline::{scan, ScanOptions, Silent};
/// use neardup::Config;
///
/// let text = "Related Topics\nBy Ann Lee, staff writer\nThe pier reopens on Monday after repairs.\n\
///             Related topics\nBy Bo Ng, staff writer\nThe pier reopens on Monday after repairs.\n";
/// let inputs = [Input::new(MemorySource::new("a.txt", text), Format::Text)];
/// let options = ScanOptions {
///     allowlist: Allowlist::new(&["Related Topics"], &[r"By .+, staff writer"])?,
///     ..ScanOptions::default()
/// };
/// let report = scan(&inputs, &Config::default(), &options, &Silent)?;
/// assert_eq!(report.summary.allowed, 4);
/// assert_eq!(report.summary.duplicate_paragraphs, 1);
/// # Ok::<(), neardup::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    texts: Vec<String>,
    patterns: Option<RegexSet>,
}

impl Allowlist {
    /// An allowlist of paragraph `texts` and whole-paragraph `patterns`.
    ///
    /// # Errors
    ///
    /// Returns a configuration error naming the first pattern that is not a
    /// valid regular expression.
    pub fn new<T: AsRef<str>, P: AsRef<str>>(
        texts: &[T],
        patterns: &[P],
    ) -> Result<Allowlist, Error> {
        let mut anchored = Vec::with_capacity(patterns.len());
        for p in patterns {
            let p = p.as_ref();
            let whole = format!(r"\A(?:{p})\z");
            // Compiled alone first, so that the error names the pattern.
            if let Err(e) = regex::Regex::new(&whole) {
                return Err(Error::config(format!(
                    "allowlist pattern `{p}` is not a valid regular expression: {e}"
                )));
            }
            anchored.push(whole);
        }
        let patterns = if anchored.is_empty() {
            None
        } else {
            Some(RegexSet::new(&anchored).map_err(|e| Error::config(e.to_string()))?)
        };
        Ok(Allowlist {
            texts: texts.iter().map(|t| t.as_ref().to_owned()).collect(),
            patterns,
        })
    }

    /// The texts, as given.
    pub(crate) fn texts(&self) -> &[String] {
        &self.texts
    }

    /// The patterns, as compiled (anchored).
    pub(crate) fn pattern_sources(&self) -> &[String] {
        self.patterns.as_ref().map_or(&[], RegexSet::patterns)
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty() && self.patterns.is_none()
    }

    /// The allowlist for paragraphs fingerprinted by `fingerprinter`, whose
    /// normalisation the text entries take.
    pub(crate) fn bind(&self, fingerprinter: &Fingerprinter) -> Matcher<'_> {
        let mut scratch = fingerprint::Scratch::default();
        let contents = self
            .texts
            .iter()
            .filter_map(|t| Some(fingerprinter.fingerprint_with(t, &mut scratch)?.content))
            .collect();
        Matcher {
            contents,
            patterns: self.patterns.as_ref(),
        }
    }
}

/// An [`Allowlist`] bound to one normalisation.
#[derive(Debug, Default)]
pub(crate) struct Matcher<'a> {
    contents: AHashSet<u64>,
    patterns: Option<&'a RegexSet>,
}

impl Matcher<'_> {
    /// Whether the paragraph `text`, whose content hash is `content`, is
    /// allowed.
    pub(crate) fn allows(&self, text: &str, content: u64) -> bool {
        self.contents.contains(&content)
            || self
                .patterns
                .is_some_and(|set| set.is_match(&collapse_space(text)))
    }
}

/// `text` trimmed, with every run of white space turned into one space.
/// Borrowed when nothing needs to change, as for most single lines.
fn collapse_space(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim();
    let mut previous_space = false;
    let clean = trimmed.chars().all(|c| {
        let ok = !c.is_whitespace() || (c == ' ' && !previous_space);
        previous_space = c.is_whitespace();
        ok
    });
    if clean {
        Cow::Borrowed(trimmed)
    } else {
        Cow::Owned(trimmed.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn allows(list: &Allowlist, text: &str) -> bool {
        let fp = Fingerprinter::new(&Config::default());
        let matcher = list.bind(&fp);
        let content = fp
            .fingerprint(text)
            .map_or(0, |f: crate::Fingerprint| f.content);
        matcher.allows(text, content)
    }

    #[test]
    fn texts_match_after_normalisation() {
        let list = Allowlist::new(&["0 Comments", "Related Topics"], &[] as &[&str]).unwrap();
        for (text, allowed) in [
            ("0 Comments", true),
            ("0 comments.", true),
            ("  RELATED   topics ", true),
            ("10 Comments", false),
            ("Related Topics and more", false),
        ] {
            assert_eq!(allows(&list, text), allowed, "{text:?}");
        }
    }

    #[test]
    fn patterns_match_the_whole_paragraph() {
        let list = Allowlist::new(
            &[] as &[&str],
            &[r"By [A-Z][a-z]+ [A-Z][a-z]+", "(?i)advertisement.*"],
        )
        .unwrap();
        for (text, allowed) in [
            ("By Ann Lee", true),
            ("  By   Ann\nLee\t", true),
            ("Written By Ann Lee", false),
            ("By Ann Lee and friends", false),
            ("ADVERTISEMENT - scroll to continue", true),
        ] {
            assert_eq!(allows(&list, text), allowed, "{text:?}");
        }
    }

    #[test]
    fn bad_pattern_is_named() {
        let err = Allowlist::new(&[] as &[&str], &["fine", "broken("]).unwrap_err();
        assert!(err.to_string().contains("`broken(`"), "{err}");
    }

    #[test]
    fn space_is_collapsed_only_when_needed() {
        assert!(matches!(collapse_space(" a b "), Cow::Borrowed("a b")));
        assert_eq!(collapse_space("a  b\n\tc"), "a b c");
        assert_eq!(collapse_space("a\u{a0}b"), "a b");
    }
}
