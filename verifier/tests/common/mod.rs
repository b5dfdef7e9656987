//! Helpers shared by the integration tests: the course root and copies of the course.

#![allow(dead_code)] // each test binary uses its own share of these

pub mod browser;

use std::path::{Path, PathBuf};
use verifier::harness::course_copy::{CourseCopy, Files, with_committed_stubs};
use verifier::harness::tree::copy_tree;

/// The root of this course checkout.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the verifier is inside the repository")
        .to_path_buf()
}

/// The course copy the course tests check stubs in (`target/course-copies/stubs`),
/// changed by `edit` first. Another checkout of the course, at another path: the next
/// holder of the copy puts back whatever `edit` changed. It builds in a target of its own, seeded with copies of the
/// course's compiled dependencies: in the course's own target its packages (same
/// names, same relative paths) would overwrite the workspace's libraries.
pub fn stubs_copy(edit: impl FnOnce(&mut Files)) -> CourseCopy {
    let (mut files, _) = with_committed_stubs(&root()).expect("the course's files");
    files
        .stubs_on_references()
        .expect("stubs built on the references");
    edit(&mut files);
    CourseCopy::write(&root(), "stubs", &files).expect("a copy of the course")
}

/// Copies the course's sources (not `target/`, not `.git/`, not `.replicate/`).
pub fn copy_course(from: &Path, to: &Path) -> std::io::Result<()> {
    copy_tree(from, to, &["target", ".git", ".replicate"]).map(|_| ())
}

/// Copies a folder recursively, leaving out any `target/`.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    copy_tree(from, to, &["target"]).map(|_| ())
}
