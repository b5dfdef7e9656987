//! A history of a run, and the properties two-phase commit promises, judged on it.
//!
//! The idea (Jepsen's): do not script what each fault must lead to; record what the
//! clients saw (each write's invocation, how it ended, with times) and what every node
//! printed, then check properties that must hold whatever the schedule was. Each
//! property is one function, named as the exercise text names it:
//!
//! - [`every_write_answered`]: no client past its deadline, none without an outcome;
//! - [`acknowledged_at_once`]: right after a write exits 0, every node that is up shows
//!   it (this exercise acknowledges only after every node applied the write);
//! - [`acknowledged_writes_everywhere`]: a write that exited 0 is on every node, and
//!   stays the key's value until a later write to it commits;
//! - [`nothing_aborted_visible`]: a write that exited 1 or 2 is seen on no node, ever;
//! - [`one_lock_holder`]: on every node, a key is held by at most one transaction at a
//!   time (between its `prepared` and its `committed`/`aborted`), across restarts — so
//!   at most one of conflicting writes commits;
//! - [`same_end_everywhere`]: no transaction is committed on one node and aborted on
//!   another;
//! - [`converged`]: once healed and restarted, every node shows the same value.

use crate::harness::trial::{Event, Written};
use std::collections::BTreeMap;
use std::time::Duration;

/// One client write, as the verifier ran it.
#[derive(Debug, Clone)]
pub struct Op {
    /// The node it was sent to (its coordinator).
    pub via: usize,
    pub key: String,
    /// `None` for a delete.
    pub value: Option<String>,
    /// Since the history began.
    pub invoked: Duration,
    pub completed: Duration,
    pub outcome: Written,
}

/// What the verifier recorded: the writes, every `get` it ran, and each node's events
/// (over all its runs, in the order it printed them).
#[derive(Debug, Default)]
pub struct History {
    pub ops: Vec<Op>,
    /// (node, key, value shown).
    pub reads: Vec<(usize, String, Option<String>)>,
    /// Reads taken right after a write exited 0: (that write's index in `ops`, when
    /// the read began, node, value shown).
    pub after_ack: Vec<(usize, Duration, usize, Option<String>)>,
    pub events: Vec<Vec<Event>>,
}

/// How long a write may take from start to its collection by the verifier: the
/// client's ~3 s deadline, plus room for starting a process and for being collected on
/// a loaded machine. (The runner also stops a client at its 5 s timeout, and the check
/// fails then: "was still waiting after 5 s".)
pub const DEADLINE: Duration = Duration::from_secs(6);

/// No client past its deadline.
pub fn every_write_answered(history: &History) -> Result<(), String> {
    // On a busy machine starting and collecting a client takes longer: stretched.
    let deadline = crate::harness::patience::stretch(DEADLINE);
    match history.ops.iter().find(|op| op.completed - op.invoked > deadline) {
        Some(op) => Err(format!(
            "a write to {} through p{} took {:.1} s, past the client's deadline",
            op.key,
            op.via + 1,
            (op.completed - op.invoked).as_secs_f64()
        )),
        None => Ok(()),
    }
}

/// Right after a write exited 0, every node that is up shows its value — or the value
/// of another write to the key invoked before the read that may have committed since.
pub fn acknowledged_at_once(history: &History) -> Result<(), String> {
    for (index, at, node, value) in &history.after_ack {
        let Some(acked) = history.ops.get(*index) else {
            continue;
        };
        let possible = |op: &Op| {
            op.key == acked.key
                && op.invoked <= *at
                && matches!(op.outcome, Written::Committed | Written::Unknown)
        };
        if !history.ops.iter().any(|op| possible(op) && op.value == *value) {
            return Err(format!(
                "p{} showed {} for {} right after the write of {} exited 0 (committed): an acknowledged write must already be on every node",
                node + 1,
                crate::harness::trial::show(value.as_deref()),
                acked.key,
                crate::harness::trial::show(acked.value.as_deref())
            ));
        }
    }
    Ok(())
}

/// The values a key may show at the end: the last committed write's, or that of any
/// write with an unknown outcome invoked after it (it may have committed later).
pub fn allowed_finals(history: &History, key: &str) -> Vec<Option<String>> {
    let on_key: Vec<&Op> = history.ops.iter().filter(|op| op.key == key).collect();
    let last_committed = on_key
        .iter()
        .filter(|op| op.outcome == Written::Committed)
        .max_by_key(|op| op.completed);
    let since = last_committed.map(|op| op.invoked).unwrap_or_default();
    let mut allowed = vec![last_committed.and_then(|op| op.value.clone())];
    allowed.extend(
        on_key
            .iter()
            .filter(|op| op.outcome == Written::Unknown && op.completed >= since)
            .map(|op| op.value.clone()),
    );
    allowed
}

/// A write that exited 0 is on every node at the end (`finals`: key → each node's
/// value), unless a later write to the key may have replaced it.
pub fn acknowledged_writes_everywhere(
    history: &History,
    finals: &BTreeMap<String, Vec<Option<String>>>,
) -> Result<(), String> {
    for (key, values) in finals {
        let allowed = allowed_finals(history, key);
        if let Some((node, value)) = values.iter().enumerate().find(|(_, v)| !allowed.contains(v)) {
            let wanted: Vec<String> = allowed
                .iter()
                .map(|v| crate::harness::trial::show(v.as_deref()))
                .collect();
            return Err(format!(
                "p{} shows {} for {key}, but the writes to it that answered allow only {}",
                node + 1,
                crate::harness::trial::show(value.as_deref()),
                wanted.join(" or ")
            ));
        }
    }
    Ok(())
}

/// A write that exited 1 (aborted) or 2 (refused) is seen by no `get`, ever. (Values
/// of a history are unique, so a value names its write.)
pub fn nothing_aborted_visible(history: &History) -> Result<(), String> {
    for op in &history.ops {
        if !matches!(op.outcome, Written::Aborted | Written::Refused) || op.value.is_none() {
            continue;
        }
        if let Some((node, key, _)) = history
            .reads
            .iter()
            .find(|(_, key, value)| *key == op.key && *value == op.value)
        {
            return Err(format!(
                "p{} showed {} for {key}, written by a write that {} (exit {})",
                node + 1,
                crate::harness::trial::show(op.value.as_deref()),
                op.outcome.word(),
                op.outcome.code()
            ));
        }
    }
    Ok(())
}

/// On every node, between a transaction's `prepared` and its end (`committed` or
/// `aborted`) no other transaction prints `prepared` for the same key — over all the
/// node's runs, since a pending write survives a restart and keeps its key locked.
pub fn one_lock_holder(history: &History) -> Result<(), String> {
    for (node, events) in history.events.iter().enumerate() {
        let mut holder: BTreeMap<&str, &str> = BTreeMap::new();
        for event in events {
            let (Some(txid), Some(key)) = (event.txid.as_deref(), event.key.as_deref()) else {
                continue;
            };
            match event.event.as_str() {
                "prepared" => {
                    if let Some(other) = holder.get(key).filter(|other| **other != txid) {
                        return Err(format!(
                            "p{} prepared {txid} on key {key} while {other} still held it: two transactions locked one key",
                            node + 1
                        ));
                    }
                    holder.insert(key, txid);
                }
                "committed" | "aborted" if holder.get(key) == Some(&txid) => {
                    holder.remove(key);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// No transaction ends `committed` on one node and `aborted` on another.
pub fn same_end_everywhere(history: &History) -> Result<(), String> {
    let mut ends: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (node, events) in history.events.iter().enumerate() {
        for event in events {
            let (Some(txid), "committed" | "aborted") = (event.txid.as_deref(), event.event.as_str()) else {
                continue;
            };
            match ends.get(txid) {
                Some((other, end)) if *end != event.event => {
                    return Err(format!(
                        "{txid} ended {end} on p{} but {} on p{}",
                        other + 1,
                        event.event,
                        node + 1
                    ));
                }
                Some(_) => {}
                None => {
                    ends.insert(txid, (node, &event.event));
                }
            }
        }
    }
    Ok(())
}

/// Every node shows the same value of every key.
pub fn converged(finals: &BTreeMap<String, Vec<Option<String>>>) -> Result<(), String> {
    for (key, values) in finals {
        if let Some((node, other)) = values.iter().enumerate().find(|(_, v)| **v != values[0]) {
            return Err(format!(
                "after healing, p1 shows {} for {key} but p{} shows {}",
                crate::harness::trial::show(values[0].as_deref()),
                node + 1,
                crate::harness::trial::show(other.as_deref())
            ));
        }
    }
    Ok(())
}

/// Every property, in the order a reader would look for the cause.
pub fn judge(history: &History, finals: &BTreeMap<String, Vec<Option<String>>>) -> Result<(), String> {
    every_write_answered(history)?;
    acknowledged_at_once(history)?;
    one_lock_holder(history)?;
    same_end_everywhere(history)?;
    nothing_aborted_visible(history)?;
    converged(finals)?;
    acknowledged_writes_everywhere(history, finals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(key: &str, value: &str, from: u64, to: u64, outcome: Written) -> Op {
        Op {
            via: 0,
            key: key.into(),
            value: Some(value.into()),
            invoked: Duration::from_millis(from),
            completed: Duration::from_millis(to),
            outcome,
        }
    }

    fn event(name: &str, txid: &str, key: &str) -> Event {
        Event {
            event: name.into(),
            txid: Some(txid.into()),
            key: Some(key.into()),
        }
    }

    fn finals(key: &str, values: &[Option<&str>]) -> BTreeMap<String, Vec<Option<String>>> {
        let values = values.iter().map(|v| v.map(str::to_string)).collect();
        BTreeMap::from([(key.to_string(), values)])
    }

    #[test]
    fn an_acknowledged_write_missing_on_one_node_is_a_violation() {
        let history = History {
            ops: vec![op("k", "v", 0, 100, Written::Committed)],
            ..History::default()
        };
        assert!(acknowledged_writes_everywhere(&history, &finals("k", &[Some("v"), Some("v")])).is_ok());
        let missing = acknowledged_writes_everywhere(&history, &finals("k", &[Some("v"), None]));
        assert!(missing.unwrap_err().starts_with("p2 shows null for k"));
    }

    #[test]
    fn an_unknown_write_after_the_last_commit_may_be_the_final_value() {
        let history = History {
            ops: vec![
                op("k", "v", 0, 100, Written::Committed),
                op("k", "w", 200, 3200, Written::Unknown),
                op("k", "x", 300, 400, Written::Aborted),
            ],
            ..History::default()
        };
        assert_eq!(
            allowed_finals(&history, "k"),
            [Some("v".to_string()), Some("w".to_string())]
        );
        assert!(acknowledged_writes_everywhere(&history, &finals("k", &[Some("w")])).is_ok());
        assert!(acknowledged_writes_everywhere(&history, &finals("k", &[Some("x")])).is_err());
    }

    #[test]
    fn an_acknowledged_write_not_yet_on_a_node_is_a_violation() {
        let mut history = History {
            ops: vec![
                op("k", "v", 0, 100, Written::Committed),
                op("k", "r", 50, 900, Written::Committed),
            ],
            ..History::default()
        };
        history
            .after_ack
            .push((0, Duration::from_millis(110), 1, Some("v".into())));
        history
            .after_ack
            .push((0, Duration::from_millis(120), 2, Some("r".into())));
        assert!(
            acknowledged_at_once(&history).is_ok(),
            "r was invoked before the read"
        );
        history.after_ack.push((0, Duration::from_millis(130), 3, None));
        assert!(
            acknowledged_at_once(&history)
                .unwrap_err()
                .starts_with("p4 showed null for k right after")
        );
    }

    #[test]
    fn an_aborted_value_seen_once_is_a_violation() {
        let mut history = History {
            ops: vec![op("k", "x", 0, 100, Written::Aborted)],
            ..History::default()
        };
        assert!(nothing_aborted_visible(&history).is_ok());
        history.reads.push((2, "k".into(), Some("x".into())));
        assert!(
            nothing_aborted_visible(&history)
                .unwrap_err()
                .starts_with("p3 showed \"x\"")
        );
    }

    #[test]
    fn two_transactions_holding_one_key_on_a_node_is_a_violation() {
        let ok = History {
            events: vec![vec![
                event("prepared", "a", "k"),
                event("committed", "a", "k"),
                event("prepared", "b", "k"),
                event("prepared", "c", "other"),
            ]],
            ..History::default()
        };
        assert!(one_lock_holder(&ok).is_ok());
        let both = History {
            events: vec![vec![event("prepared", "a", "k"), event("prepared", "b", "k")]],
            ..History::default()
        };
        assert!(
            one_lock_holder(&both)
                .unwrap_err()
                .contains("while a still held it")
        );
    }

    #[test]
    fn a_transaction_committed_here_and_aborted_there_is_a_violation() {
        let history = History {
            events: vec![
                vec![event("committed", "a", "k")],
                vec![event("aborted", "a", "k")],
            ],
            ..History::default()
        };
        assert_eq!(
            same_end_everywhere(&history).unwrap_err(),
            "a ended committed on p1 but aborted on p2"
        );
    }

    #[test]
    fn a_client_past_its_deadline_and_nodes_that_disagree_are_violations() {
        let late = History {
            // Past the deadline however busy the machine (stretched at most 6×).
            ops: vec![op("k", "v", 0, 60_000, Written::Unknown)],
            ..History::default()
        };
        assert!(every_write_answered(&late).is_err());
        assert!(converged(&finals("k", &[Some("v"), Some("v")])).is_ok());
        assert!(converged(&finals("k", &[Some("v"), None])).is_err());
    }
}
