//! `verifier grade`: grade a whole submission, for teachers and CI.
//!
//! Exit codes: 0 every check passed, 1 some check failed (a submission that does not
//! compile, hangs or crashes fails), 2 a usage error or a problem of the verifier.

use super::limits::LimitArgs;
use super::usage_error;
use crate::course::{self, COURSE, Exercise};
use crate::harness::verdict::{Settings, default_root};
use crate::service::grade::{Format, Options, Status, grade, render};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct GradeArgs {
    /// The submission: a checkout of this course (default: this workspace).
    submission: Option<PathBuf>,
    /// An exercise to grade (number or name; repeatable). Default: all.
    #[arg(long = "exercise", short = 'e', value_name = "EXERCISE")]
    exercises: Vec<String>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Stop after the first exercise with a failed check.
    #[arg(long)]
    fail_fast: bool,
    #[command(flatten)]
    limits: LimitArgs,
    /// Replay the random choices of an earlier run.
    #[arg(long)]
    seed: Option<u64>,
    /// Run a program with a command instead of building it: `2:append=python3 log.py append`.
    #[arg(long = "program", value_name = "EX:NAME=COMMAND", value_parser = parse_program)]
    programs: Vec<(String, String, Vec<String>)>,
}

fn parse_program(text: &str) -> Result<(String, String, Vec<String>), String> {
    let usage = "expected EXERCISE:NAME=COMMAND, e.g. 2:append='python3 log.py append'";
    let (exercise, rest) = text.split_once(':').ok_or(usage)?;
    let (name, command) = rest.split_once('=').ok_or(usage)?;
    let words = shlex::split(command).ok_or("the command has unbalanced quotes")?;
    if exercise.is_empty() || name.is_empty() || words.is_empty() {
        return Err(usage.into());
    }
    Ok((exercise.to_string(), name.to_string(), words))
}

pub fn run(args: GradeArgs) -> ExitCode {
    let mut exercises: Vec<&'static Exercise> = Vec::new();
    for query in &args.exercises {
        match course::find(query) {
            Ok(exercise) if !exercises.iter().any(|e| e.number == exercise.number) => {
                exercises.push(exercise)
            }
            Ok(_) => {}
            Err(message) => return usage_error(&message),
        }
    }
    if exercises.is_empty() {
        exercises = COURSE.to_vec();
    }
    let mut programs = Vec::new();
    for (query, name, command) in &args.programs {
        let exercise = match course::find(query) {
            Ok(exercise) => exercise,
            Err(message) => return usage_error(&message),
        };
        if exercise.program(name).is_none() {
            return usage_error(&format!("exercise {} has no program `{name}`", exercise.number));
        }
        programs.push((exercise.number, name.clone(), command.clone()));
    }
    let course = default_root();
    let submission = args.submission.clone().unwrap_or_else(|| course.clone());
    let submission = match submission.canonicalize() {
        Ok(path) if path.join("exercises").is_dir() => path,
        _ => {
            return usage_error(&format!(
                "{} is not a checkout of this course (it has no exercises/ folder)",
                submission.display()
            ));
        }
    };
    let options = Options {
        submission,
        course,
        exercises,
        limits: args.limits.limits(),
        seed: args.seed.unwrap_or_else(Settings::random_seed),
        fail_fast: args.fail_fast,
        programs,
        progress: Box::new(|step| eprintln!("… {step}")),
    };
    let graded = grade(&options);
    let text = render(&graded, args.format);
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return usage_error(&format!("cannot write {}: {e}", path.display()));
            }
            eprintln!(
                "{} of {} checks passed; report written to {}",
                graded.count(Status::Pass),
                graded.results.len(),
                path.display()
            );
        }
    }
    match graded.status() {
        Status::Pass => ExitCode::SUCCESS,
        Status::Fail => ExitCode::from(1),
        Status::Error => ExitCode::from(2),
    }
}
