//! A cap on the processes a program may run at once, with the kernel's "pids" cgroup
//! controller: a fork beyond the cap fails, and the cgroup counts the failures, so the
//! verdict can name the limit precisely.
//!
//! (The classic RLIMIT_NPROC counts every process of the *user* and does not apply to
//! root at all, so it cannot cap one program.) The program joins its cgroup through a
//! tiny shell wrapper that writes its own pid into `cgroup.procs` and then `exec`s the
//! real command. Where no writable pids controller exists, programs run without a cap.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a cgroup v1 pids hierarchy is mounted.
const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";

/// A pids cgroup of its own for one program run; removed when dropped.
#[derive(Debug)]
pub struct PidsCap {
    dir: PathBuf,
    pub max: u64,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl PidsCap {
    /// A new cgroup allowing `max` processes, or `None` where that is not possible.
    pub fn create(max: u64) -> Option<PidsCap> {
        let parent = own_pids_cgroup()?;
        let name = format!(
            "replicate-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let dir = parent.join(name);
        std::fs::create_dir(&dir).ok()?;
        let cap = PidsCap { dir, max };
        std::fs::write(cap.dir.join("pids.max"), max.to_string()).ok()?;
        Some(cap)
    }

    /// The command line that joins this cgroup and then runs `argv`.
    pub fn wrap(&self, argv: Vec<String>) -> Vec<String> {
        let procs = self.dir.join("cgroup.procs");
        let script = format!("echo $$ > '{}' && exec \"$@\"", procs.display());
        ["sh".to_string(), "-c".to_string(), script, "sh".to_string()]
            .into_iter()
            .chain(argv)
            .collect()
    }

    /// Whether a fork was refused because the cap was reached.
    pub fn was_hit(&self) -> bool {
        std::fs::read_to_string(self.dir.join("pids.events"))
            .ok()
            .and_then(|events| {
                events
                    .lines()
                    .find_map(|line| line.strip_prefix("max ")?.trim().parse::<u64>().ok())
            })
            .is_some_and(|failures| failures > 0)
    }
}

impl Drop for PidsCap {
    fn drop(&mut self) {
        // Anything still inside (it escaped its process group) is killed first: an
        // occupied cgroup cannot be removed.
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

/// The directory of this process's own pids cgroup (v1), if one is mounted.
fn own_pids_cgroup() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // v1 lines look like `8:pids:/some/path`.
    let path = own.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "pids")
            .then(|| path.to_string())
    })?;
    let dir = Path::new(PIDS_ROOT).join(path.trim_start_matches('/'));
    dir.join("cgroup.procs").exists().then_some(dir)
}
