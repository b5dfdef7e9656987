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
//! The `meta` tree holds this database's own key pair. Opening is written for
//! you; the rest is steps 2 and 3.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::identity::Identity;
use crate::node::Node;

/// The highest seq held of a log, and that node's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tip {
    pub seq: u64,
    pub key: String,
}

/// What a database holds, per log: the `have` of a session.
pub type Tips = BTreeMap<String, Tip>;

/// What `nodes` stores under a key: the node and its position in `order`.
#[derive(Serialize, Deserialize)]
pub struct Stored {
    pub pos: u64,
    pub node: Node,
}

pub struct Dag {
    pub db: sled::Db,
    pub nodes: sled::Tree,
    pub order: sled::Tree,
    pub heads: sled::Tree,
    pub logs: sled::Tree,
    pub tips: sled::Tree,
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

    /// Signs a node key with this database's secret key.
    pub fn sign(&self, key: &str) -> Result<String> {
        self.identity.sign(key)
    }

    /// Whether a node with this key is stored.
    pub fn contains(&self, _key: &str) -> Result<bool> {
        bail!("not implemented yet: Dag::contains (step 2) — see exercises/09-merkle-dag/README.md")
    }

    /// The node with this key, if stored.
    ///
    /// You'll need: `Tree::get`, `serde_json::from_slice::<Stored>`.
    pub fn get(&self, _key: &str) -> Result<Option<Node>> {
        bail!("not implemented yet: Dag::get (step 2)")
    }

    /// Every node, parents before children, in the order they were stored.
    ///
    /// You'll need: `self.order.iter()`, [`Dag::get`].
    pub fn list(&self) -> impl Iterator<Item = Result<Node>> + '_ {
        // TODO (step 2): map each (position, key) of `order` to its node.
        std::iter::once(Err(anyhow!("not implemented yet: Dag::list (step 2)")))
    }

    /// The heads, in the order they were stored (sort them by position).
    pub fn heads(&self) -> Result<Vec<Node>> {
        bail!("not implemented yet: Dag::heads (step 2)")
    }

    /// The highest seq held of every log, with its key: one read of `tips`.
    pub fn tips(&self) -> Result<Tips> {
        bail!("not implemented yet: Dag::tips (step 2)")
    }

    /// The key of node `seq` of `log`, if held.
    pub fn key_at(&self, _log: &str, _seq: u64) -> Result<Option<String>> {
        bail!("not implemented yet: Dag::key_at (step 2)")
    }

    /// The nodes of `log` with a seq in `after+1 ..= upto`, as (position, key):
    /// one range scan of `logs`, whatever the size of the database.
    ///
    /// You'll need: `Tree::range(log_key(log, after + 1)..=log_key(log, upto))`.
    pub fn range(&self, _log: &str, _after: u64, _upto: u64) -> Result<Vec<(u64, String)>> {
        bail!("not implemented yet: Dag::range (step 3)")
    }

    /// Writes a new node of this database's own log with `value`, linking to
    /// `links` (every one must be held, or it is an error naming the key), or
    /// to every head if `links` is None; seq is one more than this log's tip.
    /// The node is signed ([`Dag::sign`]), stored ([`Dag::insert`]) and flushed
    /// before it is returned.
    pub fn add(&self, _links: Option<Vec<String>>, _value: &str) -> Result<Node> {
        bail!("not implemented yet: Dag::add (step 2) — see exercises/09-merkle-dag/README.md")
    }

    /// Stores a checked node: `nodes`, `order`, `heads` (its links stop being
    /// heads, it becomes one), `logs` and `tips` change in ONE transaction.
    /// Refuses a node whose links, or previous node of its log, are not held.
    ///
    /// You'll need: `self.db.generate_id()` (a position), `use sled::Transactional;`,
    /// `(&self.nodes, &self.order, &self.heads, &self.logs, &self.tips).transaction(|(nodes, order, heads, logs, tips)| …)`,
    /// `ConflictableTransactionError::Abort` to refuse from inside.
    pub fn insert(&self, _node: &Node) -> Result<()> {
        // The closure may run more than once and must return
        // `Result<_, ConflictableTransactionError<String>>`: `?` on a sled call
        // inside it works, `?` on an anyhow error does not (error E0277
        // "the trait `From<anyhow::Error>` is not implemented": see hint 3).
        bail!("not implemented yet: Dag::insert (step 2)")
    }

    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
}

/// `logs` keys: the log id, then the seq as 8 bytes big endian (so seqs sort
/// numerically within a log).
pub fn log_key(log: &str, seq: u64) -> Vec<u8> {
    let mut key = log.as_bytes().to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}
