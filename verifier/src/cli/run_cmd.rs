//! `verifier run N PROGRAM [ARGS]`: build your package and run one program by hand, in
//! the exercise's scratch folder, without judging it (the shell's `run`).

use super::error_exit;
use crate::course;
use crate::workshop::{Workshop, run};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Exercise number or name, e.g. `2` or `append-only-logs`.
    exercise: String,
    /// The program to run, e.g. `append`.
    program: String,
    /// Its arguments, e.g. `"hello world"` or `--after 1`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub fn run(args: RunArgs) -> ExitCode {
    let exercise = match course::find(&args.exercise) {
        Ok(exercise) => exercise,
        Err(error) => return error_exit(&error),
    };
    let workshop = Workshop::for_command();
    run::run_program(&workshop, exercise, &args.program, &args.args).exit_code()
}
