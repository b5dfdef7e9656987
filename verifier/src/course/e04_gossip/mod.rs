//! Exercise 04, live gossip across a network: peers on TCP that replicate as entries
//! are written, forward other peers' entries so that a tree is enough, never echo an
//! entry back, survive cut links and restarts, and print each entry they learn once.
//!
//! Every link runs through a relay of the verifier, so it can partition the network
//! at will; every network is torn down (all process groups killed) when a check ends.

use super::logs::{holds, logs_of};
use super::shapes::{LOG_ENTRY, READ_ALL_LOGS};
use super::{Check, Exercise, Program};
use crate::harness::trial::{Entry, Failure, Network, Trial, Who};
use std::collections::BTreeSet;

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
            about: "in a ring, entries arrive by two paths and are still stored and printed once",
            advice: "Store an entry only if it is the next of its log; a second copy arriving by another path is a duplicate: drop it silently.",
            run: ring,
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
    let written = write_on(&mut net, trial, &[0, 1], "hello")?;
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
    let written = write_on(&mut net, trial, &[0, 1, 2, 3], "hello")?;
    net.converge(trial, &all(&written))?;
    net.finish(trial);
    Ok(())
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
