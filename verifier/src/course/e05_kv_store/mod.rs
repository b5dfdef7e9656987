//! Exercise 05, a multi-master key/value store on replicated logs: every mutation is
//! an operation appended to the local log, a view derived from the logs answers
//! `get` and `list`, and `sync` replicates with exercise 03's protocol.
//!
//! The checks write each key on one peer at a time (concurrent writes to one key are
//! exercise 06's problem), sync in several orders, crash a sync, and compare every view
//! with the view the verifier recomputes from the store's own log.

use super::replication::Peer;
use super::shapes::{KEY_VALUE, LOG_ENTRY};
use super::stores::{as_map, expect, fold, operations, same_listings, store, sync, write};
use super::{Check, Exercise, Program};
use crate::harness::duplex::Fault;
use crate::harness::trial::{Failure, Trial, Who};

/// `put KEY VALUE`: a write, appended to the log as an operation.
pub const PUT: Program = Program {
    name: "put",
    usage: "put [--db PATH] KEY VALUE",
    prints: None,
    sorted: false,
};

/// `del KEY`: a delete, appended to the log as an operation.
pub const DEL: Program = Program {
    name: "del",
    usage: "del [--db PATH] KEY",
    prints: None,
    sorted: false,
};

/// `sync DB`: replication with exercise 03's protocol.
pub const SYNC: Program = Program {
    name: "sync",
    usage: "sync DB   (speaks exercise 03's protocol on stdin/stdout)",
    prints: None,
    sorted: false,
};

/// `log`: every operation held, as log entries.
pub const LOG: Program = Program {
    name: "log",
    usage: "log [--db PATH]",
    prints: Some(LOG_ENTRY),
    sorted: true,
};

/// The programs of a store whose `get` and `list` print `{key, value}`.
pub const PROGRAMS: &[Program] = &[
    PUT,
    DEL,
    Program {
        name: "get",
        usage: "get [--db PATH] KEY",
        prints: Some(KEY_VALUE),
        sorted: false,
    },
    Program {
        name: "list",
        usage: "list [--db PATH]",
        prints: Some(KEY_VALUE),
        sorted: false,
    },
    SYNC,
    LOG,
];

pub static EXERCISE: Exercise = Exercise {
    number: 5,
    slug: "kv-store",
    title: "A multi-master key/value store",
    summary: "put/del as operations in the log, a view derived from it, sync between peers",
    problem: include_str!("../../../../exercises/05-kv-store/README.md"),
    hints: include_str!("hints.md"),
    programs: PROGRAMS,
    checks: &[
        Check {
            name: "one-store",
            about: "put, get, del and list on one store",
            advice: "Append each mutation to your log as an operation, then apply it to the view; `get` and `list` read the view.",
            run: one_store,
        },
        Check {
            name: "two-peers-converge",
            about: "writes on two peers meet after a sync, both ways",
            advice: "`sync` is exercise 03's replicate over your log; after it, apply every operation you received to the view.",
            run: two_peers_converge,
        },
        Check {
            name: "delete-replicates",
            about: "a delete made on one peer removes the key everywhere",
            advice: "A delete is an operation like a put: it travels in the log and removes the key from each view that applies it.",
            run: delete_replicates,
        },
        Check {
            name: "any-sync-order",
            about: "three peers converge whatever the order of their syncs (seeded)",
            advice: "Each peer writes its own keys here, so any order of applying other logs gives the same view: check that you apply every received operation.",
            run: any_sync_order,
        },
        Check {
            name: "view-matches-log",
            about: "after a sync killed half-way, the view is exactly what the log says",
            advice: "Update the view in the same sled transaction that records how far each log was applied, and on open apply whatever the log holds beyond that.",
            run: view_matches_log,
        },
        Check {
            name: "catch-up-on-open",
            about: "operations in the log that the view never saw (a crash right after an append) are applied on the next open",
            advice: "On every open, compare `applied` with the heads of the logs and apply what lies beyond, before answering anything.",
            run: catch_up_on_open,
        },
        Check {
            name: "interop-with-reference",
            about: "your store syncs with the reference store, in both positions",
            advice: "Use exercise 03's protocol unchanged, and the operation format of the problem text, exactly.",
            run: interop_with_reference,
        },
    ],
};

fn one_store(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "a.db", &["apple", "red"])?;
    write(trial, "put", "a.db", &["banana", "yellow"])?;
    write(trial, "put", "a.db", &["apple", "green"])?;
    expect(trial, "a.db", "apple", Some("green"))?;
    write(trial, "del", "a.db", &["banana"])?;
    expect(trial, "a.db", "banana", None)?;
    write(trial, "put", "a.db", &["cherry", "dark red"])?;
    write(trial, "put", "a.db", &["say \"hi\"", "ünïcødé ✓ \\ \"quoted\""])?;
    write(trial, "put", "a.db", &["empty", ""])?;
    // Byte order is not alphabetical: "Zebra" before "apple", "Äpfel" after "say".
    write(trial, "put", "a.db", &["Zebra", "stripes"])?;
    write(trial, "put", "a.db", &["Äpfel", "rot"])?;
    expect(trial, "a.db", "say \"hi\"", Some("ünïcødé ✓ \\ \"quoted\""))?;
    expect(trial, "a.db", "empty", Some(""))?;
    let records = super::stores::listing(trial, Who::Tested, "a.db")?;
    let listed: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r.text("key").unwrap_or_default(),
                r.text("value").unwrap_or_default(),
            )
        })
        .collect();
    let expected = [
        ("Zebra", "stripes"),
        ("apple", "green"),
        ("cherry", "dark red"),
        ("empty", ""),
        ("say \"hi\"", "ünïcødé ✓ \\ \"quoted\""),
        ("Äpfel", "rot"),
    ];
    if listed != expected {
        return Err(trial.fail(format!(
            "`list` shows {listed:?}; expected {expected:?}, in the byte order of the keys"
        )));
    }
    exact_operations(trial)
}

/// Requires `log` to hold exactly one operation per write of `one-store`, as the text
/// spells them: these fields, in this order.
fn exact_operations(trial: &mut Trial) -> Result<(), Failure> {
    let expected = [
        r#"{"type":"put","key":"apple","value":"red"}"#,
        r#"{"type":"put","key":"banana","value":"yellow"}"#,
        r#"{"type":"put","key":"apple","value":"green"}"#,
        r#"{"type":"del","key":"banana"}"#,
        r#"{"type":"put","key":"cherry","value":"dark red"}"#,
        r#"{"type":"put","key":"say \"hi\"","value":"ünïcødé ✓ \\ \"quoted\""}"#,
        r#"{"type":"put","key":"empty","value":""}"#,
        r#"{"type":"put","key":"Zebra","value":"stripes"}"#,
        r#"{"type":"put","key":"Äpfel","value":"rot"}"#,
    ];
    let records = trial.run_unshown("log", &["--db", "a.db"], "checked against the writes, not shown")?;
    let entries: Vec<&str> = records.iter().filter_map(|r| r.text("entry")).collect();
    if entries.len() != expected.len() {
        return Err(trial
            .fail(format!("`log` holds {} operations after {} writes", entries.len(), expected.len()))
            .advise("Each put or del appends exactly one operation to the database's own log, and nothing else does."));
    }
    for (got, want) in entries.iter().zip(expected) {
        if *got != want {
            return Err(trial
                .fail(format!("`log` holds the operation {got}; expected {want}"))
                .advise("Serialize operations with serde_json from the types in src/op.rs: fields type, key, value, in that order."));
        }
    }
    trial.note("`log` holds one operation per write, exactly as documented");
    Ok(())
}

fn two_peers_converge(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["x", "1"])?;
    write(trial, "put", "alice.db", &["y", "2"])?;
    write(trial, "put", "bob.db", &["z", "3"])?;
    sync(trial, "alice.db", "bob.db")?;
    same_listings(trial, &["alice.db", "bob.db"])?;
    expect(trial, "bob.db", "x", Some("1"))?;
    write(trial, "del", "alice.db", &["y"])?;
    write(trial, "put", "bob.db", &["w", "4"])?;
    trial.note("bob starts this sync");
    sync(trial, "bob.db", "alice.db")?;
    same_listings(trial, &["alice.db", "bob.db"])?;
    expect(trial, "bob.db", "y", None)
}

fn delete_replicates(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["k", "v"])?;
    sync(trial, "alice.db", "bob.db")?;
    write(trial, "del", "bob.db", &["k"])?;
    sync(trial, "alice.db", "bob.db")?;
    expect(trial, "alice.db", "k", None)?;
    same_listings(trial, &["alice.db", "bob.db"])
}

fn any_sync_order(trial: &mut Trial) -> Result<(), Failure> {
    let dbs = ["alice.db", "bob.db", "carol.db"];
    for (db, prefix) in dbs.iter().zip(["a", "b", "c"]) {
        for n in 1..=3 {
            write(trial, "put", db, &[&format!("{prefix}{n}"), &format!("{db} {n}")])?;
        }
        write(trial, "del", db, &[&format!("{prefix}2")])?;
    }
    let mark = trial.mark();
    // Every pair twice, in a seeded order: enough for every operation to reach all.
    let mut pairs: Vec<(usize, usize)> = vec![(0, 1), (1, 2), (0, 2), (1, 0), (2, 1), (2, 0)];
    trial.rng().shuffle(&mut pairs);
    for (a, b) in pairs {
        sync(trial, dbs[a], dbs[b])?;
    }
    trial.replace_since(mark, "every pair syncs twice, in an order drawn from the seed");
    same_listings(trial, &dbs)
}

fn view_matches_log(trial: &mut Trial) -> Result<(), Failure> {
    for (db, prefix) in [("alice.db", "a"), ("bob.db", "b")] {
        for n in 1..=12 {
            write(
                trial,
                "put",
                db,
                &[&format!("{prefix}{n}"), &format!("{prefix} value {n}")],
            )?;
        }
        for n in [3, 7] {
            write(trial, "del", db, &[&format!("{prefix}{n}")])?;
        }
    }
    let kill = trial.rng().usize(1..30);
    trial.sync_with_fault(store("alice.db"), store("bob.db"), Fault::KillAAfter(kill))?;
    let why = "depends on where the sync was killed: checked, not shown";
    for db in ["alice.db", "bob.db"] {
        let ops = operations(trial, db, why)?;
        let expected = fold(&ops);
        let listed = as_map(&trial.run_unshown("list", &["--db", db], why)?);
        if listed != expected {
            return Err(trial
                .fail(format!("{db}'s view disagrees with its own log after a sync was killed"))
                .detail(format!(
                    "the log says {} keys, `list` shows {}",
                    expected.len(),
                    listed.len()
                ))
                .detail("The view must never disagree with the log: update both in one transaction, or rebuild what is missing on open."));
        }
    }
    trial.note("both views agree with their logs");
    let mark = trial.mark();
    sync(trial, "alice.db", "bob.db")?;
    trial.replace_since(mark, "a new sync completes both");
    same_listings(trial, &["alice.db", "bob.db"])
}

/// Appends `op` to a store's own log directly, the way `put` appends it, without
/// touching the view: the state a crash right after the append leaves. (The layout is
/// exercise 02's: tree `log`, key = peer id | 0x00 | seq big-endian.)
fn append_behind_the_view(trial: &Trial, db: &str, op: &str) -> Result<(), Failure> {
    let path = trial.dir().join(db);
    let fail = |e: &dyn std::fmt::Display| {
        Failure::new(format!("cannot open {db} with sled to append an operation: {e}"))
            .detail("The store must keep exercise 02's layout: tree `meta` with the key `peer`, tree `log`.")
    };
    let sled = sled::open(&path).map_err(|e| fail(&e))?;
    let peer = sled
        .open_tree("meta")
        .and_then(|meta| meta.get("peer"))
        .map_err(|e| fail(&e))?
        .ok_or_else(|| fail(&"its tree `meta` has no key `peer`"))?;
    let log = sled.open_tree("log").map_err(|e| fail(&e))?;
    let mut prefix = peer.to_vec();
    prefix.push(0);
    let head = log
        .scan_prefix(&prefix)
        .last()
        .transpose()
        .map_err(|e| fail(&e))?
        .and_then(|(key, _)| Some(u64::from_be_bytes(key.get(prefix.len()..)?.try_into().ok()?)))
        .unwrap_or(0);
    let mut key = prefix;
    key.extend_from_slice(&(head + 1).to_be_bytes());
    log.insert(key, op.as_bytes()).map_err(|e| fail(&e))?;
    sled.flush().map_err(|e| fail(&e))?;
    Ok(())
}

fn catch_up_on_open(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["kept", "as it was"])?;
    write(trial, "put", "alice.db", &["gone", "soon"])?;
    let ops = [
        r#"{"type":"put","key":"late","value":"appended, never applied"}"#,
        r#"{"type":"del","key":"gone"}"#,
    ];
    for op in ops {
        trial.note(&format!(
            "the verifier appends {op} to alice.db's own log, as `put`/`del` would, without the view (a crash right after the append)"
        ));
        append_behind_the_view(trial, "alice.db", op)?;
    }
    let why = "the log, to recompute the view: not shown";
    let expected = fold(&operations(trial, "alice.db", why)?);
    for (key, value) in [("late", Some("appended, never applied")), ("gone", None)] {
        let got = super::stores::get(trial, "alice.db", key)?;
        if got.as_deref() != value {
            let show = |v: Option<&str>| v.map_or("not found".to_string(), |v| format!("{v:?}"));
            return Err(trial
                .fail(format!(
                    "alice.db's log says {key} is {}, but `get` says {}: the view was not caught up with the log on open",
                    show(value),
                    show(got.as_deref())
                ))
                .advise("On open, compare `applied` with the heads of the logs and apply every operation beyond it (`catch_up`), before `get` or `list` read the view."));
        }
    }
    let listed = as_map(&super::stores::listing(trial, Who::Tested, "alice.db")?);
    if listed != expected {
        return Err(trial
            .fail(format!(
                "alice.db's `list` shows {listed:?}; its log says {expected:?}"
            ))
            .advise("`list` must read the caught-up view, like `get`."));
    }
    Ok(())
}

fn interop_with_reference(trial: &mut Trial) -> Result<(), Failure> {
    write(trial, "put", "alice.db", &["from", "alice"])?;
    trial.run_as(Who::Reference, "put", &["--db", "bob.db", "reference", "bob"])?;
    trial.note("yours as A, the reference as B");
    trial.sync(store("alice.db"), Peer::reference("sync", &["bob.db"]))?;
    write(trial, "del", "alice.db", &["from"])?;
    trial.run_as(Who::Reference, "put", &["--db", "bob.db", "more", "from bob"])?;
    trial.note("the reference as A, yours as B");
    trial.sync(Peer::reference("sync", &["bob.db"]), store("alice.db"))?;
    let mine = as_map(&super::stores::listing(trial, Who::Tested, "alice.db")?);
    let theirs = as_map(&super::stores::listing(trial, Who::Reference, "bob.db")?);
    if mine != theirs {
        return Err(trial.fail(format!(
            "after syncing with the reference store, yours lists {mine:?} and the reference {theirs:?}"
        )));
    }
    Ok(())
}
