//! `list`: see `src/cli.rs` and the problem text.

use std::process::ExitCode;

use clap::Parser;
use ex09_merkle_dag::cli::{self, ListArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::list(&ListArgs::parse()))
}
