//! `run PROGRAM ARGS`: one of the learner's programs, built and run by hand, not judged.
//!
//! It runs in a scratch folder that persists between runs (`.replicate/scratch/NN-name/`),
//! so `run append hi` then `run read` sees the same database, and under the same limits
//! as in checks. Its stdout, its stderr and how it ended are shown as they are.
//! Ctrl-C stops the program, not the shell.
//!
//! On a terminal the program reads what the learner types (03's "feed one side by
//! hand": `run replicate alice`, then type the protocol's lines; Ctrl-D ends its
//! input) and its output is shown as it comes; it may then run for
//! [`BY_HAND_TIMEOUT`]. From a pipe its stdin is closed and its output is shown when
//! it ends.

use super::{Outcome, Workshop, by_hand, interrupt};
use crate::course::{Exercise, Side};
use crate::harness::build::BuildError;
use crate::runner::{Ending, Finished, Invocation, Limits, Spawned, Stderr, Stdin, Stdout, Wiring};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long one program may run.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a program fed by hand from the terminal may run.
pub const BY_HAND_TIMEOUT: Duration = Duration::from_secs(600);

/// Builds the learner's package and runs `program` with `args` in the scratch folder.
pub fn run_program(workshop: &Workshop, exercise: &Exercise, program: &str, args: &[String]) -> Outcome {
    if exercise.program(program).is_none() {
        print!("{}", programs_of(exercise, Some(program)));
        return Outcome::Error;
    }
    let built = match workshop.build(exercise) {
        Ok(built) => built,
        Err(BuildError::Compile(errors)) => {
            println!(
                "Your code in {} does not compile yet. The compiler says:\n\n{errors}\n",
                exercise.dir(Side::Learner)
            );
            return Outcome::Failed;
        }
        Err(BuildError::Harness(message)) => {
            println!("error: {message}");
            return Outcome::Error;
        }
        Err(problem) => {
            println!("{problem}");
            return Outcome::Failed;
        }
    };
    let Some(command) = built.programs.command(program) else {
        println!(
            "error: the build of {} has no program `{program}`",
            exercise.package(Side::Learner)
        );
        return Outcome::Error;
    };
    let scratch = workshop.scratch_dir(exercise);
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        println!("error: cannot create {}: {e}", scratch.display());
        return Outcome::Error;
    }
    let invocation = Invocation {
        program: program.to_string(),
        args: args.to_vec(),
        argv: command.iter().cloned().chain(args.iter().cloned()).collect(),
        cwd: scratch.clone(),
        env: vec![],
    };
    println!(
        "$ {}    [in {}/]",
        invocation.short_line(),
        workshop.shown(&scratch)
    );
    let by_hand = std::io::stdin().is_terminal();
    let timeout = match by_hand {
        true => BY_HAND_TIMEOUT,
        false => RUN_TIMEOUT,
    };
    let limits = Limits {
        timeout,
        ..Limits::default()
    };
    let wiring = match by_hand {
        true => Wiring {
            stdin: Stdin::Piped,
            stdout: Stdout::Piped,
            stderr: Stderr::Forwarded(String::new()),
        },
        false => Wiring::default(),
    };
    let mut spawned = match Spawned::start(&invocation, wiring, &limits) {
        Ok(spawned) => spawned,
        Err(e) => {
            println!("error: cannot start {program}: {e}");
            return Outcome::Error;
        }
    };
    let relay = by_hand.then(|| {
        println!("({program} reads what you type; Ctrl-D ends its input, Ctrl-C stops it.)");
        by_hand::Relay::start(spawned.take_stdin(), spawned.take_stdout())
    });
    let (finished, interrupted) = wait_or_interrupt(spawned, timeout);
    match relay {
        Some(relay) => relay.stop(),
        None => {
            show_stream("stdout", &finished.stdout);
            show_stream("stderr", &finished.stderr);
        }
    }
    let how = match interrupted {
        true => "was stopped (Ctrl-C)".to_string(),
        false => finished.ending.describe(),
    };
    println!("{program} {how}.");
    if finished.left_running {
        println!("(It left a process running, which was stopped.)");
    }
    match finished.ending.success() {
        true => Outcome::Passed,
        false => Outcome::Failed,
    }
}

/// Waits for the program like the runner does, but ends it at once on Ctrl-C (then
/// the second value is true).
fn wait_or_interrupt(mut spawned: Spawned, timeout: Duration) -> (Finished, bool) {
    interrupt::clear();
    let deadline = Instant::now() + timeout;
    let mut interrupted = false;
    let ending = loop {
        let step = deadline.min(Instant::now() + Duration::from_millis(100));
        let ending = spawned.wait_until(step, timeout);
        if !matches!(ending, Ending::TimedOut(_)) || Instant::now() >= deadline {
            break ending;
        }
        if interrupt::take() {
            interrupted = true;
            break ending;
        }
    };
    (spawned.collect(ending), interrupted)
}

/// `stdout: (empty)`, or the label and the text as it was printed.
fn show_stream(label: &str, bytes: &[u8]) {
    if bytes.is_empty() {
        println!("{label}: (empty)");
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    println!("{label}:");
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
}

/// What to say when a program is missing or not named: the exercise's programs.
pub fn programs_of(exercise: &Exercise, wrong: Option<&str>) -> String {
    let mut text = match wrong {
        Some(name) => format!(
            "Exercise {} has no program `{name}`. Its programs:\n",
            exercise.number
        ),
        None => format!("Which program? Exercise {} has:\n", exercise.number),
    };
    for program in exercise.programs {
        text.push_str(&format!("  {}\n", program.usage));
    }
    text.push_str("For example: `run ");
    text.push_str(exercise.programs.first().map_or("PROGRAM", |p| p.name));
    text.push_str("`\n");
    text
}
