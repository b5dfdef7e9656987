//! Duplex wiring: two programs talking through each other's stdin and stdout.
//!
//! This is `dupsh`: A's stdout goes into B's stdin, and B's stdout into A's stdin, so a
//! symmetric protocol can be tried without any network. The verifier can wire them
//! *directly* (two OS pipes, nothing in between: what a benchmark wants) or through a
//! *relay*: one thread per direction that reads each line, records it, and forwards
//! it. The relay is what lets the verifier draw a transcript, count entries on the wire,
//! and inject faults: cut both directions after the n-th message, or kill one peer.

use crate::harness::timeline::{Recorder, Timeline, What, probe};
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
    /// The lanes of the timeline: (sender, receiver).
    pub fn lanes(self) -> (&'static str, &'static str) {
        match self {
            Direction::AtoB => ("A", "B"),
            Direction::BtoA => ("B", "A"),
        }
    }

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
    /// What happened, when: starts, messages (relay only), closes, exits, and what a
    /// side still running was doing when the time ran out.
    pub timeline: Timeline,
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
    let recorder = match mode {
        Mode::Direct => Recorder::unrelayed(&["A", "B"]),
        Mode::Relay { .. } => Recorder::new(&["A", "B"]),
    };
    let (command_a, command_b) = (a.short_line(), b.short_line());
    match mode {
        Mode::Direct => {
            let (from_a, to_b) = io::pipe()?;
            let (from_b, to_a) = io::pipe()?;
            let a = Spawned::start(a, wiring(Stdin::From(from_b), Stdout::To(to_b), stderr_a), limits)?;
            recorder.record("A", What::Started { command: command_a });
            let b = Spawned::start(b, wiring(Stdin::From(from_a), Stdout::To(to_a), stderr_b), limits)?;
            recorder.record("B", What::Started { command: command_b });
            Ok(finish(a, b, started, limits, &recorder))
        }
        Mode::Relay { fault, observer } => {
            let mut a = Spawned::start(a, wiring(Stdin::Piped, Stdout::Piped, stderr_a), limits)?;
            recorder.record("A", What::Started { command: command_a });
            let mut b = Spawned::start(b, wiring(Stdin::Piped, Stdout::Piped, stderr_b), limits)?;
            recorder.record("B", What::Started { command: command_b });
            let relay = Relay::start(&mut a, &mut b, fault, observer, &recorder)?;
            let outcome = finish(a, b, started, limits, &recorder);
            Ok(relay.complete(outcome, &recorder))
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
fn finish(mut a: Spawned, mut b: Spawned, started: Instant, limits: &Limits, recorder: &Recorder) -> Outcome {
    let deadline = started + limits.timeout;
    let mut backoff = Backoff::new();
    let (mut end_a, mut end_b) = (None, None);
    loop {
        for (lane, spawned, end) in [("A", &mut a, &mut end_a), ("B", &mut b, &mut end_b)] {
            if end.is_none() {
                *end = spawned.ending();
                if let Some(ending) = end {
                    recorder.record(
                        lane,
                        What::Ended {
                            how: ending.describe(),
                        },
                    );
                }
            }
        }
        if (end_a.is_some() && end_b.is_some()) || !backoff.pause_until(deadline) {
            break;
        }
    }
    let timed_out = Ending::TimedOut(limits.timeout);
    // Before killing: what was each side still running doing when the time ran out?
    for (lane, spawned, end) in [("A", &a, end_a), ("B", &b, end_b)] {
        if end.is_none()
            && let Some((waiting, output_open)) = probe(spawned.group().as_raw())
        {
            recorder.record(lane, What::TimeLimit { waiting, output_open });
        }
    }
    // Kill both before collecting either: killing A alone closes B's input, and B
    // would go on reacting to that while A's output is being gathered.
    a.kill();
    b.kill();
    let a = a.collect(end_a.unwrap_or(timed_out));
    let b = b.collect(end_b.unwrap_or(timed_out));
    for (lane, end) in [("A", end_a), ("B", end_b)] {
        if end.is_none() {
            recorder.record(
                lane,
                What::Ended {
                    how: timed_out.describe(),
                },
            );
        }
    }
    Outcome {
        a: a.ending,
        b: b.ending,
        stderr_a: a.stderr,
        stderr_b: b.stderr,
        events: Vec::new(),
        fault_fired: false,
        elapsed: started.elapsed(),
        timeline: recorder.timeline(),
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
    recorder: Recorder,
}

struct Relay {
    shared: Arc<Shared>,
    done: mpsc::Receiver<()>,
}

/// The lane of what the verifier itself did (a cut), beside the programs' lanes.
pub const VERIFIER_LANE: &str = "verifier";

/// How long to wait for the relay threads after both programs have ended.
const RELAY_GRACE: Duration = Duration::from_millis(500);

impl Relay {
    fn start(
        a: &mut Spawned,
        b: &mut Spawned,
        fault: Fault,
        observer: Option<Observer>,
        recorder: &Recorder,
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
            recorder: recorder.clone(),
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
    fn complete(self, outcome: Outcome, recorder: &Recorder) -> Outcome {
        // Both groups are dead, so both pipes are closed and both pumps end soon.
        for _ in 0..2 {
            let _ = self.done.recv_timeout(RELAY_GRACE);
        }
        let timeline = recorder.timeline();
        let events = self
            .shared
            .events
            .lock()
            .map(|events| events.clone())
            .unwrap_or_default();
        Outcome {
            events,
            fault_fired: self.shared.fired.load(Ordering::SeqCst),
            timeline,
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
            let (lane, to) = direction.lanes();
            self.recorder.record(
                lane,
                What::Sent {
                    to: to.to_string(),
                    raw: String::from_utf8_lossy(&event.raw).into_owned(),
                    shown: None,
                    forwarded,
                },
            );
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
        self.recorder.record(direction.lanes().0, What::Closed);
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
                self.recorder.record("A", What::Killed);
                kill_group(self.group_a);
            }
            _ => {}
        }
    }

    /// Cuts the conversation: nothing more is forwarded and both stdins close.
    fn cut(&self) {
        if !self.fired.swap(true, Ordering::SeqCst) {
            self.recorder.record(VERIFIER_LANE, What::Cut);
        }
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

    /// A side that says its last word but keeps its output open, and waits for the
    /// other's end-of-file; the other does the same: the timeline shows both messages,
    /// no close before the time limit, and both waiting to read with their output open.
    #[test]
    fn the_timeline_shows_who_never_closed_its_output() -> io::Result<()> {
        let holds_open = "echo end-from-$0; while read line; do :; done";
        let mut short = limits();
        // Long enough for both to reach their read on a loaded machine.
        short.timeout = Duration::from_millis(2000);
        for mode in [relay(Fault::None), Mode::Direct] {
            let relayed = matches!(mode, Mode::Relay { .. });
            let out = run(&sh(holds_open), &sh(holds_open), mode, captured(), &short)?;
            let timeline = &out.timeline;
            assert_eq!(timeline.lanes, vec!["A", "B"]);
            for lane in ["A", "B"] {
                assert!(!timeline.closed_in_time(lane), "{timeline:?}");
                if cfg!(target_os = "linux") {
                    let (waiting, open) = timeline.at_time_limit(lane).expect("probed at the time limit");
                    assert!(open, "{lane}'s output is still open");
                    assert_eq!(waiting, crate::harness::timeline::Waiting::Reading);
                }
                let sent: Vec<&str> = timeline.sent_by(lane).collect();
                assert_eq!(sent, if relayed { vec!["end-from-sh"] } else { vec![] });
            }
        }
        Ok(())
    }

    #[test]
    fn the_timeline_records_starts_messages_closes_and_exits() -> io::Result<()> {
        let out = run(
            &sh(GREETER),
            &sh(GREETER),
            relay(Fault::None),
            captured(),
            &limits(),
        )?;
        let kinds: Vec<&str> = out
            .timeline
            .of("A")
            .map(|what| match what {
                What::Started { .. } => "started",
                What::Sent { .. } => "sent",
                What::Closed => "closed",
                What::Ended { .. } => "ended",
                _ => "other",
            })
            .collect();
        // The relay threads read what A wrote while the exit is polled: after the
        // start, these race each other.
        assert_eq!(kinds.first(), Some(&"started"), "{kinds:?}");
        let mut rest = kinds[1..].to_vec();
        rest.sort();
        assert_eq!(rest, vec!["closed", "ended", "sent"]);
        assert!(out.timeline.closed_in_time("A"));
        Ok(())
    }
}
