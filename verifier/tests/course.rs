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

/// A hint that calls a function the learner does not have sends them looking for it:
/// every function of the stub's own that a hint names — `Type::name` or `module::name`
/// for a type or module of the stub, `self.name(…)` — is defined (`fn name`) in that
/// exercise's stub as committed. Library calls (`serde_json::to_vec`) are not the stub's
/// and are not checked; neither are helpers a hint only describes.
#[test]
fn every_function_a_hint_names_exists_in_the_stub() {
    use std::path::Path;
    let root = default_root();
    let (files, _) = verifier::harness::course_copy::with_committed_stubs(&root).expect("the course's files");
    let mut missing = Vec::new();
    for exercise in COURSE {
        let prefix = Path::new("exercises").join(exercise.dir_name()).join("src");
        let sources: Vec<(String, String)> = files
            .paths()
            .filter(|p| p.starts_with(&prefix) && p.extension().is_some_and(|e| e == "rs"))
            .map(|p| {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (stem, files.text(p).unwrap_or_default())
            })
            .collect();
        assert!(
            !sources.is_empty(),
            "no stub sources found for exercise {}",
            exercise.number
        );
        let stub = hint_names::Stub::of(&sources);
        for hint in exercise.hints() {
            for span in hint_names::code_spans(&hint.body) {
                for name in stub.named_in(&span) {
                    if !stub.defines(&name) {
                        missing.push(format!(
                            "exercise {} hint \"{}\" names `{name}`, which its stub does not define (in `{}`)",
                            exercise.number,
                            hint.title,
                            span.lines().next().unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn hint_names_finds_the_stubs_own_functions_only() {
    let sources = vec![
        (
            "node".to_string(),
            "pub struct Node;\nimpl Node { fn write(&self) {} }".to_string(),
        ),
        ("changes".to_string(), "pub fn apply() {}".to_string()),
    ];
    let stub = hint_names::Stub::of(&sources);
    let named = |span: &str| stub.named_in(span);
    assert_eq!(named("Node::write"), ["write"]);
    assert_eq!(named("self.clone().announce(x)"), ["announce"]);
    assert_eq!(named("self.collect_votes(&txid)"), ["collect_votes"]);
    assert_eq!(named("changes::apply(&trees)"), ["apply"]);
    assert!(named("serde_json::to_vec(x)").is_empty(), "not the stub's");
    assert!(
        named("Message::Prepare { txid }").is_empty(),
        "a variant, not a function"
    );
    assert!(stub.defines("write") && !stub.defines("announce"));
    let spans = hint_names::code_spans("a `Node::x` b\n```rust\nself.y()\n```\n```text\nself.z()\n```\n");
    assert_eq!(spans, ["self.y()\n", "Node::x"]);
}

/// Reading hints for the functions they name (see the test above).
mod hint_names {
    use std::collections::BTreeSet;

    /// What a stub defines: its types, its modules (file stems) and its functions.
    pub struct Stub {
        types: BTreeSet<String>,
        modules: BTreeSet<String>,
        functions: BTreeSet<String>,
    }

    impl Stub {
        pub fn of(sources: &[(String, String)]) -> Stub {
            let mut stub = Stub {
                types: BTreeSet::new(),
                modules: sources.iter().map(|(stem, _)| stem.clone()).collect(),
                functions: BTreeSet::new(),
            };
            for (_, text) in sources {
                let words = identifiers(text);
                for pair in words.windows(2) {
                    let (keyword, name) = (&pair[0].1, &pair[1].1);
                    match keyword.as_str() {
                        "struct" | "enum" | "trait" => stub.types.insert(name.clone()),
                        "fn" => stub.functions.insert(name.clone()),
                        _ => false,
                    };
                }
            }
            stub
        }

        pub fn defines(&self, function: &str) -> bool {
            self.functions.contains(function)
        }

        /// The stub's functions a code span names, in order.
        pub fn named_in(&self, span: &str) -> Vec<String> {
            let words = identifiers(span);
            let mut named = Vec::new();
            for (i, (at, word)) in words.iter().enumerate() {
                let after = &span[at + word.len()..];
                let Some((next_at, next)) = words.get(i + 1) else {
                    continue;
                };
                let between = &span[at + word.len()..*next_at];
                let lower = next.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
                let owned = self.types.contains(word) || self.modules.contains(word);
                if between == "::" && owned && lower {
                    named.push(next.clone());
                } else if word == "self" && after.starts_with('.') {
                    let (method_at, method) = match (between, next.as_str()) {
                        (".", "clone") if span[next_at + 5..].starts_with("().") => match words.get(i + 2) {
                            Some((at, name)) => (*at, name.clone()),
                            None => continue,
                        },
                        (".", _) => (*next_at, next.clone()),
                        _ => continue,
                    };
                    if method != "clone" && span[method_at + method.len()..].starts_with('(') {
                        named.push(method);
                    }
                }
            }
            named
        }
    }

    /// Identifiers with their byte offsets.
    fn identifiers(text: &str) -> Vec<(usize, String)> {
        let mut found = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            let part = c.is_ascii_alphanumeric() || c == '_';
            match (part, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if !text[s..i].starts_with(|c: char| c.is_ascii_digit()) {
                        found.push((s, text[s..i].to_string()));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        found
    }

    /// The code of a hint: fenced blocks (not ```text ones, which quote compiler
    /// output), then inline spans outside them.
    pub fn code_spans(markdown: &str) -> Vec<String> {
        let mut spans = Vec::new();
        let mut prose = String::new();
        let mut fence: Option<(bool, String)> = None;
        for line in markdown.lines() {
            match (&mut fence, line.trim_start().strip_prefix("```")) {
                (None, Some(lang)) => fence = Some((lang.trim() != "text", String::new())),
                (Some((code, body)), Some(_)) => {
                    if *code {
                        spans.push(std::mem::take(body));
                    }
                    fence = None;
                }
                (Some((_, body)), None) => {
                    body.push_str(line);
                    body.push('\n');
                }
                (None, None) => {
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
        }
        spans.extend(prose.split('`').skip(1).step_by(2).map(str::to_string));
        spans
    }
}
