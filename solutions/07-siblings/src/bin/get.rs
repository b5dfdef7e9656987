//! `get KEY`: print every current version of a key: one value, or siblings.

use std::process::ExitCode;

use clap::Parser;
use sol07_siblings::cli::{self, GetArgs};
use store::cli::exit_code;

fn main() -> ExitCode {
    exit_code(cli::get(&GetArgs::parse()))
}
