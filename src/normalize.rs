//! Normalisation: paragraph text in, a sequence of normalised tokens out.
//!
//! Two paragraphs that differ only in case, punctuation, symbols, spacing or
//! Unicode presentation form must give the same tokens, because the tokens
//! are what gets shingled and fingerprinted. The rules, in order:
//!
//! 1. Unicode NFKC (compatibility composition: `ﬁ` → `fi`, full-width `Ａ` →
//!    `A`, no-break space → space).
//! 2. Full Unicode lower case (root locale, so `Σ` at the end of a word
//!    becomes `ς`).
//! 3. *Word tokens* ([`TokenKind::Words`]): the text is cut at Unicode word
//!    boundaries (UAX #29); segments without a letter or digit (spaces,
//!    punctuation, emoji) are skipped; from each remaining segment every
//!    character of general category P (punctuation), S (symbol), Cc (control)
//!    or Cf (format: soft hyphen, zero-width space) is removed. So `U.S.`
//!    gives `us`, `don't` gives `dont`, `3,000` gives `3000`.
//! 4. *Character tokens* ([`TokenKind::Chars`], for scripts written without
//!    spaces): every character that is not P, S, Cc or Cf is a token, and
//!    each run of white space becomes a single `" "` token (none at the start
//!    or end).
//!
//! Most news text is ASCII with a few typographic quotes and dashes, and for
//! such text the rules above reduce to a small state machine that runs
//! several times faster than the general path. The fast path is an
//! optimisation only: property tests check that it gives exactly the tokens
//! of the general path for every string it accepts.
//!
//! The tables behind steps 1–3 come from `icu_normalizer`, `icu_casemap`,
//! `icu_properties` and `unicode-segmentation`, pinned in `Cargo.toml`;
//! [`UNICODE_VERSION`] names the Unicode version of the segmentation tables.

use icu_casemap::CaseMapperBorrowed;
use icu_locale_core::LanguageIdentifier;
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::CodePointMapDataBorrowed;
use icu_properties::props::{GeneralCategory, GeneralCategoryGroup};
use unicode_segmentation::UnicodeSegmentation;

/// The Unicode version of the word-boundary tables in use.
pub const UNICODE_VERSION: (u64, u64, u64) = unicode_segmentation::UNICODE_VERSION;

/// What a token is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Words, cut at Unicode word boundaries (the default).
    #[default]
    Words,
    /// Single characters, for text written without spaces (Chinese,
    /// Japanese, Thai).
    Chars,
}

/// Turns paragraph text into normalised tokens.
///
/// A `Normalizer` is cheap to build and to share between threads; the
/// scratch space it needs lives in a [`Scratch`] owned by each thread.
///
/// # Example
///
/// ```
/// use neardup::normalize::{Normalizer, Scratch, TokenKind};
///
/// let normalizer = Normalizer::new(TokenKind::Words);
/// let mut scratch = Scratch::default();
/// let mut words = Vec::new();
/// normalizer.tokens("The U.S. economy grew 3.2% — “again”.", &mut scratch, |w| {
///     words.push(w.to_owned())
/// });
/// assert_eq!(words, ["the", "us", "economy", "grew", "32", "again"]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Normalizer {
    kind: TokenKind,
}

/// The Unicode tables, compiled into the binary; building these handles
/// costs nothing.
fn nfkc() -> ComposingNormalizerBorrowed<'static> {
    ComposingNormalizerBorrowed::new_nfkc()
}

fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    CaseMapperBorrowed::new().lowercase_to_string(text, &LanguageIdentifier::UNKNOWN)
}

fn category() -> CodePointMapDataBorrowed<'static, GeneralCategory> {
    icu_properties::CodePointMapData::<GeneralCategory>::new()
}

/// Reusable buffers for [`Normalizer::tokens`], so that normalising a
/// paragraph allocates nothing once the buffers have grown.
#[derive(Debug, Default)]
pub struct Scratch {
    lower: String,
    token: String,
}

impl Normalizer {
    /// A normaliser producing tokens of the given kind.
    pub fn new(kind: TokenKind) -> Normalizer {
        Normalizer { kind }
    }

    /// The kind of token this normaliser produces.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// Calls `emit` with each normalised token of `text`, in order.
    ///
    /// Tokens are never empty. Returns the number of tokens emitted, not
    /// counting the `" "` separators of character tokens.
    pub fn tokens(&self, text: &str, scratch: &mut Scratch, mut emit: impl FnMut(&str)) -> usize {
        match (self.kind, text.is_ascii()) {
            (TokenKind::Words, _) if fast_words_apply(text) => {
                fast_words(text, &mut scratch.token, &mut emit)
            }
            (TokenKind::Chars, true) => ascii_chars(text, &mut emit),
            (kind, _) => {
                let Scratch { lower, token } = scratch;
                lower.clear();
                lower.push_str(&lowercase(&nfkc().normalize(text)));
                match kind {
                    TokenKind::Words => self.unicode_words(lower, token, &mut emit),
                    TokenKind::Chars => self.unicode_chars(lower, &mut emit),
                }
            }
        }
    }

    /// The tokens of `text` by the general path alone, even where a fast
    /// path applies: the reference the fast paths must agree with, for
    /// tests and fuzzing. Slower than [`tokens`](Self::tokens), and it
    /// allocates.
    ///
    /// # Example
    ///
    /// ```
    /// use neardup::normalize::{Normalizer, Scratch, TokenKind};
    ///
    /// let n = Normalizer::new(TokenKind::Words);
    /// let text = "It’s 3,000 km — “far”.";
    /// let mut fast = Vec::new();
    /// n.tokens(text, &mut Scratch::default(), |t| fast.push(t.to_owned()));
    /// assert_eq!(fast, n.general_tokens(text));
    /// ```
    pub fn general_tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut token = String::new();
        let lower = lowercase(&nfkc().normalize(text)).into_owned();
        let mut emit = |t: &str| out.push(t.to_owned());
        match self.kind {
            TokenKind::Words => self.unicode_words(&lower, &mut token, &mut emit),
            TokenKind::Chars => self.unicode_chars(&lower, &mut emit),
        };
        out
    }

    /// The general path for word tokens; `text` is already NFKC and lower case.
    fn unicode_words(&self, text: &str, token: &mut String, emit: &mut impl FnMut(&str)) -> usize {
        let mut count = 0;
        for word in text.unicode_words() {
            token.clear();
            token.extend(word.chars().filter(|&c| !self.is_dropped(c)));
            if !token.is_empty() {
                emit(token);
                count += 1;
            }
        }
        count
    }

    /// The general path for character tokens; `text` is already NFKC and
    /// lower case.
    fn unicode_chars(&self, text: &str, emit: &mut impl FnMut(&str)) -> usize {
        let mut count = 0;
        let mut pending_space = false;
        let mut buf = [0u8; 4];
        for c in text.chars() {
            if c.is_whitespace() {
                pending_space = count > 0;
            } else if !self.is_dropped(c) {
                if pending_space {
                    emit(" ");
                    pending_space = false;
                }
                emit(c.encode_utf8(&mut buf));
                count += 1;
            }
        }
        count
    }

    fn is_dropped(&self, c: char) -> bool {
        let gc = category().get(c);
        GeneralCategoryGroup::Punctuation.contains(gc)
            || GeneralCategoryGroup::Symbol.contains(gc)
            || gc == GeneralCategory::Control
            || gc == GeneralCategory::Format
    }
}

/// Word-break classes of the ASCII characters that matter to UAX #29.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    /// `_` (ExtendNumLet): glues letters and digits together.
    Underscore,
    /// `:` (MidLetter): joins two letters.
    MidLetter,
    /// `.` and `'` (MidNumLet, Single_Quote): join two letters or two digits.
    MidBoth,
    /// `,` and `;` (MidNum): join two digits.
    MidNum,
    Other,
}

/// [`Class`] of every byte, looked up rather than matched: the tokenizer
/// asks for each byte of the corpus.
static CLASSES: [Class; 256] = {
    let mut table = [Class::Other; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
            b'0'..=b'9' => Class::Digit,
            b'_' => Class::Underscore,
            b':' => Class::MidLetter,
            b'.' | b'\'' => Class::MidBoth,
            b',' | b';' => Class::MidNum,
            _ => Class::Other,
        };
        b += 1;
    }
    table
};

#[inline]
fn class(b: u8) -> Class {
    CLASSES[usize::from(b)]
}

/// Whether `text` can take the fast path for word tokens: ASCII, plus the
/// typographic punctuation of news copy, whose treatment by the general
/// rules is known (see [`unit`]).
fn fast_words_apply(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = first_non_ascii(&bytes[i..]) {
        i += offset;
        match unit(bytes, i) {
            (_, 0) => return false,
            (_, len) => i += len,
        }
    }
    true
}

/// The position of the first byte of `bytes` that is not ASCII, looking at
/// eight bytes at a time (most paragraphs have none, or few).
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let mut clean = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if word & HIGH_BITS != 0 {
            break;
        }
        clean += 8;
    }
    bytes[clean..]
        .iter()
        .position(|&b| b >= 0x80)
        .map(|p| clean + p)
}

/// The word-break class and length in bytes of the character at `bytes[i]`;
/// length 0 for a character the fast path does not handle. The non-ASCII
/// characters handled are those whose NFKC form, lower case and word-break
/// behaviour reduce to an ASCII equivalent:
///
/// - `‘` `’` (U+2018, U+2019): MidNumLet, like `.`, and punctuation, so
///   `it’s` is one word, `its`;
/// - `“` `”` `–` `—` (U+201C, U+201D, U+2013, U+2014): break, dropped;
/// - `…` (U+2026): NFKC gives `...`, which can never join two words;
/// - no-break space (U+00A0): NFKC gives a space.
fn unit(bytes: &[u8], i: usize) -> (Class, usize) {
    match bytes[i..] {
        [b, ..] if b < 0x80 => (class(b), 1),
        [0xe2, 0x80, 0x98 | 0x99, ..] => (Class::MidBoth, 3),
        [0xe2, 0x80, 0x9c | 0x9d | 0x93 | 0x94 | 0xa6, ..] => (Class::Other, 3),
        [0xc2, 0xa0, ..] => (Class::Other, 2),
        _ => (Class::Other, 0),
    }
}

/// The fast path for word tokens: UAX #29 restricted to the characters
/// [`unit`] knows, then everything but ASCII letters and digits dropped, then
/// lower case. The caller has checked [`fast_words_apply`].
fn fast_words(text: &str, token: &mut String, emit: &mut impl FnMut(&str)) -> usize {
    let bytes = text.as_bytes();
    let is_word = |c| matches!(c, Class::Letter | Class::Digit | Class::Underscore);
    let class_at = |i: usize| (i < bytes.len()).then(|| unit(bytes, i));
    let mut count = 0;
    let mut i = 0;
    while let Some((here, len)) = class_at(i) {
        if !is_word(here) {
            i += len;
            continue;
        }
        // A word segment starts here; extend it as far as the rules allow.
        // Most words are one run of lower-case letters or digits, passed on
        // as a slice of the text; the others are copied, lower-cased and
        // cleaned into `token`.
        token.clear();
        let mut copied = false;
        loop {
            // A run of word characters (ASCII, one byte each) glues together.
            let run = i;
            let mut needs_copy = false;
            while let Some(&b) = bytes.get(i) {
                if !is_word(class(b)) {
                    break;
                }
                needs_copy |= b.is_ascii_uppercase() || b == b'_';
                i += 1;
            }
            // A middle character joins only between two letters or two digits.
            let here = class(bytes[i - 1]);
            let after = class_at(i);
            let joins = after.is_some_and(|(after, after_len)| {
                matches!(
                    (here, after, class_at(i + after_len)),
                    (
                        Class::Letter,
                        Class::MidLetter | Class::MidBoth,
                        Some((Class::Letter, _))
                    ) | (
                        Class::Digit,
                        Class::MidNum | Class::MidBoth,
                        Some((Class::Digit, _))
                    )
                )
            });
            if !joins && !copied && !needs_copy {
                // The segment is `text[run..i]` as it stands.
                emit(&text[run..i]);
                count += 1;
                break;
            }
            for &b in &bytes[run..i] {
                if b != b'_' {
                    token.push(char::from(b.to_ascii_lowercase()));
                }
            }
            copied = true;
            match after {
                Some((_, after_len)) if joins => i += after_len,
                _ => break,
            }
        }
        if copied && !token.is_empty() {
            emit(token);
            count += 1;
        }
    }
    count
}

/// The ASCII fast path for character tokens.
fn ascii_chars(text: &str, emit: &mut impl FnMut(&str)) -> usize {
    let mut count = 0;
    let mut pending_space = false;
    let mut buf = [0u8; 4];
    for &b in text.as_bytes() {
        if b.is_ascii_whitespace() || b == 0x0b {
            pending_space = count > 0;
        } else if b.is_ascii_alphanumeric() {
            if pending_space {
                emit(" ");
                pending_space = false;
            }
            emit(char::from(b.to_ascii_lowercase()).encode_utf8(&mut buf));
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        collect(TokenKind::Words, text)
    }

    fn collect(kind: TokenKind, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        Normalizer::new(kind).tokens(text, &mut Scratch::default(), |t| out.push(t.to_owned()));
        out
    }

    /// The general path, forced even for ASCII input.
    fn general(kind: TokenKind, text: &str) -> Vec<String> {
        Normalizer::new(kind).general_tokens(text)
    }

    #[test]
    fn word_rules_table() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello, World!", &["hello", "world"]),
            ("The U.S. economy", &["the", "us", "economy"]),
            ("don't stop", &["dont", "stop"]),
            ("3,000.50 dollars", &["300050", "dollars"]),
            ("9:37 AM", &["9", "37", "am"]),
            ("re:post a:b", &["repost", "ab"]),
            ("snake_case __init__", &["snakecase", "init"]),
            ("a..b 1.a a.1", &["a", "b", "1", "a", "a", "1"]),
            ("e-mail", &["e", "mail"]),
            ("   ", &[]),
            ("--- *** ---", &[]),
            ("Ünïcödé  ÇA", &["ünïcödé", "ça"]),
            ("“Quoted” — it’s fine", &["quoted", "its", "fine"]),
            ("ﬁnance ＡＢＣ", &["finance", "abc"]),
            (
                "soft\u{AD}hyphen zero\u{200B}width",
                &["softhyphen", "zero", "width"],
            ),
            ("ΟΔΟΣ", &["οδος"]),
        ];
        for (text, expected) in cases {
            assert_eq!(words(text), *expected, "input {text:?}");
        }
    }

    #[test]
    fn char_rules_table() {
        let cases: &[(&str, &[&str])] = &[
            ("北京，今天。", &["北", "京", "今", "天"]),
            ("Ab  c!", &["a", "b", " ", "c"]),
            ("  x\t\ny ", &["x", " ", "y"]),
        ];
        for (text, expected) in cases {
            assert_eq!(collect(TokenKind::Chars, text), *expected, "input {text:?}");
        }
    }

    #[test]
    fn token_count_excludes_separators() {
        let n = Normalizer::new(TokenKind::Chars);
        assert_eq!(n.tokens("ab cd", &mut Scratch::default(), |_| {}), 4);
        let n = Normalizer::new(TokenKind::Words);
        assert_eq!(n.tokens("ab, cd!", &mut Scratch::default(), |_| {}), 2);
    }

    proptest! {
        #[test]
        fn ascii_fast_path_matches_general_path(text in "[ -~\t\n]{0,64}") {
            prop_assert_eq!(words(&text), general(TokenKind::Words, &text));
            prop_assert_eq!(collect(TokenKind::Chars, &text), general(TokenKind::Chars, &text));
        }

        #[test]
        fn ascii_fast_path_matches_on_dense_punctuation(text in "[aZ9_:.',; -]{0,24}") {
            prop_assert_eq!(words(&text), general(TokenKind::Words, &text));
        }

        #[test]
        fn typographic_fast_path_matches_general_path(text in "[aZ9_:.',; ‘’“”–—…\u{a0}-]{0,24}") {
            prop_assert!(fast_words_apply(&text));
            prop_assert_eq!(words(&text), general(TokenKind::Words, &text));
        }

        #[test]
        fn tokens_are_never_empty(text in "\\PC{0,64}") {
            for kind in [TokenKind::Words, TokenKind::Chars] {
                for t in collect(kind, &text) {
                    prop_assert!(!t.is_empty());
                }
            }
        }
    }
}
