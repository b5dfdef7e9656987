//! The database: a log of records in the order this database stored them, a
//! view with the winning record of every key, and what was seen of each peer.
//!
//! Every change happens in one sled transaction over all the trees it touches,
//! so a crash leaves a write either wholly there or not at all, and the view,
//! the log and the positions seen always agree.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
#[allow(unused_imports)] // Steps 2 and 3 use it.
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

#[allow(unused_imports)] // Step 2 uses them.
use crate::record::{Kind, MAX_CLOCK, Record};

/// How long a program waits for the database's lock (held by another program,
/// such as `serve` answering a pull) before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// An open database.
pub struct Store {
    db: sled::Db,
    #[allow(dead_code)] // Step 2 reads it.
    meta: sled::Tree,
    log: sled::Tree,
    view: sled::Tree,
    seen: sled::Tree,
    peer: String,
}

/// A transaction's failure: ours, or sled's.
pub type Abort = ConflictableTransactionError<anyhow::Error>;

impl Store {
    /// Opens (or creates) the database at `path`, waiting for its lock if
    /// another program holds it, and gives it a random peer id the first time.
    pub fn open(path: &Path) -> Result<Store> {
        let deadline = Instant::now() + LOCK_WAIT;
        let db = loop {
            match sled::open(path) {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if e.to_string().contains("lock") && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot open the database {}", path.display()));
                }
            }
        };
        let meta = db.open_tree("meta")?;
        let peer = match meta.get("peer")? {
            Some(id) => {
                String::from_utf8(id.to_vec()).map_err(|_| anyhow!("the stored peer id is not text"))?
            }
            None => {
                let id = random_peer_id()?;
                meta.insert("peer", id.as_bytes())?;
                id
            }
        };
        Ok(Store {
            log: db.open_tree("log")?,
            view: db.open_tree("view")?,
            seen: db.open_tree("seen")?,
            meta,
            db,
            peer,
        })
    }

    /// This database's peer id.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// A local write of `key`: a put of `value`, or a del (`None`), stamped as
    /// the text's *The clock* says, stored at the next position as the key's
    /// winner; reading the clock and storing the write are one transaction.
    /// Fails (writing nothing) if the key's clock is already [`MAX_CLOCK`].
    /// The helpers [`winner`] and [`store`] below work inside a transaction.
    pub fn write(&self, _key: &str, _value: Option<&str>) -> Result<Record> {
        // TODO (step 2). Inside the closure, errors are
        // `ConflictableTransactionError`: a `?` on an anyhow error does not
        // compile there (see hint 3, "the trait `From<anyhow::Error>`…");
        // wrap yours in `Abort::Abort(anyhow!(…))`.
        bail!("not implemented yet: Store::write — see exercises/08-logical-clocks/README.md")
    }

    /// Applies records pulled from the peer `from` (its positions, in the order it
    /// sent them), all in one transaction: each record that wins its key
    /// ([`Record::beats`] the held winner, or the key is new) is stored at the
    /// next position here; what was seen of `from` becomes the `seq` of the last
    /// record, in the same transaction. Returns how many were stored.
    pub fn apply(&self, _from: &str, _records: &[Record], _resolver: bool) -> Result<u64> {
        // TODO (step 3)
        bail!("not implemented yet: Store::apply — see exercises/08-logical-clocks/README.md")
    }

    /// Records that everything `from` held up to position `seq` was seen.
    pub fn saw(&self, from: &str, seq: u64) -> Result<()> {
        if seq > self.seen(from)? {
            self.seen.insert(from.as_bytes(), &seq.to_be_bytes())?;
            self.db.flush()?;
        }
        Ok(())
    }

    /// Moves what was seen of `from` back to `seq`: `from` was restored from an
    /// older copy and will give the positions after `seq` again.
    pub fn forget_after(&self, from: &str, seq: u64) -> Result<()> {
        self.seen.insert(from.as_bytes(), &seq.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// The last position of `from`'s log this database applied (0: none).
    pub fn seen(&self, from: &str) -> Result<u64> {
        self.seen
            .get(from.as_bytes())?
            .map_or(Ok(0), |bytes| number(&bytes))
    }

    /// The last position ever given to a record here (0: none yet): durable,
    /// and never lowered, whatever compaction removes (the text's *Compaction*).
    pub fn last_seq(&self) -> Result<u64> {
        // TODO (step 2, with `store` below)
        bail!("not implemented yet: Store::last_seq — see exercises/08-logical-clocks/README.md")
    }

    /// The winning record of `key`, a put or a del, if the key was ever written.
    pub fn get(&self, key: &str) -> Result<Option<Record>> {
        self.view
            .get(key.as_bytes())?
            .map(|bytes| parse(&bytes))
            .transpose()
    }

    /// The winning record of every key, in byte order of the keys.
    pub fn view(&self) -> impl Iterator<Item = Result<Record>> + '_ {
        self.view.iter().map(|item| parse(&item?.1))
    }

    /// The log's records at positions after `after`, in order of position.
    pub fn log_after(&self, after: u64) -> impl Iterator<Item = Result<Record>> + '_ {
        let start = after.saturating_add(1).to_be_bytes();
        self.log.range(start..).map(|item| parse(&item?.1))
    }

    /// Keeps only the newest record of every key: deletes every log record that
    /// is not its key's winner (the view's record, same `seq`). Positions are not
    /// reused: the next record still gets the position after the last one ever
    /// given. Returns how many records went.
    pub fn compact(&self) -> Result<u64> {
        // TODO (step 7)
        bail!("not implemented yet: Store::compact — see exercises/08-logical-clocks/README.md")
    }
}

/// Stores `record`, inside a transaction, at the next position: the one after
/// the last position ever given here, which it becomes (kept in `meta`, so
/// that it survives restarts and compactions); the record becomes its key's
/// winner in `view`. Returns the record with its `seq` set.
#[allow(unused_variables, unused_mut)] // Step 2 uses them.
pub fn store(
    meta: &TransactionalTree,
    log: &TransactionalTree,
    view: &TransactionalTree,
    mut record: Record,
) -> Result<Record, Abort> {
    // TODO (step 2)
    Err(Abort::Abort(anyhow!(
        "not implemented yet: store (the next position) — see exercises/08-logical-clocks/README.md"
    )))
}

/// The winner of `key` in the view, inside a transaction.
pub fn winner(view: &TransactionalTree, key: &str) -> Result<Option<Record>, Abort> {
    match view.get(key.as_bytes())? {
        Some(bytes) => parse(&bytes).map(Some).map_err(Abort::Abort),
        None => Ok(None),
    }
}

pub fn unpack(error: sled::transaction::TransactionError<anyhow::Error>) -> anyhow::Error {
    match error {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => e.into(),
    }
}

pub fn parse(bytes: &[u8]) -> Result<Record> {
    serde_json::from_slice(bytes).context("a stored record is not valid JSON")
}

fn number(bytes: &[u8]) -> Result<u64> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| anyhow!("a stored number is not 8 bytes"))?;
    Ok(u64::from_be_bytes(array))
}

fn random_peer_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("cannot get random bytes: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
