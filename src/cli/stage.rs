//! `neardup stage`: a scan's first pass, one shard at a time; its
//! grouping, one part of the band keys at a time; its components; and its
//! verification, read again by shard and verified by part: for runs
//! spread over machines without Ray (a Slurm array, a Kubernetes indexed
//! job). The library's [`neardup::stage`] does the work; `scan
//! --stage-dir` and `clean --stage-dir` are the last stage.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use neardup::stage;

use super::Status;
use super::args::{ContainmentArgs, DetectArgs, InputArgs, RunArgs, SelectArgs};
use super::settings::{self, Base};
use super::shared::{print_problems, set_threads, shared_settings};
use super::{inputs, progress};

#[derive(Debug, Args)]
pub struct StageArgs {
    #[command(subcommand)]
    pub action: StageAction,
}

#[derive(Debug, Subcommand)]
pub enum StageAction {
    /// Fingerprint one shard of the inputs into stage files (exit 0:
    /// done, 2: error).
    Fingerprint(FingerprintArgs),
    /// Find the candidate groups of one part of the band keys, after every
    /// shard's fingerprint stage (exit 0: done, 2: error).
    ///
    /// Optional: without group files the last stage groups by itself,
    /// holding every paragraph's band keys (about 100 bytes each). With
    /// them, it holds only the groups. Give the paths and settings of the
    /// fingerprint stage.
    Group(GroupArgs),
    /// Join the candidate groups into components and deal them to N
    /// parts, after every part's group stage (one process; exit 0: done,
    /// 2: error).
    ///
    /// Optional, with the reread and verify stages after it: then no
    /// process holds every paragraph of the corpus (the last stage holds
    /// only the duplicates). This one holds each candidate's slot and
    /// component (about 12 bytes per paragraph in a candidate group).
    Components(ComponentsArgs),
    /// The components stage in rounds, for more candidates than one
    /// process holds: one task's round, the check that a round converged,
    /// or one task's finish (exit 0: done or converged, 1: not converged,
    /// 2: error).
    ///
    /// Instead of `components`: run round 0, 1, 2, … with every task
    /// (`--round R --task T --of N`) until `--check R` exits 0, then every
    /// task's `--finish R --parts P`. No task holds more than its share of
    /// the candidate graph's edges (about 32 bytes per edge). The reread
    /// and verify stages then read the dealt files (`dealt-TTTT-of-NNNN.ndf`);
    /// the report is the same.
    Star(StarArgs),
    /// Read one shard's candidates again, after the components stage
    /// (exit 0: done, 2: error).
    ///
    /// Give the shard numbers of the fingerprint stage. The shard writes
    /// its candidates' shingle sets, cut by part, and its counts
    /// (`sets-FIRST-END.nds`).
    Reread(FingerprintArgs),
    /// Verify one part's components, after every shard's reread stage
    /// (exit 0: done, 2: error).
    ///
    /// Give the number of parts of the components stage. The part writes
    /// its verdicts (`verdicts-PPP-of-NNN.ndv`); once every part has, `scan
    /// --stage-dir` and `clean --stage-dir` report from them without
    /// verifying.
    Verify(GroupArgs),
}

#[derive(Debug, Args)]
pub struct ComponentsArgs {
    /// Files or directories of the whole scan, as the fingerprint stage got
    /// them.
    ///
    /// The stage checks the key and group files against them (their
    /// settings and sizes) and finds each shard's slots from them.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// The number of parts to deal the components to (1 to 256): the
    /// verify stage runs once per part.
    ///
    /// Any number: the report is the same for every one. Components go
    /// largest first to the part with the fewest candidates so far.
    #[arg(long, value_name = "N")]
    pub parts: usize,

    /// The shared directory of stage files.
    ///
    /// The stage reads every group file there and writes each shard's
    /// assignment (`assign-FIRST-END.nda`) and each part's runs
    /// (`runs-PPP-of-NNN.ndr`).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// As given to the fingerprint stage.
    ///
    /// The stage checks that the key files were made with the settings it
    /// is given.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// As given to the fingerprint stage.
    #[command(flatten)]
    pub containment: ContainmentArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct StarArgs {
    /// Files or directories of the whole scan, as the fingerprint stage got
    /// them.
    ///
    /// The task checks the key and group files against them (their
    /// settings and sizes).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Run round R of this task.
    ///
    /// Round 0 reads the task's share of the group files; odd rounds are
    /// large-star, even rounds small-star, over the round before's links.
    #[arg(
        long,
        value_name = "R",
        required_unless_present_any = ["check", "finish"],
        conflicts_with_all = ["check", "finish"]
    )]
    pub round: Option<usize>,

    /// Check whether round R converged.
    ///
    /// Exit 0 when every task's round R found its links already settled
    /// (finish after round R); 1 when not (run round R+1).
    #[arg(long, value_name = "R", conflicts_with = "finish")]
    pub check: Option<usize>,

    /// Finish this task after round R converged.
    ///
    /// Deals the components to `--parts` parts and writes the task's dealt
    /// file, which the reread and verify stages read.
    #[arg(long, value_name = "R", requires = "parts")]
    pub finish: Option<usize>,

    /// This task's number, from 0.
    ///
    /// For a Slurm array, `$SLURM_ARRAY_TASK_ID`; for a Kubernetes indexed
    /// job, `$JOB_COMPLETION_INDEX`.
    #[arg(long, value_name = "T", required_unless_present = "check")]
    pub task: Option<usize>,

    /// The number of tasks (1 to 4096), the same in every round and the
    /// finish.
    ///
    /// Any number: the report is the same for every one. Each task holds
    /// about 1/N of the candidate graph.
    #[arg(long, value_name = "N")]
    pub of: usize,

    /// With `--finish`: the number of parts of the verify stage.
    ///
    /// 1 to 256; give the verify stage the same number.
    #[arg(long, value_name = "P")]
    pub parts: Option<usize>,

    /// The shared directory of stage files.
    ///
    /// Each round's task writes `links-rRRR-TTTT-of-NNNN.ndl`; the finish
    /// `dealt-TTTT-of-NNNN.ndf` (and removes the components stage's own
    /// files, which these replace). Links files of rounds after 0 that the
    /// next round has read may be removed; round 0's are read by the
    /// finish.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// As given to the fingerprint stage.
    ///
    /// The task checks that the key files were made with the settings it
    /// is given.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// As given to the fingerprint stage.
    #[command(flatten)]
    pub containment: ContainmentArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct GroupArgs {
    /// Files or directories of the whole scan, as the fingerprint stage got
    /// them.
    ///
    /// Every part lists all the inputs, to check the key files against
    /// them (their settings and sizes), and numbers their paragraphs over
    /// the whole scan.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// This part's number, from 0.
    ///
    /// For a Slurm array, `$SLURM_ARRAY_TASK_ID`; for a Kubernetes indexed
    /// job, `$JOB_COMPLETION_INDEX`.
    #[arg(long, value_name = "P")]
    pub part: usize,

    /// The number of parts (1 to 256).
    ///
    /// The group stage: any number, the last stage's report is the same
    /// for every one; each part reads and holds about 1/N of the corpus's
    /// band keys. The verify stage: the number given to the components
    /// stage.
    #[arg(long, value_name = "N")]
    pub of: usize,

    /// The shared directory of stage files.
    ///
    /// The part writes its file there (`groups-PPP-of-NNN.ndg`, or
    /// `verdicts-PPP-of-NNN.ndv`) under a temporary name and renamed, so a
    /// part run again just replaces it.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// As given to the fingerprint stage.
    ///
    /// The part checks that the key files were made with the settings it
    /// is given.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// As given to the fingerprint stage.
    #[command(flatten)]
    pub containment: ContainmentArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// Files or directories of the whole scan, as the last stage will get
    /// them.
    ///
    /// Every shard lists all the inputs (read as `scan` reads them:
    /// recursively, sorted, binary files skipped) and fingerprints only its
    /// own contiguous part, cut by bytes.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// This shard's number, from 0.
    ///
    /// For a Slurm array, `$SLURM_ARRAY_TASK_ID`; for a Kubernetes indexed
    /// job, `$JOB_COMPLETION_INDEX`.
    #[arg(long, value_name = "K")]
    pub shard: usize,

    /// The number of shards.
    ///
    /// Any number: the last stage's report is the same for every one.
    #[arg(long, value_name = "N")]
    pub of: usize,

    /// The shared directory of stage files.
    ///
    /// One file per input (`input-NNNNNNNNNN.ndp`), written under a
    /// temporary name and renamed, so a shard run again (a retried job)
    /// just replaces its files.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// The index the last stage checks against: take its settings.
    ///
    /// The last stage (`scan --stage-dir DIR --against INDEX`) takes the
    /// index's settings for every one it is not given, and the stage
    /// files must have been made with the same: this makes them so. The
    /// index is only read for its settings.
    #[arg(long, value_name = "INDEX")]
    pub against: Option<PathBuf>,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    /// Skip malformed records without failing.
    ///
    /// An input with malformed records gets no print: the last stage
    /// reads it itself and reports them.
    #[arg(long, help_heading = "Input")]
    pub skip_bad_records: bool,

    /// For a last stage with `--containment`: also keep what containment
    /// needs (give the same `--containment-words`).
    #[command(flatten)]
    pub containment: ContainmentArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

super::shared::corpus_args!(FingerprintArgs, GroupArgs, ComponentsArgs, StarArgs);

pub fn run(args: StageArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let sub = matches
        .subcommand()
        .map(|(_, m)| m)
        .expect("a stage action was parsed");
    match args.action {
        StageAction::Fingerprint(args) => fingerprint(args, sub),
        StageAction::Group(args) => group(args, sub),
        StageAction::Components(args) => components(args, sub),
        StageAction::Star(args) => star(args, sub),
        StageAction::Reread(args) => reread(args, sub),
        StageAction::Verify(args) => verify(args, sub),
    }
}

/// The settings, the threads set, and every input of the scan: what each
/// stage after the fingerprint stage starts with.
fn scan_inputs<A: super::shared::CorpusArgs>(
    args: &mut A,
    matches: &clap::ArgMatches,
    containment: &ContainmentArgs,
    (paths, dir, threads): (&[PathBuf], &std::path::Path, Option<usize>),
) -> anyhow::Result<(super::config::Shared, Vec<neardup::corpus::Input>, bool)> {
    let (mut shared, config_file) = shared_settings(args, matches, Base::Defaults)?;
    shared.options.containment = super::shared::containment_settings(containment, false)?;
    set_threads(threads)?;
    let own: Vec<&std::path::Path> = config_file
        .iter()
        .map(|p| p.as_path())
        .chain([dir])
        .collect();
    let (found, path_problems) = inputs::collect(paths, shared.input_format, &shared.select, &own);
    print_problems(&path_problems);
    let (all, _origins): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let errors = path_problems.iter().any(|p| !p.is_warning());
    Ok((shared, all, errors))
}

fn components(mut args: ComponentsArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let (paths, dir, threads) = (args.paths.clone(), args.dir.clone(), args.run.threads);
    let containment = args.containment.clone();
    let (shared, all, errors) =
        scan_inputs(&mut args, matches, &containment, (&paths, &dir, threads))?;
    let done =
        stage::components::components(&dir, &all, &shared.config, &shared.options, args.parts)?;
    if !args.run.quiet {
        eprintln!(
            "{} candidates in {} components (the largest {}), dealt to {} parts; {} bytes in {}",
            done.candidates,
            done.components,
            done.largest,
            args.parts,
            done.bytes,
            dir.display()
        );
    }
    Ok(if errors { Status::Error } else { Status::Clean })
}

fn star(mut args: StarArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let (paths, dir, threads) = (args.paths.clone(), args.dir.clone(), args.run.threads);
    let containment = args.containment.clone();
    let (shared, all, errors) =
        scan_inputs(&mut args, matches, &containment, (&paths, &dir, threads))?;
    let (config, options) = (&shared.config, &shared.options);
    let (task, tasks, quiet) = (args.task.unwrap_or(0), args.of, args.run.quiet);
    let failed = |status| if errors { Status::Error } else { status };
    if let Some(round) = args.check {
        let done = stage::star::converged(&dir, &all, config, options, round, tasks)?;
        if !quiet {
            match done {
                true => eprintln!("round {round} converged: finish after it"),
                false => eprintln!("round {round} did not converge: run round {}", round + 1),
            }
        }
        return Ok(failed(if done {
            Status::Clean
        } else {
            Status::Duplicates
        }));
    }
    if let Some(round) = args.finish {
        let parts = args.parts.expect("clap requires --parts with --finish");
        let done = stage::star::finish(&dir, &all, config, options, round, (task, tasks), parts)?;
        if !quiet {
            eprintln!(
                "task {task}: {} candidates, {} components centred here (the largest {}), dealt \
                 to {parts} parts; {} bytes in {}",
                done.candidates,
                done.components,
                done.largest,
                done.bytes,
                dir.display()
            );
        }
        return Ok(failed(Status::Clean));
    }
    let round = args
        .round
        .expect("clap requires --round, --check or --finish");
    let done = stage::star::round(&dir, &all, config, options, round, task, tasks)?;
    if !quiet {
        let settled = match (round, done.stars) {
            (0, _) => "",
            (_, true) => "; its links were settled",
            (_, false) => "; its links were not settled yet",
        };
        eprintln!(
            "round {round}, task {task}: {} links in, {} out{settled}; {} bytes in {}",
            done.edges_in,
            done.edges_out,
            done.bytes,
            dir.display()
        );
    }
    Ok(failed(Status::Clean))
}

fn reread(mut args: FingerprintArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    if args.of == 0 || args.shard >= args.of {
        anyhow::bail!(
            "--shard {} --of {}: the shard must be below the number of shards",
            args.shard,
            args.of
        );
    }
    let (paths, dir, threads) = (args.paths.clone(), args.dir.clone(), args.run.threads);
    let containment = args.containment.clone();
    let (shared, all, errors) =
        scan_inputs(&mut args, matches, &containment, (&paths, &dir, threads))?;
    let bar = progress::Bar::new(!args.run.quiet);
    let done = stage::verdicts::reread(
        &dir,
        &all,
        &shared.config,
        &shared.options,
        &bar,
        (args.shard, args.of),
    )?;
    if !args.run.quiet {
        eprintln!(
            "shard {} of {}: inputs {}..{}, {} candidates read again; {} bytes in {}",
            args.shard,
            args.of,
            done.inputs.start,
            done.inputs.end,
            done.candidates,
            done.bytes,
            dir.join(stage::verdicts::sets_name(&done.inputs)).display()
        );
    }
    Ok(if errors { Status::Error } else { Status::Clean })
}

fn verify(mut args: GroupArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let (paths, dir, threads) = (args.paths.clone(), args.dir.clone(), args.run.threads);
    let containment = args.containment.clone();
    let (shared, all, errors) =
        scan_inputs(&mut args, matches, &containment, (&paths, &dir, threads))?;
    let done = stage::verdicts::verify(
        &dir,
        &all,
        &shared.config,
        &shared.options,
        args.part,
        args.of,
    )?;
    if !args.run.quiet {
        eprintln!(
            "part {} of {}: {} candidates verified, {} duplicates; {} bytes in {}",
            args.part,
            args.of,
            done.candidates,
            done.duplicates,
            done.bytes,
            dir.join(stage::verdicts::verdicts_name(args.part, args.of))
                .display()
        );
    }
    Ok(if errors { Status::Error } else { Status::Clean })
}

fn group(mut args: GroupArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    let (paths, dir, threads) = (args.paths.clone(), args.dir.clone(), args.run.threads);
    let containment = args.containment.clone();
    let (shared, all, errors) =
        scan_inputs(&mut args, matches, &containment, (&paths, &dir, threads))?;
    let done = stage::group::group_part(
        &args.dir,
        &all,
        &shared.config,
        &shared.options,
        args.part,
        args.of,
    )?;
    if !args.run.quiet {
        eprintln!(
            "part {} of {}: {} band keys read, {} candidate groups of {} places; {} bytes in {}",
            args.part,
            args.of,
            done.entries,
            done.runs,
            done.members,
            done.bytes,
            args.dir
                .join(stage::group::file_name(args.part, args.of))
                .display()
        );
    }
    Ok(if errors { Status::Error } else { Status::Clean })
}

fn fingerprint(mut args: FingerprintArgs, matches: &clap::ArgMatches) -> anyhow::Result<Status> {
    if args.of == 0 || args.shard >= args.of {
        anyhow::bail!(
            "--shard {} --of {}: the shard must be below the number of shards",
            args.shard,
            args.of
        );
    }
    let index = settings::against(args.against.as_deref())?;
    let base = Base::or_defaults(index.as_ref());
    let (mut shared, config_file) = shared_settings(&mut args, matches, base)?;
    shared.options.containment = super::shared::containment_settings(&args.containment, false)?;
    set_threads(args.run.threads)?;
    let own: Vec<&std::path::Path> = config_file
        .iter()
        .map(|p| p.as_path())
        .chain([args.dir.as_path()])
        .chain(args.against.as_deref())
        .collect();
    let (found, path_problems) =
        inputs::collect(&args.paths, shared.input_format, &shared.select, &own);
    print_problems(&path_problems);
    let (all, _origins): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let sizes: Vec<Option<u64>> = all.iter().map(|i| i.source.size_hint()).collect();
    let range = stage::shard(&sizes, args.shard, args.of);
    let bar = progress::Bar::new(!args.run.quiet);
    let done = stage::fingerprint_shard(
        &all[range.clone()],
        range.start,
        &shared.config,
        &shared.options,
        &bar,
        &args.dir,
    )?;
    if !args.run.quiet {
        eprintln!(
            "shard {} of {}: inputs {}..{} of {}, {} with prints, {} left for the last stage \
             ({} problems); {} bytes of stage files in {}",
            args.shard,
            args.of,
            range.start,
            range.end,
            all.len(),
            done.printed,
            range.len() - done.printed,
            done.problems.len(),
            done.bytes,
            args.dir.display()
        );
    }
    let errors = path_problems.iter().any(|p| !p.is_warning());
    Ok(if errors { Status::Error } else { Status::Clean })
}
