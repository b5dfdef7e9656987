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
            name: "timestamps",
            about: "`ts` is the writer's clock in milliseconds since the epoch, shifted by REPLICATE_CLOCK_OFFSET_MS",
            advice: "Stamp each operation with SystemTime::now() since UNIX_EPOCH in milliseconds, plus REPLICATE_CLOCK_OFFSET_MS.",
            run: timestamps,
        },
        Check {
            name: "bad-clock-offset",
            about: "an unparsable REPLICATE_CLOCK_OFFSET_MS is a usage error (exit 2) and writes nothing",
            advice: "Read the offset before opening the database; if it is not a whole number, say so on stderr and exit 2.",
            run: bad_clock_offset,
        },
        Check {
            name: "equal-stamps",
            about: "two writes with equal stamps (clocks clamped to 0) go to the larger peer id, everywhere",
            advice: "Compare (ts, peer id, seq) from the left: on equal stamps, the larger peer id wins.",
            run: equal_stamps,
        },
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

/// The verifier's clock, in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How far a stamp may be from the verifier's clock (process start, a busy machine).
const TOLERANCE_MS: u64 = 2_000;

/// Runs `put --db DB KEY VALUE` and requires the `ts` of the operation it appended to
/// be within [`TOLERANCE_MS`] of the verifier's clock shifted by `offset`.
fn put_stamped(trial: &mut Trial, db: &str, key: &str, offset: i64) -> Result<(), Failure> {
    let before = now_ms().saturating_add_signed(offset);
    write(trial, "put", db, &[key, "stamped"])?;
    let after = now_ms().saturating_add_signed(offset);
    let ops = operations(trial, db, "the operations, to read their `ts`: not shown")?;
    let Some(op) = ops
        .iter()
        .rev()
        .find(|op| op.op.get("key").and_then(Value::as_str) == Some(key))
    else {
        return Err(trial.fail(format!(
            "`put` of {key} appended no operation for {key} to {db}'s log"
        )));
    };
    let Some(ts) = op.op.get("ts").and_then(Value::as_u64) else {
        return Err(trial.fail(format!(
            "the put of {key} in {db}'s log has no whole-number \"ts\": {}",
            op.op
        )));
    };
    if ts + TOLERANCE_MS < before || ts > after + TOLERANCE_MS {
        let unit = if ts < 100_000_000_000 && before > 100_000_000_000 {
            " (seconds, not milliseconds?)"
        } else {
            ""
        };
        let shift = match offset {
            0 => String::new(),
            _ => format!(" shifted by {CLOCK_OFFSET}={offset}"),
        };
        return Err(trial
            .fail(format!(
                "the put of {key} has \"ts\":{ts}{unit}, but the verifier's clock{shift} read {before}…{after} ms around it"
            ))
            .detail(format!("its operation: {}", op.op))
            .advise("`ts` is SystemTime::now().duration_since(UNIX_EPOCH) in milliseconds, plus the offset from REPLICATE_CLOCK_OFFSET_MS (never below 0)."));
    }
    Ok(())
}

fn timestamps(trial: &mut Trial) -> Result<(), Failure> {
    put_stamped(trial, "alice.db", "now", 0)?;
    trial.set_env(&[(CLOCK_OFFSET, "60000")]);
    put_stamped(trial, "alice.db", "ahead", 60_000)?;
    trial.set_env(&[(CLOCK_OFFSET, "-3600000")]);
    put_stamped(trial, "alice.db", "behind", -3_600_000)?;
    // An explicit plus sign is a valid spelling of a positive offset.
    trial.set_env(&[(CLOCK_OFFSET, "+5000")]);
    put_stamped(trial, "alice.db", "plus", 5_000)?;
    trial.set_env(&[]);
    trial.note(&format!(
        "each `ts` was within {TOLERANCE_MS} ms of the verifier's clock plus the offset"
    ));
    Ok(())
}

fn bad_clock_offset(trial: &mut Trial) -> Result<(), Failure> {
    // Odd spellings too: empty, spaces around a number, a number past 64 signed bits.
    for bad in ["soon", "1.5", "", " 5", "5 ", "99999999999999999999"] {
        trial.set_env(&[(CLOCK_OFFSET, bad)]);
        for (program, args) in [
            ("put", vec!["--db", "alice.db", "k", "v"]),
            ("del", vec!["--db", "alice.db", "k"]),
        ] {
            let outcome = trial.run_any_exit(program, &args)?;
            if outcome.ending != crate::runner::Ending::Exited(2) {
                return Err(trial
                    .fail(format!(
                        "`{program}` with {CLOCK_OFFSET}={bad} {}; expected a usage error (exit code 2)",
                        outcome.ending.describe()
                    ))
                    .advise("Parse REPLICATE_CLOCK_OFFSET_MS as an i64 before anything else; if it does not parse, print a message naming the variable on stderr and exit 2."));
            }
        }
    }
    trial.set_env(&[]);
    let ops = operations(trial, "alice.db", "the log, which must be empty")?;
    if let Some(op) = ops.first() {
        return Err(trial
            .fail(format!(
                "after `put` and `del` refused a bad {CLOCK_OFFSET}, alice.db's log holds {} operation(s), such as {}",
                ops.len(),
                op.op
            ))
            .advise("Read the clock offset before you open the database and append: a usage error writes nothing."));
    }
    trial.note("alice.db's log is empty");
    Ok(())
}

fn equal_stamps(trial: &mut Trial) -> Result<(), Failure> {
    // Far behind the epoch: every stamp is clamped to 0, so the two stamps are equal.
    trial.set_env(&[(CLOCK_OFFSET, "-100000000000000")]);
    trial.note("both clocks far behind 1970: every stamp counts as 0");
    write(trial, "put", "alice.db", &["k", "from alice"])?;
    write(trial, "put", "bob.db", &["k", "from bob"])?;
    trial.set_env(&[]);
    let mut stamps = Vec::new();
    for db in ["alice.db", "bob.db"] {
        let ops = operations(trial, db, "the operations, to read their `ts`: not shown")?;
        for op in ops {
            let ts = op.op.get("ts").cloned().unwrap_or(Value::Null);
            if ts != 0 {
                return Err(trial
                    .fail(format!("with {CLOCK_OFFSET}=-100000000000000 the put in {db} has \"ts\":{ts}; a sum below 0 counts as 0"))
                    .advise("Add the offset as a signed number and clamp the sum at 0 (i128 or saturating arithmetic)."));
            }
            stamps.push(op.peer);
        }
    }
    sync(trial, "alice.db", "bob.db")?;
    let expected = winner(trial, "alice.db", "k")?;
    let mark = trial.mark();
    for db in ["alice.db", "bob.db"] {
        let got = get(trial, db, "k")?;
        if got != expected {
            let larger = stamps
                .iter()
                .max()
                .map(|p| trial.placeholder("peer", p))
                .unwrap_or_default();
            return Err(trial
                .fail(format!(
                    "both stamps are 0, and {db} keeps {} for k; the write of the larger peer id ({larger}) is {}",
                    shown(got.as_deref()),
                    shown(expected.as_deref())
                ))
                .advise("On equal stamps compare the peer ids (as bytes): the larger wins, on every database."));
        }
    }
    trial.replace_since(mark, "both keep the write of the larger peer id");
    ties_in_both_seq_orders(trial)
}

/// Equal stamps again, where the seqs point the other way too: k2's write has the
/// greater seq in alice.db's log, k3's in bob.db's. Whichever peer id is larger, a
/// tie broken by the seq before the peer id (or by arrival) picks the wrong write of one.
fn ties_in_both_seq_orders(trial: &mut Trial) -> Result<(), Failure> {
    trial.set_env(&[(CLOCK_OFFSET, "-100000000000000")]);
    trial.note("equal stamps again; k2's write has the greater seq in alice.db, k3's in bob.db");
    write(trial, "put", "alice.db", &["pad-a", "1"])?;
    write(trial, "put", "alice.db", &["k2", "alice's k2"])?;
    write(trial, "put", "alice.db", &["k3", "alice's k3"])?;
    write(trial, "put", "bob.db", &["k2", "bob's k2"])?;
    write(trial, "put", "bob.db", &["pad-b", "1"])?;
    write(trial, "put", "bob.db", &["pad-b", "2"])?;
    write(trial, "put", "bob.db", &["k3", "bob's k3"])?;
    trial.set_env(&[]);
    sync(trial, "alice.db", "bob.db")?;
    let mark = trial.mark();
    for key in ["k2", "k3"] {
        let expected = winner(trial, "alice.db", key)?;
        for db in ["alice.db", "bob.db"] {
            let got = get(trial, db, key)?;
            if got != expected {
                return Err(trial
                    .fail(format!(
                        "both stamps of {key} are 0, and {db} keeps {} for it; the write of the larger peer id is {}",
                        shown(got.as_deref()),
                        shown(expected.as_deref())
                    ))
                    .detail("The seqs of the two writes point the other way for k2 and for k3: only the peer id decides both the same way.")
                    .advise("Compare (ts, peer id, seq) in that order: the peer id before the seq, the seq only within one peer's log."));
            }
        }
    }
    trial.replace_since(
        mark,
        "for k2 and for k3, both keep the write of the larger peer id",
    );
    Ok(())
}

/// A value as the messages show it: quoted, or "nothing".
fn shown(value: Option<&str>) -> String {
    value.map_or("nothing".to_string(), |v| format!("{v:?}"))
}

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
                .fail(format!(
                    "{db} keeps {} for k, but the greatest (ts, peer id) in the log is {}",
                    shown(got.as_deref()),
                    shown(expected.as_deref())
                ))
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
    expect(trial, "alice.db", "k", None)?;
    trial.set_env(&[(CLOCK_OFFSET, "10000")]);
    trial.note("alice puts k again, with a clock 10 s ahead: later than the delete");
    write(trial, "put", "alice.db", &["k", "back"])?;
    trial.set_env(&[]);
    sync(trial, "alice.db", "carol.db")?;
    expect(trial, "carol.db", "k", Some("back"))?;
    expect(trial, "alice.db", "k", Some("back"))
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
