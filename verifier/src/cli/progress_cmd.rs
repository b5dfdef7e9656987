//! `verifier progress`: the exercises passed, the current one, and the hints seen
//! (the shell's `progress`, from `.replicate/state.json`).

use crate::workshop::{Workshop, progress};
use std::process::ExitCode;

pub fn run() -> ExitCode {
    let workshop = Workshop::for_command();
    print!("{}", progress::progress(&workshop.state));
    ExitCode::SUCCESS
}
