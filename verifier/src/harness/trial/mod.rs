//! A trial: one check, run against fresh processes in a fresh directory.
//!
//! A check is a small program written against this API: it runs the learner's programs
//! ([`Trial::run`]), looks at the records they print, states invariants ([`Trial::fail`])
//! and, as it goes, writes a *transcript* — the commands and their redacted records —
//! that the verifier then compares with the snapshot made from the reference solution.
//! Everything needed to explain a failure (exact command lines, working directory, exit
//! status, stderr) is kept here, so the report can show the learner exactly what ran.

mod cluster;
pub mod exercise;
mod gate;
mod network;
mod peer;
mod raw;
mod serving;

pub use cluster::{Background, Cluster, Event, Written, show};
pub use network::{Crossing, LiveProcess, Relay};
pub use peer::Peer;
pub use raw::{RawRun, RawTalk};
pub use serving::{Cut, CutRelay, ScriptedServer, Server};

pub use crate::harness::build::Programs;
use crate::harness::build::{BuildError, build};
use crate::harness::records::{BadLine, Record, parse_output, shorten};
use crate::harness::redact::{Redactor, SortKey};
use crate::runner::{Ending, Invocation, Limits, run};
pub use exercise::{Check, Exercise, Hint, Program, Side};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why a check failed, in words for the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line: what went wrong.
    pub summary: String,
    /// Further lines: the evidence (bad lines, a diff, an explanation).
    pub details: Vec<String>,
    /// What to try, fitted to what was observed (replaces the check's canned advice).
    pub advice: Option<String>,
    /// The harness or the machine failed, not the program under test: the verdict is
    /// the verifier's error (exit 2), with no advice about the learner's code.
    pub harness: bool,
}

impl Failure {
    pub fn new(summary: impl Into<String>) -> Self {
        Failure {
            summary: summary.into(),
            details: Vec::new(),
            advice: None,
            harness: false,
        }
    }

    /// A failure of the verifier or of the machine (a port it could not lease, a relay
    /// that could not start, a reference that would not build): never the learner's.
    pub fn harness(summary: impl Into<String>) -> Self {
        Failure {
            harness: true,
            ..Failure::new(summary)
        }
    }

    /// The runner could not start a program: the machine's problem (out of processes,
    /// a sandbox it cannot apply), never the program's, which never got to run.
    pub fn could_not_start(invocation: &Invocation, error: impl std::fmt::Display) -> Self {
        Failure::harness(format!("could not start `{}`: {error}", invocation.short_line()))
    }

    /// When a program told to listen on `port` has ended: if a stranger (no program of
    /// this check: `ours` are their pids and process groups) listens there now, the
    /// machine took the port from it, and the failure is the harness's, not the
    /// program's. (One of the check's own programs on another's port is a bug of the
    /// programs under test, and stays theirs.)
    pub fn if_port_was_taken(name: &str, port: u16, ours: &[u32]) -> Option<Failure> {
        crate::harness::ports::taken_by_a_stranger(port, ours).then(|| {
            Failure::harness(format!(
                "{name} ended, and port {port}, which the verifier gave it, is held by another process on this machine (not one of this check's)"
            ))
        })
    }

    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    pub fn advise(mut self, advice: impl Into<String>) -> Self {
        self.advice = Some(advice.into());
        self
    }
}

impl From<String> for Failure {
    fn from(summary: String) -> Self {
        Failure::new(summary)
    }
}

/// One program run within a trial, kept for the failure report.
#[derive(Debug, Clone)]
pub struct RunLog {
    pub invocation: Invocation,
    pub ending: Ending,
    pub stderr: Vec<u8>,
}

/// What a run produced, for checks that look beyond the records.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub ending: Ending,
    pub records: Vec<Record>,
}

/// Whose build runs a program: the programs under test, or the reference solution
/// (for interoperability checks, and to play a well-behaved peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Tested,
    Reference,
}

/// Everything the checks of one exercise share: the programs under test, the
/// reference programs (built the first time a check needs them), and the limits.
pub struct Context {
    pub exercise: &'static Exercise,
    pub tested: Programs,
    pub root: PathBuf,
    pub limits: Limits,
    reference: OnceLock<Result<Programs, BuildError>>,
}

impl Context {
    pub fn new(exercise: &'static Exercise, tested: Programs, root: &Path, limits: Limits) -> Self {
        Context {
            exercise,
            tested,
            root: root.to_path_buf(),
            limits,
            reference: OnceLock::new(),
        }
    }

    /// A context in which the programs under test ARE the reference solution.
    pub fn for_reference(
        exercise: &'static Exercise,
        reference: Programs,
        root: &Path,
        limits: Limits,
    ) -> Self {
        let context = Context::new(exercise, reference.clone(), root, limits);
        let _ = context.reference.set(Ok(reference));
        context
    }

    /// The reference solution's programs, built on first use.
    pub fn reference(&self) -> Result<&Programs, Failure> {
        let built = self.reference.get_or_init(|| {
            build(&self.root, &self.exercise.buildable(Side::Reference), &|_| {}).map(|built| built.programs)
        });
        built
            .as_ref()
            .map_err(|e| Failure::harness(format!("cannot build the reference solution: {e}")))
    }
}

/// The state of one check being run.
///
/// Its evidence is open to the crate, so that conversations of a protocol the course
/// defines (`course::replication`) can add to it.
pub struct Trial<'a> {
    pub(crate) context: &'a Context,
    dir: PathBuf,
    pub(crate) transcript: Vec<String>,
    pub(crate) redactor: Redactor,
    pub(crate) runs: Vec<RunLog>,
    /// What crossed the wire in the latest conversation, in arrival order.
    pub(crate) wire: Vec<String>,
    seed: u64,
    rng: Option<fastrand::Rng>,
    /// While set, runs show this note instead of their records.
    hide_records: Option<String>,
    /// Environment variables given to every program run from now on.
    env: Vec<(String, String)>,
    /// A wall-clock limit replacing the context's, for checks that time programs.
    timeout: Option<std::time::Duration>,
    /// Figures a timed check measured, for the verdict (they vary, so never in the
    /// transcript).
    measured: Vec<String>,
    /// The ports leased for this check's programs, held until the check ends.
    ports: Vec<crate::harness::ports::PortLease>,
}

impl<'a> Trial<'a> {
    pub fn new(context: &'a Context, dir: &Path, seed: u64) -> Self {
        Trial {
            context,
            dir: dir.to_path_buf(),
            transcript: Vec::new(),
            redactor: Redactor::new(),
            runs: Vec::new(),
            wire: Vec::new(),
            seed,
            rng: None,
            hide_records: None,
            env: Vec::new(),
            timeout: None,
            measured: Vec::new(),
            ports: Vec::new(),
        }
    }

    /// A port for one of this check's programs to listen on, leased to no one else
    /// (no other program of this check, of a check beside it, or of another verifier)
    /// until the check ends. See [`crate::harness::ports`].
    pub fn port(&mut self) -> Result<u16, Failure> {
        let lease = crate::harness::ports::PortLease::take()
            .map_err(|e| Failure::harness(format!("cannot find a free port: {e}")))?;
        let port = lease.port();
        self.ports.push(lease);
        Ok(port)
    }

    /// Notes a measured figure for the verdict: `3.1 s, budget 6.0 s: sending …`.
    pub fn measured(&mut self, line: impl Into<String>) {
        self.measured.push(line.into());
    }

    /// The figures measured so far.
    pub fn measurements(&self) -> &[String] {
        &self.measured
    }

    /// Gives every program run from now on this wall-clock limit instead of the
    /// usual one (`None`: back to the usual one).
    pub fn set_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.timeout = timeout;
    }

    /// The limits the next program run gets (the context's, unless a check set its
    /// own timeout), its wall-clock limit stretched on a busy machine
    /// ([`crate::harness::patience`]): CPU time and memory are the program's own.
    pub fn limits(&self) -> Limits {
        let timeout = self.timeout.unwrap_or(self.context.limits.timeout);
        Limits {
            timeout: crate::harness::patience::stretch(timeout),
            ..self.context.limits
        }
    }

    /// The trial's working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every program run so far, in order.
    pub fn runs(&self) -> &[RunLog] {
        &self.runs
    }

    /// The transcript so far, one line per entry.
    pub fn transcript(&self) -> String {
        self.transcript.join("\n")
    }

    /// The latest conversation's messages in arrival order (for failure reports).
    pub fn wire(&self) -> &[String] {
        &self.wire
    }

    /// The random source of this trial, seeded so a run can be replayed exactly.
    pub fn rng(&mut self) -> &mut fastrand::Rng {
        let seed = self.seed;
        self.rng.get_or_insert_with(|| fastrand::Rng::with_seed(seed))
    }

    /// Whether the trial used its random source (so its seed matters).
    pub fn used_seed(&self) -> bool {
        self.rng.is_some()
    }

    /// Runs a program that must succeed (exit 0) and print only records; returns them.
    pub fn run(&mut self, program: &str, args: &[&str]) -> Result<Vec<Record>, Failure> {
        let outcome = self.run_any_exit(program, args)?;
        self.require_success(outcome)
    }

    /// Runs a program that may exit with any code (the transcript shows a non-zero
    /// code); a hang, a crash by signal, a flood or a non-record line still fails.
    pub fn run_any_exit(&mut self, program: &str, args: &[&str]) -> Result<Outcome, Failure> {
        self.run_by(Who::Tested, program, args)
    }

    /// Like [`Trial::run`], with the programs of `who` (the reference, for interop).
    pub fn run_as(&mut self, who: Who, program: &str, args: &[&str]) -> Result<Vec<Record>, Failure> {
        let outcome = self.run_by(who, program, args)?;
        self.require_success(outcome)
    }

    /// Like [`Trial::run`], but the records are not shown in the transcript, only
    /// `why` (for output that depends on the seed and is judged by invariants).
    pub fn run_unshown(&mut self, program: &str, args: &[&str], why: &str) -> Result<Vec<Record>, Failure> {
        self.hide_records = Some(why.to_string());
        let outcome = self.run_by(Who::Tested, program, args);
        self.hide_records = None;
        self.require_success(outcome?)
    }

    fn require_success(&self, outcome: Outcome) -> Result<Vec<Record>, Failure> {
        match outcome.ending {
            Ending::Exited(0) => Ok(outcome.records),
            ending => Err(self.misbehaved(&format!(
                "`{}` {}; it should succeed (exit code 0)",
                self.last_short_line(),
                ending.describe()
            ))),
        }
    }

    /// Like [`Trial::run_any_exit`], with the programs of `who`.
    pub fn run_by(&mut self, who: Who, program: &str, args: &[&str]) -> Result<Outcome, Failure> {
        let spec = self.program(program)?;
        let invocation = self.invocation(who, program, args)?;
        let shown = self.with_known_ids_redacted(&invocation);
        let line = match &self.hide_records {
            None => format!("$ {}", shown_line(who, &shown)),
            Some(why) => format!("$ {}   ({why})", shown_line(who, &shown)),
        };
        self.transcript.push(line);
        let finished = run(&invocation, None, &self.limits()).map_err(|e| {
            Failure::could_not_start(&invocation, e).detail("Is the program built, and is the command right?")
        })?;
        self.runs.push(RunLog {
            invocation,
            ending: finished.ending,
            stderr: finished.stderr,
        });
        self.stayed_inside(program)?;
        match finished.ending {
            Ending::TimedOut(limit) => {
                return Err(self.misbehaved(&format!(
                    "Timed out after {} while waiting for `{program}` to exit",
                    crate::runner::seconds(limit)
                ))
                .detail("Stdin is closed and nothing else is coming: a program that waits for more input, or for a lock held by another process, never ends."));
            }
            Ending::Exited(_) if finished.left_running => {
                return Err(self
                    .misbehaved(&format!(
                        "`{program}` exited but left a process running (the verifier killed it)"
                    ))
                    .detail("Programs must wait for everything they start before they exit."));
            }
            Ending::Exited(_) => {}
            ending => return Err(self.misbehaved(&format!("`{program}` {}", ending.describe()))),
        }
        let parsed = match spec.prints {
            Some(shape) => parse_output(&finished.stdout, &shape),
            None => parse_output(
                &finished.stdout,
                &crate::harness::records::RecordShape { fields: &[] },
            ),
        };
        if !parsed.bad_lines.is_empty() {
            return Err(self.bad_lines(program, spec, &parsed.bad_lines));
        }
        let mut shown: Vec<(Vec<SortKey>, String)> = parsed
            .records
            .iter()
            .map(|r| (self.redactor.sort_key(r), self.redactor.show(r)))
            .collect();
        if spec.sorted {
            shown.sort();
        }
        if self.hide_records.is_none() {
            self.transcript.extend(shown.into_iter().map(|(_, line)| line));
        }
        if let Ending::Exited(code) = finished.ending
            && code != 0
        {
            self.transcript.push(format!("(exit code {code})"));
        }
        Ok(Outcome {
            ending: finished.ending,
            records: parsed.records,
        })
    }

    /// Sets the environment variables of every program run from now on (replacing
    /// the previous ones); the transcript shows them.
    pub fn set_env(&mut self, vars: &[(&str, &str)]) {
        self.env = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let shown: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match shown.is_empty() {
            true => self.note("(no extra environment from here on)"),
            false => self.note(&format!("from here on: {}", shown.join(" "))),
        }
    }

    /// A mark in the transcript, for [`Trial::replace_since`].
    pub fn mark(&self) -> usize {
        self.transcript.len()
    }

    /// Replaces everything the transcript got since `mark` with one note: for parts
    /// whose details depend on the seed and are judged by invariants instead.
    pub fn replace_since(&mut self, mark: usize, note: &str) {
        self.transcript.truncate(mark);
        self.note(note);
    }

    /// Fails if a program wrote beside its working directory (`../something`).
    pub fn stayed_inside(&self, program: &str) -> Result<(), Failure> {
        let Some(parent) = self.dir.parent() else {
            return Ok(());
        };
        let work = self.dir.file_name();
        let outside: Vec<String> = std::fs::read_dir(parent)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|entry| Some(entry.file_name().as_os_str()) != work)
                    .map(|entry| format!("../{}", entry.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        if outside.is_empty() {
            return Ok(());
        }
        Err(self
            .misbehaved(&format!(
                "`{program}` wrote outside its working directory: {}",
                outside.join(", ")
            ))
            .detail("Keep every file under the current directory (the database path you are given)."))
    }

    /// Adds a comment line to the transcript: `# a second database`.
    pub fn note(&mut self, text: &str) {
        self.transcript.push(format!("# {text}"));
    }

    /// The placeholder of an id, as shown in the transcript (`peer#1`).
    pub fn placeholder(&mut self, label: &'static str, raw: &str) -> String {
        self.redactor.placeholder(label, raw)
    }

    /// A failed invariant: the learner's programs ran, but what they did is wrong.
    pub fn fail(&self, summary: impl Into<String>) -> Failure {
        Failure::new(summary)
    }

    fn program(&self, name: &str) -> Result<&'static Program, Failure> {
        self.context
            .exercise
            .program(name)
            .ok_or_else(|| Failure::new(format!("harness bug: exercise has no program `{name}`")))
    }

    pub(crate) fn invocation(&self, who: Who, program: &str, args: &[&str]) -> Result<Invocation, Failure> {
        let programs = match who {
            Who::Tested => &self.context.tested,
            Who::Reference => self.context.reference()?,
        };
        let command = programs
            .command(program)
            .ok_or_else(|| Failure::new(format!("no command is known for the program `{program}`")))?;
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Ok(Invocation {
            program: program.to_string(),
            argv: command.iter().cloned().chain(args.iter().cloned()).collect(),
            args,
            cwd: self.dir.clone(),
            env: self.env.clone(),
        })
    }

    fn last_short_line(&self) -> String {
        self.runs
            .last()
            .map(|r| r.invocation.short_line())
            .unwrap_or_default()
    }

    /// A failure of the last run, with what its stderr says about it.
    pub(crate) fn misbehaved(&self, summary: &str) -> Failure {
        let stderr = self
            .runs
            .last()
            .map(|r| String::from_utf8_lossy(&r.stderr).into_owned())
            .unwrap_or_default();
        let mut failure = Failure::new(summary);
        if let Some(message) = panic_message(&stderr) {
            failure = failure.detail(format!("It panicked: {message}"));
        } else if let Some(exception) = python_exception(&stderr) {
            failure = failure.detail(format!("It raised {exception}"));
        } else if stderr.contains("not implemented yet") {
            failure = failure.detail("It says it is not implemented yet: this is where your work starts.");
        }
        failure
    }

    fn bad_lines(&self, program: &str, spec: &Program, bad: &[BadLine]) -> Failure {
        let mut failure = Failure::new(match spec.prints {
            Some(_) => format!("`{program}` printed lines that are not records"),
            None => format!("`{program}` should print nothing on stdout, but printed something"),
        });
        for line in bad.iter().take(5) {
            failure = failure.detail(format!("line {}: {}", line.number, shorten(&line.text, 80)));
            if spec.prints.is_some() {
                failure = failure.detail(format!("  {}", line.problem));
            }
        }
        if bad.len() > 5 {
            failure = failure.detail(format!("… and {} more", bad.len() - 5));
        }
        if let Some(shape) = spec.prints {
            failure = failure.detail(format!(
                "Each line of stdout must be one record: {}",
                shape.example()
            ));
        }
        if bad
            .iter()
            .any(|line| line.text.starts_with('{') && line.text.contains('\''))
        {
            failure = failure.detail(
                "JSON needs double quotes around keys and strings ({\"seq\": 1}, not {seq: 1}): print records with serde_json.",
            );
        }
        failure.detail("Debug output belongs on stderr: use eprintln! instead of println!.")
    }
}

/// A command line as the transcript shows it, marking the reference's runs.
pub(crate) fn shown_line(who: Who, invocation: &Invocation) -> String {
    match who {
        Who::Tested => invocation.short_line(),
        Who::Reference => format!("[reference] {}", invocation.short_line()),
    }
}

/// The last line of a Python traceback (`IndexError: list index out of range`).
fn python_exception(stderr: &str) -> Option<String> {
    if !stderr.contains("Traceback (most recent call last):") {
        return None;
    }
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(shorten(last.trim(), 200))
}

/// The message of a Rust panic in stderr, if there is one.
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    let first = lines.position(|l| l.contains("panicked at"))?;
    let _ = first;
    // Since Rust 1.73 the message is on the line after "panicked at file:line:col:".
    let message = lines.next().unwrap_or("").trim();
    Some(shorten(message, 200))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_python_exceptions() {
        let stderr = "Traceback (most recent call last):\n  File \"x.py\", line 1\nIndexError: list index out of range\n";
        assert_eq!(
            python_exception(stderr).as_deref(),
            Some("IndexError: list index out of range")
        );
        assert_eq!(python_exception("IndexError"), None);
    }

    #[test]
    fn finds_panic_messages() {
        let stderr = "\nthread 'main' panicked at src/bin/append.rs:10:5:\nnot yet implemented\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(panic_message(stderr).as_deref(), Some("not yet implemented"));
        assert_eq!(panic_message("all fine"), None);
    }
}
