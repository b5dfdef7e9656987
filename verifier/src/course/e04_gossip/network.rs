//! A network of gossip peers (exercise 04): live `peer` processes, every link through
//! a relay of the verifier, entries typed on their stdin and the records they print
//! read as they come.
//!
//! The generic parts (processes, relays, ports) are the trial's; this module knows what
//! a gossip peer is: its command line (`peer --db --port --connect`), the records it
//! prints, and what "converged" means.

use crate::course::replication::wire::{Line, Message, decode};
use crate::course::shapes::LOG_ENTRY;
use crate::harness::records::parse_line;
use crate::harness::trial::{Failure, LiveProcess, Relay, Trial, Who};
use crate::runner::{NetworkPolicy, seconds};
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An entry as a peer printed it: (log's peer id, seq, text).
pub type Entry = (String, u64, String);

/// How long a network may take to spread an entry everywhere.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(15);

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
    process: Option<LiveProcess>,
    printed: Arc<Mutex<Printed>>,
    /// The last thing the verifier did to this peer, for a message if it then exits.
    event: Option<String>,
}

/// A link: `dialler` connects, through a relay, to `listener`.
pub struct Link {
    pub dialler: usize,
    pub listener: usize,
    relay: Relay,
}

/// A running network of peers.
pub struct Network {
    nodes: Vec<Node>,
    links: Vec<Link>,
    timeout: Duration,
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
                port: trial.port()?,
                dials: Vec::new(),
                process: None,
                printed: Arc::default(),
                event: None,
            });
        }
        let mut network = Network {
            nodes,
            links: Vec::new(),
            timeout: trial.limits().timeout,
        };
        for &(dialler, listener) in links {
            let target = network.nodes[listener].port;
            let relay =
                Relay::start(target).map_err(|e| Failure::harness(format!("cannot start a relay: {e}")))?;
            network.nodes[dialler].dials.push(relay.port());
            network.links.push(Link {
                dialler,
                listener,
                relay,
            });
        }
        let shown: Vec<String> = (0..network.links.len())
            .map(|l| {
                let (a, b) = network.link_names(l);
                format!("{a}–{b}")
            })
            .collect();
        match shown.is_empty() {
            true => trial.note(&format!("{} peer(s), no links", network.nodes.len())),
            false => trial.note(&format!(
                "a network of {} peers, links {}",
                network.nodes.len(),
                shown.join(", ")
            )),
        }
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
        // Ports change on every run; the transcript names them by role.
        let who = match node.who {
            Who::Tested => "",
            Who::Reference => "[reference] ",
        };
        let connects = " --connect RELAY".repeat(node.dials.len());
        let shown = format!("$ {who}peer --db {db} --port PORT{connects} &   ({})", node.name);
        let printed: Arc<Mutex<Printed>> = Arc::default();
        let sink = printed.clone();
        // Its own port to listen on, its relays to dial: nothing else.
        let network = NetworkPolicy {
            bind: vec![node.port],
            connect: node.dials.clone(),
        };
        let process = LiveProcess::start(trial, (node.who, "peer", &args), &network, shown, move |line| {
            record_line(line, &sink)
        })?;
        node.process = Some(process);
        node.printed = printed;
        node.event = None;
        Ok(())
    }

    /// Closes a peer's stdin: the end of its input, which must not stop it.
    pub fn close_stdin(&mut self, trial: &mut Trial, index: usize) {
        let node = &mut self.nodes[index];
        trial.note(&format!("the verifier closes {}'s stdin", node.name));
        if let Some(process) = node.process.as_mut() {
            process.close_stdin();
        }
        node.event = Some("after the verifier closed its stdin".to_string());
    }

    /// Says what the verifier did to a peer, for the message if it then exits.
    pub fn mark_event(&mut self, index: usize, event: &str) {
        self.nodes[index].event = Some(event.to_string());
    }

    /// A TCP connection from the verifier straight to a peer's port (no relay), as a
    /// neighbour of its own: the peer must accept and serve it like any other.
    pub fn connect_to(&mut self, trial: &mut Trial, index: usize) -> Result<TcpStream, Failure> {
        let port = self.nodes[index].port;
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                return Ok(stream);
            }
            if let Some(failure) = self.check_health(index) {
                return Err(self.failed(trial, failure));
            }
            if Instant::now() >= deadline {
                let name = self.nodes[index].name.clone();
                return Err(self.failed(
                    trial,
                    format!(
                        "{name} did not accept a connection on its --port within {}",
                        seconds(self.timeout)
                    ),
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// A view of what a peer prints in its current life, for a watcher thread.
    pub fn watch_printed(&self, index: usize) -> PrintedWatch {
        PrintedWatch(self.nodes[index].printed.clone())
    }

    /// Everything a peer has printed so far (in its current life).
    pub fn entries(&self, index: usize) -> Vec<Entry> {
        self.printed(index)
    }

    /// The running process of a peer, to signal it from a watcher.
    pub fn process(&self, index: usize) -> Option<&LiveProcess> {
        self.nodes[index].process.as_ref()
    }

    /// Requires that no entry crossed any link twice the same way on one connection,
    /// and, where `tree` (each link the only path between its two halves), that no
    /// entry came back the way it went: a peer never echoes.
    pub fn never_echoed(&mut self, trial: &mut Trial, tree: bool) -> Result<(), Failure> {
        for link in 0..self.links.len() {
            let (dialler, listener) = self.link_names(link);
            // (connection, log, seq) → the directions it crossed, in order.
            let mut seen: BTreeMap<(usize, String, u64), Vec<bool>> = BTreeMap::new();
            for crossing in self.links[link].relay.crossings() {
                if let Line::Message(Message::Entry { peer, seq, .. }) = decode(&crossing.line) {
                    seen.entry((crossing.connection, peer, seq))
                        .or_default()
                        .push(crossing.forward);
                }
            }
            let sender = |forward: bool| match forward {
                true => (dialler.clone(), listener.clone()),
                false => (listener.clone(), dialler.clone()),
            };
            for ((_, peer, seq), ways) in seen {
                let twice = ways.iter().enumerate().find(|(i, way)| ways[..*i].contains(way));
                let back = ways.iter().position(|way| *way != ways[0]).filter(|_| tree);
                let log = trial.placeholder("peer", &peer);
                if let Some((_, &way)) = twice {
                    let (from, to) = sender(way);
                    return Err(self
                        .failed(trial, format!("{from} sent <{log}, {seq}> to {to} twice on one connection"))
                        .detail("Per connection, remember the highest seq of each log the other side holds, and send only what comes after it.")
                        .advise("Raise what you know the other side holds for every entry you send it, and send only the entries after that."));
                }
                if let Some(index) = back {
                    let (from, to) = sender(ways[index]);
                    return Err(self
                        .failed(trial, format!("{from} sent <{log}, {seq}> back to {to}, from which it had received it on the same link: an echo"))
                        .detail("In a tree each entry crosses each link once, away from its writer; an entry sent back is dropped as a duplicate, but doubles the traffic (and in a ring it would circle).")
                        .advise("Raise what you know the other side holds for every entry it sends you, so that your sending loop never sends it back."));
                }
            }
        }
        Ok(())
    }

    /// Types `text` on a peer's stdin and waits until that peer prints it as its own
    /// new entry. Returns the entry.
    pub fn write(&mut self, trial: &mut Trial, index: usize, text: &str) -> Result<Entry, Failure> {
        let name = self.nodes[index].name.clone();
        trial.show(format!("{name} < {}", serde_json::Value::from(text)));
        let written = self.nodes[index]
            .process
            .as_mut()
            .is_some_and(|p| p.type_line(text));
        if !written {
            return Err(self.failed(
                trial,
                format!("{name} no longer reads its stdin (has it exited?)"),
            ));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(entry) = self.printed(index).into_iter().find(|(_, _, t)| t == text) {
                trial.placeholder("peer", &entry.0);
                return Ok(entry);
            }
            if let Some(failure) = self.check_health(index) {
                return Err(self.failed(trial, failure));
            }
            if Instant::now() >= deadline {
                let changed = self
                    .printed(index)
                    .into_iter()
                    .find(|(_, _, t)| t.trim() == text.trim());
                if let Some((_, _, printed)) = changed {
                    return Err(self
                        .failed(trial, format!("{name} printed {printed:?} for the line {text:?} typed on its stdin"))
                        .detail("A line typed on stdin is an entry exactly as typed, only without its `\\n`: no trimming.")
                        .advise("Strip the line ending and nothing else: keep the spaces around the text."));
                }
                return Err(self
                    .failed(trial, format!("{name} did not print the entry typed on its stdin within {}", seconds(self.timeout)))
                    .detail("Each line typed on stdin is appended to the peer's own log and printed as a record at once (flush stdout)."));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until every running peer has printed exactly `expected` (each entry once),
    /// then shows the converged state in the transcript.
    pub fn converge(&mut self, trial: &mut Trial, expected: &BTreeSet<Entry>) -> Result<(), Failure> {
        let patience = crate::harness::patience::stretch(CONVERGE_TIMEOUT);
        let deadline = Instant::now() + patience;
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
                return Err(self.not_converged(trial, expected, patience));
            }
            thread::sleep(Duration::from_millis(10));
        }
        // What arrived with the last records (a second print of an entry, say).
        for index in 0..self.nodes.len() {
            if let Some(failure) = self.check_health(index) {
                return Err(self.failed(trial, failure));
            }
        }
        let mut sorted: Vec<Entry> = expected.iter().cloned().collect();
        sorted.sort_by_key(|(peer, seq, _)| {
            (
                crate::harness::redact::placeholder_number(&trial.placeholder("peer", peer)),
                *seq,
            )
        });
        trial.show(format!(
            "every peer printed these {} entries, each once:",
            sorted.len()
        ));
        for (peer, seq, text) in sorted {
            let peer = trial.placeholder("peer", &peer);
            trial.show(format!("  <{peer}, {seq}, {}>", serde_json::Value::from(text)));
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

    /// Types a line on a peer's stdin without waiting for anything; false if it no
    /// longer reads it.
    pub fn type_line(&mut self, index: usize, text: &str) -> bool {
        self.nodes[index]
            .process
            .as_mut()
            .is_some_and(|p| p.type_line(text))
    }

    /// Whether a peer's process has ended (by itself or killed from a watcher).
    pub fn ended(&mut self, index: usize) -> bool {
        self.nodes[index]
            .process
            .as_mut()
            .is_some_and(|p| p.ending().is_some())
    }

    /// Kills a peer with SIGKILL without a note (the check explains it).
    pub fn kill_quietly(&mut self, trial: &mut Trial, index: usize) {
        self.stop(trial, index, true);
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
    fn check_health(&mut self, index: usize) -> Option<Failure> {
        let ours: Vec<u32> = self
            .nodes
            .iter()
            .filter_map(|n| n.process.as_ref()?.group())
            .map(|group| group.as_raw() as u32)
            .collect();
        let node = &mut self.nodes[index];
        let name = node.name.clone();
        if let Some(ending) = node.process.as_mut().and_then(LiveProcess::ending) {
            if let Some(taken) = Failure::if_port_was_taken(&name, node.port, &ours) {
                return Some(taken);
            }
            let when = node.event.as_deref().unwrap_or("while the network was running");
            return Some(format!("{name} {} {when}", ending.describe()).into());
        }
        for link in &self.links {
            let sender = match link.relay.line_too_long() {
                Some(true) => (link.dialler, link.listener),
                Some(false) => (link.listener, link.dialler),
                None => continue,
            };
            if sender.0 == index {
                let to = &self.nodes[sender.1].name;
                return Some(format!(
                    "{name} sent {to} a line of more than {} without a newline (through the relay, which closed the connection)",
                    crate::runner::bytes(crate::runner::MAX_LINE)
                )
                .into());
            }
        }
        let node = &mut self.nodes[index];
        let printed = node.printed.lock().ok()?;
        if let Some(garbage) = printed.garbage.first() {
            return Some(format!("{name} printed a line that is not a record: {garbage}").into());
        }
        let mut seen = BTreeSet::new();
        for entry in &printed.entries {
            if !seen.insert(entry) {
                return Some(
                    format!(
                        "{name} printed the entry {:?} twice: print an entry only when you store it as new",
                        entry.2
                    )
                    .into(),
                );
            }
        }
        None
    }

    fn stop(&mut self, trial: &mut Trial, index: usize, killed: bool) {
        if let Some(mut process) = self.nodes[index].process.take() {
            process.stop(trial, killed);
        }
    }

    /// Stops everything and turns a problem into a failure with evidence.
    fn failed(&mut self, trial: &mut Trial, failure: impl Into<Failure>) -> Failure {
        for index in 0..self.nodes.len() {
            self.stop(trial, index, false);
        }
        failure.into()
    }

    fn not_converged(&mut self, trial: &mut Trial, expected: &BTreeSet<Entry>, waited: Duration) -> Failure {
        let mut failure = Failure::new(format!(
            "the network did not converge within {}: not every peer printed every entry",
            seconds(waited)
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

/// What a peer has printed, readable from another thread.
#[derive(Clone)]
pub struct PrintedWatch(Arc<Mutex<Printed>>);

impl PrintedWatch {
    /// Whether the peer has printed the entry `seq` of `peer`'s log.
    pub fn has(&self, peer: &str, seq: u64) -> bool {
        self.0
            .lock()
            .is_ok_and(|p| p.entries.iter().any(|(p, s, _)| p == peer && *s == seq))
    }
}

/// Takes one line a peer printed; false to stop reading (a flood).
fn record_line(line: &[u8], printed: &Mutex<Printed>) -> bool {
    if line.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    let Ok(mut printed) = printed.lock() else {
        return false;
    };
    match parse_line(line, &LOG_ENTRY) {
        Ok(record) => {
            if let (Some(peer), Some(seq), Some(text)) =
                (record.text("peer"), record.number("seq"), record.text("entry"))
            {
                printed.entries.push((peer.to_string(), seq, text.to_string()));
            }
        }
        Err(problem) => {
            let text = crate::harness::records::shorten(&String::from_utf8_lossy(line), 80);
            printed.garbage.push(format!("{text} ({problem})"));
        }
    }
    if printed.entries.len() > MAX_RECORDS {
        printed
            .garbage
            .push(format!("more than {MAX_RECORDS} records: a flood"));
        return false;
    }
    true
}
