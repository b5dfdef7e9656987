//! `verifier verify N`: build, run every check, explain the verdict.

use super::limits::LimitArgs;
use super::{error_exit, usage_error};
use crate::course::{self, Side};
use crate::harness::build::Progress;
use crate::harness::verdict::CheckResult;
use crate::harness::verdict::Settings;
use crate::runner::{seconds, waiting_for};
use crate::service::report;
use crate::service::root::default_root;
use crate::service::verify::{Observer, Request, verify};
use crate::service::{Outcome, verify::NotRun};
use clap::Args;
use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Prints each check's line as soon as the check has its verdict (the report's head
/// before the first), so that a hang or a kill never hides the results before it;
/// and, while a check runs longer than [`STILL_RUNNING_EVERY`], says on stderr what
/// it waits for, every so often.
struct Live {
    ticker: BuildTicker,
    exercise: &'static course::Exercise,
    subject: String,
    printed_head: std::cell::Cell<bool>,
    current: Arc<Mutex<Option<Running>>>,
}

/// The check that runs now, and when to next say what it waits for.
struct Running {
    name: &'static str,
    started: Instant,
    next: Instant,
}

/// How long a check runs before `verify` says what it waits for, and how often after.
const STILL_RUNNING_EVERY: Duration = Duration::from_secs(10);

impl Live {
    fn new(exercise: &'static course::Exercise, subject: String) -> Live {
        let live = Live {
            ticker: BuildTicker::new(std::io::stderr().is_terminal()),
            exercise,
            subject,
            printed_head: std::cell::Cell::new(false),
            current: Arc::default(),
        };
        let current = live.current.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let Ok(mut current) = current.lock() else { return };
                if let Some(running) = current.as_mut()
                    && Instant::now() >= running.next
                {
                    running.next += STILL_RUNNING_EVERY;
                    let took = seconds(Duration::from_secs(running.started.elapsed().as_secs()));
                    eprintln!(
                        "{}",
                        report::visible(&format!(
                            "… `{}` has run for {took}: {}",
                            running.name,
                            waiting_for()
                        ))
                    );
                }
            }
        });
        live
    }

    fn print(text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(report::visible(text).as_bytes());
        let _ = out.flush();
    }
}

impl Observer for Live {
    fn building(&self, progress: &Progress) {
        self.ticker.building(progress);
    }

    fn check_started(&self, check: &'static course::Check) {
        if !self.printed_head.replace(true) {
            Live::print(&report::human_head(self.exercise, &self.subject));
        }
        if let Ok(mut current) = self.current.lock() {
            let started = Instant::now();
            *current = Some(Running {
                name: check.name,
                started,
                next: started + STILL_RUNNING_EVERY,
            });
        }
    }

    fn check_done(&self, result: &CheckResult) {
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
        Live::print(&report::human_check_line(self.exercise, result));
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
    let live = Live::new(exercise, request.subject());
    let verified = verify(&request, &live);
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
    match live.printed_head.get() {
        // The head and the check lines are out already.
        true => print!("{}", report::verification_rest(&verified, args.all)),
        false => print!("{}", report::verification(&verified, args.all)),
    }
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
