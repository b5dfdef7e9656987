//! Services: what the front ends ask for, answered with values they only print.
//!
//! - [`verify`]: build (or take given commands), run every check, return the verdicts.
//! - [`grade`]: the same for every exercise of a submission, in CI formats.
//! - [`report`]: the verdicts in words for a learner.
//! - [`bench`]: figures, not verdicts.

pub mod bench;
pub mod grade;
pub mod report;
