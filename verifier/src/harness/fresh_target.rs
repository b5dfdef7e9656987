//! A fresh target folder for every build of someone else's code.
//!
//! Whatever a build leaves in its target folder — binaries, build scripts' output,
//! files a previous submission's build made — must not be readable by the next
//! submission's build: one that `include_bytes!`'d the previous submission's programs
//! would pass with no code of its own. So each submission builds in a target folder
//! emptied for it, which nothing else shares, then seeded with copies of the
//! course's compiled dependencies ([`super::seed`]: registry crates only, never the
//! course's packages or anything a learner's code became).

use std::io;
use std::path::{Path, PathBuf};

/// Empties (or makes) `target` and seeds it with the dev-profile dependencies the
/// trusted target folder `trusted` holds for the workspace locked by `lock_file`.
pub fn fresh_target(target: &Path, trusted: &Path, lock_file: &Path) -> io::Result<PathBuf> {
    match std::fs::remove_dir_all(target) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(target)?;
    if lock_file.is_file() {
        super::seed::seed_dependencies(lock_file, trusted, target, "debug")?;
    }
    Ok(target.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "version = 4\n\n[[package]]\nname = \"proc-macro2\"\nversion = \"1.0\"\n\
        source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
        [[package]]\nname = \"ex01-leveldb\"\nversion = \"0.1.0\"\n";

    #[test]
    fn a_fresh_target_holds_dependencies_and_nothing_of_the_last_build() -> io::Result<()> {
        let place = tempfile::tempdir()?;
        let trusted = place.path().join("trusted");
        let deps = trusted.join("debug/deps");
        std::fs::create_dir_all(&deps)?;
        std::fs::write(deps.join("libproc_macro2-0123456789abcdef.rlib"), "dep")?;
        std::fs::write(deps.join("libex01_leveldb-0123456789abcdef.rlib"), "course")?;
        let lock = place.path().join("Cargo.lock");
        std::fs::write(&lock, LOCK)?;
        let target = place.path().join("fresh");
        std::fs::create_dir_all(target.join("debug"))?;
        std::fs::write(target.join("debug/put"), "the last submission's program")?;
        fresh_target(&target, &trusted, &lock)?;
        let seeded = target.join("debug/deps/libproc_macro2-0123456789abcdef.rlib");
        assert_eq!(std::fs::read_to_string(&seeded)?, "dep");
        assert!(
            !target
                .join("debug/deps/libex01_leveldb-0123456789abcdef.rlib")
                .exists()
        );
        assert!(!target.join("debug/put").exists());
        Ok(())
    }
}
