//! The `verifier` command line as a learner meets it: usage errors, unknown
//! exercises, exit codes, and the exact reports for a pass and for failures.

use assert_cmd::Command;
use std::path::Path;

fn verifier() -> Command {
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command.env_remove("REPLICATE_ROOT");
    command
}

/// Runs the verifier and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = verifier().args(args).output().expect("the verifier runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Replaces paths that differ between machines and runs with placeholders.
fn stable(text: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("course root");
    let tmp = std::env::temp_dir();
    let tmp = tmp.display().to_string();
    text.replace(&root.display().to_string(), "[ROOT]")
        .replace(tmp.trim_end_matches('/'), "[TMP]")
}

/// Snapshots a report with stable paths; a check's directory name ends in random
/// characters, so it becomes `[WORKDIR]`.
macro_rules! assert_report {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            // Under the verifier's scratch root, named after its pid.
            (r"\[TMP\]/replicate-run-\d+/replicate-[^ )/]+", "[WORKDIR]"),
            (r"\[TMP\]/replicate-[^ )/]+", "[WORKDIR]"),
            // A seeded check makes the report name its run's seed.
            (r"Seed: \d+ ", "Seed: [SEED] "),
            (r"--seed \d+\)", "--seed [SEED])"),
        ]}, {
            insta::assert_snapshot!($name, stable(&$text));
        })
    };
}

fn python_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/python/append_only_log.py")
        .display()
        .to_string()
}

#[test]
fn help_lists_every_command() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for command in ["list", "print", "hint", "verify", "course-check"] {
        assert!(out.contains(command), "--help does not mention {command}:\n{out}");
    }
    let (code, out, _) = run(&["verify", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--solution") && out.contains("--program"));
}

#[test]
fn list_numbers_the_exercises() {
    let (code, out, _) = run(&["list"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("list", out);
}

#[test]
fn print_shows_the_problem_text() {
    let (code, out, _) = run(&["print", "append-only-logs"]);
    assert_eq!(code, 0);
    assert!(out.contains("append"), "{out}");
    assert_eq!(run(&["print", "2"]).1, out);
}

#[test]
fn hints_come_in_levels() {
    let (code, first, _) = run(&["hint", "2"]);
    assert_eq!(code, 0);
    assert!(first.starts_with("Hint 1 of 3: "), "{first}");
    let (code, third, _) = run(&["hint", "2", "--level", "3"]);
    assert_eq!(code, 0);
    assert!(third.starts_with("Hint 3 of 3: "), "{third}");
    let (code, out, err) = run(&["hint", "2", "--level", "9"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err, "error: exercise 2 has hints 1 to 3; there is no hint 9\n");
}

#[test]
fn unknown_exercises_are_usage_errors() {
    for args in [&["verify", "99"][..], &["print", "nope"], &["hint", "0"]] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        assert!(err.starts_with("error: there is no exercise"), "{err}");
        assert!(
            err.contains("append-only-logs"),
            "the message lists the exercises: {err}"
        );
    }
}

#[test]
fn bad_command_lines_get_usage_not_panics() {
    for args in [
        &["verify"][..],
        &["frobnicate"],
        &["verify", "2", "--timeout", "soon"],
        &["verify", "2", "--timeout", "-1"],
        &["verify", "2", "--program", "append"],
        &["verify", "2", "--program", "append='unbalanced"],
        &["hint", "2", "--level", "x"],
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("error") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    let (code, _, err) = run(&["verify", "2", "--program", "nosuch=python3 x.py"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: exercise 2 has no program `nosuch`; its programs are: append, read\n"
    );
}

#[test]
fn the_reference_solution_passes() {
    let (code, out, _) = run(&["verify", "2", "--solution"]);
    assert_eq!(code, 0, "{out}");
    assert_report!("verify_solution_passes", out);
}

#[test]
fn the_stub_fails_with_a_friendly_report() {
    // The stub as committed, not the learner's work in `exercises/`: the verifier acts
    // on the course it is run in, here a copy with the committed stubs.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("course root");
    let (copy, _) = verifier::harness::course_copy::committed_stubs(root).expect("a copy of the course");
    let output = verifier()
        .current_dir(copy.root())
        .args(["verify", "2", "--no-keep"])
        .output()
        .expect("the verifier runs");
    let out = String::from_utf8_lossy(&output.stdout)
        .replace(&copy.root().display().to_string(), &root.display().to_string());
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert_report!("verify_stub_fails", out);
}

/// Verifies exercise 2 with the Python implementation, each program with its own
/// `--bug` (or none), and returns (exit code, report).
fn verify_python(append_bug: Option<&str>, read_bug: Option<&str>) -> (i32, String) {
    let fixture = python_fixture();
    let command = |program: &str, bug: Option<&str>| match bug {
        Some(bug) => format!("{program}=python3 {fixture} --bug {bug} {program}"),
        None => format!("{program}=python3 {fixture} {program}"),
    };
    let (append, read) = (command("append", append_bug), command("read", read_bug));
    let (code, out, _) = run(&[
        "verify",
        "2",
        "--no-keep",
        "--program",
        &append,
        "--program",
        &read,
    ]);
    (code, out)
}

#[test]
fn any_language_a_python_implementation_passes() {
    let (code, out) = verify_python(None, None);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_wrong_peer_id_is_shown_as_a_diff_of_records() {
    let (code, out) = verify_python(Some("new-peer-each-run"), Some("new-peer-each-run"));
    assert_eq!(code, 1, "{out}");
    assert_report!("verify_new_peer_each_run", out);
}

#[test]
fn debug_output_on_stdout_is_named() {
    let (code, out) = verify_python(Some("debug-print"), None);
    assert_eq!(code, 1, "{out}");
    assert_report!("verify_debug_print", out);
}

#[test]
fn the_replication_demo_shows_the_protocol() {
    let (code, out, err) = run(&["demo", "replicate"]);
    assert_eq!(code, 0, "{out}{err}");
    for expected in [
        "A → B  handshake peer#",
        "B → A  end (1 sent)",
        "$ read --db bob.db",
    ] {
        assert!(
            out.contains(expected),
            "the demo does not show {expected:?}:\n{out}"
        );
    }
}

#[test]
fn the_gossip_demo_spreads_entries_end_to_end() {
    let (code, out, err) = run(&["demo", "gossip"]);
    assert_eq!(code, 0, "{out}{err}");
    // p1 and p3 never meet: each learns the other's entry through p2.
    for expected in ["p1 printed", "\"entry\":\"hello from p3\"", "p3 printed"] {
        assert!(
            out.contains(expected),
            "the demo does not show {expected:?}:\n{out}"
        );
    }
    let p3_heard_p1 = out
        .lines()
        .any(|l| l.starts_with("p3 printed") && l.contains("hello from p1"));
    assert!(p3_heard_p1, "{out}");
}

#[test]
fn dupsh_wires_two_commands_and_reports_the_first_failure() {
    // Each side says hello, reads the other's line, and repeats it on stderr.
    let side = |name: &str, code: i32| {
        format!("sh -c 'echo hello-from-{name}; read line; echo \"got $line\" >&2; exit {code}'")
    };
    let (code, out, err) = run(&["dupsh", &side("a", 0), &side("b", 0)]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains("A| got hello-from-b") && err.contains("B| got hello-from-a"),
        "{err}"
    );
    assert!(
        err.ends_with("dupsh: A exited with code 0; B exited with code 0\n"),
        "{err}"
    );
    assert_eq!(
        run(&["dupsh", &side("a", 0), &side("b", 4)]).0,
        4,
        "B's failure when A succeeds"
    );
    assert_eq!(
        run(&["dupsh", &side("a", 3), &side("b", 4)]).0,
        3,
        "A's failure first"
    );
    assert_eq!(
        run(&["dupsh", "sh -c 'kill -9 $$'", "true"]).0,
        128 + 9,
        "a signal is 128 + its number"
    );
    let (code, _, err) = run(&["dupsh", "--timeout", "0.5", "sleep 10", "true"]);
    assert_eq!(code, 124, "a time-out is 124: {err}");
}

#[test]
fn dupsh_transcript_decodes_the_protocol() {
    let a = r#"sh -c 'echo "{\"type\":\"handshake\",\"peer\":\"aa\",\"heads\":{\"aa\":1}}"; echo "{\"type\":\"entry\",\"peer\":\"aa\",\"seq\":1,\"entry\":\"hi\"}"; echo "{\"type\":\"end\",\"sent\":1}"'"#;
    // B only listens, so the transcript's order does not depend on timing.
    let (code, out, err) = run(&["dupsh", "--transcript", a, "sh -c 'cat >/dev/null'"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("dupsh_transcript", out);
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let output = verifier()
        .arg(std::ffi::OsStr::from_bytes(b"list\xff"))
        .output()
        .expect("the verifier runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unrecognized subcommand"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every demo (`demo --help` lists them) is named in `help` and in the README.
#[test]
fn help_and_the_readme_name_every_demo() {
    let (code, demo_help, err) = run(&["demo", "--help"]);
    assert_eq!(code, 0, "{err}");
    let demos: Vec<String> = demo_help
        .lines()
        .skip_while(|l| !l.contains("Possible values"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- "))
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("- ")?
                .split(':')
                .next()
                .map(str::to_string)
        })
        .collect();
    assert!(demos.len() >= 5, "the demos could not be read from:\n{demo_help}");
    let (code, help, err) = run(&["--help"]);
    assert_eq!(code, 0, "{err}");
    let demo_line = help
        .lines()
        .find(|l| l.trim_start().starts_with("demo"))
        .unwrap_or_default();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
        .expect("the README");
    for demo in &demos {
        assert!(
            demo_line.contains(&format!("`{demo}`")) || demo_line.contains(&format!("demo {demo}")),
            "`help` does not name the demo {demo}: {demo_line}"
        );
        assert!(
            readme.contains(&format!("demo {demo}`")),
            "the README does not name `demo {demo}`"
        );
    }
}
