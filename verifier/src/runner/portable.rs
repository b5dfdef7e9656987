//! The portable Unix runner (macOS, BSDs, and Linux with `REPLICATE_PLATFORM=portable`):
//! process groups and rlimits only. No cgroup caps processes or counts memory (memory
//! is capped as address space, RLIMIT_AS, four times the limit since address space
//! counts mere reservations, and an allocation beyond it just fails), no
//! subreaper brings back processes that leave their group, no sandbox. Every report
//! of a run here names what is not enforced.

/// What the portable runner does not enforce, for every report.
pub const NOT_ENFORCED: &str = "not enforced on this platform: the process cap (no pids cgroup), \
memory as the kernel counts it (capped as address space instead, four times the memory limit, and not named when hit), \
killing processes that leave their process group (no subreaper)";

/// Why runs are not isolated here.
pub const NOT_ISOLATED: &str = "not isolated: this platform has no sandbox for programs \
(they can read and write whatever your user can)";

/// Why a program's network is not isolated here.
pub const NETWORK_NOT_ISOLATED: &str = "network not isolated: this platform cannot restrict the ports a program \
binds and connects to (it can reach other runs and bypass the checks' relays)";

/// The portable stand-in for a run's cgroup: there is none, so it caps, counts and
/// holds nothing.
#[cfg_attr(target_os = "linux", allow(dead_code))]
#[derive(Debug, Default)]
pub struct NoCgroup;

#[cfg_attr(target_os = "linux", allow(dead_code))]
impl NoCgroup {
    pub fn procs_files(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    pub fn caps_memory(&self) -> bool {
        false
    }
    pub fn fork_refused(&self) -> bool {
        false
    }
    pub fn oom_killed(&self) -> bool {
        false
    }
    pub fn pids(&self) -> Vec<i32> {
        Vec::new()
    }
    pub fn kill_all(&self) {}
}
