//! Invariants of replicated logs, shared by every exercise that replicates them.
//!
//! Whatever happened on the way — a cut stream, a killed peer, a hostile message — a
//! database must hold, for every peer, a *prefix* of that peer's log: seqs 1, 2, … n
//! with no gap and no seq twice. And after a complete sync, two databases hold the
//! same logs.

use crate::harness::records::Record;
use crate::harness::trial::{Failure, Trial};
use std::collections::BTreeMap;

/// The logs a database holds: peer id → its entries in seq order.
pub type Logs = BTreeMap<String, Vec<String>>;

/// Reads `read`'s records into logs, failing if any log has a gap or a repeated seq.
pub fn logs_of(trial: &mut Trial, db: &str, records: &[Record]) -> Result<Logs, Failure> {
    let mut seqs: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for record in records {
        let (Some(peer), Some(seq), Some(entry)) =
            (record.text("peer"), record.number("seq"), record.text("entry"))
        else {
            continue;
        };
        seqs.entry(peer.to_string())
            .or_default()
            .push((seq, entry.to_string()));
    }
    let mut logs = Logs::new();
    for (peer, mut entries) in seqs {
        entries.sort_by_key(|(seq, _)| *seq);
        let numbers: Vec<u64> = entries.iter().map(|(seq, _)| *seq).collect();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        if numbers != expected {
            let name = trial.placeholder("peer", &peer);
            let problem = if numbers.windows(2).any(|w| w[0] == w[1]) {
                "the same seq twice: an entry was stored twice"
            } else {
                "a gap: an entry was stored before the one it follows"
            };
            return Err(trial
                .fail(format!("{db} holds {name}'s log with {problem}"))
                .detail(format!("Its seqs are {numbers:?}; a log held must be 1, 2, 3, … with nothing missing or repeated."))
                .detail("Store an entry only if its seq is exactly one more than the head you hold for its peer."));
        }
        logs.insert(peer, entries.into_iter().map(|(_, entry)| entry).collect());
    }
    Ok(logs)
}

/// Requires two databases to hold exactly the same logs.
pub fn same_logs(
    trial: &mut Trial,
    (a, logs_a): (&str, &Logs),
    (b, logs_b): (&str, &Logs),
) -> Result<(), Failure> {
    if logs_a == logs_b {
        return Ok(());
    }
    let mut failure = trial.fail(format!("{a} and {b} do not hold the same logs after the sync"));
    let peers: std::collections::BTreeSet<&String> = logs_a.keys().chain(logs_b.keys()).collect();
    for peer in peers {
        let (in_a, in_b) = (
            logs_a.get(peer).map_or(0, Vec::len),
            logs_b.get(peer).map_or(0, Vec::len),
        );
        let name = trial.placeholder("peer", peer);
        if in_a != in_b {
            failure = failure.detail(format!("{name}'s log: {in_a} entries in {a}, {in_b} in {b}"));
        } else if logs_a.get(peer) != logs_b.get(peer) {
            failure = failure.detail(format!("{name}'s log: same length, different entries"));
        }
    }
    Err(failure)
}

/// Requires a database to hold `peer`'s log exactly as `expected`.
pub fn holds(
    trial: &mut Trial,
    db: &str,
    logs: &Logs,
    peer: &str,
    expected: &[String],
) -> Result<(), Failure> {
    let held = logs.get(peer).map(Vec::as_slice).unwrap_or_default();
    if held == expected {
        return Ok(());
    }
    let name = trial.placeholder("peer", peer);
    Err(trial.fail(format!(
        "{db} holds {} entries of {name}'s log; it should hold {}",
        held.len(),
        expected.len()
    )))
}
