//! The fast paths of normalisation, for the text most corpora are made of:
//! ASCII, typographic punctuation, and the Latin-1 letters of western
//! European names and languages.
//!
//! For such text the general rules (NFKC, full lower case, UAX #29 word
//! boundaries, dropping punctuation and symbols) reduce to a handful of byte
//! classes, and a paragraph's words can be found from bit masks — one bit
//! per byte for "word byte", "needs copying" and "may join two words" —
//! with a few instructions per word instead of a table walk per character.
//! A paragraph holding any character outside the known set is left to the
//! general path, before anything is emitted. This is an optimisation only:
//! tests check, character by character and on random strings, that every
//! text the fast path accepts gets exactly the general path's tokens.
//!
//! The characters outside ASCII that are handled, each because its NFKC
//! form, lower case and word-break class are known and simple:
//!
//! - Latin-1 letters `À`–`ÿ` (U+00C0–U+00FF but `×` and `÷`): ALetter,
//!   unchanged by NFKC, lower case by adding 0x20 to the second UTF-8 byte
//!   for `À`–`Þ` (`ß` and the lower-case letters stay as they are);
//! - `‘` `’` (U+2018, U+2019): MidNumLet, like `.` and `'`, so `it’s` is
//!   one word, `its`;
//! - punctuation and symbols of word-break class Other that NFKC leaves
//!   alone or turns into characters of the same kind — `“ ” – — • ‹ ›`,
//!   `… ` (NFKC: `...`, which can never join two words), the no-break space
//!   (NFKC: a space), `¡ ¢ £ ¤ ¥ ¦ § © « ¬ ® ° ± ¶ » ¿ × ÷`, `€ ← →`: they
//!   separate words and are dropped.

use super::Emit;

/// A byte that belongs to a word: an ASCII letter or digit, `_`, or a byte
/// of a Latin-1 letter.
const WORD: u8 = 1;
/// A word byte that the token does not keep as it is: an upper-case letter
/// (lowered) or `_` (dropped).
const COPY: u8 = 2;
/// The first byte of a character that joins two letters or two digits
/// around it (UAX #29 MidLetter, MidNum, MidNumLet, Single_Quote).
const MID: u8 = 4;

/// The classes of each ASCII byte; bytes from 0x80 on are 0 here and
/// classified character by character.
static ASCII: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'a'..=b'z' | b'0'..=b'9' => WORD,
            b'A'..=b'Z' | b'_' => WORD | COPY,
            b':' | b'.' | b'\'' | b',' | b';' => MID,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// Bit masks over a paragraph's bytes, 64 bytes to a word, with one spare
/// word of zeros at the end so that the byte just past the text can be
/// asked about.
#[derive(Debug, Default)]
pub(super) struct Masks {
    word: Vec<u64>,
    copy: Vec<u64>,
    mid: Vec<u64>,
}

impl Masks {
    /// Fills the masks for `bytes`; `false` if `bytes` holds a character
    /// the fast path does not handle.
    fn fill(&mut self, bytes: &[u8]) -> bool {
        let words = bytes.len() / 64 + 2;
        for m in [&mut self.word, &mut self.copy, &mut self.mid] {
            m.clear();
            m.resize(words, 0);
        }
        let high = self.fill_ascii(bytes);
        !high || self.fill_non_ascii(bytes)
    }

    /// Sets the bits of the ASCII bytes; whether any byte is not ASCII.
    fn fill_ascii(&mut self, bytes: &[u8]) -> bool {
        let mut high = false;
        for (k, chunk) in bytes.chunks(64).enumerate() {
            let (w, c, m, h) = classify(chunk);
            self.word[k] = w;
            self.copy[k] = c;
            self.mid[k] = m;
            high |= h != 0;
        }
        high
    }

    /// Classifies the characters outside ASCII; `false` at the first one
    /// the fast path does not handle.
    fn fill_non_ascii(&mut self, bytes: &[u8]) -> bool {
        let mut i = 0;
        while let Some(offset) = first_non_ascii(&bytes[i..]) {
            i += offset;
            let len = match bytes[i..] {
                // Latin-1 letters but × and ÷; upper case up to Þ.
                [0xc3, b, ..] if b != 0x97 && b != 0xb7 => {
                    set(&mut self.word, i);
                    set(&mut self.word, i + 1);
                    if b <= 0x9e {
                        set(&mut self.copy, i + 1);
                    }
                    2
                }
                // × ÷
                [0xc3, 0x97 | 0xb7, ..] => 2,
                // ‘ ’
                [0xe2, 0x80, 0x98 | 0x99, ..] => {
                    set(&mut self.mid, i);
                    3
                }
                // – — “ ” • … ‹ ›
                [
                    0xe2,
                    0x80,
                    0x93 | 0x94 | 0x9c | 0x9d | 0xa2 | 0xa6 | 0xb9 | 0xba,
                    ..,
                ] => 3,
                // € ← →
                [0xe2, 0x82, 0xac, ..] | [0xe2, 0x86, 0x90 | 0x92, ..] => 3,
                // no-break space, ¡ ¢ £ ¤ ¥ ¦ § © « ¬ ® ° ± ¶ » ¿
                [
                    0xc2,
                    0xa0..=0xa7 | 0xa9 | 0xab | 0xac | 0xae | 0xb0 | 0xb1 | 0xb6 | 0xbb | 0xbf,
                    ..,
                ] => 2,
                _ => return false,
            };
            i += len;
        }
        true
    }
}

/// The word, copy, middle and not-ASCII bits of up to 64 bytes.
fn classify(chunk: &[u8]) -> (u64, u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        // A short last chunk is padded with NUL bytes, which are in no
        // class.
        let mut padded = [0u8; 64];
        let chunk: &[u8; 64] = match chunk.try_into() {
            Ok(whole) => whole,
            Err(_) => {
                padded[..chunk.len()].copy_from_slice(chunk);
                &padded
            }
        };
        // SAFETY: SSE2 is part of the x86-64 baseline; every CPU that runs
        // this binary has it.
        unsafe { sse2::classify(chunk) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    classify_portable(chunk)
}

/// [`classify`] a byte at a time, by the table: the definition, and the
/// code on other CPUs.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_portable(chunk: &[u8]) -> (u64, u64, u64, u64) {
    let (mut w, mut c, mut m, mut h) = (0u64, 0u64, 0u64, 0u64);
    for (j, &b) in chunk.iter().enumerate() {
        let class = ASCII[usize::from(b)];
        w |= u64::from(class & WORD) << j;
        c |= u64::from((class & COPY) >> 1) << j;
        m |= u64::from((class & MID) >> 2) << j;
        h |= u64::from(b >> 7) << j;
    }
    (w, c, m, h)
}

/// [`classify`] sixteen bytes at a time with SSE2, which every x86-64 CPU
/// has: byte comparisons and one `movemask` per class.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "sse2")]
    pub(super) fn classify(chunk: &[u8; 64]) -> (u64, u64, u64, u64) {
        let (mut w, mut c, mut m, mut h) = (0u64, 0u64, 0u64, 0u64);
        for (k, sixteen) in chunk.chunks_exact(16).enumerate() {
            let sixteen: &[u8; 16] = sixteen.try_into().expect("16 bytes");
            let (wk, ck, mk, hk) = classify16(sixteen);
            w |= wk << (16 * k);
            c |= ck << (16 * k);
            m |= mk << (16 * k);
            h |= hk << (16 * k);
        }
        (w, c, m, h)
    }

    #[target_feature(enable = "sse2")]
    fn classify16(bytes: &[u8; 16]) -> (u64, u64, u64, u64) {
        // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
        let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
        let lower = within(v, b'a', b'z');
        let upper = within(v, b'A', b'Z');
        let digit = within(v, b'0', b'9');
        let under = is(v, b'_');
        let copy = _mm_or_si128(upper, under);
        let word = _mm_or_si128(_mm_or_si128(lower, digit), copy);
        let mid = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(is(v, b':'), is(v, b'.')), is(v, b'\'')),
            _mm_or_si128(is(v, b','), is(v, b';')),
        );
        (bits(word), bits(copy), bits(mid), bits(v))
    }

    /// The bytes equal to `b`.
    #[target_feature(enable = "sse2")]
    fn is(v: __m128i, b: u8) -> __m128i {
        _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))
    }

    /// The bytes in `lo..=hi`, both ASCII. The comparisons are signed:
    /// bytes from 0x80 on are negative, in no such range.
    #[target_feature(enable = "sse2")]
    fn within(v: __m128i, lo: u8, hi: u8) -> __m128i {
        _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8((lo - 1) as i8)),
            _mm_cmplt_epi8(v, _mm_set1_epi8((hi + 1) as i8)),
        )
    }

    /// The top bit of each byte.
    #[target_feature(enable = "sse2")]
    fn bits(v: __m128i) -> u64 {
        u64::from(_mm_movemask_epi8(v) as u16)
    }
}

fn set(mask: &mut [u64], i: usize) {
    mask[i / 64] |= 1 << (i % 64);
}

fn get(mask: &[u64], i: usize) -> bool {
    mask[i / 64] >> (i % 64) & 1 != 0
}

/// The first `i >= from` whose bit is set, if any.
fn next_set(mask: &[u64], from: usize) -> Option<usize> {
    let mut k = from / 64;
    let mut bits = *mask.get(k)? & (!0u64 << (from % 64));
    while bits == 0 {
        k += 1;
        bits = *mask.get(k)?;
    }
    Some(k * 64 + bits.trailing_zeros() as usize)
}

/// The first `i >= from` whose bit is clear (the spare word of zeros
/// guarantees one).
fn next_clear(mask: &[u64], from: usize) -> usize {
    let mut k = from / 64;
    let mut bits = !mask[k] & (!0u64 << (from % 64));
    while bits == 0 {
        k += 1;
        bits = !mask[k];
    }
    k * 64 + bits.trailing_zeros() as usize
}

/// Whether any bit in `from..to` is set. Looks at the words holding that
/// range only: a search running on to the next set bit would cross the
/// rest of a long paragraph for every word of it.
fn any(mask: &[u64], from: usize, to: usize) -> bool {
    if from >= to {
        return false;
    }
    let (first, last) = (from / 64, (to - 1) / 64);
    (first..=last).any(|k| {
        let mut bits = mask[k];
        if k == first {
            bits &= !0u64 << (from % 64);
        }
        if k == last {
            bits &= !0u64 >> (63 - (to - 1) % 64);
        }
        bits != 0
    })
}

/// What a byte is, for the joining rules.
#[derive(PartialEq, Eq)]
enum Kind {
    Letter,
    Digit,
    Neither,
}

/// The kind of the character whose last byte is `b`, inside a word.
fn ends_as(b: u8) -> Kind {
    match b {
        b'0'..=b'9' => Kind::Digit,
        // The last byte of a Latin-1 letter, the only word characters
        // outside ASCII.
        b'a'..=b'z' | b'A'..=b'Z' | 0x80.. => Kind::Letter,
        _ => Kind::Neither,
    }
}

/// The kind of the character whose first byte is `b`, inside a word.
fn starts_as(b: u8) -> Kind {
    match b {
        b'0'..=b'9' => Kind::Digit,
        b'a'..=b'z' | b'A'..=b'Z' | 0xc3 => Kind::Letter,
        _ => Kind::Neither,
    }
}

/// Whether the middle character starting with byte `mid` joins a word
/// ending in `before` to one starting with `after`.
fn joins(before: u8, mid: u8, after: u8) -> bool {
    let (before, after) = (ends_as(before), starts_as(after));
    let (letters, digits) = match mid {
        b':' => (true, false),
        b',' | b';' => (false, true),
        // `.`, `'`, and the first byte of ‘ and ’.
        _ => (true, true),
    };
    (letters && before == Kind::Letter && after == Kind::Letter)
        || (digits && before == Kind::Digit && after == Kind::Digit)
}

/// The word tokens of `text` if every character of it is one the fast path
/// handles (nothing is emitted otherwise), with their count.
///
/// Words are runs of word bytes; a run is joined to the next across one
/// middle character between two letters or two digits (UAX #29 WB6, WB7,
/// WB11, WB12); every other character separates words and is dropped. A
/// word that holds neither upper case, `_` nor a middle character is passed
/// on as a slice of `text`; the others are lowered into `token`.
pub(super) fn words(
    text: &str,
    masks: &mut Masks,
    token: &mut Vec<u8>,
    emit: &mut impl Emit,
) -> Option<usize> {
    let bytes = text.as_bytes();
    if !masks.fill(bytes) {
        return None;
    }
    let Masks { word, copy, mid } = &*masks;
    // Where the word ending just before `end` goes on, if it does.
    let joined_at = |end: usize| {
        if !get(mid, end) {
            return None;
        }
        let after = end + if bytes[end] < 0x80 { 1 } else { 3 };
        (after < bytes.len() && get(word, after) && joins(bytes[end - 1], bytes[end], bytes[after]))
            .then_some(after)
    };
    let mut count = 0;
    let mut at = 0;
    while let Some(mut start) = next_set(word, at) {
        let mut end = next_clear(word, start);
        // One call of `emit` for both kinds of word, so that it is inlined
        // here rather than called per token (two calls kept it out of line).
        let found: &str = if joined_at(end).is_none() && !any(copy, start, end) {
            at = end;
            &text[start..end]
        } else {
            token.clear();
            loop {
                for &b in &bytes[start..end] {
                    match b {
                        b'_' => {}
                        b'A'..=b'Z' => token.push(b + 0x20),
                        // The second byte of À–Þ (never ×, not a word byte).
                        0x80..=0x9e => token.push(b + 0x20),
                        _ => token.push(b),
                    }
                }
                match joined_at(end) {
                    Some(after) => {
                        start = after;
                        end = next_clear(word, start);
                    }
                    None => break,
                }
            }
            at = end;
            if token.is_empty() {
                continue;
            }
            debug_assert!(std::str::from_utf8(token).is_ok());
            // SAFETY: `token` holds whole characters of `text` (the words'
            // bytes, never the middle characters between them), with ASCII
            // upper case lowered and, of the only other word characters
            // (Latin-1 letters, `c3 xx`), the second byte of À–Þ moved from
            // 80–9e to a0–be: still UTF-8. Checking it again was 1.4% of a
            // scan of prose (the property test compares this path with the
            // general one over mixed text).
            unsafe { std::str::from_utf8_unchecked(token) }
        };
        emit.emit(found);
        count += 1;
    }
    Some(count)
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

/// The ASCII fast path for character tokens.
pub(super) fn ascii_chars(text: &str, emit: &mut impl Emit) -> usize {
    let mut count = 0;
    let mut pending_space = false;
    let mut buf = [0u8; 4];
    for &b in text.as_bytes() {
        if b.is_ascii_whitespace() || b == 0x0b {
            pending_space = count > 0;
        } else if b.is_ascii_alphanumeric() {
            if pending_space {
                emit.emit(" ");
                pending_space = false;
            }
            emit.emit(char::from(b.to_ascii_lowercase()).encode_utf8(&mut buf));
            count += 1;
        }
    }
    count
}

/// Whether the fast path takes `text` (for tests).
#[cfg(test)]
pub(super) fn applies(text: &str) -> bool {
    Masks::default().fill(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `any` agrees with a bit-by-bit look over every range of a few words.
    #[test]
    fn any_looks_at_the_range_only() {
        let mask = [0x8000_0000_0000_0001u64, 0, 0x10, 0];
        let bit = |i: usize| mask[i / 64] >> (i % 64) & 1 != 0;
        for from in 0..200 {
            for to in from..200 {
                assert_eq!(any(&mask, from, to), (from..to).any(bit), "{from}..{to}");
            }
        }
    }

    /// A long paragraph whose words need no copy: each word's look for
    /// upper case once scanned the masks to the paragraph's end, so this
    /// took on the order of 10^10 steps; now it is linear.
    #[test]
    fn long_paragraphs_are_linear() {
        let text = "abc ".repeat(400_000);
        let mut masks = Masks::default();
        let mut token = Vec::new();
        let mut n = 0;
        assert_eq!(
            words(&text, &mut masks, &mut token, &mut |_: &str| n += 1),
            Some(400_000)
        );
        assert_eq!(n, 400_000);
    }

    /// The SSE2 classification is the table's.
    #[test]
    fn vector_and_table_classify_alike() {
        let all: Vec<u8> = (0..=255u8).collect();
        for start in 0..=192 {
            for len in [64, 63, 17, 1, 0] {
                let chunk = &all[start..start + len];
                assert_eq!(
                    classify(chunk),
                    classify_portable(chunk),
                    "{len} from byte {start}"
                );
            }
        }
    }
}
