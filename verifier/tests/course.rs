//! The course's own health: every reference solution passes every check and matches
//! its snapshots; every learner stub, as committed, compiles and fails every check,
//! kindly.
//!
//! The snapshots in `verifier/snapshots/` are made here, from the reference solutions:
//! after changing a check, run `INSTA_UPDATE=always cargo test --test course` (or
//! `cargo insta review`) and read the new transcripts before committing them.

use verifier::course::{COURSE, Side};
use verifier::harness::build::build;
use verifier::harness::trial::Context;
use verifier::harness::verdict::{Settings, Verdict, run_check};
use verifier::runner::Limits;
use verifier::service::root::default_root;

fn settings(compare_snapshots: bool) -> Settings {
    let seed = Settings::random_seed();
    // Printed so a failure in a seeded check can be replayed with `verify --seed`.
    println!("seed {seed}");
    Settings {
        keep_failed: false,
        compare_snapshots,
        seed,
    }
}

#[test]
fn reference_solutions_pass_and_match_their_snapshots() {
    for exercise in COURSE {
        let built = build(&default_root(), &exercise.buildable(Side::Reference), &|_| {})
            .unwrap_or_else(|e| panic!("solution {} does not build: {e:?}", exercise.number));
        assert_eq!(
            built.warnings, 0,
            "solution {} has compiler warnings",
            exercise.number
        );
        let context = Context::for_reference(exercise, built.programs, &default_root(), Limits::default());
        for check in exercise.checks {
            let result = run_check(&context, check, &settings(false));
            assert_eq!(
                result.verdict,
                Verdict::Pass,
                "solution {} fails {}:\n{}",
                exercise.number,
                check.name,
                verifier::service::report::failure(&result)
            );
            insta::with_settings!({
                snapshot_path => format!("../snapshots/{}", exercise.dir_name()),
                prepend_module_to_snapshot => false,
                omit_expression => true,
                description => check.about,
            }, {
                insta::assert_snapshot!(check.name, result.transcript);
            });
        }
    }
}

/// No line of a report is wider than the report's limit (display columns).
fn assert_lines_fit(report: &str) {
    use verifier::service::report::{MAX_LINE, display_width};
    for line in report.lines() {
        assert!(
            display_width(line) <= MAX_LINE,
            "a line of {} columns:\n{line}",
            display_width(line)
        );
    }
}

/// The stubs as committed, in a scratch copy of the course where each stub builds on
/// the reference packages of the exercises before it: a learner's solved `exercises/`
/// does not turn this red, and a stub that ships its answer is caught.
fn committed_stubs() -> verifier::harness::course_copy::CourseCopy {
    let (copy, from) = verifier::harness::course_copy::committed_stubs(&default_root())
        .unwrap_or_else(|e| panic!("cannot copy the course to check its stubs: {e}"));
    println!("checking {from}");
    copy
}

#[test]
fn stubs_compile_and_fail_every_check_with_a_friendly_message() {
    let copy = committed_stubs();
    for exercise in COURSE {
        let built = build(copy.root(), &exercise.buildable(Side::Learner), &|_| {})
            .unwrap_or_else(|e| panic!("stub {} does not build: {e:?}", exercise.number));
        assert_eq!(
            built.warnings, 0,
            "stub {} has compiler warnings",
            exercise.number
        );
        let context = Context::new(exercise, built.programs, &default_root(), Limits::default());
        for check in exercise.checks {
            let result = run_check(&context, check, &settings(true));
            let Verdict::Fail(failure) = &result.verdict else {
                panic!(
                    "stub {} does not fail {}: {:?}",
                    exercise.number, check.name, result.verdict
                );
            };
            let report = verifier::service::report::failure(&result);
            assert!(
                !report.contains("panicked"),
                "stub {} panics in {}:\n{report}",
                exercise.number,
                check.name
            );
            assert!(!failure.summary.is_empty());
            assert_lines_fit(&report);
        }
    }
}

/// Exercise 03 in Python, written from the text alone, graded through `--program`
/// like any learner's program in another language: every check, the speed budget
/// included.
#[test]
fn a_python_solution_of_03_passes_every_check_through_program() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/replicate.py");
    let program = |name: &str| format!("{name}=python3 {} {name}", fixture.display());
    let (append, read, replicate) = (program("append"), program("read"), program("replicate"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .args([
            "verify",
            "3",
            "--no-keep",
            "--all",
            "--program",
            &append,
            "--program",
            &read,
        ])
        .args(["--program", &replicate])
        .output()
        .expect("the verifier runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// The classic bug of 03, in the Python solution: after `end` it never closes its
/// output. Every check it fails must say so first, whatever the check was trying
/// (a clean sync, 2,000 entries over plain pipes, a time budget): the cause comes from
/// what was observed (no end-of-file, both sides waiting to read), not from the check.
#[test]
fn a_program_that_never_closes_its_output_is_told_so_by_every_check_it_fails() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let program = |name: &str, file: &str| format!("{name}=python3 {} {name}", fixtures.join(file).display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .args(["verify", "3", "--no-keep", "--all", "--timeout", "10"])
        .args(["--program", &program("append", "replicate.py")])
        .args(["--program", &program("read", "replicate.py")])
        .args(["--program", &program("replicate", "replicate_never_closes.py")])
        .output()
        .expect("the verifier runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let mut lines = report.lines();
    let mut failed = Vec::new();
    while let Some(line) = lines.next() {
        if let Some(check) = line.strip_prefix("── ").and_then(|l| l.strip_suffix(" ──")) {
            let first = lines.next().unwrap_or_default();
            assert!(
                first.contains("did not close its output"),
                "{check}'s first line: {first}\n\n{report}"
            );
            failed.push(check.to_string());
        }
    }
    // Every check where two of its own peers sync (relayed or over plain pipes).
    for check in ["empty-databases", "converge", "large-diffs"] {
        assert!(failed.iter().any(|c| c == check), "{check} passed?\n{report}");
    }
    // large-diffs appends 2,000 entries in one command: elided, never printed whole.
    assert_lines_fit(&report);
    assert!(
        report.contains(" arguments; the whole command is in commands.txt)"),
        "{report}"
    );
    // A hung run is drawn: both sides' `end`, then the time limit.
    assert!(report.contains("▼ the time limit ran out"), "{report}");
}

/// Every mutant (a known-wrong solution, `verifier/mutants/NN-slug/NAME.patch`) has a
/// well-formed header naming real checks, and still applies to its solution; the
/// exercises that have mutants have at least 8. Trying them all takes many minutes,
/// so it is a command of its own: `cargo run -- course-check --mutants [N...]`.
#[test]
fn mutants_are_well_formed_and_apply() {
    use verifier::service::mutants::{applies, load};
    let root = default_root();
    for exercise in COURSE {
        let mutants = load(&root, exercise).unwrap_or_else(|e| panic!("{e:#}"));
        if mutants.is_empty() {
            continue;
        }
        assert!(
            mutants.len() >= 8,
            "{} has only {} mutants",
            exercise.dir_name(),
            mutants.len()
        );
        for mutant in &mutants {
            if let Err(problem) = applies(&root, mutant) {
                panic!("{}: {problem:#}", mutant.id());
            }
        }
    }
}

/// Files that stub and solution share, besides every `src/bin/*.rs` and `src/cli.rs`:
/// the protocol and record types both sides agree on, written for the learner.
const SHARED: &[(&str, &[&str])] = &[
    ("03-replicate", &["src/protocol.rs", "src/stream.rs"]),
    ("05-kv-store", &["src/op.rs"]),
    ("06-last-writer-wins", &["src/op.rs"]),
    ("07-siblings", &["src/op.rs", "src/version.rs"]),
    ("08-logical-clocks", &["src/wire.rs"]),
    (
        "09-merkle-dag",
        &[
            "src/identity.rs",
            "src/lib.rs",
            "src/protocol.rs",
            "src/stream.rs",
            "src/session.rs",
        ],
    ),
    (
        "10-two-phase-commit",
        &[
            "src/client.rs",
            "src/events.rs",
            "src/server.rs",
            "src/lib.rs",
            "src/protocol.rs",
            "src/peers.rs",
        ],
    ),
];

#[test]
fn stub_and_solution_scaffolding_are_identical_but_for_the_crate_name() {
    use std::path::Path;
    let root = default_root();
    let (files, _) = verifier::harness::course_copy::with_committed_stubs(&root).expect("the course's files");
    for exercise in COURSE {
        let dir = exercise.dir_name();
        let stub_crate = exercise.package(Side::Learner).replace('-', "_");
        let solution_crate = exercise.package(Side::Reference).replace('-', "_");
        let on_side = |top: &str| -> Vec<String> {
            let prefix = Path::new(top).join(&dir);
            files
                .paths()
                .filter_map(|p| p.strip_prefix(&prefix).ok())
                .map(|p| p.display().to_string())
                .filter(|p| {
                    (p.starts_with("src/bin/") && p.ends_with(".rs"))
                        || p == "src/cli.rs"
                        || SHARED
                            .iter()
                            .any(|(d, shared)| *d == dir && shared.contains(&p.as_str()))
                })
                .collect()
        };
        let (stub_files, solution_files) = (on_side("exercises"), on_side("solutions"));
        assert_eq!(
            stub_files, solution_files,
            "exercises/{dir} and solutions/{dir} do not have the same shared files"
        );
        for shared in stub_files {
            let read = |top: &str, name: &str| {
                files
                    .text(&Path::new(top).join(&dir).join(&shared))
                    .unwrap_or_default()
                    .replace(name, "CRATE")
            };
            let (stub, solution) = (read("exercises", &stub_crate), read("solutions", &solution_crate));
            if stub != solution {
                let diff = similar::TextDiff::from_lines(&solution, &stub)
                    .unified_diff()
                    .header(
                        &format!("solutions/{dir}/{shared}"),
                        &format!("exercises/{dir}/{shared}"),
                    )
                    .to_string();
                panic!(
                    "exercises/{dir}/{shared} drifted from the solution's copy (crate names aside):\n{diff}"
                );
            }
        }
    }
}

/// Hint level 3 is "nearly the answer" plus a compile-error clinic, keyed by the error
/// text a learner sees (`error[E0382]: use of moved value: …`).
#[test]
fn every_third_hint_has_a_compile_error_clinic() {
    for exercise in COURSE {
        let hints = exercise.hints();
        let third = hints
            .get(2)
            .unwrap_or_else(|| panic!("exercise {} has fewer than three hints", exercise.number));
        assert!(
            third.body.contains("error[E"),
            "the third hint of exercise {} has no compile-error clinic (no `error[E…]` entry)",
            exercise.number
        );
    }
}
