//! `node`: see [`sol10_two_phase_commit::cli`].

use std::process::ExitCode;

use clap::Parser;
use sol10_two_phase_commit::cli;

/// A node allocates for every message and every database write (sled most of all);
/// mimalloc does that markedly faster than the system's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::node(cli::NodeArgs::parse())
}
