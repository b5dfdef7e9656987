//! The DAG on disk, in sled.
//!
//! Five trees, changed together in one transaction per node, so that a crash
//! leaves either the whole node or nothing of it:
//!
//! - `nodes`: key → the node (JSON), with its position;
//! - `order`: position → key: the order nodes were stored in. A node is only
//!   stored after every node it links to and after the previous node of its
//!   log, so this order always puts parents before children;
//! - `heads`: key → position, for the nodes nothing links to yet;
//! - `logs`: log id + seq (8 bytes, big endian) → key, so that a log's nodes
//!   after some seq are one range scan;
//! - `tips`: log id → the highest seq held of that log, with its key.
//!
//! The `meta` tree holds this database's own key pair.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::identity::Identity;
use crate::node::{Node, canonical_links, key_of};

/// The highest seq held of a log, and that node's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tip {
    pub seq: u64,
    pub key: String,
}

/// What a database holds, per log: the `have` of a session.
pub type Tips = BTreeMap<String, Tip>;

#[derive(Serialize, Deserialize)]
struct Stored {
    pos: u64,
    node: Node,
}

pub struct Dag {
    db: sled::Db,
    nodes: sled::Tree,
    order: sled::Tree,
    heads: sled::Tree,
    logs: sled::Tree,
    tips: sled::Tree,
    identity: Identity,
}

const SEED: &[u8] = b"seed";

impl Dag {
    /// Opens (or creates) the database in `path`, with its key pair.
    pub fn open(path: &Path) -> Result<Dag> {
        let db = sled::open(path).with_context(|| format!("cannot open the database {}", path.display()))?;
        let meta = db.open_tree("meta")?;
        let identity = match meta.get(SEED)? {
            Some(seed) => Identity::from_seed(
                seed.as_ref()
                    .try_into()
                    .map_err(|_| anyhow!("the key pair in {} is damaged", path.display()))?,
            ),
            None => {
                let identity = Identity::generate()?;
                meta.insert(SEED, &identity.seed())?;
                identity
            }
        };
        Ok(Dag {
            nodes: db.open_tree("nodes")?,
            order: db.open_tree("order")?,
            heads: db.open_tree("heads")?,
            logs: db.open_tree("logs")?,
            tips: db.open_tree("tips")?,
            identity,
            db,
        })
    }

    /// This database's own log id.
    pub fn log_id(&self) -> String {
        self.identity.log_id()
    }

    pub fn contains(&self, key: &str) -> Result<bool> {
        Ok(self.nodes.contains_key(key)?)
    }

    pub fn get(&self, key: &str) -> Result<Option<Node>> {
        Ok(self.stored(key)?.map(|s| s.node))
    }

    fn stored(&self, key: &str) -> Result<Option<Stored>> {
        match self.nodes.get(key)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Every node, parents before children, in the order they were stored.
    pub fn list(&self) -> impl Iterator<Item = Result<Node>> + '_ {
        self.order.iter().map(move |item| {
            let (_, key) = item?;
            let key = String::from_utf8(key.to_vec())?;
            self.get(&key)?
                .ok_or_else(|| anyhow!("the node {key} is listed but not stored"))
        })
    }

    /// The heads, in the order they were stored.
    pub fn heads(&self) -> Result<Vec<Node>> {
        let mut heads: Vec<Stored> = Vec::new();
        for item in self.heads.iter() {
            let (key, _) = item?;
            let key = String::from_utf8(key.to_vec())?;
            heads.push(
                self.stored(&key)?
                    .ok_or_else(|| anyhow!("the head {key} is not stored"))?,
            );
        }
        heads.sort_by_key(|s| s.pos);
        Ok(heads.into_iter().map(|s| s.node).collect())
    }

    /// The highest seq held of every log, with its key.
    pub fn tips(&self) -> Result<Tips> {
        let mut tips = Tips::new();
        for item in self.tips.iter() {
            let (log, tip) = item?;
            tips.insert(String::from_utf8(log.to_vec())?, serde_json::from_slice(&tip)?);
        }
        Ok(tips)
    }

    /// The key of node `seq` of `log`, if held.
    pub fn key_at(&self, log: &str, seq: u64) -> Result<Option<String>> {
        match self.logs.get(log_key(log, seq))? {
            Some(key) => Ok(Some(String::from_utf8(key.to_vec())?)),
            None => Ok(None),
        }
    }

    /// The nodes of `log` with a seq in `after+1 ..= upto`, as (position, key):
    /// one range scan, whatever the size of the database.
    pub fn range(&self, log: &str, after: u64, upto: u64) -> Result<Vec<(u64, String)>> {
        let mut found = Vec::new();
        if after >= upto {
            return Ok(found);
        }
        for item in self.logs.range(log_key(log, after + 1)..=log_key(log, upto)) {
            let (_, key) = item?;
            let key = String::from_utf8(key.to_vec())?;
            let pos = self
                .stored(&key)?
                .ok_or_else(|| anyhow!("the node {key} is not stored"))?
                .pos;
            found.push((pos, key));
        }
        Ok(found)
    }

    /// Writes a new node of this database's own log with `value`, linking to
    /// `links` (every one must be held), or to every head if `links` is None.
    pub fn add(&self, links: Option<Vec<String>>, value: &str) -> Result<Node> {
        let links = match links {
            Some(links) => {
                for link in &links {
                    if !self.contains(link)? {
                        bail!("unknown link {link}: this database holds no node with that key");
                    }
                }
                canonical_links(links)
            }
            None => canonical_links(self.heads()?.into_iter().map(|n| n.key).collect()),
        };
        let log = self.log_id();
        let tip = self.tips()?.remove(&log);
        let seq = tip.as_ref().map_or(0, |tip| tip.seq) + 1;
        let previous = tip.map(|tip| tip.key);
        let key = key_of(&log, seq, previous.as_deref(), &links, value);
        let sig = self.identity.sign(&key)?;
        let node = Node {
            key,
            links,
            value: value.to_string(),
            log,
            seq,
            previous,
            sig,
        };
        self.insert(&node)?;
        self.flush()?;
        Ok(node)
    }

    /// Stores a checked node: the node, its place in the order and in its log,
    /// and the heads change in one transaction. Refuses a node whose links or
    /// previous node of its log are not held: a DAG never has a dangling link.
    pub fn insert(&self, node: &Node) -> Result<()> {
        let pos = self.db.generate_id()?;
        let stored = serde_json::to_vec(&Stored {
            pos,
            node: node.clone(),
        })?;
        let tip = serde_json::to_vec(&Tip {
            seq: node.seq,
            key: node.key.clone(),
        })?;
        let result = (&self.nodes, &self.order, &self.heads, &self.logs, &self.tips).transaction(
            |(nodes, order, heads, logs, tips)| {
                let missing = |why: String| ConflictableTransactionError::Abort(why);
                for link in &node.links {
                    if nodes.get(link.as_bytes())?.is_none() {
                        return Err(missing(format!("its link {link} is not stored")));
                    }
                    heads.remove(link.as_bytes())?;
                }
                if node.seq > 1 {
                    let Some(previous) = logs.get(log_key(&node.log, node.seq - 1))? else {
                        return Err(missing(format!("node {} of its log is not stored", node.seq - 1)));
                    };
                    if node.previous.as_deref().map(str::as_bytes) != Some(&previous[..]) {
                        return Err(missing(format!(
                            "its previous node is not node {} of its log as stored here",
                            node.seq - 1
                        )));
                    }
                }
                nodes.insert(node.key.as_bytes(), stored.as_slice())?;
                order.insert(&pos.to_be_bytes(), node.key.as_bytes())?;
                heads.insert(node.key.as_bytes(), &pos.to_be_bytes())?;
                logs.insert(log_key(&node.log, node.seq), node.key.as_bytes())?;
                tips.insert(node.log.as_bytes(), tip.as_slice())?;
                Ok(())
            },
        );
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(why)) => bail!("refusing to store node {}: {why}", node.key),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
}

/// `logs` keys: the log id, then the seq as 8 bytes big endian (so seqs sort
/// numerically within a log).
fn log_key(log: &str, seq: u64) -> Vec<u8> {
    let mut key = log.as_bytes().to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_has_two_heads_and_a_merge_one() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let dag = Dag::open(dir.path())?;
        let root = dag.add(None, "root")?;
        let left = dag.add(Some(vec![root.key.clone()]), "left")?;
        let right = dag.add(Some(vec![root.key.clone()]), "right")?;
        let heads: Vec<String> = dag.heads()?.into_iter().map(|n| n.key).collect();
        assert_eq!(heads, vec![left.key.clone(), right.key.clone()]);
        let merge = dag.add(None, "merge")?;
        assert_eq!(merge.links, canonical_links(vec![left.key, right.key]));
        assert_eq!(dag.heads()?, vec![merge]);
        Ok(())
    }

    #[test]
    fn an_unknown_link_is_refused() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let dag = Dag::open(dir.path())?;
        assert!(dag.add(Some(vec!["ab".repeat(32)]), "x").is_err());
        assert_eq!(dag.list().count(), 0);
        Ok(())
    }
}
