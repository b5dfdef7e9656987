//! `verifier grade`: grade a whole submission, for teachers and CI.
//!
//! Exit codes: 0 every check passed, 1 some check failed (a submission that does not
//! compile, hangs or crashes fails), 2 a usage error or a problem of the verifier.

use super::limits::LimitArgs;
use super::{error_exit, usage_error};
use crate::course::{self, COURSE, Exercise};
use crate::harness::verdict::Settings;
use crate::service::Outcome;
use crate::service::grade::class::{self, ClassOptions};
use crate::service::grade::gradebook::Gradebook;
use crate::service::grade::{Format, Options, grade, render};
use crate::service::report::visible_line;
use crate::service::root::default_root;
use anyhow::{Context as _, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

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
    /// Seconds building one exercise may take (a cold build compiles every dependency).
    #[arg(long, value_name = "SECONDS", default_value_t = 1200.0, value_parser = super::parse_seconds)]
    build_timeout: f64,
    /// Grade a submission even where its programs and build cannot be sandboxed.
    #[arg(long)]
    allow_unsandboxed: bool,
    /// Replay the random choices of an earlier run.
    #[arg(long)]
    seed: Option<u64>,
    /// Run a program with a command instead of building it: `2:append=python3 log.py append`.
    #[arg(long = "program", value_name = "EX:NAME=COMMAND", value_parser = parse_program)]
    programs: Vec<(String, String, Vec<String>)>,
    /// Grade a class: every checkout under DIR (or listed in a file, one path a
    /// line) into a gradebook (html, csv, json) in --output (default: gradebook/).
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with = "submission")]
    class: Option<Option<PathBuf>>,
    /// With --class: build the gradebook from the JSON reports in DIR (as
    /// `grade --format json` writes them, e.g. collected from CI), running nothing.
    #[arg(long, value_name = "DIR", requires = "class")]
    from_reports: Option<PathBuf>,
    /// With --class: how many checkouts to grade at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// With --class: grade again a checkout already graded at its commit.
    #[arg(long, requires = "class")]
    regrade: bool,
}

fn parse_program(text: &str) -> anyhow::Result<(String, String, Vec<String>)> {
    let usage = "expected EXERCISE:NAME=COMMAND, e.g. 2:append='python3 log.py append'";
    let (exercise, rest) = text.split_once(':').context(usage)?;
    let (name, command) = rest.split_once('=').context(usage)?;
    let words = shlex::split(command).context("the command has unbalanced quotes")?;
    if exercise.is_empty() || name.is_empty() || words.is_empty() {
        bail!(usage);
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
            Err(error) => return error_exit(&error),
        }
    }
    if exercises.is_empty() {
        exercises = COURSE.to_vec();
    }
    let mut programs = Vec::new();
    for (query, name, command) in &args.programs {
        let exercise = match course::find(query) {
            Ok(exercise) => exercise,
            Err(error) => return error_exit(&error),
        };
        if exercise.program(name).is_none() {
            return usage_error(&format!("exercise {} has no program `{name}`", exercise.number));
        }
        programs.push((exercise.number, name.clone(), command.clone()));
    }
    let course = default_root();
    if let Some(class) = &args.class {
        return class_run(&args, class.as_deref(), course, exercises);
    }
    let submission = args.submission.clone().unwrap_or_else(|| course.clone());
    let submission = match checkout(&submission) {
        Ok(path) => path,
        Err(error) => return error_exit(&error),
    };
    let options = Options {
        submission,
        course,
        exercises,
        limits: args.limits.limits(),
        seed: args.seed.unwrap_or_else(Settings::random_seed),
        fail_fast: args.fail_fast,
        programs,
        build_timeout: Duration::from_secs_f64(args.build_timeout),
        allow_unsandboxed: args.allow_unsandboxed,
        progress: Box::new(|step| eprintln!("… {step}")),
        slot: 0,
    };
    let graded = match grade(&options) {
        Ok(graded) => graded,
        Err(error) => {
            eprintln!("error: {error:#}");
            return Outcome::Error.exit_code();
        }
    };
    let text = render(&graded, args.format);
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return usage_error(&format!("cannot write {}: {e}", path.display()));
            }
            eprintln!(
                "{} of {} checks passed; report written to {}",
                graded.count(Outcome::Passed),
                graded.results.len(),
                path.display()
            );
        }
    }
    graded.status().exit_code()
}

/// The submission's checkout, or exactly why the path is not one.
fn checkout(path: &std::path::Path) -> anyhow::Result<PathBuf> {
    let shown = path.display();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{shown} does not exist"),
        Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
    };
    if !metadata.is_dir() {
        bail!("{shown} is a file, not a folder: give the folder of a checkout of this course");
    }
    let path = path
        .canonicalize()
        .with_context(|| format!("cannot read {shown}"))?;
    if !path.join("exercises").is_dir() {
        bail!("{shown} is not a checkout of this course (it has no exercises/ folder)");
    }
    Ok(path)
}

/// Where a class's gradebook comes from.
enum ClassFrom<'a> {
    /// Grading the checkouts under (or listed in) this path.
    Checkouts(&'a Path),
    /// The JSON reports in this folder, running nothing.
    Reports(&'a Path),
}

/// `grade --class`: a gradebook from the class's checkouts, or from reports.
fn class_run(
    args: &GradeArgs,
    class: Option<&Path>,
    course: PathBuf,
    exercises: Vec<&'static Exercise>,
) -> ExitCode {
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("gradebook"));
    if !args.programs.is_empty() {
        return usage_error("--program grades one submission's commands: it does not apply to --class");
    }
    let source = match (class, &args.from_reports) {
        (Some(_), Some(_)) => {
            return usage_error(
                "give either --class DIR (checkouts) or --class --from-reports DIR, not both",
            );
        }
        (None, None) => {
            return usage_error(
                "--class needs a folder of checkouts (or a file listing them), or --from-reports DIR",
            );
        }
        (Some(class), None) => ClassFrom::Checkouts(class),
        (None, Some(reports)) => ClassFrom::Reports(reports),
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        return usage_error(&format!("cannot write {}: {e}", out.display()));
    }
    let book = match source {
        ClassFrom::Reports(reports) => Gradebook::from_reports(reports, &out)
            .map(|mut book| {
                book.similarity_note =
                    Some("Built from reports: they carry no code, so similarity was not looked at.".into());
                book
            })
            .with_context(|| format!("cannot read the reports in {}", reports.display()))
            .and_then(|book| {
                book.write(&out)
                    .with_context(|| format!("cannot write the gradebook in {}", out.display()))?;
                Ok(book)
            }),
        ClassFrom::Checkouts(class) => {
            let checkouts = match class::checkouts(class) {
                Ok(checkouts) => checkouts,
                Err(error) => return error_exit(&error),
            };
            let options = ClassOptions {
                checkouts,
                out: out.clone(),
                course,
                exercises,
                limits: args.limits.limits(),
                seed: args.seed.unwrap_or_else(Settings::random_seed),
                build_timeout: Duration::from_secs_f64(args.build_timeout),
                allow_unsandboxed: args.allow_unsandboxed,
                jobs: usize::from(args.jobs),
                regrade: args.regrade,
            };
            let progress = |step: &str| eprintln!("{}", visible_line(step));
            class::grade_class(&options, &progress)
        }
    };
    match book {
        Ok(book) => {
            eprintln!(
                "gradebook of {} learners ({} pairs flagged as near-identical) written to {}",
                book.rows.len(),
                book.similar.len(),
                out.join("gradebook.html").display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            Outcome::Error.exit_code()
        }
    }
}
