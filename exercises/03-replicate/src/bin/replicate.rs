//! `replicate DB`: swap logs with another database over stdin and stdout.
//!
//! Wire two of them together, each one's stdout into the other's stdin, and
//! both databases end up holding every log either held.

use std::process::ExitCode;

use clap::Parser;
use logs::cli::exit_code;

use ex03_replicate::cli::{self, ReplicateArgs};

fn main() -> ExitCode {
    exit_code(cli::replicate_stdio(&ReplicateArgs::parse()))
}
