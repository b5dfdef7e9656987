//! Group commit: one flush makes many transactions durable.
//!
//! Every change to the database goes through one task, the writer. It takes the first
//! change waiting, lets the other ready tasks run and takes what they queued too, applies
//! the whole round at once ([`super::changes::apply`]) and flushes **once**; only then does it
//! answer each change of the round. So:
//!
//! - nobody hears "done" before the flush that covers their change: a yes vote, a
//!   decision and an ack are sent only once what they promise is on disk;
//! - 32 transactions in flight share one flush (and one sled transaction) instead of
//!   paying one each, while a lone transaction waits for nobody: with nothing else
//!   queued, the writer applies and flushes at once.
//!
//! A question about a decision (`status`) goes through the writer too, so that its
//! answer is never ahead of the disk: "commit" is said only once "commit" is durable.

use tokio::sync::{mpsc, oneshot};

use super::changes::{self, Change, Done, Trees};

/// The most changes one round takes; more wait for the next round.
const MOST_PER_ROUND: usize = 512;
/// How many times the writer lets the other tasks run to gather a round.
const MOST_TURNS: usize = 4;

/// A change, and who waits for it.
pub type Queued = (Change, oneshot::Sender<Result<Done, String>>);

/// The writer: rounds of "take what is queued, apply it in one sled transaction,
/// flush once (unless `fsync` is off), answer everyone", until every sender is gone.
pub async fn write_in_rounds(trees: Trees, mut queue: mpsc::UnboundedReceiver<Queued>, fsync: bool) {
    let mut round: Vec<Queued> = Vec::new();
    while let Some(first) = queue.recv().await {
        round.push(first);
        // Let the other tasks that are ready run, and take what they queued; again while
        // that brings more. A lone change waits for nobody: one turn, and it goes.
        for _ in 0..MOST_TURNS {
            tokio::task::yield_now().await;
            let before = round.len();
            while round.len() < MOST_PER_ROUND
                && let Ok(more) = queue.try_recv()
            {
                round.push(more);
            }
            if round.len() == before {
                break;
            }
        }
        let results = changes::apply(&trees, &round);
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
