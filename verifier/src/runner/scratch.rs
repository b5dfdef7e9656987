//! Scratch folders: every check's folder lives under one folder of this verifier
//! process, `$TMPDIR/replicate-run-PID/`, so that one removal cleans up after an
//! interrupted run, and the next verifier removes what a killed one left (when that
//! PID is no longer alive). Folders of failed checks that are kept for the learner
//! move to `$TMPDIR/replicate-kept/NN-check/`, the latest one per check.

use std::io;
use std::path::{Path, PathBuf};

const RUN_PREFIX: &str = "replicate-run-";

/// This process's scratch root, made on first use.
pub fn scratch_root() -> io::Result<PathBuf> {
    let root = root_of(std::process::id() as i32);
    std::fs::create_dir_all(&root)?;
    Ok(root)
}

fn root_of(pid: i32) -> PathBuf {
    std::env::temp_dir().join(format!("{RUN_PREFIX}{pid}"))
}

/// A fresh folder under the scratch root, removed when dropped.
pub fn scratch_dir(prefix: &str) -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(scratch_root()?)
}

/// Where the folders of failed checks are kept: `$TMPDIR/replicate-kept/NN-check`.
pub fn kept_root() -> PathBuf {
    std::env::temp_dir().join("replicate-kept")
}

/// Keeps a check's folder for the learner, as the only one kept for `label`
/// (`02-first-append`): an older one of the same check is removed. Returns where it
/// is now.
pub fn keep(dir: tempfile::TempDir, label: &str) -> PathBuf {
    let kept = kept_root();
    let target = kept.join(label);
    let _ = std::fs::create_dir_all(&kept);
    let _ = std::fs::remove_dir_all(&target);
    let path = dir.keep();
    match std::fs::rename(&path, &target) {
        Ok(()) => target,
        Err(_) => path,
    }
}

/// Removes the scratch roots of verifiers that `is_gone` says are gone.
pub(super) fn sweep(is_gone: impl Fn(i32) -> bool) {
    sweep_in(&std::env::temp_dir(), is_gone);
}

fn sweep_in(temp: &Path, is_gone: impl Fn(i32) -> bool) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name
            .to_str()
            .and_then(|n| n.strip_prefix(RUN_PREFIX))
            .and_then(|pid| pid.parse::<i32>().ok());
        if owner.is_some_and(&is_gone) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes this process's own scratch root (on the way out).
pub(super) fn remove_own() {
    let _ = std::fs::remove_dir_all(root_of(std::process::id() as i32));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_roots_of_gone_verifiers() -> io::Result<()> {
        let temp = tempfile::tempdir()?;
        for name in [
            "replicate-run-1",
            "replicate-run-2",
            "replicate-02-x-abc",
            "replicate-kept",
        ] {
            std::fs::create_dir(temp.path().join(name))?;
        }
        sweep_in(temp.path(), |pid| pid == 1);
        let left: Vec<bool> = [
            "replicate-run-1",
            "replicate-run-2",
            "replicate-02-x-abc",
            "replicate-kept",
        ]
        .iter()
        .map(|n| temp.path().join(n).exists())
        .collect();
        assert_eq!(left, [false, true, true, true]);
        Ok(())
    }
}
