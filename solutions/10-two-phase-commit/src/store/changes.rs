//! The changes a transaction makes to the database, and how a round of them is
//! applied: in **one** sled transaction over the trees, so that a crash keeps all of a
//! round or none of it, and a write moves from `pending` to `values` whole.
//!
//! A sled transaction costs more than its inserts: sled writes its log at the start and
//! at the end of each one (that is how it makes the batch atomic). A round of prepares
//! and questions needs no transaction: a prepare writes one key, and one insert is
//! atomic on its own.

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{Pending, outcome_of};
use crate::protocol::{Op, Outcome};

/// One change to the database, as a transaction asks for it.
pub enum Change {
    /// A write prepared here: into `pending`.
    Prepare { txid: String, pending: Pending },
    /// A coordinator's decision: into `decisions` and `announce`.
    Decide { txid: String, outcome: Outcome },
    /// A decision applied here: the pending write leaves `pending`, on commit its
    /// operation goes into `values`, and the decision is kept in `decisions`.
    Finish { txid: String, outcome: Outcome },
    /// Not a change: what `decisions` says, once all before it is durable.
    Ask { txid: String },
}

/// What became of one change.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    /// Recorded.
    Recorded,
    /// A `Finish`: the operation it ended, `None` if the write was not pending here.
    Ended(Option<Op>),
    /// An `Ask`: the decision known.
    Known(Outcome),
}

/// The trees a round writes to.
#[derive(Clone)]
pub struct Trees {
    pub db: sled::Db,
    pub values: sled::Tree,
    pub pending: sled::Tree,
    pub decisions: sled::Tree,
    pub announce: sled::Tree,
}

/// Applies a round of changes (each with whatever its caller keeps beside it) and
/// says what became of each: all of them, or, when sled fails, none, and then every
/// change of the round gets the error.
pub fn apply<T>(trees: &Trees, round: &[(Change, T)]) -> Vec<Result<Done, String>> {
    // Only prepares and questions: no transaction needed (see the module's comment).
    if round
        .iter()
        .all(|(change, _)| matches!(change, Change::Prepare { .. } | Change::Ask { .. }))
    {
        return round
            .iter()
            .map(|(change, _)| apply_alone(trees, change))
            .collect();
    }
    let all = (&trees.values, &trees.pending, &trees.decisions, &trees.announce).transaction(
        |(values, pending, decisions, announce)| {
            let mut results = Vec::with_capacity(round.len());
            for (change, _) in round {
                results.push(match change {
                    Change::Prepare {
                        txid,
                        pending: record,
                    } => match encode(record) {
                        Ok(bytes) => {
                            pending.insert(txid.as_bytes(), bytes)?;
                            Ok(Done::Recorded)
                        }
                        Err(reason) => Err(reason),
                    },
                    Change::Decide { txid, outcome } => {
                        decisions.insert(txid.as_bytes(), outcome_word(*outcome))?;
                        announce.insert(txid.as_bytes(), outcome_word(*outcome))?;
                        Ok(Done::Recorded)
                    }
                    Change::Finish { txid, outcome } => finish(values, pending, decisions, txid, *outcome)?,
                    Change::Ask { txid } => Ok(Done::Known(outcome_of(
                        decisions.get(txid.as_bytes())?.as_deref(),
                    ))),
                });
            }
            Ok::<_, ConflictableTransactionError<()>>(results)
        },
    );
    all.unwrap_or_else(|e| {
        let reason = format!("cannot write to the database: {e:?}");
        round.iter().map(|_| Err(reason.clone())).collect()
    })
}

/// A prepare or a question, outside any transaction.
fn apply_alone(trees: &Trees, change: &Change) -> Result<Done, String> {
    let failed = |e: sled::Error| format!("cannot write to the database: {e}");
    match change {
        Change::Prepare { txid, pending } => {
            let bytes = encode(pending)?;
            trees.pending.insert(txid.as_bytes(), bytes).map_err(failed)?;
            Ok(Done::Recorded)
        }
        Change::Ask { txid } => Ok(Done::Known(outcome_of(
            trees.decisions.get(txid.as_bytes()).map_err(failed)?.as_deref(),
        ))),
        _ => Err("only a prepare or a question goes outside a transaction".into()),
    }
}

/// One `Finish`: the decision is kept; the pending write, if any, leaves `pending`
/// and, on commit, its operation is applied to `values`.
fn finish(
    values: &TransactionalTree,
    pending: &TransactionalTree,
    decisions: &TransactionalTree,
    txid: &str,
    outcome: Outcome,
) -> Result<Result<Done, String>, ConflictableTransactionError<()>> {
    decisions.insert(txid.as_bytes(), outcome_word(outcome))?;
    let Some(bytes) = pending.remove(txid.as_bytes())? else {
        return Ok(Ok(Done::Ended(None)));
    };
    let record: Pending = match serde_json::from_slice(&bytes) {
        Ok(record) => record,
        Err(e) => {
            pending.insert(txid.as_bytes(), bytes)?; // Left as it was.
            return Ok(Err(format!("the pending record of {txid} is corrupt: {e}")));
        }
    };
    if outcome == Outcome::Commit {
        match &record.op {
            Op::Put { key, value } => {
                values.insert(key.as_bytes(), value.as_bytes())?;
            }
            Op::Del { key } => {
                values.remove(key.as_bytes())?;
            }
        }
    }
    Ok(Ok(Done::Ended(Some(record.op))))
}

/// How a pending record is stored (JSON; [`super::Store::all_pending`] reads it back).
fn encode(pending: &Pending) -> Result<Vec<u8>, String> {
    serde_json::to_vec(pending).map_err(|e| format!("cannot encode the pending write: {e}"))
}

/// How a decision is stored (and [`outcome_of`] reads it back).
fn outcome_word(outcome: Outcome) -> &'static [u8] {
    match outcome {
        Outcome::Commit => b"commit",
        _ => b"abort",
    }
}
