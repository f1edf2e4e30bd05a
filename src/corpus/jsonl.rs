//! JSON Lines records: one line in, the document's id and text out.
//!
//! Only the text and id fields are decoded; every other field is skipped
//! without building a value, and a text without escapes is borrowed from the
//! line rather than copied.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::JsonlFields;

/// The parts of a record neardup uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The id field as text (numbers in their JSON form), if present and not
    /// null.
    pub id: Option<Cow<'a, str>>,
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
/// let r = parse(br#"{"id": 7, "url": "x", "text": "Hello\nWorld"}"#, &JsonlFields::default())?;
/// assert_eq!((r.id.as_deref(), &*r.text), (Some("7"), "Hello\nWorld"));
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
    const REPLACEMENT: &[u8; 6] = br"\ufffd";
    let mut out = match String::from_utf8_lossy(line) {
        Cow::Borrowed(_) => Cow::Borrowed(line),
        Cow::Owned(fixed) => Cow::Owned(fixed.into_bytes()),
    };
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
    type Value = (Record<'de>, &'de serde_json::value::RawValue);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut id, mut found) = (None, None);
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            if key.0 == self.fields.text {
                let raw = map.next_value::<&'de serde_json::value::RawValue>()?;
                // Every occurrence is decoded, as `parse` does, so that a
                // line is refused here exactly when it is refused there.
                let field = &self.fields.text;
                let text = TextSeed { field }
                    .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                    .map_err(de::Error::custom)?;
                found = Some((text, raw));
            } else if key.0 == self.fields.id {
                id = map.next_value_seed(IdSeed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let (text, raw) = found
            .ok_or_else(|| de::Error::custom(format!("missing field `{}`", self.fields.text)))?;
        Ok((Record { id, text }, raw))
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
        let (mut id, mut text) = (None, None);
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            if key.0 == self.fields.text {
                let field = &self.fields.text;
                text = Some(map.next_value_seed(TextSeed { field })?);
            } else if key.0 == self.fields.id {
                id = map.next_value_seed(IdSeed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let text =
            text.ok_or_else(|| de::Error::custom(format!("missing field `{}`", self.fields.text)))?;
        Ok(Record { id, text })
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

struct IdSeed;

impl<'de> DeserializeSeed<'de> for IdSeed {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(Cow::Owned(v.to_string())))
    }
}

use serde::Deserialize as _;

#[cfg(test)]
mod tests {
    use super::*;

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
        let r = parse(br#"{"text":1,"body":"b","uid":null}"#, &f).unwrap();
        assert_eq!((r.id, &*r.text), (None, "b"));
        let r = parse(br#"{"body":"b","uid":{"k":1}}"#, &f).unwrap();
        assert_eq!(r.id.as_deref(), Some(r#"{"k":1}"#));
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
