//! The `verifier` command line. Each subcommand is one action of the workshop; with no
//! subcommand it opens the workshop itself.
//!
//! Exit codes, for every subcommand: 0 success (all checks passed), 1 a check failed or
//! the code does not compile, 2 a usage error or a problem of the verifier itself.
//!
//! A problem of the verifier (or a usage error found past clap) arrives here as an
//! `anyhow::Error` and is printed once, by [`error_exit`], with its whole context chain.

mod bench;
mod course_check;
mod demo;
mod demo_2pc;
mod dupsh;
mod grade_cmd;
mod limits;
mod progress_cmd;
mod reset_cmd;
mod room_cmd;
mod run_cmd;
mod slides_cmd;
mod solution_cmd;
pub mod verify_cmd;
mod watch_cmd;

use crate::course::{self, COURSE, Exercise};
use crate::workshop::output;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "verifier",
    about = "The replicate workshop: build a master-less replicated database, one exercise at a time.",
    after_help = "Run without a command to open the workshop. Exit codes: 0 passed, 1 failed, 2 usage or harness error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the exercises, numbered, with their titles.
    List,
    /// Print an exercise's problem text.
    Print {
        /// Exercise number or name, e.g. `2` or `append-only-logs`.
        exercise: String,
    },
    /// Show a hint for an exercise; level 1 is a nudge, the last nearly the answer.
    Hint {
        /// Exercise number or name.
        exercise: String,
        /// Which hint (1 = gentlest).
        #[arg(long, short, default_value_t = 1)]
        level: usize,
    },
    /// Build your programs for an exercise, run every check, and explain the verdict.
    Verify(verify_cmd::VerifyArgs),
    /// Wire two commands together: each one's stdout into the other's stdin.
    Dupsh(dupsh::DupshArgs),
    /// For course authors: check that every reference solution passes and every stub fails.
    CourseCheck(course_check::CourseCheckArgs),
    /// Grade a submission (all exercises or some) for CI: human, JSON, JUnit or TAP.
    Grade(grade_cmd::GradeArgs),
    /// Measure replication against the storage floor (figures, not a verdict).
    Bench(bench::BenchArgs),
    /// Watch the reference solutions at work: `demo replicate`, `gossip`, `clocks`,
    /// `merkle-dag` or `two-phase-commit`.
    Demo(demo::DemoArgs),
    /// Present a slide deck in the terminal, list the decks, or export them as HTML.
    Slides(slides_cmd::SlidesArgs),
    /// Build your package and run one of your programs by hand, in a scratch folder that persists.
    Run(run_cmd::RunArgs),
    /// Show the reference solution's source (asks first until you have passed).
    Solution(solution_cmd::SolutionArgs),
    /// Put an exercise's original stub back from git (your files are backed up first).
    Reset(reset_cmd::ResetArgs),
    /// Verify an exercise, then again every time you save one of its files.
    Watch(watch_cmd::WatchArgs),
    /// Show your progress: exercises passed, the current one, hints seen.
    Progress,
    /// The classroom: host a room, join one, run your peer in its mesh.
    Room(room_cmd::RoomArgs),
}

/// Parses the command line, runs the command, and returns its exit code.
pub fn main() -> ExitCode {
    // Every child of this process is started by the runner: adopt and kill any
    // process that escapes its program's group.
    crate::runner::adopt_orphans();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    // The shell and `watch` use Ctrl-C themselves (to stop watching); everywhere else
    // Ctrl-C ends the verifier, and whatever it started ends with it.
    let shell_like = matches!(cli.command, None | Some(Command::Watch(_)));
    crate::runner::kill_children_on_signals(!shell_like);
    // Texts and hints are compiled in; everything else acts on the course checkout the
    // verifier is run in, so there must be one.
    let needs_course = !matches!(
        cli.command,
        Some(Command::List | Command::Print { .. } | Command::Hint { .. } | Command::Dupsh(_))
    );
    if needs_course && let Err(error) = crate::service::root::course_root() {
        return error_exit(&error);
    }
    match cli.command {
        None => crate::workshop::shell(),
        Some(Command::List) => shown(output::write_stdout(&list())),
        Some(Command::Print { exercise }) => with_exercise(&exercise, |e| {
            shown(output::page(&format!("{}\n", e.problem.trim_end())))
        }),
        Some(Command::Hint { exercise, level }) => with_exercise(&exercise, |e| hint(e, level)),
        Some(Command::Verify(args)) => verify_cmd::run(args),
        Some(Command::Dupsh(args)) => dupsh::run(args),
        Some(Command::CourseCheck(args)) => course_check::run(args),
        Some(Command::Grade(args)) => grade_cmd::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::Slides(args)) => slides_cmd::run(args),
        Some(Command::Run(args)) => run_cmd::run(args),
        Some(Command::Solution(args)) => solution_cmd::run(args),
        Some(Command::Reset(args)) => reset_cmd::run(args),
        Some(Command::Watch(args)) => watch_cmd::run(args),
        Some(Command::Progress) => progress_cmd::run(),
        Some(Command::Room(args)) => room_cmd::run(args),
    }
}

/// The exit code after showing output: success, also when the reader closed the pipe
/// early (`verifier print 2 | head -1`).
fn shown(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}

/// Looks up an exercise, or explains the mistake and exits with 2.
fn with_exercise(query: &str, action: impl FnOnce(&'static Exercise) -> ExitCode) -> ExitCode {
    match course::find(query) {
        Ok(exercise) => action(exercise),
        Err(error) => error_exit(&error),
    }
}

/// Prints `error: …` and returns the usage exit code.
pub(crate) fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Prints `error: …` for an error with its context chain on one line (`{:#}`: "outer:
/// inner"), and returns the exit code of a usage or verifier error.
pub(crate) fn error_exit(error: &anyhow::Error) -> ExitCode {
    usage_error(&format!("{error:#}"))
}

/// A number of seconds for a time limit, from the command line.
pub(crate) fn parse_seconds(text: &str) -> anyhow::Result<f64> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => anyhow::bail!("expected a number of seconds between 0 and 3600"),
    }
}

/// The numbered exercise list.
pub fn list() -> String {
    COURSE
        .iter()
        .map(|e| format!("{:>3}. {:<20} {}\n", e.number, e.slug, e.title))
        .collect()
}

fn hint(exercise: &Exercise, level: usize) -> ExitCode {
    let hints = exercise.hints();
    match level.checked_sub(1).and_then(|i| hints.get(i)) {
        Some(hint) => shown(output::write_stdout(&format!(
            "Hint {level} of {}: {}\n\n{}\n",
            hints.len(),
            hint.title,
            hint.body
        ))),
        None => usage_error(&format!(
            "exercise {} has hints 1 to {}; there is no hint {level}",
            exercise.number,
            hints.len()
        )),
    }
}
