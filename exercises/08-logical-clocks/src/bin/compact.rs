//! `compact`: keep only the newest record of every key.

use std::process::ExitCode;

use clap::Parser;
use ex08_logical_clocks::cli::{self, DbArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::compact(&DbArgs::parse()))
}
