//! A tiny leveldb: `put`, `get`, `del` and ordered `range` reads, on top of sled.
//!
//! leveldb is a good building block because it does very little: it maps keys to
//! values and keeps the keys sorted, byte by byte. Everything else (collections,
//! logs, replication) is built from those few operations. sled gives us the same
//! model in Rust: a `Tree` is a sorted map from bytes to bytes, and one database
//! directory can hold many named trees, which is how we get isolated collections.

use std::io::{self, Write};
use std::ops::Bound;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// One key with its value: the shape of every record the programs print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// Which keys a range read visits, in which direction, and how many of them.
///
/// Every bound is optional; with none set the read visits every key. The
/// programs never set both `gt` and `gte` (or both `lt` and `lte`); if a caller
/// does, the exclusive bound wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Only keys strictly greater than this one.
    pub gt: Option<String>,
    /// Only keys greater than or equal to this one.
    pub gte: Option<String>,
    /// Only keys strictly less than this one.
    pub lt: Option<String>,
    /// Only keys less than or equal to this one.
    pub lte: Option<String>,
    /// Visit the keys from the largest down instead of from the smallest up.
    pub reverse: bool,
    /// Stop after this many records (counted in the chosen direction).
    pub limit: Option<usize>,
}

/// A key/value store: one collection (a sled tree) of a database on disk.
pub struct Store {
    /// The collection this store reads and writes. It also keeps the whole
    /// database open: sled closes it when the last tree handle is dropped.
    tree: sled::Tree,
}

impl Store {
    /// Opens (creating it if needed) the database in the directory `path`.
    ///
    /// With `Some(name)` the store works in the collection `name`, a key space
    /// of its own; with `None` it works in the database's default collection.
    pub fn open(path: impl AsRef<Path>, collection: Option<&str>) -> Result<Store> {
        let path = path.as_ref();
        let db =
            sled::open(path).with_context(|| format!("cannot open the database in {}", path.display()))?;
        let tree = match collection {
            // A named tree keeps its keys apart from every other tree's.
            Some(name) => db
                .open_tree(name)
                .with_context(|| format!("cannot open the collection {name:?}"))?,
            // A `Db` is also a `Tree`: the default one.
            None => sled::Tree::clone(&db),
        };
        Ok(Store { tree })
    }

    /// Stores `value` under `key`, replacing any value the key had.
    pub fn put(&self, key: &str, value: &str) -> Result<()> {
        // Keys and values are text for us and bytes for sled: `as_bytes` is the
        // whole translation.
        self.tree.insert(key.as_bytes(), value.as_bytes())?;
        Ok(())
    }

    /// Returns the value stored under `key`, or `None` if there is none.
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        match self.tree.get(key.as_bytes())? {
            Some(bytes) => Ok(Some(decode(&bytes, "value")?)),
            None => Ok(None),
        }
    }

    /// Removes `key` and its value. Removing a key that is not there is fine,
    /// as in leveldb: afterwards the key is absent either way.
    pub fn del(&self, key: &str) -> Result<()> {
        self.tree.remove(key.as_bytes())?;
        Ok(())
    }

    /// Returns the records whose keys lie within `bounds`, in the byte order of
    /// the keys (descending with `reverse`), at most `limit` of them.
    pub fn range(&self, bounds: &Bounds) -> Result<Vec<KeyValue>> {
        let lower = match (&bounds.gt, &bounds.gte) {
            (Some(key), _) => Bound::Excluded(key.as_bytes()),
            (None, Some(key)) => Bound::Included(key.as_bytes()),
            (None, None) => Bound::Unbounded,
        };
        let upper = match (&bounds.lt, &bounds.lte) {
            (Some(key), _) => Bound::Excluded(key.as_bytes()),
            (None, Some(key)) => Bound::Included(key.as_bytes()),
            (None, None) => Bound::Unbounded,
        };
        // sled yields nothing for bounds that leave no room (say `gt b`, `lt a`).
        // (The turbofish only tells the compiler that our keys are `&[u8]`.)
        let in_bounds = self.tree.range::<&[u8], _>((lower, upper));

        // The tree walks its keys in either direction without sorting anything;
        // the limit counts from the end we start at, so the reverse comes first.
        let ordered: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if bounds.reverse {
            Box::new(in_bounds.rev())
        } else {
            Box::new(in_bounds)
        };
        let limit = bounds.limit.unwrap_or(usize::MAX);

        ordered
            .take(limit)
            .map(|item| {
                let (key, value) = item?;
                Ok(KeyValue {
                    key: decode(&key, "key")?,
                    value: decode(&value, "value")?,
                })
            })
            .collect()
    }

    /// Writes everything stored so far to disk. Once this returns `Ok`, the
    /// data survives the process exiting (or crashing).
    pub fn flush(&self) -> Result<()> {
        // Any tree can do it: flushing writes the whole database, every tree.
        self.tree.flush().context("cannot flush the database to disk")?;
        Ok(())
    }
}

/// Turns stored bytes back into text. Our programs only ever store UTF-8, so
/// anything else means the database was written by someone else.
fn decode(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).with_context(|| format!("a stored {what} is not UTF-8"))
}

/// Prints records on stdout as JSON lines: one JSON object per line.
///
/// serde_json does the quoting and escaping, so keys with quotes, newlines or
/// emoji come out as valid JSON. A closed stdout is an error, not a panic.
pub fn print_json_lines<T: Serialize>(records: impl IntoIterator<Item = T>) -> Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    for record in records {
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush().context("cannot write to stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(records: &[KeyValue]) -> Vec<&str> {
        records.iter().map(|record| record.key.as_str()).collect()
    }

    fn store_with(dir: &Path, collection: Option<&str>, keys: &[&str]) -> Store {
        let store = Store::open(dir, collection).unwrap();
        for key in keys {
            store.put(key, &format!("value of {key}")).unwrap();
        }
        store
    }

    #[test]
    fn put_overwrites_and_del_removes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), None).unwrap();
        store.put("name", "ada").unwrap();
        store.put("name", "grace").unwrap();
        assert_eq!(store.get("name").unwrap().as_deref(), Some("grace"));
        store.del("name").unwrap();
        assert_eq!(store.get("name").unwrap(), None);
        // Deleting again is not an error.
        store.del("name").unwrap();
    }

    #[test]
    fn keys_sort_as_bytes_not_as_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), None, &["9", "10", "100", "2"]);
        let all = store.range(&Bounds::default()).unwrap();
        assert_eq!(keys(&all), ["10", "100", "2", "9"]);
    }

    #[test]
    fn range_bounds_reverse_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), None, &["a", "b", "c", "d", "e"]);
        let read = |bounds: Bounds| keys(&store.range(&bounds).unwrap()).join("");
        let text = |key: &str| Some(key.to_string());

        assert_eq!(
            read(Bounds {
                gt: text("b"),
                ..Bounds::default()
            }),
            "cde"
        );
        assert_eq!(
            read(Bounds {
                gte: text("b"),
                ..Bounds::default()
            }),
            "bcde"
        );
        assert_eq!(
            read(Bounds {
                lt: text("d"),
                ..Bounds::default()
            }),
            "abc"
        );
        assert_eq!(
            read(Bounds {
                lte: text("d"),
                ..Bounds::default()
            }),
            "abcd"
        );
        assert_eq!(
            read(Bounds {
                reverse: true,
                limit: Some(2),
                ..Bounds::default()
            }),
            "ed"
        );
        assert_eq!(
            read(Bounds {
                limit: Some(2),
                ..Bounds::default()
            }),
            "ab"
        );
        assert_eq!(
            read(Bounds {
                gte: text("b"),
                lt: text("e"),
                reverse: true,
                ..Bounds::default()
            }),
            "dcb"
        );
        // Bounds that leave no room give nothing, in either direction.
        assert_eq!(
            read(Bounds {
                gt: text("d"),
                lt: text("b"),
                ..Bounds::default()
            }),
            ""
        );
        assert_eq!(
            read(Bounds {
                gt: text("c"),
                lt: text("c"),
                reverse: true,
                ..Bounds::default()
            }),
            ""
        );
    }

    #[test]
    fn collections_are_isolated() {
        let dir = tempfile::tempdir().unwrap();
        {
            let users = store_with(dir.path(), Some("users"), &["ada"]);
            assert_eq!(keys(&users.range(&Bounds::default()).unwrap()), ["ada"]);
        }
        let default = reopen(dir.path(), None);
        assert_eq!(default.get("ada").unwrap(), None);
        assert!(default.range(&Bounds::default()).unwrap().is_empty());
    }

    #[test]
    fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = store_with(dir.path(), Some("notes"), &["kept"]);
            store.flush().unwrap();
        }
        let store = reopen(dir.path(), Some("notes"));
        assert_eq!(store.get("kept").unwrap().as_deref(), Some("value of kept"));
    }

    /// Opens a database again in the same process. sled lets go of its lock from a
    /// background thread shortly after the last handle is dropped: wait for it.
    fn reopen(path: &Path, collection: Option<&str>) -> Store {
        for _ in 0..200 {
            if let Ok(store) = Store::open(path, collection) {
                return store;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Store::open(path, collection).unwrap()
    }
}
