//! Verifying one exercise: prepare the programs (build the package, or take the
//! commands given), run every check in a fresh directory, and return what happened.
//!
//! This is the one path behind `verify`, `grade`, `course-check` and the shell's
//! `verify`: they differ only in what they ask for and how they print the answer, so a
//! missing program, a compile error or a hung build gets the same verdict everywhere.

use super::Outcome;
use crate::harness::build::{BUILD_TIMEOUT, BuildError, Profile, Programs, Progress, Trust, build_as};
use crate::harness::trial::{Check, Context, Exercise, Side};
use crate::harness::verdict::{CheckResult, Settings, Verdict, run_check};
use crate::runner::Limits;
use std::path::PathBuf;
use std::time::Duration;

/// What to verify and how.
#[derive(Debug, Clone)]
pub struct Request {
    pub exercise: &'static Exercise,
    /// The learner's stub (their code) or the reference solution.
    pub side: Side,
    /// The course: reference solutions and snapshots.
    pub course: PathBuf,
    /// Where the code under test is built from (the course itself, or a grader's copy).
    pub code: PathBuf,
    /// Programs given as commands instead of being built: (name, command words).
    pub programs: Vec<(String, Vec<String>)>,
    pub limits: Limits,
    /// How long building may take.
    pub build_timeout: Duration,
    /// Whether the code under test is trusted to build outside the sandbox.
    pub trust: Trust,
    pub seed: u64,
    /// Keep the working directory of a failed check for the learner to look at.
    pub keep_failed: bool,
    /// Compare with the snapshots (off only while recording them).
    pub compare_snapshots: bool,
}

impl Request {
    /// A request with the usual settings: the course is where the code is.
    pub fn new(exercise: &'static Exercise, side: Side, course: PathBuf, seed: u64) -> Self {
        Request {
            exercise,
            side,
            code: course.clone(),
            course,
            programs: Vec::new(),
            limits: Limits::default(),
            build_timeout: BUILD_TIMEOUT,
            trust: Trust::Trusted,
            seed,
            keep_failed: true,
            compare_snapshots: true,
        }
    }

    /// Whose programs these are, for the report: "your code in exercises/02-…".
    pub fn subject(&self) -> String {
        match (self.side, self.programs.is_empty()) {
            (_, false) => "the programs you named".to_string(),
            (Side::Learner, true) => format!("your code in {}", self.exercise.dir(self.side)),
            (Side::Reference, true) => {
                format!("the reference solution in {}", self.exercise.dir(self.side))
            }
        }
    }
}

/// Why no check could run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// The request names a program the exercise does not have (a usage error).
    UnknownProgram {
        program: String,
        known: Vec<&'static str>,
    },
    /// Building failed: the code, a missing program, or time (the learner's to fix),
    /// or the verifier could not build at all (its own problem).
    Build(BuildError),
}

impl NotRun {
    pub fn outcome(&self) -> Outcome {
        match self {
            NotRun::UnknownProgram { .. } => Outcome::Error,
            NotRun::Build(BuildError::Harness(_)) => Outcome::Error,
            NotRun::Build(_) => Outcome::Failed,
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone)]
pub struct Verification {
    pub exercise: &'static Exercise,
    /// Whose programs ran, in words.
    pub subject: String,
    pub side: Side,
    /// Whether the programs were built from the package (not all given as commands).
    pub built_package: bool,
    pub seed: u64,
    /// Compiler warnings in the package itself.
    pub warnings: usize,
    /// Every check's result, in order (fewer if stopped).
    pub checks: Vec<CheckResult>,
    /// Set when no check could run.
    pub not_run: Option<NotRun>,
    /// The verification was stopped before its last check (Ctrl-C in the shell).
    pub stopped: bool,
}

impl Verification {
    /// Passed, failed (the learner's to fix) or error (the verifier's).
    pub fn outcome(&self) -> Outcome {
        if let Some(not_run) = &self.not_run {
            return not_run.outcome();
        }
        self.checks
            .iter()
            .map(|check| match check.verdict {
                Verdict::Pass => Outcome::Passed,
                Verdict::Fail(_) => Outcome::Failed,
                Verdict::Error(_) => Outcome::Error,
            })
            .fold(
                if self.stopped {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                },
                Outcome::worst,
            )
    }

    /// How many checks passed.
    pub fn passed(&self) -> usize {
        self.checks.iter().filter(|r| r.verdict == Verdict::Pass).count()
    }
}

/// Told what happens while a verification runs; every method has a quiet default.
pub trait Observer {
    /// Cargo finished another crate.
    fn building(&self, _progress: &Progress) {}
    /// A check is about to start.
    fn check_started(&self, _check: &'static Check) {}
    /// A check has a verdict.
    fn check_done(&self, _result: &CheckResult) {}
    /// Whether to stop before the next check (checked between checks).
    fn stop_requested(&self) -> bool {
        false
    }
}

/// An observer that notices nothing.
pub struct Quiet;

impl Observer for Quiet {}

/// Prepares the programs and runs every check of the request.
pub fn verify(request: &Request, observer: &dyn Observer) -> Verification {
    let mut verification = Verification {
        exercise: request.exercise,
        subject: request.subject(),
        side: request.side,
        built_package: false,
        seed: request.seed,
        warnings: 0,
        checks: Vec::new(),
        not_run: None,
        stopped: false,
    };
    let programs = match prepare(request, observer) {
        Ok((programs, built)) => {
            verification.built_package = built.is_some();
            verification.warnings = built.unwrap_or(0);
            programs
        }
        Err(not_run) => {
            verification.not_run = Some(not_run);
            return verification;
        }
    };
    let exercise = request.exercise;
    let reference_under_test = request.side == Side::Reference && request.programs.is_empty();
    let context = match reference_under_test {
        true => Context::for_reference(exercise, programs, &request.course, request.limits),
        false => Context::new(exercise, programs, &request.course, request.limits),
    };
    let settings = Settings {
        keep_failed: request.keep_failed,
        compare_snapshots: request.compare_snapshots,
        seed: request.seed,
    };
    for check in exercise.checks {
        if observer.stop_requested() {
            verification.stopped = true;
            break;
        }
        observer.check_started(check);
        let result = run_check(&context, check, &settings);
        observer.check_done(&result);
        verification.checks.push(result);
    }
    verification
}

/// The programs to run: built with cargo, except those given as commands; and the
/// package's warning count when it was built.
fn prepare(request: &Request, observer: &dyn Observer) -> Result<(Programs, Option<usize>), NotRun> {
    let exercise = request.exercise;
    for (name, _) in &request.programs {
        if exercise.program(name).is_none() {
            return Err(NotRun::UnknownProgram {
                program: name.clone(),
                known: exercise.programs.iter().map(|p| p.name).collect(),
            });
        }
    }
    let all_given = exercise
        .programs
        .iter()
        .all(|p| request.programs.iter().any(|(name, _)| name == p.name));
    let (mut programs, warnings) = match all_given {
        true => (Programs::new(), None),
        false => {
            let package = exercise.buildable(request.side);
            let progress = |p: &Progress| observer.building(p);
            let built = build_as(
                &request.code,
                &package,
                Profile::Dev,
                request.build_timeout,
                &request.trust,
                &progress,
            )
            .map_err(NotRun::Build)?;
            (built.programs, Some(built.warnings))
        }
    };
    for (name, command) in &request.programs {
        programs.set(name, command.clone());
    }
    Ok((programs, warnings))
}
