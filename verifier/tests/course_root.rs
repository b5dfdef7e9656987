//! The verifier acts on the course it is run in, and every front end gives one
//! verdict for one problem.
//!
//! Both tests work on copies of the course, as a learner who moved the folder (or a
//! classroom that handed out copies) would: the binary was built here, but the copy's
//! code is what gets verified.

mod common;

use assert_cmd::Command;
use common::{root, stubs_copy};
use std::path::Path;
use std::time::Duration;

/// The verifier, run inside `dir` (each checkout builds in its own target dir).
fn verifier(dir: &Path, state: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command
        .current_dir(dir)
        .env_remove("REPLICATE_ROOT")
        .env_remove("CARGO_TARGET_DIR")
        .env("REPLICATE_STATE_DIR", state);
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
    // In the copy, the reference `get` of exercise 01 prints nothing at all.
    let copy = stubs_copy(|files| {
        let get = Path::new("solutions/01-leveldb/src/bin/get.rs");
        assert!(files.text(get).is_some());
        files.set(get, b"fn main() {}\n".to_vec()).expect("a file");
    });
    let state = tempfile::tempdir()?;
    let (code, out, err) = verifier(copy.root(), state.path(), &["verify", "1", "--solution"], "");
    assert_eq!(code, 1, "the copy's broken solution must fail:\n{out}\n{err}");
    assert!(out.contains("✗ FAIL"), "{out}");
    drop(copy);
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
    let copy = stubs_copy(|files| {
        assert!(files.remove(Path::new("exercises/01-leveldb/src/bin/del.rs")));
    });
    let state = tempfile::tempdir()?;
    let expected = "Your code in exercises/01-leveldb has no program `del`";

    let (code, out, err) = verifier(copy.root(), state.path(), &["verify", "1"], "");
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with(expected), "verify:\n{out}");

    let (code, out, err) = verifier(
        copy.root(),
        state.path(),
        &["grade", "-e", "1", "--format", "tap"],
        "",
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("message: \"{expected}")) || out.contains(expected),
        "grade:\n{out}"
    );

    let (_, out, err) = verifier(copy.root(), state.path(), &[], "select 1\nverify\nquit\n");
    assert!(out.contains(expected), "shell:\n{out}\n{err}");
    assert!(!out.contains("marked as passed"), "{out}");
    Ok(())
}
