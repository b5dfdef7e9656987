//! `get`: see [`sol10_two_phase_commit::cli`].

use std::process::ExitCode;

use clap::Parser;
use sol10_two_phase_commit::cli;

fn main() -> ExitCode {
    cli::get(cli::GetArgs::parse())
}
