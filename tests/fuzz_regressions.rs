//! Every input a fuzz target ever failed on (`fuzz/regressions/TARGET/`),
//! and the hand-written seeds the fuzzers start from (`fuzz/seeds/TARGET/`),
//! run through the same checks as the fuzz targets (`fuzz/checks/`), so a
//! bug found by fuzzing stays fixed without a fuzzer. The files are named
//! for what they hold.

use std::path::Path;

#[path = "../fuzz/checks/decompress.rs"]
mod decompress;
#[path = "../fuzz/checks/jsonl.rs"]
mod jsonl;
#[path = "../fuzz/checks/pipeline.rs"]
mod pipeline;
#[path = "../fuzz/checks/text.rs"]
mod text;

/// Runs `check` on every file under `fuzz/seeds/TARGET` and
/// `fuzz/regressions/TARGET`.
fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in [
        fuzz.join("seeds").join(target),
        fuzz.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            eprintln!("{}", path.display());
            check(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no inputs for {target}");
}

#[test]
fn text() {
    replay("text", text::run);
}

#[test]
fn jsonl() {
    replay("jsonl", jsonl::run);
}

#[test]
fn decompress() {
    replay("decompress", decompress::run);
}

#[test]
fn pipeline() {
    replay("pipeline", pipeline::run);
}
