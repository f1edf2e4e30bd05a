//! JSON Lines records: one line in, the document's id and text out.
//!
//! Only the text and id fields are decoded; every other field is skipped
//! without building a value, and a text without escapes is borrowed from the
//! line rather than copied.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::JsonlFields;
use super::block::Block;
use super::document::Document;
use crate::Error;
use crate::paragraph::is_blank;

/// The parts of a record neardup uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The id field, if it is a string or a number: a string decoded, a
    /// number as its exact JSON text (`1.0`, `1e2`, `-0` and
    /// `12345678901234567890123` stay as written, since a number read into
    /// a float and printed again would not match the record, and two ids
    /// could become one).
    pub id: Option<Cow<'a, str>>,
    /// What the id field held when it could not be an id (`"null"`, `"a
    /// boolean"`, `"an array"`, `"an object"`); [`id`](Self::id) is `None`
    /// then. Such a record is still read: an id never makes it unreadable.
    pub unusable_id: Option<&'static str>,
    /// The document text.
    pub text: Cow<'a, str>,
}

/// Parses one JSON Lines record.
///
/// # Errors
///
/// Returns a message (without location; the caller knows the file and line)
/// when the line is not a JSON object, lacks the text field, or the text is
/// not a string. When the field occurs more than once, the last occurrence
/// is the text and every occurrence must be a string. A UTF-8 byte-order
/// mark before the record is ignored, as RFC 8259 allows (editors on Windows
/// write one at the start of a file, and `cat` carries it into the middle).
///
/// # Example
///
/// ```
/// use neardup::corpus::{jsonl::parse, JsonlFields};
///
/// let r = parse(br#"{"id": 7.50, "url": "x", "text": "Hello\nWorld"}"#, &JsonlFields::default())?;
/// assert_eq!((r.id.as_deref(), &*r.text), (Some("7.50"), "Hello\nWorld"));
/// # Ok::<(), String>(())
/// ```
pub fn parse<'a>(line: &'a [u8], fields: &JsonlFields) -> Result<Record<'a>, String> {
    let mut de = serde_json::Deserializer::from_slice(without_bom(line));
    let record = (&mut de)
        .deserialize_map(RecordVisitor { fields })
        .map_err(|e| describe(&e, fields))?;
    de.end().map_err(|e| describe(&e, fields))?;
    Ok(record)
}

/// A record and the byte range of its text field's JSON value (quotes
/// included) in the line, so that the text can be replaced in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<'a> {
    /// The record.
    pub record: Record<'a>,
    /// Where the text value is in the line.
    pub text_span: std::ops::Range<usize>,
}

/// Parses one record like [`parse`] and also finds its text value, for
/// rewriting the text while every other byte of the line stays as it was.
/// A line is accepted or refused exactly as by [`parse`] (fields that
/// occur twice included).
///
/// # Errors
///
/// As [`parse`] (only the column in the message may differ).
///
/// # Example
///
/// ```
/// use neardup::corpus::{jsonl::locate, JsonlFields};
///
/// let line = br#"{"id":1, "text" : "a\nb", "x":[]}"#;
/// let found = locate(line, &JsonlFields::default())?;
/// assert_eq!(&line[found.text_span], br#""a\nb""#);
/// assert_eq!(found.record.text, "a\nb");
/// # Ok::<(), String>(())
/// ```
pub fn locate<'a>(line: &'a [u8], fields: &JsonlFields) -> Result<Located<'a>, String> {
    let mut de = serde_json::Deserializer::from_slice(without_bom(line));
    let (record, raw) = (&mut de)
        .deserialize_map(LocateVisitor { fields })
        .map_err(|e| describe(&e, fields))?;
    de.end().map_err(|e| describe(&e, fields))?;
    let start = raw.get().as_ptr() as usize - line.as_ptr() as usize;
    Ok(Located {
        record,
        text_span: start..start + raw.get().len(),
    })
}

/// When `line` is a JSON object without the text field, what to tell the
/// user: the fields it has, quoted as JSON strings (so that no character of
/// a field name reaches a terminal unescaped), and as the likely text
/// field the string with the most spaces (then the longest). `None` for
/// any other line.
/// Meant for a line [`parse`] refused; the line is read again, which costs
/// nothing on the path of good records.
///
/// # Example
///
/// ```
/// use neardup::corpus::{jsonl::missing_text, JsonlFields};
///
/// let line = br#"{"id": 1, "body": "The text.", "url": "https://x.test/"}"#;
/// assert_eq!(
///     missing_text(line, &JsonlFields::default()).as_deref(),
///     Some(r#"no "text" field; this record has "body", "id", "url" (use --text-field body?)"#)
/// );
/// assert_eq!(missing_text(br#"{"text": 5}"#, &JsonlFields::default()), None);
/// ```
pub fn missing_text(line: &[u8], fields: &JsonlFields) -> Option<String> {
    let map: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_slice(without_bom(line)).ok()?;
    if map.contains_key(&fields.text) {
        return None;
    }
    let quote = |name: &str| serde_json::to_string(name).expect("a string encodes");
    let mut message = format!("no {} field", quote(&fields.text));
    if map.is_empty() {
        message.push_str("; this record has no fields");
        return Some(message);
    }
    let names: Vec<String> = map.keys().map(|k| quote(k)).collect();
    message.push_str(&format!("; this record has {}", names.join(", ")));
    // Text has spaces where ids and addresses have none; then the longest.
    // The raw value stands for the string: close enough for a hint.
    let likely = map
        .iter()
        .filter(|(_, v)| v.get().starts_with('"'))
        .max_by_key(|(_, v)| (v.get().matches(' ').count(), v.get().len()));
    if let Some(word) = likely.and_then(|(name, _)| shell_word(name)) {
        message.push_str(&format!(" (use --text-field {word}?)"));
    }
    Some(message)
}

/// `name` as one shell word: as it is when it has only safe characters,
/// else in single quotes; `None` for a name with control characters, which
/// no one would type.
fn shell_word(name: &str) -> Option<String> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/@+=,".contains(c);
    if !name.is_empty() && name.chars().all(safe) {
        Some(name.to_owned())
    } else if name.chars().any(char::is_control) {
        None
    } else {
        Some(format!("'{}'", name.replace('\'', r"'\''")))
    }
}

/// The line without a leading UTF-8 byte-order mark.
fn without_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
}

/// A line that failed to parse, made readable where the problem is its
/// encoding rather than its JSON: invalid UTF-8 becomes U+FFFD (as
/// [`String::from_utf8_lossy`] does), and so does a lone UTF-16 surrogate
/// escape (`"\ud83d"` without its pair; JavaScript and Python write them
/// when a string is cut inside an emoji), which serde_json refuses. A lone
/// surrogate escape is replaced by the escape `\ufffd`, of the same length,
/// so offsets into the repaired line are offsets into the lossily decoded
/// line. Returns the line itself, borrowed, when there is nothing to repair.
///
/// # Example
///
/// ```
/// use neardup::corpus::{jsonl::{parse, repair}, JsonlFields};
///
/// let line = br#"{"text": "cut \ud83d here, kept \ud83d\ude00"}"#;
/// assert!(parse(line, &JsonlFields::default()).is_err());
/// let repaired = repair(line);
/// let record = parse(&repaired, &JsonlFields::default()).unwrap();
/// assert_eq!(record.text, "cut \u{fffd} here, kept \u{1f600}");
/// ```
pub fn repair(line: &[u8]) -> Cow<'_, [u8]> {
    // Valid UTF-8 (nearly every line) is checked far faster whole than
    // chunk by chunk, as `from_utf8_lossy` goes.
    let out = if std::str::from_utf8(line).is_ok() {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(String::from_utf8_lossy(line).into_owned().into_bytes())
    };
    // Most lines have no escaped surrogate at all (`\uD800` to `\uDFFF`),
    // and the walk below goes byte by byte: a clean of 100 MB of news
    // spent 0.2 s in it. Any escape it could replace is `\u`, then `d` or
    // `D`, then `8`, `9` or a letter `a`-`f`/`A`-`F`: without one, the
    // line stays as it is.
    let surrogate = |at: usize| {
        out.get(at + 2..at + 4).is_some_and(|h| {
            matches!(h[0], b'd' | b'D') && matches!(h[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
        })
    };
    if !memchr::memmem::find_iter(&out, br"\u").any(surrogate) {
        return out;
    }
    replace_lone_surrogates(out)
}

/// [`repair`]'s walk: every lone surrogate escape of `out` (valid UTF-8)
/// replaced by `\ufffd`.
fn replace_lone_surrogates(mut out: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    const REPLACEMENT: &[u8; 6] = br"\ufffd";
    // Escapes are found by walking from the line's start: in `"\\ud83d"`
    // the backslash is escaped and `ud83d` is plain text.
    let (mut i, mut in_string) = (0, false);
    // Where an escaped high surrogate waits for its low half.
    let mut high: Option<usize> = None;
    while i < out.len() {
        let b = out[i];
        if !in_string {
            in_string = b == b'"';
            i += 1;
            continue;
        }
        let unit = if b == b'\\' {
            out.get(i + 1..i + 6).and_then(hex_escape)
        } else {
            None
        };
        let low = unit.is_some_and(|u| (0xdc00..0xe000).contains(&u));
        match (high.take(), low) {
            (Some(_), true) => {}
            (Some(at), false) => out.to_mut()[at..at + 6].copy_from_slice(REPLACEMENT),
            (None, true) => out.to_mut()[i..i + 6].copy_from_slice(REPLACEMENT),
            (None, false) => {}
        }
        match (b, unit) {
            (_, Some(unit)) => {
                if (0xd800..0xdc00).contains(&unit) {
                    high = Some(i);
                }
                i += 6;
            }
            // Another escape (or a malformed one, left to the parser).
            (b'\\', None) => i += 2,
            (b'"', None) => {
                in_string = false;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(at) = high {
        out.to_mut()[at..at + 6].copy_from_slice(REPLACEMENT);
    }
    out
}

/// The code unit of an escape's `uXXXX`.
fn hex_escape(escape: &[u8]) -> Option<u32> {
    let digits = escape.strip_prefix(b"u")?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

struct LocateVisitor<'f> {
    fields: &'f JsonlFields,
}

impl<'de> Visitor<'de> for LocateVisitor<'_> {
    type Value = (Record<'de>, &'de RawValue);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut id, mut found) = (Id::default(), None);
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            if key.0 == self.fields.text {
                let raw = map.next_value::<&'de RawValue>()?;
                // Every occurrence is decoded, as `parse` does, so that a
                // line is refused here exactly when it is refused there.
                let field = &self.fields.text;
                let text = TextSeed { field }
                    .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                    .map_err(de::Error::custom)?;
                found = Some((text, raw));
            } else if key.0 == self.fields.id {
                id = Id::of(map.next_value()?).map_err(de::Error::custom)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let (text, raw) = found
            .ok_or_else(|| de::Error::custom(format!("missing field `{}`", self.fields.text)))?;
        Ok((id.record(text), raw))
    }
}

fn describe(e: &serde_json::Error, fields: &JsonlFields) -> String {
    // serde_json's column is useful; its "line 1" is not (the caller knows
    // the real line), so keep only the column.
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &msg[..i], e.column()),
        None => msg,
    };
    match e.classify() {
        serde_json::error::Category::Data if msg.contains("expected a JSON object") => {
            format!(
                "the record is not a JSON object with a `{}` field",
                fields.text
            )
        }
        // The JSON is fine; a field is missing or has the wrong type.
        serde_json::error::Category::Data => msg,
        _ => format!("invalid JSON: {msg}"),
    }
}

struct RecordVisitor<'f> {
    fields: &'f JsonlFields,
}

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
        let (mut id, mut text) = (Id::default(), None);
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            if key.0 == self.fields.text {
                let field = &self.fields.text;
                text = Some(map.next_value_seed(TextSeed { field })?);
            } else if key.0 == self.fields.id {
                id = Id::of(map.next_value()?).map_err(de::Error::custom)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let text =
            text.ok_or_else(|| de::Error::custom(format!("missing field `{}`", self.fields.text)))?;
        Ok(id.record(text))
    }
}

/// A string borrowed from the input when it has no escapes.
struct CowStr<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(CowStrVisitor).map(CowStr)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct TextSeed<'f> {
    field: &'f str,
}

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let field = self.field;
        d.deserialize_any(TextVisitor { field })
    }
}

struct TextVisitor<'f> {
    field: &'f str,
}

impl<'de> Visitor<'de> for TextVisitor<'_> {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}` to be a string", self.field)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A record's id field, read from its raw JSON text so that a number keeps
/// the form it was written in (and a number beyond `f64`'s range, which
/// serde_json refuses to convert, is still an id).
#[derive(Default)]
struct Id<'a> {
    id: Option<Cow<'a, str>>,
    unusable: Option<&'static str>,
}

impl<'a> Id<'a> {
    fn of(raw: &'a RawValue) -> Result<Id<'a>, serde_json::Error> {
        let json = raw.get();
        let unusable = |what| Id {
            id: None,
            unusable: Some(what),
        };
        Ok(match json.as_bytes().first() {
            Some(b'"') => Id {
                id: Some(serde_json::from_str::<CowStr<'a>>(json)?.0),
                unusable: None,
            },
            Some(b'-' | b'0'..=b'9') => Id {
                id: Some(Cow::Borrowed(json)),
                unusable: None,
            },
            Some(b'n') => unusable("null"),
            Some(b't' | b'f') => unusable("a boolean"),
            Some(b'[') => unusable("an array"),
            _ => unusable("an object"),
        })
    }

    fn record(self, text: Cow<'a, str>) -> Record<'a> {
        Record {
            id: self.id,
            unusable_id: self.unusable,
            text,
        }
    }
}

/// Calls `f` with each good record of the JSON Lines `block` as a
/// [`Document`]: see [`super::record::documents`].
pub(super) fn documents(
    block: &Block,
    fields: &JsonlFields,
    name: &str,
    wanted: impl Fn(u64) -> bool,
    diagnostics: &mut Vec<Error>,
    mut f: impl FnMut(Document<'_>),
) {
    let mut line_no = block.first_line;
    for line in lines(&block.data) {
        line_no += 1;
        if is_blank(line) || !wanted(line_no) {
            continue;
        }
        fn document(line: u64, r: Record<'_>) -> Document<'_> {
            Document {
                line,
                id: r.id,
                url: None,
                text: r.text,
                text_line: None,
            }
        }
        // Repaired, so that a record with invalid UTF-8 gets the hint too.
        let bad = |msg: String| match missing_text(&repair(line), fields) {
            Some(msg) => Error::missing_text(name, line_no, msg),
            None => Error::record(name, line_no, msg),
        };
        let mut read = |r: Record<'_>, diagnostics: &mut Vec<Error>| {
            if let Some(what) = r.unusable_id {
                diagnostics.push(Error::unusable_id(name, line_no, &fields.id, what, "line"));
            }
            f(document(line_no, r));
        };
        match parse(line, fields) {
            Ok(r) => read(r, diagnostics),
            Err(msg) => match repair(line) {
                // Invalid UTF-8 or a lone surrogate: read with U+FFFD.
                Cow::Owned(fixed) => match parse(&fixed, fields) {
                    Ok(r) => {
                        diagnostics.push(Error::encoding(name, line_no));
                        read(r, diagnostics);
                    }
                    Err(_) => diagnostics.push(bad(msg)),
                },
                Cow::Borrowed(_) => diagnostics.push(bad(msg)),
            },
        }
    }
}

/// The lines of `data` without their `\n`, as `split` would give them, but
/// found with `memchr` rather than by testing every byte.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    ends.map(move |end| {
        let line = &data[start..end];
        start = end + 1;
        line
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_split() {
        for data in [&b""[..], b"a", b"a\n", b"\n\nb\nc", b"x\ny\n\n"] {
            let expected: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            assert_eq!(super::lines(data).collect::<Vec<_>>(), expected);
        }
    }

    fn fields() -> JsonlFields {
        JsonlFields::default()
    }

    #[test]
    fn reads_text_and_id() {
        let r = parse(
            br#"{"text":"plain","id":"a-1","meta":{"x":[1,2]}}"#,
            &fields(),
        )
        .unwrap();
        assert_eq!(r.id.as_deref(), Some("a-1"));
        assert!(
            matches!(r.text, Cow::Borrowed("plain")),
            "unescaped text is borrowed"
        );
        let r = parse(br#"{"text":"caf\u00e9\n"}"#, &fields()).unwrap();
        assert_eq!((r.id, &*r.text), (None, "café\n"));
    }

    #[test]
    fn custom_fields() {
        let f = JsonlFields {
            text: "body".into(),
            id: "uid".into(),
        };
        let r = parse(br#"{"text":1,"body":"b","uid":"u"}"#, &f).unwrap();
        assert_eq!((r.id.as_deref(), &*r.text), (Some("u"), "b"));
    }

    /// Issue 19: ids exactly as written, whatever their form.
    #[test]
    fn ids_are_exact() {
        let cases: [(&str, Option<&str>, Option<&str>); 16] = [
            ("1.0", Some("1.0"), None),
            ("1e2", Some("1e2"), None),
            ("1.50", Some("1.50"), None),
            ("-0", Some("-0"), None),
            (
                "12345678901234567890123",
                Some("12345678901234567890123"),
                None,
            ),
            ("1E400", Some("1E400"), None),
            ("0.1", Some("0.1"), None),
            (r#""x\u0000y""#, Some("x\0y"), None),
            (r#""a\nb""#, Some("a\nb"), None),
            (r#""\u00e9""#, Some("é"), None),
            (r#""""#, Some(""), None),
            ("[]", None, Some("an array")),
            (r#"{"k":1}"#, None, Some("an object")),
            ("null", None, Some("null")),
            ("false", None, Some("a boolean")),
            (
                &format!("{}{}", "[".repeat(1000), "]".repeat(1000)),
                None,
                Some("an array"),
            ),
        ];
        for (json, id, unusable) in cases {
            let line = format!(r#"{{"id": {json} , "text": "t"}}"#);
            let r = parse(line.as_bytes(), &fields()).unwrap();
            assert_eq!((r.id.as_deref(), r.unusable_id), (id, unusable), "{json}");
            assert_eq!(locate(line.as_bytes(), &fields()).unwrap().record, r);
        }
        let r = parse(br#"{"id":"plain","text":"t"}"#, &fields()).unwrap();
        assert!(matches!(r.id, Some(Cow::Borrowed("plain"))), "borrowed");
        // The last occurrence counts, as for the text.
        let r = parse(br#"{"id":null,"id":7,"text":"t"}"#, &fields()).unwrap();
        assert_eq!((r.id.as_deref(), r.unusable_id), (Some("7"), None));
        // Still JSON: a malformed number is a malformed record.
        assert!(parse(br#"{"id":01,"text":"t"}"#, &fields()).is_err());
    }

    #[test]
    fn missing_text_names_the_fields_and_suggests_one() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (
                br#"{"id":1,"body":"long text here","url":"u"}"#,
                Some(
                    r#"no "text" field; this record has "body", "id", "url" (use --text-field body?)"#,
                ),
            ),
            (
                br#"{}"#,
                Some(r#"no "text" field; this record has no fields"#),
            ),
            (
                br#"{"n":1}"#,
                Some(r#"no "text" field; this record has "n""#),
            ),
            (
                br#"{"my field":"longer","a\nb":"x"}"#,
                Some(
                    r#"no "text" field; this record has "a\nb", "my field" (use --text-field 'my field'?)"#,
                ),
            ),
            (br#"{"text":5}"#, None),
            (br#"[1]"#, None),
        ];
        for (line, expected) in cases {
            assert_eq!(missing_text(line, &fields()).as_deref(), expected);
        }
    }

    #[test]
    fn locate_agrees_with_parse() {
        let lines: [&[u8]; 4] = [
            br#"{"text":"plain","id":"a-1","meta":{"x":[1,2]}}"#,
            br#"{ "id" : 3 , "text" :"caf\u00e9\n" }"#,
            br#"{"text":"first","text":"second"}"#,
            br#"{"a":"text","text":"","b":"\"text\""}"#,
        ];
        for line in lines {
            let found = locate(line, &fields()).unwrap();
            assert_eq!(found.record, parse(line, &fields()).unwrap());
            let value: String = serde_json::from_slice(&line[found.text_span]).unwrap();
            assert_eq!(value, found.record.text);
        }
        // The text field twice, one of them not a string: refused by both
        // (found by the `jsonl` fuzz target, where they disagreed).
        for line in [
            &br#"{"id": 1}"#[..],
            br#"{"text": 5}"#,
            b"[1]",
            br#"{"text":5,"text":"late"}"#,
            br#"{"text":"first","text":5}"#,
        ] {
            assert!(locate(line, &fields()).is_err());
            assert!(parse(line, &fields()).is_err());
        }
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let line = b"\xef\xbb\xbf{\"id\":1,\"text\":\"a b\"}";
        let record = parse(line, &fields()).unwrap();
        assert_eq!((record.id.as_deref(), &*record.text), (Some("1"), "a b"));
        let found = locate(line, &fields()).unwrap();
        assert_eq!(found.record, record);
        assert_eq!(&line[found.text_span], br#""a b""#);
        // Only before the record: inside it, it is not JSON.
        assert!(parse(b"{\xef\xbb\xbf\"text\":\"a\"}", &fields()).is_err());
    }

    #[test]
    fn repair_skips_its_walk_only_where_the_walk_changes_nothing() {
        // Lines of fragments: escapes of high and low surrogates in both
        // cases, other escapes, an escaped backslash before `u`, quotes,
        // invalid bytes. The quick look for a surrogate escape must never
        // skip a line the walk would change.
        let fragments: [&[u8]; 12] = [
            br"\ud83d", br"\ude00", br"\uDBFF", br"\uDC00", br"\ud7ff", br"\ue000", br"\\",
            br"\u00e9", b"\"", b"a", b"\xff", br"\u",
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut changed = 0;
        for _ in 0..20_000 {
            let mut line = b"{\"text\":\"".to_vec();
            for _ in 0..next() % 9 {
                line.extend_from_slice(fragments[(next() % 12) as usize]);
            }
            line.extend_from_slice(b"\"}");
            let fixed = String::from_utf8_lossy(&line).into_owned().into_bytes();
            let walked = replace_lone_surrogates(Cow::Borrowed(&fixed)).into_owned();
            changed += usize::from(walked != fixed);
            assert_eq!(
                repair(&line).into_owned(),
                walked,
                "{}",
                fixed.escape_ascii()
            );
        }
        assert!(changed > 1_000, "the lines exercise the walk: {changed}");
    }

    #[test]
    fn repair_replaces_lone_surrogate_escapes_only() {
        let cases: [(&[u8], &[u8]); 9] = [
            (br#"{"text":"a"}"#, br#"{"text":"a"}"#),
            (br#"{"text":"\ud83d"}"#, br#"{"text":"\ufffd"}"#),
            (br#"{"text":"\ude00x"}"#, br#"{"text":"\ufffdx"}"#),
            (br#"{"text":"\ud83d\ude00"}"#, br#"{"text":"\ud83d\ude00"}"#),
            (
                br#"{"text":"\ud83d\ud83d\ude00"}"#,
                br#"{"text":"\ufffd\ud83d\ude00"}"#,
            ),
            (br#"{"text":"\ud83d\n"}"#, br#"{"text":"\ufffd\n"}"#),
            (br#"{"text":"\ud83d"}"#, br#"{"text":"\ufffd"}"#),
            // An escaped backslash, then plain text.
            (br#"{"text":"\\ud83d"}"#, br#"{"text":"\\ud83d"}"#),
            // Outside strings there are no escapes.
            (br#"{"text":"a"} \ud83d"#, br#"{"text":"a"} \ud83d"#),
        ];
        for (line, expected) in cases {
            let fixed = repair(line);
            assert_eq!(
                String::from_utf8_lossy(&fixed),
                String::from_utf8_lossy(expected)
            );
            assert_eq!(matches!(fixed, Cow::Borrowed(_)), line == expected);
        }
        let fixed = repair(b"{\"text\":\"caf\xe9 \\udc00\"}");
        let record = parse(&fixed, &fields()).unwrap();
        assert_eq!(record.text, "caf\u{fffd} \u{fffd}");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            (&br#"{"id": 1}"#[..], "missing field `text`"),
            (br#"{"text": 5}"#, "field `text` to be a string"),
            (br#"{"text": "a""#, "invalid JSON"),
            (br#"[1, 2]"#, "not a JSON object"),
            (br#"{"text": "a"} x"#, "trailing characters"),
        ];
        for (line, expected) in cases {
            let err = parse(line, &fields()).unwrap_err();
            assert!(
                err.contains(expected),
                "{:?}: {err}",
                String::from_utf8_lossy(line)
            );
            assert!(!err.contains("line 1"), "{err}");
        }
    }
}
