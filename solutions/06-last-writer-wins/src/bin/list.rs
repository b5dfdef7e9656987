//! `list`: print every key whose winning write is a put, in byte order.

use std::process::ExitCode;

use clap::Parser;
use sol06_last_writer_wins::winners::Winners;
use store::cli::{ListArgs, exit_code, list};

fn main() -> ExitCode {
    exit_code(list::<Winners>(&ListArgs::parse()))
}
