//! Exercise 07, conflicts kept as siblings: each write names the versions it
//! supersedes, concurrent writes stay side by side, `get` shows them all, and an
//! explicit merge resolves them everywhere — multi-master-merge's answer to the
//! lost update of exercise 06.

use super::e05_kv_store::{DEL, LOG, PUT, SYNC};
use super::replication::Peer;
use super::stores::{same_listings, sync, write};
use super::{Check, Exercise, Program};
use crate::harness::records::{Field, FieldKind, Record, RecordShape};
use crate::harness::trial::{Failure, Trial, Who};

/// `{"key": …, "value": … or null, "peer": …, "seq": …}`: one current version of a key.
pub const VERSION: RecordShape = RecordShape {
    fields: &[
        Field {
            name: "key",
            kind: FieldKind::Text,
        },
        Field {
            name: "value",
            kind: FieldKind::OptionalText,
        },
        Field {
            name: "peer",
            kind: FieldKind::Id("peer"),
        },
        Field {
            name: "seq",
            kind: FieldKind::Number,
        },
    ],
};

pub static EXERCISE: Exercise = Exercise {
    number: 7,
    slug: "siblings",
    title: "Conflicts as siblings, resolved by a merge",
    summary: "writes name what they supersede; concurrent ones stay as siblings until merged",
    problem: include_str!("../../../../exercises/07-siblings/README.md"),
    hints: include_str!("hints.md"),
    programs: &[
        PUT,
        DEL,
        Program {
            name: "merge",
            usage: "merge [--db PATH] KEY VALUE",
            prints: None,
            sorted: false,
        },
        Program {
            name: "get",
            usage: "get [--db PATH] KEY",
            prints: Some(VERSION),
            sorted: true,
        },
        Program {
            name: "list",
            usage: "list [--db PATH]",
            prints: Some(VERSION),
            sorted: true,
        },
        SYNC,
        LOG,
    ],
    checks: &[
        Check {
            name: "concurrent-puts-are-siblings",
            about: "two peers write one key without seeing each other: both values stay, everywhere",
            advice: "A put supersedes only the versions its writer had seen (its prev) and its own earlier ones; anything else stays as a sibling.",
            run: concurrent_puts_are_siblings,
        },
        Check {
            name: "informed-put-supersedes",
            about: "a put made after seeing a value replaces it everywhere",
            advice: "When you put, name every current version of the key in `prev`; applying the put removes them.",
            run: informed_put_supersedes,
        },
        Check {
            name: "stale-write-never-wins",
            about: "a write made without seeing the newer value does not silently win: both stay",
            advice: "Never order writes by time or arrival: only `prev` (and a peer's own later writes) supersede.",
            run: stale_write_never_wins,
        },
        Check {
            name: "merge-resolves",
            about: "a merge on one peer resolves the conflict on every peer, in any sync order",
            advice: "A merge is a put whose prev names all current siblings; remember superseded versions, so one arriving late is not brought back.",
            run: merge_resolves,
        },
        Check {
            name: "deletes",
            about: "deletes follow the same rules: informed ones remove, concurrent ones stay as siblings",
            advice: "A delete is a version with value null that supersedes its prev, like a put.",
            run: deletes,
        },
        Check {
            name: "interop-with-reference",
            about: "your store and the reference store agree on siblings and merges",
            advice: "Use the operation format of the problem text exactly: versions as \"peer@seq\", prev sorted.",
            run: interop_with_reference,
        },
        Check {
            name: "random-schedule",
            about: "three peers, a seeded random schedule of puts, deletes, merges and syncs: all converge",
            advice: "Replay the schedule with the seed shown below; compare `list` on each store after each sync.",
            run: random_schedule,
        },
    ],
};

/// The current versions of a key, as (value, peer) pairs in the printed order.
fn versions(
    trial: &mut Trial,
    who: Who,
    db: &str,
    key: &str,
) -> Result<Vec<(Option<String>, String)>, Failure> {
    let outcome = trial.run_by(who, "get", &["--db", db, key])?;
    Ok(outcome
        .records
        .iter()
        .map(|r: &Record| {
            (
                r.text("value").map(str::to_string),
                r.text("peer").unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// Requires a key to hold exactly these values (in any order; `None` = a deletion).
fn expect_values(trial: &mut Trial, db: &str, key: &str, expected: &[Option<&str>]) -> Result<(), Failure> {
    let mut got: Vec<Option<String>> = versions(trial, Who::Tested, db, key)?
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    let mut want: Vec<Option<String>> = expected.iter().map(|v| v.map(str::to_string)).collect();
    got.sort();
    want.sort();
    if got == want {
        return Ok(());
    }
    Err(trial
        .fail(format!("{db} holds {got:?} for {key}; expected {want:?}"))
        .detail("`get` prints every current version of the key: the siblings no write has superseded."))
}

fn concurrent_puts_are_siblings(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "from alice"])?;
    write(trial, "put", "bob.db", &["x", "from bob"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect_values(trial, "alice.db", "x", &[Some("from alice"), Some("from bob")])?;
    expect_values(trial, "bob.db", "x", &[Some("from alice"), Some("from bob")])
}

fn informed_put_supersedes(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "1"])?;
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "put", "bob.db", &["x", "2"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect_values(trial, "alice.db", "x", &[Some("2")])?;
    expect_values(trial, "bob.db", "x", &[Some("2")])
}

fn stale_write_never_wins(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "1"])?;
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "put", "bob.db", &["x", "2 (bob saw 1)"])?;
    trial.note("alice has not seen bob's write when she writes again");
    write(trial, "put", "alice.db", &["x", "3 (alice saw only 1)"])?;
    sync(trial, "alice.db", "bob.db")?;
    for db in ["alice.db", "bob.db"] {
        expect_values(
            trial,
            db,
            "x",
            &[Some("2 (bob saw 1)"), Some("3 (alice saw only 1)")],
        )?;
    }
    Ok(())
}

fn merge_resolves(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "a"])?;
    write(trial, "put", "bob.db", &["x", "b"])?;
    sync(trial, "alice.db", "bob.db")?;
    let outcome = trial.run_any_exit("merge", &["--db", "carol.db", "x", "nothing"])?;
    if outcome.ending.success() {
        return Err(trial.fail(
            "`merge` on a key with no conflict exited 0; it should refuse (exit 1): nothing to merge",
        ));
    }
    write(trial, "merge", "alice.db", &["x", "a+b"])?;
    expect_values(trial, "alice.db", "x", &[Some("a+b")])?;
    trial.note("carol hears of the merge first, of the conflict second");
    sync(trial, "alice.db", "carol.db")?;
    sync(trial, "bob.db", "carol.db")?;
    sync(trial, "alice.db", "bob.db")?;
    for db in ["alice.db", "bob.db", "carol.db"] {
        expect_values(trial, db, "x", &[Some("a+b")])?;
    }
    Ok(())
}

fn deletes(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["gone", "soon"])?;
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "del", "bob.db", &["gone"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect_values(trial, "alice.db", "gone", &[None])?;
    trial.note("a delete and a put made concurrently: both stay");
    write(trial, "put", "alice.db", &["k", "v"])?;
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "del", "alice.db", &["k"])?;
    write(trial, "put", "bob.db", &["k", "kept"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect_values(trial, "alice.db", "k", &[None, Some("kept")])?;
    same_listings(trial, &["alice.db", "bob.db"])
}

fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "mine"])?;
    trial.run_as(Who::Reference, "put", &["--db", "bob.db", "x", "theirs"])?;
    trial.sync(
        super::stores::store("alice.db"),
        Peer::reference("sync", &["bob.db"]),
    )?;
    expect_values(trial, "alice.db", "x", &[Some("mine"), Some("theirs")])?;
    trial.run_as(Who::Reference, "merge", &["--db", "bob.db", "x", "both"])?;
    trial.sync(
        Peer::reference("sync", &["bob.db"]),
        super::stores::store("alice.db"),
    )?;
    expect_values(trial, "alice.db", "x", &[Some("both")])?;
    let theirs = versions(trial, Who::Reference, "bob.db", "x")?;
    if theirs.len() != 1 {
        return Err(trial.fail("the reference store still holds siblings after the merge synced both ways"));
    }
    Ok(())
}

fn random_schedule(trial: &mut Trial) -> Result<(), Failure> {
    let dbs = ["p1.db", "p2.db", "p3.db"];
    let keys = ["k1", "k2", "k3"];
    let mark = trial.mark();
    for step in 0..30 {
        let db = dbs[trial.rng().usize(0..dbs.len())];
        let key = keys[trial.rng().usize(0..keys.len())];
        match trial.rng().usize(0..10) {
            0..=4 => write(trial, "put", db, &[key, &format!("v{step}")])?,
            5 => write(trial, "del", db, &[key])?,
            6 => {
                // A merge where there is a conflict; elsewhere it is refused, which is fine.
                trial.run_any_exit("merge", &["--db", db, key, &format!("m{step}")])?;
            }
            _ => {
                let other = dbs[trial.rng().usize(0..dbs.len())];
                if other != db {
                    sync(trial, db, other)?;
                }
            }
        }
    }
    for (a, b) in [(0, 1), (1, 2), (0, 2), (0, 1)] {
        sync(trial, dbs[a], dbs[b])?;
    }
    trial.replace_since(
        mark,
        "30 seeded random steps (puts, deletes, merges, syncs), then every pair syncs: all list the same",
    );
    let summary = trial.mark();
    same_listings(trial, &dbs)?;
    trial.replace_since(summary, "the three stores list the same versions");
    Ok(())
}
