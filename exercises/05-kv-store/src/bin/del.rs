//! `del KEY`: delete a key, by appending a del operation to this database's
//! own log.

use std::process::ExitCode;

use clap::Parser;
use ex05_kv_store::cli::{self, DelArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::del(&DelArgs::parse()))
}
