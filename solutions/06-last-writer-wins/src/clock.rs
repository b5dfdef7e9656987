//! The clock that stamps every write: the system clock, in milliseconds since
//! the Unix epoch, plus an offset read from the environment.
//!
//! Real clocks disagree by milliseconds, and sometimes by minutes. The
//! variable `REPLICATE_CLOCK_OFFSET_MS` makes that happen on purpose: the
//! verifier sets it to make one peer's clock run ahead of the others, and so
//! can you.

use std::ffi::OsStr;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

/// The environment variable that shifts the clock: a whole number of
/// milliseconds, optionally signed (`60000`, `-1500`, `+5`).
pub const OFFSET_VARIABLE: &str = "REPLICATE_CLOCK_OFFSET_MS";

/// A clock that runs `offset_ms` milliseconds ahead of the system clock
/// (behind, if negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// A clock shifted by `offset_ms`.
    pub fn with_offset(offset_ms: i64) -> Clock {
        Clock { offset_ms }
    }

    /// The clock this process should use: shifted by the value of
    /// `REPLICATE_CLOCK_OFFSET_MS`, or not at all if it is not set. An error
    /// (the reason, for a usage error) if it is set to anything but a whole
    /// number.
    pub fn from_env() -> Result<Clock, String> {
        Clock::from_variable(std::env::var_os(OFFSET_VARIABLE).as_deref())
    }

    /// The clock for `value`, the variable's value if it is set.
    pub fn from_variable(value: Option<&OsStr>) -> Result<Clock, String> {
        let Some(value) = value else {
            return Ok(Clock::with_offset(0));
        };
        match value.to_str().map(str::parse::<i64>) {
            Some(Ok(offset_ms)) => Ok(Clock::with_offset(offset_ms)),
            _ => Err(format!(
                "{OFFSET_VARIABLE} must be a whole number of milliseconds, such as 60000 or -1500, not {value:?}"
            )),
        }
    }

    /// Now, as milliseconds since the Unix epoch: the system clock plus the
    /// offset, never below 0.
    pub fn now(&self) -> Result<u64> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is set before 1970")?;
        let now = i128::try_from(since_epoch.as_millis())?;
        let shifted = (now + i128::from(self.offset_ms)).max(0);
        Ok(u64::try_from(shifted).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_of(value: Option<&str>) -> Result<Clock, String> {
        Clock::from_variable(value.map(OsStr::new))
    }

    #[test]
    fn the_offset_comes_from_the_variable() {
        assert_eq!(offset_of(None), Ok(Clock::with_offset(0)));
        assert_eq!(offset_of(Some("60000")), Ok(Clock::with_offset(60_000)));
        assert_eq!(offset_of(Some("-1500")), Ok(Clock::with_offset(-1500)));
        assert_eq!(offset_of(Some("+5")), Ok(Clock::with_offset(5)));
        for bad in ["", "soon", "1.5", " 5", "99999999999999999999"] {
            let reason = offset_of(Some(bad)).unwrap_err();
            assert!(
                reason.starts_with("REPLICATE_CLOCK_OFFSET_MS must be"),
                "{reason}"
            );
        }
    }

    #[test]
    fn the_offset_shifts_the_clock() {
        let before = Clock::with_offset(0).now().unwrap();
        let ahead = Clock::with_offset(60_000).now().unwrap();
        let after = Clock::with_offset(0).now().unwrap();
        assert!(ahead >= before + 60_000 && ahead <= after + 60_000);
        assert!(before > 1_600_000_000_000, "milliseconds since 1970, not seconds");
        assert_eq!(Clock::with_offset(i64::MIN).now().unwrap(), 0);
    }
}
