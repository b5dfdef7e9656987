//! Services: what the front ends ask for, answered with values they only print.
//!
//! - [`verify`]: build (or take given commands), run every check, return the verdicts.
//! - [`grade`]: the same for every exercise of a submission, in CI formats.
//! - [`report`]: the verdicts in words for a learner.
//! - [`bench`]: figures, not verdicts.
//! - [`root`]: where the course is: found from the current directory.
//! - [`mutants`]: known-wrong solutions, each of which a named check must reject.

pub mod bench;
pub mod bench_2pc;
pub mod grade;
pub mod mutants;
pub mod report;
pub mod room;
pub mod root;
pub mod verify;

use std::process::ExitCode;

/// How a verification, a grading or a course check ended: the one answer every front
/// end turns into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Every check passed.
    Passed,
    /// A check failed, or the code does not compile: the learner's to fix.
    Failed,
    /// A usage problem, or a problem of the verifier itself.
    Error,
}

impl Outcome {
    /// The worse of two outcomes: an error outweighs a failure, a failure a pass.
    pub fn worst(self, other: Outcome) -> Outcome {
        self.max(other)
    }

    /// 0 passed, 1 failed, 2 error.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Error => 2,
        }
    }

    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}
