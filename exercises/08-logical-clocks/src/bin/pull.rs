//! `pull`: pull what a peer stored since the last pull from it.

use std::process::ExitCode;

use clap::Parser;
use ex08_logical_clocks::cli::{self, PullArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::pull(&PullArgs::parse()))
}
