//! Exercise 07, conflicts kept as siblings: each write names the versions it
//! supersedes, concurrent writes stay side by side, `get` shows them all, and an
//! explicit merge resolves them everywhere — multi-master-merge's answer to the
//! lost update of exercise 06.

use super::e05_kv_store::{DEL, LOG, PUT, SYNC};
use super::replication::Peer;
use super::stores::{operations, same_listings, sync, write};
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
            name: "one-store",
            about: "put, del and get on one store: each write replaces the last, `prev` names it, deleted and never-written keys, `list` in byte order",
            advice: "A write's prev is every current version of the key; `get` prints the current versions (a deletion marker has value null) and exits 1 for a key never written.",
            run: one_store,
        },
        Check {
            name: "prev-sorted",
            about: "`prev` names every current version, sorted by peer id, then seq (checked on both peers' merges)",
            advice: "Keep a key's versions sorted by (peer id as bytes, seq), and write prev in that order.",
            run: prev_sorted,
        },
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
    let outcome = trial.run_any_exit("merge", &["--db", "carol.db", "x", "nothing"])?;
    refused(trial, &outcome, "carol.db", "no version")?;
    write(trial, "put", "solo.db", &["x", "alone"])?;
    let outcome = trial.run_any_exit("merge", &["--db", "solo.db", "x", "still alone"])?;
    refused(trial, &outcome, "solo.db", "one version")?;
    let ops = operations(
        trial,
        "solo.db",
        "the log, which must hold only the put: not shown",
    )?;
    if ops.len() != 1 {
        return Err(trial
            .fail(format!(
                "`merge` refused, yet solo.db's log holds {} operations; expected only the put",
                ops.len()
            ))
            .advise(
                "Count the current versions before you write anything: a refused merge appends nothing.",
            ));
    }
    // Conflicts on x and y; x is merged on alice, y on bob. Carol hears of alice's
    // merge together with bob's version it replaces, dave of bob's merge together
    // with alice's: whichever peer id sorts first, one of them applies a merge
    // before a version it replaces.
    for key in ["x", "y"] {
        write(trial, "put", "alice.db", &[key, "a"])?;
        write(trial, "put", "bob.db", &[key, "b"])?;
    }
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "merge", "alice.db", &["x", "a+b"])?;
    write(trial, "merge", "bob.db", &["y", "a+b"])?;
    expect_values(trial, "alice.db", "x", &[Some("a+b")])?;
    trial.note("carol gets alice's merge of x and bob's replaced version in one sync");
    sync(trial, "alice.db", "carol.db")?;
    expect_values(trial, "carol.db", "x", &[Some("a+b")])?;
    trial.note("dave gets bob's merge of y and alice's replaced version in one sync");
    sync(trial, "bob.db", "dave.db")?;
    expect_values(trial, "dave.db", "y", &[Some("a+b")])?;
    sync(trial, "bob.db", "carol.db")?;
    sync(trial, "alice.db", "bob.db")?;
    for db in ["alice.db", "bob.db", "carol.db"] {
        expect_values(trial, db, "x", &[Some("a+b")])?;
        expect_values(trial, db, "y", &[Some("a+b")])?;
    }
    Ok(())
}

/// Requires a `merge` to have been refused (exit 1) for a key with `versions`.
fn refused(
    trial: &mut Trial,
    outcome: &crate::harness::trial::Outcome,
    db: &str,
    versions: &str,
) -> Result<(), Failure> {
    if outcome.ending == crate::runner::Ending::Exited(1) {
        return Ok(());
    }
    Err(trial
        .fail(format!(
            "`merge` in {db}, on a key with {versions}, {}; it should refuse (exit 1): nothing to merge",
            outcome.ending.describe()
        ))
        .advise("`merge` refuses (a message on stderr, exit code 1) when the key has fewer than two current versions."))
}

/// The `prev` of every operation on `key` in a store's log, in log order of its writer.
fn prevs(trial: &mut Trial, db: &str, key: &str) -> Result<Vec<(String, Vec<String>)>, Failure> {
    let ops = operations(trial, db, "the operations, to read their prev: not shown")?;
    Ok(ops
        .into_iter()
        .filter(|op| op.op.get("key").and_then(serde_json::Value::as_str) == Some(key))
        .map(|op| {
            let prev = op
                .op
                .get("prev")
                .and_then(serde_json::Value::as_array)
                .map(|p| p.iter().map(|v| v.as_str().unwrap_or("?").to_string()).collect())
                .unwrap_or_default();
            (format!("{}@{}", op.peer, op.seq), prev)
        })
        .collect())
}

/// Shows a list of versions with placeholders.
fn shown_versions(trial: &mut Trial, versions: &[String]) -> String {
    let shown: Vec<String> = versions
        .iter()
        .map(|v| match v.split_once('@') {
            Some((peer, seq)) => format!("{}@{seq}", trial.placeholder("peer", peer)),
            None => v.clone(),
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

fn one_store(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "1"])?;
    write(trial, "put", "alice.db", &["x", "2"])?;
    expect_values(trial, "alice.db", "x", &[Some("2")])?;
    write(trial, "del", "alice.db", &["x"])?;
    expect_values(trial, "alice.db", "x", &[None])?;
    let outcome = trial.run_any_exit("get", &["--db", "alice.db", "never"])?;
    if outcome.ending != crate::runner::Ending::Exited(1) || !outcome.records.is_empty() {
        return Err(trial
            .fail(format!(
                "`get` of a key never written printed {} record(s) and {}; expected nothing on stdout and exit code 1",
                outcome.records.len(),
                outcome.ending.describe()
            ))
            .advise("A key with no version at all prints `not found: KEY` on stderr and exits 1 (a deleted key prints its marker and exits 0)."));
    }
    let written = prevs(trial, "alice.db", "x")?;
    let expected: Vec<Vec<String>> = (0..written.len())
        .map(|i| match i {
            0 => Vec::new(),
            _ => vec![written[i - 1].0.clone()],
        })
        .collect();
    for ((version, prev), want) in written.iter().zip(&expected) {
        if prev != want {
            let (version, prev, want) = (
                shown_versions(trial, std::slice::from_ref(version)),
                shown_versions(trial, prev),
                shown_versions(trial, want),
            );
            return Err(trial
                .fail(format!("the write {version} of x names prev {prev}; the current versions were {want}"))
                .advise("Before writing, read the key's current versions and put exactly those in prev ([] for a new key)."));
        }
    }
    trial.note("each write's prev named the version before it");
    list_in_byte_order(trial)
}

/// `list` goes by key in byte order, then peer id. The transcript sorts records (peer
/// ids are random), so the order printed is judged here: byte order is not
/// alphabetical order ("Zebra" before "apple", "Äpfel" after both).
fn list_in_byte_order(trial: &mut Trial) -> Result<(), Failure> {
    for (key, value) in [("Zebra", "stripes"), ("Äpfel", "rot"), ("apple", "green")] {
        write(trial, "put", "alice.db", &[key, value])?;
    }
    let listed = trial.run_unshown("list", &["--db", "alice.db"], "its order is judged, not shown")?;
    let order: Vec<(Vec<u8>, String)> = listed
        .iter()
        .map(|r| {
            let key = r.text("key").unwrap_or_default().as_bytes().to_vec();
            (key, r.text("peer").unwrap_or_default().to_string())
        })
        .collect();
    let keys: Vec<&str> = listed.iter().filter_map(|r| r.text("key")).collect();
    if !order.is_sorted() {
        return Err(trial
            .fail(format!("`list` printed the keys in the order {keys:?}"))
            .detail("`list` goes by key in byte order (UTF-8 bytes: \"Zebra\" < \"apple\" < \"x\" < \"Äpfel\"), then by peer id.")
            .advise("Walk the view's tree in its own order (sled sorts keys as bytes); do not sort by lowercase or by characters."));
    }
    for key in ["Zebra", "apple", "Äpfel"] {
        if !keys.contains(&key) {
            return Err(trial.fail(format!(
                "`list` printed no version of {key:?}, written just before"
            )));
        }
    }
    trial.note("`list` went by key in byte order");
    Ok(())
}

fn prev_sorted(trial: &mut Trial) -> Result<(), Failure> {
    // Two conflicts, merged one on each peer: whichever id sorts first, one of the
    // merges names a foreign version before its writer's own.
    for key in ["x", "y"] {
        write(trial, "put", "alice.db", &[key, "a"])?;
        write(trial, "put", "bob.db", &[key, "b"])?;
    }
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "merge", "alice.db", &["x", "by alice"])?;
    write(trial, "merge", "bob.db", &["y", "by bob"])?;
    sync(trial, "alice.db", "bob.db")?;
    for key in ["x", "y"] {
        for (version, prev) in prevs(trial, "alice.db", key)? {
            let mut sorted = prev.clone();
            sorted.sort_by_key(|a| version_key(a));
            if prev != sorted || (prev.len() != 2 && !prev.is_empty()) {
                let (version, prev, sorted) = (
                    shown_versions(trial, std::slice::from_ref(&version)),
                    shown_versions(trial, &prev),
                    shown_versions(trial, &sorted),
                );
                return Err(trial
                    .fail(format!("the merge {version} of {key} names prev {prev}; expected both versions sorted by peer id, then seq: {sorted}"))
                    .advise("Write prev sorted by peer id (as bytes), then seq (as a number), whichever version is your own."));
            }
        }
    }
    trial.note("both merges named both versions, sorted by peer id");
    Ok(())
}

/// The sort key of a version name `PEER@SEQ`: peer id as bytes, then seq as a number.
fn version_key(version: &str) -> (Vec<u8>, u64) {
    match version.rsplit_once('@') {
        Some((peer, seq)) => (peer.as_bytes().to_vec(), seq.parse().unwrap_or(u64::MAX)),
        None => (version.as_bytes().to_vec(), u64::MAX),
    }
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
