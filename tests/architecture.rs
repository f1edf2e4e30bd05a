//! The source tree's shape, checked: no two files import each other in a
//! circle (a folder's `mod.rs` and its own children excepted, which share
//! their context). A circle makes a reader go back and forth and ties
//! modules that should be able to move apart (the library from the
//! command line, a stage from the driver).
//!
//! A file's imports are the `crate::…`, `super::…` and `self::…` paths in
//! its code (comments and its `#[cfg(test)] mod tests` left out), each
//! resolved to the longest module path that is a file of the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;

use common::files_under;

/// Module path (`["pipeline", "group"]`) -> its file, for every `.rs` file
/// under `src/`; `lib.rs` and `main.rs` are the root, `[]`.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    for rel in files_under(src) {
        let Some(module) = rel.strip_suffix(".rs") else {
            continue;
        };
        let mut parts: Vec<String> = module.split('/').map(str::to_owned).collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts == ["lib"] || parts == ["main"] {
            parts.clear();
        }
        out.insert(parts, src.join(&rel));
    }
    out
}

/// The code of a file without comments and without its unit tests.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths starting with `crate`, `super` or `self` in `code`, as their
/// segments; a braced group (`use super::{flow, group::Plan}`) gives one
/// path per item.
fn paths(code: &str) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for root in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(root) {
            // Only where a path starts, not `foo_crate::` or `a::super::`.
            if code[..at].ends_with(|c: char| ident(c) || c == ':') {
                continue;
            }
            let rest = &code[at..];
            let end = rest
                .find(|c: char| !(ident(c) || c == ':'))
                .unwrap_or(rest.len());
            let base: Vec<String> = rest[..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if rest[end..].starts_with('{') {
                let group = &rest[end + 1..];
                let (mut depth, mut item) = (0, String::new());
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            push_item(&base, &item, &mut out);
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                push_item(&base, &item, &mut out);
            } else {
                out.push(base);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `base` extended by the leading path of one item of a braced group.
fn push_item(base: &[String], item: &str, out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    path.extend(
        item.trim()
            .split("::")
            .map(|s| s.trim())
            .take_while(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .map(str::to_owned),
    );
    out.push(path);
}

/// The module file `segments` (seen from module `from`) refer to.
fn resolve(
    from: &[String],
    segments: &[String],
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut base: Vec<String> = match segments[0].as_str() {
        "crate" => Vec::new(),
        "self" => from.to_vec(),
        _ => from[..from.len().saturating_sub(1)].to_vec(),
    };
    let mut rest = &segments[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    (0..=rest.len()).rev().find_map(|n| {
        let mut m = base.clone();
        m.extend(rest[..n].iter().cloned());
        files.contains_key(&m).then_some(m)
    })
}

fn is_parent(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && b.len() > a.len() && b.starts_with(a)
}

#[test]
fn no_two_files_import_each_other_in_a_circle() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = modules(&src);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &files {
        for segments in paths(&code(path)) {
            if let Some(target) = resolve(module, &segments, &files)
                && &target != module
                && !target.is_empty()
                && !module.is_empty()
                && !is_parent(module, &target)
                && !is_parent(&target, module)
            {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    // A module is in a circle when it can reach itself.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Vec<String>> = edges[start].iter().collect();
        while let Some(m) = stack.pop() {
            if m == start {
                circles.push(start.join("::"));
                break;
            }
            if seen.insert(m.clone()) {
                stack.extend(edges.get(m).into_iter().flatten());
            }
        }
    }
    assert!(circles.is_empty(), "files in an import circle: {circles:?}");
    // The check sees the imports it is about.
    assert!(
        edges.values().map(BTreeSet::len).sum::<usize>() > 50,
        "{edges:?}"
    );
}
