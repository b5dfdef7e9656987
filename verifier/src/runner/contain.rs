//! Containing one run: from an invocation and its limits to the command line that
//! really starts it (through the launcher), the run's cgroup, and its `TMPDIR`.

use super::launch::Spec;
use super::platform::{RunCgroup, degraded, platform};
use super::sandbox::NetworkPolicy;
use super::sandbox::resolve_executable;
use super::{Invocation, Resources, Sandbox};
use nix::errno::Errno;
use std::io;
use std::path::PathBuf;

/// How a run is started, and what holds it.
pub(super) struct Contained {
    /// The command line to spawn: the launcher and its spec, then the program's.
    pub argv: Vec<String>,
    /// `TMPDIR` for the program, made already.
    pub tmp: Option<PathBuf>,
    pub cgroup: Option<RunCgroup>,
}

/// Plans the containment of a run. `resources` marks an untrusted program (it gets
/// the program sandbox unless `sandbox` gives another); trusted runs with neither
/// start directly. What cannot be applied on this machine is left out and shows in
/// [`super::protection_notes`]; a missing executable is an error, as from a spawn.
pub(super) fn contain(
    invocation: &Invocation,
    resources: Option<&Resources>,
    sandbox: Option<&Sandbox>,
    network: Option<&NetworkPolicy>,
) -> io::Result<Contained> {
    let program = invocation
        .argv
        .first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let executable = resolve_executable(program, &invocation.cwd).ok_or_else(|| {
        let exists = program.contains('/') && invocation.cwd.join(program).exists();
        io::Error::from(if exists { Errno::EACCES } else { Errno::ENOENT })
    })?;
    let plain = Contained {
        argv: invocation.argv.clone(),
        tmp: None,
        cgroup: None,
    };
    if resources.is_none() && sandbox.is_none() {
        return Ok(plain);
    }
    let platform = platform();
    let Some(launcher) = &platform.launcher else {
        return Ok(plain);
    };
    let sandbox = match (&platform.isolation, sandbox) {
        (Err(_), _) => None,
        (Ok(()), Some(given)) => Some(given.clone()),
        (Ok(()), None) => Some(Sandbox::for_program(invocation, &executable)),
    };
    let sandbox = sandbox.map(|sandbox| Sandbox {
        network: network.cloned(),
        ..sandbox
    });
    let tmp = sandbox.as_ref().and_then(|s| s.tmp.clone());
    if let Some(tmp) = &tmp {
        std::fs::create_dir_all(tmp)?;
    }
    let cgroup = resources.and_then(run_cgroup);
    let mut spec = Spec::new();
    if let Some(resources) = resources {
        spec.cpu = Some(resources.cpu.as_secs());
        spec.file_size = Some(resources.file_size);
        // Address space counts reservations that use no memory (each thread's stack,
        // malloc's per-thread arenas of 64 MiB): a multi-threaded program with sled
        // reserves several times what it uses, so the cap is four times the limit.
        spec.address_space = match cgroup.as_ref().is_some_and(RunCgroup::caps_memory) {
            true => None,
            false => Some(resources.memory.saturating_mul(ADDRESS_SPACE_PER_BYTE)),
        };
    }
    spec.join = cgroup.as_ref().map(RunCgroup::procs_files).unwrap_or_default();
    spec.sandbox = sandbox;
    Ok(Contained {
        argv: spec.command_line(launcher, &invocation.argv),
        tmp,
        cgroup,
    })
}

#[cfg(target_os = "linux")]
fn run_cgroup(resources: &Resources) -> Option<RunCgroup> {
    let hierarchy = platform().hierarchy.as_ref()?;
    let caps = super::linux::cgroup::Caps {
        processes: Some(resources.processes),
        memory: Some(resources.memory),
    };
    let made = hierarchy.create(caps);
    if made.is_none() && hierarchy.can_cap() != (false, false) {
        degraded(
            "not enforced for some runs: a cgroup could not be made (the process cap and the memory count)"
                .into(),
        );
    }
    made
}

#[cfg(not(target_os = "linux"))]
fn run_cgroup(_: &Resources) -> Option<RunCgroup> {
    None
}

/// Bytes of address space allowed per byte of the memory limit, where address space
/// is all the kernel can cap.
pub const ADDRESS_SPACE_PER_BYTE: u64 = 4;
