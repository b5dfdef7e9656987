//! How a run ended, told plainly: the words a verdict uses.

use super::{Limit, bytes, seconds};
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It exited by itself with this code.
    Exited(i32),
    /// A signal ended it (a crash such as SIGSEGV or SIGABRT, or a kill from outside).
    Signalled(i32),
    /// It was still running when the time limit ran out, and was killed.
    TimedOut(Duration),
    /// It printed more than the output cap on a stream, and was killed.
    Flooded(usize, OutputStream),
    /// It printed a line longer than the cap (in bytes) without a newline, and was
    /// stopped (the verifier reads no further).
    LineTooLong(usize, OutputStream),
    /// It ran into a resource limit, as the verifier observed.
    OverLimit(Limit),
}

/// Which output stream a program flooded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

impl OutputStream {
    pub fn name(self) -> &'static str {
        match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        }
    }
}

impl Ending {
    /// It overflowed what the verifier reads of it: too much output, or a line too long.
    pub fn flooded(self) -> bool {
        matches!(self, Ending::Flooded(..) | Ending::LineTooLong(..))
    }

    pub fn success(self) -> bool {
        self == Ending::Exited(0)
    }

    /// A plain description: "exited with code 1", "was killed by SIGSEGV".
    pub fn describe(self) -> String {
        match self {
            Ending::Exited(code) => format!("exited with code {code}"),
            Ending::Signalled(signal) => match Signal::try_from(signal) {
                Ok(signal) => format!("was killed by {signal}"),
                Err(_) => format!("was killed by signal {signal}"),
            },
            Ending::TimedOut(limit) => format!("was still running after {}", seconds(limit)),
            Ending::Flooded(cap, stream) => {
                format!(
                    "printed more than {} on {} and was stopped",
                    bytes(cap),
                    stream.name()
                )
            }
            Ending::LineTooLong(cap, stream) => {
                format!(
                    "{} on {} and was stopped",
                    super::lines::too_long(cap),
                    stream.name()
                )
            }
            Ending::OverLimit(limit) => describe_limit(limit),
        }
    }
}

fn describe_limit(limit: Limit) -> String {
    match limit {
        Limit::Cpu(cpu) => format!(
            "used more than {} of CPU time and was stopped (a busy loop?)",
            seconds(cpu)
        ),
        Limit::Memory(memory) => format!(
            "used more than {} of memory and was stopped",
            bytes(memory as usize)
        ),
        Limit::FileSize(size) => format!(
            "wrote a file larger than {} and was stopped",
            bytes(size as usize)
        ),
        Limit::Disk(size) => format!(
            "wrote more than {} into its working folder and was stopped",
            bytes(size as usize)
        ),
        Limit::Processes(max) => {
            format!("tried to run more than {max} processes or threads at once (a fork bomb?)")
        }
    }
}

/// The ending an exit status shows by itself.
pub(super) fn ending_of(status: ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signalled(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// What the verifier observed of a run's limits, besides how it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Observed {
    /// The memory cgroup's OOM killer ended a process of the run.
    pub oom_killed: bool,
    /// The pids cgroup refused a fork.
    pub fork_refused: bool,
    /// The working folder grew beyond the disk cap (and the run was stopped).
    pub disk_full: bool,
    /// A file in the working folder reached the file-size cap.
    pub file_at_cap: bool,
}

/// The limit an ending shows, judged only by what was observed: the kernel's signals
/// for CPU time and file size, and the counters of the run's cgroups.
pub(super) fn over_limit(ending: Ending, observed: Observed, resources: &super::Resources) -> Option<Ending> {
    const SIGXCPU: i32 = Signal::SIGXCPU as i32;
    const SIGXFSZ: i32 = Signal::SIGXFSZ as i32;
    let failed = !ending.success();
    let limit = match ending {
        _ if observed.disk_full => Limit::Disk(resources.disk),
        Ending::Signalled(SIGXCPU) => Limit::Cpu(resources.cpu),
        Ending::Signalled(SIGXFSZ) => Limit::FileSize(resources.file_size),
        _ if failed && observed.oom_killed => Limit::Memory(resources.memory),
        _ if failed && observed.fork_refused => Limit::Processes(resources.processes),
        // Python and Go ignore SIGXFSZ: the write fails and the file stops at the cap.
        Ending::Exited(_) if failed && observed.file_at_cap => Limit::FileSize(resources.file_size),
        _ => return None,
    };
    Some(Ending::OverLimit(limit))
}

#[cfg(test)]
mod tests {
    use super::super::Resources;
    use super::*;

    #[test]
    fn describes_endings_plainly() {
        assert_eq!(
            Ending::TimedOut(Duration::from_secs(5)).describe(),
            "was still running after 5 s"
        );
        assert_eq!(
            Ending::Flooded(1 << 20, OutputStream::Stderr).describe(),
            "printed more than 1 MiB on stderr and was stopped"
        );
        assert_eq!(
            Ending::LineTooLong(1 << 20, OutputStream::Stdout).describe(),
            "printed a line of more than 1 MiB without a newline on stdout and was stopped"
        );
        assert_eq!(Ending::Signalled(11).describe(), "was killed by SIGSEGV");
    }

    #[test]
    fn names_a_limit_only_when_it_was_observed() {
        let r = Resources::default();
        let none = Observed::default();
        // Exit codes and words that merely look like a limit are not one.
        assert_eq!(over_limit(Ending::Exited(152), none, &r), None);
        assert_eq!(over_limit(Ending::Exited(153), none, &r), None);
        assert_eq!(over_limit(Ending::Signalled(9), none, &r), None);
        assert_eq!(
            over_limit(Ending::Signalled(24), none, &r),
            Some(Ending::OverLimit(Limit::Cpu(r.cpu)))
        );
        let oom = Observed {
            oom_killed: true,
            ..none
        };
        assert_eq!(
            over_limit(Ending::Signalled(9), oom, &r),
            Some(Ending::OverLimit(Limit::Memory(r.memory)))
        );
        // A program that passed despite a killed helper is not blamed.
        assert_eq!(over_limit(Ending::Exited(0), oom, &r), None);
    }
}
