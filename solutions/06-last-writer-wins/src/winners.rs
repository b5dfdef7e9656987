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

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use store::store::{View, committed, mark_applied};
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
    pub fn beats(&self, other: &Winner) -> bool {
        (self.ts, self.peer.as_bytes(), self.seq) > (other.ts, other.peer.as_bytes(), other.seq)
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

    fn apply(&self, op: &Op, peer: &str, seq: u64, applied: &sled::Tree) -> Result<()> {
        let candidate = Winner::of(op, peer, seq);
        let encoded = serde_json::to_vec(&candidate)?;
        let key = op.key().as_bytes();
        committed((&self.winners, applied).transaction(|(winners, applied)| {
            let wins = match winners.get(key)? {
                None => true,
                Some(stored) => {
                    let current = decode(&stored).map_err(ConflictableTransactionError::Abort)?;
                    candidate.beats(&current)
                }
            };
            if wins {
                winners.insert(key, encoded.as_slice())?;
            }
            mark_applied(applied, peer, seq)?;
            Ok(())
        }))
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
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.winner(key)?.and_then(|winner| winner.value))
    }

    /// Every key whose winner is a put, in byte order, with its value.
    pub fn list(&self) -> Result<Vec<KeyValue>> {
        let mut all = Vec::new();
        for item in self.winners.iter() {
            let (key, stored) = item?;
            if let Some(value) = decode(&stored)?.value {
                let key = String::from_utf8(key.to_vec()).context("a stored key is not UTF-8")?;
                all.push(KeyValue { key, value });
            }
        }
        Ok(all)
    }
}

/// A winner as stored in the tree.
fn decode(stored: &[u8]) -> Result<Winner> {
    serde_json::from_slice(stored).map_err(|error| anyhow!("a stored winner is not valid: {error}"))
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;
    use std::thread;

    use store::Store;

    use super::*;

    fn open() -> (tempfile::TempDir, Store<Winners>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn put(store: &Store<Winners>, key: &str, value: &str, ts: u64) {
        let (key, value) = (key.to_string(), value.to_string());
        store.write(&Op::Put { key, value, ts }).unwrap();
    }

    fn del(store: &Store<Winners>, key: &str, ts: u64) {
        store
            .write(&Op::Del {
                key: key.to_string(),
                ts,
            })
            .unwrap();
    }

    fn value(store: &Store<Winners>, key: &str) -> Option<String> {
        store.view().get(key).unwrap()
    }

    fn sync(a: &Store<Winners>, b: &Store<Winners>) {
        let (a_end, b_end) = UnixStream::pair().unwrap();
        let (a_input, b_input) = (a_end.try_clone().unwrap(), b_end.try_clone().unwrap());
        thread::scope(|scope| {
            let a_side = scope.spawn(|| a.sync(a_input, a_end));
            let b_side = scope.spawn(|| b.sync(b_input, b_end));
            a_side.join().unwrap().unwrap();
            b_side.join().unwrap().unwrap();
        });
    }

    #[test]
    fn the_later_stamp_wins_in_either_sync_order() {
        for alice_first in [true, false] {
            let (_alice_dir, alice) = open();
            let (_bob_dir, bob) = open();
            let (_carol_dir, carol) = open();
            put(&alice, "x", "alice", 2_000);
            put(&bob, "x", "bob", 1_000);
            // Carol meets them one after the other, in both orders.
            if alice_first {
                sync(&carol, &alice);
                sync(&carol, &bob);
            } else {
                sync(&carol, &bob);
                sync(&carol, &alice);
            }
            assert_eq!(value(&carol, "x").as_deref(), Some("alice"));
            sync(&alice, &bob);
            assert_eq!(value(&alice, "x").as_deref(), Some("alice"));
            assert_eq!(value(&bob, "x").as_deref(), Some("alice"));
        }
    }

    #[test]
    fn equal_stamps_go_to_the_larger_peer_id() {
        let (_alice_dir, alice) = open();
        let (_bob_dir, bob) = open();
        put(&alice, "x", "alice", 5_000);
        put(&bob, "x", "bob", 5_000);
        sync(&alice, &bob);
        let larger = if alice.log().peer().as_bytes() > bob.log().peer().as_bytes() {
            "alice"
        } else {
            "bob"
        };
        assert_eq!(value(&alice, "x").as_deref(), Some(larger));
        assert_eq!(value(&bob, "x").as_deref(), Some(larger));
    }

    #[test]
    fn equal_stamps_of_one_peer_go_to_its_later_write() {
        let (_dir, store) = open();
        put(&store, "x", "first", 7_000);
        put(&store, "x", "second", 7_000);
        assert_eq!(value(&store, "x").as_deref(), Some("second"));
    }

    #[test]
    fn a_tombstone_beats_an_older_put_that_arrives_later() {
        let (_alice_dir, alice) = open();
        let (_bob_dir, bob) = open();
        let (_carol_dir, carol) = open();
        put(&alice, "x", "old", 1_000);
        sync(&alice, &bob);
        del(&bob, "x", 2_000);
        // Carol gets the del first, then the put it deleted.
        sync(&carol, &bob);
        let tombstone = carol.view().winner("x").unwrap().unwrap();
        assert_eq!((tombstone.value, tombstone.ts), (None, 2_000));
        sync(&carol, &alice);
        assert_eq!(value(&carol, "x"), None);
        assert!(carol.view().list().unwrap().is_empty());
        // A put stamped after the del brings the key back.
        put(&alice, "x", "new", 3_000);
        sync(&carol, &alice);
        assert_eq!(value(&carol, "x").as_deref(), Some("new"));
    }

    #[test]
    fn a_clock_that_runs_ahead_wins_against_later_informed_writes() {
        // The lost update, as the README tells it.
        let (_alice_dir, alice) = open();
        let (_bob_dir, bob) = open();
        let bob_clock = crate::Clock::with_offset(60_000);
        let alice_clock = crate::Clock::with_offset(0);
        put(&bob, "x", "draft", bob_clock.now().unwrap());
        sync(&alice, &bob);
        assert_eq!(value(&alice, "x").as_deref(), Some("draft"));
        put(&alice, "x", "final", alice_clock.now().unwrap());
        sync(&alice, &bob);
        assert_eq!(value(&alice, "x").as_deref(), Some("draft"));
        assert_eq!(value(&bob, "x").as_deref(), Some("draft"));
    }

    #[test]
    fn list_skips_tombstones_and_keeps_byte_order() {
        let (_dir, store) = open();
        put(&store, "b", "2", 10);
        put(&store, "a", "1", 10);
        put(&store, "c", "3", 10);
        del(&store, "b", 11);
        let keys: Vec<String> = store
            .view()
            .list()
            .unwrap()
            .into_iter()
            .map(|kv| kv.key)
            .collect();
        assert_eq!(keys, ["a", "c"]);
    }

    #[test]
    fn winners_are_stored_as_documented() {
        let winner = Winner {
            value: None,
            ts: 1_718_000_000_000,
            peer: "5f1c2a9b3d4e6f70".to_string(),
            seq: 3,
        };
        assert_eq!(
            serde_json::to_string(&winner).unwrap(),
            r#"{"value":null,"ts":1718000000000,"peer":"5f1c2a9b3d4e6f70","seq":3}"#
        );
    }
}
