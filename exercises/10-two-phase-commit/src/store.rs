//! What a node keeps on disk, in four sled trees:
//!
//! - `values`: key → value, committed writes only (what `get` reads);
//! - `pending`: txid → the prepared write and whether this node coordinates it;
//! - `decisions`: txid → `commit` or `abort`, once known (to answer `status`);
//! - `announce`: txid → a coordinator's decision that some peer has not acknowledged.
//!
//! Pending writes never touch `values`, so no read sees a write that may still abort.
//! Moving a write from `pending` to `values` is one sled transaction over the trees, so a
//! crash leaves it on one side or the other, never both or neither.
//!
//! Durability is batched: a change is made in memory at once, and [`Store::durable`]
//! waits for the next flush to disk. One flush covers every change made before it
//! started, so concurrent transactions share one fsync instead of paying one each.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{Op, Outcome};

/// A write prepared on this node and not decided yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub op: Op,
    /// This node took the write from a client and decides it.
    pub coordinator: bool,
}

/// The database of one node.
#[derive(Clone)]
pub struct Store {
    values: sled::Tree,
    pending: sled::Tree,
    decisions: sled::Tree,
    announce: sled::Tree,
    flusher: mpsc::UnboundedSender<oneshot::Sender<()>>,
    /// This node's id and incarnation: the prefix of every txid it makes.
    prefix: Arc<String>,
    counter: Arc<std::sync::atomic::AtomicU64>,
    /// False with `--no-fsync`: [`Store::durable`] returns at once.
    fsync: bool,
}

impl Store {
    /// Opens (or creates) the database and starts this run as a new incarnation, so
    /// that txids made now never repeat those of an earlier run. Call within a tokio
    /// runtime: the flusher is a task.
    pub fn open(path: &Path, fsync: bool) -> Result<Store> {
        let db = sled::open(path).with_context(|| format!("cannot open the database {}", path.display()))?;
        let meta = db.open_tree("meta")?;
        let id = match meta.get("node")? {
            Some(id) => String::from_utf8_lossy(&id).into_owned(),
            None => {
                let id: String = (0..8).map(|_| fastrand::alphanumeric()).collect();
                meta.insert("node", id.as_bytes())?;
                id
            }
        };
        let incarnation = meta.update_and_fetch("incarnation", |old| {
            let n = old
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        let incarnation = incarnation
            .and_then(|b| b.as_ref().try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        // The incarnation must be on disk before any txid of it leaves this node.
        db.flush()?;
        let (flusher, requests) = mpsc::unbounded_channel();
        tokio::spawn(flush_in_batches(db.clone(), requests));
        Ok(Store {
            values: db.open_tree("values")?,
            pending: db.open_tree("pending")?,
            decisions: db.open_tree("decisions")?,
            announce: db.open_tree("announce")?,
            flusher,
            prefix: Arc::new(format!("{id}-{incarnation}")),
            counter: Arc::default(),
            fsync,
        })
    }

    /// A transaction id no node has used: `NODE-INCARNATION-N`.
    pub fn next_txid(&self) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        format!("{}-{n}", self.prefix)
    }

    /// Waits until every change made so far is on disk.
    pub async fn durable(&self) -> Result<()> {
        if !self.fsync {
            return Ok(());
        }
        let (done, flushed) = oneshot::channel();
        self.flusher
            .send(done)
            .map_err(|_| anyhow!("the flusher stopped"))?;
        flushed.await.map_err(|_| anyhow!("flushing the database failed"))
    }

    /// The committed value of a key.
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .values
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Records a prepared write under its txid in `pending` (serde_json of [`Pending`]).
    /// Not yet durable: the caller then awaits [`Store::durable`].
    ///
    /// You'll need: `self.pending.insert`, `serde_json::to_vec`.
    pub fn prepare(&self, txid: &str, pending: &Pending) -> Result<()> {
        let _ = (txid, pending);
        anyhow::bail!("not implemented yet: Store::prepare — see exercises/10-two-phase-commit/README.md")
    }

    /// Every prepared write, to lock keys again and finish them after a restart.
    pub fn all_pending(&self) -> Result<Vec<(String, Pending)>> {
        let mut all = Vec::new();
        for item in self.pending.iter() {
            let (txid, bytes) = item?;
            let pending: Pending = serde_json::from_slice(&bytes)?;
            all.push((String::from_utf8_lossy(&txid).into_owned(), pending));
        }
        Ok(all)
    }

    /// What this node knows became of a transaction.
    pub fn decision(&self, txid: &str) -> Result<Outcome> {
        Ok(match self.decisions.get(txid)?.as_deref() {
            Some(b"commit") => Outcome::Commit,
            Some(b"abort") => Outcome::Abort,
            _ => Outcome::Unknown,
        })
    }

    /// A coordinator's decision: in `decisions` (to answer `status`) and in `announce`
    /// (to resend until acknowledged), both or neither. Not yet durable.
    ///
    /// You'll need: `(&self.decisions, &self.announce).transaction(|(d, a)| …)`,
    /// [`outcome_word`].
    pub fn decide(&self, txid: &str, outcome: Outcome) -> Result<()> {
        let _ = (txid, outcome_word(outcome));
        anyhow::bail!("not implemented yet: Store::decide — see exercises/10-two-phase-commit/README.md")
    }

    /// Every peer has acknowledged the decision: stop announcing it.
    pub fn announced(&self, txid: &str) -> Result<()> {
        self.announce.remove(txid)?;
        Ok(())
    }

    /// Decisions still to be announced (after a restart).
    pub fn to_announce(&self) -> Result<Vec<(String, Outcome)>> {
        let mut all = Vec::new();
        for item in self.announce.iter() {
            let (txid, word) = item?;
            let outcome = match word.as_ref() {
                b"commit" => Outcome::Commit,
                _ => Outcome::Abort,
            };
            all.push((String::from_utf8_lossy(&txid).into_owned(), outcome));
        }
        Ok(all)
    }

    /// Ends a prepared write, in ONE sled transaction over `values`, `pending` and
    /// `decisions`: record the decision; take the pending record out; on commit apply
    /// its operation to `values`. Returns the operation if this call ended the write,
    /// `None` if it was not pending (ended before, or never prepared here): deciding
    /// twice must be harmless. Not yet durable.
    ///
    /// You'll need: `sled::Transactional`, `ConflictableTransactionError::Abort`,
    /// `TransactionError`.
    // Compile error here? `error[E0282]: type annotations needed` on `.transaction`: see hint 3.
    pub fn finish(&self, txid: &str, outcome: Outcome) -> Result<Option<Op>> {
        let _ = (txid, outcome);
        anyhow::bail!("not implemented yet: Store::finish — see exercises/10-two-phase-commit/README.md")
    }
}

fn outcome_word(outcome: Outcome) -> &'static [u8] {
    match outcome {
        Outcome::Commit => b"commit",
        _ => b"abort",
    }
}

/// Flushes the database for everyone waiting, one flush per batch of waiters: take
/// the first request, then every other one already queued (`try_recv`), flush once
/// (`db.flush()` blocks: run it in `tokio::task::spawn_blocking`), then answer them
/// all. If the flush fails, drop the senders: their `durable` sees an error.
///
/// Until you write it, every request is dropped, so every `durable` fails.
async fn flush_in_batches(db: sled::Db, mut requests: mpsc::UnboundedReceiver<oneshot::Sender<()>>) {
    let _ = db;
    while let Some(waiter) = requests.recv().await {
        drop(waiter);
    }
}
