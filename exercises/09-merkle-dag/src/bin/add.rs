//! `add`: see `src/cli.rs` and the problem text.

use std::process::ExitCode;

use clap::Parser;
use ex09_merkle_dag::cli::{self, AddArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::add(&AddArgs::parse()))
}
