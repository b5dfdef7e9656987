//! The clock that stamps every write: the system clock, in milliseconds since
//! the Unix epoch, plus an offset read from the environment.
//!
//! Real clocks disagree by milliseconds, and sometimes by minutes. The
//! variable `REPLICATE_CLOCK_OFFSET_MS` makes that happen on purpose: the
//! verifier sets it to make one peer's clock run ahead of the others, and so
//! can you.

use std::ffi::OsStr;

use anyhow::Result;

/// The environment variable that shifts the clock: a whole number of
/// milliseconds, optionally signed (`60000`, `-1500`, `+5`).
pub const OFFSET_VARIABLE: &str = "REPLICATE_CLOCK_OFFSET_MS";

/// A clock that runs `offset_ms` milliseconds ahead of the system clock
/// (behind, if negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    #[allow(dead_code)] // Until step 2 uses it.
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

    /// The clock for `value`, the variable's value if it is set: no value, no
    /// offset; a whole number of milliseconds, optionally signed, is the
    /// offset. Anything else (not a number, not even UTF-8) is an `Err` with
    /// a reason a person can act on, naming the variable and the value, such
    /// as `REPLICATE_CLOCK_OFFSET_MS must be a whole number of milliseconds,
    /// such as 60000 or -1500, not "soon"`: the program turns it into a usage
    /// error (exit code 2).
    pub fn from_variable(_value: Option<&OsStr>) -> Result<Clock, String> {
        // TODO (step 1). (Until then, every clock has no offset.)
        //
        // A compile error this step tends to meet: `value.to_str()?` says
        // "error[E0277]: the `?` operator can only be used on `Result`s, not
        // `Option`s, in a function that returns `Result`". The clinic in the
        // third hint (`hint 3`) has it.
        Ok(Clock::with_offset(0))
    }

    /// Now, as milliseconds since the Unix epoch: the system clock plus the
    /// offset, never below 0 (a large negative offset clamps to 0). A system
    /// clock set before 1970 is an error, not a panic.
    pub fn now(&self) -> Result<u64> {
        // TODO (step 2)
        //
        // A compile error this step tends to meet: adding the millis and the
        // offset gives "error[E0277]: cannot add `i64` to `u128`" (or, with a
        // cast on one side, "error[E0308]: mismatched types"). The clinic in
        // the third hint (`hint 3`) shows a conversion that cannot overflow.
        anyhow::bail!("not implemented yet: Clock::now — see exercises/06-last-writer-wins/README.md")
    }
}
