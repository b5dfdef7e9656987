//! `verifier solution N`: the reference solution's source files (the shell's
//! `solution`), paged on a terminal; `--diff` against your own code. Before you pass,
//! it asks first unless given `--yes`.

use super::error_exit;
use crate::course;
use crate::workshop::input::StdinAsk;
use crate::workshop::solution::{self, Shown};
use crate::workshop::{Ask, Workshop, Yes};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SolutionArgs {
    /// Exercise number or name.
    exercise: String,
    /// Show it without asking, even before you pass.
    #[arg(long, short)]
    yes: bool,
    /// Show the files you write as a diff against your own code.
    #[arg(long)]
    diff: bool,
}

pub fn run(args: SolutionArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(error) => return error_exit(&error),
    };
    let workshop = Workshop::for_command();
    let ask: &mut dyn Ask = if args.yes { &mut Yes } else { &mut StdinAsk };
    let shown = match args.diff {
        true => Shown::Diff,
        false => Shown::Full,
    };
    solution::show_solution(&workshop, exercise, ask, shown).exit_code()
}
