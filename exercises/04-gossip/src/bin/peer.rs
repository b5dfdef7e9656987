//! `peer`: a database that gossips its logs with other peers over TCP.

use std::process::ExitCode;

use clap::Parser;
use logs::cli::exit_code;

use ex04_gossip::cli::{self, PeerArgs};

fn main() -> ExitCode {
    exit_code(cli::peer(PeerArgs::parse()))
}
