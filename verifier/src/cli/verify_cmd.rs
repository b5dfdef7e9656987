//! `verifier verify N`: build, run every check, explain the verdict.

use super::limits::LimitArgs;
use super::usage_error;
use crate::course::{self, Exercise, Side};
use crate::harness::build::{BuildError, build};
use crate::harness::trial::{Context, Programs};
use crate::harness::verdict::{Settings, all_passed, default_root, verify};
use crate::runner::Limits;
use crate::service::report;
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

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

fn parse_program(text: &str) -> Result<(String, Vec<String>), String> {
    let (name, command) = text
        .split_once('=')
        .ok_or("expected NAME=COMMAND, e.g. append='python3 append.py'")?;
    let words = shlex::split(command).ok_or("the command has unbalanced quotes")?;
    if name.is_empty() || words.is_empty() {
        return Err("expected NAME=COMMAND, e.g. append='python3 append.py'".into());
    }
    Ok((name.to_string(), words))
}

pub fn run(args: VerifyArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(message) => return usage_error(&message),
    };
    let request = Request {
        exercise,
        side: if args.solution {
            Side::Reference
        } else {
            Side::Learner
        },
        programs: args.programs,
        limits: args.limits.limits(),
        all_failures: args.all,
        keep_failed: !args.no_keep,
        seed: args.seed,
    };
    let verified = verify_exercise(&request);
    if verified == Verified::Passed && request.side == Side::Learner && request.programs.is_empty() {
        crate::workshop::Workshop::for_command().record_pass(exercise);
    }
    verified.exit_code()
}

/// What to verify and how; the command line and the workshop shell both make one.
#[derive(Debug, Clone)]
pub struct Request {
    pub exercise: &'static Exercise,
    pub side: Side,
    /// Programs given as commands instead of being built: (name, command words).
    pub programs: Vec<(String, Vec<String>)>,
    pub limits: Limits,
    pub all_failures: bool,
    pub keep_failed: bool,
    pub seed: Option<u64>,
}

/// How a verification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Passed,
    /// A check failed, or the code does not compile.
    Failed,
    /// A usage problem or a problem of the verifier itself.
    Error,
}

impl Verified {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Verified::Passed => ExitCode::SUCCESS,
            Verified::Failed => ExitCode::from(1),
            Verified::Error => ExitCode::from(2),
        }
    }
}

/// Builds, runs every check, and prints the report.
pub fn verify_exercise(request: &Request) -> Verified {
    let (exercise, side) = (request.exercise, request.side);
    let root = default_root();
    let programs = match prepare(&root, exercise, side, &request.programs) {
        Ok(programs) => programs,
        Err(Prepared::CompileError) => return Verified::Failed,
        Err(Prepared::Unusable) => return Verified::Error,
    };
    let limits = request.limits;
    let context = match side {
        Side::Reference if request.programs.is_empty() => {
            Context::for_reference(exercise, programs, &root, limits)
        }
        _ => Context::new(exercise, programs, &root, limits),
    };
    let settings = Settings {
        keep_failed: request.keep_failed,
        compare_snapshots: true,
        seed: request.seed.unwrap_or_else(Settings::random_seed),
    };
    let results = verify(&context, &settings);
    let what = match (side, request.programs.is_empty()) {
        (_, false) => "the programs you named".to_string(),
        (Side::Learner, true) => format!("your code in {}", exercise.dir(side)),
        (Side::Reference, true) => format!("the reference solution in {}", exercise.dir(side)),
    };
    let options = report::Options {
        all_failures: request.all_failures,
        seed: settings.seed,
    };
    print!("{}", report::human(exercise, &what, &results, options));
    if results
        .iter()
        .any(|r| matches!(r.verdict, crate::harness::verdict::Verdict::Error(_)))
    {
        Verified::Error
    } else if all_passed(&results) {
        if side == Side::Learner && request.programs.is_empty() {
            match crate::course::COURSE
                .iter()
                .find(|e| e.number == exercise.number + 1)
            {
                Some(next) => println!(
                    "Well done! Next: `cargo run -- print {}` ({}).",
                    next.number, next.title
                ),
                None => {
                    println!("Well done! That was the last exercise: you have built a replicated database.")
                }
            }
        }
        Verified::Passed
    } else {
        Verified::Failed
    }
}

/// Why [`prepare`] gave no programs (the problem has been printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// The code does not compile: the learner's to fix.
    CompileError,
    /// A bad command or a missing package: a usage or harness problem.
    Unusable,
}

/// The programs to run: built with cargo, except those given as commands. On failure
/// the problem has been printed.
pub fn prepare(
    root: &Path,
    exercise: &Exercise,
    side: Side,
    overrides: &[(String, Vec<String>)],
) -> Result<Programs, Prepared> {
    for (name, _) in overrides {
        if exercise.program(name).is_none() {
            let known: Vec<&str> = exercise.programs.iter().map(|p| p.name).collect();
            usage_error(&format!(
                "exercise {} has no program `{name}`; its programs are: {}",
                exercise.number,
                known.join(", ")
            ));
            return Err(Prepared::Unusable);
        }
    }
    let all_given = exercise
        .programs
        .iter()
        .all(|p| overrides.iter().any(|(name, _)| name == p.name));
    let mut programs = if all_given {
        Programs::new()
    } else {
        eprintln!("Building {} …", exercise.package(side));
        match build(root, exercise, side) {
            Ok(built) => {
                if built.warnings > 0 {
                    eprintln!(
                        "({} compiler warning(s): `cargo build -p {}` shows them)",
                        built.warnings,
                        exercise.package(side)
                    );
                }
                built.programs
            }
            Err(BuildError::Compile(errors)) => {
                println!(
                    "Your code in {} does not compile yet. The compiler says:\n\n{errors}\n\nFix the first error first: later ones are often caused by it.",
                    exercise.dir(side)
                );
                return Err(Prepared::CompileError);
            }
            Err(BuildError::Harness(message)) => {
                usage_error(&message);
                return Err(Prepared::Unusable);
            }
        }
    };
    for (name, command) in overrides {
        programs.set(name, command.clone());
    }
    Ok(programs)
}
