//! Checks that wire two `replicate` peers through the verifier's relay: the
//! conversation is judged message by message, then the databases are listed.
//! Among them, the two causes of the demo that failed on stage: two logs with
//! no common node, and a copied database directory.

use super::dag::Author;
use super::nodes::{
    Printed, add, add_as, add_many, add_unshown, keys, list, list_as, list_unshown, same_nodes,
};
use super::scripted::feed;
use super::wire::{self, Line, judge, parse};
use crate::harness::duplex::Direction;
use crate::harness::duplex::Fault;
use crate::harness::tree::copy_tree;
use crate::harness::trial::{Failure, Peer, RawRun, Trial, Who};
use crate::runner::{Ending, seconds};
use std::time::Duration;

pub fn replicate(db: &str) -> Peer<'_> {
    Peer::tested("replicate", &[db])
}

/// What crossed in a clean session, counted per direction.
pub struct Synced {
    pub a_to_b: usize,
    pub b_to_a: usize,
    pub elapsed: Duration,
}

fn decoded(run: &RawRun) -> Vec<(Direction, Line)> {
    run.lines
        .iter()
        .filter(|(_, _, forwarded)| *forwarded)
        .map(|(d, raw, _)| (*d, wire::decode(raw)))
        .collect()
}

fn remember_wire(trial: &mut Trial, run: &RawRun) {
    let shown: Vec<String> = run
        .lines
        .iter()
        .map(|(d, raw, forwarded)| {
            let line = wire::decode(raw).show(trial.redactor());
            let dropped = if *forwarded {
                ""
            } else {
                "   (dropped: the stream was cut)"
            };
            format!("{}  {line}{dropped}", d.arrow())
        })
        .collect();
    trial.set_wire(shown);
}

/// The last thing a peer said on stderr, for a failure report (none if nothing).
fn said(stderr: &str) -> Option<String> {
    (!stderr.trim().is_empty()).then(|| crate::harness::records::it_said(stderr))
}

/// Replicates A with B through the relay; both must follow the protocol and
/// exit 0. The transcript shows each direction's messages in a stable order.
/// How much of a sync the transcript shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// Every message that crossed.
    Wire,
    /// One line with the number of nodes each way (the messages are still judged).
    Counts,
}

/// Syncs two databases through the verifier's relay, judges every message, and
/// shows the whole wire.
pub fn sync(trial: &mut Trial, a: Peer, b: Peer) -> Result<Synced, Failure> {
    sync_showing(trial, a, b, Shown::Wire)
}

/// Syncs two databases through the verifier's relay, judges every message, and
/// shows one line with the counts.
pub fn sync_counted(trial: &mut Trial, a: Peer, b: Peer) -> Result<Synced, Failure> {
    sync_showing(trial, a, b, Shown::Counts)
}

fn sync_showing(trial: &mut Trial, a: Peer, b: Peer, showing: Shown) -> Result<Synced, Failure> {
    let run = trial.relay_raw(&a, &b, Fault::None)?;
    let lines = decoded(&run);
    let shown = wire::shown(&lines, trial.redactor());
    remember_wire(trial, &run);
    let names = [
        format!("A (`{}`)", trial.peer_line(&a)),
        format!("B (`{}`)", trial.peer_line(&b)),
    ];
    let of = |d: Direction| -> Vec<&Line> { lines.iter().filter(|(x, _)| *x == d).map(|(_, l)| l).collect() };
    let (sent_a, sent_b) = (of(Direction::AtoB), of(Direction::BtoA));
    let said_done = |sent: &[&Line]| {
        sent.iter()
            .any(|l| matches!(l, Line::Message(wire::Message::Done { .. })))
    };
    let silent = [
        (&names[0], &sent_a, run.a, &run.stderr_a),
        (&names[1], &sent_b, run.b, &run.stderr_b),
    ]
    .into_iter()
    .find(|(_, sent, ending, _)| !said_done(sent) && !matches!(ending, Ending::TimedOut(_)));
    if let Some((name, _, ending, stderr)) = silent.filter(|_| !(run.a.success() && run.b.success())) {
        let mut failure = match ending.success() {
            true => trial.fail(format!(
                "{name} exited 0 without ever sending `done`, so the other side could not finish"
            )),
            false => trial.fail(format!("{name} {} before sending `done`", ending.describe())),
        };
        if let Some(said) = said(stderr) {
            failure = failure.detail(said);
        }
        return Err(failure.detail(
            "A side says `done` with its count after the nodes the other side wants, then closes stdout.",
        ));
    }
    for (ending, stderr, name, sent) in [
        (run.a, &run.stderr_a, &names[0], &sent_a),
        (run.b, &run.stderr_b, &names[1], &sent_b),
    ] {
        if ending.success() {
            continue;
        }
        let mut failure = trial.fail(format!(
            "{name} {}; it should exit 0 after a clean sync",
            ending.describe()
        ));
        if let Some(said) = said(stderr) {
            failure = failure.detail(said);
        }
        if let Ending::TimedOut(_) = ending {
            let done = sent
                .iter()
                .any(|l| matches!(l, Line::Message(wire::Message::Done { .. })));
            failure = failure.detail(match done {
                false => "It never sent `done`: after the nodes the other side wants, send {\"type\":\"done\",\"sent\":N} and close stdout.",
                true => "It sent `done` but did not exit: exit once you have sent your done AND read the other side's done and the end of the stream.",
            });
        }
        return Err(failure);
    }
    let parsed = [parse(&sent_a), parse(&sent_b)];
    for (index, name) in names.iter().enumerate() {
        let sender = parsed[index].as_ref();
        let receiver = parsed[1 - index].as_ref();
        let judged = match (sender, receiver) {
            (Ok(sender), Ok(receiver)) => judge(sender, receiver, trial.redactor()),
            (Err(problem), _) => Err(problem.clone()),
            (_, Err(_)) => continue,
        };
        if let Err(problem) = judged {
            return Err(trial
                .fail(format!("{name} broke the protocol: {problem}"))
                .detail("The problem text specifies every message; below is what crossed the wire."));
        }
    }
    let count = |sent: &[&Line]| {
        sent.iter()
            .filter(|l| matches!(l, Line::Message(wire::Message::Node(_))))
            .count()
    };
    let synced = Synced {
        a_to_b: count(&sent_a),
        b_to_a: count(&sent_b),
        elapsed: run.elapsed,
    };
    let command = format!("$ {} ⇄ {}", trial.peer_line(&a), trial.peer_line(&b));
    match showing {
        Shown::Wire => {
            trial.show(command);
            for line in shown {
                trial.show(line);
            }
        }
        Shown::Counts => trial.show(format!(
            "{command}   ({} nodes A → B, {} B → A; every message judged, not shown)",
            synced.a_to_b, synced.b_to_a
        )),
    }
    Ok(synced)
}

fn expect_crossing(trial: &Trial, synced: &Synced, a_to_b: usize, b_to_a: usize) -> Result<(), Failure> {
    if (synced.a_to_b, synced.b_to_a) == (a_to_b, b_to_a) {
        return Ok(());
    }
    Err(trial.fail(format!(
        "{} nodes went A → B and {} B → A; expected {a_to_b} and {b_to_a}",
        synced.a_to_b, synced.b_to_a
    )))
}

pub fn parents_first(trial: &mut Trial) -> Result<(), Failure> {
    let root = add(trial, "alice.db", &[], "root")?;
    let left = add(trial, "alice.db", &[&root.key], "left")?;
    add(trial, "alice.db", &[&root.key], "right")?;
    add(trial, "alice.db", &[], "merge")?;
    add(trial, "alice.db", &[&left.key], "late")?;
    add(trial, "alice.db", &[], "tip")?;
    add(trial, "bob.db", &[], "bob")?;
    trial.note("list prints parents first (checked), shown here in a stable order");
    list(trial, "alice.db")?;
    let synced = sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &synced, 6, 1)?;
    trial.note("bob.db stored alice's nodes in an order with parents first");
    list(trial, "bob.db")?;
    a_long_chain_keeps_its_order(trial)
}

/// Nodes in key order instead of stored order would pass a small DAG now and
/// then, when its random keys happen to sort parents first. A chain of
/// [`CHAIN`] nodes sorts that way once in 12! ≈ 479 million runs.
const CHAIN: usize = 12;

fn a_long_chain_keeps_its_order(trial: &mut Trial) -> Result<(), Failure> {
    trial.note(&format!(
        "a longer history: a chain of {CHAIN} nodes, each on the one before (a few random keys may happen to sort parents first; {CHAIN} in a chain practically never do)"
    ));
    let why = "output not shown";
    for n in 1..=CHAIN {
        add_unshown(trial, "carol.db", &format!("chain {n}"), why)?;
    }
    add_unshown(trial, "dave.db", "dave", why)?;
    list_unshown(trial, "carol.db", "checked: parents first")?;
    let synced = sync_showing(trial, replicate("carol.db"), replicate("dave.db"), Shown::Counts)?;
    expect_crossing(trial, &synced, CHAIN, 1)?;
    list_unshown(trial, "dave.db", "checked: parents first")?;
    Ok(())
}

/// Alice with a1..a3 and Bob with b1, b2: two logs with no node in common.
fn alice_and_bob(trial: &mut Trial) -> Result<(Vec<Printed>, Vec<Printed>), Failure> {
    Ok((
        add_many(trial, "alice.db", "a", 3)?,
        add_many(trial, "bob.db", "b", 2)?,
    ))
}

pub fn disjoint_logs_converge(trial: &mut Trial) -> Result<(), Failure> {
    alice_and_bob(trial)?;
    trial.note("no node in common, no common root: nothing is needed but the logs");
    let synced = sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &synced, 3, 2)?;
    let alice = list(trial, "alice.db")?;
    let bob = list(trial, "bob.db")?;
    same_nodes(trial, ("alice.db", &alice), ("bob.db", &bob))?;
    trial.note("two heads now, one from each log; a node added without --link merges them");
    let heads = super::nodes::heads(trial, "alice.db")?;
    if heads.len() != 2 {
        return Err(trial.fail(format!(
            "alice.db has {} heads after the sync; expected 2, a3 and b2",
            heads.len()
        )));
    }
    let merge = add(trial, "alice.db", &[], "merge")?;
    if merge.links.len() != 2 {
        return Err(trial.fail("the merge after the sync should link both heads"));
    }
    Ok(())
}

pub fn only_missing_cross(trial: &mut Trial) -> Result<(), Failure> {
    alice_and_bob(trial)?;
    sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    add_many(trial, "alice.db", "new", 3)?;
    let synced = sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &synced, 3, 0)?;
    trial.note("nothing new on either side");
    let synced = sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &synced, 0, 0)
}

pub fn copied_directory_refused(trial: &mut Trial) -> Result<(), Failure> {
    let first = add_many(trial, "alice.db", "a", 2)?;
    trial.show("$ cp -r alice.db bob.db");
    let dir = trial.dir().to_path_buf();
    let copied = copy_tree(&dir.join("alice.db"), &dir.join("bob.db"), &[])
        .map_err(|e| Failure::new(format!("the verifier could not copy alice.db: {e}")))?;
    if let Some(skipped) = copied.skipped_list() {
        return Err(trial
            .fail(format!("alice.db holds what is not a file or a folder: {skipped}; the verifier's `cp -r` left it out"))
            .detail("A database folder holds files and folders only: a FIFO, a socket or a device node in it is a leftover that would hang or break a copy."));
    }
    let log = first[0].log.clone();
    let from_alice = add(trial, "alice.db", &[], "from alice")?;
    let from_bob = add(trial, "bob.db", &[], "from bob")?;
    let run = trial.relay_raw(&replicate("alice.db"), &replicate("bob.db"), Fault::None)?;
    remember_wire(trial, &run);
    trial.show("$ replicate alice.db ⇄ replicate bob.db");
    for (ending, name) in [(run.a, "A"), (run.b, "B")] {
        if let Ending::TimedOut(limit) = ending {
            return Err(trial
                .fail(format!("{name} was still running after {}: the sync hung", seconds(limit)))
                .detail("This is the stage demo: two writers with one log id must be detected and refused, not waited on."));
        }
    }
    if run.a.success() && run.b.success() {
        return Err(trial
            .fail("both sides exited 0: the two copies wrote two different nodes #3 under one log id, and the sync did not notice")
            .detail("Compare the other side's have with what you hold: the same log and seq with a different key is two writers."));
    }
    let named = [&run.stderr_a, &run.stderr_b].iter().any(|s| s.contains(&log));
    if !named {
        let mut failure =
            trial.fail("the sync failed, but neither side's error names the log id that has two writers");
        for said in [said(&run.stderr_a), said(&run.stderr_b)].into_iter().flatten() {
            failure = failure.detail(said);
        }
        return Err(failure.detail(
            "Say what happened: two writers with one log id (give the id): was a database directory copied?",
        ));
    }
    let log = trial.placeholder("log", &log);
    trial.note(&format!(
        "refused: a side exited with an error naming {log}, which has two writers"
    ));
    trial.note("and nothing was lost on either side");
    let alice = list(trial, "alice.db")?;
    let bob = list(trial, "bob.db")?;
    let expect = |mut nodes: Vec<Printed>, extra: &Printed| {
        nodes.push(extra.clone());
        nodes
    };
    for (db, held, expected) in [
        ("alice.db", &alice, expect(first.clone(), &from_alice)),
        ("bob.db", &bob, expect(first.clone(), &from_bob)),
    ] {
        if keys(held) != keys(&expected) {
            return Err(trial.fail(format!(
                "{db} holds {} nodes after the refused sync; it should hold exactly its own 3",
                held.len()
            )));
        }
    }
    Ok(())
}

/// Alice with 10 nodes and Bob with 8: enough messages for a fault to land
/// anywhere (2 haves, 2 wants, 18 nodes, 2 dones).
fn big_pair(trial: &mut Trial) -> Result<(Vec<Printed>, Vec<Printed>, usize), Failure> {
    let alice = add_many(trial, "alice.db", "a", 10)?;
    let bob = add_many(trial, "bob.db", "b", 8)?;
    Ok((alice, bob, 24))
}

fn with_fault(trial: &mut Trial, fault: Fault, what: &str) -> Result<(), Failure> {
    let (alice, bob, _) = big_pair(trial)?;
    let run = trial.relay_raw(&replicate("alice.db"), &replicate("bob.db"), fault)?;
    remember_wire(trial, &run);
    trial.show("$ replicate alice.db ⇄ replicate bob.db");
    trial.note(what);
    for (ending, name, stderr) in [(run.a, "A", &run.stderr_a), (run.b, "B", &run.stderr_b)] {
        if matches!(ending, Ending::TimedOut(_)) || ending.flooded() {
            let mut failure = trial
                .fail(format!("{name} {} after the stream broke", ending.describe()))
                .detail(
                    "A peer must notice end-of-file on stdin and exit (with an error: it never got done).",
                );
            if let Some(said) = said(stderr) {
                failure = failure.detail(said);
            }
            return Err(failure);
        }
    }
    let why = "what got through depends on the seed: checked, not shown";
    for (db, own) in [("alice.db", &alice), ("bob.db", &bob)] {
        let held = list_unshown(trial, db, why)?;
        super::nodes::holds(trial, db, &held, own)?;
    }
    let mark = trial.mark();
    sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    trial.replace_since(
        mark,
        "a new sync completes both (what crosses depends on what got through)",
    );
    let a = list(trial, "alice.db")?;
    let b = list(trial, "bob.db")?;
    same_nodes(trial, ("alice.db", &a), ("bob.db", &b))?;
    if a.len() != alice.len() + bob.len() {
        return Err(trial.fail(format!(
            "after the new sync alice.db holds {} nodes; expected 18",
            a.len()
        )));
    }
    Ok(())
}

pub fn cut_stream(trial: &mut Trial) -> Result<(), Failure> {
    let cut = trial.rng().usize(1..24);
    with_fault(
        trial,
        Fault::CutAfter(cut),
        "the verifier cut the stream in the middle (seeded)",
    )
}

pub fn killed_mid_sync(trial: &mut Trial) -> Result<(), Failure> {
    let kill = trial.rng().usize(1..24);
    with_fault(
        trial,
        Fault::KillAAfter(kill),
        "the verifier killed A with SIGKILL in the middle (seeded)",
    )
}

pub fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    add_many(trial, "alice.db", "a", 3)?;
    add_as(trial, Who::Reference, "bob.db", &[], "b1")?;
    add_as(trial, Who::Reference, "bob.db", &[], "b2")?;
    trial.note("yours as A, the reference as B");
    let synced = sync(
        trial,
        replicate("alice.db"),
        Peer::reference("replicate", &["bob.db"]),
    )?;
    expect_crossing(trial, &synced, 3, 2)?;
    add(trial, "alice.db", &[], "a4")?;
    add_as(trial, Who::Reference, "bob.db", &[], "b3")?;
    trial.note("the reference as A, yours as B");
    let synced = sync(
        trial,
        Peer::reference("replicate", &["bob.db"]),
        replicate("alice.db"),
    )?;
    expect_crossing(trial, &synced, 1, 1)?;
    let mine = list(trial, "alice.db")?;
    let theirs = list_as(trial, Who::Reference, "bob.db")?;
    same_nodes(trial, ("alice.db", &mine), ("bob.db", &theirs))
}

/// Nodes in the large DAG, and the budget of the catch-up.
const LARGE: u64 = 2000;
const BUDGET: Duration = Duration::from_secs(2);

/// How long feeding the large DAG to a database may take: a few seconds on a busy
/// machine, far more than the usual limit of one program run needs elsewhere.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

pub fn catch_up_costs_what_is_new(trial: &mut Trial) -> Result<(), Failure> {
    let verifier = Author::new(0x42);
    let chain = verifier.chain(LARGE + 3, "v");
    let (old, new) = chain.split_at(LARGE as usize);
    trial.note(&format!(
        "the verifier, as a peer, gives alice.db and bob.db the same {LARGE} nodes of its own log"
    ));
    // Setting up, not what is measured: a slow machine gets the time it needs.
    trial.set_timeout(Some(trial.context.limits.timeout.max(SETUP_TIMEOUT)));
    let fed = ["alice.db", "bob.db"]
        .into_iter()
        .try_for_each(|db| feed(trial, db, &verifier, old));
    trial.set_timeout(None);
    fed?;
    trial.note("then 3 more of them to alice.db only");
    feed(trial, "alice.db", &verifier, new)?;
    let synced = sync(trial, replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &synced, 3, 0)?;
    // Stretched on a busy machine: walking the whole DAG is slower by far more.
    let budget = crate::harness::patience::stretch(BUDGET);
    trial.measured(format!(
        "{} ms, budget {} ms: catching up 3 nodes on a DAG of {LARGE}",
        synced.elapsed.as_millis(),
        budget.as_millis()
    ));
    if synced.elapsed > budget {
        return Err(trial
            .fail(format!(
                "catching up 3 nodes on a DAG of {LARGE} took {} ms; the budget is {} ms",
                synced.elapsed.as_millis(),
                budget.as_millis()
            ))
            .detail("Work out the have from a per-log tip, and what to send by one range scan per wanted log: never walk the whole DAG."));
    }
    trial.note(&format!(
        "the sync took less than its budget of {}",
        seconds(BUDGET)
    ));
    Ok(())
}
