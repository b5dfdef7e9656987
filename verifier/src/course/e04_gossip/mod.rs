//! Exercise 04, live gossip across a network: peers on TCP that replicate as entries
//! are written, forward other peers' entries so that a tree is enough, never echo an
//! entry back, survive cut links and restarts, and print each entry they learn once.
//!
//! Every link runs through a relay of the verifier, so it can partition the network
//! at will; every network is torn down (all process groups killed) when a check ends.

pub mod network;

use super::logs::{holds, logs_of};
use super::replication::VERIFIER_PEER;
use super::shapes::{LOG_ENTRY, READ_ALL_LOGS};
use super::{Check, Exercise, Program};
use crate::course::replication::wire::{Line, Message, decode};
use crate::harness::trial::{Failure, Trial, Who};
use network::{Entry, Network};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub static EXERCISE: Exercise = Exercise {
    number: 4,
    slug: "gossip",
    title: "Live gossip across a network",
    summary: "peers on TCP that replicate live, forward, survive partitions and restarts",
    problem: include_str!("../../../../exercises/04-gossip/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        Program {
            name: "peer",
            usage: "peer --db PATH --port PORT [--connect HOST:PORT]...",
            prints: Some(LOG_ENTRY),
            sorted: true,
        },
        READ_ALL_LOGS,
    ],
    checks: &[
        Check {
            name: "two-peers",
            about: "two connected peers see each other's entries, live",
            advice: "Each line on stdin is appended to your own log and printed; each connection starts with the 03 handshake and then keeps sending new entries as they are stored.",
            run: two_peers,
        },
        Check {
            name: "tree",
            about: "the talk's tree (p1–p2, p1–p3, p3–p4): p4 gets p2's entries through p1 and p3",
            advice: "Forward: when you store an entry from one connection, send it on every other connection whose peer lacks it.",
            run: tree,
        },
        Check {
            name: "ring",
            about: "in a ring, entries arrive by two paths (and once more from the verifier) and are still stored and printed once",
            advice: "Store an entry only if it is the next of its log; a second copy arriving by another path is a duplicate: drop it silently.",
            run: ring,
        },
        Check {
            name: "never-echo",
            about: "in a tree, every entry crosses each link once, away from its writer: nothing is sent back",
            advice: "Per connection, remember the highest seq of each log the other side holds (its handshake, every entry it sends you, every entry you send it) and send only what comes after.",
            run: never_echo,
        },
        Check {
            name: "stdin-closed",
            about: "a peer whose stdin ends goes on serving and forwarding",
            advice: "When stdin ends, stop appending, not serving: keep the listener and the connections running until the process is killed.",
            run: stdin_closed,
        },
        Check {
            name: "garbage-neighbour",
            about: "a neighbour that sends garbage is dropped; the peer goes on with the others",
            advice: "A bad message ends that connection only: return an error from that connection's task, say why on stderr, and keep everything else running.",
            run: garbage_neighbour,
        },
        Check {
            name: "own-entries-durable",
            about: "killed (SIGKILL) right after printing or sending its own entries, a peer still holds them",
            advice: "Append, flush, and only then print your own entries or let any connection send them (send nothing past the head you hold in memory).",
            run: own_entries_durable,
        },
        Check {
            name: "partition-and-heal",
            about: "a cut link: both sides write, and after healing everyone converges",
            advice: "When a connection drops, keep trying to connect again (every ~100 ms); on reconnecting, the handshake tells each side what the other missed.",
            run: partition_and_heal,
        },
        Check {
            name: "restart-catches-up",
            about: "a peer killed with SIGKILL and restarted catches up, printing nothing twice",
            advice: "On start print what your database holds, then only what is new; the handshake on reconnect fetches exactly what you missed while down.",
            run: restart_catches_up,
        },
        Check {
            name: "interop-with-reference",
            about: "your peers and a reference peer gossip in one network",
            advice: "Speak the exact messages of exercise 03 on each connection (handshake first, then entries), with no `end` in live mode.",
            run: interop_with_reference,
        },
        Check {
            name: "random-network",
            about: "a seeded random network (tree, line or ring) with writes on random peers",
            advice: "Replay the same network with the seed shown below and watch each peer's output.",
            run: random_network,
        },
    ],
};

fn tested(count: usize) -> Vec<Who> {
    vec![Who::Tested; count]
}

/// Writes one entry on each listed peer and returns everything written.
fn write_on(
    net: &mut Network,
    trial: &mut Trial,
    writers: &[usize],
    tag: &str,
) -> Result<Vec<Entry>, Failure> {
    writers
        .iter()
        .map(|&p| {
            let text = format!("{tag} from {}", net.name(p));
            net.write(trial, p, &text)
        })
        .collect()
}

fn all(entries: &[Entry]) -> BTreeSet<Entry> {
    entries.iter().cloned().collect()
}

fn two_peers(trial: &mut Trial) -> Result<(), Failure> {
    let mut net = Network::start(trial, &tested(2), &[(1, 0)])?;
    // Lines are entries exactly as typed: spaces around them, characters outside ASCII.
    let written = vec![
        net.write(trial, 0, "  hello from p1  ")?,
        net.write(trial, 1, "héllo from p2 ✓")?,
    ];
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
}

fn tree(trial: &mut Trial) -> Result<(), Failure> {
    // p2 and p3 dial p1; p4 dials p3.
    let mut net = Network::start(trial, &tested(4), &[(1, 0), (2, 0), (3, 2)])?;
    let written = write_on(&mut net, trial, &[1, 3, 0], "hello")?;
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
}

fn ring(trial: &mut Trial) -> Result<(), Failure> {
    let mut net = Network::start(trial, &tested(4), &[(1, 0), (2, 1), (3, 2), (0, 3)])?;
    let mut written = write_on(&mut net, trial, &[0, 1, 2, 3], "hello")?;
    net.converge(trial, &all(&written))?;
    net.never_echoed(trial, false)?;
    // A second copy for certain: the verifier sends p1 an entry it holds, then a new
    // one on the same connection (handled in order, so the copy is handled first).
    let (peer, seq, text) = written[1].clone();
    let ours = (VERIFIER_PEER.to_string(), 1, "from the verifier".to_string());
    trial.placeholder("peer", VERIFIER_PEER);
    trial
        .note("the verifier connects to p1 and sends it p2's entry again, then an entry of a log of its own");
    let mut stream = net.connect_to(trial, 0)?;
    let messages = [
        format!(r#"{{"type":"handshake","peer":"{VERIFIER_PEER}","heads":{{}}}}"#),
        entry_message(&peer, seq, &text),
        entry_message(&ours.0, ours.1, &ours.2),
    ];
    for message in messages {
        writeln!(stream, "{message}").map_err(|e| Failure::new(format!("cannot send to p1: {e}")))?;
    }
    written.push(ours);
    net.converge(trial, &all(&written))?;
    drop(stream);
    net.finish(trial);
    Ok(())
}

fn never_echo(trial: &mut Trial) -> Result<(), Failure> {
    // The talk's tree: p2 and p3 dial p1; p4 dials p3. Writes at both ends and inside.
    let mut net = Network::start(trial, &tested(4), &[(1, 0), (2, 0), (3, 2)])?;
    let mut written = write_on(&mut net, trial, &[1, 3], "first")?;
    net.converge(trial, &all(&written))?;
    written.extend(write_on(&mut net, trial, &[2, 0, 1], "second")?);
    net.converge(trial, &all(&written))?;
    net.never_echoed(trial, true)?;
    trial.note("the relays counted what crossed each link: every entry once, away from its writer");
    net.finish(trial);
    Ok(())
}

fn stdin_closed(trial: &mut Trial) -> Result<(), Failure> {
    // A line p1–p2–p3: p2 is the only path between p1 and p3.
    let mut net = Network::start(trial, &tested(3), &[(1, 0), (2, 1)])?;
    let mut written = write_on(&mut net, trial, &[1], "before")?;
    net.converge(trial, &all(&written))?;
    net.close_stdin(trial, 1);
    // Give a peer that exits at the end of its input time to do so.
    std::thread::sleep(Duration::from_millis(300));
    written.extend(write_on(&mut net, trial, &[0, 2], "after")?);
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
}

/// Reads lines from a connection until it closes or `deadline`; true if it closed.
fn closes_by(stream: &std::net::TcpStream, deadline: Instant) -> bool {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

fn garbage_neighbour(trial: &mut Trial) -> Result<(), Failure> {
    // A line p1–p2–p3, and the verifier as a fourth neighbour of p2.
    let mut net = Network::start(trial, &tested(3), &[(1, 0), (2, 1)])?;
    let mut written = write_on(&mut net, trial, &[0], "before")?;
    net.converge(trial, &all(&written))?;
    let garbage = "this is not a message";
    trial.note(&format!(
        "the verifier connects to p2, sends a handshake, then the line {garbage:?}"
    ));
    let mut stream = net.connect_to(trial, 1)?;
    let handshake = format!(r#"{{"type":"handshake","peer":"{VERIFIER_PEER}","heads":{{}}}}"#);
    let sent = writeln!(stream, "{handshake}").and_then(|()| writeln!(stream, "{garbage}"));
    net.mark_event(1, "after a neighbour sent it garbage");
    if sent.is_ok() && !closes_by(&stream, Instant::now() + trial.limits().timeout) {
        net.finish(trial);
        return Err(trial
            .fail(format!("p2 kept the connection open after a neighbour sent it the line {garbage:?}"))
            .detail("Anything that is not a valid message ends that connection: say why on stderr and close it.")
            .advise("Decode every line; on an error, return it from that connection's task (which closes the connection) and log it."));
    }
    trial.note("p2 closed that connection");
    written.extend(write_on(&mut net, trial, &[0, 2], "after")?);
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
}

/// Lines typed on a peer's stdin at once, per round of `own-entries-durable`.
const BURST: usize = 40;

fn own_entries_durable(trial: &mut Trial) -> Result<(), Failure> {
    let mut net = Network::start(trial, &tested(1), &[])?;
    trial.note(&format!(
        "3 rounds: the verifier connects to p1 as a neighbour, types {BURST} lines, and kills p1 (SIGKILL) as soon as it printed the last one, or sent one it had not printed yet; p1's database must hold every entry it printed or sent"
    ));
    let mut shown = trial.mark();
    for round in 1..=3 {
        if round > 1 {
            shown = trial.mark();
            net.start_again(trial, 0)?;
        }
        let sent = Arc::new(Mutex::new(Vec::<(String, u64, String)>::new()));
        let stream = net.connect_to(trial, 0)?;
        watch_sends(&net, stream, &sent)?;
        let texts: Vec<String> = (1..=BURST).map(|n| format!("round {round} line {n}")).collect();
        // One line at a time, a moment apart: many appends, each one news for the
        // sending loop while the next may already be on its way to the disk.
        for text in &texts {
            if !net.type_line(0, text) {
                break;
            }
            std::thread::sleep(Duration::from_micros(trial.rng().u64(0..1500)));
        }
        // Wait for the last print (or the watcher's kill), then kill at once.
        let deadline = Instant::now() + trial.limits().timeout;
        let last = &texts[BURST - 1];
        while Instant::now() < deadline
            && net.process(0).is_some_and(|p| p.group().is_some())
            && !net.entries(0).iter().any(|(_, _, t)| t == last)
            && !net.ended(0)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        let printed = net.entries(0);
        net.kill_quietly(trial, 0);
        trial.replace_since(
            shown,
            &format!("round {round}: p1 killed right after its own appends"),
        );
        let records = trial.run_unshown(
            "read",
            &["--db", "p1.db"],
            "checked, not shown: it depends on when p1 was killed",
        )?;
        let logs = logs_of(trial, "p1.db", &records)?;
        let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
        for (how, entries) in [("printed", &printed), ("sent to its neighbour", &sent)] {
            for (peer, seq, text) in entries.iter() {
                let index = usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX);
                let held = logs.get(peer).and_then(|log| log.get(index)).filter(|_| *seq > 0);
                if held != Some(text) {
                    let log = trial.placeholder("peer", peer);
                    let now = logs.get(peer).map_or(0, Vec::len);
                    return Err(trial
                        .fail(format!("p1 {how} <{log}, {seq}, {text:?}>, was killed right after, and its database then held {now} entries of that log, without it"))
                        .detail("An entry others have seen must survive a crash: after a restart the peer would write a different entry under the same seq, and its log would fork.")
                        .advise(match how {
                            "printed" => "Flush the database after appending and before printing.",
                            _ => "Never send past the head you hold in memory, and raise that head only after the flush.",
                        }));
                }
            }
        }
    }
    trial.note("every entry p1 printed or sent was in its database");
    Ok(())
}

/// Speaks to a peer as a neighbour with nothing: sends a handshake, then reads what it
/// sends in a thread; the moment it sends an entry of its own log that it has not yet
/// printed, kills it (SIGKILL), and keeps every entry it sent in `sent`.
fn watch_sends(
    net: &Network,
    mut stream: std::net::TcpStream,
    sent: &Arc<Mutex<Vec<Entry>>>,
) -> Result<(), Failure> {
    let handshake = format!(r#"{{"type":"handshake","peer":"{VERIFIER_PEER}","heads":{{}}}}"#);
    writeln!(stream, "{handshake}")
        .map_err(|e| Failure::new(format!("cannot send a handshake to p1: {e}")))?;
    let printed = net.watch_printed(0);
    let group = net.process(0).and_then(|p| p.group());
    let sent = sent.clone();
    // Its handshake first: the connection is then served, and every line typed from
    // now on is news for it.
    let mut reader = BufReader::new(stream);
    let mut first = Vec::new();
    let _ = reader.get_ref().set_read_timeout(Some(Duration::from_secs(5)));
    let _ = reader.read_until(b'\n', &mut first);
    let _ = reader.get_ref().set_read_timeout(None);
    let mut own: Option<String> = match decode(first.strip_suffix(b"\n").unwrap_or(&first)) {
        Line::Message(Message::Handshake { peer, .. }) => Some(peer),
        _ => None,
    };
    std::thread::spawn(move || {
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            match decode(&line) {
                Line::Message(Message::Handshake { peer, .. }) => own = Some(peer),
                Line::Message(Message::Entry { peer, seq, entry }) => {
                    if own.as_deref() == Some(peer.as_str())
                        && !printed.has(&peer, seq)
                        && let Some(group) = group
                    {
                        crate::runner::kill_group(group);
                    }
                    if let Ok(mut sent) = sent.lock() {
                        sent.push((peer, seq, entry));
                    }
                }
                _ => {}
            }
        }
    });
    Ok(())
}

/// An `entry` message of the protocol.
fn entry_message(peer: &str, seq: u64, text: &str) -> String {
    let quoted = |text: &str| serde_json::Value::from(text).to_string();
    format!(
        r#"{{"type":"entry","peer":{},"seq":{seq},"entry":{}}}"#,
        quoted(peer),
        quoted(text)
    )
}

fn partition_and_heal(trial: &mut Trial) -> Result<(), Failure> {
    // A line p1–p2–p3: link 0 is p2→p1, link 1 is p3→p2.
    let mut net = Network::start(trial, &tested(3), &[(1, 0), (2, 1)])?;
    let mut written = write_on(&mut net, trial, &[0], "before")?;
    net.converge(trial, &all(&written))?;
    net.cut(trial, 1);
    written.extend(write_on(&mut net, trial, &[0, 2], "during")?);
    net.heal(trial, 1);
    written.extend(write_on(&mut net, trial, &[1], "after")?);
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
}

fn restart_catches_up(trial: &mut Trial) -> Result<(), Failure> {
    let mut net = Network::start(trial, &tested(3), &[(1, 0), (2, 1)])?;
    let mut written = write_on(&mut net, trial, &[0, 2], "first")?;
    net.converge(trial, &all(&written))?;
    net.kill(trial, 2);
    written.extend(write_on(&mut net, trial, &[0, 1], "while p3 was down")?);
    net.start_again(trial, 2)?;
    written.extend(write_on(&mut net, trial, &[2], "after restart")?);
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    // Everything p3 printed must be on its disk, though it was killed (SIGKILL) again.
    let records = trial.run("read", &["--db", "p3.db"])?;
    let logs = logs_of(trial, "p3.db", &records)?;
    let mut by_log: std::collections::BTreeMap<&str, Vec<(u64, String)>> = Default::default();
    for (peer, seq, text) in &written {
        by_log.entry(peer).or_default().push((*seq, text.clone()));
    }
    for (peer, mut entries) in by_log {
        entries.sort();
        let texts: Vec<String> = entries.into_iter().map(|(_, text)| text).collect();
        holds(trial, "p3.db", &logs, peer, &texts).map_err(|failure| {
            failure.detail("A peer prints an entry only once it is stored durably (flushed): killed right after, it must still hold it.")
        })?;
    }
    Ok(())
}

fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    // The talk's tree with the reference peer at its centre.
    let who = [Who::Reference, Who::Tested, Who::Tested, Who::Tested];
    let mut net = Network::start(trial, &who, &[(1, 0), (2, 0), (3, 2)])?;
    let written = write_on(&mut net, trial, &[1, 0, 3], "hello")?;
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
}

fn random_network(trial: &mut Trial) -> Result<(), Failure> {
    let mark = trial.mark();
    let peers = trial.rng().usize(3..=6);
    let shape = trial.rng().usize(0..3);
    let links: Vec<(usize, usize)> = match shape {
        // A random tree: each peer dials one of those before it.
        0 => (1..peers).map(|p| (p, trial.rng().usize(0..p))).collect(),
        // A line.
        1 => (1..peers).map(|p| (p, p - 1)).collect(),
        // A ring.
        _ => (0..peers).map(|p| (p, (p + 1) % peers)).collect(),
    };
    let mut net = Network::start(trial, &tested(peers), &links)?;
    let mut written = Vec::new();
    for round in 0..3 {
        let writer = trial.rng().usize(0..peers);
        written.extend(write_on(&mut net, trial, &[writer], &format!("round {round}"))?);
    }
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    trial.replace_since(
        mark,
        "a seeded random network (a tree, line or ring of 3 to 6 peers), 3 writes on random peers: converged",
    );
    Ok(())
}
