//! `verifier bench`: how fast replication is, against the storage it sits on.

use crate::service::bench::{Sizes, run_all};
use crate::service::root::default_root;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure: replication (exercise 03, the default), `2pc` (exercise 10's
    /// commits per second and latency), `2pc-schedules` (200 seeded fault schedules)
    /// or `room` (a class of reference peers through one room).
    #[arg(value_enum)]
    what: Option<Which>,
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
    /// Learners in the room (`bench room`).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=200))]
    learners: u64,
    /// Rounds of one entry each (`bench room`).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    rounds: u64,
    /// Entries timed through a line of 4 gossip peers, per log size (0 skips it).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    samples: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    #[value(name = "replicate")]
    Replicate,
    #[value(name = "2pc")]
    TwoPc,
    #[value(name = "2pc-schedules")]
    TwoPcSchedules,
    /// A classroom: `--learners` reference peers through one room.
    #[value(name = "room")]
    Room,
}

pub fn run(args: BenchArgs) -> ExitCode {
    let progress = |step: &str| eprintln!("… {step}");
    let report = match args.what {
        Some(Which::TwoPc) => Some(crate::service::bench_2pc::throughput(
            &default_root(),
            Default::default(),
            &progress,
        )),
        Some(Which::TwoPcSchedules) => Some(crate::service::bench_2pc::schedules(
            &default_root(),
            200,
            1,
            &progress,
        )),
        Some(Which::Room) => Some(crate::service::room::bench::run(
            &default_root(),
            args.learners as usize,
            args.rounds as usize,
            &progress,
        )),
        _ => None,
    };
    match report {
        Some(Ok(report)) => {
            print!("{report}");
            return ExitCode::SUCCESS;
        }
        Some(Err(error)) => return super::error_exit(&error.context("the benchmark could not run")),
        None => {}
    }
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
        Err(error) => super::error_exit(&error.context("the benchmark could not run")),
    }
}
