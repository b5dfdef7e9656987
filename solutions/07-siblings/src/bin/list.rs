//! `list`: print every current version of every key that has a value.

use std::process::ExitCode;

use clap::Parser;
use sol07_siblings::cli::{self, ListArgs};
use store::cli::exit_code;

fn main() -> ExitCode {
    exit_code(cli::list(&ListArgs::parse()))
}
