//! Nothing left behind: a registry of the process groups this verifier started, an
//! orphan sweep (on Linux the verifier is a child subreaper, so a process that left
//! its group and was orphaned comes back to it), a signal thread that cleans up
//! before the verifier exits on SIGINT/SIGTERM/SIGHUP (first undoing what upper layers
//! registered, such as a terminal in raw mode), and at start the removal of what dead
//! verifiers left (their cgroups and scratch folders).

use super::{platform, scratch, watchdog};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Process groups this verifier started and has not reaped yet.
static SPAWNED: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// What upper layers ask to undo if a signal ends the verifier: a terminal left in
/// raw mode, say. Guards' `Drop`s do not run on `exit`, so they register here too.
type Undo = Box<dyn Fn() + Send>;
static ON_SIGNAL_EXIT: Mutex<Vec<(u64, Undo)>> = Mutex::new(Vec::new());
static NEXT_UNDO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs `undo` if a signal makes the verifier exit while the returned guard lives.
/// For state outside the process that a signal must not leave behind; dropping the
/// guard (the normal way out) forgets it.
#[must_use = "the undo is forgotten when the guard is dropped"]
pub fn undo_on_signal_exit(undo: impl Fn() + Send + 'static) -> UndoGuard {
    let id = NEXT_UNDO.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut all) = ON_SIGNAL_EXIT.lock() {
        all.push((id, Box::new(undo)));
    }
    UndoGuard(id)
}

/// Keeps an undo of [`undo_on_signal_exit`] registered until dropped.
pub struct UndoGuard(u64);

impl Drop for UndoGuard {
    fn drop(&mut self) {
        if let Ok(mut all) = ON_SIGNAL_EXIT.lock() {
            all.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Runs every registered undo, newest first.
fn run_undos() {
    if let Ok(all) = ON_SIGNAL_EXIT.lock() {
        for (_, undo) in all.iter().rev() {
            undo();
        }
    }
}

/// Whether this process adopts orphans (see [`adopt_orphans`]).
static ADOPTING: AtomicBool = AtomicBool::new(false);

pub(super) fn register(pid: i32) {
    if let Ok(mut spawned) = SPAWNED.lock() {
        spawned.get_or_insert_with(HashSet::new).insert(pid);
    }
    watchdog::tell('+', pid);
}

pub(super) fn unregister(pid: i32) {
    if let Ok(mut spawned) = SPAWNED.lock()
        && let Some(spawned) = spawned.as_mut()
    {
        spawned.remove(&pid);
    }
    watchdog::tell('-', pid);
}

fn registered() -> Vec<i32> {
    SPAWNED
        .lock()
        .ok()
        .and_then(|spawned| spawned.as_ref().map(|s| s.iter().copied().collect()))
        .unwrap_or_default()
}

/// Makes the verifier a "child subreaper" (Linux): a process that escapes its
/// program's group (with `setsid`, say) and is orphaned becomes the verifier's child
/// instead of init's, so the verifier can still find and kill it. Also removes what
/// verifiers that died left behind. Call once, at the start of a process whose
/// children are all started by this module (the `verifier` binary).
pub fn adopt_orphans() {
    if !platform::platform().portable && become_subreaper() {
        ADOPTING.store(true, Ordering::SeqCst);
    }
    sweep_after(|pid| !alive(pid));
}

#[cfg(target_os = "linux")]
fn become_subreaper() -> bool {
    super::linux::procfs::become_subreaper()
}

#[cfg(not(target_os = "linux"))]
fn become_subreaper() -> bool {
    false
}

#[cfg(target_os = "linux")]
fn children_of(parent: i32) -> Vec<i32> {
    super::linux::procfs::children_of(parent)
}

#[cfg(not(target_os = "linux"))]
fn children_of(_: i32) -> Vec<i32> {
    Vec::new()
}

/// Removes the run cgroups and scratch folders of the verifiers `is_gone` names.
pub(super) fn sweep_after(is_gone: impl Fn(i32) -> bool) {
    #[cfg(target_os = "linux")]
    if let Some(hierarchy) = &platform::platform().hierarchy {
        super::linux::cgroup::sweep(hierarchy, &is_gone);
    }
    scratch::sweep(is_gone);
}

/// Whether a process with this pid exists (signal 0 only checks).
fn alive(pid: i32) -> bool {
    !matches!(kill(Pid::from_raw(pid), None), Err(nix::errno::Errno::ESRCH))
}

/// Makes sure that the programs this process started die with it: when it is told
/// to stop (SIGTERM, SIGHUP, and SIGINT if `interrupt`), every process it started
/// (and everything those started) is killed, its scratch folders and cgroups are
/// removed, and it exits with the usual status (128 + the signal). A watchdog
/// process does the same if the verifier is killed with SIGKILL.
pub fn kill_children_on_signals(interrupt: bool) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    watchdog::start();
    let mut wanted = vec![SIGTERM, SIGHUP];
    if interrupt {
        wanted.push(SIGINT);
    }
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&wanted) else {
        return;
    };
    thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            run_undos();
            shut_down();
            std::process::exit(128 + signal);
        }
    });
}

/// Kills everything this process started, waits for escaped processes to come back
/// as orphans and reaps them, then removes its cgroups and scratch folder.
fn shut_down() {
    for group in registered() {
        super::kill_group(Pid::from_raw(group));
    }
    let own = std::process::id() as i32;
    // The cgroups hold what left its group: killed there first, then removed.
    sweep_after(|pid| pid == own);
    // An escaped process of a run without a cgroup is reparented to us only once its
    // parent has died: sweep until none has come back for a while.
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut quiet = 0;
    while Instant::now() < deadline && quiet < 5 {
        match kill_orphans() {
            true => quiet = 0,
            false => quiet += 1,
        }
        thread::sleep(Duration::from_millis(10));
    }
    scratch::remove_own();
}

/// Kills (and reaps) adopted orphans: our children that we did not start ourselves.
/// Says whether there were any. (The workshop shell calls it after a verification it
/// ran as a child process: whatever that left behind was adopted by the shell.)
pub fn kill_orphans() -> bool {
    if !ADOPTING.load(Ordering::SeqCst) {
        return false;
    }
    let ours = std::process::id() as i32;
    let started: HashSet<i32> = registered().into_iter().chain(watchdog::pid()).collect();
    let mut found = false;
    for pid in children_of(ours) {
        if !started.contains(&pid) {
            found = true;
            let pid = Pid::from_raw(pid);
            let _ = kill(pid, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
    found
}
