//! `del KEY`: delete a key, by appending a del operation stamped with the
//! clock to this database's own log.

use std::process::ExitCode;

use clap::Parser;
use ex06_last_writer_wins::cli::{self, DelArgs};
use store::cli::exit_code;

fn main() -> ExitCode {
    exit_code(cli::del(&DelArgs::parse()))
}
