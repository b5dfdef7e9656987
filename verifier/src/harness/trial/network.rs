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
use crate::runner::{Ending, Invocation, Resources, Spawned, Stderr, Stdin, Stdout, Wiring};
use std::io::{BufRead, BufReader, Read, Write};
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
    /// `shown` (live processes run with ports that change on every run).
    pub fn start(
        trial: &mut Trial,
        who: Who,
        program: &str,
        args: &[&str],
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
        let mut process = Spawned::start(&invocation, wiring, &limits)
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        if let Some(stdout) = process.take_stdout() {
            thread::spawn(move || read_lines(stdout, on_line));
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

/// Hands each line of `stdout` to `on_line` until the end, or until it says stop.
fn read_lines<R: Read>(stdout: R, mut on_line: impl FnMut(&[u8]) -> bool) {
    let reader = BufReader::new(stdout);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        if !on_line(&line) {
            break;
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
    stop: Arc<AtomicBool>,
}

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
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (open, connections, crossings, stop) = (
            relay.open.clone(),
            relay.connections.clone(),
            relay.crossings.clone(),
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
        let (connection, crossings) = (self.connection, self.crossings.clone());
        thread::spawn(move || copy_lines(inbound, outbound_copy, connection, true, &crossings));
        let crossings = self.crossings;
        thread::spawn(move || copy_lines(outbound, inbound_copy, connection, false, &crossings));
    }
}

/// Copies `from` to `to` line by line, recording each line, then closes both.
fn copy_lines(
    from: TcpStream,
    mut to: TcpStream,
    connection: usize,
    forward: bool,
    crossings: &Mutex<Vec<Crossing>>,
) {
    let mut reader = BufReader::new(&from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if to.write_all(&line).is_err() {
            break;
        }
        if let Ok(mut crossings) = crossings.lock()
            && crossings.len() < MAX_RECORDED
        {
            let text = line.strip_suffix(b"\n").unwrap_or(&line).to_vec();
            crossings.push(Crossing {
                connection,
                forward,
                line: text,
            });
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
