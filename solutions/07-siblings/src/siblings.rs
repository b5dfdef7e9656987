//! This exercise's view: per key, every current version: the siblings.
//!
//! Applying the write `P@S` of key K:
//! 1. The versions it replaces are superseded: those named in its `prev`, and
//!    P's own earlier versions of K (a writer always replaces its own past).
//!    They leave K's siblings and are remembered in the tree `superseded`,
//!    whether they have arrived yet or not.
//! 2. `P@S` joins K's siblings, unless it is itself superseded already: a
//!    write that arrived after the write that replaced it.
//!
//! Both steps only ever add to what is known, so the outcome is the same in
//! any order: in the end K's siblings are the versions that arrived and that
//! no arrived write replaced.

use anyhow::{Context, Result, anyhow};
use logs::log_key;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use store::store::{View, committed, mark_applied};

use crate::op::Op;
use crate::version::Version;

/// The tree of every key's current versions.
pub const VERSIONS_TREE: &str = "versions";
/// The tree of every version replaced so far.
pub const SUPERSEDED_TREE: &str = "superseded";

/// One current version of a key, as stored: `{"peer":..,"seq":..,"value":..}`.
/// Siblings sort by peer id, then seq.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Sibling {
    /// Whose log the write is in.
    pub peer: String,
    /// Where in that log.
    pub seq: u64,
    /// The value written; `None` for a deletion.
    pub value: Option<String>,
}

impl Sibling {
    /// Its name.
    pub fn version(&self) -> Version {
        Version::new(&self.peer, self.seq)
    }
}

/// One current version of one key: what `get` and `list` print,
/// `{"key":..,"value":..,"peer":..,"seq":..}`, with `"value":null` for a
/// deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyVersion {
    pub key: String,
    pub value: Option<String>,
    pub peer: String,
    pub seq: u64,
}

impl KeyVersion {
    fn new(key: &str, sibling: Sibling) -> KeyVersion {
        KeyVersion {
            key: key.to_string(),
            value: sibling.value,
            peer: sibling.peer,
            seq: sibling.seq,
        }
    }
}

/// The view of this exercise: the siblings of every key, and every version
/// ever superseded.
pub struct Siblings {
    versions: sled::Tree,
    superseded: sled::Tree,
}

impl View for Siblings {
    type Op = Op;

    fn open(db: &sled::Db) -> Result<Siblings> {
        Ok(Siblings {
            versions: db.open_tree(VERSIONS_TREE)?,
            superseded: db.open_tree(SUPERSEDED_TREE)?,
        })
    }

    fn apply(&self, op: &Op, peer: &str, seq: u64, applied: &sled::Tree) -> Result<()> {
        let key = op.key().as_bytes();
        let trees = (&self.versions, &self.superseded, applied);
        committed(trees.transaction(|(versions, superseded, applied)| {
            let mut siblings = match versions.get(key)? {
                Some(stored) => decode(&stored).map_err(ConflictableTransactionError::Abort)?,
                None => Vec::new(),
            };
            // Step 1: what this write replaces.
            let own_earlier = siblings
                .iter()
                .filter(|sibling| sibling.peer == peer && sibling.seq < seq)
                .map(Sibling::version);
            let replaced: Vec<Version> = op.prev().iter().cloned().chain(own_earlier).collect();
            for version in &replaced {
                superseded.insert(log_key(&version.peer, version.seq), b"".as_slice())?;
            }
            siblings.retain(|sibling| !replaced.contains(&sibling.version()));
            // Step 2: the write itself, unless something replaced it already.
            if superseded.get(log_key(peer, seq))?.is_none() {
                siblings.push(Sibling {
                    peer: peer.to_string(),
                    seq,
                    value: op.value().map(str::to_string),
                });
                siblings.sort();
            }
            if siblings.is_empty() {
                versions.remove(key)?;
            } else {
                versions.insert(key, encode(&siblings).as_slice())?;
            }
            mark_applied(applied, peer, seq)?;
            Ok(())
        }))
    }
}

impl Siblings {
    /// The current versions of `key`, ordered by peer id, then seq; none if
    /// it was never written.
    pub fn siblings(&self, key: &str) -> Result<Vec<Sibling>> {
        match self.versions.get(key.as_bytes())? {
            Some(stored) => decode(&stored),
            None => Ok(Vec::new()),
        }
    }

    /// The current versions of `key` as records, deletions included.
    pub fn get(&self, key: &str) -> Result<Vec<KeyVersion>> {
        let siblings = self.siblings(key)?;
        Ok(siblings
            .into_iter()
            .map(|sibling| KeyVersion::new(key, sibling))
            .collect())
    }

    /// The current versions of every key that has at least one value (not
    /// only deletions), by key in byte order, then peer id, then seq.
    pub fn list(&self) -> Result<Vec<KeyVersion>> {
        let mut all = Vec::new();
        for item in self.versions.iter() {
            let (key, stored) = item?;
            let siblings = decode(&stored)?;
            if siblings.iter().all(|sibling| sibling.value.is_none()) {
                continue; // Deleted, and nothing else.
            }
            let key = String::from_utf8(key.to_vec()).context("a stored key is not UTF-8")?;
            all.extend(siblings.into_iter().map(|sibling| KeyVersion::new(&key, sibling)));
        }
        Ok(all)
    }

    /// Whether `version` has been replaced by a write applied here.
    pub fn is_superseded(&self, version: &Version) -> Result<bool> {
        Ok(self
            .superseded
            .contains_key(log_key(&version.peer, version.seq))?)
    }
}

/// A key's siblings as stored.
fn decode(stored: &[u8]) -> Result<Vec<Sibling>> {
    serde_json::from_slice(stored).map_err(|error| anyhow!("stored siblings are not valid: {error}"))
}

/// A key's siblings to store.
fn encode(siblings: &[Sibling]) -> Vec<u8> {
    serde_json::to_vec(siblings).expect("siblings always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view in a throwaway database, and its `applied` tree, to apply
    /// operations to directly, in any order.
    struct Bench {
        view: Siblings,
        applied: sled::Tree,
        _db: sled::Db,
    }

    impl Bench {
        fn new() -> Bench {
            let db = sled::Config::new().temporary(true).open().unwrap();
            Bench {
                view: Siblings::open(&db).unwrap(),
                applied: db.open_tree("applied").unwrap(),
                _db: db,
            }
        }

        fn apply(&self, (peer, seq, op): &(&str, u64, Op)) {
            self.view.apply(op, peer, *seq, &self.applied).unwrap();
        }
    }

    fn versions(names: &[&str]) -> Vec<Version> {
        names.iter().map(|name| name.parse().unwrap()).collect()
    }

    fn put(key: &str, value: &str, prev: &[&str]) -> Op {
        Op::Put {
            key: key.to_string(),
            value: value.to_string(),
            prev: versions(prev),
        }
    }

    fn del(key: &str, prev: &[&str]) -> Op {
        Op::Del {
            key: key.to_string(),
            prev: versions(prev),
        }
    }

    fn sibling(peer: &str, seq: u64, value: Option<&str>) -> Sibling {
        Sibling {
            peer: peer.to_string(),
            seq,
            value: value.map(str::to_string),
        }
    }

    #[test]
    fn concurrent_writes_become_siblings_and_a_merge_resolves_them() {
        let bench = Bench::new();
        bench.apply(&("a", 1, put("x", "from a", &[])));
        bench.apply(&("b", 1, put("x", "from b", &[])));
        assert_eq!(
            bench.view.siblings("x").unwrap(),
            [sibling("a", 1, Some("from a")), sibling("b", 1, Some("from b"))]
        );
        bench.apply(&("b", 2, put("x", "merged", &["a@1", "b@1"])));
        assert_eq!(
            bench.view.siblings("x").unwrap(),
            [sibling("b", 2, Some("merged"))]
        );
        assert!(bench.view.is_superseded(&Version::new("a", 1)).unwrap());
    }

    #[test]
    fn a_stale_write_does_not_win_silently() {
        let bench = Bench::new();
        bench.apply(&("a", 1, put("x", "v1", &[])));
        // b saw v1 and replaced it; a, not having seen that, writes over v1 too.
        bench.apply(&("b", 1, put("x", "b's v2", &["a@1"])));
        bench.apply(&("a", 2, put("x", "a's v2", &["a@1"])));
        assert_eq!(
            bench.view.siblings("x").unwrap(),
            [sibling("a", 2, Some("a's v2")), sibling("b", 1, Some("b's v2"))]
        );
    }

    #[test]
    fn a_writer_replaces_its_own_earlier_versions() {
        let bench = Bench::new();
        bench.apply(&("a", 1, put("x", "first", &[])));
        bench.apply(&("a", 2, put("x", "second", &[])));
        assert_eq!(
            bench.view.siblings("x").unwrap(),
            [sibling("a", 2, Some("second"))]
        );
    }

    #[test]
    fn a_version_that_arrives_after_its_replacement_is_never_added() {
        let bench = Bench::new();
        // c@1 replaced b@1, which replaced a@1; they arrive newest first.
        bench.apply(&("c", 1, put("x", "c", &["b@1"])));
        bench.apply(&("b", 1, put("x", "b", &["a@1"])));
        bench.apply(&("a", 1, put("x", "a", &[])));
        assert_eq!(bench.view.siblings("x").unwrap(), [sibling("c", 1, Some("c"))]);
    }

    #[test]
    fn deletions_follow_the_same_rules() {
        let bench = Bench::new();
        bench.apply(&("a", 1, put("x", "v1", &[])));
        bench.apply(&("a", 2, put("y", "kept", &[])));
        // b deletes what it saw while a, unaware, writes again.
        bench.apply(&("b", 1, del("x", &["a@1"])));
        bench.apply(&("a", 3, put("x", "v2", &["a@1"])));
        assert_eq!(
            bench.view.siblings("x").unwrap(),
            [sibling("a", 3, Some("v2")), sibling("b", 1, None)]
        );
        let listed: Vec<(String, Option<String>)> = bench
            .view
            .list()
            .unwrap()
            .into_iter()
            .map(|v| (v.key, v.value))
            .collect();
        assert_eq!(
            listed,
            [
                ("x".to_string(), Some("v2".to_string())),
                ("x".to_string(), None),
                ("y".to_string(), Some("kept".to_string()))
            ]
        );
        // A delete of both leaves one deletion: `get` shows it, `list` does not.
        bench.apply(&("b", 2, del("x", &["a@3", "b@1"])));
        assert_eq!(bench.view.siblings("x").unwrap(), [sibling("b", 2, None)]);
        assert_eq!(bench.view.get("x").unwrap().len(), 1);
        assert!(bench.view.list().unwrap().iter().all(|v| v.key == "y"));
        assert!(bench.view.get("never written").unwrap().is_empty());
    }

    /// Every order in which the operations of several logs can arrive, each
    /// log staying in its own order.
    fn interleavings<T: Clone>(logs: &[Vec<T>]) -> Vec<Vec<T>> {
        if logs.iter().all(Vec::is_empty) {
            return vec![Vec::new()];
        }
        let mut all = Vec::new();
        for (index, log) in logs.iter().enumerate() {
            let Some((first, rest)) = log.split_first() else {
                continue;
            };
            let mut remaining = logs.to_vec();
            remaining[index] = rest.to_vec();
            for mut tail in interleavings(&remaining) {
                tail.insert(0, first.clone());
                all.push(tail);
            }
        }
        all
    }

    #[test]
    fn the_view_does_not_depend_on_the_order_of_arrival() {
        let logs = vec![
            vec![("a", 1, put("x", "a1", &[])), ("a", 2, put("x", "a2", &["a@1"]))],
            vec![
                ("b", 1, put("x", "b1", &["a@1"])),
                ("b", 2, del("x", &["b@1"])),
                ("b", 3, put("y", "y", &[])),
            ],
            vec![("c", 1, put("x", "merged", &["a@2", "b@1"]))],
        ];
        let orders = interleavings(&logs);
        assert_eq!(orders.len(), 60);
        for order in orders {
            let bench = Bench::new();
            for op in &order {
                bench.apply(op);
            }
            // b's delete came after b1 only, so it stays beside the merge.
            assert_eq!(
                bench.view.siblings("x").unwrap(),
                [sibling("b", 2, None), sibling("c", 1, Some("merged"))],
                "{:?}",
                order
                    .iter()
                    .map(|(peer, seq, _)| format!("{peer}@{seq}"))
                    .collect::<Vec<_>>()
            );
            assert_eq!(bench.view.siblings("y").unwrap(), [sibling("b", 3, Some("y"))]);
        }
    }
}
