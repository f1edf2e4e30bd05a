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
//! Most news text is ASCII with a few typographic quotes and dashes and
//! Latin-1 letters, and for such text the rules above reduce to a few byte
//! classes that the fast paths in `fast.rs` handle several times faster
//! than the general path. They are an optimisation only: tests check that
//! they give exactly the tokens of the general path for every string they
//! accept.
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

mod fast;

/// Where a normaliser's tokens go, one call per token: any `FnMut(&str)`,
/// or a sink of the crate's own.
///
/// Why not closures alone: the tokenizer calls its sink at several places,
/// and the closure that hashes each token was then compiled as a function
/// called per token. A sink's method marked `#[inline(always)]` is compiled
/// into the tokenizer's loop instead.
pub(crate) trait Emit {
    fn emit(&mut self, token: &str);
}

impl<F: FnMut(&str)> Emit for F {
    #[inline(always)]
    fn emit(&mut self, token: &str) {
        self(token)
    }
}

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

/// The longest text whose word tokens are made in one piece
/// ([`Normalizer::tokens`]).
const PIECE: usize = 1 << 20;

/// Reusable buffers for [`Normalizer::tokens`], so that normalising a
/// paragraph allocates nothing once the buffers have grown.
#[derive(Debug, Default)]
pub struct Scratch {
    lower: String,
    token: String,
    masks: fast::Masks,
    fast_token: Vec<u8>,
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
        self.tokens_in_pieces(text, PIECE, scratch, &mut emit)
    }

    /// [`tokens`](Self::tokens), into a sink of the crate's own (see
    /// [`Emit`]).
    pub(crate) fn tokens_into(
        &self,
        text: &str,
        scratch: &mut Scratch,
        emit: &mut impl Emit,
    ) -> usize {
        self.tokens_in_pieces(text, PIECE, scratch, emit)
    }

    /// [`tokens`](Self::tokens), with word tokens of a text longer than
    /// `piece` bytes made piece by piece, each piece cut just before an
    /// ASCII space at least `piece` bytes on: the normalised copies held
    /// are then a piece's, not the text's (one paragraph of 100 MB of
    /// prose held three copies of itself). A space separates two words
    /// under every rule above: NFKC composes nothing with it and reorders
    /// nothing across it, the final-sigma rule of lower case looks no
    /// further than it, and no word boundary rule joins across it; so the
    /// tokens are those of the whole text. (Character tokens turn spaces
    /// into tokens and are made whole, as is a text with no space.)
    fn tokens_in_pieces(
        &self,
        text: &str,
        piece: usize,
        scratch: &mut Scratch,
        emit: &mut impl Emit,
    ) -> usize {
        if self.kind == TokenKind::Chars || text.len() <= piece {
            return self.tokens_whole(text, scratch, emit);
        }
        let mut count = 0;
        let mut rest = text;
        while rest.len() > piece {
            // A space is one byte, so the cut is a character boundary.
            let Some(at) = memchr::memchr(b' ', &rest.as_bytes()[piece..]) else {
                break;
            };
            let (head, tail) = rest.split_at(piece + at);
            count += self.tokens_whole(head, scratch, &mut *emit);
            rest = tail;
        }
        count + self.tokens_whole(rest, scratch, emit)
    }

    fn tokens_whole(&self, text: &str, scratch: &mut Scratch, emit: &mut impl Emit) -> usize {
        if self.kind == TokenKind::Words
            && let Some(count) =
                fast::words(text, &mut scratch.masks, &mut scratch.fast_token, emit)
        {
            return count;
        }
        match (self.kind, text.is_ascii()) {
            (TokenKind::Chars, true) => fast::ascii_chars(text, emit),
            (kind, _) => {
                let Scratch { lower, token, .. } = scratch;
                lower.clear();
                lower.push_str(&lowercase(&nfkc().normalize(text)));
                match kind {
                    TokenKind::Words => self.unicode_words(lower, token, emit),
                    TokenKind::Chars => self.unicode_chars(lower, emit),
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
    fn unicode_words(&self, text: &str, token: &mut String, emit: &mut impl Emit) -> usize {
        let mut count = 0;
        for word in text.unicode_words() {
            token.clear();
            token.extend(word.chars().filter(|&c| !self.is_dropped(c)));
            if !token.is_empty() {
                emit.emit(token);
                count += 1;
            }
        }
        count
    }

    /// The general path for character tokens; `text` is already NFKC and
    /// lower case.
    fn unicode_chars(&self, text: &str, emit: &mut impl Emit) -> usize {
        let mut count = 0;
        let mut pending_space = false;
        let mut buf = [0u8; 4];
        for c in text.chars() {
            if c.is_whitespace() {
                pending_space = count > 0;
            } else if !self.is_dropped(c) {
                if pending_space {
                    emit.emit(" ");
                    pending_space = false;
                }
                emit.emit(c.encode_utf8(&mut buf));
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

    /// Every character outside ASCII, in the places where the word rules
    /// could treat it differently: alone, inside and at both ends of a
    /// word, between letters, between digits, doubled, next to a middle
    /// character. Wherever the fast path takes the text, its tokens are the
    /// general path's.
    #[test]
    fn fast_path_agrees_on_every_character_it_takes() {
        let mut taken = 0;
        for c in ('\u{80}'..='\u{ffff}').chain(['\u{1f600}', '\u{1d400}']) {
            let contexts = [
                format!("{c}"),
                format!("a{c}b"),
                format!("A{c}B"),
                format!("1{c}2"),
                format!("x {c}{c} y"),
                format!("ab{c}"),
                format!("{c}ab"),
                format!("a.{c}"),
                format!("{c}.a"),
                format!("{c}'{c}"),
                format!("{c}’1"),
                format!("_{c}_"),
                format!("{c}\u{a0}{c}"),
            ];
            let mut all = true;
            for text in &contexts {
                if fast::applies(text) {
                    assert_eq!(
                        words(text),
                        general(TokenKind::Words, text),
                        "U+{:04X} in {text:?}",
                        u32::from(c)
                    );
                } else {
                    all = false;
                }
            }
            taken += usize::from(all);
        }
        // The Latin-1 letters, two quotes and 30 separators: the test
        // above is not vacuous.
        assert_eq!(taken, 62 + 2 + 30);
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
            prop_assert!(fast::applies(&text));
            prop_assert_eq!(words(&text), general(TokenKind::Words, &text));
        }

        #[test]
        fn latin1_fast_path_matches_general_path(
            text in "[aZ9_:.',; ‘’“”…\u{a0}éÀÞßÿØ×÷§©°€→«»¿-]{0,24}",
        ) {
            prop_assert!(fast::applies(&text));
            prop_assert_eq!(words(&text), general(TokenKind::Words, &text));
        }

        /// Word tokens made piece by piece, cut before spaces every few
        /// bytes, are those of the whole text: across final sigmas,
        /// combining marks after a space, compatibility forms that NFKC
        /// turns into a space and a mark, apostrophes and decimal points
        /// at a cut, runs of spaces, regional indicators and CJK.
        #[test]
        fn pieces_give_the_tokens_of_the_whole(
            text in "[aZ9Σσé.,'’_ \u{301}\u{b4}\u{a0}\u{3000}\u{1F1E6}\u{1F1E8}中文\u{ad}Ａﬁ\n-]{0,48}",
            piece in 1usize..12,
        ) {
            let n = Normalizer::new(TokenKind::Words);
            let mut pieces = Vec::new();
            let count = n.tokens_in_pieces(&text, piece, &mut Scratch::default(), &mut |t: &str| {
                pieces.push(t.to_owned())
            });
            let whole = general(TokenKind::Words, &text);
            prop_assert_eq!(count, whole.len());
            prop_assert_eq!(pieces, whole);
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
