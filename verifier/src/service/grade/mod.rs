//! Grading: every check of every chosen exercise, for a whole submission, in formats
//! that CI systems already render.
//!
//! A submission is a checkout of this course (this workspace by default) whose
//! `exercises/` hold a learner's work. Grading never stops at the first failure unless
//! asked: a teacher wants the whole picture. A submission that does not compile, hangs
//! or crashes *fails* its checks; only a problem of the verifier itself is an *error*.

pub mod class;
mod formats;
pub mod gradebook;
mod placement;
pub mod similarity;

pub use formats::{Format, render};
pub use placement::{OWNED, Placement, copy_name, place, same_checkout, warm_dependencies};

use super::Outcome;
use super::report;
use super::verify::{Observer, Request, Verification, verify};
use crate::harness::trial::{Exercise, Side};
use crate::harness::verdict::{CheckResult, Verdict};
use crate::runner::Limits;
use std::path::{Path, PathBuf};
use std::time::Duration;

impl Outcome {
    /// `pass`, `fail`, `error`: the words CI reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "pass",
            Outcome::Failed => "fail",
            Outcome::Error => "error",
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
    pub status: Outcome,
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
    /// Files of the submission outside the learner-owned `src/` folders that differ
    /// from the course: not used, and named so the teacher sees them.
    pub ignored: Vec<String>,
    /// Entries of the submission never read: files over the size limit, symbolic
    /// links, special files.
    pub refused: Vec<String>,
    /// The submission's git commit, where it is a git checkout.
    pub commit: Option<String>,
}

impl Grade {
    pub fn status(&self) -> Outcome {
        self.results
            .iter()
            .map(|r| r.status)
            .fold(Outcome::Passed, Outcome::worst)
    }

    pub fn count(&self, status: Outcome) -> usize {
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
    /// How long building one exercise may take.
    pub build_timeout: Duration,
    /// Grade a submission even where its code cannot be isolated.
    pub allow_unsandboxed: bool,
    /// Told about each step (building, checking), e.g. to show progress.
    pub progress: Box<dyn Fn(&str)>,
    /// Which course copy to grade in ([`copy_name`]): one per submission graded at
    /// the same time.
    pub slot: usize,
}

/// Tells the grader's progress what a build is doing, every few seconds.
struct Progressing<'a> {
    progress: &'a dyn Fn(&str),
    last: std::cell::Cell<Option<Duration>>,
}

impl Observer for Progressing<'_> {
    fn building(&self, progress: &crate::harness::build::Progress) {
        let due = self
            .last
            .get()
            .is_none_or(|last| progress.elapsed >= last + Duration::from_secs(5));
        if due {
            self.last.set(Some(progress.elapsed));
            (self.progress)(&progress.line());
        }
    }
}

/// Grades the chosen exercises of a submission, placed in a trusted copy of the course
/// (see [`placement`]). An error means the grader itself could not run.
pub fn grade(options: &Options) -> anyhow::Result<Grade> {
    if !same_checkout(&options.course, &options.submission) {
        let observer = Progressing {
            progress: options.progress.as_ref(),
            last: std::cell::Cell::new(None),
        };
        let warming = |p: &crate::harness::build::Progress| observer.building(p);
        for problem in warm_dependencies(&options.course, &options.exercises, &warming) {
            (options.progress)(&problem);
        }
    }
    let placed = place(&options.course, &options.submission, options.slot)?;
    if placed.untrusted()
        && !options.allow_unsandboxed
        && let Some(why) = crate::runner::not_isolated()
    {
        anyhow::bail!(
            "refusing to grade someone else's code without isolation ({why}); pass --allow-unsandboxed to grade it anyway"
        );
    }
    for ignored in &placed.ignored {
        (options.progress)(&format!(
            "ignored (only {OWNED} is graded): {}",
            report::visible_line(ignored)
        ));
    }
    for refused in &placed.refused {
        (options.progress)(&format!("refused, not read: {}", report::visible_line(refused)));
    }
    let mut results = Vec::new();
    for &exercise in &options.exercises {
        (options.progress)(&format!("exercise {}: {}", exercise.number, exercise.title));
        let mut request = Request::new(exercise, Side::Learner, options.course.clone(), options.seed);
        request.code = placed.code.clone();
        request.limits = options.limits;
        request.build_timeout = options.build_timeout;
        request.trust = placed.trust();
        request.keep_failed = false;
        request.programs = options
            .programs
            .iter()
            .filter(|(n, _, _)| *n == exercise.number)
            .map(|(_, name, command)| (name.clone(), command.clone()))
            .collect();
        let observer = Progressing {
            progress: options.progress.as_ref(),
            last: std::cell::Cell::new(None),
        };
        let graded = graded(&verify(&request, &observer));
        let failed = graded.iter().any(|r| r.status != Outcome::Passed);
        results.extend(graded);
        if failed && options.fail_fast {
            break;
        }
    }
    Ok(Grade {
        submission: options.submission.clone(),
        results,
        seed: options.seed,
        ignored: placed.ignored,
        refused: placed.refused,
        commit: commit_of(&options.submission),
    })
}

/// One verification as graded checks: every check of the exercise, also when none
/// could run (each then carries why).
fn graded(verified: &Verification) -> Vec<TestResult> {
    let exercise = verified.exercise;
    let Some(not_run) = &verified.not_run else {
        return verified.checks.iter().map(|r| from_check(exercise, r)).collect();
    };
    let explained = report::verification(verified, false);
    let message = explained.lines().next().unwrap_or_default().to_string();
    exercise
        .checks
        .iter()
        .map(|check| TestResult {
            task_id: exercise.number,
            suite: exercise.dir_name(),
            name: check.name.to_string(),
            status: not_run.outcome(),
            message: message.clone(),
            output: explained.clone(),
            elapsed: Duration::ZERO,
        })
        .collect()
}

fn from_check(exercise: &Exercise, result: &CheckResult) -> TestResult {
    let (status, message) = match &result.verdict {
        Verdict::Pass => (Outcome::Passed, String::new()),
        Verdict::Fail(failure) => {
            let mut lines = vec![failure.summary.clone()];
            lines.extend(failure.details.iter().cloned());
            (Outcome::Failed, lines.join("\n"))
        }
        Verdict::Error(message) => (Outcome::Error, message.clone()),
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
        // What a program printed reaches CI reports only escaped.
        message: report::visible(&message).into_owned(),
        output: report::visible(&output).into_owned(),
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

/// The commit a checkout is at, read from its `.git` files (no git is run: a
/// submission's git configuration could name commands to run). `None` where it is
/// not a plain git checkout or the commit cannot be found.
pub fn commit_of(checkout: &Path) -> Option<String> {
    let git = checkout.join(".git");
    let read = |path: &Path| -> Option<String> {
        use std::io::Read as _;
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let mut text = String::new();
        std::fs::File::open(path)
            .ok()?
            .take(1 << 20)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    };
    let is_commit = |text: &str| text.len() >= 40 && text.chars().all(|c| c.is_ascii_hexdigit());
    let head = read(&git.join("HEAD"))?;
    let head = head.trim();
    if is_commit(head) {
        return Some(head.to_string());
    }
    let reference = head.strip_prefix("ref:")?.trim();
    if reference.split('/').any(|part| part == ".." || part.is_empty()) {
        return None;
    }
    if let Some(commit) = read(&git.join(reference)).map(|t| t.trim().to_string())
        && is_commit(&commit)
    {
        return Some(commit);
    }
    read(&git.join("packed-refs"))?.lines().find_map(|line| {
        let (commit, name) = line.split_once(' ')?;
        (name == reference && is_commit(commit)).then(|| commit.to_string())
    })
}
