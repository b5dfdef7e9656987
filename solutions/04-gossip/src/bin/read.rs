//! `read`: print every log this database holds. It is exercise 03's
//! program, unchanged.

use std::process::ExitCode;

use clap::Parser;
use logs::cli::exit_code;
use replicate::cli::{self, ReadArgs};

fn main() -> ExitCode {
    exit_code(cli::read(&ReadArgs::parse()))
}
