//! Clusters: nodes that each dial every other node, every link through a [`Gate`],
//! and clients (`put`, `del`, `get`) that the verifier runs against any node.
//!
//! A node runs until the check ends; the verifier reads the events it prints as they
//! come (`ready`, `prepared`, `blocked`, …), kills it with SIGKILL, starts it again on
//! its database, partitions the cluster by cutting gates, and holds messages of chosen
//! types in a gate to stop a transaction between its phases. Clients are ordinary
//! runs with a deadline; their exit code says how a write ended. The transcript names
//! nodes (p1, p2, …) and transactions (tx#1), never ports or raw ids.
//!
//! Why one file over 500 lines: starting nodes, their event streams, partitions through
//! gates, restarts and background clients all act on one `Cluster` value and its
//! invariants (every node's gate, its last known events); split by verb they would each
//! need the whole of it.
//!
//! `parse_event`'s `Err(String)` says what is wrong with a line the learner's node
//! printed, for a `Failure`; it is a plain message on purpose, not a harness error.

use super::gate::Gate;
use super::{Failure, RunLog, Trial, Who};
use crate::runner::Lines;
use crate::runner::{
    Ending, Finished, Invocation, Limits, NetworkPolicy, Resources, Spawned, Wiring, run, seconds,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a node may take to connect to its peers and print `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a node must stay ready to count as ready.
const STEADY: Duration = Duration::from_millis(300);
/// CPU time a node may use over a whole check.
const NODE_CPU: Duration = Duration::from_secs(60);
/// Most events one node may print before it counts as flooding.
const MAX_EVENTS: usize = 200_000;

/// One event a node printed: `{"event": …, "txid": …, "key": …, "peer": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event: String,
    pub txid: Option<String>,
    pub key: Option<String>,
}

/// How a `put` or `del` ended, by its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Committed,
    Aborted,
    Refused,
    Unknown,
}

impl Written {
    fn of(code: i32) -> Option<Written> {
        match code {
            0 => Some(Written::Committed),
            1 => Some(Written::Aborted),
            2 => Some(Written::Refused),
            3 => Some(Written::Unknown),
            _ => None,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Written::Committed => "committed",
            Written::Aborted => "aborted",
            Written::Refused => "refused",
            Written::Unknown => "no answer in time",
        }
    }

    pub fn code(self) -> i32 {
        match self {
            Written::Committed => 0,
            Written::Aborted => 1,
            Written::Refused => 2,
            Written::Unknown => 3,
        }
    }
}

#[derive(Default)]
struct Printed {
    events: Vec<Event>,
    garbage: Vec<String>,
}

struct Member {
    name: String,
    who: Who,
    port: u16,
    process: Option<Spawned>,
    invocation: Option<Invocation>,
    /// Everything printed, over every run of this node.
    printed: Arc<Mutex<Printed>>,
    /// Where the events of the current run start in `printed`.
    run_start: usize,
}

/// A write running in the background (started with [`Cluster::start_write`]).
pub struct Background {
    node: usize,
    command: String,
    process: Spawned,
    invocation: Invocation,
    timeout: Duration,
}

impl Background {
    /// Whether the write has ended (never waits).
    pub fn ended(&mut self) -> bool {
        self.process.ending().is_some()
    }
}

/// A running cluster.
pub struct Cluster {
    members: Vec<Member>,
    /// `gates[(a, b)]`: the gate node a dials to reach node b.
    gates: BTreeMap<(usize, usize), Gate>,
    min_consensus: usize,
    limits: Limits,
    /// The stderr of the last write collected: the reason it gave.
    last_reason: String,
}

impl Cluster {
    /// Starts one node per entry of `who` (p1, p2, …), each dialling every other, and
    /// waits until every node printed `ready`.
    pub fn start(trial: &mut Trial, who: &[Who], min_consensus: usize) -> Result<Cluster, Failure> {
        let mut members = Vec::new();
        for (index, who) in who.iter().enumerate() {
            members.push(Member {
                name: format!("p{}", index + 1),
                who: *who,
                port: trial.port()?,
                process: None,
                invocation: None,
                printed: Arc::default(),
                run_start: 0,
            });
        }
        let mut gates = BTreeMap::new();
        for a in 0..members.len() {
            for (b, target) in members.iter().enumerate() {
                if a != b {
                    let gate = Gate::start(target.port)
                        .map_err(|e| Failure::harness(format!("cannot start a relay: {e}")))?;
                    gates.insert((a, b), gate);
                }
            }
        }
        let mut cluster = Cluster {
            members,
            gates,
            min_consensus,
            limits: trial.context.limits,
            last_reason: String::new(),
        };
        trial.note(&format!(
            "a cluster of {} nodes, each dialling every other through a relay, --min-consensus {min_consensus}",
            who.len()
        ));
        for index in 0..cluster.members.len() {
            cluster.launch(trial, index)?;
        }
        for index in 0..cluster.members.len() {
            cluster.wait_ready(trial, index)?;
        }
        Ok(cluster)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn name(&self, index: usize) -> String {
        self.members[index].name.clone()
    }

    /// What the last write collected said on stderr (its reason).
    pub fn last_reason(&self) -> &str {
        &self.last_reason
    }

    /// Adds a line to the transcript (an observation, not a command).
    pub fn show_line(&self, trial: &mut Trial, line: String) {
        trial.transcript.push(line);
    }

    /// The port a node listens on (for a check that talks to it directly).
    pub fn port(&self, index: usize) -> u16 {
        self.members[index].port
    }

    /// The process groups of the nodes running now (for telling them from strangers).
    fn groups(&self) -> Vec<u32> {
        self.members
            .iter()
            .filter_map(|m| m.process.as_ref())
            .map(|p| p.group().as_raw() as u32)
            .collect()
    }

    /// Whether a node is running (not killed).
    pub fn is_up(&self, index: usize) -> bool {
        self.members[index].process.is_some()
    }

    fn launch(&mut self, trial: &mut Trial, index: usize) -> Result<(), Failure> {
        let gates: Vec<u16> = (0..self.members.len())
            .filter(|&b| b != index)
            .filter_map(|b| self.gates.get(&(index, b)))
            .map(|gate| gate.port)
            .collect();
        let peers: Vec<String> = gates.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let member = &mut self.members[index];
        let db = format!("{}.db", member.name);
        let port = member.port.to_string();
        let min = self.min_consensus.to_string();
        let mut args: Vec<&str> = vec!["--db", &db, "--port", &port];
        for peer in &peers {
            args.extend(["--peer", peer.as_str()]);
        }
        args.extend(["--min-consensus", &min]);
        let invocation = trial.invocation(member.who, "node", &args)?;
        let who = match member.who {
            Who::Tested => "",
            Who::Reference => "[reference] ",
        };
        trial.transcript.push(format!(
            "$ {who}node --db {db} --port PORT{} --min-consensus {min} &   ({})",
            " --peer RELAY".repeat(peers.len()),
            member.name
        ));
        let wiring = Wiring {
            stdout: crate::runner::Stdout::Piped,
            ..Wiring::default()
        };
        let limits = Limits {
            timeout: Duration::from_secs(3600),
            resources: self.limits.resources.map(|r| Resources { cpu: NODE_CPU, ..r }),
            ..self.limits
        };
        // Its own port to listen on, its gates to dial: nothing else.
        let network = NetworkPolicy {
            bind: vec![member.port],
            connect: gates,
        };
        let mut process = Spawned::start_networked(&invocation, wiring, &limits, &network)
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        member.run_start = member.printed.lock().map(|p| p.events.len()).unwrap_or(0);
        if let Some(stdout) = process.take_stdout_lines() {
            let printed = member.printed.clone();
            thread::spawn(move || read_events(stdout, &printed));
        }
        member.process = Some(process);
        member.invocation = Some(invocation);
        Ok(())
    }

    /// Waits until a node is ready and stays so: its latest `ready`/`notready` of the
    /// current run is `ready`, unchanged for [`STEADY`]. (A relay accepts a connection
    /// before it knows the dialled node is up, so a node may be ready for an instant.)
    pub fn wait_ready(&mut self, trial: &mut Trial, index: usize) -> Result<(), Failure> {
        let name = self.name(index);
        let patience = crate::harness::patience::stretch(READY_TIMEOUT);
        let deadline = Instant::now() + patience;
        let mut last: Option<(usize, Instant)> = None;
        loop {
            let readiness: Vec<bool> = self
                .events(index)
                .iter()
                .filter(|e| e.event == "ready" || e.event == "notready")
                .map(|e| e.event == "ready")
                .collect();
            let now = Instant::now();
            if readiness.last() == Some(&true) {
                match last {
                    Some((count, since)) if count == readiness.len() => {
                        if now - since >= STEADY {
                            return Ok(());
                        }
                    }
                    _ => last = Some((readiness.len(), now)),
                }
            } else {
                last = None;
            }
            self.healthy(trial)?;
            if now >= deadline {
                return Err(self.failed(
                    trial,
                    Failure::new(format!(
                        "{name} did not print {{\"event\":\"ready\"}} (and stay ready) within {}",
                        seconds(patience)
                    ))
                    .detail(format!(
                        "Dial every --peer (and again every ~100 ms while it fails); print `ready` once at least --min-consensus ({}) are connected.",
                        self.min_consensus
                    )),
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until a node accepts connections on its port (it may not be ready).
    pub fn wait_listening(&mut self, trial: &mut Trial, index: usize) -> Result<(), Failure> {
        let patience = crate::harness::patience::stretch(READY_TIMEOUT);
        let deadline = Instant::now() + patience;
        let port = self.members[index].port;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            self.healthy(trial)?;
            if Instant::now() >= deadline {
                let name = self.name(index);
                return Err(self.failed(
                    trial,
                    Failure::new(format!(
                        "{name} did not listen on its --port within {}",
                        seconds(patience)
                    )),
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Waits up to `timeout` for an event of the current run of a node that `pred`
    /// accepts. `Ok(None)`: none came. Fails if a node misbehaves meanwhile.
    pub fn wait_for(
        &mut self,
        trial: &mut Trial,
        index: usize,
        timeout: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Option<Event>, Failure> {
        self.wait_after(trial, index, 0, timeout, pred)
    }

    /// Like [`Cluster::wait_for`], among the events after the first `since` of the
    /// current run.
    pub fn wait_after(
        &mut self,
        trial: &mut Trial,
        index: usize,
        since: usize,
        timeout: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Option<Event>, Failure> {
        // What a node does sooner or later takes longer on a busy machine.
        let deadline = Instant::now() + crate::harness::patience::stretch(timeout);
        loop {
            if let Some(event) = self.events(index).into_iter().skip(since).find(|e| pred(e)) {
                return Ok(Some(event));
            }
            self.healthy(trial)?;
            if Instant::now() >= deadline {
                return Ok(None);
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// The events of a node's current run.
    pub fn events(&self, index: usize) -> Vec<Event> {
        let member = &self.members[index];
        member
            .printed
            .lock()
            .map(|p| p.events.get(member.run_start..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    /// The events of a node over all its runs.
    pub fn all_events(&self, index: usize) -> Vec<Event> {
        self.members[index]
            .printed
            .lock()
            .map(|p| p.events.clone())
            .unwrap_or_default()
    }

    /// Fails if a running node exited or printed something that is not an event.
    pub fn healthy(&mut self, trial: &mut Trial) -> Result<(), Failure> {
        for index in 0..self.members.len() {
            let name = self.name(index);
            let ours = self.groups();
            let member = &mut self.members[index];
            let problem = match member.process.as_mut().and_then(Spawned::ending) {
                Some(ending) => {
                    if let Some(taken) = Failure::if_port_was_taken(&name, member.port, &ours) {
                        return Err(self.failed(trial, taken));
                    }
                    Some(format!(
                        "{name} {} while the cluster was running",
                        ending.describe()
                    ))
                }
                None => member
                    .printed
                    .lock()
                    .ok()
                    .and_then(|p| p.garbage.first().cloned())
                    .map(|g| format!("{name} printed a line that is not an event: {g}")),
            };
            if let Some(problem) = problem {
                return Err(self.failed(trial, Failure::new(problem)));
            }
        }
        Ok(())
    }

    /// `put --node pN KEY VALUE`, waited for; the transcript shows how it ended.
    pub fn put(
        &mut self,
        trial: &mut Trial,
        index: usize,
        key: &str,
        value: &str,
    ) -> Result<Written, Failure> {
        let background = self.start_write(trial, index, &["put", key, value])?;
        self.finish_write(trial, background)
    }

    /// `del --node pN KEY`, waited for.
    pub fn del(&mut self, trial: &mut Trial, index: usize, key: &str) -> Result<Written, Failure> {
        let background = self.start_write(trial, index, &["del", key])?;
        self.finish_write(trial, background)
    }

    /// Starts `put` or `del` (`words`: program and arguments) against a node without
    /// waiting for it.
    pub fn start_write(
        &mut self,
        trial: &mut Trial,
        index: usize,
        words: &[&str],
    ) -> Result<Background, Failure> {
        let (program, rest) = words
            .split_first()
            .ok_or_else(|| Failure::new("harness bug: an empty write"))?;
        let address = format!("127.0.0.1:{}", self.members[index].port);
        let mut args = vec!["--node", address.as_str()];
        args.extend(rest);
        let invocation = trial.invocation(self.members[index].who, program, &args)?;
        let shown: Vec<String> = rest.iter().map(|w| crate::runner::quote([*w])).collect();
        let command = format!(
            "{program} --node {} {}",
            self.members[index].name,
            shown.join(" ")
        );
        let network = NetworkPolicy {
            bind: vec![],
            connect: vec![self.members[index].port],
        };
        let process = Spawned::start_networked(&invocation, Wiring::default(), &self.limits, &network)
            .map_err(|e| Failure::could_not_start(&invocation, e))?;
        Ok(Background {
            node: index,
            command,
            process,
            invocation,
            timeout: self.limits.timeout,
        })
    }

    /// Waits for a background write and shows it in the transcript.
    pub fn finish_write(&mut self, trial: &mut Trial, background: Background) -> Result<Written, Failure> {
        let (command, written) = self.collect_write(trial, background)?;
        Self::show_written(trial, &command, written);
        Ok(written)
    }

    /// Shows how a collected write ended, as [`Cluster::finish_write`] does.
    pub fn show_written(trial: &mut Trial, command: &str, written: Written) {
        trial.transcript.push(format!(
            "$ {command}   → {} (exit code {})",
            written.word(),
            written.code()
        ));
    }

    /// Waits for a background write; the caller shows it (or not).
    pub fn collect_write(
        &mut self,
        trial: &mut Trial,
        background: Background,
    ) -> Result<(String, Written), Failure> {
        let Background {
            node,
            command,
            process,
            invocation,
            timeout,
        } = background;
        let finished: Finished = process.finish(timeout);
        trial.runs.push(RunLog {
            invocation,
            ending: finished.ending,
            stderr: finished.stderr.clone(),
        });
        let name = self.name(node);
        let reason = String::from_utf8_lossy(&finished.stderr).trim().to_string();
        self.last_reason = crate::harness::records::shorten(&reason, 200);
        match finished.ending {
            Ending::Exited(code) => match Written::of(code) {
                Some(written) if finished.stdout.is_empty() => Ok((command, written)),
                Some(_) => Err(self.failed(
                    trial,
                    Failure::new(format!(
                        "`{command}` printed on stdout; put and del print nothing there"
                    ))
                    .detail("Say why a write failed on stderr."),
                )),
                None => Err(self.failed(
                    trial,
                    Failure::new(format!(
                        "`{command}` exited with code {code}, which means nothing here"
                    ))
                    .detail("Exit 0 committed, 1 aborted, 2 refused (too few peers), 3 no answer in time.")
                    .detail(format!("Its stderr: {reason}")),
                )),
            },
            Ending::TimedOut(limit) => Err(self.failed(
                trial,
                Failure::new(format!(
                    "`{command}` was still waiting after {} (asking {name})",
                    seconds(limit)
                ))
                .detail("A client never hangs: give up after ~3 s, say the outcome is unknown and exit 3."),
            )),
            ending => Err(self.failed(trial, Failure::new(format!("`{command}` {}", ending.describe())))),
        }
    }

    /// `get --node pN KEY`: the committed value the node shows.
    pub fn get(&mut self, trial: &mut Trial, index: usize, key: &str) -> Result<Option<String>, Failure> {
        let address = format!("127.0.0.1:{}", self.members[index].port);
        let invocation = trial.invocation(self.members[index].who, "get", &["--node", &address, key])?;
        let finished =
            run(&invocation, None, &self.limits).map_err(|e| Failure::could_not_start(&invocation, e))?;
        trial.runs.push(RunLog {
            invocation,
            ending: finished.ending,
            stderr: finished.stderr.clone(),
        });
        let name = self.name(index);
        if finished.ending != Ending::Exited(0) {
            return Err(self.failed(
                trial,
                Failure::new(format!(
                    "`get --node {name} {key}` {}; reads are served from the node's own committed values, always",
                    finished.ending.describe()
                )),
            ));
        }
        let text = String::from_utf8_lossy(&finished.stdout);
        let record: Option<Value> = serde_json::from_str(text.trim()).ok();
        let value = record.as_ref().and_then(|r| r.get("value")).cloned();
        let key_ok = record.as_ref().and_then(|r| r.get("key")).and_then(Value::as_str) == Some(key);
        match value {
            Some(Value::String(value)) if key_ok => Ok(Some(value)),
            Some(Value::Null) if key_ok => Ok(None),
            _ => Err(self.failed(
                trial,
                Failure::new(format!(
                    "`get --node {name} {key}` printed {:?}: expected one record {{\"key\": \"{key}\", \"value\": \"text\" or null}}",
                    crate::harness::records::shorten(text.trim(), 80)
                )),
            )),
        }
    }

    /// Runs `get` on every running node; fails unless each shows `expected`.
    pub fn expect_everywhere(
        &mut self,
        trial: &mut Trial,
        key: &str,
        expected: Option<&str>,
        why: &str,
    ) -> Result<(), Failure> {
        let mut names = Vec::new();
        for index in 0..self.members.len() {
            if !self.is_up(index) {
                continue;
            }
            let got = self.get(trial, index, key)?;
            if got.as_deref() != expected {
                let name = self.name(index);
                return Err(self.failed(
                    trial,
                    Failure::new(format!(
                        "`get --node {name} {key}` shows {}, expected {} ({why})",
                        show(got.as_deref()),
                        show(expected)
                    )),
                ));
            }
            names.push(self.name(index));
        }
        trial
            .transcript
            .push(format!("get {key} on {}: {}", names.join(", "), show(expected)));
        Ok(())
    }

    /// Runs `get` on every running node and returns what each shows.
    pub fn values(&mut self, trial: &mut Trial, key: &str) -> Result<Vec<(usize, Option<String>)>, Failure> {
        let mut values = Vec::new();
        for index in 0..self.members.len() {
            if self.is_up(index) {
                values.push((index, self.get(trial, index, key)?));
            }
        }
        Ok(values)
    }

    /// Kills a node with SIGKILL.
    pub fn kill(&mut self, trial: &mut Trial, index: usize) {
        trial.note(&format!("the verifier kills {} with SIGKILL", self.name(index)));
        self.stop(trial, index, true);
    }

    /// Starts a killed node again on its database and port; does not wait for `ready`.
    pub fn start_again(&mut self, trial: &mut Trial, index: usize) -> Result<(), Failure> {
        trial.note(&format!("{} starts again on the same database", self.name(index)));
        self.launch(trial, index)
    }

    /// Cuts every link between the two groups (both directions).
    pub fn partition(&mut self, trial: &mut Trial, group: &[usize]) {
        let names: Vec<String> = group.iter().map(|&i| self.name(i)).collect();
        trial.note(&format!(
            "the verifier cuts {} off from the others",
            names.join(", ")
        ));
        for ((a, b), gate) in &self.gates {
            if group.contains(a) != group.contains(b) {
                gate.cut();
            }
        }
    }

    /// Heals every link.
    pub fn heal(&mut self, trial: &mut Trial) {
        trial.note("the verifier heals every link");
        for gate in self.gates.values() {
            gate.heal();
        }
    }

    /// Keeps back messages of these types on the link `from` dials to reach `to`.
    pub fn hold(&mut self, trial: &mut Trial, from: usize, to: usize, types: &[&str]) {
        let shown: Vec<String> = types.iter().map(|t| format!("`{t}`")).collect();
        trial.note(&format!(
            "the verifier holds back every {} from {} to {}",
            shown.join(" and "),
            self.name(from),
            self.name(to)
        ));
        if let Some(gate) = self.gates.get(&(from, to)) {
            gate.hold(types);
        }
    }

    /// Stops holding on every link; held messages are sent on or dropped.
    pub fn release(&mut self, trial: &mut Trial, forward: bool) {
        trial.note(match forward {
            true => "the verifier lets the held messages through",
            false => "the verifier drops the held messages",
        });
        for gate in self.gates.values() {
            gate.release(forward);
        }
    }

    /// How many messages the link `from` → `to` holds now.
    pub fn held(&self, from: usize, to: usize) -> usize {
        self.gates.get(&(from, to)).map(Gate::held).unwrap_or(0)
    }

    /// The types of the messages the link `from` → `to` holds now, in order.
    pub fn held_types(&self, from: usize, to: usize) -> Vec<String> {
        self.gates
            .get(&(from, to))
            .map(Gate::held_types)
            .unwrap_or_default()
    }

    /// Stops holding on one link only; its held messages are sent on or dropped.
    pub fn release_link(&mut self, trial: &mut Trial, from: usize, to: usize, forward: bool) {
        let (a, b) = (self.name(from), self.name(to));
        trial.note(&match forward {
            true => format!("the verifier lets the messages held from {a} to {b} through"),
            false => format!("the verifier drops the messages held from {a} to {b}"),
        });
        if let Some(gate) = self.gates.get(&(from, to)) {
            gate.release(forward);
        }
    }

    /// Stops every node, keeping their stderr for the report.
    pub fn finish(mut self, trial: &mut Trial) {
        for index in 0..self.members.len() {
            self.stop(trial, index, false);
        }
    }

    fn stop(&mut self, trial: &mut Trial, index: usize, killed: bool) {
        let member = &mut self.members[index];
        if let (Some(mut process), Some(invocation)) = (member.process.take(), member.invocation.take()) {
            let ending = match (killed, process.ending()) {
                (false, Some(ended)) => ended,
                // What it printed ended it before the check did.
                (true, Some(ended)) if ended.flooded() => ended,
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

    /// Stops everything and returns the failure (the nodes' stderr is kept).
    pub fn failed(&mut self, trial: &mut Trial, failure: Failure) -> Failure {
        for index in 0..self.members.len() {
            self.stop(trial, index, false);
        }
        failure
    }
}

/// A value as the transcript shows it: `"v"` or `null`.
pub fn show(value: Option<&str>) -> String {
    match value {
        Some(value) => Value::from(value).to_string(),
        None => "null".to_string(),
    }
}

/// Reads a node's stdout as it comes, one event per line (a line too long ends the
/// reading, and the node's ending names it).
fn read_events<R: Read>(mut stdout: Lines<R>, printed: &Mutex<Printed>) {
    stdout.each(|line| {
        if line.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        let Ok(mut printed) = printed.lock() else {
            return false;
        };
        match parse_event(line) {
            Ok(event) => printed.events.push(event),
            Err(problem) => {
                let text = crate::harness::records::shorten(&String::from_utf8_lossy(line), 80);
                printed.garbage.push(format!("{text} ({problem})"));
            }
        }
        if printed.events.len() > MAX_EVENTS {
            printed
                .garbage
                .push(format!("more than {MAX_EVENTS} events: a flood"));
            return false;
        }
        true
    });
}

/// The events of the text and the fields each must have.
const EVENTS: &[(&str, &[&str])] = &[
    ("ready", &[]),
    ("notready", &[]),
    ("connect", &["peer"]),
    ("disconnect", &["peer"]),
    ("prepared", &["txid", "key"]),
    ("committed", &["txid", "key"]),
    ("aborted", &["txid", "key"]),
    ("blocked", &["txid", "key"]),
];

fn parse_event(line: &[u8]) -> Result<Event, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let name = value
        .get("event")
        .and_then(Value::as_str)
        .ok_or("no \"event\" field")?;
    let (_, fields) = EVENTS
        .iter()
        .find(|(known, _)| *known == name)
        .ok_or_else(|| format!("unknown event {name:?}"))?;
    for field in *fields {
        if !value.get(*field).is_some_and(Value::is_string) {
            return Err(format!("a `{name}` event needs a string field {field:?}"));
        }
    }
    let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_string);
    Ok(Event {
        event: name.to_string(),
        txid: text("txid"),
        key: text("key"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_parsed_strictly() {
        let event = parse_event(br#"{"event":"prepared","txid":"a-1-1","key":"k"}"#);
        assert_eq!(
            event.map(|e| (e.event, e.txid, e.key)),
            Ok(("prepared".into(), Some("a-1-1".into()), Some("k".into())))
        );
        assert!(parse_event(br#"{"event":"prepared","key":"k"}"#).is_err());
        assert!(parse_event(br#"{"event":"decided"}"#).is_err());
        assert!(parse_event(b"ready").is_err());
    }
}
