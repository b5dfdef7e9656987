//! The sandbox on Linux: a Landlock ruleset the launcher applies to itself just
//! before it execs the program, so the program and everything it starts are bound
//! by it. Unprivileged, and inherited across fork and exec.
//!
//! The landlock crate's errors print their cause inside their own message, so they are
//! formatted into ours (`anyhow!("Landlock: {e}")`) rather than chained with `context`,
//! which would print the cause twice.

use super::super::Sandbox;
use anyhow::{anyhow, bail};
use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope,
};

/// The newest Landlock ABI these rules were written and tested for (this kernel's).
const ABI_USED: ABI = ABI::V7;

/// Restricts this process (and what it execs) to `sandbox`. An error, or a kernel
/// that enforces none of it, is reported: the caller must not run the program then.
pub fn apply(sandbox: &Sandbox) -> anyhow::Result<()> {
    let all = AccessFs::from_all(ABI_USED);
    let read = AccessFs::from_read(ABI_USED);
    let file_rights = AccessFs::from_file(ABI_USED);
    let rw_file = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .and_then(|r| r.scope(Scope::from_all(ABI_USED)))
        .and_then(|r| r.create())
        .map_err(|e| anyhow!("Landlock: {e}"))?;
    let rules = Sandbox::existing(&sandbox.read)
        .map(|p| (p, read))
        .chain(Sandbox::existing(&sandbox.write).map(|p| (p, all)))
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
