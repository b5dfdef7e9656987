//! Syncs that must succeed: empty and full databases, what crosses the wire each time,
//! logs relayed from a third database, the exact messages against the verifier, duplicates
//! and the reference peer on the other side.

use super::fixtures::*;
use crate::course::logs::{Logs, holds, same_logs};
use crate::course::replication::wire::{Line, Message};
use crate::course::replication::{Peer, VERIFIER_PEER, judge_direction};
use crate::harness::trial::{Failure, Trial, Who};

pub(super) fn empty_databases(trial: &mut Trial) -> Result<(), Failure> {
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

pub(super) fn converge(trial: &mut Trial) -> Result<(), Failure> {
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
pub(super) fn more_than_own_log(
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

pub(super) fn second_sync_sends_nothing(trial: &mut Trial) -> Result<(), Failure> {
    alice_and_bob(trial)?;
    trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    trial.note("the same two databases again");
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 0, 0)
}

pub(super) fn only_new_entries(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, _) = alice_and_bob(trial)?;
    trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    append(trial, Who::Tested, "alice.db", &["a4", "a5", "a6"])?;
    let run = trial.sync(replicate("alice.db"), replicate("bob.db"))?;
    expect_crossing(trial, &run, 3, 0)?;
    let bob = read(trial, Who::Tested, "bob.db")?;
    holds(trial, "bob.db", &bob, &alice, &entries("a", 6))
}

pub(super) fn relays_other_logs(trial: &mut Trial) -> Result<(), Failure> {
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

pub(super) fn speaks_the_protocol(trial: &mut Trial) -> Result<(), Failure> {
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

pub(super) fn ignores_duplicates(trial: &mut Trial) -> Result<(), Failure> {
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

pub(super) fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
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
