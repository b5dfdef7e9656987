//! `verifier reset N`: put the original stub of an exercise back, from git, after
//! copying your files to `.replicate/backups/` (the shell's `reset`).

use super::error_exit;
use crate::course;
use crate::workshop::input::StdinAsk;
use crate::workshop::{Ask, Workshop, Yes, reset};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Exercise number or name.
    exercise: String,
    /// Reset without asking (your files are still backed up).
    #[arg(long, short)]
    yes: bool,
}

pub fn run(args: ResetArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(error) => return error_exit(&error),
    };
    let workshop = Workshop::for_command();
    let ask: &mut dyn Ask = if args.yes { &mut Yes } else { &mut StdinAsk };
    reset::reset_action(&workshop, exercise, ask).exit_code()
}
