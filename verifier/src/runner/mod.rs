//! The process layer: a learner's program as a real child process, on a leash.
//!
//! Every program runs in its own process group, so that the verifier can end it *and
//! everything it started* with one signal. Each run has a wall-clock limit and a cap on
//! captured output; an untrusted one (its [`Limits`] carry [`Resources`]) also runs
//! contained: started through the launcher ([`launch`]), which joins a cgroup that
//! caps its processes and memory (Linux), sets rlimits, applies the [`Sandbox`]
//! (Linux: Landlock), then execs it. A limit is named in a verdict only when it was
//! seen being hit. When a [`Spawned`] handle is dropped its group and cgroup are
//! killed; on SIGINT/SIGTERM/SIGHUP the [`reaper`] cleans up before the verifier
//! exits, and a watchdog process does it if the verifier is killed outright.
//!
//! Files, one concern each: `limits` (what a run may use), `invocation` (what runs),
//! `spawn` (a run's life), `capture` (its output), `ending` (how it ended, in words),
//! `contain` and `launch` (the launcher), `sandbox`, `environment` (the allow-list
//! an untrusted run starts with), `disk` (the folder cap),
//! `lines` (a program's output, line by line, each line capped), `waiting` (what
//! runs now, for a check that seems stuck), `reaper`, `watchdog` and `scratch`
//! (nothing left behind), `platform` (what this
//! machine enforces), `linux/` (cgroups, Landlock, /proc) and `portable` (the rest),
//! `quote` and `human` (words for people). Only this folder names a platform.

mod capture;
mod contain;
mod disk;
mod ending;
mod environment;
mod human;
mod invocation;
pub mod launch;
mod limits;
pub mod lines;
#[cfg(target_os = "linux")]
mod linux;
mod platform;
mod portable;
mod quote;
mod reaper;
mod sandbox;
mod scratch;
mod spawn;
mod waiting;
mod watchdog;

pub use ending::{Ending, OutputStream};
pub use environment::LANG;
pub use human::{bytes, seconds};
pub use invocation::Invocation;
pub use limits::{Limit, Limits, MIN_MEMORY, MIN_TIMEOUT, Resources};
pub use lines::{Lines, MAX_LINE};
pub use platform::{not_isolated, protection_notes};
pub use quote::quote;
pub use reaper::{UndoGuard, adopt_orphans, kill_children_on_signals, kill_orphans, undo_on_signal_exit};
pub use sandbox::{NetworkPolicy, Sandbox, Toolchain};
pub use scratch::{keep, kept_folder, scratch_dir, scratch_root};
pub use spawn::{Backoff, Finished, Spawned, Stderr, Stdin, Stdout, Wiring, kill_group};
pub use waiting::waiting_for;

use std::io::{self, Write};
use std::process::ExitCode;

/// Runs a program to completion: stdin fed from `input` (or closed), output captured.
pub fn run(invocation: &Invocation, input: Option<&[u8]>, limits: &Limits) -> io::Result<Finished> {
    run_contained(invocation, input, limits, None)
}

/// Like [`run`], in the given sandbox: for builds of untrusted code
/// (`run_in(&cargo, None, &limits, &Sandbox::for_build(&[root], target))`).
pub fn run_in(
    invocation: &Invocation,
    input: Option<&[u8]>,
    limits: &Limits,
    sandbox: &Sandbox,
) -> io::Result<Finished> {
    run_contained(invocation, input, limits, Some(sandbox))
}

fn run_contained(
    invocation: &Invocation,
    input: Option<&[u8]>,
    limits: &Limits,
    sandbox: Option<&Sandbox>,
) -> io::Result<Finished> {
    let wiring = Wiring {
        stdin: match input {
            Some(_) => Stdin::Piped,
            None => Stdin::Closed,
        },
        ..Wiring::default()
    };
    let mut spawned = match sandbox {
        Some(sandbox) => Spawned::start_in(invocation, wiring, limits, sandbox)?,
        None => Spawned::start(invocation, wiring, limits)?,
    };
    if let (Some(input), Some(mut stdin)) = (input, spawned.take_stdin()) {
        let input = input.to_vec();
        // A separate thread, so a program that never reads cannot block the verifier.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    Ok(spawned.finish(limits.timeout))
}

/// The verifier's hidden helper commands (the launcher and the watchdog): call first
/// thing in `main`; `Some` is the helper's exit code, `None` means "not a helper".
pub fn helper_main() -> Option<ExitCode> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let (first, rest) = args.split_first()?;
    if first == launch::SUBCOMMAND {
        Some(launch::main(rest))
    } else if first == watchdog::SUBCOMMAND {
        Some(watchdog::main(rest))
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
