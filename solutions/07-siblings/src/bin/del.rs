//! `del KEY`: delete a key, replacing every version of it this database
//! holds with a deletion.

use std::process::ExitCode;

use clap::Parser;
use sol07_siblings::cli;
use store::cli::{DelArgs, exit_code};

fn main() -> ExitCode {
    exit_code(cli::del(&DelArgs::parse()))
}
