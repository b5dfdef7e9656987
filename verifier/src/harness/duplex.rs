//! Duplex wiring: two programs talking through each other's stdin and stdout.
//!
//! This is `dupsh`: A's stdout goes into B's stdin, and B's stdout into A's stdin, so a
//! symmetric protocol can be tried without any network. The verifier can wire them
//! *directly* (two OS pipes, nothing in between: what a benchmark wants) or through a
//! *relay*: one thread per direction that reads each line, records it, and forwards
//! it. The relay is what lets the verifier draw a transcript, count entries on the wire,
//! and inject faults: cut both directions after the n-th message, or kill one peer.

use crate::runner::lines::{Next, without_newline};
use crate::runner::{
    Backoff, Ending, Invocation, Limits, Lines, Spawned, Stderr, Stdin, Stdout, Wiring, kill_group,
};
use nix::unistd::Pid;
use std::io::{self, Write};
use std::process::ChildStdout;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// A fault to inject into a relayed conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// After `n` messages have been forwarded (both directions counted together),
    /// forward nothing more and close both programs' stdin: the stream is cut.
    CutAfter(usize),
    /// Right after the `n`-th forwarded message, kill program A (SIGKILL).
    KillAAfter(usize),
}

/// Called with each line as it crosses the relay (for a live transcript).
pub type Observer = Box<dyn Fn(&Event) + Send + Sync>;

/// Which way a message went between the two peers of a duplex wiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    AtoB,
    BtoA,
}

impl Direction {
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::AtoB => "A → B",
            Direction::BtoA => "B → A",
        }
    }
}

/// How to wire the two programs.
pub enum Mode {
    /// Two plain pipes: no transcript, no faults, no overhead.
    Direct,
    /// Through the verifier's relay threads, with an optional fault and an optional
    /// observer called with each message as it passes (for a live transcript).
    Relay {
        fault: Fault,
        observer: Option<Observer>,
    },
}

/// One line that crossed the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub direction: Direction,
    /// The line, without its `\n`.
    pub raw: Vec<u8>,
    /// False if the relay dropped it because the stream had been cut.
    pub forwarded: bool,
}

/// How the two programs ended, and what crossed between them.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub a: Ending,
    pub b: Ending,
    pub stderr_a: Vec<u8>,
    pub stderr_b: Vec<u8>,
    /// Every line relayed, in the order the relay saw them (empty in direct mode).
    pub events: Vec<Event>,
    /// Whether the fault was injected (the conversation reached the n-th message).
    pub fault_fired: bool,
    pub elapsed: Duration,
}

/// Runs A and B wired together until both exit or the time limit passes; then kills
/// both process groups. `stderr` says, for A and B, where their stderr goes.
pub fn run(
    a: &Invocation,
    b: &Invocation,
    mode: Mode,
    stderr: [Stderr; 2],
    limits: &Limits,
) -> io::Result<Outcome> {
    let started = Instant::now();
    let [stderr_a, stderr_b] = stderr;
    match mode {
        Mode::Direct => {
            let (from_a, to_b) = io::pipe()?;
            let (from_b, to_a) = io::pipe()?;
            let a = Spawned::start(a, wiring(Stdin::From(from_b), Stdout::To(to_b), stderr_a), limits)?;
            let b = Spawned::start(b, wiring(Stdin::From(from_a), Stdout::To(to_a), stderr_b), limits)?;
            Ok(finish(a, b, Vec::new(), false, started, limits))
        }
        Mode::Relay { fault, observer } => {
            let mut a = Spawned::start(a, wiring(Stdin::Piped, Stdout::Piped, stderr_a), limits)?;
            let mut b = Spawned::start(b, wiring(Stdin::Piped, Stdout::Piped, stderr_b), limits)?;
            let relay = Relay::start(&mut a, &mut b, fault, observer)?;
            let outcome = finish(a, b, Vec::new(), false, started, limits);
            Ok(relay.complete(outcome))
        }
    }
}

fn wiring(stdin: Stdin, stdout: Stdout, stderr: Stderr) -> Wiring {
    Wiring {
        stdin,
        stdout,
        stderr,
    }
}

/// Waits for both programs (within the time limit), kills both groups, collects.
fn finish(
    mut a: Spawned,
    mut b: Spawned,
    events: Vec<Event>,
    fault_fired: bool,
    started: Instant,
    limits: &Limits,
) -> Outcome {
    let deadline = started + limits.timeout;
    let mut backoff = Backoff::new();
    let (mut end_a, mut end_b) = (None, None);
    loop {
        end_a = end_a.or_else(|| a.ending());
        end_b = end_b.or_else(|| b.ending());
        if (end_a.is_some() && end_b.is_some()) || !backoff.pause_until(deadline) {
            break;
        }
    }
    let timed_out = Ending::TimedOut(limits.timeout);
    // Kill both before collecting either: killing A alone closes B's input, and B
    // would go on reacting to that while A's output is being gathered.
    a.kill();
    b.kill();
    let a = a.collect(end_a.unwrap_or(timed_out));
    let b = b.collect(end_b.unwrap_or(timed_out));
    Outcome {
        a: a.ending,
        b: b.ending,
        stderr_a: a.stderr,
        stderr_b: b.stderr,
        events,
        fault_fired,
        elapsed: started.elapsed(),
    }
}

/// What the relay shares between its two threads.
struct Shared {
    /// Messages forwarded so far, both directions together.
    forwarded: AtomicUsize,
    fault: Fault,
    fired: AtomicBool,
    /// The write ends of both stdins, so a cut can close both from either thread.
    stdin_a: Mutex<Option<std::process::ChildStdin>>,
    stdin_b: Mutex<Option<std::process::ChildStdin>>,
    group_a: Pid,
    events: Mutex<Vec<Event>>,
    observer: Option<Observer>,
}

struct Relay {
    shared: Arc<Shared>,
    done: mpsc::Receiver<()>,
}

/// How long to wait for the relay threads after both programs have ended.
const RELAY_GRACE: Duration = Duration::from_millis(500);

impl Relay {
    fn start(
        a: &mut Spawned,
        b: &mut Spawned,
        fault: Fault,
        observer: Option<Observer>,
    ) -> io::Result<Relay> {
        let missing = || io::Error::other("a relayed program's pipes were not set up");
        let out_a = a.take_stdout_lines().ok_or_else(missing)?;
        let out_b = b.take_stdout_lines().ok_or_else(missing)?;
        let shared = Arc::new(Shared {
            forwarded: AtomicUsize::new(0),
            fault,
            fired: AtomicBool::new(false),
            stdin_a: Mutex::new(a.take_stdin()),
            stdin_b: Mutex::new(b.take_stdin()),
            group_a: a.group(),
            events: Mutex::new(Vec::new()),
            observer,
        });
        let (done_sender, done) = mpsc::channel();
        for (direction, source) in [(Direction::AtoB, out_a), (Direction::BtoA, out_b)] {
            let shared = shared.clone();
            let done_sender = done_sender.clone();
            thread::spawn(move || {
                shared.pump(direction, source);
                let _ = done_sender.send(());
            });
        }
        Ok(Relay { shared, done })
    }

    /// Adds what the relay saw to the outcome of the (now ended) programs.
    fn complete(self, outcome: Outcome) -> Outcome {
        // Both groups are dead, so both pipes are closed and both pumps end soon.
        for _ in 0..2 {
            let _ = self.done.recv_timeout(RELAY_GRACE);
        }
        let events = self
            .shared
            .events
            .lock()
            .map(|events| events.clone())
            .unwrap_or_default();
        Outcome {
            events,
            fault_fired: self.shared.fired.load(Ordering::SeqCst),
            ..outcome
        }
    }
}

impl Shared {
    /// Forwards lines from one program's stdout to the other's stdin until
    /// end-of-file, recording each and applying the fault. A line longer than
    /// [`MAX_LINE`](crate::runner::MAX_LINE) is not read: the stream is cut, and the
    /// program's ending names the line.
    fn pump(&self, direction: Direction, mut source: Lines<ChildStdout>) {
        loop {
            let line = match source.next_line() {
                Next::Line(line) => line,
                Next::End => break,
                Next::TooLong(_) => {
                    self.cut();
                    break;
                }
            };
            let forwarded = !self.fired.load(Ordering::SeqCst) || self.fault == Fault::None;
            let forwarded = forwarded && self.forward(direction, line);
            let event = Event {
                direction,
                raw: without_newline(line).to_vec(),
                forwarded,
            };
            if let Some(observer) = &self.observer {
                observer(&event);
            }
            if let Ok(mut events) = self.events.lock() {
                events.push(event);
            }
            if forwarded {
                self.after_forwarding();
            }
        }
        // The source ended: the other side reads end-of-file from now on.
        self.close(direction);
    }

    /// Writes a line to the receiving program; false if it is gone or cut.
    fn forward(&self, direction: Direction, line: &[u8]) -> bool {
        let target = match direction {
            Direction::AtoB => &self.stdin_b,
            Direction::BtoA => &self.stdin_a,
        };
        let Ok(mut stdin) = target.lock() else {
            return false;
        };
        match stdin.as_mut() {
            Some(pipe) => pipe.write_all(line).and_then(|_| pipe.flush()).is_ok(),
            None => false,
        }
    }

    fn after_forwarding(&self) {
        let count = self.forwarded.fetch_add(1, Ordering::SeqCst) + 1;
        match self.fault {
            Fault::CutAfter(n) if count >= n => self.cut(),
            Fault::KillAAfter(n) if count == n => {
                self.fired.store(true, Ordering::SeqCst);
                kill_group(self.group_a);
            }
            _ => {}
        }
    }

    /// Cuts the conversation: nothing more is forwarded and both stdins close.
    fn cut(&self) {
        self.fired.store(true, Ordering::SeqCst);
        for stdin in [&self.stdin_a, &self.stdin_b] {
            if let Ok(mut stdin) = stdin.lock() {
                stdin.take();
            }
        }
    }

    fn close(&self, direction: Direction) {
        let target = match direction {
            Direction::AtoB => &self.stdin_b,
            Direction::BtoA => &self.stdin_a,
        };
        if let Ok(mut stdin) = target.lock() {
            stdin.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Invocation {
        Invocation {
            program: "sh".into(),
            args: vec![],
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            env: vec![],
        }
    }

    fn limits() -> Limits {
        Limits {
            timeout: Duration::from_secs(5),
            max_output: 1 << 16,
            ..Limits::default()
        }
    }

    /// Says hello, then echoes one line from the other side to stderr and exits.
    const GREETER: &str = "echo hello-from-$0; read line; echo \"got $line\" >&2";

    fn relay(fault: Fault) -> Mode {
        Mode::Relay {
            fault,
            observer: None,
        }
    }

    fn captured() -> [Stderr; 2] {
        [Stderr::Captured, Stderr::Captured]
    }

    #[test]
    fn direct_pipes_connect_both_ways() -> io::Result<()> {
        let (a, b) = (sh(GREETER), sh(GREETER));
        let out = run(&a, &b, Mode::Direct, captured(), &limits())?;
        assert_eq!((out.a, out.b), (Ending::Exited(0), Ending::Exited(0)));
        assert_eq!(out.stderr_a, b"got hello-from-sh\n");
        assert_eq!(out.stderr_b, b"got hello-from-sh\n");
        assert!(out.events.is_empty());
        Ok(())
    }

    #[test]
    fn the_relay_records_every_line_with_its_direction() -> io::Result<()> {
        let a = sh("echo one; echo two; read x; read y; echo \"$x $y\" >&2");
        let b = sh("read x; echo back; echo again; echo \"$x\" >&2");
        let out = run(&a, &b, relay(Fault::None), captured(), &limits())?;
        assert_eq!((out.a, out.b), (Ending::Exited(0), Ending::Exited(0)));
        assert_eq!(out.stderr_a, b"back again\n");
        assert_eq!(out.stderr_b, b"one\n");
        let a_to_b: Vec<&[u8]> = out
            .events
            .iter()
            .filter(|e| e.direction == Direction::AtoB)
            .map(|e| e.raw.as_slice())
            .collect();
        assert_eq!(a_to_b, vec![&b"one"[..], b"two"]);
        assert_eq!(out.events.len(), 4);
        Ok(())
    }

    #[test]
    fn a_cut_closes_both_stdins() -> io::Result<()> {
        // A sends three lines and waits for end-of-file; B reads until end-of-file.
        let a = sh("echo 1; echo 2; echo 3; cat >/dev/null; echo a-saw-eof >&2");
        let b = sh("cat >&2");
        let out = run(&a, &b, relay(Fault::CutAfter(2)), captured(), &limits())?;
        assert!(out.fault_fired);
        assert_eq!(out.stderr_b, b"1\n2\n");
        assert_eq!(out.stderr_a, b"a-saw-eof\n");
        assert_eq!(out.events.iter().filter(|e| e.forwarded).count(), 2);
        Ok(())
    }

    #[test]
    fn a_kill_takes_down_a_only() -> io::Result<()> {
        let a = sh("echo 1; echo 2; sleep 30");
        let b = sh("cat >&2");
        let out = run(&a, &b, relay(Fault::KillAAfter(1)), captured(), &limits())?;
        assert_eq!(out.a, Ending::Signalled(9));
        assert_eq!(out.b, Ending::Exited(0));
        // The relay's kill ended it, not the time limit (which would read as a timeout):
        // asserted by what happened, never by how long it took on a busy machine.
        assert!(out.fault_fired);
        Ok(())
    }

    #[test]
    fn a_line_without_end_cuts_the_stream_and_names_its_printer() -> io::Result<()> {
        // A prints 64 MiB without a newline: the relay reads 1 MiB of it, no more.
        let a = sh("head -c 67108864 /dev/zero; sleep 30");
        let b = sh("cat >/dev/null; echo b-saw-eof >&2");
        let out = run(&a, &b, relay(Fault::None), captured(), &limits())?;
        assert_eq!(
            out.a,
            Ending::LineTooLong(crate::runner::MAX_LINE, crate::runner::OutputStream::Stdout)
        );
        assert_eq!(out.stderr_b, b"b-saw-eof\n");
        assert!(out.events.is_empty());
        Ok(())
    }

    #[test]
    fn a_hang_times_out_and_nothing_is_left() -> io::Result<()> {
        let a = sh("sleep 30");
        let b = sh("cat");
        let mut short = limits();
        short.timeout = Duration::from_millis(300);
        let out = run(&a, &b, relay(Fault::None), captured(), &short)?;
        assert_eq!(out.a, Ending::TimedOut(short.timeout));
        assert_eq!(out.b, Ending::TimedOut(short.timeout));
        Ok(())
    }
}
