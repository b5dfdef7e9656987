//! `get KEY`: print the value of a key, as the view holds it.

use std::process::ExitCode;

use clap::Parser;
use sol05_kv_store::cli::{self, GetArgs};
use sol05_kv_store::values::Values;

fn main() -> ExitCode {
    cli::exit_code(cli::get::<Values>(&GetArgs::parse()))
}
