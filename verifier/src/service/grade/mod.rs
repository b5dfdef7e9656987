//! Grading: every check of every chosen exercise, for a whole submission, in formats
//! that CI systems already render.
//!
//! A submission is a checkout of this course (this workspace by default) whose
//! `exercises/` hold a learner's work. Grading never stops at the first failure unless
//! asked: a teacher wants the whole picture. A submission that does not compile, hangs
//! or crashes *fails* its checks; only a problem of the verifier itself is an *error*.

mod formats;

pub use formats::{Format, render};

use crate::course::{Exercise, Side};
use crate::harness::build::{BuildError, build};
use crate::harness::trial::{Context, Programs};
use crate::harness::verdict::{CheckResult, Settings, Verdict, run_check};
use crate::runner::Limits;
use crate::service::report;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The outcome of one check, in the terms CI reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

/// One graded check.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// The exercise number (Exercism's `task_id`).
    pub task_id: u32,
    /// The exercise folder name, `02-append-only-logs` (a JUnit test suite).
    pub suite: String,
    pub name: String,
    pub status: Status,
    /// Why it failed, in a few lines (empty when it passed).
    pub message: String,
    /// What the programs printed (the transcript), or the compiler's errors.
    pub output: String,
    pub elapsed: Duration,
}

/// A whole grading run.
#[derive(Debug, Clone)]
pub struct Grade {
    pub submission: PathBuf,
    pub results: Vec<TestResult>,
    pub seed: u64,
}

impl Grade {
    pub fn status(&self) -> Status {
        if self.results.iter().any(|r| r.status == Status::Error) {
            Status::Error
        } else if self.results.iter().any(|r| r.status == Status::Fail) {
            Status::Fail
        } else {
            Status::Pass
        }
    }

    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// What to grade and how.
pub struct Options {
    /// The submission's root (a checkout of this course).
    pub submission: PathBuf,
    /// The course root: reference solutions and snapshots.
    pub course: PathBuf,
    pub exercises: Vec<&'static Exercise>,
    pub limits: Limits,
    pub seed: u64,
    /// Stop after the first exercise with a failure.
    pub fail_fast: bool,
    /// Programs given as commands: (exercise number, program, command).
    pub programs: Vec<(u32, String, Vec<String>)>,
    /// Told about each step (building, checking), e.g. to show progress.
    pub progress: Box<dyn Fn(&str)>,
}

/// Grades the chosen exercises of a submission.
pub fn grade(options: &Options) -> Grade {
    let settings = Settings {
        keep_failed: false,
        compare_snapshots: true,
        seed: options.seed,
    };
    let mut results = Vec::new();
    for exercise in &options.exercises {
        (options.progress)(&format!("exercise {}: {}", exercise.number, exercise.title));
        let graded = match programs_for(options, exercise) {
            Ok(programs) => {
                let context = Context::new(exercise, programs, &options.course, options.limits);
                exercise
                    .checks
                    .iter()
                    .map(|check| from_check(exercise, &run_check(&context, check, &settings)))
                    .collect()
            }
            Err((status, message, output)) => exercise
                .checks
                .iter()
                .map(|check| TestResult {
                    task_id: exercise.number,
                    suite: exercise.dir_name(),
                    name: check.name.to_string(),
                    status,
                    message: message.clone(),
                    output: output.clone(),
                    elapsed: Duration::ZERO,
                })
                .collect::<Vec<_>>(),
        };
        let failed = graded.iter().any(|r| r.status != Status::Pass);
        results.extend(graded);
        if failed && options.fail_fast {
            break;
        }
    }
    Grade {
        submission: options.submission.clone(),
        results,
        seed: options.seed,
    }
}

/// The programs of one exercise: given commands, else built from the submission.
fn programs_for(options: &Options, exercise: &Exercise) -> Result<Programs, (Status, String, String)> {
    let given: Vec<&(u32, String, Vec<String>)> = options
        .programs
        .iter()
        .filter(|(n, _, _)| *n == exercise.number)
        .collect();
    let all_given = exercise
        .programs
        .iter()
        .all(|p| given.iter().any(|(_, name, _)| name == p.name));
    let mut programs = if all_given {
        Programs::new()
    } else {
        match build(&options.submission, exercise, Side::Learner) {
            Ok(built) => built.programs,
            Err(BuildError::Compile(errors)) => {
                return Err((
                    Status::Fail,
                    format!("{} does not compile", exercise.dir(Side::Learner)),
                    errors,
                ));
            }
            // A missing package or program is the submission's problem: a failure.
            Err(BuildError::Harness(message)) => return Err((Status::Fail, message, String::new())),
        }
    };
    for (_, name, command) in given {
        programs.set(name, command.clone());
    }
    Ok(programs)
}

fn from_check(exercise: &Exercise, result: &CheckResult) -> TestResult {
    let (status, message) = match &result.verdict {
        Verdict::Pass => (Status::Pass, String::new()),
        Verdict::Fail(failure) => {
            let mut lines = vec![failure.summary.clone()];
            lines.extend(failure.details.iter().cloned());
            (Status::Fail, lines.join("\n"))
        }
        Verdict::Error(message) => (Status::Error, message.clone()),
    };
    let output = match result.verdict {
        Verdict::Pass => result.transcript.clone(),
        _ => report::failure(result),
    };
    TestResult {
        task_id: exercise.number,
        suite: exercise.dir_name(),
        name: result.check.name.to_string(),
        status,
        message,
        output,
        elapsed: result.elapsed,
    }
}

/// `/path/to/checkout` shown relative to the current directory when it is inside it.
pub fn shown_path(path: &Path) -> String {
    match std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
    {
        Some(relative) if relative.as_os_str().is_empty() => ".".into(),
        Some(relative) => relative.display().to_string(),
        None => path.display().to_string(),
    }
}
