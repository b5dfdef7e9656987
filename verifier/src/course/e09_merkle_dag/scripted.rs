//! Checks where the verifier plays the other peer: it sends a script of
//! messages (signed with logs of its own) that an honest peer never would,
//! and looks at what the peer under test stored.

use super::dag::{Author, Node};
use super::nodes::{Printed, add, keys, list};
use super::sync::replicate;
use super::wire::{self, done, have, node, want};
use crate::harness::duplex::Direction;
use crate::harness::trial::{Failure, RawTalk, Trial};

/// Runs `replicate DB` against a script; shows the script, and the replies if
/// `show_replies`.
fn talk(trial: &mut Trial, db: &str, script: &[String], show_replies: bool) -> Result<RawTalk, Failure> {
    let peer = replicate(db);
    trial.show(format!(
        "$ {}   (the verifier plays the other side)",
        trial.peer_line(&peer)
    ));
    let mut input = Vec::new();
    for message in script {
        let line = wire::decode(message.as_bytes()).show(trial.redactor());
        trial.show(format!("verifier → A  {line}"));
        input.extend_from_slice(message.as_bytes());
        input.push(b'\n');
    }
    let talk = trial.converse_raw(&peer, &input)?;
    let replies: Vec<(Direction, wire::Line)> = talk
        .lines
        .iter()
        .map(|l| (Direction::AtoB, wire::decode(l)))
        .collect();
    let wire_lines: Vec<String> = replies
        .iter()
        .map(|(_, l)| format!("A → verifier  {}", l.show(trial.redactor())))
        .collect();
    trial.set_wire(wire_lines);
    if show_replies {
        for line in wire::shown(&replies, trial.redactor()) {
            trial.show(line.replacen("A → B", "A → verifier", 1));
        }
    }
    Ok(talk)
}

/// A session that must succeed: the peer exits 0.
fn accepted(trial: &mut Trial, db: &str, script: &[String]) -> Result<(), Failure> {
    let talk = talk(trial, db, script, true)?;
    if talk.ending.success() {
        return Ok(());
    }
    Err(trial
        .fail(format!(
            "`replicate {db}` {} after a correct session",
            talk.ending.describe()
        ))
        .detail(crate::harness::records::it_said(&talk.stderr)))
}

/// A session that must be refused: exit non-zero with a reason on stderr.
fn refused(trial: &mut Trial, db: &str, script: &[String], what: &str) -> Result<RawTalk, Failure> {
    let talk = talk(trial, db, script, false)?;
    if talk.ending.success() {
        return Err(trial
            .fail(format!("`replicate {db}` accepted {what} and exited 0"))
            .detail("Refuse it: a reason on stderr and exit code 1, storing nothing of the bad node."));
    }
    if talk.stderr.trim().is_empty() {
        return Err(trial.fail(format!(
            "`replicate {db}` refused {what} but said nothing on stderr"
        )));
    }
    trial.note("refused, with a reason on stderr");
    Ok(talk)
}

/// A whole session from the verifier's log: its have, a want of the peer's own
/// log from `peer_held`, the nodes, and done.
fn script(author: &Author, tip: &Node, peer: &Printed, peer_held: u64, nodes: &[&Node]) -> Vec<String> {
    let log = author.log();
    let mut lines = vec![
        have(&[(&log, tip.seq, &tip.key)]),
        want(&[(&peer.log, peer_held)]),
    ];
    lines.extend(nodes.iter().map(|n| node(n)));
    lines.push(done(nodes.len() as u64));
    lines
}

/// Gives a database that holds no log of its own, and the verifier's log up to
/// just before `nodes`, those nodes, in one session (not shown).
pub fn feed(trial: &mut Trial, db: &str, author: &Author, nodes: &[Node]) -> Result<(), Failure> {
    let Some(tip) = nodes.last() else { return Ok(()) };
    let mut input = String::new();
    let log = author.log();
    for line in [have(&[(&log, tip.seq, &tip.key)]), want(&[])]
        .into_iter()
        .chain(nodes.iter().map(node))
        .chain([done(nodes.len() as u64)])
    {
        input.push_str(&line);
        input.push('\n');
    }
    let talk = trial.converse_raw(&replicate(db), input.as_bytes())?;
    if !talk.ending.success() {
        return Err(trial
            .fail(format!(
                "`replicate {db}` {} while the verifier sent it {} nodes of one log",
                talk.ending.describe(),
                nodes.len()
            ))
            .detail(crate::harness::records::it_said(&talk.stderr)));
    }
    Ok(())
}

fn lacks(trial: &Trial, db: &str, held: &[Printed], node: &Node, why: &str) -> Result<(), Failure> {
    if keys(held).contains(node.key.as_str()) {
        return Err(trial.fail(format!("{db} stored the node {:?}, {why}", node.value)));
    }
    Ok(())
}

pub fn missing_parent_never_stored(trial: &mut Trial) -> Result<(), Failure> {
    let a1 = add(trial, "alice.db", &[], "a1")?;
    let verifier = Author::new(0x11);
    let chain = verifier.chain(4, "v");
    trial.note("v2 arrives before its parent v1: it waits, then both are stored");
    accepted(
        trial,
        "alice.db",
        &script(&verifier, &chain[1], &a1, 0, &[&chain[1], &chain[0]]),
    )?;
    list(trial, "alice.db")?;
    trial.note("v4 arrives, its parent v3 never does");
    refused(
        trial,
        "alice.db",
        &script(&verifier, &chain[3], &a1, 1, &[&chain[3]]),
        "a node whose parent never came",
    )?;
    let held = list(trial, "alice.db")?;
    lacks(trial, "alice.db", &held, &chain[3], "whose parent never arrived")?;
    let outcome = trial.run_any_exit("get", &["alice.db", &chain[3].key])?;
    if outcome.ending.success() {
        return Err(trial.fail("`get` found the node v4, whose parent never arrived"));
    }
    Ok(())
}

pub fn tampered_node_refused(trial: &mut Trial) -> Result<(), Failure> {
    let a1 = add(trial, "alice.db", &[], "a1")?;
    let verifier = Author::new(0x22);
    let v1 = verifier.node(1, None, &[], "v1");
    let mut tampered = v1.clone();
    tampered.value = "v1, changed on the way".into();
    trial.note("v1's value changed on the way; its key and signature kept");
    refused(
        trial,
        "alice.db",
        &script(&verifier, &v1, &a1, 0, &[&tampered]),
        "a node whose key is not the hash of its content",
    )?;
    let held = list(trial, "alice.db")?;
    lacks(
        trial,
        "alice.db",
        &held,
        &tampered,
        "whose key is not the hash of its content",
    )
}

pub fn forged_signature_refused(trial: &mut Trial) -> Result<(), Failure> {
    let a1 = add(trial, "alice.db", &[], "a1")?;
    let (verifier, forger) = (Author::new(0x33), Author::new(0x44));
    let mut forged = verifier.node(1, None, &[], "v1, written by someone else");
    forged.sig = forger.sign(&forged.key);
    trial.note("a node of the verifier's log, signed with another key");
    refused(
        trial,
        "alice.db",
        &script(&verifier, &forged, &a1, 0, &[&forged]),
        "a node its log did not sign",
    )?;
    let held = list(trial, "alice.db")?;
    lacks(
        trial,
        "alice.db",
        &held,
        &forged,
        "whose signature is not its log's",
    )
}

/// A log that forked (one author signed two histories) meets the peer under
/// test three ways: two nodes #1 at the tips; two forks that end in an
/// identical node #2 (same value, same `--link`), which only `previous` tells
/// apart; and a fork that the peer learns of only from the node after its own
/// tip. Each time: refused, the log and the two differing keys named, nothing
/// of the other fork stored.
pub fn equivocation_detected(trial: &mut Trial) -> Result<(), Failure> {
    let verifier = Author::new(0x55);
    let a1 = add(trial, "alice.db", &[], "a1")?;
    let first = verifier.node(1, None, &[], "v1");
    let second = verifier.node(1, None, &[], "v1, said differently");
    accepted(trial, "alice.db", &script(&verifier, &first, &a1, 0, &[&first]))?;
    trial.note("the same log signs a second, different node #1");
    let fork = Fork {
        db: "alice.db",
        peer: &a1,
        peer_held: 1,
        what: "a second node #1 of one log",
    };
    fork.refused(trial, &verifier, &second, &[&second], (&first, &second))?;

    trial.note("deeper: two forks of one log, each #1 followed by the same #2 (same value, same --link)");
    let b1 = add(trial, "bob.db", &[], "b1")?;
    let v1 = verifier.node(1, None, &[], "v1 on one fork");
    let w1 = verifier.node(1, None, &[], "v1 on the other fork");
    let v2 = verifier.node(2, Some(&v1.key), &[&b1.key], "the same #2");
    let w2 = verifier.node(2, Some(&w1.key), &[&b1.key], "the same #2");
    accepted(trial, "bob.db", &script(&verifier, &v2, &b1, 0, &[&v1, &v2]))?;
    let fork = Fork {
        db: "bob.db",
        peer: &b1,
        peer_held: 1,
        what: "the other fork's #2, identical but for the history below it",
    };
    fork.refused(trial, &verifier, &w2, &[&w1, &w2], (&v2, &w2))?;

    trial.note("a fork seen only from the node after the peer's tip: its `previous` is not the peer's #1");
    let c1 = add(trial, "carol.db", &[], "c1")?;
    accepted(trial, "carol.db", &script(&verifier, &v1, &c1, 0, &[&v1]))?;
    let after_w1 = verifier.node(2, Some(&w1.key), &[], "v2 on the other fork");
    let fork = Fork {
        db: "carol.db",
        peer: &c1,
        peer_held: 1,
        what: "a node #2 whose previous node is another fork's #1",
    };
    fork.refused(trial, &verifier, &after_w1, &[&after_w1], (&v1, &w1))
}

/// A session that offers a fork of a log the peer under test already holds.
struct Fork<'a> {
    db: &'a str,
    peer: &'a Printed,
    peer_held: u64,
    what: &'a str,
}

impl Fork<'_> {
    /// Offers `sent` (the fork, up to `tip`): the peer must refuse, name the
    /// log and both keys of `evidence` (the node it holds, the other fork's),
    /// and store none of `sent`.
    fn refused(
        &self,
        trial: &mut Trial,
        author: &Author,
        tip: &Node,
        sent: &[&Node],
        evidence: (&Node, &Node),
    ) -> Result<(), Failure> {
        let talk = refused(
            trial,
            self.db,
            &script(author, tip, self.peer, self.peer_held, sent),
            self.what,
        )?;
        let log = author.log();
        let named = [log.as_str(), evidence.0.key.as_str(), evidence.1.key.as_str()];
        if let Some(missing) = named.iter().find(|id| !talk.stderr.contains(*id)) {
            let which = match *missing == log {
                true => "the log id".to_string(),
                false => format!("both keys of its two nodes #{}", evidence.0.seq),
            };
            return Err(trial
                .fail(format!(
                    "`replicate {}` refused {} but its error does not name {which}",
                    self.db, self.what
                ))
                .detail("Show the evidence: the log and the keys of its two differing nodes of one seq, so that anyone can check both signatures."));
        }
        let shown: Vec<String> = named.iter().map(|id| trial.placeholder("node", id)).collect();
        let log = trial.placeholder("log", &log);
        trial.note(&format!(
            "the error names {log} and both of its nodes #{}: {} and {}",
            evidence.0.seq, shown[1], shown[2]
        ));
        let held = list(trial, self.db)?;
        for node in sent {
            lacks(
                trial,
                self.db,
                &held,
                node,
                "of the other fork of a log it already held",
            )?;
        }
        Ok(())
    }
}

/// The buffer of nodes waiting for their parents is bounded: 1,001 nodes whose
/// parents have not come, then the parent that would let all of them in. A peer
/// without a bound stores them all and exits 0; a bounded one refuses at the 1,001st
/// and stores none of them.
pub fn waiting_is_bounded(trial: &mut Trial) -> Result<(), Failure> {
    const WAITING: u64 = 1_001;
    let a1 = add(trial, "alice.db", &[], "a1")?;
    let verifier = Author::new(0x22);
    let chain = verifier.chain(WAITING + 1, "w");
    let (first, rest) = chain.split_first().ok_or_else(|| trial.fail("an empty chain"))?;
    let tip = chain.last().unwrap_or(first);
    let mut input = String::new();
    let log = verifier.log();
    let messages = [have(&[(&log, tip.seq, &tip.key)]), want(&[(&a1.log, 1)])]
        .into_iter()
        .chain(rest.iter().rev().map(node))
        .chain([node(first), done(WAITING + 1)]);
    for message in messages {
        input.push_str(&message);
        input.push('\n');
    }
    let peer = replicate("alice.db");
    trial.show(format!(
        "$ {}   (the verifier plays the other side)",
        trial.peer_line(&peer)
    ));
    trial.show(format!(
        "verifier → A  have, want, then w{}…w2 newest first ({WAITING} nodes, each waiting for its parent), then w1, then done",
        WAITING + 1
    ));
    let talk = trial.converse_raw(&peer, input.as_bytes())?;
    if talk.ending.success() {
        return Err(trial
            .fail(format!(
                "`replicate alice.db` kept {WAITING} nodes waiting for their parents and exited 0: its buffer has no bound"
            ))
            .advise(
                "Count the nodes waiting for a parent; when one more would make 1,001, stop with an error. A hostile peer must not be able to make you hold its whole DAG in memory.",
            ));
    }
    if talk.stderr.trim().is_empty() {
        return Err(
            trial.fail("`replicate alice.db` refused the flood of waiting nodes but said nothing on stderr")
        );
    }
    trial.note("refused, with a reason on stderr");
    let held = list(trial, "alice.db")?;
    for node in [first, tip] {
        lacks(trial, "alice.db", &held, node, "after refusing the session")?;
    }
    Ok(())
}
