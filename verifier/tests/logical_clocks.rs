//! Exercise 08 from outside: a Python implementation written from the problem
//! text alone passes every check through `--program`, and the demo shows the
//! divergence without a resolver.

use assert_cmd::Command;
use std::path::Path;

const PROGRAMS: [&str; 8] = ["put", "del", "get", "list", "log", "compact", "serve", "pull"];

/// Runs the verifier and returns (exit code, stdout + stderr).
fn run(args: &[&str]) -> (i32, String) {
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    let output = command
        .env_remove("REPLICATE_ROOT")
        .args(args)
        .output()
        .expect("the verifier runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn a_python_implementation_written_from_the_text_passes() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/logical_clocks.py");
    let programs: Vec<String> = PROGRAMS
        .iter()
        .map(|p| format!("{p}=python3 {} {p}", fixture.display()))
        .collect();
    let mut args = vec!["verify", "8", "--no-keep"];
    for program in &programs {
        args.extend(["--program", program.as_str()]);
    }
    let (code, out) = run(&args);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_clocks_demo_shows_two_peers_that_never_agree() {
    let (code, out) = run(&["demo", "clocks"]);
    assert_eq!(code, 0, "{out}");
    for expected in [
        "\"value\":\"from alice\"",
        "\"value\":\"from bob\"",
        "--no-resolver",
    ] {
        assert!(
            out.contains(expected),
            "the demo does not show {expected:?}:\n{out}"
        );
    }
}
