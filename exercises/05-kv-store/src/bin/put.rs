//! `put KEY VALUE`: set a key, by appending a put operation to this
//! database's own log.

use std::process::ExitCode;

use clap::Parser;
use ex05_kv_store::cli::{self, PutArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::put(&PutArgs::parse()))
}
