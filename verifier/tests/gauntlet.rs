//! THE GAUNTLET: deliberately broken programs, one failure mode each, graded by the
//! real `verifier verify` command.
//!
//! `tests/fixtures/gauntlet/broken.py MODE PROGRAM ARGS...` behaves like a correct
//! implementation of the exercise's programs except for its MODE's one misbehaviour.
//! For every mode the verifier must:
//! - exit with code 1: a broken program is a FAIL, never a harness error (2);
//! - give a precise verdict that names the failure mode: the first failure section of
//!   the report is snapshotted (`snapshots/gauntlet__*.snap`) and must contain the
//!   mode's telltale words;
//! - finish without hanging, within a generous bound derived from the limits;
//! - leave nothing running: every process the fixture starts carries a marker in its
//!   argv, and none may be alive once the verifier has exited.
//!
//! Cases marked with a `known_issue` show a problem of the verifier itself: they run
//! and their current verdict is printed, but they stay out of the asserted set until
//! the verifier is fixed (the test says when one starts to pass).
//!
//! The cases run on a few threads (most of their time is spent waiting for time
//! limits); the total wall time is printed at the end (`-- --nocapture` shows it).

use assert_cmd::Command;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::TcpListener;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use verifier::course::Side;
use verifier::runner::quote;

/// Which exercise a case is verified against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exercise {
    /// Exercise 02: `append` and `read` are both the broken script.
    Two,
    /// Exercise 03: `replicate` is the broken script, `append` and `read` the reference's.
    Three,
}

impl Exercise {
    fn number(self) -> &'static str {
        match self {
            Exercise::Two => "2",
            Exercise::Three => "3",
        }
    }

    /// How many checks the exercise has, for the time bound (an upper estimate).
    fn checks(self) -> u64 {
        match self {
            Exercise::Two => 7,
            Exercise::Three => 10,
        }
    }
}

/// One failure mode.
struct Case {
    mode: &'static str,
    exercise: Exercise,
    /// What the program does wrong (the snapshot's description).
    about: &'static str,
    /// Seconds each program run may take (`--timeout`).
    timeout: u64,
    /// Further limit flags (`--cpu 1` is always given).
    flags: &'static [&'static str],
    /// Words the verdict must contain: the failure mode, named.
    verdict: &'static [&'static str],
    /// Words the verdict must not contain (a limit that was not hit, say).
    absent: &'static [&'static str],
    /// A problem of the verifier that keeps this case out of the asserted set.
    known_issue: Option<&'static str>,
}

const fn e02(mode: &'static str, about: &'static str, verdict: &'static [&'static str]) -> Case {
    Case {
        mode,
        exercise: Exercise::Two,
        about,
        timeout: 3,
        flags: &[],
        verdict,
        absent: &[],
        known_issue: None,
    }
}

const fn e03(mode: &'static str, about: &'static str, verdict: &'static [&'static str]) -> Case {
    Case {
        mode,
        exercise: Exercise::Three,
        about,
        // Every sync of these modes hangs until the limit, in each of 10 checks: a
        // short limit keeps the gauntlet quick (the reference programs need ~50 ms).
        timeout: 2,
        flags: &[],
        verdict,
        absent: &[],
        known_issue: None,
    }
}

static CASES: &[Case] = &[
    e02(
        "sleep",
        "append sleeps past the time limit",
        &["Timed out after 3 s while waiting for `append` to exit"],
    ),
    Case {
        // A wall-clock limit well above the CPU limit: on a loaded 2-core machine a busy
        // loop may get half a core, and must still be named by its CPU time.
        timeout: 10,
        ..e02(
            "busy-loop",
            "append spins forever",
            &["`append` used more than 1 s of CPU time and was stopped (a busy loop?)"],
        )
    },
    e02(
        "flood-stdout",
        "append prints its record forever",
        &["`append` printed more than 1 MiB on stdout and was stopped"],
    ),
    e02(
        "flood-stderr",
        "append prints debug lines on stderr forever",
        &[
            "`append` printed more than 1 MiB on stderr and was stopped",
            "| debug: appended 1",
        ],
    ),
    e02(
        "rust-panic",
        "append panics as a Rust program does (exit code 101)",
        &["exited with code 101", "It panicked: boom"],
    ),
    e02(
        "python-exception",
        "append raises an exception on an empty log",
        &["exited with code 1", "IndexError: list index out of range"],
    ),
    e02(
        "silent",
        "append stores its entries but prints nothing, and exits 0",
        &["the first `append` gave seqs []; expected [1]"],
    ),
    e02(
        "partial-json",
        "append prints a truncated record",
        &[
            "`append` printed lines that are not records",
            "is not JSON (EOF while parsing",
        ],
    ),
    e02(
        "js-records",
        "append prints JavaScript object literals, like the original node exercise",
        &["line 1: {peer: '", "is not JSON (key must be a string"],
    ),
    e02(
        "debug-stdout",
        "append mixes debug text with its records on stdout",
        &["line 2: DEBUG stored seq 1", "Debug output belongs on stderr"],
    ),
    e02(
        "read-reversed",
        "read prints the log newest first",
        &["`read` gave seqs [2, 1]; expected [1, 2]"],
    ),
    e02(
        "seq-always-1",
        "append numbers every entry 1",
        &["the second `append` gave seqs [1]; expected [2]"],
    ),
    e02(
        "new-peer-each-run",
        "append makes a new peer id on every run (its seqs still count up)",
        &["`read` shows entries with 2 different peer ids"],
    ),
    e02(
        "extra-field",
        "records carry an extra field \"type\"",
        &["has a field \"type\" that this record does not have"],
    ),
    e02(
        "missing-field",
        "records lack the field \"entry\"",
        &["has no field \"entry\""],
    ),
    e02(
        "seq-string",
        "records carry seq as a string",
        &["has a field \"seq\" that is not a whole number"],
    ),
    e02(
        "latin-1",
        "records are printed in Latin-1, not UTF-8",
        &["is not valid UTF-8"],
    ),
    e02(
        "exit-nonzero",
        "append exits 3 after printing correct records",
        &["exited with code 3; it should succeed (exit code 0)"],
    ),
    e02(
        "sigsegv",
        "append is killed by SIGSEGV",
        &["`append` was killed by SIGSEGV"],
    ),
    e02("sigabrt", "append aborts", &["`append` was killed by SIGABRT"]),
    e02(
        "fork",
        "append starts a child that outlives it",
        &["`append` exited but left a process running (the verifier killed it)"],
    ),
    e02(
        "port",
        "append starts a child that keeps the TCP port $GAUNTLET_PORT bound",
        &["`append` exited but left a process running (the verifier killed it)"],
    ),
    Case {
        flags: &["--memory", "64"],
        ..e02(
            "memory",
            "append allocates without bound",
            &["`append` used more than 64 MiB of memory and was stopped"],
        )
    },
    Case {
        flags: &["--file-size", "1"],
        ..e02(
            "huge-file",
            "append writes a 2 MiB file and dies of SIGXFSZ, as a Rust program does",
            &["`append` wrote a file larger than 1 MiB and was stopped"],
        )
    },
    // The sandbox refuses the write: Python raises PermissionError, named with its path.
    e02(
        "escape",
        "append writes ../escaped.txt",
        &[
            "exited with code 1",
            "PermissionError",
            "Permission denied: '../escaped.txt'",
        ],
    ),
    e03(
        "stdin-forever",
        "replicate reads all of stdin before it writes anything (both sides wait forever)",
        &["never sent its handshake", "so both sides waited"],
    ),
    e03(
        "no-close",
        "replicate sends its handshake and end, then sleeps forever with stdout open",
        &[
            "did not close its output after sending `end`",
            "The check saw: Timed out after 2 s",
        ],
    ),
    // ---- Escapes: each was a verifier bug found by this gauntlet, now fixed. ----
    Case {
        flags: &["--processes", "20"],
        // Needs a pids cgroup (see verifier/src/cgroup.rs), which this machine kind
        // has; Python reports the refused fork as BlockingIOError.
        ..e02(
            "fork-bomb",
            "append starts children until the 20-process cap refuses one",
            &["tried to run more than 20 processes or threads at once (a fork bomb?)"],
        )
    },
    Case {
        flags: &["--file-size", "1"],
        // Python (like Go) ignores SIGXFSZ: the write fails with EFBIG ("File too
        // large") and the program exits 1; the verifier names the limit all the same.
        ..e02(
            "huge-file-python",
            "append writes a 2 MiB file; Python ignores SIGXFSZ, so the write fails",
            &["wrote a file larger than 1 MiB"],
        )
    },
    // ---- Hostile programs: the sandbox and the limits stop each; a breach shows as
    // `SANDBOX BREACHED` (not a record), and the verdict would not name the refusal.
    e02(
        "escape-deep",
        "append writes ../../escaped-deep.txt",
        &["PermissionError", "Permission denied: '../../escaped-deep.txt'"],
    ),
    e02(
        "escape-home",
        "append writes $HOME/gauntlet-escaped-home.txt",
        &["PermissionError", "gauntlet-escaped-home.txt"],
    ),
    e02(
        "escape-tmp",
        "append writes /tmp/gauntlet-escaped-tmp.txt",
        &[
            "PermissionError",
            "Permission denied: '[TMP]/gauntlet-escaped-tmp.txt'",
        ],
    ),
    e02(
        "escape-symlink",
        "append makes a symlink up -> .. and writes through it",
        &["PermissionError", "Permission denied: 'up/escaped-link.txt'"],
    ),
    e02(
        "read-snapshots",
        "append lists the verifier's expected snapshots",
        &["PermissionError", "verifier/snapshots"],
    ),
    e02(
        "read-target",
        "append lists the checkout's target/ folder",
        &["PermissionError", "/target'"],
    ),
    e02(
        "exec-reference",
        "append runs the reference solution's append",
        &["PermissionError", "replicate-bins/sol02-append-only-logs/"],
    ),
    e02(
        "replace-verifier",
        "append writes a replacement beside target/debug/verifier",
        &["PermissionError", "target/debug/.gauntlet-replacement"],
    ),
    Case {
        flags: &["--memory", "64"],
        ..e02(
            "shm-balloon",
            "append maps 1 GiB of shared memory under a 64 MiB limit and touches it all",
            &["`append` used more than 64 MiB of memory and was stopped"],
        )
    },
    Case {
        flags: &["--disk", "8"],
        ..e02(
            "fill-disk",
            "append fills its folder with 1 MiB files under an 8 MiB cap",
            &["`append` wrote more than 8 MiB into its working folder and was stopped"],
        )
    },
    Case {
        absent: &["CPU time", "was stopped"],
        ..e02(
            "fake-cpu-limit",
            "append exits 152, as a shell reports a death by SIGXCPU",
            &["`append 'hello world'` exited with code 152"],
        )
    },
    Case {
        absent: &["of memory", "larger than", "was stopped"],
        ..e02(
            "fake-memory-error",
            "append prints MemoryError and File too large on stderr, then exits 1",
            &["`append 'hello world'` exited with code 1"],
        )
    },
    // A program must not drive the reader's terminal: its bytes are shown escaped.
    e02(
        "terminal-escapes",
        "append prints a clear-screen, a set-title and a NUL on stdout and stderr",
        &["\\x1b[2J\\x1b]0;pwned\\x07\\0cleared", "is not JSON"],
    ),
    e02(
        "duplicate-key",
        "records carry the key \"seq\" twice",
        &["has the key \"seq\" twice"],
    ),
    // A child in its own session is out of the process group the verifier kills; the
    // verifier is a child subreaper, so the orphan comes back to it and is killed.
    e02(
        "escape-group",
        "append starts a child in a new session that outlives it",
        &["left a process running"],
    ),
    // The same, and the child holds append's stdout open: the capture keeps what it
    // read before its grace period ran out, so the verdict names the stray process.
    e02(
        "escape-group-stdout",
        "append starts a child in a new session that outlives it and keeps its stdout open",
        &["left a process running"],
    ),
];

/// What one case did.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Processes of the fixture still alive after the verifier exited (then killed).
    survivors: Vec<String>,
    /// For the `port` case: whether the port could be bound again afterwards.
    port_free: Option<bool>,
    /// Set when the case could not run at all (exercise 3 not in the course yet).
    skipped: Option<String>,
}

/// How the fixture is started: the interpreter `python3` resolves to, with `-S`.
///
/// `python3` may be a pyenv shim (a bash script) and `site` may import heavy `.pth`
/// hooks: together they triple the start-up time of the ~600 program runs of the
/// gauntlet. Snapshots show the command as `python3 …` (see [`stable`]).
struct Python {
    command: String,
}

impl Python {
    fn resolve() -> Python {
        let output = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs");
        let exe = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(!exe.is_empty(), "python3 did not say where it is");
        Python {
            command: format!("{} -S", quote([exe.as_str()])),
        }
    }

    /// The `--program` value that runs `program` of the broken script in `mode`
    /// (with the port the `port` mode holds).
    ///
    /// The command names the fixture's library folder: the sandbox lets a program
    /// read what its command line names (and its script's folder), nothing else.
    /// The port is on the command line too: a program's environment is an
    /// allow-list, not the verifier's.
    fn program(&self, mode: &str, program: &str, port: Option<u16>) -> String {
        let fixture = fixture();
        let lib = fixture.with_file_name("../python");
        let port = port.map(|port| format!(" --port {port}")).unwrap_or_default();
        format!(
            "{program}={} {}{port} --lib {} {mode} {program}",
            self.command,
            quote([fixture.to_str().expect("a UTF-8 path")]),
            quote([lib.to_str().expect("a UTF-8 path")])
        )
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("course root")
        .to_path_buf()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gauntlet/broken.py")
}

/// The reference `append` and `read` of exercise 03, as `--program` values; while
/// exercise 03 is not in the course, the reason its cases are skipped.
fn exercise_three() -> Result<[String; 2], String> {
    let exercise = verifier::course::find("3")
        .map_err(|_| "exercise 3 is not in the course yet (`verifier list` has no 3)".to_string())?;
    let built = verifier::harness::build::build(
        &verifier::service::root::default_root(),
        &exercise.buildable(Side::Reference),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("the reference solution of exercise 3 does not build: {e:?}"));
    Ok(["append", "read"].map(|program| {
        let command = built
            .programs
            .command(program)
            .unwrap_or_else(|| panic!("the reference of exercise 3 has no `{program}`"));
        format!("{program}={}", quote(command.iter().map(String::as_str)))
    }))
}

/// A bound on a whole `verify` run. Generous on purpose: the point is "no hang" (an
/// unbounded wait would never end), not a timing test. Each check fails at its first
/// hung run, so checks × timeout is the most time limits can add up to; twice that,
/// plus time to start a few dozen programs on a loaded machine.
fn bound(case: &Case) -> Duration {
    Duration::from_secs(2 * case.exercise.checks() * case.timeout + 30)
}

/// Runs one case through `verifier verify` and looks for what it left behind.
fn run_case(case: &Case, python: &Python, three: &Result<[String; 2], String>) -> Outcome {
    run_case_on(case, python, three, false)
}

/// [`run_case`], on the portable runner if `portable` (`REPLICATE_PLATFORM=portable`).
fn run_case_on(case: &Case, python: &Python, three: &Result<[String; 2], String>, portable: bool) -> Outcome {
    let port = (case.mode == "port").then(free_port);
    let args = match verify_args(case, python, three, port) {
        Ok(args) => args,
        Err(why) => return skipped(&why),
    };
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command
        .env_remove("REPLICATE_ROOT")
        // Each case's time limits are what it tests: not stretched on a busy machine.
        .env("REPLICATE_PATIENCE", "1")
        .args(&args)
        .timeout(bound(case));
    if portable {
        command.env("REPLICATE_PLATFORM", "portable");
    }
    let started = Instant::now();
    let output = command.output().expect("the verifier runs");
    let elapsed = started.elapsed();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
        survivors: survivors(case.mode),
        port_free: port.map(port_is_free),
        skipped: None,
    }
}

/// The arguments of `verifier verify` for a case; `Err` says why it cannot run.
fn verify_args(
    case: &Case,
    python: &Python,
    three: &Result<[String; 2], String>,
    port: Option<u16>,
) -> Result<Vec<String>, String> {
    let timeout = case.timeout.to_string();
    let mut args: Vec<String> = [
        "verify",
        case.exercise.number(),
        "--no-keep",
        "--timeout",
        &timeout,
        "--cpu",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(case.flags.iter().map(|s| s.to_string()));
    match case.exercise {
        Exercise::Two => {
            for program in ["append", "read"] {
                args.extend(["--program".to_string(), python.program(case.mode, program, port)]);
            }
        }
        Exercise::Three => {
            let reference = three.as_ref().map_err(Clone::clone)?;
            for program in reference
                .iter()
                .cloned()
                .chain([python.program(case.mode, "replicate", port)])
            {
                args.extend(["--program".to_string(), program]);
            }
        }
    }
    Ok(args)
}

fn skipped(why: &str) -> Outcome {
    Outcome {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
        elapsed: Duration::ZERO,
        survivors: Vec::new(),
        port_free: None,
        skipped: Some(why.to_string()),
    }
}

/// A port nobody uses right now, for the `port` case to hold.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Whether `port` can be bound (again), allowing a second for SIGKILL to land.
fn port_is_free(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Live processes started by the fixture in `mode`: the script itself
/// (`… gauntlet/broken.py MODE …`) and its children (`… gauntlet-child-MODE`).
fn marked(mode: &str) -> Vec<(i32, String)> {
    let child = format!("gauntlet-child-{mode}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = raw
                .split(|&b| b == 0)
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            let ours = args.contains(&child)
                || args
                    .windows(2)
                    .any(|w| w[0].ends_with("gauntlet/broken.py") && w[1] == mode);
            ours.then(|| (pid, args.join(" ")))
        })
        .collect()
}

/// What the fixture left running, allowing a second for SIGKILL to land. Whatever is
/// still there is killed (by pid), so that a failing case leaves nothing behind either.
fn survivors(mode: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut left = marked(mode);
    while !left.is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
        left = marked(mode);
    }
    for (pid, _) in &left {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
    left.into_iter()
        .map(|(pid, line)| format!("pid {pid}: {line}"))
        .collect()
}

/// The first failure explained in full: from `── check ──` to its `Try:` line.
fn first_failure(report: &str) -> Option<String> {
    let lines: Vec<&str> = report.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("── "))?;
    let end = start + lines[start..].iter().position(|l| l.starts_with("Try:"))?;
    Some(lines[start..=end].join("\n"))
}

/// Replaces what differs between machines and runs: the interpreter, the course root,
/// the temporary directory (see also the filters in [`assert_verdict`]).
fn stable(text: &str, python: &Python) -> String {
    let tmp = std::env::temp_dir().display().to_string();
    text.replace(&python.command, "python3")
        .replace(&root().display().to_string(), "[ROOT]")
        .replace(tmp.trim_end_matches('/'), "[TMP]")
}

/// Snapshots a verdict; returns the failure message instead of panicking, so that one
/// run writes every changed snapshot.
fn assert_verdict(case: &Case, verdict: &str) -> Result<(), String> {
    let name = format!("e0{}_{}", case.exercise.number(), case.mode.replace('-', "_"));
    catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
            description => case.about,
            omit_expression => true,
            filters => vec![
                // A check's directory: under the verifier's scratch root (named after
                // its pid), ending in random characters.
                (r"\[TMP\]/replicate-run-\d+/replicate-[^ )/]+", "[WORKDIR]"),
                (r"\[TMP\]/replicate-[^ )/]+", "[WORKDIR]"),
                // Random peer ids, where a line is shown as printed.
                (r"\b[0-9a-f]{16}\b", "[PEER]"),
                // The `port` mode's port, free on this run, is on its command line.
                (r"--port \d+", "--port [PORT]"),
                // Python tracebacks name lines of broken.py, which moves as it is edited.
                (r"line \d+, in ", "line [N], in "),
                // Editors strip trailing blanks from snapshot files.
                (r"(?m)[ \t]+$", ""),
                // The wire in order of arrival: the two directions interleave by timing.
                (r"(?m)^  (A → B|B → A)  .*\n", ""),
                // The diagram of a hung run: times and the order of events vary.
                (r"(?m)^  (  time s|\s+\d+\.\d{3} |\s+[▼…]).*\n", ""),
                // Python draws carets under the failing expression in some versions only.
                (r"(?m)^  \|\s+[\^~]+\n", ""),
            ],
        }, {
            insta::assert_snapshot!(name, verdict);
        })
    }))
    .map_err(|_| format!("{}: the verdict differs from its snapshot (see above)", case.mode))
}

/// Everything a case must satisfy; the problems found, in words.
fn judge(case: &Case, outcome: &Outcome, python: &Python) -> Vec<String> {
    let mut problems = Vec::new();
    let mode = case.mode;
    if outcome.elapsed >= bound(case) {
        problems.push(format!(
            "{mode}: took {:.1?}, over its bound of {:?}: a hang?",
            outcome.elapsed,
            bound(case)
        ));
    }
    if case.known_issue.is_some() {
        return problems;
    }
    if outcome.code != 1 {
        problems.push(format!(
            "{mode}: exit code {}, expected 1 (a FAIL).\nstdout:\n{}\nstderr:\n{}",
            outcome.code, outcome.stdout, outcome.stderr
        ));
    }
    if !outcome.survivors.is_empty() {
        problems.push(format!(
            "{mode}: left running after the verifier exited:\n  {}",
            outcome.survivors.join("\n  ")
        ));
    }
    if outcome.stdout.contains(['\u{1b}', '\0']) || outcome.stderr.contains(['\u{1b}', '\0']) {
        problems.push(format!(
            "{mode}: a raw escape character or NUL reached the verifier's output"
        ));
    }
    if outcome.port_free == Some(false) {
        problems.push(format!(
            "{mode}: the port is still bound after the verifier exited"
        ));
    }
    let Some(section) = first_failure(&outcome.stdout) else {
        problems.push(format!(
            "{mode}: the report has no failure section:\n{}",
            outcome.stdout
        ));
        return problems;
    };
    let section = stable(&section, python);
    for words in case.verdict {
        if !section.contains(words) {
            problems.push(format!("{mode}: the verdict does not say {words:?}:\n{section}"));
        }
    }
    for words in case.absent {
        if section.contains(words) {
            problems.push(format!(
                "{mode}: the verdict says {words:?}, which did not happen:\n{section}"
            ));
        }
    }
    if section.contains("SANDBOX BREACHED") {
        problems.push(format!(
            "{mode}: the program did what the sandbox must refuse:\n{section}"
        ));
    }
    if let Err(problem) = assert_verdict(case, &section) {
        problems.push(problem);
    }
    problems
}

/// The first line of the first failure: the verdict in one line.
fn headline(outcome: &Outcome) -> String {
    match first_failure(&outcome.stdout) {
        Some(section) => section.lines().nth(1).unwrap_or_default().to_string(),
        None => outcome
            .stdout
            .lines()
            .find(|l| l.ends_with("checks passed.") || l.ends_with("checks failed."))
            .unwrap_or("(no verdict)")
            .to_string(),
    }
}

/// Files the escaping modes try to write outside their folders.
fn escaped_files() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    vec![
        home.join("gauntlet-escaped-home.txt"),
        PathBuf::from("/tmp/gauntlet-escaped-tmp.txt"),
    ]
}

/// Sizes and modification times of what a program must not change: the verifier
/// binary and every snapshot.
fn fingerprint() -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut files = vec![PathBuf::from(env!("CARGO_BIN_EXE_verifier"))];
    let mut folders = vec![root().join("verifier/snapshots")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            match entry.path().is_dir() {
                true => folders.push(entry.path()),
                false => files.push(entry.path()),
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(&f).ok();
            let len = meta.as_ref().map(|m| m.len()).unwrap_or(0);
            let modified = meta.and_then(|m| m.modified().ok());
            (f, len, modified)
        })
        .collect()
}

#[test]
fn the_gauntlet() {
    let started = Instant::now();
    assert!(CASES.len() >= 22, "the gauntlet needs at least 22 failure modes");
    // Leftovers of an earlier, interrupted run would be blamed on this one.
    for case in CASES {
        let left = survivors(case.mode);
        if !left.is_empty() {
            println!("killed leftovers of an earlier gauntlet run: {left:?}");
        }
    }
    let python = Python::resolve();
    let three = exercise_three();
    // `exec-reference` needs the reference binaries of exercise 02 to exist.
    let two = verifier::course::find("2").expect("exercise 2 is in the course");
    verifier::harness::build::build(
        &verifier::service::root::default_root(),
        &two.buildable(Side::Reference),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("the reference solution of exercise 2 does not build: {e:?}"));
    for escaped in escaped_files() {
        let _ = std::fs::remove_file(escaped);
    }
    let before = fingerprint();
    // The slowest cases (every check hangs until its time limit) start first.
    let cost = |case: &Case| match case.mode {
        "sleep" | "stdin-forever" | "no-close" => 3,
        "busy-loop" => 2,
        _ => 1,
    };
    let mut order: Vec<usize> = (0..CASES.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&CASES[i])));
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..CASES.len()).map(|_| None).collect());
    // Four at a time: most of a case's time is spent waiting on limits and on
    // program start-up, and more would starve the busy loop of its CPU on 2 cores.
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while let Some(&index) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let outcome = run_case(&CASES[index], &python, &three);
                    outcomes.lock().expect("no worker panicked")[index] = Some(outcome);
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().expect("no worker panicked");
    let mut problems = Vec::new();
    println!("\nTHE GAUNTLET: {} failure modes\n", CASES.len());
    for (case, outcome) in CASES.iter().zip(outcomes) {
        let outcome = outcome.expect("every case ran");
        if let Some(why) = &outcome.skipped {
            println!("  SKIPPED  {:<20} {why}; its cases run once it is", case.mode);
            continue;
        }
        let line = stable(&headline(&outcome), &python);
        println!(
            "  {:>5.1} s  {:<20} {line}",
            outcome.elapsed.as_secs_f64(),
            case.mode
        );
        problems.extend(judge(case, &outcome, &python));
        if let Some(issue) = case.known_issue {
            let fixed = outcome.code == 1
                && outcome.survivors.is_empty()
                && case.verdict.iter().all(|words| outcome.stdout.contains(words));
            match fixed {
                true => println!(
                    "           ^ KNOWN ISSUE looks FIXED now: move `{}` into the asserted set",
                    case.mode
                ),
                false => println!(
                    "           ^ KNOWN ISSUE (not asserted): {issue}; exit code {}, left running: {}",
                    outcome.code,
                    outcome.survivors.len()
                ),
            }
        }
    }
    println!(
        "\nThe gauntlet took {:.1} s in all.",
        started.elapsed().as_secs_f64()
    );
    // Nothing outside the programs' working folders changed.
    for escaped in escaped_files() {
        if escaped.exists() {
            problems.push(format!("a program wrote {}", escaped.display()));
        }
    }
    if fingerprint() != before {
        problems.push("the verifier binary or the snapshots changed during the gauntlet".to_string());
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

// ---- Interrupted and killed: nothing may stay behind. ----

/// The cgroup folders of the verifier with pid `owner` (`replicate-OWNER-N`), in
/// every hierarchy this test process belongs to.
fn cgroups_of(owner: u32) -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let prefix = format!("replicate-{owner}-");
    own.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let path = path.trim_start_matches('/');
            Some(match controllers.split(',').next() {
                Some("") | None => Path::new("/sys/fs/cgroup").join(path),
                Some(first) => Path::new("/sys/fs/cgroup")
                    .join(first.trim_start_matches("name="))
                    .join(path),
            })
        })
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
        .map(|entry| entry.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect()
}

/// What a verifier with pid `owner` left: processes with `marker` in their argv,
/// its scratch folder, its cgroups.
fn leftovers(owner: u32, marker: &str) -> Vec<String> {
    let mut left: Vec<String> = marked(marker)
        .into_iter()
        .map(|(pid, line)| format!("pid {pid}: {line}"))
        .collect();
    let scratch = std::env::temp_dir().join(format!("replicate-run-{owner}"));
    if scratch.exists() {
        left.push(format!("folder {}", scratch.display()));
    }
    left.extend(
        cgroups_of(owner)
            .into_iter()
            .map(|c| format!("cgroup {}", c.display())),
    );
    left
}

/// Runs `verify 2` with a program that hangs and leaves a child in a new session
/// that ignores SIGTERM, sends `signal` to the verifier once the child is up, and
/// returns what is left after `within`.
fn interrupt(signal: Signal, within: Duration) -> Vec<String> {
    let mode = format!("interrupt-{signal}");
    // `$0` of the escaped shell carries the marker `gauntlet-child-interrupt-SIG`
    // (looked up by `marked(mode)`).
    let hang =
        format!("setsid sh -c 'trap \"\" TERM; while :; do sleep 1; done' gauntlet-child-{mode} & sleep 600");
    let program = |name: &str| format!("{name}={}", quote(["sh", "-c", &hang]));
    let mut verifier = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .env_remove("REPLICATE_ROOT")
        .args(["verify", "2", "--no-keep", "--timeout", "60", "--program"])
        .arg(program("append"))
        .arg("--program")
        .arg(program("read"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the verifier starts");
    let owner = verifier.id();
    let started = Instant::now();
    while marked(&mode).is_empty() && started.elapsed() < Duration::from_secs(30) {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !marked(&mode).is_empty(),
        "{mode}: the escaped child never started"
    );
    kill(Pid::from_raw(owner as i32), signal).expect("the verifier can be signalled");
    let _ = verifier.wait();
    let ended = Instant::now();
    let deadline = ended + within;
    let mut left = leftovers(owner, &mode);
    while !left.is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
        left = leftovers(owner, &mode);
    }
    println!(
        "{signal}: {} left {:.0?} after the verifier ended",
        left.len(),
        ended.elapsed()
    );
    // Whatever is left is cleaned up here, so one failure does not spoil other tests.
    let _ = survivors(&mode);
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("replicate-run-{owner}")));
    left
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "finds processes and cgroups through /proc and /sys"
)]
fn an_interrupted_verifier_leaves_nothing_behind() {
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let left = interrupt(signal, Duration::from_secs(2));
        assert!(
            left.is_empty(),
            "after {signal}, left behind:\n  {}",
            left.join("\n  ")
        );
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "finds processes and cgroups through /proc and /sys"
)]
fn a_killed_verifier_is_cleaned_up_after_by_its_watchdog() {
    // The watchdog reads end-of-file the moment the verifier dies; 2 s is its bound.
    let left = interrupt(Signal::SIGKILL, Duration::from_secs(2));
    assert!(
        left.is_empty(),
        "after SIGKILL, left behind:\n  {}",
        left.join("\n  ")
    );
}

// ---- The portable runner (macOS's), tested here with REPLICATE_PLATFORM=portable. ----

/// Gauntlet modes whose verdict the portable runner gives as Linux's does (process
/// groups and rlimits suffice for them).
const PORTABLE_MODES: &[&str] = &[
    "sleep",
    "flood-stdout",
    "rust-panic",
    "sigsegv",
    "fork",
    "huge-file",
    "fake-cpu-limit",
];

#[test]
fn the_portable_runner_passes_the_course_and_names_what_it_does_not_enforce() {
    for exercise in ["1", "2", "3"] {
        let output = Command::cargo_bin("verifier")
            .expect("the verifier binary is built")
            .env_remove("REPLICATE_ROOT")
            .env("REPLICATE_PLATFORM", "portable")
            .args(["verify", exercise, "--solution", "--no-keep"])
            .timeout(Duration::from_secs(600))
            .output()
            .expect("the verifier runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "exercise {exercise} on the portable runner:\n{stdout}"
        );
        for note in [
            "Note: not enforced on this platform: the process cap",
            "Note: not isolated:",
        ] {
            assert!(
                stdout.contains(note),
                "exercise {exercise}: the report does not say {note:?}:\n{stdout}"
            );
        }
    }
    let python = Python::resolve();
    let three = Err("not needed".to_string());
    let mut problems = Vec::new();
    for mode in PORTABLE_MODES {
        let case = CASES.iter().find(|c| c.mode == *mode).expect("a gauntlet mode");
        let outcome = run_case_on(case, &python, &three, true);
        if outcome.code != 1 || !outcome.survivors.is_empty() {
            problems.push(format!(
                "{mode}: exit code {}, left running {:?}:\n{}",
                outcome.code, outcome.survivors, outcome.stdout
            ));
        }
        let verdict = first_failure(&outcome.stdout).unwrap_or_default();
        for words in case.verdict {
            if !verdict.contains(words) {
                problems.push(format!(
                    "{mode}: the portable verdict does not say {words:?}:\n{verdict}"
                ));
            }
        }
        if !outcome.stdout.contains("Note: not enforced on this platform") {
            problems.push(format!("{mode}: the report does not name what is not enforced"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "finds cgroups through /proc and /sys")]
fn the_next_verifier_removes_what_a_dead_one_left() {
    // The pid of a process that has ended: a verifier that was killed, say.
    let mut gone = std::process::Command::new("true").spawn().expect("true runs");
    let _ = gone.wait();
    let dead = gone.id();
    let scratch = std::env::temp_dir().join(format!("replicate-run-{dead}"));
    std::fs::create_dir_all(scratch.join("replicate-02-first-append-x/work")).expect("a folder");
    // Its cgroup, where this machine lets us make one.
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let cgroup = own.lines().find_map(|line| {
        let (_, path) = line.split_once(":pids:")?;
        let dir = Path::new("/sys/fs/cgroup/pids")
            .join(path.trim_start_matches('/'))
            .join(format!("replicate-{dead}-0"));
        std::fs::create_dir(&dir).ok().map(|()| dir)
    });
    let ours = std::env::temp_dir().join(format!("replicate-run-{}", std::process::id()));
    std::fs::create_dir_all(&ours).expect("a folder of a live verifier");
    let status = Command::cargo_bin("verifier")
        .expect("the verifier binary is built")
        .arg("list")
        .output()
        .expect("the verifier runs")
        .status;
    assert!(status.success());
    assert!(!scratch.exists(), "the dead verifier's folder is still there");
    if let Some(cgroup) = cgroup {
        assert!(!cgroup.exists(), "the dead verifier's cgroup is still there");
    }
    assert!(ours.exists(), "the folder of a live verifier was removed");
    let _ = std::fs::remove_dir(&ours);
}

// ---- What the verifier reads cannot grow it. ----

/// The verifier's peak resident memory (VmHWM), in bytes, read from /proc while it
/// runs; the last reading before it exits is its peak.
fn peak_memory(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs a case with a plain `std::process::Command`, watching the verifier's peak
/// memory as it runs; the outcome and the last peak read.
fn run_case_measured(case: &Case, python: &Python, three: &Result<[String; 2], String>) -> (Outcome, u64) {
    let port = (case.mode == "port").then(free_port);
    let args = match verify_args(case, python, three, port) {
        Ok(args) => args,
        Err(why) => return (skipped(&why), 0),
    };
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .env_remove("REPLICATE_ROOT")
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the verifier starts");
    let pid = child.id();
    let output = thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut peak = 0;
            while started.elapsed() < bound(case) {
                match peak_memory(pid) {
                    // A zombie has no memory any more: its last reading stands.
                    Some(0) | None => break,
                    Some(now) => peak = peak.max(now),
                }
                thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        let output = child.wait_with_output().expect("the verifier ends");
        (output, watcher.join().expect("the watcher ends"))
    });
    let (output, peak) = output;
    let outcome = Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
        survivors: survivors(case.mode),
        port_free: None,
        skipped: None,
    };
    (outcome, peak)
}

/// Most memory the verifier may reach while a program prints 512 MiB without a
/// newline: its own ~20 MiB, the relay's 1 MiB line, and ample room; the bug it
/// guards against took 2.3 GiB.
const VERIFIER_PEAK: u64 = 128 << 20;

#[test]
fn a_line_without_end_through_the_relay_is_named_and_the_verifier_stays_small() {
    let case = e03(
        "endless-line",
        "replicate prints 512 MiB without a newline (through the relay)",
        &["printed a line of more than 1 MiB without a newline on stdout and was stopped"],
    );
    let python = Python::resolve();
    let three = exercise_three();
    let (outcome, peak) = run_case_measured(&case, &python, &three);
    if let Some(why) = &outcome.skipped {
        println!("SKIPPED: {why}");
        return;
    }
    let problems = judge(&case, &outcome, &python);
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
    println!("the verifier's peak memory: {} MiB", peak >> 20);
    assert!(peak > 0, "the verifier's memory could not be read");
    assert!(peak < VERIFIER_PEAK, "the verifier grew to {} MiB", peak >> 20);
}

// ---- A special file in a database folder cannot hang the verifier's copy. ----

#[test]
fn a_fifo_left_in_a_database_folder_is_named_and_hangs_nothing() {
    let fixture = fixture().with_file_name("fifo_dag.py");
    let dag = fixture.with_file_name("../python/merkle_dag.py");
    let mut command = Command::cargo_bin("verifier").expect("the verifier binary is built");
    command
        .env_remove("REPLICATE_ROOT")
        .args(["verify", "9", "--no-keep"])
        // 16 checks of a few dozen runs each, on a loaded machine: "no hang", not speed.
        .timeout(Duration::from_secs(900));
    for program in ["add", "heads", "list", "get", "replicate"] {
        let line = quote([
            fixture.to_str().expect("UTF-8"),
            dag.to_str().expect("UTF-8"),
            program,
        ]);
        // Not `-S`: the fixture needs the `cryptography` package from site-packages.
        command.args(["--program", &format!("{program}=python3 {line}")]);
    }
    let output = command.output().expect("the verifier runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let section = first_failure(&report).unwrap_or_default();
    assert!(
        section.starts_with("── copied-directory-refused ──\nalice.db holds what is not a file or a folder: gauntlet.fifo (a FIFO)"),
        "{report}"
    );
    // Every check ran to its verdict (a timed budget may fail on a loaded machine).
    let verdicts = report
        .lines()
        .filter(|l| l.starts_with("  ✓ pass") || l.starts_with("  ✗ FAIL"))
        .count();
    let checks = verifier::course::find("9").map_or(0, |e| e.checks.len());
    assert_eq!(verdicts, checks, "{report}");
}

// ---- A hang never hides what came before it. ----

#[test]
fn verify_prints_each_result_as_it_comes_and_says_what_a_long_check_waits_for() {
    use std::io::{BufRead, Read};
    let python = Python::resolve();
    // `append` sleeps past its limit of 14 s in the first check: past the 10 s at
    // which verify says what it waits for.
    let case = Case {
        timeout: 14,
        ..e02("sleep", "append sleeps past the time limit", &[])
    };
    let args = verify_args(&case, &python, &Err(String::new()), None).expect("exercise 2 runs");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_verifier"))
        .env_remove("REPLICATE_ROOT")
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the verifier starts");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let said = thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    // Read until the first check's line: the verifier is then killed outright, in
    // the middle of the second check, and what it printed must already be out.
    let mut printed = Vec::new();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in lines.by_ref() {
        let line = line.expect("UTF-8");
        let done = line.contains("✗ FAIL");
        printed.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("the verifier is killed");
    let _ = child.wait();
    drop(lines);
    let stderr = said.join().expect("stderr is read");
    // The watchdog ends the programs of a killed verifier (a test of its own).
    survivors(case.mode);
    assert!(
        printed.iter().any(|l| l.starts_with("  ✗ FAIL   ")),
        "no check line before the kill:\n{}",
        printed.join("\n")
    );
    assert!(
        stderr.contains("has run for 10 s: waiting for `append"),
        "stderr did not say what the check waits for:\n{stderr}"
    );
}

// ---- Isolation by construction: what the contain step takes away. ----
//
// These run one hostile command each through the runner, contained as a learner's
// program is (the launcher, Landlock, and as root a private IPC namespace and no
// capabilities), and look at what it could do.

mod isolation {
    use std::net::{TcpListener, TcpStream};
    use std::path::Path;
    use std::time::Duration;
    use verifier::runner::{
        Finished, Invocation, Limits, NetworkPolicy, Resources, Spawned, Wiring, not_isolated, run,
    };

    fn sh(script: &str, cwd: &Path) -> Invocation {
        Invocation {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: cwd.to_path_buf(),
            env: vec![],
        }
    }

    fn limits() -> Limits {
        Limits {
            timeout: Duration::from_secs(20),
            max_output: 1 << 16,
            resources: Some(Resources::default()),
        }
    }

    /// Whether this machine sandboxes programs at all (else the tests say so and pass).
    fn sandboxed() -> bool {
        match not_isolated() {
            Some(why) => {
                println!("SKIPPED: {why}");
                false
            }
            None => true,
        }
    }

    fn root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn work() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temp dir")
    }

    #[test]
    fn no_device_node_can_be_made_in_the_work_folder() {
        if !sandboxed() {
            return;
        }
        let dir = work();
        // As root this would make a node for the kernel's log, or for the disk.
        let script = "mknod kmsg c 1 11 && echo MADE-CHAR; mknod disk b 8 0 && echo MADE-BLOCK; mkfifo fifo && echo MADE-FIFO";
        let done = run(&sh(script, dir.path()), None, &limits()).expect("it runs");
        let (out, err) = (text(&done.stdout), text(&done.stderr));
        assert!(
            !out.contains("MADE-CHAR") && !out.contains("MADE-BLOCK"),
            "{out}{err}"
        );
        assert!(!dir.path().join("kmsg").exists() && !dir.path().join("disk").exists());
        // A FIFO in its own folder is fine.
        assert!(out.contains("MADE-FIFO"), "{out}{err}");
    }

    #[test]
    fn a_program_started_by_root_keeps_no_capability() {
        if !sandboxed() || !root() {
            println!("SKIPPED: not root, so there is no capability to drop");
            return;
        }
        let dir = work();
        let done = run(&sh("grep ^Cap /proc/self/status", dir.path()), None, &limits()).expect("it runs");
        let out = text(&done.stdout);
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            assert!(
                out.contains(&format!("{set}:\t0000000000000000")),
                "{set} is not empty:\n{out}"
            );
        }
    }

    #[test]
    fn shared_memory_and_queues_die_with_the_program() {
        if !sandboxed() || !root() {
            println!("SKIPPED: not root, so IPC is not isolated (the report says so)");
            return;
        }
        let table = |name: &str| std::fs::read_to_string(format!("/proc/sysvipc/{name}")).unwrap_or_default();
        let before = (table("shm"), table("msg"));
        let dir = work();
        let script = "ipcmk -M 1048576 && ipcmk -Q && ipcs -m -q | grep -c 0x";
        let done = run(&sh(script, dir.path()), None, &limits()).expect("it runs");
        assert!(
            done.ending.success(),
            "{}{}",
            text(&done.stdout),
            text(&done.stderr)
        );
        // Inside, the program saw its segment and its queue…
        assert_eq!(
            text(&done.stdout).lines().last(),
            Some("2"),
            "{}",
            text(&done.stdout)
        );
        // … and out here they never existed.
        assert_eq!((table("shm"), table("msg")), before);
    }

    /// A small Python program that tries to connect to and bind each port it is given
    /// (`c:PORT`, `b:PORT`) and prints `c:PORT ok` or `c:PORT refused`.
    const TRY_PORTS: &str = r#"
import socket, sys
for word in sys.argv[1:]:
    kind, port = word.split(":")
    s = socket.socket()
    try:
        if kind == "c":
            s.connect(("127.0.0.1", int(port)))
        else:
            s.bind(("127.0.0.1", int(port)))
        print(word, "ok")
    except PermissionError:
        print(word, "refused")
    except OSError as e:
        print(word, "error", e)
    s.close()
"#;

    /// The interpreter itself, not a shim (a pyenv shim is a bash script).
    fn python(script: &str, args: &[String], cwd: &Path) -> Invocation {
        let output = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 runs");
        let exe = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let mut argv = vec![exe, "-S".into(), "-c".into(), script.into()];
        argv.extend(args.iter().cloned());
        Invocation {
            program: "peer".into(),
            args: args.to_vec(),
            argv,
            cwd: cwd.to_path_buf(),
            env: vec![],
        }
    }

    fn finish(spawned: Spawned) -> Finished {
        spawned.finish(Duration::from_secs(20))
    }

    fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("its address").port()
    }

    #[test]
    fn a_peer_binds_its_port_and_dials_its_relay_and_nothing_else() {
        if !sandboxed() {
            return;
        }
        if verifier::runner::protection_notes()
            .iter()
            .any(|n| n.starts_with("network not isolated"))
        {
            println!("SKIPPED: network not isolated on this kernel (the report says so)");
            return;
        }
        // Its relay, a neighbour's real port (behind the relay's back), and a port of
        // another run of the verifier: all three listen.
        let relay = TcpListener::bind("127.0.0.1:0").expect("a port");
        let neighbour = TcpListener::bind("127.0.0.1:0").expect("a port");
        let other_run = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = |l: &TcpListener| l.local_addr().expect("its address").port();
        let (own, elsewhere) = (free_port(), free_port());
        let network = NetworkPolicy {
            bind: vec![own],
            connect: vec![port(&relay)],
        };
        let tries: Vec<String> = [
            format!("c:{}", port(&relay)),
            format!("c:{}", port(&neighbour)),
            format!("c:{}", port(&other_run)),
            format!("b:{own}"),
            format!("b:{elsewhere}"),
        ]
        .to_vec();
        let dir = work();
        let spawned = Spawned::start_networked(
            &python(TRY_PORTS, &tries, dir.path()),
            Wiring::default(),
            &limits(),
            &network,
        )
        .expect("it starts");
        let done = finish(spawned);
        let out = text(&done.stdout);
        let expected = format!(
            "{} ok\n{} refused\n{} refused\nb:{own} ok\nb:{elsewhere} refused\n",
            tries[0], tries[1], tries[2]
        );
        assert_eq!(out, expected, "stderr: {}", text(&done.stderr));
        // Nothing reached the neighbour or the other run.
        for listener in [&neighbour, &other_run] {
            listener.set_nonblocking(true).expect("non-blocking");
            assert!(listener.accept().is_err(), "a connection got through");
        }
        drop(TcpStream::connect(("127.0.0.1", port(&relay))));
    }

    /// Writes 32 MiB where a walk of the folder does not see it, then waits: into a
    /// file it unlinked and keeps open, into an `O_TMPFILE` file, or below a path
    /// longer than PATH_MAX (each folder made relative to the one before).
    const HIDDEN_WRITES: &str = r#"
import os, sys, time
mode = sys.argv[1]
if mode == "unlinked":
    fd = os.open("big", os.O_WRONLY | os.O_CREAT, 0o600)
    os.unlink("big")
elif mode == "tmpfile":
    fd = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o600)
else:
    d = os.open(".", os.O_RDONLY)
    for _ in range(40):
        os.mkdir("d" * 200, dir_fd=d)
        inner = os.open("d" * 200, os.O_RDONLY, dir_fd=d)
        os.close(d)
        d = inner
    fd = os.open("big", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=d)
for _ in range(32):
    os.write(fd, b"x" * (1 << 20))
os.fsync(fd)
print("wrote 32 MiB", flush=True)
time.sleep(60)
"#;

    #[test]
    fn the_disk_cap_counts_unlinked_tmpfile_and_deep_files() {
        if !sandboxed() {
            return;
        }
        let capped = Limits {
            resources: Some(Resources {
                disk: 8 << 20,
                ..Resources::default()
            }),
            ..limits()
        };
        for mode in ["unlinked", "tmpfile", "deep"] {
            let dir = work();
            let done = run(
                &python(HIDDEN_WRITES, &[mode.to_string()], dir.path()),
                None,
                &capped,
            )
            .expect("it runs");
            assert_eq!(
                done.ending.describe(),
                "wrote more than 8 MiB into its working folder and was stopped",
                "{mode}: {}{}",
                text(&done.stdout),
                text(&done.stderr)
            );
        }
    }

    /// Landlock does not see a connect() to a named unix socket, and root without
    /// capabilities still owns the sockets root made: a socket outside the work
    /// folder is reachable. The README's Isolation section says so; when this test
    /// fails, the gap is closed: update the README.
    #[test]
    fn a_named_unix_socket_outside_the_work_folder_is_not_isolated_as_the_readme_says() {
        if !sandboxed() {
            return;
        }
        let outside = work();
        let socket = outside.path().join("service.sock");
        let _listening = std::os::unix::net::UnixListener::bind(&socket).expect("a socket");
        let dir = work();
        let script = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1]); print('connected')\nexcept OSError as e:\n    print('refused', e)\n";
        let args = vec![socket.to_string_lossy().into_owned()];
        let done = run(&python(script, &args, dir.path()), None, &limits()).expect("it runs");
        assert_eq!(text(&done.stdout), "connected\n", "{}", text(&done.stderr));
    }
}
