//! Append-only logs, one per peer, stored in sled.
//!
//! A log is a list that only grows at its end: entry #1, #2, #3, ... Only its
//! owner appends to it, and an entry never changes once written. That makes a
//! log trivial to copy: whoever holds entries up to #12 of a peer's log only
//! needs "the entries after #12" to catch up. So every database here keeps its
//! own log, under a random peer id, next to copies of other peers' logs, and
//! the head of each log (its highest seq) says exactly what is missing.
//!
//! Storage layout, in one sled database:
//! - tree `meta`, key `peer`: the local peer id (16 lowercase hex characters);
//! - tree `log`, key `peer id bytes, 0x00, seq as u64 big-endian`: the entry
//!   as UTF-8 bytes. Keys sort by peer, then by seq in numeric order, so each
//!   log is one contiguous run of keys, oldest entry first.
//!
//! Your work is in the bodies marked `TODO`, in the order of their step
//! numbers: each doc comment says what the function must do; how is up to
//! you (`hint` gives a nudge, then the approach, then nearly the answer). The
//! rest is written for you; the programs (`src/bin/`, with their command lines
//! in `src/cli.rs`) are complete and call this library.
//!
//! You'll need: `u64::to_be_bytes` and `from_be_bytes`,
//! `<[u8]>::split_last_chunk`, sled's `range` with `DoubleEndedIterator::next_back`,
//! and `u64::checked_add`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};

pub mod cli;

/// The tree that holds this database's identity.
pub const META_TREE: &str = "meta";
/// The key, in the meta tree, of the local peer id.
pub const PEER_KEY: &str = "peer";
/// The tree that holds the entries of every log, our own and other peers'.
pub const LOG_TREE: &str = "log";
/// The byte between the peer id and the seq in a log key. No peer id contains it.
pub const SEPARATOR: u8 = 0x00;

/// One entry of one peer's log: the unit that is stored, printed and replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The id of the peer whose log this entry belongs to (its only writer).
    pub peer: String,
    /// The entry's position in that log: 1, 2, 3, ... with no gaps.
    pub seq: u64,
    /// What was appended.
    pub entry: String,
}

/// A database of append-only logs: the local peer's own log, which only this
/// database appends to, and copies of other peers' logs.
///
/// Cloning a `Log` is cheap and gives another handle on the same database.
#[derive(Clone)]
pub struct Log {
    /// The `log` tree: every entry of every peer, under its log key. It also
    /// keeps the database open: sled closes it when the last tree is dropped.
    log: sled::Tree,
    /// The local peer id: the name of the log that `append` writes to.
    peer: String,
}

impl Log {
    /// Opens (creating it if needed) the database in the directory `path`.
    ///
    /// The first open gives the database a random peer id; later opens find
    /// the same id again.
    pub fn open(path: impl AsRef<Path>) -> Result<Log> {
        let path = path.as_ref();
        let db =
            sled::open(path).with_context(|| format!("cannot open the database in {}", path.display()))?;
        Log::open_in(&db)
    }

    /// The logs of a sled database that is already open: for programs that
    /// keep trees of their own in the same database, next to the logs (from
    /// exercise 05 on, a view built from them). sled lets one process open a
    /// database directory only once, so such a program opens it, passes it
    /// here, and opens its own trees in it too.
    pub fn open_in(db: &sled::Db) -> Result<Log> {
        let meta = db.open_tree(META_TREE)?;
        let log = db.open_tree(LOG_TREE)?;
        let peer = load_or_create_peer_id(&meta)?;
        Ok(Log { log, peer })
    }

    /// The local peer id: whose log [`Log::append`] writes to.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Appends `entry` to the local peer's log and returns the stored record.
    ///
    /// The seq is one more than the highest seq stored, so it starts at 1,
    /// grows by one per entry and carries on across restarts: no counter kept
    /// anywhere but in the log itself. An entry once written is never
    /// overwritten.
    pub fn append(&self, _entry: &str) -> Result<Record> {
        // TODO (step 4)
        anyhow::bail!("not implemented yet: Log::append — see exercises/02-append-only-logs/README.md")
    }

    /// The entries of the local peer's log with a seq greater than `seq`,
    /// oldest first. `read_after(0)` is the whole log.
    pub fn read_after(&self, _seq: u64) -> Result<Vec<Record>> {
        // TODO (step 5)
        anyhow::bail!("not implemented yet: Log::read_after — see exercises/02-append-only-logs/README.md")
    }

    /// The highest seq stored for `peer`, or 0 if we hold none of its entries.
    /// It reads one key, whatever the length of the log.
    pub fn head(&self, _peer: &str) -> Result<u64> {
        // TODO (step 3)
        anyhow::bail!("not implemented yet: Log::head — see exercises/02-append-only-logs/README.md")
    }

    /// The head of every log this database holds, its own and other peers':
    /// peer id -> highest seq. A log we hold no entry of is not listed.
    pub fn heads(&self) -> Result<BTreeMap<String, u64>> {
        let mut heads = BTreeMap::new();
        // Jump from log to log: find the first key at or after `from`, note
        // its peer's head, then carry on just past that peer's last key.
        let mut from = Vec::new();
        while let Some(item) = self.log.range(from..).next() {
            let (key, _entry) = item?;
            let (peer, _seq) = parse_log_key(&key)?;
            let head = self.head(&peer)?;
            let past_this_log = peer_key_range(&peer).end;
            // Every step must move forward, or a key that does not match its
            // peer id would send this loop round forever.
            ensure!(
                past_this_log.as_slice() > &*key,
                "the log key {key:?} does not start with its peer id"
            );
            from = past_this_log;
            heads.insert(peer, head);
        }
        Ok(heads)
    }

    /// The entries of `peer`'s log with a seq greater than `seq`, oldest first:
    /// exactly what someone whose head for `peer` is `seq` is missing.
    pub fn entries_after(&self, peer: &str, seq: u64) -> Result<Vec<Record>> {
        self.entries_after_iter(peer, seq)?.collect()
    }

    /// The same entries as [`Log::entries_after`], read from disk one by one as
    /// the iterator advances instead of all at once: sending a log of a million
    /// entries then never needs a million records in memory, and stopping early
    /// reads no further.
    ///
    /// `seq = u64::MAX` is valid and has nothing after it (no overflow).
    /// [`Entries::over`] and [`Entries::none`] make the iterator.
    pub fn entries_after_iter(&self, _peer: &str, _seq: u64) -> Result<Entries> {
        // TODO (step 5)
        anyhow::bail!(
            "not implemented yet: Log::entries_after_iter — see exercises/02-append-only-logs/README.md"
        )
    }

    /// The entry stored under `seq` in `peer`'s log, if we hold it.
    pub fn entry(&self, peer: &str, seq: u64) -> Result<Option<String>> {
        if !is_valid_peer_id(peer) {
            return Ok(None); // We never store such a peer.
        }
        match self.log.get(log_key(peer, seq))? {
            Some(entry) => Ok(Some(
                String::from_utf8(entry.to_vec()).context("a stored entry is not UTF-8")?,
            )),
            None => Ok(None),
        }
    }

    /// Stores a record of another peer's log without looking at what is
    /// stored.
    ///
    /// The caller makes sure that the record is the next one of its log (its
    /// seq is one more than the head), as exercise 03 does with the heads it
    /// keeps in memory; otherwise this could leave a gap or overwrite an
    /// entry. Records with an unusable peer id or seq 0 are errors.
    pub fn store(&self, record: &Record) -> Result<()> {
        ensure!(
            is_valid_peer_id(&record.peer),
            "invalid peer id {:?}: it must be non-empty and contain no 0x00 byte",
            record.peer
        );
        ensure!(record.seq >= 1, "invalid seq 0: seqs start at 1");
        self.log
            .insert(log_key(&record.peer, record.seq), record.entry.as_bytes())?;
        Ok(())
    }

    /// Writes everything stored so far to disk. Once this returns `Ok`, the
    /// data survives the process exiting (or crashing).
    pub fn flush(&self) -> Result<()> {
        // Any tree can do it: flushing writes the whole database, every tree.
        self.log.flush().context("cannot flush the database to disk")?;
        Ok(())
    }
}

/// Reads the local peer id from the meta tree (under [`PEER_KEY`]), or makes a
/// new one with [`new_peer_id`] if this database has none yet. A new id is on
/// disk before this returns: the next open must find the same one.
fn load_or_create_peer_id(_meta: &sled::Tree) -> Result<String> {
    // TODO (step 1)
    anyhow::bail!("not implemented yet: load_or_create_peer_id — see exercises/02-append-only-logs/README.md")
}

/// A fresh random peer id: 8 random bytes as 16 lowercase hex characters.
pub fn new_peer_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("cannot get random bytes: {error}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Whether `peer` can name a log: non-empty and without the separator byte
/// (a 0x00 inside an id would make log keys ambiguous).
pub fn is_valid_peer_id(peer: &str) -> bool {
    !peer.is_empty() && !peer.as_bytes().contains(&SEPARATOR)
}

/// The key under which entry `seq` of `peer`'s log is stored: the peer id's
/// bytes, one 0x00 byte, then the seq as 8 big-endian bytes.
///
/// Big-endian puts the most significant byte first, so comparing keys byte by
/// byte compares seqs as numbers: 9 = `..00 09` < 10 = `..00 0a` < 256 = `..01 00`.
pub fn log_key(_peer: &str, _seq: u64) -> Vec<u8> {
    // TODO (step 2). (Until then, every entry would land on the same empty key.)
    Vec::new()
}

/// Splits a log key back into its peer id and seq: the inverse of [`log_key`].
/// A key that is too short or malformed is an error, not a panic.
pub fn parse_log_key(_key: &[u8]) -> Result<(String, u64)> {
    // TODO (step 2)
    //
    // A compile error this step tends to meet (the third hint, `hint 3`, has
    // the clinic): `u64::from_be_bytes(&key[..8])` says "mismatched types:
    // expected `[u8; 8]`, found `&[u8]`".
    anyhow::bail!("not implemented yet: parse_log_key — see exercises/02-append-only-logs/README.md")
}

/// The keys of all of `peer`'s entries, and no others: from `peer 0x00`
/// (before its seq 0) up to, not including, `peer 0x01` (after its last seq).
pub fn peer_key_range(peer: &str) -> Range<Vec<u8>> {
    let mut start = peer.as_bytes().to_vec();
    let mut end = start.clone();
    start.push(SEPARATOR);
    end.push(SEPARATOR + 1);
    start..end
}

/// Rebuilds a record from a stored key and value.
fn decode_record(key: &[u8], entry: &[u8]) -> Result<Record> {
    let (peer, seq) = parse_log_key(key)?;
    let entry = String::from_utf8(entry.to_vec()).context("a stored entry is not UTF-8")?;
    Ok(Record { peer, seq, entry })
}

/// The entries of one log from some seq on, oldest first, read lazily: what
/// [`Log::entries_after_iter`] returns. Each item is a record, or the error
/// that stopped reading one.
pub struct Entries {
    /// The keys still to read, in order; `None` when there is nothing to read.
    keys: Option<sled::Iter>,
}

impl Entries {
    /// Reads the records stored under the keys of `keys`.
    #[allow(dead_code)] // Until step 5 uses it.
    fn over(keys: sled::Iter) -> Entries {
        Entries { keys: Some(keys) }
    }

    /// No records at all.
    #[allow(dead_code)] // Until step 5 uses it.
    fn none() -> Entries {
        Entries { keys: None }
    }
}

impl Iterator for Entries {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        let item = self.keys.as_mut()?.next()?;
        Some(match item {
            Ok((key, entry)) => decode_record(&key, &entry),
            Err(error) => Err(error.into()),
        })
    }
}

/// Prints records on stdout as JSON lines: one JSON object per line.
///
/// serde_json does the quoting and escaping, so entries with quotes, newlines
/// or emoji come out as valid JSON. A closed stdout is an error, not a panic.
pub fn print_json_lines<T: Serialize>(records: impl IntoIterator<Item = T>) -> Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    for record in records {
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush().context("cannot write to stdout")?;
    Ok(())
}
