//! The limits on learners' programs, as command-line flags shared by `verify` and
//! `grade`. The defaults are the runner's.

use super::parse_seconds;
use crate::runner::{Limits, Resources};
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Seconds each program run may take (wall clock) before it is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    pub timeout: f64,
    /// Seconds of CPU time each program may use.
    #[arg(long, value_name = "SECONDS", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub cpu: u64,
    /// MiB of memory each program may allocate.
    #[arg(long, value_name = "MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(16..=65536))]
    pub memory: u64,
    /// MiB any one file a program writes may grow to.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub file_size: u64,
    /// Processes and threads each program may run at once (where the machine has a
    /// pids cgroup to enforce it).
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=100000))]
    pub processes: u64,
    /// KiB of stdout (and of stderr) kept per program run; more is a flood.
    #[arg(long, value_name = "KIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1048576))]
    pub max_output: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            timeout: Duration::from_secs_f64(self.timeout),
            max_output: (self.max_output as usize) << 10,
            resources: Some(Resources {
                cpu: Duration::from_secs(self.cpu),
                memory: self.memory << 20,
                file_size: self.file_size << 20,
                processes: self.processes,
            }),
        }
    }
}
