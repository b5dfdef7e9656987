//! `list`: print every key whose winning write is a put, in byte order.

use std::process::ExitCode;

use clap::Parser;
use ex06_last_writer_wins::cli;
use store::cli::{ListArgs, exit_code};

fn main() -> ExitCode {
    exit_code(cli::list(&ListArgs::parse()))
}
