//! Group commit: one flush makes many transactions durable.
//!
//! Every change to the database goes through one task, the writer. It takes the first
//! change waiting, then every other one already queued, applies them all in **one**
//! sled transaction and flushes **once**; only then does it answer each of them. So:
//!
//! - nobody hears "done" before the flush that covers their change: a yes vote, a
//!   decision and an ack are sent only once what they promise is on disk;
//! - 32 transactions in flight share one flush (and one sled transaction, which costs
//!   a write of sled's log of its own) instead of paying one each. A lone transaction
//!   waits for nobody: the writer flushes as soon as it has something.
//!
//! A question about a decision (`status`) goes through the writer too, so that its
//! answer is never ahead of the disk: "commit" is said only once "commit" is durable.

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tokio::sync::{mpsc, oneshot};

use super::{Pending, outcome_of, outcome_word};
use crate::protocol::{Op, Outcome};

/// The most changes one sled transaction takes; more wait for the next round.
const MOST_PER_ROUND: usize = 512;

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

/// A change, and who waits for it.
pub type Queued = (Change, oneshot::Sender<Result<Done, String>>);

/// The trees a round writes to.
#[derive(Clone)]
pub struct Trees {
    pub db: sled::Db,
    pub values: sled::Tree,
    pub pending: sled::Tree,
    pub decisions: sled::Tree,
    pub announce: sled::Tree,
}

/// The writer: rounds of "take what is queued, apply it in one sled transaction,
/// flush once (unless `fsync` is off), answer everyone", until every sender is gone.
pub async fn write_in_rounds(trees: Trees, mut queue: mpsc::UnboundedReceiver<Queued>, fsync: bool) {
    let mut round: Vec<Queued> = Vec::new();
    while let Some(first) = queue.recv().await {
        round.push(first);
        // Let every other task that is ready run first: what they queue joins this round.
        tokio::task::yield_now().await;
        while round.len() < MOST_PER_ROUND
            && let Ok(more) = queue.try_recv()
        {
            round.push(more);
        }
        let results = apply(&trees, &round);
        let flushed = match fsync {
            // `flush` blocks on the disk: not on the runtime's thread.
            true => {
                let db = trees.db.clone();
                match tokio::task::spawn_blocking(move || db.flush()).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(format!("cannot flush the database: {e}")),
                    Err(e) => Err(format!("the flush did not finish: {e}")),
                }
            }
            false => Ok(()),
        };
        for ((_, waiting), result) in round.drain(..).zip(results) {
            // Not durable, not done: a failed flush fails every change of the round.
            let _ = waiting.send(flushed.clone().and(result));
        }
    }
}

/// Applies a round of changes in one sled transaction: all of them, or (when sled
/// fails) none, and then every change of the round gets the error.
fn apply(trees: &Trees, round: &[Queued]) -> Vec<Result<Done, String>> {
    let all = (&trees.values, &trees.pending, &trees.decisions, &trees.announce).transaction(
        |(values, pending, decisions, announce)| {
            let mut results = Vec::with_capacity(round.len());
            for (change, _) in round {
                results.push(match change {
                    Change::Prepare { txid, pending: record } => match serde_json::to_vec(record) {
                        Ok(bytes) => {
                            pending.insert(txid.as_bytes(), bytes)?;
                            Ok(Done::Recorded)
                        }
                        Err(e) => Err(format!("cannot encode the pending write: {e}")),
                    },
                    Change::Decide { txid, outcome } => {
                        decisions.insert(txid.as_bytes(), outcome_word(*outcome))?;
                        announce.insert(txid.as_bytes(), outcome_word(*outcome))?;
                        Ok(Done::Recorded)
                    }
                    Change::Finish { txid, outcome } => finish(values, pending, decisions, txid, *outcome)?,
                    Change::Ask { txid } => Ok(Done::Known(outcome_of(decisions.get(txid.as_bytes())?.as_deref()))),
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
