//! The runner: a learner's program as a real child process, on a leash.
//!
//! Every program runs in its own process group, so that the verifier can end it *and
//! everything it started* with one signal. Each run has a wall-clock limit and a cap on
//! captured output; a program that hangs or floods is killed and the verdict says which
//! limit it hit. When a [`Spawned`] handle is dropped its whole group is killed, so no
//! path out of a check — success, failure or a harness bug — leaves anything running.

use crate::cgroup::PidsCap;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Limits that apply to one program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time the program may take before it is killed.
    pub timeout: Duration,
    /// Bytes of stdout (and, separately, of stderr) kept; more is a flood and kills it.
    pub max_output: usize,
    /// Operating-system limits on the process (none for trusted tools like cargo).
    pub resources: Option<Resources>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(5),
            max_output: 1 << 20,
            resources: Some(Resources::default()),
        }
    }
}

/// Resource limits the kernel enforces on a learner's program (setrlimit, applied by
/// util-linux's `prlimit` so the verifier needs no unsafe code). Each, when hit, ends
/// the program in a way the verifier recognises and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// CPU time (RLIMIT_CPU): SIGXCPU when used up. Below the wall-clock limit, so a
    /// busy loop is named as such rather than as a hang.
    pub cpu: Duration,
    /// Heap and other private writable memory (RLIMIT_DATA): allocations fail beyond it.
    pub memory: u64,
    /// Size of any file it writes (RLIMIT_FSIZE): SIGXFSZ beyond it.
    pub file_size: u64,
    /// Processes (and threads) it may run at once, its own included: a pids cgroup
    /// where the machine has one (see [`crate::cgroup`]), no cap elsewhere.
    pub processes: u64,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            cpu: Duration::from_secs(4),
            memory: 512 << 20,
            file_size: 64 << 20,
            processes: 128,
        }
    }
}

impl Resources {
    /// The `prlimit` command line that applies these limits to the command after it.
    fn prlimit(&self) -> Vec<String> {
        vec![
            PRLIMIT.to_string(),
            // soft:hard. At the soft limit the kernel sends SIGXCPU, which we can name;
            // at the hard one, SIGKILL, which we could not tell from any other kill.
            format!(
                "--cpu={}:{}",
                self.cpu.as_secs().max(1),
                self.cpu.as_secs().max(1) + 1
            ),
            format!("--data={}", self.memory),
            format!("--fsize={}", self.file_size),
            "--".to_string(),
        ]
    }
}

/// util-linux's prlimit: sets limits, then executes the command in the same process.
const PRLIMIT: &str = "/usr/bin/prlimit";

/// Which resource limit a program ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Cpu(Duration),
    Memory(u64),
    FileSize(u64),
    Processes(u64),
}

/// A command to run: what the learner sees (`program` and `args`) and how it is
/// really started (`argv`, which may be a path to a cargo-built binary or a
/// user-given command such as `python3 append.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The program's name in the exercise, e.g. `append`.
    pub program: String,
    /// The arguments the check passes.
    pub args: Vec<String>,
    /// The real command line: the program's command followed by `args`.
    pub argv: Vec<String>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl Invocation {
    /// `append 'hello world'`: the line shown in transcripts and snapshots.
    pub fn short_line(&self) -> String {
        quote(std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str)))
    }

    /// The exact command line used, with the real executable, for failure reports.
    pub fn exact_line(&self) -> String {
        let env = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote([v.as_str()])));
        let argv = quote(self.argv.iter().map(String::as_str));
        env.chain(std::iter::once(argv)).collect::<Vec<_>>().join(" ")
    }
}

/// Shell-quotes words so a learner can paste the line into a terminal.
pub fn quote<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(|w| match shlex::try_quote(w) {
            // Bash's $'…' keeps a word with line breaks or tabs on one line.
            Ok(_) if w.contains(['\n', '\t', '\r']) => ansi_c_quote(w),
            Ok(quoted) => quoted.into_owned(),
            // A word with a NUL byte cannot be passed on a command line at all.
            Err(_) => format!("{w:?}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `$'two\nlines'`: bash's quoting with escapes, for words with control characters.
fn ansi_c_quote(word: &str) -> String {
    let mut out = String::from("$'");
    for c in word.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It exited by itself with this code.
    Exited(i32),
    /// A signal ended it (a crash such as SIGSEGV or SIGABRT, or a kill from outside).
    Signalled(i32),
    /// It was still running when the time limit ran out, and was killed.
    TimedOut(Duration),
    /// It printed more than the output cap on a stream, and was killed.
    Flooded(usize, OutputStream),
    /// It ran into a resource limit (CPU time, memory, file size).
    OverLimit(Limit),
}

impl Ending {
    pub fn success(self) -> bool {
        self == Ending::Exited(0)
    }

    /// A plain description: "exited with code 1", "was killed by SIGSEGV".
    pub fn describe(self) -> String {
        match self {
            Ending::Exited(code) => format!("exited with code {code}"),
            Ending::Signalled(signal) => match Signal::try_from(signal) {
                Ok(signal) => format!("was killed by {signal}"),
                Err(_) => format!("was killed by signal {signal}"),
            },
            Ending::TimedOut(limit) => format!("was still running after {}", seconds(limit)),
            Ending::Flooded(cap, stream) => {
                let stream = match stream {
                    OutputStream::Stdout => "stdout",
                    OutputStream::Stderr => "stderr",
                };
                format!("printed more than {} on {stream} and was stopped", bytes(cap))
            }
            Ending::OverLimit(Limit::Cpu(cpu)) => {
                format!(
                    "used more than {} of CPU time and was stopped (a busy loop?)",
                    seconds(cpu)
                )
            }
            Ending::OverLimit(Limit::Memory(memory)) => {
                format!(
                    "used more than {} of memory and was stopped",
                    bytes(memory as usize)
                )
            }
            Ending::OverLimit(Limit::FileSize(size)) => {
                format!(
                    "wrote a file larger than {} and was stopped",
                    bytes(size as usize)
                )
            }
            Ending::OverLimit(Limit::Processes(max)) => {
                format!("tried to run more than {max} processes or threads at once (a fork bomb?)")
            }
        }
    }
}

/// `5 s`, `0.5 s`: durations as people read them.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// `1 MiB`, `512 KiB`, `300 bytes`.
pub fn bytes(count: usize) -> String {
    if count >= 1 << 20 && count.is_multiple_of(1 << 20) {
        format!("{} MiB", count >> 20)
    } else if count >= 1 << 10 && count.is_multiple_of(1 << 10) {
        format!("{} KiB", count >> 10)
    } else {
        format!("{count} bytes")
    }
}

/// What a finished run left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Some process of its group was still alive after it exited (and was killed).
    pub left_running: bool,
    pub elapsed: Duration,
}

/// Runs a program to completion: stdin fed from `input` (or closed), output captured.
pub fn run(invocation: &Invocation, input: Option<&[u8]>, limits: &Limits) -> io::Result<Finished> {
    let wiring = Wiring {
        stdin: match input {
            Some(_) => Stdin::Piped,
            None => Stdin::Closed,
        },
        ..Wiring::default()
    };
    let mut spawned = Spawned::start(invocation, wiring, limits)?;
    if let (Some(input), Some(mut stdin)) = (input, spawned.take_stdin()) {
        let input = input.to_vec();
        // A separate thread, so a program that never reads cannot block the verifier.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    Ok(spawned.finish(limits.timeout))
}

/// How a program's standard streams are connected.
#[derive(Debug, Default)]
pub struct Wiring {
    pub stdin: Stdin,
    pub stdout: Stdout,
    pub stderr: Stderr,
}

/// Where a program's stdin comes from.
#[derive(Debug, Default)]
pub enum Stdin {
    /// Closed: the program reads end-of-file at once.
    #[default]
    Closed,
    /// A pipe the verifier writes to ([`Spawned::take_stdin`]).
    Piped,
    /// The read end of a pipe whose writer is elsewhere (another program's stdout).
    From(PipeReader),
}

/// Where a program's stdout goes.
#[derive(Debug, Default)]
pub enum Stdout {
    /// Captured (up to the output cap) and returned when the program ends.
    #[default]
    Captured,
    /// A pipe the verifier reads from ([`Spawned::take_stdout`]).
    Piped,
    /// The write end of a pipe whose reader is elsewhere (another program's stdin).
    To(PipeWriter),
}

/// Where a program's stderr goes.
#[derive(Debug, Default)]
pub enum Stderr {
    /// Captured (up to the output cap) and returned when the program ends.
    #[default]
    Captured,
    /// Copied line by line to the verifier's own stderr, each line behind a prefix.
    Forwarded(String),
}

/// A started program. Dropping it kills its whole process group.
pub struct Spawned {
    child: Child,
    group: Pid,
    started: Instant,
    stdout: Option<Capture>,
    stderr: Capture,
    flood: Flood,
    max_output: usize,
    resources: Option<Resources>,
    /// The pids cgroup of this run, if the machine has one.
    cap: Option<PidsCap>,
    status: Option<ExitStatus>,
}

impl Spawned {
    /// Starts the program in a new process group, its streams connected as `wiring` says.
    pub fn start(invocation: &Invocation, wiring: Wiring, limits: &Limits) -> io::Result<Spawned> {
        let mut argv: Vec<String> = match limits.resources {
            Some(resources) if Path::new(PRLIMIT).exists() => resources
                .prlimit()
                .into_iter()
                .chain(invocation.argv.iter().cloned())
                .collect(),
            _ => invocation.argv.clone(),
        };
        let cap = limits.resources.and_then(|r| PidsCap::create(r.processes));
        if let Some(cap) = &cap {
            argv = cap.wrap(argv);
        }
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
        let mut command = std::process::Command::new(program);
        command
            .args(args)
            .current_dir(&invocation.cwd)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .stdin(match wiring.stdin {
                Stdin::Closed => Stdio::null(),
                Stdin::Piped => Stdio::piped(),
                Stdin::From(pipe) => Stdio::from(pipe),
            })
            .stdout(match wiring.stdout {
                Stdout::Captured | Stdout::Piped => Stdio::piped(),
                Stdout::To(ref pipe) => Stdio::from(pipe.try_clone()?),
            })
            .stderr(Stdio::piped())
            // Group id = the child's pid: one killpg reaches it and all it starts.
            .process_group(0);
        let mut child = command.spawn()?;
        register(child.id() as i32);
        // The command holds the parent's copies of pipe ends given to the child:
        // drop them, or a reader would never see end-of-file.
        drop(command);
        let capture_stdout = matches!(wiring.stdout, Stdout::Captured);
        drop(wiring.stdout);
        let group = Pid::from_raw(child.id() as i32);
        let flood = Flood::default();
        let stdout = match capture_stdout {
            true => child
                .stdout
                .take()
                .map(|out| Capture::start(out, limits.max_output, OutputStream::Stdout, flood.clone())),
            false => None,
        };
        let stderr_pipe = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("stderr was not piped"))?;
        let stderr = match wiring.stderr {
            Stderr::Captured => Capture::start(
                stderr_pipe,
                limits.max_output,
                OutputStream::Stderr,
                flood.clone(),
            ),
            Stderr::Forwarded(prefix) => {
                thread::spawn(move || forward_lines(stderr_pipe, &prefix));
                Capture::empty()
            }
        };
        Ok(Spawned {
            child,
            group,
            started: Instant::now(),
            stdout,
            stderr,
            flood,
            max_output: limits.max_output,
            resources: limits.resources,
            cap,
            status: None,
        })
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The stdout pipe of a program started with [`Stdout::Piped`], for a relay.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// How the program ended, if it has: exited, or flooded its captured output.
    /// Never waits.
    pub fn ending(&mut self) -> Option<Ending> {
        if let Some(status) = self.poll() {
            return Some(ending_of(status));
        }
        self.flood
            .stream()
            .map(|stream| Ending::Flooded(self.max_output, stream))
    }

    fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits until the program exits, the deadline passes or it floods its output.
    /// Returns the ending without killing anything.
    pub fn wait_until(&mut self, deadline: Instant, limit: Duration) -> Ending {
        let mut backoff = Backoff::new();
        loop {
            if let Some(ending) = self.ending() {
                return ending;
            }
            if !backoff.pause_until(deadline) {
                return Ending::TimedOut(limit);
            }
        }
    }

    /// Waits for the end (within `timeout` of the start), then kills the group and
    /// collects everything captured.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let ending = self.wait_until(self.started + timeout, timeout);
        self.collect(ending)
    }

    /// Kills the group now and collects what was captured, with the given ending.
    pub fn collect(mut self, ending: Ending) -> Finished {
        let elapsed = self.started.elapsed();
        let mut left_running = self.status.is_some() && group_alive(self.group);
        self.kill_group();
        left_running |= kill_orphans();
        let stdout = self.stdout.take().map(Capture::finish).unwrap_or_default();
        let stderr = std::mem::replace(&mut self.stderr, Capture::empty()).finish();
        let processes_capped = self.cap.as_ref().is_some_and(PidsCap::was_hit);
        let ending = match self.resources {
            Some(resources) => over_limit(ending, &stderr, &resources, processes_capped).unwrap_or(ending),
            None => ending,
        };
        Finished {
            ending,
            stdout,
            stderr,
            left_running,
            elapsed,
        }
    }

    /// The process group id, to signal the program from elsewhere (a fault injector).
    pub fn group(&self) -> Pid {
        self.group
    }

    /// Kills the whole group now (the program and everything it started).
    pub fn kill(&mut self) {
        self.kill_group();
    }

    fn kill_group(&mut self) {
        // ESRCH (no such group) just means everything has already ended.
        let _ = killpg(self.group, Signal::SIGKILL);
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
        unregister(self.group.as_raw());
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Polling with a growing pause: quick to notice a fast exit, cheap on a slow one.
pub struct Backoff {
    pause: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff {
            pause: Duration::from_micros(200),
        }
    }

    /// Sleeps a little (never past `deadline`); false once the deadline has passed.
    pub fn pause_until(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(self.pause.min(deadline - now));
        self.pause = (self.pause * 2).min(Duration::from_millis(5));
        true
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Kills a whole process group at once (SIGKILL); an already empty group is fine.
pub fn kill_group(group: Pid) {
    let _ = killpg(group, Signal::SIGKILL);
}

/// Copies lines from a pipe to our stderr, each behind `prefix`, until end-of-file.
fn forward_lines<R: Read>(pipe: R, prefix: &str) {
    use std::io::BufRead;
    let mut reader = io::BufReader::new(pipe);
    let mut line = Vec::new();
    while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        let text = String::from_utf8_lossy(&line);
        eprintln!("{prefix}{}", text.trim_end_matches(['\n', '\r']));
        line.clear();
    }
}

/// Processes this verifier started and has not reaped yet.
static SPAWNED: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// Whether this process adopts orphans (see [`adopt_orphans`]).
static ADOPTING: AtomicBool = AtomicBool::new(false);

fn register(pid: i32) {
    if let Ok(mut spawned) = SPAWNED.lock() {
        spawned.get_or_insert_with(HashSet::new).insert(pid);
    }
}

fn unregister(pid: i32) {
    if let Ok(mut spawned) = SPAWNED.lock()
        && let Some(spawned) = spawned.as_mut()
    {
        spawned.remove(&pid);
    }
}

/// Makes the verifier a "child subreaper": a process that escapes its program's group
/// (with `setsid`, say) and is orphaned becomes the verifier's child instead of
/// init's, so the verifier can still find and kill it. Call once, at the start of a
/// process whose children are all started by this module (the `verifier` binary).
pub fn adopt_orphans() {
    if nix::sys::prctl::set_child_subreaper(true).is_ok() {
        ADOPTING.store(true, Ordering::SeqCst);
    }
}

/// Makes sure that the programs this process started die with it: when it is told
/// to stop (SIGTERM, SIGHUP, and SIGINT if `interrupt`), every process group it
/// started is killed before it exits with the usual status (128 + the signal).
/// Without this, `timeout verifier …` or a closed terminal would leave them running.
pub fn kill_children_on_signals(interrupt: bool) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut wanted = vec![SIGTERM, SIGHUP];
    if interrupt {
        wanted.push(SIGINT);
    }
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&wanted) else {
        return;
    };
    thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let groups: Vec<i32> = SPAWNED
                .lock()
                .ok()
                .and_then(|spawned| spawned.as_ref().map(|s| s.iter().copied().collect()))
                .unwrap_or_default();
            for group in groups {
                kill_group(Pid::from_raw(group));
            }
            kill_orphans();
            std::process::exit(128 + signal);
        }
    });
}

/// Kills (and reaps) adopted orphans: our children that we did not start ourselves.
/// Says whether there were any. (The workshop shell calls it after a verification it
/// ran as a child process: whatever that left behind was adopted by the shell.)
pub fn kill_orphans() -> bool {
    if !ADOPTING.load(Ordering::SeqCst) {
        return false;
    }
    let ours = std::process::id() as i32;
    let started: HashSet<i32> = SPAWNED
        .lock()
        .ok()
        .and_then(|spawned| spawned.clone())
        .unwrap_or_default();
    let mut found = false;
    for pid in children_of(ours) {
        if !started.contains(&pid) {
            found = true;
            let pid = Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
    found
}

/// The pids whose parent is `parent`, from /proc.
fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = &stat[stat.rfind(')')? + 1..];
                    after.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// Which resource limit an ending shows, if any: the kernel's signals for CPU time
/// and file size, and the Rust runtime's message when an allocation fails.
fn over_limit(
    ending: Ending,
    stderr: &[u8],
    resources: &Resources,
    processes_capped: bool,
) -> Option<Ending> {
    const SIGXCPU: i32 = Signal::SIGXCPU as i32;
    const SIGXFSZ: i32 = Signal::SIGXFSZ as i32;
    const SHELL_XCPU: i32 = 128 + SIGXCPU;
    const SHELL_XFSZ: i32 = 128 + SIGXFSZ;
    let out_of_memory = || {
        let text = String::from_utf8_lossy(stderr);
        text.contains("memory allocation of")
            || text.contains("Cannot allocate memory")
            || text.contains("MemoryError")
    };
    // Python, Go and others ignore SIGXFSZ and report the failed write instead.
    let file_too_large = || String::from_utf8_lossy(stderr).contains("File too large");
    // A shell reports a child killed by signal N as exit code 128 + N.
    match ending {
        Ending::Signalled(SIGXCPU) | Ending::Exited(SHELL_XCPU) => {
            Some(Ending::OverLimit(Limit::Cpu(resources.cpu)))
        }
        Ending::Signalled(SIGXFSZ) | Ending::Exited(SHELL_XFSZ) => {
            Some(Ending::OverLimit(Limit::FileSize(resources.file_size)))
        }
        Ending::Signalled(_) | Ending::Exited(_) if !ending.success() && out_of_memory() => {
            Some(Ending::OverLimit(Limit::Memory(resources.memory)))
        }
        Ending::Exited(_) if !ending.success() && file_too_large() => {
            Some(Ending::OverLimit(Limit::FileSize(resources.file_size)))
        }
        _ if !ending.success() && processes_capped => {
            Some(Ending::OverLimit(Limit::Processes(resources.processes)))
        }
        _ => None,
    }
}

/// Whether any process is left in the group (signal 0 only checks).
fn group_alive(group: Pid) -> bool {
    killpg(group, None).is_ok()
}

fn ending_of(status: ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signalled(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// Reads one pipe on a thread, keeping at most `cap` bytes and raising the flood
/// flag (with the stream's name) when the program writes more.
struct Capture {
    kept: Arc<Mutex<Vec<u8>>>,
    done: Option<mpsc::Receiver<()>>,
}

/// How long to wait for a pipe to close once the group is dead. A process that
/// escaped the group could hold it open forever; then what was read so far is kept.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

impl Capture {
    fn start<R: Read + Send + 'static>(pipe: R, cap: usize, stream: OutputStream, flood: Flood) -> Capture {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (sender, done) = mpsc::channel();
        let shared = kept.clone();
        thread::spawn(move || {
            read_capped(pipe, cap, &shared, || flood.raise(stream));
            let _ = sender.send(());
        });
        Capture {
            kept,
            done: Some(done),
        }
    }

    fn empty() -> Capture {
        Capture {
            kept: Arc::default(),
            done: None,
        }
    }

    fn finish(self) -> Vec<u8> {
        if let Some(done) = self.done {
            let _ = done.recv_timeout(DRAIN_GRACE);
        }
        self.kept.lock().map(|kept| kept.clone()).unwrap_or_default()
    }
}

fn read_capped<R: Read>(mut pipe: R, cap: usize, kept: &Mutex<Vec<u8>>, flooded: impl Fn()) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let Ok(mut kept) = kept.lock() else { return };
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                if n > room {
                    flooded();
                }
            }
        }
    }
}

/// Which output stream a program flooded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// The flood flag shared by a program's captures: the first stream to overflow wins.
#[derive(Debug, Clone, Default)]
struct Flood(Arc<Mutex<Option<OutputStream>>>);

impl Flood {
    fn raise(&self, stream: OutputStream) {
        if let Ok(mut flooded) = self.0.lock() {
            flooded.get_or_insert(stream);
        }
    }

    fn stream(&self) -> Option<OutputStream> {
        self.0.lock().ok().and_then(|flooded| *flooded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Invocation {
        Invocation {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            env: vec![],
        }
    }

    fn limits(ms: u64) -> Limits {
        Limits {
            timeout: Duration::from_millis(ms),
            max_output: 1000,
            resources: Some(Resources::default()),
        }
    }

    #[test]
    fn captures_output_and_exit_code() -> io::Result<()> {
        let done = run(&sh("echo out; echo err >&2; exit 3"), None, &limits(5000))?;
        assert_eq!(done.ending, Ending::Exited(3));
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
        assert!(!done.left_running);
        Ok(())
    }

    #[test]
    fn feeds_stdin() -> io::Result<()> {
        let done = run(&sh("cat"), Some(b"hello\n"), &limits(5000))?;
        assert_eq!(done.stdout, b"hello\n");
        Ok(())
    }

    #[test]
    fn stdin_is_closed_when_not_fed() -> io::Result<()> {
        let done = run(&sh("cat; echo eof"), None, &limits(5000))?;
        assert_eq!(done.stdout, b"eof\n");
        Ok(())
    }

    #[test]
    fn kills_a_hanging_program_and_its_children() -> io::Result<()> {
        let marker = tempfile::NamedTempFile::new()?;
        let script = format!("sleep 30 & echo $! > {}; sleep 30", marker.path().display());
        let done = run(&sh(&script), None, &limits(1000))?;
        assert_eq!(done.ending, Ending::TimedOut(Duration::from_millis(1000)));
        assert!(done.elapsed < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(marker.path())?
            .trim()
            .parse()
            .map_err(io::Error::other)?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(!process_alive(pid), "the background child must be gone: {stat}");
        Ok(())
    }

    #[test]
    fn notices_and_kills_what_outlives_the_program() -> io::Result<()> {
        let done = run(
            &sh("sleep 30 >/dev/null 2>&1 & echo started"),
            None,
            &limits(5000),
        )?;
        assert_eq!(done.ending, Ending::Exited(0));
        assert!(done.left_running);
        Ok(())
    }

    #[test]
    fn stops_a_flood() -> io::Result<()> {
        let done = run(&sh("yes"), None, &limits(5000))?;
        assert_eq!(done.ending, Ending::Flooded(1000, OutputStream::Stdout));
        assert_eq!(done.stdout.len(), 1000);
        Ok(())
    }

    #[test]
    fn reports_signals() -> io::Result<()> {
        let done = run(&sh("kill -SEGV $$"), None, &limits(5000))?;
        assert_eq!(done.ending, Ending::Signalled(11));
        assert_eq!(done.ending.describe(), "was killed by SIGSEGV");
        Ok(())
    }

    fn tight() -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            max_output: 1000,
            resources: Some(Resources {
                cpu: Duration::from_secs(1),
                memory: 64 << 20,
                file_size: 1 << 20,
                processes: 20,
            }),
        }
    }

    #[test]
    fn names_a_fork_bomb_where_processes_can_be_capped() -> io::Result<()> {
        if PidsCap::create(1).is_none() {
            eprintln!("no writable pids cgroup here: the process cap cannot be tested");
            return Ok(());
        }
        let done = run(
            &sh("for i in $(seq 100); do sleep 5 & done; wait"),
            None,
            &tight(),
        )?;
        assert_eq!(done.ending, Ending::OverLimit(Limit::Processes(20)));
        assert!(done.elapsed < Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn names_a_busy_loop_by_its_cpu_time() -> io::Result<()> {
        let done = run(&sh("while :; do :; done"), None, &tight())?;
        assert_eq!(done.ending, Ending::OverLimit(Limit::Cpu(Duration::from_secs(1))));
        assert!(done.elapsed < Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn names_a_file_that_grows_too_big() -> io::Result<()> {
        let file = tempfile::NamedTempFile::new()?;
        let script = format!("head -c 2000000 /dev/zero > {}", file.path().display());
        let done = run(&sh(&script), None, &tight())?;
        assert_eq!(done.ending, Ending::OverLimit(Limit::FileSize(1 << 20)));
        assert_eq!(
            done.ending.describe(),
            "wrote a file larger than 1 MiB and was stopped"
        );
        Ok(())
    }

    #[test]
    fn names_memory_exhaustion() -> io::Result<()> {
        let done = run(
            &sh("python3 -c 'x = bytearray(200 * 1024 * 1024)'"),
            None,
            &tight(),
        )?;
        assert_eq!(done.ending, Ending::OverLimit(Limit::Memory(64 << 20)));
        assert_eq!(
            done.ending.describe(),
            "used more than 64 MiB of memory and was stopped"
        );
        Ok(())
    }

    #[test]
    fn quotes_command_lines_for_pasting() {
        let mut inv = sh("x");
        inv.program = "append".into();
        inv.args = vec!["hello world".into(), "it's".into()];
        assert_eq!(inv.short_line(), r#"append 'hello world' "it's""#);
        inv.args = vec!["two\nlines".into(), "tab\there's".into()];
        assert_eq!(inv.short_line(), r#"append $'two\nlines' $'tab\there\'s'"#);
    }

    #[test]
    fn describes_limits_plainly() {
        assert_eq!(
            Ending::TimedOut(Duration::from_secs(5)).describe(),
            "was still running after 5 s"
        );
        assert_eq!(
            Ending::Flooded(1 << 20, OutputStream::Stderr).describe(),
            "printed more than 1 MiB on stderr and was stopped"
        );
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }

    fn process_alive(pid: i32) -> bool {
        // A killed process may linger as a zombie of the shell's group for a moment.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z "))
            .unwrap_or(false)
    }
}
