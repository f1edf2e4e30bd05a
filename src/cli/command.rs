//! The top of the command-line grammar: the program's own flags and the
//! list of commands, each with its arguments (`args.rs`, and
//! `check/args.rs` for `check`).

use clap::{Parser, Subcommand, ValueEnum};

use super::args::{CleanArgs, ExplainArgs, ParamsArgs, ScanArgs};
use super::check::CheckArgs;
use super::index::IndexArgs;
use super::stage::StageArgs;

/// Find near-duplicate paragraphs in text corpora.
///
/// neardup splits documents into paragraphs, fingerprints them with MinHash,
/// finds candidate pairs with LSH and verifies every pair by exact Jaccard
/// similarity of word 5-gram shingles.
#[derive(Debug, Parser)]
#[command(
    name = "neardup",
    version,
    max_term_width = 100,
    arg_required_else_help = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Print a shell completion script or the man page, then exit.
    ///
    /// `completions-bash`, `completions-zsh`, `completions-fish` and
    /// `completions-powershell` print a completion script for that shell;
    /// `man` prints the manual page (roff), covering every command. The
    /// README says where to install them.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report near-duplicate paragraphs (exit 0: none, 1: found, 2: error).
    Scan(ScanArgs),
    /// Write the corpus back without its duplicate paragraphs (exit 0: done,
    /// 2: error).
    Clean(CleanArgs),
    /// Fail when duplicates exceed limits: a CI gate (exit 0: pass, 1: fail,
    /// 2: error).
    Check(CheckArgs),
    /// Show the LSH banding chosen for a threshold and its S-curve.
    Params(ParamsArgs),
    /// Show why two paragraphs are, or are not, near-duplicates (exit 0:
    /// they are not, 1: they are, 2: error).
    Explain(ExplainArgs),
    /// Keep a persistent index of kept paragraphs, to check each new batch
    /// against every earlier one (create, add, info, verify,
    /// rollback, compact, drop).
    Index(IndexArgs),
    /// Run one stage of a scan spread over machines: fingerprint a shard
    /// into stage files (`scan --stage-dir` is the last stage).
    Stage(StageArgs),
}

/// What `--generate` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    CompletionsBash,
    CompletionsZsh,
    CompletionsFish,
    CompletionsPowershell,
    Man,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every flag of every command has a one-line help for `-h` and a
    /// longer text for `--help` and the man page.
    #[test]
    fn every_flag_has_short_and_long_help() {
        fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                let short = arg.get_help().map(ToString::to_string).unwrap_or_default();
                let long = arg
                    .get_long_help()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if short.is_empty() || short.contains('\n') || long.len() <= short.len() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        check(&Cli::command(), "neardup", &mut missing);
        assert!(
            missing.is_empty(),
            "without short and long help: {missing:?}"
        );
    }
}
