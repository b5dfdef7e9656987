//! The watchdog: a small process (`verifier __watchdog PID`) that outlives a verifier
//! killed with SIGKILL and cleans up after it. The verifier holds the write end of
//! the watchdog's stdin and tells it every process group it starts and ends; when
//! the verifier dies, however it dies, the kernel closes that pipe and the watchdog
//! reads end-of-file at once. It then kills the groups still listed, kills and removes
//! the verifier's cgroups (which hold processes that left their group), removes its
//! scratch folder, and exits.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::process::{ChildStdin, ExitCode, Stdio};
use std::sync::Mutex;

/// The hidden subcommand that starts a watchdog.
pub const SUBCOMMAND: &str = "__watchdog";

struct Watchdog {
    pid: i32,
    pipe: ChildStdin,
}

static WATCHDOG: Mutex<Option<Watchdog>> = Mutex::new(None);

/// Starts this process's watchdog, once; without a launcher binary there is none.
pub(super) fn start() {
    let Ok(mut watchdog) = WATCHDOG.lock() else {
        return;
    };
    if watchdog.is_some() {
        return;
    }
    let Some(launcher) = &super::platform::platform().launcher else {
        return;
    };
    let child = std::process::Command::new(launcher)
        .args([SUBCOMMAND, &std::process::id().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: a Ctrl-C meant for the verifier does not reach it.
        .process_group(0)
        .spawn();
    if let Ok(mut child) = child
        && let Some(pipe) = child.stdin.take()
    {
        *watchdog = Some(Watchdog {
            pid: child.id() as i32,
            pipe,
        });
    }
}

use std::os::unix::process::CommandExt;

/// The watchdog's pid, so that the orphan sweep leaves it alone.
pub(super) fn pid() -> Option<i32> {
    WATCHDOG.lock().ok()?.as_ref().map(|w| w.pid)
}

/// Tells the watchdog about a group that started (`+`) or ended (`-`).
pub(super) fn tell(sign: char, group: i32) {
    if let Ok(mut watchdog) = WATCHDOG.lock()
        && let Some(watchdog) = watchdog.as_mut()
    {
        let _ = writeln!(watchdog.pipe, "{sign}{group}");
    }
}

/// The watchdog's main: `args` are those after the subcommand (the verifier's pid).
pub fn main(args: &[OsString]) -> ExitCode {
    let Some(owner) = args.first().and_then(|a| a.to_str()?.parse::<i32>().ok()) else {
        eprintln!("usage: verifier __watchdog PID");
        return ExitCode::from(2);
    };
    // A hangup or Ctrl-C must not stop it before it has cleaned up.
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP] {
        let _ = signal_hook::flag::register(signal, std::sync::Arc::default());
    }
    let mut groups = HashSet::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let (sign, group) = line.split_at(line.len().min(1));
        match (sign, group.parse::<i32>()) {
            ("+", Ok(group)) => groups.insert(group),
            ("-", Ok(group)) => groups.remove(&group),
            _ => false,
        };
    }
    // End of file: the verifier has gone (or is exiting).
    for group in groups {
        super::kill_group(nix::unistd::Pid::from_raw(group));
    }
    super::reaper::sweep_after(|pid| pid == owner);
    ExitCode::SUCCESS
}
