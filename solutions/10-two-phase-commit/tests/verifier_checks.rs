//! The verifier's checks of exercise 10 as this package's test, so that cargo-mutants
//! can judge each generated mutant of the reference by them:
//!
//! ```sh
//! cargo mutants -p sol10-two-phase-commit -- -- --ignored
//! ```
//!
//! Ignored by a plain `cargo test`: it runs `verify 10 --solution` (about a minute,
//! and a nested cargo). What the mutants it missed are and why each is equivalent is in
//! `verifier/mutants/10-two-phase-commit/MISSED.md`.

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "slow: runs every check of exercise 10; cargo mutants runs it with --ignored"]
fn the_verifier_accepts_this_solution() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "verifier", "--", "verify", "10", "--solution", "--no-keep"])
        .current_dir(&root)
        .status()
        .expect("cannot run cargo");
    assert!(status.success(), "verify 10 --solution failed: {status}");
}
