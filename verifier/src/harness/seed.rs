//! A target directory of its own, seeded with the dependencies the course has compiled.
//!
//! A copy of the course that builds someone else's code (a submission being graded)
//! must not build in the course's target directory: its build scripts may write
//! anything there, and others would use it. But compiling sled, tokio and the rest
//! again for it costs minutes. Cargo names every compiled dependency by a hash of all
//! that went into it (version, features, profile, compiler), so the files compiled for
//! the course are exactly the files the copy needs. They are *copied* into the copy's
//! own target directory (not linked: what the untrusted build writes stays its own),
//! with their modification times, and cargo finds them fresh. Only third-party
//! packages (those with a `source` in `Cargo.lock`) are seeded; the course's own crates
//! are built from the copy's sources.

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

/// The folders of a profile's output that hold a package's compiled files.
const FOLDERS: [&str; 3] = ["deps", "build", ".fingerprint"];

/// How much a seeding copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub files: usize,
    pub bytes: u64,
}

/// Copies the compiled third-party dependencies of `profile` (`debug`) from the target
/// directory `from` into the target directory `into`, for the workspace whose lock
/// file is `lock`. Files already there, of the same size and time, are left alone.
pub fn seed_dependencies(lock: &Path, from: &Path, into: &Path, profile: &str) -> io::Result<Seeded> {
    let mut seeded = Seeded::default();
    let (from, into) = (from.join(profile), into.join(profile));
    if !from.is_dir() || same_dir(&from, &into) {
        return Ok(seeded);
    }
    let packages = third_party(&std::fs::read_to_string(lock)?);
    for folder in FOLDERS {
        let Ok(entries) = std::fs::read_dir(from.join(folder)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if package_of(&name).is_some_and(|p| packages.contains(p)) {
                copy_keeping_times(&entry.path(), &into.join(folder).join(&name), &mut seeded)?;
            }
        }
    }
    Ok(seeded)
}

/// Whether two paths are one directory (a `CARGO_TARGET_DIR` shared by both).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The packages of a `Cargo.lock` that come from somewhere (a registry, git), by name
/// as cargo writes them in file names: `serde_json` for `serde_json`, `parking_lot_core`.
fn third_party(lock: &str) -> BTreeSet<String> {
    let mut packages = BTreeSet::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            name = None;
        } else if let Some(value) = line.strip_prefix("name = ") {
            name = Some(value.trim_matches('"'));
        } else if line.starts_with("source = ")
            && let Some(name) = name
        {
            packages.insert(name.to_string());
            packages.insert(name.replace('-', "_"));
        }
    }
    packages
}

/// The package (or crate) a compiled file is named for: `libsled-0123456789abcdef.rlib`,
/// `sled-0123456789abcdef.d` and the folder `sled-0123456789abcdef` → `sled`.
fn package_of(file: &str) -> Option<&str> {
    let (stem, extension) = file.split_once('.').unwrap_or((file, ""));
    let (name, hash) = stem.rsplit_once('-')?;
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let library = matches!(extension, "rlib" | "rmeta" | "so" | "a" | "dylib");
    Some(name.strip_prefix("lib").filter(|_| library).unwrap_or(name))
}

/// Copies a file or a folder, each file with its modification time, skipping files
/// already there with the same size and time.
fn copy_keeping_times(from: &Path, to: &Path, seeded: &mut Seeded) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_keeping_times(&entry.path(), &to.join(entry.file_name()), seeded)?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Ok(());
    }
    if let Ok(there) = std::fs::metadata(to)
        && there.len() == meta.len()
        && there.modified().ok() == meta.modified().ok()
    {
        return Ok(());
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A fresh file, never one shared by a link with the course's target.
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to)?;
    std::fs::File::options()
        .write(true)
        .open(to)?
        .set_modified(meta.modified()?)?;
    seeded.files += 1;
    seeded.bytes += meta.len();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "version = 4\n\n[[package]]\nname = \"parking_lot_core\"\nversion = \"0.9.12\"\n\
        source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\n\
        name = \"serde-json\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\n\n[[package]]\n\
        name = \"ex01-leveldb\"\nversion = \"0.1.0\"\ndependencies = [\n \"sled\",\n]\n";

    #[test]
    fn names_the_packages_that_come_from_elsewhere() {
        let names = third_party(LOCK);
        assert!(names.contains("parking_lot_core"));
        assert!(names.contains("serde_json") && names.contains("serde-json"));
        assert!(!names.iter().any(|n| n.starts_with("ex01")), "{names:?}");
    }

    #[test]
    fn reads_the_package_of_a_compiled_file() {
        assert_eq!(package_of("libsled-0123456789abcdef.rlib"), Some("sled"));
        assert_eq!(package_of("sled-0123456789abcdef.d"), Some("sled"));
        assert_eq!(
            package_of("parking_lot_core-0123456789abcdef"),
            Some("parking_lot_core")
        );
        assert_eq!(package_of("libc-0123456789abcdef"), Some("libc"));
        assert_eq!(package_of("libc-0123456789abcdef.d"), Some("libc"));
        assert_eq!(package_of("liblibc-0123456789abcdef.rmeta"), Some("libc"));
        assert_eq!(package_of("append"), None);
        assert_eq!(package_of("ex01-leveldb"), None);
    }

    #[test]
    fn copies_third_party_files_with_their_times_and_nothing_of_the_course() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let (lock, from, into) = (
            dir.path().join("Cargo.lock"),
            dir.path().join("a"),
            dir.path().join("b"),
        );
        std::fs::write(&lock, LOCK)?;
        let deps = from.join("debug/deps");
        std::fs::create_dir_all(&deps)?;
        std::fs::create_dir_all(from.join("debug/build/parking_lot_core-0123456789abcdef/out"))?;
        std::fs::write(
            from.join("debug/build/parking_lot_core-0123456789abcdef/out/x"),
            "x",
        )?;
        std::fs::write(deps.join("libparking_lot_core-0123456789abcdef.rlib"), "rlib")?;
        std::fs::write(deps.join("libex01_leveldb-0123456789abcdef.rlib"), "ours")?;
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(deps.join("libparking_lot_core-0123456789abcdef.rlib"))?
            .set_modified(old)?;
        let seeded = seed_dependencies(&lock, &from, &into, "debug")?;
        assert_eq!(seeded, Seeded { files: 2, bytes: 5 });
        let copied = into.join("debug/deps/libparking_lot_core-0123456789abcdef.rlib");
        assert_eq!(std::fs::metadata(&copied)?.modified()?, old);
        assert!(
            into.join("debug/build/parking_lot_core-0123456789abcdef/out/x")
                .exists()
        );
        assert!(
            !into
                .join("debug/deps/libex01_leveldb-0123456789abcdef.rlib")
                .exists()
        );
        // Writing the copy leaves the course's file as it was.
        std::fs::write(&copied, "changed by an untrusted build")?;
        assert_eq!(
            std::fs::read_to_string(deps.join("libparking_lot_core-0123456789abcdef.rlib"))?,
            "rlib"
        );
        // A second seeding puts back what changed and skips the rest.
        let again = seed_dependencies(&lock, &from, &into, "debug")?;
        assert_eq!(again, Seeded { files: 1, bytes: 4 });
        assert_eq!(std::fs::read_to_string(&copied)?, "rlib");
        Ok(())
    }
}
