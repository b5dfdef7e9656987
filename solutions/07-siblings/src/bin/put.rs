//! `put KEY VALUE`: set a key, replacing every version of it this database
//! holds.

use std::process::ExitCode;

use clap::Parser;
use sol07_siblings::cli;
use store::cli::{PutArgs, exit_code};

fn main() -> ExitCode {
    exit_code(cli::put(&PutArgs::parse()))
}
