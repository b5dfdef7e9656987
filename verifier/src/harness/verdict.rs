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
    /// Figures a timed check measured (shown under its verdict line).
    pub measured: Vec<String>,
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
        (Ok(Err(failure)), _) if failure.harness => Verdict::Error(not_the_programs_fault(&failure)),
        (Ok(Err(failure)), _) => Verdict::Fail(failure),
        (Ok(Ok(())), None) => Verdict::Pass,
        (Ok(Ok(())), Some(Err(error))) => Verdict::Error(format!("{error:#}")),
        (Ok(Ok(())), Some(Ok(stored))) if snapshot::matches(stored, &transcript) => Verdict::Pass,
        (Ok(Ok(())), Some(Ok(stored))) => Verdict::Fail(first_difference(context, stored, &transcript)),
    };
    let expected = expected.and_then(Result::ok);
    let runs = trial.runs().to_vec();
    let wire = trial.wire().to_vec();
    let used_seed = trial.used_seed();
    let measured = trial.measurements().to_vec();
    let path = work.clone();
    let kept_dir = match (&verdict, settings.keep_failed) {
        (Verdict::Pass, _) | (_, false) => None,
        // The latest failed run of each check is kept, no more (older ones removed).
        _ => {
            let label = format!("{:02}-{}", exercise.number, check.name);
            Some(crate::runner::keep(dir, &label, &context.root).join("work"))
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
        measured,
    }
}

/// A failure whose first line names the first transcript line that differs from the
/// reference's: which command printed what, where the reference printed what.
fn first_difference(context: &Context, expected: &str, actual: &str) -> Failure {
    let (expected, actual) = (snapshot::normalise(expected), snapshot::normalise(actual));
    let (expected, actual): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let at = expected
        .iter()
        .zip(&actual)
        .position(|(e, a)| e != a)
        .unwrap_or(expected.len().min(actual.len()));
    let command = actual[..at.min(actual.len())]
        .iter()
        .rev()
        .find_map(|line| line.strip_prefix("$ "))
        .map(|line| line.split("   (").next().unwrap_or(line));
    let by = match command {
        Some(command) => format!("`{command}`"),
        None => "your programs".to_string(),
    };
    let record = |line: &&str| line.starts_with('<');
    let summary = match (expected.get(at), actual.get(at)) {
        (Some(e), Some(a)) if e.starts_with("$ ") && a.starts_with("$ ") => {
            format!(
                "the check ran `{}` where, with the reference, it ran `{}`",
                trim_command(a),
                trim_command(e)
            )
        }
        (Some(e), Some(a)) if record(e) && record(a) => match differing_field(context, command, e, a) {
            Some((field, e_value, a_value)) => {
                format!(
                    "{by} printed {field} {a_value} where the reference printed {field} {e_value}: {a} instead of {e}"
                )
            }
            None => format!("{by} printed {a} where the reference printed {e}"),
        },
        (Some(e), Some(a)) if record(a) => {
            format!("{by} printed {a} where the reference's transcript goes on with `{e}`")
        }
        (Some(e), Some(a)) if record(e) => {
            format!("{by} did not print {e}, as the reference did; the transcript goes on with `{a}`")
        }
        (Some(e), Some(a)) => format!("the transcript shows `{a}` where the reference's shows `{e}`"),
        (Some(e), None) if record(e) => format!("{by} stopped short: the reference printed {e} next"),
        (Some(e), None) => format!("the transcript ends where the reference's goes on with `{e}`"),
        (None, Some(a)) if record(a) => format!("{by} printed {a}, which the reference did not print"),
        (None, Some(a)) => format!("the transcript goes on with `{a}` where the reference's ends"),
        (None, None) => "the output differs from what the reference solution prints".to_string(),
    };
    Failure::new(summary).detail("The whole transcript, the reference's against yours, is below.")
}

fn trim_command(line: &str) -> &str {
    line.strip_prefix("$ ").unwrap_or(line)
}

/// For two records `<a, b, c>` of the same program, the first field that differs:
/// its name and both values.
fn differing_field<'l>(
    context: &Context,
    command: Option<&str>,
    expected: &'l str,
    actual: &'l str,
) -> Option<(&'static str, &'l str, &'l str)> {
    let program = command?
        .trim_start_matches("[reference] ")
        .split_whitespace()
        .next()?;
    let fields = context.exercise.program(program)?.prints?.fields;
    let parts = |line: &'l str| -> Option<Vec<&'l str>> {
        let inner = line.strip_prefix('<')?.strip_suffix('>')?;
        let parts: Vec<&str> = inner.split(", ").collect();
        (parts.len() == fields.len()).then_some(parts)
    };
    let (e, a) = (parts(expected)?, parts(actual)?);
    let index = e.iter().zip(&a).position(|(e, a)| e != a)?;
    Some((fields[index].name, e[index], a[index]))
}

/// How a failure of the harness or the machine reads: what happened, and that the
/// learner's program is not to blame (no advice about their code).
pub fn not_the_programs_fault(failure: &Failure) -> String {
    let mut message = format!(
        "{} — this is not your program's fault: the verifier or this machine failed. Run it again; if it happens again, please report it.",
        failure.summary.trim_end_matches('.')
    );
    for line in &failure.details {
        message.push_str("\n  ");
        message.push_str(line);
    }
    message
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
        measured: Vec::new(),
    }
}

/// Whether every check passed.
pub fn all_passed(results: &[CheckResult]) -> bool {
    results.iter().all(|r| r.verdict == Verdict::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::trial::Programs;
    use crate::runner::Limits;

    fn first_line(expected: &str, actual: &str) -> String {
        let exercise = crate::course::find("2").unwrap();
        let context = Context::new(
            exercise,
            Programs::new(),
            std::path::Path::new("."),
            Limits::default(),
        );
        first_difference(&context, expected, actual).summary
    }

    #[test]
    fn a_failure_of_the_harness_is_the_verifiers_error_not_the_programs_fail() {
        static CHECK: Check = Check {
            name: "harness-fails",
            about: "a check whose harness fails",
            advice: "advice about the learner's code that must not be shown",
            run: |trial| {
                trial.note("about to start a relay");
                Err(Failure::harness("cannot start a relay: out of ports").detail("tried 2,000"))
            },
        };
        let exercise = crate::course::find("2").unwrap();
        let context = Context::new(
            exercise,
            Programs::new(),
            std::path::Path::new("."),
            Limits::default(),
        );
        let settings = Settings {
            keep_failed: false,
            compare_snapshots: false,
            seed: 1,
        };
        let result = run_check(&context, &CHECK, &settings);
        assert_eq!(
            result.verdict,
            Verdict::Error(
                "cannot start a relay: out of ports — this is not your program's fault: the verifier or this machine failed. Run it again; if it happens again, please report it.\n  tried 2,000"
                    .to_string()
            )
        );
    }

    #[test]
    fn names_the_first_line_that_differs() {
        let expected = "$ append x\n<peer#1, 1, \"x\">\n$ read\n<peer#1, 1, \"x\">\n<peer#1, 2, \"y\">";
        assert_eq!(
            first_line(
                expected,
                "$ append x\n<peer#1, 1, \"x\">\n$ read\n<peer#1, 1, \"x\">\n<peer#1, 1, \"y\">"
            ),
            "`read` printed seq 1 where the reference printed seq 2: <peer#1, 1, \"y\"> instead of <peer#1, 2, \"y\">"
        );
        assert_eq!(
            first_line(
                expected,
                "$ append x\n<peer#1, 1, \"x\">\n$ read\n<peer#1, 1, \"x\">"
            ),
            "`read` stopped short: the reference printed <peer#1, 2, \"y\"> next"
        );
        assert_eq!(
            first_line("$ read", "$ read\n<peer#1, 1, \"x\">"),
            "`read` printed <peer#1, 1, \"x\">, which the reference did not print"
        );
        assert_eq!(
            first_line("$ read\n# then", "$ read --after 1\n# then"),
            "the check ran `read --after 1` where, with the reference, it ran `read`"
        );
    }
}
