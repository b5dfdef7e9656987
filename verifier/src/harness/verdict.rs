//! Verification: every check of an exercise, each in a fresh directory, judged first by
//! its invariants (in the check's code) and then against its snapshot.

use crate::harness::snapshot;
use crate::harness::trial::Check;
use crate::harness::trial::{Context, Failure, RunLog, Trial};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Settings of one verification.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Keep the working directory of a failed check for the learner to look at.
    pub keep_failed: bool,
    /// Compare with snapshots (off when recording them, in the course's own tests).
    pub compare_snapshots: bool,
    /// Seeds every random choice (fault timing, schedules); the same seed replays a run.
    pub seed: u64,
}

impl Settings {
    /// A fresh seed for a run that was not given one.
    pub fn random_seed() -> u64 {
        fastrand::u64(1..1_000_000)
    }
}

/// The judgement on one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(Failure),
    /// The verifier itself could not do its job (a missing snapshot, a harness bug).
    Error(String),
}

/// The result of one check, with all the evidence for a report.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub check: &'static Check,
    pub verdict: Verdict,
    /// The redacted transcript of what ran.
    pub transcript: String,
    /// The expected transcript, when the snapshot was compared.
    pub expected: Option<String>,
    /// Every program run, with exact command lines and stderr.
    pub runs: Vec<RunLog>,
    /// The working directory, if it was kept (failed checks).
    pub kept_dir: Option<PathBuf>,
    /// The working directory as it was during the run.
    pub dir: PathBuf,
    /// The latest conversation's messages in arrival order, if the check had one.
    pub wire: Vec<String>,
    /// Whether the check made random choices (so the seed replays it).
    pub used_seed: bool,
    /// How long the check took.
    pub elapsed: Duration,
}

/// Runs every check of an exercise against the programs of the context.
pub fn verify(context: &Context, settings: &Settings) -> Vec<CheckResult> {
    context
        .exercise
        .checks
        .iter()
        .map(|check| run_check(context, check, settings))
        .collect()
}

/// Runs one check in a fresh temporary directory.
pub fn run_check(context: &Context, check: &'static Check, settings: &Settings) -> CheckResult {
    let exercise = context.exercise;
    let started = Instant::now();
    let prefix = format!("replicate-{:02}-{}-", exercise.number, check.name);
    let dir = match crate::runner::scratch_dir(&prefix) {
        Ok(dir) => dir,
        Err(e) => return error_result(check, format!("cannot create a temporary directory: {e}")),
    };
    // Programs run in `work/`; anything that appears beside it was written outside.
    let work = dir.path().join("work");
    if let Err(e) = std::fs::create_dir(&work) {
        return error_result(check, format!("cannot create a temporary directory: {e}"));
    }
    let mut trial = Trial::new(context, &work, settings.seed);
    // A check is our code, but a bug in it must not take the whole run down.
    let outcome = catch_unwind(AssertUnwindSafe(|| (check.run)(&mut trial)));
    let transcript = trial.transcript();
    // The expected transcript explains failures of every kind, not only mismatches.
    let expected = match settings.compare_snapshots {
        true => Some(snapshot::load(&context.root, exercise, check)),
        false => None,
    };
    let verdict = match (outcome, &expected) {
        (Err(_), _) => Verdict::Error(format!(
            "the check `{}` itself crashed (a verifier bug)",
            check.name
        )),
        (Ok(Err(failure)), _) => Verdict::Fail(failure),
        (Ok(Ok(())), None) => Verdict::Pass,
        (Ok(Ok(())), Some(Err(message))) => Verdict::Error(message.clone()),
        (Ok(Ok(())), Some(Ok(stored))) if snapshot::matches(stored, &transcript) => Verdict::Pass,
        (Ok(Ok(())), Some(Ok(_))) => Verdict::Fail(Failure::new(
            "the output differs from what the reference solution prints",
        )),
    };
    let expected = expected.and_then(Result::ok);
    let runs = trial.runs().to_vec();
    let wire = trial.wire().to_vec();
    let used_seed = trial.used_seed();
    let path = work.clone();
    let kept_dir = match (&verdict, settings.keep_failed) {
        (Verdict::Pass, _) | (_, false) => None,
        // The latest failed run of each check is kept, no more (older ones removed).
        _ => {
            let label = format!("{:02}-{}", exercise.number, check.name);
            Some(crate::runner::keep(dir, &label).join("work"))
        }
    };
    CheckResult {
        check,
        verdict,
        transcript,
        expected,
        runs,
        kept_dir,
        dir: path,
        wire,
        used_seed,
        elapsed: started.elapsed(),
    }
}

/// The result of a check the verifier could not even start.
fn error_result(check: &'static Check, message: String) -> CheckResult {
    CheckResult {
        check,
        verdict: Verdict::Error(message),
        transcript: String::new(),
        expected: None,
        runs: Vec::new(),
        kept_dir: None,
        dir: PathBuf::new(),
        wire: Vec::new(),
        used_seed: false,
        elapsed: Duration::ZERO,
    }
}

/// Whether every check passed.
pub fn all_passed(results: &[CheckResult]) -> bool {
    results.iter().all(|r| r.verdict == Verdict::Pass)
}
