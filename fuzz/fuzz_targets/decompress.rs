//! Fuzz target: see `../checks/decompress.rs`.

#![no_main]

#[path = "../checks/decompress.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
