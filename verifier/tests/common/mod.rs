//! Helpers shared by the integration tests: the course root and copies of the course.

#![allow(dead_code)] // each test binary uses its own share of these

use std::path::{Path, PathBuf};

/// The root of this course checkout.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the verifier is inside the repository")
        .to_path_buf()
}

/// A target directory for builds of course copies. Cargo hashes workspace members by
/// their path *inside* the workspace, so copies must never share this workspace's own
/// target directory; they share this one (cargo's lock makes them take turns).
pub fn copies_target_dir() -> PathBuf {
    root().join("target").join("test-copies")
}

/// Copies the course's sources (not `target/`, not `.git/`, not `.replicate/`).
pub fn copy_course(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" || name == ".replicate" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}

/// Copies a folder recursively, leaving out any `target/`.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name() == "target" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(&path, to.join(entry.file_name()))?;
        }
    }
    Ok(())
}
