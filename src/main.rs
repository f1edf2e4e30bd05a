//! The `neardup` command: flags in, a validated configuration, the library
//! run, a report printed and an exit code out. All file-system access and
//! terminal handling lives here, in `cli/`.

mod cli;

/// jemalloc, not the system's allocator: see its entry in Cargo.toml.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
