//! Exercise 06, merge by timestamps: each operation carries its writer's clock, the
//! view keeps the newest per key (ties broken by peer id), deletes are tombstones — and
//! the talk's caveat, shown rather than told: a clock that runs ahead silently wins.
//!
//! The verifier controls each program's clock through `REPLICATE_CLOCK_OFFSET_MS`.

use super::e05_kv_store::PROGRAMS;
use super::replication::Peer;
use super::stores::{expect, get, operations, same_listings, sync, write};
use super::{Check, Exercise};
use crate::harness::trial::{Failure, Trial, Who};
use serde_json::Value;

/// The environment variable that shifts a program's clock, in milliseconds.
const CLOCK_OFFSET: &str = "REPLICATE_CLOCK_OFFSET_MS";

pub static EXERCISE: Exercise = Exercise {
    number: 6,
    slug: "last-writer-wins",
    title: "Merge by timestamps, and why it fails",
    summary: "last writer wins by clock: convergence in any order, and a silently lost update",
    problem: include_str!("../../../../exercises/06-last-writer-wins/README.md"),
    hints: include_str!("hints.md"),
    programs: PROGRAMS,
    checks: &[
        Check {
            name: "later-write-wins",
            about: "of two writes to one key on two peers, the later one wins everywhere",
            advice: "Stamp each operation with the clock (plus REPLICATE_CLOCK_OFFSET_MS) and keep, per key, the operation with the greatest (ts, peer id).",
            run: later_write_wins,
        },
        Check {
            name: "any-sync-order",
            about: "three concurrent writes to one key converge in any sync order (seeded)",
            advice: "The winner must not depend on arrival order: compare (ts, peer id) whenever an operation arrives, and keep the greatest.",
            run: any_sync_order,
        },
        Check {
            name: "tombstones",
            about: "a delete beats an older put that arrives after it",
            advice: "Keep a deleted key as a tombstone with its timestamp, so that an older put arriving later loses to it.",
            run: tombstones,
        },
        Check {
            name: "clock-ahead-wins",
            about: "the lesson: a peer whose clock runs ahead silently beats a later write",
            advice: "This is what last-writer-wins does: if your store lets the later, informed write win here, it is not ordering by the timestamps it stores.",
            run: clock_ahead_wins,
        },
        Check {
            name: "interop-with-reference",
            about: "your store syncs with the reference store and both pick the same winners",
            advice: "Use the operation format of the problem text exactly, with `ts` in milliseconds since the Unix epoch.",
            run: interop_with_reference,
        },
    ],
};

fn later_write_wins(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["colour", "red"])?;
    // A second later, on another peer that has not seen alice's write.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(trial, "put", "bob.db", &["colour", "blue"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect(trial, "alice.db", "colour", Some("blue"))?;
    expect(trial, "bob.db", "colour", Some("blue"))
}

/// The value whose put has the greatest (ts, peer) in a store's log, as the verifier
/// computes it from the operations themselves.
fn winner(trial: &mut Trial, db: &str, key: &str) -> Result<Option<String>, Failure> {
    let ops = operations(trial, db, "the operations, to compute the winner: not shown")?;
    let mut best: Option<(u64, String, Option<String>)> = None;
    for op in ops {
        if op.op.get("key").and_then(Value::as_str) != Some(key) {
            continue;
        }
        let Some(ts) = op.op.get("ts").and_then(Value::as_u64) else {
            return Err(trial
                .fail(format!(
                    "an operation in {db}'s log has no numeric \"ts\": {}",
                    op.op
                ))
                .detail(
                    "Every operation carries its writer's timestamp, in milliseconds since the Unix epoch.",
                ));
        };
        let value = match op.op.get("type").and_then(Value::as_str) {
            Some("put") => op.op.get("value").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        let candidate = (ts, op.peer.clone(), value);
        if best
            .as_ref()
            .is_none_or(|b| (candidate.0, &candidate.1) > (b.0, &b.1))
        {
            best = Some(candidate);
        }
    }
    Ok(best.and_then(|(_, _, value)| value))
}

fn any_sync_order(trial: &mut Trial) -> Result<(), Failure> {
    let dbs = ["alice.db", "bob.db", "carol.db"];
    for db in dbs {
        write(trial, "put", db, &["k", &format!("from {db}")])?;
    }
    let mark = trial.mark();
    let mut pairs: Vec<(usize, usize)> = vec![(0, 1), (1, 2), (0, 2), (1, 0), (2, 1), (2, 0)];
    trial.rng().shuffle(&mut pairs);
    for (a, b) in pairs {
        sync(trial, dbs[a], dbs[b])?;
    }
    trial.replace_since(mark, "every pair syncs twice, in an order drawn from the seed");
    let expected = winner(trial, "alice.db", "k")?;
    let mark = trial.mark();
    for db in dbs {
        let got = get(trial, db, "k")?;
        if got != expected {
            return Err(trial
                .fail(format!("{db} keeps {got:?} for k, but the greatest (ts, peer id) in the log is {expected:?}"))
                .detail("Keep, per key, the operation with the greatest timestamp; on equal timestamps, the greater peer id."));
        }
    }
    trial.replace_since(mark, "all three keep the write with the greatest (ts, peer id)");
    same_listings(trial, &dbs)
}

fn tombstones(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["k", "old"])?;
    trial.set_env(&[(CLOCK_OFFSET, "5000")]);
    trial.note("bob deletes k with a clock 5 s ahead, without having seen alice's put");
    write(trial, "del", "bob.db", &["k"])?;
    trial.set_env(&[]);
    trial.note("carol hears of the delete first, of the older put second");
    sync(trial, "bob.db", "carol.db")?;
    sync(trial, "alice.db", "carol.db")?;
    expect(trial, "carol.db", "k", None)?;
    expect(trial, "alice.db", "k", None)
}

fn clock_ahead_wins(trial: &mut Trial) -> Result<(), Failure> {
    trial.set_env(&[(CLOCK_OFFSET, "60000")]);
    trial.note("bob's clock runs a minute ahead");
    write(trial, "put", "bob.db", &["x", "draft"])?;
    trial.set_env(&[]);
    sync(trial, "alice.db", "bob.db")?;
    expect(trial, "alice.db", "x", Some("draft"))?;
    trial.note("alice has seen the draft; seconds later she writes the final text");
    write(trial, "put", "alice.db", &["x", "final"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect(trial, "alice.db", "x", Some("draft"))?;
    expect(trial, "bob.db", "x", Some("draft"))?;
    trial.note("the lesson: alice wrote x after seeing it, yet her write vanished without an error");
    trial.note("timestamps are not causality; exercise 07 keeps both writes instead of guessing");
    Ok(())
}

fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["k", "from alice"])?;
    std::thread::sleep(std::time::Duration::from_millis(20));
    trial.run_as(Who::Reference, "put", &["--db", "bob.db", "k", "from bob"])?;
    trial.run_as(Who::Reference, "put", &["--db", "bob.db", "other", "bob only"])?;
    trial.sync(
        super::stores::store("alice.db"),
        Peer::reference("sync", &["bob.db"]),
    )?;
    expect(trial, "alice.db", "k", Some("from bob"))?;
    let theirs = trial.run_as(Who::Reference, "get", &["--db", "bob.db", "k"])?;
    if theirs.first().and_then(|r| r.text("value")) != Some("from bob") {
        return Err(trial.fail("the reference store and yours disagree on the winner of k"));
    }
    Ok(())
}
