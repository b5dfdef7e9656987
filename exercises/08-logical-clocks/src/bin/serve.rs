//! `serve`: answer pulls until killed.

use std::process::ExitCode;

use clap::Parser;
use ex08_logical_clocks::cli::{self, ServeArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::serve(&ServeArgs::parse()))
}
