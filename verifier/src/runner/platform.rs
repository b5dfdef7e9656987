//! Which protections this machine gives, found out once per process, and the one
//! place that chooses between the Linux runner and the portable one.
//!
//! `REPLICATE_PLATFORM=portable` forces the portable runner on Linux, so that the
//! fallback macOS users get is tested on Linux machines too.

use super::portable;
use anyhow::anyhow;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

#[cfg(target_os = "linux")]
pub(super) use super::linux::cgroup::RunCgroup;
#[cfg(not(target_os = "linux"))]
pub(super) use super::portable::NoCgroup as RunCgroup;

/// What this process can do to contain a program.
pub(super) struct Platform {
    /// The portable runner: process groups and rlimits only.
    pub portable: bool,
    /// The binary that contains a program before it execs it (the verifier itself).
    pub launcher: Option<PathBuf>,
    /// Whether programs can be sandboxed; if not, why.
    pub isolation: anyhow::Result<()>,
    /// Whether a sandboxed program's TCP ports can be restricted; if not, why.
    pub network: anyhow::Result<()>,
    #[cfg(target_os = "linux")]
    pub hierarchy: Option<super::linux::cgroup::Hierarchy>,
}

static PLATFORM: OnceLock<Platform> = OnceLock::new();

/// Protections that failed for some run of this process (a cgroup that could not be
/// made, say), reported with the rest.
static DEGRADED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

pub(super) fn platform() -> &'static Platform {
    PLATFORM.get_or_init(|| {
        let portable = forced_portable() || !cfg!(target_os = "linux");
        let launcher = find_launcher();
        Platform {
            portable,
            isolation: match (portable, &launcher) {
                (true, _) => Err(anyhow!(portable::NOT_ISOLATED)),
                (false, None) => Err(anyhow!(NO_LAUNCHER)),
                (false, Some(_)) => probe_isolation(),
            },
            network: match portable {
                true => Err(anyhow!(portable::NETWORK_NOT_ISOLATED)),
                false => probe_network(),
            },
            launcher,
            #[cfg(target_os = "linux")]
            hierarchy: match portable {
                true => None,
                false => super::linux::cgroup::Hierarchy::of_this_process(),
            },
        }
    })
}

fn forced_portable() -> bool {
    std::env::var("REPLICATE_PLATFORM").is_ok_and(|p| p == "portable")
}

#[cfg(target_os = "linux")]
fn probe_isolation() -> anyhow::Result<()> {
    use anyhow::Context as _;
    super::linux::landlock::probe().context("not isolated")
}

#[cfg(not(target_os = "linux"))]
fn probe_isolation() -> anyhow::Result<()> {
    Err(anyhow!(portable::NOT_ISOLATED))
}

#[cfg(target_os = "linux")]
fn probe_network() -> anyhow::Result<()> {
    use anyhow::Context as _;
    super::linux::landlock::probe_network().context("network not isolated")
}

#[cfg(not(target_os = "linux"))]
fn probe_network() -> anyhow::Result<()> {
    Err(anyhow!(portable::NETWORK_NOT_ISOLATED))
}

/// Why, when the verifier is not root, programs share the machine's IPC.
const IPC_NOT_ISOLATED: &str = "IPC not isolated: the verifier was not started as root, so the SysV shared memory, \
     message queues and POSIX queues a program makes are not in a namespace of their own: they can outlive it, uncounted";

const NO_LAUNCHER: &str = "not isolated and no limits enforced: the launcher (the `verifier` binary) was not found; \
     build it, or set REPLICATE_LAUNCHER to its path";

/// The launcher: `REPLICATE_LAUNCHER`, else this very binary if it is the verifier,
/// else a `verifier` binary beside it or one folder up (a test binary in
/// `target/debug/deps/` finds `target/debug/verifier`).
fn find_launcher() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REPLICATE_LAUNCHER") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let exe = std::env::current_exe().ok()?;
    if exe.file_stem().is_some_and(|s| s == "verifier") {
        return Some(exe);
    }
    let beside = exe.parent()?;
    [Some(beside), beside.parent()]
        .into_iter()
        .flatten()
        .map(|dir| dir.join("verifier"))
        .find(|candidate| candidate.is_file())
}

/// Notes a protection that could not be given to a run.
pub(super) fn degraded(note: String) {
    if let Ok(mut set) = DEGRADED.lock() {
        set.insert(note);
    }
}

/// What is not enforced for learners' programs in this process, one line each
/// ("not enforced on this platform: …", "not isolated: …"); empty when everything
/// is. Every report of a verification shows these lines.
pub fn protection_notes() -> Vec<String> {
    let platform = platform();
    let mut notes = Vec::new();
    if platform.portable {
        notes.push(portable::NOT_ENFORCED.to_string());
    }
    if let Err(why) = &platform.isolation {
        notes.push(format!("{why:#}"));
    }
    // Without a sandbox there is no network rule either: "not isolated" says it all.
    if let Err(why) = &platform.network
        && (platform.isolation.is_ok() || platform.portable)
    {
        notes.push(format!("{why:#}"));
    }
    #[cfg(target_os = "linux")]
    if platform.isolation.is_ok() && !nix::unistd::geteuid().is_root() {
        notes.push(IPC_NOT_ISOLATED.to_string());
    }
    #[cfg(target_os = "linux")]
    if !platform.portable {
        let (processes, memory) = platform
            .hierarchy
            .as_ref()
            .map(|h| h.can_cap())
            .unwrap_or((false, false));
        let mut missing = Vec::new();
        if !processes {
            missing.push("the process cap (no writable pids cgroup)");
        }
        if !memory {
            missing.push("memory as the kernel counts it (no writable memory cgroup: capped as address space instead, and not named when hit)");
        }
        if !processes && !memory {
            missing.push("killing processes that leave their group after the verifier is killed (no cgroup)");
        }
        if !missing.is_empty() {
            notes.push(format!("not enforced on this machine: {}", missing.join(", ")));
        }
    }
    if let Ok(set) = DEGRADED.lock() {
        notes.extend(set.iter().cloned());
    }
    notes
}

/// Why learners' programs cannot be sandboxed here, if they cannot (for `grade`,
/// which refuses to grade untrusted code without isolation unless told to).
pub fn not_isolated() -> Option<String> {
    platform().isolation.as_ref().err().map(|why| format!("{why:#}"))
}
