//! The command line: parse flags, dispatch to the command's module, and map
//! its outcome to the exit code. Each command has its file (`scan.rs`,
//! `clean.rs`, `check/`, `explain.rs`, `params.rs`, `index.rs`); what several share is
//! in `shared.rs`.

mod args;
mod check;
mod clean;
mod command;
mod config;
mod explain;
mod generate;
mod index;
mod inputs;
mod interrupt;
mod output;
mod params;
mod progress;
mod scan;
mod settings;
mod shared;
mod stage;

use std::io;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use command::{Cli, Command};

/// The exit status, as documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// No duplicates.
    Clean,
    /// Duplicates found.
    Duplicates,
    /// A bad flag, an unreadable input, a malformed record.
    Error,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(match s {
            Status::Clean => 0,
            Status::Duplicates => 1,
            Status::Error => 2,
        })
    }
}

/// Keeps the panic hook from printing a panic in a foreign decoder that
/// [`neardup::guard`] catches and reports as an error about the file (one
/// message, not a crash report followed by an error). A panic in neardup's
/// own code (`src/...`) is printed as always, guarded or not.
fn quiet_guarded_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let ours = info
            .location()
            .is_some_and(|l| l.file().starts_with("src/"));
        if ours || !neardup::guard::is_guarded() {
            default(info);
        }
    }));
}

pub fn main() -> ExitCode {
    // The matches are kept: the commands ask them which flags were given,
    // to let them override the configuration file.
    let parsed = Cli::command().try_get_matches().and_then(|m| {
        Cli::from_arg_matches(&m)
            .map(|cli| (cli, m))
            .map_err(|e| e.format(&mut Cli::command()))
    });
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Status::Error.into()
            } else {
                Status::Clean.into()
            };
        }
    };
    // Without the handler an interrupt still stops the run, only leaving
    // temporary files behind: not a reason to refuse to start.
    let _ = interrupt::install();
    quiet_guarded_panics();
    let result = match (cli.generate, cli.command) {
        (Some(what), _) => generate::run(what),
        (None, Some(Command::Scan(args))) => scan::run(args, subcommand(&matches)),
        (None, Some(Command::Clean(args))) => clean::run(args, subcommand(&matches)),
        (None, Some(Command::Check(args))) => check::run(args, subcommand(&matches)),
        (None, Some(Command::Params(args))) => params::run(&args),
        (None, Some(Command::Explain(args))) => explain::run(args, subcommand(&matches)),
        (None, Some(Command::Index(args))) => index::run(args, subcommand(&matches)),
        (None, Some(Command::Stage(args))) => stage::run(args, subcommand(&matches)),
        // Without either, clap has already printed the help and exited.
        (None, None) => Ok(Status::Error),
    };
    match result {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => Status::Clean.into(),
        Err(e) => {
            eprintln!("error: {}", message(&e));
            Status::Error.into()
        }
    }
}

/// An error and its causes, as `{:#}` shows them, less a cause whose text
/// the message already holds (neardup's errors name their cause in their
/// own text, which `{:#}` would then say twice).
pub fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// The matches of the subcommand that was parsed.
fn subcommand(matches: &clap::ArgMatches) -> &clap::ArgMatches {
    matches
        .subcommand()
        .map(|(_, m)| m)
        .expect("a subcommand was parsed")
}

/// A closed pipe (`neardup scan | head`) is how the reader says it has seen
/// enough: not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    /// An error that names its cause says it once; a context says its
    /// cause after it.
    #[test]
    fn a_message_says_each_cause_once() {
        let io = std::io::Error::other("bad footer");
        let e = anyhow::Error::from(neardup::Error::io("a.parquet", io));
        assert_eq!(super::message(&e), "a.parquet: bad footer");
        let e =
            anyhow::Error::from(std::io::Error::other("Not a directory")).context("creating out/");
        assert_eq!(super::message(&e), "creating out/: Not a directory");
    }
}
