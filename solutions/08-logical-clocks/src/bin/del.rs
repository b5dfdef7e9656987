//! `del`: delete a key, stamped with its clock.

use std::process::ExitCode;

use clap::Parser;
use sol08_logical_clocks::cli::{self, DelArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::del(&DelArgs::parse()))
}
