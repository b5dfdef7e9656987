//! This exercise's view: each key's value, as the operations applied so far
//! left it.
//!
//! The rule is the simplest there is: a `put` sets the key, a `del` removes
//! it, and whatever is applied last wins. Within one log that is the writer's
//! own order. Between logs there is no order at all: each database applies
//! other peers' operations when they reach it. Two databases that receive
//! two writes of the same key in different orders keep different values;
//! exercise 06 is about that.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::op::Op;
use crate::store::View;

/// The tree that holds the view: key -> value.
pub const VALUES_TREE: &str = "values";

/// One key and its value: what `get` and `list` print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// The view of this exercise: the current value of every key.
pub struct Values {
    #[allow(dead_code)] // Until steps 1 and 4 use it.
    values: sled::Tree,
}

impl View for Values {
    type Op = Op;

    fn open(db: &sled::Db) -> Result<Values> {
        Ok(Values {
            values: db.open_tree(VALUES_TREE)?,
        })
    }

    /// A put sets the key's value, a del removes the key; and `applied` says
    /// `peer`'s log is applied up to `seq`. Both trees change in one sled
    /// transaction, so a crash never leaves them disagreeing. Keys and values
    /// are stored as their UTF-8 bytes.
    fn apply(&self, _op: &Op, _peer: &str, _seq: u64, _applied: &sled::Tree) -> Result<()> {
        // TODO (step 1)
        //
        // Compile errors this step tends to meet (the third hint, `hint 3`,
        // has a clinic for each):
        // - "error[E0599]: no method named `transaction` found for tuple
        //   `(&sled::Tree, &sled::Tree)`": a trait is not in scope.
        // - "error[E0282]: type annotations needed" on the closure, or "`?`
        //   couldn't convert the error", inside the transaction: the closure's
        //   error type is sled's, not anyhow's.
        anyhow::bail!("not implemented yet: Values::apply — see exercises/05-kv-store/README.md")
    }
}

/// A view that answers `get` and `list` with plain `{key, value}` records: this
/// exercise's, and exercise 06's. The programs `get` and `list` are written once,
/// for any such view.
pub trait KeyValues: View {
    /// The value of `key`, if it has one.
    fn value(&self, key: &str) -> Result<Option<String>>;
    /// Every key that has a value, in byte order, with its value.
    fn key_values(&self) -> Result<Vec<KeyValue>>;
}

impl KeyValues for Values {
    fn value(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
    }

    fn key_values(&self) -> Result<Vec<KeyValue>> {
        self.list()
    }
}

impl Values {
    /// The value of `key`, if it has one.
    pub fn get(&self, _key: &str) -> Result<Option<String>> {
        // TODO (step 4)
        anyhow::bail!("not implemented yet: Values::get — see exercises/05-kv-store/README.md")
    }

    /// Every key that has a value, in byte order, with its value.
    pub fn list(&self) -> Result<Vec<KeyValue>> {
        // TODO (step 4): nothing to sort, sled keeps the keys in byte order.
        anyhow::bail!("not implemented yet: Values::list — see exercises/05-kv-store/README.md")
    }
}

/// Stored bytes as text: keys and values are always UTF-8.
#[allow(dead_code)] // Until step 4 uses it.
fn text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).context("a stored key or value is not UTF-8")
}
