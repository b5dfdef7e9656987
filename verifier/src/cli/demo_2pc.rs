//! `verifier demo two-phase-commit`: a coordinator killed between the phases of a
//! commit, on the reference solution, narrated (deck 10's live demo).
//!
//! It runs the check `coordinator-dies-between-phases` and prints its transcript: the
//! verifier holds back every `commit` from p1, kills p1, watches p2 and p3 block
//! without deciding, starts p1 again and watches all three converge.

use crate::course::{self, Side};
use crate::harness::build::build;
use crate::harness::trial::Context;
use crate::harness::verdict::{Settings, Verdict, run_check};
use crate::runner::Limits;
use crate::service::root::default_root;
use anyhow::{anyhow, bail};

pub fn run() -> anyhow::Result<()> {
    let exercise = course::find("two-phase-commit")?;
    eprintln!(
        "(building the reference solution of exercise {} …)",
        exercise.number
    );
    let built = build(&default_root(), &exercise.buildable(Side::Reference), &|_| {})?;
    let context = Context::for_reference(exercise, built.programs, &default_root(), Limits::default());
    let check = exercise
        .check("coordinator-dies-between-phases")
        .ok_or_else(|| anyhow!("exercise 10 has no check coordinator-dies-between-phases"))?;
    eprintln!("(three nodes; p1 will coordinate a put and die between the phases …)");
    let settings = Settings {
        keep_failed: false,
        compare_snapshots: false,
        seed: 0,
    };
    let result = run_check(&context, check, &settings);
    println!("{}", result.transcript);
    match result.verdict {
        Verdict::Pass => {
            println!("\n(p2 and p3 waited with the key locked; nobody decided alone; all converged)");
            Ok(())
        }
        // The reference solution failing its own check: the demo cannot show what it
        // is for, and says why in the check's own words.
        Verdict::Fail(failure) => bail!(failure.summary),
        Verdict::Error(message) => bail!(message),
    }
}
