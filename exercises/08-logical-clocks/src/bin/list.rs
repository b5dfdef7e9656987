//! `list`: every key that has a value, in byte order.

use std::process::ExitCode;

use clap::Parser;
use ex08_logical_clocks::cli::{self, DbArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::list(&DbArgs::parse()))
}
