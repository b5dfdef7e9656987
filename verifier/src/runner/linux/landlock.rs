//! The sandbox on Linux: a Landlock ruleset the launcher applies to itself just
//! before it execs the program, so the program and everything it starts are bound
//! by it. Unprivileged, and inherited across fork and exec. It covers files (read,
//! write, make — never a device node), TCP ports (bind and connect, from ABI 4),
//! abstract unix sockets and signals (scoped to the sandbox, from ABI 6). It does
//! not cover connecting to a *pathname* unix socket, which Landlock does not see.
//!
//! The landlock crate's errors print their cause inside their own message, so they are
//! formatted into ours (`anyhow!("Landlock: {e}")`) rather than chained with `context`,
//! which would print the cause twice.

use super::super::Sandbox;
use anyhow::{anyhow, bail};
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};

/// The newest Landlock ABI these rules were written and tested for (this kernel's).
const ABI_USED: ABI = ABI::V7;

/// Restricts this process (and what it execs) to `sandbox`. An error, or a kernel
/// that enforces none of it, is reported: the caller must not run the program then.
pub fn apply(sandbox: &Sandbox) -> anyhow::Result<()> {
    let all = AccessFs::from_all(ABI_USED);
    let read = AccessFs::from_read(ABI_USED);
    // Where it may write it may make files, folders, links, sockets and FIFOs, but no
    // device node: as root, one would reach the disk or the kernel's log.
    let write = all & !(AccessFs::MakeChar | AccessFs::MakeBlock);
    let file_rights = AccessFs::from_file(ABI_USED);
    let rw_file = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    // Handled and not granted anywhere: refused everywhere. The scopes refuse
    // abstract unix sockets and signals to processes outside the sandbox.
    let handled = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .and_then(|r| r.scope(Scope::from_all(ABI_USED)));
    let handled = match &sandbox.network {
        Some(_) => handled.and_then(|r| r.handle_access(AccessNet::from_all(ABI_USED))),
        None => handled,
    };
    let mut ruleset = handled
        .and_then(|r| r.create())
        .map_err(|e| anyhow!("Landlock: {e}"))?;
    if let Some(network) = &sandbox.network {
        let ports = (network.bind.iter().map(|p| (*p, AccessNet::BindTcp)))
            .chain(network.connect.iter().map(|p| (*p, AccessNet::ConnectTcp)));
        for (port, access) in ports {
            ruleset = ruleset
                .add_rule(NetPort::new(port, access))
                .map_err(|e| anyhow!("Landlock rule for port {port}: {e}"))?;
        }
    }
    let rules = Sandbox::existing(&sandbox.read)
        .map(|p| (p, read))
        .chain(Sandbox::existing(&sandbox.write).map(|p| (p, write)))
        .chain(Sandbox::existing(&sandbox.files).map(|p| (p, rw_file)));
    for (path, access) in rules {
        let fd = PathFd::new(path).map_err(|e| anyhow!("Landlock cannot open {}: {e}", path.display()))?;
        let access = match path.is_dir() {
            true => access,
            false => access & file_rights,
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| anyhow!("Landlock rule for {}: {e}", path.display()))?;
    }
    let status = ruleset.restrict_self().map_err(|e| anyhow!("Landlock: {e}"))?;
    match status.ruleset {
        RulesetStatus::NotEnforced => bail!("this kernel does not enforce Landlock"),
        RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
    }
}

/// Whether this kernel enforces Landlock: a short-lived thread restricts itself (a
/// restriction binds only the calling thread, which then ends). `Err` says why not.
pub fn probe() -> anyhow::Result<()> {
    std::thread::spawn(|| {
        let status = Ruleset::default()
            .handle_access(AccessFs::from_all(ABI_USED))
            .and_then(|r| r.create())
            .and_then(|r| r.no_new_privs(false).restrict_self())
            .map_err(|e| anyhow!("Landlock is not available: {e}"))?;
        match status.ruleset {
            RulesetStatus::NotEnforced => bail!("Landlock is not enabled in this kernel"),
            _ => Ok(()),
        }
    })
    .join()
    .unwrap_or_else(|_| bail!("the Landlock probe crashed"))
}

/// Whether this kernel's Landlock can restrict TCP ports (ABI 4 and later): a
/// short-lived thread requires it of itself. `Err` says why not.
pub fn probe_network() -> anyhow::Result<()> {
    std::thread::spawn(|| {
        Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessNet::from_all(ABI::V4))
            .and_then(|r| r.create())
            .and_then(|r| r.no_new_privs(false).restrict_self())
            .map(|_| ())
            .map_err(|e| {
                anyhow!("this kernel's Landlock cannot restrict TCP ports (it needs ABI 4, Linux 6.7): {e}")
            })
    })
    .join()
    .unwrap_or_else(|_| bail!("the Landlock network probe crashed"))
}
