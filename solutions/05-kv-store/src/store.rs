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
    pub fn write(&self, op: &V::Op) -> Result<Record> {
        let entry = serde_json::to_string(op).context("cannot encode the operation")?;
        let record = self.log.append(&entry)?;
        // The view learns of the new entry the way it learns of any entry.
        self.catch_up()?;
        Ok(record)
    }

    /// Applies to the view every entry the logs hold beyond what `applied`
    /// says, log by log (in peer id order), each log in seq order. Returns how
    /// many entries it applied.
    pub fn catch_up(&self) -> Result<u64> {
        let mut count = 0;
        for (peer, head) in self.log.heads()? {
            let done = self.applied(&peer)?;
            if done >= head {
                continue;
            }
            for record in self.log.entries_after_iter(&peer, done)? {
                self.apply_entry(&record?)?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// Applies one log entry to the view. An entry that is not an operation
    /// changes nothing, but counts as applied: every database skips it alike.
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
    pub fn sync<R, W>(&self, input: R, output: W) -> Result<Synced>
    where
        R: Read + Send + 'static,
        W: CloseWrite + Send + 'static,
    {
        let session = replicate::replicate(&self.log, input, output);
        let applied = self.catch_up();
        let flushed = self.flush();
        let synced = Synced {
            session: session?,
            applied: applied?,
        };
        flushed?;
        Ok(synced)
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

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;
    use std::thread;

    use super::*;
    use crate::op::Op;
    use crate::values::{KeyValue, Values};

    fn put(store: &Store<Values>, key: &str, value: &str) {
        let (key, value) = (key.to_string(), value.to_string());
        store.write(&Op::Put { key, value }).unwrap();
    }

    fn value(store: &Store<Values>, key: &str) -> Option<String> {
        store.view().get(key).unwrap()
    }

    /// Syncs two stores over a socket pair, as two `sync` processes would
    /// over two pipes.
    fn sync(a: &Store<Values>, b: &Store<Values>) -> (Synced, Synced) {
        let (a_end, b_end) = UnixStream::pair().unwrap();
        let (a_input, b_input) = (a_end.try_clone().unwrap(), b_end.try_clone().unwrap());
        thread::scope(|scope| {
            let a_side = scope.spawn(|| a.sync(a_input, a_end));
            let b_side = scope.spawn(|| b.sync(b_input, b_end));
            (a_side.join().unwrap().unwrap(), b_side.join().unwrap().unwrap())
        })
    }

    #[test]
    fn the_view_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::<Values>::open(dir.path()).unwrap();
            put(&store, "x", "1");
            store.flush().unwrap();
        }
        let store = reopen(dir.path());
        assert_eq!(value(&store, "x").as_deref(), Some("1"));
        // Nothing was left to apply: the view was up to date.
        assert_eq!(store.catch_up().unwrap(), 0);
    }

    #[test]
    fn a_crash_between_log_and_view_heals_on_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::<Values>::open(dir.path()).unwrap();
            put(&store, "x", "1");
            // The process "crashes" after appending, before the view is
            // updated: the operation is in the log only.
            store
                .log()
                .append(r#"{"type":"put","key":"x","value":"2"}"#)
                .unwrap();
            store
                .log()
                .append(r#"{"type":"put","key":"y","value":"3"}"#)
                .unwrap();
            store.flush().unwrap();
            assert_eq!(value(&store, "x").as_deref(), Some("1"));
            assert_eq!(store.applied(store.log().peer()).unwrap(), 1);
        }
        let store = reopen(dir.path());
        assert_eq!(value(&store, "x").as_deref(), Some("2"));
        assert_eq!(value(&store, "y").as_deref(), Some("3"));
        assert_eq!(store.applied(store.log().peer()).unwrap(), 3);
    }

    /// Opens a store again in the same process. sled lets go of its lock from a
    /// background thread shortly after the last handle is dropped: wait for it.
    fn reopen(path: &std::path::Path) -> Store<Values> {
        for _ in 0..200 {
            if let Ok(store) = Store::<Values>::open(path) {
                return store;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Store::<Values>::open(path).unwrap()
    }

    #[test]
    fn entries_that_are_not_operations_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::<Values>::open(dir.path()).unwrap();
        store.log().append("not an operation").unwrap();
        put(&store, "x", "1");
        assert_eq!(value(&store, "x").as_deref(), Some("1"));
        assert_eq!(store.applied(store.log().peer()).unwrap(), 2);
    }

    #[test]
    fn two_stores_sync_their_logs_and_their_views() {
        let (alice_dir, bob_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let alice = Store::<Values>::open(alice_dir.path()).unwrap();
        let bob = Store::<Values>::open(bob_dir.path()).unwrap();
        put(&alice, "x", "from alice");
        put(&alice, "gone", "soon");
        alice.write(&Op::Del { key: "gone".into() }).unwrap();
        put(&bob, "y", "from bob");

        let (from_alice, from_bob) = sync(&alice, &bob);
        assert_eq!((from_alice.session.sent, from_alice.applied), (3, 1));
        assert_eq!((from_bob.session.sent, from_bob.applied), (1, 3));
        let expected = [
            KeyValue {
                key: "x".into(),
                value: "from alice".into(),
            },
            KeyValue {
                key: "y".into(),
                value: "from bob".into(),
            },
        ];
        assert_eq!(alice.view().list().unwrap(), expected);
        assert_eq!(bob.view().list().unwrap(), expected);

        // Bob, having seen Alice's value, overwrites it: causal order, so
        // both end up with Bob's value.
        put(&bob, "x", "bob saw alice's x");
        sync(&alice, &bob);
        assert_eq!(value(&alice, "x").as_deref(), Some("bob saw alice's x"));
        assert_eq!(value(&bob, "x").as_deref(), Some("bob saw alice's x"));
    }

    #[test]
    fn concurrent_writes_of_one_key_can_diverge() {
        // The limit of this exercise, kept in a test so that it stays honest:
        // each side applies its own write first and the other's second.
        let (alice_dir, bob_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let alice = Store::<Values>::open(alice_dir.path()).unwrap();
        let bob = Store::<Values>::open(bob_dir.path()).unwrap();
        put(&alice, "x", "alice");
        put(&bob, "x", "bob");
        sync(&alice, &bob);
        assert_eq!(value(&alice, "x").as_deref(), Some("bob"));
        assert_eq!(value(&bob, "x").as_deref(), Some("alice"));
    }
}
