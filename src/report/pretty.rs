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
//! serde_json's pretty printer indents with two spaces per level of
//! nesting and never writes a raw newline inside a string (it escapes
//! them), so an item rendered on its own is the nested item once every
//! newline in it is followed by the indentation of its depth.

use std::io::{self, Write};
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

/// Items rendered at once before they are written.
const WINDOW: usize = 1 << 14;
/// Items per rayon task within a window.
const CHUNK: usize = 256;

/// Appends `value` as the pretty printer writes it `depth` containers
/// deep (its first line unindented: the container put the indentation
/// before it).
pub(super) fn pretty_at(out: &mut Vec<u8>, value: &impl Serialize, depth: usize) {
    let mut alone = Vec::with_capacity(256);
    serde_json::to_writer_pretty(&mut alone, value).expect("report values serialise");
    let mut last = 0;
    for at in memchr::memchr_iter(b'\n', &alone) {
        out.extend_from_slice(&alone[last..=at]);
        indent(out, depth);
        last = at + 1;
    }
    out.extend_from_slice(&alone[last..]);
}

/// Two spaces per level.
pub(super) fn indent(out: &mut Vec<u8>, depth: usize) {
    out.extend(std::iter::repeat_n(b' ', 2 * depth));
}

/// Writes a pretty array of `n` items, `depth` containers deep, where
/// `render(i, buf)` appends item `i` (rendered at `depth + 1`, as
/// [`pretty_at`] does).
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
pub(super) fn write_items(
    out: &mut dyn Write,
    range: Range<usize>,
    depth: usize,
    render: &(dyn Fn(usize, &mut Vec<u8>) + Sync),
) -> io::Result<()> {
    let starts: Vec<usize> = range.clone().step_by(WINDOW).collect();
    for start in starts {
        let window = start..(start + WINDOW).min(range.end);
        let parts: Vec<Vec<u8>> = window
            .clone()
            .step_by(CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| {
                let mut buf = Vec::with_capacity(CHUNK * 192);
                for i in from..(from + CHUNK).min(window.end) {
                    separate(&mut buf, i == 0, depth);
                    render(i, &mut buf);
                }
                buf
            })
            .collect();
        for part in parts {
            out.write_all(&part)?;
        }
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

    #[derive(Serialize)]
    struct Item {
        name: String,
        list: Vec<u32>,
        inner: Option<Box<Item>>,
    }

    fn item(i: usize) -> Item {
        Item {
            name: format!("item \"{i}\"\nwith a newline"),
            list: (0..(i % 3) as u32).collect(),
            inner: i.is_multiple_of(2).then(|| Box::new(item(i + 1))),
        }
    }

    #[derive(Serialize)]
    struct Doc {
        items: Vec<Vec<Item>>,
    }

    /// Arrays written by window and chunk are the pretty printer's bytes,
    /// at every depth and length (empty, one, across chunks and windows).
    #[test]
    fn parallel_arrays_are_the_pretty_printers_bytes() {
        for n in [0, 1, 2, CHUNK - 1, CHUNK + 1, WINDOW + 3] {
            let doc = Doc {
                items: vec![(0..n).map(item).collect(), Vec::new()],
            };
            let expected = serde_json::to_string_pretty(&doc).unwrap();
            let mut got = Vec::new();
            got.extend_from_slice(b"{\n  \"items\": [\n    ");
            write_array(&mut got, n, 2, &|i, buf| pretty_at(buf, &item(i), 3)).unwrap();
            got.extend_from_slice(b",\n    []\n  ]\n}");
            assert_eq!(String::from_utf8(got).unwrap(), expected, "{n} items");
        }
    }
}
