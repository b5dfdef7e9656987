//! The database: a log of records in the order this database stored them, a
//! view with the winning record of every key, and what was seen of each peer.
//!
//! Every change happens in one sled transaction over all the trees it touches,
//! so a crash leaves a write either wholly there or not at all, and the view,
//! the log and the positions seen always agree.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::record::{Kind, MAX_CLOCK, Record};

/// How long a program waits for the database's lock (held by another program,
/// such as `serve` answering a pull) before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// An open database.
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    log: sled::Tree,
    view: sled::Tree,
    seen: sled::Tree,
    peer: String,
}

/// A transaction's failure: ours, or sled's.
type Abort = ConflictableTransactionError<anyhow::Error>;

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

    /// A local write of `key`: a put of `value`, or a del (`None`). Stamped one
    /// above the largest clock of the key held, stored at the next position.
    pub fn write(&self, key: &str, value: Option<&str>) -> Result<Record> {
        let done = (&self.meta, &self.log, &self.view).transaction(|(meta, log, view)| {
            let clock = match winner(view, key)? {
                Some(held) if held.clock >= MAX_CLOCK => {
                    return Err(Abort::Abort(anyhow!(
                        "the clock of {key:?} is at its maximum ({MAX_CLOCK}): it cannot be written again"
                    )));
                }
                Some(held) => held.clock + 1,
                None => 1,
            };
            let record = Record {
                peer: self.peer.clone(),
                seq: 0,
                key: key.to_string(),
                clock,
                kind: if value.is_some() { Kind::Put } else { Kind::Del },
                value: value.map(str::to_string),
            };
            store(meta, log, view, record)
        });
        let record = done.map_err(unpack)?;
        self.db.flush()?;
        Ok(record)
    }

    /// Applies records pulled from the peer `from` (its positions, in the order it
    /// sent them) in one transaction: each one that wins its key is stored at a
    /// new position; what was seen of `from` moves to the last one. Returns how
    /// many were stored.
    pub fn apply(&self, from: &str, records: &[Record], resolver: bool) -> Result<u64> {
        let Some(last) = records.last() else { return Ok(0) };
        let done = (&self.meta, &self.log, &self.view, &self.seen).transaction(|(meta, log, view, seen)| {
            let mut stored = 0;
            for record in records {
                let wins = match winner(view, &record.key)? {
                    None => true,
                    Some(held) => record.beats(&held, resolver),
                };
                if wins {
                    store(meta, log, view, record.clone())?;
                    stored += 1;
                }
            }
            seen.insert(from.as_bytes(), &last.seq.to_be_bytes())?;
            Ok(stored)
        });
        let stored = done.map_err(unpack)?;
        self.db.flush()?;
        Ok(stored)
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

    /// The last position given to a record here (0: none yet).
    pub fn last_seq(&self) -> Result<u64> {
        self.meta.get("seq")?.map_or(Ok(0), |bytes| number(&bytes))
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
    /// is not its key's winner. Positions are not reused: the next record still
    /// gets the position after the last one ever given. Returns how many went.
    pub fn compact(&self) -> Result<u64> {
        let mut removed = 0;
        for item in self.log.iter() {
            let (position, bytes) = item?;
            let record = parse(&bytes)?;
            let newest = self.get(&record.key)?.is_some_and(|w| w.seq == record.seq);
            if !newest {
                self.log.remove(position)?;
                removed += 1;
            }
        }
        self.db.flush()?;
        Ok(removed)
    }
}

/// Stores `record` at the next position, as its key's winner.
fn store(
    meta: &TransactionalTree,
    log: &TransactionalTree,
    view: &TransactionalTree,
    mut record: Record,
) -> Result<Record, Abort> {
    let last = match meta.get("seq")? {
        Some(bytes) => number(&bytes).map_err(Abort::Abort)?,
        None => 0,
    };
    record.seq = last + 1;
    let json = serde_json::to_vec(&record).map_err(|e| Abort::Abort(e.into()))?;
    meta.insert("seq", &record.seq.to_be_bytes())?;
    log.insert(&record.seq.to_be_bytes(), json.as_slice())?;
    view.insert(record.key.as_bytes(), json)?;
    Ok(record)
}

/// The winner of `key` in the view, inside a transaction.
fn winner(view: &TransactionalTree, key: &str) -> Result<Option<Record>, Abort> {
    match view.get(key.as_bytes())? {
        Some(bytes) => parse(&bytes).map(Some).map_err(Abort::Abort),
        None => Ok(None),
    }
}

fn unpack(error: sled::transaction::TransactionError<anyhow::Error>) -> anyhow::Error {
    match error {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => e.into(),
    }
}

fn parse(bytes: &[u8]) -> Result<Record> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_stamped_above_what_is_held() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("db"))?;
        assert_eq!(store.write("k", Some("a"))?.clock, 1);
        let remote = Record {
            peer: "f".repeat(16),
            seq: 7,
            key: "k".into(),
            clock: 5,
            kind: Kind::Put,
            value: Some("remote".into()),
        };
        assert_eq!(store.apply(&remote.peer, std::slice::from_ref(&remote), true)?, 1);
        assert_eq!(store.write("k", Some("b"))?.clock, 6);
        Ok(())
    }

    #[test]
    fn positions_keep_growing_after_compaction() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("db"))?;
        store.write("k", Some("1"))?;
        store.write("k", Some("2"))?;
        assert_eq!(store.compact()?, 1);
        assert_eq!(store.write("j", Some("3"))?.seq, 3);
        Ok(())
    }
}
