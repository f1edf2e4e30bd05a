//! Paragraph splitter, normaliser and shingler on arbitrary bytes.
//!
//! The first byte chooses the settings; the rest is a document. Checked:
//! paragraphs slice the text exactly, in order, never blank; the fast
//! normalisation paths give exactly the general path's tokens; a
//! fingerprint exists exactly when there are `min_words` tokens, and a
//! paragraph is identical to itself.
//!
//! Shared by the fuzz target `text` and `tests/fuzz_regressions.rs`.

use neardup::normalize::{Normalizer, Scratch, TokenKind};
use neardup::paragraph::{ParagraphMode, is_blank, paragraphs};
use neardup::{Config, Fingerprinter};

/// Runs the checks on one input; panics on a failure.
pub fn run(data: &[u8]) {
    let Some((&settings, text)) = data.split_first() else {
        return;
    };
    let mode = if settings & 1 == 0 {
        ParagraphMode::Line
    } else {
        ParagraphMode::BlankLine
    };
    let kind = if settings & 2 == 0 {
        TokenKind::Words
    } else {
        TokenKind::Chars
    };
    let shingle_size = 1 + usize::from(settings >> 2 & 3);
    let min_words = 1 + usize::from(settings >> 4 & 3);
    let config = Config::builder()
        .paragraphs(mode)
        .tokens(kind)
        .shingle_size(shingle_size)
        .min_words(min_words)
        .num_perm(16)
        .build()
        .expect("a valid configuration");
    let fingerprinter = Fingerprinter::new(&config);
    let normalizer = Normalizer::new(kind);
    let mut scratch = Scratch::default();

    let mut last_end = 0;
    let mut last_line = None;
    for p in paragraphs(text, mode) {
        assert_eq!(&text[p.start..p.end], p.text);
        assert!(!is_blank(p.text));
        assert!(p.start >= last_end);
        let newlines = text[..p.start].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(p.line as usize, newlines);
        assert!(last_line.is_none_or(|l| p.line > l));
        if mode == ParagraphMode::Line {
            assert!(!p.text.contains(&b'\n'));
        }
        (last_end, last_line) = (p.end, Some(p.line));

        let paragraph = String::from_utf8_lossy(p.text);
        let mut tokens = Vec::new();
        let words = normalizer.tokens(&paragraph, &mut scratch, |t| tokens.push(t.to_owned()));
        assert_eq!(tokens, normalizer.general_tokens(&paragraph));
        assert!(tokens.iter().all(|t| !t.is_empty()));
        let separators = tokens.iter().filter(|t| *t == " ").count();
        assert_eq!(words, tokens.len() - separators);

        match fingerprinter.fingerprint(&paragraph) {
            Some(fp) => {
                assert!(words >= min_words);
                assert_eq!(fp.band_keys.len(), config.lsh().bands());
                assert_eq!(
                    fingerprinter.similarity(&paragraph, &paragraph).as_f64(),
                    1.0
                );
            }
            None => assert!(words < min_words),
        }
    }
}
