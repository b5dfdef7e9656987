//! Exercise 03, replicating two logs over one duplex stream: a handshake with the
//! head of every log held, the entries the other side lacks, an `end`, and a clean exit.
//!
//! The checks wire two `replicate` processes through the verifier's relay, decode
//! every message, and judge both the conversation (exactly the missing entries, each
//! once) and the result (the same logs on both sides, no gap, no repeat). Then they
//! break things: the learner's peer against the reference one in both positions, a
//! stream cut after a seeded number of messages, a peer killed mid-sync, and hostile
//! messages that must be refused without damaging the log.

use super::logs::{Logs, holds, logs_of, same_logs};
use super::replication::wire::{Direction, Line, Message};
use super::replication::{Peer, SyncRun, VERIFIER_PEER, judge_direction};
use super::shapes::{APPEND, READ_ALL_LOGS};
use super::{Check, Exercise, Program};
use crate::duplex::Fault;
use crate::records::Record;
use crate::runner::Ending;
use crate::trial::{Failure, Trial, Who};
use serde_json::json;

pub static EXERCISE: Exercise = Exercise {
    number: 3,
    slug: "replicate",
    title: "Replicate two logs over a duplex stream",
    summary: "a handshake of heads, the missing entries, an end marker: sync over stdin/stdout",
    problem: include_str!("../../../../exercises/03-replicate/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        APPEND,
        READ_ALL_LOGS,
        Program {
            name: "replicate",
            usage: "replicate DB   (speaks the protocol on stdin/stdout)",
            prints: None,
            sorted: false,
        },
    ],
    checks: &[
        Check {
            name: "empty-databases",
            about: "two empty databases sync: handshakes, no entries, ends, exit 0",
            advice: "Send your handshake at once, then (after reading the other's) the entries it lacks — none here — then {\"type\":\"end\",\"sent\":0}; close stdout; exit once you have the other's end.",
            run: empty_databases,
        },
        Check {
            name: "converge",
            about: "two logs sync both ways and end up holding the same logs",
            advice: "Each side sends, for every log in its handshake, the entries after the other side's head for that log; store what you receive if it is the next of its log.",
            run: converge,
        },
        Check {
            name: "second-sync-sends-nothing",
            about: "syncing again sends no entries at all",
            advice: "Your handshake's heads must list EVERY log you hold (others' too), so the other side knows you already have them.",
            run: second_sync_sends_nothing,
        },
        Check {
            name: "only-new-entries",
            about: "after three new appends, exactly those three cross",
            advice: "Start sending at the other side's head + 1 (a range scan from that key), never from seq 1.",
            run: only_new_entries,
        },
        Check {
            name: "relays-other-logs",
            about: "a database passes on logs it got from a third one",
            advice: "Your heads and your diff cover every log you hold, not just your own: that is what lets entries travel a-b, b-c to reach c.",
            run: relays_other_logs,
        },
        Check {
            name: "speaks-the-protocol",
            about: "against the verifier as the other side: the exact messages, in order",
            advice: "Read the protocol section of the problem text message by message: field names, order, and the `sent` count.",
            run: speaks_the_protocol,
        },
        Check {
            name: "interop-with-reference",
            about: "your peer syncs with the reference peer, in both positions",
            advice: "Follow the protocol text exactly (field names, types, end, close); the reference peer is strict.",
            run: interop_with_reference,
        },
        Check {
            name: "cut-stream",
            about: "a stream cut mid-sync leaves whole log prefixes, and a new sync completes them",
            advice: "On end-of-file before `end`, keep what you stored (each log arrives in order, so it is a prefix), exit with an error, and let the next sync fetch the rest.",
            run: cut_stream,
        },
        Check {
            name: "killed-mid-sync",
            about: "a peer killed with SIGKILL mid-sync loses nothing it had, and resyncs",
            advice: "Never rewrite or remove stored entries during a sync; sled writes are crash-safe, so a killed peer reopens with every entry it had flushed.",
            run: killed_mid_sync,
        },
        Check {
            name: "refuses-bad-messages",
            about: "hostile or broken messages are refused with an error; the log stays intact",
            advice: "Validate every message before storing anything: known type and fields, handshake first, no gaps, no rewriting an entry, a correct `sent` count, `end` before end-of-file.",
            run: refuses_bad_messages,
        },
    ],
};

/// The verifier's second peer id, for messages of a log it invents.
const OTHER_PEER: &str = "feedfacecafe0002";

/// Appends `entries` to `db` with the given build; returns the db's peer id.
fn append(trial: &mut Trial, who: Who, db: &str, entries: &[&str]) -> Result<String, Failure> {
    let mut args = vec!["--db", db];
    args.extend_from_slice(entries);
    let records = trial.run_as(who, "append", &args)?;
    peer_of(trial, db, &records)
}

fn peer_of(trial: &Trial, db: &str, records: &[Record]) -> Result<String, Failure> {
    records
        .first()
        .and_then(|r| r.text("peer"))
        .map(str::to_string)
        .ok_or_else(|| trial.fail(format!("`append --db {db}` printed no record")))
}

/// Reads a database with the given build and checks every log it holds is whole.
fn read(trial: &mut Trial, who: Who, db: &str) -> Result<Logs, Failure> {
    let records = trial.run_as(who, "read", &["--db", db])?;
    logs_of(trial, db, &records)
}

fn entries(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}{n}")).collect()
}

fn strs(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
}

fn replicate(db: &str) -> Peer<'_> {
    Peer::tested("replicate", &[db])
}

/// Alice with a1..a3, Bob with b1..b2; returns their peer ids.
fn alice_and_bob(trial: &mut Trial) -> Result<(String, String), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    let bob = append(trial, Who::Tested, "bob.db", &["b1", "b2"])?;
    Ok((alice, bob))
}

/// Requires a sync to have moved exactly this many entries each way.
fn expect_crossing(trial: &Trial, run: &SyncRun, a_to_b: usize, b_to_a: usize) -> Result<(), Failure> {
    let (sent_ab, sent_ba) = (run.entries(Direction::AtoB), run.entries(Direction::BtoA));
    if (sent_ab, sent_ba) == (a_to_b, b_to_a) {
        return Ok(());
    }
    Err(trial
        .fail(format!(
            "{sent_ab} entries went A → B and {sent_ba} B → A; expected {a_to_b} and {b_to_a}"
        ))
        .detail("A side sends only what the other side's handshake says it lacks."))
}

fn empty_databases(trial: &mut Trial) -> Result<(), Failure> {
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 0, 0)?;
    let alice = read(trial, Who::Tested, "alice.db")?;
    if !alice.is_empty() {
        return Err(trial.fail("alice.db holds entries after syncing with an empty database"));
    }
    Ok(())
}

fn converge(trial: &mut Trial) -> Result<(), Failure> {
    alice_and_bob(trial)?;
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 3, 2)?;
    let alice = read(trial, Who::Tested, "alice.db")?;
    let bob = read(trial, Who::Tested, "bob.db")?;
    same_logs(trial, ("alice.db", &alice), ("bob.db", &bob))?;
    if alice.values().map(Vec::len).sum::<usize>() != 5 {
        return Err(trial.fail("after the sync alice.db should hold 5 entries: its 3 and Bob's 2"));
    }
    Ok(())
}

fn second_sync_sends_nothing(trial: &mut Trial) -> Result<(), Failure> {
    alice_and_bob(trial)?;
    trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    trial.note("the same two databases again");
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 0, 0)
}

fn only_new_entries(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, _) = alice_and_bob(trial)?;
    trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    append(trial, Who::Tested, "alice.db", &["a4", "a5", "a6"])?;
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 3, 0)?;
    let bob = read(trial, Who::Tested, "bob.db")?;
    holds(trial, "bob.db", &bob, &alice, &entries("a", 6))
}

fn relays_other_logs(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, bob) = alice_and_bob(trial)?;
    let carol = append(trial, Who::Tested, "carol.db", &["c1"])?;
    trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    let run = trial.sync(replicate("bob.db"), replicate("carol.db"))?;
    expect_crossing(trial, &run, 5, 1)?;
    let carol_logs = read(trial, Who::Tested, "carol.db")?;
    holds(trial, "carol.db", &carol_logs, &alice, &entries("a", 3))?;
    holds(trial, "carol.db", &carol_logs, &bob, &entries("b", 2))?;
    trial.note("alice never met carol, but has everything carol lacks but her own log");
    let run = trial.sync(replicate("carol.db"), replicate("alice.db"))?;
    expect_crossing(trial, &run, 1, 0)?;
    let alice_logs = read(trial, Who::Tested, "alice.db")?;
    holds(trial, "alice.db", &alice_logs, &carol, &["c1".to_string()])
}

fn handshake(peer: &str, heads: &[(&str, u64)]) -> String {
    let heads: serde_json::Map<String, serde_json::Value> =
        heads.iter().map(|(p, s)| (p.to_string(), json!(s))).collect();
    json!({"type": "handshake", "peer": peer, "heads": heads}).to_string()
}

fn entry(peer: &str, seq: u64, text: &str) -> String {
    json!({"type": "entry", "peer": peer, "seq": seq, "entry": text}).to_string()
}

fn end(sent: u64) -> String {
    json!({"type": "end", "sent": sent}).to_string()
}

fn speaks_the_protocol(trial: &mut Trial) -> Result<(), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    // The verifier holds alice's first entry and a log of its own with two entries.
    let messages = [
        handshake(VERIFIER_PEER, &[(VERIFIER_PEER, 2), (&alice, 1)]),
        entry(VERIFIER_PEER, 1, "v1"),
        entry(VERIFIER_PEER, 2, "v2"),
        end(2),
    ];
    let talk = trial.converse(replicate("alice.db"), &messages)?;
    trial.show_replies(&talk);
    if talk.ending != Ending::Exited(0) {
        return Err(trial
            .fail(format!(
                "`replicate alice.db` {} after a correct conversation",
                talk.ending.describe()
            ))
            .detail(format!(
                "It said: {}",
                talk.stderr.lines().last().unwrap_or("(nothing)")
            )));
    }
    let replies: Vec<&Line> = talk.replies.iter().collect();
    let sender = match replies.first() {
        Some(Line::Message(Message::Handshake { heads, .. })) => heads.clone(),
        _ => return Err(trial.fail("its first message was not the handshake")),
    };
    let expected_heads = [(alice.clone(), 3)].into();
    if sender != expected_heads {
        return Err(trial
            .fail("its handshake's heads are wrong: alice.db holds one log, its own, up to seq 3")
            .detail("heads maps every peer id you hold to the highest seq you hold of it."));
    }
    let receiver = [(VERIFIER_PEER.to_string(), 2), (alice.clone(), 1)].into();
    judge_direction(&replies, Some(&sender), Some(&receiver))
        .map_err(|problem| trial.fail(format!("it broke the protocol: {problem}")))?;
    let logs = read(trial, Who::Tested, "alice.db")?;
    holds(trial, "alice.db", &logs, VERIFIER_PEER, &entries("v", 2))
}

fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    let bob = append(trial, Who::Reference, "bob.db", &["b1", "b2"])?;
    trial.note("yours as A, the reference as B");
    let run = trial.sync(replicate("alice.db"), Peer::reference("replicate", &["bob.db"]))?;
    expect_crossing(trial, &run, 3, 2)?;
    append(trial, Who::Tested, "alice.db", &["a4"])?;
    append(trial, Who::Reference, "bob.db", &["b3"])?;
    trial.note("the reference as A, yours as B");
    let run = trial.sync(Peer::reference("replicate", &["bob.db"]), replicate("alice.db"))?;
    expect_crossing(trial, &run, 1, 1)?;
    let mine = read(trial, Who::Tested, "alice.db")?;
    let theirs = read(trial, Who::Reference, "bob.db")?;
    same_logs(trial, ("alice.db", &mine), ("bob.db", &theirs))?;
    holds(trial, "alice.db", &mine, &bob, &entries("b", 3))?;
    holds(trial, "alice.db", &mine, &alice, &entries("a", 4))
}

/// Alice with 20 entries and Bob with 15: enough messages for a fault to land
/// anywhere in a sync (handshakes, entries of either side, ends).
fn big_pair(trial: &mut Trial) -> Result<(String, String, usize), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &strs(&entries("a", 20)))?;
    let bob = append(trial, Who::Tested, "bob.db", &strs(&entries("b", 15)))?;
    // 2 handshakes + 35 entries + 2 ends.
    Ok((alice, bob, 39))
}

/// After a broken sync: whole prefixes only, own logs intact; then a clean sync
/// completes both.
fn recovers(trial: &mut Trial, alice: &str, bob: &str) -> Result<(), Failure> {
    let why = "what got through depends on the seed: checked, not shown";
    for (db, own, prefix, count) in [("alice.db", alice, "a", 20), ("bob.db", bob, "b", 15)] {
        let records = trial.run_unshown("read", &["--db", db], why)?;
        let logs = logs_of(trial, db, &records)?;
        holds(trial, db, &logs, own, &entries(prefix, count))?;
    }
    let mark = trial.mark();
    trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    trial.replace_since(
        mark,
        "a new sync completes both (what crosses depends on what got through)",
    );
    let a = read(trial, Who::Tested, "alice.db")?;
    let b = read(trial, Who::Tested, "bob.db")?;
    same_logs(trial, ("alice.db", &a), ("bob.db", &b))?;
    holds(trial, "alice.db", &a, bob, &entries("b", 15))
}

fn cut_stream(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, bob, messages) = big_pair(trial)?;
    let cut = trial.rng().usize(1..messages);
    trial.sync_with_fault(replicate("alice.db"), replicate("bob.db"), Fault::CutAfter(cut))?;
    recovers(trial, &alice, &bob)
}

fn killed_mid_sync(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, bob, messages) = big_pair(trial)?;
    let kill = trial.rng().usize(1..messages);
    trial.sync_with_fault(
        replicate("alice.db"),
        replicate("bob.db"),
        Fault::KillAAfter(kill),
    )?;
    recovers(trial, &alice, &bob)
}

fn refuses_bad_messages(trial: &mut Trial) -> Result<(), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    let hello = || handshake(VERIFIER_PEER, &[]);
    let attacks: Vec<(&str, Vec<String>)> = vec![
        (
            "a line that is not JSON",
            vec![hello(), "this is not json".into()],
        ),
        (
            "an unknown message type",
            vec![hello(), r#"{"type":"hello"}"#.into()],
        ),
        (
            "an entry before the handshake",
            vec![entry(VERIFIER_PEER, 1, "v1"), hello()],
        ),
        ("a second handshake", vec![hello(), hello()]),
        (
            "a field missing",
            vec![
                hello(),
                r#"{"type":"entry","peer":"feedfacecafebeef","seq":1}"#.into(),
            ],
        ),
        ("seq 0", vec![hello(), entry(VERIFIER_PEER, 0, "v0")]),
        (
            "a gap: seq 2 of a log held up to 0",
            vec![hello(), entry(VERIFIER_PEER, 2, "v2")],
        ),
        (
            "an entry of alice's own log that alice never wrote",
            vec![hello(), entry(&alice, 4, "forged")],
        ),
        (
            "a different text for alice's entry 1",
            vec![hello(), entry(&alice, 1, "rewritten")],
        ),
        ("an `end` that miscounts", vec![hello(), end(3)]),
        ("a message after `end`", vec![hello(), end(0), end(0)]),
        (
            "end-of-file after two valid entries, before `end`",
            vec![hello(), entry(OTHER_PEER, 1, "o1"), entry(OTHER_PEER, 2, "o2")],
        ),
    ];
    for (attack, messages) in attacks {
        trial.note(&format!("the verifier sends {attack}"));
        let talk = trial.converse(replicate("alice.db"), &messages)?;
        if talk.ending.success() {
            return Err(trial
                .fail(format!("`replicate alice.db` accepted {attack} and exited 0"))
                .detail("A peer must refuse it: a reason on stderr and exit code 1, storing nothing from the bad message on."));
        }
        if talk.stderr.trim().is_empty() {
            return Err(trial.fail(format!(
                "`replicate alice.db` refused {attack} but said nothing on stderr"
            )));
        }
        trial.note("refused, with a reason on stderr");
    }
    let logs = read(trial, Who::Tested, "alice.db")?;
    holds(trial, "alice.db", &logs, &alice, &entries("a", 3))?;
    holds(trial, "alice.db", &logs, OTHER_PEER, &entries("o", 2))?;
    if logs.contains_key(VERIFIER_PEER) {
        return Err(trial.fail("alice.db stored an entry from a message it should have refused"));
    }
    Ok(())
}
