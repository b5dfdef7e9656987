//! `read`: print every log this database holds, its own and other peers'.

use std::process::ExitCode;

use clap::Parser;
use logs::cli::exit_code;

use ex03_replicate::cli::{self, ReadArgs};

fn main() -> ExitCode {
    exit_code(cli::read(&ReadArgs::parse()))
}
