//! `list`: print every key that has a value, in byte order.

use std::process::ExitCode;

use clap::Parser;
use ex05_kv_store::cli::{self, ListArgs};
use ex05_kv_store::values::Values;

fn main() -> ExitCode {
    cli::exit_code(cli::list::<Values>(&ListArgs::parse()))
}
