//! A fresh target folder for every build of someone else's code.
//!
//! Whatever a build leaves in its target folder — binaries, build scripts' output,
//! files a previous submission's build made — must not be readable by the next
//! submission's build: one that `include_bytes!`'d the previous submission's programs
//! would pass with no code of its own. So each submission builds in a target folder
//! made empty for it, which nothing else shares.
//!
//! Compiling every dependency again for every submission would take minutes each, so
//! the new folder is seeded with *copies* of the dependency artefacts (the registry's
//! crates: sled, serde, …) from the grader's own, trusted target folder. Copies, not
//! links: a build may write to its target, and must not write to the grader's. Only
//! registry crates are copied, never the course's packages or anything a learner's
//! code became. [`seed_dependencies`] is the one place that decides what is shared.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// Empties (or makes) `target` and seeds it with the dependency artefacts of the
/// trusted target folder `trusted` (for the dev profile). Returns `target`.
pub fn fresh_target(target: &Path, trusted: &Path, lock_file: &Path) -> io::Result<PathBuf> {
    match std::fs::remove_dir_all(target) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(target)?;
    let registry = std::fs::read_to_string(lock_file)
        .map(|lock| registry_packages(&lock))
        .unwrap_or_default();
    seed_dependencies(&trusted.join("debug"), &target.join("debug"), &registry)?;
    Ok(target.to_path_buf())
}

/// Copies the artefacts of registry packages (`registry`: their names) from a
/// profile folder of a trusted target to the same place in a fresh one: compiled
/// crates in `deps/`, build scripts and their output in `build/`, cargo's
/// fingerprints in `.fingerprint/`, each file with its modification time (cargo
/// compares them). Anything else (the course's packages, a learner's) is left out.
pub fn seed_dependencies(from: &Path, to: &Path, registry: &BTreeSet<String>) -> io::Result<()> {
    if registry.is_empty() {
        return Ok(());
    }
    for folder in ["deps", "build", ".fingerprint"] {
        let Ok(entries) = std::fs::read_dir(from.join(folder)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if artefact_of(&name).any(|crate_name| registry.contains(crate_name)) {
                copy_with_times(&entry.path(), &to.join(folder).join(&name))?;
            }
        }
    }
    Ok(())
}

/// The packages or crates an artefact may belong to: `libsled-0a1b.rlib` → `sled`
/// (or `libsled`), `serde_json-77.d` → `serde_json`, `proc-macro2-3c` →
/// `proc-macro2`, `libc-12ac` → `libc` (a folder: no `lib` prefix to strip).
fn artefact_of(file_name: &str) -> impl Iterator<Item = &str> {
    let whole = file_name.rsplit_once('-').map(|(stem, _)| stem);
    let stripped = file_name
        .strip_prefix("lib")
        .and_then(|name| name.rsplit_once('-'))
        .map(|(stem, _)| stem);
    whole.into_iter().chain(stripped)
}

/// The names of the registry packages in a `Cargo.lock`, both as written
/// (`proc-macro2`, folders) and as crate names (`proc_macro2`, files).
fn registry_packages(lock: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for package in lock.split("[[package]]") {
        let field = |key: &str| {
            package.lines().find_map(|line| {
                line.strip_prefix(key)
                    .and_then(|rest| rest.trim().strip_prefix('='))
                    .map(|value| value.trim().trim_matches('"').to_string())
            })
        };
        if let (Some(name), Some(source)) = (field("name"), field("source"))
            && source.starts_with("registry+")
        {
            names.insert(name.replace('-', "_"));
            names.insert(name);
        }
    }
    names
}

/// Copies a file or a folder (recursively), keeping modification times; symbolic
/// links and special files are left out.
fn copy_with_times(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_with_times(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if meta.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
        std::fs::File::options()
            .write(true)
            .open(to)?
            .set_modified(meta.modified()?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "version = 4\n\n[[package]]\nname = \"proc-macro2\"\nversion = \"1.0\"\n\
        source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
        [[package]]\nname = \"ex01-leveldb\"\nversion = \"0.1.0\"\n";

    #[test]
    fn only_registry_packages_are_shared() {
        let names = registry_packages(LOCK);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["proc-macro2", "proc_macro2"]
        );
        let of = |name| artefact_of(name).collect::<Vec<_>>();
        assert_eq!(of("libproc_macro2-0a1b.rlib"), ["libproc_macro2", "proc_macro2"]);
        assert_eq!(of("proc-macro2-3c"), ["proc-macro2"]);
        assert_eq!(of("libc-12ac"), ["libc", "c"]);
        assert!(of("put").is_empty());
    }

    #[test]
    fn a_fresh_target_holds_dependencies_and_nothing_of_the_last_build() -> io::Result<()> {
        let place = tempfile::tempdir()?;
        let trusted = place.path().join("trusted");
        let deps = trusted.join("debug/deps");
        std::fs::create_dir_all(&deps)?;
        std::fs::write(deps.join("libproc_macro2-0a1b.rlib"), "dep")?;
        std::fs::write(deps.join("libex01_leveldb-99.rlib"), "course")?;
        std::fs::create_dir_all(trusted.join("debug/.fingerprint/proc-macro2-3c"))?;
        std::fs::write(trusted.join("debug/.fingerprint/proc-macro2-3c/lib"), "f")?;
        let lock = place.path().join("Cargo.lock");
        std::fs::write(&lock, LOCK)?;
        let target = place.path().join("fresh");
        std::fs::create_dir_all(target.join("debug"))?;
        std::fs::write(target.join("debug/put"), "the last submission's program")?;
        fresh_target(&target, &trusted, &lock)?;
        let seeded = target.join("debug/deps/libproc_macro2-0a1b.rlib");
        assert_eq!(std::fs::read_to_string(&seeded)?, "dep");
        assert_eq!(
            std::fs::metadata(&seeded)?.modified()?,
            std::fs::metadata(deps.join("libproc_macro2-0a1b.rlib"))?.modified()?
        );
        assert!(target.join("debug/.fingerprint/proc-macro2-3c/lib").is_file());
        assert!(!target.join("debug/deps/libex01_leveldb-99.rlib").exists());
        assert!(!target.join("debug/put").exists());
        Ok(())
    }
}
