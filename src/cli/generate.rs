//! `neardup --generate WHAT`: shell completion scripts (clap_complete) and
//! the man page (clap_mangen), written from the same clap grammar as the
//! command line itself, so they cannot drift from it.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use super::Status;
use super::command::{Cli, Generate};

pub fn run(what: Generate) -> anyhow::Result<Status> {
    let mut cmd = Cli::command();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let shell = match what {
        Generate::CompletionsBash => Shell::Bash,
        Generate::CompletionsZsh => Shell::Zsh,
        Generate::CompletionsFish => Shell::Fish,
        Generate::CompletionsPowershell => Shell::PowerShell,
        Generate::Man => {
            man(cmd, &mut out)?;
            out.flush()?;
            return Ok(Status::Clean);
        }
    };
    clap_complete::generate(shell, &mut cmd, "neardup", &mut out);
    out.flush()?;
    Ok(Status::Clean)
}

/// One page for the whole tool: the main page, a list of the commands, and
/// for each command a section with its synopsis, description and options
/// (its own sections demoted to subsections), so `man neardup` covers
/// everything.
fn man(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let main = Man::new(cmd.clone());
    main.render_title(out)?;
    main.render_name_section(out)?;
    main.render_synopsis_section(out)?;
    main.render_description_section(out)?;
    main.render_options_section(out)?;
    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        commands
            .control("TP", [])
            .text([bold(format!("neardup {}", sub.get_name()))])
            .text([roman(about)]);
    }
    commands.to_writer(out)?;
    for sub in cmd.get_subcommands() {
        let title = format!("NEARDUP {}", sub.get_name().to_uppercase());
        Roff::new().control("SH", [title.as_str()]).to_writer(out)?;
        let page = Man::new(sub.clone());
        let mut sections = Vec::new();
        page.render_synopsis_section(&mut sections)?;
        page.render_description_section(&mut sections)?;
        page.render_options_section(&mut sections)?;
        for line in String::from_utf8_lossy(&sections).lines() {
            match line.strip_prefix(".SH ") {
                Some(title) => writeln!(out, ".SS {title}")?,
                None => writeln!(out, "{line}")?,
            }
        }
    }
    exit_status().to_writer(out)?;
    main.render_version_section(out)
}

/// The EXIT STATUS section: what each code means, for every command (the
/// README's tables in man page form).
fn exit_status() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in [
        (
            "0",
            "scan: no duplicates. clean: every input written. check: passed (also when a \
             limit is exceeded with --exit-zero, and when --write-baseline wrote the \
             baseline). explain: not near-duplicates. params, --generate: done.",
        ),
        (
            "1",
            "scan: duplicates found. check: a limit is exceeded. explain: near-duplicates.",
        ),
        (
            "2",
            "An error: a bad flag or configuration, an unreadable path or output, a \
             malformed record. The other inputs are still read and reported. Warnings \
             (a binary file or a broken symbolic link found in a directory and skipped, \
             invalid UTF-8, malformed records with --skip-bad-records, changed files that \
             are not inputs) do not change the status.",
        ),
        (
            "130, 143",
            "Interrupted by SIGINT or SIGTERM; temporary files are deleted.",
        ),
    ] {
        roff.control("TP", [])
            .text([bold(code)])
            .text([roman(meaning)]);
    }
    roff.control("PP", []).text([roman(
        "A closed standard output (neardup scan | head) ends the run quietly, not as an error.",
    )]);
    roff
}
