//! `verifier course-check`: the course's own health check, for its authors.
//!
//! A course is healthy when every reference solution passes every check and every
//! learner stub compiles and fails (a stub that passes teaches nothing; a solution that
//! fails means the checks or the snapshots are wrong).

use super::usage_error;
use crate::course::{self, COURSE, Exercise, Side};
use crate::harness::course_copy::committed_stubs;
use crate::harness::verdict::Settings;
use crate::service::Outcome;
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
}

pub fn run(args: CourseCheckArgs) -> ExitCode {
    let mut chosen: Vec<&'static Exercise> = Vec::new();
    for query in &args.exercises {
        match course::find(query) {
            Ok(exercise) => chosen.push(exercise),
            Err(message) => return usage_error(&message),
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

/// How many checks pass on one side, or why nothing could run: the code built in
/// `code`, judged with the course at `root`.
fn passes(
    exercise: &'static Exercise,
    side: Side,
    code: &Path,
    root: &Path,
    settings: &Settings,
) -> Result<usize, String> {
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
        return Err(first);
    }
    Ok(verified.passed())
}

fn describe(result: &Result<usize, String>, exercise: &Exercise) -> String {
    match result {
        Ok(passed) => format!("{passed}/{} pass", exercise.checks.len()),
        Err(message) => format!("error ({message})"),
    }
}
