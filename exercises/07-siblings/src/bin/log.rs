//! `log`: print every operation of every log this database holds.

use std::process::ExitCode;

use clap::Parser;
use store::cli::{self, LogArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::log(&LogArgs::parse()))
}
