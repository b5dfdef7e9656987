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
//! Every change is **durable when its call returns**, and concurrent transactions
//! share the cost: the changes ([`changes`]) go through one writer ([`group_commit`])
//! that applies whatever is queued at once and flushes once for all of it. Reads
//! (`get`, the lists used after a restart) go straight to the trees.

pub mod changes;
pub mod group_commit;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{Op, Outcome};
use changes::{Change, Done, Trees};
use group_commit::Queued;

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
    trees: Trees,
    /// The queue of the writer: every change goes through it.
    writer: mpsc::UnboundedSender<Queued>,
    /// This node's id and incarnation: the prefix of every txid it makes.
    prefix: Arc<String>,
    counter: Arc<AtomicU64>,
}

impl Store {
    /// Opens (or creates) the database and starts this run as a new incarnation, so
    /// that txids made now never repeat those of an earlier run. With `fsync` false
    /// (`--no-fsync`) nothing is flushed: changes are batched all the same. Call
    /// within a tokio runtime: the writer is a task.
    pub fn open(path: &Path, fsync: bool) -> Result<Store> {
        // Without sled's background flusher: a change reaches the disk only when the
        // writer flushes it, so a SIGKILL right after a message loses exactly what was
        // not flushed yet — on every run, not only when the flusher was late.
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(None)
            .open()
            .with_context(|| format!("cannot open the database {}", path.display()))?;
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
        let trees = Trees {
            values: db.open_tree("values")?,
            pending: db.open_tree("pending")?,
            decisions: db.open_tree("decisions")?,
            announce: db.open_tree("announce")?,
            db,
        };
        let (writer, queue) = mpsc::unbounded_channel();
        tokio::spawn(group_commit::write_in_rounds(trees.clone(), queue, fsync));
        Ok(Store {
            trees,
            writer,
            prefix: Arc::new(format!("{id}-{incarnation}")),
            counter: Arc::default(),
        })
    }

    /// A transaction id no node has used: `NODE-INCARNATION-N`.
    pub fn next_txid(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{}-{n}", self.prefix)
    }

    /// The committed value of a key.
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .trees
            .values
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Records a prepared write in `pending`; returns once it is durable.
    pub async fn prepare(&self, txid: &str, pending: &Pending) -> Result<()> {
        let change = Change::Prepare {
            txid: txid.to_string(),
            pending: pending.clone(),
        };
        self.write(change).await.map(|_| ())
    }

    /// Whether a prepared write of this transaction is in `pending` (read from the
    /// tree: durable only if a flush has covered it since, see `decision`).
    pub fn is_pending(&self, txid: &str) -> Result<bool> {
        Ok(self.trees.pending.contains_key(txid)?)
    }

    /// Every prepared write, to lock keys again and finish them after a restart.
    pub fn all_pending(&self) -> Result<Vec<(String, Pending)>> {
        let mut all = Vec::new();
        for item in self.trees.pending.iter() {
            let (txid, bytes) = item?;
            let pending: Pending = serde_json::from_slice(&bytes)?;
            all.push((String::from_utf8_lossy(&txid).into_owned(), pending));
        }
        Ok(all)
    }

    /// What this node knows became of a transaction, as far as it is on disk: the
    /// answer to `status` (a decision still on its way to the disk is not told).
    pub async fn decision(&self, txid: &str) -> Result<Outcome> {
        match self
            .write(Change::Ask {
                txid: txid.to_string(),
            })
            .await?
        {
            Done::Known(outcome) => Ok(outcome),
            _ => Ok(Outcome::Unknown),
        }
    }

    /// Whether any decision for this transaction was taken or heard here, on disk or
    /// not yet (to refuse a late prepare: refusing is always safe).
    pub fn decided(&self, txid: &str) -> Result<bool> {
        Ok(self.trees.decisions.contains_key(txid)?)
    }

    /// A coordinator's decision: recorded, and to be announced until every peer
    /// acknowledged it; returns once it is durable.
    pub async fn decide(&self, txid: &str, outcome: Outcome) -> Result<()> {
        let change = Change::Decide {
            txid: txid.to_string(),
            outcome,
        };
        self.write(change).await.map(|_| ())
    }

    /// Every peer has acknowledged the decision: stop announcing it. Not flushed: if
    /// this is lost in a crash, the decision is announced once more, which is harmless.
    pub fn announced(&self, txid: &str) -> Result<()> {
        self.trees.announce.remove(txid)?;
        Ok(())
    }

    /// Decisions still to be announced (after a restart).
    pub fn to_announce(&self) -> Result<Vec<(String, Outcome)>> {
        let mut all = Vec::new();
        for item in self.trees.announce.iter() {
            let (txid, word) = item?;
            all.push((
                String::from_utf8_lossy(&txid).into_owned(),
                outcome_of(Some(&word)),
            ));
        }
        Ok(all)
    }

    /// Ends a prepared write: on commit its value goes into `values`; either way it
    /// leaves `pending` and the decision is kept, all in one sled transaction. Returns
    /// the write if this call ended it, `None` if it was not pending (already ended,
    /// or never prepared here); returns once it is durable.
    pub async fn finish(&self, txid: &str, outcome: Outcome) -> Result<Option<Op>> {
        let change = Change::Finish {
            txid: txid.to_string(),
            outcome,
        };
        match self.write(change).await? {
            Done::Ended(op) => Ok(op),
            _ => Ok(None),
        }
    }

    /// Hands a change to the writer and waits until it is durable.
    async fn write(&self, change: Change) -> Result<Done> {
        let (done, result) = oneshot::channel();
        self.writer
            .send((change, done))
            .map_err(|_| anyhow!("the database writer stopped"))?;
        result
            .await
            .map_err(|_| anyhow!("the database writer stopped"))?
            .map_err(|reason| anyhow!(reason))
    }
}

/// The decision a stored word says (`None`: no decision).
fn outcome_of(word: Option<&[u8]>) -> Outcome {
    match word {
        Some(b"commit") => Outcome::Commit,
        Some(b"abort") => Outcome::Abort,
        _ => Outcome::Unknown,
    }
}
