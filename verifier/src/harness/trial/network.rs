//! Networks: live peers on TCP, every link through a relay the verifier controls.
//!
//! Each peer is a long-running process: the verifier types entries on its stdin and
//! reads the records it prints, as they come. Peers never connect to each other
//! directly: a dialling peer is given the address of a relay, and the relay connects
//! on to the listening peer. Cutting a link closes the relay's connections and refuses
//! new ones (a partition); healing it lets the dialler reconnect. Every peer is in
//! its own process group and is killed when the network is dropped.

use super::{Failure, RunLog, Trial, Who};
use crate::course::shapes::LOG_ENTRY;
use crate::harness::records::parse_line;
use crate::runner::{Ending, Invocation, Limits, Resources, Spawned, Stderr, Stdin, Stdout, Wiring, seconds};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ChildStdin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An entry as a peer printed it: (log's peer id, seq, text).
pub type Entry = (String, u64, String);

/// How long a network may take to spread an entry everywhere.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(15);

/// CPU time a peer may use over a whole check (it is mostly idle, waiting).
const NETWORK_CPU: Duration = Duration::from_secs(30);

/// Most records one peer may print before it counts as flooding.
const MAX_RECORDS: usize = 100_000;

/// What one running peer process has printed.
#[derive(Debug, Default)]
struct Printed {
    entries: Vec<Entry>,
    /// Lines that were not records, with the reason.
    garbage: Vec<String>,
}

/// One peer of the network.
struct Node {
    name: String,
    who: Who,
    port: u16,
    /// Relay ports this peer dials (`--connect`).
    dials: Vec<u16>,
    process: Option<Spawned>,
    stdin: Option<ChildStdin>,
    printed: Arc<Mutex<Printed>>,
    invocation: Option<Invocation>,
}

/// A link: `dialler` connects, through a relay, to `listener`.
pub struct Link {
    pub dialler: usize,
    pub listener: usize,
    relay: Relay,
}

/// A TCP relay that can be cut and healed.
struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

/// A running network of peers.
pub struct Network {
    nodes: Vec<Node>,
    links: Vec<Link>,
    limits: Limits,
}

impl Network {
    /// Starts one peer per entry of `who` (named p1, p2, …), linked as `links` says
    /// (`(a, b)`: peer a dials peer b, indexes from 0). The transcript names the
    /// topology, not the ports (they change on every run).
    pub fn start(trial: &mut Trial, who: &[Who], links: &[(usize, usize)]) -> Result<Network, Failure> {
        let mut nodes = Vec::new();
        for (index, who) in who.iter().enumerate() {
            nodes.push(Node {
                name: format!("p{}", index + 1),
                who: *who,
                port: free_port().map_err(|e| Failure::new(format!("cannot find a free port: {e}")))?,
                dials: Vec::new(),
                process: None,
                stdin: None,
                printed: Arc::default(),
                invocation: None,
            });
        }
        let mut network = Network {
            nodes,
            links: Vec::new(),
            limits: trial.context.limits,
        };
        for &(dialler, listener) in links {
            let target = network.nodes[listener].port;
            let relay =
                Relay::start(target).map_err(|e| Failure::new(format!("cannot start a relay: {e}")))?;
            network.nodes[dialler].dials.push(relay.port);
            network.links.push(Link {
                dialler,
                listener,
                relay,
            });
        }
        let shown: Vec<String> = network
            .links
            .iter()
            .map(|l| {
                format!(
                    "{}–{}",
                    network.nodes[l.dialler].name, network.nodes[l.listener].name
                )
            })
            .collect();
        trial.note(&format!(
            "a network of {} peers, links {}",
            network.nodes.len(),
            shown.join(", ")
        ));
        for index in 0..network.nodes.len() {
            network.launch(trial, index)?;
        }
        Ok(network)
    }

    /// The peers' names, p1 … pN.
    pub fn name(&self, index: usize) -> &str {
        &self.nodes[index].name
    }

    fn launch(&mut self, trial: &mut Trial, index: usize) -> Result<(), Failure> {
        let node = &mut self.nodes[index];
        let db = format!("{}.db", node.name);
        let port = node.port.to_string();
        let connects: Vec<String> = node.dials.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut args: Vec<&str> = vec!["--db", &db, "--port", &port];
        for address in &connects {
            args.push("--connect");
            args.push(address);
        }
        let invocation = trial.invocation(node.who, "peer", &args)?;
        // Ports change on every run; the transcript names them by role.
        let who = match node.who {
            Who::Tested => "",
            Who::Reference => "[reference] ",
        };
        let connects = " --connect RELAY".repeat(node.dials.len());
        trial.transcript.push(format!(
            "$ {who}peer --db {db} --port PORT{connects} &   ({})",
            node.name
        ));
        let wiring = Wiring {
            stdin: Stdin::Piped,
            stdout: Stdout::Piped,
            stderr: Stderr::Captured,
        };
        // A peer runs for the whole check: its limit is the network's, not a run's.
        let limits = Limits {
            timeout: Duration::from_secs(3600),
            resources: self.limits.resources.map(|r| Resources {
                cpu: NETWORK_CPU,
                ..r
            }),
            ..self.limits
        };
        let mut process = Spawned::start(&invocation, wiring, &limits)
            .map_err(|e| Failure::new(format!("could not start `{}`: {e}", invocation.short_line())))?;
        let printed: Arc<Mutex<Printed>> = Arc::default();
        if let Some(stdout) = process.take_stdout() {
            let printed = printed.clone();
            thread::spawn(move || read_records(stdout, &printed));
        }
        node.stdin = process.take_stdin();
        node.process = Some(process);
        node.printed = printed;
        node.invocation = Some(invocation);
        Ok(())
    }

    /// Types `text` on a peer's stdin and waits until that peer prints it as its own
    /// new entry. Returns the entry.
    pub fn write(&mut self, trial: &mut Trial, index: usize, text: &str) -> Result<Entry, Failure> {
        let name = self.nodes[index].name.clone();
        trial
            .transcript
            .push(format!("{name} < {}", serde_json::Value::from(text)));
        let written = match self.nodes[index].stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{text}").and_then(|_| stdin.flush()).is_ok(),
            None => false,
        };
        if !written {
            return Err(self.failed(
                trial,
                format!("{name} no longer reads its stdin (has it exited?)"),
            ));
        }
        let deadline = Instant::now() + self.limits.timeout;
        loop {
            if let Some(entry) = self.printed(index).into_iter().find(|(_, _, t)| t == text) {
                trial.placeholder("peer", &entry.0);
                return Ok(entry);
            }
            if let Some(failure) = self.check_health(index) {
                return Err(self.failed(trial, failure));
            }
            if Instant::now() >= deadline {
                return Err(self
                    .failed(trial, format!("{name} did not print the entry typed on its stdin within {}", seconds(self.limits.timeout)))
                    .detail("Each line typed on stdin is appended to the peer's own log and printed as a record at once (flush stdout)."));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until every running peer has printed exactly `expected` (each entry once),
    /// then shows the converged state in the transcript.
    pub fn converge(&mut self, trial: &mut Trial, expected: &BTreeSet<Entry>) -> Result<(), Failure> {
        let deadline = Instant::now() + CONVERGE_TIMEOUT;
        loop {
            let mut all = true;
            for index in 0..self.nodes.len() {
                if self.nodes[index].process.is_none() {
                    continue; // Killed, not started again yet.
                }
                if let Some(failure) = self.check_health(index) {
                    return Err(self.failed(trial, failure));
                }
                let printed: BTreeSet<Entry> = self.printed(index).into_iter().collect();
                if let Some(extra) = printed.difference(expected).next() {
                    let name = self.nodes[index].name.clone();
                    let log = trial.placeholder("peer", &extra.0);
                    return Err(self.failed(
                        trial,
                        format!(
                            "{name} printed <{log}, {}, {:?}>, which nobody wrote",
                            extra.1, extra.2
                        ),
                    ));
                }
                all &= printed.len() == expected.len();
            }
            if all {
                break;
            }
            if Instant::now() >= deadline {
                return Err(self.not_converged(trial, expected));
            }
            thread::sleep(Duration::from_millis(10));
        }
        let mut sorted: Vec<Entry> = expected.iter().cloned().collect();
        sorted.sort_by_key(|(peer, seq, _)| {
            (
                crate::harness::redact::placeholder_number(&trial.placeholder("peer", peer)),
                *seq,
            )
        });
        trial.transcript.push(format!(
            "every peer printed these {} entries, each once:",
            sorted.len()
        ));
        for (peer, seq, text) in sorted {
            let peer = trial.placeholder("peer", &peer);
            trial
                .transcript
                .push(format!("  <{peer}, {seq}, {}>", serde_json::Value::from(text)));
        }
        Ok(())
    }

    /// Cuts a link: its connections close and new ones are refused until healed.
    pub fn cut(&mut self, trial: &mut Trial, link: usize) {
        let (a, b) = self.link_names(link);
        trial.note(&format!("the verifier cuts the link {a}–{b}"));
        self.links[link].relay.cut();
    }

    /// Heals a cut link: the dialler may connect again.
    pub fn heal(&mut self, trial: &mut Trial, link: usize) {
        let (a, b) = self.link_names(link);
        trial.note(&format!("the verifier heals the link {a}–{b}"));
        self.links[link].relay.heal();
    }

    /// Kills a peer with SIGKILL; the others go on without it.
    pub fn kill(&mut self, trial: &mut Trial, index: usize) {
        let name = self.nodes[index].name.clone();
        trial.note(&format!("the verifier kills {name} with SIGKILL"));
        self.stop(trial, index, true);
    }

    /// Starts a killed peer again, on the same database and port.
    pub fn start_again(&mut self, trial: &mut Trial, index: usize) -> Result<(), Failure> {
        let name = self.nodes[index].name.clone();
        trial.note(&format!("{name} starts again on the same database"));
        self.launch(trial, index)
    }

    /// Stops every peer, keeping their stderr for the report.
    pub fn finish(mut self, trial: &mut Trial) {
        for index in 0..self.nodes.len() {
            self.stop(trial, index, false);
        }
    }

    fn link_names(&self, link: usize) -> (String, String) {
        let link = &self.links[link];
        (
            self.nodes[link.dialler].name.clone(),
            self.nodes[link.listener].name.clone(),
        )
    }

    fn printed(&self, index: usize) -> Vec<Entry> {
        self.nodes[index]
            .printed
            .lock()
            .map(|p| p.entries.clone())
            .unwrap_or_default()
    }

    /// A problem with a running peer: exited, printed garbage or an entry twice.
    fn check_health(&mut self, index: usize) -> Option<String> {
        let node = &mut self.nodes[index];
        let name = node.name.clone();
        if let Some(process) = node.process.as_mut()
            && let Some(ending) = process.ending()
        {
            return Some(format!(
                "{name} {} while the network was running",
                ending.describe()
            ));
        }
        let printed = node.printed.lock().ok()?;
        if let Some(garbage) = printed.garbage.first() {
            return Some(format!("{name} printed a line that is not a record: {garbage}"));
        }
        let mut seen = BTreeSet::new();
        for entry in &printed.entries {
            if !seen.insert(entry) {
                return Some(format!(
                    "{name} printed the entry {:?} twice: print an entry only when you store it as new",
                    entry.2
                ));
            }
        }
        None
    }

    fn stop(&mut self, trial: &mut Trial, index: usize, killed: bool) {
        let node = &mut self.nodes[index];
        node.stdin = None;
        if let (Some(mut process), Some(invocation)) = (node.process.take(), node.invocation.take()) {
            // A peer that already ended keeps its own ending; the others are killed.
            let ending = match (killed, process.ending()) {
                (false, Some(ended)) => ended,
                _ => Ending::Signalled(9),
            };
            let finished = process.collect(ending);
            trial.runs.push(RunLog {
                invocation,
                ending: finished.ending,
                stderr: finished.stderr,
            });
        }
    }

    /// Stops everything and turns a problem into a failure with evidence.
    fn failed(&mut self, trial: &mut Trial, summary: String) -> Failure {
        for index in 0..self.nodes.len() {
            self.stop(trial, index, false);
        }
        Failure::new(summary)
    }

    fn not_converged(&mut self, trial: &mut Trial, expected: &BTreeSet<Entry>) -> Failure {
        let mut failure = Failure::new(format!(
            "the network did not converge within {}: not every peer printed every entry",
            seconds(CONVERGE_TIMEOUT)
        ));
        for index in 0..self.nodes.len() {
            let printed: BTreeSet<Entry> = self.printed(index).into_iter().collect();
            let missing: Vec<String> = expected
                .difference(&printed)
                .map(|(peer, seq, text)| format!("<{}, {seq}, {:?}>", trial.placeholder("peer", peer), text))
                .collect();
            let name = &self.nodes[index].name;
            if !missing.is_empty() {
                failure = failure.detail(format!("{name} lacks {}: {}", missing.len(), missing.join(" ")));
            }
        }
        failure = failure.detail(
            "Forward every entry you store to every other connection that lacks it, and reconnect when a link drops.",
        );
        let _ = self.failed(trial, String::new());
        failure
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for link in &self.links {
            link.relay.stop();
        }
    }
}

/// Reads a peer's stdout as it comes, one record per line.
fn read_records<R: Read>(stdout: R, printed: &Mutex<Printed>) {
    let reader = BufReader::new(stdout);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(mut printed) = printed.lock() else { break };
        match parse_line(&line, &LOG_ENTRY) {
            Ok(record) => {
                if let (Some(peer), Some(seq), Some(text)) =
                    (record.text("peer"), record.number("seq"), record.text("entry"))
                {
                    printed.entries.push((peer.to_string(), seq, text.to_string()));
                }
            }
            Err(problem) => {
                let text = crate::harness::records::shorten(&String::from_utf8_lossy(&line), 80);
                printed.garbage.push(format!("{text} ({problem})"));
            }
        }
        if printed.entries.len() > MAX_RECORDS {
            printed
                .garbage
                .push(format!("more than {MAX_RECORDS} records: a flood"));
            break;
        }
    }
}

/// A port for a peer to listen on: free right now (we bind it to be sure, then let
/// go), and below the kernel's range of ephemeral ports, so that no outgoing
/// connection of any process can take it before the peer binds it. (A port the OS
/// picks with bind(0) comes from that range, and loses that race now and then.)
pub fn free_port() -> std::io::Result<u16> {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral_start / 2);
    for _ in 0..200 {
        let port = fastrand::u16(low..ephemeral_start.max(low + 1));
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    // A crowded machine: let the OS choose.
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Relay {
    fn start(target: u16) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let relay = Relay {
            port: listener.local_addr()?.port(),
            open: Arc::new(AtomicBool::new(true)),
            connections: Arc::default(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (open, connections, stop) = (relay.open.clone(), relay.connections.clone(), relay.stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((inbound, _)) => {
                        if open.load(Ordering::SeqCst) {
                            splice(inbound, target, &connections);
                        }
                        // When cut, dropping `inbound` refuses the connection.
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(relay)
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        if let Ok(mut connections) = self.connections.lock() {
            for connection in connections.drain(..) {
                let _ = connection.shutdown(Shutdown::Both);
            }
        }
    }

    fn heal(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cut();
    }
}

/// Connects `inbound` to the target port and copies bytes both ways.
fn splice(inbound: TcpStream, target: u16, connections: &Mutex<Vec<TcpStream>>) {
    let _ = inbound.set_nonblocking(false);
    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)) else {
        return; // The listener is down (restarting): the dialler will retry.
    };
    let streams = (inbound.try_clone(), outbound.try_clone());
    let (Ok(inbound_copy), Ok(outbound_copy)) = streams else {
        return;
    };
    if let Ok(mut connections) = connections.lock() {
        connections.extend([inbound.try_clone(), outbound.try_clone()].into_iter().flatten());
    }
    thread::spawn(move || copy_then_close(inbound, outbound_copy));
    thread::spawn(move || copy_then_close(outbound, inbound_copy));
}

fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
