//! Scratch folders: every check's folder lives under one folder of this verifier
//! process, `$TMPDIR/replicate-run-PID/`, so that one removal cleans up after an
//! interrupted run, and the next verifier removes what a killed one left (when that
//! PID is no longer alive). Folders of failed checks that are kept for the learner
//! move to `$TMPDIR/replicate-kept-UID-CHECKOUT/NN-check/`, the latest one per check:
//! one folder per user and per course checkout, so that two learners on one machine,
//! or one learner with two checkouts, never overwrite each other's.

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

/// Keeps a check's folder for the learner, as the only one kept for `label`
/// (`02-first-append`) from the course checkout `course`: an older one of the same
/// check is removed. Returns where it is now.
pub fn keep(dir: tempfile::TempDir, label: &str, course: &Path) -> PathBuf {
    let kept = kept_root(&std::env::temp_dir(), nix::unistd::getuid().as_raw(), course);
    let target = kept.join(label);
    let _ = std::fs::create_dir_all(&kept);
    let _ = std::fs::remove_dir_all(&target);
    let path = dir.keep();
    match std::fs::rename(&path, &target) {
        Ok(()) => target,
        Err(_) => path,
    }
}

/// The folder of the checks kept for user `uid` from the checkout `course`:
/// `replicate-kept-1000-replicate-3f2a9c1b`, the checkout's folder name for the reader
/// and a hash of its whole path (FNV-1a, stable across builds) to tell checkouts apart.
fn kept_root(temp: &Path, uid: u32, course: &Path) -> PathBuf {
    let course = std::fs::canonicalize(course).unwrap_or_else(|_| course.to_path_buf());
    let name: String = course
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let hash = course
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    temp.join(format!("replicate-kept-{uid}-{name}-{:08x}", hash as u32))
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
    fn kept_folders_are_per_user_and_per_checkout() {
        let temp = Path::new("/tmp");
        let mine = kept_root(temp, 1000, Path::new("/nonexistent/a/replicate"));
        assert!(
            mine.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("replicate-kept-1000-replicate-")),
            "{}",
            mine.display()
        );
        assert_eq!(mine, kept_root(temp, 1000, Path::new("/nonexistent/a/replicate")));
        assert_ne!(mine, kept_root(temp, 1001, Path::new("/nonexistent/a/replicate")));
        assert_ne!(mine, kept_root(temp, 1000, Path::new("/nonexistent/b/replicate")));
        assert_eq!(mine.parent(), Some(temp));
    }

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
