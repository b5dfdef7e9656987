//! This exercise's view: per key, the write that wins, by timestamp.
//!
//! Of all the writes of a key, the winner is the one with the greatest
//! `(ts, peer, seq)`: the latest stamp; on equal stamps, the larger peer id,
//! compared as bytes; on equal peers too, the larger seq, that peer's later
//! write. That order is total and the same on every database, so every
//! database keeps the same winner, whatever order the writes arrive in.
//!
//! A `del` that wins stays in the view as a *tombstone* (a winner without a
//! value): `get` and `list` treat the key as absent, but a put with an older
//! stamp, arriving later, still loses against it.

use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use store::store::View;
use store::values::{KeyValue, KeyValues};

use crate::op::Op;

/// The tree that holds the view: key -> the winning write, as JSON.
pub const WINNERS_TREE: &str = "winners";

/// The write that wins a key so far: a put, or a del (a tombstone).
///
/// Stored as `{"value":"hello","ts":1718000000000,"peer":"5f1c2a9b3d4e6f70","seq":3}`,
/// with `"value":null` for a tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Winner {
    /// The value a put wrote; `None` for a del.
    pub value: Option<String>,
    /// The writer's clock when it wrote.
    pub ts: u64,
    /// Whose log the write is in.
    pub peer: String,
    /// Where in that log.
    pub seq: u64,
}

impl Winner {
    /// The write `op`, entry `seq` of `peer`'s log.
    pub fn of(op: &Op, peer: &str, seq: u64) -> Winner {
        let value = match op {
            Op::Put { value, .. } => Some(value.clone()),
            Op::Del { .. } => None,
        };
        Winner {
            value,
            ts: op.ts(),
            peer: peer.to_string(),
            seq,
        }
    }

    /// Whether this write wins over `other`: the greater `(ts, peer, seq)`,
    /// peer ids compared as bytes.
    pub fn beats(&self, _other: &Winner) -> bool {
        // TODO (step 3). (Until then, nothing beats anything: the first write
        // would stay.)
        false
    }
}

/// The view of this exercise: the winning write of every key written.
pub struct Winners {
    winners: sled::Tree,
}

impl View for Winners {
    type Op = Op;

    fn open(db: &sled::Db) -> Result<Winners> {
        Ok(Winners {
            winners: db.open_tree(WINNERS_TREE)?,
        })
    }

    /// The write `op` (entry `seq` of `peer`'s log) replaces the key's winner
    /// if there is none yet or if it [`Winner::beats`] it; a del is kept like
    /// a put, as a tombstone. Whether it won or not, `applied` records it, in
    /// the same sled transaction (as in exercise 05). A stored winner that
    /// cannot be read aborts the transaction with an error.
    fn apply(&self, _op: &Op, _peer: &str, _seq: u64, _applied: &sled::Tree) -> Result<()> {
        // TODO (step 4)
        //
        // A compile error this step tends to meet: `decode(..)?` inside the
        // transaction's closure says "`?` couldn't convert the error to
        // `ConflictableTransactionError<_>`" (error[E0277]): the closure's
        // error type is sled's. The clinic in the third hint (`hint 3`) has it.
        anyhow::bail!("not implemented yet: Winners::apply — see exercises/06-last-writer-wins/README.md")
    }
}

impl KeyValues for Winners {
    fn value(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
    }

    fn key_values(&self) -> Result<Vec<KeyValue>> {
        self.list()
    }
}

impl Winners {
    /// The write that wins `key`, tombstone or not; `None` if it was never
    /// written.
    pub fn winner(&self, key: &str) -> Result<Option<Winner>> {
        match self.winners.get(key.as_bytes())? {
            Some(stored) => Ok(Some(decode(&stored)?)),
            None => Ok(None),
        }
    }

    /// The value of `key`: its winner's, unless that is a tombstone.
    pub fn get(&self, _key: &str) -> Result<Option<String>> {
        // TODO (step 5)
        anyhow::bail!("not implemented yet: Winners::get — see exercises/06-last-writer-wins/README.md")
    }

    /// Every key whose winner is a put, in byte order, with its value.
    pub fn list(&self) -> Result<Vec<KeyValue>> {
        // TODO (step 5): nothing to sort, sled keeps the keys in byte order.
        anyhow::bail!("not implemented yet: Winners::list — see exercises/06-last-writer-wins/README.md")
    }
}

/// A winner as stored in the tree.
fn decode(stored: &[u8]) -> Result<Winner> {
    serde_json::from_slice(stored).map_err(|error| anyhow!("a stored winner is not valid: {error}"))
}
