//! `verifier verify N`: build, run every check, explain the verdict.

use super::limits::LimitArgs;
use super::{error_exit, usage_error};
use crate::course::{self, Side};
use crate::harness::build::Progress;
use crate::harness::verdict::Settings;
use crate::service::report;
use crate::service::root::default_root;
use crate::service::verify::{Observer, Request, verify};
use crate::service::{Outcome, verify::NotRun};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Exercise number or name, e.g. `2` or `append-only-logs`.
    exercise: String,
    /// Verify the reference solution instead of your code.
    #[arg(long)]
    solution: bool,
    /// Run a program with this command instead of building it, e.g.
    /// `--program append='python3 append.py'` (repeatable; any language).
    #[arg(long = "program", value_name = "NAME=COMMAND", value_parser = parse_program)]
    programs: Vec<(String, Vec<String>)>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Explain every failed check in full, not just the first.
    #[arg(long)]
    all: bool,
    /// Remove the working directories of failed checks too.
    #[arg(long)]
    no_keep: bool,
    /// Replay the random choices (fault timing, schedules) of an earlier run.
    #[arg(long)]
    seed: Option<u64>,
}

fn parse_program(text: &str) -> anyhow::Result<(String, Vec<String>)> {
    use anyhow::Context as _;
    let usage = "expected NAME=COMMAND, e.g. append='python3 append.py'";
    let (name, command) = text.split_once('=').context(usage)?;
    let words = shlex::split(command).context("the command has unbalanced quotes")?;
    if name.is_empty() || words.is_empty() {
        anyhow::bail!(usage);
    }
    Ok((name.to_string(), words))
}

/// Shows the build's progress on stderr, at most every few seconds.
struct BuildTicker {
    last: std::cell::Cell<Option<std::time::Duration>>,
}

impl Observer for BuildTicker {
    fn building(&self, progress: &Progress) {
        let due = match self.last.get() {
            None => true,
            Some(last) => progress.elapsed >= last + std::time::Duration::from_secs(2),
        };
        if due {
            self.last.set(Some(progress.elapsed));
            eprintln!("{}", progress.line());
        }
    }
}

pub fn run(args: VerifyArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(error) => return error_exit(&error),
    };
    let side = match args.solution {
        true => Side::Reference,
        false => Side::Learner,
    };
    let mut request = Request::new(
        exercise,
        side,
        default_root(),
        args.seed.unwrap_or_else(Settings::random_seed),
    );
    request.programs = args.programs;
    request.limits = args.limits.limits();
    request.keep_failed = !args.no_keep;
    let ticker = BuildTicker {
        last: std::cell::Cell::new(None),
    };
    let verified = verify(&request, &ticker);
    if let Some(NotRun::UnknownProgram { .. }) = verified.not_run {
        return usage_error(report::verification(&verified, args.all).trim_end());
    }
    if verified.warnings > 0 {
        eprintln!(
            "({} compiler warning(s): `cargo build -p {}` shows them)",
            verified.warnings,
            exercise.package(side)
        );
    }
    print!("{}", report::verification(&verified, args.all));
    let outcome = verified.outcome();
    if side == Side::Learner {
        super::room_cmd::report_verify(
            exercise.number,
            outcome,
            verified.passed(),
            exercise.checks.len(),
            verified.seed,
        );
    }
    if outcome == Outcome::Passed && side == Side::Learner && request.programs.is_empty() {
        crate::workshop::Workshop::for_command().record_pass(exercise);
        println!("{}", report::congratulation(exercise, false));
    }
    outcome.exit_code()
}
