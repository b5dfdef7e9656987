//! Patience: how long to wait for something that must happen, on a machine that may
//! be busy.
//!
//! A check waits for things a correct program does sooner or later: a node prints
//! `ready`, a network converges, a program ends. The waits are written for a quiet
//! machine; on one where other work keeps every core busy (a class's shared server, a
//! CI runner, the course's own test suite beside a build) the same program takes
//! several times longer, and a fixed wait would fail a correct program by chance.
//! So every such wait is stretched by how oversubscribed the machine is right now:
//! the load average over the number of cores, at least 1 (a quiet machine waits as
//! written) and at most [`MOST`]. Only waits are stretched, never what is judged:
//! a wrong answer is wrong however long we wait for it, and a check that compares
//! speeds compares with the reference measured beside it.
//!
//! `REPLICATE_PATIENCE=F` fixes the factor (tests, or a machine whose load average
//! lies, such as a container that sees the host's).

use std::time::Duration;

/// The most a wait is stretched (a machine 6× oversubscribed already takes minutes).
pub const MOST: f64 = 6.0;

/// How much longer than written to wait now: 1.0 on a quiet machine.
pub fn factor() -> f64 {
    if let Some(fixed) = std::env::var("REPLICATE_PATIENCE")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite() && *f > 0.0)
    {
        return fixed.min(MOST * 4.0);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    from_load(load_average(), cores)
}

/// The factor for a load average on so many cores.
fn from_load(load: Option<f64>, cores: f64) -> f64 {
    match load {
        Some(load) if load.is_finite() => (load / cores.max(1.0)).clamp(1.0, MOST),
        _ => 1.0,
    }
}

/// `wait`, stretched by [`factor`].
pub fn stretch(wait: Duration) -> Duration {
    wait.mul_f64(factor())
}

/// The one-minute load average, where the system tells it.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_machine_waits_as_written_and_a_busy_one_longer_within_bounds() {
        assert_eq!(from_load(Some(0.3), 2.0), 1.0);
        assert_eq!(from_load(Some(2.0), 2.0), 1.0);
        assert_eq!(from_load(Some(8.0), 2.0), 4.0);
        assert_eq!(from_load(Some(80.0), 2.0), MOST);
        assert_eq!(from_load(None, 2.0), 1.0);
        assert_eq!(from_load(Some(f64::NAN), 2.0), 1.0);
        assert_eq!(from_load(Some(4.0), 0.0), MOST.min(4.0));
    }
}
