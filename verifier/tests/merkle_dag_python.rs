//! Exercise 09 in another language: a Python implementation written from the problem
//! text alone passes every check through `--program`, including the checks that run
//! it against the Rust reference in both roles.

use assert_cmd::Command;
use std::path::Path;

#[test]
fn a_python_merkle_dag_passes_through_program() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/merkle_dag.py");
    let crypto = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .status()
        .expect("python3 runs");
    assert!(
        crypto.success(),
        "the Python fixture needs the `cryptography` package (.ci/run installs it: pip install cryptography)"
    );
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command
        .env_remove("REPLICATE_ROOT")
        .args(["verify", "9", "--no-keep"]);
    for program in ["add", "heads", "list", "get", "replicate"] {
        command.args([
            "--program",
            &format!("{program}=python3 {} {program}", fixture.display()),
        ]);
    }
    let output = command.output().expect("the verifier runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{report}");
}
