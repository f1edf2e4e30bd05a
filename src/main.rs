//! The `neardup` command: flags in, a validated configuration, the library
//! run, a report printed and an exit code out. All file-system access and
//! terminal handling lives here, in `cli/`.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
