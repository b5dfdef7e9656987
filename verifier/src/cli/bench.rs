//! `verifier bench`: how fast replication is, against the storage it sits on.

use crate::service::bench::{Sizes, run_all};
use crate::service::root::default_root;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Entries in the full sync (and the storage floor).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    entries: u64,
    /// Size of the small log in the catch-up comparison.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    small: u64,
    /// Size of the big log in the catch-up comparison.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    big: u64,
    /// Repetitions of each measurement (the median is shown).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    repeat: u64,
    /// Entries timed through a line of 4 gossip peers, per log size (0 skips it).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    samples: u64,
}

pub fn run(args: BenchArgs) -> ExitCode {
    let sizes = Sizes {
        sync: args.entries,
        small: args.small,
        big: args.big,
        repeat: args.repeat as usize,
        samples: args.samples as usize,
    };
    match run_all(&default_root(), sizes, &|step| eprintln!("… {step}")) {
        Ok(figures) => {
            print!("{}", figures.report());
            ExitCode::SUCCESS
        }
        Err(message) => super::usage_error(&format!("the benchmark could not run: {message}")),
    }
}
