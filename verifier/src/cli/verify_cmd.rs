//! `verifier verify N`: build, run every check, explain the verdict.

use super::{parse_seconds, usage_error};
use crate::build::{BuildError, build};
use crate::course::{self, Exercise, Side};
use crate::report;
use crate::runner::Limits;
use crate::trial::{Context, Programs};
use crate::verify::{Settings, all_passed, default_root, verify};
use clap::Args;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

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
    /// Seconds each program run may take before it is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    timeout: f64,
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
    let side = if args.solution {
        Side::Reference
    } else {
        Side::Learner
    };
    let root = default_root();
    let programs = match prepare(&root, exercise, side, &args.programs) {
        Ok(programs) => programs,
        Err(code) => return code,
    };
    let limits = Limits {
        timeout: Duration::from_secs_f64(args.timeout),
        ..Limits::default()
    };
    let context = match side {
        Side::Reference if args.programs.is_empty() => {
            Context::for_reference(exercise, programs, &root, limits)
        }
        _ => Context::new(exercise, programs, &root, limits),
    };
    let settings = Settings {
        keep_failed: !args.no_keep,
        compare_snapshots: true,
        seed: args.seed.unwrap_or_else(Settings::random_seed),
    };
    let results = verify(&context, &settings);
    let what = match (side, args.programs.is_empty()) {
        (_, false) => "the programs you named".to_string(),
        (Side::Learner, true) => format!("your code in {}", exercise.dir(side)),
        (Side::Reference, true) => format!("the reference solution in {}", exercise.dir(side)),
    };
    let options = report::Options {
        all_failures: args.all,
        seed: settings.seed,
    };
    print!("{}", report::human(exercise, &what, &results, options));
    if results
        .iter()
        .any(|r| matches!(r.verdict, crate::verify::Verdict::Error(_)))
    {
        ExitCode::from(2)
    } else if all_passed(&results) {
        if side == Side::Learner {
            println!("Well done! Next: `cargo run -- print {}`.", exercise.number + 1);
        }
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The programs to run: built with cargo, except those given as commands. On failure
/// the problem has been printed and the exit code is returned.
pub(crate) fn prepare(
    root: &Path,
    exercise: &Exercise,
    side: Side,
    overrides: &[(String, Vec<String>)],
) -> Result<Programs, ExitCode> {
    for (name, _) in overrides {
        if exercise.program(name).is_none() {
            let known: Vec<&str> = exercise.programs.iter().map(|p| p.name).collect();
            return Err(usage_error(&format!(
                "exercise {} has no program `{name}`; its programs are: {}",
                exercise.number,
                known.join(", ")
            )));
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
                return Err(ExitCode::from(1));
            }
            Err(BuildError::Harness(message)) => return Err(usage_error(&message)),
        }
    };
    for (name, command) in overrides {
        programs.set(name, command.clone());
    }
    Ok(programs)
}
