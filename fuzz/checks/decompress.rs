//! Decompression detection on arbitrary bytes.
//!
//! Checked: decoding never panics; bytes without a magic number pass through
//! unchanged; gzip and zstd written by [`Encoder`] read back exactly; and a
//! compressed stream cut short is an error (never a silently shorter
//! text), with only a prefix of the text decoded before it.
//!
//! Shared by the fuzz target `decompress` and `tests/fuzz_regressions.rs`.

use std::io::{Read, Write};

use neardup::corpus::compress::{Compression, Encoder, decode, detect};

/// Decodes `raw`: the compression, the bytes decoded and whether it ended
/// in an error.
fn read_all(raw: &[u8]) -> (Compression, Vec<u8>, bool) {
    let (compression, mut reader) = decode(Box::new(raw)).expect("memory reads do not fail");
    let mut out = Vec::new();
    let failed = reader.read_to_end(&mut out).is_err();
    (compression, out, failed)
}

/// Runs the checks on one input; panics on a failure.
pub fn run(data: &[u8]) {
    let (compression, out, failed) = read_all(data);
    assert_eq!(compression, detect(data));
    if compression == Compression::None {
        assert_eq!(out, data);
        assert!(!failed);
    }

    // Round trips, and truncation at a point chosen by the data.
    for compression in [Compression::Gzip, Compression::Zstd] {
        let mut encoder = Encoder::new(compression, Vec::new()).expect("encoder");
        encoder.write_all(data).expect("write to memory");
        let encoded = encoder.finish().expect("finish");
        assert_eq!(read_all(&encoded), (compression, data.to_vec(), false));

        let cut = data.first().map_or(0, |&b| usize::from(b)) * encoded.len() / 256;
        let magic = match compression {
            Compression::Gzip => 2,
            _ => 4,
        };
        if cut >= magic {
            let (c, prefix, failed) = read_all(&encoded[..cut]);
            assert_eq!(c, compression);
            assert!(
                failed,
                "{compression:?} cut at {cut} of {} read without error",
                encoded.len()
            );
            assert!(data.starts_with(&prefix));
        }
    }
}
