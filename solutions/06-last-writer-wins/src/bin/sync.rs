//! `sync DB`: swap logs with another database over stdin and stdout, then
//! apply what arrived to the view.
//!
//! Wire two of them together (`verifier dupsh 'sync a' 'sync b'`), and both
//! databases end up holding every log either held, and the same winners,
//! whatever order the writes arrived in.

use std::process::ExitCode;

use clap::Parser;
use sol06_last_writer_wins::Winners;
use store::cli::{self, SyncArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::sync::<Winners>(&SyncArgs::parse()))
}
