//! The workshop shell as a learner drives it, scripted through stdin: navigation, the
//! problem text, hints, progress that survives restarts, running a program by hand,
//! the solution's confirmation, `reset` on a git repository of its own, and `watch`.
//!
//! Every run gets its own state folder (`REPLICATE_STATE_DIR`), so the real
//! `.replicate/` is never touched.

use assert_cmd::Command;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use verifier::course::COURSE;

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the verifier is inside the repository")
        .to_path_buf()
}

fn verifier(state: &Path) -> Command {
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command
        .env_remove("REPLICATE_ROOT")
        .env("REPLICATE_STATE_DIR", state);
    command
}

/// The course copy whose `exercises/` are the stubs as committed: tests that need an
/// unsolved stub run there, so a learner's solved work tree does not turn them red.
fn stubs() -> verifier::harness::course_copy::CourseCopy {
    let (copy, _) = verifier::harness::course_copy::committed_stubs(&root()).expect("a copy of the course");
    copy
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the shell with `script` on stdin.
fn shell(state: &Path, script: &str) -> Output {
    run(state, &[], script)
}

/// Runs the shell with `script` on stdin in a copy of the course with the stubs as
/// committed: for tests that need an unsolved exercise, whatever the learner solved.
fn shell_on_stubs(state: &Path, script: &str) -> Output {
    run_on_stubs(state, &[], script)
}

/// Like [`run`], in a copy of the course with the stubs as committed.
fn run_on_stubs(state: &Path, args: &[&str], stdin: &str) -> Output {
    let copy = stubs();
    run_in(copy.root(), state, args, stdin)
}

fn run(state: &Path, args: &[&str], stdin: &str) -> Output {
    run_in(&root(), state, args, stdin)
}

/// Runs the verifier inside the course checkout at `dir`.
fn run_in(dir: &Path, state: &Path, args: &[&str], stdin: &str) -> Output {
    let output = verifier(state)
        .current_dir(dir)
        .args(args)
        .write_stdin(stdin)
        .timeout(Duration::from_secs(600))
        .output()
        .expect("the verifier runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn state_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// Replaces the state folder's path with `[STATE]`.
fn stable(text: &str, state: &Path) -> String {
    text.replace(&state.display().to_string(), "[STATE]")
}

/// The line of `progress` output about one exercise.
fn progress_line<'a>(text: &'a str, exercise: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(exercise) && l.contains("hints seen"))
        .unwrap_or_default()
}

#[test]
fn scripted_shell_prints_no_prompt_and_no_control_codes() {
    let state = state_dir();
    let out = shell(state.path(), "list\nprogress\nhelp\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("replicate ["), "{}", out.stdout);
    assert!(!out.stdout.contains('\x1b'), "{}", out.stdout);
    assert!(out.stderr.contains("No saved progress yet"), "{}", out.stderr);
}

#[test]
fn list_marks_the_current_and_the_passed() {
    let state = state_dir();
    let out = shell(state.path(), "list\nselect 2\nlist\n");
    assert_eq!(out.code, 0);
    let lists: Vec<&str> = out.stdout.lines().filter(|l| l.contains(" 1. leveldb")).collect();
    assert!(lists[0].starts_with("▸"), "{}", out.stdout);
    assert!(lists[1].starts_with(" "), "{}", out.stdout);
    assert!(out.stdout.contains("▸    2. append-only-logs"), "{}", out.stdout);
    insta::assert_snapshot!("list_after_select", out.stdout);
}

#[test]
fn print_renders_the_problem_for_the_terminal() {
    let state = state_dir();
    let out = shell(state.path(), "select 2\nprint\n");
    assert_eq!(out.code, 0);
    let start = out
        .stdout
        .find("02 · Append-only logs")
        .expect("the title is printed");
    let first: Vec<&str> = out.stdout[start..].lines().take(12).collect();
    assert!(
        out.stdout[start..]
            .lines()
            .all(|l| l.chars().count() <= 80 || l.starts_with("    "))
    );
    insta::assert_snapshot!("print_first_lines", first.join("\n"));
}

#[test]
fn hints_come_one_level_at_a_time_and_are_remembered() {
    let state = state_dir();
    let out = shell(state.path(), "select 2\nhint\nhint\nhint\nhint\nprogress\n");
    assert_eq!(out.code, 0);
    let count = COURSE[1].hints().len();
    for level in 1..=count {
        assert!(
            out.stdout.contains(&format!("Hint {level} of {count}: ")),
            "{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains(&format!(
            "That was the last hint for exercise 2 ({count} of {count})"
        )),
        "{}",
        out.stdout
    );
    let line = progress_line(&out.stdout, "2. append-only-logs");
    assert!(
        line.ends_with(&format!("hints seen: {count} of {count}")),
        "{line}"
    );
}

#[test]
fn next_and_prev_say_so_at_the_ends() {
    let state = state_dir();
    let last = COURSE.last().map_or(1, |e| e.number);
    let out = shell(state.path(), &format!("prev\nnext\nprev\nselect {last}\nnext\n"));
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "Exercise 1 is the first one.");
    assert!(lines[1].starts_with("Exercise 2 · "), "{}", out.stdout);
    assert!(
        out.stdout.contains("Exercise 1 · leveldb basics"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.trim_end().ends_with(&format!(
            "Exercise {last} is the last one; `list` shows them all."
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn unknown_commands_get_a_suggestion() {
    let state = state_dir();
    let out = shell(
        state.path(),
        "lsit\nverfy\nfrobnicate\nhint x\nrun append \"unbalanced\n",
    );
    assert_eq!(out.code, 0);
    insta::assert_snapshot!("unknown_commands", out.stdout);
    let out = shell(state.path(), "select 99\nselect\n");
    assert!(
        out.stdout
            .starts_with("There is no exercise `99`. Give a number or a name:\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("Which exercise? `select 2` or `select append-only-logs`; `list` shows them.\n")
    );
}

#[test]
fn help_lists_every_command() {
    let state = state_dir();
    let out = shell(state.path(), "help\nhelp watch\n");
    assert_eq!(out.code, 0);
    insta::assert_snapshot!("help", out.stdout);
}

#[test]
fn solution_asks_first_before_a_pass() {
    let state = state_dir();
    let copy = stubs();
    let shell = |state: &Path, script: &str| run_in(copy.root(), state, &[], script);
    let out = shell(state.path(), "select 2\nsolution\nn\nprogress\n");
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("Show the solution before passing? [y/N]"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Not shown."), "{}", out.stdout);
    assert!(!out.stdout.contains("── solutions/"), "{}", out.stdout);
    // The answer was read as an answer, not as the next command.
    assert!(!out.stdout.contains("Unknown command `n`"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Current: 2 append-only-logs"),
        "{}",
        out.stdout
    );

    let shown = shell(state.path(), "solution\ny\n");
    assert!(
        shown
            .stdout
            .contains("── solutions/02-append-only-logs/src/lib.rs ──"),
        "{}",
        shown.stdout
    );
}

#[test]
fn run_shows_the_stubs_error_and_exit_status() {
    let state = state_dir();
    let copy = stubs();
    let shell = |state: &Path, script: &str| run_in(copy.root(), state, &[], script);
    let run = |state: &Path, args: &[&str], stdin: &str| run_in(copy.root(), state, args, stdin);
    let out = shell(state.path(), "select 2\nrun read\nrun\nrun nope\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = stable(&out.stdout, state.path());
    assert!(
        text.contains("$ read    [in [STATE]/scratch/02-append-only-logs/]\nstdout: (empty)\nstderr:\n"),
        "{text}"
    );
    assert!(text.contains("not implemented yet"), "{text}");
    assert!(text.contains("read exited with code 1.\n"), "{text}");
    assert!(
        text.contains("Which program? Exercise 2 has:\n  append [--db PATH] ENTRY...\n"),
        "{text}"
    );
    assert!(
        text.contains("Exercise 2 has no program `nope`. Its programs:"),
        "{text}"
    );
    assert!(state.path().join("scratch/02-append-only-logs").is_dir());

    let sub = run(state.path(), &["run", "2", "read", "--after", "1"], "");
    assert_eq!(sub.code, 1, "the program failed: {}", sub.stdout);
    assert!(sub.stdout.contains("$ read --after 1 "), "{}", sub.stdout);
    assert_eq!(run(state.path(), &["run", "2", "nope"], "").code, 2);
}

#[test]
fn progress_survives_a_restart() {
    let state = state_dir();
    let first = shell(state.path(), "select 2\nhint\n");
    assert_eq!(first.code, 0);
    let second = shell(state.path(), "progress\n");
    assert!(
        second.stdout.contains("Current: 2 append-only-logs"),
        "{}",
        second.stdout
    );
    assert!(progress_line(&second.stdout, "2. append-only-logs").contains("hints seen: 1 of"));
    assert!(!second.stderr.contains("No saved progress"), "{}", second.stderr);
    let sub = run(state.path(), &["progress"], "");
    assert_eq!(sub.code, 0);
    assert_eq!(sub.stdout, second.stdout);
}

#[test]
fn a_corrupt_state_file_starts_fresh() {
    let state = state_dir();
    std::fs::write(state.path().join("state.json"), "{\"current\": 12, oops").expect("write");
    let out = shell(state.path(), "progress\nselect 2\n");
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("Could not read"), "{}", out.stderr);
    assert!(out.stderr.contains("starting fresh"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    assert!(out.stdout.contains("Current: 1 leveldb"), "{}", out.stdout);
    let saved = std::fs::read_to_string(state.path().join("state.json")).expect("saved again");
    assert!(saved.contains("append-only-logs"), "{saved}");
}

#[test]
fn slides_present_the_current_exercises_deck() {
    let state = state_dir();
    let out = shell(state.path(), "select 2\nslides\nq\nprogress\n");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains(" — slide 1/"), "{}", out.stdout);
    // The presenter read only its own command; the shell went on with the next.
    assert!(
        out.stdout.contains("Current: 2 append-only-logs"),
        "{}",
        out.stdout
    );
}

#[test]
fn slides_find_each_exercises_deck_by_what_it_declares() {
    // The deck numbered like the exercise, whose subtitle ends "Leads into exercise N."
    // (or "exercises N and M."): derived from the course, so new exercises are covered.
    let decks: Vec<verifier::slides::Deck> = verifier::slides::deck_files(&root().join("slides"))
        .expect("the slides folder")
        .iter()
        .filter_map(|f| verifier::slides::load(f).ok())
        .collect();
    let state = state_dir();
    let script: String = COURSE
        .iter()
        .map(|e| format!("select {}\nslides\nq\n", e.number))
        .collect();
    let out = shell(state.path(), &script);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let titles: Vec<&str> = out.stdout.lines().filter(|l| l.contains(" — slide 1/")).collect();
    assert_eq!(titles.len(), COURSE.len(), "{}", out.stdout);
    for (exercise, shown) in COURSE.iter().zip(titles) {
        let deck = decks
            .iter()
            .find(|d| shown.starts_with(&format!("{} — slide 1/", d.title)))
            .unwrap_or_else(|| panic!("exercise {}: no deck titled like {shown:?}", exercise.number));
        assert_eq!(
            deck.number,
            Some(exercise.number),
            "exercise {}: {}",
            exercise.number,
            deck.stem
        );
        assert!(
            deck.exercises.contains(&exercise.number),
            "exercise {}: {} does not declare it",
            exercise.number,
            deck.stem
        );
    }
}

#[test]
fn verify_in_the_shell_reports_and_records_no_pass_for_the_stub() {
    let state = state_dir();
    let copy = stubs();
    let out = run_in(copy.root(), state.path(), &[], "verify\nprogress\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("checks failed."), "{}", out.stdout);
    assert!(out.stdout.contains("Passed 0 of"), "{}", out.stdout);
    assert!(!out.stdout.contains("marked as passed"), "{}", out.stdout);
}

/// A scripted `verify N` moves the learner's progress as `select N` would: `progress`
/// (and the shell's prompt) then show N as the current exercise.
#[test]
fn a_scripted_verify_makes_its_exercise_the_current_one() {
    let state = state_dir();
    let copy = stubs();
    let out = run_in(copy.root(), state.path(), &["verify", "2"], "");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let out = run_in(copy.root(), state.path(), &["progress"], "");
    assert!(
        out.stdout
            .contains("Current: 2 append-only-logs (not passed yet)"),
        "{}",
        out.stdout
    );
    // `verify 3` inside the shell does not move the shell's current exercise.
    let out = run_in(copy.root(), state.path(), &[], "verify 3\nprogress\n");
    assert!(
        out.stdout.contains("Current: 2 append-only-logs"),
        "{}",
        out.stdout
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn reset_restores_the_stub_from_git_after_a_backup() {
    let repo = tempfile::tempdir().expect("a temporary folder");
    let folder = repo.path().join("exercises/01-leveldb");
    std::fs::create_dir_all(folder.join("src")).expect("mkdir");
    std::fs::write(folder.join("Cargo.toml"), "[package]\nname = \"stub\"\n").expect("write");
    std::fs::write(folder.join("src/lib.rs"), "// TODO\n").expect("write");
    std::fs::write(repo.path().join("README.md"), "course\n").expect("write");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "stub"]);

    std::fs::write(folder.join("src/lib.rs"), "// my work\n").expect("write");
    std::fs::write(folder.join("src/extra.rs"), "// added\n").expect("write");
    std::fs::remove_file(folder.join("Cargo.toml")).expect("rm");

    let backups = repo.path().join(".replicate/backups");
    let restored = verifier::workshop::reset::reset(repo.path(), COURSE[0], &backups).expect("reset works");
    assert_eq!(restored.from, "HEAD");
    assert_eq!(restored.files, 2);
    assert_eq!(
        std::fs::read_to_string(folder.join("src/lib.rs")).ok().as_deref(),
        Some("// TODO\n")
    );
    assert!(folder.join("Cargo.toml").exists());
    assert!(
        !folder.join("src/extra.rs").exists(),
        "files the learner added are removed"
    );

    let backup = restored.backup.expect("a backup was made");
    assert!(backup.starts_with(&backups));
    let name = backup
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert!(name.starts_with("01-leveldb-"), "{name}");
    assert_eq!(
        std::fs::read_to_string(backup.join("src/lib.rs")).ok().as_deref(),
        Some("// my work\n")
    );
    assert_eq!(
        std::fs::read_to_string(backup.join("src/extra.rs"))
            .ok()
            .as_deref(),
        Some("// added\n")
    );
    assert!(!backup.join("Cargo.toml").exists());

    // Outside any git repository: a clear error, and nothing changed.
    let plain = tempfile::tempdir().expect("a temporary folder");
    let lib = plain.path().join("exercises/01-leveldb/src/lib.rs");
    std::fs::create_dir_all(lib.parent().expect("parent")).expect("mkdir");
    std::fs::write(&lib, "// mine\n").expect("write");
    let error = verifier::workshop::reset::reset(plain.path(), COURSE[0], &plain.path().join("backups"))
        .expect_err("not a git repository");
    let error = format!("{error:#}");
    assert!(
        error.contains("not a git repository") && error.contains("nothing was changed"),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&lib).ok().as_deref(), Some("// mine\n"));
    assert!(!plain.path().join("backups").exists());
}

#[test]
fn reset_asks_first_and_declining_changes_nothing() {
    let state = state_dir();
    let out = run(state.path(), &["reset", "2"], "n\n");
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("Reset exercises/02-append-only-logs/ to the original stub?"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Nothing was changed."), "{}", out.stdout);
    assert!(!state.path().join("backups").exists());
}

/// Lines of a child's stdout, as they come.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Waits for a line containing `wanted`; returns everything read until then.
fn wait_for(lines: &mpsc::Receiver<String>, wanted: &str, limit: Duration, seen: &mut Vec<String>) -> bool {
    let deadline = Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(wanted);
                seen.push(line);
                if found {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// Starts `verifier watch EXERCISE`, waits for its first verification, rewrites
/// `file` (relative to the repository root) exactly as it is, and checks that a line
/// containing `changed` announces a second verification, then that Ctrl-C stops it.
fn watch_sees_a_save(dir: &Path, exercise: &str, file: &str, changed: &str, watching: &str) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    use std::os::unix::process::CommandExt;

    let state = state_dir();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .current_dir(dir)
        .args(["watch", exercise])
        .env_remove("REPLICATE_ROOT")
        .env("REPLICATE_STATE_DIR", state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("the verifier starts");
    let group = Pid::from_raw(child.id() as i32);
    let lines = lines_of(child.stdout.take().expect("piped"));
    let mut seen = Vec::new();

    // The first verification builds the exercise, which can take a while on a cold cache.
    let ready = wait_for(
        &lines,
        "[watch] waiting for changes",
        Duration::from_secs(900),
        &mut seen,
    );
    let path = dir.join(file);
    let mut again = false;
    let mut waiting_again = false;
    if ready {
        // Rewrite the file exactly as it is: a save that changes nothing.
        let text = std::fs::read(&path).expect("the stub is there");
        std::fs::write(&path, &text).expect("rewrite");
        again = wait_for(&lines, changed, Duration::from_secs(20), &mut seen);
        waiting_again = again
            && wait_for(
                &lines,
                "[watch] waiting for changes",
                Duration::from_secs(300),
                &mut seen,
            );
    }
    // Ctrl-C ends it cleanly.
    let _ = killpg(group, Signal::SIGINT);
    let stopped = wait_for(&lines, "Stopped watching.", Duration::from_secs(10), &mut seen);
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait();

    let transcript = seen.join("\n");
    assert!(ready, "the first verification did not finish:\n{transcript}");
    assert!(transcript.contains(watching), "{transcript}");
    assert!(again, "a save did not start a second verification:\n{transcript}");
    assert!(waiting_again, "{transcript}");
    assert!(stopped, "Ctrl-C did not stop the watch:\n{transcript}");
    // Two verifications, whatever their verdicts (the exercise may be solved).
    let verdicts = transcript.matches("checks failed").count() + transcript.matches("checks passed").count();
    assert_eq!(verdicts, 2, "{transcript}");
}

#[test]
fn watch_verifies_again_after_a_save() {
    let copy = stubs();
    watch_sees_a_save(
        copy.root(),
        "1",
        "exercises/01-leveldb/src/lib.rs",
        "src/lib.rs changed: verifying again",
        "Watching exercises/01-leveldb/:",
    );
}

#[test]
fn watch_follows_the_earlier_exercise_it_is_built_on() {
    watch_sees_a_save(
        &root(),
        "3",
        "exercises/02-append-only-logs/src/lib.rs",
        "exercises/02-append-only-logs/src/lib.rs changed: verifying again",
        "Watching exercises/03-replicate/ and exercises/02-append-only-logs/, which it is built on",
    );
}

/// Runs the verifier with `args` and a stdout whose reader is already gone, as
/// `verifier ARGS | head -1` is once `head` has its line.
fn into_closed_pipe(state: &Path, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .args(args)
        .env_remove("REPLICATE_ROOT")
        .env("REPLICATE_STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the verifier runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_print_list_and_solution_quietly() {
    let state = state_dir();
    for args in [
        &["solution", "2", "--yes"][..],
        &["solution", "2", "--yes", "--diff"],
        &["print", "2"],
        &["list"],
        &["hint", "2"],
    ] {
        let (code, stderr) = into_closed_pipe(state.path(), args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn solution_shows_the_files_to_write_first_and_names_the_scaffolding() {
    let state = state_dir();
    let out = run_on_stubs(state.path(), &["solution", "2", "--yes"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let headings: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("── ")).collect();
    assert_eq!(
        headings,
        ["── solutions/02-append-only-logs/src/lib.rs ──"],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "The same as yours apart from the crate name (not shown): src/bin/append.rs, src/bin/read.rs, src/cli.rs."
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn solution_diff_compares_with_the_learners_code() {
    let state = state_dir();
    let out = run_on_stubs(state.path(), &["solution", "2", "--yes", "--diff"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("@@ "), "{}", out.stdout);
    // The stub's `todo` body goes, the solution's body comes.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("-") && l.contains("not implemented yet")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("+    pub fn append(&self, entry: &str)")),
        "{}",
        out.stdout
    );
    // In the shell too.
    let shell_out = shell_on_stubs(state.path(), "select 2\nsolution diff\ny\n");
    assert!(
        shell_out.stdout.contains("against the reference solution"),
        "{}",
        shell_out.stdout
    );
}

/// Whether process `pid` is still running (a zombie is not: it has ended).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next());
            !matches!(state, Some("Z" | "X"))
        }
        Err(_) => false,
    }
}

#[test]
fn ctrl_c_stops_a_verify_in_the_shell_and_the_prompt_comes_back() {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    let state = state_dir();
    // The program runs sandboxed (it may write only its work folder), so it is found
    // by its command line, which names this script, not by a pid file it writes.
    let hang = state.path().join("hang.sh");
    std::fs::write(&hang, "#!/bin/sh\nsleep 1000\n").expect("write the hanging program");
    let hanging = || -> Vec<i32> {
        let marker = hang.display().to_string();
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&marker))
            })
            .collect()
    };
    std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .env_remove("REPLICATE_ROOT")
        .env("REPLICATE_STATE_DIR", state.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("the verifier starts");
    let group = Pid::from_raw(child.id() as i32);
    let mut stdin = child.stdin.take().expect("piped");
    let lines = lines_of(child.stdout.take().expect("piped"));
    let programs: Vec<String> = ["put", "get", "del", "range"]
        .iter()
        .map(|p| format!("--program {p}={}", hang.display()))
        .collect();
    writeln!(stdin, "verify {}", programs.join(" ")).expect("a command");

    // Wait until a check has started the hanging program.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && hanging().is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let started: Vec<i32> = hanging();
    // Ctrl-C, as a terminal sends it: to the whole foreground process group.
    let pressed = Instant::now();
    let _ = killpg(group, Signal::SIGINT);
    writeln!(stdin, "progress").expect("the next command");
    let mut seen = Vec::new();
    let stopped = wait_for(&lines, "Stopped (Ctrl-C)", Duration::from_secs(10), &mut seen);
    let took = pressed.elapsed();
    let back = wait_for(&lines, "Current: 1 leveldb", Duration::from_secs(10), &mut seen);
    // A killed process takes a moment to be gone; one that escaped never goes.
    let still_running = || -> Vec<i32> { started.iter().copied().filter(|pid| running(*pid)).collect() };
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut still = still_running();
    while !still.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        still = still_running();
    }
    for pid in &still {
        eprintln!(
            "{pid}: {:?}",
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
        );
    }
    drop(stdin);
    let ended = child.wait().expect("the shell ends");
    let _ = killpg(group, Signal::SIGKILL);

    eprintln!("from Ctrl-C to the verification stopped: {took:?}");
    let transcript = seen.join("\n");
    assert!(!started.is_empty(), "no check started the hanging program");
    assert!(stopped, "Ctrl-C did not stop the verification:\n{transcript}");
    assert!(
        took < Duration::from_secs(2),
        "the prompt came back after {took:?}"
    );
    assert!(
        back,
        "the shell did not go on with the next command:\n{transcript}"
    );
    assert!(still.is_empty(), "still running after Ctrl-C: {still:?}");
    assert!(ended.success(), "the shell itself ended: {ended:?}");
    assert!(!transcript.contains("checks failed"), "{transcript}");
}

#[test]
fn a_command_typed_while_another_runs_is_not_lost_and_quit_asks() {
    use std::io::Write;
    // `script` gives the shell a terminal of its own (a pseudo-terminal), so it runs
    // with its line editor, as a learner has it.
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: util-linux's `script` is not installed");
        return;
    }
    let state = state_dir();
    let copy = stubs();
    let mut child = std::process::Command::new("/usr/bin/script")
        .args(["-q", "-e", "-c", env!("CARGO_BIN_EXE_verifier"), "/dev/null"])
        .current_dir(copy.root())
        .env_remove("REPLICATE_ROOT")
        .env("REPLICATE_STATE_DIR", state.path())
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script starts");
    let mut stdin = child.stdin.take().expect("piped");
    let lines = lines_of(child.stdout.take().expect("piped"));
    let mut seen = Vec::new();
    let prompt = wait_for(&lines, "Tab completes them", Duration::from_secs(30), &mut seen);
    // `verify` and, at once, `progress`, typed while the verification runs; then
    // `quit`, declined, and `quit`, confirmed.
    stdin
        .write_all(b"verify\nprogress\nquit\nn\nprogress\nquit\ny\n")
        .expect("typing");
    let progress = wait_for(&lines, "Current: 1 leveldb", Duration::from_secs(600), &mut seen);
    let staying = wait_for(&lines, "Staying.", Duration::from_secs(30), &mut seen);
    let again = wait_for(&lines, "Current: 1 leveldb", Duration::from_secs(30), &mut seen);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = None;
    while Instant::now() < deadline && status.is_none() {
        status = child.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(50));
    }
    // Whatever happened, nothing is left behind (a no-op once it has ended).
    let _ = child.kill();
    let _ = child.wait();
    let transcript = seen.join("\n");
    assert!(prompt, "{transcript}");
    assert!(
        progress,
        "the command typed during verify was lost:\n{transcript}"
    );
    assert!(transcript.contains("checks failed"), "{transcript}");
    assert!(transcript.contains("Leave the workshop?"), "{transcript}");
    assert!(staying && again, "{transcript}");
    assert!(
        status.is_some_and(|s| s.success()),
        "quit did not end the shell:\n{transcript}"
    );
}

#[test]
fn clear_is_a_command() {
    let state = state_dir();
    let out = shell(state.path(), "clear\nhelp clear\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("Unknown command"), "{}", out.stdout);
    assert!(out.stdout.contains("Clears the terminal"), "{}", out.stdout);
}

#[test]
fn the_replication_demo_says_whose_id_is_whose_as_it_happened() {
    let state = state_dir();
    let out = run(state.path(), &["demo", "replicate"], "");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The placeholder each handshake carried: A is Alice, B is Bob.
    let carried = |arrow: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{arrow}  handshake "))?.split(' ').next())
            .unwrap_or_else(|| panic!("no {arrow} handshake:\n{}", out.stdout))
            .to_string()
    };
    let (alice, bob) = (carried("A → B"), carried("B → A"));
    assert_ne!(alice, bob);
    let expected = format!("({alice} is Alice's id, {bob} Bob's)");
    assert!(
        out.stdout.contains(&expected),
        "expected {expected}:\n{}",
        out.stdout
    );
}

#[test]
fn texts_in_the_shell_name_the_shells_commands() {
    let state = state_dir();
    let out = shell_on_stubs(state.path(), "print\nverify\nhint --level 2\nhint -l 1\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("cargo run --"), "{}", out.stdout);
    assert!(out.stdout.contains("verify 1"), "{}", out.stdout);
    assert!(out.stdout.contains("Hint 2 of"), "{}", out.stdout);
    assert!(out.stdout.contains("Hint 1 of"), "{}", out.stdout);
    // The advice after a failure is wrapped to the width (80 columns from a pipe).
    let advice: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Try: "))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(!advice.is_empty(), "{}", out.stdout);
    assert!(advice.iter().all(|l| l.chars().count() <= 80), "{advice:#?}");
}

#[test]
fn print_and_solution_use_the_pager_on_a_terminal_only() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: util-linux's `script` is not installed");
        return;
    }
    let state = state_dir();
    let copy = stubs();
    let pager = "sh -c 'echo PAGED-BY-THE-PAGER; cat'";
    for args in ["print 2", "solution 2 --yes"] {
        // On a terminal (a pseudo-terminal from `script`): through $PAGER.
        let command = format!("{} {args}", env!("CARGO_BIN_EXE_verifier"));
        let output = std::process::Command::new("/usr/bin/script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .current_dir(copy.root())
            .env_remove("REPLICATE_ROOT")
            .env("REPLICATE_STATE_DIR", state.path())
            .env("PAGER", pager)
            .stdin(Stdio::null())
            .output()
            .expect("script runs");
        let shown = String::from_utf8_lossy(&output.stdout);
        assert!(shown.contains("PAGED-BY-THE-PAGER"), "{args}: {shown}");
        assert!(
            shown.contains("Append-only logs") || shown.contains("── solutions/"),
            "{args}: {shown}"
        );
        // Into a pipe: no pager.
        let words: Vec<&str> = args.split(' ').collect();
        let piped = verifier(state.path())
            .current_dir(copy.root())
            .args(&words)
            .env("PAGER", pager)
            .output()
            .expect("the verifier runs");
        let text = String::from_utf8_lossy(&piped.stdout);
        assert!(!text.contains("PAGED-BY-THE-PAGER"), "{args}: {text}");
    }
}

/// A course folder of its own with one tiny exercise 1 whose `put` echoes its stdin, so
/// that `run` can be driven by hand without a solved exercise.
fn echoing_course() -> tempfile::TempDir {
    let course = tempfile::tempdir().expect("a temporary folder");
    let package = course.path().join("exercises/01-leveldb");
    std::fs::create_dir_all(package.join("src/bin")).expect("folders");
    std::fs::write(
        course.path().join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"exercises/*\"]\n",
    )
    .expect("the workspace");
    std::fs::write(
        package.join("Cargo.toml"),
        "[package]\nname = \"ex01-leveldb\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .expect("the package");
    let echo = "use std::io::BufRead;\nfn main() {\n    for line in std::io::stdin().lock().lines() {\n        \
                println!(\"echo: {}\", line.unwrap_or_default());\n    }\n}\n";
    for program in ["put", "get", "del", "range"] {
        std::fs::write(package.join(format!("src/bin/{program}.rs")), echo).expect("a program");
    }
    course
}

#[test]
fn run_on_a_terminal_feeds_the_program_what_is_typed() {
    use std::io::Write;
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: util-linux's `script` is not installed");
        return;
    }
    let course = echoing_course();
    let state = state_dir();
    let mut child = std::process::Command::new("/usr/bin/script")
        .args(["-q", "-e", "-c", env!("CARGO_BIN_EXE_verifier"), "/dev/null"])
        // The course is found from the current directory.
        .current_dir(course.path())
        .env_remove("REPLICATE_ROOT")
        .env("REPLICATE_STATE_DIR", state.path())
        .env_remove("CARGO_TARGET_DIR")
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script starts");
    let mut stdin = child.stdin.take().expect("piped");
    let lines = lines_of(child.stdout.take().expect("piped"));
    let mut seen = Vec::new();
    let prompt = wait_for(&lines, "Tab completes them", Duration::from_secs(30), &mut seen);
    stdin.write_all(b"run put\n").expect("typing");
    let started = wait_for(
        &lines,
        "put reads what you type",
        Duration::from_secs(300),
        &mut seen,
    );
    stdin.write_all(b"hello by hand\n").expect("typing");
    let echoed = wait_for(&lines, "echo: hello by hand", Duration::from_secs(20), &mut seen);
    // Ctrl-D ends the program's input; it ends, and the next line is the shell's again.
    stdin.write_all(b"\x04").expect("Ctrl-D");
    let ended = wait_for(
        &lines,
        "put exited with code 0",
        Duration::from_secs(20),
        &mut seen,
    );
    stdin.write_all(b"progress\n").expect("typing");
    let shell_again = wait_for(&lines, "Current: 1 leveldb", Duration::from_secs(20), &mut seen);
    stdin.write_all(b"quit\ny\n").expect("typing");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let transcript = seen.join("\n");
    assert!(prompt && started, "{transcript}");
    assert!(echoed, "what was typed did not reach the program:\n{transcript}");
    assert!(ended, "Ctrl-D did not end the program's input:\n{transcript}");
    assert!(shell_again, "the shell did not get its line back:\n{transcript}");
}
