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
    /// grows by one per entry and carries on across restarts.
    pub fn append(&self, entry: &str) -> Result<Record> {
        loop {
            // Derive the next seq from what is stored, not from a counter kept
            // in memory: the stored log is the truth, even after a restart.
            let seq = self.head(&self.peer)?.checked_add(1).context("the log is full")?;
            // Claim the key only if it is still free, so an entry is never
            // overwritten, even if another thread appends at the same moment.
            if self.store_if_absent(log_key(&self.peer, seq), entry)? {
                return Ok(Record {
                    peer: self.peer.clone(),
                    seq,
                    entry: entry.to_string(),
                });
            }
            // Someone else took that seq between our read and our write: the
            // head has moved, so look again.
        }
    }

    /// The entries of the local peer's log with a seq greater than `seq`,
    /// oldest first. `read_after(0)` is the whole log.
    pub fn read_after(&self, seq: u64) -> Result<Vec<Record>> {
        self.entries_after(&self.peer, seq)
    }

    /// The highest seq stored for `peer`, or 0 if we hold none of its entries.
    pub fn head(&self, peer: &str) -> Result<u64> {
        if !is_valid_peer_id(peer) {
            return Ok(0); // We never store such a peer.
        }
        // A peer's keys are contiguous and sorted by seq: its last key is its head.
        match self.log.range(peer_key_range(peer)).next_back() {
            Some(item) => {
                let (key, _entry) = item?;
                let (_peer, seq) = parse_log_key(&key)?;
                Ok(seq)
            }
            None => Ok(0),
        }
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
    pub fn entries_after_iter(&self, peer: &str, seq: u64) -> Result<Entries> {
        if !is_valid_peer_id(peer) {
            return Ok(Entries::none()); // We never store such a peer.
        }
        let Some(first) = seq.checked_add(1) else {
            return Ok(Entries::none()); // Nothing comes after the largest seq.
        };
        let wanted = log_key(peer, first)..peer_key_range(peer).end;
        Ok(Entries::over(self.log.range(wanted)))
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
    /// stored (no read of the log's head first).
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

    /// Stores `entry` under `key` unless the key already holds an entry, and
    /// says whether it did. This is how entries are never overwritten: sled
    /// checks and writes in one atomic step.
    fn store_if_absent(&self, key: Vec<u8>, entry: &str) -> Result<bool> {
        let expected_now: Option<&[u8]> = None;
        let swapped = self
            .log
            .compare_and_swap(key, expected_now, Some(entry.as_bytes()))?;
        Ok(swapped.is_ok())
    }

    /// Writes everything stored so far to disk. Once this returns `Ok`, the
    /// data survives the process exiting (or crashing).
    pub fn flush(&self) -> Result<()> {
        // Any tree can do it: flushing writes the whole database, every tree.
        self.log.flush().context("cannot flush the database to disk")?;
        Ok(())
    }
}

/// Reads the local peer id from the meta tree, or makes and stores a new one
/// if this database has none yet.
fn load_or_create_peer_id(meta: &sled::Tree) -> Result<String> {
    if let Some(stored) = meta.get(PEER_KEY)? {
        return String::from_utf8(stored.to_vec()).context("the stored peer id is not UTF-8");
    }
    let peer = new_peer_id()?;
    meta.insert(PEER_KEY, peer.as_bytes())?;
    // The id must survive this process: a database that forgot its id would
    // start a second log at seq 1 under a new name.
    meta.flush()?;
    Ok(peer)
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
pub fn log_key(peer: &str, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(peer.len() + 1 + 8);
    key.extend_from_slice(peer.as_bytes());
    key.push(SEPARATOR);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Splits a log key back into its peer id and seq.
pub fn parse_log_key(key: &[u8]) -> Result<(String, u64)> {
    // The seq is always the last 8 bytes, and the separator is right before
    // them; whatever comes first is the peer id.
    let (rest, seq) = key.split_last_chunk::<8>().context("a log key is too short")?;
    let (separator, peer) = rest.split_last().context("a log key has no peer id")?;
    ensure!(
        *separator == SEPARATOR,
        "a log key has no separator before its seq"
    );
    let peer = String::from_utf8(peer.to_vec()).context("a peer id in a log key is not UTF-8")?;
    Ok((peer, u64::from_be_bytes(*seq)))
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
    fn over(keys: sled::Iter) -> Entries {
        Entries { keys: Some(keys) }
    }

    /// No records at all.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens a log again in the same process. sled lets go of its lock from a
    /// background thread shortly after the last handle is dropped: wait for it.
    fn reopen(path: &Path) -> Log {
        for _ in 0..200 {
            if let Ok(log) = Log::open(path) {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Log::open(path).unwrap()
    }

    fn record(peer: &str, seq: u64, entry: &str) -> Record {
        Record {
            peer: peer.to_string(),
            seq,
            entry: entry.to_string(),
        }
    }

    fn seqs(records: &[Record]) -> Vec<u64> {
        records.iter().map(|record| record.seq).collect()
    }

    #[test]
    fn seq_keys_sort_numerically() {
        let peer = "5f1c2a9b3d4e6f70";
        assert!(log_key(peer, 1) < log_key(peer, 2));
        assert!(log_key(peer, 9) < log_key(peer, 10));
        assert!(log_key(peer, 10) < log_key(peer, 256));
        assert!(log_key(peer, 256) < log_key(peer, u64::MAX));
        // Decimal text would not do: "10" sorts before "9".
        assert!("10".as_bytes() < "9".as_bytes());
    }

    #[test]
    fn log_keys_round_trip() {
        for seq in [1, 9, 10, 256, u64::MAX] {
            let key = log_key("peer", seq);
            assert_eq!(key.len(), "peer".len() + 1 + 8);
            assert_eq!(parse_log_key(&key).unwrap(), ("peer".to_string(), seq));
        }
        assert!(parse_log_key(b"short").is_err());
        assert!(parse_log_key(b"peer!\0\0\0\0\0\0\0\x01").is_err());
    }

    #[test]
    fn records_serialize_with_fields_in_order() {
        let json = serde_json::to_string(&record("ab", 3, "hi \"you\"")).unwrap();
        assert_eq!(json, r#"{"peer":"ab","seq":3,"entry":"hi \"you\""}"#);
        assert_eq!(
            serde_json::from_str::<Record>(&json).unwrap(),
            record("ab", 3, "hi \"you\"")
        );
    }

    #[test]
    fn peer_ids_are_random_hex_and_kept() {
        let first_dir = tempfile::tempdir().unwrap();
        let second_dir = tempfile::tempdir().unwrap();
        let first = Log::open(first_dir.path()).unwrap().peer().to_string();
        let second = Log::open(second_dir.path()).unwrap().peer().to_string();
        assert_ne!(first, second);
        for id in [&first, &second] {
            assert_eq!(id.len(), 16);
            assert!(id.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        }
        // Reopening finds the same id.
        assert_eq!(reopen(first_dir.path()).peer(), first);
    }

    #[test]
    fn seqs_start_at_one_and_continue_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let peer = {
            let log = Log::open(dir.path()).unwrap();
            assert_eq!(log.append("first").unwrap().seq, 1);
            assert_eq!(log.append("second").unwrap().seq, 2);
            log.flush().unwrap();
            log.peer().to_string()
        };
        let log = reopen(dir.path());
        assert_eq!(log.peer(), peer);
        assert_eq!(log.append("third").unwrap(), record(&peer, 3, "third"));
        assert_eq!(seqs(&log.read_after(0).unwrap()), [1, 2, 3]);
        assert_eq!(log.read_after(2).unwrap(), [record(&peer, 3, "third")]);
        assert!(log.read_after(3).unwrap().is_empty());
        assert!(log.read_after(u64::MAX).unwrap().is_empty());
    }

    #[test]
    fn reading_goes_in_numeric_order_past_nine() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        for n in 1..=300 {
            log.append(&format!("entry {n}")).unwrap();
        }
        let all = log.read_after(0).unwrap();
        assert_eq!(seqs(&all), (1..=300).collect::<Vec<_>>());
        assert_eq!(all[9].entry, "entry 10");
        assert_eq!(seqs(&log.read_after(255).unwrap())[0], 256);
    }

    #[test]
    fn entries_round_trip_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        let entries = ["", "say \"hi\"", "ünïcødé ✓ 🦀", "two\nlines", "\0 byte"];
        for entry in entries {
            log.append(entry).unwrap();
        }
        let read: Vec<String> = log.read_after(0).unwrap().into_iter().map(|r| r.entry).collect();
        assert_eq!(read, entries);
    }

    #[test]
    fn heads_list_every_log_held() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        assert!(log.heads().unwrap().is_empty());

        log.append("mine").unwrap();
        // Peer ids that are prefixes of each other must not mix.
        for (peer, count) in [("a", 3), ("ab", 1), ("b", 12)] {
            for seq in 1..=count {
                log.store(&record(peer, seq, "theirs")).unwrap();
            }
        }
        let heads = log.heads().unwrap();
        let expected: BTreeMap<String, u64> = [("a", 3), ("ab", 1), ("b", 12), (log.peer(), 1)]
            .into_iter()
            .map(|(peer, head)| (peer.to_string(), head))
            .collect();
        assert_eq!(heads, expected);
        assert_eq!(seqs(&log.entries_after("a", 1).unwrap()), [2, 3]);
        assert_eq!(seqs(&log.entries_after("b", 9).unwrap()), [10, 11, 12]);
        assert!(log.entries_after("nobody", 0).unwrap().is_empty());
    }

    #[test]
    fn entries_can_be_read_lazily_and_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        for n in 1..=5 {
            log.append(&format!("entry {n}")).unwrap();
        }
        let peer = log.peer().to_string();
        let first_two: Vec<Record> = log
            .entries_after_iter(&peer, 2)
            .unwrap()
            .take(2)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            first_two,
            [record(&peer, 3, "entry 3"), record(&peer, 4, "entry 4")]
        );
        assert_eq!(log.entries_after_iter(&peer, u64::MAX).unwrap().count(), 0);
        assert_eq!(log.entries_after_iter("", 0).unwrap().count(), 0);
        assert_eq!(log.entry(&peer, 5).unwrap().as_deref(), Some("entry 5"));
        assert_eq!(log.entry(&peer, 6).unwrap(), None);
    }

    #[test]
    fn store_writes_checked_records() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        let alice = "a11ce00000000000";
        let records: Vec<Record> = (1..=3).map(|seq| record(alice, seq, "hi")).collect();
        for record in &records {
            log.store(record).unwrap();
        }
        assert_eq!(log.head(alice).unwrap(), 3);
        assert_eq!(log.entries_after(alice, 0).unwrap(), records);
        assert!(log.store(&record("", 1, "no id")).is_err());
        assert!(log.store(&record(alice, 0, "seq zero")).is_err());
    }
}
