//! The launcher: the verifier binary, started as `verifier __contain SPEC -- CMD…`,
//! contains itself and then becomes the program. In this order it joins the run's
//! cgroups, sets its resource limits (setrlimit), (as root) enters a private IPC
//! namespace, applies the sandbox, (as root) drops every capability, and execs
//! CMD — so the program, from its first instruction, and everything it starts are
//! bound by all of them. (The workspace forbids `unsafe`, and so `pre_exec`: a
//! second exec is the safe way to run code between fork and exec.)
//!
//! A launcher that cannot apply something it was asked for does not run the program:
//! it says why on stderr and exits with [`REFUSED`]. It is a process of its own (the
//! exec after the fork has happened), so its errors are ordinary `anyhow` errors,
//! printed once with their context.

use super::Sandbox;
use anyhow::{Context as _, bail};
use nix::sys::resource::{Resource, setrlimit};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

/// The hidden subcommand that starts the launcher.
pub const SUBCOMMAND: &str = "__contain";

/// The exit code of a launcher that refused to run the program.
pub const REFUSED: u8 = 125;

/// Bumped when [`Spec`] changes, so a stale launcher refuses instead of misreading.
const VERSION: u32 = 2;

/// What the launcher applies before it execs the program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub version: u32,
    /// `cgroup.procs` files to write its own pid into.
    pub join: Vec<PathBuf>,
    /// Seconds of CPU time (RLIMIT_CPU; SIGXCPU at this, SIGKILL a second later).
    pub cpu: Option<u64>,
    /// Bytes of address space (RLIMIT_AS), where no memory cgroup counts memory.
    pub address_space: Option<u64>,
    /// Bytes any one file may grow to (RLIMIT_FSIZE).
    pub file_size: Option<u64>,
    /// The sandbox to apply last.
    pub sandbox: Option<Sandbox>,
}

impl Spec {
    pub fn new() -> Spec {
        Spec {
            version: VERSION,
            ..Spec::default()
        }
    }

    /// The launcher's command line for running `argv` contained.
    pub fn command_line(&self, launcher: &std::path::Path, argv: &[String]) -> Vec<String> {
        let spec = serde_json::to_string(self).unwrap_or_default();
        [
            launcher.to_string_lossy().into_owned(),
            SUBCOMMAND.to_string(),
            spec,
            "--".to_string(),
        ]
        .into_iter()
        .chain(argv.iter().cloned())
        .collect()
    }
}

/// The launcher's main: `args` are those after the subcommand (`SPEC -- CMD…`).
pub fn main(args: &[OsString]) -> ExitCode {
    match contain(args) {
        Ok(never) => match never {},
        Err(why) => {
            eprintln!("the verifier could not contain the program, so it did not run it: {why:#}");
            ExitCode::from(REFUSED)
        }
    }
}

enum Never {}

fn contain(args: &[OsString]) -> anyhow::Result<Never> {
    let (spec, command) = match args {
        [spec, dashes, program, rest @ ..] if dashes == "--" => (spec, (program, rest)),
        _ => bail!("usage: verifier __contain SPEC -- PROGRAM [ARGS…]"),
    };
    let spec: Spec = serde_json::from_str(&spec.to_string_lossy()).context("bad spec")?;
    if spec.version != VERSION {
        bail!(
            "the launcher is from another build (spec {} ≠ {VERSION}): rebuild the verifier",
            spec.version
        );
    }
    let own = std::process::id().to_string();
    for procs in &spec.join {
        std::fs::write(procs, &own).with_context(|| format!("cannot join {}", procs.display()))?;
    }
    limit(Resource::RLIMIT_CORE, Some(0))?;
    if let Some(cpu) = spec.cpu {
        // At the soft limit the kernel sends SIGXCPU, which the verdict can name; at
        // the hard one SIGKILL, which could not be told from any other kill.
        setrlimit(Resource::RLIMIT_CPU, cpu.max(1), cpu.max(1) + 1).context("RLIMIT_CPU")?;
    }
    limit(Resource::RLIMIT_AS, spec.address_space)?;
    limit(Resource::RLIMIT_FSIZE, spec.file_size)?;
    if let Some(sandbox) = &spec.sandbox {
        let root = nix::unistd::geteuid().is_root();
        if root {
            private_ipc()?;
        }
        apply_sandbox(sandbox)?;
        if root {
            drop_capabilities()?;
        }
    }
    let error = std::process::Command::new(command.0).args(command.1).exec();
    Err(error).with_context(|| format!("cannot execute {}", command.0.to_string_lossy()))
}

fn limit(resource: Resource, value: Option<u64>) -> anyhow::Result<()> {
    match value {
        Some(value) => setrlimit(resource, value, value).with_context(|| format!("{resource:?}")),
        None => Ok(()),
    }
}

#[cfg(target_os = "linux")]
fn apply_sandbox(sandbox: &Sandbox) -> anyhow::Result<()> {
    super::linux::landlock::apply(sandbox)
}

#[cfg(not(target_os = "linux"))]
fn apply_sandbox(_: &Sandbox) -> anyhow::Result<()> {
    bail!("this platform has no sandbox")
}

/// Started as root: a private IPC namespace, so the SysV shared memory and message
/// queues and the POSIX queues the program makes are its own, and die with it
/// (they would otherwise outlive it, and every cap).
#[cfg(target_os = "linux")]
fn private_ipc() -> anyhow::Result<()> {
    use nix::sched::{CloneFlags, unshare};
    unshare(CloneFlags::CLONE_NEWIPC).context("a private IPC namespace (unshare)")
}

/// Started as root: the program keeps uid 0 (so it can use the files the verifier
/// made for it) but no capability. With the bounding and inheritable sets empty,
/// exec gives root no capability back, and Landlock has set no_new_privs, so no
/// setuid program returns them: no device nodes, no raw sockets, no mounts, no
/// reading past file permissions. Dropped after the sandbox, which root may set up
/// either way.
#[cfg(target_os = "linux")]
fn drop_capabilities() -> anyhow::Result<()> {
    use caps::CapSet;
    for set in [
        CapSet::Ambient,
        CapSet::Bounding,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| anyhow::anyhow!("dropping the {set:?} capabilities: {e}"))?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn private_ipc() -> anyhow::Result<()> {
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn drop_capabilities() -> anyhow::Result<()> {
    Ok(())
}
