//! Helpers for the key/value store exercises (05, 06, 07): writing, syncing and
//! comparing stores, and the operations their logs hold.

use super::replication::Peer;
use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial, Who};
use serde_json::Value;
use std::collections::BTreeMap;

/// `sync DB` of the programs under test.
pub fn store(db: &str) -> Peer<'_> {
    Peer::tested("sync", &[db])
}

/// Syncs two stores of the programs under test (the verifier's relay in between).
pub fn sync(trial: &mut Trial, a: &str, b: &str) -> Result<(), Failure> {
    trial.sync(store(a), store(b)).map(drop)
}

/// Runs `put`/`del`/`merge` on a store.
pub fn write(trial: &mut Trial, program: &str, db: &str, args: &[&str]) -> Result<(), Failure> {
    let mut all = vec!["--db", db];
    all.extend_from_slice(args);
    trial.run(program, &all).map(drop)
}

/// A store's `list` as printed: one line per record, in order (records shown compactly).
pub fn listing(trial: &mut Trial, who: Who, db: &str) -> Result<Vec<Record>, Failure> {
    trial.run_as(who, "list", &["--db", db])
}

/// Requires every store to list exactly the same records.
pub fn same_listings(trial: &mut Trial, dbs: &[&str]) -> Result<(), Failure> {
    let mut first: Option<(&str, Vec<Record>)> = None;
    for db in dbs {
        let listed = listing(trial, Who::Tested, db)?;
        match &first {
            None => first = Some((db, listed)),
            Some((name, expected)) if *expected != listed => {
                let headline = match first_difference(expected, &listed) {
                    Some(key) => format!(
                        "{name} and {db} list different contents after syncing: {key:?} has {} in {name}, {} in {db}",
                        values_of(expected, &key),
                        values_of(&listed, &key)
                    ),
                    None => {
                        format!("{name} and {db} list the same records in a different order after syncing")
                    }
                };
                return Err(trial.fail(headline));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The first key (in byte order) whose records differ between two listings: listed in
/// one and not the other, or listed with other values. `None` when every key has the
/// same records in both, so that only the order differs.
///
/// Comparing position by position would name the wrong key: one missing record shifts
/// every later one, and the key found there holds the same value on both sides.
fn first_difference(a: &[Record], b: &[Record]) -> Option<String> {
    let keys: std::collections::BTreeSet<&str> = a.iter().chain(b).filter_map(|r| r.text("key")).collect();
    keys.into_iter()
        .find(|key| with_key(a, key) != with_key(b, key))
        .map(str::to_string)
}

/// The records of a listing that have the key `key`, in the order listed.
fn with_key<'a>(records: &'a [Record], key: &str) -> Vec<&'a Record> {
    records.iter().filter(|r| r.text("key") == Some(key)).collect()
}

/// What a listing holds under `key`, for a headline: its value(s), or "nothing".
fn values_of(records: &[Record], key: &str) -> String {
    let shown: Vec<String> = with_key(records, key)
        .iter()
        .map(|r| {
            let value = r.get("value").or_else(|| r.get("values"));
            value.map_or("?".to_string(), ToString::to_string)
        })
        .collect();
    match shown.is_empty() {
        true => "nothing".to_string(),
        false => shown.join(" and "),
    }
}

/// The value a store's `get` prints for a key, or `None` if it says "not found".
pub fn get(trial: &mut Trial, db: &str, key: &str) -> Result<Option<String>, Failure> {
    let outcome = trial.run_any_exit("get", &["--db", db, key])?;
    let exit = outcome.ending.describe();
    match (outcome.ending, outcome.records.as_slice()) {
        (crate::runner::Ending::Exited(1), []) => Ok(None),
        (crate::runner::Ending::Exited(0), [record]) => Ok(record.text("value").map(str::to_string)),
        (_, []) => Err(trial
            .fail(format!(
                "`get --db {db} {key}` printed nothing and {exit}; a key without a value exits 1"
            ))
            .advise("A missing key prints `not found: KEY` on stderr and exits with code 1.")),
        (_, records) => Err(trial
            .fail(format!(
                "`get --db {db} {key}` printed {} record(s) and {exit}; expected one record and exit code 0",
                records.len()
            ))
            .advise(
                "`get` prints exactly one {\"key\",\"value\"} record for a key with a value, and exits 0.",
            )),
    }
}

/// Requires `get` to print `expected` (or not found).
pub fn expect(trial: &mut Trial, db: &str, key: &str, expected: Option<&str>) -> Result<(), Failure> {
    let got = get(trial, db, key)?;
    if got.as_deref() == expected {
        return Ok(());
    }
    let show = |v: Option<&str>| v.map_or("not found".to_string(), |v| format!("{v:?}"));
    Err(trial.fail(format!(
        "{db} says {key} is {}; expected {}",
        show(got.as_deref()),
        show(expected)
    )))
}

/// One operation read back from a store's `log`: its log position and its JSON.
pub struct Operation {
    pub peer: String,
    pub seq: u64,
    pub op: Value,
}

/// Every operation a store's log holds, parsed; a log entry that is not a JSON object
/// with a `type` fails with a clear message.
pub fn operations(trial: &mut Trial, db: &str, why: &str) -> Result<Vec<Operation>, Failure> {
    let records = trial.run_unshown("log", &["--db", db], why)?;
    let mut ops = Vec::new();
    for record in records {
        let (Some(peer), Some(seq), Some(entry)) =
            (record.text("peer"), record.number("seq"), record.text("entry"))
        else {
            continue;
        };
        let op: Value = serde_json::from_str(entry).map_err(|e| {
            trial
                .fail(format!("{db}'s log holds an entry that is not an operation: {entry:?} ({e})"))
                .detail("Every mutation is appended as one JSON object: {\"type\":\"put\",\"key\":…,\"value\":…}.")
        })?;
        if !op.get("type").is_some_and(Value::is_string) {
            return Err(trial.fail(format!(
                "{db}'s log holds an operation without a \"type\": {entry}"
            )));
        }
        ops.push(Operation {
            peer: peer.to_string(),
            seq,
            op,
        });
    }
    Ok(ops)
}

/// The view a naive store derives from operations applied log by log, in seq order:
/// right whenever each key is written by one peer (as in exercise 05's checks).
pub fn fold(ops: &[Operation]) -> BTreeMap<String, String> {
    let mut sorted: Vec<&Operation> = ops.iter().collect();
    sorted.sort_by(|a, b| (&a.peer, a.seq).cmp(&(&b.peer, b.seq)));
    let mut view = BTreeMap::new();
    for op in sorted {
        let key = op
            .op
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match op.op.get("type").and_then(Value::as_str) {
            Some("put") => {
                let value = op.op.get("value").and_then(Value::as_str).unwrap_or_default();
                view.insert(key, value.to_string());
            }
            Some("del") => {
                view.remove(&key);
            }
            _ => {}
        }
    }
    view
}

/// Key → value of `list` records of the shape `{key, value}`.
pub fn as_map(records: &[Record]) -> BTreeMap<String, String> {
    records
        .iter()
        .filter_map(|r| Some((r.text("key")?.to_string(), r.text("value")?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::shapes::KEY_VALUE;
    use serde_json::json;

    fn listing(pairs: &[(&str, &str)]) -> Vec<Record> {
        pairs
            .iter()
            .map(|(key, value)| Record {
                shape: KEY_VALUE,
                values: vec![json!(key), json!(value)],
            })
            .collect()
    }

    #[test]
    fn a_missing_record_names_its_own_key_not_the_next_one() {
        let alice = listing(&[("x", "1"), ("z", "3")]);
        let bob = listing(&[("x", "1"), ("y", "2"), ("z", "3")]);
        assert_eq!(first_difference(&alice, &bob).as_deref(), Some("y"));
        assert_eq!(values_of(&alice, "y"), "nothing");
        assert_eq!(values_of(&bob, "y"), "\"2\"");
        // The other way round, and a missing last record.
        assert_eq!(first_difference(&bob, &alice).as_deref(), Some("y"));
        let short = listing(&[("x", "1")]);
        assert_eq!(first_difference(&alice, &short).as_deref(), Some("z"));
    }

    #[test]
    fn a_different_value_names_that_key() {
        let alice = listing(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let bob = listing(&[("a", "1"), ("b", "two"), ("c", "3")]);
        assert_eq!(first_difference(&alice, &bob).as_deref(), Some("b"));
        assert_eq!(values_of(&bob, "b"), "\"two\"");
    }

    #[test]
    fn the_same_records_in_another_order_name_no_key() {
        let alice = listing(&[("a", "1"), ("b", "2")]);
        let bob = listing(&[("b", "2"), ("a", "1")]);
        assert_eq!(first_difference(&alice, &bob), None);
    }
}
