//! `heads`: see `src/cli.rs` and the problem text.

use std::process::ExitCode;

use clap::Parser;
use sol09_merkle_dag::cli::{self, HeadsArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::heads(&HeadsArgs::parse()))
}
