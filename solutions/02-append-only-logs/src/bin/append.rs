//! `append`: add entries to the end of this database's own log.
//!
//! The arguments and the work are in the library's `cli` module, where later
//! exercises can reuse them.

use std::process::ExitCode;

use clap::Parser;
use sol02_append_only_logs::cli::{self, AppendArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::append(&AppendArgs::parse()))
}
