//! A store: the logs, a view derived from them, and the bookkeeping that
//! keeps the two in step.
//!
//! The store does not know what the view holds. A [`View`] says which
//! operations it is built from and how one operation changes it; the store
//! feeds it every operation of every log, each exactly once, in the order of
//! its log. This exercise's view is a plain map of values ([`crate::values`]);
//! exercises 06 and 07 plug in views that merge concurrent writes.
//!
//! Exactly once, even across crashes: the tree `applied` says, per log, the
//! last seq applied to the view, and a view writes it in the same sled
//! transaction as its own change (with [`mark_applied`]). So the view and
//! `applied` always agree, and [`Store::catch_up`] (on every open, after every
//! write and after every sync) applies just what lies beyond.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use logs::{Log, Record};
use replicate::Summary;
use replicate::stream::CloseWrite;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{
    TransactionError, TransactionResult, TransactionalTree, UnabortableTransactionError,
};

/// The tree that says, per peer, up to which seq its log is applied.
pub const APPLIED_TREE: &str = "applied";

/// What a store keeps besides its logs: a view built from their operations.
pub trait View: Sized {
    /// The operation a log entry holds, as JSON.
    type Op: Serialize + DeserializeOwned;

    /// Opens (creating them if needed) the view's trees in `db`.
    fn open(db: &sled::Db) -> Result<Self>;

    /// Applies `op`, entry `seq` of `peer`'s log, to the view, and in the same
    /// sled transaction records in `applied` that `peer`'s log is applied up
    /// to `seq` ([`mark_applied`]). The store calls it once per operation, in
    /// the order of each log.
    fn apply(&self, op: &Self::Op, peer: &str, seq: u64, applied: &sled::Tree) -> Result<()>;
}

/// A database of logs with a view `V` built from them.
pub struct Store<V> {
    /// The logs: our own, where our writes go, and copies of other peers'.
    log: Log,
    /// Peer id -> the last seq of its log applied to the view.
    applied: sled::Tree,
    /// What `get` and `list` read.
    view: V,
}

/// What [`Store::sync`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    /// What the replication session sent and received.
    pub session: Summary,
    /// How many log entries were then applied to the view.
    pub applied: u64,
}

impl<V: View> Store<V> {
    /// Opens (creating it if needed) the store in the directory `path`, and
    /// brings the view up to date with the logs: whatever a crash or an
    /// interrupted sync left unapplied is applied now.
    pub fn open(path: impl AsRef<Path>) -> Result<Store<V>> {
        let path = path.as_ref();
        let db =
            sled::open(path).with_context(|| format!("cannot open the database in {}", path.display()))?;
        let store = Store {
            log: Log::open_in(&db)?,
            applied: db.open_tree(APPLIED_TREE)?,
            view: V::open(&db)?,
        };
        store.catch_up()?;
        Ok(store)
    }

    /// The logs.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The view.
    pub fn view(&self) -> &V {
        &self.view
    }

    /// The seq up to which `peer`'s log is applied to the view (0: none of it).
    pub fn applied(&self, peer: &str) -> Result<u64> {
        match self.applied.get(peer.as_bytes())? {
            Some(bytes) => {
                let seq =
                    <[u8; 8]>::try_from(bytes.as_ref()).context("a stored applied seq is not 8 bytes")?;
                Ok(u64::from_be_bytes(seq))
            }
            None => Ok(0),
        }
    }

    /// Writes `op`: appends it to our own log, then applies it to the view.
    /// Returns the record appended. Call [`Store::flush`] before saying the
    /// write is done.
    ///
    /// The log comes first, and the view learns of the write the way it learns
    /// of any entry (one path for local writes, syncs and crash repair).
    pub fn write(&self, _op: &V::Op) -> Result<Record> {
        // TODO (step 3)
        anyhow::bail!("not implemented yet: Store::write — see exercises/05-kv-store/README.md")
    }

    /// Applies to the view every entry the logs hold beyond what `applied`
    /// says, log by log (in peer id order), each log in seq order. Returns how
    /// many entries it applied. Each entry goes through `apply_entry` (below),
    /// which decodes it; a log already applied up to its head costs one read.
    pub fn catch_up(&self) -> Result<u64> {
        // TODO (step 2)
        anyhow::bail!("not implemented yet: Store::catch_up — see exercises/05-kv-store/README.md")
    }

    /// Applies one log entry to the view. An entry that is not an operation
    /// changes nothing, but counts as applied: every database skips it alike.
    #[allow(dead_code)] // Until step 2 uses it.
    fn apply_entry(&self, record: &Record) -> Result<()> {
        match serde_json::from_str::<V::Op>(&record.entry) {
            Ok(op) => self
                .view
                .apply(&op, &record.peer, record.seq, &self.applied)
                .with_context(|| format!("cannot apply entry #{} of {}", record.seq, record.peer)),
            Err(error) => {
                eprintln!(
                    "warning: entry #{} of {} is not an operation, skipped: {error}",
                    record.seq, record.peer
                );
                self.applied
                    .insert(record.peer.as_bytes(), &record.seq.to_be_bytes())?;
                Ok(())
            }
        }
    }

    /// Replicates the logs with the database at the other end of a duplex
    /// stream (exercise 03's session), then applies what arrived, and flushes.
    ///
    /// If the session fails half-way, the entries it stored are applied all
    /// the same before the error is returned.
    ///
    /// Flushed on every way out, error or not.
    pub fn sync<R, W>(&self, _input: R, _output: W) -> Result<Synced>
    where
        R: Read + Send + 'static,
        W: CloseWrite + Send + 'static,
    {
        // TODO (step 5)
        anyhow::bail!("not implemented yet: Store::sync — see exercises/05-kv-store/README.md")
    }

    /// Writes everything stored so far, logs and view, to disk.
    pub fn flush(&self) -> Result<()> {
        self.log.flush()
    }
}

/// Records, inside a view's transaction, that `peer`'s log is applied up to
/// `seq`.
pub fn mark_applied(
    applied: &TransactionalTree,
    peer: &str,
    seq: u64,
) -> Result<(), UnabortableTransactionError> {
    applied.insert(peer.as_bytes(), &seq.to_be_bytes())?;
    Ok(())
}

/// The outcome of a sled transaction as an ordinary result. A view's
/// transaction aborts with an `anyhow::Error`
/// (`sled::transaction::ConflictableTransactionError::Abort`) when it finds
/// something it cannot read.
pub fn committed<T>(outcome: TransactionResult<T, anyhow::Error>) -> Result<T> {
    outcome.map_err(|error| match error {
        TransactionError::Abort(reason) => reason,
        TransactionError::Storage(error) => anyhow::Error::new(error).context("the transaction failed"),
    })
}
