//! `sync DB`: swap logs with another database over stdin and stdout, then
//! apply what arrived to the view.
//!
//! Wire two of them together (`verifier dupsh 'sync a' 'sync b'`), and both
//! databases end up holding every log either held, and the same siblings,
//! whatever order the writes arrived in.

use std::process::ExitCode;

use clap::Parser;
use ex07_siblings::Siblings;
use store::cli::{self, SyncArgs};

fn main() -> ExitCode {
    cli::exit_code(cli::sync::<Siblings>(&SyncArgs::parse()))
}
