//! `del`: see [`ex10_two_phase_commit::cli`].

use std::process::ExitCode;

use clap::Parser;
use ex10_two_phase_commit::cli;

fn main() -> ExitCode {
    cli::del(cli::DelArgs::parse())
}
