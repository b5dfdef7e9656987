//! `verifier course-check`: the course's own health check, for its authors.
//!
//! A course is healthy when every reference solution passes every check and every
//! learner stub compiles and fails (a stub that passes teaches nothing; a solution that
//! fails means the checks or the snapshots are wrong). With `--mutants`, it tries the
//! known-wrong variants of the solutions instead (see [`crate::service::mutants`]): each must be
//! rejected by the checks its header names.

use super::{error_exit, usage_error};
use crate::course::{self, COURSE, Exercise, Side};
use crate::harness::course_copy::committed_stubs;
use crate::harness::verdict::Settings;
use crate::runner::Limits;
use crate::service::Outcome;
use crate::service::mutants::{Judgement, Scratch};
use crate::service::report;
use crate::service::root::default_root;
use crate::service::verify::{Quiet, Request, verify};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct CourseCheckArgs {
    /// Exercises to check (numbers or names); all when none are given.
    exercises: Vec<String>,
    /// Replay the random choices of an earlier run.
    #[arg(long)]
    seed: Option<u64>,
    /// Try every mutant of the chosen exercises (verifier/mutants/NN-slug/*.patch):
    /// each must be rejected by the checks it names, for a reason other than a timeout.
    #[arg(long)]
    mutants: bool,
    /// With --mutants: only the mutants of this name (repeatable).
    #[arg(long = "only", value_name = "NAME", requires = "mutants")]
    only: Vec<String>,
}

pub fn run(args: CourseCheckArgs) -> ExitCode {
    let mut chosen: Vec<&'static Exercise> = Vec::new();
    for query in &args.exercises {
        match course::find(query) {
            Ok(exercise) => chosen.push(exercise),
            Err(error) => return error_exit(&error),
        }
    }
    if chosen.is_empty() {
        chosen = COURSE.to_vec();
    }
    let settings = Settings {
        keep_failed: false,
        compare_snapshots: true,
        seed: args.seed.unwrap_or_else(Settings::random_seed),
    };
    let root = default_root();
    if args.mutants {
        return mutants(&chosen, &root, &settings, &args.only);
    }
    // The stubs as committed, built on the reference packages: a learner's solved
    // exercises in the work tree are not the course's stubs.
    let stubs = match committed_stubs(&root) {
        Ok((copy, from)) => {
            println!("Checking {from}.\n");
            copy
        }
        Err(e) => {
            eprintln!("error: cannot copy the course to check its stubs: {e}");
            return ExitCode::from(2);
        }
    };
    let mut healthy = true;
    for exercise in chosen {
        let solution = passes(exercise, Side::Reference, &root, &root, &settings);
        let stub = passes(exercise, Side::Learner, stubs.root(), &root, &settings);
        let verdict = match (&solution, &stub) {
            (Ok(total_s), Ok(0)) if *total_s == exercise.checks.len() => "ok",
            _ => {
                healthy = false;
                "NOT OK"
            }
        };
        println!(
            "{:>3}. {:<20} solution: {}  stub: {}  {verdict}",
            exercise.number,
            exercise.slug,
            describe(&solution, exercise),
            describe(&stub, exercise),
        );
    }
    println!(
        "\nSeed: {} (replay: cargo run -- course-check --seed {})",
        settings.seed, settings.seed
    );
    if healthy {
        println!("Every solution passes and every stub fails.");
        ExitCode::SUCCESS
    } else {
        println!("\nThe course is not healthy: a solution must pass every check, a stub none.");
        ExitCode::from(1)
    }
}

/// How many checks pass on one side, or why nothing could run (the first error of a
/// check, else the report's first line): the code built in `code`, judged with the
/// course at `root`.
fn passes(
    exercise: &'static Exercise,
    side: Side,
    code: &Path,
    root: &Path,
    settings: &Settings,
) -> anyhow::Result<usize> {
    let mut request = Request::new(exercise, side, root.to_path_buf(), settings.seed);
    request.code = code.to_path_buf();
    request.keep_failed = settings.keep_failed;
    let verified = verify(&request, &Quiet);
    if verified.not_run.is_some() || verified.outcome() == Outcome::Error {
        let explained = report::verification(&verified, false);
        let first = verified
            .checks
            .iter()
            .find_map(|r| match &r.verdict {
                crate::harness::verdict::Verdict::Error(message) => Some(message.clone()),
                _ => None,
            })
            .unwrap_or_else(|| explained.lines().next().unwrap_or_default().to_string());
        anyhow::bail!(first);
    }
    Ok(verified.passed())
}

fn describe(result: &anyhow::Result<usize>, exercise: &Exercise) -> String {
    match result {
        Ok(passed) => format!("{passed}/{} pass", exercise.checks.len()),
        Err(error) => format!("error ({error:#})"),
    }
}

/// Tries every mutant of the chosen exercises; exit 1 unless each is rejected.
fn mutants(chosen: &[&'static Exercise], root: &Path, settings: &Settings, only: &[String]) -> ExitCode {
    let mut all = Vec::new();
    for exercise in chosen {
        match crate::service::mutants::load(root, exercise) {
            Ok(found) => all.extend(
                found
                    .into_iter()
                    .filter(|m| only.is_empty() || only.contains(&m.name)),
            ),
            Err(error) => return error_exit(&error),
        }
    }
    if all.is_empty() {
        return usage_error("the chosen exercises have no mutants (verifier/mutants/NN-slug/*.patch)");
    }
    let started = std::time::Instant::now();
    let mut scratch = match Scratch::mirror(root) {
        Ok(scratch) => scratch,
        Err(error) => return error_exit(&error),
    };
    println!(
        "Trying {} mutants in {} (seed {})\n",
        all.len(),
        scratch.root().display(),
        settings.seed
    );
    let mut bad = 0;
    for mutant in &all {
        let tried = crate::service::mutants::try_one(&mut scratch, mutant, settings, &Limits::default());
        let took = format!(
            "build {:.1} s, checks {:.1} s",
            tried.build.as_secs_f64(),
            tried.checks.as_secs_f64()
        );
        let (verdict, lines) = match &tried.judgement {
            Judgement::Rejected(by) => ("rejected", by.clone()),
            Judgement::Accepted(by) => (
                "ACCEPTED",
                by.iter()
                    .map(|name| (name.clone(), "passed".to_string()))
                    .collect(),
            ),
            Judgement::WrongReason(by) => ("rejected for the WRONG REASON", by.clone()),
            Judgement::Broken(message) => ("BROKEN", vec![("patch".to_string(), message.clone())]),
        };
        if !matches!(tried.judgement, Judgement::Rejected(_)) {
            bad += 1;
        }
        println!("{:<44} {verdict}  ({took})", mutant.id());
        println!("    bug: {}", mutant.bug);
        for (check, first_line) in lines {
            let first_line = first_line.lines().next().unwrap_or_default().to_string();
            println!(
                "    {check}: {}",
                crate::harness::records::shorten(&first_line, 160)
            );
        }
    }
    println!(
        "\n{} mutants in {:.0} s; {} not rejected as their header says.",
        all.len(),
        started.elapsed().as_secs_f64(),
        bad
    );
    println!(
        "Replay: cargo run -- course-check --mutants --seed {}",
        settings.seed
    );
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
