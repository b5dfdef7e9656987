//! `merge KEY VALUE`: resolve the siblings of a key with one value.

use std::process::ExitCode;

use clap::Parser;
use ex07_siblings::cli::{self, MergeArgs};
use store::cli::exit_code;

fn main() -> ExitCode {
    exit_code(cli::merge(&MergeArgs::parse()))
}
