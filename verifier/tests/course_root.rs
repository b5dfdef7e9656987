//! The verifier acts on the course it is run in, and every front end gives one
//! verdict for one problem.
//!
//! Both tests work on copies of the course, as a learner who moved the folder (or a
//! classroom that handed out copies) would: the binary was built here, but the copy's
//! code is what gets verified.

mod common;

use assert_cmd::Command;
use common::{copies_target_dir, copy_course, root};
use std::path::Path;
use std::time::Duration;

/// The verifier, run inside `dir`; a copy of the course builds in the shared target
/// dir of copies, this checkout in its own.
fn verifier(dir: &Path, state: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command
        .current_dir(dir)
        .env_remove("REPLICATE_ROOT")
        .env_remove("CARGO_TARGET_DIR")
        .env("REPLICATE_STATE_DIR", state);
    if dir != root() {
        command.env("CARGO_TARGET_DIR", copies_target_dir());
    }
    let output = command
        .args(args)
        .write_stdin(stdin)
        .timeout(Duration::from_secs(1200))
        .output()
        .expect("the verifier runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_copied_course_verifies_the_copy() -> std::io::Result<()> {
    let copy = tempfile::Builder::new().prefix("replicate-copy-").tempdir()?;
    copy_course(&root(), copy.path())?;
    let state = tempfile::tempdir()?;
    // In the copy, the reference `get` of exercise 01 prints nothing at all.
    let get = copy.path().join("solutions/01-leveldb/src/bin/get.rs");
    assert!(get.exists());
    std::fs::write(&get, "fn main() {}\n")?;
    let (code, out, err) = verifier(copy.path(), state.path(), &["verify", "1", "--solution"], "");
    assert_eq!(code, 1, "the copy's broken solution must fail:\n{out}\n{err}");
    assert!(out.contains("✗ FAIL"), "{out}");
    // This checkout's own solution is untouched and still passes, run from here.
    let (code, out, err) = verifier(&root(), state.path(), &["verify", "1", "--solution"], "");
    assert_eq!(code, 0, "{out}\n{err}");
    Ok(())
}

#[test]
fn outside_a_course_the_verifier_refuses() -> std::io::Result<()> {
    let elsewhere = tempfile::tempdir()?;
    let state = tempfile::tempdir()?;
    let (code, out, err) = verifier(elsewhere.path(), state.path(), &["verify", "1"], "");
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("is not inside a replicate course checkout"), "{err}");
    // What is compiled in still works anywhere.
    let (code, out, _) = verifier(elsewhere.path(), state.path(), &["list"], "");
    assert_eq!(code, 0);
    assert!(out.contains("leveldb"));
    Ok(())
}

/// A package without one of the exercise's programs: the same first line and exit code
/// from `verify`, from `grade` and from the shell.
#[test]
fn a_missing_program_gets_one_verdict_everywhere() -> std::io::Result<()> {
    let copy = tempfile::Builder::new().prefix("replicate-copy-").tempdir()?;
    copy_course(&root(), copy.path())?;
    std::fs::remove_file(copy.path().join("exercises/01-leveldb/src/bin/del.rs"))?;
    let state = tempfile::tempdir()?;
    let expected = "Your code in exercises/01-leveldb has no program `del`";

    let (code, out, err) = verifier(copy.path(), state.path(), &["verify", "1"], "");
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with(expected), "verify:\n{out}");

    let (code, out, err) = verifier(
        copy.path(),
        state.path(),
        &["grade", "-e", "1", "--format", "tap"],
        "",
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("message: \"{expected}")) || out.contains(expected),
        "grade:\n{out}"
    );

    let (_, out, err) = verifier(copy.path(), state.path(), &[], "select 1\nverify\nquit\n");
    assert!(out.contains(expected), "shell:\n{out}\n{err}");
    assert!(!out.contains("marked as passed"), "{out}");
    Ok(())
}
