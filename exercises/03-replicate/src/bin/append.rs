//! `append`: add entries to the end of this database's own log. It is
//! exercise 02's program, unchanged.

use std::process::ExitCode;

use clap::Parser;
use logs::cli::{self, AppendArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::append(&AppendArgs::parse()))
}
