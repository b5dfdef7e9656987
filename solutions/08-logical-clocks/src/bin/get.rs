//! `get`: the value of a key.

use std::process::ExitCode;

use clap::Parser;
use sol08_logical_clocks::cli::{self, GetArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::get(&GetArgs::parse()))
}
