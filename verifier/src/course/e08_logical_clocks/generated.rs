//! Generate, record, check: seeded workloads of `put`s, `del`s and `pull`s on
//! two to four databases, each with its `serve` running, on keys and values
//! outside ASCII and with surrounding spaces, judged by properties of the whole
//! history rather than by a script:
//!
//! - every database's own writes of a key carry strictly growing clocks, and
//!   its log strictly growing positions;
//! - after a final round in which every database pulls from every other once,
//!   all databases list the same keys and values (convergence);
//! - for each key, that common value is the one of the write with the greatest
//!   `(clock, peer)` among every write any database made (the resolver, ties
//!   included, whichever order the writes met in): no write lost that the rule
//!   keeps.
//!
//! The steps depend on the seed, so the transcript shows one line per round; a
//! failure lists the steps that led to it (`--seed` replays them).

use super::super::stores::{listing, same_listings, write};
use super::checks::{log, pull, serve};
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial, Who};
use std::collections::BTreeMap;

const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// Keys and values a printer, a parser or a byte order could get wrong.
const KEYS: [&str; 4] = ["k", " spaced key ", "clé", "ключ"];
const VALUES: [&str; 6] = [
    "v",
    "  padded  ",
    "naïve café",
    "日本語",
    "emoji 🎉",
    "quote \" and \\",
];

pub(super) fn seeded_workloads(trial: &mut Trial) -> Result<(), Failure> {
    for round in 1..=2 {
        let count = 2 + trial.rng().usize(0..3);
        trial.note(&format!(
            "round {round}: two to four databases (drawn from the seed), each serving; seeded puts, dels and pulls; then each pulls from each"
        ));
        let mark = trial.mark();
        workload(trial, round, count)?;
        trial.replace_since(
            mark,
            "clocks and positions grow; all list the same; each key holds the write of the greatest (clock, peer)",
        );
    }
    Ok(())
}

/// Adds the seeded steps that led to a failure to it.
fn with_steps(steps: &[String], mut failure: Failure) -> Failure {
    let start = steps.len().saturating_sub(25);
    failure = failure.detail(format!(
        "The seeded steps before it ({} in all, the last {} shown):",
        steps.len(),
        steps.len() - start
    ));
    for step in &steps[start..] {
        failure = failure.detail(format!("  {step}"));
    }
    failure
}

fn workload(trial: &mut Trial, round: usize, count: usize) -> Result<(), Failure> {
    let dbs: Vec<String> = (0..count).map(|i| format!("r{round}-{}.db", NAMES[i])).collect();
    let mut steps: Vec<String> = Vec::new();
    // Every database writes once first, so that its serve knows its peer id.
    for (i, db) in dbs.iter().enumerate() {
        steps.push(format!("{} puts \"first\" \"v\"", NAMES[i]));
        write(trial, "put", db, &["first", "v"]).map_err(|f| with_steps(&steps, f))?;
    }
    let mut servers = Vec::new();
    for (i, db) in dbs.iter().enumerate() {
        servers.push(serve(trial, db, &format!("{}{round}", NAMES[i])).map_err(|f| with_steps(&steps, f))?);
    }
    let count_steps = 12 + trial.rng().usize(0..8);
    for _ in 0..count_steps {
        let who = trial.rng().usize(0..count);
        let roll = trial.rng().usize(0..10);
        let key = KEYS[trial.rng().usize(0..KEYS.len())];
        if roll < 5 {
            let value = VALUES[trial.rng().usize(0..VALUES.len())];
            steps.push(format!("{} puts {key:?} {value:?}", NAMES[who]));
            write(trial, "put", &dbs[who], &[key, value]).map_err(|f| with_steps(&steps, f))?;
        } else if roll < 6 {
            steps.push(format!("{} dels {key:?}", NAMES[who]));
            write(trial, "del", &dbs[who], &[key]).map_err(|f| with_steps(&steps, f))?;
        } else {
            let from = (who + 1 + trial.rng().usize(0..count - 1)) % count;
            steps.push(format!("{} pulls from {}", NAMES[who], NAMES[from]));
            pull(trial, &dbs[who], &servers[from]).map_err(|f| with_steps(&steps, f))?;
        }
    }
    for who in 0..count {
        for from in (0..count).filter(|&f| f != who) {
            steps.push(format!("{} pulls from {} (final round)", NAMES[who], NAMES[from]));
            pull(trial, &dbs[who], &servers[from]).map_err(|f| with_steps(&steps, f))?;
        }
    }
    for mut server in servers {
        server.stop(trial);
    }
    judge(trial, &dbs, &steps)
}

/// A write as the logs show it: (clock, peer) and its value (None: a del).
type Write = ((u64, String), Option<String>);

fn judge(trial: &mut Trial, dbs: &[String], steps: &[String]) -> Result<(), Failure> {
    // Every write ever made, from each database's own records (no compaction
    // ran, so each log still holds all of its own writes).
    let mut best: BTreeMap<String, Write> = BTreeMap::new();
    for db in dbs {
        let records: Vec<Record> = log(trial, db).map_err(|f| with_steps(steps, f))?;
        let own = records
            .iter()
            .find(|r| r.text("key") == Some("first"))
            .and_then(|r| r.text("peer"))
            .map(str::to_string);
        let mut last_seq = 0;
        let mut last_clock: BTreeMap<String, u64> = BTreeMap::new();
        for record in &records {
            let seq = record.number("seq").unwrap_or(0);
            if seq <= last_seq {
                return Err(with_steps(
                    steps,
                    trial.fail(format!(
                        "`log --db {db}` printed position {seq} after {last_seq}: positions only grow"
                    )),
                ));
            }
            last_seq = seq;
            let (Some(key), Some(peer)) = (record.text("key"), record.text("peer")) else {
                continue;
            };
            let clock = record.number("clock").unwrap_or(0);
            if Some(peer) != own.as_deref() {
                continue;
            }
            if let Some(before) = last_clock.insert(key.to_string(), clock).filter(|&c| c >= clock) {
                return Err(with_steps(steps, trial.fail(format!(
                    "{db} wrote {key:?} with clock {clock} after its own write with clock {before}: each write of a key is stamped above every write of it held"
                ))));
            }
            let write: Write = (
                (clock, peer.to_string()),
                record.text("value").map(str::to_string),
            );
            let entry = best.entry(key.to_string()).or_insert_with(|| write.clone());
            if (write.0.0, write.0.1.as_bytes()) > (entry.0.0, entry.0.1.as_bytes()) {
                *entry = write;
            }
        }
    }
    let names: Vec<&str> = dbs.iter().map(String::as_str).collect();
    same_listings(trial, &names).map_err(|f| with_steps(steps, f))?;
    let listed = listing(trial, Who::Tested, &dbs[0]).map_err(|f| with_steps(steps, f))?;
    let got: BTreeMap<String, String> = listed
        .iter()
        .filter_map(|r| Some((r.text("key")?.to_string(), r.text("value")?.to_string())))
        .collect();
    for (key, ((clock, peer), value)) in &best {
        if got.get(key) != value.as_ref() {
            return Err(with_steps(steps, trial.fail(format!(
                "every database lists {key:?} as {:?}, but the write with the greatest (clock, peer) is ({clock}, {peer}): {}",
                got.get(key),
                value.as_ref().map_or("a del".to_string(), |v| format!("{v:?}"))
            )).detail("The greater (clock, peer) wins, peer ids compared as bytes, on every database whatever the order the writes arrived in; a del that wins leaves no value.")));
        }
    }
    Ok(())
}
