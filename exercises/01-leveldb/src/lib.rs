//! A tiny leveldb: `put`, `get`, `del` and ordered `range` reads, on top of sled.
//!
//! leveldb is a good building block because it does very little: it maps keys to
//! values and keeps the keys sorted, byte by byte. Everything else (collections,
//! logs, replication) is built from those few operations. sled gives us the same
//! model in Rust: a `Tree` is a sorted map from bytes to bytes, and one database
//! directory can hold many named trees, which is how we get isolated collections.
//!
//! Your work is in the bodies marked `TODO`: each doc comment says what the
//! function must do; how is up to you (`hint` gives a nudge, then the approach,
//! then nearly the answer). The rest is written for you; the programs in
//! `src/bin/` are complete and call this library.
//!
//! You'll need: `sled::Tree`'s `insert`, `get`, `remove` and `range`;
//! `str::as_bytes` and `String::from_utf8`; `std::ops::Bound`; and
//! `Iterator::rev` and `take`.

use std::io::{self, Write};
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
            // TODO (step 5, collections): the collection `name` is a tree of its own.
            Some(_name) => anyhow::bail!(
                "not implemented yet: collections in Store::open — see exercises/01-leveldb/README.md"
            ),
            // A `Db` is also a `Tree`: the default one.
            None => sled::Tree::clone(&db),
        };
        Ok(Store { tree })
    }

    /// Stores `value` under `key`, replacing any value the key had.
    pub fn put(&self, _key: &str, _value: &str) -> Result<()> {
        // TODO (step 1): keys and values are text here and bytes in sled.
        anyhow::bail!("not implemented yet: Store::put — see exercises/01-leveldb/README.md")
    }

    /// Returns the value stored under `key`: `Ok(None)` if there is none (a
    /// missing key is not an error), an error (never a panic) if the stored
    /// bytes are not UTF-8.
    pub fn get(&self, _key: &str) -> Result<Option<String>> {
        // TODO (step 2)
        //
        // A compile error this step tends to meet: `String::from_utf8(bytes)`
        // on what sled returns says "error[E0308]: mismatched types: expected
        // `Vec<u8>`, found `IVec`". The clinic in the third hint (`hint 3`)
        // has it.
        anyhow::bail!("not implemented yet: Store::get — see exercises/01-leveldb/README.md")
    }

    /// Removes `key` and its value. Removing a key that is not there is fine,
    /// as in leveldb: afterwards the key is absent either way.
    pub fn del(&self, _key: &str) -> Result<()> {
        // TODO (step 3)
        anyhow::bail!("not implemented yet: Store::del — see exercises/01-leveldb/README.md")
    }

    /// Returns the records whose keys lie within `bounds`, in the byte order of
    /// the keys (descending with `reverse`), at most `limit` of them: the limit
    /// counts in the chosen direction, so `--reverse --limit 2` gives the two
    /// largest keys. Nothing is sorted here: sled keeps the keys in order.
    pub fn range(&self, _bounds: &Bounds) -> Result<Vec<KeyValue>> {
        // TODO (step 4)
        //
        // Compile errors this step tends to meet (the third hint, `hint 3`, has
        // a clinic for each):
        // - `if bounds.reverse { iter.rev() } else { iter }` does not compile
        //   ("`if` and `else` have incompatible types"): the two arms are two
        //   different iterator types.
        // - sled's `range` may need its key type spelled out ("type annotations
        //   needed").
        anyhow::bail!("not implemented yet: Store::range — see exercises/01-leveldb/README.md")
    }

    /// Writes everything stored so far to disk. Once this returns `Ok`, the
    /// data survives the process exiting (or crashing).
    pub fn flush(&self) -> Result<()> {
        // Any tree can do it: flushing writes the whole database, every tree.
        self.tree.flush().context("cannot flush the database to disk")?;
        Ok(())
    }
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
