//! Fuzz target: see `../checks/pipeline.rs`.

#![no_main]

#[path = "../checks/pipeline.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
