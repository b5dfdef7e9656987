//! The limits on learners' programs, as command-line flags shared by `verify` and
//! `grade`. The defaults are the runner's; a limit that makes no sense (a timeout
//! under 10 ms, zero, NaN, infinity, memory under 1 MiB) is a usage error (exit 2).

use crate::runner::{Limits, MIN_MEMORY, MIN_TIMEOUT, Resources};
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Seconds each program run may take (wall clock) before it is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Seconds of CPU time each program may use.
    #[arg(long, value_name = "SECONDS", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub cpu: u64,
    /// MiB of memory each program may use, everything it maps counted.
    #[arg(long, value_name = "MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range((MIN_MEMORY >> 20)..=65536))]
    pub memory: u64,
    /// MiB any one file a program writes may grow to.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub file_size: u64,
    /// MiB a program may add to its working folder, all files together.
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=1048576))]
    pub disk: u64,
    /// Processes and threads each program may run at once (where the machine has a
    /// pids cgroup to enforce it).
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=100000))]
    pub processes: u64,
    /// KiB of stdout (and of stderr) kept per program run; more is a flood.
    #[arg(long, value_name = "KIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1048576))]
    pub max_output: u64,
}

/// A wall-clock limit: a finite number of seconds from 0.01 to 3600.
fn parse_timeout(text: &str) -> anyhow::Result<f64> {
    let min = MIN_TIMEOUT.as_secs_f64();
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (min..=3600.0).contains(&s) => Ok(s),
        Ok(_) => anyhow::bail!(
            "a timeout must be between {min} and 3600 seconds (a program cannot even start in less)"
        ),
        Err(_) => anyhow::bail!("expected a number of seconds, such as 5 or 0.5"),
    }
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
                disk: self.disk << 20,
                processes: self.processes,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;

    #[test]
    fn refuses_timeouts_that_make_no_sense() {
        for bad in ["0", "1e-9", "0.001", "nan", "inf", "-1", "3601", "soon"] {
            assert!(parse_timeout(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(parse_timeout("0.01").ok(), Some(0.01));
        assert_eq!(parse_timeout("5").ok(), Some(5.0));
    }
}
