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
use sled::Transactional;

use crate::op::Op;
use crate::store::{View, committed, mark_applied};

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
    values: sled::Tree,
}

impl View for Values {
    type Op = Op;

    fn open(db: &sled::Db) -> Result<Values> {
        Ok(Values {
            values: db.open_tree(VALUES_TREE)?,
        })
    }

    fn apply(&self, op: &Op, peer: &str, seq: u64, applied: &sled::Tree) -> Result<()> {
        committed((&self.values, applied).transaction(|(values, applied)| {
            match op {
                Op::Put { key, value } => values.insert(key.as_bytes(), value.as_bytes())?,
                Op::Del { key } => values.remove(key.as_bytes())?,
            };
            mark_applied(applied, peer, seq)?;
            Ok(())
        }))
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
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        match self.values.get(key.as_bytes())? {
            Some(value) => Ok(Some(text(&value)?)),
            None => Ok(None),
        }
    }

    /// Every key that has a value, in byte order, with its value.
    pub fn list(&self) -> Result<Vec<KeyValue>> {
        let mut all = Vec::new();
        for item in self.values.iter() {
            let (key, value) = item?;
            all.push(KeyValue {
                key: text(&key)?,
                value: text(&value)?,
            });
        }
        Ok(all)
    }
}

/// Stored bytes as text: keys and values are always UTF-8.
fn text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).context("a stored key or value is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn open() -> (tempfile::TempDir, Store<Values>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn put(store: &Store<Values>, key: &str, value: &str) {
        let (key, value) = (key.to_string(), value.to_string());
        store.write(&Op::Put { key, value }).unwrap();
    }

    fn del(store: &Store<Values>, key: &str) {
        store.write(&Op::Del { key: key.to_string() }).unwrap();
    }

    fn pair(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: value.to_string(),
        }
    }

    #[test]
    fn put_get_del_and_list() {
        let (_dir, store) = open();
        assert_eq!(store.view().get("x").unwrap(), None);
        put(&store, "x", "1");
        put(&store, "y", "2");
        put(&store, "x", "3");
        assert_eq!(store.view().get("x").unwrap().as_deref(), Some("3"));
        del(&store, "y");
        assert_eq!(store.view().get("y").unwrap(), None);
        // Deleting a key that has no value is fine, and changes nothing.
        del(&store, "nothing");
        for (key, value) in [("9", "nine"), ("10", "ten"), ("", "empty key"), ("ü", "")] {
            put(&store, key, value);
        }
        assert_eq!(
            store.view().list().unwrap(),
            [
                pair("", "empty key"),
                pair("10", "ten"),
                pair("9", "nine"),
                pair("x", "3"),
                pair("ü", "")
            ]
        );
        // Every write is one operation in our own log.
        assert_eq!(store.log().read_after(0).unwrap().len(), 9);
        assert_eq!(store.applied(store.log().peer()).unwrap(), 9);
    }

    #[test]
    fn writes_are_operations_in_the_log() {
        let (_dir, store) = open();
        put(&store, "greeting", "hello");
        del(&store, "greeting");
        let entries: Vec<String> = store
            .log()
            .read_after(0)
            .unwrap()
            .into_iter()
            .map(|record| record.entry)
            .collect();
        assert_eq!(
            entries,
            [
                r#"{"type":"put","key":"greeting","value":"hello"}"#,
                r#"{"type":"del","key":"greeting"}"#
            ]
        );
    }
}
