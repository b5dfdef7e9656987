// The verifier's checks as an ordinary `cargo test` of a reference solution, so that
// cargo-mutants can judge the mutants it *generates* with them (the hand-written ones
// beside this file are judged by `course-check --mutants`).
//
// Each solution package includes this file from `tests/checks.rs`. The test is ignored
// by `cargo test` (the course's own tests already verify every reference), and run by:
//
//     cargo mutants -p sol01-leveldb -- --test checks -- --ignored
//
// It runs `verifier verify N --solution` on the tree cargo-mutants built, with a target
// folder of its own (the outer `cargo test` holds the lock on `target/`).

#[test]
#[ignore = "runs every check of the verifier; for cargo-mutants (see verifier/mutants/README.md)"]
fn the_verifiers_checks_pass() {
    let package = env!("CARGO_PKG_NAME");
    let number: u32 = package
        .trim_start_matches("sol")
        .split('-')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a solution package is named solNN-slug");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/checks-as-tests");
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("REPLICATE_ROOT")
        .args(["run", "--quiet", "-p", "verifier", "--", "verify"])
        .arg(number.to_string())
        .args(["--solution", "--no-keep", "--seed", "1"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "a check of exercise {number} failed: {status}");
}
