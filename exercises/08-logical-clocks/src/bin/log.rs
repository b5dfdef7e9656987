//! `log`: every record of the log, in order of position.

use std::process::ExitCode;

use clap::Parser;
use ex08_logical_clocks::cli::{self, DbArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::log(&DbArgs::parse()))
}
