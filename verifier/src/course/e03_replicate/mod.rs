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
use super::replication::{Conversation, Peer, SyncRun, VERIFIER_PEER, judge_direction};
use super::shapes::{APPEND, READ_ALL_LOGS};
use super::{Check, Exercise, Program};
use crate::harness::duplex::Fault;
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial, Who};
use crate::runner::{Ending, Limit};
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
            name: "ignores-duplicates",
            about: "an entry it already holds, sent again with the same text, is not stored again",
            advice: "An entry whose seq is at or below your head of its log is a duplicate: compare its text with the one you hold, and store nothing.",
            run: ignores_duplicates,
        },
        Check {
            name: "interop-with-reference",
            about: "your peer syncs with the reference peer, in both positions",
            advice: "Follow the protocol text exactly (field names, types, end, close); the reference peer is strict.",
            run: interop_with_reference,
        },
        Check {
            name: "large-diffs",
            about: "thousands of entries each way over plain pipes finish (no deadlock)",
            advice: "Read while you write: one thread sends (handshake, diff, end) while another receives; a pipe holds only about 64 KiB.",
            run: large_diffs,
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
        Check {
            name: "speed",
            about: "100,000 entries from scratch, then 10 new ones on top, each within a time budget",
            advice: "Stream each log with one range scan from the other side's head + 1, write through a BufWriter, keep the heads in memory, and flush the database once at the end, not per entry.",
            run: speed,
        },
    ],
};

/// Whether `said` names `line N` (not `line N0`, not `line 1N`).
fn names_line(said: &str, line: u64) -> bool {
    let wanted = format!("line {line}");
    said.match_indices(&wanted).any(|(at, _)| {
        let before = said[..at].chars().next_back();
        let after = said[at + wanted.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

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
    let failure = trial
        .fail(format!(
            "{sent_ab} entries went A → B and {sent_ba} B → A; expected {a_to_b} and {b_to_a}"
        ))
        .detail("A side sends only what the other side's handshake says it lacks.");
    Err(if sent_ab > a_to_b || sent_ba > b_to_a {
        failure.advise("A side sent entries the other already held: for each log, start right after the other side's head (entries_after_iter(peer, their_head)), never at seq 1.")
    } else {
        failure.advise("A side held entries the other lacked and did not send them: go through every log of your own handshake (others' logs too), and send each one past the other side's head for it (0 when its handshake does not list it).")
    })
}

fn empty_databases(trial: &mut Trial) -> Result<(), Failure> {
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 0, 0)?;
    let alice = read(trial, Who::Tested, "alice.db")?;
    if !alice.is_empty() {
        return Err(trial.fail("alice.db holds entries after syncing with an empty database"));
    }
    trial.note("a head of 0 written out means the same as no head");
    let messages = [handshake(VERIFIER_PEER, &[(VERIFIER_PEER, 0)]), end(0)];
    let talk = trial.converse(replicate("alice.db"), &messages)?;
    trial.show_replies(&talk);
    expect_clean_exit(trial, &talk)?;
    let replies: Vec<&Line> = talk.replies.iter().collect();
    let sender = match replies.first() {
        Some(Line::Message(Message::Handshake { heads, .. })) => without_zeros(heads),
        _ => return Err(trial.fail("its first message was not the handshake")),
    };
    let receiver = [(VERIFIER_PEER.to_string(), 0)].into();
    judge_direction(&replies, Some(&sender), Some(&receiver))
        .map_err(|problem| trial.fail(format!("it broke the protocol: {problem}")))
}

fn converge(trial: &mut Trial) -> Result<(), Failure> {
    let (alice_id, bob_id) = alice_and_bob(trial)?;
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 3, 2)?;
    let alice = read(trial, Who::Tested, "alice.db")?;
    more_than_own_log(trial, "alice.db", &alice, &alice_id, 2)?;
    let bob = read(trial, Who::Tested, "bob.db")?;
    more_than_own_log(trial, "bob.db", &bob, &bob_id, 3)?;
    same_logs(trial, ("alice.db", &alice), ("bob.db", &bob))?;
    if alice.values().map(Vec::len).sum::<usize>() != 5 {
        return Err(trial.fail("after the sync alice.db should hold 5 entries: its 3 and Bob's 2"));
    }
    Ok(())
}

/// After a sync that delivered `received` entries of other logs, a `read` that shows
/// only the database's own log points at `read` as much as at the sync: say both.
fn more_than_own_log(
    trial: &Trial,
    db: &str,
    logs: &Logs,
    own: &str,
    received: usize,
) -> Result<(), Failure> {
    if logs.keys().any(|peer| peer != own) {
        return Ok(());
    }
    Err(trial
        .fail(format!(
            "`read --db {db}` printed only {db}'s own log, though the sync delivered {received} entries of other logs to it"
        ))
        .detail("The wire shows them arriving and being counted by `end`; so either `read` prints only the own log, or `replicate` did not store them.")
        .advise("Check `read` first: it prints every log the database holds (walk the whole `log` tree, ordered by peer id, then seq), not just your own peer's keys. Then check that `replicate` stores each new entry it receives."))
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
    more_than_own_log(trial, "carol.db", &carol_logs, &carol, 5)?;
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
    expect_clean_exit(trial, &talk)?;
    let replies: Vec<&Line> = talk.replies.iter().collect();
    let sender = match replies.first() {
        Some(Line::Message(Message::Handshake { heads, .. })) => without_zeros(heads),
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

/// Heads without the ones written out as 0 (which mean the same as absent).
fn without_zeros(heads: &std::collections::BTreeMap<String, u64>) -> std::collections::BTreeMap<String, u64> {
    heads
        .iter()
        .filter(|(_, seq)| **seq > 0)
        .map(|(p, s)| (p.clone(), *s))
        .collect()
}

fn ignores_duplicates(trial: &mut Trial) -> Result<(), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    trial.note("the verifier gives alice.db two entries of its own log");
    let first = [
        handshake(VERIFIER_PEER, &[(VERIFIER_PEER, 2), (&alice, 3)]),
        entry(VERIFIER_PEER, 1, "v1"),
        entry(VERIFIER_PEER, 2, "v2"),
        end(2),
    ];
    let talk = trial.converse(replicate("alice.db"), &first)?;
    trial.show_replies(&talk);
    expect_clean_exit(trial, &talk)?;
    trial.note(
        "then, claiming to hold less, it sends them again, and alice's own entry 2, then one new entry",
    );
    let again = [
        handshake(VERIFIER_PEER, &[(VERIFIER_PEER, 3), (&alice, 3)]),
        entry(VERIFIER_PEER, 1, "v1"),
        entry(VERIFIER_PEER, 2, "v2"),
        entry(&alice, 2, "a2"),
        entry(VERIFIER_PEER, 3, "v3"),
        end(4),
    ];
    let talk = trial.converse(replicate("alice.db"), &again)?;
    trial.show_replies(&talk);
    expect_clean_exit(trial, &talk)?;
    let logs = read(trial, Who::Tested, "alice.db")?;
    for (peer, expected) in [
        (alice.as_str(), entries("a", 3)),
        (VERIFIER_PEER, entries("v", 3)),
    ] {
        let held = logs.get(peer).map_or(0, Vec::len);
        if held > expected.len() {
            let name = trial.placeholder("peer", peer);
            return Err(trial
                .fail(format!(
                    "alice.db holds {held} entries of {name}'s log after duplicates of them arrived; it should hold {}",
                    expected.len()
                ))
                .detail("A duplicate was stored again, under the next seq.")
                .advise("An entry whose seq is at or below your head of its log is one you hold: compare the texts and store nothing. Only seq = head + 1 is stored."));
        }
        holds(trial, "alice.db", &logs, peer, &expected)?;
    }
    Ok(())
}

/// A conversation the verifier played by the rules must end with exit 0.
fn expect_clean_exit(trial: &Trial, talk: &Conversation) -> Result<(), Failure> {
    if talk.ending == Ending::Exited(0) {
        return Ok(());
    }
    let said = talk
        .stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(nothing)");
    Err(trial
        .fail(format!(
            "`replicate alice.db` {} after a conversation that broke no rule",
            talk.ending.describe()
        ))
        .detail(format!(
            "It said: {}",
            crate::harness::records::shorten(said.trim(), 200)
        )))
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

/// A side whose stream ended before the other side's `end` reached it must not take
/// the session for a success.
fn noticed_the_cut(trial: &Trial, run: &SyncRun) -> Result<(), Failure> {
    for (direction, ending, name) in [
        (Direction::AtoB, run.b, "replicate bob.db"),
        (Direction::BtoA, run.a, "replicate alice.db"),
    ] {
        let got_end = run.lines.iter().any(|(d, line, forwarded)| {
            *d == direction && *forwarded && matches!(line, Line::Message(Message::End { .. }))
        });
        if !got_end && ending == Ending::Exited(0) {
            return Err(trial
                .fail(format!(
                    "`{name}` exited 0, though its stream ended before the other side's `end` reached it"
                ))
                .advise("End-of-file before `end` means the stream was cut: keep what you stored, say so on stderr, and exit 1."));
        }
    }
    Ok(())
}

fn cut_stream(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, bob, messages) = big_pair(trial)?;
    let cut = trial.rng().usize(1..messages);
    let run = trial.sync_with_fault(replicate("alice.db"), replicate("bob.db"), Fault::CutAfter(cut))?;
    noticed_the_cut(trial, &run)?;
    recovers(trial, &alice, &bob)
}

fn killed_mid_sync(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, bob, messages) = big_pair(trial)?;
    let kill = trial.rng().usize(1..messages);
    let run = trial.sync_with_fault(
        replicate("alice.db"),
        replicate("bob.db"),
        Fault::KillAAfter(kill),
    )?;
    noticed_the_cut(trial, &run)?;
    recovers(trial, &alice, &bob)
}

/// How many entries each side of `large-diffs` holds, and how long each is: about
/// 250 KB each way, four times what a pipe holds.
const LARGE: usize = 2_000;
const PADDING: &str = "................................................................................";

fn large_diffs(trial: &mut Trial) -> Result<(), Failure> {
    let a_entries: Vec<String> = (1..=LARGE).map(|n| format!("a{n} {PADDING}")).collect();
    let b_entries: Vec<String> = (1..=LARGE).map(|n| format!("b{n} {PADDING}")).collect();
    let why = "2,000 entries of 80 bytes and more: checked, not shown";
    let mark = trial.mark();
    let alice = append(trial, Who::Tested, "alice.db", &strs(&a_entries))?;
    let bob = append(trial, Who::Tested, "bob.db", &strs(&b_entries))?;
    trial.replace_since(mark, &format!("alice.db and bob.db get {why}"));
    let run = trial.sync_plain(replicate("alice.db"), replicate("bob.db"), None)?;
    if let (Ending::TimedOut(limit), Ending::TimedOut(_)) = (run.a, run.b) {
        return Err(trial
            .fail(format!(
                "deadlocked: neither side read what the other wrote; both were still running after {} with {LARGE} entries to send each way",
                crate::runner::seconds(limit)
            ))
            .detail("A pipe holds about 64 KiB. A side that writes its whole diff before it reads blocks once the pipe is full; the other side does the same, and neither reads again.")
            .advise("Read while you write: one thread sends (handshake, diff, end) while another receives, and the main thread waits for both."));
    }
    for (ending, name) in [(run.a, "replicate alice.db"), (run.b, "replicate bob.db")] {
        if ending != Ending::Exited(0) {
            return Err(trial.fail(format!(
                "`{name}` {} when {LARGE} entries crossed each way over plain pipes; it should exit 0",
                ending.describe()
            )));
        }
    }
    let records = trial.run_unshown("read", &["--db", "alice.db"], why)?;
    let a = logs_of(trial, "alice.db", &records)?;
    let records = trial.run_unshown("read", &["--db", "bob.db"], why)?;
    let b = logs_of(trial, "bob.db", &records)?;
    holds(trial, "alice.db", &a, &bob, &b_entries)?;
    holds(trial, "bob.db", &b, &alice, &a_entries)?;
    trial.note("both hold both logs, whole");
    Ok(())
}

/// `speed` times four steps of the program under test against a budget made from the
/// reference solution's time for the same step, measured in the same check just before:
/// a multiple of it, plus two seconds for starting an interpreter (Python takes up to
/// a second to start on a busy machine, the reference a few milliseconds). The machine's load
/// slows both alike, so the budget holds on a busy machine too, and a program in any
/// language that does the work once per entry (the Python solution of the test suite
/// takes about twice the reference's time) meets it; one that flushes the database, or
/// reads a log from its start, per entry does not.
const SLOWER_THAN_REFERENCE: u32 = 4;
const STARTUP: std::time::Duration = std::time::Duration::from_secs(2);
/// How long after its budget a step is stopped.
const GRACE: std::time::Duration = std::time::Duration::from_secs(1);
const SPEED_ENTRIES: u64 = 100_000;
/// The longest any one step may take, the reference's included.
const SPEED_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The four timed steps: what each does, for the verdict.
const STEPS: [&str; 4] = [
    "receiving 100,000 entries from the verifier",
    "sending 100,000 entries to an empty database",
    "receiving 10 entries on top of 100,000",
    "sending 10 new entries of a 100,000-entry log",
];

fn speed(trial: &mut Trial) -> Result<(), Failure> {
    let total = SPEED_ENTRIES + 10;
    trial.note("the reference solution takes the same four steps first, to set the budgets");
    let mark = trial.mark();
    let reference = speed_steps(trial, Who::Reference, "ref-alice.db", "ref-bob.db", None);
    trial.replace_since(
        mark,
        "(its times, and the budgets made from them, are shown under the verdict line)",
    );
    let reference = reference.map_err(|f| {
        Failure::new(format!(
            "the reference solution failed the speed steps: {}",
            f.summary
        ))
    })?;
    let budgets: Vec<std::time::Duration> = reference
        .iter()
        .map(|t| *t * SLOWER_THAN_REFERENCE + STARTUP)
        .collect();
    speed_steps(
        trial,
        Who::Tested,
        "alice.db",
        "bob.db",
        Some((&reference, &budgets)),
    )?;
    // Reading 100,010 entries back would be slow to show: asking bob.db for the last
    // one, as a peer that holds all the others, proves it holds the whole log.
    let ask = [handshake(VERIFIER_PEER, &[(VERIFIER_PEER, total - 1)]), end(0)];
    let talk = trial.converse(replicate("bob.db"), &ask)?;
    trial.show_replies(&talk);
    expect_clean_exit(trial, &talk)?;
    let replies: Vec<&Line> = talk.replies.iter().collect();
    let heads = match replies.first() {
        Some(Line::Message(Message::Handshake { heads, .. })) => without_zeros(heads),
        _ => return Err(trial.fail("its first message was not the handshake")),
    };
    if heads.get(VERIFIER_PEER) != Some(&total) {
        return Err(trial.fail(format!(
            "after the syncs bob.db's handshake gives the verifier's log a head of {}; it should be {total}",
            heads.get(VERIFIER_PEER).copied().unwrap_or(0)
        )));
    }
    let receiver = [(VERIFIER_PEER.to_string(), total - 1)].into();
    judge_direction(&replies, Some(&heads), Some(&receiver))
        .map_err(|problem| trial.fail(format!("it broke the protocol: {problem}")))?;
    let last = format!("v{total}");
    if !replies
        .iter()
        .any(|line| matches!(line, Line::Message(Message::Entry { entry, .. }) if *entry == last))
    {
        return Err(trial.fail(format!(
            "bob.db does not hold the text {last:?} under seq {total}"
        )));
    }
    Ok(())
}

/// The verifier's messages that give a database entries `from..=to` of its log.
fn entries_from_the_verifier(from: u64, to: u64) -> Vec<u8> {
    let mut input = Vec::new();
    let mut line = |message: String| {
        input.extend_from_slice(message.as_bytes());
        input.push(b'\n');
    };
    line(handshake(VERIFIER_PEER, &[(VERIFIER_PEER, to)]));
    for seq in from..=to {
        line(entry(VERIFIER_PEER, seq, &format!("v{seq}")));
    }
    line(end(to + 1 - from));
    input
}

/// Runs the four steps of `speed` with `who`'s programs; returns their times. With
/// `judged` (the reference's times and the budgets), each step must keep its budget,
/// and is stopped a little after it.
fn speed_steps(
    trial: &mut Trial,
    who: Who,
    alice: &str,
    bob: &str,
    judged: Option<(&[std::time::Duration], &[std::time::Duration])>,
) -> Result<Vec<std::time::Duration>, Failure> {
    let peer = |db| Peer {
        who,
        program: "replicate",
        args: vec![db],
    };
    let mut times = Vec::new();
    for (step, what) in STEPS.iter().enumerate() {
        let shown = match judged {
            Some(_) => format!(
                "{what}; budget: {SLOWER_THAN_REFERENCE} × the reference's time + {} s",
                STARTUP.as_secs()
            ),
            None => what.to_string(),
        };
        trial.set_timeout(Some(match judged {
            Some((_, budgets)) => budgets[step] + GRACE,
            None => SPEED_LIMIT,
        }));
        let (ending, took) = match step {
            0 | 2 => {
                let (from, to) = if step == 0 {
                    (1, SPEED_ENTRIES)
                } else {
                    (SPEED_ENTRIES + 1, SPEED_ENTRIES + 10)
                };
                let talk = trial.converse_unshown(peer(alice), &entries_from_the_verifier(from, to), &shown);
                let talk = talk.inspect_err(|_| trial.set_timeout(None))?;
                (talk.ending, talk.elapsed)
            }
            _ => {
                let run = trial.sync_plain(peer(alice), peer(bob), Some(&shown));
                let run = run.inspect_err(|_| trial.set_timeout(None))?;
                (either(run.a, run.b), run.elapsed)
            }
        };
        trial.set_timeout(None);
        if let Some((reference, budgets)) = judged {
            within(trial, what, ending, took, budgets[step], reference[step])?;
        } else if !ending.success() {
            return Err(Failure::new(format!("{what}: a side {}", ending.describe())));
        }
        times.push(took);
    }
    Ok(times)
}

/// The ending of two sides that says most: the first that is not a clean exit.
fn either(a: Ending, b: Ending) -> Ending {
    if a.success() { b } else { a }
}

/// Requires a timed run to have exited 0 within its budget; the verdict names the
/// time, the budget, and the reference's time it was made from.
fn within(
    trial: &mut Trial,
    what: &str,
    ending: Ending,
    took: std::time::Duration,
    budget: std::time::Duration,
    reference: std::time::Duration,
) -> Result<(), Failure> {
    let (took_s, budget_s, reference_s) = (took.as_secs_f64(), budget.as_secs_f64(), reference.as_secs_f64());
    let budget_line = format!(
        "the budget is {budget_s:.1} s: {SLOWER_THAN_REFERENCE} × the {reference_s:.2} s the reference solution took just before, + {} s",
        STARTUP.as_secs()
    );
    trial.measured(format!(
        "{took_s:.2} s (budget {budget_s:.1} s; the reference {reference_s:.2} s): {what}"
    ));
    match ending {
        Ending::Exited(0) if took <= budget => Ok(()),
        Ending::Exited(0) | Ending::TimedOut(_) | Ending::OverLimit(Limit::Cpu(_)) => {
            let took = match ending {
                Ending::Exited(0) => format!("took {took_s:.1} s"),
                _ => format!("was stopped after {took_s:.1} s, unfinished"),
            };
            Err(trial
                .fail(format!("too slow: {what} {took}; {budget_line}"))
                .detail("The usual causes: flushing the database after every entry, reading a log from its start for every entry, or one write to stdout per message without a buffer.")
                .advise("Flush the database once, after the last entry; send each log with one range scan from the other side's head + 1 through a BufWriter; keep the heads in memory."))
        }
        other => Err(trial.fail(format!("while {what}, a side {}", other.describe()))),
    }
}

/// A hostile conversation: what it is, its lines, and the number of the bad one
/// (none for a stream that ends too early).
type Attack<'a> = (&'a str, Vec<Vec<u8>>, Option<u64>);

fn refuses_bad_messages(trial: &mut Trial) -> Result<(), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &["a1", "a2", "a3"])?;
    let hello = || handshake(VERIFIER_PEER, &[]).into_bytes();
    let text = |line: &str| line.as_bytes().to_vec();
    let entry = |peer: &str, seq: u64, text: &str| entry(peer, seq, text).into_bytes();
    let end = |sent: u64| end(sent).into_bytes();
    // Each bad line is followed by what a receiver that silently skipped it would take
    // for a clean session (an `end` counting what it would count), so only refusing
    // the bad line itself, and naming it, passes.
    let attacks: Vec<Attack> = vec![
        (
            "a line that is not JSON",
            vec![hello(), text("this is not json"), end(0)],
            Some(2),
        ),
        (
            "a line that is JSON but not an object",
            vec![hello(), text("[1,2,3]"), end(0)],
            Some(2),
        ),
        (
            "a line that is not UTF-8",
            vec![hello(), b"{\"type\":\"end\",\"sent\":\xff}".to_vec(), end(0)],
            Some(2),
        ),
        (
            "an unknown message type",
            vec![hello(), text(r#"{"type":"hello"}"#), end(0)],
            Some(2),
        ),
        (
            "an entry with a field missing",
            vec![
                hello(),
                text(&format!(r#"{{"type":"entry","peer":"{VERIFIER_PEER}","seq":1}}"#)),
                end(0),
            ],
            Some(2),
        ),
        (
            "an entry with an unknown field",
            vec![
                hello(),
                text(&format!(
                    r#"{{"type":"entry","peer":"{VERIFIER_PEER}","seq":1,"entry":"v1","by":"me"}}"#
                )),
                end(1),
            ],
            Some(2),
        ),
        (
            "an entry whose seq is a string",
            vec![
                hello(),
                text(&format!(
                    r#"{{"type":"entry","peer":"{VERIFIER_PEER}","seq":"1","entry":"v1"}}"#
                )),
                end(1),
            ],
            Some(2),
        ),
        (
            "an entry with an empty peer id",
            vec![hello(), entry("", 1, "x"), end(1)],
            Some(2),
        ),
        (
            "a peer id with a NUL character",
            vec![hello(), entry("a\u{0}b", 1, "x"), end(1)],
            Some(2),
        ),
        (
            "an entry with seq 0",
            vec![hello(), entry(VERIFIER_PEER, 0, "v0"), end(1)],
            Some(2),
        ),
        (
            "an entry before the handshake",
            vec![entry(VERIFIER_PEER, 1, "v1"), hello(), end(0)],
            Some(1),
        ),
        ("a second handshake", vec![hello(), hello(), end(0)], Some(2)),
        (
            "a gap: seq 2 of a log held up to 0",
            vec![hello(), entry(VERIFIER_PEER, 2, "v2"), end(1)],
            Some(2),
        ),
        (
            "an entry of alice's own log that alice never wrote",
            vec![hello(), entry(&alice, 4, "forged"), end(1)],
            Some(2),
        ),
        (
            "a duplicate of alice's entry 1 with a different text",
            vec![hello(), entry(&alice, 1, "rewritten"), end(1)],
            Some(2),
        ),
        ("an `end` that miscounts", vec![hello(), end(3)], Some(2)),
        ("a message after `end`", vec![hello(), end(0), end(0)], Some(3)),
        (
            "end-of-file after two valid entries, before `end`",
            vec![hello(), entry(OTHER_PEER, 1, "o1"), entry(OTHER_PEER, 2, "o2")],
            None,
        ),
    ];
    for (attack, messages, line) in attacks {
        trial.note(&format!("the verifier sends {attack}"));
        let talk = trial.converse(replicate("alice.db"), &messages)?;
        if talk.ending.success() {
            return Err(trial
                .fail(format!("`replicate alice.db` accepted {attack} and exited 0"))
                .detail("What followed it would end a clean session: a peer that skips the bad line instead of refusing it takes the session for a success.")
                .advise("Refuse every message the protocol's error table lists: a one-line reason on stderr naming the line, and exit 1 at once."));
        }
        if talk.ending != Ending::Exited(1) {
            return Err(trial.fail(format!(
                "`replicate alice.db` {} after {attack}; it should refuse it with exit code 1",
                talk.ending.describe()
            )));
        }
        let said = talk.stderr.trim();
        if said.is_empty() {
            return Err(trial.fail(format!(
                "`replicate alice.db` refused {attack} but said nothing on stderr"
            )));
        }
        if let Some(line) = line
            && !names_line(said, line)
        {
            let last = said.lines().last().unwrap_or_default();
            return Err(trial
                .fail(format!(
                    "`replicate alice.db` exited 1 after {attack}, but its reason does not name line {line}, the bad one"
                ))
                .detail(format!("It said: {}", crate::harness::records::shorten(last, 200)))
                .advise(format!("Number the lines you receive from 1 and say which one was refused: `error: line {line}: …`. A reason that names another line means the bad one was let through.")));
        }
        trial.note(match line {
            Some(_) => "refused with exit code 1, naming the bad line",
            None => "refused with exit code 1",
        });
    }
    let logs = read(trial, Who::Tested, "alice.db")?;
    holds(trial, "alice.db", &logs, &alice, &entries("a", 3))?;
    holds(trial, "alice.db", &logs, OTHER_PEER, &entries("o", 2))?;
    if logs.contains_key(VERIFIER_PEER) {
        return Err(trial.fail("alice.db stored an entry from a message it should have refused"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_names_a_line_by_its_number_alone() {
        assert!(names_line("error: line 2: a gap", 2));
        assert!(names_line("line 2", 2));
        assert!(!names_line("error: line 12: a gap", 2));
        assert!(!names_line("error: line 21: a gap", 2));
        assert!(!names_line("error: a gap", 2));
        assert!(!names_line("error: baseline 2", 2));
    }
}
