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

use anyhow::{Result, anyhow};
use logs::log_key;
use serde::{Deserialize, Serialize};
use store::store::View;

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
    #[allow(dead_code)] // Until step 2 uses it.
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

    /// Applies the write `op`, entry `seq` of `peer`'s log, as the module
    /// comment says: the versions it replaces are superseded for good, and it
    /// joins the key's siblings unless it is superseded itself. Siblings are
    /// stored sorted (peer id, then seq); a key left with none is removed.
    /// The three trees (`versions`, `superseded`, `applied`) change in one
    /// sled transaction. The outcome must not depend on the order in which
    /// the logs arrive (each log in its own order).
    fn apply(&self, _op: &Op, _peer: &str, _seq: u64, _applied: &sled::Tree) -> Result<()> {
        // TODO (step 1)
        //
        // Compile errors this step tends to meet (the third hint, `hint 3`,
        // has a clinic for each):
        // - `decode(..)?` inside the transaction's closure: "`?` couldn't
        //   convert the error to `ConflictableTransactionError<_>`"
        //   (error[E0277]).
        // - `value: op.value()` in a new `Sibling`: "error[E0308]: mismatched
        //   types: expected `Option<String>`, found `Option<&str>`".
        anyhow::bail!("not implemented yet: Siblings::apply — see exercises/07-siblings/README.md")
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
    pub fn get(&self, _key: &str) -> Result<Vec<KeyVersion>> {
        // TODO (step 2)
        anyhow::bail!("not implemented yet: Siblings::get — see exercises/07-siblings/README.md")
    }

    /// The current versions of every key that has at least one value (not
    /// only deletions), by key in byte order, then peer id, then seq. A key
    /// whose siblings are all deletions is not listed; a key with a value and
    /// a deletion lists both.
    pub fn list(&self) -> Result<Vec<KeyVersion>> {
        // TODO (step 2): nothing to sort, sled keeps the keys in byte order.
        anyhow::bail!("not implemented yet: Siblings::list — see exercises/07-siblings/README.md")
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
#[allow(dead_code)] // Until step 1 uses it.
fn encode(siblings: &[Sibling]) -> Vec<u8> {
    serde_json::to_vec(siblings).expect("siblings always serialize")
}
