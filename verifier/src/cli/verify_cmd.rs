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
use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

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

/// Shows the build's progress on stderr: every 2 s on a terminal; when stderr is piped
/// (a script, CI, a log file) only every 30 s, so that a long build does not fill the log.
struct BuildTicker {
    last: std::cell::Cell<Option<Duration>>,
    every: Duration,
}

impl BuildTicker {
    fn new(terminal: bool) -> BuildTicker {
        let every = match terminal {
            true => Duration::from_secs(2),
            false => Duration::from_secs(30),
        };
        BuildTicker {
            last: std::cell::Cell::new(None),
            every,
        }
    }

    /// Whether a line is due at `elapsed` (the first one always is).
    fn due(&self, elapsed: Duration) -> bool {
        let due = self.last.get().is_none_or(|last| elapsed >= last + self.every);
        if due {
            self.last.set(Some(elapsed));
        }
        due
    }
}

impl Observer for BuildTicker {
    fn building(&self, progress: &Progress) {
        if self.due(progress.elapsed) {
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
    let ticker = BuildTicker::new(std::io::stderr().is_terminal());
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
    // Progress is about the learner's own package: not the reference, not --program.
    if side == Side::Learner && request.programs.is_empty() && outcome != Outcome::Error {
        let passed = outcome == Outcome::Passed;
        let next = crate::workshop::Workshop::for_command().record_verification(exercise, passed);
        if passed {
            println!("{}", report::congratulation(exercise, next, false));
        }
    }
    outcome.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_in_a_minute(ticker: &BuildTicker) -> usize {
        (0..600)
            .filter(|tenth| ticker.due(Duration::from_millis(tenth * 100)))
            .count()
    }

    #[test]
    fn piped_build_progress_is_rare() {
        assert_eq!(lines_in_a_minute(&BuildTicker::new(true)), 30);
        assert_eq!(lines_in_a_minute(&BuildTicker::new(false)), 2);
    }
}
