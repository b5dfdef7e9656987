//! `sync DB`: swap logs with another database over stdin and stdout, then
//! apply what arrived to the view.
//!
//! Wire two of them together (`verifier dupsh 'sync a' 'sync b'`), and both
//! databases end up holding every log either held. (With this exercise's
//! naive view, they also agree on every value, unless a key was written on
//! both sides concurrently.)

use std::process::ExitCode;

use clap::Parser;
use sol05_kv_store::Values;
use sol05_kv_store::cli::{self, SyncArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::sync::<Values>(&SyncArgs::parse()))
}
