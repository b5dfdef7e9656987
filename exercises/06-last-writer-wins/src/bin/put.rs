//! `put KEY VALUE`: set a key, by appending a put operation stamped with the
//! clock to this database's own log.

use std::process::ExitCode;

use clap::Parser;
use ex06_last_writer_wins::cli::{self, PutArgs};
use store::cli::exit_code;

fn main() -> ExitCode {
    exit_code(cli::put(&PutArgs::parse()))
}
