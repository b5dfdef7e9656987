//! `get KEY`: print the value of a key: its winning write's, unless that is
//! a tombstone.

use std::process::ExitCode;

use clap::Parser;
use sol06_last_writer_wins::winners::Winners;
use store::cli::{GetArgs, exit_code, get};

fn main() -> ExitCode {
    exit_code(get::<Winners>(&GetArgs::parse()))
}
