//! Control groups: one per untrusted run, to cap its processes and its memory, to
//! read what the kernel counted (refused forks, OOM kills) and to kill everything in
//! it at once, including processes that left its process group.
//!
//! Both kernel interfaces are handled. cgroup v1 (one hierarchy per controller,
//! `/sys/fs/cgroup/pids/…`, `/sys/fs/cgroup/memory/…`, and `freezer` to stop a group
//! before killing it) and cgroup v2 (one unified hierarchy, `cgroup.kill`). A run's
//! cgroup is named `replicate-PID-N` after the verifier that made it, so that the
//! cgroups of a verifier that died can be found and removed by the next one. The
//! program joins its cgroups itself (the launcher writes its pid into `cgroup.procs`
//! before it execs), so nothing it starts is ever outside.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where cgroups are mounted.
pub const ROOT: &str = "/sys/fs/cgroup";

/// The prefix of every cgroup the runner makes.
const PREFIX: &str = "replicate-";

/// The places where this process may create cgroups for its runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// cgroup v1: the parent directory in each controller's hierarchy, where mounted.
    V1 {
        pids: Option<PathBuf>,
        memory: Option<PathBuf>,
        freezer: Option<PathBuf>,
    },
    /// cgroup v2: the parent directory, and the controllers its children get.
    V2 {
        parent: PathBuf,
        pids: bool,
        memory: bool,
    },
}

/// What a run's cgroup should cap.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    pub processes: Option<u64>,
    pub memory: Option<u64>,
}

impl Hierarchy {
    /// The hierarchy of this process, or `None` where it has no usable cgroups.
    pub fn of_this_process() -> Option<Hierarchy> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let found = Hierarchy::detect(Path::new(ROOT), &own)?;
        Some(found.prepare_v2(Path::new(ROOT), &own))
    }

    /// Reads `/proc/self/cgroup` (given as `own`) against the mounts under `root`.
    /// v1 controllers win where mounted (a hybrid system's v2 tree has none).
    pub fn detect(root: &Path, own: &str) -> Option<Hierarchy> {
        let mut v2_path = None;
        let v1 = |wanted: &str| {
            own.lines().find_map(|line| {
                let mut parts = line.splitn(3, ':');
                let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                controllers
                    .split(',')
                    .any(|c| c == wanted)
                    .then(|| root.join(wanted).join(path.trim_start_matches('/')))
                    .filter(|dir| dir.join("cgroup.procs").exists())
            })
        };
        let (pids, memory, freezer) = (v1("pids"), v1("memory"), v1("freezer"));
        if pids.is_some() || memory.is_some() {
            return Some(Hierarchy::V1 {
                pids,
                memory,
                freezer,
            });
        }
        for line in own.lines() {
            if let Some(path) = line.strip_prefix("0::") {
                v2_path = Some(root.join(path.trim_start_matches('/')));
            }
        }
        let parent = v2_path.filter(|_| root.join("cgroup.controllers").exists())?;
        let enabled = std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
        let has = |c: &str| enabled.split_whitespace().any(|e| e == c);
        Some(Hierarchy::V2 {
            pids: has("pids"),
            memory: has("memory"),
            parent,
        })
    }

    /// On v2, children get a controller only if the parent enables it for them, and a
    /// cgroup that holds processes cannot: the verifier moves itself into a leaf of
    /// its own first. Best effort: without it runs are uncapped (and the verdict says).
    fn prepare_v2(self, root: &Path, own: &str) -> Hierarchy {
        let Hierarchy::V2 { parent, pids, memory } = &self else {
            return self;
        };
        if *pids && *memory {
            return self;
        }
        let available = std::fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
        let wanted: Vec<&str> = ["pids", "memory"]
            .into_iter()
            .filter(|c| available.split_whitespace().any(|a| a == *c))
            .collect();
        if wanted.is_empty() {
            return self;
        }
        let control = wanted
            .iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ");
        if std::fs::write(parent.join("cgroup.subtree_control"), &control).is_err() {
            let leaf = parent.join(format!("{PREFIX}{}-self", std::process::id()));
            let moved = std::fs::create_dir(&leaf).is_ok()
                && std::fs::write(leaf.join("cgroup.procs"), std::process::id().to_string()).is_ok();
            if !moved || std::fs::write(parent.join("cgroup.subtree_control"), &control).is_err() {
                return self;
            }
        }
        Hierarchy::detect(root, own).unwrap_or(self)
    }

    /// The directories where run cgroups are made (to sweep the ones of dead runs).
    pub fn parents(&self) -> Vec<PathBuf> {
        match self {
            Hierarchy::V1 {
                pids,
                memory,
                freezer,
            } => [pids, memory, freezer].into_iter().flatten().cloned().collect(),
            Hierarchy::V2 { parent, .. } => vec![parent.clone()],
        }
    }

    /// Which of `caps` this hierarchy can enforce: (processes, memory).
    pub fn can_cap(&self) -> (bool, bool) {
        match self {
            Hierarchy::V1 { pids, memory, .. } => (pids.is_some(), memory.is_some()),
            Hierarchy::V2 { pids, memory, .. } => (*pids, *memory),
        }
    }

    /// A new cgroup for one run, capped as asked; `None` if it cannot be made.
    pub fn create(&self, caps: Caps) -> Option<RunCgroup> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut run = RunCgroup::default();
        let made = self.fill(&name, caps, &mut run);
        // A half-made cgroup is removed at once (its Drop), and the run goes uncapped.
        made.map(|()| run)
    }

    fn fill(&self, name: &str, caps: Caps, run: &mut RunCgroup) -> Option<()> {
        let make = |parent: &Path, run: &mut RunCgroup| -> Option<PathBuf> {
            let dir = parent.join(name);
            std::fs::create_dir(&dir).ok()?;
            run.dirs.push(dir.clone());
            Some(dir)
        };
        match self {
            Hierarchy::V1 {
                pids,
                memory,
                freezer,
            } => {
                if let (Some(parent), Some(max)) = (pids, caps.processes) {
                    let dir = make(parent, run)?;
                    std::fs::write(dir.join("pids.max"), max.to_string()).ok()?;
                    run.pids = Some(dir);
                }
                if let (Some(parent), Some(bytes)) = (memory, caps.memory) {
                    let dir = make(parent, run)?;
                    std::fs::write(dir.join("memory.limit_in_bytes"), bytes.to_string()).ok()?;
                    // Swap counted too, where the kernel accounts it (after the limit).
                    let _ = std::fs::write(dir.join("memory.memsw.limit_in_bytes"), bytes.to_string());
                    run.memory = Some(dir);
                }
                if let Some(parent) = freezer {
                    run.freezer = Some(make(parent, run)?);
                }
                run.v2 = false;
            }
            Hierarchy::V2 { parent, pids, memory } => {
                let dir = make(parent, run)?;
                if let (true, Some(max)) = (pids, caps.processes) {
                    std::fs::write(dir.join("pids.max"), max.to_string()).ok()?;
                    run.pids = Some(dir.clone());
                }
                if let (true, Some(bytes)) = (memory, caps.memory) {
                    std::fs::write(dir.join("memory.max"), bytes.to_string()).ok()?;
                    let _ = std::fs::write(dir.join("memory.swap.max"), "0");
                    run.memory = Some(dir.clone());
                }
                run.v2 = true;
            }
        }
        Some(())
    }
}

/// The cgroups of one run (one directory per v1 controller, one on v2). Dropping it
/// kills whatever is still inside and removes the directories.
#[derive(Debug, Default)]
pub struct RunCgroup {
    dirs: Vec<PathBuf>,
    pids: Option<PathBuf>,
    memory: Option<PathBuf>,
    freezer: Option<PathBuf>,
    v2: bool,
}

impl RunCgroup {
    /// The `cgroup.procs` files the program writes its pid into.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    pub fn caps_memory(&self) -> bool {
        self.memory.is_some()
    }

    /// Whether the pids controller refused a fork (`pids.events`: `max N`).
    pub fn fork_refused(&self) -> bool {
        self.pids
            .as_ref()
            .and_then(|dir| counter(&dir.join("pids.events"), "max"))
            .is_some_and(|n| n > 0)
    }

    /// Whether the OOM killer ended a process of the run (v1 `memory.oom_control`,
    /// v2 `memory.events`: `oom_kill N`).
    pub fn oom_killed(&self) -> bool {
        let Some(dir) = &self.memory else {
            return false;
        };
        let file = match self.v2 {
            true => "memory.events",
            false => "memory.oom_control",
        };
        counter(&dir.join(file), "oom_kill").is_some_and(|n| n > 0)
    }

    /// The processes inside now.
    pub fn pids(&self) -> Vec<i32> {
        let mut all: Vec<i32> = self.dirs.iter().flat_map(|d| pids_in(d)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Kills everything inside and waits (briefly) until it is empty.
    pub fn kill_all(&self) {
        for dir in &self.dirs {
            kill_cgroup(dir, self.v2, self.freezer.as_deref());
        }
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        self.kill_all();
        for dir in &self.dirs {
            remove(dir);
        }
    }
}

/// The value of `key N` in a flat-keyed cgroup file.
pub fn counter(file: &Path, key: &str) -> Option<u64> {
    std::fs::read_to_string(file).ok()?.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

fn pids_in(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Kills every process of a cgroup: `cgroup.kill` on v2; on v1 the group is frozen
/// first (so nothing forks while we kill), its processes killed, then thawed so the
/// kills land. Waits up to a second for it to be empty.
fn kill_cgroup(dir: &Path, v2: bool, freezer: Option<&Path>) {
    if v2 && std::fs::write(dir.join("cgroup.kill"), "1").is_ok() {
        wait_empty(dir);
        return;
    }
    let frozen = freezer.is_some_and(|f| std::fs::write(f.join("freezer.state"), "FROZEN").is_ok());
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let pids = pids_in(dir);
        for pid in &pids {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        if frozen && let Some(f) = freezer {
            let _ = std::fs::write(f.join("freezer.state"), "THAWED");
        }
        if pids.is_empty() || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_empty(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while !pids_in(dir).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Removes an (empty) cgroup directory; the kernel may need a moment after the kill.
fn remove(dir: &Path) {
    for _ in 0..100 {
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The verifier pid in a run cgroup's name (`replicate-1234-7` → 1234).
pub fn owner(name: &str) -> Option<i32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// Kills and removes the run cgroups of this hierarchy whose owner `is_gone` says
/// is gone (a verifier that died, or this one when it is told to stop).
pub fn sweep(hierarchy: &Hierarchy, is_gone: impl Fn(i32) -> bool) {
    let (freezer, v2) = match hierarchy {
        Hierarchy::V1 { freezer, .. } => (freezer.clone(), false),
        Hierarchy::V2 { .. } => (None, true),
    };
    sweep_in(&hierarchy.parents(), freezer.as_deref(), v2, is_gone);
}

fn sweep_in(parents: &[PathBuf], freezer: Option<&Path>, v2: bool, is_gone: impl Fn(i32) -> bool) {
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        // On v2 the verifier itself lives in a leaf of its own: never swept while alive.
        let own_leaf = format!("{PREFIX}{}-self", std::process::id());
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == own_leaf || owner(&name).is_none_or(|pid| !is_gone(pid)) {
                continue;
            }
            let dir = entry.path();
            let frozen = freezer.map(|f| f.join(&name)).filter(|f| f.exists());
            kill_cgroup(&dir, v2, frozen.as_deref());
            remove(&dir);
        }
    }
}

#[cfg(test)]
#[path = "cgroup_tests.rs"]
mod tests;
