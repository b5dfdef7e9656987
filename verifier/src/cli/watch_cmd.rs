//! `verifier watch N`: verify an exercise, then again every time a file of it is saved,
//! until Ctrl-C (the shell's `watch`).

use super::error_exit;
use crate::course;
use crate::workshop::{Workshop, interrupt, watch};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Exercise number or name.
    exercise: String,
}

pub fn run(args: WatchArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(error) => return error_exit(&error),
    };
    let mut workshop = Workshop::for_command();
    interrupt::install();
    watch::watch(&mut workshop, exercise, &mut interrupt::take, "Ctrl-C stops").exit_code()
}
