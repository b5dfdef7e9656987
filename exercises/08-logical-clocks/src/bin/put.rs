//! `put`: set a key, stamped with its clock.

use std::process::ExitCode;

use clap::Parser;
use ex08_logical_clocks::cli::{self, PutArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::put(&PutArgs::parse()))
}
