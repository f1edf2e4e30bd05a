//! Pretty-printed JSON arrays rendered in parallel, byte for byte as
//! `serde_json::to_writer_pretty` writes them.
//!
//! A report of a million duplicates is a JSON document of most of a
//! gigabyte, and serialising it on one thread after the scan took longer
//! than the scan (a line repeated 10^6 times: 2.2 s of 4.5). Its long
//! arrays are made of small independent items, so they are rendered a
//! window of items at a time on the rayon pool and written in order;
//! memory stays bounded by the window, as when the serializer streamed.
//!
//! The items are written by [`Object`], field by field at their depth,
//! not through serde: serde's pretty printer starts every value at depth
//! 0, so its output had to be copied again to indent it, and its per-field
//! calls cost more than the bytes. serde_json's pretty printer indents
//! with two spaces per level of nesting, puts each field and each array
//! item on a line of its own, and writes `{}` and `[]` when empty; that is
//! all `Object` has to match, and the tests compare it with serde_json.

use std::io::{self, Write};
use std::ops::Range;

use rayon::prelude::*;
use serde_json::ser::{CompactFormatter, Formatter as _};

/// Items rendered at once before they are written.
const WINDOW: usize = 1 << 14;
/// Items per rayon task within a window.
const CHUNK: usize = 256;

/// Two spaces per level.
pub(super) fn indent(out: &mut Vec<u8>, depth: usize) {
    out.extend(std::iter::repeat_n(b' ', 2 * depth));
}

/// An object written field by field as the pretty printer writes it,
/// `depth` containers deep, without serde (see the module doc). Field
/// order and skipped `None`s are the caller's, and a test holds each
/// caller to its `Serialize` derive.
pub(super) struct Object<'a> {
    out: &'a mut Vec<u8>,
    depth: usize,
    empty: bool,
}

/// Appends an object `depth` containers deep, its fields written by
/// `fields`, its first line unindented (the container put the indentation
/// before it).
pub(super) fn object(out: &mut Vec<u8>, depth: usize, fields: impl FnOnce(&mut Object<'_>)) {
    let mut o = Object::open(out, depth);
    fields(&mut o);
    o.close();
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>, depth: usize) -> Object<'a> {
        out.push(b'{');
        Object {
            out,
            depth,
            empty: true,
        }
    }

    /// Writes `"key": ` on a line of its own; `key` needs no escaping.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        self.out
            .extend_from_slice(if self.empty { b"\n" } else { b",\n" });
        self.empty = false;
        indent(self.out, self.depth + 1);
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
        self.out
    }

    /// A string field.
    pub(super) fn str(&mut self, key: &str, value: &str) {
        string(self.key(key), value);
    }

    /// A string field, left out when `None` (`skip_serializing_if`).
    pub(super) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    /// An integer field.
    pub(super) fn u64(&mut self, key: &str, value: u64) {
        let out = self.key(key);
        CompactFormatter
            .write_u64(out, value)
            .expect("a Vec takes every write");
    }

    /// A float field, `null` when it is not finite, as serde_json writes
    /// it.
    pub(super) fn f64(&mut self, key: &str, value: f64) {
        let out = self.key(key);
        if value.is_finite() {
            CompactFormatter.write_f64(out, value)
        } else {
            CompactFormatter.write_null(out)
        }
        .expect("a Vec takes every write");
    }

    /// An object field, written by `fields`.
    pub(super) fn object(&mut self, key: &str, fields: impl FnOnce(&mut Object<'_>)) {
        let depth = self.depth + 1;
        object(self.key(key), depth, fields);
    }

    /// An array field of `n` objects, item `i` written by `item(i, ..)`.
    pub(super) fn objects(
        &mut self,
        key: &str,
        n: usize,
        mut item: impl FnMut(usize, &mut Object<'_>),
    ) {
        let depth = self.depth + 1;
        let out = self.key(key);
        if n == 0 {
            out.extend_from_slice(b"[]");
            return;
        }
        out.push(b'[');
        for i in 0..n {
            separate(out, i == 0, depth);
            object(out, depth + 1, |o| item(i, o));
        }
        out.push(b'\n');
        indent(out, depth);
        out.push(b']');
    }

    /// Closes the object: `{}` when it has no fields.
    fn close(self) {
        if !self.empty {
            self.out.push(b'\n');
            indent(self.out, self.depth);
        }
        self.out.push(b'}');
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it: only
/// `"`, `\` and control characters are, so most strings (paths, ids)
/// are copied as they are, and the others go through serde_json itself.
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(out, s).expect("a Vec takes every write");
    }
}

/// Writes a pretty array of `n` items, `depth` containers deep, where
/// `render(i, buf)` appends item `i` (rendered at `depth + 1`, as
/// [`object`] does).
pub(super) fn write_array(
    out: &mut dyn Write,
    n: usize,
    depth: usize,
    render: &(dyn Fn(usize, &mut Vec<u8>) + Sync),
) -> io::Result<()> {
    if n == 0 {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    write_items(out, 0..n, depth, render)?;
    close_array(out, depth)
}

/// Writes items `range` of a pretty array `depth` deep, each after its
/// separator (a newline for the array's first item, item 0, else a comma
/// and a newline) and indentation, rendered in parallel.
///
/// The next window is rendered while this thread writes the last one:
/// writing is a copy into the page cache on this thread alone (a
/// report of 195 MB, 300,000 clusters, spent about a tenth of a second
/// on it with the pool idle). The rendering is spawned into the current
/// pool (`rayon::in_place_scope`), so that a caller's pool, and its
/// thread count, is the one at work; and the scope's end waits by
/// helping, so that a pool of one thread renders after the write instead
/// of waiting for itself. Two windows are held at most.
pub(super) fn write_items(
    out: &mut dyn Write,
    range: Range<usize>,
    depth: usize,
    render: &(dyn Fn(usize, &mut Vec<u8>) + Sync),
) -> io::Result<()> {
    let window = |start: usize| -> Vec<Vec<u8>> {
        let end = (start + WINDOW).min(range.end);
        (start..end)
            .step_by(CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| {
                let mut buf = Vec::with_capacity(CHUNK * 192);
                for i in from..(from + CHUNK).min(end) {
                    separate(&mut buf, i == 0, depth);
                    render(i, &mut buf);
                }
                buf
            })
            .collect()
    };
    let mut starts = range.clone().step_by(WINDOW);
    let Some(first) = starts.next() else {
        return Ok(());
    };
    let mut current = window(first);
    for start in starts {
        let mut next = Vec::new();
        let written = rayon::in_place_scope(|s| {
            s.spawn(|_| next = window(start));
            write_parts(out, std::mem::take(&mut current))
        });
        // A failed write stops here, the window rendered meanwhile unused.
        written?;
        current = next;
    }
    write_parts(out, current)
}

fn write_parts(out: &mut dyn Write, parts: Vec<Vec<u8>>) -> io::Result<()> {
    for part in parts {
        out.write_all(&part)?;
    }
    Ok(())
}

/// The separator and indentation before an item of an array `depth`
/// deep.
pub(super) fn separate(out: &mut Vec<u8>, first: bool, depth: usize) {
    out.extend_from_slice(if first { b"\n" } else { b",\n" });
    indent(out, depth + 1);
}

/// The end of a non-empty array `depth` deep.
pub(super) fn close_array(out: &mut dyn Write, depth: usize) -> io::Result<()> {
    let mut end = vec![b'\n'];
    indent(&mut end, depth);
    end.push(b']');
    out.write_all(&end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Item {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        count: u64,
        ratio: f64,
        inner: Option<Box<Item>>,
        children: Vec<Item>,
        nothing: Empty,
    }

    #[derive(Serialize)]
    struct Empty {}

    /// Strings serde_json escapes (quotes, backslashes, every control
    /// character) and strings it leaves alone (DEL, `/`, non-ASCII).
    fn name(i: usize) -> String {
        let odd = char::from_u32((i % 0x24) as u32).unwrap();
        let quote = if i.is_multiple_of(5) { "\"" } else { "" };
        let backslash = if i.is_multiple_of(7) { "\\" } else { "" };
        format!("item {i}{quote}{backslash} {odd} / \u{7f} é ✓")
    }

    fn item(i: usize) -> Item {
        nested(i, 2)
    }

    /// Item `i` with `levels` more levels of items inside it.
    fn nested(i: usize, levels: usize) -> Item {
        let below = |i| (levels > 0).then(|| nested(i, levels - 1));
        Item {
            name: name(i),
            label: i.is_multiple_of(3).then(|| format!("label {i}")),
            count: (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ratio: match i % 4 {
                0 => i as f64 / 7.0,
                1 => 1.0,
                2 => f64::NAN,
                _ => 1e-300 * i as f64,
            },
            inner: below(i + 1).filter(|_| i.is_multiple_of(2)).map(Box::new),
            children: (0..i % 3).filter_map(|k| below(i * 3 + k + 1)).collect(),
            nothing: Empty {},
        }
    }

    /// Writes `item` the way the report's items are written.
    fn write(item: &Item, o: &mut Object<'_>) {
        o.str("name", &item.name);
        o.opt_str("label", item.label.as_deref());
        o.u64("count", item.count);
        o.f64("ratio", item.ratio);
        match &item.inner {
            Some(inner) => o.object("inner", |o| write(inner, o)),
            None => {
                // `null`, which the report never writes: serde's bytes.
                let out = o.key("inner");
                out.extend_from_slice(b"null");
            }
        }
        o.objects("children", item.children.len(), |k, o| {
            write(&item.children[k], o)
        });
        o.object("nothing", |_| {});
    }

    #[derive(Serialize)]
    struct Doc {
        items: Vec<Vec<Item>>,
    }

    /// Arrays written by window and chunk, of items written by [`Object`],
    /// are the pretty printer's bytes, at every depth and length (empty,
    /// one, across chunks and windows).
    #[test]
    fn parallel_arrays_are_the_pretty_printers_bytes() {
        for n in [
            0,
            1,
            2,
            CHUNK - 1,
            CHUNK + 1,
            WINDOW,
            WINDOW + 3,
            4 * WINDOW + 1,
        ] {
            let doc = Doc {
                items: vec![(0..n).map(item).collect(), Vec::new()],
            };
            let expected = serde_json::to_string_pretty(&doc).unwrap();
            let mut got = Vec::new();
            got.extend_from_slice(b"{\n  \"items\": [\n    ");
            write_array(&mut got, n, 2, &|i, buf| {
                object(buf, 3, |o| write(&item(i), o))
            })
            .unwrap();
            got.extend_from_slice(b",\n    []\n  ]\n}");
            assert_eq!(String::from_utf8(got).unwrap(), expected, "{n} items");
        }
    }

    /// A writer that fails stops the rendering of the windows after it
    /// and its error is returned.
    #[test]
    fn a_failed_write_stops_the_windows() {
        let rendered = std::sync::atomic::AtomicUsize::new(0);
        let n = 40 * WINDOW;
        let mut out = FailsAfter(100_000);
        let err = write_array(&mut out, n, 1, &|i, buf| {
            rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            object(buf, 2, |o| write(&item(i), o));
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        // The window being written and the one rendered meanwhile.
        assert!(rendered.into_inner() <= 2 * WINDOW, "rendering stopped");
    }

    /// Windows are rendered in the caller's pool, even one of a single
    /// thread (which renders each window after writing the last), and
    /// give the same bytes.
    #[test]
    fn windows_render_in_the_callers_pool() {
        let n = 3 * WINDOW + 7;
        let expected = {
            let mut out = Vec::new();
            write_array(&mut out, n, 1, &|i, buf| {
                object(buf, 2, |o| write(&item(i), o))
            })
            .unwrap();
            out
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|i| format!("caller's pool {i}"))
            .build()
            .unwrap();
        let (got, threads) = pool.install(|| {
            let threads = std::sync::Mutex::new(std::collections::BTreeSet::new());
            let mut out = Vec::new();
            write_array(&mut out, n, 1, &|i, buf| {
                let name = std::thread::current().name().map(str::to_owned);
                threads.lock().unwrap().insert(name);
                object(buf, 2, |o| write(&item(i), o))
            })
            .unwrap();
            (out, threads.into_inner().unwrap())
        });
        assert_eq!(got, expected);
        let caller = Some("caller's pool 0".to_owned());
        assert_eq!(threads.into_iter().collect::<Vec<_>>(), [caller]);
    }

    struct FailsAfter(usize);

    impl Write for FailsAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 < buf.len() {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}
