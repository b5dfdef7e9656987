//! Syncs that break: a stream cut or a peer killed at a seeded moment, and diffs too
//! large for a pipe to hold, both ways at once.

use super::fixtures::*;
use crate::course::logs::{holds, logs_of, same_logs};
use crate::course::replication::SyncRun;
use crate::course::replication::wire::{Direction, Line, Message};
use crate::harness::duplex::Fault;
use crate::harness::trial::{Failure, Trial, Who};
use crate::runner::Ending;

/// Alice with 20 entries and Bob with 15: enough messages for a fault to land
/// anywhere in a sync (handshakes, entries of either side, ends).
pub(super) fn big_pair(trial: &mut Trial) -> Result<(String, String, usize), Failure> {
    let alice = append(trial, Who::Tested, "alice.db", &strs(&entries("a", 20)))?;
    let bob = append(trial, Who::Tested, "bob.db", &strs(&entries("b", 15)))?;
    // 2 handshakes + 35 entries + 2 ends.
    Ok((alice, bob, 39))
}

/// After a broken sync: whole prefixes only, own logs intact; then a clean sync
/// completes both.
pub(super) fn recovers(trial: &mut Trial, alice: &str, bob: &str) -> Result<(), Failure> {
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
pub(super) fn noticed_the_cut(trial: &Trial, run: &SyncRun) -> Result<(), Failure> {
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

pub(super) fn cut_stream(trial: &mut Trial) -> Result<(), Failure> {
    let (alice, bob, messages) = big_pair(trial)?;
    let cut = trial.rng().usize(1..messages);
    let run = trial.sync_with_fault(replicate("alice.db"), replicate("bob.db"), Fault::CutAfter(cut))?;
    noticed_the_cut(trial, &run)?;
    recovers(trial, &alice, &bob)
}

pub(super) fn killed_mid_sync(trial: &mut Trial) -> Result<(), Failure> {
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
pub(super) const LARGE: usize = 2_000;
pub(super) const PADDING: &str =
    "................................................................................";

pub(super) fn large_diffs(trial: &mut Trial) -> Result<(), Failure> {
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
