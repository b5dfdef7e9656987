//! Faults at every step of the protocol, not at random moments: generate, record, check.
//!
//! A gate can stop a transaction exactly before a message is delivered. For each
//! message a coordinator sends (`prepare`, then the decision) and each node of the
//! transaction (the coordinator, one participant) and each fault (SIGKILL, a cut that
//! isolates it), the check holds that message, runs a conflicting write through another
//! node while the first holds the key, applies the fault, then heals and restarts — eight fault points, every one on every run, so
//! the narrow windows (a vote or a decision before its flush, a key not locked again at
//! restart) are visited each time instead of by luck. The cluster's shape (2, 3 or 4
//! nodes, and its `--min-consensus`) is chosen by the seed, so runs with other seeds
//! explore other shapes.
//!
//! Nothing here says what a fault must lead to. Every client write and every `get` goes
//! into a [`History`], every node's events with it, and after each fault point the
//! properties of [`super::history`] judge the whole history so far.

use super::checks::{tested, until_held};
use super::history::{self, History, Op};
use crate::harness::trial::{Background, Cluster, Failure, Trial, Written, show};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The cluster shapes a seed chooses from: (nodes, --min-consensus).
/// Below the peer count mostly: there a write prepares while a peer is unreachable
/// and must still abort (the three-node clusters of the other checks use all peers).
const SHAPES: [(usize, usize); 4] = [(2, 1), (3, 1), (4, 1), (4, 2)];
/// How long the healed cluster may take to agree on a key.
const SETTLE: Duration = Duration::from_secs(15);

/// The node of a transaction that a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Victim {
    Coordinator,
    Participant,
}

/// What happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Kill,
    Cut,
}

/// One point of the exploration: the message held back, who is hit, and how.
#[derive(Debug, Clone, Copy)]
struct Point {
    /// `prepare`, or the decision (`commit` or `abort`).
    before: &'static str,
    victim: Victim,
    fault: Fault,
}

impl Point {
    fn describe(&self) -> String {
        let victim = match self.victim {
            Victim::Coordinator => "the coordinator",
            Victim::Participant => "a participant",
        };
        let fault = match self.fault {
            Fault::Kill => "killed",
            Fault::Cut => "cut off",
        };
        let held = match self.before {
            "prepare" => "`prepare`",
            _ => "the decision (`commit` or `abort`)",
        };
        format!("{victim} {fault} with {held} held back")
    }
}

/// Every fault point, enumerated (not sampled).
fn points() -> Vec<Point> {
    let mut all = Vec::new();
    for before in ["prepare", "decision"] {
        for victim in [Victim::Participant, Victim::Coordinator] {
            for fault in [Fault::Kill, Fault::Cut] {
                all.push(Point {
                    before,
                    victim,
                    fault,
                });
            }
        }
    }
    all
}

pub(super) fn explored_faults(trial: &mut Trial) -> Result<(), Failure> {
    let mark = trial.mark();
    let (nodes, min) = SHAPES[trial.rng().usize(0..SHAPES.len())];
    let mut c = Cluster::start(trial, &tested(nodes), min)?;
    let mut recorder = Recorder {
        started: Instant::now(),
        history: History::default(),
    };
    let points = points();
    for (n, point) in points.iter().enumerate() {
        explore(&mut c, trial, &mut recorder, n, point)?;
    }
    trial.replace_since(
        mark,
        &format!(
            "{} fault points (`prepare` or the decision held back; the coordinator or a participant killed or cut off; a conflicting write meanwhile) on a cluster the seed shapes: after each, every property of the history held",
            points.len()
        ),
    );
    c.finish(trial);
    Ok(())
}

/// The history being recorded, and when it began.
struct Recorder {
    started: Instant,
    history: History,
}

impl Recorder {
    fn start(
        &self,
        c: &mut Cluster,
        trial: &mut Trial,
        via: usize,
        key: &str,
        value: &str,
    ) -> Result<(Background, Op), Failure> {
        let op = Op {
            via,
            key: key.to_string(),
            value: Some(value.to_string()),
            invoked: self.started.elapsed(),
            completed: Duration::ZERO,
            outcome: Written::Unknown,
        };
        Ok((c.start_write(trial, via, &["put", key, value])?, op))
    }

    fn finish(
        &mut self,
        c: &mut Cluster,
        trial: &mut Trial,
        (write, mut op): (Background, Op),
    ) -> Result<(), Failure> {
        let (command, written) = c.collect_write(trial, write)?;
        op.completed = self.started.elapsed();
        op.outcome = written;
        Cluster::show_written(trial, &command, written);
        self.history.ops.push(op);
        if written == Written::Committed {
            // Acknowledged: every node that is up must show it now, not eventually.
            let (index, at) = (self.history.ops.len() - 1, self.started.elapsed());
            let key = self.history.ops[index].key.clone();
            for (node, value) in c.values(trial, &key)? {
                self.history.reads.push((node, key.clone(), value.clone()));
                self.history.after_ack.push((index, at, node, value));
            }
        }
        Ok(())
    }
}

/// One fault point: hold, race, hit, heal, settle, judge.
fn explore(
    c: &mut Cluster,
    trial: &mut Trial,
    recorder: &mut Recorder,
    n: usize,
    point: &Point,
) -> Result<(), Failure> {
    let nodes = c.len();
    let coordinator = n % nodes;
    let others: Vec<usize> = (0..nodes).filter(|&i| i != coordinator).collect();
    let participant = others[trial.rng().usize(0..others.len())];
    let racer = others[trial.rng().usize(0..others.len())];
    let victim = match point.victim {
        Victim::Coordinator => coordinator,
        Victim::Participant => participant,
    };
    let held: &[&str] = match point.before {
        "prepare" => &["prepare"],
        _ => &["commit", "abort"],
    };
    trial.note(&format!("fault point {}: {}", n + 1, point.describe()));
    let key = format!("x{n}");
    c.hold(trial, coordinator, participant, held);
    let write = recorder.start(c, trial, coordinator, &key, &format!("v{n}"))?;
    until_held(c, trial, coordinator, participant, &format!("`{}`", point.before))?;
    // A conflicting write, run to its end while the first one holds the key: it must
    // meet a lock (the coordinator's at least) and abort.
    let race = recorder.start(c, trial, racer, &key, &format!("r{n}"))?;
    recorder.finish(c, trial, race)?;
    if recorder.history.ops.last().map(|op| op.outcome) == Some(Written::Committed) {
        let (name, holder) = (c.name(racer), c.name(coordinator));
        return Err(c.failed(
            trial,
            Failure::new(format!(
                "a write to {key} through {name} committed while {holder}'s write to {key} still held the key (fault point {}: {})",
                n + 1,
                point.describe()
            ))
            .detail("Every node that prepares a write locks its key, the coordinator too; a prepare for a locked key gets a no vote."),
        ));
    }
    match point.fault {
        Fault::Kill => c.kill(trial, victim),
        Fault::Cut => c.partition(trial, &[victim]),
    }
    c.release(trial, false);
    recorder.finish(c, trial, write)?;
    match point.fault {
        Fault::Kill => c.start_again(trial, victim)?,
        Fault::Cut => c.heal(trial),
    }
    for node in 0..nodes {
        c.wait_ready(trial, node)?;
    }
    let finals = settle(c, trial, recorder, &key)?;
    recorder.history.events = (0..nodes).map(|i| c.all_events(i)).collect();
    history::judge(&recorder.history, &finals).map_err(|violation| {
        // Transaction ids as the transcript names them (tx#1, …), never raw.
        let mut violation = violation;
        for txid in recorder.history.events.iter().flatten().filter_map(|e| e.txid.as_deref()) {
            if violation.contains(txid) {
                violation = violation.replace(txid, &trial.placeholder("tx", txid));
            }
        }
        c.failed(
            trial,
            Failure::new(format!("{violation} (fault point {}: {})", n + 1, point.describe()))
                .detail("Each property is a promise of the text; the transcript above shows the writes and faults that led here.")
                .detail("Ask at each step of each role: killed right here, what is on disk, and what has it already told others?"),
        )
    })
}

/// Waits until every node shows the same value of `key`, one the history allows (or
/// the time is up); returns every node's value of it, recorded as reads too.
fn settle(
    c: &mut Cluster,
    trial: &mut Trial,
    recorder: &mut Recorder,
    key: &str,
) -> Result<BTreeMap<String, Vec<Option<String>>>, Failure> {
    let allowed = history::allowed_finals(&recorder.history, key);
    let deadline = Instant::now() + crate::harness::patience::stretch(SETTLE);
    loop {
        let shown: Vec<Option<String>> = c.values(trial, key)?.into_iter().map(|(_, v)| v).collect();
        for (node, value) in shown.iter().enumerate() {
            recorder
                .history
                .reads
                .push((node, key.to_string(), value.clone()));
        }
        let agree = shown.iter().all(|v| *v == shown[0]);
        if (agree && allowed.contains(&shown[0])) || Instant::now() >= deadline {
            if agree {
                c.show_line(
                    trial,
                    format!("get {key} on every node: {}", show(shown[0].as_deref())),
                );
            }
            return Ok(BTreeMap::from([(key.to_string(), shown)]));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
