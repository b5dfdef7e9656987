//! The limits a program runs under: wall-clock time and output (watched by the
//! runner), and the resources the kernel enforces on an untrusted program.

use std::time::Duration;

/// Limits that apply to one program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time the program may take before it is killed.
    pub timeout: Duration,
    /// Bytes of stdout (and, separately, of stderr) kept; more is a flood and kills it.
    pub max_output: usize,
    /// Operating-system limits on the process. `Some` marks the program as untrusted:
    /// it also runs in the sandbox ([`super::Sandbox::for_program`]). `None` is for
    /// trusted tools like cargo building the reference solution.
    pub resources: Option<Resources>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(5),
            max_output: 1 << 20,
            resources: Some(Resources::default()),
        }
    }
}

/// Resource limits the kernel enforces on a learner's program. Each is named in a
/// verdict only when the verifier saw it being hit (a counter of the cgroup, the
/// signal that ended the program, the size of its folder), never guessed from an
/// exit code or a word on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// CPU time (RLIMIT_CPU): SIGXCPU when used up. Below the wall-clock limit, so a
    /// busy loop is named as such rather than as a hang.
    pub cpu: Duration,
    /// Memory, everything mapped counted: a memory cgroup where the machine has one
    /// (the kernel's OOM killer ends the program), else RLIMIT_AS at four times the limit
    /// (allocations fail).
    pub memory: u64,
    /// Size of any one file it writes (RLIMIT_FSIZE): SIGXFSZ beyond it.
    pub file_size: u64,
    /// Bytes it may add to its working folder, all files together (watched while
    /// it runs).
    pub disk: u64,
    /// Processes (and threads) it may run at once, its own included: a pids cgroup
    /// where the machine has one, no cap elsewhere.
    pub processes: u64,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            cpu: Duration::from_secs(4),
            memory: 512 << 20,
            file_size: 64 << 20,
            disk: 256 << 20,
            processes: 128,
        }
    }
}

/// Which resource limit a program ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Cpu(Duration),
    Memory(u64),
    FileSize(u64),
    /// Its working folder grew beyond this many bytes.
    Disk(u64),
    Processes(u64),
}

/// The smallest limits that make sense; below them a flag is a usage error.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(10);
/// See [`MIN_TIMEOUT`]: a program cannot even start in less memory.
pub const MIN_MEMORY: u64 = 1 << 20;
