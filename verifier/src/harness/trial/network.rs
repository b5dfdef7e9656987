//! Live processes behind TCP relays: the harness for checks of long-running programs
//! that talk to each other over the network (gossip peers, 2PC nodes).
//!
//! A [`LiveProcess`] is a program that runs for a whole check: the verifier types on
//! its stdin and hands each line it prints to a callback, as the lines come. Such
//! programs never connect to each other directly: a dialling one is given the address
//! of a [`Relay`], and the relay connects on to the listening one. Cutting a relay
//! closes its connections and refuses new ones (a partition); healing it lets the
//! dialler reconnect. The relay also records every line that crosses it, so a check
//! can count what went where. Every process is in its own process group and is killed
//! when it is stopped or dropped.

use super::{Failure, RunLog, Trial, Who};
use crate::runner::Lines;
use crate::runner::lines::{Next, without_newline};
use crate::runner::{Ending, Invocation, NetworkPolicy, Resources, Spawned, Stderr, Stdin, Stdout, Wiring};
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ChildStdin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// CPU time a live process may use over a whole check (it is mostly idle, waiting).
const LIVE_CPU: Duration = Duration::from_secs(30);

/// Most lines one relay records (beyond that it still relays, without recording).
const MAX_RECORDED: usize = 200_000;

/// A program that runs for the whole check, fed on stdin, read line by line.
pub struct LiveProcess {
    process: Option<Spawned>,
    stdin: Option<ChildStdin>,
    invocation: Invocation,
}

impl LiveProcess {
    /// Starts `program` of `who` with `args`; every line it prints on stdout (without
    /// its `\n`) goes to `on_line`, in a thread of its own. The transcript shows
    /// `shown` (live processes run with ports that change on every run). It may bind
    /// and connect only the ports `network` names (where the sandbox applies).
    pub fn start(
        trial: &mut Trial,
        (who, program, args): (Who, &str, &[&str]),
        network: &NetworkPolicy,
        shown: String,
        on_line: impl FnMut(&[u8]) -> bool + Send + 'static,
    ) -> Result<LiveProcess, Failure> {
        let invocation = trial.invocation(who, program, args)?;
        trial.transcript.push(shown);
        let wiring = Wiring {
            stdin: Stdin::Piped,
            stdout: Stdout::Piped,
            stderr: Stderr::Captured,
        };
        // A live process runs for the whole check: its limit is the check's, not a run's.
        let limits = trial.context.limits;
        let limits = crate::runner::Limits {
            timeout: Duration::from_secs(3600),
            resources: limits.resources.map(|r| Resources { cpu: LIVE_CPU, ..r }),
            ..limits
        };
        let mut process = Spawned::start_networked(&invocation, wiring, &limits, network)
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        if let Some(mut stdout) = process.take_stdout_lines() {
            // A line too long ends the reading; the process's ending names it.
            thread::spawn(move || stdout.each(on_line));
        }
        Ok(LiveProcess {
            stdin: process.take_stdin(),
            process: Some(process),
            invocation,
        })
    }

    /// Types one line on its stdin; false if it no longer reads it.
    pub fn type_line(&mut self, text: &str) -> bool {
        match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{text}").and_then(|_| stdin.flush()).is_ok(),
            None => false,
        }
    }

    /// Closes its stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// How it ended, if it has.
    pub fn ending(&mut self) -> Option<Ending> {
        self.process.as_mut().and_then(Spawned::ending)
    }

    /// Whether it is still running (not stopped by the check).
    pub fn running(&self) -> bool {
        self.process.is_some()
    }

    /// Its process group, to signal it from another thread (a fault injector).
    pub fn group(&self) -> Option<nix::unistd::Pid> {
        self.process.as_ref().map(Spawned::group)
    }

    /// Stops it (SIGKILL to its group), keeping its stderr for the report. One that
    /// already ended by itself keeps its own ending, unless `killed` says the check
    /// kills it on purpose.
    pub fn stop(&mut self, trial: &mut Trial, killed: bool) {
        self.stdin = None;
        if let Some(mut process) = self.process.take() {
            let ending = match (killed, process.ending()) {
                (false, Some(ended)) => ended,
                // What it printed ended it before the check did.
                (true, Some(ended)) if ended.flooded() => ended,
                _ => Ending::Signalled(9),
            };
            let finished = process.collect(ending);
            trial.runs.push(RunLog {
                invocation: self.invocation.clone(),
                ending: finished.ending,
                stderr: finished.stderr,
            });
        }
    }
}

/// One line that crossed a relay.
#[derive(Debug, Clone)]
pub struct Crossing {
    /// Which connection through the relay, counted from 0 in order of acceptance.
    pub connection: usize,
    /// From the dialler to the listener (else the other way).
    pub forward: bool,
    /// The line, without its `\n`.
    pub line: Vec<u8>,
}

/// A TCP relay that can be cut and healed, and records what crosses it.
pub struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    crossings: Arc<Mutex<Vec<Crossing>>>,
    too_long: TooLong,
    stop: Arc<AtomicBool>,
}

/// Which way a line too long went through a relay, if one did (`true`: from the
/// dialler). The relay closed that connection without reading it.
type TooLong = Arc<Mutex<Option<bool>>>;

impl Relay {
    /// A relay on a free local port, to `127.0.0.1:target`.
    pub fn start(target: u16) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let relay = Relay {
            port: listener.local_addr()?.port(),
            open: Arc::new(AtomicBool::new(true)),
            connections: Arc::default(),
            crossings: Arc::default(),
            too_long: Arc::default(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (open, connections, crossings, too_long, stop) = (
            relay.open.clone(),
            relay.connections.clone(),
            relay.crossings.clone(),
            relay.too_long.clone(),
            relay.stop.clone(),
        );
        thread::spawn(move || {
            let mut accepted = 0;
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((inbound, _)) => {
                        if open.load(Ordering::SeqCst) {
                            let wiring = Splice {
                                target,
                                connection: accepted,
                                connections: connections.clone(),
                                crossings: crossings.clone(),
                                too_long: too_long.clone(),
                            };
                            accepted += 1;
                            wiring.splice(inbound);
                        }
                        // When cut, dropping `inbound` refuses the connection.
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(relay)
    }

    /// The port to dial.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every line that crossed so far, in order.
    pub fn crossings(&self) -> Vec<Crossing> {
        self.crossings.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Whether a line longer than [`MAX_LINE`](crate::runner::MAX_LINE) crossed (then `Some(true)` if from the
    /// dialler): the relay closed that connection instead of reading it.
    pub fn line_too_long(&self) -> Option<bool> {
        self.too_long.lock().ok().and_then(|too_long| *too_long)
    }

    /// Closes every connection through the relay and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        if let Ok(mut connections) = self.connections.lock() {
            for connection in connections.drain(..) {
                let _ = connection.shutdown(Shutdown::Both);
            }
        }
    }

    /// Accepts connections again.
    pub fn heal(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cut();
    }
}

/// One connection through a relay, being set up.
struct Splice {
    target: u16,
    connection: usize,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    crossings: Arc<Mutex<Vec<Crossing>>>,
    too_long: TooLong,
}

impl Splice {
    /// Connects `inbound` to the target port and copies lines both ways.
    fn splice(self, inbound: TcpStream) {
        let _ = inbound.set_nonblocking(false);
        let Ok(outbound) = TcpStream::connect(("127.0.0.1", self.target)) else {
            return; // The listener is down (restarting): the dialler will retry.
        };
        let _ = outbound.set_nodelay(true);
        let _ = inbound.set_nodelay(true);
        let streams = (inbound.try_clone(), outbound.try_clone());
        let (Ok(inbound_copy), Ok(outbound_copy)) = streams else {
            return;
        };
        if let Ok(mut connections) = self.connections.lock() {
            connections.extend([inbound.try_clone(), outbound.try_clone()].into_iter().flatten());
        }
        let forward = Direction {
            connection: self.connection,
            forward: true,
            crossings: self.crossings,
            too_long: self.too_long,
        };
        let backward = Direction {
            forward: false,
            crossings: forward.crossings.clone(),
            too_long: forward.too_long.clone(),
            ..forward
        };
        thread::spawn(move || forward.copy_lines(inbound, outbound_copy));
        thread::spawn(move || backward.copy_lines(outbound, inbound_copy));
    }
}

/// One direction of a connection through a relay.
struct Direction {
    connection: usize,
    forward: bool,
    crossings: Arc<Mutex<Vec<Crossing>>>,
    too_long: TooLong,
}

impl Direction {
    /// Copies `from` to `to` line by line, recording each line, then closes both. A
    /// line longer than [`MAX_LINE`](crate::runner::MAX_LINE) is not read: it is noted, and both are closed.
    fn copy_lines(self, from: TcpStream, mut to: TcpStream) {
        let mut lines = Lines::new(&from);
        loop {
            let line = match lines.next_line() {
                Next::Line(line) => line,
                Next::End => break,
                Next::TooLong(_) => {
                    if let Ok(mut too_long) = self.too_long.lock() {
                        too_long.get_or_insert(self.forward);
                    }
                    break;
                }
            };
            if to.write_all(line).is_err() {
                break;
            }
            if let Ok(mut crossings) = self.crossings.lock()
                && crossings.len() < MAX_RECORDED
            {
                crossings.push(Crossing {
                    connection: self.connection,
                    forward: self.forward,
                    line: without_newline(line).to_vec(),
                });
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_relay_closes_a_connection_that_sends_a_line_without_end() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let relay = Relay::start(listener.local_addr()?.port())?;
        let mut dialler = TcpStream::connect(("127.0.0.1", relay.port()))?;
        let (mut accepted, _) = listener.accept()?;
        dialler.write_all(b"hello\n")?;
        // 8 MiB without a newline: the relay stops after 1 MiB and closes both ends
        // (the rest fills the socket's buffers: the writer then blocks, as a program
        // would until it is stopped).
        dialler.set_write_timeout(Some(Duration::from_secs(2)))?;
        let endless = vec![b'x'; 8 << 20];
        let _ = dialler.write_all(&endless);
        let mut received = Vec::new();
        accepted.set_read_timeout(Some(Duration::from_secs(10)))?;
        accepted.read_to_end(&mut received)?;
        assert_eq!(received, b"hello\n");
        assert_eq!(relay.line_too_long(), Some(true));
        assert_eq!(relay.crossings().len(), 1);
        Ok(())
    }
}
